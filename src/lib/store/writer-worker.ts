/// <reference lib="webworker" />
import * as Comlink from 'comlink';
import { PHASES } from '../codec/phases';
import { openStore, STORE_CHANNEL, type FileRecord, type KeyTrailDB, type StoreMessage } from './db';
import { commitTransferables, QuotaError, StoreWriter, type CommitInput, type CommitResult } from './writer';

/**
 * The store's single writer: ingest workers prepare documents (parse, hash, index) and post them here; this
 * worker deduplicates and commits them, several documents per IndexedDB transaction when they queue up.
 * Ingest workers thus never wait on the commit lock or on IndexedDB while there is parsing to do, and many
 * small files share a transaction.
 */

/**
 * How one commit ended (errors are values: class identity does not survive postMessage). `input` is the
 * committed input sent back (its buffers transferred) when `result.needsSha256`: nothing was written, and the
 * ingest worker commits it again with the file's SHA-256 (see `CommitInput.deferSha256`).
 */
export type CommitOutcome =
  | { ok: true; result: CommitResult; input?: CommitInput }
  | { ok: false; error: 'quota'; needed: number; message: string }
  | { ok: false; error: 'failed'; message: string };

/** Most documents committed in one transaction. */
const MAX_BATCH_FILES = 256;
/** Most events committed in one transaction (a batch always takes at least one document). */
const MAX_BATCH_EVENTS = 50_000;

// (no top-level await: a module worker that awaits before exposing its API loses the messages sent meanwhile)
let db!: KeyTrailDB;
let writer!: StoreWriter;
/** Resolves once the store is open (at start, and again after Delete all); commits wait for it. */
let ready: Promise<unknown> = openStore('relaxed').then((fresh) => {
  db = fresh;
  writer = new StoreWriter(fresh);
});

// Delete all, in any tab: once the store was deleted, forget every hash and open the new store (the old
// handle points at a deleted bucket or database).
const channel = new BroadcastChannel(STORE_CHANNEL);
let lastWipe = '';
channel.onmessage = (ev: MessageEvent<StoreMessage>) => {
  // (`clearing` needs nothing here: the tab's ingest is cancelled, and the deletion closes the connection)
  if (ev.data.type === 'cleared' && ev.data.wipe !== lastWipe) {
    lastWipe = ev.data.wipe;
    ready = ready.then(async () => {
      db.close({ disableAutoOpen: true });
      db = await openStore('relaxed');
      writer.setDB(db);
    });
  }
};
const queue: { record: FileRecord; input: CommitInput; resolve: (o: CommitOutcome) => void }[] = [];
let pumping = false;

async function pump(): Promise<void> {
  pumping = true;
  try {
    while (queue.length) {
      let events = 0;
      let n = 0;
      while (
        n < queue.length &&
        n < MAX_BATCH_FILES &&
        (n === 0 || events + queue[n].input.h.length / 2 <= MAX_BATCH_EVENTS)
      ) {
        events += queue[n].input.h.length / 2;
        n++;
      }
      const batch = queue.splice(0, n);
      try {
        await ready;
        const results = await writer.commitMany(batch);
        batch.forEach((b, i) =>
          b.resolve(
            results[i].needsSha256
              ? { ok: true, result: results[i], input: b.input }
              : { ok: true, result: results[i] },
          ),
        );
      } catch (err) {
        const o: CommitOutcome =
          err instanceof QuotaError
            ? { ok: false, error: 'quota', needed: err.needed, message: err.message }
            : {
                ok: false,
                error: 'failed',
                message: `${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`,
              };
        for (const b of batch) b.resolve(o);
      }
    }
  } finally {
    pumping = false;
  }
}

/** Queues one prepared document; resolves once its transaction committed (or failed). */
function queueCommit(record: FileRecord, input: CommitInput): Promise<CommitOutcome> {
  return new Promise((resolve) => {
    queue.push({ record, input, resolve });
    if (!pumping) void pump();
  });
}

/** The buffers an outcome hands back: those of the input it returns (`needsSha256`), if any. */
function outcomeTransferables(o: CommitOutcome): ArrayBuffer[] {
  return o.ok && o.input ? commitTransferables(o.input) : [];
}

/** The writer worker's API (comlink), on its own port and on every port handed to `connect`. */
const api = {
  /** Queues one prepared document; resolves once its transaction committed (or failed). */
  async commit(record: FileRecord, input: CommitInput): Promise<CommitOutcome> {
    const o = await queueCommit(record, input);
    return Comlink.transfer(o, outcomeTransferables(o));
  },
  /**
   * Queues several prepared documents (in order: they are deduplicated against each other in this order) and
   * resolves with each one's outcome once all were committed or failed: one message for many small files
   * instead of one each (see ingest/worker.ts).
   */
  async commitMany(items: { record: FileRecord; input: CommitInput }[]): Promise<CommitOutcome[]> {
    const outcomes = await Promise.all(items.map((it) => queueCommit(it.record, it.input)));
    return Comlink.transfer(outcomes, [...new Set(outcomes.flatMap(outcomeTransferables))]);
  },
  /** Serves this API on `port` too (one per ingest worker, so documents need not pass through the page). */
  connect(port: MessagePort): void {
    Comlink.expose(api, port);
  },
  /** Cumulative ms per writer phase (lockwait, sync, dedupe+raw, idb). */
  phases(): Record<string, number> {
    return { ...PHASES };
  },
};

/** Type of the writer worker's API. */
export type WriterWorkerApi = typeof api;

Comlink.expose(api);
