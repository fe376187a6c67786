/**
 * The SHA-256 of a delivered file (`FileRecord.sha256`, what a CloudTrail digest lists as `logFiles[].hashValue`)
 * computed only when a digest needs it: ingest leaves it out of a document whose source bytes the store keeps
 * (S3 delivery files of at least 64 KiB) and hashes every other document at once; the integrity analysis hashes
 * the stored sources of the log files a loaded digest lists, writes the hashes back, and reports exactly what it
 * reported when every hash was computed at ingest.
 */
import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ingestTask } from '../../src/lib/ingest/ingest-core';
import { openDB, type FileRecord, type KeyTrailDB } from '../../src/lib/store/db';
import { storedSourceSha256 } from '../../src/lib/store/filehash';
import { RawReader } from '../../src/lib/store/raw';
import { StoreWriter } from '../../src/lib/store/writer';
import { prepare } from '../../src/lib/ingest/prepare';
import { ANALYSES, type AnalysisContext } from '../../src/lib/analysis/registry';
import type { IntegrityReport } from '../../src/lib/analysis/integrity';
import type { DigestDocument } from '../../src/lib/cloudtrail/digest';
import { QueryService } from '../../src/lib/query/service';
import { addPendingFile, cat, kmsEvent, kmsEvents, pendingRecord, s3File, te } from './helpers';

const sha256 = (b: string | Uint8Array) => createHash('sha256').update(b).digest('hex');

const ACCOUNT = '111122223333';
const DAY = `AWSLogs/${ACCOUNT}/CloudTrail/us-east-1/2024/05/01`;
const logKey = (minute: number, suffix: string) =>
  `${DAY}/${ACCOUNT}_CloudTrail_us-east-1_20240501T00${String(minute).padStart(2, '0')}Z_${suffix}.json.gz`;
const DIGEST_KEY = `AWSLogs/${ACCOUNT}/CloudTrail-Digest/us-east-1/2024/05/01/${ACCOUNT}_CloudTrail-Digest_us-east-1_main_us-east-1_20240501T010000Z.json.gz`;

/** An S3 delivery file of 100 KMS events (about 120 KB: its source is stored, see MIN_SOURCE_BYTES). */
const bigLog = (from: number) => s3File(kmsEvents(100, from));
/** An S3 delivery file of 3 events (a few KB: stored as event texts). */
const smallLog = (from: number) => s3File(kmsEvents(3, from));

/** An unsigned starting digest of the hour 00:00-01:00 listing these log files with these hashes. */
function digestOf(listed: { key: string; hash: string }[]): DigestDocument {
  return {
    awsAccountId: ACCOUNT,
    digestStartTime: '2024-05-01T00:00:00Z',
    digestEndTime: '2024-05-01T01:00:00Z',
    digestS3Bucket: 'trail-bucket',
    digestS3Object: DIGEST_KEY,
    digestPublicKeyFingerprint: '0123456789abcdef0123456789abcdef',
    digestSignatureAlgorithm: 'SHA256withRSA',
    newestEventTime: '2024-05-01T00:59:00Z',
    oldestEventTime: '2024-05-01T00:01:00Z',
    previousDigestS3Bucket: null,
    previousDigestS3Object: null,
    previousDigestHashValue: null,
    previousDigestHashAlgorithm: null,
    previousDigestSignature: null,
    logFiles: listed.map(({ key, hash }) => ({
      s3Bucket: 'trail-bucket',
      s3Object: key,
      hashValue: hash,
      hashAlgorithm: 'SHA-256',
      newestEventTime: '2024-05-01T00:30:00Z',
      oldestEventTime: '2024-05-01T00:01:00Z',
    })),
  };
}

let dbn = 0;
const dbs: KeyTrailDB[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const db of dbs.splice(0)) db.close();
});

function freshStore(): { name: string; db: KeyTrailDB; writer: StoreWriter } {
  const name = `filehash-${++dbn}`;
  const db = openDB(name);
  dbs.push(db);
  return { name, db, writer: new StoreWriter(db) };
}

/** Drops one input (bytes as a dropped File would give them) and ingests it; resolves with its leaves' results. */
async function drop(db: KeyTrailDB, writer: StoreWriter, path: string, bytes: Uint8Array) {
  const fileId = await addPendingFile(db, path, bytes.length);
  return ingestTask(
    db,
    writer,
    {
      fileId,
      path,
      source: new Blob([bytes as Uint8Array<ArrayBuffer>]),
      size: bytes.length,
      lastModified: 0,
      fingerprint: path,
    },
    () => {},
  );
}

const gz = (text: string) => new Uint8Array(gzipSync(te.encode(text)));

async function recordOf(db: KeyTrailDB, path: string): Promise<FileRecord> {
  const r = await db.files.where('path').equals(path).first();
  if (!r) throw new Error(`no record for ${path}`);
  return r;
}

/** The integrity analysis of the registry over the store, as the query service runs it. */
function integrityOf(db: KeyTrailDB, files?: () => Promise<FileRecord[]>, raw = new RawReader(db)) {
  const ctx = {
    raw: () => raw,
    files: files ?? (() => db.files.toArray()),
    digests: () => db.digests.toArray(),
    configs: () => db.configs.toArray(),
  } as unknown as AnalysisContext;
  return ANALYSES.integrity.run(ctx);
}

/**
 * The integrity analysis as it ran when ingest hashed every file: each record of a log file read whole
 * (`contents`, by path) carries the SHA-256 of its decompressed content; nothing is computed from sources.
 */
function eagerIntegrityOf(db: KeyTrailDB, contents: Map<string, string>): Promise<IntegrityReport> {
  const noSources = {
    sourceFileIds: async () => new Set<number>(),
    sourceSha256: async () => {
      throw new Error('the eager analysis reads no source');
    },
  } as unknown as RawReader;
  return integrityOf(
    db,
    async () =>
      (await db.files.toArray()).map((f) =>
        contents.has(f.path) ? { ...f, sha256: f.sha256 ?? sha256(contents.get(f.path)!) } : f,
      ),
    noSources,
  );
}

describe('SHA-256 of delivered files: computed when a digest needs it', () => {
  it('a kept-source .json.gz log file is stored without its hash; the integrity analysis hashes its stored source, verifies it, writes the hash back, as eager hashing did', async () => {
    const { db, writer } = freshStore();
    const listed = bigLog(0);
    const unlisted = bigLog(1000);
    const [a] = await drop(db, writer, `export/${logKey(5, 'listed')}`, gz(listed));
    const [b] = await drop(db, writer, `export/${logKey(20, 'unlisted')}`, gz(unlisted));
    expect(a).toMatchObject({ status: 'ingested', newEvents: 100 });
    expect(b).toMatchObject({ status: 'ingested', newEvents: 100 });
    for (const r of [a, b]) {
      expect((await db.files.get(r.fileId))!.sha256).toBeUndefined();
      const src = await db.sources.where('fileId').equals(r.fileId).first();
      expect(src?.gzip).toBe(true);
    }
    // the digest itself is hashed at ingest (its own hash is what the next digest and its signature cover)
    const digestText = JSON.stringify(digestOf([{ key: logKey(5, 'listed'), hash: sha256(listed) }]));
    await drop(db, writer, `export/${DIGEST_KEY}`, gz(digestText));
    expect((await recordOf(db, `export/${DIGEST_KEY}`)).sha256).toBe(sha256(digestText));

    const hashed = vi.spyOn(RawReader.prototype, 'sourceSha256');
    const report = await integrityOf(db);
    expect(report.files.find((f) => f.fileId === a.fileId)).toMatchObject({ kind: 'log', status: 'verified' });
    expect(report.files.find((f) => f.fileId === b.fileId)).toMatchObject({ kind: 'log', status: 'not-covered' });
    expect(report.totals).toMatchObject({ verified: 1, changed: 0, missing: 0, notCovered: 1 });
    const contents = new Map([
      [`export/${logKey(5, 'listed')}`, listed],
      [`export/${logKey(20, 'unlisted')}`, unlisted],
    ]);
    expect(report).toEqual(await eagerIntegrityOf(db, contents));
    // only the listed file was hashed (the unlisted one's hash is never compared), and its hash was kept
    expect(hashed.mock.calls).toEqual([[a.fileId]]);
    expect((await db.files.get(a.fileId))!.sha256).toBe(sha256(listed));
    expect((await db.files.get(b.fileId))!.sha256).toBeUndefined();
    // the next run reads the hash written back
    hashed.mockClear();
    expect(await integrityOf(db)).toEqual(report);
    expect(hashed).not.toHaveBeenCalled();
  });

  it('a tampered kept-source log file is reported changed (digest-hash-mismatch), as eager hashing reported it', async () => {
    const { db, writer } = freshStore();
    const original = bigLog(0);
    const tampered = s3File([...kmsEvents(99, 0), kmsEvent(99, { sourceIPAddress: '203.0.113.66' })]);
    const path = `export/${logKey(5, 'edited')}`;
    const [r] = await drop(db, writer, path, gz(tampered));
    expect((await db.files.get(r.fileId))!.sha256).toBeUndefined();
    await drop(
      db,
      writer,
      DIGEST_KEY,
      gz(JSON.stringify(digestOf([{ key: logKey(5, 'edited'), hash: sha256(original) }]))),
    );
    const report = await integrityOf(db);
    expect(report.files.find((f) => f.fileId === r.fileId)).toMatchObject({
      status: 'changed',
      detail: `SHA-256 ${sha256(tampered)} differs from ${sha256(original)} recorded in ${DIGEST_KEY}`,
    });
    expect(report.findings.map((f) => f.rule)).toContain('digest-hash-mismatch');
    expect(report.findings.find((f) => f.rule === 'digest-hash-mismatch')).toMatchObject({ count: 1, files: [path] });
    expect(report).toEqual(await eagerIntegrityOf(db, new Map([[path, tampered]])));
    expect((await db.files.get(r.fileId))!.sha256).toBe(sha256(tampered));
  });

  it('documents stored as event texts (small files), and plain files below the source size, keep their eager hash', async () => {
    const { db, writer } = freshStore();
    const small = smallLog(0);
    const [s] = await drop(db, writer, logKey(5, 'small'), gz(small));
    expect(s).toMatchObject({ status: 'ingested', newEvents: 3 });
    expect((await db.files.get(s.fileId))!.sha256).toBe(sha256(small));
    expect(await db.sources.where('fileId').equals(s.fileId).count()).toBe(0);
    // a file holding no events, a file that is not JSON: hashed, nothing stored to hash later
    const none = '{"Records":[]}';
    const [n] = await drop(db, writer, logKey(6, 'none'), te.encode(none));
    expect(n.status).toBe('not-cloudtrail');
    expect((await db.files.get(n.fileId))!.sha256).toBe(sha256(none));
    const [c] = await drop(db, writer, logKey(7, 'broken'), te.encode('{"Records": [ {'));
    expect(c.status).toBe('corrupt');
    expect((await db.files.get(c.fileId))!.sha256).toBe(sha256('{"Records": [ {'));
  });

  it('a kept-source file whose events are all stored already (a duplicate: its source is not stored) is committed with its hash', async () => {
    const { db, writer } = freshStore();
    const text = bigLog(0);
    const [first] = await drop(db, writer, `bucket-a/${logKey(5, 'same')}`, gz(text));
    const [second] = await drop(db, writer, `bucket-b/${logKey(5, 'same')}`, gz(text));
    expect(first).toMatchObject({ status: 'ingested', newEvents: 100 });
    expect(second).toMatchObject({ status: 'duplicate', events: 100, newEvents: 0 });
    expect(second.needsSha256).toBeUndefined();
    const dup = (await db.files.get(second.fileId))!;
    expect(dup).toMatchObject({ status: 'duplicate', sha256: sha256(text) });
    expect(await db.sources.where('fileId').equals(second.fileId).count()).toBe(0);
    expect((await db.files.get(first.fileId))!.sha256).toBeUndefined();
    await drop(db, writer, DIGEST_KEY, gz(JSON.stringify(digestOf([{ key: logKey(5, 'same'), hash: sha256(text) }]))));
    const report = await integrityOf(db);
    for (const id of [first.fileId, second.fileId])
      expect(report.files.find((f) => f.fileId === id)).toMatchObject({ status: 'verified' });
    expect(report).toEqual(
      await eagerIntegrityOf(
        db,
        new Map([
          [`bucket-a/${logKey(5, 'same')}`, text],
          [`bucket-b/${logKey(5, 'same')}`, text],
        ]),
      ),
    );
  });

  it('the writer writes nothing of a deferred-hash document whose source it would not store, and asks for the hash', async () => {
    const { db, writer } = freshStore();
    const bytes = te.encode(bigLog(0));
    const leaf = { path: logKey(5, 'x'), bytes, compressed: false, source: bytes };
    const base = (id?: number): FileRecord => pendingRecord(leaf.path, bytes.length, id);
    const first = await writer.commit(base(await addPendingFile(db, 'a', 1)), { ...prepare(leaf), deferSha256: true });
    expect(first).toMatchObject({ status: 'ingested', newEvents: 100 });
    expect(first.needsSha256).toBeUndefined();
    const pendingId = await addPendingFile(db, 'b', 1);
    const files = await db.files.count();
    const again = await writer.commit(base(pendingId), { ...prepare(leaf), deferSha256: true });
    expect(again).toMatchObject({ fileId: pendingId, status: 'pending', newEvents: 0, needsSha256: true });
    expect((await db.files.get(pendingId))!.status).toBe('pending');
    // an archive member's record (no id yet) is not created either
    const member = await writer.commit(base(), { ...prepare(leaf), deferSha256: true });
    expect(member).toMatchObject({ needsSha256: true, status: 'pending' });
    expect(await db.files.count()).toBe(files);
    // with the hash, it is committed as a duplicate
    const done = await writer.commit(
      { ...base(pendingId), sha256: sha256(bytes) },
      { ...prepare(leaf), deferSha256: true },
    );
    expect(done).toMatchObject({ status: 'duplicate', newEvents: 0 });
    expect((await db.files.get(pendingId))!.sha256).toBe(sha256(bytes));
  });

  it('archive members follow the same rule: a kept-source member is hashed from its own stored source, a small one at ingest', async () => {
    const { db, writer } = freshStore();
    const gzMember = bigLog(0);
    const plainMember = bigLog(500);
    const small = smallLog(900);
    const zip = zipSync({
      [logKey(5, 'gz')]: [gz(gzMember), { level: 0 }],
      [logKey(10, 'plain').replace(/\.gz$/, '')]: te.encode(plainMember),
      [logKey(15, 'small').replace(/\.gz$/, '')]: te.encode(small),
    });
    const results = await drop(db, writer, 'logs.zip', zip);
    expect(results.map((r) => r.status)).toEqual(['ingested', 'ingested', 'ingested']);
    const gzRec = await recordOf(db, `logs.zip!${logKey(5, 'gz')}`);
    const plainRec = await recordOf(db, `logs.zip!${logKey(10, 'plain').replace(/\.gz$/, '')}`);
    const smallRec = await recordOf(db, `logs.zip!${logKey(15, 'small').replace(/\.gz$/, '')}`);
    expect(gzRec.sha256).toBeUndefined();
    expect(plainRec.sha256).toBeUndefined();
    expect(smallRec.sha256).toBe(sha256(small));
    expect((await db.sources.where('fileId').equals(gzRec.id!).first())?.gzip).toBe(true);
    expect((await db.sources.where('fileId').equals(plainRec.id!).first())?.gzip).toBe(false);
    const digest = digestOf([
      { key: logKey(5, 'gz'), hash: sha256(gzMember) },
      { key: logKey(10, 'plain'), hash: sha256(plainMember) },
      { key: logKey(15, 'small'), hash: sha256('something else') },
    ]);
    await drop(db, writer, DIGEST_KEY, gz(JSON.stringify(digest)));
    const report = await integrityOf(db);
    expect(report.files.filter((f) => f.kind === 'log').map((f) => [f.fileId, f.status])).toEqual([
      [gzRec.id, 'verified'],
      [plainRec.id, 'verified'],
      [smallRec.id, 'changed'],
    ]);
    expect(report).toEqual(
      await eagerIntegrityOf(
        db,
        new Map([
          [gzRec.path, gzMember],
          [plainRec.path, plainMember],
          [smallRec.path, small],
        ]),
      ),
    );
    expect((await db.files.get(gzRec.id!))!.sha256).toBe(sha256(gzMember));
    expect((await db.files.get(plainRec.id!))!.sha256).toBe(sha256(plainMember));
  });

  it('hashes a multi-member gzip source whole (the decoder ingest read it with)', async () => {
    const { db, writer } = freshStore();
    const text = bigLog(0);
    const bytes = te.encode(text);
    const cut = 50_000;
    const multi = cat(new Uint8Array(gzipSync(bytes.subarray(0, cut))), new Uint8Array(gzipSync(bytes.subarray(cut))));
    const [r] = await drop(db, writer, logKey(5, 'multi'), multi);
    expect(r).toMatchObject({ status: 'ingested', newEvents: 100 });
    expect((await db.files.get(r.fileId))!.sha256).toBeUndefined();
    expect(await storedSourceSha256(db, r.fileId)).toBe(sha256(text));
    expect((await db.files.get(r.fileId))!.sha256).toBe(sha256(text));
    // no source: nothing to compute
    expect(await storedSourceSha256(db, 987_654)).toBeUndefined();
  });

  it('a failed write-back (the store deleted meanwhile) does not fail the analysis, nor change its outcome', async () => {
    const { db, writer } = freshStore();
    const text = bigLog(0);
    const [r] = await drop(db, writer, logKey(5, 'wb'), gz(text));
    await drop(db, writer, DIGEST_KEY, gz(JSON.stringify(digestOf([{ key: logKey(5, 'wb'), hash: sha256(text) }]))));
    vi.spyOn(db.files, 'update').mockRejectedValue(new Error('DatabaseClosedError'));
    const report = await integrityOf(db);
    expect(report.files.find((f) => f.fileId === r.fileId)).toMatchObject({ status: 'verified' });
    vi.restoreAllMocks();
    expect((await db.files.get(r.fileId))!.sha256).toBeUndefined();
    expect(await integrityOf(db)).toEqual(report);
    // a source that cannot be read leaves the hash unknown (unhashed), the analysis still answers
    await db.files.update(r.fileId, { sha256: undefined });
    vi.spyOn(RawReader.prototype, 'sourceSha256').mockRejectedValue(new Error('stored source is missing'));
    const broken = await integrityOf(db);
    expect(broken.files.find((f) => f.fileId === r.fileId)).toMatchObject({
      status: 'unhashed',
      detail: "the file's SHA-256 is unknown",
    });
  });

  it('the query service runs it over its own store reader', async () => {
    const { name, db, writer } = freshStore();
    const text = bigLog(0);
    const [r] = await drop(db, writer, logKey(5, 'svc'), gz(text));
    await drop(db, writer, DIGEST_KEY, gz(JSON.stringify(digestOf([{ key: logKey(5, 'svc'), hash: sha256(text) }]))));
    const service = new QueryService({ open: async () => openDB(name), listen: false, notifyMs: 0 });
    try {
      await service.ready();
      const report = await service.integrity();
      expect(report.files.find((f) => f.fileId === r.fileId)).toMatchObject({ status: 'verified' });
      expect(report.totals.verified).toBe(1);
    } finally {
      service.close();
    }
    expect((await db.files.get(r.fileId))!.sha256).toBe(sha256(text));
  });
});
