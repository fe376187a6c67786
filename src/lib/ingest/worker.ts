/// <reference lib="webworker" />
import * as Comlink from 'comlink';
import { openDB } from '../store/db';
import { QuotaError, StoreWriter } from '../store/writer';
import { ingestTask, type IngestTask, type TaskProgress } from './ingest-core';
import { CancelledError } from './open';
import { PHASES } from './phases';

/** Outcome of one task as the pool sees it. */
export type TaskOutcome =
  | { ok: true }
  | { ok: false; error: 'quota'; needed: number; message: string }
  | { ok: false; error: 'cancelled' }
  | { ok: false; error: 'failed'; message: string };

const db = openDB();
const writer = new StoreWriter(db);
let cancel = { cancelled: false };

/** The ingest worker's API, called by the pool through comlink. */
const api = {
  /** Reads and commits one input; progress is reported through `onProgress` (a comlink proxy). */
  async ingest(task: IngestTask, onProgress: (p: TaskProgress) => void): Promise<TaskOutcome> {
    try {
      await ingestTask(db, writer, task, onProgress, cancel);
      return { ok: true };
    } catch (err) {
      if (err instanceof CancelledError) return { ok: false, error: 'cancelled' };
      if (err instanceof QuotaError) return { ok: false, error: 'quota', needed: err.needed, message: err.message };
      return { ok: false, error: 'failed', message: `${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}` };
    }
  },
  /** Cancels the task in progress (and any started before `resume`). */
  cancel(): void {
    cancel.cancelled = true;
  },
  /** Cumulative ms per ingest phase in this worker (read+gunzip, decode, parse, hash, columns, idb...). */
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
