/**
 * The query engine over the corpus of tests/unit/engine-corpus.ts: facets, the histogram and the time order are
 * checked against straightforward counts over the same events; engine details. The engine-vs-reference queries are
 * in engine-reference.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { CloudTrailEvent } from '../../src/lib/cloudtrail/event';
import { ColumnarIndex, isWholeSecond } from '../../src/lib/query/columnar';
import { Engine } from '../../src/lib/query/engine';
import { computeFacets, computeHistogram, FACETS } from '../../src/lib/query/facets';
import { FieldIndex } from '../../src/lib/query/fieldIndex';
import { parseQuery } from '../../src/lib/query/parser';
import { buildFieldStore } from '../../src/lib/codec/fields';
import { derivedColumns } from './reference';
import { BASE, DAY, NOW, events, segmentOf, ix, fx, engine, rowEvent } from './engine-corpus';

// ---------------------------------------------------------------------------------------------------------------
// Facets, histogram, time order

/** Matching rows in time order, as the query worker lists them. */
function rowsOf(bm: Uint8Array): Uint32Array {
  const sorted = ix.sortedByTime();
  return Uint32Array.from([...sorted].filter((r) => bm[r]));
}

const FACET_QUERIES = [
  '',
  'eventSource:kms.amazonaws.com',
  'errorCode:*',
  'key:alias/app-key OR principal:*:role/*',
  'zzznotfound',
  'decrypt -readOnly:true',
];

describe('facets and histogram', () => {
  it.each(FACET_QUERIES)('facets of %j', (q) => {
    const rows = rowsOf(engine.evaluate(parseQuery(q), { now: NOW }));
    const all = computeFacets(ix, rows, 1_000_000);
    const top = computeFacets(ix, rows);
    expect(all.map((f) => f.field)).toEqual(FACETS.map((f) => f.field));
    for (let k = 0; k < FACETS.length; k++) {
      const spec = FACETS[k];
      const want = new Map<string, number>();
      for (const r of rows) {
        const v = derivedColumns(rowEvent[r])[spec.col] as string;
        want.set(v, (want.get(v) ?? 0) + 1);
      }
      const got = all[k];
      expect(got.distinct).toBe(want.size);
      expect(new Map(got.top.map((t) => [t.value, t.count]))).toEqual(want);
      for (let j = 1; j < got.top.length; j++) {
        const a = got.top[j - 1];
        const b = got.top[j];
        expect(a.count > b.count || (a.count === b.count && a.value < b.value), `${spec.field} order`).toBe(true);
      }
      expect(top[k].top).toEqual(got.top.slice(0, 8));
      expect(top[k].distinct).toBe(want.size);
    }
  });

  const windows: [string, number | undefined, number | undefined, number][] = [
    ['', undefined, undefined, 120],
    ['eventName:Decrypt', undefined, undefined, 120],
    ['errorCode:*', undefined, undefined, 7],
    ['', BASE + 3 * DAY, BASE + 4 * DAY, 120],
    ['kms', BASE + 3 * DAY + 1234, BASE + 9 * DAY, 50],
    ['', BASE + 10 * DAY, undefined, 120],
    ['', undefined, BASE + 2 * DAY, 24],
    ['eventID:*', BASE + 5 * DAY + 3600e3, BASE + 5 * DAY + 3600e3 + 90e3, 120],
    ['zzznotfound', undefined, undefined, 120],
  ];
  it.each(windows)('histogram of %j in [%s, %s) with %i bins', (q, from, to, bins) => {
    const rows = rowsOf(engine.evaluate(parseQuery(q), { from, to, now: NOW }));
    const h = computeHistogram(ix, rows, bins, from, to);
    const timed = [...rows].map((r) => ix.time[r]).filter((t) => !Number.isNaN(t));
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(timed.length);
    if (!timed.length && from === undefined) return;
    expect(h.step).toBeGreaterThan(0);
    expect(h.start % h.step).toBe(0);
    const want = new Array<number>(h.counts.length).fill(0);
    for (const t of timed) {
      const b = Math.floor((t - h.start) / h.step);
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(h.counts.length);
      expect(t >= h.start + b * h.step && t < h.start + (b + 1) * h.step).toBe(true);
      want[b]++;
    }
    expect(h.counts).toEqual(want);
    if (from !== undefined) expect(h.start).toBeLessThanOrEqual(from);
    if (to !== undefined) expect(h.start + h.counts.length * h.step).toBeGreaterThanOrEqual(to);
    expect(h.counts.length).toBeLessThanOrEqual(bins + 1);
  });
});

function expectTimeOrder(index: ColumnarIndex): void {
  const s = index.sortedByTime();
  expect(s.length).toBe(index.n);
  const seen = new Uint8Array(index.n);
  for (const r of s) {
    expect(r).toBeLessThan(index.n);
    expect(seen[r]).toBe(0);
    seen[r] = 1;
  }
  for (let i = 1; i < s.length; i++) {
    const a = index.time[s[i - 1]];
    const b = index.time[s[i]];
    if (Number.isNaN(b)) {
      if (Number.isNaN(a)) expect(s[i - 1]).toBeLessThan(s[i]);
      continue;
    }
    expect(Number.isNaN(a), `NaN before a time at ${i}`).toBe(false);
    expect(a).toBeLessThanOrEqual(b);
    if (a === b) expect(s[i - 1]).toBeLessThan(s[i]);
  }
  expect(index.sortedByTime()).toBe(s); // cached
}

describe('field values of some rows', () => {
  it('materializeRows gives, for rows in ascending order, what materialize gives at those rows', () => {
    for (const path of ['eventID', 'requestParameters.keyId', 'userIdentity.arn', 'no.such.path']) {
      const all = fx.materialize(path, ix.n);
      for (const step of [1, 3, 7]) {
        const rows = Uint32Array.from({ length: Math.ceil(ix.n / step) }, (_, i) => i * step);
        expect(fx.materializeRows(path, rows), path).toEqual([...rows].map((r) => all[r]));
      }
      expect(all.some((v) => v !== undefined)).toBe(path !== 'no.such.path');
    }
  });
});

describe('time order', () => {
  it('isWholeSecond agrees with the remainder by 1000 on every kind of epoch ms', () => {
    const values = [0, -0, 1000, -1000, 999, 1001, -1500, 1.5, 0.001, 2 ** 53 - 1, 2 ** 53 - 808, -(2 ** 53) + 992];
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 4e12 - 1e12;
    for (let i = 0; i < 20000; i++) {
      const v = Math.round(rand());
      values.push(v, v - (v % 1000), v + 0.5, v / 7);
    }
    for (const v of values) expect(isWholeSecond(v), String(v)).toBe(v % 1000 === 0);
  });

  it('sortedByTime is a permutation, non-decreasing, NaN last (whole seconds)', () => {
    expect([...ix.time.subarray(0, ix.n)].some(Number.isNaN)).toBe(true);
    expectTimeOrder(ix);
  });

  it('sortedByTime with sub-second times (comparator sort) and after more rows are added', () => {
    const other = new ColumnarIndex();
    const evs = events
      .slice(0, 900)
      .map((e, i) =>
        i % 7 === 0 && typeof e.eventTime === 'string' && e.eventTime.endsWith('Z')
          ? { ...e, eventTime: e.eventTime.replace('Z', `.${String(i % 1000).padStart(3, '0')}Z`) }
          : e,
      );
    other.addSegment(segmentOf({ id: 1, events: evs.slice(0, 400) }));
    expectTimeOrder(other);
    other.addSegment(segmentOf({ id: 2, events: evs.slice(400) }));
    expectTimeOrder(other);
    // adding a loaded segment again is a no-op
    expect(other.addSegment(segmentOf({ id: 2, events: evs.slice(400) }))).toBe(0);
    expect(other.n).toBe(900);
  });

  it("valueOfRow finds each row's eventID whatever the load order", () => {
    for (let r = 0; r < ix.n; r++) {
      const id = rowEvent[r].eventID;
      const want = id === undefined ? undefined : String(id);
      expect(fx.valueOfRow(r, 'eventID')).toBe(want);
    }
  });
});

describe('field values of one row', () => {
  it("valuesOfRow gives each row's values of a path, in document order, whatever the load order", () => {
    let arrays = 0;
    for (let r = 0; r < ix.n; r++) {
      const resources = (rowEvent[r] as { resources?: unknown }).resources;
      const arns = Array.isArray(resources)
        ? resources.flatMap((x) => (typeof x?.ARN === 'string' ? [x.ARN as string] : []))
        : [];
      if (arns.length > 1) arrays++;
      expect(fx.valuesOfRow(r, 'resources.ARN'), `row ${r}`).toEqual(arns);
      const id = rowEvent[r].eventID;
      expect(fx.valuesOfRow(r, 'eventID')).toEqual(id === undefined ? [] : [String(id)]);
    }
    expect(arrays).toBeGreaterThan(0);
    expect(fx.valuesOfRow(ix.n + 5, 'eventID')).toEqual([]);
  });
});

describe('engine details', () => {
  /** A small index of the given events (one chunk). */
  function small(evs: CloudTrailEvent[]): Engine {
    const i = new ColumnarIndex();
    const f = new FieldIndex();
    i.addSegment(segmentOf({ id: 1, events: evs }));
    f.add({ id: 1, ...buildFieldStore(evs) }, 0);
    return new Engine(i, f);
  }
  const ev = (extra: Record<string, unknown>): CloudTrailEvent => ({
    eventSource: 'kms.amazonaws.com',
    eventName: 'Decrypt',
    ...extra,
  });

  it('free text finds values after one whose lower case is longer (İ), without looping', () => {
    const e = small([ev({ a: 'İİİİ' }), ev({ b: 'needle' }), ev({ c: 'İ' }), ev({ d: 'x' })]);
    expect([...e.evaluate(parseQuery('needle'))]).toEqual([0, 1, 0, 0]);
    expect([...e.evaluate(parseQuery('"i̇"'))]).toEqual([1, 0, 1, 0]);
    expect([...e.evaluate(parseQuery('x'))]).toEqual([0, 0, 0, 1]);
  });

  it('warns about paths no event has, not about paths kept as columns', () => {
    const info = { warnings: [] as string[], usedFields: false };
    engine.evaluate(parseQuery('noSuch.field:x userIdentity:Root requestParameters:*'), { now: NOW }, info);
    expect(info.warnings).toEqual(['no stored event has a field "noSuch.field"']);
    expect(info.usedFields).toBe(true);
  });

  it('compares values as decimal numbers or ISO times only', () => {
    const e = small([
      ev({ v: '0x1F' }),
      ev({ v: '42' }),
      ev({ v: 'us-east-1' }),
      ev({ v: '2024-03-02T00:00:00Z' }),
      ev({ v: '007' }),
    ]);
    expect([...e.evaluate(parseQuery('v>5'))]).toEqual([0, 1, 0, 0, 1]);
    expect([...e.evaluate(parseQuery('v>2024-03-01'))]).toEqual([0, 0, 0, 1, 0]);
    expect([...e.evaluate(parseQuery('v<2024-03-01'))]).toEqual([0, 0, 0, 0, 0]);
  });
});
