/**
 * CloudTrail event shape and the derived values KeyTrail indexes.
 *
 * Source: "CloudTrail record contents" and "CloudTrail userIdentity element" (AWS CloudTrail User Guide).
 */

/** A CloudTrail event as parsed JSON. Only the fields KeyTrail reads are typed; every other field is kept. */
export interface CloudTrailEvent {
  eventVersion?: string;
  eventTime?: string;
  eventSource: string;
  eventName: string;
  awsRegion?: string;
  sourceIPAddress?: string;
  userAgent?: string;
  eventID?: string;
  eventType?: string;
  requestID?: string;
  readOnly?: boolean | string;
  errorCode?: string;
  errorMessage?: string;
  recipientAccountId?: string;
  sharedEventID?: string;
  userIdentity?: UserIdentity;
  requestParameters?: Record<string, unknown> | null;
  responseElements?: Record<string, unknown> | null;
  resources?: { ARN?: string; accountId?: string; type?: string }[];
  [field: string]: unknown;
}

/** The `userIdentity` element. */
export interface UserIdentity {
  type?: string;
  principalId?: string;
  arn?: string;
  accountId?: string;
  accessKeyId?: string;
  userName?: string;
  invokedBy?: string;
  sessionContext?: {
    sessionIssuer?: { type?: string; arn?: string; accountId?: string; userName?: string; principalId?: string };
    attributes?: { mfaAuthenticated?: string; creationDate?: string };
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** True when `v` is a CloudTrail event: a JSON object with a string `eventSource` and a string `eventName`. */
export function isEvent(v: unknown): v is CloudTrailEvent {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    typeof (v as Record<string, unknown>).eventSource === 'string' &&
    typeof (v as Record<string, unknown>).eventName === 'string'
  );
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : typeof v === 'object' ? '' : String(v);
}

/**
 * ISO 8601 date-time as CloudTrail writes eventTime (`2024-05-01T10:00:00Z`), with the variants other tools
 * write: a space for `T`, no seconds, a fraction of any length, an offset `±hh:mm` / `±hhmm` / `±hh`, or none.
 * Four-digit years only.
 */
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Reads a CloudTrail time (eventTime) as epoch ms, independent of the machine's time zone:
 * - a time with no offset (`2024-05-01T10:00:00`) is UTC, as CloudTrail records every time ("CloudTrail
 *   record contents": eventTime is "The date and time the request was completed, in coordinated universal
 *   time (UTC)"), never the browser's local zone (which `Date.parse` would use);
 * - a date alone is midnight UTC;
 * - anything else (another text shape, an impossible date such as `2024-02-30`, a year outside 0000–9999
 *   such as `+275760-09-13T00:00:00Z`) cannot be read: NaN. Such events are kept and shown with their
 *   eventTime text flagged; they sort last and are left out of time windows (the events view counts them).
 */
export function parseEventTime(s: string): number {
  const m = ISO_TIME.exec(s.trim());
  if (!m) return NaN;
  const [, y, mo, d, h = '0', mi = '0', sec = '0', frac = '', zone = 'Z'] = m;
  const month = +mo,
    day = +d,
    hour = +h,
    minute = +mi,
    second = +sec;
  if (month < 1 || month > 12 || day < 1 || hour > 24 || minute > 59 || second > 60) return NaN;
  if (hour === 24 && (minute || second || +frac)) return NaN;
  const dt = new Date(0);
  dt.setUTCFullYear(+y, month - 1, day); // setUTCFullYear: years 0–99 stay as written (Date.UTC maps them to 19xx)
  if (dt.getUTCMonth() !== month - 1) return NaN; // 2024-02-30
  dt.setUTCHours(hour, minute, Math.min(second, 59), frac ? Math.floor(+('0.' + frac) * 1000) : 0);
  let off = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = +digits.slice(0, 2),
      om = +(digits.slice(2) || 0);
    if (oh > 23 || om > 59) return NaN;
    off = sign * (oh * 60 + om) * 60_000;
  }
  const t = dt.getTime() - off;
  return Number.isFinite(t) ? t : NaN;
}

/** eventTime as epoch ms (UTC, see {@link parseEventTime}); NaN when absent or unreadable. */
export function eventTimeMs(e: CloudTrailEvent): number {
  const t = e.eventTime;
  return typeof t === 'string' ? parseEventTime(t) : NaN;
}

/**
 * The principal shown for an event: `userIdentity.arn`, else the session issuer's ARN, else
 * `invokedBy` (an AWS service), else `userIdentity.type` (for example `AWSService`), else ''.
 */
export function principalOf(e: CloudTrailEvent): string {
  const u = e.userIdentity;
  if (!u || typeof u !== 'object') return '';
  return (
    str(u.arn) ||
    str(u.sessionContext?.sessionIssuer?.arn) ||
    str(u.invokedBy) ||
    (u.type ? (u.principalId ? `${str(u.type)}:${str(u.principalId)}` : str(u.type)) : '')
  );
}

/**
 * The Event history lookup attribute `Username`: `userIdentity.userName`, else the role session's issuer
 * user name, else the last part of the principal ID (the role session name). Source: "Viewing CloudTrail
 * events with the AWS CLI" (LookupAttributes).
 */
export function usernameOf(e: CloudTrailEvent): string {
  const u = e.userIdentity;
  if (!u || typeof u !== 'object') return '';
  if (u.userName) return str(u.userName);
  if (u.type === 'Root') return 'root';
  const pid = str(u.principalId);
  if (pid.includes(':')) return pid.slice(pid.indexOf(':') + 1);
  return str(u.sessionContext?.sessionIssuer?.userName);
}

/**
 * The KMS key an event refers to: `requestParameters.keyId` (key ID, key ARN, alias name or alias ARN), else
 * `responseElements.keyMetadata.arn`, else `responseElements.keyId`, else the first `resources[].ARN` of type
 * `AWS::KMS::Key`, else the first resource ARN. '' when none.
 */
export function keyOf(e: CloudTrailEvent): string {
  const rp = e.requestParameters;
  if (rp && typeof rp === 'object') {
    const k = rp.keyId ?? rp.KeyId;
    if (typeof k === 'string' && k) return k;
  }
  const re = e.responseElements;
  if (re && typeof re === 'object') {
    const md = re.keyMetadata as Record<string, unknown> | undefined;
    if (md && typeof md === 'object' && typeof md.arn === 'string') return md.arn;
    if (typeof re.keyId === 'string' && re.keyId) return re.keyId;
  }
  const res = e.resources;
  if (Array.isArray(res)) {
    let first = '';
    for (const r of res) {
      if (!r || typeof r !== 'object') continue;
      const arn = resourceArn(r);
      if (r.type === 'AWS::KMS::Key' && arn) return arn;
      if (!first && arn) first = arn;
    }
    return first;
  }
  return '';
}

/** `readOnly` as 'true' | 'false' | '' (it is a boolean in current events, a string in some older ones). */
export function readOnlyOf(e: CloudTrailEvent): string {
  const r = e.readOnly;
  return r === true || r === 'true' ? 'true' : r === false || r === 'false' ? 'false' : '';
}

/**
 * The string values of a resource object's field `name` (lower case), its key matched case-insensitively: some
 * services log `resources[].arn` instead of `ARN`, and Athena's JSON SerDe reads both into the `arn` column.
 */
function resourceField(r: Record<string, unknown>, name: string): string[] {
  const out: string[] = [];
  for (const k in r) if (k.toLowerCase() === name && typeof r[k] === 'string') out.push(r[k] as string);
  return out;
}

/** Names of the resources the event touched (`resources[].ARN`, any case of `ARN`), newline-separated; '' when none. */
export function resourceNamesOf(e: CloudTrailEvent): string {
  const res = e.resources;
  if (!Array.isArray(res)) return '';
  let out = '';
  for (const r of res)
    if (r && typeof r === 'object') for (const v of resourceField(r, 'arn')) out += (out ? '\n' : '') + v;
  return out;
}

/** A `resources[]` element's ARN: `ARN` as CloudTrail writes it, or `arn` (any case) as some services and exports do; '' when none. */
function resourceArn(r: object): string {
  return resourceField(r as Record<string, unknown>, 'arn')[0] ?? '';
}

/** Types of the resources the event touched (`resources[].type`, any case of `type`), newline-separated; '' when none. */
export function resourceTypesOf(e: CloudTrailEvent): string {
  const res = e.resources;
  if (!Array.isArray(res)) return '';
  let out = '';
  for (const r of res)
    if (r && typeof r === 'object') for (const v of resourceField(r, 'type')) out += (out ? '\n' : '') + v;
  return out;
}

export { str as fieldString };
