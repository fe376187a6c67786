/**
 * Differential comparison of prepare results: prepareByRecord() (S3 delivery records parsed one by one) with
 * prepareReference() (the whole document parsed), `firstDifference` for any two of them (the byte-level reader's
 * tests use it too), and the documents the tests build; no test cases here.
 */
import { prepareByRecord, prepareReference, type Prepared } from '../../src/lib/ingest/prepare';
import type { Leaf } from '../../src/lib/ingest/open';
import { te } from './helpers';

type Typed = Uint8Array | Uint16Array | Uint32Array | Float64Array;

function isTyped(v: unknown): v is Typed {
  return ArrayBuffer.isView(v) && !(v instanceof DataView);
}

/** First difference between two values, as a path and a description, or null when they are equal. */
export function firstDifference(a: unknown, b: unknown, path = ''): string | null {
  if (Object.is(a, b)) return null;
  if (isTyped(a) || isTyped(b)) {
    if (!isTyped(a) || !isTyped(b)) return `${path}: one is a typed array, the other not`;
    if (a.constructor !== b.constructor) return `${path}: ${a.constructor.name} vs ${b.constructor.name}`;
    if (a.length !== b.length) return `${path}: length ${a.length} vs ${b.length}`;
    for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return `${path}[${i}]: ${a[i]} vs ${b[i]}`;
    return null;
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null)
    return `${path}: ${JSON.stringify(a)?.slice(0, 200)} vs ${JSON.stringify(b)?.slice(0, 200)}`;
  if (Array.isArray(a) !== Array.isArray(b)) return `${path}: array vs non-array`;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return `${path}: length ${a.length} vs ${bb.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], bb[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length || ka.some((k) => !kb.includes(k)))
    return `${path}: keys ${ka.sort().join(',')} vs ${kb.sort().join(',')}`;
  for (const k of ka) {
    // a field store's `values` string: report the differing value, not 100 kB of text
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (d) return d;
  }
  return null;
}

/**
 * The first difference between prepareByRecord(leaf) and prepareReference(leaf), or null; both results are
 * returned. A document read record by record keeps no parsed events (`events` empty, the count is `h.length / 2`):
 * only then is the reference's `events` left out of the comparison.
 */
export function diffByRecord(leaf: Leaf): { diff: string | null; got: Prepared; want: Prepared } {
  const got = prepareByRecord(leaf);
  const ref = prepareReference(leaf);
  const dropped = got.events.length === 0 && got.h.length > 0;
  const want = dropped ? { ...ref, events: [] } : ref;
  return { diff: firstDifference(got, want, leaf.path), got, want };
}

export const leaf = (path: string, text: string | Uint8Array, source = false): Leaf => {
  const bytes = typeof text === 'string' ? te.encode(text) : text;
  return { path, bytes, compressed: false, ...(source ? { source: bytes } : {}) };
};

/** One record's text: a KMS event with `extra` members (raw JSON text) appended. */
export function ev(i: number, extra = ''): string {
  return (
    `{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROA:s${i % 3}",` +
    `"arn":"arn:aws:sts::111122223333:assumed-role/Admin/s${i % 3}","accountId":"111122223333"},` +
    `"eventTime":"2024-05-01T00:00:${String(i % 60).padStart(2, '0')}Z","eventSource":"kms.amazonaws.com",` +
    `"eventName":"${i % 2 ? 'Decrypt' : 'Encrypt'}","awsRegion":"us-east-1","eventID":"e-${i}"` +
    (extra ? `,${extra}` : '') +
    '}'
  );
}

/** An S3 delivery document of some record texts. */
export const doc = (records: string[]) => `{"Records":[${records.join(',')}]}`;

/** Nested JSON text: `depth` objects `{"a":...}` around `leaf`. */
export function nested(depth: number, leafText: string, open = '{"a":', close = '}'): string {
  return open.repeat(depth) + leafText + close.repeat(depth);
}
