/** Largest epoch ms a JavaScript Date holds (±8.64e15, ECMAScript "Time Values and Time Range"). */
const MAX_DATE_MS = 8.64e15;

/**
 * Formats epoch ms as CloudTrail writes times: `YYYY-MM-DDTHH:MM:SSZ` (UTC). '' for NaN and for times a Date
 * cannot hold (never throws RangeError, whatever a histogram axis or a crafted event asks for).
 */
export function utc(ms: number): string {
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) return '';
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

/**
 * Unicode bidirectional formatting characters (Unicode Standard Annex #9, "Explicit Directional Formatting"):
 * ALM U+061C, LRM U+200E, RLM U+200F, LRE/RLE/PDF/LRO/RLO U+202A–U+202E, LRI/RLI/FSI/PDI U+2066–U+2069.
 * In event text they can make `user/\u202Etoor` read as `user/root` or `report\u202Egpj.json` as
 * `reportnosj.jpg`.
 */
export const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/**
 * Event-derived text made safe to read: each bidi control character (see {@link BIDI_CONTROLS}) is replaced by
 * a visible marker `⟨U+202E⟩`, so it neither reorders the text around it nor hides. Other text is unchanged.
 */
export function visible(s: string): string {
  return s.replace(BIDI_CONTROLS, (c) => `⟨U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`);
}
