import { SEP, type StoredFieldStore } from '../codec/fields';
import { ArrayPool } from './arrayPool';
import { foldCase } from './resolve';
import type { FieldValues } from '../codec/table';
import { isWellFormed, TextArena, textKernelAvailable, type ArenaText } from './textSearch';

/** One chunk's field store as loaded in the query worker, with its first global row. */
interface LoadedFields {
  base: number;
  n: number;
  paths: string[];
  /** The SEP-joined values, in pieces (see StoredFieldStore, codec/fields.ts): joined, one text. */
  values: string[];
  /** Start offset of each piece of `values` in the text (null: one piece). */
  pieceStart: Uint32Array | null;
  /** Start offset of each value in the text; `offsets[nValues]` is one past the end (length + 1). */
  offsets: Uint32Array;
  nValues: number;
  /** The values case-folded, as a string (when not held by the text arena). */
  lower: string | null;
  /** The values case-folded, as UTF-8 in the field index's {@link TextArena} (instead of `lower`). */
  text: ArenaText | null;
  /**
   * Offsets of the values in `lower` (lower-casing can change lengths: U+0130 İ becomes two code units), or in
   * `text`, in bytes.
   */
  lowerOffsets: Uint32Array | null;
  /** `paths` case-folded (computed by the first query that needs them). */
  lowerPaths: string[] | null;
  /**
   * A query searched the chunk before it was case-folded, without folding it (see {@link FieldIndex.searchFolded}):
   * the next one folds it.
   */
  searchedUnfolded: boolean;
  rowStart: Uint32Array;
  entryPath: Uint16Array;
  entryValue: Uint16Array | Uint32Array;
}

/** A test of one value string (already case-folded with `foldCase` when the matcher is case-insensitive). */
export type ValueTest = (value: string) => boolean;

/**
 * The generic field index: every leaf of every event (path → value), per chunk, as stored by the ingest
 * workers. Answers matches on any CloudTrail path and free-text search over all values, writing matches
 * into a row bitmap (one byte per global row).
 */
export class FieldIndex implements FieldValues {
  private segs: LoadedFields[] = [];
  /** Chunk ids loaded. */
  readonly loaded = new Set<number>();
  /** Every path seen in any chunk (for warnings on unknown fields). */
  readonly knownPaths = new Set<string>();
  /** Holds the case-folded values for the SIMD search (created by the first free-text query; null: not used). */
  private arena: TextArena | null | undefined;
  private readonly useKernel: boolean;
  private readonly arenaLimit: number;
  /**
   * Holds the chunks' value offsets: a few large buffers instead of one per chunk, which the worker's end frees
   * one by one (see query/arrayPool.ts).
   */
  private pool = new ArrayPool();

  /**
   * @param opts.textKernel search free text with the WebAssembly kernel (query/textSearch.ts) where the engine
   *   has it (default true); false keeps every folded text as a string searched by `indexOf` (the reference).
   * @param opts.textArenaLimitBytes most bytes the kernel's memory may hold (default: as much as it can grow to);
   *   a chunk's text that does not fit stays a string, searched by `indexOf`.
   */
  constructor(opts: { textKernel?: boolean; textArenaLimitBytes?: number } = {}) {
    this.useKernel = opts.textKernel ?? true;
    this.arenaLimit = opts.textArenaLimitBytes ?? Infinity;
  }

  /** Adds a chunk's field store (as stored: values in one string or in pieces) whose rows start at global row `base`. */
  add(s: StoredFieldStore, base: number): void {
    if (this.loaded.has(s.id)) return;
    this.loaded.add(s.id);
    const values = typeof s.values === 'string' ? [s.values] : s.values;
    const offsets = valueOffsets(values, s.nValues, this.pool);
    for (const p of s.paths) this.knownPaths.add(p);
    const seg: LoadedFields = {
      base,
      n: s.rowStart.length - 1,
      paths: s.paths,
      values,
      pieceStart: values.length > 1 ? pieceStarts(values, this.pool) : null,
      offsets,
      nValues: s.nValues,
      lower: null,
      text: null,
      lowerOffsets: null,
      lowerPaths: null,
      searchedUnfolded: false,
      rowStart: s.rowStart,
      entryPath: s.entryPath,
      entryValue: s.entryValue,
    };
    // keep chunks in row order (chunks committed during the initial load may arrive before older ones)
    let at = this.segs.length;
    while (at > 0 && this.segs[at - 1].base > base) at--;
    this.segs.splice(at, 0, seg);
  }

  /** Bytes of WebAssembly memory holding case-folded values for the free-text kernel (0: none, or not used). */
  get textArenaBytes(): number {
    return this.arena?.bytes ?? 0;
  }

  /** Number of chunks loaded. */
  get size(): number {
    return this.segs.length;
  }

  private value(seg: LoadedFields, c: number): string {
    const start = seg.offsets[c];
    const end = seg.offsets[c + 1] - 1;
    const ps = seg.pieceStart;
    if (ps === null) return seg.values[0].slice(start, end);
    // a value lies in one piece (pieces end after a separator)
    const p = upperBound(ps, start) - 1;
    return seg.values[p].slice(start - ps[p], end - ps[p]);
  }

  /** The segment's paths case-folded (cached: every query on a path or free text tests each one). */
  private foldedPaths(seg: LoadedFields): string[] {
    return (seg.lowerPaths ??= seg.paths.map(foldCase));
  }

  /**
   * Case-folds the segment's joined values once (cached with their offsets, which folding can shift): into the
   * text arena when the kernel is available and the text well-formed, else as a string.
   */
  private fold(seg: LoadedFields): void {
    if (seg.lowerOffsets !== null) return;
    const { lower, offsets } = foldedPieces(seg);
    if (this.arena === undefined)
      this.arena = this.useKernel && textKernelAvailable() ? new TextArena(this.arenaLimit) : null;
    const text = this.arena && lower.every(isWellFormed) ? this.addPieces(lower) : null;
    if (text) {
      seg.text = text;
      seg.lowerOffsets = text.ascii ? offsets : this.arena!.valueOffsets(text, seg.nValues);
    } else {
      seg.lower = lower.length === 1 ? lower[0] : lower.join('');
      seg.lowerOffsets = offsets;
    }
  }

  /** The pieces added one after another to the arena, as one text; null when one does not fit. */
  private addPieces(pieces: string[]): ArenaText | null {
    const arena = this.arena!;
    let first: ArenaText | null = null;
    let end = 0;
    let ascii = true;
    for (const p of pieces) {
      const t = arena.add(p);
      if (!t || (first && t.start !== end)) return null; // what was added stays unused
      first ??= t;
      end = t.end;
      ascii &&= t.ascii;
    }
    return first && { start: first.start, end, ascii };
  }

  /** Codes of the segment's values containing `needle` (case-folded, no SEP): a table with 1 at each, or null. */
  private foldedContaining(seg: LoadedFields, needle: string): Uint8Array | null {
    this.fold(seg);
    if (seg.lower !== null) return valuesContaining(seg.lower, seg.lowerOffsets!, seg.nValues, needle);
    const arena = this.arena!;
    const t = seg.text!;
    if (!TextArena.searchable(needle)) {
      const lower = arena.text(t);
      return valuesContaining(lower, valueOffsets(lower, seg.nValues), seg.nValues, needle);
    }
    return codesContaining(t.end - t.start, seg.lowerOffsets!, seg.nValues, (from) => arena.indexOf(t, needle, from));
  }

  /**
   * Whether a query searches `seg`'s case-folded text (folding it first when it is not yet), or, the first time a
   * query meets it unfolded, searches it without folding it (false: {@link unfoldedContaining}, or the entries
   * scanned for a path). Folding a chunk into the kernel's memory costs a few times one search without it (mostly
   * that memory's page faults), and the background fold ({@link foldSome}) may get to it first: so the first
   * query after a load (at 5M events, seconds of folding) does not wait for it, and the next one, which would
   * pay the search without folding again, folds it (ski rental: at most about twice the cheaper choice).
   */
  private searchFolded(seg: LoadedFields): boolean {
    if (seg.lowerOffsets !== null || seg.searchedUnfolded) return true;
    seg.searchedUnfolded = true;
    return false;
  }

  /**
   * As {@link foldedContaining}, for a chunk not case-folded yet, without folding it: its values are case-folded
   * for this search only and searched with native `indexOf` (the reference path, `textKernel: false`), piece by
   * piece when folding kept every piece's length (a value, and so a match of a needle without SEP, lies in one
   * piece). See {@link searchFolded}.
   */
  private unfoldedContaining(seg: LoadedFields, needle: string): Uint8Array | null {
    const { lower, offsets } = foldedPieces(seg);
    if (offsets !== seg.offsets) return valuesContaining(lower.join(''), offsets, seg.nValues, needle);
    const ps = seg.pieceStart;
    if (ps === null) return valuesContaining(lower[0], seg.offsets, seg.nValues, needle);
    const length = ps[ps.length - 1] + lower[lower.length - 1].length;
    return codesContaining(length, seg.offsets, seg.nValues, (from) => {
      for (let p = upperBound(ps, from) - 1, at = from - ps[p]; p < lower.length; p++, at = 0) {
        const i = lower[p].indexOf(needle, at);
        if (i !== -1) return ps[p] + i;
      }
      return -1;
    });
  }

  /**
   * Case-folds the values of loaded chunks not folded yet into the kernel's memory, until `budgetMs` (ms) has
   * passed (at least one chunk a call). Returns true once every loaded chunk is folded. For folding in the
   * background in slices (after a reload of 5M events, ~6 s of folding; 1M: ~1 s): free text then searches with
   * the kernel (a query that meets a chunk not folded yet: see {@link searchFolded}).
   */
  foldSome(budgetMs: number): boolean {
    const t0 = performance.now();
    for (const seg of this.segs) {
      if (seg.lowerOffsets !== null) continue;
      this.fold(seg);
      if (performance.now() - t0 >= budgetMs) return this.segs.every((s) => s.lowerOffsets !== null);
    }
    return true;
  }

  /** Whether any of the segment's case-folded values contains `needle` (case-folded). */
  private foldedIncludes(seg: LoadedFields, needle: string): boolean {
    this.fold(seg);
    if (seg.lower !== null) return seg.lower.includes(needle);
    if (!TextArena.searchable(needle)) return needle === '' || this.arena!.text(seg.text!).includes(needle);
    return this.arena!.indexOf(seg.text!, needle) !== -1;
  }

  /**
   * Path codes of a segment that are `path` or lie below it (`requestParameters` covers `requestParameters.keyId`).
   * Field names match case-insensitively (`resources.arn` is `resources.ARN`), as Athena's JSON SerDe reads
   * CloudTrail records ("Create a table for CloudTrail logs in Athena", JSON SerDe libraries).
   */
  private pathCodes(seg: LoadedFields, path: string): Uint8Array | null {
    let hit: Uint8Array | null = null;
    const folded = foldCase(path);
    const prefix = folded + '.';
    const paths = this.foldedPaths(seg);
    for (let i = 0; i < paths.length; i++) {
      const p = paths[i];
      if (p === folded || p.startsWith(prefix)) (hit ??= new Uint8Array(seg.paths.length))[i] = 1;
    }
    return hit;
  }

  /** True when some loaded event has a leaf at `path` or below it (field names case-insensitive). */
  hasPath(path: string): boolean {
    const folded = foldCase(path);
    for (const p of this.knownPaths) {
      const f = foldCase(p);
      if (f === folded || f.startsWith(folded + '.')) return true;
    }
    return false;
  }

  /**
   * Marks rows having a leaf at `path` (or below it) whose value passes `test` (each distinct value tested
   * once per chunk). With `lower`, values are case-folded (`foldCase`) before the test. `mustContain` (case-folded), when
   * given, is text every matching value contains: chunks whose values do not contain it are skipped with
   * one search of their case-folded text (exact matches on rare values, such as one ARN, touch few chunks);
   * the first query to meet a chunk not case-folded yet scans it instead (see {@link searchFolded}).
   */
  matchPath(path: string, test: ValueTest, lower: boolean, out: Uint8Array, mustContain?: string): void {
    for (const seg of this.segs) {
      const pc = this.pathCodes(seg, path);
      if (!pc) continue;
      // the skip reads the chunk's case-folded text: the first query to meet the chunk unfolded scans it instead
      if (mustContain && this.searchFolded(seg) && !this.foldedIncludes(seg, mustContain)) continue;
      const memo = new Uint8Array(seg.nValues); // 0 unknown, 1 match, 2 no
      const { rowStart, entryPath, entryValue, base } = seg;
      for (let r = 0; r < seg.n; r++) {
        for (let e = rowStart[r], end = rowStart[r + 1]; e < end; e++) {
          if (!pc[entryPath[e]]) continue;
          const c = entryValue[e];
          let m = memo[c];
          if (m === 0) {
            const v = this.value(seg, c);
            m = test(lower ? foldCase(v) : v) ? 1 : 2;
            memo[c] = m;
          }
          if (m === 1) {
            out[base + r] = 1;
            break;
          }
        }
      }
    }
  }

  /** Marks rows having any non-null leaf at `path` or below it. */
  matchPresent(path: string, out: Uint8Array): void {
    this.matchPath(path, (v) => v !== 'null' && v !== '', false, out);
  }

  /**
   * Free text: marks rows where `needle` (case-folded) occurs inside any value, or inside a field path name.
   * Searches each chunk's joined, case-folded values at once: with the SIMD kernel (query/textSearch.ts), or the
   * native `indexOf` where it is unavailable.
   */
  matchText(needle: string, out: Uint8Array): void {
    if (!needle) return;
    for (const seg of this.segs) {
      const hit = this.searchFolded(seg) ? this.foldedContaining(seg, needle) : this.unfoldedContaining(seg, needle);
      let pathHit: Uint8Array | null = null;
      const paths = this.foldedPaths(seg);
      for (let p = 0; p < paths.length; p++)
        if (paths[p].includes(needle)) (pathHit ??= new Uint8Array(paths.length))[p] = 1;
      if (!hit && !pathHit) continue;
      this.markRows(seg, hit, pathHit, out);
    }
  }

  /** Free text by a test of whole values (bare regex or wildcard): marks rows with any value passing it. */
  matchAnyValue(test: ValueTest, lower: boolean, out: Uint8Array): void {
    for (const seg of this.segs) {
      let hit: Uint8Array | null = null;
      for (let c = 0; c < seg.nValues; c++) {
        const v = this.value(seg, c);
        if (test(lower ? foldCase(v) : v)) (hit ??= new Uint8Array(seg.nValues))[c] = 1;
      }
      if (hit) this.markRows(seg, hit, null, out);
    }
  }

  /**
   * Marks (sets to 1) the rows of `seg` with an entry whose value code `hit` marks or whose path code `pathHit`
   * marks (tables of 0/1). Every entry is tested, without a branch on the test: a common word matches values all
   * over the chunk, and a loop that stopped at a row's first hit mispredicted on most rows (free text `decrypt` on
   * the 5M bench store, 1.34M rows: this pass took ~500 ms a query before, ~120-180 ms after, CPU profile).
   */
  private markRows(seg: LoadedFields, hit: Uint8Array | null, pathHit: Uint8Array | null, out: Uint8Array): void {
    const { rowStart, entryPath, entryValue, base, n } = seg;
    if (hit && pathHit) {
      for (let r = 0; r < n; r++) {
        let acc = out[base + r];
        for (let e = rowStart[r], end = rowStart[r + 1]; e < end; e++)
          acc |= hit[entryValue[e]] | pathHit[entryPath[e]];
        out[base + r] = acc;
      }
    } else if (hit) {
      for (let r = 0; r < n; r++) {
        let acc = out[base + r];
        for (let e = rowStart[r], end = rowStart[r + 1]; e < end; e++) acc |= hit[entryValue[e]];
        out[base + r] = acc;
      }
    } else if (pathHit) {
      for (let r = 0; r < n; r++) {
        let acc = out[base + r];
        for (let e = rowStart[r], end = rowStart[r + 1]; e < end; e++) acc |= pathHit[entryPath[e]];
        out[base + r] = acc;
      }
    }
  }

  /**
   * The first value at `path` of every row, in one pass over the entries: `out[row]` (undefined where the row
   * has no such leaf or its chunk is not loaded). For analyses that need one field of many rows.
   */
  materialize(path: string, n: number): (string | undefined)[] {
    const out = new Array<string | undefined>(n);
    for (const seg of this.segs) {
      const pc = seg.paths.indexOf(path);
      if (pc < 0) continue;
      for (let r = 0; r < seg.n; r++) out[seg.base + r] = this.firstValue(seg, pc, r);
    }
    return out;
  }

  /**
   * The first value at `path` of each of `rows` (global rows in ascending order), aligned with them (undefined
   * where a row has none): {@link materialize} for a few rows, without an array of every row.
   */
  materializeRows(path: string, rows: Uint32Array): (string | undefined)[] {
    const out = new Array<string | undefined>(rows.length);
    let k = 0;
    for (const seg of this.segs) {
      while (k < rows.length && rows[k] < seg.base) k++;
      if (k >= rows.length) break;
      const end = seg.base + seg.n;
      const pc = seg.paths.indexOf(path);
      for (; k < rows.length && rows[k] < end; k++) if (pc >= 0) out[k] = this.firstValue(seg, pc, rows[k] - seg.base);
    }
    return out;
  }

  /** The first value of path code `pc` in local row `r` of a chunk, or undefined. */
  private firstValue(seg: LoadedFields, pc: number, r: number): string | undefined {
    const { rowStart, entryPath, entryValue } = seg;
    for (let e = rowStart[r], end = rowStart[r + 1]; e < end; e++)
      if (entryPath[e] === pc) return this.value(seg, entryValue[e]);
    return undefined;
  }

  /** The loaded chunk holding global row `row` (binary search: chunks are kept in base order), or undefined. */
  private segOf(row: number): LoadedFields | undefined {
    let lo = 0;
    let hi = this.segs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.segs[mid];
      if (row < s.base) hi = mid - 1;
      else if (row >= s.base + s.n) lo = mid + 1;
      else return s;
    }
    return undefined;
  }

  /** The first value at `path` of global row `row`, or undefined (the chunk is not loaded, or no such leaf). */
  valueOfRow(row: number, path: string): string | undefined {
    const s = this.segOf(row);
    if (!s) return undefined;
    const pc = s.paths.indexOf(path);
    return pc < 0 ? undefined : this.firstValue(s, pc, row - s.base);
  }

  /**
   * Every value at `path` of global row `row`, in document order (array elements share their path), or [] (the
   * chunk is not loaded, or no such leaf).
   */
  valuesOfRow(row: number, path: string): string[] {
    const out: string[] = [];
    const s = this.segOf(row);
    if (!s) return out;
    const pc = s.paths.indexOf(path);
    if (pc < 0) return out;
    const { rowStart, entryPath, entryValue } = s;
    const r = row - s.base;
    for (let e = rowStart[r], end = rowStart[r + 1]; e < end; e++)
      if (entryPath[e] === pc) out.push(this.value(s, entryValue[e]));
    return out;
  }

  /** Forgets everything. */
  clear(): void {
    this.segs = [];
    this.loaded.clear();
    this.knownPaths.clear();
    this.arena = undefined; // its memory goes with it
    this.pool = new ArrayPool();
  }
}

/** Start offset of each piece in the text the pieces make joined (in `pool`). */
function pieceStarts(pieces: readonly string[], pool: ArrayPool): Uint32Array {
  const out = pool.u32(pieces.length);
  let at = 0;
  for (let i = 0; i < pieces.length; i++) {
    out[i] = at;
    at += pieces[i].length;
  }
  return out;
}

/**
 * A chunk's values case-folded, piece by piece (no string of the whole text: see StoredFieldStore; pieces end
 * after a separator, so folding each is folding the text, and no surrogate pair is cut), and the offsets of the
 * values in them: the chunk's own (`seg.offsets`) when folding kept every piece's length, else computed anew.
 */
function foldedPieces(seg: LoadedFields): { lower: string[]; offsets: Uint32Array } {
  const lower = seg.values.map(foldCase);
  let same = true;
  for (let i = 0; i < lower.length && same; i++) same = lower[i].length === seg.values[i].length;
  return { lower, offsets: same ? seg.offsets : valueOffsets(lower, seg.nValues) };
}

/**
 * Start offset of each of the `nValues` SEP-joined values of `text` (one string, or pieces that joined make it),
 * plus one past the end (length + 1); in `pool` when given (kept as long as the index), else in its own array.
 */
function valueOffsets(text: string | readonly string[], nValues: number, pool?: ArrayPool): Uint32Array {
  const offsets = pool ? pool.u32(nValues + 1) : new Uint32Array(nValues + 1);
  let k = 1;
  let base = 0;
  for (const piece of typeof text === 'string' ? [text] : text) {
    for (let i = piece.indexOf(SEP); i !== -1 && k < nValues; i = piece.indexOf(SEP, i + 1))
      offsets[k++] = base + i + 1;
    base += piece.length;
  }
  offsets[nValues] = base + 1;
  return offsets;
}

/**
 * The values of SEP-joined `text` (`offsets`: start of each of its `nValues` values, then length + 1) that
 * contain `needle` (no SEP in it), by native `indexOf` over the whole text: a table with 1 at each such value's
 * code, or null when there is none.
 */
export function valuesContaining(
  text: string,
  offsets: Uint32Array,
  nValues: number,
  needle: string,
): Uint8Array | null {
  return codesContaining(text.length, offsets, nValues, (from) => text.indexOf(needle, from));
}

/**
 * The codes of the values (of a joined text `length` long, `offsets` as for {@link valuesContaining}) where
 * `find(from)`, the first match at or after `from` (-1: none), finds a match: one search per matching value, the
 * next one from the start of the value after it. A table with 1 at each such code, or null.
 */
function codesContaining(
  length: number,
  offsets: Uint32Array,
  nValues: number,
  find: (from: number) => number,
): Uint8Array | null {
  let hit: Uint8Array | null = null;
  for (let i = find(0); i !== -1;) {
    const c = upperBound(offsets, i) - 1;
    (hit ??= new Uint8Array(nValues))[c] = 1;
    const next = offsets[c + 1];
    i = next >= length ? -1 : find(next);
  }
  return hit;
}

/** First index i with a[i] > x (a sorted ascending): the value whose offsets span position x is i - 1. */
function upperBound(a: Uint32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
