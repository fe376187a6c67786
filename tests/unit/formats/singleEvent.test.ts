import { describe, expect, it } from 'vitest';
import { singleEvent } from '../../../src/lib/ingest/formats/singleEvent';
import { parseText } from '../../../src/lib/ingest/parse';
import { kmsEvent } from '../helpers';

describe('singleEvent format', () => {
  it('detects an object with string eventSource and eventName', () => {
    expect(singleEvent.detect({ eventSource: 'kms.amazonaws.com', eventName: 'Decrypt' })).toBe(true);
    expect(singleEvent.detect({ eventSource: 'kms.amazonaws.com' })).toBe(false);
    expect(singleEvent.detect({ eventName: 'Decrypt' })).toBe(false);
    expect(singleEvent.detect({ eventSource: 1, eventName: 'Decrypt' })).toBe(false);
    expect(singleEvent.detect({ eventSource: 'kms.amazonaws.com', eventName: null })).toBe(false);
    expect(singleEvent.detect([{ eventSource: 'a', eventName: 'b' }])).toBe(false);
    expect(singleEvent.detect(null)).toBe(false);
  });

  it('parses one pretty-printed event, as the console shows it', () => {
    const e = kmsEvent(11);
    const out = parseText(JSON.stringify(e, null, 4) + '\n');
    expect(out).toEqual({ kind: 'events', format: 'single-event', events: [e], skipped: 0, notes: [] });
  });

  it('a minimal event is enough', () => {
    const out = parseText('{"eventSource":"cloudhsm.amazonaws.com","eventName":"CreateHsm"}');
    expect(out.kind === 'events' && out.events).toEqual([
      { eventSource: 'cloudhsm.amazonaws.com', eventName: 'CreateHsm' },
    ]);
  });

  it('an object lacking eventName is valid JSON but not CloudTrail', () => {
    const e: Record<string, unknown> = { ...kmsEvent(1) };
    delete e.eventName;
    expect(parseText(JSON.stringify(e))).toEqual({
      kind: 'not-cloudtrail',
      reason: 'valid JSON (an object) but no CloudTrail events',
    });
  });

  it('scalars are valid JSON but not CloudTrail', () => {
    expect(parseText('"eventSource"')).toEqual({
      kind: 'not-cloudtrail',
      reason: 'not JSON (starts with "\\"eventSource")',
    });
    expect(parseText('{"a":1}')).toEqual({
      kind: 'not-cloudtrail',
      reason: 'valid JSON (an object) but no CloudTrail events',
    });
  });
});
