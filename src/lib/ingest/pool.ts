import * as Comlink from 'comlink';
import type { IngestTask, TaskProgress } from './ingest-core';
import type { IngestWorkerApi, TaskOutcome } from './worker';

/** Tasks each worker works on at once (see `run`). */
const PER_WORKER = 1;

/** How a pool run ended. */
export type PoolEnd = { kind: 'done' } | { kind: 'cancelled' } | { kind: 'quota'; needed: number; message: string };

/** Callbacks of a pool run (called on the page's thread). */
export interface PoolCallbacks {
  onProgress(p: TaskProgress): void;
  /** A task ended (ok, failed or cancelled). */
  onTaskEnd(task: IngestTask, outcome: TaskOutcome): void;
}

/**
 * A pool of module Web Workers (comlink) that read, parse and store inputs. Started lazily; each worker takes
 * one task at a time from a shared queue (so 100k files are never all open at once). The page only hands
 * over File handles (no bytes are copied between threads).
 */
export class IngestPool {
  private workers: { raw: Worker; api: Comlink.Remote<IngestWorkerApi> }[] = [];
  private cancelled = false;

  /** @param size number of workers; default `navigator.hardwareConcurrency` clamped to 1..4. */
  constructor(private size = Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2))) {}

  private start(): void {
    while (this.workers.length < this.size) {
      const raw = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: `keytrail-ingest-${this.workers.length}` });
      this.workers.push({ raw, api: Comlink.wrap<IngestWorkerApi>(raw) });
    }
  }

  /** Runs every task; resolves when all ended, or when the run was cancelled or hit the storage quota. */
  async run(tasks: IngestTask[], cb: PoolCallbacks): Promise<PoolEnd> {
    this.start();
    this.cancelled = false;
    await Promise.all(this.workers.map((w) => w.api.resume()));
    let next = 0;
    let end: PoolEnd = { kind: 'done' };
    const progress = Comlink.proxy((p: TaskProgress) => cb.onProgress(p));
    const loop = async (w: (typeof this.workers)[number]) => {
      while (!this.cancelled && end.kind === 'done' && next < tasks.length) {
        const task = tasks[next++];
        const outcome = await w.api.ingest(task, progress);
        cb.onTaskEnd(task, outcome);
        if (!outcome.ok && outcome.error === 'quota' && end.kind === 'done') {
          end = { kind: 'quota', needed: outcome.needed, message: outcome.message };
          this.cancel();
        }
      }
    };
    // One task at a time per worker: measured at 1M events, two in flight per worker were no faster (the
    // commits serialise on IndexedDB) and held twice the memory.
    await Promise.all(this.workers.flatMap((w) => Array.from({ length: PER_WORKER }, () => loop(w))));
    if (end.kind === 'done' && this.cancelled) end = { kind: 'cancelled' };
    return end;
  }

  /** Each worker's cumulative ingest phase timings (ms). */
  async phases(): Promise<Record<string, number>[]> {
    return Promise.all(this.workers.map((w) => w.api.phases()));
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
  }
}
