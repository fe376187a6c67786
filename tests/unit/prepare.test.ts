import { describe, expect, it } from 'vitest';
import { prepare } from '../../src/lib/ingest/prepare';
import { contentHash, stringHash } from '../../src/lib/codec/hash';
import { cat, digestDoc, kmsEvent, kmsEvents, s3File, te } from './helpers';
import { ColumnsBuilder, encodeColumn, STRING_COLUMNS, type StringColumn } from '../../src/lib/codec/segment';
import { eventTimeMs, type CloudTrailEvent } from '../../src/lib/cloudtrail/event';

const leaf = (text: string | Uint8Array, path = 'f.json') => ({
  path,
  bytes: typeof text === 'string' ? te.encode(text) : text,
  compressed: false,
});

describe('prepare', () => {
  it('passes a problem leaf through', () => {
    const p = prepare({ path: 'x.gz', status: 'corrupt', reason: 'truncated gzip' });
    expect(p).toMatchObject({
      path: 'x.gz',
      kind: 'corrupt',
      reason: 'truncated gzip',
      bytes: 0,
      skipped: 0,
      events: [],
    });
    expect(p.h).toHaveLength(0);
  });

  it('hashes every event: content hash and eventID hash, two lanes each', () => {
    const evs = kmsEvents(5);
    const { eventID: _, ...noId } = kmsEvent(99);
    const text = s3File([...evs, noId]);
    const p = prepare(leaf(text));
    expect(p.kind).toBe('events');
    expect(p.format).toBe('s3-delivery');
    expect(p.bytes).toBe(te.encode(text).length);
    // prepare() reads an S3 delivery file record by record and keeps no parsed events: they come from the texts
    expect(p.events).toEqual([]);
    const got = p.texts!.map((t) => JSON.parse(t));
    expect(got).toEqual([...evs, noId]);
    const want = new Uint32Array(12);
    const wantE = new Uint32Array(12);
    got.forEach((e, i) => {
      contentHash(e, want, i * 2);
      if (e.eventID) stringHash(e.eventID, wantE, i * 2);
    });
    expect([...p.h]).toEqual([...want]);
    expect([...p.e]).toEqual([...wantE]);
    expect([p.e[10], p.e[11]]).toEqual([0, 0]); // no eventID
    expect(p.reason).toBeUndefined();
  });

  it('a BOM in the bytes is accepted', () => {
    const p = prepare(leaf(cat(new Uint8Array([0xef, 0xbb, 0xbf]), te.encode(s3File(kmsEvents(2))))));
    expect(p.kind).toBe('events');
    expect(p.h.length / 2).toBe(2);
    expect(p.texts).toEqual(kmsEvents(2).map((e) => JSON.stringify(e)));
  });

  it('invalid UTF-8 is corrupt, naming the first bad byte', () => {
    const good = te.encode('{"Records":[{"eventSource":"kms.amazonaws.com","eventName":"Decrypt","x":"');
    const p = prepare(leaf(cat(good, new Uint8Array([0x80]), te.encode('"}]}'))));
    expect(p.kind).toBe('corrupt');
    expect(p.reason).toBe(`not valid UTF-8 text (near byte ${good.length})`);
    expect(p.events).toEqual([]);
    // a lead byte followed by a non-continuation: the position is near the broken sequence
    const q = prepare(leaf(cat(good, new Uint8Array([0xc3, 0x28]), te.encode('"}]}'))));
    expect(q.kind).toBe('corrupt');
    const at = +/near byte (\d+)/.exec(q.reason!)![1];
    expect(at === good.length || at === good.length + 1).toBe(true);
  });

  it('a digest is kept as a digest', () => {
    const p = prepare(leaf(JSON.stringify(digestDoc())));
    expect(p.kind).toBe('digest');
    expect(p.digest).toEqual(digestDoc());
    expect(p.events).toEqual([]);
  });

  it('skipped records are counted and explained', () => {
    const p = prepare(leaf(s3File([kmsEvent(0), null, 3])));
    expect(p.kind).toBe('events');
    expect(p.skipped).toBe(2);
    expect(p.reason).toBe('2 record(s) skipped: item 1: record is null; item 2: record is number');
  });

  it('not-CloudTrail and corrupt text keep their reasons', () => {
    expect(prepare(leaf('a,b,c\n1,2,3\n'))).toMatchObject({
      kind: 'not-cloudtrail',
      reason: 'not JSON (starts with "a,b,c\\n1,2,3\\n")',
    });
    expect(prepare(leaf('{"Records": 5}'))).toMatchObject({
      kind: 'corrupt',
      reason: 's3-delivery: "Records" is number, not an array',
    });
  });
});

/**
 * The columns of a block are built as its events are read (ColumnsBuilder), so that a record read alone can be
 * dropped at once. They must be what encoding each column of the block's events at the end gives.
 */
describe('ColumnsBuilder', () => {
  /** Each column as encodeColumn gives it from all the events at once (how blocks were built before). */
  const reference = (events: CloudTrailEvent[]) => ({
    time: Float64Array.from(events, eventTimeMs),
    cols: Object.fromEntries(
      (Object.keys(STRING_COLUMNS) as StringColumn[]).map((c) => [
        c,
        encodeColumn(events.map((e) => STRING_COLUMNS[c](e))),
      ]),
    ),
  });

  it('gives what encoding each column at the end gives, past its capacity and past 65,535 values', () => {
    const events = kmsEvents(600).map((e, i) => ({
      ...e,
      eventTime: i % 7 === 0 ? 'not a time' : e.eventTime,
      sourceIPAddress: i % 3 ? `10.0.${i % 11}.1` : undefined,
    })) as CloudTrailEvent[];
    for (const capacity of [0, 1, 5, 600, 4000]) {
      const b = new ColumnsBuilder(capacity);
      for (const e of events) b.add(e);
      expect(b.rows).toBe(600);
      expect(b.finish()).toEqual(reference(events));
    }
    // more distinct values than a Uint16Array code holds
    const many = Array.from({ length: 70_000 }, (_, i) => ({ ...kmsEvent(0), sourceIPAddress: `ip-${i}` }));
    const b = new ColumnsBuilder(10);
    for (const e of many) b.add(e as CloudTrailEvent);
    const got = b.finish();
    const want = reference(many as CloudTrailEvent[]);
    expect(got.cols.sourceIPAddress.codes).toBeInstanceOf(Uint32Array);
    expect(got.cols.sourceIPAddress).toEqual(want.cols.sourceIPAddress);
    expect(got.cols.eventName.codes).toBeInstanceOf(Uint16Array);
    expect(got.time).toEqual(want.time);
  });

  it('builds an empty block', () => {
    expect(new ColumnsBuilder().finish()).toEqual(reference([]));
  });

  it("gives prepare()'s blocks the columns of their events", () => {
    const events = kmsEvents(4500).map((e, i) => ({ ...e, userAgent: `agent-${i % 13}` }));
    const p = prepare({ path: 'a.json', bytes: te.encode(s3File(events)), compressed: false });
    expect(p.blocks.map((b) => b.n)).toEqual([2000, 2000, 500]);
    for (const b of p.blocks) {
      const want = reference(events.slice(b.start, b.start + b.n) as CloudTrailEvent[]);
      expect(b.time).toEqual(want.time);
      expect(b.cols).toEqual(want.cols);
    }
  });
});
