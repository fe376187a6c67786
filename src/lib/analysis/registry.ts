/**
 * Every analysis the query service runs, as entries of ONE registry: `{ id, inputs, run, findings }`. Results are
 * memoised on the index version (a counter the service bumps whenever the index or the store's analysis inputs
 * change), and the `finding:` rows are the union over every entry's findings (plus the key analysis's rule
 * rows), so no analysis can overwrite another's rows whatever order they ran in.
 */
import type { EventTable, FieldValues } from '../codec/table';
import type { RawReader } from '../store/raw';
import { TRAIL_CONFIG_KINDS, type ConfigRecord, type DigestRecord, type FileRecord } from '../store/db';
import { analyzeKms, type KmsAnalysis } from './kms';
import { correlate, type Correlation } from './crossAccount';
import { activitySource, kmsCallSource, trailEvents } from './inputs';
import {
  coverageFindings,
  exclusionWindows,
  kmsSilence,
  trailTimelines,
  unrecordedCrossAccountCalls,
  type ExclusionWindow,
  type KmsSilenceSpan,
  type TrailTimeline,
  type UnrecordedCall,
} from './coverage';
import { trailConfigSnapshots, type TrailConfigSnapshot } from './trailConfig';
import {
  compileSigma,
  parseSigma,
  queryText,
  sigmaFinding,
  sigmaMatches,
  sigmaPlaceholders,
  sigmaRuleId,
  type RowQuery,
  type SigmaPlaceholderValues,
} from './sigma';
import {
  parsePublicKeys,
  validate,
  type IntegrityReport,
  type LoadedDigest,
  type LoadedLogFile,
  type PublicKey,
} from './integrity';
import type { Finding } from './types';

/** What the coverage analysis found: trails over time, exclusion windows, KMS silences, unrecorded calls. */
export interface CoverageResult {
  timelines: TrailTimeline[];
  windows: ExclusionWindow[];
  silences: KmsSilenceSpan[];
  unrecorded: UnrecordedCall[];
  findings: Finding[];
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
  /**
   * Notes from running the rule, e.g. `no stored event has a field "src_ip"`: the rule names a field no stored
   * event has (often a field of another log source), so that part of it matches nothing.
   */
  warnings?: string[];
}

/** An `|expand` placeholder used by imported rules, with the values given for it (none yet: empty). */
export interface SigmaPlaceholder {
  name: string;
  values: string[];
}

/** Every imported Sigma rule run over the events: outcomes, YAML errors, placeholders and findings. */
export interface SigmaRun {
  results: SigmaResult[];
  errors: { rule?: string; message: string }[];
  placeholders: SigmaPlaceholder[];
  findings: Finding[];
}

/** Result type of each registered analysis, by id. */
export interface AnalysisResults {
  kms: KmsAnalysis;
  crossAccount: Correlation;
  coverage: CoverageResult;
  integrity: IntegrityReport;
  sigma: SigmaRun;
}

/** Id of a registered analysis. */
export type AnalysisId = keyof AnalysisResults;

/**
 * What an analysis reads: `columns` (the columnar index loaded), `fields` (every chunk's field store loaded),
 * `raw` (stored event texts), `configs` / `files` / `digests` (store tables), or another analysis's result.
 */
export type AnalysisInput = 'columns' | 'fields' | 'raw' | 'configs' | 'files' | 'digests' | AnalysisId;

/** What an analysis runs over; the service provides it (store reads go through it, never to the store directly). */
export interface AnalysisContext {
  ix: EventTable;
  fields: FieldValues;
  /** The reader of stored event texts (a function: the store is opened again after Delete all). */
  raw(): RawReader;
  engine: RowQuery;
  /** The stored configuration documents (trail configurations, public keys, Sigma rules). */
  configs(): Promise<ConfigRecord[]>;
  /** The stored file records. */
  files(): Promise<FileRecord[]>;
  /** The stored digest files. */
  digests(): Promise<DigestRecord[]>;
  /** Another analysis's result (memoised on the same version). */
  get<K extends AnalysisId>(id: K): Promise<AnalysisResults[K]>;
}

/** One analysis of the registry. */
export interface AnalysisEntry<K extends AnalysisId> {
  id: K;
  /** What it reads: the service makes `columns` / `fields` ready before `run`; a version bump of any re-runs it. */
  inputs: readonly AnalysisInput[];
  run(ctx: AnalysisContext): Promise<AnalysisResults[K]>;
  /** Its findings (each with the rows `finding:<rule>` selects). */
  findings(result: AnalysisResults[K]): Finding[];
  /** Rows of each of its rules when they are kept apart from the findings (the key analysis); else the findings' rows. */
  ruleRows?(result: AnalysisResults[K]): Map<string, Uint32Array>;
}

/** S3 key of a dropped path (`archive!member` → member; from `AWSLogs/` on when present). */
function s3KeyOf(p: string): string {
  const tail = p.includes('!') ? p.slice(p.lastIndexOf('!') + 1) : p;
  const i = tail.indexOf('AWSLogs/');
  return i >= 0 ? tail.slice(i) : tail;
}

const kms: AnalysisEntry<'kms'> = {
  id: 'kms',
  inputs: ['columns', 'fields'],
  run: async (ctx) => analyzeKms(ctx.ix, ctx.fields),
  findings: (a) => a.findings,
  ruleRows: (a) => a.ruleRows,
};

const crossAccount: AnalysisEntry<'crossAccount'> = {
  id: 'crossAccount',
  inputs: ['columns', 'fields', 'kms'],
  async run(ctx) {
    const a = await ctx.get('kms');
    const { calls, others, order } = kmsCallSource(ctx.ix, ctx.fields, a);
    const accounts = ctx.ix.column('recipientAccountId');
    const loaded = new Set<string>();
    for (let c = 0; c < accounts.size; c++) if (accounts.text(c)) loaded.add(accounts.text(c));
    return correlate(calls, loaded, { others, order });
  },
  findings: (c) => c.findings,
};

const coverage: AnalysisEntry<'coverage'> = {
  id: 'coverage',
  inputs: ['columns', 'raw', 'configs', 'crossAccount'],
  async run(ctx) {
    const events = await trailEvents(ctx.ix, ctx.raw());
    const snapshots: TrailConfigSnapshot[] = [];
    for (const c of await ctx.configs()) {
      if (!TRAIL_CONFIG_KINDS.has(c.kind)) continue;
      try {
        snapshots.push(...trailConfigSnapshots(c.doc, c.capturedAt || undefined, c.path));
      } catch {
        /* a document that is not a configuration output after all */
      }
    }
    const timelines = trailTimelines(events, snapshots);
    const windows = exclusionWindows(timelines);
    const corr = await ctx.get('crossAccount');
    const silences = kmsSilence(activitySource(ctx.ix));
    const findings = coverageFindings({ timelines, windows, crossAccount: corr.records, silences });
    return {
      timelines,
      windows,
      silences,
      unrecorded: unrecordedCrossAccountCalls(corr.records, timelines, windows),
      findings,
    };
  },
  findings: (v) => v.findings,
};

/**
 * Integrity validation (analysis/integrity.ts `validate`) of the stored log and digest files. A log file is
 * loaded when ingest read its bytes: its record has its SHA-256 (`FileRecord.sha256`), or the store keeps its
 * source bytes (ingest leaves the hash of such a file out, ingest/ingest-core.ts). The missing hashes are
 * computed from the stored sources only for the log files a loaded digest lists (`ValidateOptions.logSha256`),
 * and written back to their records (store/filehash.ts): CloudTrail digest files list the SHA-256 of each
 * log file's uncompressed content (`logFiles[].hashValue`, "CloudTrail digest file structure", AWS CloudTrail
 * User Guide).
 */
const integrity: AnalysisEntry<'integrity'> = {
  id: 'integrity',
  // (`raw` is not an input: its reader is used for stored sources only, which need no index loaded)
  inputs: ['files', 'digests', 'configs'],
  async run(ctx) {
    const files = await ctx.files();
    const byId = new Map(files.map((f) => [f.id!, f]));
    const raw = ctx.raw();
    const withSource = files.some((f) => !f.sha256 && f.s3?.fileType === 'log') ? await raw.sourceFileIds() : null;
    const logs: LoadedLogFile[] = files
      .filter((f) => (f.sha256 || withSource?.has(f.id!)) && f.s3?.fileType === 'log')
      .map((f) => ({ path: f.path, s3Key: s3KeyOf(f.path), sha256: f.sha256 ?? '', fileId: f.id! }));
    const digests: LoadedDigest[] = (await ctx.digests()).map((d) => ({
      path: d.path,
      s3Key: s3KeyOf(d.path),
      fileId: d.fileId,
      sha256: byId.get(d.fileId)?.sha256 ?? '',
      digest: d.digest,
    }));
    const keys: PublicKey[] = [];
    for (const c of await ctx.configs()) {
      if (c.kind !== 'list-public-keys') continue;
      try {
        keys.push(...parsePublicKeys(c.doc));
      } catch {
        /* reported by validate as key problems when malformed */
      }
    }
    return validate(logs, digests, keys, { logSha256: async (f) => (await raw.sourceSha256(f.fileId)) ?? '' });
  },
  findings: (i) => i.findings,
};

const sigma: AnalysisEntry<'sigma'> = {
  id: 'sigma',
  inputs: ['columns', 'fields', 'configs'],
  async run(ctx) {
    const results: SigmaResult[] = [];
    const errors: { rule?: string; message: string }[] = [];
    const findings: Finding[] = [];
    const configs = await ctx.configs();
    const values: SigmaPlaceholderValues = {};
    for (const c of configs)
      if (c.kind === 'sigma-placeholders' && c.doc && typeof c.doc === 'object') Object.assign(values, c.doc);
    const used = new Set<string>();
    for (const c of configs) {
      if (c.kind !== 'sigma' || typeof c.doc !== 'string') continue;
      const parsed = parseSigma(c.doc, c.path);
      errors.push(...parsed.errors);
      for (const rule of parsed.rules) {
        const placeholders = sigmaPlaceholders(rule);
        for (const p of placeholders) used.add(p);
        const compiled = compileSigma(rule, values);
        const base = {
          id: sigmaRuleId(rule),
          title: rule.title,
          source: rule.source,
          level: rule.level ?? 'medium',
          placeholders,
        };
        if (!compiled.ok) {
          results.push({ ...base, ok: false, reason: compiled.reason, count: 0 });
          continue;
        }
        const warnings: string[] = [];
        const rows = sigmaMatches(ctx.engine, ctx.ix, ctx.fields, compiled, warnings);
        const query = compiled.aggregation ? undefined : (queryText(compiled.query) ?? undefined);
        results.push({
          ...base,
          ok: true,
          count: rows.length,
          query,
          aggregation: compiled.aggregation?.text,
          ...(warnings.length ? { warnings } : {}),
        });
        if (rows.length) findings.push(sigmaFinding(rule, rows, ctx.ix, compiled.aggregation));
      }
    }
    const placeholders = [...used]
      .sort()
      .map((name) => ({ name, values: Array.isArray(values[name]) ? values[name].map(String) : [] }));
    return { results, errors, placeholders, findings };
  },
  findings: (g) => g.findings,
};

/** The registry: every analysis, in the order their findings are listed before sorting. */
export const ANALYSES: { readonly [K in AnalysisId]: AnalysisEntry<K> } = {
  kms,
  crossAccount,
  coverage,
  integrity,
  sigma,
};

/** Ids of every registered analysis, in registry order. */
export const ANALYSIS_IDS = Object.keys(ANALYSES) as AnalysisId[];

/**
 * Runs registered analyses at most once per index version and keeps their results.
 * A result computed for an older version is never returned once the version moved on (a run that started
 * before a bump is run again for the new version).
 */
export class AnalysisCache {
  private memo = new Map<AnalysisId, { version: number; value: Promise<unknown> }>();
  private settled = new Map<AnalysisId, { version: number; value: unknown }>();
  private rows: { version: number; count: number; map: Map<string, Uint32Array> } | null = null;

  /**
   * @param ctx what analyses run over (its `get` is overridden by this cache's).
   * @param version the current index version.
   * @param prepare makes inputs ready (`columns`, `fields`) before a run.
   * @param registry the entries (default {@link ANALYSES}; tests may wrap `run`).
   */
  constructor(
    private readonly ctx: Omit<AnalysisContext, 'get'>,
    private readonly version: () => number,
    private readonly prepare: (inputs: readonly AnalysisInput[]) => Promise<void>,
    private readonly registry: { readonly [K in AnalysisId]: AnalysisEntry<K> } = ANALYSES,
  ) {}

  /**
   * The analysis's result for the current version (run now when not yet run for it). Its inputs are made ready
   * first (which may bump the version: deferred field stores loaded), then the version is read. Rejections are
   * not kept.
   */
  async get<K extends AnalysisId>(id: K): Promise<AnalysisResults[K]> {
    const entry = this.registry[id] as AnalysisEntry<K>;
    await this.prepare(entry.inputs);
    const v = this.version();
    const hit = this.memo.get(id);
    if (hit && hit.version === v) return hit.value as Promise<AnalysisResults[K]>;
    const value = entry.run({ ...this.ctx, get: (dep) => this.get(dep) });
    this.memo.set(id, { version: v, value });
    value.then(
      (r) => {
        if (this.memo.get(id)?.value === value) this.settled.set(id, { version: v, value: r });
      },
      () => {
        if (this.memo.get(id)?.value === value) this.memo.delete(id);
      },
    );
    return value;
  }

  /** Findings of every registered analysis (runs those not yet run for this version), in registry order. */
  async findings(): Promise<Finding[]> {
    const out: Finding[] = [];
    for (const id of ANALYSIS_IDS) {
      const r = await this.get(id);
      out.push(...(this.registry[id] as AnalysisEntry<AnalysisId>).findings(r as never));
    }
    return out;
  }

  /**
   * Rows of each finding rule (for `finding:<rule>`): the union, rule by rule, of every analysis that finished
   * for the current version (the key analysis's rule rows, every other one's findings' rows).
   */
  ruleRows(): Map<string, Uint32Array> {
    const v = this.version();
    const done = [...this.settled].filter(([, s]) => s.version === v);
    if (this.rows && this.rows.version === v && this.rows.count === done.length) return this.rows.map;
    const sets = new Map<string, Set<number>>();
    const add = (rule: string, rows: ArrayLike<number>) => {
      let s = sets.get(rule);
      if (!s) sets.set(rule, (s = new Set()));
      for (let i = 0; i < rows.length; i++) s.add(rows[i]);
    };
    for (const [id, s] of done) {
      const entry = this.registry[id] as AnalysisEntry<AnalysisId>;
      if (entry.ruleRows) for (const [rule, rows] of entry.ruleRows(s.value as never)) add(rule, rows);
      else for (const f of entry.findings(s.value as never)) add(f.rule, f.rows);
    }
    const map = new Map([...sets].map(([rule, s]) => [rule, Uint32Array.from(s)]));
    this.rows = { version: v, count: done.length, map };
    return map;
  }

  /** Forgets every result (the store was wiped). */
  clear(): void {
    this.memo.clear();
    this.settled.clear();
    this.rows = null;
  }
}
