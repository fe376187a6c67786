import { describe, expect, it } from 'vitest';
import { s3Delivery } from '../../../src/lib/ingest/formats/s3Delivery';
import { FormatError } from '../../../src/lib/ingest/formats';
import { parseText } from '../../../src/lib/ingest/parse';
import { kmsEvent, kmsEvents, s3File } from '../helpers';

describe('s3Delivery format', () => {
  it('detects an object with a Records key, and nothing else', () => {
    expect(s3Delivery.detect({ Records: [] })).toBe(true);
    expect(s3Delivery.detect({ Records: 'x' })).toBe(true);
    expect(s3Delivery.detect({ records: [] })).toBe(false);
    expect(s3Delivery.detect([{ Records: [] }])).toBe(false);
    expect(s3Delivery.detect(null)).toBe(false);
    expect(s3Delivery.detect('Records')).toBe(false);
    expect(s3Delivery.detect(kmsEvent(1))).toBe(false);
  });

  it('extracts every record in order', () => {
    const evs = kmsEvents(5);
    const x = s3Delivery.extract({ Records: evs });
    expect(x.events).toEqual(evs);
    expect(x.skipped).toBe(0);
    expect(x.notes).toEqual([]);
  });

  it('skips records that are not events, counting all and noting the first three', () => {
    const recs = [
      kmsEvent(0),
      null,
      { eventSource: 'kms.amazonaws.com' },
      kmsEvent(1),
      [1],
      7,
      { eventSource: 1, eventName: 'x' },
      kmsEvent(2),
    ];
    const x = s3Delivery.extract({ Records: recs });
    expect(x.events.map((e) => e.eventID)).toEqual([kmsEvent(0).eventID, kmsEvent(1).eventID, kmsEvent(2).eventID]);
    expect(x.skipped).toBe(5);
    expect(x.notes).toEqual([
      'item 1: record is null',
      'item 2: record has no string eventSource/eventName',
      'item 4: record is an array',
    ]);
  });

  it.each([
    ['a string', '"oops"', 'string'],
    ['an object', '{}', 'object'],
    ['null', 'null', 'null'],
    ['a number', '42', 'number'],
  ])('Records as %s is corrupt, naming Records', (_, json, word) => {
    const out = parseText(`{"Records": ${json}}`);
    expect(out.kind).toBe('corrupt');
    if (out.kind !== 'corrupt') return;
    expect(out.reason).toContain('s3-delivery');
    expect(out.reason).toContain('"Records"');
    expect(out.reason).toContain(`is ${word}, not an array`);
    expect(() => s3Delivery.extract(JSON.parse(`{"Records": ${json}}`))).toThrow(FormatError);
  });

  it('parses a compact and a pretty-printed delivery file', () => {
    const evs = kmsEvents(20);
    for (const text of [s3File(evs), s3File(evs, true)]) {
      const out = parseText(text);
      expect(out.kind).toBe('events');
      if (out.kind !== 'events') return;
      expect(out.format).toBe('s3-delivery');
      expect(out.events).toEqual(evs);
      expect(out.skipped).toBe(0);
    }
  });

  it('reports skipped records through parseText', () => {
    const out = parseText(s3File([kmsEvent(0), 'junk', kmsEvent(1)]));
    expect(out.kind).toBe('events');
    if (out.kind !== 'events') return;
    expect(out.events).toHaveLength(2);
    expect(out.skipped).toBe(1);
    expect(out.notes).toEqual(['item 1: record is string']);
  });

  it('an empty Records array is valid JSON but not CloudTrail', () => {
    const out = parseText('{"Records":[]}');
    expect(out).toEqual({ kind: 'not-cloudtrail', reason: 'valid JSON (s3-delivery shape) but no CloudTrail events' });
  });

  it('Records holding no events is not CloudTrail, with the first note as reason', () => {
    const out = parseText('{"Records":[{"foo":1},{"bar":2}]}');
    expect(out.kind).toBe('not-cloudtrail');
    if (out.kind !== 'not-cloudtrail') return;
    expect(out.reason).toBe(
      'valid JSON (s3-delivery shape) but no CloudTrail events: item 0: record has no string eventSource/eventName',
    );
  });

  it('keeps unknown fields of each record', () => {
    const e = kmsEvent(3, { additionalEventData: { x: [1, 2, { y: null }] }, tlsDetails: { tlsVersion: 'TLSv1.3' } });
    const out = parseText(s3File([e]));
    expect(out.kind === 'events' && out.events[0]).toEqual(e);
  });
});
