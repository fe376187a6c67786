import { describe, expect, it } from 'vitest';
import { parseText } from '../../../src/lib/ingest/parse';
import { envelope, kmsEvent, kmsEvents, lookupItem } from '../helpers';

const lines = (xs: unknown[]) => xs.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join('\n');

describe('JSON lines (via parseText)', () => {
  it('reads one event a line', () => {
    const evs = kmsEvents(25);
    const out = parseText(lines(evs) + '\n');
    expect(out).toEqual({ kind: 'events', format: 'json-lines', events: evs, skipped: 0, notes: [] });
  });

  it('accepts events, envelopes and lookup items, CRLF endings and blank lines', () => {
    const [a, b, c] = kmsEvents(3);
    const text = [JSON.stringify(a), '', JSON.stringify(envelope(b)), '   ', JSON.stringify(lookupItem(c)), ''].join(
      '\r\n',
    );
    const out = parseText(text);
    expect(out.kind === 'events' && out.format).toBe('json-lines');
    expect(out.kind === 'events' && out.events).toEqual([a, b, c]);
    expect(out.kind === 'events' && out.skipped).toBe(0);
  });

  it('skips lines that are JSON but not events, noting their line numbers', () => {
    const out = parseText(lines([kmsEvent(0), { foo: 1 }, kmsEvent(1), [1, 2], { eventSource: 's', eventName: 7 }]));
    expect(out.kind).toBe('events');
    if (out.kind !== 'events') return;
    expect(out.events).toHaveLength(2);
    expect(out.skipped).toBe(3);
    expect(out.notes).toEqual([
      'line 2: object has no string eventSource/eventName',
      'line 4: item is an array',
      'line 5: object has no string eventSource/eventName',
    ]);
  });

  it('counts every skipped line but keeps only three notes', () => {
    // scalar lines do not start with { or [, so they are reported as not JSON (they are not events either way)
    const out = parseText(lines([kmsEvent(0), 1, 'null', {}, [], 'x', kmsEvent(1)]));
    expect(out.kind === 'events' && out.events).toHaveLength(2);
    expect(out.kind === 'events' && out.skipped).toBe(5);
    expect(out.kind === 'events' && out.notes).toEqual([
      'line 2: not JSON',
      'line 3: not JSON',
      'line 4: object has no string eventSource/eventName',
    ]);
  });

  it('reads CloudWatch Logs exports with a leading timestamp on each line', () => {
    const evs = kmsEvents(4);
    const text = evs.map((e, i) => `2024-05-01T00:0${i}:00.000Z ${JSON.stringify(e)}`).join('\n');
    const out = parseText(text);
    expect(out).toEqual({ kind: 'events', format: 'json-lines', events: evs, skipped: 0, notes: [] });
  });

  it('a line of text without JSON is noted as not JSON', () => {
    const text = [JSON.stringify(kmsEvent(0)), '--- page 2 ---', JSON.stringify(kmsEvent(1))].join('\n');
    const out = parseText(text);
    expect(out.kind === 'events' && out.events).toHaveLength(2);
    expect(out.kind === 'events' && out.notes).toEqual(['line 2: not JSON']);
  });

  it('timestamped lines mixed with a line that has no JSON', () => {
    const text = [
      '2024-05-01T00:00:00Z ' + JSON.stringify(kmsEvent(0)),
      '2024-05-01T00:00:01Z (truncated)',
      '2024-05-01T00:00:02Z ' + JSON.stringify(kmsEvent(1)),
    ].join('\n');
    const out = parseText(text);
    expect(out.kind === 'events' && out.events).toEqual([kmsEvent(0), kmsEvent(1)]);
    expect(out.kind === 'events' && out.notes).toEqual(['line 2: not JSON']);
  });

  it('lines with no events at all are not an events outcome', () => {
    const out = parseText('{"a":1}\n{"b":2}\n');
    expect(out.kind).not.toBe('events');
    expect(out.kind).toBe('corrupt');
  });
});
