/**
 * Differential tests of the query engine: every query (hand-written and generated) must select exactly the events
 * the simple reference evaluator of tests/unit/reference.ts selects, over the corpus of tests/unit/engine-corpus.ts.
 * Slow (hundreds of queries over the whole corpus): in the `slow` vitest project.
 */
import { describe, expect, it } from 'vitest';
import { parseQuery, QuerySyntaxError } from '../../src/lib/query/parser';
import { rng } from './helpers';
import { refEvent } from './reference';
import {
  SEED,
  int,
  BASE,
  DAY,
  NOW,
  ACCOUNTS,
  KEY_IDS,
  ACCESS_KEYS,
  keyArn,
  aliasArn,
  N_EVENTS,
  events,
  ix,
  engine,
  check,
} from './engine-corpus';

// ---------------------------------------------------------------------------------------------------------------
// Hand-written queries

const K0 = KEY_IDS[0];
const someEventId = events.find(
  (e) => typeof e.eventID === 'string' && /[a-f]/.test(e.eventID) && e.eventID === e.eventID.toLowerCase(),
)!.eventID as string;
const upperEventId = events.find((e) => typeof e.eventID === 'string' && e.eventID !== e.eventID.toLowerCase())!
  .eventID as string;

const HAND: string[] = [
  // everything / nothing
  '',
  '*',
  '-*',
  'NOT *',
  // exact on columns, case-insensitive, aliases and field-name case
  'eventName:Decrypt',
  'eventname:decrypt',
  'EVENTNAME:DECRYPT',
  'eventSource:kms.amazonaws.com',
  'eventSource:KMS.AMAZONAWS.COM',
  'region:us-east-1',
  'awsRegion:US-EAST-1',
  'recipientAccountId:111122223333',
  'ip:10.0.0.1',
  'sourceIPAddress:"AWS Internal"',
  'ip:2001:db8::1',
  'userAgent:"AWS Internal"',
  'userAgent:kms.amazonaws.com',
  'errorCode:AccessDenied',
  'errorcode:accessdenied',
  'errorCode:""',
  'eventType:AwsApiCall',
  'readOnly:true',
  'readOnly:false',
  'readOnly:TRUE',
  'readOnly:""',
  'userIdentity.type:AssumedRole',
  'userIdentity.type:awsservice',
  'UserIdentity.Type:ROOT',
  'userIdentity.accountId:444455556666',
  `accessKeyId:${ACCESS_KEYS[0]}`,
  `userIdentity.accessKeyId:${ACCESS_KEYS[1].toLowerCase()}`,
  'username:alice',
  'username:root',
  'username:Admin',
  'username:zoë',
  'username:İlker',
  'username:i̇lker',
  'username:session-1',
  `resourceName:${keyArn(K0)}`,
  `resources.ARN:${keyArn(K0).toUpperCase()}`,
  'resourceType:AWS::KMS::Key',
  'resources.type:aws::iam::role',
  'resourceName:""',
  'account:111122223333',
  'account:444455556666',
  'principal:arn:aws:iam::111122223333:role/Admin',
  'principal:cloudtrail.amazonaws.com',
  'principal:AWSService',
  'principal:"AWS Internal"',
  'principal:AWSAccount',
  'caller:*',
  '-caller:*',
  'caller:"IAMUser · long-term · CLI"',
  'caller:*MFA*',
  'caller:/^AssumedRole · temporary/',
  'caller:unknown*',
  // key: semantics
  `key:${K0}`,
  `key:${K0.toUpperCase()}`,
  `key:${keyArn(K0)}`,
  `key:${keyArn(K0, 'eu-west-1', ACCOUNTS[1])}`,
  'key:alias/app-key',
  'key:app-key',
  `key:${aliasArn('Finance')}`,
  'key:alias/finance',
  'key:aws/s3',
  'key:s3',
  'key:ÜNÏKEY',
  `key:"${K0}"`,
  'key:*',
  '-key:*',
  `key:*${K0.slice(0, 8)}*`,
  'key:/^alias\\//',
  'key:/:alias\\//',
  `key:/${K0}$/`,
  // eventID: exact is case-sensitive (hash); other forms read the stored value
  `eventId:${someEventId}`,
  `EventId:${someEventId.toUpperCase()}`,
  `eventID:${upperEventId}`,
  `eventid:${upperEventId.toLowerCase()}`,
  'eventID:*',
  '-eventID:*',
  `eventID:${someEventId.slice(0, 6)}*`,
  'eventID:12345',
  'eventId:/^[0-9A-F-]+$/',
  'eventID:""',
  // time as a value
  'eventTime:2024-03-05*',
  'time:*',
  '-time:*',
  'eventTime:garbage',
  'time:12345',
  'eventTime:null',
  'time:/T00:0/',
  // wildcards
  'eventName:Gen*',
  'eventName:*key*',
  'eventName:*KEY',
  'eventName:*',
  'eventName:**',
  'principal:*:role/*',
  'principal:arn:aws:sts::*',
  'key:*alias*',
  'userAgent:aws-cli/*',
  'resourceName:*:key/*',
  'requestParameters.keyId:alias/*',
  'requestParameters.keyId:ARN:AWS:KMS:*',
  'username:*ö*',
  'requestParameters.encryptionContext.Department:*STRASSE*',
  'requestParameters.encryptionContext.Department:*straße*',
  'requestParameters.encryptionContext.Department:*ẞ*',
  'requestParameters.encryptionContext.Department:i*',
  'requestParameters.encryptionContext.Department:*kelvin*',
  'requestParameters.encryptionContext.Department:σ*',
  'errorCode:**',
  'resourceName:**',
  'errorMessage:*authorized*',
  'errorMessage:"*)"',
  'requestParameters.policy:*TAILTOKEN',
  'requestParameters.policy:HEADTOKEN*',
  // regexes
  'eventName:/^Gen/',
  'eventName:/decrypt/',
  'eventName:/decrypt/i',
  'principal:/role\\/Admin/',
  'key:/^[0-9a-f-]{36}$/',
  'userAgent:/Python\\/3\\.\\d+/',
  'requestParameters:/^alias\\//',
  'sourceIPAddress:/^10\\./',
  'errorCode:/^$/',
  'errorCode:/.*/',
  'resourceName:/x*/',
  'userAgent:/TAILTOKEN/',
  'requestParameters.withNul:/before.after/',
  'requestParameters.description:/ /',
  // presence
  'errorCode:*',
  '-errorCode:*',
  'requestParameters:*',
  '-requestParameters:*',
  'requestParameters.keyId:*',
  'resources:*',
  'resources.accountId:*',
  'responseElements:*',
  'userIdentity:*',
  '-userIdentity:*',
  'userIdentity.sessionContext:*',
  'principal:*',
  '-principal:*',
  'readOnly:*',
  'username:*',
  'awsRegion:*',
  'account:*',
  'resourceName:*',
  'resourceType:*',
  'additionalEventData:*',
  'vpcEndpointId:*',
  'requestParameters.nothing:*',
  'apiVersion:*',
  'userIdentity.userName:*',
  // paths: any leaf at or below, array indices dropped, path names as typed
  `requestParameters.keyId:${K0}`,
  'requestParameters.encryptionContext.Department:Finance',
  'requestParameters:alias/app-key',
  'requestParameters.filters.values:b',
  'requestParameters.filters.values:PROD',
  'requestParameters.filters:running',
  'resources.accountId:111122223333',
  'userIdentity.sessionContext.sessionIssuer.userName:Admin',
  'userIdentity:Root',
  'userIdentity:AssumedRole',
  'userIdentity:/^AKIA/',
  'userIdentity:111122223333',
  'userIdentity.principalId:*',
  'userIdentity.arn:*',
  'responseElements.keyMetadata.enabled:true',
  'requestParameters.dryRun:false',
  'requestParameters.nothing:null',
  'requestParameters:null',
  'responseElements:null',
  'userIdentity:null',
  'requestParameters.numberOfBytes:32',
  'requestParameters.big:1e+21',
  'requestParameters.ratio:1.5',
  'tlsDetails.tlsVersion:TLSv1.3',
  'noSuch.field:x',
  'nosuchfield:*',
  'requestparameters.keyid:*',
  'userIdentity.userName:null',
  'eventVersion:1.08',
  'eventCategory:management',
  'requestID:*',
  'sharedEventID:*',
  'managementEvent:false',
  'requestParameters.withNul:"before\uFFFDafter"',
  'resources:null',
  'requestParameters.filters.values:*',
  'additionalEventData.MiXeD:"naïve café"',
  'requestParameters.encryptionContext.department:*',
  'vpcEndpointId:""',
  // comparisons
  'requestParameters.numberOfBytes>32',
  'requestParameters.numberOfBytes>=32',
  'requestParameters.numberOfBytes<64',
  'requestParameters.numberOfBytes<=16',
  'requestParameters.ratio>1',
  'requestParameters.negative<0',
  'requestParameters.negative>=-0.5',
  'requestParameters>100',
  'account>200000000000',
  'requestParameters.big>1000',
  'eventTime>=2024-03-10',
  'time<2024-03-05T12:00',
  'eventTime>2024-03-10T00:00:00+02:00',
  'eventTime<=2024-03-01',
  'EventTime>2024-03-30T23:59:59Z',
  'userIdentity.sessionContext.attributes.creationDate>=2024-03-15',
  'responseElements.keyMetadata.creationDate>2024-01-01',
  'requestParameters>2024-01-01',
  'requestParameters.createdAt<2024-03-20',
  'readOnly>0',
  'eventID>5',
  'additionalEventData.count>=2',
  'requestParameters.serial>4',
  'requestParameters.serial<=0.5',
  'requestParameters.serial>=100',
  'requestParameters.serial:007',
  'requestParameters.serial:" 42 "',
  'userIdentity>200000000000',
  'region<=2024-03-18',
  'eventID>=2024-03-14T18:18:16',
  'responseElements<=2024-03-21',
  // relative time
  'last:24h',
  'last:7d',
  'last:1w',
  'last:90m',
  'last:1.5d',
  'last:30s',
  'LAST:2d',
  // free text: words, phrases, path names, derived values, unicode, huge values
  'decrypt',
  'Decrypt',
  'kms',
  'KMS',
  'alias',
  '"aws internal"',
  'AccessDenied',
  'accessdenied',
  'useridentity',
  'sessionContext',
  'keyid',
  'encryptioncontext',
  'tlsv1.3',
  '111122223333',
  'istanbul',
  '"İstanbul"',
  'i̇stanbul',
  'straße',
  'ẞ',
  '"ΣΊΣΥΦΟΣ"',
  'σίσυφος',
  'σίσυφοσ',
  'kelvin',
  'HEADTOKEN',
  'TAILTOKEN',
  '🔑',
  '用户',
  'zzznotfound',
  '""',
  '"awsaccount:"',
  '"AWSService"',
  'root',
  '"root "',
  'null',
  'true',
  '"before"',
  '"\uFFFD"',
  'mixed-case',
  '"botocore#1"',
  'aws:kms:key',
  '"aws:s3:arn"',
  // free text: wildcards (unanchored) and regexes
  'decr*pt',
  '*alias*',
  'arn*key',
  'ISTANB*',
  'ΣΊΣ*',
  'head*tail',
  '/^Decrypt$/',
  '/decrypt/i',
  '/^root$/',
  '/AWSAccount:/',
  '/^$/',
  '/TAILTOKEN/',
  '/\\d{12}/',
  '/^[A-Z]{4}EXAMPLE0[1-3]$/',
  '/İ/',
  '/σ$/',
  '/ς$/',
  // boolean structure
  'eventName:Decrypt OR eventName:Encrypt',
  'eventName:Decrypt AND errorCode:*',
  'eventName:Decrypt errorCode:*',
  'NOT eventName:Decrypt',
  '-eventName:Decrypt',
  '-(eventName:Decrypt OR eventName:Encrypt)',
  '(eventSource:kms.amazonaws.com -readOnly:true) OR userIdentity.type:Root',
  'NOT NOT errorCode:*',
  'key:alias/app-key last:7d',
  'eventName:Decrypt OR eventName:Encrypt errorCode:*',
  '(a OR b) (c OR d)',
  'kms -decrypt NOT (region:us-east-1 OR region:eu-west-1) eventTime>=2024-03-03',
  'username:* -principal:*',
  '-userIdentity:* principal:*',
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
  'eventName',
  'EventName',
  'eventSource',
  'awsRegion',
  'region',
  'recipientAccountId',
  'sourceIPAddress',
  'ip',
  'userAgent',
  'errorCode',
  'eventType',
  'readOnly',
  'userIdentity.type',
  'userIdentity.accountId',
  'userIdentity.accessKeyId',
  'accessKeyId',
  'username',
  'resourceName',
  'resources.ARN',
  'resourceType',
  'resources.type',
  'eventId',
  'eventTime',
  'time',
  'account',
  'principal',
  'key',
  'KEY',
  'Username',
  'caller',
];
const allPaths = new Set<string>();
for (const ev of events) {
  for (const l of refEvent(ev).leaves) {
    const parts = l.path.split('.');
    for (let k = 1; k <= parts.length; k++) allPaths.add(parts.slice(0, k).join('.'));
  }
}
const PATHS = [...allPaths]
  .filter((p) => /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(p))
  .concat(['noSuch.path', 'requestparameters']);

/** The values a field has in a random event (as the reference sees them). */
function sampleValues(field: string): string[] {
  for (let tries = 0; tries < 20; tries++) {
    const ev = events[qint(0, events.length - 1)];
    const r = refEvent(ev);
    const f = field.toLowerCase();
    let vals: string[];
    const colOf: Record<string, string[]> = {
      eventname: ['eventName'],
      eventsource: ['eventSource'],
      awsregion: ['awsRegion'],
      region: ['awsRegion'],
      recipientaccountid: ['recipientAccountId'],
      sourceipaddress: ['sourceIPAddress'],
      ip: ['sourceIPAddress'],
      useragent: ['userAgent'],
      errorcode: ['errorCode'],
      eventtype: ['eventType'],
      readonly: ['readOnly'],
      'useridentity.type': ['identityType'],
      'useridentity.accountid': ['accountId'],
      'useridentity.accesskeyid': ['accessKeyId'],
      accesskeyid: ['accessKeyId'],
      username: ['username'],
      resourcename: ['resourceNames'],
      'resources.arn': ['resourceNames'],
      resourcetype: ['resourceTypes'],
      'resources.type': ['resourceTypes'],
      account: ['accountId', 'recipientAccountId'],
      principal: ['principal'],
      key: ['key', 'resourceNames'],
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
  const all = [
    ...r.leaves.filter((l) => l.generic).map((l) => l.value),
    ...r.leaves.map((l) => l.path),
    ...Object.values(r.cols).flat(),
  ];
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
    case 0:
      return s.toLowerCase();
    case 1:
      return s.toUpperCase();
    case 2:
      return [...s].map((c) => (qchance(0.5) ? c.toUpperCase() : c.toLowerCase())).join('');
    default:
      return s;
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
    case 0:
      p = anchoredPart ? s.slice(0, qint(1, Math.min(10, s.length))) + '*' : sub + '*';
      break;
    case 1:
      p = '*' + (anchoredPart ? s.slice(Math.max(0, s.length - qint(1, 10))) : sub);
      break;
    case 2:
      p = '*' + sub + '*';
      break;
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
    if (field.toLowerCase() === 'key' && qchance(0.5))
      t = t.slice(Math.max(t.lastIndexOf('/'), t.lastIndexOf(':')) + 1);
    if (field.toLowerCase() !== 'eventid') t = qchance(0.5) ? recase(t) : t;
    return `${field}:${exactText(t)}`;
  }
  if (r < 0.7) return `${field}:${wildcardText(v, true)}`;
  if (r < 0.85) return `${field}:${regexText(v)}`;
  // comparisons
  if (field.toLowerCase() === 'eventtime' || field.toLowerCase() === 'time' || /creationDate|createdAt/.test(field))
    return `${field}${qpick(['>', '>=', '<', '<='])}${timeText()}`;
  const num = vals.find((x) => /^-?\d+(\.\d+)?$/.test(x));
  if (num !== undefined)
    return `${field}${qpick(['>', '>=', '<', '<='])}${qchance(0.7) ? num : String(qint(-10, 100000))}`;
  return `${field}${qpick(['>', '>=', '<', '<='])}${qchance(0.5) ? String(qint(-10, 2000)) : timeText()}`;
}

function timeText(): string {
  const t = BASE + qint(-2, 32) * DAY + qint(0, 86399) * 1000;
  const iso = new Date(t).toISOString();
  switch (qint(0, 4)) {
    case 0:
      return iso.slice(0, 10);
    case 1:
      return iso.slice(0, 16);
    case 2:
      return iso.slice(0, 19) + 'Z';
    case 3:
      return iso.slice(0, 19) + qpick(['+02:00', '-05:00', '+0530']);
    default:
      return iso.slice(0, 19);
  }
}

function bareTerm(): string {
  const r = QR();
  const text = anyText();
  if (r < 0.5) {
    const w = recase(substring(text.length > 200 ? text.slice(0, 50) : text));
    const fieldLike = /^[A-Za-z_][A-Za-z0-9_.-]*(:|>=|<=|>|<)/.test(w);
    return /^[A-Za-z0-9_.@+=,][A-Za-z0-9_.@+=,-]*$/.test(w) && !fieldLike && !['AND', 'OR', 'NOT'].includes(w)
      ? w
      : quoteText(w);
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
    if (rejected.length > 200)
      throw new Error(`the generator makes invalid queries:\n${rejected.slice(0, 10).join('\n')}`, { cause: err });
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
