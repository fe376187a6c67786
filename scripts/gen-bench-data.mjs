#!/usr/bin/env node
/**
 * Generates the deterministic CloudTrail data set used by `npm run bench` (scripts/bench.mjs).
 *
 *   node scripts/gen-bench-data.mjs [--events N] [--files N] [--dir PATH] [--force]
 *   import { generate } from './gen-bench-data.mjs'; await generate({ events, files, dir });
 *
 * Defaults: 1,000,000 events in 100 gzipped CloudTrail S3 delivery files (`{"Records":[...]}`) under
 *   bench-data/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<16 alnum>.json.gz
 *
 * - Deterministic: mulberry32 PRNGs (one for the shared pools, one per file seeded from the file index), fixed
 *   key order, gzip via node:zlib (mtime 0) with a fixed write chunking, so reruns are byte-identical.
 * - The data set spans 30 days (2024-05-01 .. 2024-05-31 UTC). File i covers the i-th of `files` equal time
 *   slots; its (account, Region) rotates over 5 accounts x 4 Regions. Events are in time order within a file and
 *   the file's timestamp lies just after its last event.
 * - Every event has a unique eventID (PRNG UUID), so all `events` records are distinct.
 * - Skips work when `<dir>/.params.json` matches the requested parameters and every listed file exists with
 *   the recorded size. Otherwise `<dir>/AWSLogs` is removed and regenerated.
 * - Streams: each file is written in chunks of CHUNK events through createGzip, honouring back-pressure.
 */
import { createGzip } from 'node:zlib';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { once } from 'node:events';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from './prng.mjs';

const GENERATOR_VERSION = 1;
const SEED = 0x6b3b3e4c;
const CHUNK = 500;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_DIR = join(ROOT, 'bench-data');
export const DEFAULTS = { events: 1_000_000, files: 100 };

const START = Date.UTC(2024, 4, 1); // 2024-05-01T00:00:00Z
const SPAN = 30 * 24 * 3600_000;

// ---------------------------------------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------------------------------------

function rng(seed) {
  const r = mulberry32(seed);
  const int = (lo, hi) => lo + Math.floor(r() * (hi - lo + 1));
  const pick = (arr) => arr[Math.floor(r() * arr.length)];
  const chars = (set, n) => {
    let s = '';
    for (let i = 0; i < n; i++) s += set[Math.floor(r() * set.length)];
    return s;
  };
  const hex = (n) => chars(HEX, n);
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[int(0, 3)]}${hex(3)}-${hex(12)}`;
  /** Picks from [[weight, value], ...]. */
  const weighted = (table) => {
    let total = 0;
    for (const [w] of table) total += w;
    let x = r() * total;
    for (const [w, v] of table) if ((x -= w) < 0) return v;
    return table[table.length - 1][1];
  };
  return { r, int, pick, chars, hex, uuid, weighted, chance: (p) => r() < p };
}

const HEX = '0123456789abcdef';
const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

// ---------------------------------------------------------------------------------------------------------
// Pools (independent of events/files, so the same for every data-set size)
// ---------------------------------------------------------------------------------------------------------

const ACCOUNTS = ['111122223333', '444455556666', '777788889999', '210987654321', '123456789012'];
const REGIONS = ['us-east-1', 'eu-west-1', 'us-west-2', 'ap-southeast-2'];

const ROLE_NAMES = [
  'OrganizationAccountAccessRole',
  'payments-api-task',
  'ledger-writer',
  'etl-batch-runner',
  'AWSReservedSSO_AdministratorAccess_6f1c2a9b3d4e5f60',
  'AWSReservedSSO_ReadOnlyAccess_0a1b2c3d4e5f6071',
  'github-actions-deploy',
  'lambda-invoice-renderer',
  'eks-node-group-ng-2',
  'backup-operator',
  'data-lake-reader',
  'secrets-rotation',
  'kms-key-admin',
  'SecurityAudit',
  'cloudhsm-operator',
  'reporting-service',
  'ingest-pipeline',
  'customer-exports',
  'AWSServiceRoleForAutoScaling',
  'ecsTaskExecutionRole',
];
const USER_NAMES = [
  'alice',
  'bob',
  'carol',
  'dave',
  'erin',
  'frank',
  'grace',
  'heidi',
  'ivan',
  'judy',
  'mallory',
  'niaj',
  'olivia',
  'peggy',
  'rupert',
  'sybil',
  'trent',
  'victor',
  'walter',
  'ci-deployer',
  'terraform',
  'legacy-batch',
];
const SERVICES = [
  's3.amazonaws.com',
  'ec2.amazonaws.com',
  'lambda.amazonaws.com',
  'rds.amazonaws.com',
  'secretsmanager.amazonaws.com',
  'dynamodb.amazonaws.com',
  'autoscaling.amazonaws.com',
  'backup.amazonaws.com',
  'elasticfilesystem.amazonaws.com',
  'logs.amazonaws.com',
];
const USER_AGENTS = [
  'aws-sdk-java/2.20.162 Linux/5.10.199-190.747.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS Java/17.0.9 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy',
  'Boto3/1.34.51 md/Botocore#1.34.51 ua/2.0 os/linux#5.10.210-201.852.amzn2.x86_64 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.51',
  'aws-cli/2.15.22 Python/3.11.6 Linux/6.5.0-1014-aws exe/x86_64.ubuntu.22 prompt/off command/kms.decrypt',
  'aws-sdk-go-v2/1.25.2 os/linux lang/go#1.21.6 md/GOOS#linux md/GOARCH#amd64 api/kms#1.29.1',
  'aws-sdk-nodejs/2.1563.0 linux/v18.19.0 exec-env/AWS_Lambda_nodejs18.x callback',
  'aws-sdk-js/3.525.0 ua/2.0 os/linux#5.10.209-198.858.amzn2.x86_64 lang/js md/nodejs#20.11.1 api/kms#3.525.0',
  'aws-internal/3 aws-sdk-java/1.12.613 Linux/5.10.201-168.748.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.392-b09 java/1.8.0_392 vendor/Oracle_Corporation cfg/retry-mode/standard',
  'Terraform/1.7.4 (+https://www.terraform.io) terraform-provider-aws/5.39.1 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.0 md/GOOS#linux md/GOARCH#amd64 api/kms#1.29.1',
  'AWS Internal',
  'console.amazonaws.com',
];
const TLS = [
  ['TLSv1.3', 'TLS_AES_128_GCM_SHA256'],
  ['TLSv1.3', 'TLS_AES_256_GCM_SHA384'],
  ['TLSv1.2', 'ECDHE-RSA-AES128-GCM-SHA256'],
];

function buildPools() {
  const g = rng(SEED);
  // ~2000 KMS keys: 100 per (account, Region).
  const keys = {};
  for (const a of ACCOUNTS)
    for (const region of REGIONS) {
      const list = [];
      for (let i = 0; i < 100; i++) list.push(`arn:aws:kms:${region}:${a}:key/${g.uuid()}`);
      keys[`${a}/${region}`] = list;
    }
  // ~300 principals: per account 40 assumed-role sessions + 18 IAM users; plus 10 AWS services.
  const principals = {};
  for (const a of ACCOUNTS) {
    const list = [];
    const roleIds = new Map();
    for (let i = 0; i < 40; i++) {
      const role = ROLE_NAMES[i % ROLE_NAMES.length];
      if (!roleIds.has(role)) roleIds.set(role, `AROA${g.chars(UPPER_ALNUM, 17)}`);
      const session = g.weighted([
        [3, () => `i-0${g.hex(16)}`],
        [2, () => `${g.pick(USER_NAMES)}@example.com`],
        [2, () => `botocore-session-${g.int(1700000000, 1716000000)}`],
        [1, () => `GitHubActions-${g.int(1000000000, 9999999999)}`],
      ])();
      list.push({ type: 'AssumedRole', account: a, role, roleId: roleIds.get(role), session });
    }
    for (let i = 0; i < 18; i++) {
      list.push({
        type: 'IAMUser',
        account: a,
        user: USER_NAMES[(i + ACCOUNTS.indexOf(a)) % USER_NAMES.length],
        userId: `AIDA${g.chars(UPPER_ALNUM, 17)}`,
        accessKeyId: `AKIA${g.chars(UPPER_ALNUM, 16)}`,
      });
    }
    principals[a] = list;
  }
  const services = SERVICES.map((s) => ({ type: 'AWSService', service: s }));
  // ~50 source IPs: public and VPC-private addresses.
  const ips = [];
  for (let i = 0; i < 30; i++)
    ips.push(`${g.pick([3, 18, 34, 35, 44, 52, 54, 198, 203])}.${g.int(0, 255)}.${g.int(0, 255)}.${g.int(1, 254)}`);
  for (let i = 0; i < 20; i++) ips.push(`10.${g.int(0, 255)}.${g.int(0, 255)}.${g.int(1, 254)}`);
  const buckets = [];
  for (let i = 0; i < 40; i++)
    buckets.push(
      `${g.pick(['prod', 'staging', 'dev', 'shared'])}-${g.pick(['invoices', 'exports', 'backups', 'data-lake', 'artifacts', 'logs', 'reports'])}-${g.hex(6)}`,
    );
  const instances = [];
  for (let i = 0; i < 200; i++) instances.push(`i-0${g.hex(16)}`);
  const clusters = [];
  for (let i = 0; i < 8; i++) clusters.push(`cluster-${g.chars('abcdefghijklmnopqrstuvwxyz234567', 11)}`);
  return { keys, principals, services, ips, buckets, instances, clusters };
}

let POOLS = null;

// ---------------------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------------------

const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function identity(g, p, t) {
  if (p.type === 'AssumedRole') {
    return {
      type: 'AssumedRole',
      principalId: `${p.roleId}:${p.session}`,
      arn: `arn:aws:sts::${p.account}:assumed-role/${p.role}/${p.session}`,
      accountId: p.account,
      accessKeyId: `ASIA${g.chars(UPPER_ALNUM, 16)}`,
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: p.roleId,
          arn: `arn:aws:iam::${p.account}:role/${p.role}`,
          accountId: p.account,
          userName: p.role,
        },
        webIdFederationData: {},
        attributes: { creationDate: iso(t - g.int(60, 3600 * 11) * 1000), mfaAuthenticated: 'false' },
      },
    };
  }
  if (p.type === 'IAMUser') {
    return {
      type: 'IAMUser',
      principalId: p.userId,
      arn: `arn:aws:iam::${p.account}:user/${p.user}`,
      accountId: p.account,
      accessKeyId: p.accessKeyId,
      userName: p.user,
    };
  }
  return { type: 'AWSService', invokedBy: p.service };
}

const KMS_EVENTS = [
  [45, 'Decrypt'],
  [25, 'GenerateDataKey'],
  [10, 'Encrypt'],
  [12, 'DescribeKey'],
  [5, 'ListAliases'],
  [2.99, 'CreateGrant'],
  [0.01, 'ScheduleKeyDeletion'],
];
const OTHER_EVENTS = [
  [22, ['s3.amazonaws.com', 'GetBucketAcl']],
  [8, ['s3.amazonaws.com', 'GetBucketLocation']],
  [4, ['s3.amazonaws.com', 'ListBuckets']],
  [2, ['s3.amazonaws.com', 'PutBucketEncryption']],
  [16, ['sts.amazonaws.com', 'AssumeRole']],
  [6, ['sts.amazonaws.com', 'GetCallerIdentity']],
  [12, ['ec2.amazonaws.com', 'DescribeInstances']],
  [5, ['ec2.amazonaws.com', 'DescribeVolumes']],
  [2, ['ec2.amazonaws.com', 'CreateTags']],
  [8, ['iam.amazonaws.com', 'GetRole']],
  [5, ['iam.amazonaws.com', 'ListAttachedRolePolicies']],
  [6, ['cloudhsm.amazonaws.com', 'DescribeClusters']],
  [3, ['cloudhsm.amazonaws.com', 'DescribeBackups']],
  [1, ['cloudhsm.amazonaws.com', 'CreateHsm']],
];
const READ_ONLY = new Set([
  'Decrypt',
  'GenerateDataKey',
  'Encrypt',
  'DescribeKey',
  'ListAliases',
  'GetBucketAcl',
  'GetBucketLocation',
  'ListBuckets',
  'AssumeRole',
  'GetCallerIdentity',
  'DescribeInstances',
  'DescribeVolumes',
  'GetRole',
  'ListAttachedRolePolicies',
  'DescribeClusters',
  'DescribeBackups',
]);

function encryptionContext(g, account, region) {
  return g.weighted([
    [
      4,
      () => ({
        'aws:s3:arn': `arn:aws:s3:::${g.pick(POOLS.buckets)}/${g.pick(['invoices', 'exports', 'snapshots', 'raw'])}/${2024}/${g.int(1, 12)}/${g.uuid()}.parquet`,
      }),
    ],
    [2, () => ({ 'aws:ebs:id': `vol-0${g.hex(16)}` })],
    [
      2,
      () => ({
        SecretARN: `arn:aws:secretsmanager:${region}:${account}:secret:${g.pick(['prod/db/password', 'payments/api-key', 'ledger/signing'])}-${g.chars(ALNUM, 6)}`,
        SecretVersionId: g.uuid(),
      }),
    ],
    [
      1,
      () => ({
        'aws:lambda:FunctionArn': `arn:aws:lambda:${region}:${account}:function:${g.pick(['invoice-renderer', 'ledger-sync', 'exporter'])}`,
      }),
    ],
    [
      1,
      () => ({
        'aws:dynamodb:tableName': g.pick(['payments', 'ledger', 'sessions']),
        'aws:dynamodb:subscriberId': account,
      }),
    ],
  ])();
}

function kmsEvent(g, name, key, account, region) {
  const keyAccount = key.split(':')[4];
  let requestParameters = null;
  let responseElements = null;
  let resources = [{ accountId: keyAccount, type: 'AWS::KMS::Key', ARN: key }];
  switch (name) {
    case 'Decrypt':
      requestParameters = {
        encryptionContext: encryptionContext(g, account, region),
        encryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        keyId: key,
      };
      break;
    case 'Encrypt':
      requestParameters = {
        keyId: key,
        encryptionContext: encryptionContext(g, account, region),
        encryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      };
      break;
    case 'GenerateDataKey':
      requestParameters = { keyId: key, encryptionContext: encryptionContext(g, account, region), keySpec: 'AES_256' };
      break;
    case 'DescribeKey':
      requestParameters = {
        keyId: g.chance(0.5)
          ? key
          : `alias/${g.pick(['payments', 'backup', 'ledger', 'data-lake', 'aws/ebs', 'aws/s3'])}`,
      };
      break;
    case 'ListAliases':
      requestParameters = g.chance(0.5) ? null : { limit: 100 };
      resources = null;
      break;
    case 'CreateGrant': {
      const grantee = `arn:aws:sts::${account}:assumed-role/${g.pick(ROLE_NAMES)}/${g.pick(['autoscaling', 'ebs-attach', 'rds-snapshot'])}`;
      requestParameters = {
        keyId: key,
        granteePrincipal: grantee,
        retiringPrincipal: `${g.pick(['ec2', 'rds', 'lambda'])}.${region}.amazonaws.com`,
        operations: [
          'Decrypt',
          'Encrypt',
          'GenerateDataKeyWithoutPlaintext',
          'ReEncryptFrom',
          'ReEncryptTo',
          'CreateGrant',
          'DescribeKey',
        ],
        constraints: { encryptionContextSubset: { 'aws:ebs:id': `vol-0${g.hex(16)}` } },
      };
      responseElements = { grantId: g.hex(64), keyId: key };
      break;
    }
    case 'ScheduleKeyDeletion':
      requestParameters = { keyId: key, pendingWindowInDays: 7 };
      responseElements = {
        keyId: key,
        deletionDate: '2024-06-30T00:00:00Z',
        keyState: 'PendingDeletion',
        pendingWindowInDays: 7,
      };
      break;
  }
  return { requestParameters, responseElements, resources };
}

function otherEvent(g, source, name, account, region, t) {
  let requestParameters = null;
  let responseElements = null;
  let additionalEventData;
  const bucket = g.pick(POOLS.buckets);
  switch (name) {
    case 'GetBucketAcl':
    case 'GetBucketLocation':
    case 'PutBucketEncryption':
      requestParameters = {
        bucketName: bucket,
        Host: `${bucket}.s3.${region}.amazonaws.com`,
        [name === 'GetBucketAcl' ? 'acl' : name === 'GetBucketLocation' ? 'location' : 'encryption']: '',
      };
      additionalEventData = {
        SignatureVersion: 'SigV4',
        CipherSuite: 'ECDHE-RSA-AES128-GCM-SHA256',
        bytesTransferredIn: 0,
        AuthenticationMethod: 'AuthHeader',
        'x-amz-id-2': `${g.chars(ALNUM, 60)}=`,
        bytesTransferredOut: name === 'PutBucketEncryption' ? 0 : g.int(100, 600),
      };
      break;
    case 'ListBuckets':
      requestParameters = { Host: `s3.${region}.amazonaws.com` };
      additionalEventData = {
        SignatureVersion: 'SigV4',
        CipherSuite: 'ECDHE-RSA-AES128-GCM-SHA256',
        bytesTransferredIn: 0,
        AuthenticationMethod: 'AuthHeader',
        'x-amz-id-2': `${g.chars(ALNUM, 60)}=`,
        bytesTransferredOut: g.int(1000, 9000),
      };
      break;
    case 'AssumeRole': {
      const role = g.pick(ROLE_NAMES);
      const session = `${g.pick(USER_NAMES)}-${g.int(1700000000, 1716000000)}`;
      requestParameters = {
        roleArn: `arn:aws:iam::${account}:role/${role}`,
        roleSessionName: session,
        durationSeconds: g.pick([900, 3600, 43200]),
      };
      responseElements = {
        credentials: {
          accessKeyId: `ASIA${g.chars(UPPER_ALNUM, 16)}`,
          sessionToken: g.chars(ALNUM, 180),
          expiration: new Date(t + 3600_000).toUTCString(),
        },
        assumedRoleUser: {
          assumedRoleId: `AROA${g.chars(UPPER_ALNUM, 17)}:${session}`,
          arn: `arn:aws:sts::${account}:assumed-role/${role}/${session}`,
        },
      };
      break;
    }
    case 'GetCallerIdentity':
      break;
    case 'DescribeInstances': {
      const items = [];
      for (let i = g.int(1, 4); i > 0; i--) items.push({ instanceId: g.pick(POOLS.instances) });
      requestParameters = { instancesSet: { items }, filterSet: {}, includeAllInstances: false };
      break;
    }
    case 'DescribeVolumes':
      requestParameters = {
        volumeSet: {},
        filterSet: {
          items: [{ name: 'attachment.instance-id', valueSet: { items: [{ value: g.pick(POOLS.instances) }] } }],
        },
        maxResults: 500,
      };
      break;
    case 'CreateTags':
      requestParameters = {
        resourcesSet: { items: [{ resourceId: g.pick(POOLS.instances) }] },
        tagSet: {
          items: [
            { key: 'Name', value: `${g.pick(['web', 'worker', 'batch'])}-${g.int(1, 40)}` },
            { key: 'CostCenter', value: `cc-${g.int(1000, 9999)}` },
          ],
        },
      };
      responseElements = { requestId: g.uuid(), _return: true };
      break;
    case 'GetRole':
    case 'ListAttachedRolePolicies':
      requestParameters = { roleName: g.pick(ROLE_NAMES) };
      break;
    case 'DescribeClusters':
      requestParameters = { filters: { clusterIds: [g.pick(POOLS.clusters)] } };
      break;
    case 'DescribeBackups':
      requestParameters = {
        filters: { clusterIds: [g.pick(POOLS.clusters)], states: ['READY'] },
        sortAscending: false,
      };
      break;
    case 'CreateHsm': {
      const cluster = g.pick(POOLS.clusters);
      const az = `${region}${g.pick(['a', 'b', 'c'])}`;
      requestParameters = { clusterId: cluster, availabilityZone: az };
      responseElements = {
        hsm: {
          availabilityZone: az,
          clusterId: cluster,
          subnetId: `subnet-0${g.hex(16)}`,
          hsmId: `hsm-${g.chars('abcdefghijklmnopqrstuvwxyz234567', 11)}`,
          state: 'CREATE_IN_PROGRESS',
        },
      };
      break;
    }
  }
  return { requestParameters, responseElements, additionalEventData };
}

const ERRORS = {
  kms: [
    [
      'AccessDenied',
      (arn, name, key) =>
        `User: ${arn} is not authorized to perform: kms:${name} on resource: ${key} because no resource-based policy allows the kms:${name} action`,
    ],
    ['KMSInvalidStateException', (arn, name, key) => `${key} is pending deletion.`],
    ['InvalidCiphertextException', () => null],
    ['ThrottlingException', () => 'Rate exceeded'],
  ],
  other: [
    [
      'AccessDenied',
      (arn, name) =>
        `User: ${arn} is not authorized to perform: ${name} because no identity-based policy allows the ${name} action`,
    ],
    ['ThrottlingException', () => 'Rate exceeded'],
    ['InvalidParameterValueException', () => 'The request must contain the parameter'],
  ],
};

/** One event (an object with keys in CloudTrail's order). `account`/`region`: the file's. */
function makeEvent(g, t, account, region) {
  const isKms = g.chance(0.4);
  const name = isKms ? g.weighted(KMS_EVENTS) : null;
  const [source, eventName] = isKms ? ['kms.amazonaws.com', name] : g.weighted(OTHER_EVENTS);
  // 5% of KMS calls are cross-account: the caller is another account's principal using this account's key.
  const cross = isKms && eventName !== 'ListAliases' && eventName !== 'ScheduleKeyDeletion' && g.chance(0.05);
  const callerAccount = cross
    ? ACCOUNTS[(ACCOUNTS.indexOf(account) + g.int(1, ACCOUNTS.length - 1)) % ACCOUNTS.length]
    : account;
  const principal = !cross && g.chance(0.06) ? g.pick(POOLS.services) : g.pick(POOLS.principals[callerAccount]);
  const userIdentity = identity(g, principal, t);
  const svc = principal.type === 'AWSService';
  let body;
  if (isKms) body = kmsEvent(g, eventName, g.pick(POOLS.keys[`${account}/${region}`]), callerAccount, region);
  else body = otherEvent(g, source, eventName, account, region, t);
  const failed = g.chance(0.03);
  let errorCode;
  let errorMessage;
  if (failed) {
    const [code, msg] = g.pick(isKms ? ERRORS.kms : ERRORS.other);
    errorCode = code;
    errorMessage = msg(userIdentity.arn ?? principal.service, eventName, body.resources?.[0]?.ARN ?? '*') ?? undefined;
    body.responseElements = null;
  }
  const host = source === 'iam.amazonaws.com' ? source : `${source.split('.')[0]}.${region}.amazonaws.com`;
  const e = {
    eventVersion: isKms ? '1.09' : '1.08',
    userIdentity,
    eventTime: iso(t),
    eventSource: source,
    eventName,
    awsRegion: region,
    sourceIPAddress: svc ? principal.service : g.pick(POOLS.ips),
    userAgent: svc ? principal.service : g.pick(USER_AGENTS),
  };
  if (errorCode) e.errorCode = errorCode;
  if (errorMessage) e.errorMessage = errorMessage;
  e.requestParameters = body.requestParameters;
  e.responseElements = body.responseElements;
  if (body.additionalEventData) e.additionalEventData = body.additionalEventData;
  e.requestID = g.uuid();
  e.eventID = g.uuid();
  e.readOnly = READ_ONLY.has(eventName);
  if (body.resources) e.resources = body.resources;
  e.eventType = 'AwsApiCall';
  e.managementEvent = true;
  e.recipientAccountId = account;
  if (cross) e.sharedEventID = g.uuid();
  e.eventCategory = 'Management';
  if (!svc) {
    const [tlsVersion, cipherSuite] = g.pick(TLS);
    e.tlsDetails = { tlsVersion, cipherSuite, clientProvidedHostHeader: host };
  }
  return e;
}

// ---------------------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------------------

const pad = (n, w = 2) => String(n).padStart(w, '0');

/** Plan of file i: its (account, Region), time window, event count and relative path. Deterministic. */
function planFile(i, events, files) {
  const g = rng((SEED ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
  const account = ACCOUNTS[i % ACCOUNTS.length];
  const region = REGIONS[Math.floor(i / ACCOUNTS.length) % REGIONS.length];
  const from = START + Math.floor((SPAN * i) / files);
  const to = START + Math.floor((SPAN * (i + 1)) / files);
  const n = Math.floor(events / files) + (i < events % files ? 1 : 0);
  // Delivered a few minutes after the window closes.
  const d = new Date(to + g.int(1, 12) * 60_000);
  const day = `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
  const stamp = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}Z`;
  const name = `${account}_CloudTrail_${region}_${stamp}_${g.chars(ALNUM, 16)}.json.gz`;
  return { g, account, region, from, to, n, rel: `AWSLogs/${account}/CloudTrail/${region}/${day}/${name}` };
}

async function writeFile(plan, path) {
  const { g, account, region, from, to, n } = plan;
  // Whole-second event times in [from, to), sorted.
  const times = new Float64Array(n);
  const width = Math.max(1, Math.floor((to - from) / 1000));
  for (let k = 0; k < n; k++) times[k] = from + Math.floor(g.r() * width) * 1000;
  times.sort();
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp`;
  const gz = createGzip({ level: 6 });
  const out = createWriteStream(tmp);
  gz.pipe(out);
  const done = once(out, 'close');
  let raw = 0;
  const write = async (s) => {
    const buf = Buffer.from(s, 'utf8');
    raw += buf.length;
    if (!gz.write(buf)) await once(gz, 'drain');
  };
  await write('{"Records":[');
  for (let k = 0; k < n; k += CHUNK) {
    const parts = [];
    for (let j = k; j < Math.min(n, k + CHUNK); j++)
      parts.push(JSON.stringify(makeEvent(g, times[j], account, region)));
    await write((k ? ',' : '') + parts.join(','));
  }
  await write(']}');
  gz.end();
  await done;
  renameSync(tmp, path);
  return { raw, size: statSync(path).size };
}

function readParams(file) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
}

/**
 * Ensures the data set exists. Returns { dir, files: [absolute paths], events, compressedBytes,
 * uncompressedBytes, generated: boolean }.
 */
export async function generate({
  events = DEFAULTS.events,
  files = DEFAULTS.files,
  dir = DEFAULT_DIR,
  force = false,
  log = (m) => process.stderr.write(`${m}\n`),
} = {}) {
  events = Number(events);
  files = Number(files);
  if (!Number.isInteger(events) || events < 1) throw new Error(`events must be a positive integer, got ${events}`);
  if (!Number.isInteger(files) || files < 1 || files > events)
    throw new Error(`files must be an integer in [1, events], got ${files}`);
  dir = resolve(dir);
  const paramsFile = join(dir, '.params.json');
  const want = { generator: GENERATOR_VERSION, seed: SEED, events, files };
  const have = readParams(paramsFile);
  if (
    !force &&
    have &&
    have.generator === want.generator &&
    have.seed === want.seed &&
    have.events === events &&
    have.files === files &&
    Array.isArray(have.list)
  ) {
    const ok = have.list.every((f) => {
      const p = join(dir, f.path);
      return existsSync(p) && statSync(p).size === f.size;
    });
    if (ok) {
      log(`bench data: reusing ${files} files / ${events} events in ${relative(process.cwd(), dir) || dir}`);
      return summary(dir, have, false);
    }
  }
  log(`bench data: generating ${events} events in ${files} files into ${dir} ...`);
  rmSync(paramsFile, { force: true });
  rmSync(join(dir, 'AWSLogs'), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  POOLS ??= buildPools();
  const list = [];
  const started = Date.now();
  for (let i = 0; i < files; i++) {
    const plan = planFile(i, events, files);
    const { raw, size } = await writeFile(plan, join(dir, plan.rel));
    list.push({ path: plan.rel, events: plan.n, size, raw });
    if ((i + 1) % Math.max(1, Math.floor(files / 20)) === 0 || i + 1 === files)
      log(`  ${i + 1}/${files} files (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  const params = { ...want, list };
  writeFileSync(paramsFile, `${JSON.stringify(params, null, 1)}\n`);
  return summary(dir, params, true);
}

function summary(dir, params, generated) {
  return {
    dir,
    events: params.events,
    files: params.list.map((f) => join(dir, f.path)),
    compressedBytes: params.list.reduce((s, f) => s + f.size, 0),
    uncompressedBytes: params.list.reduce((s, f) => s + f.raw, 0),
    generated,
  };
}

// CLI
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, def) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : def;
  };
  const r = await generate({
    events: Number(opt('events', DEFAULTS.events)),
    files: Number(opt('files', DEFAULTS.files)),
    dir: opt('dir', DEFAULT_DIR),
    force: args.includes('--force'),
  });
  process.stdout.write(
    `${JSON.stringify({ dir: r.dir, events: r.events, files: r.files.length, compressedMiB: +(r.compressedBytes / 2 ** 20).toFixed(1), uncompressedMiB: +(r.uncompressedBytes / 2 ** 20).toFixed(1), generated: r.generated })}\n`,
  );
}
