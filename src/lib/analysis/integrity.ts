import { md5 } from '@noble/hashes/legacy.js';
import { parseCompactUtc, parseS3Path } from '../cloudtrail/s3path';
import { isPublicKeyList, keyList, type DigestDocument } from '../cloudtrail/digest';

export { isPublicKeyList } from '../cloudtrail/digest';
import type { Finding, Severity } from './types';
import { utcDay, utcIso } from '../format/utc';
import { SEVERITY_RANK } from './severity';

/**
 * CloudTrail log file integrity validation on local copies of a trail's log and digest files (the AWS CLI's
 * `validate-logs` only validates files in the S3 bucket, never files downloaded to disk).
 *
 * Sources (AWS CloudTrail User Guide): "Custom implementations of CloudTrail log file integrity validation",
 * "CloudTrail digest file structure", "Validating CloudTrail log file integrity with the AWS CLI"; the
 * `PublicKey` type of the CloudTrail API Reference; the AWS CLI's implementation
 * (`awscli/customizations/cloudtrail/validation.py`). What they specify and this module follows:
 *
 * - **Log files.** Each hour a digest file lists the log files delivered in its window (`logFiles[]`) with the
 *   lower-case hex SHA-256 of each file's *uncompressed* content (`hashValue`, `hashAlgorithm: "SHA-256"`). A log
 *   file is valid when the SHA-256 of its decompressed content equals the listed hash.
 * - **Digest chain.** Each digest names the previous one (`previousDigestS3Bucket`/`previousDigestS3Object`),
 *   the hex SHA-256 of the previous digest's uncompressed content (`previousDigestHashValue`) and the previous
 *   digest's signature (`previousDigestSignature`). A *starting* digest (validation or logging started or
 *   restarted) has all five previous fields null. When validation or logging is off, no digest is written and
 *   the chain restarts with a new starting digest.
 * - **Signature.** CloudTrail signs, with the Region's private key, RSA PKCS#1 v1.5 over SHA-256
 *   (`SHA256withRSA`), the UTF-8 data signing string
 *   `digestEndTime + "\n" + digestS3Bucket + "/" + digestS3Object + "\n" + hex(SHA-256(uncompressed digest)) +
 *   "\n" + previousDigestSignature` (the literal `null` for a starting digest, as the AWS CLI does), and stores
 *   the hex signature in the digest object's S3 metadata (`x-amz-meta-signature`). Local copies lose that
 *   metadata, so a digest's signature is read from the *next* digest's `previousDigestSignature` (the AWS
 *   page's "offline" method), or from {@link ValidateOptions.signatures} when the user saved it; the newest
 *   digest of a chain is otherwise not checkable.
 * - **Public keys.** `aws cloudtrail list-public-keys` returns `Value` (base64 DER, "in PKCS#1 format": an
 *   RSAPublicKey) and `Fingerprint`, which is the hex MD5 of those DER bytes (checked on the AWS documentation
 *   examples, see the unit tests). The key whose fingerprint equals the digest's `digestPublicKeyFingerprint`
 *   verifies it. WebCrypto imports only SubjectPublicKeyInfo, so PKCS#1 keys are wrapped (see {@link toSpki}).
 *
 * Local files are matched to digest entries by file name (CloudTrail log file names are unique: account,
 * Region, delivery minute and a random suffix; a trailing `.gz` is ignored, so gunzipped copies match too),
 * so copies that lost their S3 prefix or folder layout still validate. Buckets are not compared (local copies
 * have none).
 */

/** One loaded log file (a trail log file that was dropped, whatever its ingest status, duplicate included). */
export interface LoadedLogFile {
  path: string;
  /** S3 object key as it would be in the bucket, derived from the path: the part from `AWSLogs/` on */
  s3Key: string;
  /**
   * Lower-case hex SHA-256 of the file's decompressed content; '' when unknown, or not computed yet (then
   * {@link ValidateOptions.logSha256} computes it if a loaded digest lists the file).
   */
  sha256: string;
  fileId: number;
}

/** One loaded digest file. */
export interface LoadedDigest {
  path: string;
  s3Key: string;
  fileId: number;
  /** hex SHA-256 of the decompressed digest file content */
  sha256: string;
  digest: DigestDocument;
}

/** A CloudTrail public key as `aws cloudtrail list-public-keys` returns it. */
export interface PublicKey {
  fingerprint: string;
  /** DER SubjectPublicKeyInfo or PKCS#1 RSAPublicKey, base64 (the `Value` of list-public-keys) */
  value: string;
  /** Epoch ms. */
  validityStart?: number;
  /** Epoch ms. */
  validityEnd?: number;
}

/** Options of {@link validate}. */
export interface ValidateOptions {
  /**
   * Hex signatures of digests, keyed by the digest's S3 key (from `AWSLogs/` on, or the full `digestS3Object`):
   * the `x-amz-meta-signature` metadata saved beside the files (`aws s3api head-object ... --query Metadata.signature`).
   * Lets the newest digest of a chain be checked too.
   */
  signatures?: Record<string, string>;
  /** WebCrypto implementation (default `globalThis.crypto.subtle`). */
  subtle?: SubtleCrypto;
  /**
   * Computes the SHA-256 (lower-case hex) of a loaded log file's decompressed content whose `sha256` is '' (the
   * store computes it from the file's stored source bytes, see store/filehash.ts). Called once per such file, only
   * for the files validation compares with a digest (those a loaded digest lists, matched by name; a file no
   * loaded digest lists is never hashed, its hash being unused), at most {@link LOG_HASHES_AT_ONCE} at a time.
   * Resolving '' (or rejecting) leaves the hash unknown: the file is `unhashed`. Without it, '' is unknown.
   */
  logSha256?: (f: LoadedLogFile) => Promise<string>;
}

/** Most {@link ValidateOptions.logSha256} calls in progress at once (each holds a decompressed log file). */
export const LOG_HASHES_AT_ONCE = 4;

/** Status of a loaded log file. */
export type LogFileStatus =
  | 'verified' // listed in a loaded digest, hash matches
  | 'changed' // listed in a loaded digest, hash differs
  | 'not-covered' // listed in no loaded digest
  | 'unhashed'; // listed, but the file's hash (or the digest's algorithm) is unknown

/** Signature check of a digest. */
export type SignatureStatus =
  | 'valid'
  | 'invalid'
  | 'not-checkable' // no signature available (newest digest of its chain: the next digest was not loaded)
  | 'no-keys' // no public keys supplied
  | 'key-not-found' // no supplied key has the digest's fingerprint (or it could not be imported)
  | 'unsupported'; // a signature algorithm other than SHA256withRSA, or fields needed for the signing string missing

/** Place of a digest in its chain. */
export type ChainStatus =
  | 'start' // a starting digest (previous fields null)
  | 'linked' // its previous digest is loaded
  | 'gap' // its previous digest is not loaded though it should be (digest-chain-gap)
  | 'before-range' // its previous digest is not loaded, and nothing loaded is older: the copy simply starts here
  | 'backfill'; // a backfill digest (`_backfill` name): not part of the hourly chain

/** Status of a digest file for the UI: the worst of its signature and content checks. */
export type DigestFileStatus =
  'valid' | 'invalid' | 'changed' | 'not-checkable' | 'no-keys' | 'key-not-found' | 'unsupported';

/** Result for one loaded file. */
export type IntegrityFileResult =
  | { kind: 'log'; path: string; fileId: number; status: LogFileStatus; detail: string; trail: string | null }
  | {
      kind: 'digest';
      path: string;
      fileId: number;
      status: DigestFileStatus;
      detail: string;
      trail: string;
      signature: SignatureStatus;
      chain: ChainStatus;
      /** False when the next digest records another SHA-256 for this digest's content (digest-file-changed). */
      contentMatchesNext: boolean | null;
    };

/** A log file listed in a loaded digest but not loaded. */
export interface MissingLogFile {
  /** The listed S3 key (`logFiles[].s3Object`). */
  s3Object: string;
  /** Path of the digest that lists it. */
  digestPath: string;
  trail: string;
  /**
   * `deleted`: other log files of the same account and Region from the same S3 day folder were loaded, so that
   * folder was copied and this file is absent from it (deleted or withheld); `not-loaded`: nothing of that
   * account, Region and day was loaded, the copy probably just does not include that day.
   */
  likely: 'deleted' | 'not-loaded';
  /** Delivery time from the file name, epoch ms (NaN when the name does not say). */
  deliveryTime: number;
}

/** Per trail (digests name account, Region, trail and home Region) results. */
export interface TrailIntegrity {
  /** `account/region/trail` (the `trail` of file results). */
  label: string;
  account: string;
  region: string;
  /** Trail name; null for log files of an account and Region no loaded digest covers. */
  trail: string | null;
  homeRegion?: string;
  orgId?: string;
  digests: number;
  /** Listed in a digest and the hash matches. */
  verified: number;
  /** Listed, hash differs. */
  changed: number;
  /** Listed, not loaded. */
  missing: number;
  /** Of `missing`, those probably deleted (see {@link MissingLogFile.likely}). */
  missingLikelyDeleted: number;
  /** Loaded log files of this account and Region that no loaded digest lists (shared by the trails of one account/Region). */
  notCovered: number;
  /** Of `notCovered`, those delivered well inside a loaded digest's window (log-file-not-in-digest). */
  notCoveredInWindow: number;
  chainGaps: number;
  signaturesValid: number;
  signaturesInvalid: number;
  signaturesNotCheckable: number;
  /** Earliest digestStartTime and latest digestEndTime of the loaded digests, epoch ms (NaN when none). */
  from: number;
  to: number;
}

/**
 * A finding of the integrity validation: no event rows (`rows`, `keys`, `principals` empty); the files concerned
 * instead. `count` is the number of files; `first`/`last` are the delivery times their names (or, for digests,
 * their windows) give, epoch ms (NaN when unknown); `query` is `finding:<rule>`.
 */
export interface IntegrityFinding extends Finding {
  /** Local paths of the loaded files concerned; for missing files, the S3 keys the digests list. */
  files: string[];
}

/** The result of {@link validate}. */
export interface IntegrityReport {
  trails: TrailIntegrity[];
  /** Totals over all trails (each loaded or listed file counted once). */
  totals: {
    verified: number;
    changed: number;
    missing: number;
    missingLikelyDeleted: number;
    notCovered: number;
    digests: number;
    signaturesValid: number;
    signaturesInvalid: number;
    signaturesNotCheckable: number;
    chainGaps: number;
  };
  files: IntegrityFileResult[];
  missing: MissingLogFile[];
  findings: IntegrityFinding[];
  /** Problems with the supplied public keys (undecodable, fingerprint that does not match the key). */
  keyProblems: string[];
}

/** The rule ids the integrity validation raises (listed in the README). */
export const INTEGRITY_RULES: Record<string, { title: string; severity: Severity; description: string }> = {
  'digest-hash-mismatch': {
    title: 'Log file changed after delivery',
    severity: 'critical',
    description:
      "The SHA-256 of the log file's content differs from the hash its digest file recorded when CloudTrail delivered it: the file was modified (events added, removed or edited) after delivery.",
  },
  'digest-missing-log-file': {
    title: 'Log file listed in a digest is missing',
    severity: 'high',
    description: 'A digest file lists a log file that was not loaded.',
  },
  'digest-chain-gap': {
    title: 'Digest file missing from the chain',
    severity: 'high',
    description:
      'A digest names a previous digest file that was not loaded, while older files of the same trail were: the previous digest was deleted or not copied, and the log files it listed cannot be validated.',
  },
  'digest-signature-invalid': {
    title: 'Digest file signature invalid',
    severity: 'critical',
    description:
      'The RSA signature of the digest file (SHA256withRSA over its end time, S3 path, content hash and the previous signature) does not verify with the CloudTrail public key it names: the digest file was forged or modified.',
  },
  'digest-file-changed': {
    title: 'Digest file changed after delivery',
    severity: 'critical',
    description:
      "The SHA-256 of the digest file's content differs from the hash the next digest recorded for it (previousDigestHashValue): one of the two digest files was modified.",
  },
  'digest-public-key-not-found': {
    title: "No public key for a digest's fingerprint",
    severity: 'low',
    description:
      "No supplied CloudTrail public key has the fingerprint the digest names, so its signature cannot be checked. Fetch the keys of the digest's Region and time with `aws cloudtrail list-public-keys --region REGION --start-time ... --end-time ...`; a fingerprint CloudTrail never published means a forged digest.",
  },
  'log-file-not-in-digest': {
    title: 'Log file not listed in its digest',
    severity: 'medium',
    description:
      'A log file named as delivered well inside the window of a loaded digest file is not listed in any loaded digest. CloudTrail lists every log file it delivers, so the file may have been added to the bucket by someone else; it may also belong to another trail of the same account and Region, or be listed in a backfill digest that was not loaded.',
  },
  'digest-chain-restarted': {
    title: 'Digest chain restarted',
    severity: 'low',
    description:
      'A starting digest file (no previous digest) follows earlier digests of the same trail: log file validation was disabled or logging was stopped in between, and log files delivered meanwhile are covered by no digest.',
  },
};

// ---------------------------------------------------------------------------------------------------------------
// Public keys

const RSA_ENCRYPTION_ALGORITHM_ID = new Uint8Array([
  0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
]);

/** DER length octets. */
function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let x = n; x > 0; x = Math.floor(x / 256)) out.unshift(x & 0xff);
  return [0x80 | out.length, ...out];
}

/** Reads a DER tag-length header at `at`: the tag, the content start and end; null when malformed. */
function derHeader(b: Uint8Array, at: number): { tag: number; start: number; end: number } | null {
  if (at + 2 > b.length) return null;
  const tag = b[at];
  let len = b[at + 1];
  let start = at + 2;
  if (len & 0x80) {
    const k = len & 0x7f;
    if (k === 0 || k > 4 || start + k > b.length) return null;
    len = 0;
    for (let i = 0; i < k; i++) len = len * 256 + b[start + i];
    start += k;
  }
  const end = start + len;
  return end <= b.length ? { tag, start, end } : null;
}

/**
 * The form of a DER RSA public key: `spki` (SubjectPublicKeyInfo: SEQUENCE { AlgorithmIdentifier, BIT STRING }),
 * `pkcs1` (RSAPublicKey: SEQUENCE { INTEGER modulus, INTEGER exponent }), or null when it is neither.
 */
export function publicKeyForm(der: Uint8Array): 'spki' | 'pkcs1' | null {
  const outer = derHeader(der, 0);
  if (!outer || outer.tag !== 0x30 || outer.end !== der.length) return null;
  const first = derHeader(der, outer.start);
  if (!first) return null;
  if (first.tag === 0x30) return 'spki';
  if (first.tag === 0x02) return 'pkcs1';
  return null;
}

/**
 * A DER RSA public key as SubjectPublicKeyInfo (what WebCrypto's `importKey('spki')` takes): a PKCS#1
 * RSAPublicKey is wrapped as SEQUENCE { SEQUENCE { OID 1.2.840.113549.1.1.1 rsaEncryption, NULL },
 * BIT STRING (0 unused bits) pkcs1 } (RFC 3279 §2.3.1, RFC 5280 §4.1); an SPKI key is returned as it is.
 * @throws Error when the bytes are neither form.
 */
export function toSpki(der: Uint8Array): Uint8Array {
  const form = publicKeyForm(der);
  if (form === 'spki') return der;
  if (form !== 'pkcs1')
    throw new Error('not a DER RSA public key (neither SubjectPublicKeyInfo nor PKCS#1 RSAPublicKey)');
  const bitString = [0x03, ...derLength(der.length + 1), 0x00];
  const bodyLen = RSA_ENCRYPTION_ALGORITHM_ID.length + bitString.length + der.length;
  const head = [0x30, ...derLength(bodyLen)];
  const out = new Uint8Array(head.length + bodyLen);
  out.set(head, 0);
  out.set(RSA_ENCRYPTION_ALGORITHM_ID, head.length);
  out.set(bitString, head.length + RSA_ENCRYPTION_ALGORITHM_ID.length);
  out.set(der, head.length + RSA_ENCRYPTION_ALGORITHM_ID.length + bitString.length);
  return out;
}

/** The PKCS#1 RSAPublicKey inside a DER RSA key (the key itself when already PKCS#1); null when malformed. */
export function toPkcs1(der: Uint8Array): Uint8Array | null {
  const form = publicKeyForm(der);
  if (form === 'pkcs1') return der;
  if (form !== 'spki') return null;
  const outer = derHeader(der, 0)!;
  const alg = derHeader(der, outer.start)!;
  const bits = derHeader(der, alg.end);
  if (!bits || bits.tag !== 0x03 || der[bits.start] !== 0) return null;
  const inner = der.subarray(bits.start + 1, bits.end);
  return publicKeyForm(inner) === 'pkcs1' ? inner : null;
}

/** Decodes base64 (standard or URL alphabet, white space and PEM armour ignored). @throws Error when malformed. */
export function base64ToBytes(s: string): Uint8Array {
  const clean = s
    .replace(/-----(BEGIN|END)[^-]*-----/g, '')
    .replace(/\s+/g, '')
    .replace(/-/g, '+')
    .replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) throw new Error('not base64');
  const bin = atob(clean.padEnd(Math.ceil(clean.length / 4) * 4, '='));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i].toString(16).padStart(2, '0');
  return s;
}

function hexToBytes(s: string): Uint8Array | null {
  const t = s.trim();
  if (t.length % 2 || !/^[0-9a-fA-F]*$/.test(t)) return null;
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(t.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * The fingerprint CloudTrail gives a public key: the lower-case hex MD5 of its DER bytes as listed (`Value`
 * decoded). Checked on the list-public-keys examples of the AWS CloudTrail User Guide and AWS CLI reference.
 */
export function publicKeyFingerprint(der: Uint8Array): string {
  return hex(md5(der));
}

/** A list-public-keys time: epoch seconds (number or numeric string, as the CLI v1 and the API print), or ISO 8601. */
function keyTime(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v * 1000;
  if (typeof v !== 'string' || !v.trim()) return undefined;
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : undefined;
}

/**
 * Reads the keys of `aws cloudtrail list-public-keys` output (see {@link isPublicKeyList}). A key without a
 * `Fingerprint` gets the computed one; whether a stated fingerprint matches its key is checked by
 * {@link validate} (reported in `keyProblems`).
 * @throws Error when the document is not a public key list.
 */
export function parsePublicKeys(doc: unknown): PublicKey[] {
  const list = keyList(doc);
  if (!list || !isPublicKeyList(doc))
    throw new Error(
      'not a CloudTrail public key list (aws cloudtrail list-public-keys output: {"PublicKeyList":[{"Value":..., "Fingerprint":...}]})',
    );
  return list.map((k) => {
    const o = k as Record<string, unknown>;
    const value = String(o.Value).replace(/\s+/g, '');
    let fingerprint = typeof o.Fingerprint === 'string' ? o.Fingerprint.trim().toLowerCase() : '';
    if (!fingerprint) {
      try {
        fingerprint = publicKeyFingerprint(base64ToBytes(value));
      } catch {
        fingerprint = '';
      }
    }
    const key: PublicKey = { fingerprint, value };
    const start = keyTime(o.ValidityStartTime);
    const end = keyTime(o.ValidityEndTime);
    if (start !== undefined) key.validityStart = start;
    if (end !== undefined) key.validityEnd = end;
    return key;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Paths and times

/** The S3 key part of a path or key: from the last `AWSLogs/` on (the whole string when it has none). */
function keyTail(s: string): string {
  const p = s.replace(/\\/g, '/');
  const tail = p.includes('!') ? p.slice(p.lastIndexOf('!') + 1) : p;
  const i = tail.lastIndexOf('AWSLogs/');
  return i >= 0 ? tail.slice(i) : tail;
}

/** A log file's name without folders and without a trailing `.gz` (how local copies are matched). */
function logName(s: string): string {
  const p = keyTail(s);
  return p.slice(p.lastIndexOf('/') + 1).replace(/\.gz$/i, '');
}

const DIGEST_KEY_RE =
  /AWSLogs\/(?:(o-[a-z0-9]{10,32})\/)?(\d{12})\/CloudTrail-Digest\/([a-z0-9-]+)\/\d{4}\/\d{2}\/\d{2}\/\d{12}_CloudTrail-Digest_[a-z0-9-]+_(.+)_([a-z]{2}(?:-[a-z]+)+-\d)_(\d{8}T\d{6}Z)(_backfill)?\.json(?:\.gz)?$/;
const DIGEST_NAME_RE =
  /(?:^|\/)(\d{12})_CloudTrail-Digest_([a-z0-9-]+)_(.+)_([a-z]{2}(?:-[a-z]+)+-\d)_(\d{8}T\d{6}Z)(_backfill)?\.json(?:\.gz)?$/;
const LOG_DAY_RE = /\/CloudTrail\/[a-z0-9-]+\/(\d{4})\/(\d{2})\/(\d{2})\//;

interface DigestInfo {
  account: string;
  region: string;
  trail: string;
  homeRegion?: string;
  orgId?: string;
  backfill: boolean;
}

/** Account, Region, trail and home Region of a digest, from its recorded S3 key (or its path). */
function digestInfo(d: LoadedDigest): DigestInfo {
  for (const s of [d.digest.digestS3Object, d.s3Key, d.path]) {
    if (!s) continue;
    const k = keyTail(s);
    let m = DIGEST_KEY_RE.exec(k);
    if (m) return { orgId: m[1], account: m[2], region: m[3], trail: m[4], homeRegion: m[5], backfill: !!m[7] };
    m = DIGEST_NAME_RE.exec(k);
    if (m) return { account: m[1], region: m[2], trail: m[3], homeRegion: m[4], backfill: !!m[6] };
  }
  return { account: d.digest.awsAccountId ?? '', region: '', trail: '(unknown trail)', backfill: false };
}

/** The UTC day (`YYYY-MM-DD`) of a log file's S3 folder, or of its delivery time when the key has no folders. */
function logDay(key: string, deliveryTime: number | undefined): string {
  const m = LOG_DAY_RE.exec('/' + keyTail(key));
  if (m) return `${m[1]}-${m[2]}-${m[3]}`;
  return deliveryTime !== undefined ? utcDay(deliveryTime) : '';
}

function isoTime(s: string | null | undefined): number {
  if (!s) return NaN;
  const t = Date.parse(s);
  if (Number.isFinite(t)) return t;
  return parseCompactUtc(s);
}

function fmt(t: number): string {
  return utcIso(t) || '?';
}

/** Margin kept from a digest window's edges before a log file's name time counts as inside it (ms). */
const WINDOW_MARGIN = 5 * 60_000;

// ---------------------------------------------------------------------------------------------------------------
// Validation

interface LogInfo {
  f: LoadedLogFile;
  /** `f.sha256`, or the hash {@link ValidateOptions.logSha256} computed ('' when unknown). */
  sha256: string;
  name: string;
  account: string;
  region: string;
  time: number;
  day: string;
}

interface DigestState {
  d: LoadedDigest;
  id: string;
  info: DigestInfo;
  label: string;
  start: number;
  end: number;
  prevId: string | null;
  next: DigestState | null;
  chain: ChainStatus;
  signature: SignatureStatus;
  sigDetail: string;
  contentMatchesNext: boolean | null;
}

/** The data signing string of a digest (see the module comment). */
export function signingString(d: DigestDocument, sha256Hex: string): string {
  return `${d.digestEndTime}\n${d.digestS3Bucket}/${d.digestS3Object}\n${sha256Hex.toLowerCase()}\n${d.previousDigestSignature ?? 'null'}`;
}

/**
 * Validates loaded log files against the loaded digest files, the digests' chain, and (with public keys) the
 * digests' signatures. Pure apart from WebCrypto and `opts.logSha256` (the hashes of listed log files not given);
 * never throws on bad input (bad keys, malformed digests and signatures are reported; a log file hash that
 * cannot be computed is unknown).
 *
 * Rules, besides the AWS ones of the module comment:
 * - A listed log file that is not loaded is *missing*: `likely: 'deleted'` when another log file of the same
 *   account and Region from the same S3 day folder (`.../CloudTrail/REGION/YYYY/MM/DD/`) was loaded (that folder
 *   was copied and the file is absent from it), else `'not-loaded'` (nothing of that account, Region and day was
 *   loaded: the copy does not include that day). Both raise `digest-missing-log-file`, high for the first, info
 *   for the second.
 * - A loaded log file no loaded digest lists is *not covered*; when its name's delivery minute lies inside a
 *   loaded digest's window of the same account and Region (5 minutes from either edge), `log-file-not-in-digest`.
 * - A digest whose previous digest is not loaded is a *chain gap* (`digest-chain-gap`) unless it is the oldest
 *   loaded digest of its trail and no loaded log file of that account and Region that no digest lists was
 *   delivered before its window (then the copy simply starts there: `before-range`). A starting digest after
 *   older loaded digests of its trail raises `digest-chain-restarted`. Backfill digests are outside the chain.
 * - A digest's signature comes from the next loaded digest that names it as previous (or `opts.signatures`);
 *   without one it is `not-checkable`. The next digest's `previousDigestHashValue` is compared with the
 *   digest's own SHA-256 (`digest-file-changed`), with or without keys.
 */
export async function validate(
  logs: LoadedLogFile[],
  digests: LoadedDigest[],
  keys: PublicKey[],
  opts: ValidateOptions = {},
): Promise<IntegrityReport> {
  const ctx = newValidation(logs, digests, keys, opts);
  for (const step of VALIDATION_STEPS) await step(ctx);
  const { trails, totals, files, missing, keyProblems } = ctx;
  return { trails: [...trails.values()], totals, files, missing, findings: integrityFindings(ctx), keyProblems };
}

/** One log file entry of a loaded digest. */
interface Listing {
  s: DigestState;
  entry: DigestDocument['logFiles'][number];
}

/** The state one `validate` call shares between its steps. */
interface Validation {
  keys: PublicKey[];
  opts: ValidateOptions;
  subtle: SubtleCrypto;
  keyProblems: string[];
  states: DigestState[];
  byId: Map<string, DigestState>;
  trails: Map<string, TrailIntegrity>;
  logInfos: LogInfo[];
  logsByName: Map<string, LogInfo[]>;
  /** `account|region|day` of every loaded log file. */
  loadedDays: Set<string>;
  /** Every log file entry of every loaded digest, by file name. */
  listings: Map<string, Listing[]>;
  files: IntegrityFileResult[];
  missing: MissingLogFile[];
  changedFiles: LogInfo[];
  unlistedInWindow: { l: LogInfo; s: DigestState }[];
  uncoveredByAcctRegion: Map<string, LogInfo[]>;
  gapDigests: { s: DigestState }[];
  restarts: { s: DigestState; before: DigestState }[];
  totals: IntegrityReport['totals'];
}

/** Appends `v` to the list of `m` under `k`. */
function pushTo<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}

function digestState(d: LoadedDigest): DigestState {
  const info = digestInfo(d);
  return {
    d,
    id: keyTail(d.digest.digestS3Object || d.s3Key || d.path),
    info,
    label: `${info.account}/${info.region}/${info.trail}`,
    start: isoTime(d.digest.digestStartTime),
    end: isoTime(d.digest.digestEndTime),
    prevId: d.digest.previousDigestS3Object ? keyTail(d.digest.previousDigestS3Object) : null,
    next: null,
    chain: 'start',
    signature: 'not-checkable',
    sigDetail: '',
    contentMatchesNext: null,
  };
}

function logInfo(f: LoadedLogFile): LogInfo {
  const p = parseS3Path(f.s3Key || f.path);
  const time = p.deliveryTime ?? NaN;
  return {
    f,
    sha256: f.sha256,
    name: logName(f.s3Key || f.path),
    account: p.account ?? '',
    region: p.region ?? '',
    time,
    day: logDay(f.s3Key || f.path, time),
  };
}

/** The digest states (linked to their next digest), the log files, and the digests' listings. */
function newValidation(
  logs: LoadedLogFile[],
  digests: LoadedDigest[],
  keys: PublicKey[],
  opts: ValidateOptions,
): Validation {
  const states = digests.map(digestState);
  const byId = new Map<string, DigestState>();
  for (const s of states) if (!byId.has(s.id)) byId.set(s.id, s);
  for (const s of states) {
    if (!s.prevId) continue;
    const p = byId.get(s.prevId);
    if (p && !p.next) p.next = s;
  }
  const logInfos = logs.map(logInfo);
  const logsByName = new Map<string, LogInfo[]>();
  for (const l of logInfos) pushTo(logsByName, l.name, l);
  const listings = new Map<string, Listing[]>();
  for (const s of states) {
    for (const entry of Array.isArray(s.d.digest.logFiles) ? s.d.digest.logFiles : []) {
      if (!entry || typeof entry.s3Object !== 'string') continue;
      pushTo(listings, logName(entry.s3Object), { s, entry });
    }
  }
  return {
    keys,
    opts,
    subtle: opts.subtle ?? globalThis.crypto?.subtle,
    keyProblems: [],
    states,
    byId,
    trails: new Map(),
    logInfos,
    logsByName,
    loadedDays: new Set(logInfos.map((l) => `${l.account}|${l.region}|${l.day}`)),
    listings,
    files: [],
    missing: [],
    changedFiles: [],
    unlistedInWindow: [],
    uncoveredByAcctRegion: new Map(),
    gapDigests: [],
    restarts: [],
    totals: {
      verified: 0,
      changed: 0,
      missing: 0,
      missingLikelyDeleted: 0,
      notCovered: 0,
      digests: states.length,
      signaturesValid: 0,
      signaturesInvalid: 0,
      signaturesNotCheckable: 0,
      chainGaps: 0,
    },
  };
}

/** The trail `account/region/trail` of the report, created empty on first use. */
function trailOf(
  v: Validation,
  account: string,
  region: string,
  trail: string | null,
  info?: DigestInfo,
): TrailIntegrity {
  const label = `${account}/${region}/${trail ?? '(no digest)'}`;
  let t = v.trails.get(label);
  if (!t) {
    t = {
      label,
      account,
      region,
      trail,
      homeRegion: info?.homeRegion,
      orgId: info?.orgId,
      digests: 0,
      verified: 0,
      changed: 0,
      missing: 0,
      missingLikelyDeleted: 0,
      notCovered: 0,
      notCoveredInWindow: 0,
      chainGaps: 0,
      signaturesValid: 0,
      signaturesInvalid: 0,
      signaturesNotCheckable: 0,
      from: NaN,
      to: NaN,
    };
    v.trails.set(label, t);
  }
  return t;
}

/** Step: one trail per digest trail, with its digest count and time range. */
function countTrails(v: Validation): void {
  for (const s of v.states) {
    const t = trailOf(v, s.info.account, s.info.region, s.info.trail, s.info);
    t.digests++;
    if (Number.isFinite(s.start) && !(t.from <= s.start)) t.from = s.start;
    if (Number.isFinite(s.end) && !(t.to >= s.end)) t.to = s.end;
  }
}

/**
 * The SHA-256 of every loaded copy of a listed log file whose hash was not given (`sha256` ''), from
 * {@link ValidateOptions.logSha256}, {@link LOG_HASHES_AT_ONCE} at a time. A hash that cannot be computed
 * stays '' (unknown).
 */
async function computeListedHashes(v: Validation): Promise<void> {
  const compute = v.opts.logSha256;
  if (!compute) return;
  const todo: LogInfo[] = [];
  for (const name of v.listings.keys()) for (const l of v.logsByName.get(name) ?? []) if (!l.sha256) todo.push(l);
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const l = todo[next++];
      try {
        l.sha256 = (await compute(l.f)) || '';
      } catch {
        l.sha256 = '';
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(LOG_HASHES_AT_ONCE, todo.length) }, worker));
}

/** Step: every listed log file is missing, or each loaded copy of it is checked against the listed hashes. */
async function checkListedLogFiles(v: Validation): Promise<void> {
  await computeListedHashes(v);
  for (const [name, list] of v.listings) {
    const first = list[0];
    const t = trailOf(v, first.s.info.account, first.s.info.region, first.s.info.trail);
    const copies = v.logsByName.get(name);
    if (copies) checkLogFileHashes(v, t, list, copies);
    else recordMissingLogFile(v, t, first);
  }
}

/** A listed log file that is not loaded: `deleted` when its account, Region and day folder was loaded. */
function recordMissingLogFile(v: Validation, t: TrailIntegrity, first: Listing): void {
  const p = parseS3Path(first.entry.s3Object!);
  const day = logDay(first.entry.s3Object!, p.deliveryTime);
  const account = p.account ?? first.s.info.account;
  const region = p.region ?? first.s.info.region;
  const likely = v.loadedDays.has(`${account}|${region}|${day}`) ? 'deleted' : 'not-loaded';
  v.missing.push({
    s3Object: first.entry.s3Object!,
    digestPath: first.s.d.path,
    trail: t.label,
    likely,
    deliveryTime: p.deliveryTime ?? NaN,
  });
  t.missing++;
  v.totals.missing++;
  if (likely === 'deleted') {
    t.missingLikelyDeleted++;
    v.totals.missingLikelyDeleted++;
  }
}

/** The loaded copies of a listed log file against the SHA-256 hashes its listings record. */
function checkLogFileHashes(v: Validation, t: TrailIntegrity, list: Listing[], copies: LogInfo[]): void {
  const first = list[0];
  const hashes = list
    .filter((x) => !x.entry.hashAlgorithm || /^sha-?256$/i.test(x.entry.hashAlgorithm))
    .map((x) => (typeof x.entry.hashValue === 'string' ? x.entry.hashValue.trim().toLowerCase() : ''))
    .filter(Boolean);
  let anyChanged = false;
  let allVerified = true;
  for (const c of copies) {
    const h = c.sha256.trim().toLowerCase();
    let status: LogFileStatus;
    let detail: string;
    if (!h || !hashes.length) {
      status = 'unhashed';
      detail = !h
        ? "the file's SHA-256 is unknown"
        : `the digest records no SHA-256 hash (${list.map((x) => x.entry.hashAlgorithm).join(', ')})`;
      allVerified = false;
    } else if (hashes.includes(h)) {
      status = 'verified';
      detail = `SHA-256 matches ${first.s.d.path}`;
    } else {
      status = 'changed';
      detail = `SHA-256 ${h} differs from ${hashes[0]} recorded in ${first.s.d.path}`;
      anyChanged = true;
      allVerified = false;
      v.changedFiles.push(c);
    }
    v.files.push({ kind: 'log', path: c.f.path, fileId: c.f.fileId, status, detail, trail: t.label });
  }
  if (anyChanged) {
    t.changed++;
    v.totals.changed++;
  } else if (allVerified) {
    t.verified++;
    v.totals.verified++;
  }
}

/** Step: log files no loaded digest lists (`not-covered`), and those inside a digest's window. */
function checkUncoveredLogFiles(v: Validation): void {
  const statesByAcctRegion = new Map<string, DigestState[]>();
  for (const s of v.states) pushTo(statesByAcctRegion, `${s.info.account}|${s.info.region}`, s);
  for (const l of v.logInfos) {
    if (v.listings.has(l.name)) continue;
    v.totals.notCovered++;
    const k = `${l.account}|${l.region}`;
    pushTo(v.uncoveredByAcctRegion, k, l);
    const ds = statesByAcctRegion.get(k) ?? [];
    const inside = ds.find(
      (s) =>
        !s.info.backfill &&
        Number.isFinite(l.time) &&
        l.time >= s.start + WINDOW_MARGIN &&
        l.time + 60_000 <= s.end - WINDOW_MARGIN,
    );
    const trailsHere = ds.length
      ? [...new Set(ds.map((s) => s.label))].map((lab) => v.trails.get(lab)!)
      : [trailOf(v, l.account, l.region, null)];
    for (const t of trailsHere) {
      t.notCovered++;
      if (inside) t.notCoveredInWindow++;
    }
    if (inside) v.unlistedInWindow.push({ l, s: inside });
    v.files.push({
      kind: 'log',
      path: l.f.path,
      fileId: l.f.fileId,
      status: 'not-covered',
      trail: ds.length ? ds[0].label : trailsHere[0].label,
      detail: inside
        ? `not listed in ${inside.d.path}, whose window (${fmt(inside.start)} – ${fmt(inside.end)}) includes its delivery time ${fmt(l.time)}`
        : ds.length
          ? 'listed in no loaded digest (its digest was not loaded)'
          : 'no digest of its account and Region was loaded',
    });
  }
}

/** Step: each digest's place in its trail's chain (start, linked, before-range, gap, backfill). */
function checkChain(v: Validation): void {
  const byTrail = new Map<string, DigestState[]>();
  for (const s of v.states) pushTo(byTrail, s.label, s);
  for (const [label, list] of byTrail) {
    const chainList = list.filter((s) => !s.info.backfill).sort((a, b) => a.end - b.end || a.start - b.start);
    for (const s of list) if (s.info.backfill) s.chain = 'backfill';
    const uncovered = v.uncoveredByAcctRegion.get(`${list[0].info.account}|${list[0].info.region}`) ?? [];
    chainList.forEach((s, i) => {
      if (!s.prevId) {
        s.chain = 'start';
        if (i > 0) v.restarts.push({ s, before: chainList[i - 1] });
        return;
      }
      if (v.byId.has(s.prevId)) {
        s.chain = 'linked';
        return;
      }
      const olderLogs = uncovered.some((l) => Number.isFinite(l.time) && l.time < s.start);
      if (i === 0 && !olderLogs) {
        s.chain = 'before-range';
        return;
      }
      s.chain = 'gap';
      v.gapDigests.push({ s });
      v.trails.get(label)!.chainGaps++;
      v.totals.chainGaps++;
    });
  }
}

/** Step: each digest's SHA-256 against the `previousDigestHashValue` the next digest records. */
function checkNextDigestHash(v: Validation): void {
  for (const s of v.states) {
    if (!s.next) continue;
    const recorded = s.next.d.digest.previousDigestHashValue;
    const algo = s.next.d.digest.previousDigestHashAlgorithm;
    if (typeof recorded !== 'string' || !s.d.sha256 || (algo && !/^sha-?256$/i.test(algo))) continue;
    s.contentMatchesNext = recorded.trim().toLowerCase() === s.d.sha256.trim().toLowerCase();
  }
}

/** A supplied public key, its CryptoKey once imported (`null`: import failed). */
interface KeyEntry {
  der: Uint8Array;
  key: PublicKey;
  crypto?: CryptoKey | null;
}

/** The supplied public keys by MD5 fingerprint (of both DER forms); their problems into `keyProblems`. */
function indexKeys(keys: PublicKey[], keyProblems: string[]): Map<string, KeyEntry> {
  const keyIndex = new Map<string, KeyEntry>();
  for (const k of keys) {
    let der: Uint8Array;
    try {
      der = base64ToBytes(k.value);
    } catch {
      keyProblems.push(`public key ${k.fingerprint || '(no fingerprint)'}: Value is not base64`);
      continue;
    }
    const form = publicKeyForm(der);
    if (!form) {
      keyProblems.push(`public key ${k.fingerprint || '(no fingerprint)'}: Value is not a DER RSA public key`);
      continue;
    }
    // the same key listed as PKCS#1 or as SPKI has a different MD5: index both forms
    const pkcs1 = toPkcs1(der);
    const prints = new Set([publicKeyFingerprint(der), publicKeyFingerprint(toSpki(der))]);
    if (pkcs1) prints.add(publicKeyFingerprint(pkcs1));
    const stated = k.fingerprint.trim().toLowerCase();
    if (stated && !prints.has(stated))
      keyProblems.push(
        `public key ${stated}: its fingerprint is not the MD5 of its Value (${publicKeyFingerprint(der)}); used only under the computed fingerprint`,
      );
    const entry = { der, key: k };
    for (const p of prints) if (!keyIndex.has(p)) keyIndex.set(p, entry);
  }
  return keyIndex;
}

async function importKey(v: Validation, e: KeyEntry): Promise<CryptoKey | null> {
  if (e.crypto !== undefined) return e.crypto;
  try {
    e.crypto = await v.subtle.importKey(
      'spki',
      toSpki(e.der) as Uint8Array<ArrayBuffer>,
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      false,
      ['verify'],
    );
  } catch (err) {
    e.crypto = null;
    v.keyProblems.push(`public key ${e.key.fingerprint}: cannot be imported (${(err as Error).message})`);
  }
  return e.crypto;
}

/** A digest's signature (hex): from `opts.signatures`, else as the next loaded digest records it. */
function signatureOf(v: Validation, s: DigestState): string | null {
  const sigs = v.opts.signatures;
  const own = sigs?.[s.id] ?? (s.d.digest.digestS3Object ? sigs?.[s.d.digest.digestS3Object] : undefined);
  if (typeof own === 'string' && own) return own;
  const n = s.next?.d.digest.previousDigestSignature;
  return typeof n === 'string' && n ? n : null;
}

type SignatureResult = { signature: SignatureStatus; detail: string };

/** Verifies a digest's signature with the key its fingerprint names. */
async function verifySignature(
  v: Validation,
  keyIndex: Map<string, KeyEntry>,
  s: DigestState,
  sigHex: string,
): Promise<SignatureResult> {
  const d = s.d.digest;
  const fp = (d.digestPublicKeyFingerprint ?? '').trim().toLowerCase();
  const entry = keyIndex.get(fp);
  const ck = entry ? await importKey(v, entry) : null;
  const sig = hexToBytes(sigHex);
  if (!ck)
    return {
      signature: 'key-not-found',
      detail: entry
        ? `the public key ${fp} could not be imported`
        : `no supplied public key has fingerprint ${fp || '(none)'}`,
    };
  if (!sig || !sig.length) return { signature: 'invalid', detail: 'the signature is not hexadecimal' };
  let ok: boolean;
  try {
    const data = new TextEncoder().encode(signingString(d, s.d.sha256));
    ok = await v.subtle.verify('RSASSA-PKCS1-v1_5', ck, sig as Uint8Array<ArrayBuffer>, data);
  } catch {
    ok = false;
  }
  return ok
    ? { signature: 'valid', detail: `signature verified with public key ${fp}` }
    : { signature: 'invalid', detail: `signature does not verify with public key ${fp}` };
}

/** A digest's signature status: why it cannot be checked, or the verification's outcome. */
async function digestSignature(
  v: Validation,
  keyIndex: Map<string, KeyEntry>,
  s: DigestState,
): Promise<SignatureResult> {
  const d = s.d.digest;
  const sigHex = signatureOf(v, s);
  if (!sigHex)
    return {
      signature: 'not-checkable',
      detail:
        "no signature available: the next digest file was not loaded (a digest's own signature is in its S3 metadata, lost in local copies)",
    };
  if (!v.keys.length) return { signature: 'no-keys', detail: 'no CloudTrail public keys supplied' };
  if (d.digestSignatureAlgorithm && d.digestSignatureAlgorithm !== 'SHA256withRSA')
    return {
      signature: 'unsupported',
      detail: `signature algorithm ${d.digestSignatureAlgorithm} is not SHA256withRSA`,
    };
  if (!d.digestEndTime || !d.digestS3Bucket || !d.digestS3Object || !s.d.sha256)
    return {
      signature: 'unsupported',
      detail:
        "digestEndTime, digestS3Bucket, digestS3Object or the file's SHA-256 is missing: the signing string cannot be built",
    };
  return verifySignature(v, keyIndex, s, sigHex);
}

/** Step: every digest's signature, counted per trail. */
async function checkSignatures(v: Validation): Promise<void> {
  const keyIndex = indexKeys(v.keys, v.keyProblems);
  for (const s of v.states) {
    const r = await digestSignature(v, keyIndex, s);
    s.signature = r.signature;
    s.sigDetail = r.detail;
    const t = v.trails.get(s.label)!;
    if (s.signature === 'valid') {
      t.signaturesValid++;
      v.totals.signaturesValid++;
    } else if (s.signature === 'invalid') {
      t.signaturesInvalid++;
      v.totals.signaturesInvalid++;
    } else {
      t.signaturesNotCheckable++;
      v.totals.signaturesNotCheckable++;
    }
  }
}

/** Step: one file result per digest. */
function digestFileResults(v: Validation): void {
  for (const s of v.states) {
    const status: DigestFileStatus =
      s.signature === 'invalid' ? 'invalid' : s.contentMatchesNext === false ? 'changed' : s.signature;
    const notes = [s.sigDetail];
    if (s.contentMatchesNext === false)
      notes.push(
        `its SHA-256 ${s.d.sha256} differs from ${s.next!.d.digest.previousDigestHashValue} recorded by ${s.next!.d.path}`,
      );
    if (s.chain === 'gap') notes.push(`previous digest ${s.prevId} not loaded`);
    if (s.chain === 'before-range') notes.push('previous digest not loaded (older than everything loaded)');
    const own = keyTail(s.d.s3Key || s.d.path);
    if (s.d.digest.digestS3Object && /AWSLogs\//.test(own) && own !== keyTail(s.d.digest.digestS3Object))
      notes.push(`stored under another name than the digestS3Object it records (${s.d.digest.digestS3Object})`);
    v.files.push({
      kind: 'digest',
      path: s.d.path,
      fileId: s.d.fileId,
      status,
      detail: notes.join('; '),
      trail: s.label,
      signature: s.signature,
      chain: s.chain,
      contentMatchesNext: s.contentMatchesNext,
    });
  }
}

/** The steps of `validate`, in order (later steps read what earlier ones recorded). */
const VALIDATION_STEPS: ((v: Validation) => void | Promise<void>)[] = [
  countTrails,
  checkListedLogFiles,
  checkUncoveredLogFiles,
  checkChain,
  checkNextDigestHash,
  checkSignatures,
  digestFileResults,
];

/** What one integrity finding reports: its files, their times and accounts, and overrides of the rule's text. */
interface FindingInput {
  rule: string;
  files: string[];
  times: number[];
  accounts: string[];
  over?: Partial<Pick<Finding, 'title' | 'severity' | 'description'>>;
}

function integrityFinding({ rule, files, times, accounts, over = {} }: FindingInput): IntegrityFinding {
  const meta = INTEGRITY_RULES[rule];
  const ts = times.filter(Number.isFinite).sort((a, b) => a - b);
  return {
    rule,
    title: over.title ?? meta.title,
    severity: over.severity ?? meta.severity,
    description: over.description ?? meta.description,
    count: files.length,
    first: ts.length ? ts[0] : NaN,
    last: ts.length ? ts[ts.length - 1] : NaN,
    accounts: [...new Set(accounts.filter(Boolean))],
    keys: [],
    principals: [],
    rows: [],
    query: `finding:${rule}`,
    files,
  };
}

const acctOfKey = (k: string) => parseS3Path(k).account ?? '';

function missingFinding(missing: MissingLogFile[], over: FindingInput['over']): FindingInput | null {
  if (!missing.length) return null;
  return {
    rule: 'digest-missing-log-file',
    files: missing.map((m) => m.s3Object),
    times: missing.map((m) => m.deliveryTime),
    accounts: missing.map((m) => acctOfKey(m.s3Object)),
    over,
  };
}

/** A finding over digests (times: window end), or null when `list` is empty. */
function digestFinding(rule: string, list: DigestState[], description?: string): FindingInput | null {
  if (!list.length) return null;
  return {
    rule,
    files: list.map((s) => s.d.path),
    times: list.map((s) => s.end),
    accounts: list.map((s) => s.info.account),
    over: description ? { description } : {},
  };
}

/** The finding handlers, in the order their findings are raised (then sorted by severity). */
const FINDING_HANDLERS: ((v: Validation) => FindingInput | null)[] = [
  ({ changedFiles: c }) =>
    c.length
      ? {
          rule: 'digest-hash-mismatch',
          files: c.map((l) => l.f.path),
          times: c.map((l) => l.time),
          accounts: c.map((l) => l.account),
        }
      : null,
  (v) =>
    missingFinding(
      v.missing.filter((m) => m.likely === 'deleted'),
      {
        title: 'Log files listed in a digest are missing (probably deleted)',
        description:
          'Digest files list log files that were not loaded, although other log files of the same account, Region and day were: the files were probably deleted from the bucket (or withheld from this copy) after delivery. Their events are not in KeyTrail.',
      },
    ),
  (v) =>
    missingFinding(
      v.missing.filter((m) => m.likely === 'not-loaded'),
      {
        title: 'Log files listed in a digest were not loaded',
        severity: 'info',
        description:
          'Digest files list log files of days of which no log file of the same account and Region was loaded: the copy probably does not include those days. Drop those log files to validate them.',
      },
    ),
  ({ gapDigests: g }) =>
    g.length
      ? {
          rule: 'digest-chain-gap',
          files: g.map((x) => x.s.d.path),
          times: g.map((x) => x.s.start),
          accounts: g.map((x) => x.s.info.account),
          over: {
            description: `${INTEGRITY_RULES['digest-chain-gap'].description} Missing: ${g.map((x) => x.s.prevId).join(', ')}.`,
          },
        }
      : null,
  (v) =>
    digestFinding(
      'digest-signature-invalid',
      v.states.filter((s) => s.signature === 'invalid'),
    ),
  (v) =>
    digestFinding(
      'digest-file-changed',
      v.states.filter((s) => s.contentMatchesNext === false),
    ),
  (v) => {
    const noKey = v.states.filter((s) => s.signature === 'key-not-found');
    const prints = [...new Set(noKey.map((s) => s.d.digest.digestPublicKeyFingerprint))].join(', ');
    return digestFinding(
      'digest-public-key-not-found',
      noKey,
      `${INTEGRITY_RULES['digest-public-key-not-found'].description} Fingerprints: ${prints}.`,
    );
  },
  ({ unlistedInWindow: u }) =>
    u.length
      ? {
          rule: 'log-file-not-in-digest',
          files: u.map((x) => x.l.f.path),
          times: u.map((x) => x.l.time),
          accounts: u.map((x) => x.l.account),
        }
      : null,
  ({ restarts: r }) =>
    r.length
      ? {
          rule: 'digest-chain-restarted',
          files: r.map((x) => x.s.d.path),
          times: r.map((x) => x.s.start),
          accounts: r.map((x) => x.s.info.account),
          over: {
            description: `${INTEGRITY_RULES['digest-chain-restarted'].description} ${r.map((x) => `${x.s.label}: no digest between ${fmt(x.before.end)} and ${fmt(x.s.start)}`).join('; ')}.`,
          },
        }
      : null,
];

/** The integrity findings of a finished validation, most severe first. */
function integrityFindings(v: Validation): IntegrityFinding[] {
  const findings = FINDING_HANDLERS.map((h) => h(v))
    .filter((f): f is FindingInput => f !== null)
    .map(integrityFinding);
  return findings.sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);
}

/** The attributes the `integrity-summary` hook renders (`data-verified`, `data-changed`, `data-missing`). */
export function integritySummaryAttributes(
  r: IntegrityReport,
): Record<'data-verified' | 'data-changed' | 'data-missing', string> {
  return {
    'data-verified': String(r.totals.verified),
    'data-changed': String(r.totals.changed),
    'data-missing': String(r.totals.missing),
  };
}
