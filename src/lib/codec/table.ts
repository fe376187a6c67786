import type { StringColumn } from './segment';

/**
 * One dictionary-encoded string column of an {@link EventTable}, as analyses read it. `codes` is fetched once
 * per column and indexed by row in loops (no per-row call); `text(code)` turns a code back into the value.
 * A view stays valid until rows are added to its table (analyses run synchronously over a loaded index).
 */
export interface EventColumn {
  /** Dictionary code of each row (rows `0 … n-1`). */
  readonly codes: ArrayLike<number>;
  /** Number of distinct values: codes are `0 … size-1`. */
  readonly size: number;
  /** The value of a code. */
  text(code: number): string;
  /** The code of a value, or undefined when no row has it. */
  code(value: string): number | undefined;
  /** A row's value (`text(codes[row])`). */
  at(row: number): string;
}

/**
 * The narrow, read-only view of the event index that analyses use (KMS, CloudHSM, principals, coverage inputs,
 * Sigma findings): row count, eventTime, the derived string columns (STRING_COLUMNS in codec/segment.ts) and
 * where a row's JSON is stored. `query/columnar.ts`'s `ColumnarIndex` implements it; analyses never touch its
 * arrays or dictionaries directly, so the index layout can change without touching them.
 */
export interface EventTable {
  /** Number of rows; rows are numbered `0 … n-1` in load order. */
  readonly n: number;
  /** A row's eventTime, epoch ms UTC (NaN when the event has none). */
  timeOf(row: number): number;
  /** A row's value of a string column ('' when absent). */
  value(col: StringColumn, row: number): string;
  /** A string column, for loops over many rows (see {@link EventColumn}). */
  column(col: StringColumn): EventColumn;
  /** Row ids ordered by eventTime ascending (ties by row id; rows without a time last). */
  sortedByTime(): Uint32Array;
  /** Where a row's JSON text is stored: chunk (segment) id and offset in it (for RawReader.eventText). */
  locationOf(row: number): { segment: number; offset: number };
}

/**
 * Any CloudTrail path of a row, from the generic field index (every leaf of every event). `query/fieldIndex.ts`'s
 * `FieldIndex` implements it. Paths are dotted CloudTrail names (`requestParameters.keyId`), arrays without
 * indices (`resources.ARN`); field names match case-insensitively.
 */
export interface FieldValues {
  /** The first value of `path` in a row, or undefined when the row has none. */
  valueOfRow(row: number, path: string): string | undefined;
  /** Every value of `path` in a row (values of arrays, in order). */
  valuesOfRow(row: number, path: string): string[];
  /** The first value of `path` of every row `0 … n-1` (undefined where absent). */
  materialize(path: string, n: number): (string | undefined)[];
  /** The first value of `path` of each of `rows` (ascending), aligned with them (undefined where absent). */
  materializeRows(path: string, rows: Uint32Array): (string | undefined)[];
}
