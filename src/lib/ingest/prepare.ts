import type { CloudTrailEvent } from '../cloudtrail/event';
import { MAX_DEPTH, stringHash } from '../codec/hash';
import { FieldStoreBuilder } from '../codec/fields';
import { ColumnsBuilder, CHUNK_EVENTS } from '../codec/segment';
import type { Leaf } from './open';
import type { Prepared, PreparedBlock } from '../store/prepared';
import {
  deliveryRecords,
  documentOf,
  parseText,
  parseTextExact,
  type DeliveryRecords,
  type ParseOutcome,
} from './parse';
import { isEvent } from '../cloudtrail/event';
import { countKeysOutside, exactHash, keyColons, rawTextOf } from '../codec/exact';
import { walkStats } from '../codec/hash';
import { arrayRanges } from '../codec/slices';
import { phase } from '../codec/phases';
import { scanDelivery } from './deliveryScan';

export type { Prepared, PreparedBlock } from '../store/prepared';

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Smallest decoded document (bytes) whose events are stored as its source bytes plus record indices;
 * smaller ones store each event's text. IndexedDB keeps every stored Blob as a file of its own, which made
 * 10,000 tiny files cost a file creation each.
 */
const MIN_SOURCE_BYTES = 64 * 1024;

/**
 * Decodes, parses, hashes and indexes one leaf (field stores and columns in blocks of `CHUNK_EVENTS`).
 * An S3 delivery document stored as its source is first read by the byte-level reader (ingest/deliveryScan.ts,
 * WebAssembly; {@link prepareWasm}), which declines what it would not read exactly as JavaScript does. Otherwise
 * field stores and hashes come from the parsed events ({@link prepareByRecord}): an S3 delivery document is
 * parsed record by record (no parsed events are kept), any other document whole.
 * Never throws: every problem becomes a `corrupt` or `not-cloudtrail`
 * outcome naming it.
 */
export function prepare(leaf: Leaf): Prepared {
  return prepareWasm(leaf) ?? prepareByRecord(leaf);
}

/**
 * {@link prepareByRecord}'s result for an S3 delivery document stored as its source (`leaf.source`, at least
 * MIN_SOURCE_BYTES), read by the byte-level reader (ingest/deliveryScan.ts) without decoding the document or
 * parsing its records: each block's field store, hashes and columns (from the few members the columns read).
 * Null when the leaf is not such a document or the reader declines it (see wasm/deliveryScan.ts).
 */
export function prepareWasm(leaf: Leaf): Prepared | null {
  if ('status' in leaf || !leaf.source || leaf.bytes.length < MIN_SOURCE_BYTES) return null;
  const t = performance.now();
  const sc = scanDelivery(leaf.bytes, CHUNK_EVENTS);
  phase('wasm', t);
  if (!sc) return null;
  const n = sc.h.length / 2;
  const records = new Uint32Array(n);
  for (let i = 0; i < n; i++) records[i] = i;
  return {
    path: leaf.path,
    kind: 'events',
    format: 's3-delivery',
    bytes: leaf.bytes.length,
    skipped: 0,
    events: [],
    h: sc.h,
    e: sc.e,
    blocks: sc.blocks,
    records,
    source: leaf.source,
    sourceGzip: leaf.compressed,
  };
}

/**
 * {@link prepare} without the byte-level reader or the record-by-record read: every document's field stores and
 * hashes come from its parsed events (FieldStoreBuilder) and the exact pass (codec/exact.ts), each document
 * parsed whole. The reference the record-by-record read is tested against: its results must equal it exactly
 * (but for the parsed events the record-by-record read does not keep).
 */
export function prepareReference(leaf: Leaf): Prepared {
  return prepareWith(leaf, false);
}

/**
 * {@link prepare} of an S3 delivery document read record by record (`deliveryRecords`, ingest/parse.ts): each
 * record is parsed alone, indexed with its block and dropped, so `events` comes back empty (the count is
 * `h.length / 2`); everything else equals {@link prepareReference}'s result. Other documents are read as
 * {@link prepareReference} reads them, events kept.
 */
export function prepareByRecord(leaf: Leaf): Prepared {
  return prepareWith(leaf, true);
}

/** Thrown inside a record-by-record read when a record is not an event: the document is read whole instead. */
const NOT_ALL_EVENTS = new Error('a record is not an event');

function prepareWith(leaf: Leaf, byRecord: boolean): Prepared {
  const empty = { events: [], h: new Uint32Array(0), e: new Uint32Array(0), blocks: [], skipped: 0 };
  if ('status' in leaf) return { path: leaf.path, kind: leaf.status, reason: leaf.reason, bytes: 0, ...empty };
  const bytes = leaf.bytes.length;
  let text: string;
  let t = performance.now();
  try {
    text = decoder.decode(leaf.bytes);
    t = phase('decode', t);
  } catch {
    let bad = 0;
    try {
      // find the first bad byte for the message
      for (let lo = 0, hi = leaf.bytes.length; lo < hi;) {
        const mid = (lo + hi) >> 1;
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(leaf.bytes.subarray(0, mid), { stream: true });
          lo = mid + 1;
          bad = mid;
        } catch {
          hi = mid;
        }
      }
    } catch {
      /* position is best effort */
    }
    return { path: leaf.path, kind: 'corrupt', reason: `not valid UTF-8 text (near byte ${bad})`, bytes, ...empty };
  }
  const docText = text;
  const split = byRecord ? deliveryRecords(text) : null;
  if (split) {
    t = phase('parse', t);
    try {
      return indexEvents(
        leaf,
        bytes,
        docText,
        { kind: 'events', format: 's3-delivery', events: [], skipped: 0, notes: [], aligned: true },
        split,
        t,
      );
    } catch (err) {
      if (err !== NOT_ALL_EVENTS) throw err;
      // a record is not an event (or does not parse): the whole document is read, and its skips counted
    }
  }
  const out = parseText(text);
  t = phase('parse', t);
  if (out.kind === 'not-cloudtrail' || out.kind === 'corrupt') {
    return {
      path: leaf.path,
      kind: out.kind,
      reason: out.reason,
      bytes,
      ...empty,
      ...(out.kind === 'not-cloudtrail' && out.config ? { config: out.config, format: 'trail-config' } : {}),
    };
  }
  if (out.kind === 'digest')
    return { path: leaf.path, kind: 'digest', digest: out.digest, format: 'digest', bytes, ...empty };
  return indexEvents(leaf, bytes, docText, out, null, t);
}

/**
 * Indexes the events of a parsed document (`out.events`), or, with `split`, of an S3 delivery document read
 * record by record (`out.events` empty; each record parsed, indexed in its block, and dropped).
 * @throws NOT_ALL_EVENTS (only with `split`) when a record does not parse or is not an event.
 */
function indexEvents(
  leaf: Extract<Leaf, { bytes: Uint8Array }>,
  bytes: number,
  docText: string,
  out: Extract<ParseOutcome, { kind: 'events' }>,
  split: DeliveryRecords | null,
  t: number,
): Prepared {
  const total = split ? split.ranges.length / 2 : out.events.length;
  const ranges = split?.ranges;
  const recordAt = ranges
    ? (k: number): CloudTrailEvent => {
        let ev: unknown;
        try {
          ev = JSON.parse(docText.slice(ranges[k * 2], ranges[k * 2 + 1]));
        } catch {
          throw NOT_ALL_EVENTS;
        }
        if (!isEvent(ev)) throw NOT_ALL_EVENTS;
        return ev;
      }
    : (k: number) => out.events[k];
  /** The kept events (none when read record by record: each block's events are dropped once indexed). */
  const events: CloudTrailEvent[] = [];
  const keep = !split;
  let kept = 0;
  // each block's columns are built as its events are read: a record read alone dies once added
  let columns = new ColumnsBuilder(Math.min(total, CHUNK_EVENTS));
  // Each kept event's index among the document's records. A small document's events are stored as text: a
  // stored source is a blob, which costs a file of its own.
  const recordOf = new Uint32Array(total);
  const bySource = !!(out.aligned && leaf.source && bytes >= MIN_SOURCE_BYTES);
  const h = new Uint32Array(total * 2);
  const e = new Uint32Array(total * 2);
  let skipped = out.skipped;
  const notes = out.notes.slice();
  const blocks: PreparedBlock[] = [];
  let builder = new FieldStoreBuilder(Math.min(total, CHUNK_EVENTS));
  let blockStart = 0;
  walkStats.keys = 0;
  /** Events (indices in `events`) holding a number a double may not hold as written. */
  const lossy: number[] = [];
  const closeBlock = () => {
    const n = kept - blockStart;
    if (!n) return;
    const { time, cols } = columns.finish();
    blocks.push({ start: blockStart, n, fields: builder.finish(), time, cols });
    blockStart = kept;
    builder = new FieldStoreBuilder(Math.min(total - kept, CHUNK_EVENTS));
    columns = new ColumnsBuilder(Math.min(total - kept, CHUNK_EVENTS));
  };
  for (let k = 0; k < total; k++) {
    const ev = recordAt(k);
    const i = kept;
    walkStats.lossy = false;
    // the content hash comes out of the same walk that builds the field store
    if (!builder.addEvent(ev as unknown as Record<string, unknown>, h, i * 2)) {
      skipped++;
      if (notes.length < 3) notes.push(`event skipped: JSON nested more than ${MAX_DEPTH} levels deep`);
      continue;
    }
    if (typeof ev.eventID === 'string' && ev.eventID) stringHash(ev.eventID, e, i * 2);
    columns.add(ev);
    if (keep) events.push(ev);
    kept++;
    recordOf[i] = k;
    if (walkStats.lossy) lossy.push(i);
    if (builder.rows === CHUNK_EVENTS) closeBlock();
  }
  closeBlock();
  t = phase('index', t);
  // Same event = same JSON as written (keys sorted). The walk hashed parsed values: the events holding a
  // number that may not be as written are hashed again from their own text, and all of them when the
  // document's `":` count differs from the members parsed (a repeated key, or white space before a colon).
  // See ingest/exact.ts.
  let exactTexts: (string | undefined)[] | null = null;
  if (kept) {
    const colons = keyColons(docText);
    const outside = split
      ? countKeysOutside(split.outside, new Set())
      : documentOf.has(out)
        ? countKeysOutside(documentOf.get(out), new Set(out.events))
        : -1;
    const all = colons < 0 || colons !== walkStats.keys + outside;
    const which = all ? Array.from({ length: kept }, (_, i) => i) : lossy;
    if (which.length) {
      // each event's text: the Records element ranges of an S3 delivery file, else the document read again
      const r = ranges ?? (out.aligned ? arrayRanges(docText, 'Records') : null);
      let rawOf: (k: number) => string | undefined;
      if (r && r.length === total * 2) rawOf = (k) => docText.slice(r[k * 2], r[k * 2 + 1]);
      else {
        const again = parseTextExact(docText);
        rawOf =
          again && again.kind === 'events' && again.events.length === out.events.length
            ? (k) => rawTextOf(again.events[k])
            : () => undefined;
      }
      exactTexts = new Array(kept);
      for (const i of which) {
        const raw = rawOf(recordOf[i]);
        if (raw === undefined) continue;
        try {
          exactHash(raw, h, i * 2);
          exactTexts[i] = raw;
        } catch {
          /* keep the walk's hash */
        }
      }
    }
  }
  phase('exact', t);
  const reason = skipped ? `${skipped} record(s) skipped${notes.length ? ': ' + notes.join('; ') : ''}` : undefined;
  const empty = { events: [], h: new Uint32Array(0), e: new Uint32Array(0), blocks: [], skipped: 0 };
  if (!kept)
    return { path: leaf.path, kind: 'not-cloudtrail', reason: reason ?? 'no CloudTrail events', bytes, ...empty };
  return {
    path: leaf.path,
    kind: 'events',
    format: out.format,
    bytes,
    skipped,
    reason,
    events,
    h: h.subarray(0, kept * 2),
    e: e.subarray(0, kept * 2),
    blocks,
    ...(bySource
      ? { records: recordOf.subarray(0, kept), source: leaf.source, sourceGzip: leaf.compressed }
      : {
          texts: eventTexts(docText, out.aligned ? total : -1, kept, events, recordOf, exactTexts, ranges),
        }),
  };
}

/**
 * The JSON text of each of the `count` kept events: its original text when the document is an S3 delivery file
 * of `records` records (event i being record `recordOf[i]`; `ranges` the records' ranges when already found),
 * else the event re-serialised.
 */
function eventTexts(
  doc: string,
  records: number,
  count: number,
  events: readonly CloudTrailEvent[],
  recordOf: Uint32Array,
  exact: readonly (string | undefined)[] | null,
  ranges?: Uint32Array,
): string[] {
  const r = ranges ?? (records >= 0 ? arrayRanges(doc, 'Records') : null);
  if (!r || r.length !== records * 2) return events.map((ev, i) => exact?.[i] ?? JSON.stringify(ev));
  return Array.from({ length: count }, (_, i) => doc.slice(r[recordOf[i] * 2], r[recordOf[i] * 2 + 1]));
}
