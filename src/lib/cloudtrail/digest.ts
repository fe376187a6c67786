/*
 * CloudTrail digest and public key documents: their shapes and recognisers, shared by ingest (which stores
 * them) and the integrity analysis (which validates them). Source: "CloudTrail digest file structure" and
 * "Validating CloudTrail log file integrity with the AWS CLI" (AWS CloudTrail User Guide).
 */

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
  logFiles: {
    s3Bucket?: string;
    s3Object?: string;
    hashValue?: string;
    hashAlgorithm?: string;
    newestEventTime?: string;
    oldestEventTime?: string;
  }[];
  [k: string]: unknown;
}

/** The key objects of a list-public-keys document (see {@link isPublicKeyList}), or null. */
export function keyList(doc: unknown): unknown[] | null {
  if (Array.isArray(doc))
    return doc.every((k) => k && typeof k === 'object' && typeof (k as Record<string, unknown>).Value === 'string')
      ? doc
      : null;
  if (!doc || typeof doc !== 'object') return null;
  const o = doc as Record<string, unknown>;
  // the AWS CLI prints PublicKeyList; the User Guide's sample response spells it publicKeyList
  const list = o.PublicKeyList ?? o.publicKeyList;
  if (Array.isArray(list)) return list;
  if (typeof o.Value === 'string' && (typeof o.Fingerprint === 'string' || o.ValidityStartTime !== undefined))
    return [o];
  return null;
}

/**
 * True for `aws cloudtrail list-public-keys` output (`{"PublicKeyList":[{"Value","Fingerprint",...}]}`, also an
 * empty list), a bare array of such keys, or one key object.
 */
export function isPublicKeyList(doc: unknown): boolean {
  const list = keyList(doc);
  return (
    !!list &&
    list.every((k) => !!k && typeof k === 'object' && typeof (k as Record<string, unknown>).Value === 'string')
  );
}
