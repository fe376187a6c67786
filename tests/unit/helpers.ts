/** Shared fixture builders for the unit tests (no test cases here). */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openInput, type Leaf, type OpenOptions, type Source } from '../../src/lib/ingest/open';
import type { CloudTrailEvent } from '../../src/lib/cloudtrail/event';
import type { FileRecord, KeyTrailDB } from '../../src/lib/store/db';

export const te = new TextEncoder();
export const td = new TextDecoder();

/** Deterministic PRNG (mulberry32), so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A realistic KMS CloudTrail event, distinct per `i`. */
export function kmsEvent(i: number, extra: Record<string, unknown> = {}): CloudTrailEvent {
  const hh = String(i % 24).padStart(2, '0');
  const mm = String(i % 60).padStart(2, '0');
  return {
    eventVersion: '1.08',
    userIdentity: {
      type: 'AssumedRole',
      principalId: `AROAEXAMPLE${i}:session-${i}`,
      arn: `arn:aws:sts::111122223333:assumed-role/Admin/session-${i}`,
      accountId: '111122223333',
      accessKeyId: `ASIAEXAMPLE${i}`,
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: 'AROAEXAMPLE',
          arn: 'arn:aws:iam::111122223333:role/Admin',
          accountId: '111122223333',
          userName: 'Admin',
        },
        attributes: { creationDate: '2024-05-01T00:00:00Z', mfaAuthenticated: 'false' },
      },
    },
    eventTime: `2024-05-01T${hh}:${mm}:00Z`,
    eventSource: 'kms.amazonaws.com',
    eventName: i % 3 === 0 ? 'Decrypt' : i % 3 === 1 ? 'Encrypt' : 'GenerateDataKey',
    awsRegion: 'us-east-1',
    sourceIPAddress: `198.51.100.${i % 250}`,
    userAgent: 'aws-cli/2.15.0',
    requestParameters: {
      keyId: `arn:aws:kms:us-east-1:111122223333:key/0000-${i}`,
      encryptionAlgorithm: 'SYMMETRIC_DEFAULT',
    },
    responseElements: null,
    requestID: `req-${i}`,
    eventID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    readOnly: true,
    resources: [
      { accountId: '111122223333', type: 'AWS::KMS::Key', ARN: `arn:aws:kms:us-east-1:111122223333:key/0000-${i}` },
    ],
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: '111122223333',
    eventCategory: 'Management',
    ...extra,
  };
}

export function kmsEvents(n: number, from = 0): CloudTrailEvent[] {
  return Array.from({ length: n }, (_, k) => kmsEvent(from + k));
}

/** An S3 delivery file's text. */
export function s3File(events: unknown[], pretty = false): string {
  return pretty ? JSON.stringify({ Records: events }, null, 2) : JSON.stringify({ Records: events });
}

/** An EventBridge "AWS API Call via CloudTrail" envelope. */
export function envelope(detail: unknown, i = 0): Record<string, unknown> {
  return {
    version: '0',
    id: `6a7e8feb-b491-4cf7-a9f1-bf3703467${String(i).padStart(3, '0')}`,
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.kms',
    account: '111122223333',
    time: '2024-05-01T00:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail,
  };
}

/** One item of `aws cloudtrail lookup-events` output. */
export function lookupItem(e: CloudTrailEvent): Record<string, unknown> {
  return {
    EventId: e.eventID,
    EventName: e.eventName,
    ReadOnly: 'true',
    AccessKeyId: 'ASIAEXAMPLE',
    EventTime: 1714521600,
    EventSource: e.eventSource,
    Username: 'Admin',
    Resources: [],
    CloudTrailEvent: JSON.stringify(e),
  };
}

/** A CloudTrail digest document. */
export function digestDoc(): Record<string, unknown> {
  return {
    awsAccountId: '111122223333',
    digestStartTime: '2024-05-01T00:00:00Z',
    digestEndTime: '2024-05-01T01:00:00Z',
    digestS3Bucket: 'trail-bucket',
    digestS3Object:
      'AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/111122223333_CloudTrail-Digest_us-east-1_main_us-east-1_20240501T010000Z.json.gz',
    digestPublicKeyFingerprint: '0123456789abcdef0123456789abcdef',
    digestSignatureAlgorithm: 'SHA256withRSA',
    newestEventTime: '2024-05-01T00:59:00Z',
    oldestEventTime: '2024-05-01T00:01:00Z',
    previousDigestS3Bucket: 'trail-bucket',
    previousDigestS3Object: null,
    previousDigestHashValue: null,
    previousDigestHashAlgorithm: null,
    previousDigestSignature: null,
    logFiles: [
      {
        s3Bucket: 'trail-bucket',
        s3Object:
          'AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/111122223333_CloudTrail_us-east-1_20240501T0005Z_abcDEF123.json.gz',
        hashValue: 'aa'.repeat(32),
        hashAlgorithm: 'SHA-256',
        newestEventTime: '2024-05-01T00:04:00Z',
        oldestEventTime: '2024-05-01T00:01:00Z',
      },
    ],
  };
}

/** A Blob of the bytes (as a dropped File would be). */
export function blob(b: Uint8Array): Blob {
  return new Blob([b as Uint8Array<ArrayBuffer>]);
}

/** Drains openInput into an array. */
export async function leavesOf(path: string, src: Source, opts?: OpenOptions): Promise<Leaf[]> {
  const out: Leaf[] = [];
  // a leaf's bytes are only valid until the next document is asked for (they may be a reused buffer)
  for await (const l of openInput(path, src, opts)) out.push('bytes' in l ? { ...l, bytes: l.bytes.slice() } : l);
  return out;
}

/** The decoded text of a readable leaf (fails the test when the leaf is a problem leaf). */
export function leafText(l: Leaf): string {
  if ('status' in l) throw new Error(`leaf ${l.path} is ${l.status}: ${l.reason}`);
  return td.decode(l.bytes);
}

/** Bytes that do not compress (so compressed sizes are predictable and span many read chunks). */
export function noise(n: number, seed = 1): Uint8Array {
  const r = rng(seed);
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (r() * 256) | 0;
  return b;
}

/** Concatenates byte arrays. */
export function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** `n` nested arrays: nestArrays(1) is `[]`, nestArrays(2) is `[[]]`. */
export function nestArrays(n: number): unknown {
  let v: unknown = [];
  for (let i = 1; i < n; i++) v = [v];
  return v;
}

/** `n` nested objects: nestObjects(1) is `{}`, nestObjects(2) is `{"a":{}}`. */
export function nestObjects(n: number): unknown {
  let v: unknown = {};
  for (let i = 1; i < n; i++) v = { a: v };
  return v;
}

/** The `pending` file record an ingest starts from (path as fingerprint, `size` bytes), with `id` when given. */
export function pendingRecord(path: string, size: number, id?: number): FileRecord {
  return {
    id,
    path,
    size,
    lastModified: 0,
    fingerprint: path,
    status: 'pending',
    events: 0,
    newEvents: 0,
    skipped: 0,
    conflicts: 0,
    bytes: 0,
    s3: {},
  };
}

/** Adds the `pending` file record an ingest starts from (path as fingerprint, `size` bytes); resolves with its id. */
export async function addPendingFile(db: KeyTrailDB, path: string, size: number): Promise<number> {
  const { id: _, ...record } = pendingRecord(path, size);
  return (await db.files.add(record)) as number;
}

/** Every file under `dir`, recursively. */
export function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}

/**
 * Generates `events` events of the benchmark's data set in `files` gzipped S3 delivery files under `dir`
 * (scripts/gen-bench-data.mjs, deterministic, run in a child process) and returns the files' paths, sorted.
 */
export function generateBenchFiles(dir: string, events: number, files: number): string[] {
  const script = fileURLToPath(new URL('../../scripts/gen-bench-data.mjs', import.meta.url));
  execFileSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { generate } from ${JSON.stringify(script)};` +
        `await generate({ events: ${events}, files: ${files}, dir: ${JSON.stringify(dir)}, log: () => {} });`,
    ],
    { stdio: 'inherit' },
  );
  return walk(dir)
    .filter((f) => f.endsWith('.json.gz'))
    .sort();
}
