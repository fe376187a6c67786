#!/usr/bin/env node
/**
 * Generates KeyTrail's built-in sample data set into public/sample/.
 *
 *   node scripts/gen-sample.mjs        (or: npm run gen:sample)
 *
 * Deterministic: a seeded PRNG (mulberry32) drives every random choice, object keys are written in a fixed
 * order, and gzip output carries mtime 0, so reruns give byte-identical files.
 *
 * Output:
 *   public/sample/AWSLogs/<ACCOUNT>/CloudTrail/<REGION>/YYYY/MM/DD/<ACCOUNT>_CloudTrail_<REGION>_YYYYMMDDTHHmmZ_<16 alnum>.json.gz
 *     one file per account + Region per hour of activity, `{"Records":[...]}` sorted by eventTime; every
 *     event's eventTime lies in the hour before the file's timestamp.
 *   public/sample/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/YYYY/MM/DD/111122223333_CloudTrail-Digest_us-east-1_org-trail_us-east-1_YYYYMMDDTHHmmssZ.json.gz
 *     org-trail's digest files for 111122223333 us-east-1, one per hour that has a log file, signed with a
 *     TEST key (scripts/sample-test-key.pem, generated once and committed; the public key in
 *     public/sample/test-public-keys.json as `aws cloudtrail list-public-keys` prints it).
 *   public/sample/index.json     the file list the app fetches (log files, then digest files), plus the event count.
 *   public/sample/EXPECTED.json  the known answers, computed from the generated events (not hand-typed).
 *
 * The scenario (2024-03-01 .. 2024-03-14, UTC): a key-owner account 111122223333 ("prod-keys", trail
 * org-trail) and an application account 444455556666 (trail app-trail). 777788889999 is an external account
 * whose own logs are not in the sample. The generator first simulates what really happened ("true activity"),
 * then applies each account's logging (trail event selectors, StopLogging) to decide which copies were
 * delivered. Highlights:
 *   - alias/payments key: full lifecycle, cross-account use by 444455556666 (both copies, same sharedEventID),
 *     denied cross-account calls (caller's logs only), DisableKey/EnableKey, ScheduleKeyDeletion by
 *     user/mallory, then failed Decrypt calls (KMSInvalidStateException).
 *   - alias/backup moved from one key to another by UpdateAlias; the old key is disabled and a legacy job keeps
 *     failing on it (DisabledException).
 *   - a key with imported key material (origin EXTERNAL), and a key in a CloudHSM key store.
 *   - CloudHSM cluster, HSMs, backups; KMS custom key store create/connect/disconnect.
 *   - the application account's own key alias/invoices, used by its invoice-worker and, cross-account the other
 *     way round, by the owner account's ledger-sync role (4-7 March).
 *   - user/ci-deploy of 444455556666 applies advanced event selectors leaving kms.amazonaws.com out of
 *     app-trail for 4.5 hours on 7 March (trail named by ARN, then by name when restored): ledger-sync's calls
 *     on alias/invoices in that span are only in the caller's (owner account's) logs.
 *   - mallory excludes kms.amazonaws.com from org-trail for ~30 h (basic selectors, PutEventSelectors), and
 *     stops the trail for 3 h (StopLogging / StartLogging). The app account keeps logging its caller-side copies.
 *   - alice creates payments-data-trail (data events only: includeManagementEvents false) on 2 March; mallory
 *     moves its S3 bucket to the external account (UpdateTrail) and deletes it (DeleteTrail).
 *   - after the exclusion window, the external account 777788889999 starts using alias/payments (owner-side
 *     copies only); the key policy change that allowed it happened inside the window and was never logged.
 *   - log file integrity: one org-trail log file was changed after delivery (mallory's DescribeTrails and
 *     GetEventSelectors removed: its digest lists the original hash), one was deleted (listed in its digest, not
 *     in the sample; its owner copies of cross-account calls are missing too).
 */
import { gzipSync } from 'node:zlib';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as rsaSign } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { mulberry32 } from './prng.mjs';

const SEED = 0x4b3754; // "K7T"
const HERE = import.meta.dirname ?? dirname(decodeURIComponent(new URL(import.meta.url).pathname));
const OUT = resolve(HERE, '..', 'public', 'sample');

// ---------------------------------------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------------------------------------

const rand = mulberry32(SEED);
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const pick = (arr) => arr[Math.floor(rand() * arr.length)];
const chance = (p) => rand() < p;
/** A random whole-second offset in [a, b) minutes, in ms. */
const rmin = (a, b) => int(a * 60, b * 60 - 1) * 1000;
function chars(set, n) {
  let s = '';
  for (let i = 0; i < n; i++) s += set[Math.floor(rand() * set.length)];
  return s;
}
const HEX = '0123456789abcdef';
const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const hex = (n) => chars(HEX, n);
/** A UUID shaped like version 4 (random), from the PRNG. */
function uuid() {
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[int(0, 3)]}${hex(3)}-${hex(12)}`;
}

// ---------------------------------------------------------------------------------------------------------
// Time helpers
// ---------------------------------------------------------------------------------------------------------

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T = (iso) => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad time ${iso}`);
  return ms;
};
const SPAN_START = T('2024-03-01T00:00:00Z');
const SPAN_END = T('2024-03-14T23:59:59Z');
/** `YYYY-MM-DDTHH:MM:SSZ` */
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const day = (d) => SPAN_START + (d - 1) * DAY; // d = day of March 2024
const at = (d, h, m = 0, s = 0) => day(d) + h * HOUR + m * MIN + s * 1000;
/** Weekday? (2024-03-01 is a Friday.) */
const isWorkday = (d) => ![2, 3, 9, 10].includes(d);
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** The date format AWS KMS writes into responseElements, e.g. `Mar 19, 2024, 10:47:31 PM`. */
function awsDate(ms) {
  const d = new Date(ms);
  const h = d.getUTCHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  const p2 = (n) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}, ${h12}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

// ---------------------------------------------------------------------------------------------------------
// Scenario constants
// ---------------------------------------------------------------------------------------------------------

const OWNER = '111122223333'; // security / key-owner account "prod-keys"
const APP = '444455556666'; // application account
const EXTERNAL = '777788889999'; // external account: its logs are not in the sample
const LOGGED_ACCOUNTS = [OWNER, APP];
const USE1 = 'us-east-1';
const EUW1 = 'eu-west-1';

const TRAILS = [
  {
    account: OWNER,
    name: 'org-trail',
    homeRegion: USE1,
    arn: `arn:aws:cloudtrail:${USE1}:${OWNER}:trail/org-trail`,
    s3BucketName: `org-trail-logs-${OWNER}`,
  },
  {
    account: APP,
    name: 'app-trail',
    homeRegion: USE1,
    arn: `arn:aws:cloudtrail:${USE1}:${APP}:trail/app-trail`,
    s3BucketName: `app-trail-logs-${APP}`,
  },
  // A secondary, data-events-only trail (its own logs are not in the sample): created on day 2, redirected to
  // a bucket of the external account and deleted by mallory.
  {
    account: OWNER,
    name: 'payments-data-trail',
    homeRegion: USE1,
    arn: `arn:aws:cloudtrail:${USE1}:${OWNER}:trail/payments-data-trail`,
    s3BucketName: `payments-data-events-${OWNER}`,
  },
];

const keyArn = (id, region = USE1, account = OWNER) => `arn:aws:kms:${region}:${account}:key/${id}`;
const aliasArn = (name, region = USE1, account = OWNER) => `arn:aws:kms:${region}:${account}:${name}`;

const KEY = {
  payments: { id: '1234abcd-12ab-34cd-56ef-1234567890ab' },
  backupV1: { id: '0987dcba-09fe-87dc-65ba-ab0987654321' },
  backupV2: { id: '5e7c1a90-3b2d-4f68-a1c4-9d8e7f6a5b43' },
  imported: { id: 'a1b2c3d4-5678-4e9f-8a0b-c1d2e3f40516' },
  hsm: { id: '9f8e7d6c-5b4a-4392-8170-6e5d4c3b2a19' },
  ebs: { id: '7c6b5a49-3827-4165-9e0d-f1e2d3c4b5a6' }, // AWS managed key aws/ebs (no lifecycle events in the window)
  invoices: { id: 'c3d2e1f0-4a5b-4c6d-8e7f-90a1b2c3d4e5', account: APP }, // the application account's own key
};
for (const k of Object.values(KEY)) {
  k.account ??= OWNER;
  k.arn = keyArn(k.id, USE1, k.account);
}

const CLUSTER_ID = 'cluster-5mz4h2kq7vd';
const HSM_IDS = ['hsm-wq3hj7x6n2p', 'hsm-c5rk8b4tyfm'];
const CKS_ID = 'cks-4e1a9c7b2d0f36581';
const CKS_NAME = 'prod-hsm-store';
const BACKUPS = ['backup-p7d2k5w3hxa', 'backup-r4t8m1c6zqe', 'backup-k2v9n5f3jwb', 'backup-h6x3q8d1mty'];

// The logging story (owner account's org-trail).
const EXCLUDE_START = at(8, 10, 0, 0); // PutEventSelectors excluding kms.amazonaws.com
const EXCLUDE_END = at(9, 16, 0, 0); // PutEventSelectors restoring
const STOP_AT = at(11, 2, 0, 0); // StopLogging
const START_AT = at(11, 5, 0, 0); // StartLogging
// The application account's app-trail: a CI user applies advanced event selectors that leave out
// kms.amazonaws.com (by trail ARN), and puts KMS back (by trail name) about 4.5 hours later.
const ADV_START = at(7, 13, 10, 0);
const ADV_END = at(7, 17, 45, 0);
// The secondary trail payments-data-trail (owner account).
const DATA_TRAIL_CREATED = at(2, 10, 14, 3);
const DATA_TRAIL_UPDATED = at(11, 6, 12, 44); // UpdateTrail: S3 bucket moved to the external account
const DATA_TRAIL_DELETED = at(12, 21, 58, 10);
// Log file integrity: an owner us-east-1 log file listed in a digest but missing from the sample, and one
// changed after its digest was computed (mallory's reconnaissance removed from it).
const MISSING_LOG_STAMP = at(4, 7, 1);
const CHANGED_LOG_STAMP = at(8, 10, 1);
const DISABLE_PAYMENTS = [at(5, 14, 2, 11), at(5, 15, 31, 40)]; // DisableKey, EnableKey
const SCHEDULE_DELETION_AT = at(12, 22, 47, 31);
const PENDING_WINDOW_DAYS = 7;
const BACKUP_ALIAS_MOVE_AT = at(6, 9, 6, 12);
const DISABLE_BACKUP_V1_AT = at(7, 9, 1, 48);
const CKS_DISCONNECT_AT = at(13, 17, 31, 5);
const DELETE_IMPORTED_AT = at(14, 10, 4, 27);

// ---------------------------------------------------------------------------------------------------------
// Identities
// ---------------------------------------------------------------------------------------------------------

const UA = {
  cli: (cmd) => `aws-cli/2.15.21 Python/3.11.6 Linux/6.5.0-1014-aws exe/x86_64.ubuntu.22 prompt/off command/${cmd}`,
  cliMac: (cmd) => `aws-cli/2.15.17 Python/3.11.6 Darwin/23.3.0 exe/x86_64 prompt/off command/${cmd}`,
  java: 'aws-sdk-java/2.25.6 Linux/5.10.209-198.858.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 vendor/Amazon.com_Inc. md/internal exec-env/AWS_ECS_FARGATE io/sync http/Apache cfg/retry-mode/legacy',
  boto: 'Boto3/1.34.50 md/Botocore#1.34.50 ua/2.0 os/linux#5.10.209-198.858.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.50',
  botoLambda:
    'Boto3/1.34.42 md/Botocore#1.34.42 ua/2.0 os/linux#5.10.209-220.835.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.42',
  go: 'aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.0 md/GOOS#linux md/GOARCH#amd64 api/kms#1.29.1',
  console: 'AWS Internal',
  browser:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36',
  browserMac:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15',
};

/** IAM users. */
function iamUser(account, name, opts = {}) {
  return {
    kind: 'user',
    account,
    name,
    principalId: 'AIDA' + chars(UPPER_ALNUM, 17),
    accessKeyId: 'AKIA' + chars(UPPER_ALNUM, 16),
    arn: `arn:aws:iam::${account}:user/${name}`,
    ip: opts.ip,
    ua: opts.ua,
  };
}
/** IAM roles; sessions are created by AssumeRole every `period` ms starting at `offset` within the day. */
function role(account, name, opts) {
  return {
    kind: 'role',
    account,
    name,
    roleId: 'AROA' + chars(UPPER_ALNUM, 17),
    arn: `arn:aws:iam::${account}:role/${name}`,
    period: opts.period ?? 6 * HOUR,
    offset: opts.offset ?? 0,
    assumedBy: opts.assumedBy, // a service principal, or an iamUser actor
    sessionName: opts.sessionName, // (idx) => name
    mfa: opts.mfa ?? false,
    ip: opts.ip,
    ua: opts.ua,
    vpce: opts.vpce,
    sessions: new Map(),
  };
}

const ID = {
  alice: iamUser(OWNER, 'alice', { ip: '192.0.2.10', ua: UA.browser }),
  mallory: iamUser(OWNER, 'mallory', { ip: '203.0.113.77' }),
  carol: iamUser(APP, 'carol', { ip: '192.0.2.41', ua: UA.browserMac }),
  extUser: iamUser(EXTERNAL, 'sync-bot', { ip: '198.51.100.201', ua: UA.go }),
  ciDeploy: iamUser(APP, 'ci-deploy', {
    ip: '203.0.113.140',
    ua: 'APN/1.0 HashiCorp/1.0 Terraform/1.7.4 (+https://www.terraform.io) terraform-provider-aws/5.40.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.0 md/GOOS#linux md/GOARCH#amd64 api/cloudtrail#1.37.3',
  }),
};
ID.keyAdmin = role(OWNER, 'KeyAdmin', {
  period: DAY,
  offset: 9 * HOUR + 4 * MIN,
  assumedBy: ID.alice,
  sessionName: () => 'alice',
  mfa: true,
  ip: '192.0.2.10',
  ua: UA.console,
});
ID.cryptoOps = role(OWNER, 'CryptoOps', {
  period: DAY,
  offset: 12 * HOUR + 10 * MIN,
  assumedBy: 'sso',
  sessionName: () => 'bob',
  mfa: true,
  ip: '192.0.2.22',
  ua: UA.cliMac('cloudhsmv2'),
});
ID.paymentsBatch = role(OWNER, 'payments-batch', {
  period: 6 * HOUR,
  offset: 11 * MIN,
  assumedBy: 'ec2.amazonaws.com',
  sessionName: () => 'i-0a1b2c3d4e5f60718',
  ip: '10.20.3.41',
  ua: UA.java.replace('exec-env/AWS_ECS_FARGATE ', ''),
  vpce: 'vpce-0a1b2c3d4e5f67890',
});
ID.backupAgent = role(OWNER, 'backup-agent', {
  period: DAY,
  offset: 30 * MIN,
  assumedBy: 'lambda.amazonaws.com',
  sessionName: () => 'backup-agent',
  ip: '198.51.100.14',
  ua: UA.botoLambda,
});
ID.legacyArchiver = role(OWNER, 'legacy-archiver', {
  period: DAY,
  offset: 3 * HOUR + 27 * MIN,
  assumedBy: 'ec2.amazonaws.com',
  sessionName: () => 'i-0f9e8d7c6b5a41302',
  ip: '10.20.7.18',
  ua: UA.cli('kms.generate-data-key'),
  vpce: 'vpce-0a1b2c3d4e5f67890',
});
ID.vaultSvc = role(OWNER, 'vault-svc', {
  period: 6 * HOUR,
  offset: 12 * MIN,
  assumedBy: 'ec2.amazonaws.com',
  sessionName: () => 'i-07c6d5e4f3a2b1908',
  ip: '10.20.5.77',
  ua: UA.go,
  vpce: 'vpce-0a1b2c3d4e5f67890',
});
ID.inventory = role(OWNER, 'inventory-scanner', {
  period: 12 * HOUR,
  offset: 14 * MIN,
  assumedBy: 'lambda.amazonaws.com',
  sessionName: () => 'inventory-scanner',
  ip: '198.51.100.30',
  ua: UA.botoLambda,
});
ID.paymentsApp = role(APP, 'payments-app', {
  period: 6 * HOUR,
  offset: 13 * MIN,
  assumedBy: 'ecs-tasks.amazonaws.com',
  sessionName: (i) => `payments-app-${(0x1f3a + i * 7919).toString(16)}`,
  ip: '198.51.100.61',
  ua: UA.java,
});
ID.reporting = role(APP, 'reporting-lambda', {
  period: DAY,
  offset: 18 * HOUR + 8 * MIN,
  assumedBy: 'lambda.amazonaws.com',
  sessionName: () => 'reporting-lambda',
  ip: '198.51.100.88',
  ua: UA.botoLambda,
});
ID.invoiceWorker = role(APP, 'invoice-worker', {
  period: 6 * HOUR,
  offset: 7 * MIN,
  assumedBy: 'ecs-tasks.amazonaws.com',
  sessionName: (i) => `invoice-worker-${(0x2b7 + i * 131).toString(16)}`,
  ip: '198.51.100.70',
  ua: UA.java,
});
ID.ledgerSync = role(OWNER, 'ledger-sync', {
  period: 6 * HOUR,
  offset: 40 * MIN,
  assumedBy: 'ec2.amazonaws.com',
  sessionName: () => 'i-0d1c2b3a4f5e60789',
  ip: '10.20.9.12',
  ua: UA.boto,
  vpce: 'vpce-0a1b2c3d4e5f67890',
});
ID.appMonitor = role(APP, 'ops-monitor', {
  period: 12 * HOUR,
  offset: 16 * MIN,
  assumedBy: 'lambda.amazonaws.com',
  sessionName: () => 'ops-monitor',
  ip: '198.51.100.95',
  ua: UA.botoLambda,
});

// ---------------------------------------------------------------------------------------------------------
// Event building and delivery
// ---------------------------------------------------------------------------------------------------------

/** Every copy created (delivered or not), for the ground-truth counts. */
const allCopies = [];
/** Delivered copies. */
const delivered = [];
const hiddenReasons = {};

/** Is `account`'s trail delivering an event of `source` at time `t`? */
function isLogged(account, source, t) {
  if (!LOGGED_ACCOUNTS.includes(account)) return 'notInSample';
  if (t < SPAN_START || t > SPAN_END) return 'outsideSpan';
  if (account === OWNER) {
    if (t > STOP_AT && t < START_AT) return 'stopLogging';
    if (source === 'kms.amazonaws.com' && t > EXCLUDE_START && t <= EXCLUDE_END) return 'excludedEventSource';
  }
  // app-trail's advanced selectors: management events except kms.amazonaws.com, and S3 data events
  if (account === APP && source === 'kms.amazonaws.com' && t > ADV_START && t <= ADV_END)
    return 'excludedEventSourceAdvanced';
  return true;
}

function deliver(ev, t) {
  allCopies.push(ev);
  const ok = isLogged(ev.recipientAccountId, ev.eventSource, t);
  if (ok === true) delivered.push({ t, ev });
  else hiddenReasons[`${ev.recipientAccountId}:${ok}`] = (hiddenReasons[`${ev.recipientAccountId}:${ok}`] ?? 0) + 1;
}

/** The userIdentity of an actor at time t (and the session it used). */
function identityOf(actor, t) {
  if (actor.kind === 'user') {
    return {
      type: 'IAMUser',
      principalId: actor.principalId,
      arn: actor.arn,
      accountId: actor.account,
      accessKeyId: actor.accessKeyId,
      userName: actor.name,
    };
  }
  if (actor.kind === 'root') {
    return {
      type: 'Root',
      principalId: actor.account,
      arn: `arn:aws:iam::${actor.account}:root`,
      accountId: actor.account,
    };
  }
  if (actor.kind === 'service') return { type: 'AWSService', invokedBy: actor.service };
  const s = sessionOf(actor, t);
  return {
    type: 'AssumedRole',
    principalId: `${actor.roleId}:${s.name}`,
    arn: `arn:aws:sts::${actor.account}:assumed-role/${actor.name}/${s.name}`,
    accountId: actor.account,
    accessKeyId: s.accessKeyId,
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: actor.roleId,
        arn: actor.arn,
        accountId: actor.account,
        userName: actor.name,
      },
      attributes: { creationDate: iso(s.start), mfaAuthenticated: actor.mfa ? 'true' : 'false' },
    },
  };
}
/** The principal ID an owner-side copy shows for a caller from another account. */
function principalIdOf(actor, t) {
  if (actor.kind === 'user') return actor.principalId;
  return `${actor.roleId}:${sessionOf(actor, t).name}`;
}

/** The role session in use at t; the first use of a session records its AssumeRole call. */
function sessionOf(r, t) {
  const idx = Math.floor((t - SPAN_START - r.offset) / r.period);
  let s = r.sessions.get(idx);
  if (s) return s;
  const start = SPAN_START + r.offset + idx * r.period + int(1, 50) * 1000;
  s = { idx, start, name: r.sessionName(idx), accessKeyId: 'ASIA' + chars(UPPER_ALNUM, 16) };
  r.sessions.set(idx, s);
  if (start >= SPAN_START) recordAssumeRole(r, s);
  return s;
}

function recordAssumeRole(r, s) {
  const t = s.start;
  const by = r.assumedBy;
  let actor;
  if (typeof by === 'string' && by !== 'sso') actor = { kind: 'service', service: by };
  else if (by === 'sso')
    actor = null; // AssumeRoleWithSAML via IAM Identity Center: modelled below
  else actor = by;
  const requestParameters = actor
    ? { roleArn: r.arn, roleSessionName: s.name, durationSeconds: Math.min(r.period / 1000, 43200) }
    : {
        SAMLAssertionID: '_' + hex(32),
        roleSessionName: s.name,
        roleArn: r.arn,
        principalArn: `arn:aws:iam::${r.account}:saml-provider/AWSSSO_4c1f8a2e9b7d3605_DO_NOT_DELETE`,
        durationSeconds: 43200,
      };
  const responseElements = {
    credentials: { accessKeyId: s.accessKeyId, expiration: awsDate(t + Math.min(r.period, 12 * HOUR)) },
    assumedRoleUser: {
      assumedRoleId: `${r.roleId}:${s.name}`,
      arn: `arn:aws:sts::${r.account}:assumed-role/${r.name}/${s.name}`,
    },
  };
  if (!actor) {
    Object.assign(responseElements, {
      subject: 'bob@example.com',
      subjectType: 'persistent',
      issuer: 'https://portal.sso.us-east-1.amazonaws.com/saml/assertion/NDQ1NTY2Njc3Nzg4',
      audience: 'https://signin.aws.amazon.com/saml',
      nameQualifier: 'Qm9iRXhhbXBsZVF1YWxpZmllcg=',
    });
  }
  const ev = build({
    t,
    region: USE1,
    source: 'sts.amazonaws.com',
    name: actor ? 'AssumeRole' : 'AssumeRoleWithSAML',
    userIdentity: actor
      ? actor.kind === 'service'
        ? { type: 'AWSService', invokedBy: actor.service }
        : identityOf(actor, t)
      : {
          type: 'SAMLUser',
          principalId: 'Qm9iRXhhbXBsZVF1YWxpZmllcg=:bob@example.com',
          userName: 'bob@example.com',
          identityProvider: 'Qm9iRXhhbXBsZVF1YWxpZmllcg=',
        },
    ip: actor ? (actor.kind === 'service' ? actor.service : actor.ip) : '192.0.2.22',
    ua: actor
      ? actor.kind === 'service'
        ? actor.service
        : (actor.ua ?? UA.cli('sts.assume-role'))
      : 'aws-internal/3 aws-sdk-java/1.12.669',
    requestParameters,
    responseElements,
    readOnly: true,
    resources: [{ accountId: r.account, type: 'AWS::IAM::Role', ARN: r.arn }],
    recipient: r.account,
    tls: actor && actor.kind !== 'service' ? 'sts.us-east-1.amazonaws.com' : undefined,
  });
  deliver(ev, t);
}

/**
 * Builds one event with CloudTrail's field order. `tls` is the host header for tlsDetails (omitted for calls
 * that AWS services make on your behalf).
 */
function build(o) {
  const ev = {};
  ev.eventVersion = o.eventVersion ?? '1.08';
  ev.userIdentity = o.userIdentity;
  ev.eventTime = iso(o.t);
  ev.eventSource = o.source;
  ev.eventName = o.name;
  ev.awsRegion = o.region;
  ev.sourceIPAddress = o.ip;
  ev.userAgent = o.ua;
  if (o.errorCode) {
    ev.errorCode = o.errorCode;
    ev.errorMessage = o.errorMessage;
  }
  ev.requestParameters = o.requestParameters ?? null;
  ev.responseElements = o.responseElements ?? null;
  if (o.additionalEventData) ev.additionalEventData = o.additionalEventData;
  if (o.requestID !== null) ev.requestID = o.requestID ?? uuid();
  ev.eventID = uuid();
  ev.readOnly = o.readOnly;
  if (o.resources) ev.resources = o.resources;
  ev.eventType = o.eventType ?? 'AwsApiCall';
  if (o.apiVersion) ev.apiVersion = o.apiVersion;
  ev.managementEvent = o.managementEvent ?? true;
  ev.recipientAccountId = o.recipient;
  if (o.sharedEventID) ev.sharedEventID = o.sharedEventID;
  if (o.serviceEventDetails) ev.serviceEventDetails = o.serviceEventDetails;
  if (o.vpce) ev.vpcEndpointId = o.vpce;
  ev.eventCategory = o.eventCategory ?? 'Management';
  if (o.tls)
    ev.tlsDetails = { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: o.tls };
  if (o.sessionCredentialFromConsole) ev.sessionCredentialFromConsole = 'true';
  return ev;
}

/** An API call by an actor on a same-account resource (one copy). */
function call(actor, t, o) {
  const svc = o.source.split('.')[0];
  const host =
    o.host ??
    (svc === 'iam'
      ? 'iam.amazonaws.com'
      : `${svc === 'cloudhsm' ? 'cloudhsmv2' : svc}.${o.region ?? USE1}.amazonaws.com`);
  const service = actor.kind === 'service';
  const ev = build({
    ...o,
    t,
    region: o.region ?? USE1,
    userIdentity: identityOf(actor, t),
    ip: o.ip ?? (service ? actor.service : actor.ip),
    ua: o.ua ?? (service ? actor.service : actor.ua),
    recipient: o.recipient ?? actor.account,
    vpce: o.vpce ?? (service ? undefined : actor.vpce),
    tls: service || o.noTls ? undefined : host,
  });
  deliver(ev, t);
  return ev;
}

// ---------------------------------------------------------------------------------------------------------
// KMS
// ---------------------------------------------------------------------------------------------------------

const KMS = 'kms.amazonaws.com';
const CRYPTO_OPS = ['Encrypt', 'Decrypt', 'ReEncrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext'];
const kmsRes = (k) => [{ accountId: k.account, type: 'AWS::KMS::Key', ARN: k.arn }];

/**
 * A KMS call on key `k` (owned by k.account; no key: the caller's account). Same-account: one copy. Cross-account: a caller copy and an owner
 * copy with the same sharedEventID, requestID and eventTime; denied cross-account calls are logged only in
 * the caller's account.
 */
function kms(actor, t, name, k, o = {}) {
  const ua = o.ua ?? (actor.kind === 'service' ? actor.service : actor.ua);
  const keyOwner = k?.account ?? actor.account ?? OWNER;
  const cross = actor.kind !== 'service' && actor.account !== keyOwner;
  const common = {
    t,
    region: USE1,
    source: KMS,
    name,
    ip: actor.kind === 'service' ? actor.service : actor.ip,
    ua,
    errorCode: o.errorCode,
    errorMessage: o.errorMessage,
    requestParameters: o.rp ?? null,
    responseElements: o.re ?? null,
    readOnly: o.readOnly ?? CRYPTO_OPS.includes(name),
    resources: 'resources' in o ? o.resources : kmsRes(k),
    tls: actor.kind === 'service' ? undefined : `kms.${USE1}.amazonaws.com`,
    vpce: actor.kind === 'service' ? undefined : actor.vpce,
  };
  if (!cross) {
    const ev = build({ ...common, userIdentity: identityOf(actor, t), recipient: keyOwner });
    deliver(ev, t);
    return [ev];
  }
  const denied = o.errorCode === 'AccessDeniedException';
  const requestID = uuid();
  const sharedEventID = denied ? undefined : uuid();
  const callerCopy = build({
    ...common,
    userIdentity: identityOf(actor, t),
    recipient: actor.account,
    requestID,
    sharedEventID,
  });
  deliver(callerCopy, t);
  if (denied) return [callerCopy];
  const ownerCopy = build({
    ...common,
    userIdentity: { type: 'AWSAccount', principalId: principalIdOf(actor, t), accountId: actor.account },
    recipient: keyOwner,
    requestID,
    sharedEventID,
  });
  deliver(ownerCopy, t);
  return [callerCopy, ownerCopy];
}

function keyPolicy(extraStatements = [], account = OWNER, admin = `arn:aws:iam::${OWNER}:role/KeyAdmin`) {
  return JSON.stringify({
    Version: '2012-10-17',
    Id: 'key-consolepolicy-3',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${account}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
      {
        Sid: 'Allow access for Key Administrators',
        Effect: 'Allow',
        Principal: { AWS: admin },
        Action: [
          'kms:Create*',
          'kms:Describe*',
          'kms:Enable*',
          'kms:List*',
          'kms:Put*',
          'kms:Update*',
          'kms:Revoke*',
          'kms:Disable*',
          'kms:Get*',
          'kms:Delete*',
          'kms:TagResource',
          'kms:UntagResource',
          'kms:ScheduleKeyDeletion',
          'kms:CancelKeyDeletion',
        ],
        Resource: '*',
      },
      ...extraStatements,
    ],
  });
}
const appAccountStatement = {
  Sid: 'Allow use of the key by the application account',
  Effect: 'Allow',
  Principal: { AWS: `arn:aws:iam::${APP}:root` },
  Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
  Resource: '*',
};

function createKey(actor, t, k, o) {
  const origin = o.origin ?? 'AWS_KMS';
  Object.assign(k, { createdAt: t, origin });
  const rp = {
    description: o.description,
    keyUsage: 'ENCRYPT_DECRYPT',
    keySpec: 'SYMMETRIC_DEFAULT',
    origin,
    bypassPolicyLockoutSafetyCheck: false,
    policy: o.policy ?? keyPolicy(o.extraStatements),
    tags: o.tags,
  };
  if (o.customKeyStoreId) rp.customKeyStoreId = o.customKeyStoreId;
  const keyMetadata = {
    AWSAccountId: k.account,
    keyId: k.id,
    arn: k.arn,
    creationDate: awsDate(t),
    enabled: origin !== 'EXTERNAL',
    description: o.description,
    keyUsage: 'ENCRYPT_DECRYPT',
    keyState: origin === 'EXTERNAL' ? 'PendingImport' : 'Enabled',
    origin,
    keyManager: 'CUSTOMER',
    customerMasterKeySpec: 'SYMMETRIC_DEFAULT',
    keySpec: 'SYMMETRIC_DEFAULT',
    encryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    multiRegion: false,
  };
  if (o.customKeyStoreId)
    Object.assign(keyMetadata, { customKeyStoreId: o.customKeyStoreId, cloudHsmClusterId: CLUSTER_ID });
  return kms(actor, t, 'CreateKey', k, { rp, re: { keyMetadata }, readOnly: false });
}

function aliasOp(actor, t, name, aliasName, k, oldKey) {
  const resources = [
    { accountId: k.account, type: 'AWS::KMS::Key', ARN: aliasArn(aliasName, USE1, k.account) },
    ...kmsRes(k),
  ];
  if (oldKey) resources.push(...kmsRes(oldKey));
  return kms(actor, t, name, k, {
    rp: { aliasName, targetKeyId: k.id },
    re: { keyId: k.arn },
    readOnly: false,
    resources,
  });
}

/** A management call that (since Dec 2022) logs the key ARN in responseElements.keyId. */
function keyMgmt(actor, t, name, k, rp = {}, extraRe = {}) {
  return kms(actor, t, name, k, { rp: { keyId: k.id, ...rp }, re: { keyId: k.arn, ...extraRe }, readOnly: false });
}
function keyRead(actor, t, name, k, rp = {}) {
  return kms(actor, t, name, k, { rp: { keyId: k.id, ...rp }, readOnly: true });
}

/** Crypto operations: responseElements null, as KMS logs them. */
function crypto(actor, t, name, k, o = {}) {
  const rp = {};
  if (o.keyId !== false) rp.keyId = o.keyId ?? k.arn;
  if (o.context) rp.encryptionContext = o.context;
  if (name === 'GenerateDataKey' || name === 'GenerateDataKeyWithoutPlaintext') rp.keySpec = 'AES_256';
  else rp.encryptionAlgorithm = 'SYMMETRIC_DEFAULT';
  return kms(actor, t, name, k, { rp, readOnly: true, errorCode: o.errorCode, errorMessage: o.errorMessage });
}

// ---------------------------------------------------------------------------------------------------------
// Other services
// ---------------------------------------------------------------------------------------------------------

function consoleLogin(actor, t, o = {}) {
  const { accessKeyId, ...userIdentity } = identityOf(actor, t); // sign-ins use no access key
  const ev = build({
    t,
    region: USE1,
    source: 'signin.amazonaws.com',
    name: 'ConsoleLogin',
    userIdentity,
    ip: o.ip ?? actor.ip,
    ua: o.ua ?? actor.ua,
    requestParameters: null,
    responseElements: { ConsoleLogin: 'Success' },
    additionalEventData: {
      LoginTo:
        'https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_' +
        hex(16),
      MobileVersion: 'No',
      MFAUsed: o.mfa === false ? 'No' : 'Yes',
    },
    requestID: null,
    readOnly: false,
    eventType: 'AwsConsoleSignIn',
    recipient: actor.account,
  });
  deliver(ev, t);
}

function describeInstances(actor, t, region) {
  return call(actor, t, {
    region,
    source: 'ec2.amazonaws.com',
    name: 'DescribeInstances',
    readOnly: true,
    requestParameters: { instancesSet: {}, filterSet: {} },
  });
}
function describeVolumes(actor, t, region) {
  return call(actor, t, {
    region,
    source: 'ec2.amazonaws.com',
    name: 'DescribeVolumes',
    readOnly: true,
    requestParameters: { volumeSet: {}, filterSet: {} },
  });
}
function s3Mgmt(actor, t, name, bucket, region = USE1) {
  return call(actor, t, {
    region,
    source: 's3.amazonaws.com',
    name,
    readOnly: true,
    requestParameters: bucket
      ? {
          bucketName: bucket,
          Host: `${bucket}.s3.${region}.amazonaws.com`,
          [name === 'GetBucketEncryption' ? 'encryption' : 'acl']: '',
        }
      : { Host: `s3.${region}.amazonaws.com` },
    additionalEventData: {
      SignatureVersion: 'SigV4',
      CipherSuite: 'TLS_AES_128_GCM_SHA256',
      bytesTransferredIn: 0,
      AuthenticationMethod: 'AuthHeader',
      'x-amz-id-2': chars(ALNUM, 56),
      bytesTransferredOut: int(200, 900),
    },
    requestID: chars('0123456789ABCDEF', 16),
    resources: bucket
      ? [{ accountId: actor.account, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` }]
      : undefined,
    host: bucket ? `${bucket}.s3.${region}.amazonaws.com` : `s3.${region}.amazonaws.com`,
  });
}
/** S3 object-level (data) events: app-trail logs them for its buckets. */
function s3Data(actor, t, name, bucket, key, region = USE1) {
  const put = name === 'PutObject';
  return call(actor, t, {
    region,
    source: 's3.amazonaws.com',
    name,
    readOnly: !put,
    requestParameters: { bucketName: bucket, Host: `${bucket}.s3.${region}.amazonaws.com`, key },
    responseElements: put ? { 'x-amz-server-side-encryption': 'AES256', 'x-amz-version-id': chars(ALNUM, 32) } : null,
    additionalEventData: {
      SignatureVersion: 'SigV4',
      CipherSuite: 'TLS_AES_128_GCM_SHA256',
      bytesTransferredIn: put ? int(2_000, 90_000) : 0,
      SSEApplied: 'SSE_S3',
      AuthenticationMethod: 'AuthHeader',
      'x-amz-id-2': chars(ALNUM, 56),
      bytesTransferredOut: put ? 0 : int(2_000, 90_000),
    },
    requestID: chars('0123456789ABCDEF', 16),
    resources: [
      { type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` },
      { accountId: actor.account, type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` },
    ],
    managementEvent: false,
    eventCategory: 'Data',
    host: `${bucket}.s3.${region}.amazonaws.com`,
  });
}
function listRoles(actor, t) {
  return call(actor, t, { source: 'iam.amazonaws.com', name: 'ListRoles', readOnly: true, requestParameters: null });
}
function getCallerIdentity(actor, t) {
  return call(actor, t, {
    source: 'sts.amazonaws.com',
    name: 'GetCallerIdentity',
    readOnly: true,
    host: 'sts.us-east-1.amazonaws.com',
    ua: actor.ua ?? UA.cli('sts.get-caller-identity'),
  });
}

// CloudTrail's own API
function cloudtrail(actor, t, name, requestParameters, responseElements, readOnly = false, ua) {
  return call(actor, t, {
    source: 'cloudtrail.amazonaws.com',
    name,
    readOnly,
    requestParameters,
    responseElements,
    ua: ua ?? UA.cli(`cloudtrail.${name.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}`),
    resources: undefined,
  });
}
/** app-trail's advanced event selectors: management events (optionally without KMS) and S3 data events. */
function advancedSelectors(excludeKms) {
  const mgmt = [{ field: 'eventCategory', equals: ['Management'] }];
  if (excludeKms) mgmt.push({ field: 'eventSource', notEquals: ['kms.amazonaws.com'] });
  return [
    { name: excludeKms ? 'Management events except AWS KMS' : 'Management events', fieldSelectors: mgmt },
    {
      name: 'S3 data events',
      fieldSelectors: [
        { field: 'eventCategory', equals: ['Data'] },
        { field: 'resources.type', equals: ['AWS::S3::Object'] },
      ],
    },
  ];
}
function eventSelectors(excluded) {
  return [
    { readWriteType: 'All', includeManagementEvents: true, dataResources: [], excludeManagementEventSources: excluded },
  ];
}

// CloudHSM (cloudhsmv2 API, eventSource cloudhsm.amazonaws.com)
const HSMSRC = 'cloudhsm.amazonaws.com';
function hsm(actor, t, name, requestParameters, responseElements, o = {}) {
  return call(actor, t, {
    source: HSMSRC,
    name,
    requestParameters,
    responseElements,
    readOnly: o.readOnly ?? false,
    apiVersion: '2017-04-28',
    region: o.region ?? USE1,
    host: `cloudhsmv2.${o.region ?? USE1}.amazonaws.com`,
    ua:
      o.ua ??
      (actor.kind === 'service'
        ? undefined
        : UA.cliMac(`cloudhsmv2.${name.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}`)),
  });
}
function hsmServiceEvent(t, name, serviceEventDetails) {
  const ev = build({
    t,
    region: USE1,
    source: HSMSRC,
    name,
    userIdentity: { accountId: OWNER, invokedBy: 'cloudhsm.amazonaws.com' },
    ip: 'cloudhsm.amazonaws.com',
    ua: 'cloudhsm.amazonaws.com',
    requestParameters: null,
    responseElements: null,
    requestID: null,
    readOnly: false,
    eventType: 'AwsServiceEvent',
    recipient: OWNER,
    serviceEventDetails,
  });
  deliver(ev, t);
}

// ---------------------------------------------------------------------------------------------------------
// The story
// ---------------------------------------------------------------------------------------------------------

const keyAdmin = ID.keyAdmin;
const ops = ID.cryptoOps;
const ec2Svc = { kind: 'service', service: 'ec2.amazonaws.com', account: OWNER };
const kmsSvc = { kind: 'service', service: 'kms.amazonaws.com', account: OWNER };
const rootOwner = { kind: 'root', account: OWNER, ip: '192.0.2.99', ua: UA.browser };

// --- Day 1 (Fri 1 Mar): CloudHSM cluster, the payments key, backup key, imported key -----------------------
{
  const t0 = at(1, 12, 12, 14);
  hsm(
    ops,
    t0,
    'CreateCluster',
    {
      hsmType: 'hsm1.medium',
      subnetIds: ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'],
      backupRetentionPolicy: { type: 'DAYS', value: '90' },
    },
    {
      cluster: {
        backupPolicy: 'DEFAULT',
        backupRetentionPolicy: { type: 'DAYS', value: '90' },
        clusterId: CLUSTER_ID,
        createTimestamp: awsDate(t0),
        hsmType: 'hsm1.medium',
        securityGroup: 'sg-03c1f2a4b5d6e7f80',
        state: 'CREATE_IN_PROGRESS',
        subnetMapping: { 'us-east-1a': 'subnet-0a1b2c3d4e5f60001', 'us-east-1b': 'subnet-0a1b2c3d4e5f60002' },
        vpcId: 'vpc-0f1e2d3c4b5a69788',
        hsms: [],
        certificates: {},
        tagList: [],
      },
    },
  );
  hsm(
    ops,
    at(1, 12, 13, 40),
    'TagResource',
    {
      resourceId: CLUSTER_ID,
      tagList: [
        { key: 'env', value: 'prod' },
        { key: 'owner', value: 'crypto-ops' },
      ],
    },
    null,
  );
  hsm(ops, at(1, 12, 15, 3), 'DescribeClusters', { filters: { clusterIds: [CLUSTER_ID] } }, null, { readOnly: true });
  HSM_IDS.forEach((hsmId, i) => {
    const t = at(1, 12, 20 + i, 7 + i * 13);
    const az = i === 0 ? 'us-east-1a' : 'us-east-1b';
    hsm(
      ops,
      t,
      'CreateHsm',
      { clusterId: CLUSTER_ID, availabilityZone: az },
      {
        hsm: {
          availabilityZone: az,
          clusterId: CLUSTER_ID,
          hsmId,
          state: 'CREATE_IN_PROGRESS',
          subnetId: `subnet-0a1b2c3d4e5f6000${i + 1}`,
        },
      },
    );
  });
  for (const m of [33, 51])
    hsm(ops, at(1, 12, m, int(0, 59)), 'DescribeClusters', { filters: { clusterIds: [CLUSTER_ID] } }, null, {
      readOnly: true,
    });
  hsm(
    ops,
    at(1, 15, 20, 26),
    'InitializeCluster',
    {
      clusterId: CLUSTER_ID,
      signedCert:
        '-----BEGIN CERTIFICATE-----\nMIIDjTCCAnWgAwIBAgIUSampleSignedClusterCsr...\n-----END CERTIFICATE-----',
      trustAnchor: '-----BEGIN CERTIFICATE-----\nMIIDhzCCAm+gAwIBAgIUSampleIssuingCa...\n-----END CERTIFICATE-----',
    },
    {
      state: 'INITIALIZE_IN_PROGRESS',
      stateMessage: 'Cluster is initializing. State will change to INITIALIZED upon completion.',
    },
  );
  hsm(ops, at(1, 15, 38, 2), 'DescribeClusters', { filters: { clusterIds: [CLUSTER_ID] } }, null, { readOnly: true });
  hsmServiceEvent(at(1, 15, 52, 44), 'CreateBackup', {
    backupId: BACKUPS[0],
    clusterId: CLUSTER_ID,
    backupState: 'READY',
  });

  // alias/payments
  consoleLogin(ID.alice, at(1, 9, 3, 19));
  const p = KEY.payments;
  createKey(keyAdmin, at(1, 9, 6, 11), p, {
    description: 'Payments data encryption (tokenised PAN vault)',
    tags: [
      { tagKey: 'app', tagValue: 'payments' },
      { tagKey: 'data-class', tagValue: 'pci' },
    ],
  });
  aliasOp(keyAdmin, at(1, 9, 6, 58), 'CreateAlias', 'alias/payments', p);
  keyMgmt(keyAdmin, at(1, 9, 7, 40), 'EnableKeyRotation', p);
  keyRead(keyAdmin, at(1, 9, 7, 52), 'GetKeyRotationStatus', p);
  // The application account tries before it has been granted access: denied, logged only in its own account.
  crypto(ID.paymentsApp, at(1, 9, 10, 5), 'GenerateDataKey', p, {
    context: { service: 'payments', stage: 'smoke-test' },
    errorCode: 'AccessDeniedException',
    errorMessage: `User: arn:aws:sts::${APP}:assumed-role/payments-app/${sessionOf(ID.paymentsApp, at(1, 9, 10, 5)).name} is not authorized to perform: kms:GenerateDataKey on resource: ${p.arn} because no resource-based policy allows the kms:GenerateDataKey action`,
  });
  crypto(ID.paymentsApp, at(1, 9, 10, 37), 'GenerateDataKey', p, {
    context: { service: 'payments', stage: 'smoke-test' },
    errorCode: 'AccessDeniedException',
    errorMessage: `User: arn:aws:sts::${APP}:assumed-role/payments-app/${sessionOf(ID.paymentsApp, at(1, 9, 10, 37)).name} is not authorized to perform: kms:GenerateDataKey on resource: ${p.arn} because no resource-based policy allows the kms:GenerateDataKey action`,
  });
  keyMgmt(keyAdmin, at(1, 9, 20, 4), 'PutKeyPolicy', p, {
    policyName: 'default',
    policy: keyPolicy([appAccountStatement]),
    bypassPolicyLockoutSafetyCheck: false,
  });
  keyMgmt(
    keyAdmin,
    at(1, 9, 25, 31),
    'CreateGrant',
    p,
    {
      granteePrincipal: `arn:aws:iam::${APP}:role/payments-app`,
      operations: ['Decrypt', 'GenerateDataKey'],
      constraints: { encryptionContextSubset: { service: 'payments' } },
      name: 'payments-app-runtime',
    },
    { grantId: hex(64) },
  );
  keyRead(keyAdmin, at(1, 9, 26, 2), 'DescribeKey', p);

  // alias/backup (first key)
  createKey(keyAdmin, at(1, 11, 4, 50), KEY.backupV1, {
    description: 'Backup data keys',
    tags: [{ tagKey: 'app', tagValue: 'backup' }],
  });
  aliasOp(keyAdmin, at(1, 11, 5, 33), 'CreateAlias', 'alias/backup', KEY.backupV1);

  // A key with imported key material (BYOK)
  const im = KEY.imported;
  createKey(keyAdmin, at(1, 13, 0, 9), im, {
    origin: 'EXTERNAL',
    description: 'Archive key, key material imported from on-prem HSM',
    tags: [{ tagKey: 'app', tagValue: 'archive' }],
  });
  aliasOp(keyAdmin, at(1, 13, 0, 47), 'CreateAlias', 'alias/byok-archive', im);
  keyMgmt(keyAdmin, at(1, 13, 2, 18), 'GetParametersForImport', im, {
    wrappingAlgorithm: 'RSAES_OAEP_SHA_256',
    wrappingKeySpec: 'RSA_2048',
  });
  keyMgmt(keyAdmin, at(1, 13, 11, 40), 'ImportKeyMaterial', im, { expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' });
  crypto(keyAdmin, at(1, 13, 14, 2), 'Encrypt', im, {
    keyId: 'alias/byok-archive',
    context: { purpose: 'import-check' },
  });
  crypto(keyAdmin, at(1, 13, 14, 29), 'Decrypt', im, { keyId: false, context: { purpose: 'import-check' } });
}

// --- Day 2 (Sat 2 Mar): a data-events trail in the owner account; the application account's own key -------
{
  const a = { ...ID.alice, ua: UA.console };
  const dt = TRAILS[2];
  const dataSelectors = [
    {
      readWriteType: 'All',
      includeManagementEvents: false,
      dataResources: [{ type: 'AWS::S3::Object', values: [`arn:aws:s3:::payments-archive-${OWNER}/`] }],
      excludeManagementEventSources: [],
    },
  ];
  const trailDesc = (bucket) => ({
    name: dt.name,
    s3BucketName: bucket,
    includeGlobalServiceEvents: true,
    isMultiRegionTrail: false,
    trailARN: dt.arn,
    logFileValidationEnabled: true,
    isOrganizationTrail: false,
  });
  consoleLogin(ID.alice, DATA_TRAIL_CREATED - 4 * MIN - 11_000);
  // The console creates the trail, sets its selectors, then starts it (a new trail does not log until StartLogging).
  cloudtrail(
    a,
    DATA_TRAIL_CREATED,
    'CreateTrail',
    {
      name: dt.name,
      s3BucketName: dt.s3BucketName,
      includeGlobalServiceEvents: true,
      isMultiRegionTrail: false,
      enableLogFileValidation: true,
      isOrganizationTrail: false,
    },
    trailDesc(dt.s3BucketName),
    false,
    UA.console,
  );
  cloudtrail(
    a,
    DATA_TRAIL_CREATED + 3000,
    'PutEventSelectors',
    { trailName: dt.name, eventSelectors: dataSelectors },
    { trailARN: dt.arn, eventSelectors: dataSelectors },
    false,
    UA.console,
  );
  cloudtrail(a, DATA_TRAIL_CREATED + 6000, 'StartLogging', { name: dt.arn }, null, false, UA.console);

  // 444455556666's own key for invoice data; the owner account's ledger-sync role may decrypt with it.
  const c = ID.carol;
  consoleLogin(c, at(2, 10, 27, 40));
  const ledgerStatement = {
    Sid: 'Allow ledger-sync in the key owner account to decrypt',
    Effect: 'Allow',
    Principal: { AWS: ID.ledgerSync.arn },
    Action: ['kms:Decrypt', 'kms:DescribeKey'],
    Resource: '*',
  };
  createKey(c, at(2, 10, 31, 12), KEY.invoices, {
    description: 'Invoice exports (application account)',
    tags: [{ tagKey: 'app', tagValue: 'invoices' }],
    policy: keyPolicy([ledgerStatement], APP, c.arn),
  });
  aliasOp(c, at(2, 10, 31, 50), 'CreateAlias', 'alias/invoices', KEY.invoices);
}

// --- Day 4 (Mon 4 Mar): KMS custom key store on the cluster, the HSM-backed key; a root sign-in ---------
{
  const cks = { customKeyStoreId: CKS_ID };
  const mk = (t, name, rp, re, readOnly = false) =>
    kms(keyAdmin, t, name, null, { rp, re, readOnly, resources: undefined });
  mk(
    at(4, 10, 0, 37),
    'CreateCustomKeyStore',
    {
      customKeyStoreName: CKS_NAME,
      cloudHsmClusterId: CLUSTER_ID,
      keyStorePassword: 'HIDDEN_DUE_TO_SECURITY_REASONS',
      trustAnchorCertificate:
        '-----BEGIN CERTIFICATE-----\nMIIDhzCCAm+gAwIBAgIUSampleIssuingCa...\n-----END CERTIFICATE-----',
    },
    { customKeyStoreId: CKS_ID },
  );
  hsm(kmsSvc, at(4, 10, 0, 38), 'DescribeClusters', { filters: { clusterIds: [CLUSTER_ID] } }, null, {
    readOnly: true,
  });
  mk(at(4, 10, 5, 12), 'ConnectCustomKeyStore', cks, null);
  hsm(kmsSvc, at(4, 10, 5, 14), 'DescribeClusters', { filters: { clusterIds: [CLUSTER_ID] } }, null, {
    readOnly: true,
  });
  mk(at(4, 10, 21, 3), 'DescribeCustomKeyStores', { customKeyStoreId: CKS_ID }, null, true);
  createKey(keyAdmin, at(4, 10, 40, 55), KEY.hsm, {
    origin: 'AWS_CLOUDHSM',
    customKeyStoreId: CKS_ID,
    description: 'Vault master key in CloudHSM key store',
    tags: [{ tagKey: 'app', tagValue: 'vault' }],
  });
  aliasOp(keyAdmin, at(4, 10, 41, 30), 'CreateAlias', 'alias/hsm-vault', KEY.hsm);
  consoleLogin(rootOwner, at(4, 14, 12, 8), { mfa: true });
  call(rootOwner, at(4, 14, 13, 40), {
    source: 'iam.amazonaws.com',
    name: 'GetAccountSummary',
    readOnly: true,
    requestParameters: null,
    ua: UA.console,
    host: 'iam.amazonaws.com',
    sessionCredentialFromConsole: true,
  });
}

// --- Day 5: payments key briefly disabled; backup copied to eu-west-1 ------------------------------------
keyMgmt(keyAdmin, DISABLE_PAYMENTS[0], 'DisableKey', KEY.payments);
keyMgmt(keyAdmin, DISABLE_PAYMENTS[1], 'EnableKey', KEY.payments);
hsmServiceEvent(at(5, 3, 12, 9), 'CreateBackup', { backupId: BACKUPS[1], clusterId: CLUSTER_ID, backupState: 'READY' });
hsm(
  ops,
  at(5, 12, 17, 45),
  'CopyBackupToRegion',
  { destinationRegion: EUW1, backupId: BACKUPS[1], tagList: [{ key: 'purpose', value: 'dr' }] },
  {
    destinationBackup: {
      createTimestamp: awsDate(at(5, 12, 17, 45)),
      sourceBackup: BACKUPS[1],
      sourceCluster: CLUSTER_ID,
      sourceRegion: USE1,
    },
  },
);

// --- Day 6-7: alias/backup moves to a new key, the old one is disabled -----------------------------------
createKey(keyAdmin, at(6, 9, 4, 2), KEY.backupV2, {
  description: 'Backup data keys (2024 rotation)',
  tags: [{ tagKey: 'app', tagValue: 'backup' }],
});
aliasOp(keyAdmin, BACKUP_ALIAS_MOVE_AT, 'UpdateAlias', 'alias/backup', KEY.backupV2, KEY.backupV1);
keyMgmt(keyAdmin, DISABLE_BACKUP_V1_AT, 'DisableKey', KEY.backupV1);

// --- Day 7-12: mallory ----------------------------------------------------------------------------------
{
  const m = ID.mallory;
  const cli = (cmd) => ({ ...m, ua: UA.cli(cmd) });
  getCallerIdentity(cli('sts.get-caller-identity'), at(7, 20, 14, 51));
  listRoles(cli('iam.list-roles'), at(7, 20, 15, 30));
  call(cli('iam.list-attached-user-policies'), at(7, 20, 16, 2), {
    source: 'iam.amazonaws.com',
    name: 'ListAttachedUserPolicies',
    readOnly: true,
    requestParameters: { userName: 'mallory' },
  });
  call(cli('kms.list-aliases'), at(7, 20, 18, 44), {
    source: KMS,
    name: 'ListAliases',
    readOnly: true,
    requestParameters: null,
    resources: undefined,
  });
  cloudtrail(m, at(8, 9, 52, 3), 'DescribeTrails', { trailNameList: [], includeShadowTrails: true }, null, true);
  cloudtrail(m, at(8, 9, 53, 37), 'GetEventSelectors', { trailName: 'org-trail' }, null, true);
  cloudtrail(
    m,
    EXCLUDE_START,
    'PutEventSelectors',
    { trailName: 'org-trail', eventSelectors: eventSelectors(['kms.amazonaws.com']) },
    { trailARN: TRAILS[0].arn, eventSelectors: eventSelectors(['kms.amazonaws.com']) },
  );
  // Inside the window (never delivered by org-trail): the key policy of alias/payments is widened to the
  // external account, and the change is checked.
  keyMgmt(cli('kms.put-key-policy'), at(8, 11, 32, 9), 'PutKeyPolicy', KEY.payments, {
    policyName: 'default',
    bypassPolicyLockoutSafetyCheck: false,
    policy: keyPolicy([
      appAccountStatement,
      { ...appAccountStatement, Sid: 'Allow partner sync', Principal: { AWS: `arn:aws:iam::${EXTERNAL}:root` } },
    ]),
  });
  keyRead(cli('kms.get-key-policy'), at(8, 11, 33, 1), 'GetKeyPolicy', KEY.payments, { policyName: 'default' });
  cloudtrail(
    m,
    EXCLUDE_END,
    'PutEventSelectors',
    { trailName: 'org-trail', eventSelectors: eventSelectors([]) },
    { trailARN: TRAILS[0].arn, eventSelectors: eventSelectors([]) },
  );
  cloudtrail(m, STOP_AT, 'StopLogging', { name: 'org-trail' }, null);
  // Inside the StopLogging gap (never delivered): a look at the key and its grants.
  keyRead(cli('kms.list-grants'), at(11, 3, 12, 40), 'ListGrants', KEY.payments);
  keyRead(cli('kms.describe-key'), at(11, 3, 13, 5), 'DescribeKey', KEY.payments);
  cloudtrail(m, START_AT, 'StartLogging', { name: 'org-trail' }, null);
  keyMgmt(
    cli('kms.schedule-key-deletion'),
    SCHEDULE_DELETION_AT,
    'ScheduleKeyDeletion',
    KEY.payments,
    { pendingWindowInDays: PENDING_WINDOW_DAYS },
    {
      deletionDate: awsDate(SCHEDULE_DELETION_AT + PENDING_WINDOW_DAYS * DAY),
      keyState: 'PendingDeletion',
      pendingWindowInDays: PENDING_WINDOW_DAYS,
    },
  );
}

// --- Day 7: a CI change leaves AWS KMS out of app-trail for ~4.5 hours (advanced event selectors) -----------
{
  const ci = ID.ciDeploy;
  const appTrail = TRAILS[1];
  cloudtrail(ci, ADV_START - 41_000, 'GetEventSelectors', { trailName: appTrail.arn }, null, true, ci.ua);
  cloudtrail(
    ci,
    ADV_START,
    'PutEventSelectors',
    { trailName: appTrail.arn, advancedEventSelectors: advancedSelectors(true) },
    { trailARN: appTrail.arn, advancedEventSelectors: advancedSelectors(true) },
    false,
    ci.ua,
  );
  cloudtrail(
    ci,
    ADV_END,
    'PutEventSelectors',
    { trailName: appTrail.name, advancedEventSelectors: advancedSelectors(false) },
    { trailARN: appTrail.arn, advancedEventSelectors: advancedSelectors(false) },
    false,
    ci.ua,
  );
}

// --- Day 11-12: mallory redirects, then deletes, the data-events trail -----------------------------------
{
  const m = ID.mallory;
  const dt = TRAILS[2];
  const sink = `partner-sync-logs-${EXTERNAL}`;
  cloudtrail(
    m,
    DATA_TRAIL_UPDATED - 52_000,
    'DescribeTrails',
    { trailNameList: [], includeShadowTrails: true },
    null,
    true,
  );
  cloudtrail(
    m,
    DATA_TRAIL_UPDATED,
    'UpdateTrail',
    { name: dt.name, s3BucketName: sink },
    {
      name: dt.name,
      s3BucketName: sink,
      includeGlobalServiceEvents: true,
      isMultiRegionTrail: false,
      trailARN: dt.arn,
      logFileValidationEnabled: true,
      isOrganizationTrail: false,
    },
  );
  cloudtrail(m, DATA_TRAIL_DELETED, 'DeleteTrail', { name: dt.arn }, null);
}

// --- Later CloudHSM and key-store housekeeping ------------------------------------------------------------
hsmServiceEvent(at(10, 3, 8, 31), 'CreateBackup', {
  backupId: BACKUPS[2],
  clusterId: CLUSTER_ID,
  backupState: 'READY',
});
hsm(ops, at(12, 12, 22, 16), 'DeleteHsm', { clusterId: CLUSTER_ID, hsmId: HSM_IDS[1] }, { hsmId: HSM_IDS[1] });
hsm(ops, at(12, 12, 29, 50), 'DescribeClusters', { filters: { clusterIds: [CLUSTER_ID] } }, null, { readOnly: true });
hsmServiceEvent(at(13, 3, 10, 2), 'CreateBackup', {
  backupId: BACKUPS[3],
  clusterId: CLUSTER_ID,
  backupState: 'READY',
});
hsm(
  ops,
  at(13, 12, 40, 12),
  'DeleteBackup',
  { backupId: BACKUPS[0] },
  {
    backup: {
      backupId: BACKUPS[0],
      backupState: 'PENDING_DELETION',
      clusterId: CLUSTER_ID,
      createTimestamp: awsDate(at(1, 15, 52, 44)),
      deleteTimestamp: awsDate(at(13, 12, 40, 12) + 7 * DAY),
    },
  },
);
kms(keyAdmin, CKS_DISCONNECT_AT, 'DisconnectCustomKeyStore', null, {
  rp: { customKeyStoreId: CKS_ID },
  re: null,
  readOnly: false,
  resources: undefined,
});
keyMgmt(keyAdmin, DELETE_IMPORTED_AT, 'DeleteImportedKeyMaterial', KEY.imported);

// --- Recurring activity, hour by hour --------------------------------------------------------------------
const paymentsEnabled = (t) => !(t >= DISABLE_PAYMENTS[0] && t <= DISABLE_PAYMENTS[1]);
const tenant = () => `t-${String(int(1, 48)).padStart(4, '0')}`;
let batchSeq = 0;

for (let d = 1; d <= 14; d++) {
  for (let h = 0; h < 24; h++) {
    const H = at(d, h);
    // payments-batch (owner account, local use of alias/payments) at 09, 12, 15, 18 until the key is scheduled.
    if ([9, 12, 15, 18].includes(h) && H >= at(1, 10) && H < at(12, 20)) {
      const t = H + rmin(6, 14);
      if (paymentsEnabled(t)) {
        const batch = `pb-${d.toString().padStart(2, '0')}${h.toString().padStart(2, '0')}-${++batchSeq}`;
        let s = t;
        crypto(ID.paymentsBatch, s, 'GenerateDataKey', KEY.payments, {
          keyId: 'alias/payments',
          context: { service: 'payments', batch },
        });
        for (let i = int(3, 6); i > 0; i--) {
          s += int(20, 300) * 1000;
          crypto(ID.paymentsBatch, s, 'Decrypt', KEY.payments, {
            keyId: false,
            context: { service: 'payments', tenant: tenant() },
          });
        }
        if (chance(0.5))
          crypto(ID.paymentsBatch, s + int(5, 90) * 1000, 'Encrypt', KEY.payments, {
            keyId: 'alias/payments',
            context: { service: 'payments', batch },
          });
      }
    }
    // payments-app (application account) uses alias/payments cross-account every 3 hours.
    if (h % 6 === 0 && H >= at(1, 10) && H < at(12, 22)) {
      let t = H + rmin(15, 30);
      if (paymentsEnabled(t)) {
        crypto(ID.paymentsApp, t, 'GenerateDataKey', KEY.payments, {
          context: { service: 'payments', tenant: tenant() },
        });
        s3Data(
          ID.paymentsApp,
          t + int(1, 4) * 1000,
          'PutObject',
          `payments-app-data-${APP}`,
          `settlements/2024/03/${String(d).padStart(2, '0')}/batch-${h}.json.enc`,
        );
        for (let i = int(2, 5); i > 0; i--) {
          t += int(20, 240) * 1000;
          crypto(ID.paymentsApp, t, 'Decrypt', KEY.payments, { context: { service: 'payments', tenant: tenant() } });
        }
      }
    }
    // payments-app nightly reconciliation at 03: a few Decrypt calls (cross-account).
    if (h === 3 && H >= at(2, 0) && H < at(12, 22)) {
      let t = H + rmin(15, 40);
      for (let i = int(1, 3); i > 0; i--) {
        crypto(ID.paymentsApp, t, 'Decrypt', KEY.payments, {
          context: { service: 'payments', tenant: tenant(), job: 'reconcile' },
        });
        t += int(20, 200) * 1000;
      }
    }
    // After ScheduleKeyDeletion the application keeps trying to decrypt, with retries: KMSInvalidStateException.
    if (h % 6 === 0 && H > SCHEDULE_DELETION_AT) {
      let t = H + rmin(15, 35);
      for (let i = int(3, 5); i > 0; i--) {
        crypto(ID.paymentsApp, t, 'Decrypt', KEY.payments, {
          context: { service: 'payments', tenant: tenant() },
          errorCode: 'KMSInvalidStateException',
          errorMessage: `${KEY.payments.arn} is pending deletion.`,
        });
        t += int(1, 8) * 1000;
      }
    }
    // External account 777788889999: after the exclusion window (owner-side copies only).
    if (H >= at(9, 16) && H < at(12, 22) && [3, 18].includes(h) && chance(0.75)) {
      let t = H + rmin(5, 50);
      for (let i = int(2, 5); i > 0; i--) {
        crypto(ID.extUser, t, pick(['Decrypt', 'Decrypt', 'GenerateDataKey']), KEY.payments, {
          context: { service: 'payments', tenant: tenant() },
        });
        t += int(3, 40) * 1000;
      }
    }
    // invoice-worker (application account): hourly in business hours on 7-8 March (the month's invoice run),
    // envelope encryption with the application account's own key, then the encrypted export to S3 (a data
    // event that app-trail records).
    if (d >= 7 && d <= 8 && h >= 9 && h <= 17) {
      const t = H + rmin(38, 44);
      crypto(ID.invoiceWorker, t, 'GenerateDataKey', KEY.invoices, {
        keyId: 'alias/invoices',
        context: { app: 'invoices', run: `inv-${d}-${h}` },
      });
      s3Data(
        ID.invoiceWorker,
        t + int(1, 3) * 1000,
        'PutObject',
        `invoices-${APP}`,
        `exports/2024/03/${String(d).padStart(2, '0')}/run-${String(h).padStart(2, '0')}.json.enc`,
      );
    }
    // ledger-sync (owner account) decrypts the application's ledger exports with the application's key
    // (cross-account, the other way round), 4-7 March.
    if (d >= 4 && d <= 7 && [12, 15].includes(h)) {
      let t = H + rmin(45, 52);
      for (let i = int(1, 3); i > 0; i--) {
        crypto(ID.ledgerSync, t, 'Decrypt', KEY.invoices, {
          keyId: false,
          context: { app: 'invoices', export: `ledger-${d}-${h}` },
        });
        t += int(10, 60) * 1000;
      }
    }
    // backup-agent: daily GenerateDataKey through alias/backup (resolves to whichever key the alias targets).
    if (h === 0 && d >= 2) {
      const t = H + rmin(31, 36);
      crypto(ID.backupAgent, t, 'GenerateDataKey', t >= BACKUP_ALIAS_MOVE_AT ? KEY.backupV2 : KEY.backupV1, {
        keyId: 'alias/backup',
        context: { 'aws:backup:source-resource': `arn:aws:rds:us-east-1:${OWNER}:db:payments-db` },
      });
    }
    // legacy-archiver: daily, hard-coded to the old backup key's ARN; fails once it is disabled, with retries.
    if (h === 3 && d >= 2) {
      let t = H + rmin(28, 34);
      const disabled = t >= DISABLE_BACKUP_V1_AT;
      for (let i = disabled ? int(2, 3) : 1; i > 0; i--) {
        crypto(
          ID.legacyArchiver,
          t,
          'GenerateDataKey',
          KEY.backupV1,
          disabled
            ? {
                context: { job: 'nightly-archive' },
                errorCode: 'DisabledException',
                errorMessage: `${KEY.backupV1.arn} is disabled.`,
              }
            : { context: { job: 'nightly-archive' } },
        );
        t += int(30, 70) * 1000;
      }
    }
    // vault-svc uses the HSM-backed key while the key store is connected.
    if ([9, 15].includes(h) && H >= at(4, 11) && H < CKS_DISCONNECT_AT) {
      let t = H + rmin(3, 40);
      for (let i = int(1, 3); i > 0; i--) {
        crypto(ID.vaultSvc, t, pick(['Encrypt', 'Decrypt']), KEY.hsm, {
          keyId: 'alias/hsm-vault',
          context: { vault: 'secrets', path: `kv/app/${int(1, 30)}` },
        });
        t += int(10, 120) * 1000;
      }
    }
    // EBS volumes (AWS managed key aws/ebs) created by EC2 on the account's behalf.
    if (h === 12 && chance(0.7)) {
      const t = H + rmin(30, 55);
      const vol = 'vol-0' + hex(16);
      crypto(ec2Svc, t, 'GenerateDataKeyWithoutPlaintext', KEY.ebs, { context: { 'aws:ebs:id': vol } });
      crypto(ec2Svc, t + int(20, 90) * 1000, 'Decrypt', KEY.ebs, { keyId: false, context: { 'aws:ebs:id': vol } });
    }
    // Key administrator's routine reads (workdays).
    if (isWorkday(d) && [9, 15].includes(h)) {
      const t = H + rmin(8, 50);
      // Only keys that exist by then; GetKeyRotationStatus only where KMS supports it (AWS_KMS origin).
      const k = pick([KEY.payments, KEY.backupV1, KEY.imported, KEY.backupV2, KEY.hsm].filter((x) => t > x.createdAt));
      const name = pick([
        'DescribeKey',
        'ListGrants',
        'GetKeyPolicy',
        'ListResourceTags',
        ...(k.origin === 'AWS_KMS' ? ['GetKeyRotationStatus'] : []),
      ]);
      keyRead(keyAdmin, t, name, k, name === 'GetKeyPolicy' ? { policyName: 'default' } : {});
      if (chance(0.5))
        kms(keyAdmin, t + int(5, 60) * 1000, 'ListAliases', null, { rp: null, readOnly: true, resources: undefined });
    }
    // Sign-ins (workdays).
    if (isWorkday(d) && h === 9 && d > 1) consoleLogin(ID.alice, H + 3 * MIN + int(0, 50) * 1000);
    if (isWorkday(d) && h === 12) {
      const t = H + rmin(5, 30);
      consoleLogin(ID.carol, t);
      describeInstances({ ...ID.carol, ua: UA.console }, t + int(30, 200) * 1000, USE1);
      if (chance(0.25)) describeInstances({ ...ID.carol, ua: UA.console }, t + int(300, 900) * 1000, EUW1);
    }
    // Owner inventory scanner every 6 hours; a daily IAM listing and a eu-west-1 sweep at 06 and 18.
    if (h % 6 === 0) {
      const t = H + rmin(20, 40);
      describeInstances(ID.inventory, t, USE1);
      describeVolumes(ID.inventory, t + int(1, 5) * 1000, USE1);
      s3Mgmt(ID.inventory, t + int(6, 12) * 1000, 'ListBuckets', null);
      if (h === 0) {
        listRoles(ID.inventory, t + int(13, 20) * 1000);
        s3Mgmt(ID.inventory, t + int(21, 30) * 1000, 'GetBucketEncryption', `payments-archive-${OWNER}`);
      }
      if (h === 6) {
        describeInstances(ID.inventory, t + int(40, 60) * 1000, EUW1);
        describeVolumes(ID.inventory, t + int(61, 70) * 1000, EUW1);
      }
    }
    // Application account: monitor every 6 hours (us-east-1) and twice a day in eu-west-1; reporting job
    // reads reports in eu-west-1; a denied attempt to read payments data with alias/payments on two days.
    if (h % 12 === 6) {
      const t = H + rmin(25, 45);
      describeInstances(ID.appMonitor, t, USE1);
      if (h === 18) describeInstances(ID.appMonitor, t + int(30, 90) * 1000, EUW1);
    }
    if (h === 18) {
      const t = H + rmin(10, 20);
      for (let i = int(2, 4); i > 0; i--) {
        s3Data(
          ID.reporting,
          t + i * int(2, 9) * 1000,
          'GetObject',
          `app-reports-eu-${APP}`,
          `daily/2024-03-${String(d).padStart(2, '0')}/part-${String(i).padStart(4, '0')}.parquet`,
          EUW1,
        );
      }
      if (d === 6 || d === 10) {
        let s = t + 90_000;
        for (let i = d === 6 ? 3 : 2; i > 0; i--) {
          crypto(ID.reporting, s, 'Decrypt', KEY.payments, {
            context: { service: 'payments', tenant: tenant() },
            errorCode: 'AccessDeniedException',
            errorMessage: `User: arn:aws:sts::${APP}:assumed-role/reporting-lambda/reporting-lambda is not authorized to perform: kms:Decrypt on resource: ${KEY.payments.arn} because no resource-based policy allows the kms:Decrypt action`,
          });
          s += int(1, 4) * 1000;
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------------------

/** Delivery cadence offset (minutes past the hour) of each account + Region's files. */
const STREAM_OFFSET = {
  [`${OWNER}/${USE1}`]: 1,
  [`${OWNER}/${EUW1}`]: 2,
  [`${APP}/${USE1}`]: 1,
  [`${APP}/${EUW1}`]: 2,
};

const files = new Map(); // path -> { stamp, events: [{t, ev}] }
for (const d of delivered) {
  const acct = d.ev.recipientAccountId;
  const region = d.ev.awsRegion;
  const off = (STREAM_OFFSET[`${acct}/${region}`] ?? 0) * MIN;
  // The file is stamped at the first cadence point strictly after the event: events fall in [stamp-1h, stamp).
  const stamp = Math.floor((d.t - off) / HOUR) * HOUR + off + HOUR;
  const key = `${acct}|${region}|${stamp}`;
  let f = files.get(key);
  if (!f) files.set(key, (f = { acct, region, stamp, events: [] }));
  f.events.push(d);
}

const fileKeys = [...files.keys()].sort((a, b) => {
  const fa = files.get(a),
    fb = files.get(b);
  return fa.acct.localeCompare(fb.acct) || fa.region.localeCompare(fb.region) || fa.stamp - fb.stamp;
});

rmSync(OUT, { recursive: true, force: true });
const sha256hex = (buf) => createHash('sha256').update(buf).digest('hex');
const written = [];
let totalBytes = 0;
/** Owner us-east-1 log files as delivered (before any later change), for the digests. */
const digestInputs = [];
let missingLog = null;
let changedLog = null;
for (const k of fileKeys) {
  const f = files.get(k);
  f.events.sort((a, b) => a.t - b.t || (a.ev.eventID < b.ev.eventID ? -1 : a.ev.eventID > b.ev.eventID ? 1 : 0));
  const s = new Date(f.stamp).toISOString();
  const ymd = s.slice(0, 10).replace(/-/g, '');
  const compact = `${ymd}T${s.slice(11, 13)}${s.slice(14, 16)}Z`;
  const rel = `AWSLogs/${f.acct}/CloudTrail/${f.region}/${s.slice(0, 4)}/${s.slice(5, 7)}/${s.slice(8, 10)}/${f.acct}_CloudTrail_${f.region}_${compact}_${chars(ALNUM, 16)}.json.gz`;
  let body = JSON.stringify({ Records: f.events.map((e) => e.ev) });
  if (f.acct === OWNER && f.region === USE1) {
    // The digest lists the file as CloudTrail delivered it: hex SHA-256 of the uncompressed content.
    digestInputs.push({
      rel,
      stamp: f.stamp,
      hash: sha256hex(Buffer.from(body, 'utf8')),
      oldest: f.events[0].ev.eventTime,
      newest: f.events.at(-1).ev.eventTime,
    });
    if (f.stamp === MISSING_LOG_STAMP) {
      // Delivered, listed in its digest, then deleted: not in the sample.
      missingLog = { rel, f, hash: digestInputs.at(-1).hash };
      continue;
    }
    if (f.stamp === CHANGED_LOG_STAMP) {
      // Changed after delivery: mallory's reconnaissance calls removed from the file.
      const removed = f.events.filter(
        (e) =>
          e.ev.eventSource === 'cloudtrail.amazonaws.com' &&
          ['DescribeTrails', 'GetEventSelectors'].includes(e.ev.eventName),
      );
      f.events = f.events.filter((e) => !removed.includes(e));
      body = JSON.stringify({ Records: f.events.map((e) => e.ev) });
      changedLog = {
        rel,
        listedHash: digestInputs.at(-1).hash,
        actualHash: sha256hex(Buffer.from(body, 'utf8')),
        removed: removed.map((e) => e.ev),
      };
    }
  }
  const gz = gzipSync(Buffer.from(body, 'utf8'), { level: 9 });
  const abs = join(OUT, rel);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, gz);
  totalBytes += gz.length;
  written.push({ rel, f });
}
if (!missingLog || !changedLog || changedLog.removed.length !== 2)
  throw new Error('the missing and changed log files were not found');

// ---------------------------------------------------------------------------------------------------------
// Digest files (org-trail, 111122223333, us-east-1), signed with the committed TEST key
// ---------------------------------------------------------------------------------------------------------

/**
 * CloudTrail digest files, as "CloudTrail digest file structure" and "Custom implementations of CloudTrail log
 * file integrity validation" (AWS CloudTrail User Guide) describe them, and as `aws cloudtrail validate-logs`
 * checks them: one digest per hour that has a log file (real CloudTrail also delivers digests for hours without
 * log files; left out here for size), each listing the hour's log files with the hex SHA-256 of their
 * uncompressed content, chained to the previous digest (its S3 object, the hex SHA-256 of its uncompressed
 * content, its signature). The signature is RSA PKCS#1 v1.5 with SHA-256 over the data signing string
 * `digestEndTime \n digestS3Bucket/digestS3Object \n hex SHA-256 of the uncompressed digest \n
 * previousDigestSignature` (the text `null` when there is none), hex-encoded. CloudTrail keeps it in the
 * digest object's S3 metadata (x-amz-meta-signature); offline, digest N's signature is the
 * previousDigestSignature of digest N+1 and every signature is in EXPECTED.json. After StopLogging ...
 * StartLogging the chain restarts (the first digest after it has no previous digest). The key pair is a TEST
 * key generated once (scripts/sample-test-key.pem): RSA PKCS#1 v1.5 signatures are deterministic, so reruns give
 * identical files.
 */
const TEST_KEY_PATH = resolve(HERE, 'sample-test-key.pem');
function testKey() {
  if (!existsSync(TEST_KEY_PATH)) {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(
      TEST_KEY_PATH,
      '# TEST KEY ONLY. KeyTrail sample data: signs the synthetic CloudTrail digest files in public/sample/.\n' +
        '# It is public on purpose, protects nothing and must never be used for anything else.\n' +
        privateKey.export({ type: 'pkcs1', format: 'pem' }),
    );
  }
  const text = readFileSync(TEST_KEY_PATH, 'utf8');
  return createPrivateKey(text.slice(text.indexOf('-----BEGIN')));
}
const privateKey = testKey();
const publicDer = createPublicKey(privateKey).export({ type: 'pkcs1', format: 'der' });
const FINGERPRINT = createHash('md5').update(publicDer).digest('hex');
const DIGEST_BUCKET = TRAILS[0].s3BucketName;
const KEY_VALID_FROM = T('2024-02-26T00:00:00Z');
const KEY_VALID_TO = T('2024-03-27T00:00:00Z');
const digestsOut = [];
let prevDigest = null;
let prevStamp = -Infinity;
const chainBreaks = [];
for (const d of digestInputs.sort((a, b) => a.stamp - b.stamp)) {
  const end = Math.floor(d.stamp / HOUR) * HOUR + HOUR + 31_000; // file delivered at HH:01, digest ends at (HH+1):00:31
  const start = end - HOUR;
  const e = iso(end);
  const object = `AWSLogs/${OWNER}/CloudTrail-Digest/${USE1}/${e.slice(0, 4)}/${e.slice(5, 7)}/${e.slice(8, 10)}/${OWNER}_CloudTrail-Digest_${USE1}_${TRAILS[0].name}_${USE1}_${e.replace(/[-:]/g, '')}.json.gz`;
  const restarted = prevDigest && prevStamp < START_AT && d.stamp > START_AT;
  if (restarted)
    chainBreaks.push({
      digest: object,
      lastBefore: prevDigest.object,
      reason: `logging stopped ${iso(STOP_AT)} to ${iso(START_AT)} (StopLogging / StartLogging): the chain restarts`,
    });
  const prev = restarted ? null : prevDigest;
  const digest = {
    awsAccountId: OWNER,
    digestStartTime: iso(start),
    digestEndTime: e,
    digestS3Bucket: DIGEST_BUCKET,
    digestS3Object: object,
    digestPublicKeyFingerprint: FINGERPRINT,
    digestSignatureAlgorithm: 'SHA256withRSA',
    newestEventTime: d.newest,
    oldestEventTime: d.oldest,
    previousDigestS3Bucket: prev ? DIGEST_BUCKET : null,
    previousDigestS3Object: prev ? prev.object : null,
    previousDigestHashValue: prev ? prev.hash : null,
    previousDigestHashAlgorithm: prev ? 'SHA-256' : null,
    previousDigestSignature: prev ? prev.signature : null,
    logFiles: [
      {
        s3Bucket: DIGEST_BUCKET,
        s3Object: d.rel,
        hashValue: d.hash,
        hashAlgorithm: 'SHA-256',
        newestEventTime: d.newest,
        oldestEventTime: d.oldest,
      },
    ],
  };
  const content = Buffer.from(JSON.stringify(digest), 'utf8');
  const hash = sha256hex(content);
  const toSign = `${digest.digestEndTime}\n${digest.digestS3Bucket}/${digest.digestS3Object}\n${hash}\n${digest.previousDigestSignature ?? 'null'}`;
  const signature = rsaSign('sha256', Buffer.from(toSign, 'utf8'), privateKey).toString('hex');
  const gz = gzipSync(content, { level: 9 });
  const abs = join(OUT, object);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, gz);
  totalBytes += gz.length;
  digestsOut.push({
    object,
    start,
    end,
    hash,
    signature,
    previous: prev?.object ?? null,
    logFile: d.rel,
    logFileHash: d.hash,
  });
  prevDigest = { object, hash, signature };
  prevStamp = d.stamp;
}
// The public key as `aws cloudtrail list-public-keys` prints it (Value: base64 DER PKCS#1; Fingerprint: hex MD5 of it).
writeFileSync(
  join(OUT, 'test-public-keys.json'),
  JSON.stringify(
    {
      PublicKeyList: [
        {
          ValidityStartTime: KEY_VALID_FROM / 1000,
          ValidityEndTime: KEY_VALID_TO / 1000,
          Value: publicDer.toString('base64'),
          Fingerprint: FINGERPRINT,
        },
      ],
    },
    null,
    4,
  ) + '\n',
);

// ---------------------------------------------------------------------------------------------------------
// Self-checks (throw on any violation of the scenario's rules)
// ---------------------------------------------------------------------------------------------------------

const events = written.flatMap((w) => w.f.events.map((e) => e.ev));
const ms = (ev) => Date.parse(ev.eventTime);
function check(cond, msg) {
  if (!cond) throw new Error(`self-check failed: ${msg}`);
}
{
  const ids = new Set();
  for (const ev of events) {
    check(!ids.has(ev.eventID), `duplicate eventID ${ev.eventID}`);
    ids.add(ev.eventID);
    const t = ms(ev);
    check(t >= SPAN_START && t <= SPAN_END, `event outside span ${ev.eventTime}`);
    if (ev.recipientAccountId === OWNER) {
      check(!(t > STOP_AT && t < START_AT), `owner event in StopLogging gap ${ev.eventTime}`);
      check(
        !(ev.eventSource === KMS && t > EXCLUDE_START && t <= EXCLUDE_END),
        `owner KMS event in exclusion window ${ev.eventTime}`,
      );
    }
    check(ev.recipientAccountId !== EXTERNAL, 'external account logs must not be in the sample');
  }
  for (const w of written) {
    for (const e of w.f.events)
      check(e.t < w.f.stamp && e.t >= w.f.stamp - HOUR, `event ${e.ev.eventTime} not in the hour before ${w.rel}`);
    for (const e of w.f.events)
      check(e.ev.recipientAccountId === w.f.acct && e.ev.awsRegion === w.f.region, `event in wrong file ${w.rel}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// EXPECTED.json: computed from the delivered events
// ---------------------------------------------------------------------------------------------------------

const inc = (o, k, n = 1) => ((o[k] = (o[k] ?? 0) + n), o);
const sortObj = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
const byTime = [...events].sort((a, b) => ms(a) - ms(b) || (a.eventID < b.eventID ? -1 : 1));

const eventsByAccount = {},
  eventsByRegion = {},
  eventsByEventSource = {},
  eventsByAccountAndSource = {},
  errorsByCode = {};
const eventsByCategory = {};
for (const ev of events) {
  inc(eventsByAccount, ev.recipientAccountId);
  inc(eventsByRegion, ev.awsRegion);
  inc(eventsByEventSource, ev.eventSource);
  inc(eventsByCategory, ev.eventCategory);
  eventsByAccountAndSource[ev.recipientAccountId] ??= {};
  inc(eventsByAccountAndSource[ev.recipientAccountId], ev.eventSource);
  if (ev.errorCode) inc(errorsByCode, ev.errorCode);
}
const filesByAccountRegion = {};
for (const w of written) inc(filesByAccountRegion, `${w.f.acct}/${w.f.region}`);

/** KMS key ARN an event concerns: responseElements.keyId / keyMetadata.arn, else first key resource. */
const KEY_ARN_RE = /^arn:aws:kms:[a-z0-9-]+:\d{12}:key\//;
function keyArnOf(ev) {
  const re = ev.responseElements;
  if (re?.keyMetadata?.arn) return re.keyMetadata.arn;
  if (typeof re?.keyId === 'string' && KEY_ARN_RE.test(re.keyId)) return re.keyId;
  for (const r of ev.resources ?? []) if (r.type === 'AWS::KMS::Key' && KEY_ARN_RE.test(r.ARN)) return r.ARN;
  return null;
}

// Key lifecycle replay (the key owner account's logs, successful calls).
const keys = new Map();
const aliases = new Map();
const aliasHistory = [];
for (const ev of byTime) {
  if (ev.eventSource !== KMS) continue;
  const arn = keyArnOf(ev);
  if (arn && !keys.has(arn)) {
    keys.set(arn, {
      keyId: arn.slice(arn.indexOf('/') + 1),
      arn,
      account: arn.split(':')[4],
      region: arn.split(':')[3],
      firstSeen: ev.eventTime,
      createdAt: null,
      createdBy: null,
      origin: null,
      keyManager: null,
      customKeyStoreId: null,
      description: null,
      state: null,
      stateChangedAt: null,
      deletionDate: null,
      deletionDateRaw: null,
      pendingWindowInDays: null,
      scheduledForDeletionBy: null,
      rotationEnabled: null,
    });
  }
  if (ev.errorCode || !arn || ev.recipientAccountId !== arn.split(':')[4]) continue;
  const k = keys.get(arn);
  const setState = (s) => ((k.state = s), (k.stateChangedAt = ev.eventTime));
  switch (ev.eventName) {
    case 'CreateKey': {
      const md = ev.responseElements.keyMetadata;
      Object.assign(k, {
        createdAt: ev.eventTime,
        createdBy: ev.userIdentity.arn,
        origin: md.origin,
        keyManager: md.keyManager,
        customKeyStoreId: md.customKeyStoreId ?? null,
        description: md.description,
      });
      setState(md.keyState);
      break;
    }
    case 'EnableKey':
      setState('Enabled');
      break;
    case 'DisableKey':
      setState('Disabled');
      break;
    case 'ImportKeyMaterial':
      setState('Enabled');
      break;
    case 'DeleteImportedKeyMaterial':
      setState('PendingImport');
      break;
    case 'CancelKeyDeletion':
      setState('Disabled');
      k.deletionDate = k.deletionDateRaw = null;
      break;
    case 'EnableKeyRotation':
      k.rotationEnabled = true;
      break;
    case 'DisableKeyRotation':
      k.rotationEnabled = false;
      break;
    case 'ScheduleKeyDeletion':
      setState(ev.responseElements.keyState);
      k.deletionDateRaw = ev.responseElements.deletionDate;
      k.deletionDate = iso(ms(ev) + ev.requestParameters.pendingWindowInDays * DAY);
      k.pendingWindowInDays = ev.requestParameters.pendingWindowInDays;
      k.scheduledForDeletionBy = ev.userIdentity.arn;
      break;
    case 'CreateAlias':
    case 'UpdateAlias': {
      const a = ev.requestParameters.aliasName;
      const from = aliases.get(a) ?? null;
      aliases.set(a, arn);
      aliasHistory.push({ alias: a, eventName: ev.eventName, eventTime: ev.eventTime, from, to: arn });
      break;
    }
    case 'DeleteAlias':
      aliases.delete(ev.requestParameters.aliasName);
      break;
  }
}
const keyList = [...keys.values()].map((k) => ({
  ...k,
  aliases: [...aliases.entries()]
    .filter(([, a]) => a === k.arn)
    .map(([n]) => n)
    .sort(),
  formerAliases: aliasHistory.filter((h) => h.from === k.arn).map((h) => h.alias),
  note:
    k.state === null
      ? 'No lifecycle event in the logs (AWS managed key for EBS, seen only through use by ec2.amazonaws.com); state unknown from logs.'
      : undefined,
}));

// Cross-account KMS calls: the caller's account differs from the key owner's.
const xa = new Map(); // group key -> { caller: ev|null, owner: ev|null }
for (const ev of events) {
  if (ev.eventSource !== KMS) continue;
  const arn = keyArnOf(ev);
  if (!arn) continue;
  const keyOwner = arn.split(':')[4];
  const callerAcct = ev.userIdentity?.accountId;
  if (!callerAcct || callerAcct === keyOwner) continue;
  const g = ev.sharedEventID ?? `single:${ev.eventID}`;
  const entry = xa.get(g) ?? { caller: null, owner: null };
  if (ev.recipientAccountId === keyOwner) entry.owner = ev;
  else entry.caller = ev;
  xa.set(g, entry);
}
const inExclusion = (t) => t > EXCLUDE_START && t <= EXCLUDE_END;
const inStop = (t) => t > STOP_AT && t < START_AT;
const inAdvanced = (t) => t > ADV_START && t <= ADV_END;
const missingShared = new Set(missingLog.f.events.map((e) => e.ev.sharedEventID).filter(Boolean));
const emptyCounts = () => ({
  requests: 0,
  paired: 0,
  pairedSucceeded: 0,
  pairedFailed: 0,
  callerOnlyDenied: 0,
  callerOnlySucceeded: 0,
  callerOnlySucceededInExclusionWindow: 0,
  callerOnlySucceededInStopLoggingGap: 0,
  callerOnlySucceededInAdvancedExclusionWindow: 0,
  callerOnlySucceededInMissingLogFile: 0,
  callerOnlyOtherFailure: 0,
  ownerOnly: 0,
  ownerOnlyCallerLoaded: 0,
});
const crossAccount = {
  keyOwnerAccount: OWNER,
  keyOwnerAccounts: [OWNER, APP],
  ...emptyCounts(),
  ownerOnlyByCallerAccount: {},
  byCallerAccount: {},
  byOwnerAccount: {},
};
for (const { caller, owner } of xa.values()) {
  const ev = caller ?? owner;
  const ownerAcct = keyArnOf(ev).split(':')[4];
  const per = (crossAccount.byOwnerAccount[ownerAcct] ??= emptyCounts());
  const bump = (k) => {
    crossAccount[k]++;
    per[k]++;
  };
  bump('requests');
  inc(crossAccount.byCallerAccount, ev.userIdentity.accountId);
  if (caller && owner) {
    bump('paired');
    check(
      caller.requestID === owner.requestID && caller.eventTime === owner.eventTime && caller.eventID !== owner.eventID,
      'pair mismatch',
    );
    bump(caller.errorCode ? 'pairedFailed' : 'pairedSucceeded');
  } else if (caller) {
    const t = ms(caller);
    if (/^AccessDenied/.test(caller.errorCode ?? '')) bump('callerOnlyDenied');
    else if (caller.errorCode) bump('callerOnlyOtherFailure');
    else {
      bump('callerOnlySucceeded');
      if (ownerAcct === OWNER && inExclusion(t)) bump('callerOnlySucceededInExclusionWindow');
      else if (ownerAcct === OWNER && inStop(t)) bump('callerOnlySucceededInStopLoggingGap');
      else if (ownerAcct === APP && inAdvanced(t)) bump('callerOnlySucceededInAdvancedExclusionWindow');
      else if (ownerAcct === OWNER && missingShared.has(caller.sharedEventID))
        bump('callerOnlySucceededInMissingLogFile');
      else throw new Error(`unexplained caller-only call ${caller.eventID}`);
    }
  } else {
    bump('ownerOnly');
    if (LOGGED_ACCOUNTS.includes(owner.userIdentity.accountId)) bump('ownerOnlyCallerLoaded');
    inc(crossAccount.ownerOnlyByCallerAccount, owner.userIdentity.accountId);
  }
}
crossAccount.pairedEvents = crossAccount.paired * 2;
check(crossAccount.ownerOnlyCallerLoaded === 0, 'owner-only copies are from the external account only');
check(
  crossAccount.callerOnlySucceededInAdvancedExclusionWindow > 0 && crossAccount.callerOnlySucceededInMissingLogFile > 0,
  'both new caller-only cases occur',
);

// Failures.
const pendingKey = keyList.find((k) => k.state === 'PendingDeletion');
const invalidState = events.filter(
  (ev) => ev.errorCode === 'KMSInvalidStateException' && ev.eventName === 'Decrypt' && keyArnOf(ev) === pendingKey?.arn,
);
const disabledEx = events.filter((ev) => ev.errorCode === 'DisabledException');
const denied = events.filter((ev) => /^AccessDenied/.test(ev.errorCode ?? ''));
const failures = {
  kmsInvalidStateDecryptOnPendingDeletionKey: {
    keyArn: pendingKey?.arn ?? null,
    events: invalidState.length,
    requests: new Set(invalidState.map((e) => e.requestID)).size,
    byRecipientAccount: sortObj(invalidState.reduce((o, e) => inc(o, e.recipientAccountId), {})),
    byCallerAccount: sortObj(invalidState.reduce((o, e) => inc(o, e.userIdentity.accountId), {})),
    first: invalidState.map((e) => e.eventTime).sort()[0] ?? null,
    last:
      invalidState
        .map((e) => e.eventTime)
        .sort()
        .at(-1) ?? null,
  },
  disabledException: {
    events: disabledEx.length,
    byKey: sortObj(disabledEx.reduce((o, e) => inc(o, keyArnOf(e)), {})),
    byEventName: sortObj(disabledEx.reduce((o, e) => inc(o, e.eventName), {})),
    byPrincipal: sortObj(
      disabledEx.reduce((o, e) => inc(o, e.userIdentity.sessionContext?.sessionIssuer?.arn ?? e.userIdentity.arn), {}),
    ),
  },
  accessDenied: {
    events: denied.length,
    byRecipientAccount: sortObj(denied.reduce((o, e) => inc(o, e.recipientAccountId), {})),
    byPrincipal: sortObj(
      denied.reduce((o, e) => inc(o, e.userIdentity.sessionContext?.sessionIssuer?.arn ?? e.userIdentity.arn), {}),
    ),
  },
  byErrorCode: sortObj(errorsByCode),
};

// Logging changes, from the cloudtrail.amazonaws.com events.
const ct = byTime.filter((ev) => ev.eventSource === 'cloudtrail.amazonaws.com');
const trailNameOf = (ev) => {
  const n = ev.requestParameters?.name ?? ev.requestParameters?.trailName ?? '';
  return n.includes(':trail/') ? n.slice(n.indexOf(':trail/') + 7) : n;
};
const ctOf = (trail, name) => ct.filter((ev) => trailNameOf(ev) === trail && ev.eventName === name);
const basicExcludesKms = (ev) =>
  (ev.requestParameters.eventSelectors ?? []).some((s) => (s.excludeManagementEventSources ?? []).includes(KMS));
const putSel = ctOf('org-trail', 'PutEventSelectors');
const exclStart = putSel.find(basicExcludesKms);
const exclEnd = exclStart && putSel.find((ev) => ms(ev) > ms(exclStart) && !basicExcludesKms(ev));
const stop = ctOf('org-trail', 'StopLogging')[0];
const start = stop && ctOf('org-trail', 'StartLogging').find((ev) => ms(ev) > ms(stop));
const who = (ev) =>
  ev && { arn: ev.userIdentity.arn, accessKeyId: ev.userIdentity.accessKeyId, sourceIPAddress: ev.sourceIPAddress };
const exclusionWindow = exclStart && {
  account: exclStart.recipientAccountId,
  trail: exclStart.requestParameters.trailName,
  excludedEventSources: [KMS],
  start: exclStart.eventTime,
  end: exclEnd?.eventTime ?? null,
  startEventID: exclStart.eventID,
  endEventID: exclEnd?.eventID ?? null,
  startedBy: who(exclStart),
  endedBy: who(exclEnd),
  ownerKmsEventsInWindow: events.filter(
    (ev) => ev.recipientAccountId === exclStart.recipientAccountId && ev.eventSource === KMS && inExclusion(ms(ev)),
  ).length,
  ownerOtherEventsInWindow: events.filter(
    (ev) => ev.recipientAccountId === exclStart.recipientAccountId && ev.eventSource !== KMS && inExclusion(ms(ev)),
  ).length,
  callerSideKmsEventsInWindow: events.filter(
    (ev) =>
      ev.recipientAccountId !== exclStart.recipientAccountId &&
      ev.eventSource === KMS &&
      keyArnOf(ev)?.split(':')[4] === exclStart.recipientAccountId &&
      inExclusion(ms(ev)),
  ).length,
};
const stopLogging = stop && {
  account: stop.recipientAccountId,
  trail: stop.requestParameters.name,
  stoppedAt: stop.eventTime,
  startedAt: start?.eventTime ?? null,
  stopEventID: stop.eventID,
  startEventID: start?.eventID ?? null,
  by: who(stop),
  ownerEventsInGap: events.filter((ev) => ev.recipientAccountId === stop.recipientAccountId && inStop(ms(ev))).length,
  otherAccountEventsInGap: events.filter((ev) => ev.recipientAccountId !== stop.recipientAccountId && inStop(ms(ev)))
    .length,
};
// app-trail's advanced selectors
const appSel = ctOf('app-trail', 'PutEventSelectors');
const advExcludesKms = (ev) =>
  (ev.requestParameters.advancedEventSelectors ?? []).some((s) =>
    s.fieldSelectors.some((f) => f.field === 'eventSource' && (f.notEquals ?? []).includes(KMS)),
  );
const advStart = appSel.find(advExcludesKms);
const advEnd = advStart && appSel.find((ev) => ms(ev) > ms(advStart) && !advExcludesKms(ev));
const advancedExclusionWindow = advStart && {
  account: advStart.recipientAccountId,
  trail: 'app-trail',
  trailNamedAs: { start: advStart.requestParameters.trailName, end: advEnd?.requestParameters.trailName ?? null },
  selectorKind: 'advanced',
  start: advStart.eventTime,
  end: advEnd?.eventTime ?? null,
  startEventID: advStart.eventID,
  endEventID: advEnd?.eventID ?? null,
  startedBy: who(advStart),
  endedBy: who(advEnd),
  recipientKmsEventsInWindow: events.filter(
    (ev) => ev.recipientAccountId === APP && ev.eventSource === KMS && inAdvanced(ms(ev)),
  ).length,
  recipientOtherEventsInWindow: events.filter(
    (ev) => ev.recipientAccountId === APP && ev.eventSource !== KMS && inAdvanced(ms(ev)),
  ).length,
};

/**
 * Coverage answers: every exclusion window (trail by name, account, kind, start, end, who), the trail
 * updates and deletions, and the KMS silences a detector should find: in each account whose KMS events a
 * kms-excluded window hid, from the last KMS event before the window to the first one after it (us-east-1,
 * where the account's KMS activity is).
 */
const actorOf = (ev) =>
  ev && {
    principal: ev.userIdentity.arn,
    sourceIPAddress: ev.sourceIPAddress,
    eventName: ev.eventName,
    eventID: ev.eventID,
    time: ev.eventTime,
  };
const dtCreate = ctOf('payments-data-trail', 'CreateTrail')[0];
const dtStart = ctOf('payments-data-trail', 'StartLogging')[0];
const dtSel = ctOf('payments-data-trail', 'PutEventSelectors')[0];
const dtUpdate = ctOf('payments-data-trail', 'UpdateTrail')[0];
const dtDelete = ctOf('payments-data-trail', 'DeleteTrail')[0];
const win = (trail, account, kind, selectorKind, s, e) => ({
  trail,
  account,
  kind,
  selectorKind,
  start: s.eventTime,
  end: e?.eventTime ?? null,
  startedBy: actorOf(s),
  endedBy: actorOf(e) ?? null,
});
const windowsExpected = [
  win('payments-data-trail', OWNER, 'logging-stopped', null, dtCreate, dtStart),
  win('payments-data-trail', OWNER, 'management-disabled', 'basic', dtSel, dtDelete),
  win('app-trail', APP, 'kms-excluded', 'advanced', advStart, advEnd),
  win('org-trail', OWNER, 'kms-excluded', 'basic', exclStart, exclEnd),
  win('org-trail', OWNER, 'logging-stopped', null, stop, start),
  win('payments-data-trail', OWNER, 'logging-stopped', null, dtDelete, null),
].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
const kmsTimes = (acct) =>
  events
    .filter((ev) => ev.recipientAccountId === acct && ev.awsRegion === USE1 && ev.eventSource === KMS)
    .map(ms)
    .sort((a, b) => a - b);
const silenceAround = (acct, s, e) => {
  const ts = kmsTimes(acct);
  return {
    account: acct,
    region: USE1,
    start: iso(ts.filter((t) => t < s).at(-1)),
    end: iso(ts.find((t) => t > e)),
    explainedBy: 'kms-excluded',
  };
};
const coverage = {
  note: 'Exclusion windows per trail and kind (a window ends with the change that restored recording; end null = open-ended). Windows of different kinds may overlap. principal = userIdentity.arn of the change.',
  windows: windowsExpected,
  trailUpdated: [
    {
      trail: 'payments-data-trail',
      account: OWNER,
      time: dtUpdate.eventTime,
      eventID: dtUpdate.eventID,
      principal: dtUpdate.userIdentity.arn,
      sourceIPAddress: dtUpdate.sourceIPAddress,
      field: 's3BucketName',
      from: TRAILS[2].s3BucketName,
      to: dtUpdate.requestParameters.s3BucketName,
    },
  ],
  trailDeleted: [
    {
      trail: 'payments-data-trail',
      account: OWNER,
      time: dtDelete.eventTime,
      eventID: dtDelete.eventID,
      principal: dtDelete.userIdentity.arn,
      sourceIPAddress: dtDelete.sourceIPAddress,
    },
  ],
  kmsSilence: [silenceAround(APP, ADV_START, ADV_END), silenceAround(OWNER, EXCLUDE_START, EXCLUDE_END)].sort((a, b) =>
    a.start < b.start ? -1 : 1,
  ),
  notKmsSilence:
    'The StopLogging gap (nothing logged at all) and the hour of the missing log file are not KMS silence: no other source logged in them.',
  unrecordedCrossAccountCalls: {
    note: "caller-only-succeeded calls inside the key owner's exclusion windows (every trail of the owner not recording KMS then). The calls whose owner copy is in the missing log file are not inside any window.",
    ownerCopyMissingInWindow:
      crossAccount.callerOnlySucceededInExclusionWindow +
      crossAccount.callerOnlySucceededInStopLoggingGap +
      crossAccount.callerOnlySucceededInAdvancedExclusionWindow,
    byOwnerAccount: {
      [OWNER]: crossAccount.callerOnlySucceededInExclusionWindow + crossAccount.callerOnlySucceededInStopLoggingGap,
      [APP]: crossAccount.callerOnlySucceededInAdvancedExclusionWindow,
    },
    notInWindow: crossAccount.callerOnlySucceededInMissingLogFile,
  },
  findings: [
    'kms-events-excluded',
    'management-events-disabled',
    'trail-logging-stopped',
    'trail-deleted',
    'trail-updated',
    'kms-silence-gap',
    'cross-account-owner-copy-missing',
    'external-account-key-use',
  ],
};

// Digests and log file integrity
const digestOf = (rel) => digestsOut.find((d) => d.logFile === rel);
const digests = {
  account: OWNER,
  region: USE1,
  trail: TRAILS[0].name,
  trailArn: TRAILS[0].arn,
  bucket: DIGEST_BUCKET,
  count: digestsOut.length,
  publicKeyFingerprint: FINGERPRINT,
  signatureAlgorithm: 'SHA256withRSA',
  publicKeysFile: 'test-public-keys.json',
  testPrivateKey: 'scripts/sample-test-key.pem',
  note: 'One digest per hour that has an org-trail us-east-1 log file (real CloudTrail also delivers digests for hours without log files). Signature: RSA PKCS#1 v1.5 SHA-256 over "digestEndTime\\ndigestS3Bucket/digestS3Object\\nhex(sha256(uncompressed digest))\\npreviousDigestSignature" (null -> "null"), hex. Offline the signature of digest N is the previousDigestSignature of digest N+1; the last one, and those before a chain restart, only here. previousDigestHashValue = hex SHA-256 of the previous digest\'s uncompressed content.',
  chainBreaks,
  signatures: Object.fromEntries(digestsOut.map((d) => [d.object, d.signature])),
};
const logFileIntegrity = {
  changed: {
    path: changedLog.rel,
    digest: digestOf(changedLog.rel).object,
    listedHash: changedLog.listedHash,
    actualHash: changedLog.actualHash,
    removedEvents: changedLog.removed.map((ev) => ({
      eventID: ev.eventID,
      eventName: ev.eventName,
      eventTime: ev.eventTime,
      principal: ev.userIdentity.arn,
    })),
  },
  missing: {
    path: missingLog.rel,
    digest: digestOf(missingLog.rel).object,
    listedHash: missingLog.hash,
    inIndex: false,
    events: missingLog.f.events.length,
    eventsBySource: sortObj(missingLog.f.events.reduce((o, e) => inc(o, e.ev.eventSource), {})),
    crossAccountOwnerCopies: crossAccount.callerOnlySucceededInMissingLogFile,
  },
};

// CloudHSM, from cloudhsm.amazonaws.com and KMS custom key store events.
const hsmEv = byTime.filter((ev) => ev.eventSource === HSMSRC);
const createCluster = hsmEv.find((ev) => ev.eventName === 'CreateCluster');
const hsmsCreated = hsmEv.filter((ev) => ev.eventName === 'CreateHsm').map((ev) => ev.responseElements.hsm.hsmId);
const hsmsDeleted = hsmEv.filter((ev) => ev.eventName === 'DeleteHsm').map((ev) => ev.requestParameters.hsmId);
const cksCreate = byTime.find((ev) => ev.eventName === 'CreateCustomKeyStore');
const cksConn = byTime.filter(
  (ev) => ev.eventName === 'ConnectCustomKeyStore' || ev.eventName === 'DisconnectCustomKeyStore',
);
const cloudhsm = {
  account: createCluster.recipientAccountId,
  region: createCluster.awsRegion,
  clusterId: createCluster.responseElements.cluster.clusterId,
  hsmType: createCluster.responseElements.cluster.hsmType,
  hsmIds: hsmsCreated,
  deletedHsmIds: hsmsDeleted,
  remainingHsmIds: hsmsCreated.filter((h) => !hsmsDeleted.includes(h)),
  initializedAt: hsmEv.find((ev) => ev.eventName === 'InitializeCluster')?.eventTime ?? null,
  backupsCreated: hsmEv.filter((ev) => ev.eventName === 'CreateBackup').map((ev) => ev.serviceEventDetails.backupId),
  backupsDeleted: hsmEv.filter((ev) => ev.eventName === 'DeleteBackup').map((ev) => ev.requestParameters.backupId),
  backupsCopied: hsmEv
    .filter((ev) => ev.eventName === 'CopyBackupToRegion')
    .map((ev) => ({
      backupId: ev.requestParameters.backupId,
      destinationRegion: ev.requestParameters.destinationRegion,
    })),
  eventsByName: sortObj(hsmEv.reduce((o, e) => inc(o, e.eventName), {})),
  customKeyStore: {
    customKeyStoreId: cksCreate.responseElements.customKeyStoreId,
    customKeyStoreName: cksCreate.requestParameters.customKeyStoreName,
    cloudHsmClusterId: cksCreate.requestParameters.cloudHsmClusterId,
    createdAt: cksCreate.eventTime,
    connectionHistory: cksConn.map((ev) => ({ eventName: ev.eventName, eventTime: ev.eventTime })),
    finalConnectionState: cksConn.at(-1)?.eventName === 'ConnectCustomKeyStore' ? 'CONNECTED' : 'DISCONNECTED',
    keys: keyList.filter((k) => k.customKeyStoreId === cksCreate.responseElements.customKeyStoreId).map((k) => k.arn),
  },
};

// Ground truth the logs cannot show (what the simulation created but no trail delivered).
const groundTruth = {
  note: 'Copies the simulation created that no delivered log file contains, by recipient account and reason. Not discoverable from the sample itself.',
  undeliveredCopies: sortObj({
    ...hiddenReasons,
    [`${OWNER}:logFileMissing`]: missingLog.f.events.length,
    [`${OWNER}:logFileChanged`]: changedLog.removed.length,
  }),
};

const expected = {
  generator: 'scripts/gen-sample.mjs',
  seed: SEED,
  timeSpan: { start: iso(SPAN_START), end: iso(SPAN_END) },
  firstEventTime: byTime[0].eventTime,
  lastEventTime: byTime.at(-1).eventTime,
  files: written.length,
  digestFiles: digestsOut.length,
  indexFiles: written.length + digestsOut.length,
  gzipBytes: totalBytes,
  events: events.length,
  distinctEvents: new Set(events.map((e) => JSON.stringify(e))).size,
  accounts: {
    [OWNER]: { role: 'security / key-owner account (prod-keys)', logsInSample: true },
    [APP]: { role: 'application account', logsInSample: true },
    [EXTERNAL]: { role: "external account; appears only as a caller in the key owner's copies", logsInSample: false },
  },
  trails: TRAILS.map(({ account, name, homeRegion, arn, s3BucketName }) => ({
    account,
    name,
    homeRegion,
    arn,
    s3BucketName,
  })),
  eventsByAccount: sortObj(eventsByAccount),
  eventsByRegion: sortObj(eventsByRegion),
  eventsByEventSource: sortObj(eventsByEventSource),
  eventsByAccountAndSource: sortObj(
    Object.fromEntries(Object.entries(eventsByAccountAndSource).map(([k, v]) => [k, sortObj(v)])),
  ),
  eventsByCategory: sortObj(eventsByCategory),
  filesByAccountRegion: sortObj(filesByAccountRegion),
  keys: keyList,
  aliases: sortObj(Object.fromEntries(aliases)),
  aliasHistory,
  failures,
  crossAccount: {
    ...crossAccount,
    ownerOnlyByCallerAccount: sortObj(crossAccount.ownerOnlyByCallerAccount),
    byCallerAccount: sortObj(crossAccount.byCallerAccount),
    byOwnerAccount: sortObj(crossAccount.byOwnerAccount),
  },
  exclusionWindow,
  stopLogging,
  advancedExclusionWindow,
  coverage,
  digests,
  logFileIntegrity,
  cloudhsm,
  groundTruth,
};
check(expected.distinctEvents === expected.events, 'distinct events must equal total events');

writeFileSync(join(OUT, 'EXPECTED.json'), JSON.stringify(expected, null, 2) + '\n');
writeFileSync(
  join(OUT, 'index.json'),
  JSON.stringify(
    {
      files: [...written.map((w) => w.rel), ...digestsOut.map((d) => d.object)],
      events: events.length,
      publicKeys: 'test-public-keys.json',
      description:
        'KeyTrail sample: two AWS accounts (key owner 111122223333 with trail org-trail, application 444455556666 with trail app-trail), 1-14 March 2024. AWS KMS key lifecycles and cross-account use both ways, a CloudHSM cluster and KMS custom key store, a ~30-hour exclusion of kms.amazonaws.com from org-trail (basic event selectors), a 4.5-hour exclusion from app-trail (advanced event selectors), a 3-hour StopLogging gap, a data-events trail redirected and deleted, an external account (777788889999) using a key that is then scheduled for deletion, and signed digest files for org-trail in us-east-1 (one log file changed after delivery, one missing; test key in test-public-keys.json). Synthetic data generated by scripts/gen-sample.mjs.',
    },
    null,
    2,
  ) + '\n',
);

console.log(
  `wrote ${written.length} log files and ${digestsOut.length} digest files (${totalBytes} bytes gzipped), ${events.length} events, to ${OUT}`,
);
console.log(`by account: ${JSON.stringify(expected.eventsByAccount)}`);
console.log(`by source:  ${JSON.stringify(expected.eventsByEventSource)}`);
