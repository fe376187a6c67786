import { parseS3Path } from '../cloudtrail/s3path';
import { FINAL_STATUSES, type FileRecord, type KeyTrailDB } from '../store/db';
import type { CommitInput, CommitResult } from '../store/writer';
import { StoreWrites } from '../store/writes';
import { CancelledError, openInput, type CancelToken, type Source } from './open';
import { prepare } from './prepare';
import { phase } from '../codec/phases';

/** SHA-256 of bytes as lower-case hex (WebCrypto; native speed). */
async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let s = '';
  for (const b of d) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Whatever commits prepared documents: a `StoreWriter` in the same thread, or the pool's writer worker. */
export interface Committer {
  /** @throws QuotaError when storage is full (nothing of the document is stored). */
  commit(record: FileRecord, p: CommitInput): Promise<CommitResult>;
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
    if ('bytes' in leaf) record = { ...record, sha256: await sha256Hex(leaf.bytes) };
    const prepared = prepare(leaf);
    events += prepared.h.length / 2; // `prepared.events` is empty when read record by record
    const r = await writer.commit(record, prepared);
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
