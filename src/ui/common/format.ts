/**
 * UTC time text for the views (src/lib/format/utc.ts): `utc` formats epoch ms as CloudTrail writes times,
 * `YYYY-MM-DDTHH:MM:SSZ`, '' for NaN.
 */
export { utcSeconds as utc, utcDay, utcIso, utcFileStamp } from '../../lib/format/utc';

/**
 * One formatter for every count: `Number.prototype.toLocaleString` builds a new one per call (~0.1 ms), which
 * the ingest progress line paid several times per file.
 */
const COUNT_FORMAT = new Intl.NumberFormat('en-US');

/** Formats a count with thousands separators (as `n.toLocaleString('en-US')`: `1,234,567`). */
export function count(n: number): string {
  return COUNT_FORMAT.format(n);
}

export { formatBytes as bytes } from '../../lib/codec/limits';

/**
 * Unicode bidirectional formatting characters (Unicode Standard Annex #9, "Explicit Directional Formatting"):
 * ALM U+061C, LRM U+200E, RLM U+200F, LRE/RLE/PDF/LRO/RLO U+202A–U+202E, LRI/RLI/FSI/PDI U+2066–U+2069.
 * In event text they can make `user/\u202Etoor` read as `user/root` or `report\u202Egpj.json` as
 * `reportnosj.jpg`.
 */
const BIDI_CONTROLS = /[\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/**
 * Event-derived text made safe to read: each bidi control character (see {@link BIDI_CONTROLS}) is replaced by
 * a visible marker `⟨U+202E⟩`, so it neither reorders the text around it nor hides. Other text is unchanged.
 */
export function visible(s: string): string {
  return s.replace(BIDI_CONTROLS, (c) => `⟨U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`);
}
