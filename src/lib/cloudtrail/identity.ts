import type { CloudTrailEvent } from './event';

/**
 * userIdentity types CloudTrail records. Source: "CloudTrail userIdentity element" (AWS CloudTrail User Guide).
 */
export const IDENTITY_TYPES = [
  'Root',
  'IAMUser',
  'AssumedRole',
  'FederatedUser',
  'AWSService',
  'AWSAccount',
  'SAMLUser',
  'WebIdentityUser',
  'IdentityCenterUser',
  'Directory',
  'Unknown',
] as const;

/** How an event's caller is classified. */
export interface CallerClass {
  /** userIdentity.type (one of IDENTITY_TYPES; 'Unknown' when absent or unrecognised). */
  type: string;
  /** `long-term` (AKIA access key), `temporary` (ASIA), or '' when no access key is recorded. */
  credentials: '' | 'long-term' | 'temporary';
  /** `MFA` / `no MFA` from sessionContext.attributes.mfaAuthenticated; '' when not recorded. */
  mfa: '' | 'MFA' | 'no MFA';
  /** How the call was made: `console`, `CLI`, `SDK`, `AWS service`, `KMS internal`, or `other`. */
  via: 'console' | 'CLI' | 'SDK' | 'AWS service' | 'KMS internal' | 'other';
  /** The AWS service that made the call for a principal (userIdentity.invokedBy). */
  invokedBy: string;
}

/**
 * Operations AWS KMS runs itself, recorded as service events: deleting expired imported key material, deleting
 * a key at the end of its waiting period, automatic rotation, synchronising multi-Region keys.
 * Source: "Logging AWS KMS API calls with AWS CloudTrail" (AWS KMS Developer Guide).
 */
export const KMS_INTERNAL_OPERATIONS: ReadonlySet<string> = new Set([
  'DeleteExpiredKeyMaterial',
  'DeleteKey',
  'RotateKey',
  'SynchronizeMultiRegionKey',
]);

/** Classifies an event's caller (never throws). */
export function classifyCaller(e: CloudTrailEvent): CallerClass {
  const u = e.userIdentity && typeof e.userIdentity === 'object' ? e.userIdentity : undefined;
  const rawType = typeof u?.type === 'string' ? u.type : '';
  const type = (IDENTITY_TYPES as readonly string[]).includes(rawType) ? rawType : 'Unknown';
  const key = typeof u?.accessKeyId === 'string' ? u.accessKeyId : '';
  const credentials = key.startsWith('AKIA') ? 'long-term' : key.startsWith('ASIA') ? 'temporary' : '';
  const mfaRaw = u?.sessionContext?.attributes?.mfaAuthenticated;
  const mfa =
    mfaRaw === 'true' || (mfaRaw as unknown) === true
      ? 'MFA'
      : mfaRaw === 'false' || (mfaRaw as unknown) === false
        ? 'no MFA'
        : '';
  const invokedBy = typeof u?.invokedBy === 'string' ? u.invokedBy : '';
  const ua = typeof e.userAgent === 'string' ? e.userAgent : '';
  const fromConsole = e.sessionCredentialFromConsole === 'true' || e.sessionCredentialFromConsole === true;
  let via: CallerClass['via'];
  const byUa = userAgentClass(ua);
  if (
    e.eventSource === 'kms.amazonaws.com' &&
    KMS_INTERNAL_OPERATIONS.has(e.eventName) &&
    (e.eventType === 'AwsServiceEvent' ||
      (rawType === 'AWSService' && !invokedBy) ||
      (!rawType && invokedBy === 'AWS Internal') ||
      (!u && !ua))
  )
    via = 'KMS internal';
  else if (fromConsole || byUa === 'console') via = 'console';
  else if (rawType === 'AWSService' || invokedBy || byUa === 'AWS service') via = 'AWS service';
  else via = byUa;
  return { type, credentials, mfa, via, invokedBy };
}

const uaClasses = new Map<string, 'console' | 'AWS service' | 'CLI' | 'SDK' | 'other'>();

/** What a user agent alone says of the caller (memoised: user agents repeat across events). */
function userAgentClass(ua: string): 'console' | 'AWS service' | 'CLI' | 'SDK' | 'other' {
  let c = uaClasses.get(ua);
  if (c) return c;
  // console.amazonaws.com, console.ec2.amazonaws.com, signin.amazonaws.com, AWSConsole, EC2ConsoleFrontend, browsers
  if (
    /\bconsole(\.[a-z0-9-]+)?\.amazonaws\.com|signin\.amazonaws\.com|^Mozilla\/|^AWSConsole\b|^[A-Za-z0-9]+Console(Frontend|Backend)\b/.test(
      ua,
    )
  )
    c = 'console';
  // `aws-internal/N ...`: a call AWS made for the caller (a console backend, another service), not an SDK the
  // caller ran, even when an SDK name follows. Source: "CloudTrail record contents" (AWS CloudTrail User Guide):
  // userAgent "AWS Internal" and service names for calls made by AWS.
  else if (/^[a-z0-9.-]+\.amazonaws\.com$/.test(ua) || ua === 'AWS Internal' || /^\[?aws-internal\//i.test(ua))
    c = 'AWS service';
  else if (/^\[?aws-cli\//i.test(ua))
    c = 'CLI'; // S3 records the user agent in brackets
  else if (/aws-sdk|boto3|botocore|Boto|\bSDK\b|aws-go|aws-java/i.test(ua)) c = 'SDK';
  else c = 'other';
  if (uaClasses.size >= 10_000) uaClasses.clear();
  uaClasses.set(ua, c);
  return c;
}

/** One-line label of a classification, as the `caller` column and facet show it. */
export function callerLabel(c: CallerClass): string {
  const last = c.via === 'AWS service' && c.invokedBy ? `via ${c.invokedBy}` : c.via;
  let s = c.type;
  if (c.credentials) s = s ? `${s} · ${c.credentials}` : c.credentials;
  if (c.mfa) s = s ? `${s} · ${c.mfa}` : c.mfa;
  if (last) s = s ? `${s} · ${last}` : last;
  return s;
}
