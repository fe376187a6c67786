import { parseTrailArn } from '../cloudtrail/arn';

/**
 * Trail configuration outputs as input files: the JSON that `aws cloudtrail describe-trails`, `get-trail`,
 * `get-event-selectors` and `get-trail-status` print (and `create-trail` / `update-trail`, which print the
 * trail), read into configuration snapshots. A snapshot states a trail's configuration at the time the output
 * was captured; `coverage.ts` merges snapshots with the trail's CloudTrail management events.
 *
 * Sources (AWS CloudTrail API Reference): DescribeTrails, GetTrail, GetEventSelectors, GetTrailStatus,
 * EventSelector, AdvancedEventSelector, AdvancedFieldSelector; "Managing trails with the AWS CLI" (AWS
 * CloudTrail User Guide). The CLI prints the API's PascalCase member names; CloudTrail events write the same
 * structures in camelCase (`requestParameters.eventSelectors[].readWriteType`): both are accepted here.
 * Outputs recorded by botocore's placebo (`{"status_code": 200, "data": {...}}`, timestamps as
 * `{"__class__": "datetime", ...}`) are accepted too.
 */

/** A basic event selector (API: EventSelector). */
export interface BasicEventSelector {
  /** `All` (default), `ReadOnly` or `WriteOnly`. */
  readWriteType: 'All' | 'ReadOnly' | 'WriteOnly';
  /** Whether management events are recorded (default true). */
  includeManagementEvents: boolean;
  /** Event sources whose management events are not recorded (only `kms.amazonaws.com` and `rdsdata.amazonaws.com` are allowed). */
  excludeManagementEventSources: string[];
  dataResources: { type: string; values: string[] }[];
}

/** One condition of an advanced event selector (API: AdvancedFieldSelector). Absent or empty operators are unset. */
export interface AdvancedFieldSelector {
  field: string;
  equals?: string[];
  startsWith?: string[];
  endsWith?: string[];
  notEquals?: string[];
  notStartsWith?: string[];
  notEndsWith?: string[];
}

/** An advanced event selector (API: AdvancedEventSelector): an event matches when every field selector matches. */
export interface AdvancedEventSelector {
  name?: string;
  fieldSelectors: AdvancedFieldSelector[];
}

/** Which command printed a configuration document. */
export type TrailConfigSource =
  'describe-trails' | 'get-trail' | 'get-event-selectors' | 'get-trail-status' | 'create-or-update-trail';

/** A trail's configuration as one output states it. Only what the output states is set. Times epoch ms UTC. */
/** The trail settings `trail-updated` watches, as CloudTrail's APIs name them. */
export interface TrailSettings {
  s3BucketName?: string;
  s3KeyPrefix?: string;
  kmsKeyId?: string;
  isMultiRegionTrail?: boolean;
  includeGlobalServiceEvents?: boolean;
  logFileValidationEnabled?: boolean;
  isOrganizationTrail?: boolean;
}

export interface TrailConfigSnapshot extends TrailSettings {
  source: TrailConfigSource;
  /** When the output was captured: the `capturedAt` argument, else the HTTP `date` of a recorded response. */
  capturedAt?: number;
  /** When `capturedAt` is unknown: the latest time the output itself mentions (it was captured after that). */
  capturedAfter?: number;
  /** The input file's path. */
  path?: string;
  /** Trail name ('' when the output does not name the trail: `get-trail-status`). */
  trailName: string;
  trailArn?: string;
  account?: string;
  homeRegion?: string;
  hasCustomEventSelectors?: boolean;
  snsTopicName?: string;
  cloudWatchLogsLogGroupArn?: string;
  /** `get-event-selectors`: exactly one of the two lists is set. */
  eventSelectors?: BasicEventSelector[];
  advancedEventSelectors?: AdvancedEventSelector[];
  /** `get-trail-status`. */
  isLogging?: boolean;
  /** `get-trail-status`: the most recent StartLogging / StopLogging (StartLoggingTime, TimeLoggingStarted...). */
  startLoggingTime?: number;
  stopLoggingTime?: number;
  latestDeliveryTime?: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** A member by its PascalCase API name or its camelCase event-record name. */
function member(o: Obj, name: string): unknown {
  if (name in o) return o[name];
  const camel = name[0].toLowerCase() + name.slice(1);
  if (camel in o) return o[camel];
  // S3BucketName → s3BucketName, TrailARN → trailARN / trailArn
  if (name === 'TrailARN') return o.trailARN ?? o.trailArn ?? o.TrailArn;
  return undefined;
}
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const bool = (v: unknown): boolean | undefined =>
  typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : undefined;
const strList = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/**
 * A timestamp as the CLI, the API or placebo print it: ISO 8601 text, epoch seconds (number or numeric
 * text), or `{"__class__": "datetime", year, month, day, hour, minute, second, microsecond}`. Undefined when
 * absent, empty or unreadable.
 */
export function parseConfigTime(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? Math.round(v * 1000) : undefined;
  if (typeof v === 'string') {
    if (!v) return undefined;
    if (/^\d+(\.\d+)?$/.test(v)) return Math.round(parseFloat(v) * 1000);
    const t = Date.parse(/Z|[+-]\d\d:?\d\d$/.test(v) ? v : v + 'Z');
    return Number.isFinite(t) ? t : undefined;
  }
  if (isObj(v) && v.__class__ === 'datetime') {
    const n = (k: string) => (typeof v[k] === 'number' ? (v[k] as number) : 0);
    const t = Date.UTC(
      n('year'),
      n('month') - 1,
      n('day'),
      n('hour'),
      n('minute'),
      n('second'),
      Math.floor(n('microsecond') / 1000),
    );
    return Number.isFinite(t) ? t : undefined;
  }
  return undefined;
}

export { parseTrailArn };

/** Basic event selectors from an API/CLI/event structure (either casing); [] for anything else. */
export function normalizeBasicSelectors(v: unknown): BasicEventSelector[] {
  if (!Array.isArray(v)) return [];
  const out: BasicEventSelector[] = [];
  for (const s of v) {
    if (!isObj(s)) continue;
    const rw = str(member(s, 'ReadWriteType'));
    const dr = member(s, 'DataResources');
    out.push({
      readWriteType: rw === 'ReadOnly' || rw === 'WriteOnly' ? rw : 'All',
      includeManagementEvents: bool(member(s, 'IncludeManagementEvents')) ?? true,
      excludeManagementEventSources: strList(member(s, 'ExcludeManagementEventSources')),
      dataResources: Array.isArray(dr)
        ? dr.filter(isObj).map((d) => ({ type: str(member(d, 'Type')) ?? '', values: strList(member(d, 'Values')) }))
        : [],
    });
  }
  return out;
}

/** Advanced event selectors from an API/CLI/event structure (either casing); [] for anything else. */
export function normalizeAdvancedSelectors(v: unknown): AdvancedEventSelector[] {
  if (!Array.isArray(v)) return [];
  const out: AdvancedEventSelector[] = [];
  for (const s of v) {
    if (!isObj(s)) continue;
    const fs = member(s, 'FieldSelectors');
    const fieldSelectors: AdvancedFieldSelector[] = [];
    if (Array.isArray(fs)) {
      for (const f of fs) {
        if (!isObj(f)) continue;
        const field = str(member(f, 'Field'));
        if (!field) continue;
        const sel: AdvancedFieldSelector = { field };
        for (const op of ['Equals', 'StartsWith', 'EndsWith', 'NotEquals', 'NotStartsWith', 'NotEndsWith'] as const) {
          const list = strList(member(f, op));
          if (list.length)
            sel[(op[0].toLowerCase() + op.slice(1)) as Exclude<keyof AdvancedFieldSelector, 'field'>] = list;
        }
        fieldSelectors.push(sel);
      }
    }
    out.push({ name: str(member(s, 'Name')), fieldSelectors });
  }
  return out;
}

/** Unwraps a placebo recording (`{"status_code": N, "data": {...}}`). */
function unwrap(doc: unknown): unknown {
  if (isObj(doc) && typeof doc.status_code === 'number' && isObj(doc.data)) return doc.data;
  return doc;
}

type Kind = TrailConfigSource | null;

function kindOf(o: unknown): Kind {
  if (!isObj(o)) return null;
  if ('eventName' in o || 'eventSource' in o || 'Records' in o || 'digestEndTime' in o) return null;
  if (Array.isArray(o.trailList)) return 'describe-trails';
  if (isObj(o.Trail) && (str(o.Trail.Name) || str(o.Trail.TrailARN))) return 'get-trail';
  if (str(o.TrailARN) && (Array.isArray(o.EventSelectors) || Array.isArray(o.AdvancedEventSelectors)))
    return 'get-event-selectors';
  if (typeof o.IsLogging === 'boolean') return 'get-trail-status';
  if (str(o.TrailARN) && str(o.Name) && str(o.S3BucketName)) return 'create-or-update-trail';
  return null;
}

/**
 * Is `doc` (parsed JSON) the output of `aws cloudtrail describe-trails`, `get-trail`, `get-event-selectors`,
 * `get-trail-status`, `create-trail` or `update-trail` (or a JSON array of such outputs)? CloudTrail events,
 * delivery files and digest files are not.
 */
export function isTrailConfigDocument(doc: unknown): boolean {
  const d = unwrap(doc);
  if (Array.isArray(d)) return d.length > 0 && d.every((x) => kindOf(unwrap(x)) !== null);
  return kindOf(d) !== null;
}

/** The trail description members shared by describe-trails, get-trail, create-trail and update-trail. */
function trailFields(t: Obj, snap: TrailConfigSnapshot): void {
  const arn = str(member(t, 'TrailARN'));
  const name = str(member(t, 'Name'));
  const parsed = arn ? parseTrailArn(arn) : name ? parseTrailArn(name) : null;
  // a placeholder ARN (`arn:aws:cloudtrail:region:account_ID:trail/TrailName`) still names the trail
  snap.trailName =
    parsed?.name ?? name ?? (arn && arn.includes(':trail/') ? arn.slice(arn.indexOf(':trail/') + 7) : '');
  if (arn) snap.trailArn = arn;
  else if (parsed && name) snap.trailArn = name;
  if (parsed) snap.account = parsed.account;
  snap.homeRegion = str(member(t, 'HomeRegion')) ?? parsed?.region;
  snap.s3BucketName = str(member(t, 'S3BucketName'));
  snap.s3KeyPrefix = str(member(t, 'S3KeyPrefix'));
  snap.kmsKeyId = str(member(t, 'KmsKeyId'));
  snap.isMultiRegionTrail = bool(member(t, 'IsMultiRegionTrail'));
  snap.includeGlobalServiceEvents = bool(member(t, 'IncludeGlobalServiceEvents'));
  snap.logFileValidationEnabled = bool(member(t, 'LogFileValidationEnabled'));
  snap.isOrganizationTrail = bool(member(t, 'IsOrganizationTrail'));
  snap.hasCustomEventSelectors = bool(member(t, 'HasCustomEventSelectors'));
  snap.snsTopicName = str(member(t, 'SnsTopicName'));
  snap.cloudWatchLogsLogGroupArn = str(member(t, 'CloudWatchLogsLogGroupArn'));
  for (const k of Object.keys(snap) as (keyof TrailConfigSnapshot)[]) if (snap[k] === undefined) delete snap[k];
}

/** The HTTP `date` of a placebo recording (when it was captured). */
function recordedDate(o: Obj): number | undefined {
  const rm = o.ResponseMetadata;
  if (!isObj(rm) || !isObj(rm.HTTPHeaders)) return undefined;
  const d = rm.HTTPHeaders.date;
  const t = typeof d === 'string' ? Date.parse(d) : NaN;
  return Number.isFinite(t) ? t : undefined;
}

function snapshotsOf(
  o: Obj,
  kind: TrailConfigSource,
  capturedAt: number | undefined,
  path: string | undefined,
): TrailConfigSnapshot[] {
  const at = capturedAt ?? recordedDate(o);
  const base = (): TrailConfigSnapshot => {
    const s: TrailConfigSnapshot = { source: kind, trailName: '' };
    if (at !== undefined) s.capturedAt = at;
    if (path !== undefined) s.path = path;
    return s;
  };
  switch (kind) {
    case 'describe-trails':
      return (o.trailList as unknown[]).filter(isObj).map((t) => {
        const s = base();
        trailFields(t, s);
        return s;
      });
    case 'get-trail':
    case 'create-or-update-trail': {
      const s = base();
      trailFields(kind === 'get-trail' ? (o.Trail as Obj) : o, s);
      return [s];
    }
    case 'get-event-selectors': {
      const s = base();
      trailFields({ TrailARN: o.TrailARN }, s);
      if (Array.isArray(o.AdvancedEventSelectors) && !Array.isArray(o.EventSelectors))
        s.advancedEventSelectors = normalizeAdvancedSelectors(o.AdvancedEventSelectors);
      else if (Array.isArray(o.EventSelectors) && !Array.isArray(o.AdvancedEventSelectors))
        s.eventSelectors = normalizeBasicSelectors(o.EventSelectors);
      else if (Array.isArray(o.AdvancedEventSelectors) && (o.AdvancedEventSelectors as unknown[]).length)
        s.advancedEventSelectors = normalizeAdvancedSelectors(o.AdvancedEventSelectors);
      else s.eventSelectors = normalizeBasicSelectors(o.EventSelectors);
      return [s];
    }
    case 'get-trail-status': {
      const s = base();
      // The output does not name the trail; a merged document may carry the name.
      if (str(o.Name) || str(o.TrailARN)) trailFields({ Name: o.Name, TrailARN: o.TrailARN }, s);
      s.isLogging = o.IsLogging as boolean;
      // the ISO strings first: placebo writes the Time members as zone-less local datetimes
      const start = parseConfigTime(o.TimeLoggingStarted) ?? parseConfigTime(o.StartLoggingTime);
      const stop = parseConfigTime(o.TimeLoggingStopped) ?? parseConfigTime(o.StopLoggingTime);
      const delivery = parseConfigTime(o.LatestDeliveryAttemptSucceeded) ?? parseConfigTime(o.LatestDeliveryTime);
      if (start !== undefined) s.startLoggingTime = start;
      if (stop !== undefined) s.stopLoggingTime = stop;
      if (delivery !== undefined) s.latestDeliveryTime = delivery;
      if (s.capturedAt === undefined) {
        const times = [start, stop, delivery, parseConfigTime(o.LatestDeliveryAttemptTime)].filter(
          (t): t is number => t !== undefined,
        );
        if (times.length) s.capturedAfter = Math.max(...times);
      }
      return [s];
    }
  }
}

/**
 * The configuration snapshots a trail configuration document states (see `isTrailConfigDocument`); [] when
 * `doc` is not one. `capturedAt` (epoch ms) is when the output was captured, when known (for example the
 * file's modification time); `path` is kept on each snapshot. `get-trail-status` output does not name its
 * trail: its snapshot has `trailName: ''` and `coverage.trailTimelines` attributes it by the file path.
 */
export function trailConfigSnapshots(doc: unknown, capturedAt?: number, path?: string): TrailConfigSnapshot[] {
  const d = unwrap(doc);
  const list = Array.isArray(d) ? d.map(unwrap) : [d];
  const out: TrailConfigSnapshot[] = [];
  for (const o of list) {
    const k = kindOf(o);
    if (k && isObj(o)) out.push(...snapshotsOf(o, k, capturedAt, path));
  }
  return out;
}
