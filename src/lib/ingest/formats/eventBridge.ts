import { isEvent, type CloudTrailEvent } from '../../cloudtrail/event';
import { isObject, type InputFormat } from './types';

/** True for an Amazon EventBridge envelope (`detail-type`/`source`/`detail`) whose `detail` is a CloudTrail event. */
export function isEventBridgeEnvelope(v: unknown): v is { detail: CloudTrailEvent } {
  return isObject(v) && isEvent(v.detail) && ('detail-type' in v || 'source' in v || 'account' in v);
}

/**
 * An EventBridge (CloudWatch Events) envelope around one CloudTrail event, as EventBridge rules deliver
 * "AWS API Call via CloudTrail" events: `{"source":"aws.kms","detail-type":...,"detail":{event}}`.
 */
export const eventBridge: InputFormat = {
  id: 'eventbridge',
  detect: isEventBridgeEnvelope,
  extract: (doc) => ({ events: [(doc as { detail: CloudTrailEvent }).detail], skipped: 0, notes: [] }),
};
