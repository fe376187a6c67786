/** Formats epoch ms as CloudTrail writes times: `YYYY-MM-DDTHH:MM:SSZ` (UTC). '' for NaN. */
export function utc(ms: number): string {
  if (!Number.isFinite(ms)) return '';
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Formats a count with thousands separators. */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

export { formatBytes as bytes } from '../../lib/ingest/limits';

/** Parses a UTC date/time typed by a user (`2024-03-01`, `2024-03-01T12:00`, `...Z`) to epoch ms; NaN if invalid. */
export function parseUtc(s: string): number {
  const t = s.trim();
  if (!t) return NaN;
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t}T00:00:00Z` : /[zZ]|[+-]\d{2}:?\d{2}$/.test(t) ? t : `${t}Z`;
  return Date.parse(iso);
}
