/**
 * A deliberately simple reference evaluator of KeyTrail's query language, for differential tests of the query
 * engine. It works on parsed event objects directly: it walks each event, collects every leaf by path and
 * computes the derived columns with the functions of src/lib/cloudtrail/event.ts. No indexes, no dictionaries,
 * no memoisation beyond one per-event preparation.
 *
 * Semantics (what the engine must implement):
 * - `field:value` exact, case-insensitive (both sides case-folded: lower case, final sigma ς as σ); `*` wildcards
 *   anchored, case-insensitive (the same folding); `/regex/flags` unanchored, as JavaScript tests it; `field:*` present
 *   (a value that is not '' and not `null`); comparisons numeric, or as UTC times when the operand is a time.
 * - A path field matches every leaf at that path or below it (array indices dropped; field names case-insensitive). Leaves are strings as JSON
 *   prints scalars; as stored, a string is indexed by its first MAX_VALUE_CHARS characters with U+0000 → U+FFFD.
 * - Special fields (the table below) read derived values; '' means "no value" (absent), list columns hold one
 *   value per resource. Comparisons read values as decimal numbers or as ISO 8601 times.
 * - Bare words: case-insensitive substring of a generic leaf value, a generic leaf path, or a string column
 *   value (every column but the `caller` classification label). Bare wildcards (unanchored) and regexes: any of
 *   those values.
 */
import {
  eventTimeMs,
  fieldString,
  keyOf,
  principalOf,
  readOnlyOf,
  usernameOf,
  type CloudTrailEvent,
} from '../../src/lib/cloudtrail/event';
import { callerLabel, classifyCaller } from '../../src/lib/cloudtrail/identity';
import type { QueryNode, Value } from '../../src/lib/query/parser';
import { keyRefMatches } from '../../src/lib/query/resolve';
import { COLUMN_PATHS, MAX_VALUE_CHARS } from '../../src/lib/codec/fields';

/** A leaf of an event: dotted path (array indices dropped) and its value as stored. */
interface Leaf {
  path: string;
  value: string;
  /** False for the paths kept only as columns (not in the generic field store). */
  generic: boolean;
  /** `value` and `path` case-folded (cached). */
  foldedValue: string;
  foldedPath: string;
}

/** The reference view of one event. */
export interface RefEvent {
  time: number;
  leaves: Leaf[];
  /** Derived values by column name; '' dropped, list columns one entry per resource. */
  cols: Record<string, string[]>;
  /** The free-text column values (every column but `caller`), and the same case-folded. */
  textCols: string[];
  foldedTextCols: string[];
  /** The eventID when it is a non-empty string. */
  eventID: string | null;
}

const str = fieldString;

function resources(e: CloudTrailEvent): Record<string, unknown>[] {
  return Array.isArray(e.resources)
    ? (e.resources as unknown[]).filter((r): r is Record<string, unknown> => !!r && typeof r === 'object')
    : [];
}

/** Derived column values of an event (single values, '' when absent). */
export function derivedColumns(e: CloudTrailEvent): Record<string, string | string[]> {
  const u = e.userIdentity && typeof e.userIdentity === 'object' ? e.userIdentity : undefined;
  return {
    eventSource: e.eventSource,
    eventName: e.eventName,
    awsRegion: str(e.awsRegion),
    recipientAccountId: str(e.recipientAccountId),
    sourceIPAddress: str(e.sourceIPAddress),
    userAgent: str(e.userAgent),
    errorCode: str(e.errorCode),
    eventType: str(e.eventType),
    readOnly: readOnlyOf(e),
    principal: principalOf(e),
    identityType: str(u?.type),
    accountId: str(u?.accountId),
    accessKeyId: str(u?.accessKeyId),
    username: usernameOf(e),
    key: keyOf(e),
    resourceNames: resources(e).flatMap((r) =>
      Object.keys(r)
        .filter((k) => k.toLowerCase() === 'arn' && typeof r[k] === 'string')
        .map((k) => r[k] as string),
    ),
    resourceTypes: resources(e).flatMap((r) =>
      Object.keys(r)
        .filter((k) => k.toLowerCase() === 'type' && typeof r[k] === 'string')
        .map((k) => r[k] as string),
    ),
    caller: callerLabel(classifyCaller(e)),
  };
}

function leafValue(v: string): string {
  if (v.length > MAX_VALUE_CHARS) v = v.slice(0, MAX_VALUE_CHARS);
  return v.replaceAll('\u0000', '\uFFFD');
}

function collectLeaves(v: unknown, path: string, out: Leaf[]): void {
  const leaf = (value: string): Leaf => ({
    path,
    value,
    generic: true,
    foldedValue: fold(value),
    foldedPath: fold(path),
  });
  if (v === null) out.push(leaf('null'));
  else if (typeof v === 'string') out.push(leaf(leafValue(v)));
  else if (typeof v === 'number' || typeof v === 'boolean') out.push(leaf(String(v)));
  else if (Array.isArray(v)) for (const x of v) collectLeaves(x, path, out);
  else if (typeof v === 'object')
    for (const [k, x] of Object.entries(v)) collectLeaves(x, path ? `${path}.${k}` : k, out);
}

const cache = new WeakMap<object, RefEvent>();

/** Prepares (and caches) the reference view of an event. */
export function refEvent(event: CloudTrailEvent): RefEvent {
  let r = cache.get(event);
  if (r) return r;
  const leaves: Leaf[] = [];
  collectLeaves(event, '', leaves);
  for (const l of leaves) l.generic = !COLUMN_PATHS.has(l.path);
  const cols: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(derivedColumns(event)))
    cols[k] = (Array.isArray(v) ? v : [v]).filter((s) => s !== '');
  const textCols = Object.entries(cols).flatMap(([c, vs]) => (c === 'caller' ? [] : vs));
  r = {
    time: eventTimeMs(event),
    leaves,
    cols,
    textCols,
    foldedTextCols: textCols.map(fold),
    eventID: typeof event.eventID === 'string' && event.eventID ? event.eventID : null,
  };
  cache.set(event, r);
  return r;
}

/** The special field names: the columns each reads (any matching), and `key:` matching. */
const SPECIAL: Record<string, { cols?: string[]; key?: boolean; time?: boolean; eventID?: boolean }> = {
  eventname: { cols: ['eventName'] },
  eventsource: { cols: ['eventSource'] },
  awsregion: { cols: ['awsRegion'] },
  region: { cols: ['awsRegion'] },
  recipientaccountid: { cols: ['recipientAccountId'] },
  sourceipaddress: { cols: ['sourceIPAddress'] },
  ip: { cols: ['sourceIPAddress'] },
  useragent: { cols: ['userAgent'] },
  errorcode: { cols: ['errorCode'] },
  eventtype: { cols: ['eventType'] },
  readonly: { cols: ['readOnly'] },
  'useridentity.type': { cols: ['identityType'] },
  'useridentity.accountid': { cols: ['accountId'] },
  'useridentity.accesskeyid': { cols: ['accessKeyId'] },
  accesskeyid: { cols: ['accessKeyId'] },
  username: { cols: ['username'] },
  resourcename: { cols: ['resourceNames'] },
  'resources.arn': { cols: ['resourceNames'] },
  resourcetype: { cols: ['resourceTypes'] },
  'resources.type': { cols: ['resourceTypes'] },
  account: { cols: ['accountId', 'recipientAccountId'] },
  principal: { cols: ['principal'] },
  caller: { cols: ['caller'] },
  key: { cols: ['key', 'resourceNames'], key: true },
  eventid: { eventID: true },
  eventtime: { time: true },
  time: { time: true },
};

/** Anchored glob match (`*` = any run of characters), on strings already lower-cased. */
function globMatch(pattern: string, s: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === s;
  const first = parts[0];
  const last = parts[parts.length - 1];
  if (!s.startsWith(first)) return false;
  let pos = first.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const at = s.indexOf(parts[i], pos);
    if (at < 0) return false;
    pos = at + parts[i].length;
  }
  return s.length - last.length >= pos && s.endsWith(last);
}

/** Case folding: lower case, with the final sigma ς as σ (so that folding does not depend on context). */
function fold(s: string): string {
  return s.toLowerCase().replaceAll('ς', 'σ');
}

function valueMatches(v: Value, s: string, key: boolean): boolean {
  switch (v.kind) {
    case 'any':
      return s !== '' && s !== 'null';
    case 'exact':
      return key ? keyRefMatches(fold(s), fold(v.text)) : fold(s) === fold(v.text);
    case 'wildcard':
      return globMatch(fold(v.pattern), fold(s));
    case 'regex':
      return regex(v.source, v.flags).test(s);
  }
}

const regexes = new Map<string, RegExp>();
function regex(source: string, flags: string): RegExp {
  const k = flags + '/' + source;
  let re = regexes.get(k);
  if (!re) regexes.set(k, (re = new RegExp(source, flags)));
  return re;
}

/** Field names are case-insensitive (as Athena's JSON SerDe reads CloudTrail records). */
function underPath(leafPath: string, path: string): boolean {
  const l = leafPath.toLowerCase();
  const p = path.toLowerCase();
  return l === p || l.startsWith(p + '.');
}

const TIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** A strict ISO 8601 UTC time (date only = midnight UTC; no zone = UTC) as epoch ms, else NaN. */
function isoTime(s: string): number {
  const m = TIME_RE.exec(s);
  if (!m) return NaN;
  let t = Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), +(m[7] ?? '0').padEnd(3, '0'));
  const z = m[8];
  if (z && z.toUpperCase() !== 'Z') {
    const sign = z[0] === '-' ? -1 : 1;
    const d = z.slice(1).replace(':', '');
    t -= sign * (+d.slice(0, 2) * 60 + +d.slice(2)) * 60_000;
  }
  return t;
}

/** A value that reads as a number: decimal, leading zeros allowed (account IDs), white space around. */
const NUMBER_RE = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;

/** A comparison that cannot be evaluated (the operand is neither a number nor a time). */
class ReferenceEvalError extends Error {}

/** Evaluates a query AST on one parsed event. `now` is the clock for `last:`. */
export function referenceMatch(node: QueryNode, event: CloudTrailEvent, now: number): boolean {
  const r = refEvent(event);
  switch (node.type) {
    case 'all':
      return true;
    case 'and':
      return node.children.every((c) => referenceMatch(c, event, now));
    case 'or':
      return node.children.some((c) => referenceMatch(c, event, now));
    case 'not':
      return !referenceMatch(node.child, event, now);
    case 'last':
      return r.time >= now - node.ms;
    case 'compare': {
      const sp = SPECIAL[node.field.toLowerCase()];
      const numeric = /^-?\d+(\.\d+)?$/.test(node.text);
      if (sp?.time) {
        const x = isoTime(node.text);
        if (Number.isNaN(x)) throw new ReferenceEvalError(`not a time: ${node.text}`);
        return cmp(node.op, r.time, x);
      }
      const x = numeric ? Number(node.text) : isoTime(node.text);
      if (Number.isNaN(x)) throw new ReferenceEvalError(`not a number or time: ${node.text}`);
      const test = (s: string) => {
        const a = numeric ? (NUMBER_RE.test(s) ? Number(s) : NaN) : isoTime(s);
        return Number.isFinite(a) && cmp(node.op, a, x);
      };
      return values(r, node.field).some(test);
    }
    case 'match': {
      const v = node.value;
      if (node.field === null) return freeText(r, v);
      const sp = SPECIAL[node.field.toLowerCase()];
      if (sp?.eventID && v.kind === 'exact') return r.eventID !== null && r.eventID === v.text;
      return values(r, node.field).some((s) => valueMatches(v, s, !!sp?.key));
    }
  }
}

function cmp(op: '>' | '>=' | '<' | '<=', a: number, x: number): boolean {
  return op === '>' ? a > x : op === '>=' ? a >= x : op === '<' ? a < x : a <= x;
}

/** Every value a field has in an event: its columns' values, or the leaves at or below its path. */
function values(r: RefEvent, field: string): string[] {
  const sp = SPECIAL[field.toLowerCase()];
  if (sp?.cols) return sp.cols.flatMap((c) => r.cols[c]);
  const path = sp?.time ? 'eventTime' : sp?.eventID ? 'eventID' : field;
  return r.leaves.filter((l) => underPath(l.path, path)).map((l) => l.value);
}

function freeText(r: RefEvent, v: Value): boolean {
  const generic = r.leaves.filter((l) => l.generic);
  switch (v.kind) {
    case 'any':
      return true;
    case 'exact': {
      const needle = fold(v.text);
      return (
        generic.some((l) => l.foldedValue.includes(needle) || l.foldedPath.includes(needle)) ||
        r.foldedTextCols.some((s) => s.includes(needle))
      );
    }
    case 'wildcard': {
      const p = `*${fold(v.pattern)}*`;
      return generic.some((l) => globMatch(p, l.foldedValue)) || r.foldedTextCols.some((s) => globMatch(p, s));
    }
    case 'regex': {
      const re = regex(v.source, v.flags);
      return generic.some((l) => re.test(l.value)) || r.textCols.some((s) => re.test(s));
    }
  }
}
