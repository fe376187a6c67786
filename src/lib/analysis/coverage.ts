import type { CrossAccountCall } from './crossAccount';
import {
  normalizeAdvancedSelectors,
  normalizeBasicSelectors,
  parseTrailArn,
  type AdvancedEventSelector,
  type AdvancedFieldSelector,
  type BasicEventSelector,
  type TrailConfigSnapshot,
  type TrailSettings,
} from './trailConfig';
import type { Finding, Severity } from './types';
import { utcSeconds } from '../format/utc';
import { compareFindings } from './severity';

/**
 * Coverage: where the trails did not record AWS KMS events.
 *
 * Each trail's recording configuration is reconstructed over time from its successful CloudTrail management
 * events (CreateTrail, UpdateTrail, PutEventSelectors, StartLogging, StopLogging, DeleteTrail) and from
 * configuration outputs (`trailConfig.ts`); the spans in which a trail did not record KMS management events
 * are its exclusion windows. AWS cannot recover events from such a span: CloudTrail delivers to a trail only
 * the events that match its configuration at the time, and Event history keeps only the last 90 days of
 * management events (and, for the CloudTrail event history, no data events).
 *
 * Sources (AWS CloudTrail User Guide and API Reference): "Logging management events" (excluding AWS KMS
 * events: `ExcludeManagementEventSources` of a basic event selector, or an advanced event selector with
 * `eventSource` `NotEquals` `kms.amazonaws.com`); "Filtering data events by using advanced event selectors";
 * PutEventSelectors ("if the event matches any event selector, the trail processes and logs the event. If the
 * event doesn't match any event selector, the trail doesn't log the event"; "By default, trails created
 * without specific event selectors are configured to log all read and write management events"; basic and
 * advanced selectors exclude each other, applying one replaces the other); EventSelector, AdvancedEventSelector
 * and AdvancedFieldSelector (Equals, StartsWith, EndsWith, NotEquals, NotStartsWith, NotEndsWith);
 * CreateTrail, StartLogging ("Starts the recording of AWS API calls and log file delivery for a trail"),
 * StopLogging ("Suspends the recording of AWS API calls and log file delivery"), DeleteTrail, UpdateTrail;
 * "Managing trails with the AWS CLI" (trail commands run in the trail's home Region; a trail created with
 * `create-trail` logs only after `start-logging`). AWS KMS Developer Guide: "Logging AWS KMS API calls with AWS
 * CloudTrail" (cross-account calls are logged in both accounts, denied ones only in the caller's).
 */

/** A cloudtrail.amazonaws.com management event, parsed. */
export interface TrailEvent {
  row: number;
  time: number;
  eventName: string;
  errorCode: string;
  recipientAccountId: string;
  awsRegion: string;
  principal: string;
  sourceIPAddress: string;
  requestParameters: Record<string, unknown> | null;
  responseElements: Record<string, unknown> | null;
  /** eventID: orders events of the same time (CloudTrail log files are not ordered). */
  eventID?: string;
  /** eventType / eventCategory: network-activity records (`AwsVpceEvent`, `NetworkActivity`) change no trail. */
  eventType?: string;
  eventCategory?: string;
}

/** How much of a class of events the selectors record. */
export type Coverage = 'all' | 'partial' | 'none';

/** What a trail's event selectors record of management events. */
export interface RecordingCoverage {
  /** Management events of an event source the selectors do not name. */
  management: Coverage;
  /** kms.amazonaws.com read-only management events (Decrypt, Encrypt, GenerateDataKey, Describe*, List*, Get*...). */
  kmsRead: Coverage;
  /** kms.amazonaws.com write management events (CreateKey, PutKeyPolicy, ScheduleKeyDeletion...). */
  kmsWrite: Coverage;
}

/** A trail's configuration after a change. Unknown parts are undefined. */
export interface TrailState extends TrailSettings {
  /** true once created (or seen without a CreateTrail), false after DeleteTrail. */
  exists?: boolean;
  logging?: boolean;
  selectorKind?: 'default' | 'basic' | 'advanced';
  eventSelectors?: BasicEventSelector[];
  advancedEventSelectors?: AdvancedEventSelector[];
  coverage?: RecordingCoverage;
  /** For the organization trail's record of an account: true once the account left the organization. */
  organizationLeft?: boolean;
}

/** Trail settings whose change `trail-updated` reports. */
export const WATCHED_TRAIL_FIELDS = [
  's3BucketName',
  's3KeyPrefix',
  'kmsKeyId',
  'isMultiRegionTrail',
  'includeGlobalServiceEvents',
  'logFileValidationEnabled',
  'isOrganizationTrail',
] as const;
type WatchedField = (typeof WATCHED_TRAIL_FIELDS)[number];

/** One change to a trail (or a failed attempt, which changes nothing). */
export interface TrailChange {
  time: number;
  /** Row of the event; -1 for a change read from a configuration output. */
  row: number;
  /** The API call, or for a configuration output `describe-trails` / `get-event-selectors` / `get-trail-status`... */
  eventName: string;
  principal: string;
  sourceIPAddress: string;
  /** Set for failed calls: they changed nothing. */
  errorCode: string;
  source: 'event' | 'snapshot';
  path?: string;
  /** What changed: `created`, `deleted`, `logging`, `selectors`, or a field of WATCHED_TRAIL_FIELDS. */
  changed: string[];
  diff: { field: string; from?: string | boolean; to?: string | boolean }[];
  /** The configuration after the change. */
  state: TrailState;
  /**
   * A configuration output showed a configuration the events do not explain: it changed at an unknown time
   * after `notBefore` (the trail's previous known change), at the latest at `time`.
   */
  approximate?: boolean;
  notBefore?: number;
}

/** A trail's configuration over time. */
export interface TrailTimeline {
  trail: string;
  trailArn?: string;
  account: string;
  homeRegion?: string;
  changes: TrailChange[];
  /** Observations for people (a StartLogging without an earlier StopLogging...). */
  notes: string[];
}

export type WindowKind = 'kms-excluded' | 'management-disabled' | 'logging-stopped' | 'organization-left';

/**
 * The name under which the organization trail's record of an account appears: LeaveOrganization (called by the
 * member account) and RemoveAccountFromOrganization (called by the management account, `requestParameters.accountId`)
 * end it. Source: "Creating a trail for an organization" (AWS CloudTrail User Guide: member accounts' events are
 * logged by the organization trail; an account removed from the organization no longer is) and the AWS
 * Organizations API Reference (LeaveOrganization, RemoveAccountFromOrganization).
 */
export const ORGANIZATION_TRAIL = '(organization trail)';
const ORG_EVENTS = new Set(['LeaveOrganization', 'RemoveAccountFromOrganization']);

/** Who made a change, and from where. */
export interface ChangeActor {
  principal: string;
  sourceIPAddress: string;
  eventName: string;
  /** -1 for a configuration output. */
  row: number;
  time: number;
}

/**
 * A span in which a trail did not record KMS management events: from the change that stopped it to the change
 * that restored it, or open-ended (`end` undefined). AWS cannot recover events from such a span.
 */
export interface ExclusionWindow {
  trail: string;
  trailArn?: string;
  account: string;
  homeRegion?: string;
  kind: WindowKind;
  start: number;
  end?: number;
  startedBy: ChangeActor;
  endedBy?: ChangeActor;
  /** For `kms-excluded` and `management-disabled`: the kind of event selectors that did it. */
  selectorKind?: 'basic' | 'advanced';
  /** Some KMS events were still recorded (only read-only or only write events excluded, or selectors on other fields). */
  partial?: boolean;
  /** What the trail did not record, for people. */
  detail: string;
  /** The start comes from a configuration output: the change happened at an unknown time after `notBefore`, at the latest at `start`. */
  startApproximate?: boolean;
  notBefore?: number;
}

const KMS = 'kms.amazonaws.com';
type Obj = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const bool = (v: unknown): boolean | undefined =>
  typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : undefined;
const iso = (t: number) => utcSeconds(t) || '?';

// ---------------------------------------------------------------------------------------------------------
// What selectors record
// ---------------------------------------------------------------------------------------------------------

/** Three-valued match: 0 no, 1 unknown (depends on fields not evaluated), 2 yes. */
type Tri = 0 | 1 | 2;

function fieldMatch(fs: AdvancedFieldSelector, probe: Record<string, string | undefined>): Tri {
  const ops = [fs.equals, fs.startsWith, fs.endsWith, fs.notEquals, fs.notStartsWith, fs.notEndsWith];
  if (!ops.some((o) => o && o.length)) return 2;
  const field = fs.field;
  let v = probe[field];
  if (v === undefined) return 1;
  if (field === 'readOnly') v = v.toLowerCase();
  const norm = (x: string) => (field === 'readOnly' ? x.toLowerCase() : x);
  let r: Tri = 2;
  const and = (ok: boolean) => {
    if (!ok) r = 0;
  };
  if (fs.equals?.length) and(fs.equals.some((x) => norm(x) === v));
  if (fs.startsWith?.length) and(fs.startsWith.some((x) => v!.startsWith(norm(x))));
  if (fs.endsWith?.length) and(fs.endsWith.some((x) => v!.endsWith(norm(x))));
  if (fs.notEquals?.length) and(!fs.notEquals.some((x) => norm(x) === v));
  if (fs.notStartsWith?.length) and(!fs.notStartsWith.some((x) => v!.startsWith(norm(x))));
  if (fs.notEndsWith?.length) and(!fs.notEndsWith.some((x) => v!.endsWith(norm(x))));
  return r;
}

/** Does any advanced selector match a probe event (fields not in the probe are unknown)? */
function advancedMatch(sels: AdvancedEventSelector[], probe: Record<string, string | undefined>): Tri {
  let any: Tri = 0;
  for (const s of sels) {
    let all: Tri = 2;
    for (const f of s.fieldSelectors) all = Math.min(all, fieldMatch(f, probe)) as Tri;
    any = Math.max(any, all) as Tri;
  }
  return any;
}

const cov = (read: Tri, write: Tri): Coverage =>
  read === 2 && write === 2 ? 'all' : read === 0 && write === 0 ? 'none' : 'partial';
const covOne = (t: Tri): Coverage => (t === 2 ? 'all' : t === 0 ? 'none' : 'partial');

/**
 * What a trail's selectors record of management events: basic selectors (`includeManagementEvents`,
 * `readWriteType`, `excludeManagementEventSources`), or advanced selectors evaluated on probe events
 * (`eventCategory` Management, `eventSource`, `readOnly`; conditions on other fields, such as `eventName`,
 * make the answer `partial`). Neither: the default, all management events.
 */
export function selectorCoverage(basic?: BasicEventSelector[], advanced?: AdvancedEventSelector[]): RecordingCoverage {
  if (advanced) {
    const at = (src: string | undefined, ro: string) =>
      advancedMatch(advanced, { eventCategory: 'Management', eventSource: src, readOnly: ro });
    return {
      management: cov(at(undefined, 'true'), at(undefined, 'false')),
      kmsRead: covOne(at(KMS, 'true')),
      kmsWrite: covOne(at(KMS, 'false')),
    };
  }
  if (basic) {
    let mr: Tri = 0,
      mw: Tri = 0,
      kr: Tri = 0,
      kw: Tri = 0;
    for (const s of basic) {
      if (!s.includeManagementEvents) continue;
      const r = s.readWriteType !== 'WriteOnly';
      const w = s.readWriteType !== 'ReadOnly';
      const kms = !s.excludeManagementEventSources.includes(KMS);
      if (r) mr = 2;
      if (w) mw = 2;
      if (r && kms) kr = 2;
      if (w && kms) kw = 2;
    }
    return { management: cov(mr, mw), kmsRead: covOne(kr), kmsWrite: covOne(kw) };
  }
  return { management: 'all', kmsRead: 'all', kmsWrite: 'all' };
}

// ---------------------------------------------------------------------------------------------------------
// Timelines
// ---------------------------------------------------------------------------------------------------------

const TRAIL_EVENTS = new Set([
  'CreateTrail',
  'UpdateTrail',
  'PutEventSelectors',
  'StartLogging',
  'StopLogging',
  'DeleteTrail',
  ...ORG_EVENTS,
]);

/** A VPC endpoint network-activity record: not an API call, it never changes a trail. Source: "Logging network activity events" (AWS CloudTrail User Guide). */
const isNetworkActivity = (e: TrailEvent) => e.eventType === 'AwsVpceEvent' || e.eventCategory === 'NetworkActivity';

interface TrailRef {
  name: string;
  account: string;
  region: string;
  arn?: string;
}

/** The trail an event is about: `requestParameters.name` (or `trailName` of PutEventSelectors), a name or an ARN. */
export function trailOfEvent(e: TrailEvent): TrailRef | null {
  const rp = e.requestParameters ?? {};
  const re = e.responseElements ?? {};
  if (ORG_EVENTS.has(e.eventName)) {
    const account = e.eventName === 'RemoveAccountFromOrganization' ? str(rp.accountId) : e.recipientAccountId;
    return account ? { name: ORGANIZATION_TRAIL, account, region: '' } : null;
  }
  const raw = str(rp.name) ?? str(rp.trailName) ?? str(re.name) ?? str(re.trailARN);
  if (!raw) return null;
  const reArn = str(re.trailARN);
  const fromRaw = parseTrailArn(raw);
  const fromRe = reArn ? parseTrailArn(reArn) : null;
  const a = fromRaw ?? fromRe;
  const name = fromRaw ? fromRaw.name : raw;
  // trail commands run in the trail's home Region
  return {
    name,
    account: a?.account ?? e.recipientAccountId,
    region: a?.region ?? e.awsRegion,
    arn: fromRaw ? raw : reArn,
  };
}

/** Trail settings an event states: in its request (what the caller set) and its response (the result). */
function settingsOf(e: TrailEvent): {
  req: Partial<Record<WatchedField, string | boolean>>;
  res: Partial<Record<WatchedField, string | boolean>>;
} {
  const read = (o: Obj, request: boolean) => {
    const out: Partial<Record<WatchedField, string | boolean>> = {};
    for (const f of WATCHED_TRAIL_FIELDS) {
      const k = request && f === 'logFileValidationEnabled' ? 'enableLogFileValidation' : f;
      const v = o[k] ?? o[k[0].toUpperCase() + k.slice(1)];
      if (v === undefined || v === null) continue;
      const isBool = f.startsWith('is') || f.startsWith('include') || f === 'logFileValidationEnabled';
      if (isBool) {
        const b = bool(v);
        if (b !== undefined) out[f] = b;
      } else if (typeof v === 'string') out[f] = v;
    }
    return out;
  };
  return { req: read(e.requestParameters ?? {}, true), res: read(e.responseElements ?? {}, false) };
}

interface Op {
  time: number;
  order: number;
  event?: TrailEvent;
  snapshot?: TrailConfigSnapshot;
  /** get-trail-status StartLoggingTime / StopLoggingTime at its exact time. */
  statusLogging?: boolean;
}

interface Building {
  tl: TrailTimeline;
  key: string;
  ops: Op[];
}

const defaultSelectors = (s: TrailState) => {
  s.selectorKind = 'default';
  delete s.eventSelectors;
  delete s.advancedEventSelectors;
  s.coverage = selectorCoverage();
};

function sameSelectors(a: TrailState, b: TrailState): boolean {
  return (
    a.selectorKind === b.selectorKind &&
    JSON.stringify(a.eventSelectors ?? a.advancedEventSelectors ?? null) ===
      JSON.stringify(b.eventSelectors ?? b.advancedEventSelectors ?? null)
  );
}

/**
 * Reconstructs each trail's configuration over time from its successful CreateTrail, UpdateTrail,
 * PutEventSelectors, StartLogging, StopLogging and DeleteTrail events (failed calls are kept as attempts that
 * change nothing) and from configuration snapshots. A trail is identified by account, home Region and name;
 * a request naming it by ARN and one naming it by name are the same trail.
 *
 * Rules: a trail created by CreateTrail does not log until StartLogging; CreateTrail resets the selectors to the
 * default (all management events); PutEventSelectors replaces the selectors (basic or advanced); DeleteTrail
 * ends everything. Before a trail's first change its state is unknown (assumed recording). A snapshot whose
 * state differs from the reconstructed one is a change that the loaded events do not show (approximate time);
 * `get-trail-status` also states the times of the last StartLogging / StopLogging, added as changes at those
 * times unless a loaded event within a minute shows them. A `get-trail-status` snapshot (which does not name
 * its trail) is attributed to the one trail whose name appears in its file path, or to the only trail.
 */
export function trailTimelines(events: TrailEvent[], snapshots: TrailConfigSnapshot[] = []): TrailTimeline[] {
  const trails = new Map<string, Building>();
  let order = 0;
  const get = (ref: TrailRef): Building => {
    const key = `${ref.account}|${ref.region}|${ref.name}`;
    let b = trails.get(key);
    if (!b) {
      b = {
        key,
        ops: [],
        tl: { trail: ref.name, account: ref.account, homeRegion: ref.region || undefined, changes: [], notes: [] },
      };
      if (!b.tl.homeRegion) delete b.tl.homeRegion;
      trails.set(key, b);
    }
    if (ref.arn && !b.tl.trailArn) b.tl.trailArn = ref.arn;
    return b;
  };
  for (const e of events) {
    if (!TRAIL_EVENTS.has(e.eventName) || isNetworkActivity(e)) continue;
    const ref = trailOfEvent(e);
    if (!ref) continue;
    get(ref).ops.push({ time: e.time, order: order++, event: e });
  }
  // snapshots: find their trail
  const pending: TrailConfigSnapshot[] = [];
  for (const s of snapshots) {
    if (!s.trailName) {
      pending.push(s);
      continue;
    }
    let b: Building | undefined;
    if (s.account && s.homeRegion)
      b = get({ name: s.trailName, account: s.account, region: s.homeRegion, arn: s.trailArn });
    else {
      const cands = [...trails.values()].filter(
        (x) => x.tl.trail === s.trailName && (!s.account || x.tl.account === s.account),
      );
      b =
        cands.length === 1
          ? cands[0]
          : get({ name: s.trailName, account: s.account ?? '', region: s.homeRegion ?? '', arn: s.trailArn });
    }
    addSnapshotOps(b, s, () => order++);
  }
  for (const s of pending) {
    const all = [...trails.values()];
    const tokens = new Set((s.path ?? '').split(/[^A-Za-z0-9._-]+/).filter(Boolean));
    const byPath = all.filter(
      (b) => tokens.has(b.tl.trail) || [...tokens].some((t) => t.includes(b.tl.trail) && b.tl.trail.length >= 3),
    );
    const b = byPath.length === 1 ? byPath[0] : all.length === 1 ? all[0] : undefined;
    if (b) addSnapshotOps(b, s, () => order++);
  }

  const out: TrailTimeline[] = [];
  for (const b of trails.values()) {
    // events before snapshots at the same time; snapshots without a time after everything; events of the same
    // time by eventID, never by file order (CloudTrail log files are not ordered)
    const eid = (o: Op) => o.event?.eventID ?? '';
    b.ops.sort(
      (x, y) =>
        x.time - y.time ||
        Number(!!x.snapshot) - Number(!!y.snapshot) ||
        (eid(x) < eid(y) ? -1 : eid(x) > eid(y) ? 1 : 0) ||
        x.order - y.order,
    );
    // get-trail-status times already shown by a loaded StartLogging / StopLogging event
    const evTimes = (name: string) =>
      b.ops.filter((o) => o.event && !o.event.errorCode && o.event.eventName === name).map((o) => o.time);
    b.ops = b.ops.filter(
      (o) =>
        o.statusLogging === undefined ||
        !evTimes(o.statusLogging ? 'StartLogging' : 'StopLogging').some((t) => Math.abs(t - o.time) <= 60_000),
    );
    replay(b);
    out.push(b.tl);
  }
  out.sort(
    (a, b) =>
      a.account.localeCompare(b.account) ||
      a.trail.localeCompare(b.trail) ||
      (a.homeRegion ?? '').localeCompare(b.homeRegion ?? ''),
  );
  return out;
}

function addSnapshotOps(b: Building, s: TrailConfigSnapshot, next: () => number): void {
  if (s.trailArn && !b.tl.trailArn) b.tl.trailArn = s.trailArn;
  if (s.homeRegion && !b.tl.homeRegion) b.tl.homeRegion = s.homeRegion;
  if (s.source === 'get-trail-status') {
    if (s.stopLoggingTime !== undefined)
      b.ops.push({ time: s.stopLoggingTime, order: next(), snapshot: s, statusLogging: false });
    if (s.startLoggingTime !== undefined)
      b.ops.push({ time: s.startLoggingTime, order: next(), snapshot: s, statusLogging: true });
  }
  b.ops.push({ time: s.capturedAt ?? s.capturedAfter ?? Infinity, order: next(), snapshot: s });
}

function replay(b: Building): void {
  const tl = b.tl;
  let state: TrailState = {};
  let lastTime: number | undefined;
  let sawStop = false;
  for (const op of b.ops) {
    const prev = state;
    const next: TrailState = { ...prev };
    const changed: string[] = [];
    const diff: TrailChange['diff'] = [];
    if (op.event) {
      const e = op.event;
      const base = {
        time: e.time,
        row: e.row,
        eventName: e.eventName,
        principal: e.principal,
        sourceIPAddress: e.sourceIPAddress,
        errorCode: e.errorCode,
        source: 'event' as const,
      };
      if (e.errorCode) {
        tl.changes.push({ ...base, changed: [], diff: [], state: prev });
        continue;
      }
      if (e.eventName !== 'CreateTrail' && prev.exists === undefined) next.exists = true;
      switch (e.eventName) {
        case 'CreateTrail': {
          for (const k of Object.keys(next)) delete (next as Record<string, unknown>)[k];
          next.exists = true;
          next.logging = false;
          defaultSelectors(next);
          changed.push('created');
          const { req, res } = settingsOf(e);
          for (const f of WATCHED_TRAIL_FIELDS) {
            const v = req[f] ?? res[f];
            if (v === undefined) continue;
            (next as Record<string, unknown>)[f] = v;
            diff.push({ field: f, to: v });
          }
          break;
        }
        case 'UpdateTrail': {
          // what the request set is a change (from the previous value, when known); the response states the rest
          const { req, res } = settingsOf(e);
          for (const f of WATCHED_TRAIL_FIELDS) {
            const v = req[f] ?? res[f];
            if (v === undefined || prev[f] === v) continue;
            if (req[f] !== undefined || prev[f] !== undefined) {
              changed.push(f);
              diff.push(prev[f] === undefined ? { field: f, to: v } : { field: f, from: prev[f], to: v });
            }
            (next as Record<string, unknown>)[f] = v;
          }
          break;
        }
        case 'PutEventSelectors': {
          const src =
            (e.responseElements &&
            (Array.isArray(e.responseElements.advancedEventSelectors) ||
              Array.isArray(e.responseElements.eventSelectors))
              ? e.responseElements
              : e.requestParameters) ?? {};
          const adv = src.advancedEventSelectors ?? src.AdvancedEventSelectors;
          const basic = src.eventSelectors ?? src.EventSelectors;
          if (Array.isArray(adv) && (adv.length || !Array.isArray(basic))) {
            next.selectorKind = 'advanced';
            next.advancedEventSelectors = normalizeAdvancedSelectors(adv);
            delete next.eventSelectors;
          } else {
            next.selectorKind = 'basic';
            next.eventSelectors = normalizeBasicSelectors(basic);
            delete next.advancedEventSelectors;
          }
          next.coverage = selectorCoverage(next.eventSelectors, next.advancedEventSelectors);
          if (!sameSelectors(prev, next)) changed.push('selectors');
          break;
        }
        case 'StartLogging':
          if (prev.logging === undefined && !sawStop)
            tl.notes.push(
              `StartLogging at ${iso(e.time)} with no earlier StopLogging or CreateTrail in the logs: the trail may not have been logging before.`,
            );
          next.logging = true;
          if (prev.logging !== true) changed.push('logging');
          break;
        case 'StopLogging':
          sawStop = true;
          next.logging = false;
          if (prev.logging !== false) changed.push('logging');
          break;
        case 'DeleteTrail':
          next.exists = false;
          next.logging = false;
          changed.push('deleted');
          break;
        case 'LeaveOrganization':
        case 'RemoveAccountFromOrganization':
          next.organizationLeft = true;
          changed.push('left-organization');
          break;
      }
      tl.changes.push({ ...base, changed, diff, state: next });
      state = next;
      lastTime = e.time;
      continue;
    }
    // a configuration output
    const s = op.snapshot!;
    const at = op.time;
    const approxTime = Number.isFinite(at) ? at : (lastTime ?? s.capturedAfter ?? NaN);
    if (op.statusLogging !== undefined) {
      next.logging = op.statusLogging;
      if (prev.exists === undefined) next.exists = true;
      if (prev.logging === next.logging) continue;
      tl.changes.push({
        time: at,
        row: -1,
        eventName: op.statusLogging ? 'StartLogging' : 'StopLogging',
        principal: '',
        sourceIPAddress: '',
        errorCode: '',
        source: 'snapshot',
        path: s.path,
        changed: ['logging'],
        diff: [],
        state: next,
      });
      state = next;
      lastTime = at;
      continue;
    }
    if (prev.exists === false) {
      changed.push('created');
      next.logging = undefined;
    }
    next.exists = true;
    for (const f of WATCHED_TRAIL_FIELDS) {
      const v = s[f];
      if (v === undefined || prev[f] === v) continue;
      if (prev[f] !== undefined) {
        changed.push(f);
        diff.push({ field: f, from: prev[f], to: v });
      }
      (next as Record<string, unknown>)[f] = v;
    }
    if (s.isLogging !== undefined && prev.logging !== s.isLogging) {
      next.logging = s.isLogging;
      changed.push('logging');
    }
    if (s.eventSelectors || s.advancedEventSelectors) {
      next.selectorKind = s.advancedEventSelectors ? 'advanced' : 'basic';
      next.eventSelectors = s.eventSelectors;
      next.advancedEventSelectors = s.advancedEventSelectors;
      if (!next.eventSelectors) delete next.eventSelectors;
      if (!next.advancedEventSelectors) delete next.advancedEventSelectors;
      next.coverage = selectorCoverage(next.eventSelectors, next.advancedEventSelectors);
      if (
        !sameSelectors(prev, next) &&
        (prev.coverage === undefined ||
          JSON.stringify(prev.coverage) !== JSON.stringify(next.coverage) ||
          prev.selectorKind !== next.selectorKind)
      )
        changed.push('selectors');
    } else if (s.hasCustomEventSelectors === false && prev.selectorKind !== 'default') {
      defaultSelectors(next);
      changed.push('selectors');
    }
    // a configuration output states the configuration at capture: any change it reveals happened at or before then
    tl.changes.push({
      time: approxTime,
      row: -1,
      eventName: s.source,
      principal: '',
      sourceIPAddress: '',
      errorCode: '',
      source: 'snapshot',
      path: s.path,
      changed,
      diff,
      state: next,
      approximate: true,
      ...(lastTime !== undefined ? { notBefore: lastTime } : {}),
    });
    state = next;
    if (Number.isFinite(approxTime)) lastTime = approxTime;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Exclusion windows
// ---------------------------------------------------------------------------------------------------------

const KINDS: WindowKind[] = ['logging-stopped', 'management-disabled', 'kms-excluded', 'organization-left'];

function predicate(kind: WindowKind, s: TrailState): boolean | undefined {
  switch (kind) {
    case 'organization-left':
      return s.organizationLeft;
    case 'logging-stopped':
      if (s.exists === false) return true;
      if (s.exists === true && s.logging !== undefined) return !s.logging;
      return undefined;
    case 'management-disabled':
      if (s.exists === false) return false;
      return s.coverage ? s.coverage.management === 'none' : undefined;
    case 'kms-excluded':
      if (s.exists === false) return false;
      return s.coverage
        ? s.coverage.management !== 'none' && (s.coverage.kmsRead !== 'all' || s.coverage.kmsWrite !== 'all')
        : undefined;
  }
}

function describe(
  kind: WindowKind,
  s: TrailState,
  c: TrailChange,
): { detail: string; partial?: boolean; selectorKind?: 'basic' | 'advanced' } {
  if (kind === 'organization-left') {
    return {
      detail: `The account left the organization (${c.eventName}): the organization trail no longer records its events; only trails of the account itself do.`,
    };
  }
  if (kind === 'logging-stopped') {
    if (s.exists === false) return { detail: 'The trail was deleted: it recorded nothing from then on.' };
    if (c.eventName === 'CreateTrail')
      return { detail: 'The trail was created but records nothing until StartLogging.' };
    return { detail: 'Logging was stopped (StopLogging): the trail recorded nothing, of any service.' };
  }
  const selectorKind = s.selectorKind === 'advanced' ? 'advanced' : s.selectorKind === 'basic' ? 'basic' : undefined;
  if (kind === 'management-disabled') {
    return {
      selectorKind,
      detail:
        selectorKind === 'advanced'
          ? 'No advanced event selector matches management events (eventCategory Management): no management event of any service, KMS included, was recorded.'
          : 'No event selector includes management events (includeManagementEvents false): no management event of any service, KMS included, was recorded.',
    };
  }
  const cv = s.coverage!;
  const partial = cv.kmsRead !== 'none' || cv.kmsWrite !== 'none';
  let what: string;
  if (cv.kmsRead === 'none' && cv.kmsWrite === 'none') what = 'no kms.amazonaws.com management event';
  else if (cv.kmsRead === 'none')
    what = 'no read-only KMS event (Decrypt, Encrypt, GenerateDataKey, Sign, Describe*, List*, Get*...)';
  else if (cv.kmsWrite === 'none')
    what = 'no KMS write event (CreateKey, PutKeyPolicy, DisableKey, ScheduleKeyDeletion...)';
  else what = 'only some kms.amazonaws.com management events (the selectors filter on other fields, such as eventName)';
  let how: string;
  if (selectorKind === 'basic') {
    const excl = (s.eventSelectors ?? []).some(
      (x) => x.includeManagementEvents && x.excludeManagementEventSources.includes(KMS),
    );
    const rw = [
      ...new Set((s.eventSelectors ?? []).filter((x) => x.includeManagementEvents).map((x) => x.readWriteType)),
    ].join('/');
    how = excl
      ? 'basic event selectors with excludeManagementEventSources containing kms.amazonaws.com'
      : `basic event selectors with readWriteType ${rw}`;
  } else
    how =
      'advanced event selectors (eventSource conditions exclude kms.amazonaws.com, or eventSource Equals lists other sources)';
  return {
    selectorKind,
    partial,
    detail: `The trail recorded ${what}: ${how}; management events of other services were still recorded.`,
  };
}

const actor = (c: TrailChange): ChangeActor => ({
  principal: c.principal,
  sourceIPAddress: c.sourceIPAddress,
  eventName: c.eventName,
  row: c.row,
  time: c.time,
});

/**
 * The exclusion windows of every trail: for each kind, each maximal span in which the kind's condition held —
 * `logging-stopped` (StopLogging until StartLogging, CreateTrail until StartLogging, or after DeleteTrail),
 * `management-disabled` (no selector records management events), `kms-excluded` (management events recorded
 * but not all KMS ones). Windows of different kinds may overlap. Sorted by start.
 */
export function exclusionWindows(timelines: TrailTimeline[]): ExclusionWindow[] {
  const out: ExclusionWindow[] = [];
  for (const tl of timelines) {
    const open = new Map<WindowKind, ExclusionWindow>();
    for (const c of tl.changes) {
      if (c.errorCode) continue;
      for (const kind of KINDS) {
        const p = predicate(kind, c.state);
        const w = open.get(kind);
        if (p === true && !w) {
          if (!Number.isFinite(c.time)) continue;
          const d = describe(kind, c.state, c);
          const nw: ExclusionWindow = {
            trail: tl.trail,
            account: tl.account,
            kind,
            start: c.time,
            startedBy: actor(c),
            detail: d.detail,
          };
          if (tl.trailArn) nw.trailArn = tl.trailArn;
          if (tl.homeRegion) nw.homeRegion = tl.homeRegion;
          if (d.selectorKind && kind !== 'logging-stopped') nw.selectorKind = d.selectorKind;
          if (d.partial) nw.partial = true;
          if (c.approximate) {
            nw.startApproximate = true;
            if (c.notBefore !== undefined) nw.notBefore = c.notBefore;
          }
          open.set(kind, nw);
        } else if (p === false && w) {
          if (Number.isFinite(c.time)) {
            w.end = c.time;
            w.endedBy = actor(c);
          }
          out.push(w);
          open.delete(kind);
        }
      }
    }
    out.push(...open.values());
  }
  return out.sort(
    (a, b) =>
      a.start - b.start ||
      a.account.localeCompare(b.account) ||
      a.trail.localeCompare(b.trail) ||
      KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind),
  );
}

const covers = (w: ExclusionWindow, t: number) => w.start <= t && (w.end === undefined || t < w.end);

/** Did the trail exist at `t`? (Before its first change: yes, unless that change is its CreateTrail.) */
function existsAt(tl: TrailTimeline, t: number): boolean {
  let last: TrailChange | undefined;
  for (const c of tl.changes) {
    if (c.errorCode) continue;
    if (c.time <= t) last = c;
    else break;
  }
  if (last) return last.state.exists !== false;
  const first = tl.changes.find((c) => !c.errorCode);
  return !(first && first.changed.includes('created'));
}

/**
 * The windows that explain why `account` recorded no KMS event at `t`: every trail of the account that existed
 * at `t` was in an exclusion window (of any kind); null when some trail was recording (or none is known).
 */
export function accountExclusionAt(
  account: string,
  t: number,
  timelines: TrailTimeline[],
  windows: ExclusionWindow[],
): ExclusionWindow[] | null {
  const trails = timelines.filter((tl) => tl.account === account);
  if (!trails.length) return null;
  const hit: ExclusionWindow[] = [];
  for (const tl of trails) {
    const ws = windows.filter(
      (w) =>
        w.account === account && w.trail === tl.trail && (w.homeRegion ?? '') === (tl.homeRegion ?? '') && covers(w, t),
    );
    if (ws.length) hit.push(...ws);
    else if (existsAt(tl, t)) return null;
  }
  return hit.length ? hit : null;
}

/** A cross-account call that one account's trails did not record, inside that account's exclusion windows. */
export interface UnrecordedCall {
  call: CrossAccountCall;
  /** Whose copy is missing: the owner's (status caller-only-succeeded) or the caller's (owner-only, caller's logs loaded). */
  missing: 'owner-copy' | 'caller-copy';
  /** The account whose copy is missing. */
  account: string;
  windows: ExclusionWindow[];
}

/**
 * Corroboration: the caller-side cross-account calls whose owner copy is missing (`caller-only-succeeded`) and
 * that fall inside the owner's exclusion windows, and the owner-side copies whose caller copy is missing
 * although the caller's logs are loaded (`owner-only` with `callerAccountLoaded`) inside the caller's windows.
 * A call counts only when every trail of that account known to exist then was in a window.
 */
export function unrecordedCrossAccountCalls(
  records: CrossAccountCall[],
  timelines: TrailTimeline[],
  windows: ExclusionWindow[],
): UnrecordedCall[] {
  const out: UnrecordedCall[] = [];
  for (const call of records) {
    let missing: UnrecordedCall['missing'];
    let account: string;
    if (call.status === 'caller-only-succeeded') {
      missing = 'owner-copy';
      account = call.ownerAccount;
    } else if (call.status === 'owner-only' && call.callerAccountLoaded) {
      missing = 'caller-copy';
      account = call.callerAccount;
    } else continue;
    const ws = accountExclusionAt(account, call.time, timelines, windows);
    if (ws) out.push({ call, missing, account, windows: ws });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// KMS silence
// ---------------------------------------------------------------------------------------------------------

/** Options of `kmsSilence`. */
export interface KmsSilenceOptions {
  /** Bucket length, ms (default 1 hour). */
  bucketMs?: number;
  /** The chance, under the account+Region's usual KMS share, below which a silent run is reported (default 0.001). */
  alpha?: number;
  /** Minimum number of active buckets (other sources logged) in a silent run (default 3). */
  minActiveBuckets?: number;
  /** Minimum number of buckets with KMS events for an account+Region to have a baseline (default 24). */
  minKmsBuckets?: number;
}

/** One event as KMS-silence detection reads it: its time (epoch ms), account, Region, eventSource and row. */
export interface ActivityEvent {
  time: number;
  recipientAccountId: string;
  awsRegion: string;
  eventSource: string;
  row?: number;
}

/** Receives one event: time (epoch ms), recipientAccountId, awsRegion, eventSource, row (undefined: none). */
export type ActivityVisitor = (
  time: number,
  recipientAccountId: string,
  awsRegion: string,
  eventSource: string,
  row: number | undefined,
) => void;

/**
 * Events streamed to a visitor instead of held as objects (`activitySource` in analysis/inputs.ts reads the
 * index's columns): at 5M events, one object per event took ~270 MB and most of the analysis's 3 s.
 */
export type ActivitySource = (visit: ActivityVisitor) => void;

/** A span in which an account+Region that normally logs KMS calls logged none while other sources kept logging. */
export interface KmsSilenceSpan {
  account: string;
  region: string;
  /** The last KMS event before the silence (epoch ms). */
  start: number;
  /** The first KMS event after it; undefined when none followed. */
  end?: number;
  /** Rows of those two KMS events (when the input carried rows). */
  startRow?: number;
  endRow?: number;
  /** Consecutive buckets with no KMS event. */
  silentBuckets: number;
  /** Of them, buckets in which other sources logged. */
  activeBuckets: number;
  /** Events of other sources in the silent buckets, and their sources (most frequent first). */
  otherEvents: number;
  otherSources: string[];
  /** Share of the account+Region's active buckets that have KMS events (the baseline). */
  kmsShare: number;
  /** (1 − kmsShare) ^ activeBuckets: the chance of such a run if each active bucket had KMS events with the usual share. */
  probability: number;
  bucketMs: number;
}

/**
 * KMS silence: per account and Region, time is cut into buckets (1 hour). A bucket is active when any event
 * was logged in it; the baseline is the share p of active buckets that hold a KMS event. A run of consecutive
 * buckets without KMS events is reported when at least `minActiveBuckets` (3) of them are active — other
 * sources kept logging, so the trail was delivering — and (1 − p) ^ active < `alpha` (0.001): if every active
 * bucket independently held KMS events with the usual share, so long a silence would happen by chance less
 * than once in a thousand. An account+Region needs KMS events in at least `minKmsBuckets` (24) buckets to
 * have a baseline. A run before the first KMS event is not reported (no "normally" yet); a run after the last
 * one is reported open-ended. Spans in which nothing at all was logged (logging stopped, log files missing)
 * have no active buckets and are not KMS silence. The span reported runs from the last KMS event before the
 * run to the first one after it.
 */
export function kmsSilence(events: ActivityEvent[] | ActivitySource, opts: KmsSilenceOptions = {}): KmsSilenceSpan[] {
  const bucketMs = opts.bucketMs ?? 3_600_000;
  const alpha = opts.alpha ?? 0.001;
  const minActive = opts.minActiveBuckets ?? 3;
  const minKms = opts.minKmsBuckets ?? 24;
  interface Bucket {
    kms: number;
    other: number;
    sources: Map<string, number>;
  }
  interface AR {
    account: string;
    region: string;
    buckets: Map<number, Bucket>;
    /** Times (epoch ms) and rows (-1: none) of the KMS events, in the order visited. */
    kmsTimes: number[];
    kmsRows: number[];
    /** Whether `kmsTimes` is non-decreasing so far. */
    sorted: boolean;
  }
  // account → Region → its buckets: no key string built per event
  const groups = new Map<string, Map<string, AR>>();
  const visit: ActivityVisitor = (time, account, region, source, row) => {
    if (!Number.isFinite(time) || !account) return;
    let byRegion = groups.get(account);
    if (!byRegion) groups.set(account, (byRegion = new Map()));
    let g = byRegion.get(region);
    if (!g)
      byRegion.set(region, (g = { account, region, buckets: new Map(), kmsTimes: [], kmsRows: [], sorted: true }));
    const b = Math.floor(time / bucketMs);
    let B = g.buckets.get(b);
    if (!B) g.buckets.set(b, (B = { kms: 0, other: 0, sources: new Map() }));
    if (source === KMS) {
      B.kms++;
      const n = g.kmsTimes.length;
      if (n && time < g.kmsTimes[n - 1]) g.sorted = false;
      g.kmsTimes.push(time);
      g.kmsRows.push(row ?? -1);
    } else {
      B.other++;
      B.sources.set(source, (B.sources.get(source) ?? 0) + 1);
    }
  };
  if (typeof events === 'function') events(visit);
  else for (const e of events) visit(e.time, e.recipientAccountId, e.awsRegion, e.eventSource, e.row);
  const out: KmsSilenceSpan[] = [];
  for (const g of [...groups.values()].flatMap((byRegion) => [...byRegion.values()])) {
    const { account, region } = g;
    const keys = [...g.buckets.keys()].sort((a, b) => a - b);
    const kmsBuckets = keys.filter((b) => g.buckets.get(b)!.kms > 0).length;
    if (kmsBuckets < minKms) continue;
    const p = kmsBuckets / keys.length;
    if (!g.sorted) {
      // a stable sort by time: same-time events keep the order visited
      const perm = g.kmsTimes.map((_, i) => i).sort((a, b) => g.kmsTimes[a] - g.kmsTimes[b]);
      g.kmsRows = perm.map((i) => g.kmsRows[i]);
      g.kmsTimes = perm.map((i) => g.kmsTimes[i]);
    }
    const times = g.kmsTimes;
    const firstKms = Math.floor(times[0] / bucketMs);
    const lastBucket = keys[keys.length - 1];
    let run: number[] = [];
    const flush = (after: number | undefined) => {
      if (!run.length) return;
      const active = run.filter((b) => (g.buckets.get(b)?.other ?? 0) > 0);
      const prob = Math.pow(1 - p, active.length);
      if (active.length >= minActive && prob < alpha) {
        const runStart = run[0] * bucketMs;
        const runEnd = (run[run.length - 1] + 1) * bucketMs;
        // the last KMS event before the run, and the first at or after its end
        const before = firstAtOrAfter(times, runStart) - 1;
        const afterAt = after === undefined ? times.length : firstAtOrAfter(times, runEnd);
        const sources = new Map<string, number>();
        let other = 0;
        for (const b of active) {
          const B = g.buckets.get(b)!;
          other += B.other;
          for (const [s, n] of B.sources) sources.set(s, (sources.get(s) ?? 0) + n);
        }
        const span: KmsSilenceSpan = {
          account,
          region,
          start: before >= 0 ? times[before] : runStart,
          silentBuckets: run.length,
          activeBuckets: active.length,
          otherEvents: other,
          otherSources: [...sources.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([s]) => s),
          kmsShare: p,
          probability: prob,
          bucketMs,
        };
        if (before >= 0 && g.kmsRows[before] >= 0) span.startRow = g.kmsRows[before];
        if (afterAt < times.length) {
          span.end = times[afterAt];
          if (g.kmsRows[afterAt] >= 0) span.endRow = g.kmsRows[afterAt];
        }
        out.push(span);
      }
      run = [];
    };
    for (let b = firstKms + 1; b <= lastBucket; b++) {
      const B = g.buckets.get(b);
      if (B && B.kms > 0) flush(b);
      else run.push(b);
    }
    flush(undefined);
  }
  // accounts, then Regions: never the order the events came in
  return out.sort(
    (a, b) => a.start - b.start || a.account.localeCompare(b.account) || a.region.localeCompare(b.region),
  );
}

/** The index of the first of `times` (non-decreasing) at or after `t`; `times.length` when none. */
function firstAtOrAfter(times: number[], t: number): number {
  let lo = 0,
    hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------------------
// Findings
// ---------------------------------------------------------------------------------------------------------

/**
 * The rule ids raised here (listed in the README's Findings section), each with its reason (`description`) and
 * AWS source (`source`).
 */
export const COVERAGE_RULES: Record<
  string,
  { title: string; severity: Severity; description: string; source: string }
> = {
  'kms-events-excluded': {
    title: 'Trail excluded AWS KMS events',
    severity: 'high',
    description:
      "Event selectors made a trail stop recording kms.amazonaws.com management events (basic selectors: excludeManagementEventSources; advanced selectors: eventSource conditions) while it kept recording other services. KMS calls in such a span are not in that trail's logs and AWS cannot recover them. A classic way to hide key use or a key policy change.",
    source:
      '"Logging management events" (ExcludeManagementEventSources; advanced event selectors) (AWS CloudTrail User Guide); PutEventSelectors (AWS CloudTrail API Reference); "Logging AWS KMS API calls with AWS CloudTrail" (AWS KMS Developer Guide)',
  },
  'management-events-disabled': {
    title: 'Trail recorded no management events',
    severity: 'high',
    description:
      "A trail's event selectors recorded no management events at all (includeManagementEvents false, or no advanced selector for eventCategory Management): no KMS call, and no management event of any other service, was recorded by it in that span, and AWS cannot recover them. This hides at least as much as excluding KMS events alone, so it rates as high. A trail dedicated to data events does this by design: check that another trail recorded management events for the account then.",
    source:
      '"Logging management events" (AWS CloudTrail User Guide); PutEventSelectors, EventSelector IncludeManagementEvents, AdvancedEventSelector (AWS CloudTrail API Reference)',
  },
  'trail-logging-stopped': {
    title: 'Trail logging stopped',
    severity: 'high',
    description:
      'StopLogging suspended a trail (or a configuration output shows it stopped, or a new trail was started only more than an hour after CreateTrail): it recorded nothing, of any service, until StartLogging. AWS cannot recover events from that span.',
    source:
      'StopLogging ("Suspends the recording of AWS API calls and log file delivery"), StartLogging (AWS CloudTrail API Reference)',
  },
  'trail-not-known-logging': {
    title: 'Trail not known to be logging',
    severity: 'low',
    description:
      "CreateTrail, and no StartLogging for the trail in the loaded data: a trail created with the API or CLI records nothing until StartLogging, but the console starts it at once and the StartLogging event may simply not be loaded. Load the trail's later events or a get-trail-status output to know.",
    source:
      'CreateTrail, StartLogging (AWS CloudTrail API Reference); "Managing trails with the AWS CLI" (a trail created with create-trail logs only after start-logging) (AWS CloudTrail User Guide)',
  },
  'organization-left': {
    title: 'Account left the organization (organization trail no longer records it)',
    severity: 'high',
    description:
      "LeaveOrganization (called by the member account) or RemoveAccountFromOrganization (by the management account): from then on the organization trail does not record the account's events; only trails of the account itself do. A known way to escape an organization's logging.",
    source:
      '"Creating a trail for an organization" (AWS CloudTrail User Guide); LeaveOrganization, RemoveAccountFromOrganization (AWS Organizations API Reference)',
  },
  'trail-deleted': {
    title: 'Trail deleted',
    severity: 'high',
    description:
      'DeleteTrail: the trail recorded nothing from then on. Its delivered log files stay in the bucket unless deleted too.',
    source: 'DeleteTrail (AWS CloudTrail API Reference)',
  },
  'trail-updated': {
    title: 'Trail delivery settings changed',
    severity: 'medium',
    description:
      'UpdateTrail changed where or how a trail delivers its logs (S3 bucket or prefix, KMS key for log encryption, multi-Region, global service events, log file validation, organization trail): logs after the change go elsewhere or cover less, and log file validation off means no digest files.',
    source:
      'UpdateTrail (AWS CloudTrail API Reference); "Validating CloudTrail log file integrity" (AWS CloudTrail User Guide)',
  },
  'kms-silence-gap': {
    title: 'KMS silence while other services kept logging',
    severity: 'medium',
    description:
      'An account and Region that normally log KMS calls logged none for a span while other event sources kept logging.',
    source: '"Logging AWS KMS API calls with AWS CloudTrail" (every KMS call is an event) (AWS KMS Developer Guide)',
  },
};

/** Input of `coverageFindings`. */
export interface CoverageInput {
  timelines: TrailTimeline[];
  windows: ExclusionWindow[];
  /** `correlate(...).records`, for the corroboration. */
  crossAccount?: CrossAccountCall[];
  /** `kmsSilence(...)`. */
  silences?: KmsSilenceSpan[];
  /**
   * A CreateTrail followed by StartLogging only after this long raises `trail-logging-stopped` (default 1 hour);
   * one with no StartLogging in the data raises `trail-not-known-logging`.
   */
  createGraceMs?: number;
}

function windowLine(w: ExclusionWindow): string {
  const by = (a: ChangeActor) =>
    a.row >= 0 ? `${a.eventName} by ${a.principal || '?'} from ${a.sourceIPAddress || '?'}` : `shown by ${a.eventName}`;
  const from = `from ${iso(w.start)}${w.startApproximate ? ` or earlier${w.notBefore !== undefined ? ` (after ${iso(w.notBefore)})` : ''}` : ''} (${by(w.startedBy)})`;
  const to =
    w.end === undefined
      ? 'open-ended (not restored in the loaded logs)'
      : `until ${iso(w.end)}${w.endedBy ? ` (${by(w.endedBy)})` : ''}`;
  return `${w.trail} (${w.account}${w.homeRegion ? ', ' + w.homeRegion : ''}${w.selectorKind ? `, ${w.selectorKind} event selectors` : ''}) ${from} ${to}: ${w.detail}`;
}

/**
 * The windows a finding should name for a span: those that are not `management-disabled` (a trail dedicated
 * to data events records no management events by design), unless only such windows are there.
 */
function primaryWindows(ws: ExclusionWindow[]): ExclusionWindow[] {
  const main = ws.filter((w) => w.kind !== 'management-disabled');
  return main.length ? main : ws;
}

/**
 * The coverage findings: `kms-events-excluded` (with the selector kind, and the corroborating cross-account
 * calls), `management-events-disabled`, `trail-logging-stopped`, `trail-deleted`, `trail-updated`,
 * `kms-silence-gap`. One finding per rule; `query` is `finding:<rule>`; `rows` are the trail events (and for
 * `kms-events-excluded` the rows of the corroborating calls, for `kms-silence-gap` the KMS events bounding
 * each silence).
 */
export function coverageFindings(input: CoverageInput): Finding[] {
  const { timelines, windows } = input;
  const grace = input.createGraceMs ?? 3_600_000;
  const out: Finding[] = [];
  const unrecorded = input.crossAccount ? unrecordedCrossAccountCalls(input.crossAccount, timelines, windows) : [];
  const make = (
    rule: string,
    text: string,
    rows: number[],
    times: number[],
    accounts: string[],
    principals: string[],
    keys: string[] = [],
  ): Finding => {
    const meta = COVERAGE_RULES[rule];
    const r = [...new Set(rows.filter((x) => x >= 0))];
    const ts = times.filter(Number.isFinite);
    return {
      rule,
      title: meta.title,
      severity: meta.severity,
      description: `${meta.description} ${text}`.trim(),
      count: r.length,
      first: ts.length ? Math.min(...ts) : NaN,
      last: ts.length ? Math.max(...ts) : NaN,
      accounts: [...new Set(accounts.filter(Boolean))].sort(),
      keys: [...new Set(keys.filter(Boolean))].sort(),
      principals: [...new Set(principals.filter(Boolean))].sort(),
      rows: r,
      query: `finding:${rule}`,
    };
  };
  const timeOfRow = new Map<number, number>();
  const sortRows = (rows: number[]) => rows.sort((a, b) => (timeOfRow.get(a) ?? 0) - (timeOfRow.get(b) ?? 0) || a - b);
  for (const tl of timelines) for (const c of tl.changes) if (c.row >= 0) timeOfRow.set(c.row, c.time);
  for (const u of unrecorded) for (const r of u.call.rows) timeOfRow.set(r, u.call.time);

  /** Corroboration text and rows: the unrecorded cross-account calls whose primary windows are among `ws`. */
  const corroboration = (ws: ExclusionWindow[]) => {
    const set = new Set(ws);
    const us = unrecorded.filter((u) => primaryWindows(u.windows).some((w) => set.has(w)));
    if (!us.length) return { text: '', us };
    const byWin = new Map<ExclusionWindow, UnrecordedCall[]>();
    for (const u of us)
      for (const w of primaryWindows(u.windows)) if (set.has(w)) byWin.set(w, [...(byWin.get(w) ?? []), u]);
    const text = ` Corroboration: ${us.length} cross-account call(s) in these spans are in the loaded logs only on the other account's side: ${[
      ...byWin,
    ]
      .map(
        ([w, xs]) =>
          `${xs.length} in ${w.trail} (${w.account}) from ${iso(w.start)} (${xs.filter((u) => u.missing === 'owner-copy').length} whose key owner's copy is missing, ${xs.filter((u) => u.missing === 'caller-copy').length} whose caller's copy is missing)`,
      )
      .join('; ')}.`;
    return { text, us };
  };
  // A window finding's events are the events that show the problem: the change that opened each window (and
  // the corroborating calls), never the change that ended it (StartLogging, the re-enabling PutEventSelectors).
  const windowFinding = (rule: string, ws: ExclusionWindow[]) => {
    if (!ws.length) return;
    const { text: corroText, us } = corroboration(ws);
    const rows = [...ws.map((w) => w.startedBy.row), ...us.flatMap((u) => u.call.rows)];
    const text = `${ws.length} span(s): ${ws.map(windowLine).join(' ')} AWS cannot recover events from these spans.${corroText}`;
    const f = make(
      rule,
      text,
      rows,
      [...ws.map((w) => w.start), ...us.map((u) => u.call.time)],
      [...ws.map((w) => w.account), ...us.map((u) => u.account)],
      ws.flatMap((w) => [w.startedBy.principal, w.endedBy?.principal ?? '']),
      us.map((u) => u.call.resourceArn),
    );
    f.rows = sortRows(f.rows);
    out.push(f);
  };

  windowFinding(
    'kms-events-excluded',
    windows.filter((w) => w.kind === 'kms-excluded'),
  );
  windowFinding(
    'management-events-disabled',
    windows.filter((w) => w.kind === 'management-disabled'),
  );
  const stopped = windows.filter((w) => w.kind === 'logging-stopped' && w.startedBy.eventName !== 'DeleteTrail');
  const lone = (w: ExclusionWindow) => w.startedBy.eventName === 'CreateTrail' && w.end === undefined;
  windowFinding(
    'trail-logging-stopped',
    stopped.filter(
      (w) => !lone(w) && !(w.startedBy.eventName === 'CreateTrail' && w.end !== undefined && w.end - w.start <= grace),
    ),
  );
  windowFinding('trail-not-known-logging', stopped.filter(lone));
  windowFinding(
    'organization-left',
    windows.filter((w) => w.kind === 'organization-left'),
  );

  // trail-deleted, trail-updated: from the timelines
  const deleted: { tl: TrailTimeline; c: TrailChange }[] = [];
  const updated: { tl: TrailTimeline; c: TrailChange }[] = [];
  for (const tl of timelines) {
    for (const c of tl.changes) {
      if (c.errorCode) continue;
      if (c.changed.includes('deleted')) deleted.push({ tl, c });
      if (
        c.eventName === 'UpdateTrail' || c.source === 'snapshot'
          ? c.changed.some((f) => (WATCHED_TRAIL_FIELDS as readonly string[]).includes(f))
          : false
      )
        updated.push({ tl, c });
    }
  }
  const changeList = (xs: { tl: TrailTimeline; c: TrailChange }[], what: (c: TrailChange) => string) =>
    xs
      .sort((a, b) => a.c.time - b.c.time)
      .map(
        ({ tl, c }) =>
          `${tl.trail} (${tl.account}${tl.homeRegion ? ', ' + tl.homeRegion : ''}) at ${iso(c.time)}${c.approximate ? ' or earlier' : ''}: ${what(c)}${c.row >= 0 ? ` by ${c.principal || '?'} from ${c.sourceIPAddress || '?'}` : ` (shown by ${c.eventName})`}.`,
      )
      .join(' ');
  const push = (rule: string, xs: { tl: TrailTimeline; c: TrailChange }[], what: (c: TrailChange) => string) => {
    if (!xs.length) return;
    const f = make(
      rule,
      changeList(xs, what),
      xs.map((x) => x.c.row),
      xs.map((x) => x.c.time),
      xs.map((x) => x.tl.account),
      xs.map((x) => x.c.principal),
    );
    f.rows = sortRows(f.rows);
    out.push(f);
  };
  push('trail-deleted', deleted, () => 'DeleteTrail');
  push('trail-updated', updated, (c) =>
    c.diff
      .filter((d) => c.changed.includes(d.field))
      .map(
        (d) =>
          `${d.field} ${d.from === undefined ? '(previous value not in the logs)' : String(d.from)} → ${String(d.to)}`,
      )
      .join(', '),
  );

  // kms-silence-gap
  const sil = input.silences ?? [];
  if (sil.length) {
    const lines = sil.map((s) => {
      const explained = primaryWindows(
        windows.filter(
          (w) => w.account === s.account && w.start < (s.end ?? Infinity) && (w.end === undefined || w.end > s.start),
        ),
      );
      return `${s.account} ${s.region}: no KMS event from ${iso(s.start)} to ${s.end === undefined ? 'the end of the logs' : iso(s.end)} (${s.silentBuckets} hour(s) without KMS events, ${s.activeBuckets} of them with ${s.otherEvents} event(s) of other sources: ${s.otherSources.slice(0, 4).join(', ')}); KMS events normally appear in ${Math.round(s.kmsShare * 100)}% of the hours in which this account and Region log anything, so such a run has a chance of ${s.probability.toExponential(1)}${explained.length ? `; overlaps exclusion window(s): ${explained.map((w) => `${w.trail} ${w.kind} from ${iso(w.start)}`).join(', ')}` : '; no trail change in the logs explains it'}.`;
    });
    const text = `Threshold: per account and Region, hours with any event are active; a run of hours without KMS events is reported when at least 3 of its hours are active and (1 − p)^active < 0.001, p being the share of active hours with KMS events. ${lines.join(' ')}`;
    out.push(
      make(
        'kms-silence-gap',
        text,
        sil.flatMap((s) => [s.startRow ?? -1, s.endRow ?? -1]),
        sil.flatMap((s) => [s.start, s.end ?? s.start]),
        sil.map((s) => s.account),
        [],
      ),
    );
  }
  return out.sort(compareFindings);
}
