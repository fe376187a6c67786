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
 * Calls each ingest worker works on at once: a call reads one large input, or a group of up to
 * {@link GROUP_FILES} small ones (so up to 128 small files are in flight per worker). Small files are mostly
 * latency (reading, a message to the writer, a commit), so many of them in flight keep the worker busy and fill
 * the writer's batched transactions.
 */
const PER_WORKER = 4;
/** Inputs at least this large (bytes, as dropped) count as large. */
const LARGE_BYTES = 256 * 1024;
/**
 * Most small inputs handed to a worker in one call (see {@link groupTasks}). A call per file, with its
 * progress reports, cost the page and the browser more than reading the file: 10,000 single-event files took
 * ~50 s (2026-12-02).
 */
const GROUP_FILES = 32;
/** Most bytes (as dropped) of small inputs in one call. */
const GROUP_BYTES = 4 * 1024 * 1024;

/**
 * Groups tasks, in order, into the calls handed to the ingest workers: each large task (at least
 * {@link LARGE_BYTES}) alone, and runs of consecutive small ones together, up to {@link GROUP_FILES} tasks
 * and {@link GROUP_BYTES} bytes per group. A group's `size` is its largest task's (so a group is never large).
 */
export function groupTasks<T extends { size: number }>(tasks: readonly T[]): { tasks: T[]; size: number }[] {
  const groups: { tasks: T[]; size: number }[] = [];
  let open: { tasks: T[]; size: number; bytes: number } | null = null;
  for (const t of tasks) {
    if (t.size >= LARGE_BYTES) {
      open = null;
      groups.push({ tasks: [t], size: t.size });
      continue;
    }
    if (!open || open.tasks.length >= GROUP_FILES || open.bytes + t.size > GROUP_BYTES) {
      open = { tasks: [], size: 0, bytes: 0 };
      groups.push(open);
    }
    open.tasks.push(t);
    open.bytes += t.size;
    open.size = Math.max(open.size, t.size);
  }
  return groups.map((g) => ({ tasks: g.tasks, size: g.size }));
}

/**
 * How long (ms) a cancelled run waits for its workers to stop their tasks before it ends anyway, terminating
 * them (a worker busy in one long synchronous step, or one that never started, does not answer sooner).
 */
const CANCEL_GRACE_MS = 3000;

/** What a run says when a worker script could not be loaded: the site was updated since this tab loaded it. */
export const UPDATED_MESSAGE = 'KeyTrail was updated: reload this tab';

/** How a pool run ended. */
export type PoolEnd =
  | { kind: 'done' }
  | { kind: 'cancelled' }
  | { kind: 'quota'; needed: number; message: string }
  /** A worker could not be reached (it failed to start or crashed): files not stored are left to retry. */
  | { kind: 'failed'; message: string }
  /**
   * A worker script failed to load: this tab runs an older build whose files are no longer served (a 404
   * after an update). Only a reload helps; files not stored are left to retry.
   */
  | { kind: 'updated'; message: string };

/** What a worker's `error` event means: a script that failed to load (a plain Event) or an uncaught error. */
function workerFailure(ev: Event, name: string): PoolEnd {
  const message = ev instanceof ErrorEvent ? ev.message : '';
  return message
    ? { kind: 'failed', message: `the ${name} worker stopped: ${message}` }
    : { kind: 'updated', message: UPDATED_MESSAGE };
}

/** Callbacks of a pool run (called on the page's thread). */
export interface PoolCallbacks {
  onProgress(p: TaskProgress): void;
  /** A task ended (ok, failed or cancelled). */
  onTaskEnd(task: IngestTask, outcome: TaskOutcome): void;
}

/**
 * A pool of module Web Workers (comlink) that read, parse and index inputs, plus one writer worker that
 * deduplicates and commits what they prepared (each ingest worker talks to it over its own MessagePort).
 * Started lazily; each ingest worker takes {@link PER_WORKER} calls at a time from a shared queue (one large
 * file, or a group of small ones: {@link groupTasks}; so 100k files are never all open at once). The page only
 * hands over File handles (no bytes are copied between threads).
 */
export class IngestPool {
  private workers: { raw: Worker; api: Comlink.Remote<IngestWorkerApi> }[] = [];
  private writer: { raw: Worker; api: Comlink.Remote<WriterWorkerApi> } | null = null;
  private connecting: Promise<unknown> | null = null;
  private cancelled = false;
  /** Ends the current run at once (a worker failed, or a cancel was not answered in time). */
  private stopRun: ((end: PoolEnd) => void) | null = null;
  /** How the current workers failed, when one did (they are then unusable). */
  private broken: PoolEnd | null = null;
  private cancelTimer: ReturnType<typeof setTimeout> | null = null;
  /** The current run stopped on the storage quota (its cancel, if it times out, still ends as `quota`). */
  private quotaEnd: PoolEnd | null = null;

  /** Watches a new worker: a script that fails to load, or an uncaught error, ends the run with a message. */
  private watch(raw: Worker, name: string): void {
    const onError = (ev: Event) => {
      this.broken ??= workerFailure(ev, name);
      this.stopRun?.(this.broken);
    };
    raw.addEventListener('error', onError);
    raw.addEventListener('messageerror', onError);
  }

  /** @param size number of workers; default `navigator.hardwareConcurrency` clamped to 1..4. */
  constructor(private size = Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2))) {}

  private start(): Promise<unknown> {
    if (!this.writer) {
      const raw = new Worker(new URL('../store/writer-worker.ts', import.meta.url), {
        type: 'module',
        name: 'keytrail-writer',
      });
      this.watch(raw, 'store writer');
      this.writer = { raw, api: Comlink.wrap<WriterWorkerApi>(raw) };
    }
    const writer = this.writer;
    const added: Promise<unknown>[] = [];
    while (this.workers.length < this.size) {
      const raw = new Worker(new URL('./worker.ts', import.meta.url), {
        type: 'module',
        name: `keytrail-ingest-${this.workers.length}`,
      });
      this.watch(raw, 'ingest');
      const w = { raw, api: Comlink.wrap<IngestWorkerApi>(raw) };
      this.workers.push(w);
      const ch = new MessageChannel();
      added.push(
        writer.api.connect(Comlink.transfer(ch.port1, [ch.port1])),
        w.api.connectWriter(Comlink.transfer(ch.port2, [ch.port2])),
      );
    }
    if (added.length) this.connecting = Promise.all(added);
    return this.connecting ?? Promise.resolve();
  }

  /**
   * Runs every task; resolves when all ended, or when the run was cancelled, hit the storage quota, or a
   * worker failed (a script that does not load, a crash): it never hangs on a worker that does not answer.
   * After a failure, or a cancel the workers did not answer in time, the workers are terminated (the next run
   * starts new ones).
   */
  async run(tasks: IngestTask[], cb: PoolCallbacks): Promise<PoolEnd> {
    this.cancelled = false;
    this.quotaEnd = null;
    const stopped = new Promise<PoolEnd>((resolve) => (this.stopRun = resolve));
    let end: PoolEnd;
    try {
      const work = this.runTasks(tasks, cb);
      work.catch(() => undefined); // a run cut short may still fail later: nobody waits for it any more
      end = await Promise.race([work, stopped]);
    } catch (err) {
      end = { kind: 'failed', message: `${(err as Error)?.message ?? String(err)}` };
    }
    this.stopRun = null;
    if (this.cancelTimer) clearTimeout(this.cancelTimer);
    this.cancelTimer = null;
    // broken workers are not used again (the next run starts new ones)
    if (end.kind === 'failed' || end.kind === 'updated') this.terminate();
    return end;
  }

  private async runTasks(tasks: IngestTask[], cb: PoolCallbacks): Promise<PoolEnd> {
    if (this.broken) return this.broken;
    await this.start();
    if (this.cancelled) return { kind: 'cancelled' };
    await Promise.all(this.workers.map((w) => w.api.resume()));
    let end: PoolEnd = { kind: 'done' };
    const progress = Comlink.proxy((p: TaskProgress) => cb.onProgress(p));
    const ended = (task: IngestTask, outcome: TaskOutcome) => {
      cb.onTaskEnd(task, outcome);
      if (!outcome.ok && outcome.error === 'quota' && end.kind === 'done') {
        end = { kind: 'quota', needed: outcome.needed, message: outcome.message };
        this.quotaEnd = end;
        this.cancel();
      }
    };
    await shareTasks(
      groupTasks(tasks),
      this.workers,
      async (w, group) => {
        if (group.tasks.length === 1 && group.size >= LARGE_BYTES) {
          ended(group.tasks[0], await w.api.ingest(group.tasks[0], progress));
          return;
        }
        const got = await w.api.ingestMany(group.tasks);
        got.forEach(({ outcome, last }, k) => {
          if (last) cb.onProgress(last);
          ended(group.tasks[k], outcome);
        });
      },
      () => this.cancelled || end.kind !== 'done',
    );
    if (end.kind === 'done' && this.cancelled) end = { kind: 'cancelled' };
    return end;
  }

  /** Each ingest worker's cumulative phase timings (ms), then the writer worker's. */
  async phases(): Promise<Record<string, number>[]> {
    return Promise.all([
      ...this.workers.map((w) => w.api.phases()),
      ...(this.writer ? [this.writer.api.phases()] : []),
    ]);
  }

  /**
   * Stops the run: tasks in progress end as cancelled (nothing half-committed), queued ones are not started.
   * Workers that do not answer within {@link CANCEL_GRACE_MS} are terminated and the run ends anyway.
   */
  cancel(): void {
    this.cancelled = true;
    for (const w of this.workers) void w.api.cancel().catch(() => undefined);
    if (this.stopRun && !this.cancelTimer) {
      const stop = this.stopRun;
      this.cancelTimer = setTimeout(() => {
        this.cancelTimer = null;
        stop(this.quotaEnd ?? { kind: 'cancelled' });
        this.terminate();
      }, CANCEL_GRACE_MS);
    }
  }

  /** Ends every worker (their in-memory dedupe sets go with them); a run in progress ends as cancelled. */
  terminate(): void {
    for (const w of this.workers) w.raw.terminate();
    this.workers = [];
    this.writer?.raw.terminate();
    this.writer = null;
    this.connecting = null;
    this.broken = null;
    this.stopRun?.({ kind: 'cancelled' });
  }
}

/**
 * Runs `tasks` (in order; in the pool, the calls of {@link groupTasks}) on `workers` from one shared queue: each
 * worker runs up to {@link PER_WORKER} tasks at once, of which at most {@link LARGE_PER_WORKER} large ones
 * ({@link LARGE_BYTES} and over). A worker takes a task only when it can start it at once, so a worker that is
 * free never waits while another holds a backlog (before 2026-12-01 each of a worker's 32 slots took a task first
 * and then waited for a large slot: with 20 files, one worker took all 20 and the other stayed idle; with 100,
 * the last third ran on one worker).
 * Resolves when every task taken has ended and no more are taken (the queue is empty, or `stop()` is true).
 * @param run runs one task on one worker; a rejection rejects the whole call (the pool then ends the run).
 */
export async function shareTasks<W, T extends { size: number }>(
  tasks: readonly T[],
  workers: readonly W[],
  run: (worker: W, task: T) => Promise<void>,
  stop: () => boolean,
): Promise<void> {
  let next = 0;
  const loop = async (w: W, slots: { running: number; waiting: (() => void)[] }) => {
    try {
      for (;;) {
        // wait until this worker can start the next task (a large one needs a free large slot)
        while (!stop() && next < tasks.length && tasks[next].size >= LARGE_BYTES && slots.running >= LARGE_PER_WORKER)
          await new Promise<void>((r) => slots.waiting.push(r));
        if (stop() || next >= tasks.length) return;
        const task = tasks[next++];
        const large = task.size >= LARGE_BYTES;
        if (large) slots.running++;
        try {
          await run(w, task);
        } finally {
          if (large) {
            slots.running--;
            slots.waiting.shift()?.();
          }
        }
      }
    } finally {
      // a slot that stops taking tasks hands its turn on, so that no other waits for ever
      slots.waiting.shift()?.();
    }
  };
  await Promise.all(
    workers.flatMap((w) => {
      const slots = { running: 0, waiting: [] as (() => void)[] };
      return Array.from({ length: PER_WORKER }, () => loop(w, slots));
    }),
  );
}
