import { describe, expect, it } from 'vitest';
import { eventBridge, isEventBridgeEnvelope, kmsEventBridgeEvent } from '../../../src/lib/ingest/formats/eventBridge';
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

  // issue 11: the events AWS KMS sends to EventBridge itself ("Monitor KMS keys with Amazon EventBridge", AWS KMS
  // Developer Guide) are KMS service events, not `not-cloudtrail`
  const KEY = 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const kmsService = (detailType: string, id = '6a7e8feb-b491-4cf7-a9f1-bf3703467718') => ({
    version: '0',
    id,
    'detail-type': detailType,
    source: 'aws.kms',
    account: '111122223333',
    time: '2025-05-23T03:11:54Z',
    region: 'us-west-2',
    resources: [KEY],
    detail: { 'key-id': '1234abcd-12ab-34cd-56ef-1234567890ab' },
  });

  it('reads KMS CMK Deletion, KMS CMK Rotation and KMS Imported Key Material Expiration as KMS service events', () => {
    for (const [dt, name] of [
      ['KMS CMK Deletion', 'DeleteKey'],
      ['KMS CMK Rotation', 'RotateKey'],
      ['KMS Imported Key Material Expiration', 'DeleteExpiredKeyMaterial'],
    ]) {
      const out = parseText(JSON.stringify(kmsService(dt), null, 2));
      expect(out.kind, dt).toBe('events');
      if (out.kind !== 'events') continue;
      expect(out.format).toBe('eventbridge');
      expect(out.events).toHaveLength(1);
      expect(out.events[0]).toMatchObject({
        eventSource: 'kms.amazonaws.com',
        eventName: name,
        eventType: 'AwsServiceEvent',
        eventTime: '2025-05-23T03:11:54Z',
        awsRegion: 'us-west-2',
        recipientAccountId: '111122223333',
        eventID: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
        resources: [{ ARN: KEY, type: 'AWS::KMS::Key' }],
        requestParameters: { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' },
        additionalEventData: { eventBridgeDetailType: dt },
      });
    }
    // as JSON lines and in an array too
    const lines = parseText(
      [kmsService('KMS CMK Rotation', 'a'), kmsService('KMS CMK Deletion', 'b')]
        .map((x) => JSON.stringify(x))
        .join('\n'),
    );
    expect(lines.kind === 'events' && lines.events.map((e) => e.eventName)).toEqual(['RotateKey', 'DeleteKey']);
    const arr = parseText(JSON.stringify([kmsService('KMS CMK Deletion')]));
    expect(arr.kind === 'events' && arr.events.map((e) => e.eventName)).toEqual(['DeleteKey']);
  });

  it('other aws.kms EventBridge shapes stay what they are', () => {
    expect(kmsEventBridgeEvent({ ...kmsService('KMS Something Else') })).toBeNull();
    expect(kmsEventBridgeEvent({ ...kmsService('KMS CMK Deletion'), source: 'aws.ec2' })).toBeNull();
    // the CloudTrail envelope keeps its detail
    expect(eventBridge.extract(envelope(kmsEvent(1))).events).toEqual([kmsEvent(1)]);
  });
});
