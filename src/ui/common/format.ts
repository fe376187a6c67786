/**
 * UTC time text for the views (src/lib/format/utc.ts): `utc` formats epoch ms as CloudTrail writes times,
 * `YYYY-MM-DDTHH:MM:SSZ`, '' for NaN.
 */
export { utcSeconds as utc, utcDay, utcIso, utcFileStamp } from '../../lib/format/utc';

/** Formats a count with thousands separators. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

export { formatBytes as bytes } from '../../lib/ingest/limits';
