import { parseS3Path } from '../cloudtrail/s3path';
import type { Prepared } from './prepared';
import {
  STORE_CHANNEL,
  type ConflictRecord,
  type FileRecord,
  type FileStatus,
  type KeyTrailDB,
  type StoreMessage,
} from './db';
import { HashMap64 } from './hashmap';
import { phase } from '../codec/phases';
import { exactHash } from '../codec/exact';
import { RawReader } from './raw';
import {
  concatFieldStores,
  fieldValueOf,
  selectFieldRows,
  storedFieldStore,
  type FieldStore,
  type StoredFieldStore,
} from '../codec/fields';
import {
  CHUNK_EVENTS,
  COLUMNS_SCHEME,
  columnsSchemeOf,
  concatColumns,
  selectColumnRows,
  type DictColumn,
  type Segment,
  type StringColumn,
} from '../codec/segment';

export { CHUNK_EVENTS } from '../codec/segment';

/** The content hash scheme this writer stores (see `StatsRecord.hashScheme`). */
export const HASH_SCHEME = 2;

/**
 * What the writer needs of a prepared document: everything but the parsed events (so it can be posted to a
 * writer worker cheaply). A `Prepared` is one.
 */
export type CommitInput = Omit<Prepared, 'events'> & {
  /**
   * The caller left the record's `sha256` out because the document's source may be stored (see
   * {@link maySourceBeStored}), from which the integrity analysis computes it when a digest lists the file
   * (store/filehash.ts). The commit then stores the document only together with its source: when none of its
   * events is new (the source is not stored), nothing of it is written and the result says `needsSha256`; the
   * caller commits it again with the record's `sha256` (and this flag off), so that no stored record ever lacks
   * both its hash and the bytes to compute it from. Ignored when the record has a `sha256`.
   */
  deferSha256?: boolean;
};

/**
 * The buffers of a commit input's typed arrays (hashes, record indices, every block's field store and columns):
 * what is handed over, instead of copied, when the input is posted to another thread (ingest worker to writer
 * worker, and back when the writer answers `needsSha256`). The posting side's arrays are detached afterwards.
 */
export function commitTransferables(input: CommitInput): ArrayBuffer[] {
  const set = new Set<ArrayBufferLike>([input.h.buffer, input.e.buffer]);
  if (input.records) set.add(input.records.buffer);
  for (const b of input.blocks) {
    set.add(b.fields.rowStart.buffer).add(b.fields.entryPath.buffer).add(b.fields.entryValue.buffer).add(b.time.buffer);
    for (const c of Object.values(b.cols)) set.add(c.codes.buffer);
  }
  return [...set].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
}

/**
 * Whether a commit of `p` may store its source bytes (a `sources` row) as the stored copy of its events: an S3
 * delivery document prepared with each event's record index and the bytes it was read from (`records` and
 * `source`, set by ingest/prepare.ts for documents of at least 64 KiB). It is stored when at least one of the
 * document's events is new to the store, which only the commit finds out (deduplication).
 */
export function maySourceBeStored(p: Pick<CommitInput, 'records' | 'source'>): boolean {
  return !!(p.records && p.source);
}

/** The `eventID` of event `i` of a prepared document, read back from its block's field store. */
function eventIdOf(p: CommitInput, i: number): string {
  const b = p.blocks.find((x) => i >= x.start && i < x.start + x.n);
  return (b && fieldValueOf(b.fields, i - b.start, 'eventID')) ?? '';
}

/** One planned chunk's worth of a document: which plan, which of its events, their stored copy and index. */
interface Piece {
  plan: number;
  idx: number[];
  raw: string[] | Uint32Array;
  index: { fields: Omit<FieldStore, 'id'>; time: Float64Array; cols: Record<StringColumn, DictColumn> };
}

/**
 * Groups the planned chunks of a batch into the chunks to write: a document stored as its source keeps its
 * own chunks; small pieces stored as text (the events of small files) are packed together, in order, up to
 * `CHUNK_EVENTS` events a chunk, so that 10,000 small files do not make 10,000 chunks (each a handful of
 * IndexedDB rows).
 */
function packChunks(
  plans: readonly { chunkRaw: (string[] | Uint32Array)[]; chunkIdx: number[][]; chunkIndex: Piece['index'][] }[],
): Piece[][] {
  const out: Piece[][] = [];
  let pack: Piece[] = [];
  let packed = 0;
  const flush = () => {
    if (pack.length) out.push(pack);
    pack = [];
    packed = 0;
  };
  plans.forEach((pl, plan) => {
    for (let c = 0; c < pl.chunkRaw.length; c++) {
      const piece: Piece = { plan, idx: pl.chunkIdx[c], raw: pl.chunkRaw[c], index: pl.chunkIndex[c] };
      if (piece.raw instanceof Uint32Array || piece.idx.length >= CHUNK_EVENTS / 2) {
        out.push([piece]);
        continue;
      }
      if (packed + piece.idx.length > CHUNK_EVENTS) flush();
      pack.push(piece);
      packed += piece.idx.length;
    }
  });
  flush();
  return out;
}

/** What a commit did to one file record. */
export interface CommitResult {
  fileId: number;
  path: string;
  status: FileStatus;
  events: number;
  newEvents: number;
  conflicts: number;
  reason?: string;
  /** Input shape id (see ingest/formats). */
  format?: string;
  /**
   * True when nothing of the document was written (`status` stays `pending`): it was committed with
   * `deferSha256` but none of its events is new, so its source is not stored; commit it again with the record's
   * `sha256` (see {@link CommitInput.deferSha256}).
   */
  needsSha256?: true;
}

/** The store ran out of quota; ingest must stop. `needed` is the size of the write that failed, in bytes. */
export class QuotaError extends Error {
  constructor(
    public needed: number,
    cause: unknown,
  ) {
    super(`storage quota exhausted while writing about ${Math.ceil(needed / 1024 / 1024)} MiB`);
    this.name = 'QuotaError';
    (this as { cause?: unknown }).cause = cause;
  }
}

/** True for IndexedDB's quota error, however Dexie wraps it. */
export function isQuotaError(err: unknown): boolean {
  for (let e = err as { name?: string; inner?: unknown; cause?: unknown } | undefined, i = 0; e && i < 5; i++) {
    if (e.name === 'QuotaExceededError') return true;
    e = (e.inner ?? e.cause) as typeof e;
  }
  return false;
}

/** A random id for a new store (see `StatsRecord.storeId`). */
function newStoreId(): string {
  const c = globalThis.crypto;
  return c?.randomUUID ? c.randomUUID() : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

let localTail: Promise<unknown> = Promise.resolve();
/** Runs `fn` holding the store-wide commit lock (Web Locks across workers and tabs; a promise chain in Node). */
export function withCommitLock<T>(fn: () => Promise<T>): Promise<T> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (locks) return locks.request('keytrail-commit', fn) as Promise<T>;
  const run = localTail.then(fn, fn);
  localTail = run.catch(() => undefined);
  return run;
}

/**
 * Deduplicates and commits prepared files to the store. One instance per writer (ingest worker); writers
 * coordinate through the commit lock and keep their in-memory hash sets in step by reading the hash rows
 * other writers added since their last commit.
 */
export class StoreWriter {
  private content = new HashMap64(1 << 16, false);
  private eids = new HashMap64(1 << 16);
  private lastHashId = 0;
  private channel: BroadcastChannel | null =
    typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel(STORE_CHANNEL) : null;
  private tmp = new Uint32Array(2);
  private upgraded = false;
  /** The store's `StatsRecord.storeId` as of this writer's last commit (undefined before its first). */
  private storeId: string | undefined;

  constructor(private db: KeyTrailDB) {}

  /** Writes to `db` from now on (the store was deleted and opened again); forgets every hash. */
  setDB(db: KeyTrailDB): void {
    this.db = db;
    this.reset();
  }

  /**
   * Rewrites the content hashes of a store written before the current hash scheme (`StatsRecord.hashScheme`)
   * from its stored event texts, so that dropping the same files again still finds them. Runs once, under
   * the commit lock, before the first commit of this writer.
   */
  private async upgradeHashes(): Promise<void> {
    const stats = await this.db.meta.get('stats');
    if (!stats || stats.hashScheme === HASH_SCHEME) return;
    if (stats.events > 0) {
      const reader = new RawReader(this.db);
      const ids = (await this.db.hashes.toCollection().primaryKeys()) as number[];
      for (const id of ids) {
        const texts = await reader.chunkTexts(id);
        const row = await this.db.hashes.get(id);
        if (!row || texts.length * 2 !== row.h.length) continue;
        const h = new Uint32Array(row.h.length);
        texts.forEach((t, i) => exactHash(t, h, i * 2));
        await this.db.hashes.update(id, { h });
      }
    }
    await this.db.meta.update('stats', { hashScheme: HASH_SCHEME });
  }

  /**
   * Loads hashes written since the last sync (by any writer, in any tab). Called inside the commit
   * transaction, so what it reads and what the commit writes form one atomic step.
   */
  private async sync(): Promise<void> {
    const rows = await this.db.hashes.where(':id').above(this.lastHashId).toArray();
    for (const r of rows) {
      for (let i = 0; i < r.h.length; i += 2) {
        this.content.set(r.h[i], r.h[i + 1]);
        if (r.e[i] || r.e[i + 1]) this.eids.set(r.e[i], r.e[i + 1], r.h[i], r.h[i + 1]);
      }
      if (r.id > this.lastHashId) this.lastHashId = r.id;
    }
  }

  /**
   * Commits one prepared document atomically: its file record (created for archive members, updated
   * otherwise), its new distinct events as chunks + segments + hash rows, eventID conflicts, digest, and
   * the store-wide counters. Either all of it lands or none; nothing when the result says `needsSha256` (see
   * {@link CommitInput.deferSha256}).
   * @param record the file record to update (with id) or to create (archive members, no id).
   * @throws QuotaError when IndexedDB's quota is exhausted (nothing of this file is stored).
   */
  async commit(record: FileRecord, p: CommitInput): Promise<CommitResult> {
    return (await this.commitMany([{ record, input: p }]))[0];
  }

  /**
   * Commits several prepared documents in one transaction under one hold of the commit lock (many small
   * files would otherwise pay a transaction each). Documents are deduplicated in order, against the store
   * and against each other. Each file is stored whole or not at all: the batch lands or fails together (but for
   * documents whose result says `needsSha256`, of which nothing is written, see {@link CommitInput.deferSha256}).
   * @throws QuotaError when IndexedDB's quota is exhausted (nothing of the batch is stored).
   */
  async commitMany(items: readonly { record: FileRecord; input: CommitInput }[]): Promise<CommitResult[]> {
    let t0 = performance.now();
    return withCommitLock(async () => {
      t0 = phase('lockwait', t0);
      if (!this.upgraded) {
        await this.upgradeHashes();
        this.upgraded = true;
      }
      const segmentIds: number[] = [];
      let storeId: string | undefined;
      let plans: ReturnType<StoreWriter['plan']>[] = [];
      let newEvents = 0;
      let needed = 0;
      const db = this.db;
      try {
        await db.transaction(
          'rw',
          [
            db.files,
            db.chunks,
            db.sources,
            db.segments,
            db.fields,
            db.hashes,
            db.meta,
            db.conflicts,
            db.digests,
            db.configs,
          ],
          async () => {
            // A store wiped and recreated since this writer's last commit (Delete all in any tab) has another
            // id: what this writer remembers of the old store must not make the new one's events duplicates.
            const before = await db.meta.get('stats');
            if (this.storeId !== undefined && before?.storeId !== this.storeId) this.reset();
            // read what other writers committed, deduplicate, and write, all in this one transaction
            await this.sync();
            t0 = phase('sync', t0);
            // sized for every event of the batch: grown from 16, the eventID map rehashed about ten times per file
            const batchEvents = Math.max(
              16,
              items.reduce((n, it) => n + it.input.h.length / 2, 0),
            );
            const batch = new HashMap64(batchEvents, false);
            const batchEids = new HashMap64(batchEvents);
            plans = items.map(({ record, input }) => this.plan(record, input, batch, batchEids));
            let rawChars = 0;
            for (const pl of plans) {
              newEvents += pl.keep.length;
              rawChars += pl.rawChars;
              needed += pl.sourceBlob ? pl.sourceBlob.size : pl.rawChars * 2;
            }
            t0 = phase('dedupe+raw', t0);
            // Every write is issued in bulk (IndexedDB pipelines the requests; awaiting each in turn cost a
            // round trip to the browser process per row). File records first: archive members get their ids.
            // (a document waiting for its hash has nothing to write: no new events, so no chunk, source or conflict)
            const known = plans.filter((pl) => !pl.needsSha256 && pl.rec.id !== undefined);
            const fresh = plans.filter((pl) => !pl.needsSha256 && pl.rec.id === undefined);
            const [, freshIds] = await Promise.all([
              known.length ? db.files.bulkPut(known.map((pl) => pl.rec)) : null,
              fresh.length
                ? (db.files.bulkAdd(
                    fresh.map((pl) => pl.rec),
                    { allKeys: true },
                  ) as Promise<number[]>)
                : [],
            ]);
            fresh.forEach((pl, k) => (pl.rec.id = (freshIds as number[])[k]));
            const fileIds = plans.map((pl) => pl.rec.id!);
            const withSource = plans.map((pl, k) => ({ pl, k })).filter((x) => x.pl.sourceBlob);
            const sourceIds: (number | undefined)[] = plans.map(() => undefined);
            const conflicts = plans.flatMap((pl) => pl.conflicts.map((c) => ({ ...c, fileId: pl.rec.id! })));
            const digests = plans
              .filter((pl) => pl.p.digest)
              .map((pl) => ({ fileId: pl.rec.id!, path: pl.p.path, digest: pl.p.digest! }));
            const configs = plans
              .filter((pl) => pl.p.config)
              .map((pl) => ({
                fileId: pl.rec.id!,
                path: pl.p.path,
                kind: pl.p.config!.kind,
                doc: pl.p.config!.doc,
                capturedAt: pl.record.lastModified,
              }));
            const [srcIds] = await Promise.all([
              withSource.length
                ? (db.sources.bulkAdd(
                    withSource.map(({ pl }) => ({ fileId: pl.rec.id!, blob: pl.sourceBlob!, gzip: !!pl.p.sourceGzip })),
                    { allKeys: true },
                  ) as Promise<number[]>)
                : [],
              conflicts.length ? db.conflicts.bulkAdd(conflicts) : null,
              digests.length ? db.digests.bulkAdd(digests) : null,
              configs.length ? db.configs.bulkAdd(configs) : null,
            ]);
            withSource.forEach(({ k }, j) => (sourceIds[k] = (srcIds as number[])[j]));
            const chunks = packChunks(plans).map((ch) => {
              const pieces = ch.map((x) => ({ ...x, p: plans[x.plan].p }));
              const n = pieces.reduce((sum, x) => sum + x.idx.length, 0);
              const fileId = fileIds[ch[0].plan];
              const stored = ch[0].raw;
              const row =
                stored instanceof Uint32Array
                  ? { fileId, sourceId: sourceIds[ch[0].plan], records: stored }
                  : { fileId, events: pieces.flatMap((x) => x.raw as string[]) };
              return { pieces, n, fileId, row };
            });
            const chunkIds = chunks.length
              ? ((await db.chunks.bulkAdd(
                  chunks.map((c) => c.row),
                  { allKeys: true },
                )) as number[])
              : [];
            const segments: Segment[] = [];
            const fieldRows: StoredFieldStore[] = [];
            const hashRows: { id: number; h: Uint32Array; e: Uint32Array }[] = [];
            chunks.forEach(({ pieces, n, fileId }, c) => {
              const id = chunkIds[c];
              const h = new Uint32Array(n * 2);
              const e = new Uint32Array(n * 2);
              let j = 0;
              for (const { idx, p } of pieces) {
                for (const i of idx) {
                  h[j * 2] = p.h[i * 2];
                  h[j * 2 + 1] = p.h[i * 2 + 1];
                  e[j * 2] = p.e[i * 2];
                  e[j * 2 + 1] = p.e[i * 2 + 1];
                  j++;
                }
              }
              const ix =
                pieces.length === 1
                  ? pieces[0].index
                  : {
                      ...concatColumns(pieces.map((x) => x.index)),
                      fields: concatFieldStores(pieces.map((x) => x.index.fields)),
                    };
              const seg: Segment = {
                id,
                fileId,
                n,
                time: ix.time,
                eid: e,
                cols: ix.cols,
                columnsScheme: COLUMNS_SCHEME,
              };
              if (pieces.length > 1) {
                const files = new Uint32Array(n);
                let r = 0;
                for (const x of pieces) files.fill(fileIds[x.plan], r, (r += x.idx.length));
                seg.files = files;
              }
              segments.push(seg);
              fieldRows.push(storedFieldStore({ id, ...ix.fields }));
              hashRows.push({ id, h, e });
              segmentIds.push(id);
            });
            if (chunks.length)
              await Promise.all([
                db.segments.bulkAdd(segments),
                db.fields.bulkAdd(fieldRows),
                db.hashes.bulkAdd(hashRows),
              ]);
            if (newEvents || !before?.storeId) {
              const stats = before ?? {
                key: 'stats' as const,
                events: 0,
                rawChars: 0,
                hashScheme: HASH_SCHEME,
                columnsScheme: COLUMNS_SCHEME,
              };
              // the lowest columns scheme of any stored segment (a store written before versioning counts as 1)
              if (before)
                stats.columnsScheme = Math.min(
                  before.events > 0 ? columnsSchemeOf(before) : COLUMNS_SCHEME,
                  COLUMNS_SCHEME,
                );
              stats.storeId ??= newStoreId();
              stats.events += newEvents;
              stats.rawChars += rawChars;
              await db.meta.put(stats);
              storeId = stats.storeId;
            } else storeId = before.storeId;
          },
        );
      } catch (err) {
        if (isQuotaError(err)) throw new QuotaError(needed, err);
        throw err;
      }
      t0 = phase('idb', t0);
      this.storeId = storeId;
      // Only now, with the transaction committed, do the in-memory sets learn the new events.
      for (const { keep, p } of plans) {
        for (const i of keep) {
          this.content.set(p.h[i * 2], p.h[i * 2 + 1]);
          if (p.e[i * 2] || p.e[i * 2 + 1]) {
            if (!this.eids.has(p.e[i * 2], p.e[i * 2 + 1]))
              this.eids.set(p.e[i * 2], p.e[i * 2 + 1], p.h[i * 2], p.h[i * 2 + 1]);
          }
        }
      }
      for (const id of segmentIds) if (id > this.lastHashId) this.lastHashId = id;
      // every commit changes file records at least: every tab's page, writer and query worker hear of it
      const written = plans.filter((pl) => !pl.needsSha256);
      if (written.length) {
        this.channel?.postMessage({
          type: 'commit',
          segmentIds,
          events: newEvents,
          fileIds: written.map((pl) => pl.rec.id!),
        } satisfies StoreMessage);
      }
      return plans.map(({ rec, status, keep, conflicts, p, needsSha256 }) =>
        needsSha256
          ? {
              fileId: rec.id ?? 0,
              path: rec.path,
              status: 'pending',
              events: p.h.length / 2,
              newEvents: 0,
              conflicts: 0,
              needsSha256,
            }
          : {
              fileId: rec.id!,
              path: rec.path,
              status,
              events: p.h.length / 2,
              newEvents: keep.length,
              conflicts: conflicts.length,
              reason: rec.reason,
              format: rec.format,
            },
      );
    });
  }

  /**
   * Deduplicates one document (against the store, and the batch so far, which it joins) and lays out what
   * to write: one chunk per prepared block with new events (rows selected when some were known already).
   */
  private plan(record: FileRecord, p: CommitInput, batch: HashMap64, batchEids: HashMap64) {
    const n = p.h.length / 2;
    const keep: number[] = [];
    const conflicts: ConflictRecord[] = [];
    for (let i = 0; i < n; i++) {
      const h1 = p.h[i * 2];
      const h2 = p.h[i * 2 + 1];
      if (this.content.has(h1, h2) || batch.has(h1, h2)) continue;
      batch.set(h1, h2);
      keep.push(i);
      const e1 = p.e[i * 2];
      const e2 = p.e[i * 2 + 1];
      if (e1 || e2) {
        const seen = this.eids.get(e1, e2, this.tmp) || batchEids.get(e1, e2, this.tmp);
        if (seen && (this.tmp[0] !== h1 >>> 0 || this.tmp[1] !== h2 >>> 0)) {
          conflicts.push({ eventID: eventIdOf(p, i), fileId: 0, path: p.path });
        } else if (!seen) batchEids.set(e1, e2, h1, h2);
      }
    }
    const status: FileStatus =
      p.kind === 'events' ? (keep.length ? 'ingested' : 'duplicate') : p.kind === 'digest' ? 'digest' : p.kind;
    const rec: FileRecord = {
      ...record,
      status,
      reason: p.reason,
      format: p.format,
      events: n,
      newEvents: keep.length,
      skipped: p.skipped,
      conflicts: conflicts.length,
      bytes: p.bytes,
      s3: record.s3 && Object.keys(record.s3).length ? record.s3 : parseS3Path(p.path),
      doneAt: Date.now(),
    };
    // For an S3 delivery file with its bytes at hand, the stored copy is the source file itself (often gzip,
    // several times smaller than the text) plus each event's index in its Records array.
    const useSource = maySourceBeStored(p) && keep.length > 0;
    // its SHA-256 was left to be computed from the stored source, which is not stored: nothing is written
    const needsSha256 = !!p.deferSha256 && !record.sha256 && !useSource ? (true as const) : undefined;
    const chunkRaw: (string[] | Uint32Array)[] = [];
    const chunkIdx: number[][] = [];
    const chunkIndex: { fields: Omit<FieldStore, 'id'>; time: Float64Array; cols: Record<StringColumn, DictColumn> }[] =
      [];
    let rawChars = 0;
    let k = 0;
    for (const b of p.blocks) {
      const idx: number[] = [];
      while (k < keep.length && keep[k] < b.start + b.n) idx.push(keep[k++]);
      if (!idx.length) continue;
      if (idx.length === b.n) chunkIndex.push(b);
      else {
        const rows = idx.map((i) => i - b.start);
        chunkIndex.push({ fields: selectFieldRows(b.fields, rows), ...selectColumnRows(b.time, b.cols, rows) });
      }
      if (useSource) {
        const r = new Uint32Array(idx.length);
        for (let j = 0; j < idx.length; j++) r[j] = p.records![idx[j]];
        // the text itself is not at hand: its share of the document's size
        rawChars += Math.round((p.bytes * idx.length) / n);
        chunkRaw.push(r);
      } else {
        const raw = idx.map((i) => p.texts?.[i] ?? '');
        for (const s of raw) rawChars += s.length;
        chunkRaw.push(raw);
      }
      chunkIdx.push(idx);
    }
    const sourceBlob = useSource
      ? p.source instanceof Blob
        ? p.source
        : new Blob([p.source as Uint8Array<ArrayBuffer>])
      : null;
    return {
      record,
      p,
      rec,
      status,
      keep,
      conflicts,
      chunkRaw,
      chunkIdx,
      chunkIndex,
      rawChars,
      sourceBlob,
      needsSha256,
    };
  }

  /** Forgets every hash (after the store was wiped). */
  reset(): void {
    this.content.clear();
    this.eids.clear();
    this.lastHashId = 0;
    this.upgraded = false;
    this.storeId = undefined;
  }
}
