import { describe, expect, it } from 'vitest';
import { parseCompactUtc, parseS3Path } from '../../src/lib/cloudtrail/s3path';

const LOG_NAME = '111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz';
const LOG = `AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/${LOG_NAME}`;
const LOG_INFO = {
  account: '111122223333',
  region: 'us-east-2',
  fileType: 'log',
  deliveryTime: Date.UTC(2015, 7, 1, 2, 10),
};

const DIGEST_NAME = '111122223333_CloudTrail-Digest_us-east-2_awscloudtrail-example_us-east-2_20150801T210000Z.json.gz';
const DIGEST = `AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/01/${DIGEST_NAME}`;
const DIGEST_INFO = {
  account: '111122223333',
  region: 'us-east-2',
  fileType: 'digest',
  trail: 'awscloudtrail-example',
  homeRegion: 'us-east-2',
  deliveryTime: Date.UTC(2015, 7, 1, 21, 0, 0),
};

/** parseS3Path without keys whose value is undefined, so `toEqual` also checks which keys are absent. */
function parsed(p: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(parseS3Path(p)).filter(([, v]) => v !== undefined));
}

describe('parseS3Path: log files', () => {
  it('a log file key without an organisation', () => {
    expect(parsed(LOG)).toEqual(LOG_INFO);
  });

  it('a log file key under a bucket prefix, as an s3:// URL, and with .json only', () => {
    expect(parsed(`my-prefix/logs/${LOG}`)).toEqual(LOG_INFO);
    expect(parsed(`s3://trail-bucket/${LOG}`)).toEqual(LOG_INFO);
    expect(parsed(LOG.replace(/\.gz$/, ''))).toEqual(LOG_INFO);
  });

  it('an organisation trail log file', () => {
    expect(parsed(`AWSLogs/o-exampleorgid/111122223333/CloudTrail/us-east-2/2015/08/01/${LOG_NAME}`)).toEqual({
      ...LOG_INFO,
      orgId: 'o-exampleorgid',
    });
    expect(parsed(`prefix/AWSLogs/o-aa111bb222cc/111122223333/CloudTrail/us-east-2/2015/08/01/${LOG_NAME}`)).toEqual({
      ...LOG_INFO,
      orgId: 'o-aa111bb222cc',
    });
  });

  it('a Windows path to a downloaded key', () => {
    expect(parsed(`C:\\Users\\me\\Downloads\\${LOG.replace(/\//g, '\\')}`)).toEqual(LOG_INFO);
  });

  it('GovCloud and China regions', () => {
    const gov = '123456789012_CloudTrail_us-gov-west-1_20240229T2355Z_a1B2c3.json.gz';
    expect(parsed(`AWSLogs/123456789012/CloudTrail/us-gov-west-1/2024/02/29/${gov}`)).toEqual({
      account: '123456789012',
      region: 'us-gov-west-1',
      fileType: 'log',
      deliveryTime: Date.UTC(2024, 1, 29, 23, 55),
    });
    expect(parsed('123456789012_CloudTrail_cn-north-1_20240101T0000Z_x.json.gz').region).toBe('cn-north-1');
  });

  it('a bare log file name', () => {
    expect(parsed(LOG_NAME)).toEqual(LOG_INFO);
    expect(parsed(`downloads/${LOG_NAME}`)).toEqual(LOG_INFO);
  });
});

describe('parseS3Path: digest files', () => {
  it('a digest key', () => {
    expect(parsed(DIGEST)).toEqual(DIGEST_INFO);
  });

  it('an organisation trail digest key', () => {
    expect(parsed(DIGEST.replace('AWSLogs/', 'AWSLogs/o-exampleorgid/'))).toEqual({
      ...DIGEST_INFO,
      orgId: 'o-exampleorgid',
    });
  });

  it('trail names with underscores, dots and region-like parts', () => {
    const name = (trail: string, home: string) =>
      `111122223333_CloudTrail-Digest_eu-west-1_${trail}_${home}_20240501T010203Z.json.gz`;
    const t = Date.UTC(2024, 4, 1, 1, 2, 3);
    expect(
      parsed(`AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2024/05/01/${name('my_org_trail', 'us-east-1')}`),
    ).toEqual({
      account: '111122223333',
      region: 'eu-west-1',
      fileType: 'digest',
      trail: 'my_org_trail',
      homeRegion: 'us-east-1',
      deliveryTime: t,
    });
    expect(parsed(name('audit_us-west-2_copy', 'eu-central-1'))).toMatchObject({
      trail: 'audit_us-west-2_copy',
      homeRegion: 'eu-central-1',
    });
    expect(parsed(name('audit_us-west-2', 'ap-southeast-2'))).toMatchObject({
      trail: 'audit_us-west-2',
      homeRegion: 'ap-southeast-2',
    });
    expect(parsed(name('trail.v2-prod', 'us-gov-east-1'))).toMatchObject({
      trail: 'trail.v2-prod',
      homeRegion: 'us-gov-east-1',
    });
  });

  it('a bare digest file name', () => {
    expect(parsed(DIGEST_NAME)).toEqual(DIGEST_INFO);
  });
});

describe('parseS3Path: archive members', () => {
  it('a member of an archive is read from the member path', () => {
    expect(parsed(`x.zip!${LOG}`)).toEqual(LOG_INFO);
    expect(parsed(`exports/2015.tar.gz!bucket/${DIGEST}`)).toEqual(DIGEST_INFO);
    expect(
      parsed(`outer.zip!inner.zip!AWSLogs/o-exampleorgid/111122223333/CloudTrail/us-east-2/2015/08/01/${LOG_NAME}`),
    ).toEqual({ ...LOG_INFO, orgId: 'o-exampleorgid' });
    expect(parsed(`x.zip!${LOG_NAME}`)).toEqual(LOG_INFO);
  });

  it('the archive name itself does not count for a member with an unrelated name', () => {
    expect(parsed(`${LOG_NAME}.zip!notes.txt`)).toEqual({});
  });
});

describe('parseS3Path: unrelated paths', () => {
  it.each([
    '',
    'events.json',
    'cloudtrail.json.gz',
    'AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/notes.txt',
    'AWSLogs/111122223333/Config/us-east-1/2024/05/01/ConfigSnapshot.json.gz',
    'AWSLogs/1111222233/CloudTrail/us-east-1/2024/05/01/1111222233_CloudTrail_us-east-1_20240501T0000Z_x.json.gz',
    '111122223333_CloudTrail_us-east-1_20240501T0000Z_x.csv',
    '111122223333_CloudTrail_us-east-1_2024-05-01_x.json.gz',
    '111122223333_CloudTrail-Digest_us-east-1_trail_20240501T000000Z.json.gz',
    'x.zip!',
    '!!!',
  ])('%j → {}', (p) => {
    expect(parseS3Path(p)).toEqual({});
  });
});

describe('parseCompactUtc', () => {
  it('parses minute and second precision', () => {
    expect(parseCompactUtc('20150801T0210Z')).toBe(Date.UTC(2015, 7, 1, 2, 10));
    expect(parseCompactUtc('20150801T021059Z')).toBe(Date.UTC(2015, 7, 1, 2, 10, 59));
    expect(parseCompactUtc('20240229T2359Z')).toBe(Date.UTC(2024, 1, 29, 23, 59));
  });

  it('is NaN when malformed', () => {
    for (const s of ['', '2015-08-01T02:10Z', '20150801T0210', '20150801T02105Z', 'abcdefghTijklZ'])
      expect(parseCompactUtc(s)).toBeNaN();
  });

  it('is NaN for impossible dates and times rather than rolling over', () => {
    for (const s of [
      '20151301T0000Z',
      '20150230T0000Z',
      '20230229T0000Z',
      '20150800T0000Z',
      '20150801T2400Z',
      '20150801T0060Z',
      '20150801T000060Z',
      '00990101T0000Z',
    ]) {
      expect(parseCompactUtc(s), s).toBeNaN();
    }
  });
});
