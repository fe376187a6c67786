import { describe, expect, it } from 'vitest';
import { eventBridge, isEventBridgeEnvelope } from '../../../src/lib/ingest/formats/eventBridge';
import { parseText } from '../../../src/lib/ingest/parse';
import { envelope, kmsEvent, kmsEvents } from '../helpers';

describe('eventBridge format', () => {
  it('detects an envelope whose detail is a CloudTrail event', () => {
    expect(eventBridge.detect(envelope(kmsEvent(0)))).toBe(true);
    // any one of detail-type / source / account marks an envelope
    expect(isEventBridgeEnvelope({ source: 'aws.kms', detail: kmsEvent(0) })).toBe(true);
    expect(isEventBridgeEnvelope({ 'detail-type': 'x', detail: kmsEvent(0) })).toBe(true);
    expect(isEventBridgeEnvelope({ account: '1', detail: kmsEvent(0) })).toBe(true);
  });

  it('does not detect envelopes without a CloudTrail detail, or a bare detail', () => {
    expect(eventBridge.detect(envelope({ state: 'running' }))).toBe(false);
    expect(eventBridge.detect(envelope(null))).toBe(false);
    expect(eventBridge.detect(envelope([kmsEvent(0)]))).toBe(false);
    expect(eventBridge.detect({ detail: kmsEvent(0) })).toBe(false);
    expect(eventBridge.detect(kmsEvent(0))).toBe(false);
    expect(eventBridge.detect(null)).toBe(false);
  });

  it('extracts the detail as the one event', () => {
    const e = kmsEvent(4);
    const out = parseText(JSON.stringify(envelope(e), null, 2));
    expect(out).toEqual({ kind: 'events', format: 'eventbridge', events: [e], skipped: 0, notes: [] });
  });

  it('an envelope with a non-CloudTrail detail is not CloudTrail', () => {
    const out = parseText(JSON.stringify(envelope({ instance: 'i-123', state: 'stopped' })));
    expect(out).toEqual({ kind: 'not-cloudtrail', reason: 'valid JSON (an object) but no CloudTrail events' });
  });

  it('an array of envelopes yields their details', () => {
    const evs = kmsEvents(4);
    const out = parseText(JSON.stringify(evs.map(envelope)));
    expect(out.kind).toBe('events');
    if (out.kind !== 'events') return;
    expect(out.format).toBe('event-array');
    expect(out.events).toEqual(evs);
  });

  it('envelopes as JSON lines yield their details', () => {
    const evs = kmsEvents(3);
    const out = parseText(evs.map((e, i) => JSON.stringify(envelope(e, i))).join('\n'));
    expect(out.kind === 'events' && out.format).toBe('json-lines');
    expect(out.kind === 'events' && out.events).toEqual(evs);
  });
});
