import type { ConfigKind } from './db';
import type { CloudTrailEvent } from '../cloudtrail/event';
import type { DigestDocument } from '../cloudtrail/digest';
import type { FieldStore } from '../codec/fields';
import type { Source } from '../codec/gzip';
import type { DictColumn, StringColumn } from '../codec/segment';

/*
 * What the store's writer commits: one document read, parsed, hashed and indexed by ingest (ingest/prepare.ts
 * builds it). Declared here, beside the writer, so the store depends on no ingest module.
 */

/**
 * The query index of up to `CHUNK_EVENTS` consecutive events of a prepared document, built before
 * deduplication (outside the store's commit lock): its field store and columns. The writer stores each
 * block's new events as one chunk (selecting rows when some events were already stored).
 */
export interface PreparedBlock {
  /** Index in `Prepared.events` of the block's first event. */
  start: number;
  /** Events in the block. */
  n: number;
  fields: Omit<FieldStore, 'id'>;
  /** eventTime, epoch ms UTC (NaN when absent). */
  time: Float64Array;
  cols: Record<StringColumn, DictColumn>;
}

/** One document read, parsed, hashed and indexed, ready to be deduplicated and committed. */
export interface Prepared {
  path: string;
  kind: 'events' | 'digest' | 'not-cloudtrail' | 'corrupt';
  /** Why not-cloudtrail / corrupt, or notes on skipped records. */
  reason?: string;
  /** Input shape id. */
  format?: string;
  /** Decompressed size in bytes. */
  bytes: number;
  /** Records skipped (not events, too deep). */
  skipped: number;
  /**
   * The parsed events, when the path that prepared the document kept them: `prepare` reads an S3 delivery
   * file record by record and keeps none (each block's events are dropped once indexed), so the number of
   * events is `h.length / 2`, never `events.length`.
   */
  events: CloudTrailEvent[];
  /** Content hash of each event (two u32 lanes per event, `h.length / 2` events). */
  h: Uint32Array;
  /** eventID hash of each event (two u32 lanes; 0, 0 for none). */
  e: Uint32Array;
  /** The events' index, in blocks of consecutive events (empty unless kind is 'events'). */
  blocks: PreparedBlock[];
  /**
   * Each event's index in the `Records` array of `source` (one per event), when the document is an
   * S3 delivery file and its bytes are at hand: the stored copy of the events is then the source itself
   * plus these indices (an event's text is found again when read; see store/raw.ts).
   */
  records?: Uint32Array;
  /** The bytes the document was read from (gzip or plain), stored as the copy of its events with `records`. */
  source?: Source;
  /** Otherwise, each event's JSON text (its original text when known, else re-serialised), one per event. */
  texts?: string[];
  /** A trail configuration document (describe-trails, get-event-selectors, get-trail-status output). */
  config?: { kind: ConfigKind; doc: unknown };
  /** Whether `source` is gzip. */
  sourceGzip?: boolean;
  digest?: DigestDocument;
}
