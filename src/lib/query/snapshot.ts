/**
 * The persisted snapshot of the query index's columns (the `snapshots` table of the store, store/db.ts), so
 * that a reload reads one compact copy of the merged columnar index instead of reading and merging every
 * stored segment again: per string column one global dictionary (joined string plus end offsets) and the codes
 * of every row (Uint16Array when the dictionary fits), the time, file and eventID-hash arrays, and the segments
 * the rows came from, in row order (see {@link ColumnarSnapshot}).
 *
 * Records (one IndexedDB row each, written together in one transaction):
 * - `meta`: {@link SnapshotMeta} (format, COLUMNS_SCHEME, covered segments and their row counts);
 * - `rows`: `time` (Float64Array), `file` (Uint32Array), `eid` (Uint32Array, two lanes per row);
 * - `col:<column>`: `text`, `ends`, `codes` of one string column.
 *
 * A snapshot is used only when it matches this build (format, COLUMNS_SCHEME) and every segment it covers is
 * still stored; segments are only ever added (writer.ts), and Delete all deletes the snapshot with the store,
 * so the covered rows are then exactly what reading those segments would give. Stored segments it does not
 * cover are read and appended after it.
 */
import { COLUMNS_SCHEME, STRING_COLUMNS, type StringColumn } from '../codec/segment';
import type { KeyTrailDB, SnapshotRecord } from '../store/db';
import type { ColumnarSnapshot } from './columnar';

/** Layout version of the snapshot records; a snapshot of another format is ignored (and replaced). */
export const SNAPSHOT_FORMAT = 1;

/** The `meta` record of a snapshot. */
export interface SnapshotMeta {
  key: 'meta';
  format: number;
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

/** The records of a snapshot of `s` (meta first). */
export function snapshotRecords(s: ColumnarSnapshot, now = Date.now()): SnapshotRecord[] {
  const meta: SnapshotMeta = {
    key: 'meta',
    format: SNAPSHOT_FORMAT,
    columnsScheme: COLUMNS_SCHEME,
    n: s.n,
    segments: s.segments,
    counts: s.counts,
    stale: s.stale,
    writtenAt: now,
  };
  const out: SnapshotRecord[] = [
    meta as unknown as SnapshotRecord,
    { key: 'rows', time: s.time, file: s.file, eid: s.eid },
  ];
  for (const name of Object.keys(s.cols) as StringColumn[]) out.push({ key: `col:${name}`, ...s.cols[name] });
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
 * Reads the stored snapshot, or null when there is none, or it is of another format or COLUMNS_SCHEME, or it
 * covers a segment not in `stored` (the ids of every stored segment), or a part is missing or inconsistent.
 */
export async function readSnapshot(db: KeyTrailDB, stored: ReadonlySet<number>): Promise<ColumnarSnapshot | null> {
  const records = await db.transaction('r', db.snapshots, () => db.snapshots.toArray());
  const byKey = new Map(records.map((r) => [r.key, r]));
  const meta = byKey.get('meta') as unknown as SnapshotMeta | undefined;
  if (!meta || meta.format !== SNAPSHOT_FORMAT || meta.columnsScheme !== COLUMNS_SCHEME) return null;
  if (!(meta.segments instanceof Uint32Array) || !(meta.counts instanceof Uint32Array)) return null;
  if (meta.segments.length !== meta.counts.length) return null;
  for (const id of meta.segments) if (!stored.has(id)) return null;
  const rows = byKey.get('rows') as { time?: unknown; file?: unknown; eid?: unknown } | undefined;
  if (
    !rows ||
    !(rows.time instanceof Float64Array) ||
    !(rows.file instanceof Uint32Array) ||
    !(rows.eid instanceof Uint32Array)
  )
    return null;
  const cols = {} as ColumnarSnapshot['cols'];
  for (const name of Object.keys(STRING_COLUMNS) as StringColumn[]) {
    const c = byKey.get(`col:${name}`) as { text?: unknown; ends?: unknown; codes?: unknown } | undefined;
    if (
      !c ||
      typeof c.text !== 'string' ||
      !(c.ends instanceof Uint32Array) ||
      !(c.codes instanceof Uint16Array || c.codes instanceof Uint32Array)
    )
      return null;
    if (c.ends.length && c.ends[c.ends.length - 1] !== c.text.length) return null;
    cols[name] = { text: c.text, ends: c.ends, codes: c.codes };
  }
  return {
    n: meta.n,
    segments: meta.segments,
    counts: meta.counts,
    stale: meta.stale instanceof Uint32Array ? meta.stale : new Uint32Array(0),
    time: rows.time,
    file: rows.file,
    eid: rows.eid,
    cols,
  };
}
