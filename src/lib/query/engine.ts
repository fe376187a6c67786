import { stringHash } from '../codec/hash';
import type { StringColumn } from '../codec/segment';
import type { CodeArray, ColumnarIndex, SnapshotPart } from './columnar';
import type { FieldIndex, ValueTest } from './fieldIndex';
import { FoldedDict } from './foldedDict';
import { QuerySyntaxError, type QueryNode, type Value } from './parser';
import { foldCase, keyRefMatches, resolveField, type ResolvedField, type Target } from './resolve';

/** Options of one evaluation. */
export interface EvalOptions {
  /** Inclusive start of the time window, epoch ms. */
  from?: number;
  /** Exclusive end of the time window, epoch ms. */
  to?: number;
  /** "Now" for `last:`, epoch ms (default Date.now()). */
  now?: number;
}

/** What an evaluation produced besides the bitmap. */
export interface EvalInfo {
  /** Non-fatal notes, e.g. a field no stored event has. */
  warnings: string[];
  /** True when the query needed the generic field index (any path, free text). */
  usedFields: boolean;
  /**
   * Set when a time window is given: events matching the query that the window left out because their
   * eventTime cannot be read (absent, or NaN: see `parseEventTime` in cloudtrail/event.ts).
   */
  untimed?: number;
}

/** Escapes a string for use inside a RegExp. */
function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A `*` wildcard pattern as an anchored RegExp over case-folded text (the pattern is folded here). */
function wildcardRegExp(pattern: string): RegExp {
  return new RegExp('^' + foldCase(pattern).split('*').map(escapeRe).join('.*') + '$', 's');
}

/**
 * Builds the test of one value for a `field:value` match. Exact and wildcard matches are case-insensitive
 * (the test receives values folded by `foldCase`: `lower` is true); regexes are case-sensitive unless flagged `i`.
 */
function valueTest(v: Value, keyMatch: boolean): { test: ValueTest; lower: boolean } {
  switch (v.kind) {
    case 'any':
      return { test: (s) => s !== '' && s !== 'null', lower: false };
    case 'exact': {
      const x = foldCase(v.text);
      return { test: keyMatch ? (s) => keyRefMatches(s, x) : (s) => s === x, lower: true };
    }
    case 'wildcard': {
      const re = wildcardRegExp(v.pattern);
      return { test: (s) => re.test(s), lower: true };
    }
    case 'regex': {
      const re = new RegExp(v.source, v.flags);
      return { test: (s) => re.test(s), lower: false };
    }
  }
}

/** Parses a comparison operand: a number, or a UTC time (ISO 8601, date only allowed) as epoch ms. */
function operand(text: string, forTime: boolean): number {
  if (!forTime && /^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(text)
    ? `${text}T00:00:00Z`
    : /[zZ]|[+-]\d{2}:?\d{2}$/.test(text)
      ? text
      : `${text}Z`;
  return Date.parse(iso);
}

/**
 * Evaluates query ASTs over the columnar index and the generic field index into row bitmaps (one byte per
 * row: 1 = match). Each leaf is decided per dictionary entry first (a column's distinct values, a chunk's
 * distinct values), then rows are tested by code.
 */
export class Engine {
  /**
   * @param findingRows rows of each finding rule (for `finding:<rule>`), or null while the analyses have not
   *   run; the query worker computes them before evaluating a query that uses `finding:`.
   */
  constructor(
    private ix: ColumnarIndex,
    private fields: FieldIndex,
    private findingRows: () => Map<string, Uint32Array> | null = () => null,
  ) {}

  /**
   * Row bitmaps given back (by the combining nodes, and by callers through {@link release}), reused: at 5M
   * rows a new bitmap is 5 MB of fresh memory, whose page faults cost more than the query's own work.
   */
  private spare: Uint8Array[] = [];

  /** A zeroed bitmap of `ix.n` bytes, a spare one when there is one. */
  private bitmap(): Uint8Array {
    const n = this.ix.n;
    for (let b = this.spare.pop(); b; b = this.spare.pop()) if (b.length === n) return b.fill(0);
    return new Uint8Array(n);
  }

  /**
   * Gives back a bitmap that {@link evaluate} returned, once the caller no longer reads it (it is handed out
   * again, overwritten, by a later evaluation). Optional: a bitmap not given back is simply collected.
   */
  release(bm: Uint8Array): void {
    if (bm.length === this.ix.n && this.spare.length < 4 && !this.spare.includes(bm)) this.spare.push(bm);
  }

  /**
   * Evaluates a query to a bitmap of `ix.n` bytes.
   * @throws QuerySyntaxError for semantic errors (a comparison on a value that is neither a number nor a time).
   */
  evaluate(node: QueryNode, opts: EvalOptions = {}, info: EvalInfo = { warnings: [], usedFields: false }): Uint8Array {
    const n = this.ix.n;
    const bm = this.node(node, opts, info);
    if (opts.from !== undefined || opts.to !== undefined) {
      const from = opts.from ?? -Infinity;
      const to = opts.to ?? Infinity;
      const t = this.ix.time;
      let untimed = 0;
      for (let i = 0; i < n; i++) {
        if (bm[i] && !(t[i] >= from && t[i] < to)) {
          bm[i] = 0;
          if (t[i] !== t[i]) untimed++;
        }
      }
      info.untimed = untimed;
    }
    return bm;
  }

  private node(node: QueryNode, opts: EvalOptions, info: EvalInfo): Uint8Array {
    const n = this.ix.n;
    switch (node.type) {
      case 'all':
        return this.bitmap().fill(1);
      case 'and': {
        const acc = this.node(node.children[0], opts, info);
        for (let k = 1; k < node.children.length; k++) {
          const b = this.node(node.children[k], opts, info);
          for (let i = 0; i < n; i++) acc[i] &= b[i];
          this.release(b);
        }
        return acc;
      }
      case 'or': {
        const acc = this.node(node.children[0], opts, info);
        for (let k = 1; k < node.children.length; k++) {
          const b = this.node(node.children[k], opts, info);
          for (let i = 0; i < n; i++) acc[i] |= b[i];
          this.release(b);
        }
        return acc;
      }
      case 'not': {
        const b = this.node(node.child, opts, info);
        for (let i = 0; i < n; i++) b[i] ^= 1;
        return b;
      }
      case 'last': {
        const since = (opts.now ?? Date.now()) - node.ms;
        const out = this.bitmap();
        const t = this.ix.time;
        for (let i = 0; i < n; i++) if (t[i] >= since) out[i] = 1;
        return out;
      }
      case 'compare':
        return this.compare(node, info);
      case 'match':
        return node.field === null
          ? this.freeText(node.value, info)
          : this.fieldMatch(resolveField(node.field), node.value, info);
    }
  }

  private columnMatch(col: StringColumn, list: boolean, test: ValueTest, lower: boolean, out: Uint8Array): void {
    const g = this.ix.cols[col];
    const hit = new Uint8Array(g.dict.length);
    let any = false;
    for (let c = 0; c < g.dict.length; c++) {
      const raw = g.dict[c];
      if (raw === '') continue; // '' is "absent": no value to match
      const v = lower ? foldCase(raw) : raw;
      const ok = list && v.includes('\n') ? v.split('\n').some(test) : test(v);
      if (ok) {
        hit[c] = 1;
        any = true;
      }
    }
    if (!any) return;
    const codes = g.codes;
    markCodes(codes, hit, out, this.ix.n);
  }

  private fieldMatch(f: ResolvedField, v: Value, info: EvalInfo): Uint8Array {
    const out = this.bitmap();
    const { test, lower } = valueTest(v, !!f.keyMatch);
    for (const t of f.targets) this.target(t, f, v, test, lower, out, info);
    return out;
  }

  private target(
    t: Target,
    f: ResolvedField,
    v: Value,
    test: ValueTest,
    lower: boolean,
    out: Uint8Array,
    info: EvalInfo,
  ): void {
    switch (t.kind) {
      case 'column':
        return this.columnMatch(t.col, !!t.list, test, lower, out);
      case 'eventID':
        if (v.kind === 'exact') {
          const h = new Uint32Array(2);
          stringHash(v.text, h, 0);
          const eid = this.ix.eid;
          for (let i = 0; i < this.ix.n; i++) if (eid[i * 2] === h[0] && eid[i * 2 + 1] === h[1]) out[i] = 1;
          return;
        }
        return this.target({ kind: 'path', path: 'eventID' }, f, v, test, lower, out, info);
      case 'time':
        return this.target({ kind: 'path', path: 'eventTime' }, f, v, test, lower, out, info);
      case 'finding': {
        const all = this.findingRows();
        if (!all) return;
        for (const [rule, rows] of all) {
          if (v.kind !== 'any' && !test(lower ? rule.toLowerCase() : rule)) continue;
          for (const r of rows) out[r] = 1;
        }
        return;
      }
      case 'path': {
        info.usedFields = true;
        // leaves kept only as columns (userIdentity.type...) when the path covers them (`userIdentity:Root`)
        const cols = columnsUnder(t.path);
        for (const c of cols) this.columnMatch(c, false, test, lower, out);
        if (this.fields.size && !this.fields.hasPath(t.path)) {
          if (!cols.length) info.warnings.push(`no stored event has a field "${t.path}"`);
          return;
        }
        if (v.kind === 'any') return this.fields.matchPresent(t.path, out);
        return this.fields.matchPath(
          t.path,
          test,
          lower,
          out,
          v.kind === 'exact' && !f.keyMatch ? foldCase(v.text) : undefined,
        );
      }
    }
  }

  private compare(node: Extract<QueryNode, { type: 'compare' }>, info: EvalInfo): Uint8Array {
    const f = resolveField(node.field);
    const out = this.bitmap();
    const isTime = f.targets.some((t) => t.kind === 'time');
    const x = operand(node.text, isTime);
    if (!Number.isFinite(x)) {
      throw new QuerySyntaxError(
        `"${node.text}" is not ${isTime ? 'a UTC time (2024-03-01 or 2024-03-01T12:00Z)' : 'a number or a UTC time'}`,
        node.pos,
        node.end,
      );
    }
    const op = node.op;
    const ok = (a: number) => (op === '>' ? a > x : op === '>=' ? a >= x : op === '<' ? a < x : a <= x);
    if (isTime) {
      const t = this.ix.time;
      for (let i = 0; i < this.ix.n; i++) if (ok(t[i])) out[i] = 1;
      return out;
    }
    const numeric = /^-?\d+(\.\d+)?$/.test(node.text);
    // values compare as decimal numbers ("0x1F" is text), or as times only when they are ISO 8601 (Date.parse
    // alone reads "42" or "us-east-1" as years)
    const test: ValueTest = (s) => {
      const a = numeric ? (DECIMAL.test(s) ? Number(s) : NaN) : ISO_TIME.test(s) ? operand(s, true) : NaN;
      return Number.isFinite(a) && ok(a);
    };
    for (const t of f.targets) {
      if (t.kind === 'column') this.columnMatch(t.col, !!t.list, test, false, out);
      else if (t.kind === 'path') {
        info.usedFields = true;
        for (const c of columnsUnder(t.path)) this.columnMatch(c, false, test, false, out);
        this.fields.matchPath(t.path, test, false, out);
      } else if (t.kind === 'eventID') this.fields.matchPath('eventID', test, false, out);
    }
    return out;
  }

  /** Bare words, phrases, wildcards and regexes: over every string column and every stored value. */
  private freeText(v: Value, info: EvalInfo): Uint8Array {
    info.usedFields = true;
    const out = this.bitmap();
    let test: ValueTest;
    let lower = true;
    if (v.kind === 'exact') {
      const needle = foldCase(v.text);
      test = (s) => s.includes(needle);
      this.fields.matchText(needle, out);
    } else if (v.kind === 'wildcard') {
      // unanchored: outer stars are redundant (and a leading .* backtracks quadratically on long values)
      const re = new RegExp(
        foldCase(v.pattern)
          .replace(/^\*+|\*+$/g, '')
          .split('*')
          .map(escapeRe)
          .join('.*'),
        's',
      );
      test = (s) => re.test(s);
      this.fields.matchAnyValue(test, true, out);
    } else if (v.kind === 'regex') {
      const re = new RegExp(v.source, v.flags);
      test = (s) => re.test(s);
      lower = false;
      this.fields.matchAnyValue(test, false, out);
    } else {
      return out.fill(1);
    }
    const needle = v.kind === 'exact' ? foldCase(v.text) : null;
    for (const col of FREE_TEXT_COLUMNS) {
      const list = col === 'resourceNames' || col === 'resourceTypes';
      if (needle === null || !this.columnContains(col, list, needle, out))
        this.columnMatch(col, list, test, lower, out);
    }
    return out;
  }

  /** Each free-text column's dictionary case-folded and joined, kept from query to query (see {@link FoldedDict}). */
  private foldedCols = new Map<StringColumn, FoldedDict>();

  /**
   * Free text `needle` (case-folded) in a string column by one native search over its folded dictionary: marks
   * the rows whose value contains it, as {@link columnMatch} with `includes` would. Returns false, marking
   * nothing, when it cannot answer (an empty needle, or a needle or value holding U+0000) and the caller must.
   */
  private columnContains(col: StringColumn, list: boolean, needle: string, out: Uint8Array): boolean {
    if (!needle || needle.includes('\u0000')) return false;
    // a list column's values are tested line by line: no line holds a needle that holds a line break
    if (list && needle.includes('\n')) return true;
    let folded = this.foldedCols.get(col);
    if (!folded) this.foldedCols.set(col, (folded = new FoldedDict()));
    const g = this.ix.cols[col];
    const hit = folded.search(g.dict, needle);
    if (hit === undefined) return false;
    if (hit !== null) markCodes(g.codes, hit, out, this.ix.n);
    return true;
  }
}

/**
 * Marks (sets to 1) `out[row]` for each of the first `n` rows whose code has `hit[code]` 1 (`hit` holds 0 or 1);
 * other rows keep their mark. Without a branch on the match: at 5M rows and ~20% matching, 6 ms against 11 ms
 * with an `if` (Node, bitmaps reused).
 */
function markCodes(codes: CodeArray, hit: Uint8Array, out: Uint8Array, n: number): void {
  for (let i = 0; i < n; i++) out[i] |= hit[codes[i]];
}

/**
 * The string columns free text searches directly: those whose values are not in the generic field index, and the
 * derived ones whose values may be in no single leaf (principal `AWSAccount:AIDA…`, username `root`). Not the
 * `caller` classification label.
 */
const FREE_TEXT_COLUMNS: StringColumn[] = [
  'eventSource',
  'eventName',
  'awsRegion',
  'recipientAccountId',
  'sourceIPAddress',
  'userAgent',
  'errorCode',
  'eventType',
  'identityType',
  'accountId',
  'accessKeyId',
  'readOnly',
  'principal',
  'username',
  'key',
  'resourceNames',
  'resourceTypes',
];

/** Event paths kept only as columns, not in the generic field store (see COLUMN_PATHS in store/fields.ts). */
const COLUMN_PATH_COLUMNS: [string, StringColumn][] = [
  ['eventSource', 'eventSource'],
  ['eventName', 'eventName'],
  ['awsRegion', 'awsRegion'],
  ['recipientAccountId', 'recipientAccountId'],
  ['sourceIPAddress', 'sourceIPAddress'],
  ['userAgent', 'userAgent'],
  ['errorCode', 'errorCode'],
  ['eventType', 'eventType'],
  ['readOnly', 'readOnly'],
  ['userIdentity.type', 'identityType'],
  ['userIdentity.accountId', 'accountId'],
  ['userIdentity.accessKeyId', 'accessKeyId'],
];

/** The columns holding the leaves at or below a path that the field store does not keep (names case-insensitive). */
function columnsUnder(path: string): StringColumn[] {
  const f = foldCase(path);
  return COLUMN_PATH_COLUMNS.filter(([p]) => {
    const l = foldCase(p);
    return l === f || l.startsWith(f + '.');
  }).map(([, c]) => c);
}

/** A decimal number, as a compared value must read to compare as a number (leading zeros allowed: account IDs). */
const DECIMAL = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?\s*$/i;

/** An ISO 8601 time or date (what a compared value must look like to compare as a time). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$/i;

/** True when the query uses `finding:` (the analyses must have run). */
export function usesFindings(node: QueryNode): boolean {
  switch (node.type) {
    case 'and':
    case 'or':
      return node.children.some(usesFindings);
    case 'not':
      return usesFindings(node.child);
    case 'match':
      return node.field !== null && resolveField(node.field).targets.some((t) => t.kind === 'finding');
    default:
      return false;
  }
}

/** True when evaluating the query needs the generic field index (a path field, or free text). */
export function needsFieldIndex(node: QueryNode): boolean {
  switch (node.type) {
    case 'and':
    case 'or':
      return node.children.some(needsFieldIndex);
    case 'not':
      return needsFieldIndex(node.child);
    case 'match':
      if (node.field === null) return node.value.kind !== 'any';
      if (resolveField(node.field).targets.some((t) => t.kind === 'finding')) return true;
      return resolveField(node.field).targets.some(
        (t) => t.kind === 'path' || t.kind === 'time' || (t.kind === 'eventID' && node.value.kind !== 'exact'),
      );
    case 'compare':
      return resolveField(node.field).targets.some((t) => t.kind === 'path' || t.kind === 'eventID');
    default:
      return false;
  }
}

/**
 * The parts of the columnar index besides the rows and eventTime ({@link SnapshotPart}: string columns, eventID
 * hashes) that evaluating a query reads, for a query that needs neither the generic field index
 * ({@link needsFieldIndex}) nor the analyses ({@link usesFindings}); a reload answers it once these are restored.
 */
export function queryParts(node: QueryNode): SnapshotPart[] {
  const out = new Set<SnapshotPart>();
  const walk = (n: QueryNode): void => {
    switch (n.type) {
      case 'and':
      case 'or':
        n.children.forEach(walk);
        return;
      case 'not':
        return walk(n.child);
      case 'match':
      case 'compare':
        if (n.field === null) return;
        for (const t of resolveField(n.field).targets) {
          if (t.kind === 'column') out.add(t.col);
          else if (t.kind === 'eventID') out.add('eid');
          else if (t.kind === 'path') for (const c of columnsUnder(t.path)) out.add(c);
        }
        return;
      default:
        return;
    }
  };
  walk(node);
  return [...out];
}
