import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { contentHash, stringHash } from '../../src/lib/codec/hash';
import { ingestTask } from '../../src/lib/ingest/ingest-core';
import { openDB, type KeyTrailDB } from '../../src/lib/store/db';
import { joinedFieldStore, SEP, type FieldStore } from '../../src/lib/codec/fields';
import { RawReader } from '../../src/lib/store/raw';
import { HASH_SCHEME, StoreWriter } from '../../src/lib/store/writer';
import { prepare } from '../../src/lib/ingest/prepare';
import { ColumnarIndex } from '../../src/lib/query/columnar';
import { COLUMNS_SCHEME } from '../../src/lib/codec/segment';
import { kmsEvent, kmsEvents, s3File, te, addPendingFile } from './helpers';

let dbn = 0;
async function drop(db: KeyTrailDB, writer: StoreWriter, path: string, text: string) {
  const bytes = te.encode(text);
  const fileId = await addPendingFile(db, path, bytes.length);
  const [r] = await ingestTask(
    db,
    writer,
    { fileId, path, source: new Blob([bytes]), size: bytes.length, lastModified: 0, fingerprint: path },
    () => {},
  );
  return r;
}

/** Value of `path` in row `row` of a field store ('' when absent). */
function fieldValue(fs: FieldStore, row: number, path: string): string {
  const p = fs.paths.indexOf(path);
  const values = fs.values.split(SEP);
  for (let e = fs.rowStart[row]; e < fs.rowStart[row + 1]; e++)
    if (fs.entryPath[e] === p) return values[fs.entryValue[e]];
  return '';
}

/** Every stored event of a file, in chunk order, with its segment row, field store row and hash row. */
async function stored(db: KeyTrailDB, fileId: number) {
  const reader = new RawReader(db);
  const out: {
    event: Record<string, unknown>;
    eventName: string;
    time: number;
    keyField: string;
    h: number[];
    e: number[];
  }[] = [];
  for (const c of await db.chunks.where('fileId').equals(fileId).sortBy('id')) {
    const seg = (await db.segments.get(c.id!))!;
    const fs = joinedFieldStore((await db.fields.get(c.id!))!);
    const hr = (await db.hashes.get(c.id!))!;
    const texts = await reader.chunkTexts(c.id!);
    expect(seg.n).toBe(texts.length);
    expect(fs.rowStart.length).toBe(texts.length + 1);
    texts.forEach((t, i) => {
      const col = seg.cols.eventName;
      out.push({
        event: JSON.parse(t),
        eventName: col.dict[col.codes[i]],
        time: seg.time[i],
        keyField: fieldValue(fs, i, 'requestParameters.keyId'),
        h: [hr.h[i * 2], hr.h[i * 2 + 1]],
        e: [seg.eid[i * 2], seg.eid[i * 2 + 1]],
      });
    });
    // compacted dictionaries: every value is used by some row
    for (const col of Object.values(seg.cols)) expect(new Set(col.codes).size).toBe(col.dict.length);
  }
  return out;
}

describe('StoreWriter', () => {
  it('stores only the new events of a partly known file, each with its own columns, fields and hashes', async () => {
    const db = openDB(`writer-${++dbn}`);
    const writer = new StoreWriter(db);
    const a = await drop(db, writer, 'a.json', s3File(kmsEvents(3000)));
    expect(a).toMatchObject({ status: 'ingested', events: 3000, newEvents: 3000 });
    // events 1500..4499: the first block (1500..3499) holds 1500 known events and 500 new ones
    const b = await drop(db, writer, 'b.json', s3File(kmsEvents(3000, 1500)));
    expect(b).toMatchObject({ status: 'ingested', events: 3000, newEvents: 1500 });
    const rows = await stored(db, b.fileId);
    expect(rows.map((r) => r.event.eventID)).toEqual(kmsEvents(1500, 3000).map((e) => e.eventID));
    expect((await db.segments.where('fileId').equals(b.fileId).toArray()).map((s) => s.n)).toEqual([500, 1000]);
    const want = new Uint32Array(2);
    const wantE = new Uint32Array(2);
    for (const r of rows) {
      expect(r.eventName).toBe(r.event.eventName);
      expect(r.time).toBe(Date.parse(r.event.eventTime as string));
      expect(r.keyField).toBe((r.event.requestParameters as { keyId: string }).keyId);
      contentHash(r.event, want, 0);
      expect(r.h).toEqual([...want]);
      stringHash(r.event.eventID as string, wantE, 0);
      expect(r.e).toEqual([...wantE]);
    }
    expect(await db.meta.get('stats')).toMatchObject({ events: 4500, hashScheme: HASH_SCHEME });
    const again = await drop(db, writer, 'c.json', s3File([...kmsEvents(10, 4000)].reverse()));
    expect(again).toMatchObject({ status: 'duplicate', events: 10, newEvents: 0 });
    db.close();
  });

  it('keeps both events that share an eventID but differ, and records the conflict', async () => {
    const db = openDB(`writer-${++dbn}`);
    const writer = new StoreWriter(db);
    await drop(db, writer, 'a.json', s3File(kmsEvents(5)));
    const tampered = kmsEvent(3, { eventName: 'ScheduleKeyDeletion' });
    const r = await drop(db, writer, 'b.json', s3File([kmsEvent(1), tampered]));
    expect(r).toMatchObject({ status: 'ingested', events: 2, newEvents: 1, conflicts: 1 });
    expect(await db.conflicts.toArray()).toMatchObject([
      { eventID: tampered.eventID, fileId: r.fileId, path: 'b.json' },
    ]);
    expect((await stored(db, r.fileId)).map((x) => x.eventName)).toEqual(['ScheduleKeyDeletion']);
    db.close();
  });

  it('forgets what it knew of a store that was wiped and recreated meanwhile (Delete all in another tab): the same file is stored again', async () => {
    const db = openDB(`writer-${++dbn}`);
    const writer = new StoreWriter(db);
    expect(await drop(db, writer, 'a.json', s3File(kmsEvents(500)))).toMatchObject({
      status: 'ingested',
      newEvents: 500,
    });
    // another context wipes every table (this writer hears no message)
    await db.transaction('rw', db.tables, () => Promise.all(db.tables.map((t) => t.clear())));
    expect(await drop(db, writer, 'a.json', s3File(kmsEvents(500)))).toMatchObject({
      status: 'ingested',
      newEvents: 500,
    });
    expect(await db.meta.get('stats')).toMatchObject({ events: 500 });
    expect(await drop(db, writer, 'b.json', s3File(kmsEvents(500)))).toMatchObject({
      status: 'duplicate',
      newEvents: 0,
    });
    db.close();
  });

  it('rehashes a store written with the first hash scheme before its first commit', async () => {
    const name = `writer-${++dbn}`;
    const db = openDB(name);
    const a = await drop(db, new StoreWriter(db), 'a.json', s3File(kmsEvents(2500)));
    expect(a.newEvents).toBe(2500);
    // make it look like an older store: other hash values, no scheme recorded
    for (const row of await db.hashes.toArray())
      await db.hashes.update(row.id, { h: row.h.map((x) => x ^ 0x5a5a5a5a) });
    await db.meta.update('stats', { hashScheme: undefined });
    const writer = new StoreWriter(db);
    const again = await drop(db, writer, 'b.json', s3File(kmsEvents(2500)));
    expect(again).toMatchObject({ status: 'duplicate', newEvents: 0 });
    expect(await db.meta.get('stats')).toMatchObject({ events: 2500, hashScheme: HASH_SCHEME });
    const rows = await stored(db, a.fileId);
    const want = new Uint32Array(2);
    for (const r of rows) {
      contentHash(r.event, want, 0);
      expect(r.h).toEqual([...want]);
    }
    db.close();
  });

  it('packs the events of small files committed together into shared chunks, each row keeping its file', async () => {
    const db = openDB(`writer-${++dbn}`);
    const writer = new StoreWriter(db);
    await drop(db, writer, 'known.json', s3File(kmsEvents(1, 2)));
    const items = [];
    for (let f = 0; f < 60; f++) {
      const path = `small-${f}.json`;
      // file f holds events 40f .. 40f+39; event 2 (in file 0) is already stored
      const evs = kmsEvents(40, f * 40);
      const text = s3File(evs);
      const id = await addPendingFile(db, path, text.length);
      const p = prepare({ path, bytes: te.encode(text), compressed: false, source: new Blob([text]) });
      expect(p.texts).toHaveLength(40); // small: stored as text, packable
      items.push({ record: (await db.files.get(id))!, input: p });
    }
    const results = await writer.commitMany(items);
    expect(results.map((r) => r.newEvents)).toEqual(Array.from({ length: 60 }, (_, f) => (f === 0 ? 39 : 40)));
    const segs = await db.segments.where('id').above(1).toArray();
    expect(segs.map((s) => s.n)).toEqual([1999, 400]); // 2,399 events in two chunks, not 60
    const ix = new ColumnarIndex();
    for (const s of await db.segments.toArray()) ix.addSegment(s);
    const reader = new RawReader(db);
    const byPath = new Map((await db.files.toArray()).map((f) => [f.id!, f.path]));
    let checked = 0;
    for (const s of segs) {
      const fs = joinedFieldStore((await db.fields.get(s.id))!);
      const texts = await reader.chunkTexts(s.id);
      const base = ix.segBase.get(s.id)!;
      texts.forEach((t, i) => {
        const ev = JSON.parse(t);
        const n = Number(ev.requestID.slice(4));
        expect(byPath.get(ix.file[base + i])).toBe(`small-${Math.floor(n / 40)}.json`);
        expect(s.cols.eventName.dict[s.cols.eventName.codes[i]]).toBe(ev.eventName);
        expect(fieldValue(fs, i, 'requestParameters.keyId')).toBe(ev.requestParameters.keyId);
        expect(fieldValue(fs, i, 'eventID')).toBe(ev.eventID);
        checked++;
      });
    }
    expect(checked).toBe(2399);
    expect((await db.meta.get('stats'))?.events).toBe(2400);
    db.close();
  });

  it('reads events of chunks written before record indices (text ranges) and of record-index chunks alike', async () => {
    const db = openDB(`writer-${++dbn}`);
    const evs = kmsEvents(3);
    const text = s3File(evs);
    const sourceId = (await db.sources.add({ fileId: 1, blob: new Blob([text]), gzip: false })) as number;
    // the old layout: [start, end) offsets of each event in the decoded text
    const starts = evs.map((e) => text.indexOf(JSON.stringify(e)));
    const ranges = Uint32Array.from(starts.flatMap((a, i) => [a, a + JSON.stringify(evs[i]).length]));
    const oldId = (await db.chunks.add({ fileId: 1, sourceId, ranges })) as number;
    const newId = (await db.chunks.add({ fileId: 1, sourceId, records: Uint32Array.from([2, 0]) })) as number;
    const reader = new RawReader(db);
    expect((await reader.chunkTexts(oldId)).map((t) => JSON.parse(t).eventID)).toEqual(evs.map((e) => e.eventID));
    expect((await reader.chunkTexts(newId)).map((t) => JSON.parse(t).eventID)).toEqual([
      evs[2].eventID,
      evs[0].eventID,
    ]);
    expect(JSON.parse((await reader.eventText(newId, 1))!).eventID).toBe(evs[0].eventID);
    expect(await reader.eventText(newId, 2)).toBeUndefined();
    const bad = (await db.chunks.add({ fileId: 1, sourceId, records: Uint32Array.from([7]) })) as number;
    await expect(reader.chunkTexts(bad)).rejects.toThrow(`stored source ${sourceId} has no record 7`);
    db.close();
  });

  it('records the derived-columns scheme on every segment and in the stats record, and flags older segments', async () => {
    const db = openDB(`writer-${++dbn}`);
    const writer = new StoreWriter(db);
    await drop(db, writer, 'a.json', s3File(kmsEvents(5)));
    const segs = await db.segments.toArray();
    expect(segs.length).toBe(1);
    expect(segs[0].columnsScheme).toBe(COLUMNS_SCHEME);
    expect(await db.meta.get('stats')).toMatchObject({ events: 5, columnsScheme: COLUMNS_SCHEME });
    // a segment written before versioning (no columnsScheme) counts as scheme 1; one of an older scheme is stale
    const ix = new ColumnarIndex();
    ix.addSegment(segs[0]);
    ix.addSegment({ ...segs[0], id: 99, columnsScheme: COLUMNS_SCHEME - 1 });
    expect([...ix.staleColumnSegments]).toEqual([99]);
    // a store whose stats were written before versioning (scheme 1) keeps the lowest scheme after a new commit
    await db.meta.update('stats', { columnsScheme: undefined });
    await drop(db, writer, 'b.json', s3File(kmsEvents(5, 5)));
    expect((await db.meta.get('stats'))?.columnsScheme).toBe(Math.min(1, COLUMNS_SCHEME));
    db.close();
  });
});
