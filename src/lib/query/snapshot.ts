/**
 * The persisted snapshot of the query index's columns (the `snapshots` table of the store, store/db.ts), so
 * that a reload reads one compact copy of the merged columnar index instead of reading and merging every
 * stored segment again: per string column one global dictionary (joined string plus end offsets) and the codes
 * of every row (Uint16Array when the dictionary fits), the time, file and eventID-hash arrays, and the segments
 * the rows came from, in row order (see {@link ColumnarSnapshot}).
 *
 * Records (one IndexedDB row each, written together in one transaction, each carrying the snapshot's `id`):
 * - `meta`: {@link SnapshotMeta} (format, COLUMNS_SCHEME, covered segments and their row counts);
 * - `time`: the rest of the snapshot's core, eventTime of every row ({@link encodeTime}: whole seconds as
 *   varint-coded differences from row to row when every time is a whole second, else epoch ms);
 * - one record per part ({@link SnapshotPart}): `col:<column>` (`text`, `ends`, `codes` of one string column),
 *   `file` (Uint32Array), `eid` (Uint32Array, two lanes per row).
 * A reload reads the core first ({@link readSnapshotCore}) and then each part ({@link readSnapshotPart}), the
 * parts a query needs first: at 5M events the core and one column are ~50 MB of ~400 MB.
 *
 * A snapshot is used only when it matches this build (format, COLUMNS_SCHEME) and every segment it covers is
 * still stored; segments are only ever added (writer.ts), and Delete all deletes the snapshot with the store,
 * so the covered rows are then exactly what reading those segments would give. Stored segments it does not
 * cover are read and appended after it. Another tab may replace the snapshot between two reads: a part whose
 * `id` is not the core's is not used (the reader then builds the index from the segments).
 */
import { COLUMNS_SCHEME, type StringColumn } from '../codec/segment';
import type { KeyTrailDB, SnapshotRecord } from '../store/db';
import {
  isWholeSecond,
  touchPages,
  type ColumnarSnapshot,
  type SnapshotCore,
  type SnapshotPart,
  type SnapshotPartData,
} from './columnar';

/** Layout version of the snapshot records; a snapshot of another format is ignored (and replaced). */
export const SNAPSHOT_FORMAT = 5;

/** The IndexedDB key of a part's record. */
export function partKey(part: SnapshotPart): string {
  return part === 'file' || part === 'eid' ? part : `col:${part}`;
}

/** The `meta` record of a snapshot. */
export interface SnapshotMeta {
  key: 'meta';
  format: number;
  /** Random id of this snapshot, carried by each of its records. */
  id: string;
  /** COLUMNS_SCHEME (codec/segment.ts) of the build that wrote it: another scheme's columns are not used. */
  columnsScheme: number;
  /** Rows covered. */
  n: number;
  /** Covered segment ids in row order, and the rows of each. */
  segments: Uint32Array;
  counts: Uint32Array;
  /** Covered segments whose columns were derived with an older COLUMNS_SCHEME. */
  stale: Uint32Array;
  /** Epoch ms when it was written. */
  writtenAt: number;
}

/** The records of a snapshot of `s` (meta first), all carrying one new random `id`. */
export function snapshotRecords(s: ColumnarSnapshot, now = Date.now()): SnapshotRecord[] {
  const id = crypto.randomUUID();
  const meta: SnapshotMeta = {
    key: 'meta',
    format: SNAPSHOT_FORMAT,
    id,
    columnsScheme: COLUMNS_SCHEME,
    n: s.n,
    segments: s.segments,
    counts: s.counts,
    stale: s.stale,
    writtenAt: now,
  };
  const out: SnapshotRecord[] = [
    meta as unknown as SnapshotRecord,
    { key: 'time', id, ...encodeTime(s.time) },
    { key: partKey('file'), id, file: s.file },
    { key: partKey('eid'), id, eid: s.eid },
  ];
  for (const name of Object.keys(s.cols) as StringColumn[]) out.push({ key: partKey(name), id, ...s.cols[name] });
  return out;
}

/**
 * Replaces the stored snapshot with `s`, in one transaction (a reader sees the old snapshot or the new one).
 * @throws the store's error (closed by Delete all, quota exceeded); the caller ignores it.
 */
export async function writeSnapshot(db: KeyTrailDB, s: ColumnarSnapshot): Promise<void> {
  const records = snapshotRecords(s);
  await db.transaction('rw', db.snapshots, async () => {
    await db.snapshots.clear();
    await db.snapshots.bulkPut(records);
  });
}

/**
 * The eventTime array a restore of `meta`'s rows decodes into (n float64), allocated with its pages touched
 * ({@link touchPages}) while IndexedDB reads the time record: 40 MB of fresh memory at 5M rows, ~0.2 s of page
 * faults on the bench machine (up to three times that while the page before a reload frees its memory), taken
 * off the path to the first answer. (The rows' time order is not computed before the first answer: a query's
 * first rows are chosen without it, see `firstRowsByTime`, query/columnar.ts.)
 */
export function prefaultTime(meta: Pick<SnapshotMeta, 'n'>): Float64Array {
  return touchPages(new Float64Array(meta.n));
}

/** A snapshot's core as read: its id and what {@link ColumnarIndex.restoreCore} takes. */
export interface StoredSnapshotCore extends SnapshotCore {
  id: string;
}

/**
 * Reads the core of the stored snapshot (meta and eventTime), or null when there is none, or it is of another
 * format or COLUMNS_SCHEME, or it covers a segment not in `stored` (the ids of every stored segment; may be
 * still being read: the snapshot is read meanwhile), or its time is missing or inconsistent.
 * @throws the store's error (closed by Delete all).
 */
export async function readSnapshotCore(
  db: KeyTrailDB,
  stored: ReadonlySet<number> | Promise<ReadonlySet<number>>,
): Promise<StoredSnapshotCore | null> {
  // the meta record (small) first, then the time record, in one transaction: the array the time is decoded into
  // is allocated while the time record is read
  const [[meta, timeRecord, touched], storedIds] = await Promise.all([
    db.transaction('r', db.snapshots, async () => {
      const metaRead = db.snapshots.get('meta') as Promise<SnapshotMeta | undefined>;
      const timeRead = db.snapshots.get('time');
      const meta = await metaRead;
      const touched = usableMeta(meta) && meta.n > 0 ? prefaultTime(meta) : undefined;
      return [meta, await timeRead, touched] as const;
    }),
    stored,
  ]);
  if (!usableMeta(meta)) return null;
  for (const id of meta.segments) if (!storedIds.has(id)) return null;
  const time = timeRecord && decodeTime(timeRecord, meta.n, touched);
  if (timeRecord?.id !== meta.id || !time) return null;
  return {
    id: meta.id,
    n: meta.n,
    segments: meta.segments,
    counts: meta.counts,
    stale: meta.stale instanceof Uint32Array ? meta.stale : new Uint32Array(0),
    time,
  };
}

/** Whether `meta` is the meta record of a snapshot this build can read (format, COLUMNS_SCHEME, shapes). */
function usableMeta(meta: SnapshotMeta | undefined): meta is SnapshotMeta {
  if (!meta || meta.format !== SNAPSHOT_FORMAT || meta.columnsScheme !== COLUMNS_SCHEME) return false;
  if (typeof meta.id !== 'string' || !Number.isInteger(meta.n) || meta.n < 0) return false;
  if (!(meta.segments instanceof Uint32Array) || !(meta.counts instanceof Uint32Array)) return false;
  if (meta.segments.length !== meta.counts.length) return false;
  let rows = 0;
  for (const c of meta.counts) rows += c;
  return rows === meta.n;
}

/**
 * Reads one part of the snapshot whose core had id `id`; undefined when the stored snapshot is no longer that
 * one (another tab replaced it), the part is missing, or `id` resolves to undefined (no usable core). `id` may
 * be the pending read of the core's id: the part is then read at the same time as the core. Its content is
 * checked by {@link ColumnarIndex.restorePart}.
 * @throws the store's error (closed by Delete all).
 */
export async function readSnapshotPart(
  db: KeyTrailDB,
  id: string | Promise<string | undefined>,
  part: SnapshotPart,
): Promise<SnapshotPartData | undefined> {
  const [r, want] = await Promise.all([db.snapshots.get(partKey(part)), id]);
  if (!r || want === undefined || r.id !== want) return undefined;
  return r as unknown as SnapshotPartData;
}

/** Widest span of whole-second times {@link encodeTime} codes, in seconds (about 34 years). */
const MAX_CODED_SPAN = 2 ** 30 - 2;

/**
 * eventTime of every row as stored in a snapshot. When every time is a whole second (CloudTrail writes
 * `2024-05-01T12:00:00Z`) within {@link MAX_CODED_SPAN} of the earliest (`base`, epoch ms): each row's code
 * (0 for none, else 1 + seconds since `base`) as the difference from the previous row's code, zigzag-coded in
 * LEB128 varint bytes (`deltas`): rows arrive file by file in about time order, so most take one byte (~5 MB
 * instead of 40 MB of epoch ms at 5M rows, read back before the first answer). Otherwise `time`, the epoch ms.
 */
export function encodeTime(time: Float64Array): { base: number; deltas: Uint8Array } | { time: Float64Array } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < time.length; i++) {
    const v = time[i];
    if (v !== v) continue;
    if (!isWholeSecond(v)) return { time };
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === Infinity) min = max = 0;
  if ((max - min) / 1000 > MAX_CODED_SPAN) return { time };
  const out = new Uint8Array(time.length * 5);
  let k = 0;
  let prev = 0;
  for (let i = 0; i < time.length; i++) {
    const v = time[i];
    const code = v === v ? (v - min) / 1000 + 1 : 0;
    const d = code - prev;
    prev = code;
    let z = ((d << 1) ^ (d >> 31)) >>> 0;
    while (z >= 0x80) {
      out[k++] = (z & 0x7f) | 0x80;
      z >>>= 7;
    }
    out[k++] = z;
  }
  return { base: min, deltas: out.slice(0, k) };
}

/**
 * The epoch ms of `n` rows from a snapshot's `time` record ({@link encodeTime}), or null when it holds neither
 * form or its codes do not decode to exactly `n` rows within the coded span. Varint codes are decoded into
 * `into` when it has `n` entries (its content is then overwritten, also when null is returned).
 */
export function decodeTime(r: { [field: string]: unknown }, n: number, into?: Float64Array): Float64Array | null {
  if (r.time instanceof Float64Array) return r.time.length === n ? r.time : null;
  const { deltas, base } = r;
  if (!(deltas instanceof Uint8Array) || typeof base !== 'number' || !Number.isFinite(base)) return null;
  const time = into?.length === n ? into : new Float64Array(n);
  let k = 0;
  let code = 0;
  const end = deltas.length;
  for (let i = 0; i < n; i++) {
    let z = deltas[k];
    if (z < 0x80 && k < end)
      k++; // one byte: most rows (the loop below reads any)
    else {
      z = 0;
      let shift = 0;
      let b;
      do {
        if (k >= end || shift > 28) return null;
        b = deltas[k++];
        z |= (b & 0x7f) << shift;
        shift += 7;
      } while (b & 0x80);
    }
    code += (z >>> 1) ^ -(z & 1);
    if (code < 0 || code > MAX_CODED_SPAN + 1) return null;
    time[i] = code === 0 ? NaN : base + (code - 1) * 1000;
  }
  return k === end ? time : null;
}
