import { isObject } from './types';

/**
 * Which AWS CLI output about a trail's configuration a document is, if any:
 * `aws cloudtrail describe-trails` (`{"trailList":[...]}`), `get-event-selectors` (`{"TrailARN", "EventSelectors"
 * | "AdvancedEventSelectors"}`, also PutEventSelectors' response) or `get-trail-status` (`{"IsLogging", ...}`).
 * These hold no events; KeyTrail keeps them because they state a trail's configuration when they were captured
 * (coverage analysis). Source: AWS CLI reference for cloudtrail describe-trails, get-event-selectors,
 * get-trail-status.
 */
export function trailConfigKind(doc: unknown): 'describe-trails' | 'get-event-selectors' | 'get-trail-status' | null {
  if (!isObject(doc)) return null;
  if (Array.isArray(doc.trailList)) return 'describe-trails';
  if (
    typeof doc.TrailARN === 'string' &&
    (Array.isArray(doc.EventSelectors) || Array.isArray(doc.AdvancedEventSelectors))
  )
    return 'get-event-selectors';
  if (typeof doc.IsLogging === 'boolean') return 'get-trail-status';
  return null;
}
