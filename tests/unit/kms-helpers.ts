/** Builders shared by the KMS analysis tests (kms.test.ts, kms-volume.test.ts): CreateKey, key uses and key operations as AWS KMS logs them, and the analysis of a set of events. */
import { analyzeKms, keyDetail } from '../../src/lib/analysis/kms';
import type { CloudTrailEvent } from '../../src/lib/cloudtrail/event';
import { alice, indexOf, keyArn, kmsCall, OWNER, REGION } from './analysis-helpers';

/** Analyses the events (one chunk per argument) and offers look-ups. */
export function run(...chunks: CloudTrailEvent[][]) {
  const { ix, fields } = indexOf(chunks);
  const a = analyzeKms(ix, fields);
  return {
    ix,
    fields,
    a,
    key: (arn: string) => a.keys.find((k) => k.arn === arn),
    detail: (arn: string) => keyDetail(ix, a, arn),
    findings: (rule: string) => a.findings.filter((f) => f.rule === rule),
  };
}

/** CreateKey as AWS KMS logs it (requestParameters + responseElements.keyMetadata). */
export function createKey(
  id: string,
  time: string,
  o: {
    origin?: string;
    keySpec?: string;
    keyUsage?: string;
    multiRegion?: boolean;
    customKeyStoreId?: string;
    policy?: string;
    keyState?: string | null;
    region?: string;
    account?: string;
    resources?: boolean;
    user?: typeof alice;
  } = {},
): CloudTrailEvent {
  const region = o.region ?? REGION;
  const account = o.account ?? OWNER;
  const arn = keyArn(id, region, account);
  const origin = o.origin ?? 'AWS_KMS';
  const keySpec = o.keySpec ?? 'SYMMETRIC_DEFAULT';
  const keyUsage = o.keyUsage ?? 'ENCRYPT_DECRYPT';
  const keyState =
    o.keyState === null ? undefined : (o.keyState ?? (origin === 'EXTERNAL' ? 'PendingImport' : 'Enabled'));
  return kmsCall('CreateKey', {
    time,
    region,
    recipient: account,
    key: o.resources === false ? null : arn,
    user: o.user,
    requestParameters: {
      description: '',
      origin,
      bypassPolicyLockoutSafetyCheck: false,
      customerMasterKeySpec: keySpec,
      keySpec,
      keyUsage,
      ...(o.multiRegion !== undefined ? { multiRegion: o.multiRegion } : {}),
      ...(o.customKeyStoreId ? { customKeyStoreId: o.customKeyStoreId } : {}),
      ...(o.policy ? { policy: o.policy } : {}),
    },
    responseElements: {
      keyMetadata: {
        AWSAccountId: account,
        keyId: id,
        arn,
        creationDate: 'Mar 1, 2024, 10:00:00 AM',
        enabled: keyState === 'Enabled',
        description: '',
        keyUsage,
        ...(keyState ? { keyState } : {}),
        origin,
        keyManager: 'CUSTOMER',
        customerMasterKeySpec: keySpec,
        keySpec,
        ...(keyUsage === 'ENCRYPT_DECRYPT' ? { encryptionAlgorithms: ['SYMMETRIC_DEFAULT'] } : {}),
        multiRegion: o.multiRegion ?? false,
        ...(o.customKeyStoreId
          ? { customKeyStoreId: o.customKeyStoreId, cloudHsmClusterId: 'cluster-igklspoyj5v' }
          : {}),
      },
    },
  });
}

/** A cryptographic call naming the key in requestParameters.keyId and resources (as KMS logs them). */
export function use(
  op: string,
  arn: string,
  time: string,
  o: {
    error?: [string, string];
    keyId?: string;
    user?: typeof alice;
    resources?: boolean;
    region?: string;
    recipient?: string;
  } = {},
): CloudTrailEvent {
  return kmsCall(op, {
    time,
    key: o.resources === false ? null : arn,
    error: o.error,
    user: o.user,
    region: o.region,
    recipient: o.recipient,
    requestParameters: {
      keyId: o.keyId ?? arn,
      encryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      ...(op === 'GenerateDataKey' ? { keySpec: 'AES_256' } : {}),
    },
  });
}

export const keyOp = (
  op: string,
  arn: string,
  time: string,
  extra: Record<string, unknown> = {},
  o: { error?: [string, string]; user?: typeof alice } = {},
) =>
  kmsCall(op, {
    time,
    key: arn,
    requestParameters: { keyId: arn.slice(arn.lastIndexOf('/') + 1), ...extra },
    error: o.error,
    user: o.user,
  });
