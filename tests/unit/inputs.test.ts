/** The analysis inputs read from the index (src/lib/analysis/inputs.ts): trail-management and organization events. */
import { describe, expect, it } from 'vitest';
import { trailEvents } from '../../src/lib/analysis/inputs';
import type { CloudTrailEvent } from '../../src/lib/cloudtrail/event';
import type { RawReader } from '../../src/lib/store/raw';
import { indexOf, OWNER } from './analysis-helpers';

const event = (
  eventSource: string,
  eventName: string,
  time: string,
  extra: Record<string, unknown> = {},
): CloudTrailEvent => ({
  eventVersion: '1.09',
  userIdentity: { type: 'Root', accountId: OWNER, arn: `arn:aws:iam::${OWNER}:root` },
  eventTime: time,
  eventSource,
  eventName,
  awsRegion: 'us-east-1',
  sourceIPAddress: '203.0.113.7',
  userAgent: 'aws-cli/2',
  requestParameters: null,
  responseElements: null,
  eventID: `id-${eventName}`,
  eventType: 'AwsApiCall',
  recipientAccountId: OWNER,
  eventCategory: 'Management',
  ...extra,
});

describe('trailEvents', () => {
  it('reads trail changes and LeaveOrganization / RemoveAccountFromOrganization, with eventID, eventType and eventCategory', async () => {
    const chunk = [
      event('cloudtrail.amazonaws.com', 'StopLogging', '2024-03-01T10:00:00Z', { requestParameters: { name: 'main' } }),
      event('organizations.amazonaws.com', 'LeaveOrganization', '2024-03-01T11:00:00Z'),
      event('organizations.amazonaws.com', 'RemoveAccountFromOrganization', '2024-03-01T12:00:00Z', {
        requestParameters: { accountId: '777788889999' },
      }),
      event('organizations.amazonaws.com', 'DescribeOrganization', '2024-03-01T13:00:00Z'), // not a change
      event('cloudtrail.amazonaws.com', 'StartLogging', '2024-03-01T14:00:00Z', {
        requestParameters: { name: 'main' },
        eventType: 'AwsVpceEvent',
        eventCategory: 'NetworkActivity',
      }),
    ];
    const { ix } = indexOf([chunk]);
    const raw = {
      eventText: async (seg: number, off: number) => JSON.stringify([chunk][seg - 1][off]),
    } as unknown as RawReader;
    const evs = await trailEvents(ix, raw);
    expect(evs.map((e) => [e.eventName, e.eventID, e.eventType, e.eventCategory])).toEqual([
      ['StopLogging', 'id-StopLogging', 'AwsApiCall', 'Management'],
      ['LeaveOrganization', 'id-LeaveOrganization', 'AwsApiCall', 'Management'],
      ['RemoveAccountFromOrganization', 'id-RemoveAccountFromOrganization', 'AwsApiCall', 'Management'],
      ['StartLogging', 'id-StartLogging', 'AwsVpceEvent', 'NetworkActivity'],
    ]);
    expect(evs[2].requestParameters).toEqual({ accountId: '777788889999' });
  });
});
