import { digest } from './digest';
import { eventArray } from './eventArray';
import { eventBridge } from './eventBridge';
import { lookupEvents } from './lookupEvents';
import { s3Delivery } from './s3Delivery';
import { singleEvent } from './singleEvent';
import type { InputFormat } from './types';

/**
 * Every whole-document input shape, in detection order (first match wins). JSON lines are handled at the
 * text level by `parse.ts`, each line going through {@link unwrapItem}.
 */
export const FORMATS: readonly InputFormat[] = [digest, s3Delivery, lookupEvents, eventBridge, singleEvent, eventArray];

export { unwrapItem } from './eventArray';
export { isDigest, type DigestDocument } from './digest';
export { FormatError, type Extracted, type InputFormat } from './types';
