import type { StringColumn } from '../codec/segment';

/** Where a query field's values come from. */
export type Target =
  | { kind: 'column'; col: StringColumn; list?: boolean }
  | { kind: 'time' }
  | { kind: 'eventID' }
  | { kind: 'path'; path: string }
  | { kind: 'finding' };

/** A field resolved to one or more targets (a row matches when any target matches). */
export interface ResolvedField {
  /** The name as typed. */
  name: string;
  targets: Target[];
  /** `key:` matching: a key ID matches the key ARN that ends with it, an alias name the alias ARN. */
  keyMatch?: boolean;
}

const col = (c: StringColumn, list = false): Target => ({ kind: 'column', col: c, list });
const path = (p: string): Target => ({ kind: 'path', path: p });

/**
 * Field names with a special meaning: CloudTrail fields KeyTrail keeps as columns, the Event history
 * lookup attribute names (source: LookupEvents API reference, LookupAttribute), and shorthands.
 * Looked up case-insensitively; any other name is a CloudTrail path matched as typed.
 */
const FIELDS: Record<string, Omit<ResolvedField, 'name'>> = {
  eventname: { targets: [col('eventName')] },
  eventsource: { targets: [col('eventSource')] },
  awsregion: { targets: [col('awsRegion')] },
  region: { targets: [col('awsRegion')] },
  recipientaccountid: { targets: [col('recipientAccountId')] },
  sourceipaddress: { targets: [col('sourceIPAddress')] },
  ip: { targets: [col('sourceIPAddress')] },
  useragent: { targets: [col('userAgent')] },
  errorcode: { targets: [col('errorCode')] },
  eventtype: { targets: [col('eventType')] },
  readonly: { targets: [col('readOnly')] },
  'useridentity.type': { targets: [col('identityType')] },
  'useridentity.accountid': { targets: [col('accountId')] },
  'useridentity.accesskeyid': { targets: [col('accessKeyId')] },
  accesskeyid: { targets: [col('accessKeyId')] },
  username: { targets: [col('username')] },
  resourcename: { targets: [col('resourceNames', true)] },
  'resources.arn': { targets: [col('resourceNames', true)] },
  resourcetype: { targets: [col('resourceTypes', true)] },
  'resources.type': { targets: [col('resourceTypes', true)] },
  eventid: { targets: [{ kind: 'eventID' }] },
  eventtime: { targets: [{ kind: 'time' }] },
  time: { targets: [{ kind: 'time' }] },
  account: { targets: [col('accountId'), col('recipientAccountId')] },
  principal: { targets: [col('principal')] },
  caller: { targets: [col('caller')] },
  finding: { targets: [{ kind: 'finding' }] },
  key: { targets: [col('key'), col('resourceNames', true)], keyMatch: true },
};

/** Shorthand and alias names the query language knows (for the README and autocompletion). */
export const KNOWN_FIELDS = Object.keys(FIELDS);

/** Resolves a field name of a query. Never throws: unknown names are CloudTrail paths. */
export function resolveField(name: string): ResolvedField {
  const f = FIELDS[name.toLowerCase()];
  if (f) return { name, ...f };
  return { name, targets: [path(name)] };
}

/**
 * `key:` semantics: does a stored key reference `stored` (key ID, key ARN, alias name or alias ARN) name the
 * key the user typed (`query`, any of the same forms)? Both lower-cased by the caller.
 */
export function keyRefMatches(stored: string, query: string): boolean {
  if (!stored) return false;
  return (
    stored === query ||
    stored.endsWith('/' + query) ||
    stored.endsWith(':' + query) ||
    query.endsWith('/' + stored) ||
    query.endsWith(':' + stored)
  );
}

/**
 * Case folding of case-insensitive matches: lower case, with the Greek final sigma (which `toLowerCase` picks by
 * context) folded to σ, so that a value and any part of it fold alike ("ΣΊΣ" is a prefix of "ΣΊΣΥΦΟΣ").
 */
export function foldCase(s: string): string {
  const l = s.toLowerCase();
  return l.includes('ς') ? l.replaceAll('ς', 'σ') : l;
}
