import {
  eventTimeMs,
  keyOf,
  principalOf,
  readOnlyOf,
  resourceNamesOf,
  resourceTypesOf,
  usernameOf,
  fieldString,
  type CloudTrailEvent,
} from '../cloudtrail/event';
import { callerLabel, classifyCaller } from '../cloudtrail/identity';

/**
 * The string columns every stored event contributes to the query index, by name. Each is a derived,
 * single string per event (multi-valued fields are newline-joined).
 *
 * The byte-level reader of S3 delivery documents derives each column from only the members it reads: a new
 * column, or a derivation that reads another member, needs that member in the reader's dictionaries and
 * projections too (`DICT_OF_COLUMN` in ingest/deliveryScan.ts, `project*` in wasm/deliveryScan.ts). A column
 * with no dictionary there makes that module throw when loaded (tests/unit/deliveryScan.test.ts fails); a member
 * missing from a projection shows only in the differential tests whose events hold that member.
 */
export const STRING_COLUMNS = {
  eventSource: (e: CloudTrailEvent) => e.eventSource,
  eventName: (e: CloudTrailEvent) => e.eventName,
  awsRegion: (e: CloudTrailEvent) => fieldString(e.awsRegion),
  recipientAccountId: (e: CloudTrailEvent) => fieldString(e.recipientAccountId),
  sourceIPAddress: (e: CloudTrailEvent) => fieldString(e.sourceIPAddress),
  userAgent: (e: CloudTrailEvent) => fieldString(e.userAgent),
  errorCode: (e: CloudTrailEvent) => fieldString(e.errorCode),
  eventType: (e: CloudTrailEvent) => fieldString(e.eventType),
  readOnly: readOnlyOf,
  principal: principalOf,
  identityType: (e: CloudTrailEvent) => fieldString(e.userIdentity?.type),
  accountId: (e: CloudTrailEvent) => fieldString(e.userIdentity?.accountId),
  accessKeyId: (e: CloudTrailEvent) => fieldString(e.userIdentity?.accessKeyId),
  username: usernameOf,
  key: keyOf,
  resourceNames: resourceNamesOf,
  resourceTypes: resourceTypesOf,
  caller: (e: CloudTrailEvent) => callerLabel(classifyCaller(e)),
} as const;

/** Name of a string column of the index. */
export type StringColumn = keyof typeof STRING_COLUMNS;

/** A dictionary-encoded string column of one segment: `dict[codes[i]]` is row i's value. */
export interface DictColumn {
  dict: string[];
  codes: Uint16Array | Uint32Array;
}

/**
 * The compact, query-ready columns of one chunk of stored events (same id as its chunk). Loaded by the query
 * worker at start-up without touching raw events.
 */
/**
 * Version of the derived string columns (STRING_COLUMNS: how `principal`, `key`, `resourceNames`, `readOnly`,
 * ... are computed from an event), stored with every segment (`Segment.columnsScheme`) and in the store's
 * stats record (`StatsRecord.columnsScheme`), like the content hash scheme. Bump it whenever a column's
 * derivation changes (e.g. the case of `resources[].ARN` values), so that segments written by an older
 * KeyTrail can be detected (ColumnarIndex.staleColumnSegments) and re-derived from their stored event text.
 * 1: the columns as of KeyTrail's first versioned store (segments without the field were written by the same
 * derivation).
 */
export const COLUMNS_SCHEME = 1;

/** The columns scheme a segment was written with (absent: 1, the columns before versioning). */
export function columnsSchemeOf(s: Pick<Segment, 'columnsScheme'>): number {
  return s.columnsScheme ?? 1;
}

export interface Segment {
  /** Same as the chunk id. */
  id: number;
  /** The file (or archive member) record the events came from (the first one, when `files` is set). */
  fileId: number;
  /** The file record of each row, when the chunk packs the events of several small files. */
  files?: Uint32Array;
  /** Number of events. */
  n: number;
  /** eventTime, epoch ms UTC (NaN when absent). */
  time: Float64Array;
  /** eventID hash, two u32 lanes per event (0,0 when absent). */
  eid: Uint32Array;
  /** String columns. */
  cols: Record<StringColumn, DictColumn>;
  /** The {@link COLUMNS_SCHEME} the string columns were derived with (absent: 1, written before versioning). */
  columnsScheme?: number;
}

/** Dictionary-encodes one column of values. */
export function encodeColumn(values: string[]): DictColumn {
  const map = new Map<string, number>();
  const dict: string[] = [];
  const codes32 = new Uint32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    let c = map.get(v);
    if (c === undefined) {
      c = dict.length;
      dict.push(v);
      map.set(v, c);
    }
    codes32[i] = c;
  }
  return { dict, codes: dict.length <= 0xffff ? Uint16Array.from(codes32) : codes32 };
}

/** Builds the string columns and times of a list of events (segment fields other than id/fileId/eid). */
export function buildColumns(events: CloudTrailEvent[]): {
  time: Float64Array;
  cols: Record<StringColumn, DictColumn>;
} {
  const b = new ColumnsBuilder(events.length);
  for (let i = 0; i < events.length; i++) b.add(events[i]);
  return b.finish();
}

/** The string columns in a fixed order (their index is a column's number in {@link ColumnsBuilder}). */
export const COLUMN_NAMES = Object.keys(STRING_COLUMNS) as StringColumn[];
/** Each column's derivation, in {@link COLUMN_NAMES} order. */
export const COLUMN_OF = COLUMN_NAMES.map((name) => STRING_COLUMNS[name]);

/**
 * Builds the times and string columns of events added one by one: `finish()` gives what {@link buildColumns}
 * gives for the same events (each dictionary in first-seen order). Only each column's distinct values are kept,
 * not the events, so an event read record by record can be dropped once added: a block's parsed events then
 * die young instead of being copied by the garbage collector until the block ends.
 */
export class ColumnsBuilder {
  private n = 0;
  private time: Float64Array;
  private readonly maps: Map<string, number>[] = COLUMN_NAMES.map(() => new Map());
  private readonly dicts: string[][] = COLUMN_NAMES.map(() => []);
  private codes: Uint32Array[];

  /** @param capacity events expected (the arrays grow past it). */
  constructor(capacity = 256) {
    const cap = Math.max(1, capacity);
    this.time = new Float64Array(cap);
    this.codes = COLUMN_NAMES.map(() => new Uint32Array(cap));
  }

  /** Events added so far. */
  get rows(): number {
    return this.n;
  }

  /** Adds one event's time and column values. */
  add(ev: CloudTrailEvent): void {
    const i = this.n++;
    if (i === this.time.length) this.grow();
    this.time[i] = eventTimeMs(ev);
    for (let c = 0; c < COLUMN_OF.length; c++) this.codes[c][i] = this.code(c, COLUMN_OF[c](ev));
  }

  /** Code of value `v` in the column at index `c` of {@link COLUMN_NAMES} (added to its dictionary when new). */
  code(c: number, v: string): number {
    const map = this.maps[c];
    let code = map.get(v);
    if (code === undefined) {
      code = this.dicts[c].length;
      this.dicts[c].push(v);
      map.set(v, code);
    }
    return code;
  }

  /**
   * Adds one event by its time (epoch ms, NaN when absent) and its code in each column (`codes[c]` for the
   * column at index c of {@link COLUMN_NAMES}, from {@link code}): the same as {@link add} of the event when
   * those codes are its values'.
   */
  addRow(time: number, codes: ArrayLike<number>): void {
    const i = this.n++;
    if (i === this.time.length) this.grow();
    this.time[i] = time;
    for (let c = 0; c < COLUMN_OF.length; c++) this.codes[c][i] = codes[c];
  }

  private grow(): void {
    const time = new Float64Array(this.time.length * 2);
    time.set(this.time);
    this.time = time;
    this.codes = this.codes.map((c) => {
      const g = new Uint32Array(c.length * 2);
      g.set(c);
      return g;
    });
  }

  /** The times (epoch ms, NaN when absent) and dictionary-encoded columns of the events added. */
  finish(): { time: Float64Array; cols: Record<StringColumn, DictColumn> } {
    const n = this.n;
    const cols = {} as Record<StringColumn, DictColumn>;
    COLUMN_NAMES.forEach((name, c) => {
      const dict = this.dicts[c];
      const codes = this.codes[c].subarray(0, n);
      cols[name] = { dict, codes: dict.length <= 0xffff ? Uint16Array.from(codes) : codes.slice() };
    });
    return { time: this.time.slice(0, n), cols };
  }
}

/** Events per stored chunk (one IndexedDB row of raw events, one of columns, one of fields). */
export const CHUNK_EVENTS = 2000;

/**
 * The times and string columns of some rows of a block (`rows`: ascending row indices). Dictionaries are
 * compacted to the values still used, so facet counts never list a value with no event.
 */
export function selectColumnRows(
  time: Float64Array,
  cols: Record<StringColumn, DictColumn>,
  rows: readonly number[],
): { time: Float64Array; cols: Record<StringColumn, DictColumn> } {
  const t = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) t[i] = time[rows[i]];
  const out = {} as Record<StringColumn, DictColumn>;
  for (const name of Object.keys(cols) as StringColumn[]) {
    const { dict, codes } = cols[name];
    out[name] = encodeColumn(rows.map((r) => dict[codes[r]]));
  }
  return { time: t, cols: out };
}

/** The times and string columns of several blocks, in order, as one (dictionaries merged). */
export function concatColumns(parts: readonly { time: Float64Array; cols: Record<StringColumn, DictColumn> }[]): {
  time: Float64Array;
  cols: Record<StringColumn, DictColumn>;
} {
  const n = parts.reduce((s, p) => s + p.time.length, 0);
  const time = new Float64Array(n);
  let o = 0;
  for (const p of parts) {
    time.set(p.time, o);
    o += p.time.length;
  }
  const cols = {} as Record<StringColumn, DictColumn>;
  const vals = new Array<string>(n);
  for (const name of Object.keys(STRING_COLUMNS) as StringColumn[]) {
    let i = 0;
    for (const p of parts) {
      const { dict, codes } = p.cols[name];
      for (let k = 0; k < codes.length; k++) vals[i++] = dict[codes[k]];
    }
    cols[name] = encodeColumn(vals);
  }
  return { time, cols };
}
