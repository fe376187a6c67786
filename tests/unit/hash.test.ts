import { describe, expect, it } from 'vitest';
import { contentHash, MAX_DEPTH, NestingTooDeepError, stringHash } from '../../src/lib/codec/hash';
import { FieldStoreBuilder } from '../../src/lib/codec/fields';
import { kmsEvent, nestArrays, nestObjects, rng } from './helpers';

function h(v: unknown): string {
  const out = new Uint32Array(2);
  contentHash(v, out, 0);
  return `${out[0].toString(16)}:${out[1].toString(16)}`;
}

function sh(s: string): string {
  const out = new Uint32Array(2);
  stringHash(s, out, 0);
  return `${out[0].toString(16)}:${out[1].toString(16)}`;
}

/** The same value with every object's keys in another order (reversed, or shuffled by `r`), at every level. */
function reorder(v: unknown, r?: () => number): unknown {
  if (Array.isArray(v)) return v.map((x) => reorder(x, r));
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    if (r) {
      for (let i = keys.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [keys[i], keys[j]] = [keys[j], keys[i]];
      }
    } else keys.reverse();
    const o: Record<string, unknown> = {};
    for (const k of keys) o[k] = reorder((v as Record<string, unknown>)[k], r);
    return o;
  }
  return v;
}

/** Canonical JSON (keys sorted): KeyTrail's definition of "the same event". */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** A random JSON value, small alphabets so that equal sub-values are frequent. */
function randomValue(r: () => number, depth = 0): unknown {
  const t = r();
  if (depth > 3 || t < 0.35) {
    const p = r();
    if (p < 0.25) return Math.floor(r() * 4);
    if (p < 0.5) return ['a', 'b', '1', ''][Math.floor(r() * 4)];
    if (p < 0.65) return r() < 0.5;
    if (p < 0.75) return null;
    return (r() * 10).toFixed(1);
  }
  if (t < 0.65) return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(r() * 4); i > 0; i--)
    o[['a', 'b', 'c', 'd', 'e'][Math.floor(r() * 5)]] = randomValue(r, depth + 1);
  return o;
}

describe('contentHash', () => {
  it('is the same for an event with keys in another order at every level', () => {
    const e = kmsEvent(5, {
      additionalEventData: { a: { b: { c: [{ x: 1, y: 2 }, { z: [3, { p: null, q: 'r' }] }] } } },
    });
    expect(h(reorder(e))).toBe(h(e));
    expect(JSON.stringify(reorder(e))).not.toBe(JSON.stringify(e));
  });

  it('is the same for hand-written reorderings at several levels', () => {
    expect(h({ a: 1, b: { c: 2, d: [{ e: 3, f: 4 }] } })).toBe(h({ b: { d: [{ f: 4, e: 3 }], c: 2 }, a: 1 }));
    expect(h(JSON.parse('{"userIdentity":{"type":"Root","arn":"x"},"eventName":"Decrypt"}'))).toBe(
      h(JSON.parse('{"eventName":"Decrypt","userIdentity":{"arn":"x","type":"Root"}}')),
    );
  });

  it('is deterministic and does not depend on the output offset', () => {
    const e = kmsEvent(1);
    const out = new Uint32Array(6);
    contentHash(e, out, 0);
    contentHash(kmsEvent(2), out, 2);
    contentHash(e, out, 4);
    expect([out[0], out[1]]).toEqual([out[4], out[5]]);
    expect([out[2], out[3]]).not.toEqual([out[0], out[1]]);
  });

  it('differs for a changed value anywhere', () => {
    const e = kmsEvent(1);
    const base = h(e);
    expect(e.eventName).toBe('Encrypt');
    expect(h({ ...e, eventName: 'ReEncrypt' })).not.toBe(base);
    expect(h({ ...e, requestParameters: { ...e.requestParameters, keyId: 'other' } })).not.toBe(base);
    const deep = JSON.parse(JSON.stringify(e));
    deep.userIdentity.sessionContext.sessionIssuer.userName = 'Admim';
    expect(h(deep)).not.toBe(base);
    expect(h({ ...e, readOnly: false })).not.toBe(base);
  });

  it('differs when a value moves to another key', () => {
    expect(h({ a: 1, b: 2 })).not.toBe(h({ a: 2, b: 1 }));
    expect(h({ a: 'b' })).not.toBe(h({ b: 'a' }));
    expect(h({ a: { b: 1 } })).not.toBe(h({ b: { a: 1 } }));
  });

  it('differs for arrays in another order', () => {
    expect(h([1, 2, 3])).not.toBe(h([3, 2, 1]));
    expect(h([1, 2])).not.toBe(h([2, 1]));
    expect(h({ r: [{ a: 1 }, { b: 2 }] })).not.toBe(h({ r: [{ b: 2 }, { a: 1 }] }));
    expect(h([[1], 2])).not.toBe(h([1, [2]]));
    expect(h([1, 1, 2])).not.toBe(h([1, 2, 2]));
  });

  it('differs for 1 and "1", true and "true", null and "null", [] and {} and ""', () => {
    expect(h(1)).not.toBe(h('1'));
    expect(h({ a: 1 })).not.toBe(h({ a: '1' }));
    expect(h(true)).not.toBe(h('true'));
    expect(h(false)).not.toBe(h(true));
    expect(h(null)).not.toBe(h('null'));
    const empties = [h([]), h({}), h(''), h(null), h(0), h(false), h([null]), h({ '': null })];
    expect(new Set(empties).size).toBe(empties.length);
  });

  it('differs for a null field and a missing field', () => {
    expect(h({ a: 1, b: null })).not.toBe(h({ a: 1 }));
    expect(h({ ...kmsEvent(1), responseElements: null })).not.toBe(
      h((({ responseElements: _, ...rest }) => rest)(kmsEvent(1))),
    );
    expect(h([null])).not.toBe(h([]));
  });

  it('differs for key/value splits and concatenations', () => {
    expect(h({ ab: 'c' })).not.toBe(h({ a: 'bc' }));
    expect(h(['ab', 'c'])).not.toBe(h(['a', 'bc']));
    expect(h({ a: 1, b: 1 })).not.toBe(h({ a: 1 }));
    expect(h({ a: 1, b: 1 })).not.toBe(h({ c: 1, d: 1 }));
    // commutative sums must not cancel: two equal pairs are not the same as none
    expect(h({ x: { a: 1 }, y: { a: 1 } })).not.toBe(h({ x: {}, y: {} }));
  });

  it('agrees with canonical JSON on thousands of random values', () => {
    const r = rng(42);
    const byHash = new Map<string, string>();
    const byCanon = new Map<string, string>();
    for (let i = 0; i < 20_000; i++) {
      const v = randomValue(r);
      const c = canonical(v);
      const k = h(v);
      expect(h(reorder(v, r))).toBe(k);
      if (byHash.has(k)) expect(byHash.get(k)).toBe(c);
      if (byCanon.has(c)) expect(byCanon.get(c)).toBe(k);
      byHash.set(k, c);
      byCanon.set(c, k);
    }
    expect(byCanon.size).toBeGreaterThan(2000);
  });

  it('has no collisions among 100,000 distinct events', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++)
      seen.add(h({ eventSource: 'kms.amazonaws.com', eventName: 'Decrypt', eventID: String(i), n: i }));
    expect(seen.size).toBe(100_000);
  });

  it(`accepts ${MAX_DEPTH} levels of nesting and rejects ${MAX_DEPTH + 1}`, () => {
    expect(MAX_DEPTH).toBe(256);
    expect(() => h(nestArrays(MAX_DEPTH))).not.toThrow();
    expect(() => h(nestObjects(MAX_DEPTH))).not.toThrow();
    expect(() => h(nestArrays(MAX_DEPTH + 1))).toThrow(NestingTooDeepError);
    expect(() => h(nestObjects(MAX_DEPTH + 1))).toThrow(NestingTooDeepError);
    expect(() => h(nestArrays(100_000))).toThrow(NestingTooDeepError);
    expect(() => h({ eventSource: 'a', eventName: 'b', x: nestObjects(MAX_DEPTH) })).toThrow(NestingTooDeepError);
    expect(() => h(nestArrays(MAX_DEPTH + 1))).toThrow(`JSON nested more than ${MAX_DEPTH} levels deep`);
  });

  it('a rejected value leaves no state behind', () => {
    const before = h(kmsEvent(3));
    expect(() => h(nestObjects(1000))).toThrow(NestingTooDeepError);
    expect(h(kmsEvent(3))).toBe(before);
  });
});

describe('the field store walk computes the same hash', () => {
  /** Hashes through FieldStoreBuilder (as ingest does), several events per chunk so dictionaries are shared. */
  function viaBuilder(evs: unknown[]): string[] {
    const b = new FieldStoreBuilder();
    const out = new Uint32Array(evs.length * 2);
    const ok = evs.map((e, i) => b.addEvent(e as Record<string, unknown>, out, i * 2));
    return evs.map((_, i) => (ok[i] ? `${out[i * 2].toString(16)}:${out[i * 2 + 1].toString(16)}` : 'rejected'));
  }

  it('agrees with contentHash on random events, column paths and userIdentity included', () => {
    const r = rng(7);
    const evs: unknown[] = [];
    for (let i = 0; i < 3000; i++) {
      const e: Record<string, unknown> = {
        eventSource: ['kms.amazonaws.com', 'a', 1, null][i % 4],
        eventName: randomValue(r),
      };
      if (r() < 0.7)
        e.userIdentity =
          r() < 0.8
            ? { type: randomValue(r), accountId: '1', arn: randomValue(r), x: { y: [randomValue(r)] } }
            : randomValue(r);
      if (r() < 0.5) e.awsRegion = randomValue(r);
      if (r() < 0.5) e.requestParameters = randomValue(r);
      if (r() < 0.3) e.userIdentity = {};
      if (r() < 0.2) e.extra = { deep: nestObjects(70), arr: nestArrays(80) };
      evs.push(r() < 0.5 ? e : reorder(e, r));
    }
    evs.push({}, { eventSource: 'a', eventName: 'b', a: {}, b: [], c: [{}], d: '' }, kmsEvent(1), reorder(kmsEvent(1)));
    const got = viaBuilder(evs);
    expect(got).toEqual(evs.map((e) => h(e)));
    expect(got.at(-1)).toBe(got.at(-2));
  });

  it('sized for one event, a builder grows to hold 4,000 and builds the same store and hashes', () => {
    // a small file's builder starts small (FieldStoreBuilder(events)); growing must lose nothing
    const evs = Array.from({ length: 4000 }, (_, i) => kmsEvent(i) as unknown as Record<string, unknown>);
    const build = (b: FieldStoreBuilder) => {
      const out = new Uint32Array(evs.length * 2);
      evs.forEach((e, i) => expect(b.addEvent(e, out, i * 2)).toBe(true));
      return { out, fs: b.finish() };
    };
    const small = build(new FieldStoreBuilder(1));
    const dflt = build(new FieldStoreBuilder());
    expect(small.fs.rowStart.at(-1)).toBeGreaterThan(65_536); // past the default size, so both grew
    expect([...small.out]).toEqual([...dflt.out]);
    expect([...small.fs.rowStart]).toEqual([...dflt.fs.rowStart]);
    expect([...small.fs.entryPath]).toEqual([...dflt.fs.entryPath]);
    expect([...small.fs.entryValue]).toEqual([...dflt.fs.entryValue]);
    expect(small.fs.values).toBe(dflt.fs.values);
    expect(small.fs.paths).toEqual(dflt.fs.paths);
  });

  it('rejects an event nested too deep and leaves no trace of it in the chunk', () => {
    const b = new FieldStoreBuilder();
    const out = new Uint32Array(6);
    expect(b.addEvent(kmsEvent(1) as unknown as Record<string, unknown>, out, 0)).toBe(true);
    expect(b.addEvent({ eventSource: 'a', eventName: 'b', x: nestObjects(MAX_DEPTH + 1) }, out, 2)).toBe(false);
    expect(b.addEvent(kmsEvent(2) as unknown as Record<string, unknown>, out, 2)).toBe(true);
    const fs = b.finish();
    expect(fs.rowStart.length).toBe(3);
    const ref = new FieldStoreBuilder();
    ref.addEvent(kmsEvent(1) as unknown as Record<string, unknown>, out, 4);
    ref.addEvent(kmsEvent(2) as unknown as Record<string, unknown>, out, 4);
    const want = ref.finish();
    expect([...fs.rowStart]).toEqual([...want.rowStart]);
    expect([...fs.entryValue]).toEqual(
      [...want.entryValue].map((c) => fs.values.split('\u0000').indexOf(want.values.split('\u0000')[c])),
    );
    expect(h(kmsEvent(2))).toBe(`${out[2].toString(16)}:${out[3].toString(16)}`);
  });
});

describe('stringHash', () => {
  it('is deterministic, writes at the offset and leaves the rest alone', () => {
    const out = new Uint32Array([7, 7, 7, 7, 7, 7]);
    stringHash('00000000-0000-4000-8000-000000000001', out, 2);
    expect([out[0], out[1], out[4], out[5]]).toEqual([7, 7, 7, 7]);
    expect(`${out[2].toString(16)}:${out[3].toString(16)}`).toBe(sh('00000000-0000-4000-8000-000000000001'));
  });

  it('differs for different strings, including near-identical event IDs', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(sh(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`));
    expect(seen.size).toBe(100_000);
    expect(sh('')).not.toBe(sh(' '));
    expect(sh('ab')).not.toBe(sh('ba'));
  });

  it('is not the content hash of the same string', () => {
    expect(sh('x')).not.toBe(h('x'));
  });
});
