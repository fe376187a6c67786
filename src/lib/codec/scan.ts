/**
 * A text scanner for CloudTrail S3 delivery documents (`{"Records":[event, ...]}`, the bulk of real input): one
 * pass over the decoded document text (`charCodeAt` and the native `indexOf`, no parsed objects) gives, for each
 * record of the `Records` array, exactly what ingest computed from the parsed events before
 * (ingest/prepare.ts, `prepareReference`):
 * - its entries in the chunk's field store: the same dictionaries, in the same order, as
 *   {@link FieldStoreBuilder} builds from `JSON.parse`'s objects (it is a subclass and shares `finish()`);
 * - its content hash: the leaf sum of codec/hash.ts read from the text as written, i.e. `exactHash` of the
 *   record's text (codec/exact.ts), which is what prepare stored after its exact pass; numbers a double
 *   cannot hold as written are hashed by their text by construction, so no second pass is needed;
 * - its eventID hash (`stringHash`) and its `[start, end)` range in the text (as `arrayRanges` finds it).
 *
 * Records nested deeper than MAX_DEPTH are reported as skipped, as before. What the scanner cannot mirror
 * exactly makes it give up on the document (the caller then takes the object path): a key repeated in one
 * object (`JSON.parse` keeps the last value at the first key's place), an all-digit key (objects list integer
 * keys first, so the field store's order would differ from the text's), a top-level key written with escapes,
 * or a document whose shape is not `{"Records":[object, ...]}` with the expected number of records.
 *
 * The text must be valid JSON (the caller has parsed it): the scanner does not validate it.
 */
import { COLUMN_PATHS, FieldStoreBuilder, MAX_STORED_DEPTH, MAX_VALUE_CHARS, SEP, type FieldStore } from './fields';
import {
  addLeaf,
  EMPTY_ARRAY1,
  EMPTY_ARRAY2,
  EMPTY_OBJECT1,
  EMPTY_OBJECT2,
  FALSE1,
  FALSE2,
  finishLeafSum,
  hashRangeTo,
  hashStringTo,
  index1,
  index2,
  lossyNumber,
  MAX_DEPTH,
  mixA,
  mixB,
  NestingTooDeepError,
  NULL1,
  NULL2,
  NUMBER1,
  NUMBER2,
  ROOT1,
  ROOT2,
  stringHash,
  TAG_KEY,
  TAG_VALUE,
  TRUE1,
  TRUE2,
} from './hash';
import { CHUNK_EVENTS } from './segment';

/** What {@link scanS3Delivery} read from one S3 delivery document. */
export interface ScannedRecords {
  /** Record index (in `Records`) of each kept event, ascending; records nested too deep are left out. */
  kept: Uint32Array;
  /** Content hash lanes of each kept event (two u32 each, aligned with `kept`). */
  h: Uint32Array;
  /** eventID hash lanes of each kept event (0, 0 when it has no non-empty string eventID). */
  e: Uint32Array;
  /** Text range of every record: `[start0, end0, start1, end1, ...]`, UTF-16 offsets, end exclusive. */
  ranges: Uint32Array;
  /** Field stores of the kept events in blocks of `CHUNK_EVENTS` (`n` events each, in order). */
  blocks: { n: number; fields: Omit<FieldStore, 'id'> }[];
  /** Records skipped because they nest deeper than MAX_DEPTH. */
  tooDeep: number;
}

/** Thrown inside the scanner when the document needs the object path; never escapes {@link scanS3Delivery}. */
const GIVE_UP = new Error('scan: use the object path');

const scratch = new Uint32Array(4);

/** What a path is to the record level: a plain field, a column path (hashed only), the top-level eventID. */
const F_PLAIN = 1,
  F_COLUMN = 2,
  F_EVENT_ID = 3;

/** The field store builder of one block, reading the document text. */
class ScanBuilder extends FieldStoreBuilder {
  /** Position in the text. */
  i: number;
  /** Index of the first backslash at or after `i` (`t.length` when none): a string before it has no escape. */
  bs: number;
  /** `seen[pathId]`: serial of the object instance that last had this key (repeated key detection). */
  private seen = new Int32Array(256);
  private serial = 0;
  /*
   * Guesses that spare making a string for most keys and values (records of one document look alike): the
   * key of each path, the path that followed each path in its object last time (`next`, -1 none) and the
   * first key of each parent's object (`first[parent + 1]`); the last string value of each path with its
   * code (or, for a column path, its hash lanes). A guess is taken only when the text holds it exactly, with
   * no escape, followed by the closing quote.
   */
  private keyOf: string[] = [];
  /** Where each path's key was first read without escapes (-1: it had escapes), and its length. */
  private keyAt = new Int32Array(256).fill(-1);
  private flag = new Uint8Array(256);
  private next = new Int32Array(256).fill(-1);
  private first = new Int32Array(256).fill(-1);
  /** Where each column path's last string value lies in the text (-1: none, or it had escapes), and its length. */
  private colAt = new Int32Array(256).fill(-1);
  private colLen = new Int32Array(256);
  private lastCode = new Int32Array(256).fill(-1);
  private lastH = new Uint32Array(512);
  /**
   * The value dictionary's lookup (the base class's Map costs several times more on strings fresh from the
   * text): open addressing on each value's first hash lane, slot → code + 1 (0: empty).
   */
  private table = new Int32Array(8192);
  /** Each dictionary value as read (before truncation and U+0000 replacement), to compare with the text. */
  private full: string[] = [];
  /**
   * Where each dictionary value was read in the text without escapes (-1: it had escapes, or is no string),
   * and its length. Comparisons read the text there: a slice of the text is slow to read char by char.
   */
  private fullAt = new Int32Array(4096);
  private fullLen = new Int32Array(4096);
  /** Codes of `true`, `false`, `null` (-1 until used). */
  private lit = [-1, -1, -1];

  constructor(
    private readonly t: string,
    i: number,
    bs: number,
    /** The text's UTF-8 bytes when it is all ASCII (a byte offset is then a character offset), else null. */
    private readonly dv: DataView | null,
  ) {
    super();
    this.i = i;
    this.bs = bs;
  }

  /** True when the text holds the same `n` characters at `s` and at `at` (4 bytes at a time when ASCII). */
  private eq(s: number, at: number, n: number): boolean {
    const dv = this.dv;
    if (dv === null) return sameAt(this.t, s, at, n);
    let j = 0;
    for (; j + 4 <= n; j += 4) if (dv.getInt32(s + j) !== dv.getInt32(at + j)) return false;
    for (; j < n; j++) if (dv.getUint8(s + j) !== dv.getUint8(at + j)) return false;
    return true;
  }

  private ws(): void {
    const t = this.t;
    let i = this.i;
    while (t.charCodeAt(i) <= 32) i++;
    this.i = i;
  }

  /** Reads the string starting at `i` (a quote) as `JSON.parse` does. */
  private str(): string {
    const t = this.t;
    const s = this.i + 1;
    const q = t.indexOf('"', s);
    if (q < this.bs) {
      this.i = q + 1;
      return t.slice(s, q);
    }
    const end = this.strEnd(q);
    return JSON.parse(t.slice(s - 1, end + 1)) as string;
  }

  /** Closing quote of a string holding escapes (`q`: its first quote after the opening one); moves past it. */
  private strEnd(q: number): number {
    const t = this.t;
    for (;;) {
      let b = 0;
      for (let k = q - 1; t.charCodeAt(k) === 92; k--) b++;
      if (!(b & 1)) break;
      q = t.indexOf('"', q + 1);
    }
    this.i = q + 1;
    const bs = t.indexOf('\\', q + 1);
    this.bs = bs < 0 ? t.length : bs;
    return q;
  }

  /** Reads an object key (at a quote) and the colon after it. */
  private key(): string {
    const k = this.str();
    const c = k.charCodeAt(0);
    if (c >= 48 && c <= 57) {
      // an integer-like key is listed first by for...in: the parsed object's key order is not the text's
      let digits = true;
      for (let j = 1; j < k.length && digits; j++) digits = k.charCodeAt(j) >= 48 && k.charCodeAt(j) <= 57;
      if (digits) throw GIVE_UP;
    }
    this.ws();
    this.i++; // ':'
    this.ws();
    return k;
  }

  /** Marks path `id` as a key of object instance `obj`; a repeated key gives up. */
  private mark(id: number, obj: number): void {
    if (this.seen[id] === obj) throw GIVE_UP;
    this.seen[id] = obj;
  }

  /** Makes the per-path arrays hold path `id`. */
  private room(id: number): void {
    if (id < this.flag.length) return;
    const n = Math.max(id + 1, this.flag.length * 2);
    const f = new Uint8Array(n);
    f.set(this.flag);
    this.flag = f;
    const nx = new Int32Array(n).fill(-1);
    nx.set(this.next);
    this.next = nx;
    const fi = new Int32Array(n + 1).fill(-1);
    fi.set(this.first);
    this.first = fi;
    const lc = new Int32Array(n).fill(-1);
    lc.set(this.lastCode);
    this.lastCode = lc;
    const lh = new Uint32Array(n * 2);
    lh.set(this.lastH);
    this.lastH = lh;
    const ka = new Int32Array(n).fill(-1);
    ka.set(this.keyAt);
    this.keyAt = ka;
    const se = new Int32Array(n);
    se.set(this.seen);
    this.seen = se;
    const ca = new Int32Array(n).fill(-1);
    ca.set(this.colAt);
    this.colAt = ca;
    const cl = new Int32Array(n);
    cl.set(this.colLen);
    this.colLen = cl;
  }

  /**
   * Reads the key at `i` (a quote) of an object at path `parent` whose previous key was path `prev` (-1 for
   * the first), and the colon after it; returns the key's path, marked as seen in object instance `obj`.
   */
  private keyId(parent: number, prev: number, obj: number): number {
    const t = this.t;
    const guess = prev < 0 ? this.first[parent + 1] : this.next[prev];
    const at = guess >= 0 ? this.keyAt[guess] : -1;
    if (at >= 0) {
      const s = this.i + 1;
      const n = this.keyOf[guess].length;
      const end = s + n;
      if (t.charCodeAt(end) === 34 && this.bs > end && this.eq(s, at, n)) {
        if (t.charCodeAt(end + 1) === 58 && t.charCodeAt(end + 2) > 32) this.i = end + 2;
        else {
          this.i = end + 1;
          this.ws();
          this.i++; // ':'
          this.ws();
        }
        if (this.seen[guess] === obj) throw GIVE_UP;
        this.seen[guess] = obj;
        return guess;
      }
    }
    const s = this.i + 1;
    const k = this.key();
    const id = this.child(parent, k);
    this.room(id + 1);
    if (this.keyOf[id] === undefined) {
      this.keyOf[id] = k;
      // an escape always makes the decoded key shorter than its text
      if (t.indexOf('"', s) - s === k.length) this.keyAt[id] = s;
      this.flag[id] =
        parent < 0
          ? COLUMN_PATHS.has(k)
            ? F_COLUMN
            : k === 'eventID'
              ? F_EVENT_ID
              : F_PLAIN
          : parent === this.uiPath && (k === 'type' || k === 'accountId' || k === 'accessKeyId')
            ? F_COLUMN
            : F_PLAIN;
    }
    if (prev < 0) this.first[parent + 1] = id;
    else this.next[prev] = id;
    this.mark(id, obj);
    return id;
  }

  /** Dictionary code of the text `t[s, e)`, a string value written with no escape (added when new). */
  private codeRange(s: number, e: number): number {
    const t = this.t;
    hashRangeTo(t, s, e, TAG_VALUE, scratch, 0);
    const a = scratch[0];
    const b = scratch[1];
    const len = e - s;
    const table = this.table;
    const mask = table.length - 1;
    for (let slot = a & mask; ; slot = (slot + 1) & mask) {
      const c = table[slot] - 1;
      if (c < 0) return this.add(t.slice(s, e), a, b, slot, s);
      if (this.valH[c * 2] === a && this.valH[c * 2 + 1] === b && this.fullLen[c] === len) {
        const at = this.fullAt[c];
        if (at >= 0 ? this.eq(s, at, len) : same(t, s, this.full[c])) return c;
      }
    }
  }

  /** Dictionary code of value `v` (added when new): FieldStoreBuilder.code. */
  private codeOf(v: string): number {
    hashStringTo(v, TAG_VALUE, scratch, 0);
    const a = scratch[0];
    const b = scratch[1];
    const table = this.table;
    const mask = table.length - 1;
    for (let slot = a & mask; ; slot = (slot + 1) & mask) {
      const c = table[slot] - 1;
      if (c < 0) return this.add(v, a, b, slot, -1);
      if (this.valH[c * 2] === a && this.valH[c * 2 + 1] === b && this.full[c] === v) return c;
    }
  }

  /**
   * Adds value `v` with hash lanes (a, b) at free slot `slot` of the table (`at`: where the text holds it
   * without escapes, or -1); returns its code.
   */
  private add(v: string, a: number, b: number, slot: number, at: number): number {
    const c = this.values.length;
    this.table[slot] = c + 1;
    if (c * 2 + 2 > this.valH.length) {
      const g = new Uint32Array(Math.max(c * 2 + 2, this.valH.length * 2));
      g.set(this.valH);
      this.valH = g;
      const fa = new Int32Array(g.length / 2);
      fa.set(this.fullAt);
      this.fullAt = fa;
      const fl = new Int32Array(g.length / 2);
      fl.set(this.fullLen);
      this.fullLen = fl;
    }
    this.fullAt[c] = at;
    this.fullLen[c] = v.length;
    this.valH[c * 2] = a;
    this.valH[c * 2 + 1] = b;
    this.full.push(v);
    const w = v.length > MAX_VALUE_CHARS ? v.slice(0, MAX_VALUE_CHARS) : v;
    this.values.push(w.includes(SEP) ? w.replaceAll(SEP, '\uFFFD') : w);
    if ((c + 1) * 2 > this.table.length) {
      // keep the table at most half full
      const tb = new Int32Array(this.table.length * 2);
      const mask = tb.length - 1;
      for (let k = 0; k <= c; k++) {
        let sl = this.valH[k * 2] & mask;
        while (tb[sl]) sl = (sl + 1) & mask;
        tb[sl] = k + 1;
      }
      this.table = tb;
    }
    return c;
  }

  /** Dictionary code of the string value at `i` (a quote) of path `path`, the text moved past it. */
  private stringCode(path: number): number {
    const t = this.t;
    const s = this.i + 1;
    const last = this.lastCode[path];
    if (last >= 0) {
      const n = this.fullLen[last];
      const at = this.fullAt[last];
      const end = s + n;
      if (t.charCodeAt(end) === 34 && this.bs > end && (at >= 0 ? this.eq(s, at, n) : same(t, s, this.full[last]))) {
        this.i = end + 1;
        return last;
      }
    }
    const q = t.indexOf('"', s);
    let k: number;
    if (q < this.bs) {
      k = this.codeRange(s, q);
      this.i = q + 1;
    } else k = this.codeOf(this.str());
    this.lastCode[path] = k;
    return k;
  }

  /** Code of `true` (0), `false` (1) or `null` (2). */
  private literal(which: number): number {
    const c = this.lit[which];
    return c >= 0 ? c : (this.lit[which] = this.codeOf(which === 0 ? 'true' : which === 1 ? 'false' : 'null'));
  }

  /** Skips the value at `i` (after white space). */
  skip(): void {
    this.ws();
    const t = this.t;
    let c = t.charCodeAt(this.i);
    if (c === 34) {
      this.strEnd(t.indexOf('"', this.i + 1));
      return;
    }
    if (c !== 123 && c !== 91) {
      while ((c = t.charCodeAt(this.i)) > 32 && c !== 44 && c !== 93 && c !== 125) this.i++;
      return;
    }
    let depth = 0;
    for (;;) {
      c = t.charCodeAt(this.i);
      if (c === 34) {
        this.strEnd(t.indexOf('"', this.i + 1));
        continue;
      }
      this.i++;
      if (c === 123 || c === 91) depth++;
      else if ((c === 125 || c === 93) && --depth === 0) return;
    }
  }

  /** Reads a number token at `i`; `simple` when it is all digits, at most 15 (so `String(Number(tok)) === tok`). */
  private numberToken(): string {
    const t = this.t;
    const s = this.i;
    let j = s;
    for (;;) {
      const d = t.charCodeAt(j);
      if ((d >= 48 && d <= 57) || d === 45 || d === 43 || d === 46 || d === 101 || d === 69) j++;
      else break;
    }
    this.i = j;
    return t.slice(s, j);
  }

  /**
   * Stores and hashes the value at `i` (after white space) at path `path`, position (p1, p2), depth `depth`
   * below the event: FieldStoreBuilder.walk over the text.
   */
  private value(path: number, p1: number, p2: number, depth: number, plain: boolean): void {
    const t = this.t;
    const acc = this.acc;
    const c = t.charCodeAt(this.i);
    if (c === 34) {
      const k = this.stringCode(path);
      this.entry(path, k);
      return addLeaf(acc, p1, p2, this.valH[k * 2], this.valH[k * 2 + 1]);
    }
    if (c === 123) {
      if (depth >= MAX_STORED_DEPTH) return this.hashValue(p1, p2, depth);
      this.i++;
      this.ws();
      if (t.charCodeAt(this.i) === 125) {
        this.i++;
        return addLeaf(acc, p1, p2, EMPTY_OBJECT1, EMPTY_OBJECT2);
      }
      const obj = ++this.serial;
      for (let id = -1; ;) {
        id = this.keyId(path, id, obj);
        if (plain) {
          this.plainPos(id, p1, p2);
          this.value(id, this.posH[id * 2], this.posH[id * 2 + 1], depth + 1, true);
        } else this.value(id, mixA(p1, this.keyH[id * 2]), mixB(p2, this.keyH[id * 2 + 1]), depth + 1, false);
        this.ws();
        if (t.charCodeAt(this.i++) === 125) return;
        this.ws();
      }
    }
    if (c === 91) {
      if (depth >= MAX_STORED_DEPTH) return this.hashValue(p1, p2, depth);
      this.i++;
      this.ws();
      if (t.charCodeAt(this.i) === 93) {
        this.i++;
        return addLeaf(acc, p1, p2, EMPTY_ARRAY1, EMPTY_ARRAY2);
      }
      for (let idx = 0; ; idx++) {
        this.value(path, mixA(p1, index1(idx)), mixB(p2, index2(idx)), depth + 1, false);
        this.ws();
        if (t.charCodeAt(this.i++) === 93) return;
        this.ws();
      }
    }
    if (c === 116) {
      this.i += 4;
      this.entry(path, this.literal(0));
      return addLeaf(acc, p1, p2, TRUE1, TRUE2);
    }
    if (c === 102) {
      this.i += 5;
      this.entry(path, this.literal(1));
      return addLeaf(acc, p1, p2, FALSE1, FALSE2);
    }
    if (c === 110) {
      this.i += 4;
      this.entry(path, this.literal(2));
      return addLeaf(acc, p1, p2, NULL1, NULL2);
    }
    const tok = this.numberToken();
    if (isPlainInteger(tok)) {
      const k = this.codeOf(tok);
      this.entry(path, k);
      return addLeaf(acc, p1, p2, this.valH[k * 2] ^ NUMBER1, (this.valH[k * 2 + 1] + NUMBER2) | 0);
    }
    // stored as the parsed number prints; hashed by value when a double holds it exactly, else as written
    const num = Number(tok);
    const k = this.codeOf(String(num));
    this.entry(path, k);
    if (!lossyNumber(num))
      return addLeaf(acc, p1, p2, this.valH[k * 2] ^ NUMBER1, (this.valH[k * 2 + 1] + NUMBER2) | 0);
    hashStringTo(tok, TAG_VALUE, scratch, 0);
    return addLeaf(acc, p1, p2, scratch[0] ^ NUMBER1, (scratch[1] + NUMBER2) | 0);
  }

  /**
   * Hashes the value at `i` (after white space) without storing it: exactHash over the text.
   * @throws NestingTooDeepError when a container lies at depth MAX_DEPTH or deeper.
   */
  private hashValue(p1: number, p2: number, depth: number): void {
    const t = this.t;
    const acc = this.acc;
    const c = t.charCodeAt(this.i);
    if (c === 123 || c === 91) {
      if (depth >= MAX_DEPTH) throw new NestingTooDeepError();
      this.i++;
      this.ws();
      if (t.charCodeAt(this.i) === c + 2) {
        this.i++;
        return c === 123
          ? addLeaf(acc, p1, p2, EMPTY_OBJECT1, EMPTY_OBJECT2)
          : addLeaf(acc, p1, p2, EMPTY_ARRAY1, EMPTY_ARRAY2);
      }
      let seen: Set<string> | null = null;
      for (let idx = 0; ; idx++) {
        if (c === 123) {
          const k = this.str();
          seen ??= new Set();
          if (seen.has(k)) throw GIVE_UP;
          seen.add(k);
          this.ws();
          this.i++; // ':'
          this.ws();
          hashStringTo(k, TAG_KEY, scratch, 2);
          this.hashValue(mixA(p1, scratch[2]), mixB(p2, scratch[3]), depth + 1);
        } else this.hashValue(mixA(p1, index1(idx)), mixB(p2, index2(idx)), depth + 1);
        this.ws();
        if (t.charCodeAt(this.i++) === c + 2) return;
        this.ws();
      }
    }
    if (c === 34) {
      hashStringTo(this.str(), TAG_VALUE, scratch, 0);
      return addLeaf(acc, p1, p2, scratch[0], scratch[1]);
    }
    if (c === 116) return ((this.i += 4), addLeaf(acc, p1, p2, TRUE1, TRUE2));
    if (c === 102) return ((this.i += 5), addLeaf(acc, p1, p2, FALSE1, FALSE2));
    if (c === 110) return ((this.i += 4), addLeaf(acc, p1, p2, NULL1, NULL2));
    const tok = this.numberToken();
    const num = Number(tok);
    hashStringTo(lossyNumber(num) ? tok : String(num), TAG_VALUE, scratch, 0);
    return addLeaf(acc, p1, p2, scratch[0] ^ NUMBER1, (scratch[1] + NUMBER2) | 0);
  }

  /** Hashes the value of a column path (stored as a column, not here): a string's hash is cached per block. */
  private column(id: number, p1: number, p2: number, depth: number): void {
    const t = this.t;
    if (t.charCodeAt(this.i) !== 34) return this.hashValue(p1, p2, depth);
    const lh = this.lastH;
    const s = this.i + 1;
    const at = this.colAt[id];
    if (at >= 0) {
      const n = this.colLen[id];
      const end = s + n;
      if (t.charCodeAt(end) === 34 && this.bs > end && this.eq(s, at, n)) {
        this.i = end + 1;
        return addLeaf(this.acc, p1, p2, lh[id * 2], lh[id * 2 + 1]);
      }
    }
    const q = t.indexOf('"', s);
    if (q < this.bs) {
      hashRangeTo(t, s, q, TAG_VALUE, lh, id * 2);
      this.colAt[id] = s;
      this.colLen[id] = q - s;
      this.i = q + 1;
    } else {
      hashStringTo(this.str(), TAG_VALUE, lh, id * 2);
      this.colAt[id] = -1;
    }
    addLeaf(this.acc, p1, p2, lh[id * 2], lh[id * 2 + 1]);
  }

  /**
   * Adds the record at `i` (an object) as the next row, writing its content hash to `h[off..off+1]` and its
   * eventID hash to `e[off..off+1]`. Returns false, adding no entry, when it nests deeper than MAX_DEPTH
   * (`i` is then past the record all the same): FieldStoreBuilder.addEvent over the text.
   */
  record(h: Uint32Array, e: Uint32Array, off: number): boolean {
    const t = this.t;
    const acc = this.acc;
    acc.a = 0;
    acc.b = 0;
    acc.n = 0;
    const e0 = this.e;
    const start = this.i;
    try {
      this.i++;
      this.ws();
      if (t.charCodeAt(this.i) === 125) {
        this.i++;
        addLeaf(acc, ROOT1, ROOT2, EMPTY_OBJECT1, EMPTY_OBJECT2);
      } else {
        const obj = ++this.serial;
        for (let id = -1; ;) {
          id = this.keyId(-1, id, obj);
          this.plainPos(id, ROOT1, ROOT2);
          const p1 = this.posH[id * 2];
          const p2 = this.posH[id * 2 + 1];
          const c = t.charCodeAt(this.i);
          const f = this.flag[id];
          if (f === F_COLUMN) this.column(id, p1, p2, 1);
          else if (id === this.uiPath && c === 123) this.userIdentity(id, p1, p2);
          else if (c === 34 && f === F_EVENT_ID) {
            const code = this.stringCode(id);
            this.entry(id, code);
            addLeaf(acc, p1, p2, this.valH[code * 2], this.valH[code * 2 + 1]);
            const v = this.full[code];
            if (v) stringHash(v, e, off);
          } else this.value(id, p1, p2, 1, true);
          this.ws();
          if (t.charCodeAt(this.i++) === 125) break;
          this.ws();
        }
      }
    } catch (err) {
      if (!(err instanceof NestingTooDeepError)) throw err;
      this.e = e0;
      e[off] = e[off + 1] = 0;
      this.i = start;
      const bs = t.indexOf('\\', start);
      this.bs = bs < 0 ? t.length : bs;
      this.skip();
      return false;
    }
    finishLeafSum(acc, h, off);
    this.rowStarts.push(e0);
    return true;
  }

  /** The members of a `userIdentity` object (at `i`): its `type`, `accountId` and `accessKeyId` are columns. */
  private userIdentity(id: number, p1: number, p2: number): void {
    const t = this.t;
    this.i++;
    this.ws();
    if (t.charCodeAt(this.i) === 125) {
      this.i++;
      return addLeaf(this.acc, p1, p2, EMPTY_OBJECT1, EMPTY_OBJECT2);
    }
    const obj = ++this.serial;
    for (let uid = -1; ;) {
      uid = this.keyId(id, uid, obj);
      this.plainPos(uid, p1, p2);
      const q1 = this.posH[uid * 2];
      const q2 = this.posH[uid * 2 + 1];
      if (this.flag[uid] === F_COLUMN) this.column(uid, q1, q2, 2);
      else this.value(uid, q1, q2, 2, true);
      this.ws();
      if (t.charCodeAt(this.i++) === 125) return;
      this.ws();
    }
  }
}

/** True when `t` holds the same `n` characters at `s` and at `at`. */
function sameAt(t: string, s: number, at: number, n: number): boolean {
  for (let j = 0; j < n; j++) if (t.charCodeAt(s + j) !== t.charCodeAt(at + j)) return false;
  return true;
}

/** True when `t` holds `k` at position `s` (a loop: cheaper than a `startsWith` call for short strings). */
function same(t: string, s: number, k: string): boolean {
  const n = k.length;
  if (n > 64) return t.startsWith(k, s);
  for (let j = 0; j < n; j++) if (t.charCodeAt(s + j) !== k.charCodeAt(j)) return false;
  return true;
}

/** True for a number token of at most 15 digits and nothing else (its parsed value prints as the token). */
function isPlainInteger(tok: string): boolean {
  if (tok.length > 15) return false;
  for (let j = 0; j < tok.length; j++) {
    const d = tok.charCodeAt(j);
    if (d < 48 || d > 57) return false;
  }
  return true;
}

/**
 * Scans an S3 delivery document's text (valid JSON; a leading BOM allowed) whose `Records` array holds
 * `records` elements. `utf8`, when given, is the text's UTF-8 encoding (the decoded bytes): an all-ASCII
 * document's comparisons then read it 4 bytes at a time. Returns null when the document is not one the scanner mirrors exactly (see the module
 * comment): the caller then indexes the parsed events instead.
 * @throws never for valid JSON text.
 */
export function scanS3Delivery(text: string, records: number, utf8?: Uint8Array): ScannedRecords | null {
  const bs0 = text.indexOf('\\');
  // UTF-8 as long as UTF-16 only when every character is ASCII
  const dv = utf8 && utf8.length === text.length ? new DataView(utf8.buffer, utf8.byteOffset, utf8.length) : null;
  let b = new ScanBuilder(text, text.charCodeAt(0) === 0xfeff ? 1 : 0, bs0 < 0 ? text.length : bs0, dv);
  const kept = new Uint32Array(records);
  const h = new Uint32Array(records * 2);
  const e = new Uint32Array(records * 2);
  const ranges = new Uint32Array(records * 2);
  const blocks: ScannedRecords['blocks'] = [];
  let nKept = 0;
  let r = 0;
  let found = false;
  const ws = () => {
    while (text.charCodeAt(b.i) <= 32) b.i++;
  };
  try {
    ws();
    if (text.charCodeAt(b.i++) !== 123) return null;
    ws();
    if (text.charCodeAt(b.i) === 125) return null;
    for (;;) {
      if (text.charCodeAt(b.i) !== 34) return null;
      const s = b.i;
      if (b.bs < text.indexOf('"', s + 1)) return null; // a top-level key written with escapes
      b.i = text.indexOf('"', s + 1) + 1;
      const isRecords = b.i - s === 9 && text.startsWith('"Records"', s);
      ws();
      b.i++; // ':'
      ws();
      if (!isRecords) b.skip();
      else {
        if (found || text.charCodeAt(b.i) !== 91) return null;
        found = true;
        b.i++;
        ws();
        if (text.charCodeAt(b.i) === 93) b.i++;
        else
          for (;;) {
            if (r >= records || text.charCodeAt(b.i) !== 123) return null;
            ranges[r * 2] = b.i;
            if (b.record(h, e, nKept * 2)) {
              kept[nKept++] = r;
              if (b.rows === CHUNK_EVENTS) {
                blocks.push({ n: b.rows, fields: b.finish() });
                b = new ScanBuilder(text, b.i, b.bs, dv);
              }
            }
            ranges[r * 2 + 1] = b.i;
            r++;
            ws();
            if (text.charCodeAt(b.i++) === 93) break;
            ws();
          }
      }
      ws();
      if (text.charCodeAt(b.i++) === 125) break;
      ws();
    }
  } catch (err) {
    if (err === GIVE_UP) return null;
    throw err;
  }
  if (!found || r !== records) return null;
  if (b.rows) blocks.push({ n: b.rows, fields: b.finish() });
  return {
    kept: kept.subarray(0, nKept),
    h: h.subarray(0, nKept * 2),
    e: e.subarray(0, nKept * 2),
    ranges,
    blocks,
    tooDeep: records - nKept,
  };
}
