import { STRING_COLUMNS, type Segment, type StringColumn } from '../store/segment';

/** One global dictionary-encoded string column: `dict[codes[row]]`. */
export interface GlobalColumn {
  dict: string[];
  map: Map<string, number>;
  codes: Uint32Array;
}

/**
 * The in-memory columnar index of every stored event: times as epoch ms in a Float64Array, strings
 * dictionary-encoded into Uint32Array codes, plus each row's location (segment id, offset) for fetching
 * its raw JSON. Rows are numbered in load order; `sortedByTime()` gives the time order.
 */
export class ColumnarIndex {
  /** Number of rows. */
  n = 0;
  time = new Float64Array(1024);
  /** Segment (chunk) id of each row. */
  seg = new Uint32Array(1024);
  /** Offset of each row inside its segment. */
  off = new Uint32Array(1024);
  /** File record id of each row. */
  file = new Uint32Array(1024);
  /** eventID hash, two lanes per row. */
  eid = new Uint32Array(2048);
  cols = {} as Record<StringColumn, GlobalColumn>;
  /** Segment ids already loaded. */
  readonly segments = new Set<number>();
  private sorted: Uint32Array | null = null;

  constructor() {
    for (const name of Object.keys(STRING_COLUMNS) as StringColumn[]) {
      this.cols[name] = { dict: [], map: new Map(), codes: new Uint32Array(1024) };
    }
  }

  private ensure(extra: number): void {
    const need = this.n + extra;
    if (need <= this.time.length) return;
    let cap = this.time.length;
    while (cap < need) cap *= 2;
    const grow = <T extends Float64Array | Uint32Array>(a: T): T => {
      const b = new (a.constructor as { new (n: number): T })(cap);
      b.set(a.subarray(0, this.n) as never);
      return b;
    };
    this.time = grow(this.time);
    this.seg = grow(this.seg);
    this.off = grow(this.off);
    this.file = grow(this.file);
    const eid = new Uint32Array(cap * 2);
    eid.set(this.eid.subarray(0, this.n * 2));
    this.eid = eid;
    for (const c of Object.values(this.cols)) {
      const codes = new Uint32Array(cap);
      codes.set(c.codes.subarray(0, this.n));
      c.codes = codes;
    }
  }

  /** Appends a segment's rows (ignored when already loaded). Returns the number of rows added. */
  addSegment(s: Segment): number {
    if (this.segments.has(s.id)) return 0;
    this.segments.add(s.id);
    this.ensure(s.n);
    const base = this.n;
    this.time.set(s.time, base);
    this.eid.set(s.eid, base * 2);
    for (let i = 0; i < s.n; i++) {
      this.seg[base + i] = s.id;
      this.off[base + i] = i;
      this.file[base + i] = s.fileId;
    }
    for (const name of Object.keys(this.cols) as StringColumn[]) {
      const g = this.cols[name];
      const local = s.cols[name];
      if (!local) {
        // a segment written before this column existed: empty string
        let c = g.map.get('');
        if (c === undefined) {
          c = g.dict.length;
          g.dict.push('');
          g.map.set('', c);
        }
        g.codes.fill(c, base, base + s.n);
        continue;
      }
      const remap = new Uint32Array(local.dict.length);
      for (let j = 0; j < local.dict.length; j++) {
        const v = local.dict[j];
        let c = g.map.get(v);
        if (c === undefined) {
          c = g.dict.length;
          g.dict.push(v);
          g.map.set(v, c);
        }
        remap[j] = c;
      }
      const codes = local.codes;
      const out = g.codes;
      for (let i = 0; i < s.n; i++) out[base + i] = remap[codes[i]];
    }
    this.n += s.n;
    this.sorted = null;
    return s.n;
  }

  /** Row ids ordered by eventTime ascending (ties by load order); cached until rows are added. */
  sortedByTime(): Uint32Array {
    if (this.sorted) return this.sorted;
    const n = this.n;
    const ids = new Uint32Array(n);
    for (let i = 0; i < n; i++) ids[i] = i;
    const t = this.time;
    // Rows arrive mostly in time order within files; a typed-array sort on (time, row) is fast enough.
    ids.sort((a, b) => {
      const ta = t[a];
      const tb = t[b];
      if (ta === tb || (ta !== ta && tb !== tb)) return a - b;
      if (ta !== ta) return 1; // NaN (no eventTime) last
      if (tb !== tb) return -1;
      return ta - tb;
    });
    this.sorted = ids;
    return ids;
  }

  /** A row's value of a string column. */
  value(col: StringColumn, row: number): string {
    const c = this.cols[col];
    return c.dict[c.codes[row]];
  }

  /** Forgets every row. */
  clear(): void {
    Object.assign(this, new ColumnarIndex());
  }
}
