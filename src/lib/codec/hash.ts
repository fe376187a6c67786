/**
 * Order-independent content hash of a parsed JSON value: two records hash alike exactly when their JSON is
 * identical once object keys are sorted (KeyTrail's rule for "the same event").
 *
 * Definition (a "leaf sum"): every leaf of the value (a string, number, boolean, null, or an empty object or
 * array) contributes a hash of its position and its typed value, and the value's hash is the sum of its
 * leaves' contributions. A position is built step by step from the root: an object key mixes in the key's
 * hash, an array element mixes in its index. Since an object's keys are unique, the set of (position, value)
 * pairs describes the JSON value completely, in any key order; arrays keep their order through the index.
 *
 * Being a sum over leaves, the hash can be computed in the same walk that builds the field store of a chunk
 * (see `FieldStoreBuilder` in store/fields.ts), with each distinct value's string hashed once per chunk
 * rather than once per occurrence. {@link contentHash} is the standalone form; both must agree.
 *
 * The result is 64 bits, as two unsigned 32-bit lanes summed independently. The chance that two different
 * events in a store of n events collide is about n² / 2^65 (≈ 3e-8 at one million events).
 */

/** Thrown when a value nests deeper than {@link MAX_DEPTH}; the record is rejected, not hashed. */
export class NestingTooDeepError extends Error {
  constructor() {
    super(`JSON nested more than ${MAX_DEPTH} levels deep`);
    this.name = 'NestingTooDeepError';
  }
}

/** Deepest nesting of objects and arrays accepted in one event. Real CloudTrail events nest under 20. */
export const MAX_DEPTH = 256;

/** String hash tags: a string value, an object key, an eventID. */
export const TAG_VALUE = 1;
export const TAG_KEY = 3;
const TAG_EVENT_ID = 4;

/** Position lanes of the root. */
export const ROOT1 = 0x243f6a88;
export const ROOT2 = 0x85a308d3;

/** Typed-value lanes of the constant leaves. */
export const TRUE1 = 0x2f1a3c5b,
  TRUE2 = 0x1b873593;
export const FALSE1 = 0x6d2b79f5,
  FALSE2 = 0x3c6ef372;
export const NULL1 = 0x7feb352d,
  NULL2 = 0x846ca68b;
export const EMPTY_ARRAY1 = 0x68e31da4,
  EMPTY_ARRAY2 = 0xb5297a4d;
export const EMPTY_OBJECT1 = 0x4cf5ad43,
  EMPTY_OBJECT2 = 0x7a3b1c2d;
/** A number's lanes are its text's string lanes with these mixed in (so 1 and "1" differ). */
export const NUMBER1 = 0x5f356495,
  NUMBER2 = 0x2c1b3c6d;

/** murmur3's 32-bit finaliser (a bijection): unsigned result. */
export function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Combines lane 1 of a position with lane 1 of a key, index or value. */
export function mixA(x: number, y: number): number {
  return fmix((Math.imul(x ^ y, 0x9e3779b1) + 0x7f4a7c15) | 0);
}

/** Combines lane 2 of a position with lane 2 of a key, index or value. */
export function mixB(x: number, y: number): number {
  return fmix(Math.imul((x + y) | 0, 0x85ebca77) ^ 0x165667b1);
}

/** Lane 1 of array index `i` (as a step of a position). */
export function index1(i: number): number {
  return (0x61c88647 + Math.imul(i + 1, 0x9e3779b1)) | 0;
}

/** Lane 2 of array index `i`. */
export function index2(i: number): number {
  return Math.imul(i + 1, 0xc2b2ae3d) ^ 0x27d4eb2f;
}

/**
 * Two-lane hash of a string with a tag, written to `out[off]`, `out[off + 1]` (unsigned 32-bit lanes). The
 * text is hashed by UTF-16 code units.
 */
export function hashStringTo(s: string, tag: number, out: Uint32Array, off: number): void {
  let a = 0x811c9dc5 ^ tag;
  let b = 0x9747b28c ^ Math.imul(tag, 0x27d4eb2d) ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 13;
  }
  out[off] = fmix(a ^ s.length);
  out[off + 1] = fmix(b);
}

/** Running sums of a leaf-sum hash (see the module comment). */
export interface LeafSum {
  a: number;
  b: number;
  /** Leaves counted. */
  n: number;
}

const scratch = new Uint32Array(4);

/** Adds one leaf at position (p1, p2) with typed value lanes (v1, v2). */
export function addLeaf(acc: LeafSum, p1: number, p2: number, v1: number, v2: number): void {
  acc.a = (acc.a + mixA(p1, v1)) | 0;
  acc.b = (acc.b + mixB(p2, v2)) | 0;
  acc.n++;
}

/**
 * Adds every leaf of `v`, found at position (p1, p2) and nesting depth `depth`, to `acc`.
 * @throws NestingTooDeepError when a container lies at depth {@link MAX_DEPTH} or deeper.
 */
export function addValue(acc: LeafSum, v: unknown, p1: number, p2: number, depth: number): void {
  switch (typeof v) {
    case 'string':
      hashStringTo(v, TAG_VALUE, scratch, 0);
      return addLeaf(acc, p1, p2, scratch[0], scratch[1]);
    case 'number':
      if (lossyNumber(v)) walkStats.lossy = true;
      hashStringTo(String(v), TAG_VALUE, scratch, 0);
      return addLeaf(acc, p1, p2, scratch[0] ^ NUMBER1, (scratch[1] + NUMBER2) | 0);
    case 'boolean':
      return v ? addLeaf(acc, p1, p2, TRUE1, TRUE2) : addLeaf(acc, p1, p2, FALSE1, FALSE2);
    case 'object': {
      if (v === null) return addLeaf(acc, p1, p2, NULL1, NULL2);
      if (depth >= MAX_DEPTH) throw new NestingTooDeepError();
      if (Array.isArray(v)) {
        if (v.length === 0) return addLeaf(acc, p1, p2, EMPTY_ARRAY1, EMPTY_ARRAY2);
        for (let i = 0; i < v.length; i++) addValue(acc, v[i], mixA(p1, index1(i)), mixB(p2, index2(i)), depth + 1);
        return;
      }
      let any = false;
      const o = v as Record<string, unknown>;
      for (const k in o) {
        any = true;
        walkStats.keys++;
        hashStringTo(k, TAG_KEY, scratch, 2);
        addValue(acc, o[k], mixA(p1, scratch[2]), mixB(p2, scratch[3]), depth + 1);
      }
      if (!any) addLeaf(acc, p1, p2, EMPTY_OBJECT1, EMPTY_OBJECT2);
      return;
    }
    default:
      // undefined / functions / symbols never come out of JSON.parse
      return addLeaf(acc, p1, p2, 0, 0);
  }
}

/** Counters the fast-path walk keeps for the check above (reset per document by prepare). */
export const walkStats = {
  /** Object members seen (keys of parsed objects, events and below). */
  keys: 0,
  /** True once a number that may not be as written was seen (not a safe integer, or -0). */
  lossy: false,
};

/** True when a parsed number may differ from its text as written (so the fast hash may merge distinct texts). */
export function lossyNumber(v: number): boolean {
  return !Number.isSafeInteger(v) || (v === 0 && 1 / v < 0);
}

/** Writes the final two lanes of a leaf sum to `out[offset]`, `out[offset + 1]`. */
export function finishLeafSum(acc: LeafSum, out: Uint32Array, offset: number): void {
  out[offset] = fmix(acc.a ^ Math.imul(acc.n, 0x9e3779b1) ^ 0x4cf5ad43);
  out[offset + 1] = fmix((acc.b + acc.n + 0x7a3b1c2d) | 0);
}

/**
 * Hashes a parsed JSON value. Writes the two 32-bit lanes into `out[offset]` and `out[offset + 1]`.
 * @throws NestingTooDeepError when the value nests deeper than {@link MAX_DEPTH}.
 */
export function contentHash(v: unknown, out: Uint32Array, offset: number): void {
  const acc: LeafSum = { a: 0, b: 0, n: 0 };
  addValue(acc, v, ROOT1, ROOT2, 0);
  finishLeafSum(acc, out, offset);
}

/** Hash of a string (for example an `eventID`) into two 32-bit lanes written to `out[offset..offset+1]`. */
export function stringHash(s: string, out: Uint32Array, offset: number): void {
  hashStringTo(s, TAG_EVENT_ID, out, offset);
}
