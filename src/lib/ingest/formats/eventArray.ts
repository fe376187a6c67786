import { isEvent, type CloudTrailEvent } from '../../cloudtrail/event';
import { isEventBridgeEnvelope, kmsEventBridgeEvent } from './eventBridge';
import { unwrapLookupItem } from './lookupEvents';
import { collect, isObject, type InputFormat } from './types';

/**
 * Unwraps one item of an event list: a CloudTrail event, an EventBridge envelope (or AWS KMS EventBridge service
 * event), or a lookup-events item.
 * Returns the event, or a reason string.
 */
export function unwrapItem(item: unknown): CloudTrailEvent | string {
  if (isEvent(item)) return item;
  if (isEventBridgeEnvelope(item)) return item.detail;
  const kms = kmsEventBridgeEvent(item);
  if (kms) return kms;
  if (isObject(item) && typeof item.CloudTrailEvent === 'string') return unwrapLookupItem(item);
  if (isObject(item)) return 'object has no string eventSource/eventName';
  return `item is ${item === null ? 'null' : Array.isArray(item) ? 'an array' : typeof item}`;
}

/** A JSON array of events (or of EventBridge envelopes / lookup-events items), as query tools export them. */
export const eventArray: InputFormat = {
  id: 'event-array',
  detect: (doc) => Array.isArray(doc),
  extract: (doc) => collect(doc as unknown[], unwrapItem),
};
