/// <reference lib="webworker" />
import * as Comlink from 'comlink';
import { openStore, STORE_CHANNEL, type FileRecord, type KeyTrailDB, type StoreMessage } from '../store/db';
import { RawReader } from '../store/raw';
import { stringHash } from '../codec/hash';
import { prettyJson } from '../codec/exact';
import { csvOf, jsonLinesParts, recordsJsonParts } from '../export/formats';
import { ColumnarIndex } from './columnar';
import { Engine, needsFieldIndex, usesFindings } from './engine';
import { analyzeKms, analyzePrincipals, keyDetail, type KmsAnalysis } from '../analysis/kms';
import { correlate, type Correlation } from '../analysis/crossAccount';
import { activityOf, kmsCallRecords, trailEvents } from '../analysis/inputs';
import { coverageFindings, exclusionWindows, kmsSilence, trailTimelines, unrecordedCrossAccountCalls, type ExclusionWindow, type KmsSilenceSpan, type TrailTimeline, type UnrecordedCall } from '../analysis/coverage';
import { trailConfigSnapshots, type TrailConfigSnapshot } from '../analysis/trailConfig';
import { compileSigma, parseSigma, queryText, sigmaFinding, sigmaMatches, sigmaPlaceholders, sigmaRuleId, type SigmaPlaceholderValues } from '../analysis/sigma';
import { parsePublicKeys, validate, type IntegrityReport, type LoadedDigest, type LoadedLogFile, type PublicKey } from '../analysis/integrity';
import type { ClusterSummary, Finding, KeyDetail, KeySummary, PrincipalSummary } from '../analysis/types';
import { classifyCaller, type CallerClass } from '../cloudtrail/identity';
import { computeFacets, computeHistogram, type FacetResult, type Histogram } from './facets';
import { FieldIndex } from './fieldIndex';
import { parseQuery, QuerySyntaxError, type QueryNode } from './parser';

/** One row of the events table, read from the index (no raw JSON). */
export interface RowView {
  /** Row id in the index (stable until the store is wiped). */
  row: number;
  /** eventTime, epoch ms UTC (NaN when absent or unreadable). */
  time: number;
  /** The eventTime text as written, when it cannot be read as a time (`time` NaN); absent otherwise. */
  timeText?: string;
  eventSource: string;
  eventName: string;
  principal: string;
  recipientAccountId: string;
  awsRegion: string;
  sourceIPAddress: string;
  errorCode: string;
  key: string;
}

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

/** Outcome of {@link api.run}. On a syntax error the previous result stays current. */
export type QueryResponse =
  | {
      ok: true; total: number; ms: number; warnings: string[];
      /** Matching events a time window left out because their eventTime cannot be read (0 without a window). */
      untimed: number;
    }
  | { ok: false; message: string; pos: number; end: number };

// (no top-level await: a module worker that awaits before exposing its API loses the messages sent meanwhile;
// every API call waits for `reopening` instead)
let db!: KeyTrailDB;
const ix = new ColumnarIndex();
const fields = new FieldIndex();
let analysis: KmsAnalysis | null = null;
let correlation: Correlation | null = null;
/** Rows of every finding rule of every analysis (for `finding:` queries). */
let allRuleRows: Map<string, Uint32Array> | null = null;
const engine = new Engine(ix, fields, () => allRuleRows);

/** Cross-account correlation of the KMS calls (after the key analysis). */
async function getCorrelation(): Promise<Correlation> {
  const a = await getAnalysis();
  if (!correlation) {
    const calls = kmsCallRecords(ix, fields, a);
    const loaded = new Set<string>(ix.cols.recipientAccountId.dict.filter(Boolean));
    correlation = correlate(calls, loaded);
    mergeRuleRows(correlation.findings);
  }
  return correlation;
}

let integrity: IntegrityReport | null = null;

/** What the coverage analysis found: trails over time, exclusion windows, KMS silences, unrecorded calls. */
export interface CoverageResult {
  timelines: TrailTimeline[];
  windows: ExclusionWindow[];
  silences: KmsSilenceSpan[];
  unrecorded: UnrecordedCall[];
  findings: Finding[];
}
let coverage: CoverageResult | null = null;

/** Reconstructs each trail's recording configuration over time and where KMS events were not recorded. */
async function getCoverage(): Promise<CoverageResult> {
  if (coverage) return coverage;
  await ensureLoaded();
  const events = await trailEvents(ix, raw);
  const snapshots: TrailConfigSnapshot[] = [];
  for (const c of await db.configs.toArray()) {
    if (c.kind === 'sigma' || c.kind === 'sigma-placeholders' || c.kind === 'list-public-keys') continue;
    try {
      snapshots.push(...trailConfigSnapshots(c.doc, c.capturedAt || undefined, c.path));
    } catch {
      /* a document that is not a configuration output after all */
    }
  }
  const timelines = trailTimelines(events, snapshots);
  const windows = exclusionWindows(timelines);
  const corr = await getCorrelation();
  const silences = kmsSilence(activityOf(ix));
  const findings = coverageFindings({ timelines, windows, crossAccount: corr.records, silences });
  coverage = { timelines, windows, silences, unrecorded: unrecordedCrossAccountCalls(corr.records, timelines, windows), findings };
  mergeRuleRows(findings);
  return coverage;
}

/** An imported Sigma rule and what running it gave. */
export interface SigmaResult {
  id: string;
  title: string;
  source: string;
  level: string;
  /** False when the rule uses something KeyTrail does not support (see `reason`). */
  ok: boolean;
  reason?: string;
  /** Matching events. */
  count: number;
  /** The rule as a KeyTrail query, when it can be written as one (not for rules with an aggregation). */
  query?: string;
  /** The rule's aggregation as written (`count() by userIdentity.arn > 5 within 10m`), when it has one. */
  aggregation?: string;
  /** Names of the `|expand` placeholders the rule uses. */
  placeholders: string[];
}
/** An `|expand` placeholder used by imported rules, with the values given for it (none yet: empty). */
export interface SigmaPlaceholder {
  name: string;
  values: string[];
}
let sigma: { results: SigmaResult[]; errors: { rule?: string; message: string }[]; placeholders: SigmaPlaceholder[]; findings: Finding[] } | null = null;

/** Runs every imported Sigma rule (kept in the store) over the events. */
async function getSigma(): Promise<NonNullable<typeof sigma>> {
  if (sigma) return sigma;
  await ensureLoaded();
  await fieldIndexReady();
  const results: SigmaResult[] = [];
  const errors: { rule?: string; message: string }[] = [];
  const findings: Finding[] = [];
  const configs = await db.configs.toArray();
  const values: SigmaPlaceholderValues = {};
  for (const c of configs) if (c.kind === 'sigma-placeholders' && c.doc && typeof c.doc === 'object') Object.assign(values, c.doc);
  const used = new Set<string>();
  for (const c of configs) {
    if (c.kind !== 'sigma' || typeof c.doc !== 'string') continue;
    const parsed = parseSigma(c.doc, c.path);
    errors.push(...parsed.errors);
    for (const rule of parsed.rules) {
      const placeholders = sigmaPlaceholders(rule);
      for (const p of placeholders) used.add(p);
      const compiled = compileSigma(rule, values);
      const base = { id: sigmaRuleId(rule), title: rule.title, source: rule.source, level: rule.level ?? 'medium', placeholders };
      if (!compiled.ok) {
        results.push({ ...base, ok: false, reason: compiled.reason, count: 0 });
        continue;
      }
      const rows = sigmaMatches(engine, ix, fields, compiled);
      const query = compiled.aggregation ? undefined : (queryText(compiled.query) ?? undefined);
      results.push({ ...base, ok: true, count: rows.length, query, aggregation: compiled.aggregation?.text });
      if (rows.length) findings.push(sigmaFinding(rule, rows, ix, compiled.aggregation));
    }
  }
  const placeholders = [...used].sort().map((name) => ({ name, values: Array.isArray(values[name]) ? values[name].map(String) : [] }));
  sigma = { results, errors, placeholders, findings };
  mergeRuleRows(findings);
  return sigma;
}

/** Validates the loaded log files against the loaded digest files (and public keys, when supplied). */
async function getIntegrity(): Promise<IntegrityReport> {
  if (integrity) return integrity;
  const files = await db.files.toArray();
  const s3KeyOf = (p: string) => {
    const tail = p.includes('!') ? p.slice(p.lastIndexOf('!') + 1) : p;
    const i = tail.indexOf('AWSLogs/');
    return i >= 0 ? tail.slice(i) : tail;
  };
  const byId = new Map(files.map((f) => [f.id!, f]));
  const logs: LoadedLogFile[] = files
    .filter((f) => f.sha256 && f.s3?.fileType === 'log')
    .map((f) => ({ path: f.path, s3Key: s3KeyOf(f.path), sha256: f.sha256!, fileId: f.id! }));
  const digests: LoadedDigest[] = (await db.digests.toArray()).map((d) => ({
    path: d.path, s3Key: s3KeyOf(d.path), fileId: d.fileId, sha256: byId.get(d.fileId)?.sha256 ?? '', digest: d.digest,
  }));
  const keys: PublicKey[] = [];
  for (const c of await db.configs.toArray()) {
    if (c.kind !== 'list-public-keys') continue;
    try {
      keys.push(...parsePublicKeys(c.doc));
    } catch {
      /* reported by validate as key problems when malformed */
    }
  }
  integrity = await validate(logs, digests, keys);
  return integrity;
}

/** Adds findings' rows to the `finding:` map. */
function mergeRuleRows(findings: Finding[]): void {
  allRuleRows ??= new Map(analysis?.ruleRows ?? []);
  for (const f of findings) {
    const prev = allRuleRows.get(f.rule);
    allRuleRows.set(f.rule, prev ? Uint32Array.from(new Set([...prev, ...f.rows])) : Uint32Array.from(f.rows));
  }
}

/** The key/CloudHSM analysis of everything loaded, computed once per change of the store. */
async function getAnalysis(): Promise<KmsAnalysis> {
  await ensureLoaded();
  await fieldIndexReady();
  if (!analysis) {
    analysis = analyzeKms(ix, fields);
    // keep the rows other analyses merged before this one ran (Sigma rules run on their own when imported)
    const merged = allRuleRows;
    allRuleRows = new Map(analysis.ruleRows);
    if (merged) for (const [rule, rows] of merged) if (!allRuleRows.has(rule)) allRuleRows.set(rule, rows);
  }
  return analysis;
}
let raw!: RawReader;
/** Resolves once the store is open (at start, and again after Delete all); reads wait for it. */
let reopening: Promise<void> | null = null;
/** Opens the store (again), after any opening under way. */
function openAgain(): Promise<void> {
  const p: Promise<void> = (reopening ?? Promise.resolve())
    .then(async () => {
      const fresh = await openStore();
      db = fresh;
      raw = new RawReader(fresh);
    })
    .finally(() => {
      if (reopening === p) reopening = null;
    });
  reopening = p;
  return p;
}
void openAgain();
let loading: Promise<void> | null = null;
let fieldsLoading: Promise<void> | null = null;
let fieldsTotal = 0;
let result: Uint32Array = new Uint32Array(0);
let lastRequest: QueryRequest = { q: '' };
let listeners: ((s: IndexStatus) => void)[] = [];
let notifyTimer: ReturnType<typeof setTimeout> | null = null;
let minTime = NaN;
let maxTime = NaN;

function status(): IndexStatus {
  return {
    rows: ix.n, loading: loading !== null, fieldsLoaded: fields.size, fieldsTotal: Math.max(fieldsTotal, fields.size),
    fieldsDeferred: ingestRunning && deferredFieldIds.length > 0 && deferredLoad === null, minTime, maxTime,
  };
}

function updateRange(from: number): void {
  const t = ix.time;
  let min = Number.isNaN(minTime) ? Infinity : minTime;
  let max = Number.isNaN(maxTime) ? -Infinity : maxTime;
  for (let i = from; i < ix.n; i++) {
    const v = t[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  minTime = Number.isFinite(min) ? min : NaN;
  maxTime = Number.isFinite(max) ? max : NaN;
}

function notify(): void {
  if (notifyTimer) return;
  notifyTimer = setTimeout(() => {
    notifyTimer = null;
    const s = status();
    for (const l of listeners) l(s);
  }, 250);
}

/** Bumped when the store is wiped: loads started before stop adding what they read. */
let epoch = 0;

async function loadSegments(ids: number[]): Promise<void> {
  const e = epoch;
  for (let i = 0; i < ids.length; i += 64) {
    const segs = await db.segments.bulkGet(ids.slice(i, i + 64));
    if (e !== epoch) return;
    const start = ix.n;
    for (const s of segs) if (s) ix.addSegment(s);
    updateRange(start);
  }
}

async function loadFields(ids: number[]): Promise<void> {
  const e = epoch;
  for (let i = 0; i < ids.length; i += 32) {
    const stores = await db.fields.bulkGet(ids.slice(i, i + 32));
    if (e !== epoch) return;
    for (const s of stores) {
      const base = s && ix.segBase.get(s.id);
      if (s && base !== undefined) fields.add(s, base);
    }
    notify();
  }
}

/** Loads every stored segment (columns first: queries on them can run), then the field index in the background. */
function ensureLoaded(): Promise<void> {
  if (!loading) {
    const e = epoch;
    const p: Promise<void> = (async () => {
      await reopening;
      const keys = (await db.segments.toCollection().primaryKeys()) as number[];
      await loadSegments(keys.filter((k) => !ix.segments.has(k)));
      if (e !== epoch) return;
      fieldsTotal = keys.length;
      fieldsLoading = loadFields(keys.filter((k) => !fields.loaded.has(k))).catch(() => undefined).finally(() => notify());
    })().finally(() => {
      if (loading === p) loading = null;
      notify();
    });
    loading = p;
  }
  return loading;
}

let pendingIds: number[] = [];
let pendingLoad: Promise<void> | null = null;
/**
 * While this page ingests (see `ingesting`), new chunks' columns load at once (the events view and the count
 * follow the ingest) but their field stores wait: reading back every field store as it is written took CPU
 * from the ingest (about 2 s of 22 at 1M events). They load when the ingest ends, or as soon as a query
 * needs the field index.
 */
let ingestRunning = false;
let deferredFieldIds: number[] = [];
let deferredLoad: Promise<void> | null = null;

async function loadPending(): Promise<void> {
  try {
    while (pendingIds.length) {
      const ids = pendingIds;
      pendingIds = [];
      await loadSegments(ids);
      fieldsTotal += ids.length;
      if (ingestRunning) deferredFieldIds.push(...ids);
      else await loadFields(ids);
      invalidateAnalyses();
    }
  } catch {
    /* the store was closed (Delete all): `reset` dropped what was loaded */
  } finally {
    pendingLoad = null;
    notify();
  }
}

/** Loads the field stores whose loading was deferred during an ingest. */
function loadDeferredFields(): Promise<void> {
  deferredLoad ??= (async () => {
    while (deferredFieldIds.length) {
      const ids = deferredFieldIds;
      deferredFieldIds = [];
      await loadFields(ids);
      invalidateAnalyses();
    }
  })().finally(() => {
    deferredLoad = null;
    notify();
  });
  return deferredLoad;
}

/** Resolves when every stored chunk's field store is loaded (free text, any-path queries, analyses). */
async function fieldIndexReady(): Promise<void> {
  await fieldsLoading;
  await pendingLoad;
  await loadDeferredFields();
}

const channel = new BroadcastChannel(STORE_CHANNEL);
channel.onmessage = (ev: MessageEvent<StoreMessage>) => {
  const m = ev.data;
  if (m.type === 'clearing') void storeClosing(m.wipe);
  else if (m.type === 'cleared') void storeCleared(m.wipe);
  else if (m.type === 'commit') {
    if (!m.segmentIds.length) {
      // a digest, public keys or a trail configuration: no events, but the analyses change
      invalidateAnalyses();
      notify();
      return;
    }
    pendingIds.push(...m.segmentIds);
    pendingLoad ??= loadPending();
  }
};

let closedFor = '';
let clearedFor = '';

/** Delete all started (in this tab or another): drop every reference to stored data and close the store. */
function storeClosing(wipe: string): void {
  if (closedFor === wipe) return;
  closedFor = wipe;
  db?.close({ disableAutoOpen: true });
  reset();
}

/** The store was deleted: forget what was loaded and open the new (empty) store. Resolves once it is open. */
function storeCleared(wipe: string): Promise<void> {
  if (clearedFor !== wipe) {
    clearedFor = wipe;
    storeClosing(wipe);
    void openAgain();
  }
  return reopening ?? Promise.resolve();
}

/** Forgets every analysis result (new events arrived, or the store was wiped). */
function invalidateAnalyses(): void {
  analysis = null;
  coverage = null;
  integrity = null;
  sigma = null;
  correlation = null;
  allRuleRows = null;
}

function reset(): void {
  epoch++;
  pendingIds = [];
  pendingLoad = null;
  loading = null;
  fieldsLoading = null;
  invalidateAnalyses();
  ix.clear();
  fields.clear();
  raw.clear();
  deferredFieldIds = [];
  fieldsTotal = 0;
  minTime = NaN;
  maxTime = NaN;
  result = new Uint32Array(0);
  notify();
}

function rowsOf(bm: Uint8Array, descending: boolean): Uint32Array {
  const sorted = ix.sortedByTime();
  const buf = new Uint32Array(sorted.length);
  let k = 0;
  for (let i = 0; i < sorted.length; i++) {
    const r = sorted[i];
    if (bm[r]) buf[k++] = r;
  }
  const out = buf.slice(0, k);
  if (descending) out.reverse();
  return out;
}

function view(r: number): RowView {
  return {
    row: r,
    time: ix.time[r],
    eventSource: ix.value('eventSource', r),
    eventName: ix.value('eventName', r),
    principal: ix.value('principal', r) || ix.value('identityType', r),
    recipientAccountId: ix.value('recipientAccountId', r),
    awsRegion: ix.value('awsRegion', r),
    sourceIPAddress: ix.value('sourceIPAddress', r),
    errorCode: ix.value('errorCode', r),
    key: ix.value('key', r),
  };
}

/** The query worker's API, called from the page through comlink. */
const api = {
  /** Loads every stored segment not yet in the index. Resolves with the status once the columns are loaded. */
  async open(): Promise<IndexStatus> {
    await reopening;
    await ensureLoaded();
    return status();
  },
  /** Calls `cb` (a comlink proxy) with the status whenever rows are added or removed (at most 4 times/s). */
  subscribe(cb: (s: IndexStatus) => void): void {
    listeners.push(cb);
  },
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
    await ensureLoaded();
    if (needsFieldIndex(ast)) {
      await fieldIndexReady();
    }
    if (usesFindings(ast)) await allFindings();
    const info: { warnings: string[]; usedFields: boolean; untimed?: number } = { warnings: [], usedFields: false };
    let bm: Uint8Array;
    try {
      bm = engine.evaluate(ast, { from: req.from, to: req.to, now: req.now }, info);
    } catch (err) {
      if (err instanceof QuerySyntaxError) return { ok: false, message: err.message, pos: err.pos, end: err.end };
      throw err;
    }
    result = rowsOf(bm, !!req.descending);
    lastRequest = req;
    return { ok: true, total: result.length, ms: performance.now() - t0, warnings: info.warnings, untimed: info.untimed ?? 0 };
  },
  /**
   * Rows `offset..offset+limit` of the current result. A row whose eventTime cannot be read carries the
   * eventTime text as written (`timeText`, from the field stores, awaited when not yet loaded).
   */
  async page(offset: number, limit: number): Promise<RowView[]> {
    const out: RowView[] = [];
    const end = Math.min(result.length, offset + limit);
    const rows = result.slice(Math.max(0, offset), end);
    for (const r of rows) out.push(view(r));
    if (out.some((v) => v.time !== v.time)) {
      await fieldIndexReady();
      for (const v of out) {
        if (v.time === v.time || v.row >= ix.n) continue;
        const t = fields.valueOfRow(v.row, 'eventTime');
        if (t !== undefined) v.timeText = t;
      }
    }
    return out;
  },
  /** Top values of each facet over the current result. */
  facets(limit = 8): FacetResult[] {
    return computeFacets(ix, result, limit);
  },
  /** Time histogram of the current result (about `bins` buckets; the window's range when one is set). */
  histogram(bins = 120): Histogram {
    return computeHistogram(ix, result, bins, lastRequest.from, lastRequest.to);
  },
  /** Position in the current result of the first event with this eventID, or -1. */
  indexOfEventId(eventID: string): number {
    const h = new Uint32Array(2);
    stringHash(eventID, h, 0);
    const eid = ix.eid;
    for (let i = 0; i < result.length; i++) {
      const r = result[i];
      if (eid[r * 2] === h[0] && eid[r * 2 + 1] === h[1]) return i;
    }
    return -1;
  },
  /** The raw JSON of one row and the file it came from. */
  async event(row: number): Promise<EventDetail | null> {
    return eventDetail(row);
  },
  /** The raw JSON of the first event with this eventID (for links from analyses), or null. */
  async eventById(eventID: string): Promise<EventDetail | null> {
    const h = new Uint32Array(2);
    stringHash(eventID, h, 0);
    for (let r = 0; r < ix.n; r++) if (ix.eid[r * 2] === h[0] && ix.eid[r * 2 + 1] === h[1]) return eventDetail(r);
    return null;
  },
  /**
   * Exports the current result, in result order, as a Blob: `csv` (the table's columns plus userAgent and
   * eventID, safe against spreadsheet formula injection), `records` (CloudTrail `{"Records":[...]}` of the
   * stored event texts, which KeyTrail re-ingests to the same events) or `jsonl` (one event per line).
   */
  async exportResult(format: 'csv' | 'records' | 'jsonl'): Promise<Blob> {
    const rows = result;
    if (format === 'csv') {
      const columns = ['eventTime', 'eventSource', 'eventName', 'principal', 'recipientAccountId', 'awsRegion', 'sourceIPAddress', 'errorCode', 'key', 'userAgent', 'eventID'];
      const parts: string[] = [];
      for (let o = 0; o < rows.length || o === 0; o += 50_000) {
        const batch: Record<string, string | number>[] = [];
        for (let i = o; i < Math.min(rows.length, o + 50_000); i++) {
          const r = rows[i];
          const v = view(r);
          batch.push({ ...v, eventTime: v.time, userAgent: ix.value('userAgent', r), eventID: fields.valueOfRow(r, 'eventID') ?? '' });
        }
        const csv = csvOf(batch, columns);
        // papaparse writes the header on every batch: keep it once
        parts.push(o === 0 ? csv : csv.slice(csv.indexOf('\n') + 1));
        if (!rows.length) break;
      }
      return new Blob(parts, { type: 'text/csv' });
    }
    const texts: string[] = [];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      const t = await raw.eventText(ix.seg[r], ix.off[r]);
      if (t !== undefined) texts.push(t);
    }
    return format === 'records'
      ? new Blob(recordsJsonParts(texts), { type: 'application/json' })
      : new Blob(jsonLinesParts(texts), { type: 'application/x-ndjson' });
  },
  /** Every KMS key the events mention, most recently seen first. */
  async keys(): Promise<KeySummary[]> {
    return (await getAnalysis()).keys;
  },
  /** One key's page (lifecycle, use over time, principals, accounts, failures), or null. */
  async key(arn: string): Promise<KeyDetail | null> {
    return keyDetail(ix, await getAnalysis(), arn);
  },
  /** Every finding (keys, CloudHSM, cross-account, coverage, integrity, imported Sigma rules), most severe first. */
  async findings(): Promise<Finding[]> {
    return allFindings();
  },
  /** Trails over time, KMS exclusion windows, KMS silences and the cross-account calls they explain. */
  async coverage(): Promise<CoverageResult> {
    return getCoverage();
  },
  /** Integrity of the loaded log files against the loaded digest files (and supplied public keys). */
  async integrity(): Promise<IntegrityReport> {
    return getIntegrity();
  },
  /** Imported Sigma rules: each rule's outcome (matches, or why it is unsupported), YAML errors, and the `|expand` placeholders with their values. */
  async sigma(): Promise<{ results: SigmaResult[]; errors: { rule?: string; message: string }[]; placeholders: SigmaPlaceholder[] }> {
    const g = await getSigma();
    return { results: g.results, errors: g.errors, placeholders: g.placeholders };
  },
  /**
   * Tells the worker whether this page is ingesting: while it is, new chunks' field stores are loaded only
   * when a query needs them; when it ends, they load in the background.
   */
  ingesting(on: boolean): void {
    ingestRunning = on;
    if (!on) void loadDeferredFields();
  },
  /** Forgets cached analyses (after public keys or configuration documents were added). */
  invalidate(): void {
    invalidateAnalyses();
  },
  /** Accounts, the account-to-account matrix of KMS use, and every cross-account call with its status. */
  async crossAccount(): Promise<Correlation> {
    return getCorrelation();
  },
  /** CloudHSM clusters with their HSMs, backups, custom key stores and keys. */
  async clusters(): Promise<ClusterSummary[]> {
    return (await getAnalysis()).clusters;
  },
  /** Principals (assumed-role sessions grouped under their role), most active first. */
  async principals(): Promise<PrincipalSummary[]> {
    const a = await getAnalysis();
    return analyzePrincipals(ix, a.keyOfRow);
  },
  /** How long the last analysis took, ms. */
  async analysisMs(): Promise<number> {
    return (await getAnalysis()).ms;
  },
  /** The eventID of a row ('' when none or while the field index loads). */
  eventId(row: number): string {
    return fields.valueOfRow(row, 'eventID') ?? '';
  },
  /** Index status without waiting for a load. */
  status,
  /** Drops the in-memory index (after the store was wiped). */
  reset,
  /** Delete all `wipe` started: let go of the store (also heard on the store channel; each wipe is handled once). */
  storeClosing,
  /** Delete all `wipe` deleted the store: open the new one (also heard on the store channel). */
  storeCleared,
  /** Removes all listeners. */
  unsubscribeAll(): void {
    listeners = [];
  },
};

const SEVERITY_RANK: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

/** Findings of every analysis, most severe first, then most recent. */
async function allFindings(): Promise<Finding[]> {
  const a = await getAnalysis();
  const c = await getCorrelation();
  const v = await getCoverage();
  const i = await getIntegrity();
  const g = await getSigma();
  const out = [...a.findings, ...c.findings, ...v.findings, ...i.findings, ...g.findings];
  return out.sort((x, y) => (SEVERITY_RANK[x.severity] ?? 9) - (SEVERITY_RANK[y.severity] ?? 9) || y.last - x.last);
}

async function eventDetail(row: number): Promise<EventDetail | null> {
  if (row < 0 || row >= ix.n) return null;
  const text = await raw.eventText(ix.seg[row], ix.off[row]);
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
  const f = await db.files.get(ix.file[row]);
  return { row, json, caller, file: f ? { id: f.id, path: f.path, status: f.status, s3: f.s3 } : null };
}

/** Type of the query worker's API. */
export type QueryWorkerApi = typeof api;

/** The API as exposed: every call first waits for the store to be open. */
const exposed = Object.fromEntries(
  Object.entries(api).map(([name, fn]) => [name, async (...args: unknown[]) => {
    await reopening;
    return (fn as (...a: unknown[]) => unknown)(...args);
  }]),
);
Comlink.expose(exposed);
