/**
 * Exact reading of JSON for the content hash, where `JSON.parse` loses what makes two records different:
 * - a number's text: `9007199254740993` and `9007199254740992` parse to the same double, `1e400` and `1e401`
 *   both to Infinity, `1.50` and `1.5` to 1.5;
 * - duplicate keys: `{"a":1,"a":2}` parses to `{"a":2}`.
 *
 * KeyTrail's rule for "the same event" is the JSON as written, object keys sorted (README, "Same event"). The
 * fast path (the field store walk, store/fields.ts) hashes parsed values, which is exact for almost every real
 * record. {@link prepare} (ingest/prepare.ts) counts, in that walk, the keys it saw and any number a double
 * cannot hold as written (not a safe integer, or -0), and compares the key count with the document's `":`
 * count: when a number may have lost its text, or a key may have been overwritten, the document's events are
 * re-read here, each hashed from its own text by {@link exactHash}.
 */
import {
  addLeaf,
  EMPTY_ARRAY1,
  EMPTY_ARRAY2,
  EMPTY_OBJECT1,
  EMPTY_OBJECT2,
  FALSE1,
  FALSE2,
  finishLeafSum,
  fmix,
  hashStringTo,
  index1,
  index2,
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
  TAG_KEY,
  TAG_VALUE,
  TRUE1,
  TRUE2,
  lossyNumber,
  type LeafSum,
} from './hash';

export { walkStats } from './hash';

/** Number of object members of a parsed JSON value, not counting those inside `skip` objects (events). */
export function countKeysOutside(v: unknown, skip: ReadonlySet<unknown>): number {
  if (typeof v !== 'object' || v === null || skip.has(v)) return 0;
  let n = 0;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) n += countKeysOutside(v[i], skip);
    return n;
  }
  for (const k in v as Record<string, unknown>) n += 1 + countKeysOutside((v as Record<string, unknown>)[k], skip);
  return n;
}

/**
 * Occurrences of `":` not preceded by a backslash in `text`, or -1 when `text` holds `\\":` (a key may end
 * with an escaped backslash). Inside a JSON string a quote is always escaped (`\"`), so otherwise the count is
 * exactly the object members written with no white space between key and colon: equal to the members parsed
 * only when no key was repeated (a repeat is parsed once) and none was written `"key" :`.
 */
export function keyColons(text: string): number {
  if (text.indexOf('\\\\":') !== -1) return -1;
  let n = 0;
  for (let i = text.indexOf('":'); i !== -1; i = text.indexOf('":', i + 2)) if (text.charCodeAt(i - 1) !== 92) n++;
  return n;
}

/** Where a parsed object or array was read from: `src.slice(start, end)` is its text as written. */
export interface RawRange {
  src: string;
  start: number;
  end: number;
}

/** Raw text of the objects and arrays read by {@link parseWithRanges}. */
export const rawRanges = new WeakMap<object, RawRange>();

/** The JSON text `v` was read from by {@link parseWithRanges}, or undefined. */
export function rawTextOf(v: unknown): string | undefined {
  const r = typeof v === 'object' && v !== null ? rawRanges.get(v) : undefined;
  return r ? r.src.slice(r.start, r.end) : undefined;
}

/** Deepest nesting {@link parseWithRanges} reads (recursion); deeper documents keep the fast path. */
const MAX_PARSE_DEPTH = 1024;

/**
 * Parses JSON like `JSON.parse` (same values: last duplicate key wins at its first position, `__proto__` an
 * own property) and records each object's and array's source range in {@link rawRanges}.
 * @throws SyntaxError on invalid JSON or nesting deeper than 1024.
 */
export function parseWithRanges(src: string): unknown {
  let i = 0;
  const n = src.length;
  const ws = () => {
    for (let c = src.charCodeAt(i); c === 32 || c === 9 || c === 10 || c === 13; c = src.charCodeAt(++i));
  };
  const fail = (): never => {
    throw new SyntaxError(`bad JSON at position ${i}`);
  };
  const str = (): string => {
    const s = i;
    for (i++; ;) {
      const q = src.indexOf('"', i);
      if (q < 0) fail();
      let b = 0;
      for (let k = q - 1; src.charCodeAt(k) === 92; k--) b++;
      i = q + 1;
      if (!(b & 1)) break;
    }
    const tok = src.slice(s, i);
    return tok.indexOf('\\') < 0 ? tok.slice(1, -1) : (JSON.parse(tok) as string);
  };
  const value = (depth: number): unknown => {
    if (depth > MAX_PARSE_DEPTH) fail();
    ws();
    const c = src.charCodeAt(i);
    const start = i;
    if (c === 123) {
      const o: Record<string, unknown> = {};
      i++;
      ws();
      if (src.charCodeAt(i) === 125) i++;
      else {
        for (;;) {
          ws();
          if (src.charCodeAt(i) !== 34) fail();
          const k = str();
          ws();
          if (src.charCodeAt(i) !== 58) fail();
          i++;
          const v = value(depth + 1);
          if (k === '__proto__')
            Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
          else o[k] = v;
          ws();
          const d = src.charCodeAt(i++);
          if (d === 125) break;
          if (d !== 44) fail();
        }
      }
      rawRanges.set(o, { src, start, end: i });
      return o;
    }
    if (c === 91) {
      const a: unknown[] = [];
      i++;
      ws();
      if (src.charCodeAt(i) === 93) i++;
      else {
        for (;;) {
          a.push(value(depth + 1));
          ws();
          const d = src.charCodeAt(i++);
          if (d === 93) break;
          if (d !== 44) fail();
        }
      }
      rawRanges.set(a, { src, start, end: i });
      return a;
    }
    if (c === 34) return str();
    if (c === 116 && src.startsWith('true', i)) return ((i += 4), true);
    if (c === 102 && src.startsWith('false', i)) return ((i += 5), false);
    if (c === 110 && src.startsWith('null', i)) return ((i += 4), null);
    NUM.lastIndex = i;
    const m = NUM.exec(src);
    if (!m) fail();
    i += m![0].length;
    return Number(m![0]);
  };
  const v = value(0);
  ws();
  if (i < n) fail();
  return v;
}

/** A JSON number token (RFC 8259), sticky. */
const NUM = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

const scratch = new Uint32Array(4);

/**
 * The content hash of one JSON value from its text, as written: the leaf sum of ingest/hash.ts, where a
 * number is hashed by its text (not its double) unless it is a safe integer (|n| < 2^53, not -0: hashed by
 * value, so `100`, `100.0` and `1e2` are one number, as on the fast path), and the k-th repeat (k ≥ 1) of a key in one object has k
 * mixed into the key's hash, so `{"a":1,"a":2}`, `{"a":2,"a":1}` and `{"a":2}` all differ. For text with
 * neither repeated keys nor numbers a double cannot hold as written, the result equals `contentHash` of the
 * parsed value (the fast path). Writes two 32-bit lanes to `out[offset]`, `out[offset + 1]`.
 * @throws NestingTooDeepError when the value nests deeper than MAX_DEPTH; SyntaxError on invalid JSON.
 */
export function exactHash(text: string, out: Uint32Array, offset: number): void {
  const acc: LeafSum = { a: 0, b: 0, n: 0 };
  let i = 0;
  const ws = () => {
    for (let c = text.charCodeAt(i); c === 32 || c === 9 || c === 10 || c === 13; c = text.charCodeAt(++i));
  };
  const fail = (): never => {
    throw new SyntaxError(`bad JSON at position ${i}`);
  };
  const str = (): string => {
    const s = i;
    for (i++; ;) {
      const q = text.indexOf('"', i);
      if (q < 0) fail();
      let b = 0;
      for (let k = q - 1; text.charCodeAt(k) === 92; k--) b++;
      i = q + 1;
      if (!(b & 1)) break;
    }
    const tok = text.slice(s, i);
    return tok.indexOf('\\') < 0 ? tok.slice(1, -1) : (JSON.parse(tok) as string);
  };
  const value = (p1: number, p2: number, depth: number): void => {
    ws();
    const c = text.charCodeAt(i);
    if (c === 123 || c === 91) {
      if (depth >= MAX_DEPTH) throw new NestingTooDeepError();
      i++;
      ws();
      if (text.charCodeAt(i) === c + 2) {
        i++;
        return c === 123
          ? addLeaf(acc, p1, p2, EMPTY_OBJECT1, EMPTY_OBJECT2)
          : addLeaf(acc, p1, p2, EMPTY_ARRAY1, EMPTY_ARRAY2);
      }
      let seen: Map<string, number> | null = null;
      for (let idx = 0; ; idx++) {
        if (c === 123) {
          ws();
          if (text.charCodeAt(i) !== 34) fail();
          const k = str();
          ws();
          if (text.charCodeAt(i) !== 58) fail();
          i++;
          seen ??= new Map();
          const rep = seen.get(k) ?? 0;
          seen.set(k, rep + 1);
          hashStringTo(k, TAG_KEY, scratch, 2);
          let k1 = scratch[2],
            k2 = scratch[3];
          if (rep) {
            k1 = fmix(k1 ^ Math.imul(rep, 0x9e3779b1));
            k2 = fmix((k2 + Math.imul(rep, 0x85ebca77)) | 0);
          }
          value(mixA(p1, k1), mixB(p2, k2), depth + 1);
        } else value(mixA(p1, index1(idx)), mixB(p2, index2(idx)), depth + 1);
        ws();
        const d = text.charCodeAt(i++);
        if (d === c + 2) return;
        if (d !== 44) fail();
      }
    }
    if (c === 34) {
      hashStringTo(str(), TAG_VALUE, scratch, 0);
      return addLeaf(acc, p1, p2, scratch[0], scratch[1]);
    }
    if (c === 116 && text.startsWith('true', i)) return ((i += 4), addLeaf(acc, p1, p2, TRUE1, TRUE2));
    if (c === 102 && text.startsWith('false', i)) return ((i += 5), addLeaf(acc, p1, p2, FALSE1, FALSE2));
    if (c === 110 && text.startsWith('null', i)) return ((i += 4), addLeaf(acc, p1, p2, NULL1, NULL2));
    NUM.lastIndex = i;
    const m = NUM.exec(text);
    if (!m) fail();
    i += m![0].length;
    // a safe integer hashes by value, as the fast path does (so both paths agree on every event); any other
    // number by its text
    const num = Number(m![0]);
    hashStringTo(lossyNumber(num) ? m![0] : String(num), TAG_VALUE, scratch, 0);
    return addLeaf(acc, p1, p2, scratch[0] ^ NUMBER1, (scratch[1] + NUMBER2) | 0);
  };
  value(ROOT1, ROOT2, 0);
  finishLeafSum(acc, out, offset);
}

/**
 * Pretty-prints JSON text with a 2-space indent, the layout of `JSON.stringify(v, null, 2)`, keeping every
 * token as written: numbers keep their digits (`9007199254740993`, `1e400`), repeated keys all show, in order.
 * Strings holding escapes are re-escaped as `JSON.stringify` writes them. The text must be valid JSON.
 */
export function prettyJson(text: string): string {
  const out: string[] = [];
  let indent = '\n';
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      i++;
      continue;
    }
    if (c === 34) {
      const s = i;
      for (i++; ;) {
        const q = text.indexOf('"', i);
        if (q < 0) return text; // not JSON: as is
        let b = 0;
        for (let k = q - 1; text.charCodeAt(k) === 92; k--) b++;
        i = q + 1;
        if (!(b & 1)) break;
      }
      const tok = text.slice(s, i);
      out.push(tok.indexOf('\\') < 0 ? tok : JSON.stringify(JSON.parse(tok)));
      continue;
    }
    if (c === 123 || c === 91) {
      let j = i + 1;
      while (j < n && /\s/.test(text[j])) j++;
      if (text.charCodeAt(j) === c + 2) {
        out.push(c === 123 ? '{}' : '[]');
        i = j + 1;
        continue;
      }
      indent += '  ';
      out.push(text[i], indent);
      i++;
      continue;
    }
    if (c === 125 || c === 93) {
      indent = indent.slice(0, -2);
      out.push(indent, text[i]);
      i++;
      continue;
    }
    if (c === 44) {
      out.push(',', indent);
      i++;
      continue;
    }
    if (c === 58) {
      out.push(': ');
      i++;
      continue;
    }
    const s = i;
    while (i < n && !/[\s,:\]}]/.test(text[i])) i++;
    out.push(text.slice(s, i));
  }
  return out.join('');
}
