import type { CloudTrailEvent } from '../../cloudtrail/event';

/** What one input shape found in a parsed JSON document. */
export interface Extracted {
  /** The CloudTrail events found. */
  events: CloudTrailEvent[];
  /** Items that looked like records but were not events (wrong type, no eventSource/eventName, bad JSON). */
  skipped: number;
  /** Human-readable notes on what was skipped (at most a few). */
  notes: string[];
}

/**
 * One input shape KeyTrail reads (S3 delivery file, lookup-events output, EventBridge envelope...).
 * Detection is separate from extraction: `detect` is cheap and never throws.
 */
export interface InputFormat {
  /** Stable id, shown in the files view (for example `s3-delivery`). */
  id: string;
  /** True when the parsed document has this shape. */
  detect(doc: unknown): boolean;
  /**
   * The events the document holds.
   * @throws FormatError when the document has the shape but is broken (for example `Records` not an array).
   */
  extract(doc: unknown): Extracted;
}

/**
 * The JSON parser the input shapes use for JSON held in strings (lookup-events' CloudTrailEvent):
 * `JSON.parse`, swapped for the range-recording parser of ingest/exact.ts while a document is re-read exactly.
 */
export const jsonHook: { parse: (text: string) => unknown } = { parse: (text) => JSON.parse(text) };

/** A document that has a known shape but is broken; the message names the problem. */
export class FormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FormatError';
  }
}

/** True for a plain JSON object. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Collects events out of a list of items, each of which may be any item shape `unwrap` understands. */
export function collect(items: unknown[], unwrap: (item: unknown) => CloudTrailEvent | string | null): Extracted {
  const out: Extracted = { events: [], skipped: 0, notes: [] };
  for (let i = 0; i < items.length; i++) {
    const r = unwrap(items[i]);
    if (r && typeof r === 'object') out.events.push(r);
    else {
      out.skipped++;
      if (out.notes.length < 3) out.notes.push(`item ${i}: ${r ?? 'not a CloudTrail event'}`);
    }
  }
  return out;
}
