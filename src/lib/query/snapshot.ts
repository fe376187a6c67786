/**
 * The persisted snapshot of the query index's columns (the `snapshots` table of the store, store/db.ts), so
 * that a reload reads one compact copy of the merged columnar index instead of reading and merging every
 * stored segment again: per string column one global dictionary (joined string plus end offsets) and the codes
 * of every row (Uint16Array when the dictionary fits), the time, file and eventID-hash arrays, and the segments
 * the rows came from, in row order (see {@link ColumnarSnapshot}).
 *
 * Records (one IndexedDB row each, written together in one transaction, each carrying the snapshot's `id`):
 * - `meta`: {@link SnapshotMeta} (format, COLUMNS_SCHEME, covered segments and their row counts);
 * - `time`: the rest of the snapshot's core, eventTime of every row ({@link encodeTime}: whole seconds since the
 *   earliest as a Uint32Array when every time is a whole second, else epoch ms as a Float64Array);
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
import type { ColumnarSnapshot, SnapshotCore, SnapshotPart, SnapshotPartData } from './columnar';

/** Layout version of the snapshot records; a snapshot of another format is ignored (and replaced). */
export const SNAPSHOT_FORMAT = 4;

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

/** A snapshot's core as read: its id and what {@link ColumnarIndex.restoreCore} takes. */
export interface StoredSnapshotCore extends SnapshotCore {
  id: string;
}

/**
 * Reads the core of the stored snapshot (meta and eventTime), or null when there is none, or it is of another
 * format or COLUMNS_SCHEME, or it covers a segment not in `stored` (the ids of every stored segment), or its
 * time is missing or inconsistent.
 * @throws the store's error (closed by Delete all).
 */
export async function readSnapshotCore(
  db: KeyTrailDB,
  stored: ReadonlySet<number>,
): Promise<StoredSnapshotCore | null> {
  const [metaRecord, timeRecord] = await db.transaction('r', db.snapshots, () =>
    db.snapshots.bulkGet(['meta', 'time']),
  );
  const meta = metaRecord as unknown as SnapshotMeta | undefined;
  if (!meta || meta.format !== SNAPSHOT_FORMAT || meta.columnsScheme !== COLUMNS_SCHEME) return null;
  if (typeof meta.id !== 'string' || !Number.isInteger(meta.n)) return null;
  if (!(meta.segments instanceof Uint32Array) || !(meta.counts instanceof Uint32Array)) return null;
  if (meta.segments.length !== meta.counts.length) return null;
  for (const id of meta.segments) if (!stored.has(id)) return null;
  const time = timeRecord && decodeTime(timeRecord);
  if (timeRecord?.id !== meta.id || !time || time.length !== meta.n) return null;
  return {
    id: meta.id,
    n: meta.n,
    segments: meta.segments,
    counts: meta.counts,
    stale: meta.stale instanceof Uint32Array ? meta.stale : new Uint32Array(0),
    time,
  };
}

/**
 * Reads one part of the snapshot whose core had id `id`; undefined when the stored snapshot is no longer that
 * one (another tab replaced it) or the part is missing. Its content is checked by {@link ColumnarIndex.restorePart}.
 * @throws the store's error (closed by Delete all).
 */
export async function readSnapshotPart(
  db: KeyTrailDB,
  id: string,
  part: SnapshotPart,
): Promise<SnapshotPartData | undefined> {
  const r = await db.snapshots.get(partKey(part));
  if (!r || r.id !== id) return undefined;
  return r as unknown as SnapshotPartData;
}

/** No eventTime, in {@link encodeTime}'s seconds. */
const NO_TIME = 0xffffffff;

/**
 * eventTime of every row as stored in a snapshot: when every time is a whole second (CloudTrail writes
 * `2024-05-01T12:00:00Z`) within 136 years of the earliest, `seconds` since `base` (epoch ms) in a Uint32Array,
 * 0xFFFFFFFF for none (NaN): half the bytes of epoch ms to read back. Otherwise `time`, the epoch ms as they are.
 */
export function encodeTime(time: Float64Array): { base: number; seconds: Uint32Array } | { time: Float64Array } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < time.length; i++) {
    const v = time[i];
    if (v !== v) continue;
    if (v % 1000 !== 0) return { time };
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min === Infinity) min = max = 0;
  if ((max - min) / 1000 >= NO_TIME) return { time };
  const seconds = new Uint32Array(time.length);
  for (let i = 0; i < time.length; i++) {
    const v = time[i];
    seconds[i] = v === v ? (v - min) / 1000 : NO_TIME;
  }
  return { base: min, seconds };
}

/** The epoch ms of a snapshot's `time` record ({@link encodeTime}), or null when it holds neither form. */
export function decodeTime(r: { [field: string]: unknown }): Float64Array | null {
  if (r.time instanceof Float64Array) return r.time;
  const { seconds, base } = r;
  if (!(seconds instanceof Uint32Array) || typeof base !== 'number' || !Number.isFinite(base)) return null;
  const time = new Float64Array(seconds.length);
  for (let i = 0; i < seconds.length; i++) {
    const v = seconds[i];
    time[i] = v === NO_TIME ? NaN : base + v * 1000;
  }
  return time;
}
