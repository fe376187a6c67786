import * as Comlink from 'comlink';
import type { IngestTask, TaskProgress } from '../../lib/ingest/ingest-core';
import { statInputs, type InputFile } from '../../lib/ingest/gather';
import { IngestPool, UPDATED_MESSAGE, type PoolEnd } from '../../lib/ingest/pool';
import type { TaskOutcome } from '../../lib/ingest/worker';
import {
  deleteStore,
  FINAL_STATUSES,
  openStore,
  persistStore,
  STORE_CHANNEL,
  storeStorage,
  type FileRecord,
  type FileStatus,
  type KeyTrailDB,
  type StoreMessage,
  type StoreStorage,
} from '../../lib/store/db';
import { parseS3Path } from '../../lib/cloudtrail/s3path';
import type { IndexStatus, QueryWorkerApi } from '../../lib/query/worker';
import { StoreWrites } from '../../lib/store/writes';
import { Search } from './search.svelte';
import { formatRoute } from './route';

/** A row of the files view. */
export interface FileRow {
  id: number;
  path: string;
  status: FileStatus;
  size: number;
  events: number;
  newEvents: number;
  reason?: string;
  format?: string;
  conflicts: number;
  parentId?: number;
  /** Bytes read so far while pending. */
  bytesRead?: number;
}

/** Overall ingest state shown by `ingest-status`. */
export type IngestState = 'idle' | 'running' | 'done';

/** Runs `fn` holding the Web Lock `name` (every tab and worker of the origin); `fn` alone without Web Locks. */
function withLock<T>(name: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  const locks = navigator.locks;
  if (!locks?.request) return fn();
  return locks.request(name, signal ? { signal } : {}, fn) as Promise<T>;
}

/**
 * Runs `fn` holding the Web Lock `name`; if it is not granted within `waitMs` (a tab that hangs on to it),
 * takes it from its holder (`steal`).
 */
async function lockOrSteal<T>(name: string, waitMs: number, fn: () => Promise<T>): Promise<T> {
  const locks = navigator.locks;
  if (!locks?.request) return fn();
  try {
    return (await locks.request(name, { signal: AbortSignal.timeout(waitMs) }, fn)) as T;
  } catch (err) {
    if ((err as Error)?.name !== 'AbortError' && (err as Error)?.name !== 'TimeoutError') throw err;
    return (await locks.request(name, { steal: true }, fn)) as T;
  }
}

/** A random id for one Delete all (see `StoreMessage`). */
function wipeId(): string {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
}

function toRow(f: FileRecord): FileRow {
  return {
    id: f.id!,
    path: f.path,
    status: f.status,
    size: f.size,
    events: f.events,
    newEvents: f.newEvents,
    reason: f.reason,
    format: f.format,
    conflicts: f.conflicts,
    parentId: f.parentId,
  };
}

/**
 * The page's application state (Svelte 5 runes): files and their statuses, ingest progress, the stored
 * event count, storage use, and the query worker. Components read it and call its methods; they hold no
 * state of their own beyond what they show.
 */
export class App {
  /** The store (opened by `init`; opened again after Delete all). */
  db!: KeyTrailDB;
  ingest = $state<IngestState>('idle');
  /** Every file and archive member record, in the order added. */
  files = $state.raw<FileRow[]>([]);
  /** Distinct events stored. */
  eventCount = $state(0);
  /** Rows in the query index (equals eventCount once the index caught up). */
  index = $state<IndexStatus>({
    rows: 0,
    loading: true,
    fieldsLoaded: 0,
    fieldsTotal: 0,
    fieldsDeferred: false,
    minTime: NaN,
    maxTime: NaN,
    snapshotRows: 0,
  });
  /** Progress of the current run. */
  run = $state({ files: 0, filesDone: 0, bytes: 0, bytesDone: 0, eventsFound: 0, startedAt: 0, endedAt: 0 });
  /** A message for the user (errors, quota, skipped files). */
  message = $state<{ kind: 'info' | 'error'; text: string } | null>(null);
  /** Use, quota and persistence of the storage area holding the store (the header's "Storage" figure). */
  storage = $state<StoreStorage | null>(null);
  /** Per-worker ingest phase totals (ms) after the last run, for the benchmark. */
  lastPhases: Record<string, number>[] = [];
  /** Bumped whenever the index changes, so views re-run their queries. */
  indexVersion = $state(0);

  private pool: IngestPool | null = null;
  private byId = new Map<number, number>();
  private dirty = new Map<number, Partial<FileRow> & { id: number; path?: string }>();
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private bytesByTask = new Map<number, number>();
  private worker: Worker | null = null;
  query!: Comlink.Remote<QueryWorkerApi>;
  /** Moves to a view by its URL hash (`#keys?key=...`, `#events?q=...`); set by the root component. */
  navigate: (hash: string) => void = (hash) => {
    location.hash = hash;
  };
  /** Opens the events view with a query. */
  showQuery(q: string): void {
    this.navigate(formatRoute({ view: 'events', q, desc: false }));
  }

  /** Opens one event (by its row) in the events view. */
  async showEvent(row: number): Promise<void> {
    const id = await this.query.eventId(row);
    if (id) this.navigate(formatRoute({ view: 'events', q: `EventId:${id}`, desc: false, event: id }));
  }

  /** The events view's search (query, window, sort, open event, result). */
  readonly search = new Search(() => this.query);
  private channel = new BroadcastChannel(STORE_CHANNEL);
  /**
   * The page's writes to the store outside a commit (configuration documents, file statuses): each is announced
   * on the store channel (other tabs) and handed to this tab's query worker (its next read sees the write).
   */
  readonly writes = new StoreWrites(
    () => this.db,
    async (m) => {
      this.channel.postMessage(m);
      await this.query?.storeMessage(m);
      if (m.type === 'configs') this.indexVersion++;
    },
  );
  /** Resolves once the store is open (again, after a Delete all); every use of `db` outside init waits for it. */
  private storeReady: Promise<void> = Promise.resolve();
  private storeReopened: (() => void) | null = null;
  /** Aborts this tab's wait for the ingest lock (Cancel, or Delete all). */
  private lockWait: AbortController | null = null;
  /** Cancel was asked for the ingest being set up or running. */
  private cancelRequested = false;
  /** The Delete all this tab is doing, or last heard of. */
  private wipe = '';
  /** File records changed by other tabs or writers, to read again (all of them when `refreshAll`). */
  private refreshIds = new Set<number>();
  private refreshAll = false;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;

  /** Loads stored file records, marks files left pending by a closed page as interrupted, starts the index. */
  async init(): Promise<void> {
    // the query worker starts first: it opens the store and reads the index while this page opens the store
    this.worker = new Worker(new URL('../../lib/query/worker.ts', import.meta.url), {
      type: 'module',
      name: 'keytrail-query',
    });
    this.worker.addEventListener('error', (ev) => {
      const crashed = ev instanceof ErrorEvent && ev.message;
      this.message = {
        kind: 'error',
        text: crashed
          ? `The query worker stopped (${ev.message}): reload this tab.`
          : `${UPDATED_MESSAGE} (this tab's version of KeyTrail is no longer served).`,
      };
    });
    this.query = Comlink.wrap<QueryWorkerApi>(this.worker);
    const subscribed = this.query.subscribe(
      Comlink.proxy((s: IndexStatus) => {
        this.index = s;
        this.indexVersion++;
      }),
    );
    // the index starts loading now, while this page opens the store and reads its file records (it only reads
    // segments and the snapshot, which none of the steps below change)
    const opening = this.query.open();
    for (const p of [subscribed, opening]) p.catch(() => undefined); // awaited below, where a failure surfaces
    this.db = await openStore();
    this.channel.onmessage = (ev: MessageEvent<StoreMessage>) => void this.onStoreMessage(ev.data);
    await subscribed;
    const held = (await navigator.locks?.query?.())?.held?.some((l) => l.name === 'keytrail-ingest');
    if (!held) {
      await this.writes.interruptPending(
        'the page was closed or reloaded before this file was stored; drop it again to finish',
      );
    }
    const all = await this.db.files.toArray();
    this.files = all.map(toRow);
    this.reindex();
    await this.refreshCount();
    if (all.some((f) => f.status === 'interrupted')) {
      this.message = {
        kind: 'info',
        text: `${all.filter((f) => f.status === 'interrupted').length} file(s) were interrupted by a reload; drop them again to finish.`,
      };
    }
    void this.refreshStorage();
    this.index = await opening;
    this.indexVersion++;
    // Automation and benchmark hook (documented in the README): the app state and its query worker.
    (globalThis as { keytrail?: unknown }).keytrail = { app: this, query: this.query };
  }

  private reindex(): void {
    this.byId.clear();
    this.files.forEach((f, i) => this.byId.set(f.id, i));
  }

  /**
   * What other tabs and writers did to the store: commits and file record changes are read back (within a
   * few hundred ms), Delete all cancels this tab's ingest and then empties its state.
   */
  private async onStoreMessage(m: StoreMessage): Promise<void> {
    if (m.type === 'commit' || m.type === 'files') {
      const ids = m.type === 'commit' ? m.fileIds : m.ids;
      if (ids) for (const id of ids) this.refreshIds.add(id);
      else this.refreshAll = true;
      this.refreshTimer ??= setTimeout(() => void this.refreshFromStore(), 150);
    } else if (m.type === 'clearing') {
      if (m.wipe === this.wipe) return;
      this.wipe = m.wipe;
      this.storeReady = new Promise((resolve) => (this.storeReopened = resolve));
      this.cancelRequested = true;
      this.lockWait?.abort();
      this.pool?.cancel();
    } else if (m.type === 'cleared') {
      if (this.storeReopened === null && m.wipe === this.wipe) return; // this tab's own Delete all
      this.wipe = m.wipe;
      this.db.close({ disableAutoOpen: true });
      this.db = await openStore();
      await this.query.storeCleared(m.wipe);
      this.storeReopened?.();
      this.storeReopened = null;
      this.forgetAll();
      this.message = { kind: 'info', text: 'All data was deleted in another tab.' };
      this.index = await this.query.open();
      this.indexVersion++;
      void this.refreshStorage();
    }
  }

  /** Reads back the file records and the count that other tabs or writers changed. */
  private async refreshFromStore(): Promise<void> {
    this.refreshTimer = null;
    const all = this.refreshAll;
    const ids = [...this.refreshIds];
    this.refreshAll = false;
    this.refreshIds.clear();
    try {
      await this.storeReady;
      const wipe = this.wipe;
      const recs = all ? await this.db.files.toArray() : await this.db.files.bulkGet(ids);
      if (wipe !== this.wipe) return;
      for (const r of recs) if (r) this.update(r.id!, toRow(r));
      this.flush();
    } catch {
      /* the store is being deleted: the `cleared` message resets everything */
    }
  }

  /** Empties this tab's state after the store was deleted. */
  private forgetAll(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.files = [];
    this.byId.clear();
    this.dirty.clear();
    this.refreshIds.clear();
    this.refreshAll = false;
    this.eventCount = 0;
    if (this.ingest !== 'running') this.ingest = 'idle';
  }

  /** Re-reads the distinct event count from the store. */
  async refreshCount(): Promise<void> {
    try {
      this.eventCount = (await this.db.meta.get('stats'))?.events ?? 0;
    } catch {
      /* the store is being deleted */
    }
  }

  /** Reads the use, quota and persistence of the storage area the store lives in (its bucket, or the origin's). */
  async refreshStorage(): Promise<void> {
    try {
      this.storage = await storeStorage();
    } catch {
      /* the store is being deleted */
    }
  }

  private update(id: number, patch: Partial<FileRow> & { path?: string }): void {
    const prev = this.dirty.get(id);
    this.dirty.set(id, { ...prev, ...patch, id });
    this.flushTimer ??= setTimeout(() => this.flush(), 200);
  }

  private flush(): void {
    this.flushTimer = null;
    if (!this.dirty.size) return;
    const next = this.files.slice();
    for (const [id, patch] of this.dirty) {
      const i = this.byId.get(id);
      if (i !== undefined) next[i] = { ...next[i], ...patch };
      else {
        this.byId.set(id, next.length);
        next.push({ status: 'pending', size: 0, events: 0, newEvents: 0, conflicts: 0, path: '', ...patch } as FileRow);
      }
    }
    this.dirty.clear();
    this.files = next;
    void this.refreshCount();
  }

  /**
   * Ingests dropped or picked files. Files already stored (same path, size and lastModified, with a final
   * status) are skipped; interrupted or cancelled ones are read again. One tab ingests at a time (the
   * `keytrail-ingest` Web Lock, held from the file records' creation to the run's end): a tab whose files
   * wait for another tab's ingest says so, and Cancel ends the wait.
   */
  async addInputs(inputs: InputFile[]): Promise<void> {
    if (!inputs.length) return;
    if (this.ingest === 'running') {
      this.message = { kind: 'info', text: 'An ingest is already running; wait for it to finish or cancel it.' };
      return;
    }
    const before = { ingest: this.ingest, run: this.run };
    this.ingest = 'running';
    this.cancelRequested = false;
    this.message = null;
    this.run = {
      files: inputs.length,
      filesDone: 0,
      bytes: 0,
      bytesDone: 0,
      eventsFound: 0,
      startedAt: performance.now(),
      endedAt: 0,
    };
    // a picked file's first `size` is a synchronous stat: read in slices, the tab keeps answering meanwhile
    this.run.bytes = await statInputs(inputs);
    const wait = new AbortController();
    this.lockWait = wait;
    let granted = false;
    const waiting = setTimeout(() => {
      if (!granted)
        this.message = {
          kind: 'info',
          text: 'Waiting for the ingest in another KeyTrail tab to finish (Cancel stops waiting).',
        };
    }, 300);
    let ran = false;
    try {
      await withLock(
        'keytrail-ingest',
        async () => {
          granted = true;
          clearTimeout(waiting);
          if (this.lockWait === wait) this.lockWait = null;
          if (this.message?.text.startsWith('Waiting for the ingest')) this.message = null;
          await this.storeReady;
          if (this.cancelRequested) throw new DOMException('cancelled', 'AbortError');
          ran = await this.queueAndRun(inputs);
        },
        wait.signal,
      );
    } catch (err) {
      if ((err as Error)?.name === 'AbortError') {
        this.message = {
          kind: 'info',
          text: 'Ingest cancelled before it started; drop the files again to ingest them.',
        };
      } else {
        this.message = {
          kind: 'error',
          text: `Ingest stopped with an error (${(err as Error)?.message ?? String(err)}). Stored files are kept; drop the others again to retry.`,
        };
      }
    } finally {
      clearTimeout(waiting);
      if (this.lockWait === wait) this.lockWait = null;
      if ((this.ingest as IngestState) === 'running') {
        this.ingest = ran ? 'done' : before.ingest;
        if (!ran) this.run = before.run.files ? before.run : { ...this.run, endedAt: performance.now() };
      }
    }
  }

  /** Creates the file records of `inputs` not stored yet and ingests them (holding the ingest lock); false when nothing was left to read. */
  private async queueAndRun(inputs: InputFile[]): Promise<boolean> {
    void persistStore().then(() => this.refreshStorage());
    const fp = (i: InputFile) => `${i.path}|${i.file.size}|${i.file.lastModified}`;
    const unique = new Map<string, InputFile>();
    for (const i of inputs) unique.set(fp(i), i);
    const existing = new Map<string, FileRecord>();
    const keys = [...unique.keys()];
    for (let o = 0; o < keys.length; o += 5000) {
      for (const f of await this.db.files
        .where('fingerprint')
        .anyOf(keys.slice(o, o + 5000))
        .toArray())
        existing.set(f.fingerprint, f);
    }
    const tasks: IngestTask[] = [];
    const fresh: FileRecord[] = [];
    const freshInputs: InputFile[] = [];
    let skipped = 0;
    for (const [key, i] of unique) {
      const prior = existing.get(key);
      if (prior && FINAL_STATUSES.has(prior.status)) {
        skipped++;
        continue;
      }
      if (prior) {
        tasks.push({
          fileId: prior.id!,
          path: i.path,
          source: i.file,
          size: i.file.size,
          lastModified: i.file.lastModified,
          fingerprint: key,
        });
        await this.writes.setFileStatus([prior.id!], 'pending');
        this.update(prior.id!, { status: 'pending', reason: undefined });
        continue;
      }
      fresh.push({
        path: i.path,
        size: i.file.size,
        lastModified: i.file.lastModified,
        fingerprint: key,
        status: 'pending',
        events: 0,
        newEvents: 0,
        skipped: 0,
        conflicts: 0,
        bytes: 0,
        s3: parseS3Path(i.path),
      });
      freshInputs.push(i);
    }
    if (fresh.length) {
      const ids = await this.writes.addFiles(fresh);
      const rows = this.files.slice();
      ids.forEach((id, k) => {
        const r = fresh[k];
        this.byId.set(id, rows.length);
        rows.push(toRow({ ...r, id }));
        tasks.push({
          fileId: id,
          path: r.path,
          source: freshInputs[k].file,
          size: r.size,
          lastModified: r.lastModified,
          fingerprint: r.fingerprint,
        });
      });
      this.files = rows;
    }
    if (skipped) this.message = { kind: 'info', text: `${skipped} file(s) already loaded were skipped.` };
    if (!tasks.length) return false;
    // other tabs show the queued files at once
    this.channel.postMessage({ type: 'files', ids: tasks.map((t) => t.fileId) } satisfies StoreMessage);
    await this.runTasks(tasks);
    return true;
  }

  private async runTasks(tasks: IngestTask[]): Promise<void> {
    this.ingest = 'running';
    const bytes = tasks.reduce((s, t) => s + t.size, 0);
    this.run = {
      files: tasks.length,
      filesDone: 0,
      bytes,
      bytesDone: 0,
      eventsFound: 0,
      startedAt: performance.now(),
      endedAt: 0,
    };
    this.bytesByTask.clear();
    this.pool ??= new IngestPool();
    const pool = this.pool;
    await this.query.ingesting(true);
    let bytesDone = 0;
    let eventsFound = 0;
    let filesDone = 0;
    let progressTimer: ReturnType<typeof setTimeout> | null = null;
    const rowReads: Promise<unknown>[] = [];
    // files whose final record came with the progress (the rest, archives, are read back when they end)
    const final = new Set<number>();
    const pushRun = () => {
      progressTimer = null;
      let inFlight = 0;
      for (const b of this.bytesByTask.values()) inFlight += b;
      this.run = { ...this.run, filesDone, bytesDone: bytesDone + inFlight, eventsFound };
    };
    let end: PoolEnd;
    try {
      end = this.cancelRequested
        ? { kind: 'cancelled' }
        : await pool.run(tasks, {
            onProgress: (p: TaskProgress) => {
              this.bytesByTask.set(p.fileId, p.bytesRead);
              this.update(p.fileId, { bytesRead: p.bytesRead });
              for (const r of p.results) {
                this.update(r.fileId, {
                  path: r.path,
                  status: r.status,
                  events: r.events,
                  newEvents: r.newEvents,
                  reason: r.reason,
                  conflicts: r.conflicts,
                  format: r.format,
                  ...(r.fileId !== p.fileId ? { parentId: p.fileId } : {}),
                });
                if (r.fileId === p.fileId) final.add(r.fileId);
              }
              if (p.done) {
                this.bytesByTask.delete(p.fileId);
                bytesDone += p.bytesRead;
                eventsFound += p.events;
              }
              progressTimer ??= setTimeout(pushRun, 100);
            },
            onTaskEnd: (task: IngestTask, outcome: TaskOutcome) => {
              // shown with the next progress update, not at once: a new `run` per file re-rendered the
              // progress line for every file of a folder of thousands
              filesDone++;
              progressTimer ??= setTimeout(pushRun, 100);
              if (!outcome.ok) {
                const status: FileStatus =
                  outcome.error === 'cancelled' ? 'cancelled' : outcome.error === 'quota' ? 'cancelled' : 'corrupt';
                const reason =
                  outcome.error === 'cancelled'
                    ? 'cancelled before it was stored; drop it again to finish'
                    : outcome.message;
                void this.writes.setFileStatus([task.fileId], status, reason).catch(() => undefined);
                this.update(task.fileId, { status, reason });
              } else if (!final.has(task.fileId)) {
                rowReads.push(
                  this.db.files.get(task.fileId).then(
                    (f) => f && this.update(task.fileId, toRow(f)),
                    () => undefined,
                  ),
                );
              }
            },
          });
    } catch (err) {
      this.pool?.terminate();
      this.pool = null;
      end = { kind: 'failed', message: `${(err as Error)?.message ?? String(err)}` };
    }
    if (end.kind === 'failed' || end.kind === 'updated') this.pool = null; // its workers were terminated
    if (progressTimer) clearTimeout(progressTimer);
    pushRun();
    // every finished file's final row is read before the run reports done
    await Promise.all(rowReads);
    // Files not stored (cancel, quota, a worker that failed) go back to a retryable state.
    if (end.kind !== 'done') {
      const reason =
        end.kind === 'quota'
          ? 'not stored: storage is full'
          : end.kind === 'updated'
            ? 'not stored: KeyTrail was updated; reload this tab and drop it again'
            : end.kind === 'failed'
              ? 'not stored: the ingest stopped with an error; drop it again to retry'
              : 'cancelled before it was stored; drop it again to finish';
      try {
        const still = await this.writes.cancelPending(
          tasks.map((t) => t.fileId),
          reason,
        );
        for (const id of still) this.update(id, { status: 'cancelled', reason });
      } catch {
        /* the store is being deleted (Delete all) */
      }
    }
    this.channel.postMessage({ type: 'files', ids: tasks.map((t) => t.fileId) } satisfies StoreMessage);
    this.flush();
    await this.refreshCount();
    this.run = { ...this.run, endedAt: performance.now() };
    if (end.kind === 'quota') {
      this.message = {
        kind: 'error',
        text: `Ingest stopped: ${end.message}. Free disk space or delete data; at least ${Math.ceil(end.needed / 1024 / 1024)} MiB more is needed for the next file.`,
      };
    } else if (end.kind === 'updated') {
      this.message = {
        kind: 'error',
        text: `${end.message} (a worker script of this tab's version is no longer served). Stored files are kept; files not stored are marked cancelled: drop them again after the reload.`,
      };
    } else if (end.kind === 'failed') {
      this.message = {
        kind: 'error',
        text: `Ingest stopped with an error (${end.message}). Stored files are kept; drop the others again to retry.`,
      };
    } else if (end.kind === 'cancelled') {
      this.message = {
        kind: 'info',
        text: 'Ingest cancelled. Files not yet stored are marked cancelled; drop them again to finish.',
      };
    }
    void this.query.ingesting(false);
    this.lastPhases = end.kind === 'failed' || end.kind === 'updated' ? [] : await pool.phases().catch(() => []);
    this.ingest = 'done';
    void this.refreshStorage();
  }

  /** Cancels the running ingest (or this tab's wait for another tab's ingest). Always ends the ingest. */
  cancel(): void {
    this.cancelRequested = true;
    this.lockWait?.abort();
    this.pool?.cancel();
  }

  /** Loads the built-in sample data set (generated by scripts/gen-sample.mjs, served from the app's own origin). */
  async loadSample(): Promise<void> {
    const base = new URL('sample/', document.baseURI);
    const index = (await (await fetch(new URL('index.json', base))).json()) as { files: string[]; publicKeys?: string };
    const inputs: InputFile[] = [];
    // the sample's digests are signed with a test key: its list-public-keys output comes along
    for (const p of [...index.files, ...(index.publicKeys ? [index.publicKeys] : [])]) {
      const blob = await (await fetch(new URL(p, base))).blob();
      inputs.push({ file: new File([blob], p.split('/').pop()!, { lastModified: 0 }), path: `sample/${p}` });
    }
    await this.addInputs(inputs);
  }

  /**
   * Deletes every stored file, event, digest and index row, in every tab: tells every tab (`clearing`), which
   * cancels its ingest; waits for every ingest to end (the `keytrail-ingest` lock) and for any commit in flight
   * (`keytrail-commit`); closes this tab's connections (the other tabs' close when the deletion asks them);
   * deletes the database with `indexedDB.deleteDatabase`, then its storage bucket (which removes its files
   * from disk, see `deleteStore`); opens the new, empty store and tells every tab (`cleared`).
   */
  async deleteAll(): Promise<void> {
    const wipe = wipeId();
    this.wipe = wipe;
    this.storeReady = new Promise((resolve) => (this.storeReopened = resolve));
    this.channel.postMessage({ type: 'clearing', wipe } satisfies StoreMessage);
    await this.query.storeClosing(wipe);
    this.cancel();
    try {
      // an ingest that does not end within a few seconds (a tab that hangs) loses its lock
      await lockOrSteal('keytrail-ingest', 15_000, () =>
        lockOrSteal('keytrail-commit', 15_000, async () => {
          this.pool?.terminate();
          this.pool = null;
          this.db.close({ disableAutoOpen: true });
          await deleteStore(() => {
            this.message = { kind: 'info', text: 'Deleting: waiting for other KeyTrail tabs to close the store…' };
          });
          this.db = await openStore();
          await this.query.storeCleared(wipe);
          this.channel.postMessage({ type: 'cleared', wipe } satisfies StoreMessage);
        }),
      );
    } finally {
      this.storeReopened?.();
      this.storeReopened = null;
    }
    // every cache but the service worker's copy of the app itself (so it still opens offline)
    if ('caches' in globalThis)
      for (const k of await caches.keys()) if (!k.startsWith('workbox-precache')) await caches.delete(k);
    this.forgetAll();
    this.ingest = 'idle';
    this.message = { kind: 'info', text: 'All data deleted.' };
    this.index = await this.query.open();
    this.indexVersion++;
    void this.refreshStorage();
  }
}

/** The single application state of the page. */
export const app = new App();
