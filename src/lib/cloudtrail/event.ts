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
    typeof v === 'object' && v !== null && !Array.isArray(v) &&
    typeof (v as Record<string, unknown>).eventSource === 'string' &&
    typeof (v as Record<string, unknown>).eventName === 'string'
  );
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : v === undefined || v === null ? '' : typeof v === 'object' ? '' : String(v);
}

/** eventTime as epoch ms (UTC); NaN when absent or malformed. */
export function eventTimeMs(e: CloudTrailEvent): number {
  const t = e.eventTime;
  return typeof t === 'string' ? Date.parse(t) : NaN;
}

/**
 * The principal shown for an event: `userIdentity.arn`, else the session issuer's ARN, else
 * `invokedBy` (an AWS service), else `userIdentity.type` (for example `AWSService`), else ''.
 */
export function principalOf(e: CloudTrailEvent): string {
  const u = e.userIdentity;
  if (!u || typeof u !== 'object') return '';
  return (
    str(u.arn) || str(u.sessionContext?.sessionIssuer?.arn) || str(u.invokedBy) ||
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
  for (const r of res) if (r && typeof r === 'object') for (const v of resourceField(r, 'arn')) out += (out ? '\n' : '') + v;
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
  for (const r of res) if (r && typeof r === 'object') for (const v of resourceField(r, 'type')) out += (out ? '\n' : '') + v;
  return out;
}

export { str as fieldString };
