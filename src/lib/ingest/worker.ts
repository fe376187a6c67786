/// <reference lib="webworker" />
import * as Comlink from 'comlink';
import { openStore, STORE_CHANNEL, type FileRecord, type KeyTrailDB, type StoreMessage } from '../store/db';
import { commitTransferables, QuotaError, type CommitInput, type CommitResult } from '../store/writer';
import type { CommitOutcome, WriterWorkerApi } from '../store/writer-worker';
import { StoreWrites } from '../store/writes';
import { ingestTask, type Committer, type IngestTask, type TaskProgress } from './ingest-core';
import { CancelledError } from './open';
import { PHASES } from '../codec/phases';

/** Outcome of one task as the pool sees it. */
export type TaskOutcome =
  | { ok: true }
  | { ok: false; error: 'quota'; needed: number; message: string }
  | { ok: false; error: 'cancelled' }
  | { ok: false; error: 'failed'; message: string };

// (no top-level await: a module worker that awaits before exposing its API loses the messages sent meanwhile)
let db!: KeyTrailDB;
/** Resolves once the store is open (at start, and again after Delete all); tasks wait for it. */
let ready: Promise<unknown> = openStore().then((fresh) => (db = fresh));
// Delete all, in any tab: stop, and open the new store once the old one is deleted (the deletion closes the
// connection).
const channel = new BroadcastChannel(STORE_CHANNEL);
let lastWipe = '';
channel.onmessage = (ev: MessageEvent<StoreMessage>) => {
  if (ev.data.type === 'clearing') cancel.cancelled = true;
  else if (ev.data.type === 'cleared' && ev.data.wipe !== lastWipe) {
    lastWipe = ev.data.wipe;
    ready = ready.then(async () => {
      db.close({ disableAutoOpen: true });
      db = await openStore();
    });
  }
};
let cancel = { cancelled: false };
/** Archive records this worker finalises, announced on the store channel (the page and the query worker hear them). */
const writes = new StoreWrites(
  () => db,
  (m) => channel.postMessage(m),
);
let remote: Comlink.Remote<WriterWorkerApi> | null = null;

/**
 * Documents of at most this many events are small: while a commit of this worker is on its way to the writer,
 * small ones wait and go together in one message (see {@link committer}).
 */
const SMALL_COMMIT_EVENTS = 1000;
/** Most documents sent in one message to the writer. */
const MAX_COMMITS_PER_MESSAGE = 256;

/** A commit waiting to be sent to the writer worker. */
interface QueuedCommit {
  record: FileRecord;
  input: CommitInput;
  p: CommitInput;
  resolve: (r: CommitResult) => void;
  reject: (err: unknown) => void;
}
const waiting: QueuedCommit[] = [];
/** Messages sent to the writer and not yet answered. */
let inFlight = 0;

/** Settles one commit from the writer's outcome (see `Committer`). */
function settle(c: QueuedCommit, o: CommitOutcome): void {
  if (o.ok) {
    if (o.input) Object.assign(c.p, o.input);
    c.resolve(o.result);
  } else if (o.error === 'quota') c.reject(new QuotaError(o.needed, o.message));
  else c.reject(new Error(o.message));
}

/** Sends `batch` to the writer in one message (its buffers transferred) and settles each commit from the answer. */
function send(batch: QueuedCommit[]): void {
  inFlight++;
  const w = remote!;
  const transfers = [...new Set(batch.flatMap((c) => commitTransferables(c.input)))];
  const answer =
    batch.length === 1
      ? w.commit(batch[0].record, Comlink.transfer(batch[0].input, transfers)).then((o) => [o])
      : w.commitMany(
          Comlink.transfer(
            batch.map((c) => ({ record: c.record, input: c.input })),
            transfers,
          ),
        );
  answer
    .then(
      (outcomes) => batch.forEach((c, i) => settle(c, outcomes[i])),
      (err) => batch.forEach((c) => c.reject(err)),
    )
    .finally(() => {
      inFlight--;
      if (waiting.length) send(waiting.splice(0, MAX_COMMITS_PER_MESSAGE));
    });
}

/**
 * Commits through the pool's writer worker (connected by the pool before any task). The input's buffers are
 * transferred; when the writer answers `needsSha256` it sends them back, and they are put back into `p` for the
 * second commit (see `Committer`).
 * A small document (a file of a few events: CloudTrail writes one file per account and Region about every
 * five minutes, so a quiet account's folder holds thousands) waits while another commit of this worker is on
 * its way, and the ones waiting go together in one message once it is answered: a message per file cost about
 * as much as reading the file. A large document is sent at once.
 */
const committer: Committer = {
  commit(record: FileRecord, p: CommitInput): Promise<CommitResult> {
    if (!remote) return Promise.reject(new Error('no store writer connected to this ingest worker'));
    const { events: _, ...input } = p as CommitInput & { events?: unknown };
    // an in-memory source (an archive member) goes over as a Blob, never as a view of a larger buffer
    if (input.source && !(input.source instanceof Blob))
      input.source = new Blob([input.source as Uint8Array<ArrayBuffer>]);
    return new Promise<CommitResult>((resolve, reject) => {
      const c: QueuedCommit = { record, input, p, resolve, reject };
      if (inFlight > 0 && input.h.length / 2 <= SMALL_COMMIT_EVENTS) waiting.push(c);
      else send([c]);
    });
  },
};

/** Reads and commits one input (see `ingestTask`); its errors are values (class identity does not survive postMessage). */
async function runTask(task: IngestTask, onProgress: (p: TaskProgress) => void): Promise<TaskOutcome> {
  try {
    await ready;
    await ingestTask(db, committer, task, onProgress, cancel, writes);
    return { ok: true };
  } catch (err) {
    if (err instanceof CancelledError) return { ok: false, error: 'cancelled' };
    if (err instanceof QuotaError) return { ok: false, error: 'quota', needed: err.needed, message: err.message };
    return {
      ok: false,
      error: 'failed',
      message: `${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`,
    };
  }
}

/** The ingest worker's API, called by the pool through comlink. */
const api = {
  /** Commits through the writer worker serving `port` from now on. */
  connectWriter(port: MessagePort): void {
    remote = Comlink.wrap<WriterWorkerApi>(port);
  },
  /** Reads and commits one input; progress is reported through `onProgress` (a comlink proxy). */
  ingest(task: IngestTask, onProgress: (p: TaskProgress) => void): Promise<TaskOutcome> {
    return runTask(task, onProgress);
  },
  /**
   * Reads and commits several small inputs at once, in one call: each one's outcome, and its last progress
   * report (its leaves' results), in the order of `tasks`. No progress is sent while they are read: for a
   * folder of thousands of small files, the messages of a call and its progress reports per file cost more
   * than reading the file (see pool.ts).
   */
  async ingestMany(tasks: IngestTask[]): Promise<{ outcome: TaskOutcome; last: TaskProgress | null }[]> {
    const last: (TaskProgress | null)[] = tasks.map(() => null);
    const outcomes = await Promise.all(tasks.map((t, k) => runTask(t, (p) => (last[k] = p))));
    return outcomes.map((outcome, k) => ({ outcome, last: last[k] }));
  },
  /** Cancels the task in progress (and any started before `resume`). */
  cancel(): void {
    cancel.cancelled = true;
  },
  /** Cumulative ms per ingest phase in this worker (read+gunzip, decode, parse, index...). */
  phases(): Record<string, number> {
    return { ...PHASES };
  },
  /** Accepts tasks again after a cancel. */
  resume(): void {
    cancel = { cancelled: false };
  },
};

/** Type of the ingest worker's API. */
export type IngestWorkerApi = typeof api;

Comlink.expose(api);
