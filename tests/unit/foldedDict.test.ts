/**
 * Free text over the string columns by one search of each column's folded, joined dictionary (query/foldedDict.ts,
 * `Engine.columnContains`), against value-by-value references: values whose lower case is longer (U+0130 İ) or
 * context-dependent (Σ), values holding U+0000 or line breaks, and dictionaries that grow between queries.
 */
import { describe, expect, it } from 'vitest';
import type { CloudTrailEvent } from '../../src/lib/cloudtrail/event';
import { buildFieldStore } from '../../src/lib/codec/fields';
import { buildColumns } from '../../src/lib/codec/segment';
import { ColumnarIndex } from '../../src/lib/query/columnar';
import { Engine } from '../../src/lib/query/engine';
import { FieldIndex } from '../../src/lib/query/fieldIndex';
import { FoldedDict } from '../../src/lib/query/foldedDict';
import { parseQuery } from '../../src/lib/query/parser';
import { foldCase } from '../../src/lib/query/resolve';
import { referenceMatch } from './reference';

/** Deterministic pseudo-random numbers in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = ['a', 'A', 'b', 'B', 'İ', 'i', '̇', 'Σ', 'σ', 'ς', '1', '2', '-', ':', '/', ' '];

function word(r: () => number, max = 8): string {
  let s = '';
  for (let n = Math.floor(r() * max); n > 0; n--) s += ALPHABET[Math.floor(r() * ALPHABET.length)];
  return s;
}

/** Needles: pieces of folded values (so that some hit) and random words (most miss). */
function needles(r: () => number, values: string[], n: number): string[] {
  const out: string[] = [];
  for (let k = 0; k < n; k++) {
    const v = foldCase(values[Math.floor(r() * values.length)] ?? '');
    if (r() < 0.7 && v.length > 0) {
      const a = Math.floor(r() * v.length);
      out.push(v.slice(a, a + 1 + Math.floor(r() * 4)));
    } else out.push(foldCase(word(r, 4)) || 'a');
  }
  return out;
}

describe('FoldedDict', () => {
  const reference = (dict: string[], needle: string) => dict.map((v) => (foldCase(v).includes(needle) ? 1 : 0));
  const got = (hit: Uint8Array | null | undefined, n: number) => (hit ? [...hit] : new Array<number>(n).fill(0));

  it('finds the values containing a needle as value-by-value tests do, while the dictionary grows', () => {
    const r = rng(7);
    for (let round = 0; round < 40; round++) {
      const dict: string[] = [];
      const fd = new FoldedDict();
      for (let step = 0; step < 5; step++) {
        for (let k = Math.floor(r() * 30); k > 0; k--) dict.push(word(r));
        for (const needle of needles(r, dict, 12)) {
          const hit = fd.search(dict, needle);
          expect(hit).not.toBe(undefined);
          expect(got(hit, dict.length), `${JSON.stringify(dict)} ${JSON.stringify(needle)}`).toEqual(
            reference(dict, needle),
          );
        }
      }
    }
  });

  it('gives null when no value contains the needle, and follows a new dictionary array', () => {
    const fd = new FoldedDict();
    expect(fd.search([], 'a')).toBe(null);
    expect(fd.search(['İx', 'ABC', ''], 'x')).toEqual(Uint8Array.from([1, 0, 0]));
    expect(fd.search(['İx', 'ABC', ''], 'zz')).toBe(null);
    // another array (a restore): rebuilt, even at the same length
    expect(fd.search(['abc', 'xİ', 'q'], 'x')).toEqual(Uint8Array.from([0, 1, 0]));
    expect(fd.search(['q'], 'q')).toEqual(Uint8Array.from([1]));
  });

  it('cannot answer when a value holds U+0000', () => {
    const dict = ['a', 'b\u0000c'];
    expect(new FoldedDict().search(dict, 'c')).toBe(undefined);
    const fd = new FoldedDict();
    const grown = ['a'];
    expect(fd.search(grown, 'a')).toEqual(Uint8Array.from([1]));
    grown.push('x\u0000y');
    expect(fd.search(grown, 'a')).toBe(undefined);
  });
});

describe('free text over the string columns', () => {
  /** An event with random column values; with `nul`, some hold U+0000 (their columns' free text is then tested value by value). */
  const event = (r: () => number, i: number, nul: boolean): CloudTrailEvent => {
    const pick = () => (nul && r() < 0.15 ? word(r).replace(/ /g, '\u0000') : word(r));
    const ev: Record<string, unknown> = {
      eventVersion: '1.08',
      eventTime: '2024-03-01T00:00:00Z',
      eventSource: r() < 0.5 ? 'kms.amazonaws.com' : `${word(r, 4)}.amazonaws.com`,
      eventName: r() < 0.5 ? 'Decrypt' : word(r),
      awsRegion: 'us-east-1',
      sourceIPAddress: pick(),
      userAgent: pick(),
      userIdentity: {
        type: 'IAMUser',
        accountId: '111122223333',
        accessKeyId: `AKIA${word(r).toUpperCase()}${i}`,
        arn: `arn:aws:iam::111122223333:user/${word(r)}`,
      },
      resources: [
        { ARN: `arn:aws:kms:us-east-1:111122223333:key/${word(r)}` },
        { ARN: `arn:aws:kms:us-east-1:111122223333:key/${word(r)}\n${word(r)}` },
      ],
    };
    if (r() < 0.3) ev.errorCode = word(r);
    return ev as CloudTrailEvent;
  };

  it('matches the reference as segments are added between queries', () => {
    const r = rng(11);
    const ix = new ColumnarIndex();
    const fx = new FieldIndex();
    const engine = new Engine(ix, fx);
    const all: CloudTrailEvent[] = [];
    for (let id = 1; id <= 4; id++) {
      const evs = Array.from({ length: 60 }, (_, i) => event(r, all.length + i, id > 2));
      const { time, cols } = buildColumns(evs);
      ix.addSegment({ id, fileId: id, n: evs.length, time, eid: new Uint32Array(evs.length * 2), cols });
      fx.add({ id, ...buildFieldStore(evs) }, ix.segBase.get(id)!);
      all.push(...evs);
      const values = all.flatMap((e) => [String(e.userAgent), String(e.sourceIPAddress), String(e.errorCode ?? '')]);
      const qs = [...needles(r, values, 25), 'akia', 'İ', 'i̇', 'σ', 'ς', 'b\nb', 'decrypt'];
      for (const needle of qs) {
        const q = `"${needle.replace(/["\\]/g, '\\$&')}"`;
        const ast = parseQuery(q);
        const bm = engine.evaluate(ast, {});
        const want = all.map((e) => (referenceMatch(ast, e, 0) ? 1 : 0));
        expect([...bm], `${q} after segment ${id}`).toEqual(want);
        engine.release(bm);
      }
    }
  });
});
