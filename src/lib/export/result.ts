/**
 * Export of a query result (rows of the index, in result order) as a Blob: `csv`, `records` or `jsonl`.
 */
import { csvOf, jsonLinesParts, recordsJsonParts } from './formats';
import type { RawReader } from '../store/raw';
import type { ColumnarIndex } from '../query/columnar';
import type { FieldIndex } from '../query/fieldIndex';
import { rowView } from '../query/rowView';

/** Export formats of a query result. */
export type ResultFormat = 'csv' | 'records' | 'jsonl';

/** Columns of the CSV export: the events table's, plus userAgent and eventID. */
export const CSV_COLUMNS = [
  'eventTime',
  'eventSource',
  'eventName',
  'principal',
  'recipientAccountId',
  'awsRegion',
  'sourceIPAddress',
  'errorCode',
  'key',
  'userAgent',
  'eventID',
];

/**
 * Exports `rows` in their order: `csv` (the table's columns plus userAgent and eventID, safe against spreadsheet
 * formula injection; written in batches of 50,000 rows), `records` (CloudTrail `{"Records":[...]}` of the stored
 * event texts, which KeyTrail re-ingests to the same events) or `jsonl` (one event per line). Rows whose stored
 * text is gone are left out of `records`/`jsonl`.
 */
export async function exportRows(
  format: ResultFormat,
  rows: Uint32Array,
  ix: ColumnarIndex,
  fields: FieldIndex,
  raw: RawReader,
): Promise<Blob> {
  if (format === 'csv') {
    const parts: string[] = [];
    for (let o = 0; o < rows.length || o === 0; o += 50_000) {
      const batch: Record<string, string | number>[] = [];
      for (let i = o; i < Math.min(rows.length, o + 50_000); i++) {
        const r = rows[i];
        const v = rowView(ix, r);
        batch.push({
          ...v,
          eventTime: v.time,
          userAgent: ix.value('userAgent', r),
          eventID: fields.valueOfRow(r, 'eventID') ?? '',
        });
      }
      const csv = csvOf(batch, CSV_COLUMNS);
      // papaparse writes the header on every batch: keep it once
      parts.push(o === 0 ? csv : csv.slice(csv.indexOf('\n') + 1));
      if (!rows.length) break;
    }
    return new Blob(parts, { type: 'text/csv' });
  }
  const texts: string[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const { segment, offset } = ix.locationOf(r);
    const t = await raw.eventText(segment, offset);
    if (t !== undefined) texts.push(t);
  }
  return format === 'records'
    ? new Blob(recordsJsonParts(texts), { type: 'application/json' })
    : new Blob(jsonLinesParts(texts), { type: 'application/x-ndjson' });
}
