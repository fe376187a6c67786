/**
 * The generic field store of one chunk: every leaf of every event (path → value), dictionary-encoded, so that
 * the query engine can match any CloudTrail field by its path (`requestParameters.keyId`, `resources.ARN`,
 * `tlsDetails.tlsVersion`...) and search the text of every value without touching raw events.
 *
 * Paths are dotted object keys with array indices dropped (`resources[0].ARN` → `resources.ARN`). Values are
 * strings as JSON would print them (`true`, `42`, `null`); a value longer than {@link MAX_VALUE_CHARS} is
 * indexed by its first {@link MAX_VALUE_CHARS} characters (the stored event keeps it whole).
 */
export interface FieldStore {
  /** Same id as the chunk and segment. */
  id: number;
  /** Local path dictionary. */
  paths: string[];
  /** Local value dictionary, joined with U+0000 (values never contain it: it is replaced by U+FFFD). */
  values: string;
  /** Number of values in `values`. */
  nValues: number;
  /** Entry range of row i: `rowStart[i] .. rowStart[i+1]` (length n+1). */
  rowStart: Uint32Array;
  /** Path code of each entry. */
  entryPath: Uint16Array;
  /** Value code of each entry. */
  entryValue: Uint16Array | Uint32Array;
}

/** Longest value indexed, in UTF-16 code units. */
export const MAX_VALUE_CHARS = 65_536;

/** Separator between values in {@link FieldStore.values}. */
export const SEP = '\u0000';

/**
 * Paths not kept in the field store because the index has them as fixed columns already (see
 * `STRING_COLUMNS` and the time column). Queries on them use the columns.
 */
export const COLUMN_PATHS: ReadonlySet<string> = new Set([
  'eventSource', 'eventName', 'awsRegion', 'recipientAccountId', 'sourceIPAddress', 'userAgent', 'errorCode',
  'eventType', 'readOnly', 'userIdentity.type', 'userIdentity.accountId', 'userIdentity.accessKeyId',
]);

/** Builds the field store of a list of events (`id` is set by the caller). */
export function buildFieldStore(events: readonly unknown[]): Omit<FieldStore, 'id'> {
  // Path ids by (parent path id, key): no path strings are built per leaf.
  const paths: string[] = [];
  const children: Map<string, number>[] = [new Map()]; // children[parentId + 1]; index 0 is the root
  const child = (parent: number, key: string): number => {
    const m = children[parent + 1];
    let id = m.get(key);
    if (id === undefined) {
      id = paths.length;
      paths.push(parent < 0 ? key : `${paths[parent]}.${key}`);
      children.push(new Map());
      m.set(key, id);
    }
    return id;
  };
  const valueMap = new Map<string, number>();
  const values: string[] = [];
  const rowStart = new Uint32Array(events.length + 1);
  let cap = events.length * 24 + 16;
  let entryPath = new Uint16Array(cap);
  let entryValue = new Uint32Array(cap);
  let e = 0;

  const add = (path: number, v: string) => {
    let c = valueMap.get(v);
    if (c === undefined) {
      c = values.length;
      const key = v;
      if (v.length > MAX_VALUE_CHARS) v = v.slice(0, MAX_VALUE_CHARS);
      values.push(v.includes(SEP) ? v.replaceAll(SEP, '\uFFFD') : v);
      valueMap.set(key, c);
    }
    if (e === cap) {
      cap *= 2;
      const p2 = new Uint16Array(cap);
      p2.set(entryPath);
      entryPath = p2;
      const v2 = new Uint32Array(cap);
      v2.set(entryValue);
      entryValue = v2;
    }
    entryPath[e] = path;
    entryValue[e++] = c;
  };

  const walk = (v: unknown, path: number, depth: number): void => {
    if (v === null) return add(path, 'null');
    switch (typeof v) {
      case 'string':
        return add(path, v);
      case 'number':
      case 'boolean':
        return add(path, String(v));
      case 'object':
        if (depth > 64) return;
        if (Array.isArray(v)) {
          for (let i = 0; i < v.length; i++) walk(v[i], path, depth + 1);
          return;
        }
        for (const k in v as Record<string, unknown>) walk((v as Record<string, unknown>)[k], child(path, k), depth + 1);
    }
  };

  const ui = child(-1, 'userIdentity');
  for (let i = 0; i < events.length; i++) {
    rowStart[i] = e;
    const ev = events[i] as Record<string, unknown>;
    for (const k in ev) {
      if (COLUMN_PATHS.has(k)) continue;
      const u = ev[k];
      if (k === 'userIdentity' && u && typeof u === 'object' && !Array.isArray(u)) {
        for (const uk in u as Record<string, unknown>) {
          if (uk === 'type' || uk === 'accountId' || uk === 'accessKeyId') continue;
          walk((u as Record<string, unknown>)[uk], child(ui, uk), 1);
        }
        continue;
      }
      walk(u, child(-1, k), 0);
    }
  }
  rowStart[events.length] = e;
  return {
    paths,
    values: values.join(SEP),
    nValues: values.length,
    rowStart,
    entryPath: entryPath.slice(0, e),
    entryValue: values.length <= 0xffff ? Uint16Array.from(entryValue.subarray(0, e)) : entryValue.slice(0, e),
  };
}
