import * as Comlink from 'comlink';
import type { IngestTask, TaskProgress } from './ingest-core';
import type { WriterWorkerApi } from '../store/writer-worker';
import type { IngestWorkerApi, TaskOutcome } from './worker';

/**
 * Large inputs each ingest worker works on at once: two, so that one file is parsed while the previous one
 * waits for its commit in the writer worker (more measured no faster at 1M events, and held more memory).
 */
const LARGE_PER_WORKER = 2;
/**
 * Inputs of any size each ingest worker works on at once. Small files are mostly latency (reading, a
 * message to the writer, a commit), so more of them in flight keep the worker busy and fill the writer's
 * batched transactions.
 */
const PER_WORKER = 32;
/** Inputs at least this large (bytes, as dropped) count as large. */
const LARGE_BYTES = 256 * 1024;

/** How a pool run ended. */
export type PoolEnd =
  | { kind: 'done' }
  | { kind: 'cancelled' }
  | { kind: 'quota'; needed: number; message: string }
  /** A worker could not be reached (it failed to start or crashed): files not stored are left to retry. */
  | { kind: 'failed'; message: string };

/** Callbacks of a pool run (called on the page's thread). */
export interface PoolCallbacks {
  onProgress(p: TaskProgress): void;
  /** A task ended (ok, failed or cancelled). */
  onTaskEnd(task: IngestTask, outcome: TaskOutcome): void;
}

/**
 * A pool of module Web Workers (comlink) that read, parse and index inputs, plus one writer worker that
 * deduplicates and commits what they prepared (each ingest worker talks to it over its own MessagePort).
 * Started lazily; each ingest worker takes {@link PER_WORKER} tasks at a time from a shared queue (so 100k
 * files are never all open at once). The page only hands over File handles (no bytes are copied between
 * threads).
 */
export class IngestPool {
  private workers: { raw: Worker; api: Comlink.Remote<IngestWorkerApi> }[] = [];
  private writer: { raw: Worker; api: Comlink.Remote<WriterWorkerApi> } | null = null;
  private connecting: Promise<unknown> | null = null;
  private cancelled = false;

  /** @param size number of workers; default `navigator.hardwareConcurrency` clamped to 1..4. */
  constructor(private size = Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2))) {}

  private start(): Promise<unknown> {
    if (!this.writer) {
      const raw = new Worker(new URL('../store/writer-worker.ts', import.meta.url), { type: 'module', name: 'keytrail-writer' });
      this.writer = { raw, api: Comlink.wrap<WriterWorkerApi>(raw) };
    }
    const writer = this.writer;
    const added: Promise<unknown>[] = [];
    while (this.workers.length < this.size) {
      const raw = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: `keytrail-ingest-${this.workers.length}` });
      const w = { raw, api: Comlink.wrap<IngestWorkerApi>(raw) };
      this.workers.push(w);
      const ch = new MessageChannel();
      added.push(writer.api.connect(Comlink.transfer(ch.port1, [ch.port1])), w.api.connectWriter(Comlink.transfer(ch.port2, [ch.port2])));
    }
    if (added.length) this.connecting = Promise.all(added);
    return this.connecting ?? Promise.resolve();
  }

  /** Runs every task; resolves when all ended, or when the run was cancelled or hit the storage quota. */
  async run(tasks: IngestTask[], cb: PoolCallbacks): Promise<PoolEnd> {
    await this.start();
    this.cancelled = false;
    await Promise.all(this.workers.map((w) => w.api.resume()));
    let next = 0;
    let end: PoolEnd = { kind: 'done' };
    const progress = Comlink.proxy((p: TaskProgress) => cb.onProgress(p));
    const large = new Map<(typeof this.workers)[number], { running: number; waiting: (() => void)[] }>();
    for (const w of this.workers) large.set(w, { running: 0, waiting: [] });
    const loop = async (w: (typeof this.workers)[number]) => {
      const slots = large.get(w)!;
      while (!this.cancelled && end.kind === 'done' && next < tasks.length) {
        const task = tasks[next++];
        const isLarge = task.size >= LARGE_BYTES;
        if (isLarge) {
          while (slots.running >= LARGE_PER_WORKER) await new Promise<void>((r) => slots.waiting.push(r));
          if (this.cancelled || end.kind !== 'done') {
            // left pending: the run marks it cancelled
            slots.waiting.shift()?.();
            break;
          }
          slots.running++;
        }
        const outcome = await w.api.ingest(task, progress).finally(() => {
          if (!isLarge) return;
          slots.running--;
          slots.waiting.shift()?.();
        });
        cb.onTaskEnd(task, outcome);
        if (!outcome.ok && outcome.error === 'quota' && end.kind === 'done') {
          end = { kind: 'quota', needed: outcome.needed, message: outcome.message };
          this.cancel();
        }
      }
    };
    await Promise.all(this.workers.flatMap((w) => Array.from({ length: PER_WORKER }, () => loop(w))));
    if (end.kind === 'done' && this.cancelled) end = { kind: 'cancelled' };
    return end;
  }

  /** Each ingest worker's cumulative phase timings (ms), then the writer worker's. */
  async phases(): Promise<Record<string, number>[]> {
    return Promise.all([...this.workers.map((w) => w.api.phases()), ...(this.writer ? [this.writer.api.phases()] : [])]);
  }

  /** Stops the run: tasks in progress end as cancelled (nothing half-committed), queued ones are not started. */
  cancel(): void {
    this.cancelled = true;
    for (const w of this.workers) void w.api.cancel();
  }

  /** Ends every worker (their in-memory dedupe sets go with them). */
  terminate(): void {
    for (const w of this.workers) w.raw.terminate();
    this.workers = [];
    this.writer?.raw.terminate();
    this.writer = null;
    this.connecting = null;
  }
}
