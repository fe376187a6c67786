import type { DigestDocument } from '../../cloudtrail/digest';
import { isObject, type InputFormat } from './types';

export type { DigestDocument } from '../../cloudtrail/digest';

/**
 * True for a CloudTrail digest file: `{"digestStartTime", "digestEndTime", "logFiles": [...], ...}`.
 * Source: "CloudTrail digest file structure" (AWS CloudTrail User Guide).
 */
export function isDigest(doc: unknown): doc is DigestDocument {
  return (
    isObject(doc) &&
    typeof doc.digestStartTime === 'string' &&
    typeof doc.digestEndTime === 'string' &&
    Array.isArray(doc.logFiles)
  );
}

/** Digest files carry no events; they are recognised so they can be stored as digests. */
export const digest: InputFormat = {
  id: 'digest',
  detect: isDigest,
  extract: () => ({ events: [], skipped: 0, notes: [] }),
};
