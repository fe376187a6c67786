import { parseS3Path } from '../cloudtrail/s3path';
import { FINAL_STATUSES, type FileRecord, type KeyTrailDB } from '../store/db';
import { maySourceBeStored, type CommitInput, type CommitResult } from '../store/writer';
import { sha256Hex } from '../store/filehash';
import { StoreWrites } from '../store/writes';
import { CancelledError, openInput, type CancelToken, type Leaf, type Source } from './open';
import { prepare, type Prepared } from './prepare';
import { phase } from '../codec/phases';

/** Whatever commits prepared documents: a `StoreWriter` in the same thread, or the pool's writer worker. */
export interface Committer {
  /**
   * Commits one prepared document (see `StoreWriter.commit`). When the result says `needsSha256`, nothing was
   * written and `p` must be usable for the second commit: a committer that transferred `p`'s buffers to another
   * thread puts them back into `p` (the writer worker sends them back with such a result).
   * @throws QuotaError when storage is full (nothing of the document is stored).
   */
  commit(record: FileRecord, p: CommitInput): Promise<CommitResult>;
}

/**
 * Commits one read document with the SHA-256 of its decompressed content (`FileRecord.sha256`, what a CloudTrail
 * digest file lists for a log file as `logFiles[].hashValue`: "CloudTrail digest file structure", AWS CloudTrail
 * User Guide, https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-digest-file-structure.html),
 * computing that hash only when the store does not keep the document's bytes whole:
 * - a document whose source may be stored (an S3 delivery document of at least 64 KiB, read from bytes at hand:
 *   `maySourceBeStored`) is committed without the hash; the integrity analysis computes it from the stored
 *   source when a digest lists the file (store/filehash.ts). Only if none of its events is new (a duplicate:
 *   the source is not stored) does the writer send it back, and it is committed again with the hash;
 * - every other document with bytes (small documents stored as event texts, digests, configuration documents,
 *   files holding no events, not UTF-8...) is hashed before its commit, as before;
 * - a leaf without bytes (unreadable, over a cap) has no hash.
 * The record's `sha256` is thus either stored or computable from a stored source, whatever the commit found.
 * @throws QuotaError when storage is full (nothing of the document is stored).
 */
async function commitLeaf(
  writer: Committer,
  record: FileRecord,
  leaf: Leaf,
  prepared: Prepared,
): Promise<CommitResult> {
  if (!('bytes' in leaf)) return writer.commit(record, prepared);
  if (!maySourceBeStored(prepared)) return writer.commit({ ...record, sha256: await sha256Hex(leaf.bytes) }, prepared);
  const input: CommitInput = { ...prepared, deferSha256: true };
  const r = await writer.commit(record, input);
  if (!r.needsSha256) return r;
  // all its events were stored already, and so its source is not: the hash goes into the record now
  return writer.commit({ ...record, sha256: await sha256Hex(leaf.bytes) }, { ...input, deferSha256: false });
}

/** One input handed to an ingest worker: a dropped file whose pending record already exists. */
export interface IngestTask {
  /** Id of the file's pending record. */
  fileId: number;
  /** Path as dropped (relative path within the dropped folder). */
  path: string;
  /** The bytes (a File from a drop or picker; a Uint8Array in tests). */
  source: Source;
  size: number;
  lastModified: number;
  fingerprint: string;
}

/** Progress of one task, sent to the page while it is read. */
export interface TaskProgress {
  fileId: number;
  /** Bytes of the input read so far. */
  bytesRead: number;
  /** Events found so far (all leaves). */
  events: number;
  /** Leaves committed so far, with their outcome. */
  results: CommitResult[];
  done: boolean;
}

/**
 * Reads, parses, deduplicates and commits one dropped input (and, for archives, each member), reporting
 * progress. The worker-independent core of an ingest worker, also run directly by unit tests in Node.
 * `db` is only read (an archive member's earlier record); leaves are written by `writer`'s commits, and an
 * archive's own record by `writes` (announced as a `files` store message; the ingest worker posts it on
 * STORE_CHANNEL; by default it is written unannounced).
 * @throws QuotaError when storage is full; CancelledError when `cancel.cancelled` was set.
 */
export async function ingestTask(
  db: KeyTrailDB,
  writer: Committer,
  task: IngestTask,
  onProgress: (p: TaskProgress) => void,
  cancel: CancelToken = { cancelled: false },
  writes: StoreWrites = new StoreWrites(
    () => db,
    () => {},
  ),
): Promise<CommitResult[]> {
  const results: CommitResult[] = [];
  let bytesRead = 0;
  let events = 0;
  let last = 0;
  const report = (done = false) =>
    onProgress({ fileId: task.fileId, bytesRead, events, results: results.slice(), done });
  const progress = (b: number) => {
    bytesRead = b;
    const now = Date.now();
    if (now - last > 150) {
      last = now;
      report();
    }
  };
  const base: FileRecord = {
    id: task.fileId,
    path: task.path,
    size: task.size,
    lastModified: task.lastModified,
    fingerprint: task.fingerprint,
    status: 'pending',
    events: 0,
    newEvents: 0,
    skipped: 0,
    conflicts: 0,
    bytes: 0,
    s3: parseS3Path(task.path),
  };
  let members = 0;
  let archiveError: string | undefined;
  let tr = performance.now();
  for await (const leaf of openInput(task.path, task.source, { progress, cancel })) {
    tr = phase('read+gunzip', tr);
    if (cancel.cancelled) throw new CancelledError();
    let record: FileRecord;
    if (leaf.path === task.path && 'status' in leaf && members > 0) {
      // a problem with the archive itself after some members were read (truncated, broken central data)
      archiveError = leaf.reason;
      continue;
    }
    if (leaf.path === task.path) record = base;
    else {
      members++;
      // A member already committed by an earlier, interrupted run of this archive is not read again.
      const prior = await db.files
        .where('path')
        .equals(leaf.path)
        .filter((f) => f.parentId === task.fileId)
        .first();
      if (prior && FINAL_STATUSES.has(prior.status)) {
        results.push({
          fileId: prior.id!,
          path: prior.path,
          status: prior.status,
          events: prior.events,
          newEvents: prior.newEvents,
          conflicts: prior.conflicts,
          reason: prior.reason,
        });
        events += prior.events;
        continue;
      }
      record = {
        id: prior?.id,
        path: leaf.path,
        size: 'bytes' in leaf ? leaf.bytes.length : 0,
        lastModified: task.lastModified,
        fingerprint: `${leaf.path}|${task.fingerprint}`,
        status: 'pending',
        events: 0,
        newEvents: 0,
        skipped: 0,
        conflicts: 0,
        bytes: 0,
        s3: parseS3Path(leaf.path),
        parentId: task.fileId,
      };
    }
    const prepared = prepare(leaf);
    events += prepared.h.length / 2; // `prepared.events` is empty when read record by record
    const r = await commitLeaf(writer, record, leaf, prepared);
    results.push(r);
    report();
    tr = performance.now();
  }
  if (members > 0) {
    // The archive itself: a container whose members carry the events.
    const sum = results.reduce((a, r) => ({ events: a.events + r.events, newEvents: a.newEvents + r.newEvents }), {
      events: 0,
      newEvents: 0,
    });
    await writes.finishArchive({
      ...base,
      status: archiveError ? 'corrupt' : 'archive',
      events: sum.events,
      newEvents: sum.newEvents,
      reason: archiveError ? `${archiveError} (${members} member(s) read before it)` : `${members} member(s)`,
      doneAt: Date.now(),
    });
  }
  bytesRead = task.size;
  report(true);
  return results;
}
