/**
 * Differential tests of the query engine: ~3,000 generated events of many shapes are stored as the writer stores
 * them (segments + generic field stores, in chunks of random sizes, loaded in a shuffled order), and every query
 * (hand-written and generated) must select exactly the events the simple reference evaluator of
 * tests/unit/reference.ts selects. Facets, the histogram and the time order are checked against straightforward
 * counts over the same events.
 */
import { describe, expect, it } from 'vitest';
import type { CloudTrailEvent } from '../../src/lib/cloudtrail/event';
import { stringHash } from '../../src/lib/codec/hash';
import { ColumnarIndex } from '../../src/lib/query/columnar';
import { Engine, type EvalOptions } from '../../src/lib/query/engine';
import { computeFacets, computeHistogram, FACETS } from '../../src/lib/query/facets';
import { FieldIndex } from '../../src/lib/query/fieldIndex';
import { parseQuery, QuerySyntaxError } from '../../src/lib/query/parser';
import { buildFieldStore, MAX_VALUE_CHARS } from '../../src/lib/codec/fields';
import { buildColumns, type Segment } from '../../src/lib/codec/segment';
import { rng } from './helpers';
import { derivedColumns, referenceMatch, refEvent } from './reference';

// ---------------------------------------------------------------------------------------------------------------
// Event generation (seeded)

/** Seeds (override with KEYTRAIL_ENGINE_SEED=n to explore other data sets and queries). */
const SEED = Number(process.env.KEYTRAIL_ENGINE_SEED ?? 0x6b657974);
const R = rng(SEED);
const rand = (): number => R();
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
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

const BASE = Date.UTC(2024, 2, 1); // 2024-03-01
const DAY = 864e5;
const NOW = BASE + 20 * DAY + 12 * 36e5;

const ACCOUNTS = ['111122223333', '444455556666', '123456789012'];
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'US-East-1'];
const SOURCES: Record<string, string[]> = {
  'kms.amazonaws.com': ['Decrypt', 'Encrypt', 'GenerateDataKey', 'CreateKey', 'ScheduleKeyDeletion', 'DisableKey', 'CreateAlias', 'DescribeKey', 'ReEncrypt', 'ListAliases'],
  'cloudhsm.amazonaws.com': ['CreateCluster', 'DescribeClusters', 'InitializeCluster'],
  'sts.amazonaws.com': ['AssumeRole', 'GetCallerIdentity'],
  's3.amazonaws.com': ['GetObject', 'PutObject'],
  'iam.amazonaws.com': ['CreateUser', 'AttachRolePolicy'],
  'signin.amazonaws.com': ['ConsoleLogin'],
};
const UNICODE = ['Zoë', 'İstanbul', 'ΣΊΣΥΦΟΣ', 'straße', 'STRASSE', 'ẞig', 'Kelvin\u212A', 'José', '用户', '🔑admin', 'MiXeD-CaSe', 'Ünïcödé', 'naïve café', 'Finance'];
const USERS = ['alice', 'Bob', 'carol.smith', 'Zoë', 'İlker', '用户', 'MiXeD-CaSe'];
const ROLES = ['Admin', 'ReadOnly', 'KeyManager', 'OrganizationAccountAccessRole'];
const KEY_IDS = Array.from({ length: 8 }, () => uuid());
const ALIASES = ['app-key', 'Finance', 'aws/s3', 'ÜnïKey'];
const ACCESS_KEYS = Array.from({ length: 9 }, (_, i) => `AKIAEXAMPLE0${i + 1}`);
/** Longer than the field store indexes (its tail is only in the columns). */
const HUGE = 'HEADTOKEN ' + 'x'.repeat(MAX_VALUE_CHARS + 4_000) + ' TAILTOKEN';

const keyArn = (id: string, region = 'us-east-1', acct = ACCOUNTS[0]) => `arn:aws:kms:${region}:${acct}:key/${id}`;
const aliasArn = (a: string, region = 'us-east-1', acct = ACCOUNTS[0]) => `arn:aws:kms:${region}:${acct}:alias/${a}`;

function keyRef(): string {
  const id = pick(KEY_IDS);
  const a = pick(ALIASES);
  switch (int(0, 4)) {
    case 0: return id;
    case 1: return keyArn(id, pick(REGIONS.slice(0, 3)), pick(ACCOUNTS));
    case 2: return `alias/${a}`;
    case 3: return aliasArn(a, pick(REGIONS.slice(0, 3)), pick(ACCOUNTS));
    default: return id.toUpperCase();
  }
}

function isoSeconds(t: number): string {
  return new Date(t).toISOString().replace('.000Z', 'Z');
}

function identity(acct: string): unknown {
  const r = rand();
  if (r < 0.03) return undefined;
  if (r < 0.04) return null;
  const type = pick(['IAMUser', 'IAMUser', 'AssumedRole', 'AssumedRole', 'AssumedRole', 'AWSService', 'Root', 'AWSAccount', 'FederatedUser']);
  switch (type) {
    case 'IAMUser': {
      const u = pick(USERS);
      const o: Record<string, unknown> = { type, principalId: `AIDA${hex(12).toUpperCase()}`, arn: `arn:aws:iam::${acct}:user/${u}`, accountId: acct, accessKeyId: pick(ACCESS_KEYS), userName: u };
      if (chance(0.1)) delete o.userName;
      if (chance(0.05)) o.userName = null;
      return o;
    }
    case 'AssumedRole': {
      const role = pick(ROLES);
      const session = pick(['session-1', 'i-0abc', 'Zoë', 'botocore-session-1700000000']);
      const created = isoSeconds(BASE + int(0, 29) * DAY + int(0, 86399) * 1000);
      const o: Record<string, unknown> = {
        type, principalId: `AROA${hex(10).toUpperCase()}:${session}`, arn: `arn:aws:sts::${acct}:assumed-role/${role}/${session}`,
        accountId: acct, accessKeyId: `ASIA${hex(12).toUpperCase()}`,
        sessionContext: {
          sessionIssuer: { type: 'Role', principalId: `AROA${hex(10).toUpperCase()}`, arn: `arn:aws:iam::${acct}:role/${role}`, accountId: acct, userName: role },
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
      return { type, principalId: acct, arn: `arn:aws:iam::${acct}:root`, accountId: acct, ...(chance(0.5) ? { accessKeyId: pick(ACCESS_KEYS) } : {}) };
    case 'AWSAccount':
      return { type, principalId: `AIDA${hex(12).toUpperCase()}`, accountId: pick(ACCOUNTS) };
    default:
      return { type, principalId: `${acct}:${pick(USERS)}`, arn: `arn:aws:sts::${acct}:federated-user/${pick(USERS)}`, accountId: acct, sessionContext: { sessionIssuer: { type: 'IAMUser', userName: pick(USERS) } } };
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
    if (chance(0.5)) o.encryptionContext = { 'aws:s3:arn': `arn:aws:s3:::bucket-${int(1, 5)}/obj`, Department: pick(UNICODE), ...(chance(0.2) ? { department: pick(UNICODE) } : {}) };
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
  if (chance(0.1)) o.filters = [{ name: 'tag:Env', values: pick([['a', 'b'], ['Prod'], []]) }, { name: 'state', values: ['running'] }];
  if (chance(0.1)) o.roleArn = `arn:aws:iam::${pick(ACCOUNTS)}:role/${pick(ROLES)}`;
  if (chance(0.05)) o.description = pick(UNICODE) + ' ' + pick(UNICODE);
  if (chance(0.01)) o.policy = HUGE;
  if (chance(0.01)) o.withNul = 'before\u0000after';
  if (chance(0.03)) o.serial = pick(['0x1F', '0b101', ' 42 ', '007', '1e3', 'Infinity', '-', '.5']);
  if (chance(0.03)) o.createdAt = pick([isoSeconds(BASE + int(0, 40) * DAY), '2024-03-05', '42', 'Mar 1, 2024, 10:00:00 AM']);
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
        arn: keyArn(id), keyId: id, enabled: chance(0.8), keyUsage: 'ENCRYPT_DECRYPT', awsAccountId: ACCOUNTS[0],
        creationDate: pick(['Mar 1, 2024, 10:00:00 AM', isoSeconds(BASE + int(0, 30) * DAY)]),
      },
    };
  }
  if (chance(0.3)) return { keyId: keyArn(pick(KEY_IDS)), encryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
  if (chance(0.3)) return { credentials: { accessKeyId: `ASIA${hex(12).toUpperCase()}`, expiration: 'Mar 2, 2024, 10:00:00 AM' }, packedPolicySize: int(1, 99) };
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
    if (kind === 0) out.push({ accountId: acct, type: 'AWS::KMS::Key', ARN: keyArn(pick(KEY_IDS), pick(REGIONS.slice(0, 3)), acct) });
    else if (kind === 1) out.push({ accountId: acct, type: 'AWS::S3::Object', ARN: `arn:aws:s3:::bucket-${int(1, 5)}/obj` });
    else if (kind === 2) out.push({ type: 'AWS::IAM::Role', ARN: `arn:aws:iam::${acct}:role/${pick(ROLES)}` });
    else out.push(chance(0.5) ? { accountId: acct, type: 'AWS::KMS::Key' } : { ARN: aliasArn(pick(ALIASES), 'us-east-1', acct) });
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
  e.sourceIPAddress = chance(0.9) ? pick(['10.0.0.1', '192.0.2.15', '203.0.113.7', 'kms.amazonaws.com', 'AWS Internal', '2001:db8::1']) : undefined;
  e.userAgent = chance(0.01) ? HUGE : pick(['aws-cli/2.15.0 Python/3.11.6 Linux/6.1', 'AWS Internal', 'Mozilla/5.0 (X11; Linux x86_64)', 'Boto3/1.34.0 md/Botocore#1.34.0', 'kms.amazonaws.com', 'MiXeD-CaSe Agent']);
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
  if (chance(0.3)) e.tlsDetails = { tlsVersion: pick(['TLSv1.2', 'TLSv1.3']), cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: `kms.${pick(REGIONS)}.amazonaws.com` };
  if (chance(0.1)) e.additionalEventData = { 'aws:kms:key': pick(KEY_IDS), count: int(0, 3), MiXeD: pick(UNICODE) };
  if (chance(0.05)) e.sharedEventID = uuid();
  if (chance(0.05)) e.vpcEndpointId = '';
  if (chance(0.03)) e.apiVersion = null;
  if (i % 997 === 5) e.eventName = pick(UNICODE); // odd event names
  // pure JSON (drops undefined), as the ingest parses it
  return JSON.parse(JSON.stringify(e)) as CloudTrailEvent;
}

const N_EVENTS = 3000;
const events: CloudTrailEvent[] = Array.from({ length: N_EVENTS }, (_, i) => makeEvent(i));
// a few minimal events (only the two required fields)
for (let i = 0; i < 5; i++) events[int(0, N_EVENTS - 1)] = { eventSource: 'kms.amazonaws.com', eventName: 'Decrypt' };

// ---------------------------------------------------------------------------------------------------------------
// Storage, as the writer does it, loaded in a shuffled order

interface Chunk {
  id: number;
  events: CloudTrailEvent[];
}

const chunks: Chunk[] = [];
{
  let id = 7;
  for (let o = 0; o < events.length; ) {
    const size = Math.min(events.length - o, int(1, 700));
    chunks.push({ id, events: events.slice(o, o + size) });
    o += size;
    id += int(1, 3);
  }
}

function segmentOf(c: Chunk): Segment {
  const built = buildColumns(c.events);
  const eid = new Uint32Array(c.events.length * 2);
  c.events.forEach((ev, i) => {
    if (typeof ev.eventID === 'string' && ev.eventID) stringHash(ev.eventID, eid, i * 2);
  });
  return { id: c.id, fileId: 100 + c.id, n: c.events.length, time: built.time, eid, cols: built.cols };
}

const ix = new ColumnarIndex();
const fx = new FieldIndex();
for (const c of shuffle(chunks)) ix.addSegment(segmentOf(c));
for (const c of shuffle(chunks)) fx.add({ id: c.id, ...buildFieldStore(c.events) }, ix.segBase.get(c.id)!);
const engine = new Engine(ix, fx);

/** The event of each row of the index. */
const rowEvent: CloudTrailEvent[] = new Array(ix.n);
for (const c of chunks) {
  const base = ix.segBase.get(c.id)!;
  c.events.forEach((ev, i) => (rowEvent[base + i] = ev));
}

// ---------------------------------------------------------------------------------------------------------------
// Checking one query

function show(ev: CloudTrailEvent): string {
  const s = JSON.stringify(ev, (_k, v) => (typeof v === 'string' && v.length > 200 ? v.slice(0, 60) + `…(${v.length})` : v));
  return s.length > 1500 ? s.slice(0, 1500) + '…' : s;
}

/** Evaluates `q` with the engine and the reference; fails with the first differing events. Returns the match count. */
function check(q: string, opts: EvalOptions = {}): number {
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
    if (!!bm[r] !== want && bad.length < 3) bad.push(`row ${r}: engine ${bm[r] ? 'matches' : 'does not match'}, reference ${want ? 'matches' : 'does not'}: ${show(ev)}`);
  }
  if (bad.length) expect.fail(`query ${JSON.stringify(q)} ${JSON.stringify(opts)} disagrees:\n${bad.join('\n')}`);
  return count;
}

// ---------------------------------------------------------------------------------------------------------------
// Hand-written queries

const K0 = KEY_IDS[0];
const someEventId = events.find((e) => typeof e.eventID === 'string' && /[a-f]/.test(e.eventID) && e.eventID === e.eventID.toLowerCase())!.eventID as string;
const upperEventId = events.find((e) => typeof e.eventID === 'string' && e.eventID !== e.eventID.toLowerCase())!.eventID as string;

const HAND: string[] = [
  // everything / nothing
  '', '*', '-*', 'NOT *',
  // exact on columns, case-insensitive, aliases and field-name case
  'eventName:Decrypt', 'eventname:decrypt', 'EVENTNAME:DECRYPT', 'eventSource:kms.amazonaws.com', 'eventSource:KMS.AMAZONAWS.COM',
  'region:us-east-1', 'awsRegion:US-EAST-1', 'recipientAccountId:111122223333', 'ip:10.0.0.1', 'sourceIPAddress:"AWS Internal"',
  'ip:2001:db8::1', 'userAgent:"AWS Internal"', 'userAgent:kms.amazonaws.com', 'errorCode:AccessDenied', 'errorcode:accessdenied', 'errorCode:""',
  'eventType:AwsApiCall', 'readOnly:true', 'readOnly:false', 'readOnly:TRUE', 'readOnly:""', 'userIdentity.type:AssumedRole',
  'userIdentity.type:awsservice', 'UserIdentity.Type:ROOT', 'userIdentity.accountId:444455556666', `accessKeyId:${ACCESS_KEYS[0]}`,
  `userIdentity.accessKeyId:${ACCESS_KEYS[1].toLowerCase()}`, 'username:alice', 'username:root', 'username:Admin', 'username:zoë', 'username:İlker',
  'username:i̇lker', 'username:session-1', `resourceName:${keyArn(K0)}`, `resources.ARN:${keyArn(K0).toUpperCase()}`, 'resourceType:AWS::KMS::Key',
  'resources.type:aws::iam::role', 'resourceName:""', 'account:111122223333', 'account:444455556666', 'principal:arn:aws:iam::111122223333:role/Admin',
  'principal:cloudtrail.amazonaws.com', 'principal:AWSService', 'principal:"AWS Internal"', 'principal:AWSAccount',
  'caller:*', '-caller:*', 'caller:"IAMUser · long-term · CLI"', 'caller:*MFA*', 'caller:/^AssumedRole · temporary/', 'caller:unknown*',
  // key: semantics
  `key:${K0}`, `key:${K0.toUpperCase()}`, `key:${keyArn(K0)}`, `key:${keyArn(K0, 'eu-west-1', ACCOUNTS[1])}`, 'key:alias/app-key', 'key:app-key',
  `key:${aliasArn('Finance')}`, 'key:alias/finance', 'key:aws/s3', 'key:s3', 'key:ÜNÏKEY', `key:"${K0}"`, 'key:*', '-key:*',
  `key:*${K0.slice(0, 8)}*`, 'key:/^alias\\//', 'key:/:alias\\//', `key:/${K0}$/`,
  // eventID: exact is case-sensitive (hash); other forms read the stored value
  `eventId:${someEventId}`, `EventId:${someEventId.toUpperCase()}`, `eventID:${upperEventId}`, `eventid:${upperEventId.toLowerCase()}`,
  'eventID:*', '-eventID:*', `eventID:${someEventId.slice(0, 6)}*`, 'eventID:12345', 'eventId:/^[0-9A-F-]+$/', 'eventID:""',
  // time as a value
  'eventTime:2024-03-05*', 'time:*', '-time:*', 'eventTime:garbage', 'time:12345', 'eventTime:null', 'time:/T00:0/',
  // wildcards
  'eventName:Gen*', 'eventName:*key*', 'eventName:*KEY', 'eventName:*', 'eventName:**', 'principal:*:role/*', 'principal:arn:aws:sts::*',
  'key:*alias*', 'userAgent:aws-cli/*', 'resourceName:*:key/*', 'requestParameters.keyId:alias/*', 'requestParameters.keyId:ARN:AWS:KMS:*',
  'username:*ö*', 'requestParameters.encryptionContext.Department:*STRASSE*', 'requestParameters.encryptionContext.Department:*straße*',
  'requestParameters.encryptionContext.Department:*ẞ*', 'requestParameters.encryptionContext.Department:i*', 'requestParameters.encryptionContext.Department:*kelvin*',
  'requestParameters.encryptionContext.Department:σ*', 'errorCode:**', 'resourceName:**', 'errorMessage:*authorized*', 'errorMessage:"*)"', 'requestParameters.policy:*TAILTOKEN',
  'requestParameters.policy:HEADTOKEN*',
  // regexes
  'eventName:/^Gen/', 'eventName:/decrypt/', 'eventName:/decrypt/i', 'principal:/role\\/Admin/', 'key:/^[0-9a-f-]{36}$/', 'userAgent:/Python\\/3\\.\\d+/',
  'requestParameters:/^alias\\//', 'sourceIPAddress:/^10\\./', 'errorCode:/^$/', 'errorCode:/.*/', 'resourceName:/x*/', 'userAgent:/TAILTOKEN/',
  'requestParameters.withNul:/before.after/', 'requestParameters.description:/ /',
  // presence
  'errorCode:*', '-errorCode:*', 'requestParameters:*', '-requestParameters:*', 'requestParameters.keyId:*', 'resources:*', 'resources.accountId:*',
  'responseElements:*', 'userIdentity:*', '-userIdentity:*', 'userIdentity.sessionContext:*', 'principal:*', '-principal:*', 'readOnly:*',
  'username:*', 'awsRegion:*', 'account:*', 'resourceName:*', 'resourceType:*', 'additionalEventData:*', 'vpcEndpointId:*', 'requestParameters.nothing:*',
  'apiVersion:*', 'userIdentity.userName:*',
  // paths: any leaf at or below, array indices dropped, path names as typed
  `requestParameters.keyId:${K0}`, 'requestParameters.encryptionContext.Department:Finance', 'requestParameters:alias/app-key',
  'requestParameters.filters.values:b', 'requestParameters.filters.values:PROD', 'requestParameters.filters:running', 'resources.accountId:111122223333',
  'userIdentity.sessionContext.sessionIssuer.userName:Admin', 'userIdentity:Root', 'userIdentity:AssumedRole', 'userIdentity:/^AKIA/',
  'userIdentity:111122223333', 'userIdentity.principalId:*', 'userIdentity.arn:*', 'responseElements.keyMetadata.enabled:true',
  'requestParameters.dryRun:false', 'requestParameters.nothing:null', 'requestParameters:null', 'responseElements:null', 'userIdentity:null',
  'requestParameters.numberOfBytes:32', 'requestParameters.big:1e+21', 'requestParameters.ratio:1.5', 'tlsDetails.tlsVersion:TLSv1.3', 'noSuch.field:x',
  'nosuchfield:*', 'requestparameters.keyid:*', 'userIdentity.userName:null', 'eventVersion:1.08', 'eventCategory:management', 'requestID:*',
  'sharedEventID:*', 'managementEvent:false', 'requestParameters.withNul:"before\uFFFDafter"', 'resources:null', 'requestParameters.filters.values:*',
  'additionalEventData.MiXeD:"naïve café"', 'requestParameters.encryptionContext.department:*', 'vpcEndpointId:""',
  // comparisons
  'requestParameters.numberOfBytes>32', 'requestParameters.numberOfBytes>=32', 'requestParameters.numberOfBytes<64', 'requestParameters.numberOfBytes<=16',
  'requestParameters.ratio>1', 'requestParameters.negative<0', 'requestParameters.negative>=-0.5', 'requestParameters>100', 'account>200000000000',
  'requestParameters.big>1000', 'eventTime>=2024-03-10', 'time<2024-03-05T12:00', 'eventTime>2024-03-10T00:00:00+02:00', 'eventTime<=2024-03-01',
  'EventTime>2024-03-30T23:59:59Z', 'userIdentity.sessionContext.attributes.creationDate>=2024-03-15', 'responseElements.keyMetadata.creationDate>2024-01-01',
  'requestParameters>2024-01-01', 'requestParameters.createdAt<2024-03-20', 'readOnly>0', 'eventID>5', 'additionalEventData.count>=2',
  'requestParameters.serial>4', 'requestParameters.serial<=0.5', 'requestParameters.serial>=100', 'requestParameters.serial:007', 'requestParameters.serial:" 42 "',
  'userIdentity>200000000000', 'region<=2024-03-18', 'eventID>=2024-03-14T18:18:16', 'responseElements<=2024-03-21',
  // relative time
  'last:24h', 'last:7d', 'last:1w', 'last:90m', 'last:1.5d', 'last:30s', 'LAST:2d',
  // free text: words, phrases, path names, derived values, unicode, huge values
  'decrypt', 'Decrypt', 'kms', 'KMS', 'alias', '"aws internal"', 'AccessDenied', 'accessdenied', 'useridentity', 'sessionContext', 'keyid',
  'encryptioncontext', 'tlsv1.3', '111122223333', 'istanbul', '"İstanbul"', 'i̇stanbul', 'straße', 'ẞ', '"ΣΊΣΥΦΟΣ"', 'σίσυφος', 'σίσυφοσ', 'kelvin',
  'HEADTOKEN', 'TAILTOKEN', '🔑', '用户', 'zzznotfound', '""', '"awsaccount:"', '"AWSService"', 'root', '"root "', 'null', 'true', '"before"',
  '"\uFFFD"', 'mixed-case', '"botocore#1"', 'aws:kms:key', '"aws:s3:arn"',
  // free text: wildcards (unanchored) and regexes
  'decr*pt', '*alias*', 'arn*key', 'ISTANB*', 'ΣΊΣ*', 'head*tail', '/^Decrypt$/', '/decrypt/i', '/^root$/', '/AWSAccount:/', '/^$/', '/TAILTOKEN/',
  '/\\d{12}/', '/^[A-Z]{4}EXAMPLE0[1-3]$/', '/İ/', '/σ$/', '/ς$/',
  // boolean structure
  'eventName:Decrypt OR eventName:Encrypt', 'eventName:Decrypt AND errorCode:*', 'eventName:Decrypt errorCode:*', 'NOT eventName:Decrypt',
  '-eventName:Decrypt', '-(eventName:Decrypt OR eventName:Encrypt)', '(eventSource:kms.amazonaws.com -readOnly:true) OR userIdentity.type:Root',
  'NOT NOT errorCode:*', 'key:alias/app-key last:7d', 'eventName:Decrypt OR eventName:Encrypt errorCode:*', '(a OR b) (c OR d)',
  'kms -decrypt NOT (region:us-east-1 OR region:eu-west-1) eventTime>=2024-03-03', 'username:* -principal:*', '-userIdentity:* principal:*',
];

describe('query engine vs reference: hand-written queries', () => {
  it('covers the data set', () => {
    expect(ix.n).toBe(N_EVENTS);
    expect(HAND.length).toBeGreaterThan(150);
  });

  it.each(HAND.map((q, i) => [i, q] as const))('#%i %s', (i, q) => {
    check(q);
    // the same query in a time window (from only, to only, both)
    const a = BASE + int(0, 25) * DAY + int(0, 86399) * 1000;
    const b = a + int(1, 10) * DAY;
    const w = i % 3;
    check(q, w === 0 ? { from: a } : w === 1 ? { to: b } : { from: a, to: b });
  });

  it('rejects comparisons with a value that is neither a number nor a time', () => {
    for (const q of ['requestParameters.numberOfBytes>abc', 'eventTime>yesterday', 'numberOfBytes<=1e3']) {
      expect(() => engine.evaluate(parseQuery(q), { now: NOW }), q).toThrow(QuerySyntaxError);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Generated queries

const QR = rng(SEED ^ 0x1a0d0b04);
const qint = (lo: number, hi: number): number => lo + Math.floor(QR() * (hi - lo + 1));
const qpick = <T>(a: readonly T[]): T => a[Math.floor(QR() * a.length)];
const qchance = (p: number): boolean => QR() < p;

const SPECIAL_NAMES = [
  'eventName', 'EventName', 'eventSource', 'awsRegion', 'region', 'recipientAccountId', 'sourceIPAddress', 'ip', 'userAgent', 'errorCode', 'eventType',
  'readOnly', 'userIdentity.type', 'userIdentity.accountId', 'userIdentity.accessKeyId', 'accessKeyId', 'username', 'resourceName', 'resources.ARN',
  'resourceType', 'resources.type', 'eventId', 'eventTime', 'time', 'account', 'principal', 'key', 'KEY', 'Username', 'caller',
];
const allPaths = new Set<string>();
for (const ev of events) {
  for (const l of refEvent(ev).leaves) {
    const parts = l.path.split('.');
    for (let k = 1; k <= parts.length; k++) allPaths.add(parts.slice(0, k).join('.'));
  }
}
const PATHS = [...allPaths].filter((p) => /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(p)).concat(['noSuch.path', 'requestparameters']);

/** The values a field has in a random event (as the reference sees them). */
function sampleValues(field: string): string[] {
  for (let tries = 0; tries < 20; tries++) {
    const ev = events[qint(0, events.length - 1)];
    const r = refEvent(ev);
    const f = field.toLowerCase();
    let vals: string[];
    const colOf: Record<string, string[]> = {
      eventname: ['eventName'], eventsource: ['eventSource'], awsregion: ['awsRegion'], region: ['awsRegion'], recipientaccountid: ['recipientAccountId'],
      sourceipaddress: ['sourceIPAddress'], ip: ['sourceIPAddress'], useragent: ['userAgent'], errorcode: ['errorCode'], eventtype: ['eventType'],
      readonly: ['readOnly'], 'useridentity.type': ['identityType'], 'useridentity.accountid': ['accountId'], 'useridentity.accesskeyid': ['accessKeyId'],
      accesskeyid: ['accessKeyId'], username: ['username'], resourcename: ['resourceNames'], 'resources.arn': ['resourceNames'], resourcetype: ['resourceTypes'],
      'resources.type': ['resourceTypes'], account: ['accountId', 'recipientAccountId'], principal: ['principal'], key: ['key', 'resourceNames'],
      caller: ['caller'],
    };
    if (colOf[f]) vals = colOf[f].flatMap((c) => r.cols[c]);
    else {
      const p = f === 'eventid' ? 'eventID' : f === 'eventtime' || f === 'time' ? 'eventTime' : field;
      vals = r.leaves.filter((l) => l.path === p || l.path.startsWith(p + '.')).map((l) => l.value);
    }
    if (vals.length) return vals;
  }
  return [qpick(['zzz', 'Decrypt', 'null', 'true', '42'])];
}

function anyText(): string {
  const ev = events[qint(0, events.length - 1)];
  const r = refEvent(ev);
  const all = [...r.leaves.filter((l) => l.generic).map((l) => l.value), ...r.leaves.map((l) => l.path), ...Object.values(r.cols).flat()];
  return all.length ? qpick(all) : 'Decrypt';
}

function substring(s: string, maxLen = 14): string {
  if (s.length <= 2) return s;
  const len = qint(1, Math.min(maxLen, s.length));
  const at = qint(0, s.length - len);
  // avoid splitting a surrogate pair
  let out = s.slice(at, at + len);
  if (/^[\uDC00-\uDFFF]/.test(out)) out = out.slice(1);
  if (/[\uD800-\uDBFF]$/.test(out)) out = out.slice(0, -1);
  return out || s.slice(0, 1);
}

function recase(s: string): string {
  switch (qint(0, 3)) {
    case 0: return s.toLowerCase();
    case 1: return s.toUpperCase();
    case 2: return [...s].map((c) => (qchance(0.5) ? c.toUpperCase() : c.toLowerCase())).join('');
    default: return s;
  }
}

const quoteText = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\//g, '\\/');

/** A field value as query text: unquoted when it is one safe word, quoted otherwise. */
function exactText(s: string): string {
  return /^[^\s()"'/*][^\s()*]*$/.test(s) && !['AND', 'OR', 'NOT'].includes(s) ? s : quoteText(s);
}

/** A wildcard pattern from a value (characters the tokenizer would split on become `*`). */
function wildcardText(s: string, anchoredPart: boolean): string {
  let p: string;
  const sub = substring(s);
  switch (qint(0, 3)) {
    case 0: p = anchoredPart ? s.slice(0, qint(1, Math.min(10, s.length))) + '*' : sub + '*'; break;
    case 1: p = '*' + (anchoredPart ? s.slice(Math.max(0, s.length - qint(1, 10))) : sub); break;
    case 2: p = '*' + sub + '*'; break;
    default: {
      const a = s.slice(0, qint(0, Math.min(5, s.length)));
      const b = s.slice(Math.max(0, s.length - qint(0, 5)));
      p = a + '*' + b;
    }
  }
  p = p.replace(/[\s()"']/g, '*');
  if (p.startsWith('/') || p.startsWith('-')) p = '*' + p;
  if (p.length > 200) p = p.slice(0, 20) + '*';
  if (!p.includes('*')) p += '*';
  return recase(p);
}

function regexText(s: string): string {
  const sub = substring(s, 10);
  let src = escapeRe(sub);
  const r = QR();
  if (r < 0.2) src = '^' + escapeRe(s.slice(0, 12));
  else if (r < 0.3) src = escapeRe(s.slice(-8)) + '$';
  else if (r < 0.4) src = src.replace(/[a-z]/, '.');
  else if (r < 0.45) src = '^' + escapeRe(s) + '$';
  if (src.length > 300) src = src.slice(0, 40).replace(/\\$/, '');
  const flags = qchance(0.3) ? 'i' : '';
  return `/${qchance(0.3) ? recase(src.replace(/\\./g, '')) : src}/${flags}`;
}

function fieldTerm(): string {
  const field = qchance(0.5) ? qpick(SPECIAL_NAMES) : qpick(PATHS);
  const vals = sampleValues(field);
  const v = qpick(vals);
  const r = QR();
  if (r < 0.12) return `${field}:*`;
  if (r < 0.45) {
    let t = v.length > 200 ? v.slice(0, 10) : v;
    if (field.toLowerCase() === 'key' && qchance(0.5)) t = t.slice(Math.max(t.lastIndexOf('/'), t.lastIndexOf(':')) + 1);
    if (field.toLowerCase() !== 'eventid') t = qchance(0.5) ? recase(t) : t;
    return `${field}:${exactText(t)}`;
  }
  if (r < 0.7) return `${field}:${wildcardText(v, true)}`;
  if (r < 0.85) return `${field}:${regexText(v)}`;
  // comparisons
  if (field.toLowerCase() === 'eventtime' || field.toLowerCase() === 'time' || /creationDate|createdAt/.test(field)) return `${field}${qpick(['>', '>=', '<', '<='])}${timeText()}`;
  const num = vals.find((x) => /^-?\d+(\.\d+)?$/.test(x));
  if (num !== undefined) return `${field}${qpick(['>', '>=', '<', '<='])}${qchance(0.7) ? num : String(qint(-10, 100000))}`;
  return `${field}${qpick(['>', '>=', '<', '<='])}${qchance(0.5) ? String(qint(-10, 2000)) : timeText()}`;
}

function timeText(): string {
  const t = BASE + qint(-2, 32) * DAY + qint(0, 86399) * 1000;
  const iso = new Date(t).toISOString();
  switch (qint(0, 4)) {
    case 0: return iso.slice(0, 10);
    case 1: return iso.slice(0, 16);
    case 2: return iso.slice(0, 19) + 'Z';
    case 3: return iso.slice(0, 19) + qpick(['+02:00', '-05:00', '+0530']);
    default: return iso.slice(0, 19);
  }
}

function bareTerm(): string {
  const r = QR();
  const text = anyText();
  if (r < 0.5) {
    const w = recase(substring(text.length > 200 ? text.slice(0, 50) : text));
    const fieldLike = /^[A-Za-z_][A-Za-z0-9_.-]*(:|>=|<=|>|<)/.test(w);
    return /^[A-Za-z0-9_.@+=,][A-Za-z0-9_.@+=,-]*$/.test(w) && !fieldLike && !['AND', 'OR', 'NOT'].includes(w) ? w : quoteText(w);
  }
  if (r < 0.7) {
    let p = wildcardText(text.length > 200 ? text.slice(0, 50) : text, false);
    if (/^[A-Za-z_][A-Za-z0-9_.-]*(:|>=|<=|>|<)/.test(p) || /^(AND|OR|NOT)$/.test(p)) p = '*' + p;
    return p;
  }
  if (r < 0.9) return regexText(text.length > 200 ? text.slice(0, 50) : text);
  return qpick(['last:24h', 'last:3d', 'last:1w', 'last:36h', `zzz${qint(0, 9)}`]);
}

function term(depth: number): string {
  const r = QR();
  if (depth < 2 && r < 0.15) return `(${expr(depth + 1)})`;
  const t = r < 0.65 ? fieldTerm() : bareTerm();
  return qchance(0.15) ? (qchance(0.5) ? `-${t}` : `NOT ${t}`) : t;
}

function expr(depth: number): string {
  const n = qint(1, depth === 0 ? 4 : 3);
  let out = term(depth);
  for (let i = 1; i < n; i++) out += qpick([' ', ' ', ' AND ', ' OR ']) + term(depth);
  return out;
}

const GENERATED: string[] = [];
const rejected: string[] = [];
while (GENERATED.length < 500) {
  const q = expr(0);
  try {
    parseQuery(q);
    GENERATED.push(q);
  } catch (err) {
    rejected.push(`${q}  (${(err as Error).message})`);
    if (rejected.length > 200) throw new Error(`the generator makes invalid queries:\n${rejected.slice(0, 10).join('\n')}`, { cause: err });
  }
}

describe('query engine vs reference: generated queries', () => {
  const counts: number[] = [];

  it.each(GENERATED.map((q, i) => [i, q] as const))('#%i %s', (i, q) => {
    counts.push(check(q));
    if (i % 5 === 0) {
      const a = BASE + qint(-1, 28) * DAY;
      check(q, { from: a, to: a + qint(1, 5) * DAY, now: NOW + qint(-5, 5) * DAY });
    }
  });

  it('are mostly selective (neither nothing nor everything)', () => {
    const between = counts.filter((c) => c > 0 && c < ix.n).length;
    expect(rejected.length).toBeLessThan(100);
    expect(between).toBeGreaterThan(counts.length * 0.5);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Facets, histogram, time order

/** Matching rows in time order, as the query worker lists them. */
function rowsOf(bm: Uint8Array): Uint32Array {
  const sorted = ix.sortedByTime();
  return Uint32Array.from([...sorted].filter((r) => bm[r]));
}

const FACET_QUERIES = ['', 'eventSource:kms.amazonaws.com', 'errorCode:*', 'key:alias/app-key OR principal:*:role/*', 'zzznotfound', 'decrypt -readOnly:true'];

describe('facets and histogram', () => {
  it.each(FACET_QUERIES)('facets of %j', (q) => {
    const rows = rowsOf(engine.evaluate(parseQuery(q), { now: NOW }));
    const all = computeFacets(ix, rows, 1_000_000);
    const top = computeFacets(ix, rows);
    expect(all.map((f) => f.field)).toEqual(FACETS.map((f) => f.field));
    for (let k = 0; k < FACETS.length; k++) {
      const spec = FACETS[k];
      const want = new Map<string, number>();
      for (const r of rows) {
        const v = derivedColumns(rowEvent[r])[spec.col] as string;
        want.set(v, (want.get(v) ?? 0) + 1);
      }
      const got = all[k];
      expect(got.distinct).toBe(want.size);
      expect(new Map(got.top.map((t) => [t.value, t.count]))).toEqual(want);
      for (let j = 1; j < got.top.length; j++) {
        const a = got.top[j - 1];
        const b = got.top[j];
        expect(a.count > b.count || (a.count === b.count && a.value < b.value), `${spec.field} order`).toBe(true);
      }
      expect(top[k].top).toEqual(got.top.slice(0, 8));
      expect(top[k].distinct).toBe(want.size);
    }
  });

  const windows: [string, number | undefined, number | undefined, number][] = [
    ['', undefined, undefined, 120],
    ['eventName:Decrypt', undefined, undefined, 120],
    ['errorCode:*', undefined, undefined, 7],
    ['', BASE + 3 * DAY, BASE + 4 * DAY, 120],
    ['kms', BASE + 3 * DAY + 1234, BASE + 9 * DAY, 50],
    ['', BASE + 10 * DAY, undefined, 120],
    ['', undefined, BASE + 2 * DAY, 24],
    ['eventID:*', BASE + 5 * DAY + 3600e3, BASE + 5 * DAY + 3600e3 + 90e3, 120],
    ['zzznotfound', undefined, undefined, 120],
  ];
  it.each(windows)('histogram of %j in [%s, %s) with %i bins', (q, from, to, bins) => {
    const rows = rowsOf(engine.evaluate(parseQuery(q), { from, to, now: NOW }));
    const h = computeHistogram(ix, rows, bins, from, to);
    const timed = [...rows].map((r) => ix.time[r]).filter((t) => !Number.isNaN(t));
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(timed.length);
    if (!timed.length && from === undefined) return;
    expect(h.step).toBeGreaterThan(0);
    expect(h.start % h.step).toBe(0);
    const want = new Array<number>(h.counts.length).fill(0);
    for (const t of timed) {
      const b = Math.floor((t - h.start) / h.step);
      expect(b).toBeGreaterThanOrEqual(0);
      expect(b).toBeLessThan(h.counts.length);
      expect(t >= h.start + b * h.step && t < h.start + (b + 1) * h.step).toBe(true);
      want[b]++;
    }
    expect(h.counts).toEqual(want);
    if (from !== undefined) expect(h.start).toBeLessThanOrEqual(from);
    if (to !== undefined) expect(h.start + h.counts.length * h.step).toBeGreaterThanOrEqual(to);
    expect(h.counts.length).toBeLessThanOrEqual(bins + 1);
  });
});

function expectTimeOrder(index: ColumnarIndex): void {
  const s = index.sortedByTime();
  expect(s.length).toBe(index.n);
  const seen = new Uint8Array(index.n);
  for (const r of s) {
    expect(r).toBeLessThan(index.n);
    expect(seen[r]).toBe(0);
    seen[r] = 1;
  }
  for (let i = 1; i < s.length; i++) {
    const a = index.time[s[i - 1]];
    const b = index.time[s[i]];
    if (Number.isNaN(b)) {
      if (Number.isNaN(a)) expect(s[i - 1]).toBeLessThan(s[i]);
      continue;
    }
    expect(Number.isNaN(a), `NaN before a time at ${i}`).toBe(false);
    expect(a).toBeLessThanOrEqual(b);
    if (a === b) expect(s[i - 1]).toBeLessThan(s[i]);
  }
  expect(index.sortedByTime()).toBe(s); // cached
}

describe('time order', () => {
  it('sortedByTime is a permutation, non-decreasing, NaN last (whole seconds)', () => {
    expect([...ix.time.subarray(0, ix.n)].some(Number.isNaN)).toBe(true);
    expectTimeOrder(ix);
  });

  it('sortedByTime with sub-second times (comparator sort) and after more rows are added', () => {
    const other = new ColumnarIndex();
    const evs = events.slice(0, 900).map((e, i) => (i % 7 === 0 && typeof e.eventTime === 'string' && e.eventTime.endsWith('Z') ? { ...e, eventTime: e.eventTime.replace('Z', `.${String(i % 1000).padStart(3, '0')}Z`) } : e));
    other.addSegment(segmentOf({ id: 1, events: evs.slice(0, 400) }));
    expectTimeOrder(other);
    other.addSegment(segmentOf({ id: 2, events: evs.slice(400) }));
    expectTimeOrder(other);
    // adding a loaded segment again is a no-op
    expect(other.addSegment(segmentOf({ id: 2, events: evs.slice(400) }))).toBe(0);
    expect(other.n).toBe(900);
  });

  it('valueOfRow finds each row\'s eventID whatever the load order', () => {
    for (let r = 0; r < ix.n; r++) {
      const id = rowEvent[r].eventID;
      const want = id === undefined ? undefined : String(id);
      expect(fx.valueOfRow(r, 'eventID')).toBe(want);
    }
  });
});

describe('engine details', () => {
  /** A small index of the given events (one chunk). */
  function small(evs: CloudTrailEvent[]): Engine {
    const i = new ColumnarIndex();
    const f = new FieldIndex();
    i.addSegment(segmentOf({ id: 1, events: evs }));
    f.add({ id: 1, ...buildFieldStore(evs) }, 0);
    return new Engine(i, f);
  }
  const ev = (extra: Record<string, unknown>): CloudTrailEvent => ({ eventSource: 'kms.amazonaws.com', eventName: 'Decrypt', ...extra });

  it('free text finds values after one whose lower case is longer (İ), without looping', () => {
    const e = small([ev({ a: 'İİİİ' }), ev({ b: 'needle' }), ev({ c: 'İ' }), ev({ d: 'x' })]);
    expect([...e.evaluate(parseQuery('needle'))]).toEqual([0, 1, 0, 0]);
    expect([...e.evaluate(parseQuery('"i̇"'))]).toEqual([1, 0, 1, 0]);
    expect([...e.evaluate(parseQuery('x'))]).toEqual([0, 0, 0, 1]);
  });

  it('warns about paths no event has, not about paths kept as columns', () => {
    const info = { warnings: [] as string[], usedFields: false };
    engine.evaluate(parseQuery('noSuch.field:x userIdentity:Root requestParameters:*'), { now: NOW }, info);
    expect(info.warnings).toEqual(['no stored event has a field "noSuch.field"']);
    expect(info.usedFields).toBe(true);
  });

  it('compares values as decimal numbers or ISO times only', () => {
    const e = small([ev({ v: '0x1F' }), ev({ v: '42' }), ev({ v: 'us-east-1' }), ev({ v: '2024-03-02T00:00:00Z' }), ev({ v: '007' })]);
    expect([...e.evaluate(parseQuery('v>5'))]).toEqual([0, 1, 0, 0, 1]);
    expect([...e.evaluate(parseQuery('v>2024-03-01'))]).toEqual([0, 0, 0, 1, 0]);
    expect([...e.evaluate(parseQuery('v<2024-03-01'))]).toEqual([0, 0, 0, 0, 0]);
  });
});
