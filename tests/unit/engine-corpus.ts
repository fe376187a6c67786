/**
 * The corpus of the query engine's differential tests (engine.test.ts, engine-reference.test.ts): ~3,000 generated
 * events of many shapes (seeded), stored as the writer stores them (segments + generic field stores, in chunks of
 * random sizes, loaded in a shuffled order), and `check`, which compares the engine with tests/unit/reference.ts.
 */
import { expect } from 'vitest';
import type { CloudTrailEvent } from '../../src/lib/cloudtrail/event';
import { stringHash } from '../../src/lib/codec/hash';
import { ColumnarIndex } from '../../src/lib/query/columnar';
import { Engine, type EvalOptions } from '../../src/lib/query/engine';
import { FieldIndex } from '../../src/lib/query/fieldIndex';
import { parseQuery } from '../../src/lib/query/parser';
import { buildFieldStore, MAX_VALUE_CHARS } from '../../src/lib/codec/fields';
import { buildColumns, type Segment } from '../../src/lib/codec/segment';
import { rng } from './helpers';
import { referenceMatch, refEvent } from './reference';

// ---------------------------------------------------------------------------------------------------------------
// Event generation (seeded)

/** Seeds (override with KEYTRAIL_ENGINE_SEED=n to explore other data sets and queries). */
export const SEED = Number(process.env.KEYTRAIL_ENGINE_SEED ?? 0x6b657974);
const R = rng(SEED);
const rand = (): number => R();
export const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
const chance = (p: number): boolean => rand() < p;
const hex = (n: number): string => Array.from({ length: n }, () => '0123456789abcdef'[int(0, 15)]).join('');
const uuid = (): string => `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`;

function shuffle<T>(a: T[]): T[] {
  const b = a.slice();
  for (let i = b.length - 1; i > 0; i--) {
    const j = int(0, i);
    [b[i], b[j]] = [b[j], b[i]];
  }
  return b;
}

export const BASE = Date.UTC(2024, 2, 1); // 2024-03-01
export const DAY = 864e5;
export const NOW = BASE + 20 * DAY + 12 * 36e5;

export const ACCOUNTS = ['111122223333', '444455556666', '123456789012'];
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'US-East-1'];
const SOURCES: Record<string, string[]> = {
  'kms.amazonaws.com': [
    'Decrypt',
    'Encrypt',
    'GenerateDataKey',
    'CreateKey',
    'ScheduleKeyDeletion',
    'DisableKey',
    'CreateAlias',
    'DescribeKey',
    'ReEncrypt',
    'ListAliases',
  ],
  'cloudhsm.amazonaws.com': ['CreateCluster', 'DescribeClusters', 'InitializeCluster'],
  'sts.amazonaws.com': ['AssumeRole', 'GetCallerIdentity'],
  's3.amazonaws.com': ['GetObject', 'PutObject'],
  'iam.amazonaws.com': ['CreateUser', 'AttachRolePolicy'],
  'signin.amazonaws.com': ['ConsoleLogin'],
};
const UNICODE = [
  'Zoë',
  'İstanbul',
  'ΣΊΣΥΦΟΣ',
  'straße',
  'STRASSE',
  'ẞig',
  'Kelvin\u212A',
  'José',
  '用户',
  '🔑admin',
  'MiXeD-CaSe',
  'Ünïcödé',
  'naïve café',
  'Finance',
];
const USERS = ['alice', 'Bob', 'carol.smith', 'Zoë', 'İlker', '用户', 'MiXeD-CaSe'];
const ROLES = ['Admin', 'ReadOnly', 'KeyManager', 'OrganizationAccountAccessRole'];
export const KEY_IDS = Array.from({ length: 8 }, () => uuid());
const ALIASES = ['app-key', 'Finance', 'aws/s3', 'ÜnïKey'];
export const ACCESS_KEYS = Array.from({ length: 9 }, (_, i) => `AKIAEXAMPLE0${i + 1}`);
/** Longer than the field store indexes (its tail is only in the columns). */
const HUGE = 'HEADTOKEN ' + 'x'.repeat(MAX_VALUE_CHARS + 4_000) + ' TAILTOKEN';

export const keyArn = (id: string, region = 'us-east-1', acct = ACCOUNTS[0]) =>
  `arn:aws:kms:${region}:${acct}:key/${id}`;
export const aliasArn = (a: string, region = 'us-east-1', acct = ACCOUNTS[0]) =>
  `arn:aws:kms:${region}:${acct}:alias/${a}`;

function keyRef(): string {
  const id = pick(KEY_IDS);
  const a = pick(ALIASES);
  switch (int(0, 4)) {
    case 0:
      return id;
    case 1:
      return keyArn(id, pick(REGIONS.slice(0, 3)), pick(ACCOUNTS));
    case 2:
      return `alias/${a}`;
    case 3:
      return aliasArn(a, pick(REGIONS.slice(0, 3)), pick(ACCOUNTS));
    default:
      return id.toUpperCase();
  }
}

function isoSeconds(t: number): string {
  return new Date(t).toISOString().replace('.000Z', 'Z');
}

function identity(acct: string): unknown {
  const r = rand();
  if (r < 0.03) return undefined;
  if (r < 0.04) return null;
  const type = pick([
    'IAMUser',
    'IAMUser',
    'AssumedRole',
    'AssumedRole',
    'AssumedRole',
    'AWSService',
    'Root',
    'AWSAccount',
    'FederatedUser',
  ]);
  switch (type) {
    case 'IAMUser': {
      const u = pick(USERS);
      const o: Record<string, unknown> = {
        type,
        principalId: `AIDA${hex(12).toUpperCase()}`,
        arn: `arn:aws:iam::${acct}:user/${u}`,
        accountId: acct,
        accessKeyId: pick(ACCESS_KEYS),
        userName: u,
      };
      if (chance(0.1)) delete o.userName;
      if (chance(0.05)) o.userName = null;
      return o;
    }
    case 'AssumedRole': {
      const role = pick(ROLES);
      const session = pick(['session-1', 'i-0abc', 'Zoë', 'botocore-session-1700000000']);
      const created = isoSeconds(BASE + int(0, 29) * DAY + int(0, 86399) * 1000);
      const o: Record<string, unknown> = {
        type,
        principalId: `AROA${hex(10).toUpperCase()}:${session}`,
        arn: `arn:aws:sts::${acct}:assumed-role/${role}/${session}`,
        accountId: acct,
        accessKeyId: `ASIA${hex(12).toUpperCase()}`,
        sessionContext: {
          sessionIssuer: {
            type: 'Role',
            principalId: `AROA${hex(10).toUpperCase()}`,
            arn: `arn:aws:iam::${acct}:role/${role}`,
            accountId: acct,
            userName: role,
          },
          webIdFederationData: {},
          attributes: { creationDate: created, mfaAuthenticated: pick(['false', 'true']) },
        },
      };
      if (chance(0.15)) delete o.arn; // principal falls back to the session issuer
      if (chance(0.1)) o.invokedBy = 'kms.amazonaws.com';
      if (chance(0.05)) o.sessionContext = null;
      return o;
    }
    case 'AWSService':
      return { type, invokedBy: pick(['cloudtrail.amazonaws.com', 'S3.amazonaws.com', 'AWS Internal']) };
    case 'Root':
      return {
        type,
        principalId: acct,
        arn: `arn:aws:iam::${acct}:root`,
        accountId: acct,
        ...(chance(0.5) ? { accessKeyId: pick(ACCESS_KEYS) } : {}),
      };
    case 'AWSAccount':
      return { type, principalId: `AIDA${hex(12).toUpperCase()}`, accountId: pick(ACCOUNTS) };
    default:
      return {
        type,
        principalId: `${acct}:${pick(USERS)}`,
        arn: `arn:aws:sts::${acct}:federated-user/${pick(USERS)}`,
        accountId: acct,
        sessionContext: { sessionIssuer: { type: 'IAMUser', userName: pick(USERS) } },
      };
  }
}

function requestParameters(src: string): unknown {
  const r = rand();
  if (r < 0.08) return undefined;
  if (r < 0.14) return null;
  if (r < 0.17) return {};
  const o: Record<string, unknown> = {};
  if (src === 'kms.amazonaws.com' || chance(0.1)) {
    if (chance(0.9)) o[chance(0.1) ? 'KeyId' : 'keyId'] = keyRef();
    if (chance(0.5))
      o.encryptionContext = {
        'aws:s3:arn': `arn:aws:s3:::bucket-${int(1, 5)}/obj`,
        Department: pick(UNICODE),
        ...(chance(0.2) ? { department: pick(UNICODE) } : {}),
      };
    if (chance(0.5)) o.encryptionAlgorithm = pick(['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_256']);
    if (chance(0.4)) o.numberOfBytes = pick([16, 32, 64, 1024]);
    if (chance(0.2)) o.keySpec = pick(['AES_256', 'AES_128']);
    if (chance(0.2)) o.grantTokens = [hex(8), hex(8)];
  }
  if (chance(0.2)) o.durationSeconds = pick([900, 3600, 43200]);
  if (chance(0.1)) o.ratio = pick([1.5, 0.25, 2]);
  if (chance(0.1)) o.negative = pick([-5, -0.5, 0]);
  if (chance(0.05)) o.big = 1e21;
  if (chance(0.15)) o.dryRun = pick([true, false]);
  if (chance(0.1)) o.nothing = null;
  if (chance(0.1))
    o.filters = [
      { name: 'tag:Env', values: pick([['a', 'b'], ['Prod'], []]) },
      { name: 'state', values: ['running'] },
    ];
  if (chance(0.1)) o.roleArn = `arn:aws:iam::${pick(ACCOUNTS)}:role/${pick(ROLES)}`;
  if (chance(0.05)) o.description = pick(UNICODE) + ' ' + pick(UNICODE);
  if (chance(0.01)) o.policy = HUGE;
  if (chance(0.01)) o.withNul = 'before\u0000after';
  if (chance(0.03)) o.serial = pick(['0x1F', '0b101', ' 42 ', '007', '1e3', 'Infinity', '-', '.5']);
  if (chance(0.03))
    o.createdAt = pick([isoSeconds(BASE + int(0, 40) * DAY), '2024-03-05', '42', 'Mar 1, 2024, 10:00:00 AM']);
  return o;
}

function responseElements(src: string, name: string): unknown {
  const r = rand();
  if (r < 0.3) return null;
  if (r < 0.45) return undefined;
  if (src === 'kms.amazonaws.com' && (name === 'CreateKey' || name === 'DescribeKey' || chance(0.2))) {
    const id = pick(KEY_IDS);
    return {
      keyMetadata: {
        arn: keyArn(id),
        keyId: id,
        enabled: chance(0.8),
        keyUsage: 'ENCRYPT_DECRYPT',
        awsAccountId: ACCOUNTS[0],
        creationDate: pick(['Mar 1, 2024, 10:00:00 AM', isoSeconds(BASE + int(0, 30) * DAY)]),
      },
    };
  }
  if (chance(0.3)) return { keyId: keyArn(pick(KEY_IDS)), encryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  if (chance(0.3))
    return {
      credentials: { accessKeyId: `ASIA${hex(12).toUpperCase()}`, expiration: 'Mar 2, 2024, 10:00:00 AM' },
      packedPolicySize: int(1, 99),
    };
  return { ok: true };
}

function resourceList(acct: string): unknown {
  const r = rand();
  if (r < 0.35) return undefined;
  if (r < 0.4) return [];
  if (r < 0.41) return [null];
  const n = int(1, 3);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const kind = int(0, 3);
    if (kind === 0)
      out.push({ accountId: acct, type: 'AWS::KMS::Key', ARN: keyArn(pick(KEY_IDS), pick(REGIONS.slice(0, 3)), acct) });
    else if (kind === 1)
      out.push({ accountId: acct, type: 'AWS::S3::Object', ARN: `arn:aws:s3:::bucket-${int(1, 5)}/obj` });
    else if (kind === 2) out.push({ type: 'AWS::IAM::Role', ARN: `arn:aws:iam::${acct}:role/${pick(ROLES)}` });
    else
      out.push(
        chance(0.5) ? { accountId: acct, type: 'AWS::KMS::Key' } : { ARN: aliasArn(pick(ALIASES), 'us-east-1', acct) },
      );
  }
  return out;
}

function makeEvent(i: number): CloudTrailEvent {
  const src = pick(Object.keys(SOURCES));
  const name = pick(SOURCES[src]);
  const acct = pick(ACCOUNTS);
  const e: Record<string, unknown> = { eventVersion: pick(['1.08', '1.09', '1.10']) };
  e.userIdentity = identity(acct);
  const tr = rand();
  if (tr < 0.02) e.eventTime = undefined;
  else if (tr < 0.03) e.eventTime = pick(['garbage', '', 12345, null]);
  else e.eventTime = isoSeconds(BASE + int(0, 30 * 86400 - 1) * 1000);
  e.eventSource = src;
  e.eventName = name;
  if (chance(0.95)) e.awsRegion = pick(REGIONS);
  e.sourceIPAddress = chance(0.9)
    ? pick(['10.0.0.1', '192.0.2.15', '203.0.113.7', 'kms.amazonaws.com', 'AWS Internal', '2001:db8::1'])
    : undefined;
  e.userAgent = chance(0.01)
    ? HUGE
    : pick([
        'aws-cli/2.15.0 Python/3.11.6 Linux/6.1',
        'AWS Internal',
        'Mozilla/5.0 (X11; Linux x86_64)',
        'Boto3/1.34.0 md/Botocore#1.34.0',
        'kms.amazonaws.com',
        'MiXeD-CaSe Agent',
      ]);
  if (chance(0.15)) {
    e.errorCode = pick(['AccessDenied', 'KMSInvalidStateException', 'ThrottlingException', 'NotFoundException']);
    e.errorMessage = chance(0.1) ? null : chance(0.02) ? HUGE : `User is not authorized (${pick(UNICODE)})`;
  } else if (chance(0.02)) e.errorCode = '';
  e.requestParameters = requestParameters(src);
  e.responseElements = responseElements(src, name);
  e.requestID = uuid();
  const ir = rand();
  e.eventID = ir < 0.02 ? undefined : ir < 0.03 ? '' : ir < 0.04 ? 12345 : ir < 0.1 ? uuid().toUpperCase() : uuid();
  e.readOnly = pick([true, false, 'true', 'false', undefined, 'TRUE', null, true, false]);
  e.resources = resourceList(acct);
  e.eventType = pick(['AwsApiCall', 'AwsApiCall', 'AwsServiceEvent', 'AwsConsoleSignIn', undefined]);
  e.managementEvent = chance(0.9);
  e.recipientAccountId = chance(0.9) ? acct : chance(0.5) ? pick(ACCOUNTS) : undefined;
  e.eventCategory = pick(['Management', 'Data']);
  if (chance(0.3))
    e.tlsDetails = {
      tlsVersion: pick(['TLSv1.2', 'TLSv1.3']),
      cipherSuite: 'TLS_AES_128_GCM_SHA256',
      clientProvidedHostHeader: `kms.${pick(REGIONS)}.amazonaws.com`,
    };
  if (chance(0.1)) e.additionalEventData = { 'aws:kms:key': pick(KEY_IDS), count: int(0, 3), MiXeD: pick(UNICODE) };
  if (chance(0.05)) e.sharedEventID = uuid();
  if (chance(0.05)) e.vpcEndpointId = '';
  if (chance(0.03)) e.apiVersion = null;
  if (i % 997 === 5) e.eventName = pick(UNICODE); // odd event names
  // pure JSON (drops undefined), as the ingest parses it
  return JSON.parse(JSON.stringify(e)) as CloudTrailEvent;
}

export const N_EVENTS = 3000;
export const events: CloudTrailEvent[] = Array.from({ length: N_EVENTS }, (_, i) => makeEvent(i));
// a few minimal events (only the two required fields)
for (let i = 0; i < 5; i++) events[int(0, N_EVENTS - 1)] = { eventSource: 'kms.amazonaws.com', eventName: 'Decrypt' };

// ---------------------------------------------------------------------------------------------------------------
// Storage, as the writer does it, loaded in a shuffled order

export interface Chunk {
  id: number;
  events: CloudTrailEvent[];
}

export const chunks: Chunk[] = [];
{
  let id = 7;
  for (let o = 0; o < events.length;) {
    const size = Math.min(events.length - o, int(1, 700));
    chunks.push({ id, events: events.slice(o, o + size) });
    o += size;
    id += int(1, 3);
  }
}

export function segmentOf(c: Chunk): Segment {
  const built = buildColumns(c.events);
  const eid = new Uint32Array(c.events.length * 2);
  c.events.forEach((ev, i) => {
    if (typeof ev.eventID === 'string' && ev.eventID) stringHash(ev.eventID, eid, i * 2);
  });
  return { id: c.id, fileId: 100 + c.id, n: c.events.length, time: built.time, eid, cols: built.cols };
}

export const ix = new ColumnarIndex();
export const fx = new FieldIndex();
for (const c of shuffle(chunks)) ix.addSegment(segmentOf(c));
for (const c of shuffle(chunks)) fx.add({ id: c.id, ...buildFieldStore(c.events) }, ix.segBase.get(c.id)!);
export const engine = new Engine(ix, fx);

/** The event of each row of the index. */
export const rowEvent: CloudTrailEvent[] = new Array(ix.n);
for (const c of chunks) {
  const base = ix.segBase.get(c.id)!;
  c.events.forEach((ev, i) => (rowEvent[base + i] = ev));
}

// ---------------------------------------------------------------------------------------------------------------
// Checking one query

function show(ev: CloudTrailEvent): string {
  const s = JSON.stringify(ev, (_k, v) =>
    typeof v === 'string' && v.length > 200 ? v.slice(0, 60) + `…(${v.length})` : v,
  );
  return s.length > 1500 ? s.slice(0, 1500) + '…' : s;
}

/** Evaluates `q` with the engine and the reference; fails with the first differing events. Returns the match count. */
export function check(q: string, opts: EvalOptions = {}): number {
  const ast = parseQuery(q);
  const now = opts.now ?? NOW;
  const bm = engine.evaluate(ast, { ...opts, now });
  expect(bm.length).toBe(ix.n);
  const from = opts.from ?? -Infinity;
  const to = opts.to ?? Infinity;
  const windowed = opts.from !== undefined || opts.to !== undefined;
  const bad: string[] = [];
  let count = 0;
  for (let r = 0; r < ix.n; r++) {
    const ev = rowEvent[r];
    let want = referenceMatch(ast, ev, now);
    if (want && windowed) {
      const t = refEvent(ev).time;
      want = t >= from && t < to;
    }
    if (want) count++;
    if (!!bm[r] !== want && bad.length < 3)
      bad.push(
        `row ${r}: engine ${bm[r] ? 'matches' : 'does not match'}, reference ${want ? 'matches' : 'does not'}: ${show(ev)}`,
      );
  }
  if (bad.length) expect.fail(`query ${JSON.stringify(q)} ${JSON.stringify(opts)} disagrees:\n${bad.join('\n')}`);
  return count;
}
