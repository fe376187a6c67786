import { COLUMNS_SCHEME, columnsSchemeOf, STRING_COLUMNS, type Segment, type StringColumn } from '../codec/segment';
import type { EventColumn, EventTable } from '../codec/table';

/**
 * Widest span of eventTime, in seconds, that {@link ColumnarIndex.sortedByTime} sorts by counting (one 4-byte
 * bucket per second: 16 MB of buckets for 48 days; wider spans up to twice the rows).
 */
export const COUNTING_SPAN = 1 << 22;

/**
 * Whether epoch ms `v` (finite) is a whole second. Exact for every finite `v`: a multiple of 1000 divided by 1000
 * is an integer that a double holds exactly. Several times faster than `v % 1000 === 0` (a floating-point
 * remainder is a library call in V8): the check runs on every row's time when the rows are sorted (5M at a reload).
 */
export function isWholeSecond(v: number): boolean {
  return Math.floor(v / 1000) * 1000 === v;
}

/**
 * Buckets of the counting sort {@link ColumnarIndex.sortedByTime} runs over `n` rows whose whole-second times
 * span `minMs..maxMs` (epoch ms): one per second plus one for the rows without a time; 0 when it sorts otherwise
 * (span over {@link COUNTING_SPAN} and over twice the rows).
 */
export function countingBuckets(n: number, minMs: number, maxMs: number): number {
  const span = maxMs > minMs ? (maxMs - minMs) / 1000 : 0;
  return span < Math.max(COUNTING_SPAN, 2 * n) ? span + 2 : 0;
}

/** Bytes of a memory page on the platforms KeyTrail runs on (4 KiB; a larger page only touches some twice). */
const PAGE_BYTES = 4096;

/**
 * Writes a zero into each memory page of `a` (fresh, all zero): the operating system then maps its pages now
 * rather than on first use. On the bench machine a fresh page costs ~12 µs (~3 ms per MB, up to three times
 * that while the tab's previous page frees its memory); a reload touches the arrays of its time order while it
 * waits for IndexedDB, not after. Returns `a`.
 */
export function touchPages<T extends Float64Array | Uint32Array>(a: T): T {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  for (let i = 0; i < bytes.length; i += PAGE_BYTES) bytes[i] = 0;
  return a;
}

/**
 * The first `end` rows of a result in {@link ColumnarIndex.sortedByTime}'s order (eventTime ascending, ties by
 * row id, rows without a time last), or in its exact reverse when `descending`, without ordering every row: a
 * heap keeps the `end` first rows met so far (O(matches × log end)). For the first screen of a query answered
 * before the rows' time order is known (a reload's first queries: at 5M rows that order takes ~0.3 s with its
 * memory's page faults; once known, putting a result in order through it is faster than this selection).
 * @param time eventTime of every row, epoch ms (NaN: none)
 * @param rows the result's row ids in any order, or a number N for rows 0..N-1
 * @returns the rows, in order (fewer when the result has fewer than `end`)
 */
export function firstRowsByTime(
  time: Float64Array,
  rows: Uint32Array | number,
  end: number,
  descending: boolean,
): Uint32Array {
  const count = typeof rows === 'number' ? rows : rows.length;
  const k = Math.max(0, Math.min(end, count));
  // before(a, b): row a comes before row b in the wanted order
  const asc = (a: number, b: number): boolean => {
    const ta = time[a];
    const tb = time[b];
    if (ta === tb) return a < b;
    if (ta !== ta) return tb !== tb && a < b;
    if (tb !== tb) return true;
    return ta < tb;
  };
  const before = descending ? (a: number, b: number) => asc(b, a) : asc;
  // a max-heap by `before`: heap[0] is the last of the rows kept
  const heap = new Uint32Array(k);
  let size = 0;
  const siftDown = (i: number): void => {
    const r = heap[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= size) break;
      if (c + 1 < size && before(heap[c], heap[c + 1])) c++;
      if (!before(r, heap[c])) break;
      heap[i] = heap[c];
      i = c;
    }
    heap[i] = r;
  };
  // rows come about in time order (file by file): met from the end for newest first, most of them are turned
  // away by one comparison with the heap's top (5M rows newest first, in Node: 300 ms met from the start, 54 ms from the end)
  for (let m = 0; m < count && k > 0; m++) {
    const i = descending ? count - 1 - m : m;
    const r = typeof rows === 'number' ? i : rows[i];
    if (size < k) {
      // sift up
      let j = size++;
      while (j > 0) {
        const parent = (j - 1) >> 1;
        if (!before(heap[parent], r)) break;
        heap[j] = heap[parent];
        j = parent;
      }
      heap[j] = r;
    } else if (before(r, heap[0])) {
      heap[0] = r;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
}

/** One global dictionary-encoded string column: `dict[codes[row]]`. */
export interface GlobalColumn {
  dict: string[];
  /** Code of each value (`dict` inverted); null until first needed after a restore (see {@link mapOf}). */
  map: Map<string, number> | null;
  /**
   * Code of each row: Uint8Array while the dictionary has at most 256 values, Uint16Array up to 65,536, then
   * Uint32Array (see {@link CodeArray}).
   */
  codes: CodeArray;
}

/**
 * The codes of a string column's rows, in the narrowest array its dictionary fits: most columns (eventSource,
 * eventName, awsRegion, errorCode, readOnly, account...) have at most 256 values, and 5M rows of one byte are
 * 5 MB of memory and of snapshot (read back before a reload's first answer) instead of 10.
 */
export type CodeArray = Uint8Array | Uint16Array | Uint32Array;

/** `codes` in an array wide enough for codes below `size` (itself when it already is). */
export function widenCodes(codes: CodeArray, size: number): CodeArray {
  if (size > 0x10000) return codes instanceof Uint32Array ? codes : Uint32Array.from(codes);
  if (size > 0x100) return codes instanceof Uint8Array ? Uint16Array.from(codes) : codes;
  return codes;
}

/** The value-to-code map of a column, built from its dictionary when first needed. */
export function mapOf(g: GlobalColumn): Map<string, number> {
  if (!g.map) {
    const m = new Map<string, number>();
    for (let i = 0; i < g.dict.length; i++) m.set(g.dict[i], i);
    g.map = m;
  }
  return g.map;
}

/**
 * A {@link ColumnarIndex} in compact, clonable form (what query/snapshot.ts persists): every row's arrays, each
 * string column's global dictionary as one joined string with end offsets and its codes ({@link CodeArray}: one
 * byte a row when the dictionary has at most 256 values, two up to 65,536), and the segments the rows came from,
 * in row order.
 */
export interface ColumnarSnapshot {
  /** Number of rows. */
  n: number;
  /** Segment ids in row order: segment i holds the next `counts[i]` rows. */
  segments: Uint32Array;
  /** Rows of each segment. */
  counts: Uint32Array;
  /** Segments whose columns were derived with an older COLUMNS_SCHEME (see ColumnarIndex.staleColumnSegments). */
  stale: Uint32Array;
  /** eventTime of each row, epoch ms (NaN when absent). */
  time: Float64Array;
  /** File record id of each row. */
  file: Uint32Array;
  /** eventID hash, two lanes per row. */
  eid: Uint32Array;
  /** Per column: `text.slice(ends[i - 1] ?? 0, ends[i])` is dictionary value i; `codes[row]` a row's value. */
  cols: Record<StringColumn, { text: string; ends: Uint32Array; codes: CodeArray }>;
}

/**
 * A part of a snapshot restored after its core ({@link ColumnarIndex.restoreCore}): one string column, the rows'
 * file record ids, or their eventID hashes.
 */
export type SnapshotPart = StringColumn | 'file' | 'eid';

/** Every {@link SnapshotPart}. */
export const SNAPSHOT_PARTS: readonly SnapshotPart[] = [
  ...(Object.keys(STRING_COLUMNS) as StringColumn[]),
  'file',
  'eid',
];

/** What {@link ColumnarIndex.restoreCore} takes: a snapshot without its parts. */
export type SnapshotCore = Pick<ColumnarSnapshot, 'n' | 'segments' | 'counts' | 'stale' | 'time'>;

/** One part's data as a snapshot holds it (a string column's dictionary and codes, or a row array). */
export type SnapshotPartData =
  { text: string; ends: Uint32Array; codes: CodeArray } | { file: Uint32Array } | { eid: Uint32Array };

/**
 * The in-memory columnar index of every stored event: times as epoch ms in a Float64Array, strings
 * dictionary-encoded into Uint32Array codes, plus where each row's raw JSON is stored ({@link ColumnarIndex.locationOf}:
 * segment id and offset). Rows are numbered in load order; `sortedByTime()` gives the time order.
 */
export class ColumnarIndex implements EventTable {
  /** Number of rows. */
  n = 0;
  time = new Float64Array(1024);
  /** File record id of each row. */
  file = new Uint32Array(1024);
  /** eventID hash, two lanes per row. */
  eid = new Uint32Array(2048);
  cols = {} as Record<StringColumn, GlobalColumn>;
  /** Segment ids already loaded. */
  readonly segments = new Set<number>();
  /** First row of each loaded segment, by segment id. */
  readonly segBase = new Map<number, number>();
  /**
   * First row and id of each loaded segment, in row order (segments hold consecutive rows): where a row's JSON
   * is stored ({@link locationOf}) without two 4-byte arrays per row (40 MB and their page faults at 5M rows).
   */
  private segStarts: number[] = [];
  private segIds: number[] = [];
  /**
   * Ids of loaded segments whose string columns were derived with an older COLUMNS_SCHEME than this build's
   * (codec/segment.ts): their column values may differ from what the current derivation gives.
   */
  readonly staleColumnSegments = new Set<number>();
  private sorted: Uint32Array | null = null;
  /**
   * Parts of a snapshot not restored yet (after {@link restoreCore}, until {@link restorePart} gives each one):
   * their arrays are empty placeholders, which only code that waited for the part may read. Empty otherwise.
   */
  readonly pending = new Set<SnapshotPart>();

  constructor() {
    for (const name of Object.keys(STRING_COLUMNS) as StringColumn[]) {
      this.cols[name] = { dict: [], map: new Map(), codes: new Uint8Array(1024) };
    }
  }

  private ensure(extra: number): void {
    const need = this.n + extra;
    if (need <= this.time.length) return;
    let cap = Math.max(1024, this.time.length);
    while (cap < need) cap *= 2;
    const grow = <T extends Float64Array | Uint32Array | CodeArray>(a: T): T => {
      const b = new (a.constructor as { new (n: number): T })(cap);
      b.set(a.subarray(0, this.n) as never);
      return b;
    };
    this.time = grow(this.time);
    this.file = grow(this.file);
    const eid = new Uint32Array(cap * 2);
    eid.set(this.eid.subarray(0, this.n * 2));
    this.eid = eid;
    for (const c of Object.values(this.cols)) c.codes = grow(c.codes);
  }

  /** Appends a segment's rows (ignored when already loaded). Returns the number of rows added. */
  addSegment(s: Segment): number {
    if (this.pending.size) throw new Error('addSegment: a snapshot is partly restored');
    if (this.segments.has(s.id)) return 0;
    this.segments.add(s.id);
    if (columnsSchemeOf(s) < COLUMNS_SCHEME) this.staleColumnSegments.add(s.id);
    this.ensure(s.n);
    const base = this.n;
    this.segBase.set(s.id, base);
    this.segStarts.push(base);
    this.segIds.push(s.id);
    this.time.set(s.time, base);
    this.eid.set(s.eid, base * 2);
    if (s.files) this.file.set(s.files.subarray(0, s.n), base);
    else this.file.fill(s.fileId, base, base + s.n);
    for (const name of Object.keys(this.cols) as StringColumn[]) {
      const g = this.cols[name];
      const map = mapOf(g);
      const local = s.cols[name];
      if (!local) {
        // a segment written before this column existed: empty string
        let c = map.get('');
        if (c === undefined) {
          c = g.dict.length;
          g.dict.push('');
          map.set('', c);
          g.codes = widenCodes(g.codes, g.dict.length);
        }
        g.codes.fill(c, base, base + s.n);
        continue;
      }
      const remap = new Uint32Array(local.dict.length);
      for (let j = 0; j < local.dict.length; j++) {
        const v = local.dict[j];
        let c = map.get(v);
        if (c === undefined) {
          c = g.dict.length;
          g.dict.push(v);
          map.set(v, c);
        }
        remap[j] = c;
      }
      g.codes = widenCodes(g.codes, g.dict.length);
      const codes = local.codes;
      const out = g.codes;
      for (let i = 0; i < s.n; i++) out[base + i] = remap[codes[i]];
    }
    this.n += s.n;
    this.sorted = null;
    return s.n;
  }

  /** The index in compact form (see {@link ColumnarSnapshot}); shares no array with the index. */
  snapshot(): ColumnarSnapshot {
    if (this.pending.size) throw new Error('snapshot: a snapshot is partly restored');
    const n = this.n;
    const order = [...this.segBase].sort((a, b) => a[1] - b[1]);
    const segments = new Uint32Array(order.length);
    const counts = new Uint32Array(order.length);
    for (let i = 0; i < order.length; i++) {
      segments[i] = order[i][0];
      counts[i] = (i + 1 < order.length ? order[i + 1][1] : n) - order[i][1];
    }
    const cols = {} as ColumnarSnapshot['cols'];
    for (const name of Object.keys(this.cols) as StringColumn[]) {
      const { dict, codes } = this.cols[name];
      const ends = new Uint32Array(dict.length);
      let end = 0;
      for (let i = 0; i < dict.length; i++) ends[i] = end += dict[i].length;
      cols[name] = { text: dict.join(''), ends, codes: codes.slice(0, n) };
    }
    return {
      n,
      segments,
      counts,
      stale: Uint32Array.from(this.staleColumnSegments),
      time: this.time.slice(0, n),
      file: this.file.slice(0, n),
      eid: this.eid.slice(0, n * 2),
      cols,
    };
  }

  /**
   * Loads a snapshot into this empty index in parts, first the rows (count, segments, eventTime); afterwards,
   * with every part given, the index is what {@link snapshot} was taken of (same rows in the same order, same
   * dictionaries and codes; the snapshot's arrays are adopted, rows added later grow them into new ones).
   * Every other part is then {@link pending} (empty placeholders) until {@link restorePart} gives it; rows
   * cannot be added meanwhile. Time-only work (the time order, a time window) can run at once.
   * @throws Error when the index is not empty or the core is inconsistent (counts, lengths).
   */
  restoreCore(s: SnapshotCore): void {
    if (this.n !== 0 || this.pending.size) throw new Error('restore: the index is not empty');
    const n = s.n;
    let total = 0;
    for (const c of s.counts) total += c;
    if (total !== n || s.time.length !== n || s.segments.length !== s.counts.length)
      throw new Error('restore: inconsistent snapshot');
    // every array has the same capacity (n): adding rows grows them together
    let r = 0;
    for (let i = 0; i < s.segments.length; i++) {
      const id = s.segments[i];
      this.segments.add(id);
      this.segBase.set(id, r);
      this.segStarts.push(r);
      this.segIds.push(id);
      r += s.counts[i];
    }
    for (const id of s.stale) this.staleColumnSegments.add(id);
    for (const name of Object.keys(this.cols) as StringColumn[])
      this.cols[name] = { dict: [], map: null, codes: new Uint8Array(0) };
    this.time = s.time as Float64Array<ArrayBuffer>;
    this.file = new Uint32Array(0);
    this.eid = new Uint32Array(0);
    this.n = n;
    this.sorted = null;
    for (const p of SNAPSHOT_PARTS) this.pending.add(p);
  }

  /**
   * Gives one pending part of a restore in parts (see {@link restoreCore}); adopts its arrays.
   * @throws Error when the part is not pending or its data is inconsistent (length, dictionary offsets); the
   *   index is then unchanged.
   */
  restorePart(part: SnapshotPart, data: SnapshotPartData | undefined): void {
    if (!this.pending.has(part)) throw new Error(`restore: ${part} is not pending`);
    const n = this.n;
    if (part === 'file' || part === 'eid') {
      const a = data && (data as Record<string, unknown>)[part];
      if (!(a instanceof Uint32Array) || a.length !== (part === 'eid' ? n * 2 : n))
        throw new Error(`restore: ${part} missing or short`);
      if (part === 'file') this.file = a as Uint32Array<ArrayBuffer>;
      else this.eid = a as Uint32Array<ArrayBuffer>;
    } else {
      const c = data as { text?: unknown; ends?: unknown; codes?: unknown } | undefined;
      if (
        !c ||
        typeof c.text !== 'string' ||
        !(c.ends instanceof Uint32Array) ||
        !(c.codes instanceof Uint8Array || c.codes instanceof Uint16Array || c.codes instanceof Uint32Array) ||
        c.codes.length !== n
      )
        throw new Error(`restore: column ${part} missing or short`);
      const { text, ends } = c;
      const size = ends.length;
      const dict = new Array<string>(size);
      let start = 0;
      for (let i = 0; i < size; i++) {
        const end = ends[i];
        if (end < start || end > text.length) throw new Error(`restore: column ${part} dictionary inconsistent`);
        dict[i] = text.slice(start, end);
        start = end;
      }
      if (start !== text.length) throw new Error(`restore: column ${part} dictionary inconsistent`);
      // the codes are taken as they are (no scan: a snapshot is written whole, in one transaction, by an index
      // that held them); the value-to-code map is built when first needed (a segment added, a code looked up)
      this.cols[part] = { dict, map: null, codes: c.codes };
    }
    this.pending.delete(part);
  }

  /** Whether {@link sortedByTime} has its order at hand (computed since rows were last added). */
  hasTimeOrder(): boolean {
    return this.sorted !== null;
  }

  /**
   * Row ids ordered by eventTime ascending (ties by row id; rows without a time last); cached until rows are
   * added. CloudTrail times have whole seconds: when the span in seconds is at most {@link COUNTING_SPAN} (or
   * twice the rows), a counting sort by second (stable: ties stay in row order), ~0.1-0.5 s at 5M rows against
   * ~0.6-0.9 s for the native sort (Node, 2026-12-01). Otherwise each row is packed into one float64 key
   * (seconds since the earliest event × 2^24 + row) and sorted with the native typed-array sort; when the keys
   * would not be exact (over 16M rows or centuries of span) a comparator sort is used.
   * The array is shared (analyses and query results hold it): nobody may write to it.
   */
  sortedByTime(): Uint32Array {
    if (this.sorted) return this.sorted;
    const n = this.n;
    const t = this.time;
    let min = Infinity;
    let max = -Infinity;
    let whole = true;
    for (let i = 0; i < n; i++) {
      const v = t[i];
      if (v !== v) continue;
      if (v < min) min = v;
      if (v > max) max = v;
      if (whole && !isWholeSecond(v)) whole = false;
    }
    const ids = new Uint32Array(n);
    const span = max > min ? (max - min) / 1000 : 0;
    const buckets = whole ? countingBuckets(n, min, max) : 0;
    if (buckets) {
      // bucket `span + 1` holds the rows without a time. Each row's bucket is computed again in the second
      // pass rather than kept: a key array is 4 bytes a row of fresh memory (20 MB at 5M rows, ~60 ms of page
      // faults alone on the bench machine), and the division costs less.
      const start = new Uint32Array(buckets + 1);
      for (let i = 0; i < n; i++) {
        const v = t[i];
        start[(v === v ? (v - min) / 1000 : buckets - 1) + 1]++;
      }
      for (let k = 1; k <= buckets; k++) start[k] += start[k - 1];
      for (let i = 0; i < n; i++) {
        const v = t[i];
        ids[start[v === v ? (v - min) / 1000 : buckets - 1]++] = i;
      }
    } else if (whole && n < 2 ** 24 && span * 2 ** 24 < 2 ** 52) {
      const keys = new Float64Array(n);
      const nanKey = (span + 1) * 2 ** 24;
      for (let i = 0; i < n; i++) {
        const v = t[i];
        keys[i] = (v === v ? (v - min) / 1000 : nanKey / 2 ** 24) * 2 ** 24 + i;
      }
      keys.sort();
      for (let i = 0; i < n; i++) ids[i] = keys[i] % 2 ** 24;
    } else {
      for (let i = 0; i < n; i++) ids[i] = i;
      ids.sort((a, b) => {
        const ta = t[a];
        const tb = t[b];
        if (ta === tb || (ta !== ta && tb !== tb)) return a - b;
        if (ta !== ta) return 1;
        if (tb !== tb) return -1;
        return ta - tb;
      });
    }
    this.sorted = ids;
    return ids;
  }

  /** A row's value of a string column. */
  value(col: StringColumn, row: number): string {
    const c = this.cols[col];
    return c.dict[c.codes[row]];
  }

  /** A row's eventTime, epoch ms UTC (NaN when absent). */
  timeOf(row: number): number {
    return this.time[row];
  }

  /** A string column as an {@link EventColumn} view (valid until rows are added). */
  column(col: StringColumn): EventColumn {
    const c = this.cols[col];
    const { dict, codes } = c;
    return {
      codes,
      size: dict.length,
      text: (code) => dict[code],
      code: (v) => mapOf(c).get(v),
      at: (row) => dict[codes[row]],
    };
  }

  /** Where a row's JSON is stored: chunk (segment) id and offset inside it. */
  locationOf(row: number): { segment: number; offset: number } {
    const starts = this.segStarts;
    let lo = 0;
    let hi = starts.length - 1;
    // the last segment starting at or before `row`
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid] <= row) lo = mid;
      else hi = mid - 1;
    }
    return { segment: this.segIds[lo], offset: row - starts[lo] };
  }

  /** Forgets every row. */
  clear(): void {
    const fresh = new ColumnarIndex();
    this.pending.clear();
    this.segments.clear();
    this.segBase.clear();
    this.staleColumnSegments.clear();
    this.n = 0;
    this.time = fresh.time;
    this.segStarts = [];
    this.segIds = [];
    this.file = fresh.file;
    this.eid = fresh.eid;
    this.cols = fresh.cols;
    this.sorted = null;
  }
}
