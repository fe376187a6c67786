/// <reference lib="webworker" />
import * as Comlink from 'comlink';
import { openStore, STORE_CHANNEL, type FileRecord, type KeyTrailDB, type StoreMessage } from '../store/db';
import { commitTransferables, QuotaError, type CommitInput } from '../store/writer';
import type { WriterWorkerApi } from '../store/writer-worker';
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
 * Commits through the pool's writer worker (connected by the pool before any task). The input's buffers are
 * transferred; when the writer answers `needsSha256` it sends them back, and they are put back into `p` for the
 * second commit (see `Committer`).
 */
const committer: Committer = {
  async commit(record: FileRecord, p: CommitInput) {
    if (!remote) throw new Error('no store writer connected to this ingest worker');
    const { events: _, ...input } = p as CommitInput & { events?: unknown };
    // an in-memory source (an archive member) goes over as a Blob, never as a view of a larger buffer
    if (input.source && !(input.source instanceof Blob))
      input.source = new Blob([input.source as Uint8Array<ArrayBuffer>]);
    const o = await remote.commit(record, Comlink.transfer(input, commitTransferables(input)));
    if (o.ok) {
      if (o.input) Object.assign(p, o.input);
      return o.result;
    }
    if (o.error === 'quota') throw new QuotaError(o.needed, o.message);
    throw new Error(o.message);
  },
};

/** The ingest worker's API, called by the pool through comlink. */
const api = {
  /** Commits through the writer worker serving `port` from now on. */
  connectWriter(port: MessagePort): void {
    remote = Comlink.wrap<WriterWorkerApi>(port);
  },
  /** Reads and commits one input; progress is reported through `onProgress` (a comlink proxy). */
  async ingest(task: IngestTask, onProgress: (p: TaskProgress) => void): Promise<TaskOutcome> {
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
