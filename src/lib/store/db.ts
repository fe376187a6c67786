import Dexie, { type EntityTable } from 'dexie';
import type { S3PathInfo } from '../cloudtrail/s3path';
import type { DigestDocument } from '../cloudtrail/digest';
import type { StoredFieldStore } from '../codec/fields';
import type { Segment } from '../codec/segment';

/** Status of a file or archive member, as the files view shows it. */
export type FileStatus =
  | 'pending' // queued or being read; becomes `interrupted` if the page goes away first
  | 'interrupted' // the page was reloaded or closed before the file was committed: drop it again
  | 'ingested' // events found, at least one new distinct event stored
  | 'duplicate' // events found, all already stored
  | 'digest' // a CloudTrail digest file, stored as a digest
  | 'not-cloudtrail' // readable but holds no CloudTrail events (reason says why)
  | 'corrupt' // truncated, broken archive, bad JSON, over a size cap (reason says where)
  | 'archive' // a zip/tar container: its members have their own records
  | 'cancelled'; // the user cancelled before the file was committed

/** Final statuses: a file with one of these is done and is skipped when dropped again. */
export const FINAL_STATUSES: ReadonlySet<FileStatus> = new Set([
  'ingested',
  'duplicate',
  'digest',
  'not-cloudtrail',
  'corrupt',
  'archive',
]);

/** One dropped file, or one member of a dropped archive. */
export interface FileRecord {
  id?: number;
  /** Path as dropped (relative to the dropped folder), `archive!member` for archive members. */
  path: string;
  /** Size in bytes as stored (compressed); 0 for members until read. */
  size: number;
  /** File's lastModified (epoch ms) when known. */
  lastModified: number;
  /** `path|size|lastModified`: how a re-dropped file is recognised. */
  fingerprint: string;
  status: FileStatus;
  /** Why a file is not-cloudtrail or corrupt; notes on skipped records otherwise. */
  reason?: string;
  /** Input shape (`s3-delivery`, `lookup-events`, `json-lines`...). */
  format?: string;
  /** Events found in the file (before dedupe). */
  events: number;
  /** Events that were new (distinct events this file added to the store). */
  newEvents: number;
  /** Records skipped as not events. */
  skipped: number;
  /** Records whose eventID was already stored with different content. */
  conflicts: number;
  /** Decompressed size in bytes. */
  bytes: number;
  /**
   * SHA-256 (lower-case hex) of the decompressed content, the hash a CloudTrail digest file lists for a
   * delivered log file (`logFiles[].hashValue`), and the digest-file hash its signature covers.
   * Source: "Custom implementations of CloudTrail log file integrity validation" and "CloudTrail digest file
   * structure" (AWS CloudTrail User Guide,
   * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-digest-file-structure.html).
   * Set by ingest for every document read, except one stored as its source bytes (a `sources` row of this file):
   * its hash is computed from that source when the integrity analysis needs it, and written here then
   * (store/filehash.ts). Absent too for records of files that could not be read, archives, and pending files.
   */
  sha256?: string;
  /** What the S3 key path says (account, Region, trail, delivery time). */
  s3: S3PathInfo;
  /** The containing archive's record id, for archive members. */
  parentId?: number;
  /** Epoch ms when the file was committed. */
  doneAt?: number;
}

/**
 * The stored copy of one chunk's events (one copy of each event lives in the store). Either the JSON text
 * of each event (`events`), or, for S3 delivery files, the id of the stored source file (`sourceId`, the
 * original gzip or plain bytes) and each event's index in its `Records` array (`records`); stores written
 * before `records` existed hold each event's `[start, end)` UTF-16 offsets in the decoded text (`ranges`)
 * instead. Storing the original compressed file is several times smaller and faster than storing the
 * decompressed text, and finding the records' positions again is left to the (rare) reads.
 */
export interface ChunkRecord {
  id?: number;
  fileId: number;
  events?: string[];
  sourceId?: number;
  records?: Uint32Array;
  ranges?: Uint32Array;
}

/** A stored source file (the bytes as dropped, or an archive member's bytes), referenced by chunks. */
export interface SourceRecord {
  id?: number;
  fileId: number;
  /** The bytes: gzip when `gzip`, else plain UTF-8 text. */
  blob: Blob;
  gzip: boolean;
}

/** Dedupe data of a chunk (same id): content hash and eventID hash of each event, two u32 lanes each. */
export interface HashRecord {
  id: number;
  h: Uint32Array;
  e: Uint32Array;
}

/** A stored digest file. */
export interface DigestRecord {
  id?: number;
  fileId: number;
  path: string;
  digest: DigestDocument;
}

/**
 * What a stored configuration document is:
 * - `describe-trails`, `get-event-selectors`, `get-trail-status`: AWS CLI outputs describing trails (dropped files;
 *   coverage analysis);
 * - `list-public-keys`: `aws cloudtrail list-public-keys` output (dropped or pasted; digest signatures);
 * - `sigma`: one imported Sigma YAML document (text); `sigma-placeholders`: the values given for the rules'
 *   `|expand` placeholders (`{ name: values[] }`, at most one record).
 */
export type ConfigKind =
  'describe-trails' | 'get-event-selectors' | 'get-trail-status' | 'list-public-keys' | 'sigma' | 'sigma-placeholders';

/** Configuration kinds describing trails (the coverage analysis reads these). */
export const TRAIL_CONFIG_KINDS: ReadonlySet<ConfigKind> = new Set([
  'describe-trails',
  'get-event-selectors',
  'get-trail-status',
]);

/** A configuration document (dropped CLI output, pasted public keys, imported Sigma rules), with when it was captured. */
export interface ConfigRecord {
  id?: number;
  /** The dropped file's record id; 0 for a document pasted or imported in the page. */
  fileId: number;
  path: string;
  kind: ConfigKind;
  doc: unknown;
  /** The file's lastModified, epoch ms: the best available capture time. */
  capturedAt: number;
}

/** An eventID seen with two different contents (possible tampering). */
export interface ConflictRecord {
  id?: number;
  eventID: string;
  fileId: number;
  path: string;
}

/** Store-wide counters, kept in one row (`key = 'stats'`) updated in every commit transaction. */
export interface StatsRecord {
  key: 'stats';
  /** Distinct events stored. */
  events: number;
  /** Approximate size of the stored events' JSON text (UTF-16 code units; each file's share of its text). */
  rawChars: number;
  /**
   * Random id given to the store by the first commit that wrote these counters. A writer that finds another id
   * than the one it last saw knows the store was wiped (Delete all) and recreated since, and forgets its
   * in-memory hashes before deduplicating against it.
   */
  storeId?: string;
  /**
   * Which content hash the `hashes` rows hold: 2 is the leaf sum of ingest/hash.ts; absent means the
   * first scheme (stores written before it), which the writer rehashes once before its first commit.
   */
  hashScheme?: number;
  /**
   * The lowest derived-columns scheme (COLUMNS_SCHEME, codec/segment.ts) of any stored segment; absent means
   * a store written before versioning (scheme 1). Lower than COLUMNS_SCHEME: some segments' string columns
   * were derived by an older KeyTrail and may differ from what the current one would derive.
   */
  columnsScheme?: number;
}

/**
 * One record of the persisted query index snapshot (`snapshots` table; written and read by query/snapshot.ts,
 * which defines the parts). Nothing else reads or writes it; Delete all deletes it with the store.
 */
export interface SnapshotRecord {
  /** `meta`, or the name of one part (`rows`, `col:<column>`, ...). */
  key: string;
  [field: string]: unknown;
}

/** The KeyTrail IndexedDB database. */
export type KeyTrailDB = Dexie & {
  files: EntityTable<FileRecord, 'id'>;
  chunks: EntityTable<ChunkRecord, 'id'>;
  sources: EntityTable<SourceRecord, 'id'>;
  segments: EntityTable<Segment, 'id'>;
  fields: EntityTable<StoredFieldStore, 'id'>;
  hashes: EntityTable<HashRecord, 'id'>;
  digests: EntityTable<DigestRecord, 'id'>;
  conflicts: EntityTable<ConflictRecord, 'id'>;
  configs: EntityTable<ConfigRecord, 'id'>;
  meta: EntityTable<StatsRecord, 'key'>;
  snapshots: EntityTable<SnapshotRecord, 'key'>;
};

/** Name of the IndexedDB database. */
export const DB_NAME = 'keytrail';

/**
 * Opens (creating when needed) the KeyTrail database. Usable from the page and from workers.
 * @param durability IndexedDB durability hint of its write transactions: the store's writer uses 'relaxed'
 *   (a commit is reported once the operating system has the data, not once it reached the disk; every
 *   transaction stays atomic, so a crash never leaves half a file, and the dropped files remain the source).
 * @param factory the IndexedDB factory to open it in (a storage bucket's, see {@link openStore}); default the
 *   global `indexedDB`.
 */
export function openDB(name = DB_NAME, durability?: 'relaxed' | 'strict', factory?: IDBFactory): KeyTrailDB {
  const options: Record<string, unknown> = durability ? { chromeTransactionDurability: durability } : {};
  if (factory) Object.assign(options, { indexedDB: factory, IDBKeyRange: globalThis.IDBKeyRange });
  const db = new Dexie(name, options) as KeyTrailDB;
  db.version(1).stores({
    files: '++id, path, fingerprint, status, parentId',
    chunks: '++id, fileId',
    sources: '++id, fileId',
    segments: 'id, fileId',
    fields: 'id',
    hashes: 'id',
    digests: '++id, fileId',
    conflicts: '++id, eventID, fileId',
    configs: '++id, fileId',
    meta: 'key',
  });
  // 2: the persisted query index snapshot (query/snapshot.ts); a version 1 store gains the empty table
  db.version(2).stores({ snapshots: 'key' });
  // The store is being deleted (Delete all, in this tab or another): Dexie closes the connection; keep it
  // closed, so that no late request creates the database again before every context opened the new store.
  db.on('versionchange', (ev: IDBVersionChangeEvent) => {
    if (ev.newVersion === null) db.close({ disableAutoOpen: true });
  });
  return db;
}

/**
 * Name of the storage bucket (Storage Buckets API) that holds the store where the browser has the API
 * (Chromium): deleting the bucket removes its files from disk, which deleting an IndexedDB database does not
 * (Chromium's LevelDB keeps deleted records in its files until a compaction that may never come).
 */
export const STORE_BUCKET = 'keytrail';

/** The part of a storage bucket (Storage Buckets API) KeyTrail uses. */
interface StorageBucketLike {
  indexedDB: IDBFactory;
  /** Whether the browser keeps the bucket under storage pressure. */
  persisted?(): Promise<boolean>;
  /** Asks for the bucket to be kept under storage pressure; resolves with the outcome. */
  persist?(): Promise<boolean>;
  /** Bytes the bucket uses and may use. */
  estimate?(): Promise<{ usage?: number; quota?: number }>;
}

/** The part of the Storage Buckets API KeyTrail uses (not yet in TypeScript's DOM types). */
interface StorageBucketsLike {
  open(name: string, options?: { persisted?: boolean }): Promise<StorageBucketLike>;
  delete(name: string): Promise<void>;
}

function storageBuckets(): StorageBucketsLike | undefined {
  return (globalThis.navigator as (Navigator & { storageBuckets?: StorageBucketsLike }) | undefined)?.storageBuckets;
}

/** True when the origin's default IndexedDB holds the KeyTrail database (a store written by an earlier build). */
async function hasLegacyStore(): Promise<boolean> {
  try {
    return (await indexedDB.databases()).some((d) => d.name === DB_NAME);
  } catch {
    return false;
  }
}

/**
 * The IndexedDB factory the store lives in: the `keytrail` storage bucket's where the browser has the Storage
 * Buckets API, else the origin's default one. A store written by an earlier build in the default IndexedDB
 * stays there (and is used) until Delete all removes it. Every context (page, workers, tabs) gets the same
 * answer, as long as nobody creates the default database meanwhile.
 */
export async function storeFactory(): Promise<IDBFactory> {
  return (await storeBucket())?.indexedDB ?? indexedDB;
}

/** The `keytrail` storage bucket when the store lives in it (see {@link storeFactory}); undefined otherwise. */
async function storeBucket(): Promise<StorageBucketLike | undefined> {
  const buckets = storageBuckets();
  if (!buckets || (await hasLegacyStore())) return undefined;
  try {
    return await buckets.open(STORE_BUCKET, { persisted: true });
  } catch {
    try {
      return await buckets.open(STORE_BUCKET);
    } catch {
      return undefined;
    }
  }
}

/** Where the store's bytes are, how many, and whether the browser keeps them (see {@link storeStorage}). */
export interface StoreStorage {
  /** `bucket`: the `keytrail` storage bucket ({@link STORE_BUCKET}); `origin`: the origin's default storage. */
  area: 'bucket' | 'origin';
  /** Bytes used and bytes the area may use (StorageManager / StorageBucket `estimate()`). */
  usage: number;
  quota: number;
  /** True when the browser will not evict the area under storage pressure (`persisted()`): "persistent". */
  persisted: boolean;
}

/**
 * Use, quota and persistence of the storage area the store lives in: the `keytrail` bucket's own `estimate()`
 * and `persisted()` where the store is in the bucket (a bucket's persistence is its own, not the origin's:
 * Storage Buckets API, WICG), else the origin's (`navigator.storage`). Null when the browser tells neither.
 */
export async function storeStorage(): Promise<StoreStorage | null> {
  const bucket = await storeBucket();
  if (bucket?.estimate && bucket.persisted) {
    const [est, persisted] = await Promise.all([bucket.estimate(), bucket.persisted()]);
    return { area: 'bucket', usage: est.usage ?? 0, quota: est.quota ?? 0, persisted };
  }
  const storage = globalThis.navigator?.storage;
  if (!storage?.estimate) return null;
  const est = await storage.estimate();
  const persisted = (await storage.persisted?.()) ?? false;
  return { area: 'origin', usage: est.usage ?? 0, quota: est.quota ?? 0, persisted };
}

/**
 * Asks the browser to keep the store under storage pressure: the origin's storage (`navigator.storage.persist()`,
 * which grants the permission a bucket's persistence needs), then the `keytrail` bucket when the store is in it.
 * Resolves once both were asked; a refusal is no error (the store stays best-effort).
 */
export async function persistStore(): Promise<void> {
  try {
    await globalThis.navigator?.storage?.persist?.();
    const bucket = await storeBucket();
    if (bucket?.persisted && !(await bucket.persisted())) await bucket.persist?.();
  } catch {
    /* persistence refused or unavailable: best-effort storage */
  }
}

/**
 * Opens the app's store (see {@link storeFactory} for where it lives). After Delete all every context opens
 * it again (the old handle points at a deleted bucket or database).
 */
export async function openStore(durability?: 'relaxed' | 'strict'): Promise<KeyTrailDB> {
  return openDB(DB_NAME, durability, await storeFactory());
}

/**
 * Deletes the whole store from this origin: `indexedDB.deleteDatabase` on the store's database (in its bucket
 * and, for a store of an earlier build, in the default IndexedDB), then the storage bucket itself, which
 * removes its files from disk. Every connection should be closed first (the other tabs are told on
 * {@link STORE_CHANNEL}); connections still open get a `versionchange` and Dexie closes them, which
 * `onBlocked` reports while it waits.
 * @throws Error when the browser refuses to delete the database.
 */
export async function deleteStore(onBlocked?: () => void): Promise<void> {
  const del = (factory: IDBFactory) =>
    new Promise<void>((resolve, reject) => {
      const req = factory.deleteDatabase(DB_NAME);
      req.onsuccess = () => resolve();
      req.onerror = () => reject(req.error ?? new Error('the browser refused to delete the database'));
      req.onblocked = () => onBlocked?.();
    });
  const buckets = storageBuckets();
  if (buckets) {
    try {
      await del((await buckets.open(STORE_BUCKET)).indexedDB);
    } catch {
      /* no bucket (yet): nothing in it */
    }
  }
  await del(indexedDB);
  if (buckets) await buckets.delete(STORE_BUCKET);
}

/** Channel on which store changes are announced to every tab's page, writer and query worker. */
export const STORE_CHANNEL = 'keytrail-store';

/**
 * A message on {@link STORE_CHANNEL}:
 * - `commit`: a writer committed these segments (and wrote these file records); `events` new distinct events;
 * - `files`: file records changed outside a commit (queued as pending, cancelled, interrupted); every record
 *   when `ids` is absent;
 * - `clearing`: Delete all started: stop ingesting, let go of the store (its connections close when the
 *   deletion asks them to);
 * - `cleared`: the store was deleted: forget everything held in memory and open the (new, empty) store;
 * - `configs`: configuration documents of these kinds were added or removed outside a commit (pasted public
 *   keys, imported Sigma rules, placeholder values); `id` identifies the write (a context handles each once,
 *   however it heard of it).
 * `wipe` identifies one Delete all (a context handles each once, however it heard of it).
 */
export type StoreMessage =
  | { type: 'commit'; segmentIds: number[]; events: number; fileIds?: number[] }
  | { type: 'files'; ids?: number[] }
  | { type: 'clearing'; wipe: string }
  | { type: 'cleared'; wipe: string }
  | { type: 'configs'; kinds: ConfigKind[]; id: string };
