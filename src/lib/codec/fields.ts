import {
  addLeaf,
  addValue,
  EMPTY_ARRAY1,
  EMPTY_ARRAY2,
  EMPTY_OBJECT1,
  EMPTY_OBJECT2,
  FALSE1,
  FALSE2,
  finishLeafSum,
  hashStringTo,
  index1,
  index2,
  mixA,
  mixB,
  NestingTooDeepError,
  NULL1,
  NULL2,
  NUMBER1,
  NUMBER2,
  ROOT1,
  ROOT2,
  TAG_KEY,
  TAG_VALUE,
  TRUE1,
  TRUE2,
  type LeafSum,
  walkStats,
  lossyNumber,
} from './hash';

/**
 * The generic field store of one chunk: every leaf of every event (path → value), dictionary-encoded, so that
 * the query engine can match any CloudTrail field by its path (`requestParameters.keyId`, `resources.ARN`,
 * `tlsDetails.tlsVersion`...) and search the text of every value without touching raw events.
 *
 * Paths are dotted object keys with array indices dropped (`resources[0].ARN` → `resources.ARN`). Values are
 * strings as JSON would print them (`true`, `42`, `null`); a value longer than {@link MAX_VALUE_CHARS} is
 * indexed by its first {@link MAX_VALUE_CHARS} characters (the stored event keeps it whole).
 */
export interface FieldStore {
  /** Same id as the chunk and segment. */
  id: number;
  /** Local path dictionary. */
  paths: string[];
  /** Local value dictionary, joined with U+0000 (values never contain it: it is replaced by U+FFFD). */
  values: string;
  /** Number of values in `values`. */
  nValues: number;
  /** Entry range of row i: `rowStart[i] .. rowStart[i+1]` (length n+1). */
  rowStart: Uint32Array;
  /** Path code of each entry. */
  entryPath: Uint16Array;
  /** Value code of each entry. */
  entryValue: Uint16Array | Uint32Array;
}

/** Longest value indexed, in UTF-16 code units. */
export const MAX_VALUE_CHARS = 65_536;

/** Separator between values in {@link FieldStore.values}. */
export const SEP = '\u0000';

/**
 * Paths not kept in the field store because the index has them as fixed columns already (see
 * `STRING_COLUMNS` and the time column). Queries on them use the columns.
 */
export const COLUMN_PATHS: ReadonlySet<string> = new Set([
  'eventSource',
  'eventName',
  'awsRegion',
  'recipientAccountId',
  'sourceIPAddress',
  'userAgent',
  'errorCode',
  'eventType',
  'readOnly',
  'userIdentity.type',
  'userIdentity.accountId',
  'userIdentity.accessKeyId',
]);

/** Builds the field store of a list of events (`id` is set by the caller). */
export function buildFieldStore(events: readonly unknown[]): Omit<FieldStore, 'id'> {
  const b = new FieldStoreBuilder();
  const h = new Uint32Array(2);
  for (const ev of events) b.addEvent(ev as Record<string, unknown>, h, 0);
  return b.finish();
}

/** Deepest nesting (below the event) whose leaves the field store keeps; deeper ones are only hashed. */
const MAX_STORED_DEPTH = 66;

/**
 * Builds the field store of one chunk event by event and, in the same walk, each event's content hash (the
 * leaf sum defined in ingest/hash.ts; equal to `contentHash(event)`). Each distinct value's text is hashed
 * once per chunk (the value dictionary caches it), which makes hashing nearly free for repeated values.
 */
export class FieldStoreBuilder {
  private paths: string[] = [];
  private children: Map<string, number>[] = [new Map()]; // children[parentId + 1]; index 0 is the root
  /** Key hash lanes of each path's last key. */
  private keyH = new Uint32Array(256);
  /**
   * Position lanes of each path reached with no array on the way (then a function of the path alone),
   * computed when first needed; `posSet[id]` says whether they are.
   */
  private posH = new Uint32Array(256);
  private posSet = new Uint8Array(128);
  private valueMap = new Map<string, number>();
  private values: string[] = [];
  /** String hash lanes of each dictionary value. */
  private valH = new Uint32Array(4096);
  /** Values of the column paths (not stored here), with their hash lanes: hashed once per chunk too. */
  private colMap = new Map<string, number>();
  private colH = new Uint32Array(1024);
  private rowStarts: number[] = [];
  private cap: number;
  private entryPath: Uint16Array<ArrayBuffer>;
  private entryValue: Uint32Array<ArrayBuffer>;
  private e = 0;
  private acc: LeafSum = { a: 0, b: 0, n: 0 };
  private uiPath: number;

  /**
   * @param events how many events the chunk is expected to hold (a hint: the entry arrays grow as needed).
   * Without it they start at 65,536 entries (384 KB): a builder per small file of a few events then cost more
   * in fresh memory than its events did (~1.6 ms a file in Chromium, a folder of 5,000 small files, 2026-12-02).
   */
  constructor(events?: number) {
    this.cap =
      events === undefined ? 1 << 16 : Math.min(1 << 16, Math.max(1 << 10, nextPow2(events * ENTRIES_PER_EVENT)));
    this.entryPath = new Uint16Array(this.cap);
    this.entryValue = new Uint32Array(this.cap);
    this.uiPath = this.child(-1, 'userIdentity');
  }

  /** Events added so far. */
  get rows(): number {
    return this.rowStarts.length;
  }

  private child(parent: number, key: string): number {
    const m = this.children[parent + 1];
    let id = m.get(key);
    if (id === undefined) {
      id = this.paths.length;
      this.paths.push(parent < 0 ? key : `${this.paths[parent]}.${key}`);
      this.children.push(new Map());
      m.set(key, id);
      if (id * 2 + 2 > this.keyH.length) {
        this.keyH = grow(this.keyH, id * 2 + 2);
        this.posH = grow(this.posH, this.keyH.length);
        const s = new Uint8Array(this.keyH.length / 2);
        s.set(this.posSet);
        this.posSet = s;
      }
      hashStringTo(key, TAG_KEY, this.keyH, id * 2);
    }
    return id;
  }

  /** Dictionary code of a value (added, with its hash lanes, when new). */
  private code(v: string): number {
    let c = this.valueMap.get(v);
    if (c === undefined) {
      c = this.values.length;
      this.valueMap.set(v, c);
      if (c * 2 + 2 > this.valH.length) this.valH = grow(this.valH, c * 2 + 2);
      hashStringTo(v, TAG_VALUE, this.valH, c * 2);
      if (v.length > MAX_VALUE_CHARS) v = v.slice(0, MAX_VALUE_CHARS);
      this.values.push(v.includes(SEP) ? v.replaceAll(SEP, '\uFFFD') : v);
    }
    return c;
  }

  private entry(path: number, c: number): void {
    if (this.e === this.cap) {
      this.cap *= 2;
      const p2 = new Uint16Array(this.cap);
      p2.set(this.entryPath);
      this.entryPath = p2;
      const v2 = new Uint32Array(this.cap);
      v2.set(this.entryValue);
      this.entryValue = v2;
    }
    this.entryPath[this.e] = path;
    this.entryValue[this.e++] = c;
  }

  /** Position lanes of path `id` (child of a plain position p1, p2), cached per path. */
  private plainPos(id: number, p1: number, p2: number): void {
    if (!this.posSet[id]) {
      this.posH[id * 2] = mixA(p1, this.keyH[id * 2]);
      this.posH[id * 2 + 1] = mixB(p2, this.keyH[id * 2 + 1]);
      this.posSet[id] = 1;
    }
  }

  /**
   * Stores and hashes the leaves of `v` at `path`, position (p1, p2), depth `depth` below the event; `plain`
   * when no array lies on the way (the position is then the path's cached one).
   */
  private walk(v: unknown, path: number, p1: number, p2: number, depth: number, plain: boolean): void {
    const acc = this.acc;
    if (v === null) {
      this.entry(path, this.code('null'));
      return addLeaf(acc, p1, p2, NULL1, NULL2);
    }
    switch (typeof v) {
      case 'string': {
        const c = this.code(v);
        this.entry(path, c);
        return addLeaf(acc, p1, p2, this.valH[c * 2], this.valH[c * 2 + 1]);
      }
      case 'number': {
        if (lossyNumber(v)) walkStats.lossy = true;
        const c = this.code(String(v));
        this.entry(path, c);
        return addLeaf(acc, p1, p2, this.valH[c * 2] ^ NUMBER1, (this.valH[c * 2 + 1] + NUMBER2) | 0);
      }
      case 'boolean':
        this.entry(path, this.code(v ? 'true' : 'false'));
        return v ? addLeaf(acc, p1, p2, TRUE1, TRUE2) : addLeaf(acc, p1, p2, FALSE1, FALSE2);
      case 'object': {
        if (depth >= MAX_STORED_DEPTH) return addValue(acc, v, p1, p2, depth);
        if (Array.isArray(v)) {
          if (v.length === 0) return addLeaf(acc, p1, p2, EMPTY_ARRAY1, EMPTY_ARRAY2);
          for (let i = 0; i < v.length; i++)
            this.walk(v[i], path, mixA(p1, index1(i)), mixB(p2, index2(i)), depth + 1, false);
          return;
        }
        let any = false;
        const o = v as Record<string, unknown>;
        for (const k in o) {
          any = true;
          walkStats.keys++;
          const id = this.child(path, k);
          if (plain) {
            this.plainPos(id, p1, p2);
            this.walk(o[k], id, this.posH[id * 2], this.posH[id * 2 + 1], depth + 1, true);
          } else this.walk(o[k], id, mixA(p1, this.keyH[id * 2]), mixB(p2, this.keyH[id * 2 + 1]), depth + 1, false);
        }
        if (!any) addLeaf(acc, p1, p2, EMPTY_OBJECT1, EMPTY_OBJECT2);
        return;
      }
      default:
        return addLeaf(acc, p1, p2, 0, 0);
    }
  }

  /** Hashes a value kept as a column, not in the field store (its text hashed once per chunk). */
  private hashOnly(v: unknown, p1: number, p2: number, depth: number): void {
    if (typeof v !== 'string') return addValue(this.acc, v, p1, p2, depth);
    let c = this.colMap.get(v);
    if (c === undefined) {
      c = this.colMap.size;
      this.colMap.set(v, c);
      if (c * 2 + 2 > this.colH.length) this.colH = grow(this.colH, c * 2 + 2);
      hashStringTo(v, TAG_VALUE, this.colH, c * 2);
    }
    addLeaf(this.acc, p1, p2, this.colH[c * 2], this.colH[c * 2 + 1]);
  }

  /**
   * Adds one event (a parsed JSON object) as the next row and writes its content hash to `h[off]`,
   * `h[off + 1]`. Returns false, adding nothing, when the event nests deeper than `MAX_DEPTH` (ingest/hash.ts).
   */
  addEvent(ev: Record<string, unknown>, h: Uint32Array, off: number): boolean {
    const acc = this.acc;
    acc.a = 0;
    acc.b = 0;
    acc.n = 0;
    const e0 = this.e;
    try {
      if (ev === null || typeof ev !== 'object' || Array.isArray(ev)) addValue(acc, ev, ROOT1, ROOT2, 0);
      else {
        let any = false;
        for (const k in ev) {
          any = true;
          walkStats.keys++;
          const u = ev[k];
          const id = this.child(-1, k);
          this.plainPos(id, ROOT1, ROOT2);
          const p1 = this.posH[id * 2];
          const p2 = this.posH[id * 2 + 1];
          if (COLUMN_PATHS.has(k)) this.hashOnly(u, p1, p2, 1);
          else if (id === this.uiPath && u && typeof u === 'object' && !Array.isArray(u)) {
            let anyU = false;
            for (const uk in u as Record<string, unknown>) {
              anyU = true;
              walkStats.keys++;
              const uid = this.child(id, uk);
              this.plainPos(uid, p1, p2);
              const q1 = this.posH[uid * 2];
              const q2 = this.posH[uid * 2 + 1];
              const x = (u as Record<string, unknown>)[uk];
              if (uk === 'type' || uk === 'accountId' || uk === 'accessKeyId') this.hashOnly(x, q1, q2, 2);
              else this.walk(x, uid, q1, q2, 2, true);
            }
            if (!anyU) addLeaf(acc, p1, p2, EMPTY_OBJECT1, EMPTY_OBJECT2);
          } else this.walk(u, id, p1, p2, 1, true);
        }
        if (!any) addLeaf(acc, ROOT1, ROOT2, EMPTY_OBJECT1, EMPTY_OBJECT2);
      }
    } catch (err) {
      if (!(err instanceof NestingTooDeepError)) throw err;
      this.e = e0;
      return false;
    }
    finishLeafSum(acc, h, off);
    this.rowStarts.push(e0);
    return true;
  }

  /** The field store of the rows added (`id` is set by the caller). */
  finish(): Omit<FieldStore, 'id'> {
    const n = this.rowStarts.length;
    const rowStart = new Uint32Array(n + 1);
    for (let i = 0; i < n; i++) rowStart[i] = this.rowStarts[i];
    rowStart[n] = this.e;
    const e = this.e;
    return {
      paths: this.paths,
      values: this.values.join(SEP),
      nValues: this.values.length,
      rowStart,
      entryPath: this.entryPath.slice(0, e),
      entryValue:
        this.values.length <= 0xffff ? Uint16Array.from(this.entryValue.subarray(0, e)) : this.entryValue.slice(0, e),
    };
  }
}

/** Field-store entries per event the entry arrays are first sized for (a KMS event has 25-45 leaves). */
const ENTRIES_PER_EVENT = 48;

/** The smallest power of two at least `n` (n ≥ 1). */
function nextPow2(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, n)));
}

function grow(a: Uint32Array, min: number): Uint32Array<ArrayBuffer> {
  const b = new Uint32Array(Math.max(min, a.length * 2));
  b.set(a);
  return b;
}

/**
 * The field store of some rows of another (`rows`: ascending row indices). Unreferenced paths and values
 * stay in the dictionaries; rows keep their order.
 */
export function selectFieldRows(fs: Omit<FieldStore, 'id'>, rows: readonly number[]): Omit<FieldStore, 'id'> {
  let total = 0;
  for (const r of rows) total += fs.rowStart[r + 1] - fs.rowStart[r];
  const rowStart = new Uint32Array(rows.length + 1);
  const entryPath = new Uint16Array(total);
  const entryValue = fs.entryValue instanceof Uint16Array ? new Uint16Array(total) : new Uint32Array(total);
  let e = 0;
  for (let i = 0; i < rows.length; i++) {
    rowStart[i] = e;
    const a = fs.rowStart[rows[i]];
    const b = fs.rowStart[rows[i] + 1];
    entryPath.set(fs.entryPath.subarray(a, b), e);
    entryValue.set(fs.entryValue.subarray(a, b), e);
    e += b - a;
  }
  rowStart[rows.length] = e;
  return { paths: fs.paths, values: fs.values, nValues: fs.nValues, rowStart, entryPath, entryValue };
}

/** The first value of `path` in row `row` of a field store, or undefined (for example a conflicting event's `eventID`). */
export function fieldValueOf(fs: Omit<FieldStore, 'id'>, row: number, path: string): string | undefined {
  const p = fs.paths.indexOf(path);
  if (p < 0) return undefined;
  for (let e = fs.rowStart[row]; e < fs.rowStart[row + 1]; e++) {
    if (fs.entryPath[e] !== p) continue;
    const c = fs.entryValue[e];
    let start = 0;
    for (let k = 0; k < c; k++) start = fs.values.indexOf(SEP, start) + 1;
    const end = fs.values.indexOf(SEP, start);
    return fs.values.slice(start, end < 0 ? undefined : end);
  }
  return undefined;
}

/**
 * One field store holding the rows of several, in order (small files' events packed into one chunk). Path
 * and value dictionaries are merged; codes are rewritten.
 */
export function concatFieldStores(parts: readonly Omit<FieldStore, 'id'>[]): Omit<FieldStore, 'id'> {
  const paths: string[] = [];
  const pathCode = new Map<string, number>();
  const values: string[] = [];
  const valueCode = new Map<string, number>();
  let rows = 0;
  let total = 0;
  for (const p of parts) {
    rows += p.rowStart.length - 1;
    total += p.entryPath.length;
  }
  const rowStart = new Uint32Array(rows + 1);
  const entryPath = new Uint16Array(total);
  const entryValue32 = new Uint32Array(total);
  let r = 0;
  let e = 0;
  for (const p of parts) {
    const pmap = p.paths.map((s) => {
      let c = pathCode.get(s);
      if (c === undefined) {
        c = paths.length;
        paths.push(s);
        pathCode.set(s, c);
      }
      return c;
    });
    const vmap = new Uint32Array(p.nValues);
    const vals = p.nValues ? p.values.split(SEP) : [];
    for (let i = 0; i < vals.length; i++) {
      let c = valueCode.get(vals[i]);
      if (c === undefined) {
        c = values.length;
        values.push(vals[i]);
        valueCode.set(vals[i], c);
      }
      vmap[i] = c;
    }
    const n = p.rowStart.length - 1;
    const e0 = p.rowStart[0];
    for (let i = 0; i < n; i++) rowStart[r + i] = e + p.rowStart[i] - e0;
    for (let k = e0; k < p.rowStart[n]; k++, e++) {
      entryPath[e] = pmap[p.entryPath[k]];
      entryValue32[e] = vmap[p.entryValue[k]];
    }
    r += n;
  }
  rowStart[rows] = e;
  return {
    paths,
    values: values.join(SEP),
    nValues: values.length,
    rowStart,
    entryPath,
    entryValue: values.length <= 0xffff ? Uint16Array.from(entryValue32) : entryValue32,
  };
}

/**
 * Most UTF-16 code units of one piece of a {@link StoredFieldStore}'s values: a V8 string up to 128 KB is kept
 * with other objects in shared memory pages, a longer one in a region of its own (one byte a unit for Latin-1
 * text, two otherwise: 32K units fit either way).
 */
export const VALUES_PIECE_CHARS = 32_768;

/**
 * A {@link FieldStore} as the `fields` table stores it: `values` cut into pieces of at most
 * {@link VALUES_PIECE_CHARS} code units, each ending just after a separator (a longer value is a piece of its
 * own): joined, they are `values`. Written by this build; records written before hold `values` as one string.
 * `rowStart`, `entryValue` and `entryPath` are views of one buffer.
 *
 * Why: the query worker keeps every chunk's field store while the page lives; when its worker ends (a reload,
 * a closed tab), Chromium frees each string of over 128 KB and each array buffer with its own system calls, each
 * interrupting the other processor (measured 2026-12-02 on the bench machine: 2,500 chunks of one 0.4M-unit
 * string and three arrays took 2.3 s to free, the next page's first answer waiting meanwhile). Strings in pieces
 * cost no call of their own, and one buffer a chunk is a third of the calls its arrays cost.
 */
export type StoredFieldStore = Omit<FieldStore, 'values'> & { values: string | string[] };

/** `values` (SEP-joined) in pieces for {@link StoredFieldStore}: each ends after a SEP, except the last. */
export function valuesPieces(values: string, max = VALUES_PIECE_CHARS): string[] {
  const out: string[] = [];
  let start = 0;
  while (values.length - start > max) {
    // the last separator that keeps the piece within `max` (cut after it); none: one long value, cut after it
    let sep = values.lastIndexOf(SEP, start + max - 1);
    if (sep < start) sep = values.indexOf(SEP, start + max);
    if (sep < 0) break;
    out.push(values.slice(start, sep + 1));
    start = sep + 1;
  }
  out.push(values.slice(start));
  return out;
}

/** The record the `fields` table stores for `fs` ({@link StoredFieldStore}). */
export function storedFieldStore(fs: FieldStore): StoredFieldStore {
  const { rowStart, entryValue, entryPath } = fs;
  // 4-byte arrays first: every view starts at a multiple of its element size
  const buf = new ArrayBuffer(rowStart.byteLength + entryValue.byteLength + entryPath.byteLength);
  const rs = new Uint32Array(buf, 0, rowStart.length);
  rs.set(rowStart);
  const ev =
    entryValue instanceof Uint32Array
      ? new Uint32Array(buf, rs.byteLength, entryValue.length)
      : new Uint16Array(buf, rs.byteLength, entryValue.length);
  ev.set(entryValue);
  const ep = new Uint16Array(buf, rs.byteLength + ev.byteLength, entryPath.length);
  ep.set(entryPath);
  return { ...fs, values: valuesPieces(fs.values), rowStart: rs, entryValue: ev, entryPath: ep };
}

/** A stored field store with its values as one string again (tests and tools; the query worker reads pieces). */
export function joinedFieldStore(s: StoredFieldStore): FieldStore {
  return { ...s, values: typeof s.values === 'string' ? s.values : s.values.join('') };
}
