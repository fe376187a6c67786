import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { prepare, prepareReference } from '../../src/lib/ingest/prepare';
import { contentHash } from '../../src/lib/codec/hash';
import { exactHash, keyColons, parseWithRanges, prettyJson, rawTextOf, walkStats } from '../../src/lib/codec/exact';
import { envelope, kmsEvent, lookupItem, s3File, te } from './helpers';

const leaf = (text: string, path = 'f.json') => ({ path, bytes: te.encode(text), compressed: false });

/** The content hash prepare() gives the single event of a document. */
function hashOf(text: string): string {
  const p = prepare(leaf(text));
  expect(p.kind, p.reason).toBe('events');
  expect(p.h.length / 2).toBe(1);
  return [...p.h].join(',');
}

/** A KMS event as JSON text with `tail` (raw JSON members) spliced in before its closing brace. */
function eventText(tail: string, i = 1): string {
  return JSON.stringify(kmsEvent(i)).replace(/}$/, ',' + tail + '}');
}

function sampleEvents(): unknown[] {
  const out: unknown[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.json.gz')) {
        const doc = JSON.parse(gunzipSync(readFileSync(p)).toString());
        if (Array.isArray(doc.Records)) out.push(...doc.Records);
      }
    }
  };
  walk(join(__dirname, '../../public/sample'));
  return out;
}

describe('distinct JSON is never merged as one event (issue 10, item 8)', () => {
  const pairs: [string, string, string][] = [
    [
      'integers past 2^53',
      '"requestParameters":{"numberOfBytes":9007199254740993}',
      '"requestParameters":{"numberOfBytes":9007199254740992}',
    ],
    ['numbers past the double range', '"n":1e400', '"n":1e401'],
    ['decimals written differently', '"n":1.50', '"n":1.5'],
    ['minus zero', '"n":-0', '"n":0'],
    [
      'a repeated key against the last value alone',
      '"eventName":"DeleteKey","eventName":"Decrypt"',
      '"eventName":"Decrypt"',
    ],
    ['repeated keys in another order', '"x":"a","x":"b"', '"x":"b","x":"a"'],
  ];
  for (const [what, a, b] of pairs) {
    it(`${what}: different hashes, in every input shape`, () => {
      const ta = eventText(a),
        tb = eventText(b);
      expect(hashOf(s3File([JSON.parse(ta)]).replace(JSON.stringify(JSON.parse(ta)), ta))).not.toBe(
        hashOf(s3File([JSON.parse(tb)]).replace(JSON.stringify(JSON.parse(tb)), tb)),
      );
      expect(hashOf(`{"Records":[${ta}]}`)).not.toBe(hashOf(`{"Records":[${tb}]}`));
      expect(hashOf(ta)).not.toBe(hashOf(tb)); // a single event
      expect(hashOf(`[${ta}]`)).not.toBe(hashOf(`[${tb}]`)); // an event array
      expect(hashOf(`2024-05-01T00:00:00Z ${ta}\n`)).not.toBe(hashOf(`2024-05-01T00:00:00Z ${tb}\n`)); // JSON lines
      expect(hashOf(`{"detail-type":"AWS API Call via CloudTrail","source":"aws.kms","detail":${ta}}`)).not.toBe(
        hashOf(`{"detail-type":"AWS API Call via CloudTrail","source":"aws.kms","detail":${tb}}`),
      );
      expect(hashOf(JSON.stringify({ Events: [{ EventId: 'x', CloudTrailEvent: ta }] }))).not.toBe(
        hashOf(JSON.stringify({ Events: [{ EventId: 'x', CloudTrailEvent: tb }] })),
      );
    });
  }

  it('the same event as written is still one event: key order, white space, document shape do not matter', () => {
    const a = eventText('"big":9007199254740993,"x":"a","x":"b"');
    const reordered = JSON.stringify(kmsEvent(1), null, 2).replace(
      /\n}$/,
      ',\n  "x" : "a",  "big": 9007199254740993,\n "x":"b"\n}',
    );
    const h = hashOf(`{"Records":[${a}]}`);
    expect(hashOf(reordered)).toBe(h);
    expect(hashOf(`[${a}]`)).toBe(h);
    expect(hashOf(JSON.stringify({ Events: [{ EventId: 'x', CloudTrailEvent: a }] }))).toBe(h);
  });

  it('safe integers compare by value on both paths, so a repeated key elsewhere in the document changes nothing', () => {
    const a = eventText('"n":100.0');
    const b = eventText('"n":1e2');
    const c = eventText('"n":100');
    const withDup = (t: string) => `{"Records":[${t},${eventText('"x":1,"x":2', 7)}]}`;
    const first = (text: string) => [...prepare(leaf(text)).h.subarray(0, 2)].join(',');
    const h = first(`{"Records":[${c}]}`);
    for (const t of [a, b, c]) {
      expect(first(`{"Records":[${t}]}`)).toBe(h);
      expect(first(withDup(t))).toBe(h); // hashed from its text (the document repeats a key)
    }
  });

  it('a plain event hashes as before (exactHash equals the walk hash for every sample event)', () => {
    const evs = sampleEvents();
    expect(evs.length).toBeGreaterThan(100);
    const want = new Uint32Array(2),
      got = new Uint32Array(2);
    for (const ev of evs) {
      contentHash(ev, want, 0);
      exactHash(JSON.stringify(ev), got, 0);
      expect([...got]).toEqual([...want]);
    }
    // and prepare() of a plain document never needs the exact pass (same hashes as contentHash)
    const doc = JSON.stringify({ Records: evs.slice(0, 500) });
    const p = prepare(leaf(doc));
    // the object path (prepareReference; prepare reads S3 delivery records one by one and keeps no events)
    // counts every member: no document-wide exact pass
    const ref = prepareReference(leaf(doc));
    expect({ ...ref, events: [] }).toEqual(p);
    expect(keyColons(doc)).toBe(walkStats.keys + 1);
    const h = new Uint32Array(2);
    ref.events.forEach((e, i) => {
      contentHash(e, h, 0);
      expect([p.h[i * 2], p.h[i * 2 + 1]]).toEqual([...h]);
    });
  });

  it('small documents keep each event text as written (the detail view shows it)', () => {
    const a = eventText('"n":9007199254740993,"m":1e400,"k":1,"k":2');
    const p = prepare(leaf(`[${a}]`));
    expect(p.texts).toEqual([a]);
    const q = prepare(leaf(`${a}\n${eventText('"n":1', 2)}\n`));
    expect(q.texts?.[0]).toBe(a);
    expect(
      prepare(leaf(JSON.stringify(envelope(JSON.parse(a))).replace(JSON.stringify(JSON.parse(a)), a))).texts,
    ).toEqual([a]);
    expect(prepare(leaf(JSON.stringify({ Events: [lookupItem(kmsEvent(3))] }))).texts).toHaveLength(1);
  });
});

describe('parseWithRanges / prettyJson', () => {
  it('parses like JSON.parse and finds each object text', () => {
    const text = '{"Records":[ {"a":1,"a":[2, {"__proto__":{"x":1}}]} ,{"b":"\\u202e\\"x"}],"n":-1.5e3}';
    const v = parseWithRanges(text) as { Records: object[] };
    expect(v).toEqual(JSON.parse(text));
    expect(Object.getPrototypeOf((v.Records[0] as { a: unknown[] }).a[1])).toBe(Object.prototype);
    expect(rawTextOf(v.Records[0])).toBe('{"a":1,"a":[2, {"__proto__":{"x":1}}]}');
    expect(rawTextOf(v.Records[1])).toBe('{"b":"\\u202e\\"x"}');
  });

  it('prettyJson lays out like JSON.stringify(v, null, 2), numbers and repeated keys as written', () => {
    for (const ev of sampleEvents().slice(0, 300))
      expect(prettyJson(JSON.stringify(ev))).toBe(JSON.stringify(ev, null, 2));
    expect(prettyJson('{"a" : 9007199254740993, "e":[], "o":{ },"a":1e400,"s":"x\\/y"}')).toBe(
      '{\n  "a": 9007199254740993,\n  "e": [],\n  "o": {},\n  "a": 1e400,\n  "s": "x/y"\n}',
    );
  });
});
