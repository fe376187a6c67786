import type { EventTable, FieldValues } from '../codec/table';
import type { RawReader } from '../store/raw';
import type { KmsAnalysis } from './kms';
import { mayBeCrossAccount, type CallRecord } from './crossAccount';
import type { ActivitySource, TrailEvent } from './coverage';

/**
 * Every KMS call that names a key, with the fields correlation needs. Three paths are materialised from
 * the field index in one pass each; everything else comes from the columns. The reference that
 * {@link kmsCallSource} (what the analysis runs) is tested against.
 */
export function kmsCallRecords(ix: EventTable, fields: FieldValues, a: KmsAnalysis): CallRecord[] {
  const n = ix.n;
  const shared = fields.materialize('sharedEventID', n);
  const request = fields.materialize('requestID', n);
  const eventId = fields.materialize('eventID', n);
  const arnOf = keyArns(a);
  const out: CallRecord[] = [];
  const order = ix.sortedByTime();
  for (let k = 0; k < order.length; k++) {
    const r = order[k];
    const ki = a.keyOfRow[r];
    if (ki < 0) continue;
    const c = fillCall(ix, emptyCall(), r, arnOf[ki] ?? '');
    c.sharedEventID = shared[r] ?? '';
    c.requestID = request[r] ?? '';
    c.eventID = eventId[r] ?? '';
    out.push(c);
  }
  return out;
}

/** Each key's ARN by its index in `KmsAnalysis.keyOfRow`. */
function keyArns(a: KmsAnalysis): string[] {
  const arnOf: string[] = [];
  for (const [arn, i] of a.keyIndexByArn) arnOf[i] = arn;
  return arnOf;
}

/** A CallRecord with no values yet. */
function emptyCall(): CallRecord {
  return {
    row: 0,
    time: 0,
    eventSource: '',
    eventName: '',
    errorCode: '',
    recipientAccountId: '',
    callerAccount: '',
    principal: '',
    sharedEventID: '',
    requestID: '',
    eventID: '',
    awsRegion: '',
    resourceArn: '',
  };
}

/** Fills `c` with row `r`'s columns and the key ARN it names (not its three identifiers); returns `c`. */
function fillCall(ix: EventTable, c: CallRecord, r: number, arn: string): CallRecord {
  c.row = r;
  c.time = ix.timeOf(r);
  c.eventSource = ix.value('eventSource', r);
  c.eventName = ix.value('eventName', r);
  c.errorCode = ix.value('errorCode', r);
  c.recipientAccountId = ix.value('recipientAccountId', r);
  c.callerAccount = ix.value('accountId', r);
  c.principal = ix.value('principal', r);
  c.awsRegion = ix.value('awsRegion', r);
  c.resourceArn = arn;
  return c;
}

/**
 * {@link kmsCallRecords} split for `correlate` (analysis/crossAccount.ts): `calls`, a CallRecord for each KMS
 * call that may be part of a cross-account call (`mayBeCrossAccount`), with its three identifiers read from the
 * field index for those rows only; `others`, every other call visited through one reused record (identifiers
 * left empty: correlation does not read them); `order`, the index's time order. `correlate(calls, loaded,
 * { others, order })` gives what `correlate(kmsCallRecords(...), loaded)` gives (tests/unit/crossAccount.test.ts)
 * without a record and three strings per event: at 5M events that analysis peaked at ~1.9 GB more RSS.
 */
export function kmsCallSource(
  ix: EventTable,
  fields: FieldValues,
  a: KmsAnalysis,
): { calls: CallRecord[]; others: (visit: (c: CallRecord) => void) => void; order: Uint32Array } {
  const arnOf = keyArns(a);
  const order = ix.sortedByTime();
  /** Whether KMS row `r` (naming key `ki`) may be cross-account; `c` gets the three columns that decide it. */
  const candidate = (c: CallRecord, r: number, ki: number) => {
    c.callerAccount = ix.value('accountId', r);
    c.resourceArn = arnOf[ki] ?? '';
    c.recipientAccountId = ix.value('recipientAccountId', r);
    return mayBeCrossAccount(c);
  };
  // the rows that may pair up, in time order, and their identifiers (read for those rows only)
  const cand: number[] = [];
  const probe = emptyCall();
  for (let k = 0; k < order.length; k++) {
    const r = order[k];
    const ki = a.keyOfRow[r];
    if (ki >= 0 && candidate(probe, r, ki)) cand.push(r);
  }
  const sorted = Uint32Array.from(cand).sort();
  const shared = fields.materializeRows('sharedEventID', sorted);
  const request = fields.materializeRows('requestID', sorted);
  const eventId = fields.materializeRows('eventID', sorted);
  const at = (r: number) => {
    let lo = 0;
    let hi = sorted.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] < r) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const calls = cand.map((r) => {
    const i = at(r);
    const c = fillCall(ix, emptyCall(), r, arnOf[a.keyOfRow[r]] ?? '');
    c.sharedEventID = shared[i] ?? '';
    c.requestID = request[i] ?? '';
    c.eventID = eventId[i] ?? '';
    return c;
  });
  const others = (visit: (c: CallRecord) => void) => {
    const c = emptyCall();
    for (let k = 0; k < order.length; k++) {
      const r = order[k];
      const ki = a.keyOfRow[r];
      if (ki >= 0 && !candidate(c, r, ki)) visit(fillCall(ix, c, r, c.resourceArn));
    }
  };
  return { calls, others, order };
}

/** The trail-management operations that change what a trail records. */
export const TRAIL_OPERATIONS: ReadonlySet<string> = new Set([
  'CreateTrail',
  'UpdateTrail',
  'PutEventSelectors',
  'StopLogging',
  'StartLogging',
  'DeleteTrail',
]);

/** The AWS Organizations operations that take an account out of the organization trail. */
export const ORGANIZATION_OPERATIONS: ReadonlySet<string> = new Set([
  'LeaveOrganization',
  'RemoveAccountFromOrganization',
]);

/**
 * Trail-management events (CreateTrail, UpdateTrail, PutEventSelectors, Start/StopLogging, DeleteTrail) and
 * LeaveOrganization / RemoveAccountFromOrganization, parsed from the stored text.
 */
export async function trailEvents(ix: EventTable, raw: RawReader): Promise<TrailEvent[]> {
  const src = ix.column('eventSource');
  const ct = src.code('cloudtrail.amazonaws.com');
  const org = src.code('organizations.amazonaws.com');
  if (ct === undefined && org === undefined) return [];
  const out: TrailEvent[] = [];
  const order = ix.sortedByTime();
  for (let k = 0; k < order.length; k++) {
    const r = order[k];
    const code = src.codes[r];
    if (code !== ct && code !== org) continue;
    const name = ix.value('eventName', r);
    if (!(code === ct ? TRAIL_OPERATIONS : ORGANIZATION_OPERATIONS).has(name)) continue;
    const { segment, offset } = ix.locationOf(r);
    const text = await raw.eventText(segment, offset);
    let ev: Record<string, unknown> = {};
    try {
      ev = text ? JSON.parse(text) : {};
    } catch {
      /* stored text is JSON */
    }
    const obj = (v: unknown) =>
      v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
    out.push({
      row: r,
      time: ix.timeOf(r),
      eventName: name,
      errorCode: ix.value('errorCode', r),
      recipientAccountId: ix.value('recipientAccountId', r) || ix.value('accountId', r),
      awsRegion: ix.value('awsRegion', r),
      principal: ix.value('principal', r),
      sourceIPAddress: ix.value('sourceIPAddress', r),
      requestParameters: obj(ev.requestParameters),
      responseElements: obj(ev.responseElements),
      ...(typeof ev.eventID === 'string' ? { eventID: ev.eventID } : {}),
      ...(typeof ev.eventType === 'string' ? { eventType: ev.eventType } : {}),
      ...(typeof ev.eventCategory === 'string' ? { eventCategory: ev.eventCategory } : {}),
    });
  }
  return out;
}

/**
 * Every row's time, recipientAccountId, awsRegion and eventSource, in time order (ties in row order), for
 * `kmsSilence`: read from the columns, with no object per row.
 */
export function activitySource(ix: EventTable): ActivitySource {
  return (visit) => {
    const order = ix.sortedByTime();
    const recip = ix.column('recipientAccountId');
    const region = ix.column('awsRegion');
    const src = ix.column('eventSource');
    for (let k = 0; k < order.length; k++) {
      const r = order[k];
      visit(ix.timeOf(r), recip.at(r), region.at(r), src.at(r), r);
    }
  };
}
