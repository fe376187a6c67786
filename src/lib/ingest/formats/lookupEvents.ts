import { isEvent, type CloudTrailEvent } from '../../cloudtrail/event';
import { FormatError, collect, isObject, jsonHook, type InputFormat } from './types';

/**
 * Unwraps one item of `aws cloudtrail lookup-events` output: `{"EventId":..., "CloudTrailEvent":"<json>"}`.
 * Returns the event, or a reason string when the item is not usable.
 */
export function unwrapLookupItem(item: unknown): CloudTrailEvent | string {
  if (!isObject(item) || typeof item.CloudTrailEvent !== 'string') return 'item has no CloudTrailEvent string';
  let e: unknown;
  try {
    e = jsonHook.parse(item.CloudTrailEvent);
  } catch (err) {
    return `CloudTrailEvent is not valid JSON (${(err as Error).message})`;
  }
  return isEvent(e) ? e : 'CloudTrailEvent has no string eventSource/eventName';
}

/**
 * `aws cloudtrail lookup-events` output: `{"Events":[{"CloudTrailEvent":"<json string>", ...}]}`.
 * Source: "Viewing CloudTrail events with the AWS CLI" (AWS CloudTrail User Guide).
 */
export const lookupEvents: InputFormat = {
  id: 'lookup-events',
  detect: (doc) =>
    isObject(doc) && Array.isArray(doc.Events) && doc.Events.some((x) => isObject(x) && 'CloudTrailEvent' in x),
  extract(doc) {
    const items = (doc as Record<string, unknown>).Events;
    if (!Array.isArray(items)) throw new FormatError('"Events" is not an array');
    return collect(items, unwrapLookupItem);
  },
};
