import { describe, expect, it } from 'vitest';
import { eventArray, unwrapItem } from '../../../src/lib/ingest/formats/eventArray';
import { parseText } from '../../../src/lib/ingest/parse';
import { envelope, kmsEvent, kmsEvents, lookupItem } from '../helpers';

describe('eventArray format', () => {
  it('detects any array', () => {
    expect(eventArray.detect([])).toBe(true);
    expect(eventArray.detect([1])).toBe(true);
    expect(eventArray.detect({ 0: kmsEvent(0), length: 1 })).toBe(false);
    expect(eventArray.detect(null)).toBe(false);
  });

  it('parses a JSON array of events', () => {
    const evs = kmsEvents(12);
    const out = parseText(JSON.stringify(evs, null, 2));
    expect(out).toEqual({ kind: 'events', format: 'event-array', events: evs, skipped: 0, notes: [] });
  });

  it('accepts events, EventBridge envelopes and lookup items side by side', () => {
    const [a, b, c] = kmsEvents(3);
    const out = parseText(JSON.stringify([a, envelope(b), lookupItem(c)]));
    expect(out.kind === 'events' && out.events).toEqual([a, b, c]);
  });

  it('skips items that are not events, with notes on the first three', () => {
    const items = [kmsEvent(0), null, 5, [kmsEvent(1)], { foo: 'bar' }, 'x', kmsEvent(2)];
    const out = parseText(JSON.stringify(items));
    expect(out.kind).toBe('events');
    if (out.kind !== 'events') return;
    expect(out.events.map((e) => e.eventID)).toEqual([kmsEvent(0).eventID, kmsEvent(2).eventID]);
    expect(out.skipped).toBe(5);
    expect(out.notes).toEqual(['item 1: item is null', 'item 2: item is number', 'item 3: item is an array']);
  });

  it('an empty array is valid JSON but not CloudTrail', () => {
    expect(parseText('[]')).toEqual({
      kind: 'not-cloudtrail',
      reason: 'valid JSON (event-array shape) but no CloudTrail events',
    });
    expect(parseText('  [ ]  \n')).toEqual({
      kind: 'not-cloudtrail',
      reason: 'valid JSON (event-array shape) but no CloudTrail events',
    });
  });

  it('an array of non-events is not CloudTrail, giving the first reason', () => {
    expect(parseText('[1,2,3]')).toEqual({
      kind: 'not-cloudtrail',
      reason: 'valid JSON (event-array shape) but no CloudTrail events: item 0: item is number',
    });
    expect(parseText('[{"a":1}]')).toEqual({
      kind: 'not-cloudtrail',
      reason:
        'valid JSON (event-array shape) but no CloudTrail events: item 0: object has no string eventSource/eventName',
    });
  });

  it('unwrapItem reports why an item is not an event', () => {
    expect(unwrapItem(kmsEvent(0))).toEqual(kmsEvent(0));
    expect(unwrapItem(undefined)).toBe('item is undefined');
    expect(unwrapItem(true)).toBe('item is boolean');
    expect(unwrapItem({ CloudTrailEvent: '{' })).toMatch(/^CloudTrailEvent is not valid JSON/);
  });
});
