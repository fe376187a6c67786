/**
 * UTC time formatting: one place for turning epoch ms into the text KeyTrail shows, exports and puts in queries.
 *
 * CloudTrail records `eventTime` in UTC as ISO 8601 with whole seconds (`2024-03-01T12:00:05Z`; "CloudTrail record
 * contents", AWS CloudTrail User Guide); digest files and API outputs may carry milliseconds. Every function here
 * takes epoch ms (the unit the store keeps times in) and returns '' for NaN or ±Infinity (an absent or malformed
 * time), never throwing like `Date.prototype.toISOString` does. No function depends on the machine's time zone.
 */

/** True when `ms` can be formatted (a finite epoch ms within `Date`'s range of ±8.64e15). */
function formattable(ms: number): boolean {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15;
}

/**
 * Epoch ms as CloudTrail writes `eventTime`: `YYYY-MM-DDTHH:MM:SSZ`, milliseconds dropped (truncated, not rounded).
 * '' for a time that cannot be formatted.
 */
export function utcSeconds(ms: number): string {
  return formattable(ms) ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : '';
}

/**
 * Epoch ms as ISO 8601 UTC that loses nothing: `YYYY-MM-DDTHH:MM:SSZ`, with `.mmm` before the `Z` only when the
 * milliseconds are not zero (`2024-03-01T12:00:05.250Z`). Parses back to the same epoch ms (query operands, URL
 * routes, exports). '' for a time that cannot be formatted.
 */
export function utcIso(ms: number): string {
  return formattable(ms) ? new Date(ms).toISOString().replace(/\.000Z$/, 'Z') : '';
}

/** The UTC day of epoch ms: `YYYY-MM-DD` (as in CloudTrail's S3 key folders `YYYY/MM/DD`). '' when not formattable. */
export function utcDay(ms: number): string {
  return formattable(ms) ? new Date(ms).toISOString().slice(0, 10) : '';
}

/**
 * Epoch ms as a file-name stamp: `YYYY-MM-DDTHH-MM-SSZ` (UTC, no `:` or `.`, which some file systems refuse;
 * milliseconds dropped). '' when not formattable.
 */
export function utcFileStamp(ms: number): string {
  return utcSeconds(ms).replace(/:/g, '-');
}
