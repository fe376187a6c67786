import { isEvent, type CloudTrailEvent } from '../../cloudtrail/event';
import { isKmsKeyArn, kmsKeyArn } from '../../cloudtrail/arn';
import { isObject, type InputFormat } from './types';

/** True for an Amazon EventBridge envelope (`detail-type`/`source`/`detail`) whose `detail` is a CloudTrail event. */
export function isEventBridgeEnvelope(v: unknown): v is { detail: CloudTrailEvent } {
  return isObject(v) && isEvent(v.detail) && ('detail-type' in v || 'source' in v || 'account' in v);
}

/**
 * The AWS KMS service events AWS KMS sends to EventBridge directly (not through CloudTrail), and the KMS
 * operation each stands for. Source: "Monitor KMS keys with Amazon EventBridge" (AWS KMS Developer Guide) and
 * "AWS Key Management Service events" (Amazon EventBridge events reference): `source` `aws.kms`, `detail-type`
 * `KMS CMK Rotation` (key material rotated, automatically or on demand), `KMS Imported Key Material Expiration`
 * (AWS KMS deleted expired imported key material), `KMS CMK Deletion` (a key scheduled for deletion was
 * deleted); `detail.key-id`, the key ARN in `resources`.
 */
export const KMS_EVENTBRIDGE_EVENTS: Readonly<Record<string, string>> = {
  'KMS CMK Rotation': 'RotateKey',
  'KMS Imported Key Material Expiration': 'DeleteExpiredKeyMaterial',
  'KMS CMK Deletion': 'DeleteKey',
};

/**
 * A KMS EventBridge service event (see KMS_EVENTBRIDGE_EVENTS) read as the CloudTrail service event it stands
 * for: eventSource `kms.amazonaws.com`, eventName RotateKey / DeleteExpiredKeyMaterial / DeleteKey, eventType
 * `AwsServiceEvent`, eventTime, recipientAccountId, awsRegion and eventID from the envelope's `time`, `account`,
 * `region` and `id`, the key in `resources` and `requestParameters.keyId`; the envelope's `detail-type` and
 * `detail` kept in `additionalEventData`. Null for anything else.
 */
export function kmsEventBridgeEvent(v: unknown): CloudTrailEvent | null {
  if (!isObject(v) || v.source !== 'aws.kms' || typeof v['detail-type'] !== 'string' || isEvent(v.detail)) return null;
  const eventName = KMS_EVENTBRIDGE_EVENTS[v['detail-type']];
  if (!eventName) return null;
  const s = (x: unknown) => (typeof x === 'string' ? x : '');
  const detail = isObject(v.detail) ? v.detail : {};
  const account = s(v.account);
  const region = s(v.region);
  const keyId = s(detail['key-id']);
  const listed = Array.isArray(v.resources) ? v.resources.filter((x): x is string => typeof x === 'string') : [];
  const arn = listed.find(isKmsKeyArn) ?? (keyId && account && region ? kmsKeyArn(region, account, keyId) : '');
  const ev: CloudTrailEvent = {
    eventVersion: '1.08',
    userIdentity: { accountId: account, invokedBy: 'AWS Internal' },
    eventTime: s(v.time),
    eventSource: 'kms.amazonaws.com',
    eventName,
    awsRegion: region,
    sourceIPAddress: 'AWS Internal',
    userAgent: 'AWS Internal',
    requestParameters: keyId ? { keyId } : null,
    responseElements: null,
    eventID: s(v.id),
    readOnly: false,
    ...(arn
      ? { resources: [{ accountId: /:(\d{12}):/.exec(arn)?.[1] ?? account, type: 'AWS::KMS::Key', ARN: arn }] }
      : {}),
    eventType: 'AwsServiceEvent',
    managementEvent: true,
    recipientAccountId: account,
    eventCategory: 'Management',
    additionalEventData: { eventBridgeDetailType: v['detail-type'], eventBridgeDetail: detail },
  };
  return ev;
}

/**
 * An EventBridge (CloudWatch Events) envelope around one CloudTrail event, as EventBridge rules deliver
 * "AWS API Call via CloudTrail" events: `{"source":"aws.kms","detail-type":...,"detail":{event}}`; or a KMS
 * service event AWS KMS sends to EventBridge itself (`kmsEventBridgeEvent`).
 */
export const eventBridge: InputFormat = {
  id: 'eventbridge',
  detect: (doc) => isEventBridgeEnvelope(doc) || kmsEventBridgeEvent(doc) !== null,
  extract: (doc) => ({
    events: [isEventBridgeEnvelope(doc) ? doc.detail : kmsEventBridgeEvent(doc)!],
    skipped: 0,
    notes: [],
  }),
};
