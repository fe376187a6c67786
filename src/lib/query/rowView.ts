import type { StringColumn } from '../codec/segment';
import type { ColumnarIndex } from './columnar';

/** The string columns {@link rowView} reads (besides eventTime). */
export const ROW_VIEW_COLUMNS: readonly StringColumn[] = [
  'eventName',
  'eventSource',
  'principal',
  'identityType',
  'recipientAccountId',
  'awsRegion',
  'sourceIPAddress',
  'errorCode',
  'key',
];

/** One row of the events table, read from the index (no raw JSON). */
export interface RowView {
  /** Row id in the index (stable until the store is wiped). */
  row: number;
  /** eventTime, epoch ms UTC (NaN when absent or unreadable). */
  time: number;
  /** The eventTime text as written, when it cannot be read as a time (`time` NaN); absent otherwise. */
  timeText?: string;
  eventSource: string;
  eventName: string;
  principal: string;
  recipientAccountId: string;
  awsRegion: string;
  sourceIPAddress: string;
  errorCode: string;
  key: string;
}

/** The events table's view of row `r` of the index (principal falls back to userIdentity.type). */
export function rowView(ix: ColumnarIndex, r: number): RowView {
  return {
    row: r,
    time: ix.time[r],
    eventSource: ix.value('eventSource', r),
    eventName: ix.value('eventName', r),
    principal: ix.value('principal', r) || ix.value('identityType', r),
    recipientAccountId: ix.value('recipientAccountId', r),
    awsRegion: ix.value('awsRegion', r),
    sourceIPAddress: ix.value('sourceIPAddress', r),
    errorCode: ix.value('errorCode', r),
    key: ix.value('key', r),
  };
}
