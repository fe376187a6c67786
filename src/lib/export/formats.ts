/**
 * Export formats of a result: CSV of table rows, CloudTrail `{"Records":[...]}` JSON and JSON Lines of the
 * stored events.
 *
 * CSV is written by papaparse's `unparse` (RFC 4180 quoting: fields with commas, quotes or line breaks are
 * quoted, quotes doubled; https://www.papaparse.com/docs#json-to-csv) with `escapeFormulae` set to
 * {@link FORMULA_START}, which prefixes a `'` to every text cell starting with `=`, `+`, `-`, `@`, a tab or a
 * carriage return, so that a spreadsheet does not run an attacker's `userAgent` as a formula (OWASP "CSV
 * Injection", https://owasp.org/www-community/attacks/CSV_Injection). papaparse's own `escapeFormulae: true`
 * uses `/^[=+\-@\t\r].*$/`, whose `.*$` (no dotall flag) fails on a value holding a line break, so a
 * multi-line `=cmd|...\n...` stayed a live formula: only the first character is tested here.
 *
 * The JSON formats never re-serialise an event they do not have to: the stored text of each event (its
 * original bytes, already JSON) is concatenated as is. The `...Parts` variants return the output as an array
 * of strings for `new Blob(parts)`, so a large export never becomes one giant string.
 */
import Papa from 'papaparse';
import { utcIso } from '../format/utc';

/**
 * The first character of a cell a spreadsheet would read as a formula (OWASP "CSV Injection"): `=`, `+`, `-`,
 * `@`, tab, carriage return. Only the first character is tested, whatever follows (line breaks included).
 */
export const FORMULA_START = /^[=+\-@\t\r]/;

/** True for columns holding epoch-ms times (`time`, `eventTime`, any name ending in `time`). */
function isTimeColumn(name: string): boolean {
  return /time$/i.test(name);
}

/**
 * CSV of `rows`, with a header of `columns` and the cells in that order (a missing cell is empty).
 * A number in a time column (`time`, `eventTime`, any name ending in `time`/`Time`) is epoch ms and is
 * written as ISO 8601 UTC (`2024-03-01T12:00:00Z`; '' for NaN). Every line, the last too, ends with CRLF (RFC 4180).
 */
export function csvOf(rows: readonly Record<string, string | number>[], columns: readonly string[]): string {
  const timeCols = columns.map(isTimeColumn);
  const data = rows.map((r) =>
    columns.map((c, i) => {
      const v = r[c];
      if (v === undefined || v === null) return '';
      if (typeof v === 'number') return timeCols[i] ? utcIso(v) : Number.isFinite(v) ? v : '';
      return v;
    }),
  );
  const csv = Papa.unparse(
    { fields: [...columns], data },
    { escapeFormulae: FORMULA_START, newline: '\r\n', quotes: false, header: true },
  );
  return csv.replace(/\r\n$/, '') + '\r\n';
}

/**
 * `{"Records":[...]}` (the CloudTrail S3 delivery file shape) of event texts, as string parts:
 * `{"Records":[`, the texts separated by `,`, `]}`. The texts must each be one JSON object; they are not parsed.
 */
export function recordsJsonParts(eventTexts: Iterable<string>): string[] {
  const parts = ['{"Records":['];
  let first = true;
  for (const t of eventTexts) {
    if (!first) parts.push(',');
    parts.push(t);
    first = false;
  }
  parts.push(']}');
  return parts;
}

/** {@link recordsJsonParts} joined into one string. */
export function recordsJsonOf(eventTexts: Iterable<string>): string {
  return recordsJsonParts(eventTexts).join('');
}

/**
 * One event per line (JSON Lines, https://jsonlines.org/), as string parts (one line each, `\n`-terminated).
 * A text holding a line break (a pretty-printed source) is re-serialised compactly with
 * `JSON.stringify(JSON.parse(text))`; any other text is kept byte for byte.
 * @throws SyntaxError when a text with a line break is not JSON.
 */
export function jsonLinesParts(eventTexts: Iterable<string>): string[] {
  const parts: string[] = [];
  for (const t of eventTexts) parts.push((/[\r\n]/.test(t) ? JSON.stringify(JSON.parse(t)) : t) + '\n');
  return parts;
}

/** {@link jsonLinesParts} joined into one string. */
export function jsonLinesOf(eventTexts: Iterable<string>): string {
  return jsonLinesParts(eventTexts).join('');
}
