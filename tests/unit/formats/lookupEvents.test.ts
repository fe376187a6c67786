import { describe, expect, it } from 'vitest';
import { lookupEvents, unwrapLookupItem } from '../../../src/lib/ingest/formats/lookupEvents';
import { FormatError } from '../../../src/lib/ingest/formats';
import { parseText } from '../../../src/lib/ingest/parse';
import { kmsEvent, kmsEvents, lookupItem } from '../helpers';

const output = (items: unknown[]) => JSON.stringify({ Events: items, NextToken: 'abc' }, null, 4);

describe('lookupEvents format', () => {
  it('detects lookup-events output only when an item has CloudTrailEvent', () => {
    expect(lookupEvents.detect({ Events: [lookupItem(kmsEvent(0))] })).toBe(true);
    expect(lookupEvents.detect({ Events: [{ x: 1 }, { CloudTrailEvent: 'not json' }] })).toBe(true);
    expect(lookupEvents.detect({ Events: [] })).toBe(false);
    expect(lookupEvents.detect({ Events: [{ EventId: 'x' }] })).toBe(false);
    expect(lookupEvents.detect({ Events: 'x' })).toBe(false);
    expect(lookupEvents.detect([lookupItem(kmsEvent(0))])).toBe(false);
    expect(lookupEvents.detect(null)).toBe(false);
  });

  it('unwraps the CloudTrailEvent JSON string of every item', () => {
    const evs = kmsEvents(7);
    const out = parseText(output(evs.map(lookupItem)));
    expect(out.kind).toBe('events');
    if (out.kind !== 'events') return;
    expect(out.format).toBe('lookup-events');
    expect(out.events).toEqual(evs);
    expect(out.skipped).toBe(0);
    expect(out.notes).toEqual([]);
  });

  it('skips unusable items with notes', () => {
    const items = [
      lookupItem(kmsEvent(0)),
      { EventId: '1', CloudTrailEvent: '{"eventSource": "kms.amazonaws.com", ' },
      { EventId: '2', CloudTrailEvent: '{"eventSource": "kms.amazonaws.com"}' },
      { EventId: '3' },
      { EventId: '4', CloudTrailEvent: 5 },
      lookupItem(kmsEvent(1)),
    ];
    const out = parseText(output(items));
    expect(out.kind).toBe('events');
    if (out.kind !== 'events') return;
    expect(out.events.map((e) => e.eventID)).toEqual([kmsEvent(0).eventID, kmsEvent(1).eventID]);
    expect(out.skipped).toBe(4);
    expect(out.notes).toHaveLength(3);
    expect(out.notes[0]).toMatch(/^item 1: CloudTrailEvent is not valid JSON \(/);
    expect(out.notes[1]).toBe('item 2: CloudTrailEvent has no string eventSource/eventName');
    expect(out.notes[2]).toBe('item 3: item has no CloudTrailEvent string');
  });

  it('is not CloudTrail when no item holds an event', () => {
    const out = parseText(output([{ CloudTrailEvent: '[]' }]));
    expect(out).toEqual({
      kind: 'not-cloudtrail',
      reason:
        'valid JSON (lookup-events shape) but no CloudTrail events: item 0: CloudTrailEvent has no string eventSource/eventName',
    });
  });

  it('an empty Events list is plain JSON with no events', () => {
    expect(parseText('{"Events": []}')).toEqual({
      kind: 'not-cloudtrail',
      reason: 'valid JSON (an object) but no CloudTrail events',
    });
  });

  it('extract throws FormatError naming Events when it is not an array', () => {
    expect(() => lookupEvents.extract({ Events: {} })).toThrow(FormatError);
    expect(() => lookupEvents.extract({ Events: {} })).toThrow('"Events" is not an array');
  });

  it('unwrapLookupItem returns the event or a reason', () => {
    const e = kmsEvent(9);
    expect(unwrapLookupItem(lookupItem(e))).toEqual(e);
    expect(unwrapLookupItem(null)).toBe('item has no CloudTrailEvent string');
    expect(unwrapLookupItem({ CloudTrailEvent: '"a string"' })).toBe(
      'CloudTrailEvent has no string eventSource/eventName',
    );
  });
});
