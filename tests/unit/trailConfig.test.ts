import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectorCoverage } from '../../src/lib/analysis/coverage';
import {
  isTrailConfigDocument,
  normalizeAdvancedSelectors,
  normalizeBasicSelectors,
  parseConfigTime,
  parseTrailArn,
  trailConfigSnapshots,
} from '../../src/lib/analysis/trailConfig';

/** Real outputs in the shared public corpus (read in place, never copied into the repository). */
const PUBLIC = join(__dirname, '../../../shared/datasets/public');
const PLACEBO = join(PUBLIC, 'cloud-custodian-tests/placebo-cloudtrail-api-responses');
const DOCS = join(PUBLIC, 'awsdocs-aws-cloudtrail-user-guide');
const read = (dir: string, f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8'));

describe('isTrailConfigDocument', () => {
  it('recognises each command output', () => {
    expect(isTrailConfigDocument({ trailList: [] })).toBe(true);
    expect(
      isTrailConfigDocument({
        trailList: [{ Name: 't', TrailARN: 'arn:aws:cloudtrail:us-east-1:111122223333:trail/t' }],
      }),
    ).toBe(true);
    expect(isTrailConfigDocument({ Trail: { Name: 't', S3BucketName: 'b' } })).toBe(true);
    expect(
      isTrailConfigDocument({ TrailARN: 'arn:aws:cloudtrail:us-east-1:111122223333:trail/t', EventSelectors: [] }),
    ).toBe(true);
    expect(
      isTrailConfigDocument({
        TrailARN: 'arn:aws:cloudtrail:us-east-1:111122223333:trail/t',
        AdvancedEventSelectors: [],
      }),
    ).toBe(true);
    expect(isTrailConfigDocument({ IsLogging: true, TimeLoggingStopped: '' })).toBe(true);
    expect(
      isTrailConfigDocument({
        Name: 't',
        TrailARN: 'arn:aws:cloudtrail:us-east-1:111122223333:trail/t',
        S3BucketName: 'b',
      }),
    ).toBe(true);
    expect(isTrailConfigDocument({ status_code: 200, data: { IsLogging: false } })).toBe(true);
    expect(isTrailConfigDocument([{ trailList: [] }, { IsLogging: true }])).toBe(true);
  });

  it('rejects events, delivery files, digests and other JSON', () => {
    expect(isTrailConfigDocument(null)).toBe(false);
    expect(isTrailConfigDocument('x')).toBe(false);
    expect(isTrailConfigDocument([])).toBe(false);
    expect(isTrailConfigDocument({ Records: [] })).toBe(false);
    expect(
      isTrailConfigDocument({
        eventSource: 'cloudtrail.amazonaws.com',
        eventName: 'PutEventSelectors',
        requestParameters: { trailName: 't', eventSelectors: [] },
      }),
    ).toBe(false);
    expect(isTrailConfigDocument({ digestEndTime: '2024-03-01T00:00:00Z', logFiles: [], IsLogging: true })).toBe(false);
    expect(isTrailConfigDocument({ TrailARN: 'arn:aws:cloudtrail:us-east-1:111122223333:trail/t' })).toBe(false);
    expect(isTrailConfigDocument([{ trailList: [] }, { Records: [] }])).toBe(false);
  });
});

describe('trailConfigSnapshots', () => {
  it('reads describe-trails (one snapshot per trail) with capturedAt and path', () => {
    const doc = {
      trailList: [
        {
          Name: 'my-trail',
          S3BucketName: 'my-bucket',
          S3KeyPrefix: 'p',
          IncludeGlobalServiceEvents: true,
          IsMultiRegionTrail: true,
          HomeRegion: 'us-east-2',
          TrailARN: 'arn:aws:cloudtrail:us-east-2:123456789012:trail/my-trail',
          LogFileValidationEnabled: false,
          HasCustomEventSelectors: false,
          IsOrganizationTrail: false,
          KmsKeyId: 'arn:aws:kms:us-east-2:123456789012:key/k',
        },
        {
          Name: 'other',
          S3BucketName: 'b2',
          HomeRegion: 'eu-west-1',
          TrailARN: 'arn:aws:cloudtrail:eu-west-1:123456789012:trail/other',
        },
      ],
    };
    const s = trailConfigSnapshots(doc, 1_700_000_000_000, 'exports/describe-trails.json');
    expect(s).toHaveLength(2);
    expect(s[0]).toEqual({
      source: 'describe-trails',
      capturedAt: 1_700_000_000_000,
      path: 'exports/describe-trails.json',
      trailName: 'my-trail',
      trailArn: 'arn:aws:cloudtrail:us-east-2:123456789012:trail/my-trail',
      account: '123456789012',
      homeRegion: 'us-east-2',
      s3BucketName: 'my-bucket',
      s3KeyPrefix: 'p',
      kmsKeyId: 'arn:aws:kms:us-east-2:123456789012:key/k',
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      logFileValidationEnabled: false,
      isOrganizationTrail: false,
      hasCustomEventSelectors: false,
    });
    expect(s[1]).toMatchObject({ trailName: 'other', homeRegion: 'eu-west-1', account: '123456789012' });
  });

  it('reads get-event-selectors, basic and advanced, in either casing', () => {
    const [b] = trailConfigSnapshots({
      TrailARN: 'arn:aws:cloudtrail:us-east-1:111122223333:trail/t',
      EventSelectors: [
        {
          ReadWriteType: 'WriteOnly',
          IncludeManagementEvents: true,
          DataResources: [{ Type: 'AWS::S3::Object', Values: ['arn:aws:s3:::b/'] }],
          ExcludeManagementEventSources: ['kms.amazonaws.com'],
        },
      ],
    });
    expect(b.source).toBe('get-event-selectors');
    expect(b.trailName).toBe('t');
    expect(b.eventSelectors).toEqual([
      {
        readWriteType: 'WriteOnly',
        includeManagementEvents: true,
        excludeManagementEventSources: ['kms.amazonaws.com'],
        dataResources: [{ type: 'AWS::S3::Object', values: ['arn:aws:s3:::b/'] }],
      },
    ]);
    // event-record casing, defaults
    expect(normalizeBasicSelectors([{ readWriteType: 'All', includeManagementEvents: false }, {}])).toEqual([
      { readWriteType: 'All', includeManagementEvents: false, excludeManagementEventSources: [], dataResources: [] },
      { readWriteType: 'All', includeManagementEvents: true, excludeManagementEventSources: [], dataResources: [] },
    ]);
    const adv = normalizeAdvancedSelectors([
      {
        Name: 'n',
        FieldSelectors: [{ Field: 'eventSource', Equals: [], NotEquals: ['kms.amazonaws.com'], NotStartsWith: [] }],
      },
      { fieldSelectors: [{ field: 'eventCategory', equals: ['Management'] }] },
    ]);
    expect(adv).toEqual([
      { name: 'n', fieldSelectors: [{ field: 'eventSource', notEquals: ['kms.amazonaws.com'] }] },
      { name: undefined, fieldSelectors: [{ field: 'eventCategory', equals: ['Management'] }] },
    ]);
  });

  it('reads get-trail-status times (epoch seconds, ISO text) and bounds the capture time; the trail is unnamed', () => {
    const [s] = trailConfigSnapshots({
      LatestDeliveryTime: 1441139757.497,
      IsLogging: false,
      TimeLoggingStarted: '2015-09-01T00:54:02Z',
      StartLoggingTime: 1441068842.76,
      StopLoggingTime: 1441140000.5,
      TimeLoggingStopped: '',
    });
    expect(s.source).toBe('get-trail-status');
    expect(s.trailName).toBe('');
    expect(s.isLogging).toBe(false);
    expect(s.startLoggingTime).toBe(Date.parse('2015-09-01T00:54:02Z'));
    expect(s.stopLoggingTime).toBe(1441140000500);
    expect(s.latestDeliveryTime).toBe(1441139757497);
    expect(s.capturedAt).toBeUndefined();
    expect(s.capturedAfter).toBe(1441140000500);
  });

  it('unwraps placebo recordings: HTTP date is the capture time, datetime objects parse', () => {
    expect(
      parseConfigTime({
        __class__: 'datetime',
        year: 2019,
        month: 1,
        day: 22,
        hour: 21,
        minute: 6,
        second: 56,
        microsecond: 616000,
      }),
    ).toBe(Date.UTC(2019, 0, 22, 21, 6, 56, 616));
    expect(parseConfigTime('')).toBeUndefined();
    expect(parseConfigTime('1446834996.933')).toBe(1446834996933);
    const [s] = trailConfigSnapshots({
      status_code: 200,
      data: { IsLogging: true, ResponseMetadata: { HTTPHeaders: { date: 'Sun, 07 Aug 2016 23:11:28 GMT' } } },
    });
    expect(s.capturedAt).toBe(Date.parse('2016-08-07T23:11:28Z'));
    expect(trailConfigSnapshots({ Records: [] })).toEqual([]);
  });

  it('parses trail ARNs', () => {
    expect(parseTrailArn('arn:aws:cloudtrail:us-east-2:123456789012:trail/My-First-Trail')).toEqual({
      region: 'us-east-2',
      account: '123456789012',
      name: 'My-First-Trail',
    });
    expect(parseTrailArn('arn:aws-us-gov:cloudtrail:us-gov-west-1:123456789012:trail/t')).toEqual({
      region: 'us-gov-west-1',
      account: '123456789012',
      name: 't',
    });
    expect(parseTrailArn('org-trail')).toBeNull();
  });
});

describe.skipIf(!existsSync(PLACEBO))('cloud-custodian placebo CloudTrail API responses', () => {
  const files = existsSync(PLACEBO)
    ? readdirSync(PLACEBO).filter((f) =>
        /\.(DescribeTrails|GetEventSelectors|GetTrailStatus|PutEventSelectors)_\d+\.json$/.test(f),
      )
    : [];

  it('recognises every DescribeTrails, GetEventSelectors, GetTrailStatus (and PutEventSelectors response) recording', () => {
    expect(files.length).toBeGreaterThan(60);
    for (const f of files) {
      const doc = read(PLACEBO, f);
      expect(isTrailConfigDocument(doc), f).toBe(true);
      const snaps = trailConfigSnapshots(doc, undefined, f);
      if (f.includes('DescribeTrails')) expect(snaps.length, f).toBe(doc.data.trailList.length);
      else expect(snaps, f).toHaveLength(1);
      for (const s of snaps) {
        if (!f.includes('GetTrailStatus')) expect(s.trailName, f).not.toBe('');
        if (s.capturedAt !== undefined) expect(Number.isFinite(s.capturedAt)).toBe(true);
      }
    }
  });

  it('tells which trails exclude KMS or record no management events', () => {
    const cov = (f: string) => {
      const [s] = trailConfigSnapshots(read(PLACEBO, f));
      return selectorCoverage(s.eventSelectors, s.advancedEventSelectors);
    };
    // advanced: Management, eventSource NotEquals kms + rdsdata, readOnly false → no KMS event at all
    expect(
      cov('test_cloudtrail_fail_management_advanced_events_included__cloudtrail.GetEventSelectors_1.json'),
    ).toEqual({ management: 'partial', kmsRead: 'none', kmsWrite: 'none' });
    // advanced: Management, eventSource NotEquals rdsdata → every KMS event
    expect(
      cov('test_cloudtrail_success_management_advanced_events_included__cloudtrail.GetEventSelectors_1.json'),
    ).toMatchObject({ kmsRead: 'all', kmsWrite: 'all' });
    // basic ReadOnly: KMS writes (PutKeyPolicy, ScheduleKeyDeletion) are not recorded
    expect(cov('test_cloudtrail_fail_include_management_events__cloudtrail.GetEventSelectors_1.json')).toEqual({
      management: 'partial',
      kmsRead: 'all',
      kmsWrite: 'none',
    });
    // a data-events trail
    expect(cov('test_s3_data_events__cloudtrail.GetEventSelectors_2.json').management).toBe('none');
  });

  it('get-trail-status: IsLogging and the last StopLogging time (ISO members preferred over zone-less datetimes)', () => {
    const [s] = trailConfigSnapshots(read(PLACEBO, 'test_cloudtrail_set_logging__cloudtrail.GetTrailStatus_2.json'));
    expect(s.isLogging).toBe(false);
    expect(s.stopLoggingTime).toBe(Date.parse('2019-01-23T02:06:56Z'));
    expect(s.startLoggingTime).toBe(Date.parse('2019-01-23T00:53:57Z'));
    expect(s.capturedAt).toBe(Date.parse('2019-01-23T02:06:58Z'));
  });
});

describe.skipIf(!existsSync(DOCS))('AWS CloudTrail User Guide examples', () => {
  const files = existsSync(DOCS) ? readdirSync(DOCS).filter((f) => f.includes('eventselectors')) : [];

  it('recognises every trail event selector example (not the CloudTrail Lake event data stores) and evaluates it', () => {
    expect(files.length).toBeGreaterThan(15);
    let trails = 0;
    for (const f of files) {
      const doc = read(DOCS, f);
      expect(isTrailConfigDocument(doc), f).toBe(!('EventDataStoreArn' in doc));
      if ('EventDataStoreArn' in doc) continue;
      trails++;
      const [s] = trailConfigSnapshots(doc);
      expect(s.source, f).toBe('get-event-selectors');
      expect(s.eventSelectors ?? s.advancedEventSelectors, f).toBeDefined();
    }
    expect(trails).toBeGreaterThan(15);
  });

  it('known answers', () => {
    const cov = (f: string) => {
      const [s] = trailConfigSnapshots(read(DOCS, f));
      return selectorCoverage(s.eventSelectors, s.advancedEventSelectors);
    };
    // basic: ExcludeManagementEventSources [kms.amazonaws.com]
    expect(cov('cloudtrail-additional-cli-commands__10__eventselectors.json')).toEqual({
      management: 'all',
      kmsRead: 'none',
      kmsWrite: 'none',
    });
    // basic: WriteOnly
    expect(cov('cloudtrail-additional-cli-commands__11__eventselectors.json')).toEqual({
      management: 'partial',
      kmsRead: 'none',
      kmsWrite: 'all',
    });
    // basic: rdsdata excluded, KMS kept
    expect(cov('cloudtrail-additional-cli-commands__12__eventselectors.json')).toEqual({
      management: 'all',
      kmsRead: 'all',
      kmsWrite: 'all',
    });
    // advanced: "Log all management events except KMS events" (empty operator lists are unset)
    expect(cov('cloudtrail-additional-cli-commands__17__eventselectors.json')).toEqual({
      management: 'partial',
      kmsRead: 'none',
      kmsWrite: 'none',
    });
    // advanced: management + data
    expect(cov('cloudtrail-additional-cli-commands__15__eventselectors.json')).toEqual({
      management: 'all',
      kmsRead: 'all',
      kmsWrite: 'all',
    });
    // advanced: Outposts data events only
    expect(cov('cloudtrail-additional-cli-commands__16__eventselectors.json').management).toBe('none');
    // placeholder ARN still names the trail
    expect(
      trailConfigSnapshots(read(DOCS, 'logging-data-events-with-cloudtrail__05__eventselectors.json'))[0].trailName,
    ).toBe('TrailName');
  });

  it('describe-trails, get-trail and get-trail-status examples', () => {
    const d = trailConfigSnapshots(read(DOCS, 'cloudtrail-additional-cli-commands__02.repaired.json'));
    expect(d.map((s) => s.trailName)).toEqual(['my-trail', 'my-special-trail', 'my-org-trail']);
    expect(d[2]).toMatchObject({ isOrganizationTrail: true, homeRegion: 'us-east-1' });
    expect(trailConfigSnapshots(read(DOCS, 'cloudtrail-additional-cli-commands__03.repaired.json'))[0]).toMatchObject({
      source: 'get-trail',
      trailName: 'my-trail',
      s3BucketName: 'my-bucket',
    });
    expect(trailConfigSnapshots(read(DOCS, 'cloudtrail-additional-cli-commands__04.json'))[0]).toMatchObject({
      source: 'get-trail-status',
      isLogging: true,
      startLoggingTime: Date.parse('2015-09-01T00:54:02Z'),
    });
  });
});
