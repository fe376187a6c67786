/** Fixture builders for the key, CloudHSM and identity analysis tests (no test cases here). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CloudTrailEvent, UserIdentity } from '../../src/lib/cloudtrail/event';
import { ColumnarIndex } from '../../src/lib/query/columnar';
import { FieldIndex } from '../../src/lib/query/fieldIndex';
import { buildFieldStore } from '../../src/lib/codec/fields';
import { buildColumns, type Segment } from '../../src/lib/codec/segment';

/**
 * An in-memory index as the query worker builds it: each inner array is one chunk (segment and field store with
 * the same id, loaded with the segment's first row as the field store's base). eventID hashes are left zero.
 */
export function indexOf(events: object[][]): { ix: ColumnarIndex; fields: FieldIndex } {
  const ix = new ColumnarIndex();
  const fields = new FieldIndex();
  events.forEach((chunk, i) => {
    const id = i + 1;
    const evs = chunk as CloudTrailEvent[];
    const { time, cols } = buildColumns(evs);
    const seg: Segment = { id, fileId: 1000 + id, n: evs.length, time, eid: new Uint32Array(evs.length * 2), cols };
    ix.addSegment(seg);
    fields.add({ id, ...buildFieldStore(evs) }, ix.segBase.get(id)!);
  });
  return { ix, fields };
}

export const OWNER = '111122223333';
export const OTHER = '999988887777';
export const REGION = 'us-west-2';
export const KEY1_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
export const KEY2_ID = '0987dcba-09fe-87dc-65ba-ab0987654321';
export const MRK_ID = 'mrk-1234abcd12ab34cd56ef1234567890ab';
export const keyArn = (id: string, region = REGION, account = OWNER) => `arn:aws:kms:${region}:${account}:key/${id}`;
export const aliasArn = (name: string, region = REGION, account = OWNER) => `arn:aws:kms:${region}:${account}:${name}`;
export const KEY1 = keyArn(KEY1_ID);
export const KEY2 = keyArn(KEY2_ID);

/** IAM user Alice of the owner account with a long-term key (the KMS Developer Guide's examples' caller). */
export const alice: UserIdentity = {
  type: 'IAMUser',
  principalId: 'AIDAEXAMPLEALICE',
  arn: `arn:aws:iam::${OWNER}:user/Alice`,
  accountId: OWNER,
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  userName: 'Alice',
};

/** A session of role `role` in `account` with temporary credentials. */
export function roleSession(role: string, session: string, account = OWNER, mfa = false): UserIdentity {
  return {
    type: 'AssumedRole',
    principalId: `AROAEXAMPLE${role.toUpperCase()}:${session}`,
    arn: `arn:aws:sts::${account}:assumed-role/${role}/${session}`,
    accountId: account,
    accessKeyId: 'ASIAIOSFODNN7EXAMPLE',
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: `AROAEXAMPLE${role.toUpperCase()}`,
        arn: `arn:aws:iam::${account}:role/${role}`,
        accountId: account,
        userName: role,
      },
      attributes: { creationDate: '2024-03-01T00:00:00Z', mfaAuthenticated: String(mfa) },
    },
  };
}

/** AWS KMS itself (service events: DeleteKey after the waiting period, RotateKey, DeleteExpiredKeyMaterial...). */
export const kmsInternal: UserIdentity = { accountId: OWNER, invokedBy: 'AWS Internal' };

const CRYPTO =
  /^(Encrypt|Decrypt|ReEncrypt|GenerateDataKey|GenerateRandom|Sign|Verify|GenerateMac|VerifyMac|DeriveSharedSecret)/;

export interface CallOptions {
  /** eventTime (ISO, whole seconds). */
  time: string;
  /** The key ARN recorded in `resources` (null: no resources element). */
  key?: string | null;
  /** Extra resource ARNs recorded before the key (an alias ARN). */
  alsoResources?: string[];
  requestParameters?: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  /** [errorCode, errorMessage]. */
  error?: [string, string];
  user?: UserIdentity;
  region?: string;
  /** recipientAccountId (the key owner's copy by default). */
  recipient?: string;
  eventType?: 'AwsApiCall' | 'AwsServiceEvent';
  extra?: Record<string, unknown>;
}

let seq = 0;

/** A KMS CloudTrail event shaped as AWS KMS logs it (see the AWS KMS Developer Guide's examples). */
export function kmsCall(eventName: string, o: CallOptions): CloudTrailEvent {
  const n = ++seq;
  const region = o.region ?? REGION;
  const recipient = o.recipient ?? OWNER;
  const resources =
    o.key === null
      ? undefined
      : o.key || o.alsoResources?.length
        ? [...(o.alsoResources ?? []), ...(o.key ? [o.key] : [])].map((ARN) => ({
            accountId: /:(\d{12}):/.exec(ARN)?.[1] ?? recipient,
            type: 'AWS::KMS::Key',
            ARN,
          }))
        : undefined;
  const service = o.eventType === 'AwsServiceEvent';
  const ev: CloudTrailEvent = {
    eventVersion: '1.08',
    userIdentity: o.user ?? alice,
    eventTime: o.time,
    eventSource: 'kms.amazonaws.com',
    eventName,
    awsRegion: region,
    sourceIPAddress: service ? 'AWS Internal' : '192.0.2.0',
    userAgent: service ? 'AWS Internal' : 'aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64 command/kms',
    ...(o.error ? { errorCode: o.error[0], errorMessage: o.error[1] } : {}),
    requestParameters: o.requestParameters === undefined ? null : o.requestParameters,
    responseElements: o.responseElements === undefined ? null : o.responseElements,
    ...(service ? {} : { requestID: `0000${n.toString(16).padStart(4, '0')}-1111-4222-8333-444455556666` }),
    eventID: `${n.toString(16).padStart(8, '0')}-aaaa-4bbb-8ccc-dddddddddddd`,
    readOnly: CRYPTO.test(eventName) || /^(Describe|List|Get)/.test(eventName),
    ...(resources ? { resources } : {}),
    eventType: o.eventType ?? 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: recipient,
    eventCategory: 'Management',
    ...o.extra,
  };
  return ev;
}

/** A CloudHSM (cloudhsmv2) CloudTrail event shaped like the CloudHSM User Guide's CreateHsm example. */
export function hsmCall(
  eventName: string,
  o: {
    time: string;
    requestParameters?: Record<string, unknown> | null;
    responseElements?: Record<string, unknown> | null;
    error?: [string, string];
    serviceEventDetails?: Record<string, unknown>;
  },
): CloudTrailEvent {
  const n = ++seq;
  const service = !!o.serviceEventDetails;
  return {
    eventVersion: '1.05',
    userIdentity: service
      ? { accountId: OWNER, invokedBy: 'cloudhsm.amazonaws.com' }
      : roleSession('AdminRole', 'ExampleSession'),
    eventTime: o.time,
    eventSource: 'cloudhsm.amazonaws.com',
    eventName,
    awsRegion: REGION,
    sourceIPAddress: service ? 'cloudhsm.amazonaws.com' : '205.251.233.179',
    userAgent: service ? 'cloudhsm.amazonaws.com' : 'aws-internal/3',
    ...(o.error ? { errorCode: o.error[0], errorMessage: o.error[1] } : {}),
    requestParameters: o.requestParameters ?? null,
    responseElements: o.responseElements ?? null,
    ...(service
      ? { serviceEventDetails: o.serviceEventDetails }
      : { requestID: `1dae0370-65ec-11e7-a770-${n.toString().padStart(12, '0')}` }),
    eventID: `b73a5617-8508-4c3d-900d-${n.toString().padStart(12, '0')}`,
    eventType: service ? 'AwsServiceEvent' : 'AwsApiCall',
    recipientAccountId: OWNER,
  };
}

/** A key policy document (as PutKeyPolicy / CreateKey log it: a JSON string). */
export function policy(...statements: Record<string, unknown>[]): string {
  return JSON.stringify({ Version: '2012-10-17', Id: 'key-policy', Statement: statements }, null, 2);
}

/** The default key policy's statement: the owner account's root. */
export const ownerStatement = {
  Sid: 'Enable IAM User Permissions',
  Effect: 'Allow',
  Principal: { AWS: `arn:aws:iam::${OWNER}:root` },
  Action: 'kms:*',
  Resource: '*',
};

/** The public AWS documentation examples (../shared/datasets/public), when present. */
const PUBLIC_DATASETS = fileURLToPath(new URL('../../../shared/datasets/public', import.meta.url));

/** The JSON files of a public dataset folder (sorted by name); [] when the folder is absent. */
export function datasetFiles(folder: string): string[] {
  const dir = join(PUBLIC_DATASETS, folder);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

/** The events of one dataset file: a single event or `{"Records":[...]}`. */
export function datasetEvents(folder: string, file: string): CloudTrailEvent[] {
  const j = JSON.parse(readFileSync(join(PUBLIC_DATASETS, folder, file), 'utf8'));
  return Array.isArray(j?.Records) ? j.Records : [j];
}

/** True when a dataset file exists. */
export function hasDataset(folder: string, file?: string): boolean {
  return existsSync(file ? join(PUBLIC_DATASETS, folder, file) : join(PUBLIC_DATASETS, folder));
}
