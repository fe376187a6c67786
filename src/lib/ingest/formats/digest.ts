import { isObject, type InputFormat } from './types';

/**
 * True for a CloudTrail digest file: `{"digestStartTime", "digestEndTime", "logFiles": [...], ...}`.
 * Source: "CloudTrail digest file structure" (AWS CloudTrail User Guide).
 */
export function isDigest(doc: unknown): doc is DigestDocument {
  return isObject(doc) && typeof doc.digestStartTime === 'string' && typeof doc.digestEndTime === 'string' && Array.isArray(doc.logFiles);
}

/** The fields of a digest file KeyTrail keeps. */
export interface DigestDocument {
  awsAccountId?: string;
  digestStartTime: string;
  digestEndTime: string;
  digestS3Bucket?: string;
  digestS3Object?: string;
  digestPublicKeyFingerprint?: string;
  digestSignatureAlgorithm?: string;
  newestEventTime?: string | null;
  oldestEventTime?: string | null;
  previousDigestS3Bucket?: string | null;
  previousDigestS3Object?: string | null;
  previousDigestHashValue?: string | null;
  previousDigestHashAlgorithm?: string | null;
  previousDigestSignature?: string | null;
  logFiles: { s3Bucket?: string; s3Object?: string; hashValue?: string; hashAlgorithm?: string; newestEventTime?: string; oldestEventTime?: string }[];
  [k: string]: unknown;
}

/** Digest files carry no events; they are recognised so they can be stored as digests. */
export const digest: InputFormat = {
  id: 'digest',
  detect: isDigest,
  extract: () => ({ events: [], skipped: 0, notes: [] }),
};
