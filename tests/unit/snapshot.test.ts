/**
 * The persisted index snapshot (query/snapshot.ts), differentially: a query service that loads its columns from
 * the snapshot answers every query, page, facet, histogram and analysis exactly as one that builds its index
 * from the stored segments, also after more files are ingested on top of a snapshot; a snapshot the store no
 * longer matches (a covered segment gone, another COLUMNS_SCHEME or format, Delete all) is not used. Run in
 * Node over fake-indexeddb, with the corpus of the engine's differential tests (~3,000 events of many shapes).
 */
import 'fake-indexeddb/auto';
import Dexie from 'dexie';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ingestTask } from '../../src/lib/ingest/ingest-core';
import { openDB, type KeyTrailDB } from '../../src/lib/store/db';
import { StoreWriter } from '../../src/lib/store/writer';
import { QueryService, type QueryServiceOptions } from '../../src/lib/query/service';
import { COLUMN_NAMES, COLUMNS_SCHEME, encodeColumn, type Segment } from '../../src/lib/codec/segment';
import { ColumnarIndex, COUNTING_SPAN, firstRowsByTime } from '../../src/lib/query/columnar';
import { decodeTime, encodeTime, prefaultTime } from '../../src/lib/query/snapshot';
import { events as CORPUS, NOW } from './engine-corpus';
import { addPendingFile, s3File, te } from './helpers';

let dbCount = 0;
const services: QueryService[] = [];
afterEach(() => {
  for (const s of services.splice(0)) s.close();
});

/** Ingests `events` as one S3 delivery file `path` into the store. */
async function ingest(db: KeyTrailDB, writer: StoreWriter, path: string, events: unknown[]): Promise<void> {
  const bytes = te.encode(s3File(events));
  const fileId = await addPendingFile(db, path, bytes.length);
  await ingestTask(
    db,
    writer,
    { fileId, path, source: new Blob([bytes]), size: bytes.length, lastModified: 0, fingerprint: path },
    () => {},
  );
}

/** Distinct events stored (the corpus repeats a few events on purpose). */
async function stored(db: KeyTrailDB): Promise<number> {
  return (await db.meta.get('stats'))?.events ?? 0;
}

/** A fresh store (own database name) with the corpus's first 2,200 events in two files. */
async function store(): Promise<{ name: string; db: KeyTrailDB; writer: StoreWriter }> {
  const name = `keytrail-snapshot-${++dbCount}`;
  const db = openDB(name);
  const writer = new StoreWriter(db);
  await ingest(db, writer, 'a.json', CORPUS.slice(0, 1300));
  await ingest(db, writer, 'b.json', CORPUS.slice(1300, 2200));
  return { name, db, writer };
}

function serviceOn(name: string, options: QueryServiceOptions = {}): QueryService {
  const s = new QueryService({ open: async () => openDB(name), listen: false, notifyMs: 0, ...options });
  services.push(s);
  return s;
}

/** Built from the segments only (never reads or writes a snapshot). */
const reference = (name: string) => serviceOn(name, { snapshots: false });
/** Reads a snapshot when there is one; writes one only when asked (saveSnapshot). */
const reloaded = (name: string) => serviceOn(name, { snapshotDelayMs: Infinity });

const QUERIES = [
  '',
  'eventName:Decrypt',
  'eventSource:kms.amazonaws.com -errorCode:*',
  'eventName:Generate* OR eventName:/^Create/',
  'userIdentity.arn:*Admin*',
  'requestParameters.keyId:*',
  'requestParameters:*alias*',
  'resources.ARN:*key*',
  'key:*',
  'principal:*role*',
  'account:111122223333',
  'caller:*temporary*',
  'readOnly:false',
  'errorCode:AccessDenied*',
  'sourceIPAddress:/^10\\./',
  'tlsDetails.tlsVersion:*',
  'mallory',
  '"pending deletion"',
  'arn',
  '/AKIA[A-Z0-9]+/',
  'us-*',
  'NOT eventName:Decrypt AND -userAgent:*console*',
  'last:7d',
  'eventTime>=2024-03-05 eventTime<2024-03-12T12:00Z',
  'finding:*',
];

/** Drops timings (`ms` fields) so that answers compare exactly. */
function strip(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(strip);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, strip(x)]));
  if (v && typeof v === 'object' && !ArrayBuffer.isView(v))
    return Object.fromEntries(
      Object.entries(v)
        .filter(([k]) => k !== 'ms' && !k.endsWith('Ms'))
        .map(([k, x]) => [k, strip(x)]),
    );
  return v;
}

/** The count of a successful query's answer. */
const total0 = (r: Awaited<ReturnType<QueryService['run']>>): number => (r.ok ? r.total : 0);

/** Every answer the page can ask for: queries (count, rows, facets, histogram, page), analyses, event details. */
async function answers(api: QueryService): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const q of QUERIES) {
    for (const descending of [false, true]) {
      const r = await api.run({ q, now: NOW, descending });
      expect(r.ok, q).toBe(true);
      const total = r.ok ? r.total : 0;
      out[`${q}|${descending}`] = strip({
        r,
        page: await api.page(0, total),
        facets: await api.facets(20),
        histogram: await api.histogram(60),
        first: total ? await api.event((await api.page(0, 1))[0].row) : null,
      });
    }
  }
  const keys = await api.keys();
  out.analyses = strip({
    keys,
    key: keys.length ? await api.key(keys[0].arn) : null,
    findings: await api.findings(),
    coverage: await api.coverage(),
    integrity: await api.integrity(),
    crossAccount: await api.crossAccount(),
    clusters: await api.clusters(),
    principals: await api.principals(),
    sigma: await api.sigma(),
    rules: api.findingRules(),
    eventIds: Array.from({ length: 50 }, (_, i) => api.eventId(i * 37)),
  });
  return out;
}

describe('index snapshot: a reload reads it instead of every segment, and answers identically', () => {
  it('after a snapshot, a reload reads no segment and every query, page, facet and analysis answers as from the segments', async () => {
    const { name, db } = await store();
    const ab = await stored(db);
    const first = reloaded(name);
    const status = await first.open();
    expect(status.rows).toBe(ab);
    expect(first.loadStats().segmentsRead).toBeGreaterThan(0);
    expect(first.loadStats().snapshotRows).toBe(0); // nothing to read yet
    expect(await first.saveSnapshot()).toBe(true);
    expect(first.status().snapshotRows).toBe(ab);
    expect(await first.saveSnapshot()).toBe(false); // nothing new

    const again = reloaded(name);
    expect((await again.open()).rows).toBe(ab);
    expect(again.loadStats()).toMatchObject({ snapshotRows: ab, segmentsRead: 0 });
    // the load's moments (epoch ms) in the order they happen: context start, store open, load start, core
    const at = again.loadStats();
    expect(at.contextStartAt).toBeGreaterThan(0);
    expect(at.storeOpenAt).toBeGreaterThanOrEqual(at.contextStartAt);
    expect(at.loadStartAt).toBeGreaterThanOrEqual(at.storeOpenAt);
    expect(at.snapshotCoreReadAt).toBeGreaterThanOrEqual(at.loadStartAt);
    expect(at.snapshotCoreAt).toBeGreaterThanOrEqual(at.snapshotCoreReadAt);
    expect(again.status().snapshotRows).toBe(ab);
    expect(await answers(again)).toEqual(await answers(reference(name)));
  });

  it('files ingested on top of a snapshot: only their segments are read, answers as from the segments; a new snapshot covers them', async () => {
    const { name, db, writer } = await store();
    const ab = await stored(db);
    const first = reloaded(name);
    await first.open();
    expect(await first.saveSnapshot()).toBe(true);
    await ingest(db, writer, 'c.json', CORPUS.slice(2200));
    const all = await stored(db);
    const fileC = (await db.files.where('path').equals('c.json').first())!.id!;
    const segsOfC = await db.segments.where('fileId').equals(fileC).count();
    expect(segsOfC).toBeGreaterThan(0);

    const reload = reloaded(name);
    expect((await reload.open()).rows).toBe(all);
    expect(reload.loadStats()).toMatchObject({ snapshotRows: ab, segmentsRead: segsOfC });
    expect(await answers(reload)).toEqual(await answers(reference(name)));

    // the reloaded service writes a snapshot covering every row; the next reload reads no segment
    expect(await reload.saveSnapshot()).toBe(true);
    const third = reloaded(name);
    await third.open();
    expect(third.loadStats()).toMatchObject({ snapshotRows: all, segmentsRead: 0 });
    expect(await answers(third)).toEqual(await answers(reference(name)));
  });

  it('a live service that hears of a commit after its snapshot writes a new one covering it, which a reload uses', async () => {
    const { name, db, writer } = await store();
    const ab = await stored(db);
    const live = reloaded(name);
    await live.open();
    expect(await live.saveSnapshot()).toBe(true);
    const before = await db.segments.toCollection().primaryKeys();
    await ingest(db, writer, 'c.json', CORPUS.slice(2200));
    const all = await stored(db);
    const ids = ((await db.segments.toCollection().primaryKeys()) as number[]).filter((k) => !before.includes(k));
    await live.storeMessage({ type: 'commit', segmentIds: ids, events: all - ab });
    // free text waits for the commit's field stores: the index is idle after it
    expect(await live.run({ q: 'arn' })).toMatchObject({ ok: true });
    expect(await live.run({ q: '' })).toMatchObject({ ok: true, total: all });
    expect(await live.saveSnapshot()).toBe(true);
    const reload = reloaded(name);
    await reload.open();
    expect(reload.loadStats()).toMatchObject({ snapshotRows: all, segmentsRead: 0 });
    expect(await answers(reload)).toEqual(await answers(reference(name)));
  });
});

describe('index snapshot: a reload answers a query on columns before the whole snapshot is read', () => {
  it('the first query waits only for the core and its column; every answer after it is as from the segments', async () => {
    const { name } = await store();
    const first = reloaded(name);
    await first.open();
    expect(await first.saveSnapshot()).toBe(true);
    const ref = reference(name);
    const want = await ref.run({ q: 'eventName:Decrypt', now: NOW });

    const reload = reloaded(name);
    // no open(): as after a page reload, the first call is a query
    const r = await reload.run({ q: 'eventName:Decrypt', now: NOW });
    expect(r).toMatchObject({ ok: true, total: want.ok ? want.total : -1 });
    // the eventName column was read first and alone (a snapshot has 20 parts; reading all took ~8x as long at 5M)
    expect(reload.loadStats().snapshotPartsAtFirstQuery).toBe(1);
    expect(await reload.page(0, 50)).toEqual(await ref.page(0, 50));
    await reload.keys(); // the analyses wait for the whole index
    expect(reload.loadStats()).toMatchObject({ snapshotPartsRead: 20, segmentsRead: 0 });
    expect(await answers(reload)).toEqual(await answers(ref));

    // open() (the page waits for it before showing a view) resolves with every row counted, before the parts
    const other = reloaded(name);
    const rows = (await ref.open()).rows;
    expect(await other.open()).toMatchObject({ rows, loading: true, snapshotRows: rows });
    expect(other.loadStats().snapshotPartsRead).toBe(0);
    expect(await answers(other)).toEqual(await answers(ref));
  });

  it('reads the first part (eventName) at the same time as the core, not after it', async () => {
    const { name } = await store();
    const first = reloaded(name);
    await first.open();
    expect(await first.saveSnapshot()).toBe(true);
    const log: string[] = [];
    const reload = serviceOn(name, {
      snapshotDelayMs: Infinity,
      open: async () => {
        const db = openDB(name);
        const { snapshots } = db;
        const get = snapshots.get.bind(snapshots);
        snapshots.get = ((key: string) => {
          log.push(`get ${key}`);
          return get(key).then((r) => {
            log.push(`read ${key}`);
            return r;
          });
        }) as typeof snapshots.get;
        return db;
      },
    });
    const r = await reload.run({ q: 'eventName:Decrypt', now: NOW });
    expect(r).toEqual({ ...(await reference(name).run({ q: 'eventName:Decrypt', now: NOW })), ms: r.ok ? r.ms : 0 });
    expect(log.indexOf('get col:eventName')).toBeGreaterThanOrEqual(0);
    expect(log.indexOf('get col:eventName')).toBeLessThan(log.indexOf('read time'));
    // read once: the early read is the one the part load uses
    expect(log.filter((x) => x === 'get col:eventName')).toHaveLength(1);
    expect(reload.loadStats().snapshotPartsAtFirstQuery).toBe(1);
  });

  it('a part of another snapshot (replaced by another tab while the parts were read): the index is built from the segments', async () => {
    const { name, db } = await store();
    const first = reloaded(name);
    await first.open();
    expect(await first.saveSnapshot()).toBe(true);
    // the eventID hashes are read last: as if another tab wrote a new snapshot once the columns were read
    await db.snapshots.update('eid', { id: 'another-snapshot' });
    const ref = reference(name);
    const reload = reloaded(name);
    const r = await reload.run({ q: 'eventSource:kms.amazonaws.com', now: NOW });
    expect(r).toEqual({ ...(await ref.run({ q: 'eventSource:kms.amazonaws.com', now: NOW })), ms: r.ok ? r.ms : 0 });
    await reload.keys();
    expect(reload.loadStats().snapshotRows).toBe(0);
    expect(reload.loadStats().segmentsRead).toBe(await db.segments.count());
    expect(await answers(reload)).toEqual(await answers(ref));
  });

  it('a commit heard while the parts are read is added once the snapshot is whole', async () => {
    const { name, db, writer } = await store();
    const ab = await stored(db);
    const first = reloaded(name);
    await first.open();
    expect(await first.saveSnapshot()).toBe(true);
    const before = await db.segments.toCollection().primaryKeys();
    const reload = reloaded(name);
    expect(await reload.run({ q: 'readOnly:true', now: NOW })).toMatchObject({ ok: true });
    expect(reload.loadStats().snapshotPartsAtFirstQuery).toBe(1);
    await ingest(db, writer, 'c.json', CORPUS.slice(2200));
    const all = await stored(db);
    const ids = ((await db.segments.toCollection().primaryKeys()) as number[]).filter((k) => !before.includes(k));
    await reload.storeMessage({ type: 'commit', segmentIds: ids, events: all - ab });
    expect(await reload.run({ q: 'arn', now: NOW })).toMatchObject({ ok: true });
    expect(reload.status().rows).toBe(all);
    expect(reload.loadStats()).toMatchObject({ snapshotRows: ab, snapshotPartsRead: 20 });
    expect(await answers(reload)).toEqual(await answers(reference(name)));
  });
});

describe('index snapshot: ignored when the store changed under it', () => {
  it('a covered segment no longer stored: the snapshot is ignored, the index is built from the segments', async () => {
    const { name, db } = await store();
    const ab = await stored(db);
    const first = reloaded(name);
    await first.open();
    expect(await first.saveSnapshot()).toBe(true);
    const last = (await db.segments.toCollection().primaryKeys()).at(-1) as number;
    await db.segments.delete(last);
    await db.fields.delete(last);
    const reload = reloaded(name);
    const rows = (await reload.open()).rows;
    expect(rows).toBeLessThan(ab);
    expect(reload.loadStats().snapshotRows).toBe(0);
    expect(await answers(reload)).toEqual(await answers(reference(name)));
  });

  it('a snapshot of another COLUMNS_SCHEME or format is ignored', async () => {
    const { name, db } = await store();
    const first = reloaded(name);
    await first.open();
    expect(await first.saveSnapshot()).toBe(true);
    await db.snapshots.update('meta', { columnsScheme: COLUMNS_SCHEME + 1 });
    const other = reloaded(name);
    await other.open();
    expect(other.loadStats()).toMatchObject({ snapshotRows: 0 });
    expect(other.loadStats().segmentsRead).toBeGreaterThan(0);
    await db.snapshots.update('meta', { columnsScheme: COLUMNS_SCHEME, format: 999 });
    const third = reloaded(name);
    await third.open();
    expect(third.loadStats()).toMatchObject({ snapshotRows: 0 });
    expect(await answers(third)).toEqual(await answers(reference(name)));
  });

  it('Delete all: the snapshot goes with the store; the new store is indexed from its own segments', async () => {
    const { name, db } = await store();
    const live = reloaded(name);
    await live.open();
    expect(await live.saveSnapshot()).toBe(true);
    // Delete all as the page does it: every context lets go of the store, the database is deleted, reopened
    live.storeClosing('w1');
    db.close();
    await openDB(name).delete();
    const fresh = openDB(name);
    await ingest(fresh, new StoreWriter(fresh), 'd.json', CORPUS.slice(2500));
    const rest = await stored(fresh);
    await live.storeCleared('w1');
    expect(live.status().snapshotRows).toBe(0);
    expect((await live.open()).rows).toBe(rest);
    expect(live.loadStats().snapshotRows).toBe(0);
    expect(await answers(live)).toEqual(await answers(reference(name)));
    expect(await live.saveSnapshot()).toBe(true);
    const reload = reloaded(name);
    await reload.open();
    expect(reload.loadStats()).toMatchObject({ snapshotRows: rest, segmentsRead: 0 });
    expect(await answers(reload)).toEqual(await answers(reference(name)));
  });
});

describe('field stores', () => {
  it('each chunk field store is read once, however many queries ask for the field index while it loads', async () => {
    const { name, db } = await store();
    const api = reloaded(name);
    const chunks = await db.fields.count();
    // the page opens the index (columns, then the field stores in the background), then runs queries on
    // columns while the field stores load, then free text
    await api.open();
    for (const q of ['eventName:Decrypt', 'readOnly:true', 'errorCode:*', 'eventSource:kms.amazonaws.com'])
      await api.run({ q });
    await Promise.all([api.run({ q: 'mallory' }), api.run({ q: 'requestParameters.keyId:*' })]);
    expect(api.status()).toMatchObject({ fieldsLoaded: chunks, fieldsTotal: chunks });
    expect(api.loadStats().fieldsRead).toBe(chunks);
  });
});

describe('store schema', () => {
  it('a store written before the snapshots table (schema version 1) opens with its data, gains the table, and is indexed', async () => {
    const { db: source } = await store();
    const name = `keytrail-snapshot-v1-${++dbCount}`;
    // a store as version 1 declared it, holding what an ingest stored
    const TABLES = {
      files: '++id, path, fingerprint, status, parentId',
      chunks: '++id, fileId',
      sources: '++id, fileId',
      segments: 'id, fileId',
      fields: 'id',
      hashes: 'id',
      digests: '++id, fileId',
      conflicts: '++id, eventID, fileId',
      configs: '++id, fileId',
      meta: 'key',
    };
    const old = new Dexie(name);
    old.version(1).stores(TABLES);
    for (const t of Object.keys(TABLES)) await old.table(t).bulkAdd(await source.table(t).toArray());
    expect(old.verno).toBe(1);
    old.close();
    const n = await stored(source);

    const reopened = openDB(name);
    expect(await reopened.snapshots.count()).toBe(0);
    expect(reopened.verno).toBe(2);
    expect(await stored(reopened)).toBe(n);
    const live = reloaded(name);
    expect((await live.open()).rows).toBe(n);
    expect(await live.saveSnapshot()).toBe(true);
    expect(await reopened.snapshots.count()).toBeGreaterThan(0);
    const reload = reloaded(name);
    await reload.open();
    expect(reload.loadStats()).toMatchObject({ snapshotRows: n, segmentsRead: 0 });
    expect(await answers(reload)).toEqual(await answers(reference(name)));
  });
});

describe('snapshot time and time order', () => {
  const T = Date.UTC(2024, 4, 1);
  it('whole-second times are stored as varint differences of seconds (NaN kept), others as epoch ms; both read back', () => {
    const whole = Float64Array.from([T + 5000, NaN, T, T + 86_400_000 * 365 * 30, T, T + 1000, T + 1000]);
    const e = encodeTime(whole);
    expect(e).toMatchObject({ base: T });
    // codes 6, 0, 1, 946,080,001, 1, 2, 2: differences 6, -6, 1, +946,080,000, -946,080,000, 1, 0, zigzag-coded
    expect('deltas' in e && Array.from(e.deltas)).toEqual([
      12, 11, 2, 128, 164, 160, 134, 7, 255, 163, 160, 134, 7, 2, 0,
    ]);
    expect(Array.from(decodeTime(e, whole.length)!)).toEqual(Array.from(whole));
    // about one byte per row for rows in about time order
    const day = Float64Array.from({ length: 10_000 }, (_, i) => T + Math.floor(i * 8.64) * 1000);
    const d = encodeTime(day);
    expect('deltas' in d && d.deltas.length).toBeLessThan(10_100);
    expect(Array.from(decodeTime(d, day.length)!)).toEqual(Array.from(day));
    for (const other of [
      Float64Array.from([T, T + 1]), // milliseconds
      Float64Array.from([T, T + 2 ** 30 * 1000]), // a span the codes do not cover
    ]) {
      const o = encodeTime(other);
      expect('time' in o && o.time).toBe(other);
      expect(decodeTime(o, other.length)).toBe(other);
      expect(decodeTime(o, other.length + 1)).toBeNull();
    }
    expect(Array.from(decodeTime(encodeTime(Float64Array.from([NaN, NaN])), 2)!)).toEqual([NaN, NaN]);
    // codes that do not decode to exactly the rows, or leave the span: not used
    const ok = encodeTime(whole) as { base: number; deltas: Uint8Array };
    expect(decodeTime(ok, whole.length + 1)).toBeNull(); // too few codes
    expect(decodeTime(ok, whole.length - 1)).toBeNull(); // bytes left over
    expect(decodeTime({ base: T, deltas: Uint8Array.from([1]) }, 1)).toBeNull(); // a code below 0
    expect(decodeTime({ base: T, deltas: Uint8Array.from([0x80, 0x80]) }, 1)).toBeNull(); // cut short
    expect(decodeTime({ base: T, deltas: Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]) }, 1)).toBeNull();
    expect(decodeTime({ deltas: new Uint8Array(1) }, 1)).toBeNull();
  });

  it('sortedByTime: by time, ties by row id, rows without a time last, whichever sort it takes', () => {
    const reference = (time: Float64Array) =>
      Array.from(time.keys()).sort((a, b) => {
        const [ta, tb] = [time[a], time[b]];
        if (ta === tb || (ta !== ta && tb !== tb)) return a - b;
        if (ta !== ta) return 1;
        if (tb !== tb) return -1;
        return ta - tb;
      });
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const cases: [string, (i: number) => number][] = [
      ['whole seconds over a day (counting sort)', () => T + Math.floor(rnd() * 86_400) * 1000],
      [
        'few distinct seconds, many ties, some without a time',
        () => (rnd() < 0.1 ? NaN : T + Math.floor(rnd() * 5) * 1000),
      ],
      ['a span at the counting limit', (i) => T + (i % 2 ? 0 : (COUNTING_SPAN - 1) * 1000)],
      ['a span past it (float keys)', (i) => T + (i % 3 === 0 ? COUNTING_SPAN * 1000 : Math.floor(rnd() * 100) * 1000)],
      ['milliseconds (comparator)', () => T + Math.floor(rnd() * 1_000_000)],
      ['no time at all', () => NaN],
    ];
    for (const [name, f] of cases) {
      const time = Float64Array.from({ length: 3000 }, (_, i) => f(i));
      const ix = new ColumnarIndex();
      ix.time = time;
      ix.n = time.length;
      expect(Array.from(ix.sortedByTime()), name).toEqual(reference(time));
    }
  });

  it('firstRowsByTime: the first rows of the time order (or of its reverse) from any rows in any order', () => {
    let seed = 11;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const cases: [string, () => number][] = [
      ['whole seconds, a few without a time', () => (rnd() < 0.05 ? NaN : T + Math.floor(rnd() * 20_000) * 1000)],
      ['few distinct seconds, many ties', () => (rnd() < 0.1 ? NaN : T + Math.floor(rnd() * 5) * 1000)],
      ['milliseconds', () => T + Math.floor(rnd() * 1_000_000)],
      ['no time at all', () => NaN],
    ];
    for (const [name, f] of cases) {
      const n = 3000;
      const time = Float64Array.from({ length: n }, f);
      const ix = new ColumnarIndex();
      ix.time = time;
      ix.n = n;
      const order = Array.from(ix.sortedByTime());
      // a result: about 40% of the rows, in a shuffled order
      const picked = Array.from({ length: n }, (_, i) => i).filter(() => rnd() < 0.4);
      for (let i = picked.length - 1; i > 0; i--) {
        const j = Math.floor(rnd() * (i + 1));
        [picked[i], picked[j]] = [picked[j], picked[i]];
      }
      const inResult = new Set(picked);
      const ascending = order.filter((r) => inResult.has(r));
      const firstN = 1234;
      const ofFirstN = order.filter((r) => r < firstN);
      for (const end of [0, 1, 7, 100, 999, picked.length, picked.length + 5]) {
        expect(Array.from(firstRowsByTime(time, Uint32Array.from(picked), end, false)), `${name} ${end}`).toEqual(
          ascending.slice(0, end),
        );
        expect(Array.from(firstRowsByTime(time, Uint32Array.from(picked), end, true)), `${name} ${end} desc`).toEqual(
          ascending.slice().reverse().slice(0, end),
        );
        // a number N: the rows 0..N-1
        expect(Array.from(firstRowsByTime(time, firstN, end, false)), `${name} ${end} first rows`).toEqual(
          ofFirstN.slice(0, end),
        );
        expect(Array.from(firstRowsByTime(time, firstN, end, true)), `${name} ${end} first rows desc`).toEqual(
          ofFirstN.slice().reverse().slice(0, end),
        );
      }
    }
  });

  it("a reload answers its first query before ordering every row by time; that result's screen is as from the segments", async () => {
    const { name } = await store();
    const first = reloaded(name);
    await first.open();
    expect(await first.saveSnapshot()).toBe(true);
    // what the page asks for after a query, from the segments
    const ref = reference(name);
    const text = 'eventSource:kms.amazonaws.com';
    const screen = async (api: QueryService, descending: boolean, sorts?: { mock: { calls: unknown[] } }) => {
      const r = await api.run({ q: text, now: NOW, descending });
      // answered before the time order of every row was taken (it is taken while the snapshot's next part is read)
      if (sorts) expect(sorts.mock.calls.length).toBe(0);
      const total = total0(r);
      return {
        total,
        facets: await api.facets(20),
        histogram: await api.histogram(60),
        pages: [await api.page(0, 50), await api.page(10, 30), await api.page(total - 5, 50)],
      };
    };
    for (const descending of [false, true]) {
      const want = await screen(ref, descending);
      expect(want.total).toBeGreaterThan(50);
      const reload = reloaded(name);
      const sorts = vi.spyOn(ColumnarIndex.prototype, 'sortedByTime');
      try {
        expect(await screen(reload, descending, sorts)).toEqual(want);
        // an event's place in the result needs the whole order; the pages stay the same
        const page = await reload.page(0, want.total);
        expect(page.length).toBe(want.total);
        await reload.keys(); // the whole index (and its field stores) loaded
        const id = reload.eventId(page[17].row);
        expect(await reload.indexOfEventId(id)).toBe(17);
        expect(await reload.page(0, want.total)).toEqual(page);
        expect(sorts).toHaveBeenCalled();
        // the next query puts its rows in order at once, as from the segments
        expect(await screen(reload, descending)).toEqual(await screen(ref, descending));
      } finally {
        sorts.mockRestore();
      }
    }
  });

  it("prefaultTime: an eventTime array of the snapshot's rows, its pages touched", () => {
    expect(prefaultTime({ n: 5000 })).toEqual(new Float64Array(5000));
  });

  it("a snapshot whose meta carries the rows' time range (written by an earlier build) is read as before", async () => {
    const { name, db } = await store();
    const first = reloaded(name);
    await first.open();
    expect(await first.saveSnapshot()).toBe(true);
    const { minTime, maxTime } = first.status();
    expect(minTime).toBeLessThan(maxTime);
    await db.snapshots.update('meta', { timeRange: [minTime, maxTime] });
    const reload = reloaded(name);
    await reload.open();
    expect(reload.loadStats().snapshotRows).toBe(await stored(db));
    expect(await answers(reload)).toEqual(await answers(reference(name)));
  });

  it('a snapshot whose time record does not fit its rows is not used: the index is built from the segments', async () => {
    const { name, db } = await store();
    const first = reloaded(name);
    await first.open();
    expect(await first.saveSnapshot()).toBe(true);
    const rec = (await db.snapshots.get('time'))!;
    await db.snapshots.update('time', { deltas: (rec.deltas as Uint8Array).subarray(1) });
    const reload = reloaded(name);
    await reload.open();
    expect(reload.loadStats()).toMatchObject({ snapshotRows: 0, snapshotPartsRead: 0 });
    expect(reload.loadStats().segmentsRead).toBe(await db.segments.count());
    expect(await answers(reload)).toEqual(await answers(reference(name)));
  });
});

describe('current result', () => {
  it("rows added after a reload's first query (an ingest) stay out of its result, before and after its rows are put in order", async () => {
    const { name, db, writer } = await store();
    const first = reloaded(name);
    await first.open();
    expect(await first.saveSnapshot()).toBe(true);
    let file = 0;
    for (const [text, descending] of [
      ['', false],
      ['NOT eventName:Decrypt', true],
    ] as const) {
      // a reload's first query: answered before the rows' time order is known, its rows not put in order yet
      const live = reloaded(name);
      const q = { q: text, now: NOW, descending };
      const total = total0(await live.run(q));
      await live.keys(); // the whole index loaded
      expect(total).toBeGreaterThan(1000); // past the first rows chosen without ordering them all
      const rows = live.status().rows;
      const firstPage = await live.page(0, 100);
      const before = await db.segments.toCollection().primaryKeys();
      await ingest(db, writer, `more-${file}.json`, CORPUS.slice(2200 + 300 * file, 2500 + 300 * file++));
      const ids = ((await db.segments.toCollection().primaryKeys()) as number[]).filter((k) => !before.includes(k));
      expect(ids.length).toBeGreaterThan(0);
      await live.storeMessage({ type: 'commit', segmentIds: ids, events: 1 });
      await live.open();
      expect(live.status().rows).toBeGreaterThan(rows);
      // still the query's result: its first page (chosen from the matches), then every row (ordered now)
      expect(await live.page(0, 100)).toEqual(firstPage);
      const all = await live.page(0, total + 10);
      expect(all.length).toBe(total);
      expect(all.every((v) => v.row < rows)).toBe(true);
      expect(all.slice(0, 100)).toEqual(firstPage);
      // the same query now includes the new rows
      expect(total0(await live.run(q))).toBeGreaterThan(total);
    }
  });
});

describe('row locations', () => {
  it('locationOf gives each row its segment and offset, empty segments skipped', () => {
    const ix = new ColumnarIndex();
    const time = new Float64Array(6).fill(Date.UTC(2024, 0, 1));
    ix.restoreCore({
      n: 6,
      segments: Uint32Array.from([7, 3, 9, 4]),
      counts: Uint32Array.from([2, 0, 3, 1]),
      stale: new Uint32Array(0),
      time,
    });
    expect(Array.from({ length: 6 }, (_, r) => ix.locationOf(r))).toEqual([
      { segment: 7, offset: 0 },
      { segment: 7, offset: 1 },
      { segment: 9, offset: 0 },
      { segment: 9, offset: 1 },
      { segment: 9, offset: 2 },
      { segment: 4, offset: 0 },
    ]);
  });
});

describe('column codes', () => {
  it('one byte a row while a column has at most 256 values, two up to 65,536, four past it; a snapshot keeps them', () => {
    const T0 = Date.UTC(2024, 4, 1);
    /** A segment of `values.length` rows: `userAgent` holds `values`, every other column one value. */
    const segment = (id: number, values: string[]): Segment => ({
      id,
      fileId: 1,
      n: values.length,
      time: new Float64Array(values.length).fill(T0),
      eid: new Uint32Array(values.length * 2),
      cols: Object.fromEntries(
        COLUMN_NAMES.map((c) => [c, encodeColumn(c === 'userAgent' ? values : values.map(() => 'x'))]),
      ) as Segment['cols'],
    });
    const ix = new ColumnarIndex();
    const rows: string[] = [];
    const add = (id: number, values: string[]) => {
      ix.addSegment(segment(id, values));
      rows.push(...values);
    };
    const range = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));
    add(
      1,
      range(2000, (i) => `ua${i % 200}`),
    );
    expect(ix.cols.userAgent.codes).toBeInstanceOf(Uint8Array);
    expect(ix.cols.eventName.codes).toBeInstanceOf(Uint8Array);
    add(
      2,
      range(600, (i) => `ua${i % 300}`),
    ); // 300 values
    expect(ix.cols.userAgent.codes).toBeInstanceOf(Uint16Array);
    expect(ix.cols.eventName.codes).toBeInstanceOf(Uint8Array);
    add(
      3,
      range(70_000, (i) => `v${i}`),
    ); // 70,300 values
    expect(ix.cols.userAgent.codes).toBeInstanceOf(Uint32Array);
    for (let r = 0; r < ix.n; r++)
      if (ix.value('userAgent', r) !== rows[r]) expect(ix.value('userAgent', r)).toBe(rows[r]);
    expect(ix.value('eventName', ix.n - 1)).toBe('x');
    // the snapshot holds each column's codes as narrow as its dictionary; restored, every row reads the same
    const s = ix.snapshot();
    expect(s.cols.eventName.codes).toBeInstanceOf(Uint8Array);
    expect(s.cols.userAgent.codes).toBeInstanceOf(Uint32Array);
    const back = new ColumnarIndex();
    back.restoreCore({ n: s.n, segments: s.segments, counts: s.counts, stale: s.stale, time: s.time });
    for (const c of COLUMN_NAMES) back.restorePart(c, s.cols[c]);
    for (let r = 0; r < ix.n; r += 97) expect(back.value('userAgent', r)).toBe(rows[r]);
    expect(back.cols.eventName.codes).toBeInstanceOf(Uint8Array);
  });
});
