import type { ColumnarIndex } from '../query/columnar';
import type { FieldIndex } from '../query/fieldIndex';
import type { RawReader } from '../store/raw';
import type { KmsAnalysis } from './kms';
import type { CallRecord } from './crossAccount';
import type { TrailEvent } from './coverage';

/**
 * Every KMS call that names a key, with the fields correlation needs. Three paths are materialised from
 * the field index in one pass each; everything else comes from the columns.
 */
export function kmsCallRecords(ix: ColumnarIndex, fields: FieldIndex, a: KmsAnalysis): CallRecord[] {
  const n = ix.n;
  const shared = fields.materialize('sharedEventID', n);
  const request = fields.materialize('requestID', n);
  const eventId = fields.materialize('eventID', n);
  const arnOf: string[] = [];
  for (const [arn, i] of a.keyIndexByArn) arnOf[i] = arn;
  const c = ix.cols;
  const out: CallRecord[] = [];
  const order = ix.sortedByTime();
  for (let k = 0; k < order.length; k++) {
    const r = order[k];
    const ki = a.keyOfRow[r];
    if (ki < 0) continue;
    out.push({
      row: r, time: ix.time[r], eventSource: c.eventSource.dict[c.eventSource.codes[r]], eventName: c.eventName.dict[c.eventName.codes[r]],
      errorCode: c.errorCode.dict[c.errorCode.codes[r]], recipientAccountId: c.recipientAccountId.dict[c.recipientAccountId.codes[r]],
      callerAccount: c.accountId.dict[c.accountId.codes[r]], principal: c.principal.dict[c.principal.codes[r]],
      sharedEventID: shared[r] ?? '', requestID: request[r] ?? '', eventID: eventId[r] ?? '', awsRegion: c.awsRegion.dict[c.awsRegion.codes[r]],
      resourceArn: arnOf[ki] ?? '',
    });
  }
  return out;
}

/** The trail-management operations that change what a trail records. */
export const TRAIL_OPERATIONS: ReadonlySet<string> = new Set(['CreateTrail', 'UpdateTrail', 'PutEventSelectors', 'StopLogging', 'StartLogging', 'DeleteTrail']);

/** The AWS Organizations operations that take an account out of the organization trail. */
export const ORGANIZATION_OPERATIONS: ReadonlySet<string> = new Set(['LeaveOrganization', 'RemoveAccountFromOrganization']);

/**
 * Trail-management events (CreateTrail, UpdateTrail, PutEventSelectors, Start/StopLogging, DeleteTrail) and
 * LeaveOrganization / RemoveAccountFromOrganization, parsed from the stored text.
 */
export async function trailEvents(ix: ColumnarIndex, raw: RawReader): Promise<TrailEvent[]> {
  const c = ix.cols;
  const ct = c.eventSource.map.get('cloudtrail.amazonaws.com');
  const org = c.eventSource.map.get('organizations.amazonaws.com');
  if (ct === undefined && org === undefined) return [];
  const out: TrailEvent[] = [];
  const order = ix.sortedByTime();
  for (let k = 0; k < order.length; k++) {
    const r = order[k];
    const code = c.eventSource.codes[r];
    if (code !== ct && code !== org) continue;
    const name = c.eventName.dict[c.eventName.codes[r]];
    if (!(code === ct ? TRAIL_OPERATIONS : ORGANIZATION_OPERATIONS).has(name)) continue;
    const text = await raw.eventText(ix.seg[r], ix.off[r]);
    let ev: Record<string, unknown> = {};
    try {
      ev = text ? JSON.parse(text) : {};
    } catch {
      /* stored text is JSON */
    }
    const obj = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null);
    out.push({
      row: r, time: ix.time[r], eventName: name, errorCode: c.errorCode.dict[c.errorCode.codes[r]],
      recipientAccountId: c.recipientAccountId.dict[c.recipientAccountId.codes[r]] || c.accountId.dict[c.accountId.codes[r]],
      awsRegion: c.awsRegion.dict[c.awsRegion.codes[r]], principal: c.principal.dict[c.principal.codes[r]],
      sourceIPAddress: c.sourceIPAddress.dict[c.sourceIPAddress.codes[r]],
      requestParameters: obj(ev.requestParameters), responseElements: obj(ev.responseElements),
      ...(typeof ev.eventID === 'string' ? { eventID: ev.eventID } : {}),
      ...(typeof ev.eventType === 'string' ? { eventType: ev.eventType } : {}),
      ...(typeof ev.eventCategory === 'string' ? { eventCategory: ev.eventCategory } : {}),
    });
  }
  return out;
}

/** Per row, just what KMS-silence detection needs. */
export function activityOf(ix: ColumnarIndex): { time: number; recipientAccountId: string; awsRegion: string; eventSource: string; row: number }[] {
  const c = ix.cols;
  const out = new Array(ix.n);
  for (let r = 0; r < ix.n; r++) {
    out[r] = { row: r, time: ix.time[r], recipientAccountId: c.recipientAccountId.dict[c.recipientAccountId.codes[r]], awsRegion: c.awsRegion.dict[c.awsRegion.codes[r]], eventSource: c.eventSource.dict[c.eventSource.codes[r]] };
  }
  return out;
}
