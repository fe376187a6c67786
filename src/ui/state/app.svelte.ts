import * as Comlink from 'comlink';
import type { IngestTask, TaskProgress } from '../../lib/ingest/ingest-core';
import type { InputFile } from '../../lib/ingest/gather';
import { IngestPool } from '../../lib/ingest/pool';
import type { TaskOutcome } from '../../lib/ingest/worker';
import { FINAL_STATUSES, openDB, STORE_CHANNEL, type FileRecord, type FileStatus, type StoreMessage } from '../../lib/store/db';
import { parseS3Path } from '../../lib/cloudtrail/s3path';
import type { IndexStatus, QueryWorkerApi } from '../../lib/query/worker';
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

function toRow(f: FileRecord): FileRow {
  return {
    id: f.id!, path: f.path, status: f.status, size: f.size, events: f.events, newEvents: f.newEvents,
    reason: f.reason, format: f.format, conflicts: f.conflicts, parentId: f.parentId,
  };
}

/**
 * The page's application state (Svelte 5 runes): files and their statuses, ingest progress, the stored
 * event count, storage use, and the query worker. Components read it and call its methods; they hold no
 * state of their own beyond what they show.
 */
export class App {
  readonly db = openDB();
  ingest = $state<IngestState>('idle');
  /** Every file and archive member record, in the order added. */
  files = $state.raw<FileRow[]>([]);
  /** Distinct events stored. */
  eventCount = $state(0);
  /** Rows in the query index (equals eventCount once the index caught up). */
  index = $state<IndexStatus>({ rows: 0, loading: true, fieldsLoaded: 0, fieldsTotal: 0, fieldsDeferred: false, minTime: NaN, maxTime: NaN });
  /** Progress of the current run. */
  run = $state({ files: 0, filesDone: 0, bytes: 0, bytesDone: 0, eventsFound: 0, startedAt: 0, endedAt: 0 });
  /** A message for the user (errors, quota, skipped files). */
  message = $state<{ kind: 'info' | 'error'; text: string } | null>(null);
  storage = $state<{ usage: number; quota: number; persisted: boolean } | null>(null);
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

  /** Loads stored file records, marks files left pending by a closed page as interrupted, starts the index. */
  async init(): Promise<void> {
    this.worker = new Worker(new URL('../../lib/query/worker.ts', import.meta.url), { type: 'module', name: 'keytrail-query' });
    this.query = Comlink.wrap<QueryWorkerApi>(this.worker);
    await this.query.subscribe(
      Comlink.proxy((s: IndexStatus) => {
        this.index = s;
        this.indexVersion++;
      }),
    );
    const held = (await navigator.locks?.query?.())?.held?.some((l) => l.name === 'keytrail-ingest');
    if (!held) {
      await this.db.files.where('status').equals('pending').modify({ status: 'interrupted', reason: 'the page was closed or reloaded before this file was stored; drop it again to finish' });
    }
    const all = await this.db.files.toArray();
    this.files = all.map(toRow);
    this.reindex();
    await this.refreshCount();
    if (all.some((f) => f.status === 'interrupted')) {
      this.message = { kind: 'info', text: `${all.filter((f) => f.status === 'interrupted').length} file(s) were interrupted by a reload; drop them again to finish.` };
    }
    void this.refreshStorage();
    this.index = await this.query.open();
    this.indexVersion++;
    // Automation and benchmark hook (documented in the README): the app state and its query worker.
    (globalThis as { keytrail?: unknown }).keytrail = { app: this, query: this.query };
  }

  private reindex(): void {
    this.byId.clear();
    this.files.forEach((f, i) => this.byId.set(f.id, i));
  }

  /** Re-reads the distinct event count from the store. */
  async refreshCount(): Promise<void> {
    this.eventCount = (await this.db.meta.get('stats'))?.events ?? 0;
  }

  /** Reads storage use and quota (navigator.storage.estimate) and whether storage is persistent. */
  async refreshStorage(): Promise<void> {
    if (!navigator.storage?.estimate) return;
    const est = await navigator.storage.estimate();
    const persisted = (await navigator.storage.persisted?.()) ?? false;
    this.storage = { usage: est.usage ?? 0, quota: est.quota ?? 0, persisted };
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
   * status) are skipped; interrupted or cancelled ones are read again.
   */
  async addInputs(inputs: InputFile[]): Promise<void> {
    if (!inputs.length) return;
    if (this.ingest === 'running') {
      this.message = { kind: 'info', text: 'An ingest is already running; wait for it to finish or cancel it.' };
      return;
    }
    this.message = null;
    void navigator.storage?.persist?.().then(() => this.refreshStorage());
    const fp = (i: InputFile) => `${i.path}|${i.file.size}|${i.file.lastModified}`;
    const unique = new Map<string, InputFile>();
    for (const i of inputs) unique.set(fp(i), i);
    const existing = new Map<string, FileRecord>();
    const keys = [...unique.keys()];
    for (let o = 0; o < keys.length; o += 5000) {
      for (const f of await this.db.files.where('fingerprint').anyOf(keys.slice(o, o + 5000)).toArray()) existing.set(f.fingerprint, f);
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
        tasks.push({ fileId: prior.id!, path: i.path, source: i.file, size: i.file.size, lastModified: i.file.lastModified, fingerprint: key });
        await this.db.files.update(prior.id!, { status: 'pending', reason: undefined });
        this.update(prior.id!, { status: 'pending', reason: undefined });
        continue;
      }
      fresh.push({
        path: i.path, size: i.file.size, lastModified: i.file.lastModified, fingerprint: key, status: 'pending',
        events: 0, newEvents: 0, skipped: 0, conflicts: 0, bytes: 0, s3: parseS3Path(i.path),
      });
      freshInputs.push(i);
    }
    if (fresh.length) {
      const ids = (await this.db.files.bulkAdd(fresh, { allKeys: true })) as number[];
      const rows = this.files.slice();
      ids.forEach((id, k) => {
        const r = fresh[k];
        this.byId.set(id, rows.length);
        rows.push(toRow({ ...r, id }));
        tasks.push({ fileId: id, path: r.path, source: freshInputs[k].file, size: r.size, lastModified: r.lastModified, fingerprint: r.fingerprint });
      });
      this.files = rows;
    }
    if (skipped) this.message = { kind: 'info', text: `${skipped} file(s) already loaded were skipped.` };
    if (!tasks.length) return;
    await this.runTasks(tasks);
  }

  private async runTasks(tasks: IngestTask[]): Promise<void> {
    this.ingest = 'running';
    const bytes = tasks.reduce((s, t) => s + t.size, 0);
    this.run = { files: tasks.length, filesDone: 0, bytes, bytesDone: 0, eventsFound: 0, startedAt: performance.now(), endedAt: 0 };
    this.bytesByTask.clear();
    this.pool ??= new IngestPool();
    const pool = this.pool;
    await this.query.ingesting(true);
    let bytesDone = 0;
    let eventsFound = 0;
    let progressTimer: ReturnType<typeof setTimeout> | null = null;
    const rowReads: Promise<unknown>[] = [];
    // files whose final record came with the progress (the rest, archives, are read back when they end)
    const final = new Set<number>();
    const pushRun = () => {
      progressTimer = null;
      let inFlight = 0;
      for (const b of this.bytesByTask.values()) inFlight += b;
      this.run = { ...this.run, bytesDone: bytesDone + inFlight, eventsFound };
    };
    const end = await new Promise<Awaited<ReturnType<IngestPool['run']>>>((resolve) => {
      const body = async () => {
        const r = await pool.run(tasks, {
          onProgress: (p: TaskProgress) => {
            this.bytesByTask.set(p.fileId, p.bytesRead);
            this.update(p.fileId, { bytesRead: p.bytesRead });
            for (const r of p.results) {
              this.update(r.fileId, { path: r.path, status: r.status, events: r.events, newEvents: r.newEvents, reason: r.reason, conflicts: r.conflicts, format: r.format, ...(r.fileId !== p.fileId ? { parentId: p.fileId } : {}) });
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
            this.run = { ...this.run, filesDone: this.run.filesDone + 1 };
            if (!outcome.ok) {
              const status: FileStatus = outcome.error === 'cancelled' ? 'cancelled' : outcome.error === 'quota' ? 'cancelled' : 'corrupt';
              const reason = outcome.error === 'cancelled' ? 'cancelled before it was stored; drop it again to finish' : outcome.message;
              void this.db.files.update(task.fileId, { status, reason });
              this.update(task.fileId, { status, reason });
            } else if (!final.has(task.fileId)) {
              rowReads.push(this.db.files.get(task.fileId).then((f) => f && this.update(task.fileId, toRow(f))));
            }
          },
        });
        resolve(r);
      };
      const guarded = () =>
        body().catch((err: unknown) => {
          this.pool?.terminate();
          this.pool = null;
          resolve({ kind: 'failed', message: `${(err as Error)?.message ?? String(err)}` });
        });
      if (navigator.locks?.request) void navigator.locks.request('keytrail-ingest', guarded);
      else void guarded();
    });
    if (progressTimer) clearTimeout(progressTimer);
    pushRun();
    // every finished file's final row is read before the run reports done
    await Promise.all(rowReads);
    // Files not stored (cancel or quota) go back to a retryable state.
    if (end.kind !== 'done') {
      const still = (await this.db.files.where('id').anyOf(tasks.map((t) => t.fileId)).filter((f) => f.status === 'pending').primaryKeys()) as number[];
      const reason =
        end.kind === 'quota' ? 'not stored: storage is full'
        : end.kind === 'failed' ? 'not stored: the ingest stopped with an error; drop it again to retry'
        : 'cancelled before it was stored; drop it again to finish';
      await this.db.files.bulkUpdate(still.map((key) => ({ key, changes: { status: 'cancelled' as FileStatus, reason } })));
      for (const id of still) this.update(id, { status: 'cancelled', reason });
    }
    this.flush();
    await this.refreshCount();
    this.run = { ...this.run, endedAt: performance.now() };
    if (end.kind === 'quota') {
      this.message = { kind: 'error', text: `Ingest stopped: ${end.message}. Free disk space or delete data; at least ${Math.ceil(end.needed / 1024 / 1024)} MiB more is needed for the next file.` };
    } else if (end.kind === 'failed') {
      this.message = { kind: 'error', text: `Ingest stopped with an error (${end.message}). Stored files are kept; drop the others again to retry.` };
    } else if (end.kind === 'cancelled') {
      this.message = { kind: 'info', text: 'Ingest cancelled. Files not yet stored are marked cancelled; drop them again to finish.' };
    }
    void this.query.ingesting(false);
    this.lastPhases = end.kind === 'failed' ? [] : await pool.phases();
    this.ingest = 'done';
    void this.refreshStorage();
  }

  /** Cancels the running ingest. */
  cancel(): void {
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

  /** Deletes every stored file, event, digest and index row. */
  async deleteAll(): Promise<void> {
    this.pool?.cancel();
    this.pool?.terminate();
    this.pool = null;
    await this.db.transaction('rw', this.db.tables, () => Promise.all(this.db.tables.map((t) => t.clear())));
    this.channel.postMessage({ type: 'cleared' } satisfies StoreMessage);
    await this.query.reset();
    // every cache but the service worker's copy of the app itself (so it still opens offline)
    if ('caches' in globalThis) for (const k of await caches.keys()) if (!k.startsWith('workbox-precache')) await caches.delete(k);
    this.files = [];
    this.byId.clear();
    this.dirty.clear();
    this.eventCount = 0;
    this.ingest = 'idle';
    this.message = { kind: 'info', text: 'All data deleted.' };
    this.index = await this.query.open();
    this.indexVersion++;
    void this.refreshStorage();
  }
}

/** The single application state of the page. */
export const app = new App();
