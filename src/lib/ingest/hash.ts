/**
 * Order-independent content hash of a parsed JSON value: two records hash alike exactly when their JSON is
 * identical once object keys are sorted (KeyTrail's rule for "the same event"). Computed in one pass over the
 * parsed value without sorting keys or building a canonical string: an object's hash is a commutative sum of
 * its (key, value) pair hashes, an array's is an ordered fold.
 *
 * The result is 64 bits, as two unsigned 32-bit lanes. The chance that two different events in a store of
 * n events collide is about n² / 2^65 (≈ 3e-8 at one million events).
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

let H1 = 0;
let H2 = 0;

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashString(s: string, tag: number): void {
  let a = 0x811c9dc5 ^ tag;
  let b = 0x9747b28c ^ Math.imul(tag, 0x27d4eb2d) ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 13;
  }
  H1 = fmix(a ^ s.length);
  H2 = fmix(b);
}

function hashValue(v: unknown, depth: number): void {
  switch (typeof v) {
    case 'string':
      hashString(v, 1);
      return;
    case 'number':
      hashString(String(v), 2);
      return;
    case 'boolean':
      H1 = v ? 0x2f1a3c5b : 0x6d2b79f5;
      H2 = v ? 0x1b873593 : 0x3c6ef372;
      return;
    case 'object': {
      if (v === null) {
        H1 = 0x7feb352d;
        H2 = 0x846ca68b;
        return;
      }
      if (depth >= MAX_DEPTH) throw new NestingTooDeepError();
      if (Array.isArray(v)) {
        let a = 0x68e31da4 ^ v.length;
        let b = 0xb5297a4d ^ v.length;
        for (let i = 0; i < v.length; i++) {
          hashValue(v[i], depth + 1);
          a = fmix(Math.imul(a, 31) + H1);
          b = fmix((b ^ H2) + 0x9e3779b9);
        }
        H1 = a;
        H2 = b;
        return;
      }
      let a = 0;
      let b = 0;
      let n = 0;
      const o = v as Record<string, unknown>;
      for (const k in o) {
        hashString(k, 3);
        const k1 = H1;
        const k2 = H2;
        hashValue(o[k], depth + 1);
        a = (a + fmix(k1 ^ ((H1 << 13) | (H1 >>> 19)) ^ 0x1b873593)) | 0;
        b = (b + fmix(k2 + Math.imul(H2, 0x2545f491))) | 0;
        n++;
      }
      H1 = fmix(a ^ Math.imul(n, 0x9e3779b1) ^ 0x4cf5ad43);
      H2 = fmix(b + n + 0x7a3b1c2d);
      return;
    }
    default:
      // undefined / functions / symbols never come out of JSON.parse
      H1 = 0;
      H2 = 0;
  }
}

/**
 * Hashes a parsed JSON value. Writes the two 32-bit lanes into `out[offset]` and `out[offset + 1]`.
 * @throws NestingTooDeepError when the value nests deeper than {@link MAX_DEPTH}.
 */
export function contentHash(v: unknown, out: Uint32Array, offset: number): void {
  hashValue(v, 0);
  out[offset] = H1;
  out[offset + 1] = H2;
}

/** Hash of a string (for example an `eventID`) into two 32-bit lanes written to `out[offset..offset+1]`. */
export function stringHash(s: string, out: Uint32Array, offset: number): void {
  hashString(s, 4);
  out[offset] = H1;
  out[offset + 1] = H2;
}
