import { isAlias, isMap, isScalar, isSeq, parseAllDocuments, type Document, type Node as YamlNode } from 'yaml';
import type { EventTable, FieldValues } from '../codec/table';
import type { QueryNode, Value } from '../query/parser';
import { KNOWN_FIELDS } from '../query/resolve';
import type { Finding, Severity } from './types';

/**
 * What Sigma needs of the query engine: a query tree evaluated to a row bitmap (one byte per row of the
 * {@link EventTable}, non-zero when the row matches). `query/engine.ts`'s `Engine` satisfies it.
 */
export interface RowQuery {
  /**
   * `info.warnings`, when given, collects non-fatal notes (such as a field no stored event has: a rule written for
   * another log source's field names, `src_ip`..., then matches nothing).
   */
  evaluate(node: QueryNode, opts?: object, info?: { warnings: string[]; usedFields: boolean }): Uint8Array;
}

/**
 * Sigma rules for AWS CloudTrail (`logsource: {product: aws, service: cloudtrail}`), translated to KeyTrail's
 * query AST so that the query engine runs them over every stored event (dictionary-level matching, no per-event
 * interpretation).
 *
 * Sources: the Sigma rules specification (SigmaHQ/sigma-specification, `sigma-rules-specification.md`: search
 * identifiers, lists and maps, `null`, keywords, conditions and their precedence `or` < `and` < `not` <
 * `x of` < parentheses, `them` leaving out identifiers that start with `_`) and its modifiers appendix
 * (`sigma-appendix-modifiers.md`); pySigma's string escapes (`\*`, `\?`, `\\`; a backslash before any other
 * character is literal).
 *
 * Matching semantics and how they map onto KeyTrail:
 * - Field names are CloudTrail paths (`eventName`, `userIdentity.type`, `requestParameters.keyId`), matched as
 *   KeyTrail paths: array indices are left out and a path matches the leaves below it. A field no stored event
 *   has (a rule written for another log source's names, such as `src_ip`) matches nothing, and the rule's result
 *   carries the engine's warning saying so.
 * - Plain values match the whole field value, case-insensitively, with `*` (any run) and `?` (one character)
 *   wildcards: no wildcard → an `exact` match; `*` only → a `wildcard` match (anchored); a `?` wildcard, or a
 *   literal `*` (escaped `\*`), → an anchored `regex` with the `i` and `s` flags, every literal part escaped.
 * - `contains` / `startswith` / `endswith` add `*` around / after / before the value; `all` ANDs a value
 *   list (ORed by default); `cased` makes the match case-sensitive (an anchored regex without `i`); `re` is a
 *   JavaScript regex (unanchored, case-sensitive unless `|re|i`; `|re|m`, `|re|s` add flags; a leading PCRE
 *   `(?i)`/`(?s)`/`(?m)` group becomes a flag); `exists: true|false` is `field:*` / `-field:*`; `neq` negates
 *   the match; `lt`/`lte`/`gt`/`gte` with a number compare numerically.
 * - `null` means the field is absent (KeyTrail also treats JSON `null` and, for `field:*`, the empty string as
 *   absent). A value made only of `*` is "present" (`field:*`).
 * - A list of maps ORs the maps; a map ANDs its fields; a list of plain values under a search identifier (or a
 *   single value) is a keyword search: a case-insensitive substring of any value of the event.
 *
 * - `expand` (modifiers appendix, "Specific Modifiers"; pySigma's `SigmaString.insert_placeholders` and
 *   `ValueListPlaceholderTransformation`): each `%name%` in the value (`\%` is a literal `%`) is replaced by each
 *   value the user gave for that placeholder (every combination when there are several), the variants ORed;
 *   the given values are Sigma strings (`*` and `?` are wildcards). A placeholder without values makes the rule
 *   not run, with the reason; {@link sigmaPlaceholders} lists the placeholders a rule needs.
 * - Sigma 1 aggregations (rules specification 1.0, "Condition": `search | agg-function(agg-field) [by
 *   group-field] comparison-op value`, and "TimeFrame": `15s`, `30m`, `12h`, `7d`, `3M`): `count()` counts the
 *   matching events, `count(field)` the distinct values of the field, `by field` per value of the field (events
 *   without it are left out, as Splunk's and Elasticsearch's group-by do). With the detection's `timeframe`, a
 *   group fires for every set of its matching events at most `timeframe` apart (first to last, inclusive) whose
 *   count passes `>` or `>=`, and the finding holds every event of such a set; without `timeframe`, the count is
 *   over all stored events of the group (`>`, `>=`, `<`, `<=`, `=`). See {@link SigmaAggregation}. A
 *   `timeframe` without an aggregation changes nothing (single-event rules match single events).
 *
 * Not supported, reported with the reason by {@link compileSigma} (never skipped silently): encoding and
 * transformation modifiers (`base64`, `base64offset`, `utf16`, `utf16le`, `utf16be`, `wide`, `windash`),
 * `cidr`, `expand` on a regex or a keyword, `fieldref`, time-part modifiers (`minute`, `hour`, `day`, `week`,
 * `month`, `year`), unknown modifiers, aggregations other than `count` (`min`, `max`, `avg`, `sum`), `<`, `<=`
 * and `=` counts within a `timeframe` (which time windows would count is not defined), an aggregation in a
 * condition list, `near`, `N of` with N > 1, correlation and filter (meta) rules, rule collections (`action:
 * global`), log sources other than aws/cloudtrail, field names that are KeyTrail query shorthands rather than
 * CloudTrail fields (`key`, `principal`, `account`, `username`...), and empty-string values on fields KeyTrail
 * keeps as columns (where '' means absent).
 */

/** A Sigma value after YAML parsing: numbers keep their source text (`1.10` stays `1.10`). */
export type SigmaValue = string | boolean | null | SigmaValue[] | { [key: string]: SigmaValue };

/** One Sigma rule as read from YAML (validity of its detection is decided by {@link compileSigma}). */
export interface SigmaRule {
  /** `id` (a UUID in SigmaHQ rules). */
  id?: string;
  title: string;
  description?: string;
  /** `informational`, `low`, `medium`, `high`, `critical`. */
  level?: string;
  status?: string;
  author?: string;
  references: string[];
  tags: string[];
  falsepositives: string[];
  logsource: { product?: string; service?: string; category?: string; definition?: string };
  /** Search identifiers, `condition` (string or list) and possibly `timeframe`. */
  detection: Record<string, SigmaValue>;
  /** `rule`, or a Sigma meta document KeyTrail does not run. */
  kind: 'rule' | 'correlation' | 'filter';
  /** Where it came from: `sourceName` and the document's position (`rules.yml#2`). */
  source: string;
}

/** The result of {@link parseSigma}. */
export interface SigmaParseResult {
  rules: SigmaRule[];
  errors: { rule?: string; message: string }[];
}

/**
 * A Sigma 1 aggregation (`selection | count(field) by group > 5` with `timeframe: 10m`), run over the events the
 * search part of the condition selects. See the module comment for the semantics.
 */
export interface SigmaAggregation {
  /** Only `count` is supported. */
  fn: 'count';
  /** `count(field)`: count the distinct non-empty values of this CloudTrail path; null: count events. */
  field: string | null;
  /** `by field`: one count per value of this CloudTrail path (events without it left out); null: one group. */
  by: string | null;
  op: '>' | '>=' | '<' | '<=' | '=';
  /** The threshold. */
  value: number;
  /** The detection's `timeframe`, ms (months are 30 days, years 365 days); null: all stored events at once. */
  timeframeMs: number | null;
  /** The aggregation as written (`count() by userIdentity.arn > 5`), plus ` within <timeframe>` when given. */
  text: string;
}

/**
 * The result of {@link compileSigma}: the query of the condition's search part, and its aggregation when the
 * condition has one (the matching events are then those {@link sigmaAggregate} keeps).
 */
export type SigmaCompileResult =
  { ok: true; query: QueryNode; aggregation?: SigmaAggregation } | { ok: false; reason: string };

/** Values given by the user for `expand` placeholders: placeholder name (without `%`) → values. */
export type SigmaPlaceholderValues = Record<string, string[]>;

class Unsupported extends Error {}

const asString = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : v === null || v === undefined ? undefined : String(v);
const asList = (v: unknown): string[] =>
  (Array.isArray(v) ? v : v === null || v === undefined ? [] : [v])
    .filter((x) => x !== null && x !== undefined)
    .map((x) => String(x).trim());

/** YAML node → SigmaValue: plain numbers keep their source text, booleans stay booleans, aliases resolve. */
function toValue(node: unknown, doc: Document, depth = 0): SigmaValue {
  if (depth > 64) throw new Unsupported('nested too deep');
  if (node === null || node === undefined) return null;
  if (isAlias(node)) return toValue(node.resolve(doc), doc, depth + 1);
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || v === undefined) return null;
    if (typeof v === 'boolean' || typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'bigint') return node.source ?? String(v);
    return String(v);
  }
  if (isSeq(node)) return node.items.map((x) => toValue(x, doc, depth + 1));
  if (isMap(node)) {
    const out: Record<string, SigmaValue> = {};
    for (const pair of node.items) {
      const k = toValue(pair.key, doc, depth + 1);
      out[k === null ? '' : String(k)] = toValue(pair.value, doc, depth + 1);
    }
    return out;
  }
  return null;
}

/**
 * Reads Sigma rules from YAML text (a file may hold several documents separated by `---`). YAML errors, and
 * documents that are not rules (no title or detection, rule collections), are returned in `errors`; rules whose
 * features KeyTrail cannot run are returned and refused by {@link compileSigma} with the reason.
 */
export function parseSigma(yamlText: string, sourceName = 'rules'): SigmaParseResult {
  const rules: SigmaRule[] = [];
  const errors: SigmaParseResult['errors'] = [];
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    docs = parseAllDocuments(yamlText, { prettyErrors: true, uniqueKeys: true });
  } catch (err) {
    return { rules, errors: [{ message: `${sourceName}: not YAML: ${(err as Error).message}` }] };
  }
  let n = 0;
  for (const doc of docs) {
    n++;
    const where = `${sourceName}#${n}`;
    if (doc.errors.length) {
      for (const e of doc.errors) errors.push({ message: `${where}: ${e.message}` });
      continue;
    }
    if (doc.contents === null || doc.contents === undefined) continue; // an empty document (a trailing ---)
    let v: SigmaValue;
    try {
      v = toValue(doc.contents as YamlNode, doc);
    } catch (err) {
      errors.push({ message: `${where}: ${(err as Error).message}` });
      continue;
    }
    if (v === null) continue; // an empty document
    if (typeof v !== 'object' || Array.isArray(v)) {
      errors.push({ message: `${where}: not a Sigma rule (a YAML mapping with title, logsource and detection)` });
      continue;
    }
    const name = asString(v.title) ?? asString(v.name) ?? asString(v.id);
    if (v.action !== undefined) {
      errors.push({
        rule: name,
        message: `${where}: Sigma rule collections (action: ${asString(v.action)}) are not supported: write each rule as a complete document`,
      });
      continue;
    }
    const kind: SigmaRule['kind'] =
      v.correlation !== undefined
        ? 'correlation'
        : v.filter !== undefined && v.detection === undefined
          ? 'filter'
          : 'rule';
    if (!asString(v.title)) {
      errors.push({ rule: name, message: `${where}: the rule has no title` });
      continue;
    }
    if (kind === 'rule' && (!v.detection || typeof v.detection !== 'object' || Array.isArray(v.detection))) {
      errors.push({ rule: name, message: `${where}: the rule has no detection section` });
      continue;
    }
    const ls = v.logsource && typeof v.logsource === 'object' && !Array.isArray(v.logsource) ? v.logsource : {};
    rules.push({
      id: asString(v.id),
      title: asString(v.title)!,
      description: asString(v.description),
      level: asString(v.level)?.toLowerCase(),
      status: asString(v.status),
      author: asString(v.author),
      references: asList(v.references),
      tags: asList(v.tags),
      falsepositives: asList(v.falsepositives),
      logsource: {
        product: asString(ls.product),
        service: asString(ls.service),
        category: asString(ls.category),
        definition: asString(ls.definition),
      },
      detection: kind === 'rule' ? (v.detection as Record<string, SigmaValue>) : {},
      kind,
      source: where,
    });
  }
  return { rules, errors };
}

// ---------------------------------------------------------------------------------------------------------------
// Values

/** A part of a Sigma string: literal text, or a `*` / `?` wildcard. */
type Part = { lit: string } | { wild: '*' | '?' };

/** Splits a Sigma string into literals and wildcards (pySigma escapes: `\*`, `\?`, `\\`; other `\x` literal). */
function sigmaParts(s: string): Part[] {
  const out: Part[] = [];
  let lit = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && i + 1 < s.length && (s[i + 1] === '*' || s[i + 1] === '?' || s[i + 1] === '\\')) {
      lit += s[++i];
    } else if (c === '*' || c === '?') {
      if (lit) out.push({ lit });
      lit = '';
      out.push({ wild: c });
    } else lit += c;
  }
  if (lit) out.push({ lit });
  return out;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function partsRegex(parts: Part[], anchored: boolean): string {
  const body = parts.map((p) => ('lit' in p ? escapeRe(p.lit) : p.wild === '*' ? '.*' : '.')).join('');
  return anchored ? `^${body}$` : body;
}

const STRING_MODIFIERS = new Set(['contains', 'startswith', 'endswith']);
const SUPPORTED = new Set([
  'contains',
  'startswith',
  'endswith',
  'all',
  're',
  'i',
  'm',
  's',
  'cased',
  'exists',
  'neq',
  'lt',
  'lte',
  'gt',
  'gte',
  'expand',
]);
const UNSUPPORTED_WHY: Record<string, string> = {
  base64: 'matches base64-encoded values, which CloudTrail fields do not hold',
  base64offset: 'matches base64-encoded values, which CloudTrail fields do not hold',
  utf16: 'matches UTF-16 encoded values, which CloudTrail fields do not hold',
  utf16le: 'matches UTF-16 encoded values, which CloudTrail fields do not hold',
  utf16be: 'matches UTF-16 encoded values, which CloudTrail fields do not hold',
  wide: 'matches UTF-16 encoded values, which CloudTrail fields do not hold',
  windash: 'expands Windows command-line dashes, not meaningful for CloudTrail',
  cidr: 'CIDR network matching is not available in KeyTrail queries',
  fieldref: 'comparing two fields of an event is not available in KeyTrail queries',
  minute: 'time-part modifiers are not available in KeyTrail queries',
  hour: 'time-part modifiers are not available in KeyTrail queries',
  day: 'time-part modifiers are not available in KeyTrail queries',
  week: 'time-part modifiers are not available in KeyTrail queries',
  month: 'time-part modifiers are not available in KeyTrail queries',
  year: 'time-part modifiers are not available in KeyTrail queries',
};

/**
 * KeyTrail query field names that are not the CloudTrail field of the same name (shorthands, or names the query
 * parser reads specially): a Sigma rule naming one would be matched against something else.
 */
const SAME_AS_CLOUDTRAIL = new Set([
  'eventname',
  'eventsource',
  'awsregion',
  'recipientaccountid',
  'sourceipaddress',
  'useragent',
  'errorcode',
  'eventtype',
  'readonly',
  'useridentity.type',
  'useridentity.accountid',
  'useridentity.accesskeyid',
  'resources.arn',
  'resources.type',
  'eventid',
  'eventtime',
]);
const SHORTHANDS = new Set([...KNOWN_FIELDS.filter((f) => !SAME_AS_CLOUDTRAIL.has(f)), 'last']);
/** Fields KeyTrail keeps as columns, where an empty string is stored as "absent". */
const COLUMN_FIELDS = new Set([...SAME_AS_CLOUDTRAIL].filter((f) => f !== 'eventid' && f !== 'eventtime'));

const match = (field: string | null, value: Value): QueryNode => ({ type: 'match', field, value, pos: 0, end: 0 });
const and = (children: QueryNode[]): QueryNode => (children.length === 1 ? children[0] : { type: 'and', children });
const or = (children: QueryNode[]): QueryNode => (children.length === 1 ? children[0] : { type: 'or', children });
const not = (child: QueryNode): QueryNode => ({ type: 'not', child });

/** A regex source with its PCRE leading inline flags (`(?i)`, `(?is)`...) moved into JS flags. */
function jsRegex(source: string, flags: Set<string>): { source: string; flags: string } {
  let src = source;
  const m = /^\(\?([imsx]+)\)/.exec(src);
  if (m) {
    if (m[1].includes('x'))
      throw new Unsupported(`regex ${source}: the PCRE extended flag (?x) has no JavaScript equivalent`);
    for (const f of m[1]) flags.add(f);
    src = src.slice(m[0].length);
  }
  const f = [...flags].sort().join('');
  try {
    new RegExp(src, f);
  } catch (err) {
    throw new Unsupported(
      `regex ${source} is not a valid JavaScript regular expression (${(err as Error).message.replace(/^Invalid regular expression: /, '')})`,
    );
  }
  return { source: src, flags: f };
}

/** The KeyTrail value of one Sigma string under string modifiers (`field` null for keywords). */
function stringValue(raw: string, mods: string[], keyword: boolean): Value {
  const reIdx = mods.indexOf('re');
  if (reIdx >= 0) {
    const other = mods.filter((m, i) => i !== reIdx && !['i', 'm', 's', 'all', 'neq'].includes(m));
    if (other.length) throw new Unsupported(`|re cannot be combined with |${other.join('|')}`);
    const r = jsRegex(raw, new Set(mods.filter((m) => m === 'i' || m === 'm' || m === 's')));
    return { kind: 'regex', source: r.source, flags: r.flags };
  }
  let parts = sigmaParts(raw);
  const star: Part = { wild: '*' };
  const startsStar = () => parts.length > 0 && 'wild' in parts[0] && parts[0].wild === '*';
  const endsStar = () =>
    parts.length > 0 && 'wild' in parts[parts.length - 1] && (parts[parts.length - 1] as { wild: string }).wild === '*';
  if (mods.includes('contains') || mods.includes('endswith')) if (!startsStar()) parts = [star, ...parts];
  if (mods.includes('contains') || mods.includes('startswith')) if (!endsStar()) parts = [...parts, star];
  const cased = mods.includes('cased');
  const hasQ = parts.some((p) => 'wild' in p && p.wild === '?');
  const litStar = parts.some((p) => 'lit' in p && p.lit.includes('*'));
  const wilds = parts.some((p) => 'wild' in p);
  if (!cased && parts.length > 0 && parts.every((p) => 'wild' in p && p.wild === '*')) return { kind: 'any' };
  if (cased || hasQ || litStar) {
    // keywords are substrings: unanchored, outer stars dropped
    let ps = parts;
    if (keyword) {
      while (ps.length && 'wild' in ps[0] && ps[0].wild === '*') ps = ps.slice(1);
      while (ps.length && 'wild' in ps[ps.length - 1] && (ps[ps.length - 1] as { wild: string }).wild === '*')
        ps = ps.slice(0, -1);
    }
    return { kind: 'regex', source: partsRegex(ps, !keyword), flags: cased ? 's' : 'is' };
  }
  const text = parts.map((p) => ('lit' in p ? p.lit : '*')).join('');
  return wilds ? { kind: 'wildcard', pattern: text } : { kind: 'exact', text, quoted: true };
}

/** A `%name%` placeholder not preceded by a backslash (pySigma's `insert_placeholders`). */
const PLACEHOLDER = /(?<!\\)%(\w+)%/g;
/** Most variants one value may expand to (every combination of several placeholders' values). */
const MAX_EXPANSION = 10_000;
/** Placeholder values of the rule being compiled (set by {@link compileSigma}). */
let placeholderValues: SigmaPlaceholderValues = {};

/** The variants of a Sigma string with `%name%` placeholders replaced by the user's values (`\%` is a `%`). */
function expandPlaceholders(raw: string, field: string): string[] {
  let out = [''];
  let last = 0;
  const lit = (t: string) => t.replace(/\\%/g, '%');
  for (const m of raw.matchAll(PLACEHOLDER)) {
    const values = placeholderValues[m[1]];
    if (!values?.length)
      throw new Unsupported(
        `placeholder %${m[1]}% (field ${field}|expand) has no values: give them under Placeholders`,
      );
    const before = lit(raw.slice(last, m.index));
    if (out.length * values.length > MAX_EXPANSION)
      throw new Unsupported(`placeholders of field ${field} expand to more than ${MAX_EXPANSION} values`);
    out = out.flatMap((o) => values.map((v) => o + before + v));
    last = m.index! + m[0].length;
  }
  const rest = lit(raw.slice(last));
  return out.map((o) => o + rest);
}

/**
 * The names (without `%`) of the placeholders a rule's `|expand` values use, sorted: the values
 * {@link compileSigma} needs in its `placeholders` argument.
 */
export function sigmaPlaceholders(rule: SigmaRule): string[] {
  const names = new Set<string>();
  const walk = (v: SigmaValue, expand: boolean, depth: number): void => {
    if (depth > 64 || v === null) return;
    if (typeof v === 'string') {
      if (expand) for (const m of v.matchAll(PLACEHOLDER)) names.add(m[1]);
    } else if (Array.isArray(v)) for (const x of v) walk(x, expand, depth + 1);
    else if (typeof v === 'object') {
      for (const [k, x] of Object.entries(v))
        walk(
          x,
          expand ||
            k
              .split('|')
              .slice(1)
              .some((m) => m.trim().toLowerCase() === 'expand'),
          depth + 1,
        );
    }
  };
  for (const [k, v] of Object.entries(rule.detection)) if (k !== 'condition' && k !== 'timeframe') walk(v, false, 0);
  return [...names].sort();
}

/** Compiles one `field|mods: value(s)` entry. */
function fieldEntry(key: string, value: SigmaValue): QueryNode {
  const [field, ...rawMods] = key.split('|');
  const mods = rawMods.map((m) => m.trim().toLowerCase()).filter(Boolean);
  for (const m of mods) {
    if (UNSUPPORTED_WHY[m]) throw new Unsupported(`modifier |${m} is not supported: ${UNSUPPORTED_WHY[m]}`);
    if (!SUPPORTED.has(m)) throw new Unsupported(`unknown modifier |${m}`);
    if ((m === 'i' || m === 'm' || m === 's') && !mods.includes('re'))
      throw new Unsupported(`modifier |${m} only qualifies |re`);
  }
  if (!field) return keywords(value, mods);
  const expand = mods.includes('expand');
  if (expand && mods.includes('re'))
    throw new Unsupported(`|expand on a regular expression is not supported (field ${field})`);
  if (SHORTHANDS.has(field.toLowerCase())) {
    throw new Unsupported(
      `field "${field}" is not a CloudTrail field (in KeyTrail queries it is a shorthand with another meaning)`,
    );
  }
  if (!/^[A-Za-z0-9_@$][A-Za-z0-9_.:@$-]*$/.test(field) || field.includes('..') || field.endsWith('.'))
    throw new Unsupported(`field name "${field}" is not a CloudTrail path`);
  const values = Array.isArray(value) ? value : [value];
  if (!values.length) throw new Unsupported(`field ${field} has an empty value list`);
  if (values.some((v) => v !== null && typeof v === 'object'))
    throw new Unsupported(`field ${field} has a nested map or list as a value`);
  const joinAll = mods.includes('all');
  if (joinAll && values.length < 2) throw new Unsupported(`|all on field ${field} needs a list of values`);

  if (mods.includes('exists')) {
    if (mods.length > 1 || values.length !== 1)
      throw new Unsupported(`|exists takes one boolean and no other modifier (field ${field})`);
    const v = values[0];
    const yes = v === true || v === 'true' ? true : v === false || v === 'false' ? false : null;
    if (yes === null) throw new Unsupported(`|exists takes true or false (field ${field})`);
    const present = match(field, { kind: 'any' });
    return yes ? present : not(present);
  }
  const cmp = mods.find((m) => m === 'lt' || m === 'lte' || m === 'gt' || m === 'gte');
  if (cmp) {
    if (mods.some((m) => m !== cmp && m !== 'all'))
      throw new Unsupported(`|${cmp} cannot be combined with other modifiers (field ${field})`);
    const op = ({ lt: '<', lte: '<=', gt: '>', gte: '>=' } as const)[cmp];
    const nodes = values.map((v): QueryNode => {
      const t = typeof v === 'string' ? v.trim() : '';
      if (!/^-?\d+(\.\d+)?$/.test(t))
        throw new Unsupported(`|${cmp} needs a number (field ${field}, value ${JSON.stringify(v)})`);
      return { type: 'compare', field, op, text: t, pos: 0, end: 0 };
    });
    return joinAll ? and(nodes) : or(nodes);
  }
  const nodes = values.map((v): QueryNode => {
    if (v === null) {
      if (mods.some((m) => m !== 'neq' && m !== 'all'))
        throw new Unsupported(`null (field absent) cannot take modifiers (field ${field})`);
      return not(match(field, { kind: 'any' }));
    }
    const raw = typeof v === 'boolean' ? String(v) : (v as string);
    return or(
      (expand ? expandPlaceholders(raw, field) : [raw]).map((s) => {
        if (
          s === '' &&
          !mods.some((m) => STRING_MODIFIERS.has(m) || m === 're') &&
          COLUMN_FIELDS.has(field.toLowerCase())
        ) {
          throw new Unsupported(
            `an empty value on ${field} cannot be told apart from an absent field in KeyTrail's index`,
          );
        }
        return match(field, stringValue(s, mods, false));
      }),
    );
  });
  const node = joinAll ? and(nodes) : or(nodes);
  return mods.includes('neq') ? not(node) : node;
}

/** Keyword search: values anywhere in the event. */
function keywords(value: SigmaValue, mods: string[]): QueryNode {
  const other = mods.filter((m) => m !== 'all' && m !== 'cased' && !STRING_MODIFIERS.has(m));
  if (other.length) throw new Unsupported(`keyword searches cannot take |${other.join('|')}`);
  const values = Array.isArray(value) ? value : [value];
  if (!values.length) throw new Unsupported('empty keyword list');
  const nodes = values.map((v) => {
    if (v === null || typeof v === 'object') throw new Unsupported('a keyword list may only hold plain values');
    const s = String(v);
    if (!s) throw new Unsupported('an empty keyword matches everything');
    const val = stringValue(
      s,
      mods.filter((m) => m === 'cased'),
      true,
    );
    return match(
      null,
      val.kind === 'wildcard' ? { kind: 'wildcard', pattern: val.pattern.replace(/^\*+|\*+$/g, '') || '*' } : val,
    );
  });
  return mods.includes('all') ? and(nodes) : or(nodes);
}

/** Compiles one search identifier's definition. */
function search(name: string, def: SigmaValue): QueryNode {
  if (def === null || def === undefined) throw new Unsupported(`search identifier ${name} is empty`);
  if (Array.isArray(def)) {
    if (!def.length) throw new Unsupported(`search identifier ${name} is an empty list`);
    const maps = def.filter((x) => x !== null && typeof x === 'object' && !Array.isArray(x));
    if (maps.length === def.length) return or(maps.map((m) => mapSearch(name, m as Record<string, SigmaValue>)));
    if (maps.length) throw new Unsupported(`search identifier ${name} mixes maps and plain values`);
    return keywords(def, []);
  }
  if (typeof def === 'object') return mapSearch(name, def);
  return keywords(def, []);
}

function mapSearch(name: string, m: Record<string, SigmaValue>): QueryNode {
  const entries = Object.entries(m);
  if (!entries.length) throw new Unsupported(`search identifier ${name} has an empty map`);
  return and(entries.map(([k, v]) => fieldEntry(k, v)));
}

// ---------------------------------------------------------------------------------------------------------------
// Conditions

/** Milliseconds of a Sigma `timeframe` (`15s`, `30m`, `12h`, `7d`, `2w`, `3M`, `1y`). */
export function sigmaTimeframeMs(text: string): number {
  const m = /^\s*(\d+)\s*([smhdwMy])\s*$/.exec(text);
  if (!m || Number(m[1]) <= 0)
    throw new Unsupported(`timeframe "${text}" is not a duration like 15s, 30m, 12h, 7d or 3M`);
  const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3, M: 30 * 86400e3, y: 365 * 86400e3 }[
    m[2] as 's'
  ];
  return Number(m[1]) * unit;
}

/** Reads `agg-function(agg-field) [by group-field] comparison-op value` (Sigma 1). */
function parseAggregation(text: string, timeframe: string | null): SigmaAggregation {
  const m = /^(\w+)\s*\(\s*([^()\s]*)\s*\)(?:\s+by\s+(\S+))?\s*(<=|>=|==|=|<|>)\s*(\d+)$/i.exec(text);
  if (!m) throw new Unsupported(`aggregation "${text}" is not of the form count([field]) [by field] > number`);
  const fn = m[1].toLowerCase();
  if (fn !== 'count') throw new Unsupported(`aggregation ${fn}() is not supported (only count() and count(field))`);
  const checkField = (f: string) => {
    if (SHORTHANDS.has(f.toLowerCase()))
      throw new Unsupported(
        `field "${f}" is not a CloudTrail field (in KeyTrail queries it is a shorthand with another meaning)`,
      );
    if (!/^[A-Za-z0-9_@$][A-Za-z0-9_.:@$-]*$/.test(f) || f.includes('..') || f.endsWith('.'))
      throw new Unsupported(`field name "${f}" is not a CloudTrail path`);
    return f;
  };
  const op = (m[4] === '==' ? '=' : m[4]) as SigmaAggregation['op'];
  if (timeframe !== null && op !== '>' && op !== '>=') {
    throw new Unsupported(
      `"${text}" within a timeframe is not supported: which time windows a count below or equal to a number refers to is not defined (use > or >=)`,
    );
  }
  return {
    fn: 'count',
    field: m[2] ? checkField(m[2]) : null,
    by: m[3] ? checkField(m[3]) : null,
    op,
    value: Number(m[5]),
    timeframeMs: timeframe === null ? null : sigmaTimeframeMs(timeframe),
    text: timeframe === null ? text : `${text} within ${timeframe}`,
  };
}

function compileCondition(cond: string, defs: Map<string, SigmaValue>): QueryNode {
  const toks = cond.match(/\(|\)|[^\s()]+/g) ?? [];
  if (!toks.length) throw new Unsupported('empty condition');
  let k = 0;
  const cache = new Map<string, QueryNode>();
  const ident = (name: string): QueryNode => {
    if (!defs.has(name))
      throw new Unsupported(`the condition names "${name}", which is not a search identifier of the detection`);
    let n = cache.get(name);
    if (!n) cache.set(name, (n = search(name, defs.get(name)!)));
    return n;
  };
  const lower = (i: number) => toks[i]?.toLowerCase();
  const parseOr = (): QueryNode => {
    const parts = [parseAnd()];
    while (lower(k) === 'or') {
      k++;
      parts.push(parseAnd());
    }
    return or(parts);
  };
  const parseAnd = (): QueryNode => {
    const parts = [parseNot()];
    while (lower(k) === 'and') {
      k++;
      parts.push(parseNot());
    }
    return and(parts);
  };
  const parseNot = (): QueryNode => {
    if (lower(k) === 'not') {
      k++;
      return not(parseNot());
    }
    return parsePrimary();
  };
  const parsePrimary = (): QueryNode => {
    const t = toks[k++];
    if (t === undefined) throw new Unsupported(`condition "${cond}" ends too early`);
    const l = t.toLowerCase();
    if (t === '(') {
      const inner = parseOr();
      if (toks[k++] !== ')') throw new Unsupported(`condition "${cond}": missing ")"`);
      return inner;
    }
    if (t === ')' || l === 'and' || l === 'or') throw new Unsupported(`condition "${cond}": unexpected "${t}"`);
    if (l === 'near') throw new Unsupported('"near" (temporal proximity) conditions are not supported');
    if (lower(k) === 'of') {
      k++;
      const target = toks[k++];
      if (target === undefined || target === '(' || target === ')')
        throw new Unsupported(`condition "${cond}": "${t} of" needs a pattern or "them"`);
      let names: string[];
      if (target.toLowerCase() === 'them') names = [...defs.keys()].filter((n) => !n.startsWith('_'));
      else {
        const re = new RegExp(
          '^' +
            target
              .split('*')
              .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
              .join('.*') +
            '$',
        );
        names = [...defs.keys()].filter((n) => re.test(n));
      }
      if (!names.length) throw new Unsupported(`condition "${cond}": "${t} of ${target}" matches no search identifier`);
      const nodes = names.map(ident);
      if (l === 'all') return and(nodes);
      if (l === '1' || l === 'any') return or(nodes);
      if (/^\d+$/.test(l)) throw new Unsupported(`"${t} of ${target}" (more than one of) is not supported`);
      throw new Unsupported(`condition "${cond}": "${t} of" must be "1 of", "any of" or "all of"`);
    }
    if (!/^[A-Za-z0-9_\-.]+$/.test(t)) throw new Unsupported(`condition "${cond}": unexpected "${t}"`);
    return ident(t);
  };
  const root = parseOr();
  if (k < toks.length) throw new Unsupported(`condition "${cond}": unexpected "${toks[k]}"`);
  return root;
}

/**
 * Translates a Sigma rule to a KeyTrail query AST (see the module comment for the semantics), or says why it
 * cannot be run.
 */
export function compileSigma(rule: SigmaRule, placeholders: SigmaPlaceholderValues = {}): SigmaCompileResult {
  placeholderValues = placeholders;
  try {
    if (rule.kind === 'correlation')
      throw new Unsupported('correlation rules (matches of several rules over time) are not supported');
    if (rule.kind === 'filter')
      throw new Unsupported('Sigma filters (meta filters applied to other rules) are not supported');
    const product = rule.logsource.product?.toLowerCase();
    const service = rule.logsource.service?.toLowerCase();
    if (product !== 'aws' || service !== 'cloudtrail') {
      throw new Unsupported(
        `log source ${JSON.stringify(rule.logsource)} is not AWS CloudTrail (logsource: product: aws, service: cloudtrail)`,
      );
    }
    const det = rule.detection;
    const timeframe = det.timeframe === undefined || det.timeframe === null ? null : String(det.timeframe);
    if (timeframe !== null) sigmaTimeframeMs(timeframe);
    const conds = det.condition;
    if (conds === undefined || conds === null) throw new Unsupported('the detection has no condition');
    const condList = Array.isArray(conds) ? conds : [conds];
    if (!condList.length || condList.some((c) => typeof c !== 'string'))
      throw new Unsupported('the condition must be a string or a list of strings');
    const defs = new Map(Object.entries(det).filter(([k]) => k !== 'condition' && k !== 'timeframe'));
    const aggregated = (condList as string[]).filter((c) => c.includes('|'));
    if (aggregated.length) {
      if (condList.length > 1) throw new Unsupported('an aggregation ("|") in a list of conditions is not supported');
      const cond = condList[0] as string;
      const bar = cond.indexOf('|');
      if (cond.indexOf('|', bar + 1) >= 0) throw new Unsupported(`condition "${cond}": more than one "|"`);
      if (/(^|\s)near(\s|$)/i.test(cond.slice(bar + 1)))
        throw new Unsupported('"near" (temporal proximity) conditions are not supported');
      const aggregation = parseAggregation(cond.slice(bar + 1).trim(), timeframe);
      return { ok: true, query: compileCondition(cond.slice(0, bar), defs), aggregation };
    }
    const query = or((condList as string[]).map((c) => compileCondition(c, defs)));
    return { ok: true, query };
  } catch (err) {
    if (err instanceof Unsupported) return { ok: false, reason: err.message };
    throw err;
  } finally {
    placeholderValues = {};
  }
}

/**
 * The rows of `rows` (ids of the query index) an aggregation keeps, in time order (see the module comment):
 * `time(row)` is the event's eventTime (epoch ms; events without a time are left out of timeframe counts) and
 * `valueOf(row, path)` the event's value at a CloudTrail path (undefined, `''` or `'null'` when absent).
 */
export function sigmaAggregate(
  rows: ArrayLike<number>,
  agg: SigmaAggregation,
  time: (row: number) => number,
  valueOf: (row: number, path: string) => string | undefined,
): Uint32Array {
  const present = (v: string | undefined): v is string => v !== undefined && v !== '' && v !== 'null';
  const passes = (c: number) =>
    agg.op === '>'
      ? c > agg.value
      : agg.op === '>='
        ? c >= agg.value
        : agg.op === '<'
          ? c < agg.value
          : agg.op === '<='
            ? c <= agg.value
            : c === agg.value;
  const groups = new Map<string, number[]>();
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k];
    let key = '';
    if (agg.by !== null) {
      const v = valueOf(r, agg.by);
      if (!present(v)) continue;
      key = v;
    }
    if (agg.timeframeMs !== null && Number.isNaN(time(r))) continue;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(r);
  }
  const kept: number[] = [];
  for (const g of groups.values()) {
    g.sort((a, b) => time(a) - time(b) || a - b);
    const values = agg.field === null ? null : g.map((r) => valueOf(r, agg.field!));
    if (agg.timeframeMs === null) {
      const c = values === null ? g.length : new Set(values.filter(present)).size;
      if (passes(c)) kept.push(...g);
      continue;
    }
    // sliding window [i, j]: events at most timeframeMs apart; counts only grow with the window (> and >=)
    const seen = new Map<string, number>();
    let i = 0;
    let markedTo = 0;
    for (let j = 0; j < g.length; j++) {
      const vj = values?.[j];
      if (present(vj)) seen.set(vj, (seen.get(vj) ?? 0) + 1);
      while (time(g[j]) - time(g[i]) > agg.timeframeMs) {
        const vi = values?.[i];
        if (present(vi)) {
          const n = seen.get(vi)! - 1;
          if (n) seen.set(vi, n);
          else seen.delete(vi);
        }
        i++;
      }
      if (passes(values === null ? j - i + 1 : seen.size)) {
        for (let k = Math.max(i, markedTo); k <= j; k++) kept.push(g[k]);
        markedTo = j + 1;
      }
    }
  }
  kept.sort((a, b) => time(a) - time(b) || a - b);
  return Uint32Array.from(kept);
}

/**
 * The rows (ids of the query index, time order) a compiled rule matches: its query's rows, aggregated when the
 * rule has an aggregation (values read from the generic field index).
 */
export function sigmaMatches(
  engine: RowQuery,
  ix: EventTable,
  fields: FieldValues,
  compiled: Extract<SigmaCompileResult, { ok: true }>,
  warnings?: string[],
): Uint32Array {
  const rows = sigmaRows(engine, ix, compiled.query, warnings);
  if (!compiled.aggregation) return rows;
  return sigmaAggregate(
    rows,
    compiled.aggregation,
    (r) => ix.timeOf(r),
    (r, path) => fields.valueOfRow(r, path),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Running and findings

const SEVERITY: Record<string, Severity> = {
  informational: 'info',
  info: 'info',
  low: 'low',
  medium: 'medium',
  high: 'high',
  critical: 'critical',
};

/** Severity of a rule from its Sigma `level` (`informational` → `info`; missing or unknown → `medium`). */
export function sigmaSeverity(rule: SigmaRule): Severity {
  return SEVERITY[rule.level ?? ''] ?? 'medium';
}

/** The finding rule id of a Sigma rule: `sigma:<id>`, or `sigma:<title slug>` for a rule without id. */
export function sigmaRuleId(rule: SigmaRule): string {
  const id = rule.id?.trim();
  if (id) return `sigma:${id.toLowerCase().replace(/\s+/g, '-')}`;
  const slug = rule.title
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `sigma:${slug || 'rule'}`;
}

/**
 * The rows (ids of the query index, time order) a compiled rule selects. `warnings`, when given, receives the
 * engine's notes (each at most once), e.g. `no stored event has a field "src_ip"`.
 */
export function sigmaRows(engine: RowQuery, ix: EventTable, query: QueryNode, warnings?: string[]): Uint32Array {
  const info = { warnings: [] as string[], usedFields: false };
  const bm = engine.evaluate(query, {}, info);
  if (warnings) for (const w of info.warnings) if (!warnings.includes(w)) warnings.push(w);
  const rows: number[] = [];
  for (let i = 0; i < bm.length; i++) if (bm[i]) rows.push(i);
  rows.sort((a, b) => ix.timeOf(a) - ix.timeOf(b) || a - b);
  return Uint32Array.from(rows);
}

/**
 * A finding for the events a Sigma rule matched: rule id {@link sigmaRuleId}, the rule's title, severity from
 * its level, description from its description (and false positives), accounts, keys and principals of the
 * events, and the aggregation when the rule has one; `query` is `finding:<rule id>` (the query worker maps the
 * rule's rows to it).
 */
export function sigmaFinding(
  rule: SigmaRule,
  rows: ArrayLike<number>,
  ix: EventTable,
  aggregation?: SigmaAggregation,
): Finding {
  const uniq = [...new Set(Array.from(rows))].sort((a, b) => ix.timeOf(a) - ix.timeOf(b) || a - b);
  const [acct, recip, princ, key] = (['accountId', 'recipientAccountId', 'principal', 'key'] as const).map((c) =>
    ix.column(c),
  );
  const accounts = new Set<string>();
  const principals = new Set<string>();
  const keys = new Set<string>();
  for (const r of uniq) {
    const a = acct.at(r) || recip.at(r);
    if (a) accounts.add(a);
    const p = princ.at(r);
    if (p) principals.add(p);
    const k = key.at(r);
    if (k) for (const x of k.split('\n')) if (x) keys.add(x);
  }
  const parts = [rule.description?.trim() || rule.title];
  if (aggregation) parts.push(`Events counted: ${aggregation.text}.`);
  if (rule.falsepositives.length) parts.push(`False positives: ${rule.falsepositives.join('; ')}.`);
  parts.push(`Sigma rule ${rule.id ?? rule.title} (${rule.source}).`);
  const id = sigmaRuleId(rule);
  return {
    rule: id,
    title: rule.title,
    severity: sigmaSeverity(rule),
    description: parts.join(' '),
    count: uniq.length,
    first: uniq.length ? ix.timeOf(uniq[0]) : NaN,
    last: uniq.length ? ix.timeOf(uniq[uniq.length - 1]) : NaN,
    accounts: [...accounts],
    keys: [...keys],
    principals: [...principals],
    rows: uniq,
    query: `finding:${id}`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Query text: see query/text.ts (re-exported for the query worker and tests)

export { queryText } from '../query/text';
