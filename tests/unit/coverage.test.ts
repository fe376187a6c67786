import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  accountExclusionAt,
  COVERAGE_RULES,
  coverageFindings,
  exclusionWindows,
  kmsSilence,
  selectorCoverage,
  trailOfEvent,
  trailTimelines,
  unrecordedCrossAccountCalls,
  type TrailEvent,
} from '../../src/lib/analysis/coverage';
import { correlate, type CallRecord } from '../../src/lib/analysis/crossAccount';
import {
  normalizeAdvancedSelectors,
  normalizeBasicSelectors,
  trailConfigSnapshots,
} from '../../src/lib/analysis/trailConfig';
import { activitySource } from '../../src/lib/analysis/inputs';
import { indexOf } from './analysis-helpers';

const A = '111122223333';
const B = '444455556666';
const ARN = (name: string, acct = A, region = 'us-east-1') => `arn:aws:cloudtrail:${region}:${acct}:trail/${name}`;
const T = (iso: string) => Date.parse(iso);
const H = 3_600_000;
const MALLORY = `arn:aws:iam::${A}:user/mallory`;

let row = 1000;
function ev(
  eventName: string,
  time: string,
  requestParameters: Record<string, unknown> | null,
  o: Partial<TrailEvent> = {},
): TrailEvent {
  return {
    row: row++,
    time: T(time),
    eventName,
    errorCode: '',
    recipientAccountId: A,
    awsRegion: 'us-east-1',
    principal: MALLORY,
    sourceIPAddress: '203.0.113.77',
    requestParameters,
    responseElements: null,
    ...o,
  };
}
const basic = (exclude: string[] = [], extra: Record<string, unknown> = {}) => [
  {
    readWriteType: 'All',
    includeManagementEvents: true,
    dataResources: [],
    excludeManagementEventSources: exclude,
    ...extra,
  },
];
const mgmtOnly = (extra: Record<string, unknown>[] = []) => [
  { name: 'm', fieldSelectors: [{ field: 'eventCategory', equals: ['Management'] }, ...extra] },
];

describe('selectorCoverage', () => {
  it('basic selectors', () => {
    expect(selectorCoverage()).toEqual({ management: 'all', kmsRead: 'all', kmsWrite: 'all' });
    expect(selectorCoverage(normalizeBasicSelectors(basic()))).toEqual({
      management: 'all',
      kmsRead: 'all',
      kmsWrite: 'all',
    });
    expect(selectorCoverage(normalizeBasicSelectors(basic(['kms.amazonaws.com'])))).toEqual({
      management: 'all',
      kmsRead: 'none',
      kmsWrite: 'none',
    });
    expect(selectorCoverage(normalizeBasicSelectors(basic(['rdsdata.amazonaws.com'])))).toEqual({
      management: 'all',
      kmsRead: 'all',
      kmsWrite: 'all',
    });
    expect(selectorCoverage(normalizeBasicSelectors(basic([], { includeManagementEvents: false })))).toEqual({
      management: 'none',
      kmsRead: 'none',
      kmsWrite: 'none',
    });
    expect(selectorCoverage(normalizeBasicSelectors(basic([], { readWriteType: 'WriteOnly' })))).toEqual({
      management: 'partial',
      kmsRead: 'none',
      kmsWrite: 'all',
    });
    expect(selectorCoverage(normalizeBasicSelectors(basic([], { readWriteType: 'ReadOnly' })))).toEqual({
      management: 'partial',
      kmsRead: 'all',
      kmsWrite: 'none',
    });
    // a trail records an event that matches any selector: one selector excluding KMS and one not → all
    expect(
      selectorCoverage(
        normalizeBasicSelectors([...basic(['kms.amazonaws.com']), ...basic([], { readWriteType: 'ReadOnly' })]),
      ),
    ).toEqual({ management: 'all', kmsRead: 'all', kmsWrite: 'none' });
    expect(selectorCoverage([])).toEqual({ management: 'none', kmsRead: 'none', kmsWrite: 'none' });
  });

  it('advanced selectors: eventCategory, eventSource NotEquals / NotStartsWith / Equals, readOnly, other fields', () => {
    const cov = (x: unknown) => selectorCoverage(undefined, normalizeAdvancedSelectors(x));
    expect(cov(mgmtOnly())).toEqual({ management: 'all', kmsRead: 'all', kmsWrite: 'all' });
    expect(cov(mgmtOnly([{ field: 'eventSource', notEquals: ['kms.amazonaws.com'] }]))).toEqual({
      management: 'partial',
      kmsRead: 'none',
      kmsWrite: 'none',
    });
    expect(cov(mgmtOnly([{ field: 'eventSource', notStartsWith: ['kms.'] }]))).toMatchObject({
      kmsRead: 'none',
      kmsWrite: 'none',
    });
    expect(cov(mgmtOnly([{ field: 'eventSource', notEndsWith: ['.amazonaws.com'] }]))).toMatchObject({
      kmsRead: 'none',
    });
    expect(cov(mgmtOnly([{ field: 'eventSource', equals: ['s3.amazonaws.com', 'iam.amazonaws.com'] }]))).toEqual({
      management: 'partial',
      kmsRead: 'none',
      kmsWrite: 'none',
    });
    expect(cov(mgmtOnly([{ field: 'eventSource', equals: ['kms.amazonaws.com'] }]))).toMatchObject({
      kmsRead: 'all',
      kmsWrite: 'all',
    });
    expect(cov(mgmtOnly([{ field: 'eventSource', startsWith: ['kms'] }]))).toMatchObject({
      kmsRead: 'all',
      kmsWrite: 'all',
    });
    expect(cov(mgmtOnly([{ field: 'readOnly', equals: ['false'] }]))).toEqual({
      management: 'partial',
      kmsRead: 'none',
      kmsWrite: 'all',
    });
    // conditions on fields that are not evaluated make the answer partial
    expect(cov(mgmtOnly([{ field: 'eventName', notEquals: ['Decrypt'] }]))).toEqual({
      management: 'partial',
      kmsRead: 'partial',
      kmsWrite: 'partial',
    });
    // data events only
    expect(
      cov([
        {
          fieldSelectors: [
            { field: 'eventCategory', equals: ['Data'] },
            { field: 'resources.type', equals: ['AWS::S3::Object'] },
          ],
        },
      ]),
    ).toEqual({ management: 'none', kmsRead: 'none', kmsWrite: 'none' });
    // two selectors: management except KMS, plus KMS writes → KMS reads only are lost
    expect(
      cov([
        ...mgmtOnly([{ field: 'eventSource', notEquals: ['kms.amazonaws.com'] }]),
        ...mgmtOnly([
          { field: 'eventSource', equals: ['kms.amazonaws.com'] },
          { field: 'readOnly', equals: ['false'] },
        ]),
      ]),
    ).toMatchObject({ kmsRead: 'none', kmsWrite: 'all' });
  });
});

describe('trailTimelines and exclusionWindows', () => {
  it('basic selectors: PutEventSelectors by name starts the window, by ARN ends it (same trail)', () => {
    const events = [
      ev(
        'PutEventSelectors',
        '2024-03-08T10:00:00Z',
        { trailName: 'org-trail', eventSelectors: basic(['kms.amazonaws.com']) },
        { responseElements: { trailARN: ARN('org-trail'), eventSelectors: basic(['kms.amazonaws.com']) } },
      ),
      ev(
        'PutEventSelectors',
        '2024-03-09T16:00:00Z',
        { trailName: ARN('org-trail'), eventSelectors: basic() },
        { principal: `arn:aws:iam::${A}:user/alice`, sourceIPAddress: '192.0.2.10' },
      ),
    ];
    const tls = trailTimelines(events);
    expect(tls).toHaveLength(1);
    expect(tls[0]).toMatchObject({
      trail: 'org-trail',
      account: A,
      homeRegion: 'us-east-1',
      trailArn: ARN('org-trail'),
    });
    expect(tls[0].changes.map((c) => c.changed)).toEqual([['selectors'], ['selectors']]);
    const ws = exclusionWindows(tls);
    expect(ws).toEqual([
      {
        trail: 'org-trail',
        trailArn: ARN('org-trail'),
        account: A,
        homeRegion: 'us-east-1',
        kind: 'kms-excluded',
        selectorKind: 'basic',
        start: T('2024-03-08T10:00:00Z'),
        end: T('2024-03-09T16:00:00Z'),
        startedBy: {
          principal: MALLORY,
          sourceIPAddress: '203.0.113.77',
          eventName: 'PutEventSelectors',
          row: events[0].row,
          time: events[0].time,
        },
        endedBy: {
          principal: `arn:aws:iam::${A}:user/alice`,
          sourceIPAddress: '192.0.2.10',
          eventName: 'PutEventSelectors',
          row: events[1].row,
          time: events[1].time,
        },
        detail: expect.stringContaining('excludeManagementEventSources containing kms.amazonaws.com'),
      },
    ]);
  });

  it('advanced selectors exclude KMS; an open-ended window when never restored', () => {
    const sel = mgmtOnly([{ field: 'eventSource', notEquals: ['kms.amazonaws.com'] }]);
    const ws = exclusionWindows(
      trailTimelines([
        ev(
          'PutEventSelectors',
          '2024-03-07T13:10:00Z',
          { trailName: ARN('app-trail', B), advancedEventSelectors: sel },
          { recipientAccountId: B },
        ),
      ]),
    );
    expect(ws).toHaveLength(1);
    expect(ws[0]).toMatchObject({
      trail: 'app-trail',
      account: B,
      kind: 'kms-excluded',
      selectorKind: 'advanced',
      start: T('2024-03-07T13:10:00Z'),
    });
    expect(ws[0].end).toBeUndefined();
    expect(ws[0].endedBy).toBeUndefined();
    expect(ws[0].partial).toBeUndefined();
    // the responseElements' selectors win over the request's (they are what was applied)
    const ws2 = exclusionWindows(
      trailTimelines([
        ev(
          'PutEventSelectors',
          '2024-03-07T13:10:00Z',
          { trailName: 'x', advancedEventSelectors: mgmtOnly() },
          { responseElements: { trailARN: ARN('x'), advancedEventSelectors: sel } },
        ),
      ]),
    );
    expect(ws2.map((w) => w.kind)).toEqual(['kms-excluded']);
  });

  it('partial exclusion: WriteOnly records no read-only KMS event (Decrypt, GenerateDataKey...)', () => {
    const ws = exclusionWindows(
      trailTimelines([
        ev('PutEventSelectors', '2024-03-01T00:00:00Z', {
          trailName: 't',
          eventSelectors: basic([], { readWriteType: 'WriteOnly' }),
        }),
      ]),
    );
    expect(ws[0]).toMatchObject({ kind: 'kms-excluded', partial: true, selectorKind: 'basic' });
    expect(ws[0].detail).toContain('no read-only KMS event');
  });

  it('StopLogging (by name) … StartLogging (by ARN): logging-stopped', () => {
    const ws = exclusionWindows(
      trailTimelines([
        ev('StopLogging', '2024-03-11T02:00:00Z', { name: 'org-trail' }),
        ev('StartLogging', '2024-03-11T05:00:00Z', { name: ARN('org-trail') }),
      ]),
    );
    expect(ws).toHaveLength(1);
    expect(ws[0]).toMatchObject({
      kind: 'logging-stopped',
      start: T('2024-03-11T02:00:00Z'),
      end: T('2024-03-11T05:00:00Z'),
      startedBy: { eventName: 'StopLogging' },
      endedBy: { eventName: 'StartLogging' },
    });
    expect(ws[0].selectorKind).toBeUndefined();
  });

  it('a created trail logs only after StartLogging; DeleteTrail ends the config windows and opens a logging-stopped one', () => {
    const tls = trailTimelines([
      ev(
        'CreateTrail',
        '2024-03-02T10:14:03Z',
        { name: 'data', s3BucketName: 'b1', isMultiRegionTrail: false, enableLogFileValidation: true },
        {
          responseElements: { name: 'data', trailARN: ARN('data'), s3BucketName: 'b1', logFileValidationEnabled: true },
        },
      ),
      ev('PutEventSelectors', '2024-03-02T10:14:06Z', {
        trailName: 'data',
        eventSelectors: basic([], { includeManagementEvents: false }),
      }),
      ev('StartLogging', '2024-03-02T12:30:00Z', { name: ARN('data') }),
      ev('DeleteTrail', '2024-03-12T21:58:10Z', { name: ARN('data') }),
    ]);
    expect(tls[0].changes[0].state).toMatchObject({
      exists: true,
      logging: false,
      selectorKind: 'default',
      s3BucketName: 'b1',
      logFileValidationEnabled: true,
      isMultiRegionTrail: false,
    });
    const ws = exclusionWindows(tls);
    expect(ws.map((w) => [w.kind, w.startedBy.eventName, w.endedBy?.eventName])).toEqual([
      ['logging-stopped', 'CreateTrail', 'StartLogging'],
      ['management-disabled', 'PutEventSelectors', 'DeleteTrail'],
      ['logging-stopped', 'DeleteTrail', undefined],
    ]);
    expect(ws[1].selectorKind).toBe('basic');
    expect(ws[2].detail).toContain('deleted');
    const f = coverageFindings({ timelines: tls, windows: ws });
    const rules = f.map((x) => x.rule).sort();
    expect(rules).toEqual(['management-events-disabled', 'trail-deleted', 'trail-logging-stopped']);
    // a trail not started for over an hour after CreateTrail raises trail-logging-stopped; 6 seconds would not
    expect(f.find((x) => x.rule === 'trail-logging-stopped')!.description).toContain('CreateTrail');
    const quick = trailTimelines([
      ev('CreateTrail', '2024-03-02T10:14:03Z', { name: 'q', s3BucketName: 'b' }),
      ev('StartLogging', '2024-03-02T10:14:09Z', { name: 'q' }),
    ]);
    const qw = exclusionWindows(quick);
    expect(qw).toHaveLength(1);
    expect(coverageFindings({ timelines: quick, windows: qw })).toEqual([]);
  });

  it('management events disabled by advanced selectors (data events only)', () => {
    const ws = exclusionWindows(
      trailTimelines([
        ev('PutEventSelectors', '2024-03-01T00:00:00Z', {
          trailName: 't',
          advancedEventSelectors: [
            {
              fieldSelectors: [
                { field: 'eventCategory', equals: ['Data'] },
                { field: 'resources.type', equals: ['AWS::S3::Object'] },
              ],
            },
          ],
        }),
        ev('PutEventSelectors', '2024-03-02T00:00:00Z', { trailName: 't', eventSelectors: basic() }),
      ]),
    );
    expect(ws).toEqual([
      expect.objectContaining({
        kind: 'management-disabled',
        selectorKind: 'advanced',
        end: T('2024-03-02T00:00:00Z'),
      }),
    ]);
  });

  it('failed calls change nothing; a StartLogging without earlier StopLogging is noted', () => {
    const tls = trailTimelines([
      ev('StopLogging', '2024-03-01T00:00:00Z', { name: 't' }, { errorCode: 'AccessDenied' }),
      ev(
        'PutEventSelectors',
        '2024-03-01T01:00:00Z',
        { trailName: 't', eventSelectors: basic(['kms.amazonaws.com']) },
        { errorCode: 'InvalidHomeRegionException' },
      ),
      ev('StartLogging', '2024-03-02T00:00:00Z', { name: 't' }),
    ]);
    expect(exclusionWindows(tls)).toEqual([]);
    expect(tls[0].changes.map((c) => c.errorCode)).toEqual(['AccessDenied', 'InvalidHomeRegionException', '']);
    expect(tls[0].notes[0]).toContain('StartLogging at 2024-03-02T00:00:00Z');
  });

  it('trails are told apart by account and home Region; events without a trail name are ignored', () => {
    const tls = trailTimelines([
      ev('StopLogging', '2024-03-01T00:00:00Z', { name: 'main' }),
      ev('StopLogging', '2024-03-01T00:00:00Z', { name: 'main' }, { recipientAccountId: B }),
      ev('StopLogging', '2024-03-01T00:00:00Z', { name: 'main' }, { awsRegion: 'eu-west-1' }),
      ev('StopLogging', '2024-03-01T00:00:00Z', { name: ARN('main', A, 'eu-west-1') }, { awsRegion: 'eu-west-1' }),
      ev('StopLogging', '2024-03-01T00:00:00Z', null),
      ev('DescribeTrails', '2024-03-01T00:00:00Z', { trailNameList: [] }),
    ]);
    expect(tls.map((t) => `${t.account}/${t.homeRegion}/${t.trail}/${t.changes.length}`)).toEqual([
      `${A}/eu-west-1/main/2`,
      `${A}/us-east-1/main/1`,
      `${B}/us-east-1/main/1`,
    ]);
    expect(
      trailOfEvent(ev('PutEventSelectors', '2024-03-01T00:00:00Z', { trailName: ARN('x', B, 'ap-south-1') })),
    ).toEqual({ name: 'x', account: B, region: 'ap-south-1', arn: ARN('x', B, 'ap-south-1') });
  });

  it('UpdateTrail: bucket, KMS key, multi-Region, global service events changes raise trail-updated', () => {
    const tls = trailTimelines([
      ev('CreateTrail', '2024-03-01T00:00:00Z', {
        name: 't',
        s3BucketName: 'b1',
        includeGlobalServiceEvents: true,
        isMultiRegionTrail: true,
      }),
      ev('StartLogging', '2024-03-01T00:00:05Z', { name: 't' }),
      ev('UpdateTrail', '2024-03-03T00:00:00Z', { name: 't', s3BucketName: 'b1' }), // no change
      ev('UpdateTrail', '2024-03-04T00:00:00Z', {
        name: 't',
        s3BucketName: 'evil',
        kmsKeyId: 'arn:aws:kms:us-east-1:111122223333:key/k',
        isMultiRegionTrail: false,
        includeGlobalServiceEvents: false,
      }),
      ev('UpdateTrail', '2024-03-05T00:00:00Z', { name: 'u', enableLogFileValidation: false }), // a trail first seen here
    ]);
    const f = coverageFindings({ timelines: tls, windows: exclusionWindows(tls) });
    const up = f.find((x) => x.rule === 'trail-updated')!;
    expect(up.count).toBe(2);
    expect(up.description).toContain('s3BucketName b1 → evil');
    expect(up.description).toContain(
      'kmsKeyId (previous value not in the logs) → arn:aws:kms:us-east-1:111122223333:key/k',
    );
    expect(up.description).toContain('isMultiRegionTrail true → false');
    expect(up.description).toContain('includeGlobalServiceEvents true → false');
    expect(up.description).toContain('logFileValidationEnabled (previous value not in the logs) → false');
    expect(up.query).toBe('finding:trail-updated');
  });
});

describe('configuration snapshots', () => {
  it('a get-event-selectors output showing KMS excluded, with no event: a window from the capture (approximate)', () => {
    const snaps = trailConfigSnapshots(
      { EventSelectors: basic(['kms.amazonaws.com']).map((s) => ({ ...s })), TrailARN: ARN('TrailName') },
      T('2024-03-20T00:00:00Z'),
      'get-event-selectors.json',
    );
    const ws = exclusionWindows(trailTimelines([], snaps));
    expect(ws).toEqual([
      expect.objectContaining({
        kind: 'kms-excluded',
        trail: 'TrailName',
        account: A,
        start: T('2024-03-20T00:00:00Z'),
        startApproximate: true,
        startedBy: expect.objectContaining({ eventName: 'get-event-selectors', row: -1 }),
      }),
    ]);
    expect(ws[0].notBefore).toBeUndefined();
  });

  it('a snapshot that contradicts the events is a change the logs do not show, after the last known change', () => {
    const e = ev('PutEventSelectors', '2024-03-01T00:00:00Z', { trailName: 'org-trail', eventSelectors: basic() });
    const snaps = trailConfigSnapshots(
      {
        TrailARN: ARN('org-trail'),
        EventSelectors: [
          { ReadWriteType: 'All', IncludeManagementEvents: true, ExcludeManagementEventSources: ['kms.amazonaws.com'] },
        ],
      },
      T('2024-03-10T00:00:00Z'),
    );
    const ws = exclusionWindows(trailTimelines([e], snaps));
    expect(ws).toEqual([
      expect.objectContaining({
        kind: 'kms-excluded',
        start: T('2024-03-10T00:00:00Z'),
        startApproximate: true,
        notBefore: e.time,
      }),
    ]);
    // a snapshot that agrees changes nothing
    const same = trailConfigSnapshots(
      { TrailARN: ARN('org-trail'), EventSelectors: basic() },
      T('2024-03-10T00:00:00Z'),
    );
    expect(exclusionWindows(trailTimelines([e], same))).toEqual([]);
  });

  it('describe-trails with another bucket than CreateTrail set: trail-updated (shown by describe-trails)', () => {
    const tls = trailTimelines(
      [
        ev(
          'CreateTrail',
          '2024-03-01T00:00:00Z',
          { name: 'my-trail', s3BucketName: 'b1' },
          { awsRegion: 'us-east-2', recipientAccountId: '123456789012' },
        ),
      ],
      trailConfigSnapshots(
        {
          trailList: [
            {
              Name: 'my-trail',
              S3BucketName: 'my-bucket',
              HomeRegion: 'us-east-2',
              TrailARN: 'arn:aws:cloudtrail:us-east-2:123456789012:trail/my-trail',
            },
          ],
        },
        T('2024-03-05T00:00:00Z'),
      ),
    );
    expect(tls).toHaveLength(1);
    const up = coverageFindings({ timelines: tls, windows: exclusionWindows(tls) }).find(
      (x) => x.rule === 'trail-updated',
    )!;
    expect(up.description).toContain('s3BucketName b1 → my-bucket');
    expect(up.description).toContain('shown by describe-trails');
    expect(up.rows).toEqual([]);
  });

  it('get-trail-status: the last StopLogging time starts a window; the snapshot is attributed by its file path', () => {
    const status = {
      IsLogging: false,
      TimeLoggingStarted: '2019-01-23T00:53:57Z',
      TimeLoggingStopped: '2019-01-23T02:06:56Z',
    };
    const snaps = trailConfigSnapshots(status, T('2019-01-23T02:06:58Z'), 'status/get-trail-status.orgTrail.json');
    const events = [
      ev('PutEventSelectors', '2019-01-22T00:00:00Z', { trailName: 'orgTrail', eventSelectors: basic() }),
      ev('PutEventSelectors', '2019-01-22T00:00:00Z', { trailName: 'other', eventSelectors: basic() }),
    ];
    const ws = exclusionWindows(trailTimelines(events, snaps));
    expect(ws).toEqual([
      expect.objectContaining({
        trail: 'orgTrail',
        kind: 'logging-stopped',
        start: T('2019-01-23T02:06:56Z'),
        startedBy: expect.objectContaining({ eventName: 'StopLogging', row: -1 }),
      }),
    ]);
    expect(ws[0].end).toBeUndefined();
    // a StopLogging event at that time is the same change: not doubled
    const stop = ev('StopLogging', '2019-01-23T02:06:56Z', { name: 'orgTrail' });
    const ws2 = exclusionWindows(trailTimelines([...events, stop], snaps));
    expect(ws2).toHaveLength(1);
    expect(ws2[0].startedBy.row).toBe(stop.row);
    // an unattributable status (two trails, no name in the path) is left out
    expect(
      exclusionWindows(trailTimelines(events, trailConfigSnapshots(status, T('2019-01-23T02:06:58Z'), 'status.json'))),
    ).toEqual([]);
    // a past stop/start pair in a status of a logging trail is a closed window
    const past = trailConfigSnapshots(
      { IsLogging: true, StartLoggingTime: 1446834998.695, StopLoggingTime: 1446834996.933 },
      undefined,
      'orgTrail-status.json',
    );
    const pw = exclusionWindows(trailTimelines([events[0]], past));
    expect(pw).toEqual([
      expect.objectContaining({ kind: 'logging-stopped', start: 1446834996933, end: 1446834998695 }),
    ]);
  });

  const PLACEBO = join(
    __dirname,
    '../../../shared/datasets/public/cloud-custodian-tests/placebo-cloudtrail-api-responses',
  );
  it.skipIf(!existsSync(PLACEBO))(
    'real outputs: describe-trails + get-event-selectors + get-trail-status of one trail',
    () => {
      const read = (f: string) => JSON.parse(readFileSync(join(PLACEBO, f), 'utf8'));
      const base = 'test_cloudtrail_fail_management_advanced_events_included__cloudtrail.';
      const snaps = [
        ...trailConfigSnapshots(read(base + 'DescribeTrails_1.json'), T('2022-08-01T00:00:00Z')),
        ...trailConfigSnapshots(read(base + 'GetEventSelectors_1.json'), T('2022-08-01T00:00:00Z')),
        ...trailConfigSnapshots(
          read(base + 'GetTrailStatus_1.json'),
          T('2022-08-01T00:00:00Z'),
          base + 'GetTrailStatus_1.json',
        ),
      ];
      const tls = trailTimelines([], snaps);
      expect(tls.map((t) => t.trail)).toEqual(['test-cloudtrail']);
      const ws = exclusionWindows(tls);
      expect(ws).toEqual([
        expect.objectContaining({
          trail: 'test-cloudtrail',
          kind: 'kms-excluded',
          selectorKind: 'advanced',
          startApproximate: true,
        }),
      ]);
    },
  );
});

describe('corroboration and findings', () => {
  const OWNER_TRAIL = [
    ev('PutEventSelectors', '2024-03-08T10:00:00Z', {
      trailName: 'org-trail',
      eventSelectors: basic(['kms.amazonaws.com']),
    }),
    ev('PutEventSelectors', '2024-03-09T16:00:00Z', { trailName: 'org-trail', eventSelectors: basic() }),
  ];
  const KEY = `arn:aws:kms:us-east-1:${A}:key/k1`;
  let r = 1;
  const call = (o: Partial<CallRecord>): CallRecord => ({
    row: r++,
    time: T('2024-03-08T12:00:00Z'),
    eventSource: 'kms.amazonaws.com',
    eventName: 'Decrypt',
    errorCode: '',
    recipientAccountId: B,
    callerAccount: B,
    principal: `arn:aws:sts::${B}:assumed-role/app/s`,
    sharedEventID: `s${r}`,
    requestID: `q${r}`,
    eventID: `e${r}`,
    awsRegion: 'us-east-1',
    resourceArn: KEY,
    ...o,
  });

  it("caller-only-succeeded calls inside the owner's window are corroborated; outside, or while another trail recorded, they are not", () => {
    const inside = call({});
    const outside = call({ time: T('2024-03-10T12:00:00Z') });
    const denied = call({ errorCode: 'AccessDeniedException' });
    const corr = correlate([inside, outside, denied], new Set([A, B]));
    const tls = trailTimelines(OWNER_TRAIL);
    const ws = exclusionWindows(tls);
    const un = unrecordedCrossAccountCalls(corr.records, tls, ws);
    expect(un).toHaveLength(1);
    expect(un[0]).toMatchObject({ missing: 'owner-copy', account: A, call: { rows: [inside.row] } });
    const f = coverageFindings({ timelines: tls, windows: ws, crossAccount: corr.records });
    const ex = f.find((x) => x.rule === 'kms-events-excluded')!;
    // the change that excluded KMS events and the corroborating call, in time order; not the PutEventSelectors that
    // restored KMS events (issue 11: a finding's events show the problem, not what ended it)
    expect(ex.rows).toEqual([OWNER_TRAIL[0].row, inside.row]);
    expect(ex.count).toBe(2);
    expect(ex.description).toContain('Corroboration: 1 cross-account call(s)');
    expect(ex.description).toContain('basic event selectors');
    expect(ex.description).toContain('AWS cannot recover events');
    expect(ex.keys).toEqual([KEY]);

    // a second trail of the owner account recording KMS at that time: the missing copy is not explained
    const second = [
      ...OWNER_TRAIL,
      ev('PutEventSelectors', '2024-03-01T00:00:00Z', { trailName: 'second', eventSelectors: basic() }),
    ];
    const tls2 = trailTimelines(second);
    expect(unrecordedCrossAccountCalls(corr.records, tls2, exclusionWindows(tls2))).toEqual([]);
    // ... but a second trail that did not exist yet does not count
    const later = [
      ...OWNER_TRAIL,
      ev('CreateTrail', '2024-03-09T00:00:00Z', { name: 'later', s3BucketName: 'b' }),
      ev('StartLogging', '2024-03-09T00:00:01Z', { name: 'later' }),
    ];
    const tls3 = trailTimelines(later);
    expect(unrecordedCrossAccountCalls(corr.records, tls3, exclusionWindows(tls3))).toHaveLength(1);
    expect(accountExclusionAt(B, inside.time, tls3, exclusionWindows(tls3))).toBeNull();
  });

  it("owner-only calls of a loaded caller inside the caller's window are corroborated (the caller's copy is missing)", () => {
    const ownerCopy = call({ recipientAccountId: A, callerAccount: B, principal: 'AWSAccount:AROA:s' });
    const tls = trailTimelines([
      ev('StopLogging', '2024-03-08T11:00:00Z', { name: 'app-trail' }, { recipientAccountId: B }),
    ]);
    const ws = exclusionWindows(tls);
    const un = unrecordedCrossAccountCalls(correlate([ownerCopy], new Set([A, B])).records, tls, ws);
    expect(un).toEqual([expect.objectContaining({ missing: 'caller-copy', account: B })]);
    const f = coverageFindings({
      timelines: tls,
      windows: ws,
      crossAccount: correlate([ownerCopy], new Set([A, B])).records,
    });
    expect(f.find((x) => x.rule === 'trail-logging-stopped')!.description).toContain(
      "1 whose caller's copy is missing",
    );
  });

  it('every rule, once, with finding:<rule> queries', () => {
    const events = [
      ...OWNER_TRAIL,
      ev('StopLogging', '2024-03-11T02:00:00Z', { name: 'org-trail' }),
      ev('StartLogging', '2024-03-11T05:00:00Z', { name: 'org-trail' }),
      ev('CreateTrail', '2024-03-02T10:00:00Z', { name: 'data', s3BucketName: 'b1' }),
      ev('PutEventSelectors', '2024-03-02T10:00:03Z', {
        trailName: 'data',
        eventSelectors: basic([], { includeManagementEvents: false }),
      }),
      ev('StartLogging', '2024-03-02T10:00:06Z', { name: 'data' }),
      ev('UpdateTrail', '2024-03-11T06:00:00Z', { name: 'data', s3BucketName: 'b2' }),
      ev('DeleteTrail', '2024-03-12T22:00:00Z', { name: 'data' }),
    ];
    const tls = trailTimelines(events);
    const ws = exclusionWindows(tls);
    const sil = [
      {
        account: A,
        region: 'us-east-1',
        start: T('2024-03-08T09:00:00Z'),
        end: T('2024-03-09T18:00:00Z'),
        startRow: 1,
        endRow: 2,
        silentBuckets: 32,
        activeBuckets: 8,
        otherEvents: 31,
        otherSources: ['sts.amazonaws.com'],
        kmsShare: 0.86,
        probability: 1.5e-7,
        bucketMs: H,
      },
    ];
    const f = coverageFindings({ timelines: tls, windows: ws, silences: sil });
    expect(f.map((x) => x.rule).sort()).toEqual([
      'kms-events-excluded',
      'kms-silence-gap',
      'management-events-disabled',
      'trail-deleted',
      'trail-logging-stopped',
      'trail-updated',
    ]);
    for (const x of f) {
      expect(x.query).toBe(`finding:${x.rule}`);
      expect(x.accounts).toEqual([A]);
      expect(Number.isFinite(x.first) && Number.isFinite(x.last)).toBe(true);
    }
    const s = f.find((x) => x.rule === 'kms-silence-gap')!;
    expect(s.rows).toEqual([1, 2]);
    expect(s.description).toContain('(1 − p)^active < 0.001');
    expect(s.description).toContain('org-trail kms-excluded');
    expect(s.description).not.toContain('data management-disabled');
    // high severities first
    expect(f[0].severity).toBe('high');
  });
});

describe('kmsSilence', () => {
  /** An account+Region with KMS and other events every hour for `hours`, except where `skip(h)` says. */
  function stream(
    hours: number,
    o: { kms?: (h: number) => boolean; other?: (h: number) => boolean; account?: string; region?: string } = {},
  ) {
    const out: { time: number; recipientAccountId: string; awsRegion: string; eventSource: string; row: number }[] = [];
    const t0 = T('2024-03-01T00:00:00Z');
    let row = 0;
    for (let h = 0; h < hours; h++) {
      const base = { recipientAccountId: o.account ?? A, awsRegion: o.region ?? 'us-east-1' };
      if (o.kms?.(h) ?? true)
        out.push({ ...base, time: t0 + h * H + 600_000, eventSource: 'kms.amazonaws.com', row: row++ });
      if (o.other?.(h) ?? true)
        out.push({ ...base, time: t0 + h * H + 1_200_000, eventSource: 'ec2.amazonaws.com', row: row++ });
    }
    return out;
  }

  it('finds a KMS-only silence while other sources keep logging, bounded by the KMS events around it', () => {
    const ev = stream(96, { kms: (h) => !(h >= 50 && h < 56) });
    const s = kmsSilence(ev);
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({
      account: A,
      region: 'us-east-1',
      start: T('2024-03-01T00:00:00Z') + 49 * H + 600_000,
      end: T('2024-03-01T00:00:00Z') + 56 * H + 600_000,
      silentBuckets: 6,
      activeBuckets: 6,
      otherEvents: 6,
      otherSources: ['ec2.amazonaws.com'],
    });
    expect(s[0].kmsShare).toBeCloseTo(90 / 96);
    expect(s[0].probability).toBeLessThan(0.001);
    expect(s[0].startRow).toBe(ev.find((e) => e.time === s[0].start)!.row);
  });

  it('nothing logged at all (logging stopped, log files missing) is not KMS silence', () => {
    expect(kmsSilence(stream(96, { kms: (h) => !(h >= 50 && h < 56), other: (h) => !(h >= 50 && h < 56) }))).toEqual(
      [],
    );
  });

  it('needs at least 3 active buckets, a rare enough run, and a baseline', () => {
    expect(kmsSilence(stream(96, { kms: (h) => !(h >= 50 && h < 52) }))).toEqual([]); // 2 hours
    // KMS in only every other active hour: 4 quiet hours happen by chance (0.5^4 > 0.001)
    expect(kmsSilence(stream(96, { kms: (h) => h % 2 === 0 && !(h >= 50 && h < 58) }))).toEqual([]);
    // but 12 quiet hours do not (0.5^12 < 0.001)
    expect(kmsSilence(stream(96, { kms: (h) => h % 2 === 0 && !(h >= 50 && h < 62) }))).toHaveLength(1);
    // fewer than 24 KMS hours: no baseline
    expect(kmsSilence(stream(30, { kms: (h) => h < 20 }))).toEqual([]);
    expect(kmsSilence(stream(30, { kms: (h) => h < 20 }), { minKmsBuckets: 10 })).toHaveLength(1);
  });

  it('a silence to the end of the logs is open-ended; one before the first KMS event is not reported; accounts and Regions apart', () => {
    const s = kmsSilence([
      ...stream(96, { kms: (h) => h >= 5 && h < 90 }),
      ...stream(96, { account: B, region: 'eu-west-1' }),
    ]);
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({ account: A, silentBuckets: 6 });
    expect(s[0].end).toBeUndefined();
    expect(s[0].endRow).toBeUndefined();
  });
});

describe('kmsSilence over the index', () => {
  const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
  /** Account A's two Regions silent for the same hours, with other events every hour: one chunk per Region. */
  function events(region: string) {
    const out: object[] = [];
    const t0 = T('2024-03-01T00:00:00Z');
    for (let h = 0; h < 96; h++) {
      const base = { recipientAccountId: A, awsRegion: region, eventName: 'X', eventVersion: '1.08' };
      if (!(h >= 50 && h < 56))
        out.push({
          ...base,
          eventTime: iso(t0 + h * H + 600_000),
          eventSource: 'kms.amazonaws.com',
          eventID: `k-${region}-${h}`,
        });
      out.push({
        ...base,
        eventTime: iso(t0 + h * H + 1_200_000),
        eventSource: 'ec2.amazonaws.com',
        eventID: `o-${region}-${h}`,
      });
    }
    return out;
  }

  it('reads the columns (activitySource) as it reads one object per row, and in the same order whatever the load order', () => {
    for (const chunks of [
      [events('us-east-1'), events('eu-west-1')],
      [events('eu-west-1'), events('us-east-1')],
    ]) {
      const { ix } = indexOf(chunks);
      const rows = Array.from({ length: ix.n }, (_, r) => ({
        time: ix.timeOf(r),
        recipientAccountId: ix.value('recipientAccountId', r),
        awsRegion: ix.value('awsRegion', r),
        eventSource: ix.value('eventSource', r),
        row: r,
      }));
      const got = kmsSilence(activitySource(ix));
      expect(got).toEqual(kmsSilence(rows));
      expect(got).toEqual(kmsSilence([...rows].reverse()));
      // two spans with the same start and account: Regions in name order
      expect(got.map((s) => [s.region, s.silentBuckets, ix.value('eventSource', s.startRow!)])).toEqual([
        ['eu-west-1', 6, 'kms.amazonaws.com'],
        ['us-east-1', 6, 'kms.amazonaws.com'],
      ]);
    }
  });
});

describe('finding events and severities (issue 11)', () => {
  const byRule = (f: ReturnType<typeof coverageFindings>, rule: string) => f.find((x) => x.rule === rule);

  it('trail-logging-stopped holds the StopLogging, not the StartLogging that ended it; management-events-disabled not the re-enabling PutEventSelectors', () => {
    const stop = ev('StopLogging', '2024-03-11T02:00:00Z', { name: 'main' });
    const start = ev('StartLogging', '2024-03-11T05:00:00Z', { name: 'main' });
    const off = ev('PutEventSelectors', '2024-03-12T02:00:00Z', {
      trailName: 'main',
      eventSelectors: basic([], { includeManagementEvents: false }),
    });
    const on = ev('PutEventSelectors', '2024-03-12T05:00:00Z', { trailName: 'main', eventSelectors: basic() });
    const tls = trailTimelines([stop, start, off, on]);
    const f = coverageFindings({ timelines: tls, windows: exclusionWindows(tls) });
    expect(byRule(f, 'trail-logging-stopped')).toMatchObject({
      rows: [stop.row],
      count: 1,
      first: stop.time,
      last: stop.time,
    });
    expect(byRule(f, 'management-events-disabled')).toMatchObject({ rows: [off.row], count: 1 });
    // the description still tells when the span ended
    expect(byRule(f, 'trail-logging-stopped')!.description).toContain('until 2024-03-11T05:00:00Z (StartLogging');
  });

  it('a lone CreateTrail (no StartLogging in the data) is "not known to be logging", low, not "logging stopped"', () => {
    const create = ev('CreateTrail', '2024-03-02T10:14:03Z', { name: 'new', s3BucketName: 'b' });
    const tls = trailTimelines([create]);
    const f = coverageFindings({ timelines: tls, windows: exclusionWindows(tls) });
    expect(f.map((x) => [x.rule, x.severity, x.rows])).toEqual([['trail-not-known-logging', 'low', [create.row]]]);
    // started two hours later: a known span without logging
    const late = trailTimelines([create, ev('StartLogging', '2024-03-02T12:14:03Z', { name: 'new' })]);
    expect(
      coverageFindings({ timelines: late, windows: exclusionWindows(late) }).map((x) => [x.rule, x.severity, x.rows]),
    ).toEqual([['trail-logging-stopped', 'high', [create.row]]]);
  });

  it('turning off all management events rates at least as high as excluding KMS alone', () => {
    const rank = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };
    const tls = trailTimelines([
      ev('PutEventSelectors', '2024-03-01T00:00:00Z', { trailName: 'a', eventSelectors: basic(['kms.amazonaws.com']) }),
      ev('PutEventSelectors', '2024-03-01T00:00:00Z', {
        trailName: 'b',
        eventSelectors: basic([], { includeManagementEvents: false }),
      }),
    ]);
    const f = coverageFindings({ timelines: tls, windows: exclusionWindows(tls) });
    expect(rank[byRule(f, 'management-events-disabled')!.severity]).toBeLessThanOrEqual(
      rank[byRule(f, 'kms-events-excluded')!.severity],
    );
  });

  it('network-activity records (eventType AwsVpceEvent, eventCategory NetworkActivity) never change a trail', () => {
    const tls = trailTimelines([
      ev(
        'StopLogging',
        '2024-03-11T02:00:00Z',
        { name: 'main' },
        { eventType: 'AwsVpceEvent', eventCategory: 'NetworkActivity' },
      ),
      ev(
        'PutEventSelectors',
        '2024-03-11T03:00:00Z',
        { trailName: 'main', eventSelectors: basic(['kms.amazonaws.com']) },
        { eventCategory: 'NetworkActivity' },
      ),
    ]);
    expect(tls).toEqual([]);
  });

  it('same-second trail changes: the outcome does not depend on file order', () => {
    const a = ev('StopLogging', '2024-03-11T02:00:00Z', { name: 'main' }, { eventID: 'aaaa' });
    const b = ev('StartLogging', '2024-03-11T02:00:00Z', { name: 'main' }, { eventID: 'bbbb' });
    const one = exclusionWindows(trailTimelines([a, b]));
    const two = exclusionWindows(trailTimelines([b, a]));
    expect(two).toEqual(one);
    expect(trailTimelines([b, a])[0].changes.map((c) => c.eventName)).toEqual(['StopLogging', 'StartLogging']);
  });

  it('LeaveOrganization / RemoveAccountFromOrganization open an organization-left window for the account', () => {
    const leave = ev('LeaveOrganization', '2024-03-05T08:00:00Z', null, { recipientAccountId: B });
    const remove = ev('RemoveAccountFromOrganization', '2024-03-06T08:00:00Z', { accountId: '777788889999' });
    const failed = ev('LeaveOrganization', '2024-03-04T08:00:00Z', null, {
      recipientAccountId: '555566667777',
      errorCode: 'ConstraintViolationException',
    });
    const tls = trailTimelines([failed, leave, remove]);
    const ws = exclusionWindows(tls);
    expect(ws.map((w) => [w.kind, w.account, w.trail, w.start, w.end])).toEqual([
      ['organization-left', B, '(organization trail)', leave.time, undefined],
      ['organization-left', '777788889999', '(organization trail)', remove.time, undefined],
    ]);
    const f = coverageFindings({ timelines: tls, windows: ws });
    expect(f.map((x) => [x.rule, x.severity, x.rows])).toEqual([
      ['organization-left', 'high', [leave.row, remove.row]],
    ]);
    // calls of that account after it left are unrecorded by the organization trail
    expect(accountExclusionAt(B, T('2024-03-05T09:00:00Z'), tls, ws)).toHaveLength(1);
    expect(accountExclusionAt(B, T('2024-03-05T07:00:00Z'), tls, ws)).toBeNull();
  });
});

describe('coverage rules', () => {
  it('every rule states its AWS source', () => {
    for (const [id, r] of Object.entries(COVERAGE_RULES)) expect(r.source, id).toMatch(/AWS .*(Guide|Reference)/);
  });
});
