import { stringHash } from '../ingest/hash';
import type { StringColumn } from '../store/segment';
import type { ColumnarIndex } from './columnar';

/**
 * CloudTrail Event history lookup attributes (the `LookupAttributes` of the LookupEvents API).
 * Source: "Viewing CloudTrail events with the AWS CLI" and the LookupEvents API reference.
 */
export const LOOKUP_ATTRIBUTES = ['EventName', 'EventSource', 'Username', 'ReadOnly', 'ResourceName', 'ResourceType', 'AccessKeyId', 'EventId'] as const;

/** One lookup attribute name. */
export type LookupAttribute = (typeof LOOKUP_ATTRIBUTES)[number];

/** The column each lookup attribute reads, and whether the column holds newline-separated lists. */
const ATTRIBUTE_COLUMN: Record<Exclude<LookupAttribute, 'EventId'>, { col: StringColumn; list: boolean }> = {
  EventName: { col: 'eventName', list: false },
  EventSource: { col: 'eventSource', list: false },
  Username: { col: 'username', list: false },
  ReadOnly: { col: 'readOnly', list: false },
  ResourceName: { col: 'resourceNames', list: true },
  ResourceType: { col: 'resourceTypes', list: true },
  AccessKeyId: { col: 'accessKeyId', list: false },
};

/** A simple filter: one lookup attribute equal to a value (as Event history does), and a time range. */
export interface SimpleFilter {
  attribute?: LookupAttribute;
  /** Exact value (case-sensitive, as in Event history; ReadOnly accepts true/false). */
  value?: string;
  /** Inclusive start, epoch ms. */
  from?: number;
  /** Exclusive end, epoch ms. */
  to?: number;
}

/**
 * Returns a predicate over row ids for the filter, or null when the filter matches every row.
 * Evaluates the attribute against each dictionary entry once, then tests rows by code.
 */
export function compileSimpleFilter(ix: ColumnarIndex, f: SimpleFilter): ((row: number) => boolean) | null {
  const tests: ((row: number) => boolean)[] = [];
  if (f.attribute && f.value !== undefined && f.value !== '') {
    const value = f.value;
    if (f.attribute === 'EventId') {
      const h = new Uint32Array(2);
      stringHash(value, h, 0);
      const eid = ix.eid;
      tests.push((r) => eid[r * 2] === h[0] && eid[r * 2 + 1] === h[1]);
    } else {
      const { col, list } = ATTRIBUTE_COLUMN[f.attribute];
      const g = ix.cols[col];
      const want = f.attribute === 'ReadOnly' ? value.toLowerCase() : value;
      const match = new Uint8Array(g.dict.length);
      for (let c = 0; c < g.dict.length; c++) {
        const v = g.dict[c];
        match[c] = list ? (v === want || v.split('\n').includes(want) ? 1 : 0) : v === want ? 1 : 0;
      }
      tests.push((r) => match[g.codes[r]] === 1);
    }
  }
  if (f.from !== undefined && Number.isFinite(f.from)) {
    const from = f.from;
    tests.push((r) => ix.time[r] >= from);
  }
  if (f.to !== undefined && Number.isFinite(f.to)) {
    const to = f.to;
    tests.push((r) => ix.time[r] < to);
  }
  if (!tests.length) return null;
  if (tests.length === 1) return tests[0];
  return (r) => {
    for (const t of tests) if (!t(r)) return false;
    return true;
  };
}
