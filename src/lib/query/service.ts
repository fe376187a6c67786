/**
 * The query service: the in-memory index of the store's events (columns, then field stores), the current query
 * result, and the analyses (see ../analysis/registry.ts), kept in one object. The query worker (worker.ts)
 * creates one and exposes it with comlink; tests create one in Node over fake-indexeddb.
 *
 * State changes only through store messages ({@link StoreMessage}, heard on {@link STORE_CHANNEL} or handed
 * over with {@link QueryService.storeMessage}): a commit loads the new chunks and bumps the index version, a
 * `configs` message bumps it, Delete all drops everything. Analyses are memoised on that version.
 */
import { openStore, STORE_CHANNEL, type FileRecord, type KeyTrailDB, type StoreMessage } from '../store/db';
import type { StoredFieldStore } from '../codec/fields';
import { RawReader } from '../store/raw';
import { stringHash } from '../codec/hash';
import { prettyJson } from '../codec/exact';
import { ColumnarIndex, firstRowsByTime, SNAPSHOT_PARTS, type SnapshotPart } from './columnar';
import { Engine, needsFieldIndex, queryParts, usesFindings } from './engine';
import { analyzePrincipals, keyDetail } from '../analysis/kms';
import { correlationView, type CorrelationView } from '../analysis/crossAccount';
import type { IntegrityReport } from '../analysis/integrity';
import type { ClusterSummary, Finding, KeyDetail, KeySummary, PrincipalSummary } from '../analysis/types';
import {
  AnalysisCache,
  type AnalysisInput,
  type CoverageResult,
  type SigmaPlaceholder,
  type SigmaResult,
} from '../analysis/registry';
import { compareFindings } from '../analysis/severity';
import { classifyCaller, type CallerClass } from '../cloudtrail/identity';
import { computeFacets, computeHistogram, FACETS, type FacetResult, type Histogram } from './facets';
import { FieldIndex } from './fieldIndex';
import { parseQuery, QuerySyntaxError, type QueryNode } from './parser';
import { ROW_VIEW_COLUMNS, rowView, type RowView } from './rowView';
import { exportRows, type ResultFormat } from '../export/result';
import { readSnapshotCore, readSnapshotPart, writeSnapshot } from './snapshot';

export type { RowView } from './rowView';
export type { CoverageResult, SigmaPlaceholder, SigmaResult } from '../analysis/registry';

/** A stored event fetched for the detail view. */
export interface EventDetail {
  row: number;
  /**
   * The event's JSON as stored, pretty-printed (2-space indent) token by token: numbers as written
   * (`9007199254740993`, `1e400`), repeated keys all shown in order.
   */
  json: string;
  /** How the caller is classified (identity type, credentials, MFA, console/CLI/SDK/service). */
  caller: CallerClass | null;
  file: Pick<FileRecord, 'id' | 'path' | 'status' | 's3'> | null;
}

/** Index status. */
export interface IndexStatus {
  rows: number;
  /** True while the columns are loading from the store (queries wait). */
  loading: boolean;
  /** Chunks whose generic field index is loaded, of all chunks. */
  fieldsLoaded: number;
  fieldsTotal: number;
  /**
   * True while an ingest in this page runs and some field stores wait for its end (a query that needs them
   * loads them at once).
   */
  fieldsDeferred: boolean;
  /** Time range of all rows, epoch ms (NaN when empty). */
  minTime: number;
  maxTime: number;
  /**
   * Rows covered by the stored index snapshot as far as this context knows (read at load, or written by it;
   * see query/snapshot.ts): a reload reads these rows' columns from the snapshot, not from their segments.
   */
  snapshotRows: number;
}

/**
 * Where the time of loading the index went in this context (for `npm run bench`): ms, and what was read.
 * Read times are waits for IndexedDB (reading and structured clone, in the store's and this thread); add
 * times are this thread's work merging what was read into the index.
 */
export interface LoadStats {
  snapshotReadMs: number;
  snapshotRestoreMs: number;
  /** Rows taken from the snapshot. */
  snapshotRows: number;
  /** Parts of the snapshot read ({@link SnapshotPart}: a string column, file ids, eventID hashes). */
  snapshotPartsRead: number;
  /**
   * Parts of the snapshot restored when the first query of this context was evaluated (-1 before it): a query
   * waits only for the parts it reads (query/engine.ts `queryParts`).
   */
  snapshotPartsAtFirstQuery: number;
  /**
   * When this context began, epoch ms with fraction: in the query worker, when the worker started (its
   * `performance.timeOrigin`, before its script was read).
   */
  contextStartAt: number;
  /** When the store was first open in this context, epoch ms with fraction; 0 before. */
  storeOpenAt: number;
  /** When the first load had the store open and began reading, epoch ms with fraction; 0 before. */
  loadStartAt: number;
  /** When the snapshot's core was read and decoded (before it was restored), epoch ms with fraction; 0 before. */
  snapshotCoreReadAt: number;
  /** When the snapshot's core was restored (every row counted), epoch ms with fraction; 0 before. */
  snapshotCoreAt: number;
  /** When each part of the snapshot was restored, epoch ms with fraction, in the order read. */
  snapshotPartAt: Partial<Record<SnapshotPart, number>>;
  segmentsReadMs: number;
  segmentsAddMs: number;
  segmentsRead: number;
  fieldsReadMs: number;
  fieldsAddMs: number;
  /** Wall-clock time of the field store loads (reads overlap). */
  fieldsWallMs: number;
  fieldsRead: number;
  /**
   * Bytes of WebAssembly memory holding case-folded values for the free-text kernel (query/textSearch.ts): 0
   * before the first free-text search, or when the engine cannot run the kernel (free text then uses `indexOf`).
   */
  textArenaBytes: number;
  /** Time taking snapshots (encoding, in this thread) and writing them (waiting for IndexedDB). */
  snapshotEncodeMs: number;
  snapshotWriteMs: number;
  snapshotWrites: number;
}

/** A query to run: text plus the time window and sort. */
export interface QueryRequest {
  q: string;
  /** Inclusive start, epoch ms. */
  from?: number;
  /** Exclusive end, epoch ms. */
  to?: number;
  descending?: boolean;
  /** "Now" for `last:` (epoch ms); default the worker's clock. */
  now?: number;
}

/** Outcome of {@link QueryService.run}. On a syntax error the previous result stays current. */
export type QueryResponse =
  | {
      ok: true;
      total: number;
      ms: number;
      warnings: string[];
      /** Matching events a time window left out because their eventTime cannot be read (0 without a window). */
      untimed: number;
    }
  | { ok: false; message: string; pos: number; end: number };

/** How a {@link QueryService} reaches the store. */
export interface QueryServiceOptions {
  /** Opens the store (at start and again after Delete all); default {@link openStore}. */
  open?: () => Promise<KeyTrailDB>;
  /** Listen for store messages on {@link STORE_CHANNEL} (default true). */
  listen?: boolean;
  /** Delay before status listeners hear of a change, ms (default 250: at most 4 calls/s). */
  notifyMs?: number;
  /**
   * How long the index must stay idle (no load, no ingest in this page) before its snapshot is written, ms
   * (default 2000; `Infinity`: only {@link QueryService.saveSnapshot} writes it).
   */
  snapshotDelayMs?: number;
  /** Read and write the index snapshot (default true; false: the index is always built from the segments). */
  snapshots?: boolean;
}

/**
 * The order a reload reads a snapshot's parts in (after the core, and after any part a query waits for): the
 * events table's columns, the facets', the file ids (event details), then the rest.
 */
const PART_ORDER: readonly SnapshotPart[] = [
  ...new Set<SnapshotPart>([...ROW_VIEW_COLUMNS, ...FACETS.map((f) => f.col), 'file', ...SNAPSHOT_PARTS]),
];

/**
 * A page ending within the first this many rows of a result answered before the rows' time order was known is
 * chosen from the matches without ordering them all (`firstRowsByTime`, query/columnar.ts): the events view's
 * first screen.
 */
const FIRST_ROWS = 1000;

/** Longest slice of the background case-folding for free text ({@link QueryService}), ms. */
const TEXT_FOLD_SLICE_MS = 25;
/** How long the background case-folding waits before looking again while the index is busy, ms. */
const TEXT_FOLD_RETRY_MS = 500;

/** The index, the current result and the analyses of one context (the query worker). */
export class QueryService {
  private db!: KeyTrailDB;
  private raw!: RawReader;
  private readonly ix = new ColumnarIndex();
  private readonly fields = new FieldIndex();
  private readonly engine: Engine;
  private readonly analyses: AnalysisCache;
  /**
   * The index version: bumped whenever the index or the store's analysis inputs change (chunks loaded, field
   * stores loaded, configuration documents written, store wiped). Analyses are memoised on it.
   */
  private indexVersion = 0;
  /** Resolves once the store is open (at start, and again after Delete all); reads wait for it. */
  private reopening: Promise<void> | null = null;
  private loading: Promise<void> | null = null;
  /** Resolves once the current load has restored a snapshot's core, or has ended (see {@link ensureParts}). */
  private coreReady: Promise<void> = Promise.resolve();
  /**
   * While the parts of a snapshot that covers every stored segment are read after its core: the parts queries
   * wait for (read first) and the waiters of each part (told true once it is restored, false when the load gave
   * up on the snapshot or the store was wiped).
   */
  private partLoad: {
    wanted: SnapshotPart[];
    waiters: Map<SnapshotPart, ((restored: boolean) => void)[]>;
  } | null = null;
  private fieldsLoading: Promise<void> | null = null;
  /**
   * Chunk ids whose field store is loaded or being read: each is read once, however many loads (start-up,
   * every query's `ensureLoaded`, commits, the end of an ingest) ask for it.
   */
  private fieldsRequested = new Set<number>();
  private fieldsTotal = 0;
  /**
   * Row ids of the current result in its order, once put in it ({@link orderedResult}); read only (it may be the
   * index's own `sortedByTime()`).
   */
  private result: Uint32Array = new Uint32Array(0);
  /**
   * The current result of a query answered before the rows' time order was known (a reload's first queries, while
   * the snapshot's parts load: the order of 5M rows takes ~0.3 s with its memory's page faults, and is taken once
   * the parts are in, not before the first answer): the engine's bitmap (`bm[row]` 1 for a match, over the rows
   * the index had when the query ran), its count, its direction, and its rows in row order once a facet or the
   * histogram asked for them (a number N: every row 0..N-1), and its first {@link FIRST_ROWS} rows in order once a
   * page asked for them (chosen once, not at every page). The count, the facets, the histogram and those first
   * rows come from it; the rows are ordered only when a later page, an export or an event's position asks
   * ({@link orderedResult}). Null otherwise: `result` holds the rows in order.
   */
  private pendingResult: {
    bm: Uint8Array;
    total: number;
    descending: boolean;
    rows: Uint32Array | number | null;
    first: Uint32Array | null;
  } | null = null;
  private lastRequest: QueryRequest = { q: '' };
  private listeners: ((s: IndexStatus) => void)[] = [];
  private notifyTimer: ReturnType<typeof setTimeout> | null = null;
  private minTime = NaN;
  private maxTime = NaN;
  /** Bumped when the store is wiped: loads started before stop adding what they read. */
  private epoch = 0;
  private pendingIds: number[] = [];
  private pendingLoad: Promise<void> | null = null;
  /**
   * While this page ingests (see `ingesting`), new chunks' columns load at once (the events view and the count
   * follow the ingest) but their field stores wait: reading back every field store as it is written took CPU
   * from the ingest (about 2 s of 22 at 1M events). They load when the ingest ends, or as soon as a query
   * needs the field index.
   */
  private ingestRunning = false;
  private deferredFieldIds: number[] = [];
  private deferredLoad: Promise<void> | null = null;
  private closedFor = '';
  private clearedFor = '';
  /** Ids of the `configs` writes already handled (heard on the channel and handed over directly). */
  private seenWrites = new Set<string>();
  private channel: BroadcastChannel | null = null;
  private readonly openFn: () => Promise<KeyTrailDB>;
  private readonly notifyMs: number;
  private readonly snapshotDelayMs: number;
  private readonly useSnapshots: boolean;
  /** Rows (from the start) covered by the stored snapshot, as far as this context knows. */
  private snapshotRows = 0;
  private snapshotTimer: ReturnType<typeof setTimeout> | null = null;
  private snapshotSaving: Promise<boolean> | null = null;
  private textFoldTimer: ReturnType<typeof setTimeout> | null = null;
  /** Calls of {@link loadFields} reading field stores now. */
  private fieldReads = 0;
  private readonly stats: LoadStats = {
    snapshotReadMs: 0,
    snapshotRestoreMs: 0,
    snapshotRows: 0,
    snapshotPartsRead: 0,
    snapshotPartsAtFirstQuery: -1,
    contextStartAt: performance.timeOrigin,
    storeOpenAt: 0,
    loadStartAt: 0,
    snapshotCoreReadAt: 0,
    snapshotCoreAt: 0,
    snapshotPartAt: {},
    segmentsReadMs: 0,
    segmentsAddMs: 0,
    segmentsRead: 0,
    fieldsReadMs: 0,
    fieldsAddMs: 0,
    fieldsWallMs: 0,
    fieldsRead: 0,
    textArenaBytes: 0,
    snapshotEncodeMs: 0,
    snapshotWriteMs: 0,
    snapshotWrites: 0,
  };

  constructor(options: QueryServiceOptions = {}) {
    this.openFn = options.open ?? (() => openStore());
    this.notifyMs = options.notifyMs ?? 250;
    this.snapshotDelayMs = options.snapshotDelayMs ?? 2000;
    this.useSnapshots = options.snapshots ?? true;
    this.engine = new Engine(this.ix, this.fields, () => this.analyses.ruleRows());
    this.analyses = new AnalysisCache(
      {
        ix: this.ix,
        fields: this.fields,
        engine: this.engine,
        raw: () => this.raw,
        configs: () => this.db.configs.toArray(),
        files: () => this.db.files.toArray(),
        digests: () => this.db.digests.toArray(),
      },
      () => this.indexVersion,
      (inputs) => this.prepare(inputs),
    );
    void this.openAgain();
    if (options.listen ?? true) {
      this.channel = new BroadcastChannel(STORE_CHANNEL);
      this.channel.onmessage = (ev: MessageEvent<StoreMessage>) => void this.storeMessage(ev.data);
    }
  }

  /** The current index version (see {@link QueryService}): bumped by every change an analysis can see. */
  get version(): number {
    return this.indexVersion;
  }

  /** Resolves once the store is open (every exposed call waits for it). */
  ready(): Promise<void> {
    return this.reopening ?? Promise.resolve();
  }

  /** Stops listening on the store channel and closes the store (tests). */
  close(): void {
    this.channel?.close();
    this.channel = null;
    if (this.notifyTimer) clearTimeout(this.notifyTimer);
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
    if (this.textFoldTimer) clearTimeout(this.textFoldTimer);
    this.db?.close();
  }

  /**
   * Handles one store message (heard on the channel, or handed over by the page right after its own write so
   * that its next read sees it; each write or wipe is handled once).
   */
  async storeMessage(m: StoreMessage): Promise<void> {
    if (m.type === 'clearing') this.storeClosing(m.wipe);
    else if (m.type === 'cleared') await this.storeCleared(m.wipe);
    else if (m.type === 'configs') {
      if (this.seenWrites.has(m.id)) return;
      this.seenWrites.add(m.id);
      this.bump();
      this.notify();
    } else if (m.type === 'commit') {
      if (!m.segmentIds.length) {
        // a digest, public keys or a trail configuration: no events, but the analyses change
        this.bump();
        this.notify();
        return;
      }
      this.pendingIds.push(...m.segmentIds);
      this.pendingLoad ??= this.loadPending();
    }
  }

  /** Opens the store (again), after any opening under way. */
  private openAgain(): Promise<void> {
    const p: Promise<void> = (this.reopening ?? Promise.resolve())
      .then(async () => {
        const fresh = await this.openFn();
        this.stats.storeOpenAt ||= performance.timeOrigin + performance.now();
        this.db = fresh;
        this.raw = new RawReader(fresh);
      })
      .finally(() => {
        if (this.reopening === p) this.reopening = null;
      });
    this.reopening = p;
    return p;
  }

  /** The analyses' inputs change: every memoised analysis result is stale. */
  private bump(): void {
    this.indexVersion++;
  }

  private async prepare(inputs: readonly AnalysisInput[]): Promise<void> {
    if (inputs.some((i) => i === 'columns' || i === 'fields' || i === 'raw')) await this.ensureLoaded();
    if (inputs.includes('fields')) await this.fieldIndexReady();
  }

  /** Index status without waiting for a load. */
  status(): IndexStatus {
    return {
      rows: this.ix.n,
      loading: this.loading !== null,
      fieldsLoaded: this.fields.size,
      fieldsTotal: Math.max(this.fieldsTotal, this.fields.size),
      fieldsDeferred: this.ingestRunning && this.deferredFieldIds.length > 0 && this.deferredLoad === null,
      minTime: this.minTime,
      maxTime: this.maxTime,
      snapshotRows: this.snapshotRows,
    };
  }

  /** Where the time of loading the index went so far (see {@link LoadStats}). */
  loadStats(): LoadStats {
    return {
      ...this.stats,
      snapshotPartAt: { ...this.stats.snapshotPartAt },
      textArenaBytes: this.fields.textArenaBytes,
    };
  }

  private updateRange(from: number): void {
    const t = this.ix.time;
    let min = Number.isNaN(this.minTime) ? Infinity : this.minTime;
    let max = Number.isNaN(this.maxTime) ? -Infinity : this.maxTime;
    for (let i = from; i < this.ix.n; i++) {
      const v = t[i];
      if (v < min) min = v;
      if (v > max) max = v;
    }
    this.minTime = Number.isFinite(min) ? min : NaN;
    this.maxTime = Number.isFinite(max) ? max : NaN;
  }

  private notify(): void {
    if (this.notifyTimer) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = null;
      const s = this.status();
      for (const l of this.listeners) l(s);
    }, this.notifyMs);
  }

  private async loadSegments(ids: number[]): Promise<void> {
    const e = this.epoch;
    for (let i = 0; i < ids.length; i += 64) {
      let t = performance.now();
      const segs = await this.db.segments.bulkGet(ids.slice(i, i + 64));
      if (e !== this.epoch) return;
      this.stats.segmentsReadMs += performance.now() - t;
      t = performance.now();
      const start = this.ix.n;
      for (const s of segs) if (s) this.ix.addSegment(s);
      this.updateRange(start);
      this.stats.segmentsAddMs += performance.now() - t;
      this.stats.segmentsRead += segs.length;
    }
  }

  /**
   * Reads the stored snapshot into the (empty) index when there is a usable one (see query/snapshot.ts);
   * `stored`: ids of every stored segment; `coreRead`: the read of its core, started with the read of `stored`;
   * `early`: a part read at the same time as the core (used when that part's turn comes). First its core (rows,
   * eventTime), then `coreDone` is called, then its parts (the ones queries wait for first, see
   * {@link ensureParts}). A snapshot that cannot be used, or is
   * replaced by another tab before every part was read, is dropped: the caller then reads the segments.
   */
  private async loadSnapshot(
    stored: number[],
    coreDone: () => void,
    coreRead: ReturnType<typeof readSnapshotCore>,
    early: { part: SnapshotPart; read: ReturnType<typeof readSnapshotPart> } | null = null,
  ): Promise<void> {
    const e = this.epoch;
    let t = performance.now();
    let core;
    try {
      core = await coreRead;
    } catch {
      return; // unreadable: the segments are read instead
    }
    this.stats.snapshotCoreReadAt = performance.timeOrigin + performance.now();
    this.stats.snapshotReadMs += performance.now() - t;
    if (!core || e !== this.epoch || this.ix.n !== 0) return;
    t = performance.now();
    try {
      this.ix.restoreCore(core);
    } catch {
      this.ix.clear();
      return;
    }
    this.updateRange(0);
    this.snapshotRows = this.ix.n;
    this.stats.snapshotRows = this.ix.n;
    this.stats.snapshotRestoreMs += performance.now() - t;
    this.stats.snapshotCoreAt = performance.timeOrigin + performance.now();
    // queries may run on the partly restored index only when no stored segment is left to append after it
    const load = { wanted: [] as SnapshotPart[], waiters: new Map<SnapshotPart, ((restored: boolean) => void)[]>() };
    if (core.segments.length === stored.length) this.partLoad = load;
    coreDone();
    // the queries that waited for the core say which parts they need before the first part is chosen
    await new Promise((resolve) => setTimeout(resolve, 0));
    let restored = true;
    while (this.ix.pending.size && restored) {
      if (e !== this.epoch) return this.endPartLoad(load);
      const part = load.wanted.find((p) => this.ix.pending.has(p)) ?? PART_ORDER.find((p) => this.ix.pending.has(p))!;
      t = performance.now();
      const reading = early?.part === part ? early.read : readSnapshotPart(this.db, core.id, part);
      let data;
      try {
        data = await reading;
      } catch {
        data = undefined;
      }
      this.stats.snapshotReadMs += performance.now() - t;
      if (e !== this.epoch) return this.endPartLoad(load);
      t = performance.now();
      try {
        this.ix.restorePart(part, data);
        this.stats.snapshotPartsRead++;
        this.stats.snapshotPartAt[part] = performance.timeOrigin + performance.now();
      } catch {
        restored = false; // missing, of another snapshot (replaced by another tab), or inconsistent
      }
      this.stats.snapshotRestoreMs += performance.now() - t;
      const waiting = load.waiters.get(part) ?? [];
      for (const w of waiting) w(restored);
      load.waiters.delete(part);
      // the queries that waited for this part answer before the next part is restored (one may be read already)
      if (waiting.length) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    this.endPartLoad(load);
    // the rows' time order, which every later query's result is put in, once the parts are in: the queries
    // answered meanwhile chose their first rows without it (see pendingResult)
    if (restored && e === this.epoch) this.ix.sortedByTime();
    if (!restored) {
      this.ix.clear();
      this.minTime = NaN;
      this.maxTime = NaN;
      this.snapshotRows = 0;
      this.stats.snapshotRows = 0;
    }
  }

  /** Ends a part load: whoever still waits for a part hears false (and waits for the whole load). */
  private endPartLoad(load: NonNullable<QueryService['partLoad']>): void {
    if (this.partLoad === load) this.partLoad = null;
    for (const ws of load.waiters.values()) for (const w of ws) w(false);
    load.waiters.clear();
  }

  /**
   * Resolves once the index can answer from `parts` (and the rows and eventTime): at once when the index is
   * loaded; while a reload restores a snapshot in parts, once these parts are restored (they are read next);
   * otherwise once the whole load ended (as {@link ensureLoaded}). With `start` false, a load is not started
   * when none is under way (reading the current result again needs none).
   */
  private async ensureParts(parts: readonly SnapshotPart[], start = false): Promise<void> {
    if (!start && !this.loading) return;
    const full = this.ensureLoaded();
    await Promise.race([full, this.coreReady]);
    const load = this.partLoad;
    if (!load) return full;
    const missing = parts.filter((p) => this.ix.pending.has(p));
    if (!missing.length) return;
    load.wanted.unshift(...missing);
    const restored = await Promise.all(
      missing.map(
        (p) =>
          new Promise<boolean>((resolve) => {
            const ws = load.waiters.get(p);
            if (ws) ws.push(resolve);
            else load.waiters.set(p, [resolve]);
          }),
      ),
    );
    if (!restored.every(Boolean) || parts.some((p) => this.ix.pending.has(p))) await full;
  }

  /** Writes the snapshot once the index stayed idle for `snapshotDelayMs` (see {@link saveSnapshot}). */
  private scheduleSnapshot(): void {
    if (!this.useSnapshots || !Number.isFinite(this.snapshotDelayMs)) return;
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
    this.snapshotTimer = setTimeout(() => {
      this.snapshotTimer = null;
      if (this.busy()) this.scheduleSnapshot();
      else void this.saveSnapshot();
    }, this.snapshotDelayMs);
  }

  /**
   * Case-folds the field index's values for free text in the background once the index is idle (not loading,
   * this page not ingesting): slices of {@link TEXT_FOLD_SLICE_MS} with the worker's messages answered between
   * them, so the first free-text query finds the work done (at 5M events it took ~6 s; see
   * {@link FieldIndex.foldSome}). The first query to meet a chunk not folded yet searches it with `indexOf`,
   * case-folded for that query only; the next one folds it (FieldIndex.searchFolded).
   */
  private scheduleTextFold(delayMs = 0): void {
    if (this.textFoldTimer) return;
    const e = this.epoch;
    this.textFoldTimer = setTimeout(() => {
      this.textFoldTimer = null;
      if (e !== this.epoch) return;
      // not while field stores are read: the slices would take turns with the reads (measured at 1M: +0.8 s)
      if (this.busy() || this.fieldReads > 0) this.scheduleTextFold(TEXT_FOLD_RETRY_MS);
      else if (!this.fields.foldSome(TEXT_FOLD_SLICE_MS)) this.scheduleTextFold();
    }, delayMs);
  }

  /** True while the index loads or this page ingests. */
  private busy(): boolean {
    return (
      this.ingestRunning ||
      this.loading !== null ||
      this.pendingLoad !== null ||
      this.deferredLoad !== null ||
      this.pendingIds.length > 0
    );
  }

  /**
   * Writes the snapshot of the index's columns (query/snapshot.ts) to the store, replacing the stored one,
   * unless the index is loading or already covered by it. Resolves true when it wrote one; false when there
   * was nothing new to write, the index was busy, or the write failed (store closed by Delete all, quota).
   */
  saveSnapshot(): Promise<boolean> {
    this.snapshotSaving ??= (async () => {
      await this.reopening;
      if (!this.useSnapshots || this.busy() || this.ix.n === 0 || this.ix.n === this.snapshotRows) return false;
      const e = this.epoch;
      const t0 = performance.now();
      const snap = this.ix.snapshot();
      const t1 = performance.now();
      this.stats.snapshotEncodeMs += t1 - t0;
      try {
        await writeSnapshot(this.db, snap);
      } catch {
        return false;
      }
      this.stats.snapshotWriteMs += performance.now() - t1;
      this.stats.snapshotWrites++;
      if (e !== this.epoch) return false;
      this.snapshotRows = snap.n;
      this.notify();
      return true;
    })().finally(() => (this.snapshotSaving = null));
    return this.snapshotSaving;
  }

  private async loadFields(all: number[]): Promise<void> {
    const ids = all.filter((id) => !this.fieldsRequested.has(id));
    if (!ids.length) return;
    this.fieldReads++;
    try {
      await this.readFields(ids);
    } finally {
      this.fieldReads--;
    }
    this.scheduleTextFold();
  }

  /** Reads the field stores of chunks `ids` (none requested before) into the field index. */
  private async readFields(ids: number[]): Promise<void> {
    const e = this.epoch;
    for (const id of ids) this.fieldsRequested.add(id);
    // a few reads in flight (IndexedDB reads, and their decoding, overlap with adding the previous batch)
    const BATCH = 16;
    const AHEAD = 3;
    const t0 = performance.now();
    const read = (i: number) => this.db.fields.bulkGet(ids.slice(i, i + BATCH));
    const inFlight: Promise<(StoredFieldStore | undefined)[]>[] = [];
    for (let i = 0; i < ids.length && inFlight.length < AHEAD; i += BATCH) inFlight.push(read(i));
    let next = AHEAD * BATCH;
    let waited = 0;
    for (let i = 0; i < ids.length; i += BATCH) {
      let stores;
      let t = performance.now();
      try {
        stores = await inFlight.shift()!;
      } catch (err) {
        // not read: a later load asks for them again
        if (e === this.epoch) for (const id of ids.slice(i)) this.fieldsRequested.delete(id);
        await Promise.allSettled(inFlight);
        throw err;
      }
      if (e !== this.epoch) {
        void Promise.allSettled(inFlight); // the store is gone: what is still read is dropped
        return;
      }
      waited += performance.now() - t;
      if (next < ids.length) {
        inFlight.push(read(next));
        next += BATCH;
      }
      t = performance.now();
      for (const s of stores) {
        const base = s && this.ix.segBase.get(s.id);
        if (s && base !== undefined) this.fields.add(s, base);
      }
      this.stats.fieldsAddMs += performance.now() - t;
      this.stats.fieldsRead += stores.length;
      this.notify();
    }
    this.stats.fieldsReadMs += waited;
    this.stats.fieldsWallMs += performance.now() - t0;
  }

  /** Loads every stored segment (columns first: queries on them can run), then the field index in the background. */
  private ensureLoaded(): Promise<void> {
    if (!this.loading) {
      const e = this.epoch;
      let coreDone!: () => void;
      this.coreReady = new Promise<void>((resolve) => (coreDone = resolve));
      const p: Promise<void> = (async () => {
        await this.reopening;
        this.stats.loadStartAt ||= performance.timeOrigin + performance.now();
        const keysRead = this.db.segments.toCollection().primaryKeys() as Promise<number[]>;
        // an empty index reads the snapshot's core at the same time as the segment ids it is checked against
        const coreRead =
          this.useSnapshots && this.ix.n === 0
            ? readSnapshotCore(
                this.db,
                keysRead.then((k) => new Set(k)),
              )
            : null;
        coreRead?.catch(() => undefined); // awaited in loadSnapshot, or not needed (no segment stored)
        // the first part in PART_ORDER (eventName: every view and most first queries read it) is read with the
        // core, not after it: at 5M rows, right after a reload, that was ~1 s more before the first answer
        const early = coreRead && {
          part: PART_ORDER[0],
          read: readSnapshotPart(
            this.db,
            coreRead.then((c) => c?.id),
            PART_ORDER[0],
          ),
        };
        early?.read.catch(() => undefined); // awaited in loadSnapshot, or dropped with the snapshot
        const keys = await keysRead;
        if (coreRead && this.ix.n === 0 && keys.length) await this.loadSnapshot(keys, coreDone, coreRead, early);
        coreDone();
        if (e !== this.epoch) return;
        await this.loadSegments(keys.filter((k) => !this.ix.segments.has(k)));
        if (e !== this.epoch) return;
        this.fieldsTotal = keys.length;
        const before = this.fieldsLoading;
        const load = this.loadFields(keys.filter((k) => !this.fields.loaded.has(k)))
          .catch(() => undefined)
          .finally(() => {
            this.notify();
            this.scheduleSnapshot();
          });
        // loads started by earlier calls still count: the field index is ready when every one has ended
        this.fieldsLoading = before ? Promise.all([before, load]).then(() => undefined) : load;
      })().finally(() => {
        coreDone();
        if (this.loading === p) this.loading = null;
        this.notify();
      });
      this.loading = p;
    }
    return this.loading;
  }

  private async loadPending(): Promise<void> {
    try {
      while (this.pendingIds.length) {
        // rows are appended only to a whole index: a snapshot being restored in parts is finished first
        while (this.ix.pending.size && this.loading) await this.loading;
        const ids = this.pendingIds;
        this.pendingIds = [];
        await this.loadSegments(ids);
        this.fieldsTotal += ids.length;
        if (this.ingestRunning) this.deferredFieldIds.push(...ids);
        else await this.loadFields(ids);
        this.bump();
      }
    } catch {
      /* the store was closed (Delete all): `reset` dropped what was loaded */
    } finally {
      this.pendingLoad = null;
      this.notify();
      this.scheduleSnapshot();
    }
  }

  /** Loads the field stores whose loading was deferred during an ingest. */
  private loadDeferredFields(): Promise<void> {
    this.deferredLoad ??= (async () => {
      while (this.deferredFieldIds.length) {
        const ids = this.deferredFieldIds;
        this.deferredFieldIds = [];
        await this.loadFields(ids);
        this.bump();
      }
    })().finally(() => {
      this.deferredLoad = null;
      this.notify();
      this.scheduleSnapshot();
    });
    return this.deferredLoad;
  }

  /** Resolves when every stored chunk's field store is loaded (free text, any-path queries, analyses). */
  private async fieldIndexReady(): Promise<void> {
    // the field stores start loading once the columns are (page() may come first)
    await this.loading?.catch(() => undefined);
    await this.fieldsLoading;
    await this.pendingLoad;
    await this.loadDeferredFields();
  }

  /** Delete all `wipe` started (in this tab or another): drop every reference to stored data and close the store. */
  storeClosing(wipe: string): void {
    if (this.closedFor === wipe) return;
    this.closedFor = wipe;
    this.db?.close({ disableAutoOpen: true });
    this.reset();
  }

  /** Delete all `wipe` deleted the store: forget what was loaded and open the new (empty) store. Resolves once it is open. */
  storeCleared(wipe: string): Promise<void> {
    if (this.clearedFor !== wipe) {
      this.clearedFor = wipe;
      this.storeClosing(wipe);
      void this.openAgain();
    }
    return this.reopening ?? Promise.resolve();
  }

  /** Drops the in-memory index (after the store was wiped). */
  reset(): void {
    this.epoch++;
    this.pendingIds = [];
    this.pendingLoad = null;
    this.loading = null;
    if (this.partLoad) this.endPartLoad(this.partLoad);
    this.fieldsLoading = null;
    this.fieldsRequested = new Set();
    this.bump();
    this.analyses.clear();
    this.ix.clear();
    this.fields.clear();
    this.raw?.clear();
    this.deferredFieldIds = [];
    this.fieldsTotal = 0;
    this.snapshotRows = 0;
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
    this.snapshotTimer = null;
    if (this.textFoldTimer) clearTimeout(this.textFoldTimer);
    this.textFoldTimer = null;
    this.minTime = NaN;
    this.maxTime = NaN;
    this.result = new Uint32Array(0);
    this.dropPendingResult();
    this.notify();
  }

  /** The current result's rows in its order: put in it now when the result is still pending ({@link run}). */
  private orderedResult(): Uint32Array {
    const p = this.pendingResult;
    if (p) {
      this.result = this.rowsOf(p.bm, p.descending);
      this.dropPendingResult();
    }
    return this.result;
  }

  /** The current result's rows in any order (row order for a pending one; a number N: rows 0..N-1). */
  private unorderedResult(): Uint32Array | number {
    const p = this.pendingResult;
    if (!p) return this.result;
    if (p.rows === null) {
      if (p.total === p.bm.length) p.rows = p.total;
      else {
        const rows = new Uint32Array(p.total + 1);
        let j = 0;
        for (let i = 0; i < p.bm.length; i++) {
          rows[j] = i;
          j += p.bm[i];
        }
        p.rows = rows.subarray(0, p.total);
      }
    }
    return p.rows;
  }

  /** Forgets the pending result (its bitmap goes back to the engine). */
  private dropPendingResult(): void {
    if (this.pendingResult) this.engine.release(this.pendingResult.bm);
    this.pendingResult = null;
  }

  /**
   * The rows of a bitmap (`bm[row]` 0 or 1, as the engine writes them) in time order, or newest first.
   * Without branches on the bitmap: its matches fall in no pattern the processor can predict (measured at 5M
   * rows, 30% matching, in Node: 8-53 ms against 38-80 ms with an `if`).
   */
  private rowsOf(bm: Uint8Array, descending: boolean): Uint32Array {
    let sorted = this.ix.sortedByTime();
    // rows added since the query ran (an ingest) are not in its bitmap
    if (bm.length < sorted.length) sorted = sorted.filter((r) => r < bm.length);
    const n = sorted.length;
    // counted first: the result is allocated once at its size (a scratch array of every row was 20 MB of
    // fresh memory per query at 5M rows), plus one slot for the last, unkept write
    let k = 0;
    for (let i = 0; i < n; i++) k += bm[i];
    // every row (the events view's first query): the index's own time order, shared, never written to
    if (k === n && !descending) return sorted;
    const out = new Uint32Array(k + 1);
    let j = 0;
    for (let i = 0; i < n; i++) {
      const r = sorted[i];
      out[j] = r;
      j += bm[r];
    }
    const rows = out.subarray(0, k);
    if (descending) rows.reverse();
    return rows;
  }

  /**
   * Loads every stored segment not yet in the index. Resolves with the status once every row is in the index:
   * when a reload restores the snapshot in parts, as soon as its core is (`loading` is then still true; each
   * call that reads columns waits for them), otherwise once the columns are loaded.
   */
  async open(): Promise<IndexStatus> {
    await this.reopening;
    await this.ensureParts([], true);
    return this.status();
  }

  /** Calls `cb` (a comlink proxy in the worker) with the status whenever rows are added or removed (at most 4 times/s). */
  subscribe(cb: (s: IndexStatus) => void): void {
    this.listeners.push(cb);
  }

  /** Removes all listeners. */
  unsubscribeAll(): void {
    this.listeners = [];
  }

  /**
   * Parses and runs a query over every stored event. On success the result (row ids sorted by eventTime)
   * becomes current; on a syntax error the previous result stays and the error's position is returned.
   */
  async run(req: QueryRequest): Promise<QueryResponse> {
    const t0 = performance.now();
    let ast: QueryNode;
    try {
      ast = parseQuery(req.q);
    } catch (err) {
      if (err instanceof QuerySyntaxError) return { ok: false, message: err.message, pos: err.pos, end: err.end };
      throw err;
    }
    // a query on columns waits only for its columns (a reload restores the snapshot's parts in the background)
    const parts = needsFieldIndex(ast) || usesFindings(ast) ? null : queryParts(ast);
    if (parts) await this.ensureParts(parts, true);
    else await this.ensureLoaded();
    if (needsFieldIndex(ast)) await this.fieldIndexReady();
    if (usesFindings(ast)) await this.analyses.findings();
    if (this.stats.snapshotPartsAtFirstQuery < 0) this.stats.snapshotPartsAtFirstQuery = this.stats.snapshotPartsRead;
    const info: { warnings: string[]; usedFields: boolean; untimed?: number } = { warnings: [], usedFields: false };
    let bm: Uint8Array;
    try {
      bm = this.engine.evaluate(ast, { from: req.from, to: req.to, now: req.now }, info);
    } catch (err) {
      if (err instanceof QuerySyntaxError) return { ok: false, message: err.message, pos: err.pos, end: err.end };
      throw err;
    }
    this.dropPendingResult();
    let total: number;
    if (this.ix.pending.size > 0 && !this.ix.hasTimeOrder()) {
      // a reload's first queries: answered before the rows' time order is known (see pendingResult)
      total = 0;
      for (let i = 0; i < bm.length; i++) total += bm[i];
      this.result = new Uint32Array(0);
      this.pendingResult = { bm, total, descending: !!req.descending, rows: null, first: null };
    } else {
      this.result = this.rowsOf(bm, !!req.descending);
      this.engine.release(bm);
      total = this.result.length;
    }
    this.lastRequest = req;
    return {
      ok: true,
      total,
      ms: performance.now() - t0,
      warnings: info.warnings,
      untimed: info.untimed ?? 0,
    };
  }

  /**
   * Rows `offset..offset+limit` of the current result. A row whose eventTime cannot be read carries the
   * eventTime text as written (`timeText`, from the field stores, awaited when not yet loaded).
   */
  async page(offset: number, limit: number): Promise<RowView[]> {
    await this.ensureParts(ROW_VIEW_COLUMNS);
    const out: RowView[] = [];
    const p = this.pendingResult;
    const end = Math.min(p ? p.total : this.result.length, offset + limit);
    const rows =
      p && end <= FIRST_ROWS
        ? (p.first ??= firstRowsByTime(this.ix.time, this.unorderedResult(), FIRST_ROWS, p.descending)).slice(
            Math.max(0, offset),
            end,
          )
        : this.orderedResult().slice(Math.max(0, offset), end);
    for (const r of rows) out.push(rowView(this.ix, r));
    if (out.some((v) => v.time !== v.time)) {
      await this.fieldIndexReady();
      for (const v of out) {
        if (v.time === v.time || v.row >= this.ix.n) continue;
        const t = this.fields.valueOfRow(v.row, 'eventTime');
        if (t !== undefined) v.timeText = t;
      }
    }
    return out;
  }

  /** Top values of each facet over the current result. */
  async facets(limit = 8): Promise<FacetResult[]> {
    await this.ensureParts(FACETS.map((f) => f.col));
    return computeFacets(this.ix, this.unorderedResult(), limit);
  }

  /** Time histogram of the current result (about `bins` buckets; the window's range when one is set). */
  async histogram(bins = 120): Promise<Histogram> {
    await this.ensureParts([]);
    return computeHistogram(this.ix, this.unorderedResult(), bins, this.lastRequest.from, this.lastRequest.to);
  }

  /** Position in the current result of the first event with this eventID, or -1. */
  async indexOfEventId(eventID: string): Promise<number> {
    await this.ensureParts(['eid']);
    const h = new Uint32Array(2);
    stringHash(eventID, h, 0);
    const eid = this.ix.eid;
    const result = this.orderedResult();
    for (let i = 0; i < result.length; i++) {
      const r = result[i];
      if (eid[r * 2] === h[0] && eid[r * 2 + 1] === h[1]) return i;
    }
    return -1;
  }

  /** The raw JSON of one row and the file it came from. */
  async event(row: number): Promise<EventDetail | null> {
    return this.eventDetail(row);
  }

  /** The raw JSON of the first event with this eventID (for links from analyses), or null. */
  async eventById(eventID: string): Promise<EventDetail | null> {
    await this.ensureLoaded();
    const h = new Uint32Array(2);
    stringHash(eventID, h, 0);
    const ix = this.ix;
    for (let r = 0; r < ix.n; r++) if (ix.eid[r * 2] === h[0] && ix.eid[r * 2 + 1] === h[1]) return this.eventDetail(r);
    return null;
  }

  /** Exports the current result, in result order, as a Blob (see {@link exportRows} for the formats). */
  async exportResult(format: ResultFormat): Promise<Blob> {
    await this.ensureLoaded();
    return exportRows(format, this.orderedResult(), this.ix, this.fields, this.raw);
  }

  /** Every KMS key the events mention, most recently seen first. */
  async keys(): Promise<KeySummary[]> {
    return (await this.analyses.get('kms')).keys;
  }

  /** One key's page (lifecycle, use over time, principals, accounts, failures), or null. */
  async key(arn: string): Promise<KeyDetail | null> {
    return keyDetail(this.ix, await this.analyses.get('kms'), arn);
  }

  /** Every finding (keys, CloudHSM, cross-account, coverage, integrity, imported Sigma rules), most severe first, then most recent. */
  async findings(): Promise<Finding[]> {
    return (await this.analyses.findings()).sort(compareFindings);
  }

  /** Trails over time, KMS exclusion windows, KMS silences and the cross-account calls they explain. */
  async coverage(): Promise<CoverageResult> {
    return this.analyses.get('coverage');
  }

  /** Integrity of the loaded log files against the loaded digest files (and supplied public keys). */
  async integrity(): Promise<IntegrityReport> {
    return this.analyses.get('integrity');
  }

  /** Imported Sigma rules: each rule's outcome (matches, or why it is unsupported), YAML errors, and the `|expand` placeholders with their values. */
  async sigma(): Promise<{
    results: SigmaResult[];
    errors: { rule?: string; message: string }[];
    placeholders: SigmaPlaceholder[];
  }> {
    const g = await this.analyses.get('sigma');
    return { results: g.results, errors: g.errors, placeholders: g.placeholders };
  }

  /**
   * Tells the service whether this page is ingesting: while it is, new chunks' field stores are loaded only
   * when a query needs them; when it ends, they load in the background.
   */
  ingesting(on: boolean): void {
    this.ingestRunning = on;
    if (!on) void this.loadDeferredFields();
  }

  /** Accounts, the account-to-account matrix of KMS use, and every cross-account call with its status. */
  /** The cross-account correlation as the accounts view shows it (see `CorrelationView`). */
  async crossAccount(): Promise<CorrelationView> {
    return correlationView(await this.analyses.get('crossAccount'));
  }

  /** CloudHSM clusters with their HSMs, backups, custom key stores and keys. */
  async clusters(): Promise<ClusterSummary[]> {
    return (await this.analyses.get('kms')).clusters;
  }

  /** Principals (assumed-role sessions grouped under their role), most active first. */
  async principals(): Promise<PrincipalSummary[]> {
    const a = await this.analyses.get('kms');
    return analyzePrincipals(this.ix, a.keyOfRow);
  }

  /** How long the last key analysis took, ms. */
  async analysisMs(): Promise<number> {
    return (await this.analyses.get('kms')).ms;
  }

  /** The eventID of a row ('' when none or while the field index loads). */
  eventId(row: number): string {
    return this.fields.valueOfRow(row, 'eventID') ?? '';
  }

  /** Rules `finding:<rule>` selects rows of, with their rows (union over every analysis run for this version). */
  findingRules(): Map<string, Uint32Array> {
    return this.analyses.ruleRows();
  }

  private async eventDetail(row: number): Promise<EventDetail | null> {
    await this.ensureParts(['file']);
    if (row < 0 || row >= this.ix.n) return null;
    const { segment, offset } = this.ix.locationOf(row);
    const text = await this.raw.eventText(segment, offset);
    if (text === undefined) return null;
    let json = text;
    let caller: CallerClass | null = null;
    try {
      const ev = JSON.parse(text);
      json = prettyJson(text); // tokens as written: numbers keep their digits, repeated keys all show
      caller = classifyCaller(ev);
    } catch {
      /* stored text is always JSON; show it as is otherwise */
    }
    const f = await this.db.files.get(this.ix.file[row]);
    return { row, json, caller, file: f ? { id: f.id, path: f.path, status: f.status, s3: f.s3 } : null };
  }
}
