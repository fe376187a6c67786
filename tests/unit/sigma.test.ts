/**
 * Sigma rules for AWS CloudTrail: parsed from YAML, translated to KeyTrail's query AST, and run by the real query
 * engine over a small index stored the way the writer stores events (columns + generic field stores, two
 * chunks); the matched events are asserted per rule. Unsupported features must be refused with a reason.
 */
import { describe, expect, it } from 'vitest';
import {
  compileSigma,
  parseSigma,
  queryText,
  sigmaAggregate,
  sigmaFinding,
  sigmaMatches,
  sigmaPlaceholders,
  sigmaRows,
  sigmaRuleId,
  sigmaSeverity,
  type SigmaRule,
} from '../../src/lib/analysis/sigma';
import type { CloudTrailEvent } from '../../src/lib/cloudtrail/event';
import { stringHash } from '../../src/lib/codec/hash';
import { ColumnarIndex } from '../../src/lib/query/columnar';
import { Engine } from '../../src/lib/query/engine';
import { FieldIndex } from '../../src/lib/query/fieldIndex';
import { parseQuery, type QueryNode } from '../../src/lib/query/parser';
import { buildFieldStore } from '../../src/lib/codec/fields';
import { buildColumns, type Segment } from '../../src/lib/codec/segment';

// ---------------------------------------------------------------------------------------------------------------
// Events

const ACCT = '111122223333';
const role = (name: string) => ({
  type: 'AssumedRole',
  principalId: `AROAEXAMPLE:${name}`,
  arn: `arn:aws:sts::${ACCT}:assumed-role/${name}/session`,
  accountId: ACCT,
  accessKeyId: 'ASIAEXAMPLE',
  sessionContext: {
    sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${ACCT}:role/${name}`, accountId: ACCT, userName: name },
  },
});
const root = (invokedBy?: string) => ({
  type: 'Root',
  principalId: ACCT,
  arn: `arn:aws:iam::${ACCT}:root`,
  accountId: ACCT,
  ...(invokedBy ? { invokedBy } : {}),
});
const KEY_ARN = `arn:aws:kms:us-east-1:${ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

let n = 0;
function ev(
  id: string,
  e: Partial<CloudTrailEvent> & Pick<CloudTrailEvent, 'eventSource' | 'eventName'>,
): CloudTrailEvent {
  n++;
  return {
    eventVersion: '1.10',
    eventTime: `2024-05-01T10:${String(n).padStart(2, '0')}:00Z`,
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.7',
    userAgent: 'aws-cli/2.15.0 Python/3.11.6',
    eventID: id,
    eventType: 'AwsApiCall',
    recipientAccountId: ACCT,
    readOnly: false,
    userIdentity: role('Admin'),
    requestParameters: null,
    responseElements: null,
    ...e,
  };
}

const EVENTS: CloudTrailEvent[] = [
  ev('schedule', {
    eventSource: 'kms.amazonaws.com',
    eventName: 'ScheduleKeyDeletion',
    requestParameters: { keyId: KEY_ARN, pendingWindowInDays: 7 },
  }),
  ev('disable', { eventSource: 'kms.amazonaws.com', eventName: 'DisableKey', requestParameters: { keyId: KEY_ARN } }),
  ev('decrypt', {
    eventSource: 'kms.amazonaws.com',
    eventName: 'Decrypt',
    readOnly: true,
    requestParameters: { keyId: KEY_ARN, encryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
  }),
  ev('stop', {
    eventSource: 'cloudtrail.amazonaws.com',
    eventName: 'StopLogging',
    userIdentity: root(),
    requestParameters: { name: 'management-events' },
  }),
  ev('update', {
    eventSource: 'cloudtrail.amazonaws.com',
    eventName: 'UpdateTrail',
    requestParameters: { name: 'management-events', s3BucketName: 'elsewhere' },
  }),
  ev('delete-trail', {
    eventSource: 'cloudtrail.amazonaws.com',
    eventName: 'DeleteTrail',
    requestParameters: { name: 'org-trail' },
  }),
  ev('describe-trails', { eventSource: 'cloudtrail.amazonaws.com', eventName: 'DescribeTrails', readOnly: true }),
  ev('root-login', {
    eventSource: 'signin.amazonaws.com',
    eventName: 'ConsoleLogin',
    userIdentity: root(),
    responseElements: { ConsoleLogin: 'Success' },
    additionalEventData: { MFAUsed: 'No' },
  }),
  ev('root-by-service', {
    eventSource: 's3.amazonaws.com',
    eventName: 'GetBucketAcl',
    userIdentity: root('support.amazonaws.com'),
    readOnly: true,
  }),
  ev('root-service-event', {
    eventSource: 'health.amazonaws.com',
    eventName: 'HealthEvent',
    eventType: 'AwsServiceEvent',
    userIdentity: root(),
  }),
  ev('policy-public', {
    eventSource: 'kms.amazonaws.com',
    eventName: 'PutKeyPolicy',
    requestParameters: {
      keyId: KEY_ARN,
      policyName: 'default',
      policy: '{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*"}]}',
    },
  }),
  ev('policy-account', {
    eventSource: 'kms.amazonaws.com',
    eventName: 'PutKeyPolicy',
    requestParameters: {
      keyId: KEY_ARN,
      policyName: 'default',
      policy: `{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::${ACCT}:root"}, "Action": "kms:*"}]}`,
    },
  }),
  ev('secret', {
    eventSource: 'secretsmanager.amazonaws.com',
    eventName: 'GetSecretValue',
    readOnly: true,
    requestParameters: { secretId: 'prod/db' },
  }),
  ev('access-key', {
    eventSource: 'iam.amazonaws.com',
    eventName: 'CreateAccessKey',
    requestParameters: { userName: 'mallory' },
  }),
  ev('denied', {
    eventSource: 'kms.amazonaws.com',
    eventName: 'Decrypt',
    errorCode: 'AccessDenied',
    errorMessage: 'User is not authorized',
    userAgent: 'aws-cli/2.1.0',
    sourceIPAddress: '203.0.113.9',
  }),
  ev('old-cli', {
    eventSource: 'sts.amazonaws.com',
    eventName: 'GetCallerIdentity',
    userAgent: 'AWS-CLI/2.17.1',
    sourceIPAddress: '203.0.113.10',
  }),
  ev('star-agent', { eventSource: 'sts.amazonaws.com', eventName: 'GetCallerIdentity', userAgent: 'scanner*bot' }),
];

function segmentOf(id: number, events: CloudTrailEvent[]): Segment {
  const built = buildColumns(events);
  const eid = new Uint32Array(events.length * 2);
  events.forEach((e, i) => stringHash(e.eventID!, eid, i * 2));
  return { id, fileId: 100 + id, n: events.length, time: built.time, eid, cols: built.cols };
}

const ix = new ColumnarIndex();
const fx = new FieldIndex();
const chunks: [number, CloudTrailEvent[]][] = [
  [2, EVENTS.slice(9)],
  [1, EVENTS.slice(0, 9)],
];
for (const [id, evs] of chunks) ix.addSegment(segmentOf(id, evs));
for (const [id, evs] of chunks) fx.add({ id, ...buildFieldStore(evs) }, ix.segBase.get(id)!);
const engine = new Engine(ix, fx);
const rowEvent: CloudTrailEvent[] = [];
for (const [id, evs] of chunks) evs.forEach((e, i) => (rowEvent[ix.segBase.get(id)! + i] = e));

const ids = (rows: ArrayLike<number>) => Array.from(rows, (r) => rowEvent[r].eventID!).sort();
const run = (q: QueryNode) => ids(sigmaRows(engine, ix, q));

function one(yaml: string): SigmaRule {
  const r = parseSigma(yaml, 'test.yml');
  expect(r.errors).toEqual([]);
  expect(r.rules).toHaveLength(1);
  return r.rules[0];
}
function compiled(rule: SigmaRule): QueryNode {
  const c = compileSigma(rule);
  if (!c.ok) throw new Error(`unexpectedly unsupported: ${c.reason}`);
  return c.query;
}
/** The events a rule's detection (under the standard aws/cloudtrail header) matches. */
function matches(detection: string): string[] {
  return run(
    compiled(
      one(
        `title: t\nlogsource:\n  product: aws\n  service: cloudtrail\ndetection:\n${detection.replace(/^/gm, '  ')}\n`,
      ),
    ),
  );
}
function reason(detection: string, header = 'logsource:\n  product: aws\n  service: cloudtrail\n'): string {
  const c = compileSigma(one(`title: t\n${header}detection:\n${detection.replace(/^/gm, '  ')}\n`));
  if (c.ok) throw new Error('unexpectedly supported');
  return c.reason;
}

// ---------------------------------------------------------------------------------------------------------------
// Real-world-style rules

const RULES = `
title: AWS KMS Key Scheduled For Deletion
id: 7a3c1e52-2f3b-4d38-9d1e-5b8f0c7e4a11
status: experimental
description: Detects the scheduling of a KMS key's deletion. After the waiting period the key and all data encrypted under it are lost.
references:
  - https://docs.aws.amazon.com/kms/latest/developerguide/deleting-keys.html
author: KeyTrail tests
date: 2024-05-01
tags:
  - attack.impact
  - attack.t1485
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventSource: kms.amazonaws.com
    eventName: ScheduleKeyDeletion
  condition: selection
falsepositives:
  - Planned key retirement
level: high
---
title: AWS CloudTrail Logging Disabled Or Changed
id: 4db60cc0-36fb-42b7-9b58-a5b53019fb74
description: Detects StopLogging, UpdateTrail and DeleteTrail, which can stop or divert audit logging.
logsource:
  product: aws
  service: cloudtrail
detection:
  selection_source:
    eventSource: cloudtrail.amazonaws.com
    eventName:
      - StopLogging
      - UpdateTrail
      - DeleteTrail
  condition: selection_source
level: medium
---
title: AWS KMS Key Disabled
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventSource: kms.amazonaws.com
    eventName: DisableKey
  condition: selection
level: medium
---
title: AWS Root Credentials Used
id: 8ad1600d-e9dc-4251-b0ee-a65268f29add
description: Detects use of the root user, except AWS services acting for it and service events.
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    userIdentity.type: Root
  filter_service:
    userIdentity.invokedBy|contains: '.amazonaws.com'
  filter_event:
    eventType: AwsServiceEvent
  condition: selection and not 1 of filter_*
level: medium
---
title: AWS KMS Key Policy Grants Everyone
description: A key policy whose statement allows the principal "*".
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventSource: kms.amazonaws.com
    eventName: PutKeyPolicy
    requestParameters.policy|contains|all:
      - '"Effect": "Allow"'
      - '"AWS": "\\*"'
  condition: selection
level: critical
---
title: AWS Secret Or Access Key Retrieved
logsource:
  product: aws
  service: cloudtrail
detection:
  selection_secrets:
    eventSource: secretsmanager.amazonaws.com
    eventName: GetSecretValue
  selection_keys:
    eventSource: iam.amazonaws.com
    eventName|startswith: CreateAccessKey
  _unused:
    eventName: Decrypt
  condition: 1 of selection_*
level: informational
`;

describe('real-world-style rules, run by the engine', () => {
  const parsed = parseSigma(RULES, 'aws.yml');
  const byTitle = (t: string) => parsed.rules.find((r) => r.title === t)!;

  it('reads every document of a multi-document file', () => {
    expect(parsed.errors).toEqual([]);
    expect(parsed.rules.map((r) => r.source)).toEqual([
      'aws.yml#1',
      'aws.yml#2',
      'aws.yml#3',
      'aws.yml#4',
      'aws.yml#5',
      'aws.yml#6',
    ]);
    const r = parsed.rules[0];
    expect(r).toMatchObject({
      id: '7a3c1e52-2f3b-4d38-9d1e-5b8f0c7e4a11',
      level: 'high',
      status: 'experimental',
      tags: ['attack.impact', 'attack.t1485'],
      falsepositives: ['Planned key retirement'],
    });
    expect(r.logsource).toMatchObject({ product: 'aws', service: 'cloudtrail' });
  });

  it.each([
    ['AWS KMS Key Scheduled For Deletion', ['schedule']],
    ['AWS CloudTrail Logging Disabled Or Changed', ['delete-trail', 'stop', 'update']],
    ['AWS KMS Key Disabled', ['disable']],
    ['AWS Root Credentials Used', ['root-login', 'stop']],
    ['AWS KMS Key Policy Grants Everyone', ['policy-public']],
    ['AWS Secret Or Access Key Retrieved', ['access-key', 'secret']],
  ])('%s', (title, want) => {
    const q = compiled(byTitle(title));
    expect(run(q)).toEqual(want);
    // the query text reads back to the same selection
    const text = queryText(q)!;
    expect(text).not.toBeNull();
    expect(run(parseQuery(text))).toEqual(want);
  });

  it('translates to the expected query AST', () => {
    expect(queryText(compiled(byTitle('AWS CloudTrail Logging Disabled Or Changed')))).toBe(
      'eventSource:"cloudtrail.amazonaws.com" (eventName:"StopLogging" OR eventName:"UpdateTrail" OR eventName:"DeleteTrail")',
    );
    expect(queryText(compiled(byTitle('AWS Root Credentials Used')))).toBe(
      'userIdentity.type:"Root" NOT (userIdentity.invokedBy:*.amazonaws.com* OR eventType:"AwsServiceEvent")',
    );
    // an escaped \\* is a literal star: a regex, every literal escaped
    expect(queryText(compiled(byTitle('AWS KMS Key Policy Grants Everyone')))).toBe(
      'eventSource:"kms.amazonaws.com" eventName:"PutKeyPolicy" requestParameters.policy:/^.*"Effect": "Allow".*$/is requestParameters.policy:/^.*"AWS": "\\*".*$/is',
    );
  });

  it('findings: id, severity from level, description, accounts, keys, principals, time order', () => {
    const rule = byTitle('AWS KMS Key Scheduled For Deletion');
    const f = sigmaFinding(rule, sigmaRows(engine, ix, compiled(rule)), ix);
    expect(f).toMatchObject({
      rule: 'sigma:7a3c1e52-2f3b-4d38-9d1e-5b8f0c7e4a11',
      title: rule.title,
      severity: 'high',
      count: 1,
      accounts: [ACCT],
      keys: [KEY_ARN],
      principals: [`arn:aws:sts::${ACCT}:assumed-role/Admin/session`],
      query: 'finding:sigma:7a3c1e52-2f3b-4d38-9d1e-5b8f0c7e4a11',
    });
    expect(f.description).toMatch(
      /^Detects the scheduling.*False positives: Planned key retirement\. Sigma rule 7a3c1e52.* \(aws\.yml#1\)\.$/,
    );
    expect(f.first).toBe(Date.parse('2024-05-01T10:01:00Z'));
    const trail = byTitle('AWS CloudTrail Logging Disabled Or Changed');
    const g = sigmaFinding(trail, sigmaRows(engine, ix, compiled(trail)), ix);
    expect(g.rows.map((r) => rowEvent[r].eventID)).toEqual(['stop', 'update', 'delete-trail']);
    expect(g.first).toBeLessThan(g.last);
    expect(sigmaRuleId(byTitle('AWS KMS Key Disabled'))).toBe('sigma:aws-kms-key-disabled');
    expect(sigmaSeverity(byTitle('AWS Secret Or Access Key Retrieved'))).toBe('info');
    expect(sigmaSeverity(byTitle('AWS KMS Key Policy Grants Everyone'))).toBe('critical');
    expect(sigmaSeverity({ ...rule, level: undefined })).toBe('medium');
  });
});

const HEADER = 'title: t\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n';

describe('matching semantics', () => {
  it('values are case-insensitive; lists OR; maps AND; lists of maps OR', () => {
    expect(matches('sel:\n  eventname: scheduleKEYdeletion\ncondition: sel')).toEqual(['schedule']);
    expect(
      matches(
        'sel:\n  - eventName: DisableKey\n  - eventName: StopLogging\n    userIdentity.type: root\ncondition: sel',
      ),
    ).toEqual(['disable', 'stop']);
    expect(
      matches(
        'sel:\n  - eventName: DisableKey\n  - eventName: StopLogging\n    userIdentity.type: IAMUser\ncondition: sel',
      ),
    ).toEqual(['disable']);
  });

  it("a field no stored event has (another log source's name) matches nothing and says so", () => {
    const rule = one(`${HEADER}  sel:\n    eventName: DisableKey\n    src_ip: 10.0.0.1\n  condition: sel\n`);
    const warnings: string[] = [];
    expect(ids(sigmaRows(engine, ix, compiled(rule), warnings))).toEqual([]);
    expect(warnings).toEqual(['no stored event has a field "src_ip"']);
    // a CloudTrail field gives no warning
    const ok: string[] = [];
    expect(
      ids(sigmaRows(engine, ix, compiled(one(`${HEADER}  sel:\n    eventName: DisableKey\n  condition: sel\n`)), ok)),
    ).toEqual(['disable']);
    expect(ok).toEqual([]);
  });

  it('wildcards: * anywhere, ? one character, escapes', () => {
    expect(matches("sel:\n  eventName: '*Trail*'\ncondition: sel")).toEqual([
      'delete-trail',
      'describe-trails',
      'update',
    ]);
    // ? is one character: 2.15.0 and 2.17.1 (case-insensitive) but not 2.1.0
    expect(matches("sel:\n  userAgent: 'aws-cli/2.1?.*'\ncondition: sel")).toEqual(
      EVENTS.filter((e) => /^aws-cli\/2\.1.\./i.test(e.userAgent!))
        .map((e) => e.eventID!)
        .sort(),
    );
    // \\* is a literal star, \\? a literal question mark
    expect(matches("sel:\n  userAgent: 'scanner\\*bot'\ncondition: sel")).toEqual(['star-agent']);
    expect(matches("sel:\n  userAgent: 'scanner\\?bot'\ncondition: sel")).toEqual([]);
    // regex special characters in plain values are literal
    expect(matches("sel:\n  sourceIPAddress: '203.0.113.*'\ncondition: sel")).toEqual(['denied', 'old-cli']);
    expect(matches("sel:\n  sourceIPAddress: '203x0x113x9'\ncondition: sel")).toEqual([]);
  });

  it('contains, startswith, endswith, re (with flags), cased, all', () => {
    expect(matches('sel:\n  eventName|startswith: Get\ncondition: sel')).toEqual([
      'old-cli',
      'root-by-service',
      'secret',
      'star-agent',
    ]);
    expect(matches('sel:\n  eventName|endswith: trails\ncondition: sel')).toEqual(['describe-trails']);
    expect(matches("sel:\n  requestParameters|contains: 'prod/'\ncondition: sel")).toEqual(['secret']);
    expect(matches("sel:\n  sourceIPAddress|re: '^203\\.0\\.113\\.1\\d*$'\ncondition: sel")).toEqual(['old-cli']);
    expect(matches("sel:\n  userAgent|re: '^aws-cli/'\ncondition: sel")).not.toContain('old-cli');
    expect(matches("sel:\n  userAgent|re|i: '^aws-cli/'\ncondition: sel")).toContain('old-cli');
    expect(matches("sel:\n  userAgent|re: '(?i)^aws-cli/2\\.17'\ncondition: sel")).toEqual(['old-cli']);
    expect(matches("sel:\n  userAgent|cased|startswith: 'AWS-CLI'\ncondition: sel")).toEqual(['old-cli']);
    expect(matches('sel:\n  userAgent|contains|all:\n    - cli\n    - Python\ncondition: sel').length).toBe(
      EVENTS.filter((e) => e.userAgent?.includes('Python')).length,
    );
  });

  it('null is an absent field; exists; neq; numeric comparisons; booleans and numbers as written', () => {
    expect(matches('sel:\n  eventSource: kms.amazonaws.com\n  errorCode: null\ncondition: sel')).toEqual([
      'decrypt',
      'disable',
      'policy-account',
      'policy-public',
      'schedule',
    ]);
    expect(matches('sel:\n  errorCode|exists: true\ncondition: sel')).toEqual(['denied']);
    expect(matches('sel:\n  userIdentity.invokedBy|exists: false\n  userIdentity.type: Root\ncondition: sel')).toEqual([
      'root-login',
      'root-service-event',
      'stop',
    ]);
    expect(
      matches(
        'sel:\n  eventSource: kms.amazonaws.com\n  eventName|neq:\n    - Decrypt\n    - PutKeyPolicy\ncondition: sel',
      ),
    ).toEqual(['disable', 'schedule']);
    expect(matches('sel:\n  requestParameters.pendingWindowInDays|lt: 10\ncondition: sel')).toEqual(['schedule']);
    expect(matches('sel:\n  requestParameters.pendingWindowInDays|gte: 10\ncondition: sel')).toEqual([]);
    expect(matches('sel:\n  readOnly: true\n  eventSource: kms.amazonaws.com\ncondition: sel')).toEqual(['decrypt']);
    // 1.10 stays "1.10" (YAML would read the number 1.1)
    expect(matches('sel:\n  eventVersion: 1.10\n  eventName: DisableKey\ncondition: sel')).toEqual(['disable']);
    expect(matches('sel:\n  additionalEventData.MFAUsed: No\ncondition: sel')).toEqual(['root-login']);
  });

  it('keywords search every value', () => {
    expect(matches('keywords:\n  - accessdenied\n  - mallory\ncondition: keywords')).toEqual(['access-key', 'denied']);
    expect(matches("keywords:\n  '|all':\n    - kms\n    - AccessDenied\ncondition: keywords")).toEqual(['denied']);
    expect(matches("keywords:\n  - 'not auth*ized'\ncondition: keywords")).toEqual(['denied']);
    expect(matches('keywords: org-trail\ncondition: keywords')).toEqual(['delete-trail']);
  });

  it('conditions: and, or, not, parentheses, 1/any/all of pattern, them, condition lists', () => {
    const d =
      'kms:\n  eventSource: kms.amazonaws.com\nsel_disable:\n  eventName: DisableKey\nsel_schedule:\n  eventName: ScheduleKeyDeletion\n_other:\n  eventName: StopLogging\n';
    expect(matches(`${d}condition: kms and (sel_disable or sel_schedule)`)).toEqual(['disable', 'schedule']);
    expect(matches(`${d}condition: kms and not sel_disable and not sel_schedule`)).toEqual([
      'decrypt',
      'denied',
      'policy-account',
      'policy-public',
    ]);
    expect(matches(`${d}condition: 1 of sel_*`)).toEqual(['disable', 'schedule']);
    expect(matches(`${d}condition: any of sel_* and kms`)).toEqual(['disable', 'schedule']);
    expect(matches(`${d}condition: all of sel_*`)).toEqual([]);
    expect(matches(`${d}condition: all of them`)).toEqual([]);
    expect(matches(`${d}condition: 1 of them`)).toEqual([
      'decrypt',
      'denied',
      'disable',
      'policy-account',
      'policy-public',
      'schedule',
    ]);
    expect(matches(`${d}condition: _other or sel_disable`)).toEqual(['disable', 'stop']);
    expect(matches(`${d}condition: NOT kms AND _other`)).toEqual(['stop']);
    expect(matches(`${d}condition:\n  - sel_disable\n  - _other`)).toEqual(['disable', 'stop']);
    // not binds tighter than and, and tighter than or
    expect(matches(`${d}condition: not kms and _other or sel_disable`)).toEqual(['disable', 'stop']);
  });
});

describe('unsupported features are reported with a reason', () => {
  it.each([
    ['sel:\n  userAgent|base64offset|contains: curl\ncondition: sel', /\|base64offset is not supported/],
    ['sel:\n  sourceIPAddress|cidr: 10.0.0.0/8\ncondition: sel', /\|cidr is not supported: CIDR/],
    ['sel:\n  eventName|windash: x\ncondition: sel', /\|windash/],
    ['sel:\n  eventName|sparkle: x\ncondition: sel', /unknown modifier \|sparkle/],
    ['sel:\n  eventName|i: x\ncondition: sel', /\|i only qualifies \|re/],
    [
      'sel:\n  eventName: x\ncondition: sel | sum(requestParameters.size) by sourceIPAddress > 10',
      /aggregation sum\(\) is not supported/,
    ],
    [
      'sel:\n  eventName: x\ntimeframe: 5m\ncondition: sel | count() by sourceIPAddress < 3',
      /within a timeframe is not supported/,
    ],
    ['sel:\n  eventName: x\ncondition: sel | count() by', /not of the form count/],
    ['sel:\n  eventName: x\ncondition: sel | count() by principal > 2', /field "principal" is not a CloudTrail field/],
    [
      'sel:\n  eventName: x\ncondition:\n  - sel | count() > 2\n  - sel',
      /aggregation \("\|"\) in a list of conditions/,
    ],
    ['sel:\n  eventName: x\ncondition: sel near other', /"near"/],
    ['sel:\n  eventName: x\ntimeframe: soon\ncondition: sel | count() > 1', /timeframe "soon" is not a duration/],
    [
      'sel:\n  eventName|expand: "%names%"\ncondition: sel',
      /placeholder %names% \(field eventName\|expand\) has no values/,
    ],
    ["sel:\n  eventName|re|expand: '%names%'\ncondition: sel", /\|expand on a regular expression/],
    ['sel1:\n  eventName: x\nsel2:\n  eventName: y\ncondition: 2 of sel*', /"2 of sel\*" \(more than one of\)/],
    ['sel:\n  eventName: x\ncondition: sel and missing', /names "missing", which is not a search identifier/],
    ['sel:\n  eventName: x\ncondition: 1 of filter*', /matches no search identifier/],
    ['sel:\n  eventName: x\ncondition: (sel', /missing "\)"/],
    ['sel:\n  key: x\ncondition: sel', /field "key" is not a CloudTrail field/],
    ['sel:\n  principal: x\ncondition: sel', /field "principal" is not a CloudTrail field/],
    ["sel:\n  userAgent|re: '(?x)a b'\ncondition: sel", /\(\?x\)/],
    ["sel:\n  userAgent|re: '(unclosed'\ncondition: sel", /not a valid JavaScript regular expression/],
    ['sel:\n  userAgent|re|contains: x\ncondition: sel', /\|re cannot be combined with \|contains/],
    ["sel:\n  errorCode: ''\ncondition: sel", /empty value on errorCode/],
    ['sel:\n  requestParameters.pendingWindowInDays|gt: seven\ncondition: sel', /\|gt needs a number/],
    ['sel:\n  eventName|exists: maybe\ncondition: sel', /\|exists takes true or false/],
    ['sel:\n  eventName|all: x\ncondition: sel', /\|all on field eventName needs a list/],
    ['sel:\n  eventName:\n    a: b\ncondition: sel', /nested map/],
    ['sel: []\ncondition: sel', /empty list/],
    ['sel:\n  eventName: x', /no condition/],
  ])('%s', (detection, why) => {
    expect(reason(detection)).toMatch(why);
  });

  it('log sources other than aws/cloudtrail', () => {
    expect(
      reason('sel:\n  EventID: 4625\ncondition: sel', 'logsource:\n  product: windows\n  service: security\n'),
    ).toMatch(/is not AWS CloudTrail/);
    expect(reason('sel:\n  eventName: x\ncondition: sel', 'logsource:\n  product: aws\n')).toMatch(
      /is not AWS CloudTrail/,
    );
    expect(reason('sel:\n  eventName: x\ncondition: sel', '')).toMatch(/is not AWS CloudTrail/);
  });

  it('correlation and filter documents are read and refused; collections, YAML errors and non-rules are errors', () => {
    const r = parseSigma(
      [
        'title: Many denials\ncorrelation:\n  type: event_count\n  rules: [x]\n  group-by: [sourceIPAddress]\n  timespan: 1h\n  condition: {gte: 10}',
        'title: Ignore scanners\nlogsource: {product: aws, service: cloudtrail}\nfilter:\n  rules: [x]\n  selection: {userAgent: scanner}\n  condition: not selection',
        'action: global\ntitle: Base\nlogsource: {product: aws, service: cloudtrail}',
        'title: No detection\nlogsource: {product: aws, service: cloudtrail}',
        'description: no title\ndetection: {sel: {eventName: x}, condition: sel}',
        '- just\n- a list',
        'title: [unclosed',
        '',
      ].join('\n---\n'),
      'mixed.yml',
    );
    expect(r.rules.map((x) => x.kind)).toEqual(['correlation', 'filter']);
    expect((compileSigma(r.rules[0]) as { reason: string }).reason).toMatch(/correlation rules/);
    expect((compileSigma(r.rules[1]) as { reason: string }).reason).toMatch(/Sigma filters/);
    expect(r.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(/^mixed\.yml#3: Sigma rule collections \(action: global\)/),
      expect.stringMatching(/^mixed\.yml#4: the rule has no detection/),
      expect.stringMatching(/^mixed\.yml#5: the rule has no title/),
      expect.stringMatching(/^mixed\.yml#6: not a Sigma rule/),
      expect.stringMatching(/^mixed\.yml#7: /),
    ]);
    expect(r.errors[0].rule).toBe('Base');
  });
});

describe('queryText', () => {
  it('writes values the query language cannot hold bare as quoted strings or regexes', () => {
    const m = (
      field: string | null,
      value: QueryNode & { type: 'match' } extends { value: infer V } ? V : never,
    ): QueryNode => ({ type: 'match', field, value, pos: 0, end: 0 });
    expect(queryText(m('userAgent', { kind: 'wildcard', pattern: 'a b*' }))).toBe('userAgent:/^a b.*$/is');
    expect(queryText(m('userAgent', { kind: 'wildcard', pattern: '(x)*' }))).toBe('userAgent:/^\\(x\\).*$/is');
    expect(queryText(m(null, { kind: 'wildcard', pattern: 'eventName:x*' }))).toBe('/eventName:x/is');
    expect(queryText(m(null, { kind: 'wildcard', pattern: 'OR' }))).toBe('/OR/is');
    expect(queryText(m('a', { kind: 'regex', source: 'x/y[/]', flags: '' }))).toBe('a:/x\\/y[/]/');
    expect(queryText(m('a', { kind: 'exact', text: 'say "hi" \\ bye', quoted: true }))).toBe(
      'a:"say \\"hi\\" \\\\ bye"',
    );
    expect(queryText(m('aws:SourceIp', { kind: 'any' }))).toBeNull();
    for (const q of ['userAgent:/^a b.*$/is', 'a:/x\\/y[/]/', 'a:"say \\"hi\\" \\\\ bye"'])
      expect(queryText(parseQuery(q))).toBe(q);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Aggregations and placeholders

/** An index of these events, stored the way the writer stores them (one chunk). */
function indexOf(events: CloudTrailEvent[]) {
  const i = new ColumnarIndex();
  const f = new FieldIndex();
  i.addSegment(segmentOf(7, events));
  f.add({ id: 7, ...buildFieldStore(events) }, i.segBase.get(7)!);
  return { ix: i, fields: f, engine: new Engine(i, f), idOf: (r: number) => events[r - i.segBase.get(7)!].eventID! };
}

describe('Sigma 1 aggregations: count() [by field] with and without timeframe', () => {
  // Modelled on SigmaHQ's "AWS Secrets Manager Mass Secret Retrieval" and "Account Enumeration on AWS" rules
  const t0 = Date.parse('2024-06-01T09:00:00Z');
  const at = (min: number) => new Date(t0 + min * 60_000).toISOString().replace('.000Z', 'Z');
  const user = (name: string) => ({
    type: 'IAMUser',
    principalId: `AIDA${name.toUpperCase()}`,
    arn: `arn:aws:iam::${ACCT}:user/${name}`,
    accountId: ACCT,
    userName: name,
  });
  const secret = (id: string, min: number, who: string, secretId = `prod/${id}`) =>
    ev(id, {
      eventTime: at(min),
      eventSource: 'secretsmanager.amazonaws.com',
      eventName: 'GetSecretValue',
      readOnly: true,
      userIdentity: user(who),
      requestParameters: { secretId },
    });
  const events: CloudTrailEvent[] = [
    // mallory reads 6 secrets within 4 minutes, then one more an hour later
    ...[0, 1, 1, 2, 3, 4].map((m, k) => secret(`m${k}`, m, 'mallory')),
    secret('m-late', 64, 'mallory'),
    // the app reads the same secret every 20 minutes, 7 times
    ...[0, 20, 40, 60, 80, 100, 120].map((m, k) => secret(`app${k}`, m, 'app', 'prod/app')),
    // a list burst by bob
    ...[10, 10, 11].map((m, k) =>
      ev(`list${k}`, {
        eventTime: at(m),
        eventSource: 's3.amazonaws.com',
        eventName: 'ListBuckets',
        readOnly: true,
        userIdentity: user('bob'),
      }),
    ),
  ];
  const { ix: aix, fields, engine: aengine, idOf } = indexOf(events);
  const header = 'title: t\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n';
  const hits = (detection: string) => {
    const c = compileSigma(one(header + detection.replace(/^/gm, '  ') + '\n'));
    if (!c.ok) throw new Error(c.reason);
    return Array.from(sigmaMatches(aengine, aix, fields, c), idOf).sort();
  };
  const sel =
    'sel:\n  eventSource: secretsmanager.amazonaws.com\n  eventName:\n    - GetSecretValue\n    - BatchGetSecretValue\n';

  it('count() by userIdentity.arn > N within a timeframe keeps the events of every window that passes', () => {
    expect(hits(`${sel}timeframe: 10m\ncondition: sel | count() by userIdentity.arn > 5`)).toEqual([
      'm0',
      'm1',
      'm2',
      'm3',
      'm4',
      'm5',
    ]);
    // the window is first to last event, inclusive: 6 events from minute 0 to 4
    expect(hits(`${sel}timeframe: 4m\ncondition: sel | count() by userIdentity.arn >= 6`)).toEqual([
      'm0',
      'm1',
      'm2',
      'm3',
      'm4',
      'm5',
    ]);
    expect(hits(`${sel}timeframe: 3m\ncondition: sel | count() by userIdentity.arn >= 6`)).toEqual([]);
    // 7 app reads over 2 hours: only a 2-hour window holds them all
    expect(hits(`${sel}timeframe: 2h\ncondition: sel | count() by userIdentity.arn > 6`)).toEqual([
      'app0',
      'app1',
      'app2',
      'app3',
      'app4',
      'app5',
      'app6',
      'm-late',
      'm0',
      'm1',
      'm2',
      'm3',
      'm4',
      'm5',
    ]);
    expect(hits(`${sel}timeframe: 119m\ncondition: sel | count() by userIdentity.arn > 6`)).toEqual([
      'm-late',
      'm0',
      'm1',
      'm2',
      'm3',
      'm4',
      'm5',
    ]);
    // no group-by: every matching event counts together
    expect(hits(`${sel}timeframe: 1m\ncondition: sel | count() > 3`)).toEqual(['app0', 'm0', 'm1', 'm2']);
    expect(hits("sel:\n  eventName: 'list*'\ntimeframe: 10m\ncondition: sel | count() > 2")).toEqual([
      'list0',
      'list1',
      'list2',
    ]);
  });

  it('count(field) counts distinct values; without timeframe the count is over all stored events', () => {
    // mallory reads 7 distinct secrets, the app 1
    expect(hits(`${sel}condition: sel | count(requestParameters.secretId) by userIdentity.arn > 3`)).toEqual([
      'm-late',
      'm0',
      'm1',
      'm2',
      'm3',
      'm4',
      'm5',
    ]);
    expect(
      hits(`${sel}timeframe: 10m\ncondition: sel | count(requestParameters.secretId) by userIdentity.arn > 5`),
    ).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    expect(hits(`${sel}condition: sel | count() by userIdentity.arn < 8`)).toEqual([
      'app0',
      'app1',
      'app2',
      'app3',
      'app4',
      'app5',
      'app6',
      'm-late',
      'm0',
      'm1',
      'm2',
      'm3',
      'm4',
      'm5',
    ]);
    expect(hits(`${sel}condition: sel | count() by userIdentity.arn == 7`)).toEqual([
      'app0',
      'app1',
      'app2',
      'app3',
      'app4',
      'app5',
      'app6',
      'm-late',
      'm0',
      'm1',
      'm2',
      'm3',
      'm4',
      'm5',
    ]);
    expect(hits(`${sel}condition: sel | count() by userIdentity.arn > 7`)).toEqual([]);
    // events without the group-by field are left out
    expect(hits(`${sel}condition: sel | count() by userIdentity.invokedBy > 0`)).toEqual([]);
  });

  it('describes the aggregation, and the finding holds the kept events in time order', () => {
    const rule = one(
      `${header}  ${sel.replace(/\n/g, '\n  ')}timeframe: 10m\n  condition: sel | count() by userIdentity.arn > 5\n`,
    );
    const c = compileSigma(rule);
    expect(c).toMatchObject({
      ok: true,
      aggregation: {
        fn: 'count',
        field: null,
        by: 'userIdentity.arn',
        op: '>',
        value: 5,
        timeframeMs: 600_000,
        text: 'count() by userIdentity.arn > 5 within 10m',
      },
    });
    const ok = c as Extract<typeof c, { ok: true }>;
    const f = sigmaFinding(rule, sigmaMatches(aengine, aix, fields, ok), aix, ok.aggregation);
    expect(f.count).toBe(6);
    expect(f.description).toContain('Events counted: count() by userIdentity.arn > 5 within 10m.');
    expect(f.principals).toEqual([`arn:aws:iam::${ACCT}:user/mallory`]);
    expect(f.first).toBe(t0);
    expect(f.last).toBe(t0 + 4 * 60_000);
  });

  it('sigmaAggregate: a window slides; NaN times are left out of timeframe counts', () => {
    const times = [0, 1000, 2000, 10_000, 11_000, 12_000, 13_000, NaN];
    const agg = {
      fn: 'count' as const,
      field: null,
      by: null,
      op: '>' as const,
      value: 2,
      timeframeMs: 2000,
      text: '',
    };
    expect(
      Array.from(
        sigmaAggregate(
          [0, 1, 2, 3, 4, 5, 6, 7],
          agg,
          (r) => times[r],
          () => undefined,
        ),
      ),
    ).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(
      Array.from(
        sigmaAggregate(
          [0, 1, 2, 3, 4, 5, 6, 7],
          { ...agg, timeframeMs: 1999 },
          (r) => times[r],
          () => undefined,
        ),
      ),
    ).toEqual([]);
    expect(
      Array.from(
        sigmaAggregate(
          [0, 1, 2, 3, 4, 5, 6, 7],
          { ...agg, value: 3 },
          (r) => times[r],
          () => undefined,
        ),
      ),
    ).toEqual([]);
    expect(
      Array.from(
        sigmaAggregate(
          [0, 1, 2, 3, 4, 5, 6, 7],
          { ...agg, value: 3, timeframeMs: 3000 },
          (r) => times[r],
          () => undefined,
        ),
      ),
    ).toEqual([3, 4, 5, 6]);
  });
});

describe('|expand placeholders with values given by the user', () => {
  const rule = one(`title: KMS use by a non-admin principal
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventSource: kms.amazonaws.com
  filter_admins:
    userIdentity.arn|expand: '%admin_arns%'
  filter_ip:
    sourceIPAddress|expand|startswith: '%trusted_prefix%'
  condition: selection and not 1 of filter_*
`);
  const admin = `arn:aws:sts::${ACCT}:assumed-role/Admin/session`;

  it('lists the placeholders a rule needs, and refuses to run without values', () => {
    expect(sigmaPlaceholders(rule)).toEqual(['admin_arns', 'trusted_prefix']);
    expect(compileSigma(rule)).toEqual({ ok: false, reason: expect.stringMatching(/placeholder %admin_arns%/) });
    expect(compileSigma(rule, { admin_arns: [admin] })).toEqual({
      ok: false,
      reason: expect.stringMatching(/placeholder %trusted_prefix%/),
    });
  });

  it('each placeholder becomes its values, ORed, under the field modifiers (values are Sigma strings)', () => {
    const q = (values: Record<string, string[]>) => {
      const c = compileSigma(rule, values);
      if (!c.ok) throw new Error(c.reason);
      return run(c.query);
    };
    // every KMS event is by Admin: all filtered out
    expect(q({ admin_arns: [admin], trusted_prefix: ['10.'] })).toEqual([]);
    // another admin only: the trusted prefix filters the events from 198.51.100.7
    expect(q({ admin_arns: ['arn:aws:iam::111122223333:user/ops'], trusted_prefix: ['198.51.'] })).toEqual(['denied']);
    expect(
      q({ admin_arns: ['arn:aws:iam::111122223333:user/ops'], trusted_prefix: ['192.0.2.', '203.0.113.'] }),
    ).toEqual(['decrypt', 'disable', 'policy-account', 'policy-public', 'schedule']);
    // wildcards in values
    expect(q({ admin_arns: ['*:assumed-role/admin/*'], trusted_prefix: ['x'] })).toEqual([]);
  });

  it('text around placeholders, several placeholders (every combination), escaped \\%', () => {
    const m = (detection: string, values: Record<string, string[]>) => {
      const c = compileSigma(
        one(
          `title: t\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n${detection.replace(/^/gm, '  ')}\n`,
        ),
        values,
      );
      if (!c.ok) throw new Error(c.reason);
      return run(c.query);
    };
    expect(
      m("sel:\n  eventName|expand: '%verb%Key%what%'\ncondition: sel", {
        verb: ['Disable', 'Schedule'],
        what: ['', 'Deletion'],
      }),
    ).toEqual(['disable', 'schedule']);
    expect(
      m("sel:\n  requestParameters.secretId|expand: '%env%/db'\ncondition: sel", { env: ['prod', 'dev'] }),
    ).toEqual(['secret']);
    expect(m("sel:\n  requestParameters.secretId|expand: '\\%env%/db'\ncondition: sel", { env: ['prod'] })).toEqual([]);
    expect(
      sigmaPlaceholders(
        one(
          "title: t\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    - a|expand: ['%x%', '%y%z%']\n    - b: '%not_expanded%'\n  condition: sel\n",
        ),
      ),
    ).toEqual(['x', 'y']);
  });
});
