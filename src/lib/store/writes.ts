/**
 * The store's write API outside a writer's commit (which announces itself with a `commit` message): every
 * function writes IndexedDB, then announces what it changed as a {@link StoreMessage} (on {@link STORE_CHANNEL}
 * and to this tab's query worker, see {@link Announce}). Readers (the query service, other tabs) invalidate what
 * they derived from those messages only.
 */
import type { ConfigKind, FileRecord, FileStatus, KeyTrailDB, StoreMessage } from './db';

/**
 * Sends a store message to every context that derives state from the store: posts it on the store channel
 * (other tabs, workers) and may also hand it to this tab's query worker directly (so that a read that follows
 * the write sees it). Resolves once delivered where it awaits delivery.
 */
export type Announce = (m: StoreMessage) => void | Promise<void>;

/** A random id for one write (messages carrying it are handled once, however they are heard). */
function writeId(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random()}`;
}

/** Writes to the store made outside a writer's commit: configuration documents, file statuses, archive records. */
export class StoreWrites {
  /**
   * @param db the store to write (a function: the page opens a new store after Delete all).
   * @param announce how each write is announced (see {@link Announce}).
   */
  constructor(
    private readonly db: () => KeyTrailDB,
    private readonly announce: Announce,
  ) {}

  /**
   * Adds one configuration document (pasted public keys, an imported Sigma YAML text...) and announces it.
   * @param capturedAt when the document was captured, epoch ms (default now).
   * @returns the new record's id.
   */
  async addConfig(kind: ConfigKind, path: string, doc: unknown, capturedAt = Date.now()): Promise<number> {
    const id = (await this.db().configs.add({ fileId: 0, path, kind, doc, capturedAt })) as number;
    await this.announce({ type: 'configs', kinds: [kind], id: writeId() });
    return id;
  }

  /**
   * Replaces every configuration document of `kind` with this one (one transaction), and announces it: for
   * documents kept once (Sigma placeholder values).
   */
  async replaceConfig(kind: ConfigKind, path: string, doc: unknown, capturedAt = Date.now()): Promise<void> {
    const db = this.db();
    await db.transaction('rw', db.configs, async () => {
      await db.configs.filter((c) => c.kind === kind).delete();
      await db.configs.add({ fileId: 0, path, kind, doc, capturedAt });
    });
    await this.announce({ type: 'configs', kinds: [kind], id: writeId() });
  }

  /** Removes every configuration document of these kinds and announces it. @returns how many were removed. */
  async removeConfigs(kinds: ConfigKind[]): Promise<number> {
    const set = new Set(kinds);
    const n = await this.db()
      .configs.filter((c) => set.has(c.kind))
      .delete();
    await this.announce({ type: 'configs', kinds: [...set], id: writeId() });
    return n;
  }

  /** Sets the status (and reason; none when absent) of these file records and announces it as a `files` message. */
  async setFileStatus(ids: number[], status: FileStatus, reason?: string): Promise<void> {
    if (!ids.length) return;
    const db = this.db();
    await db.transaction('rw', db.files, async () => {
      for (const id of ids) await db.files.update(id, { status, reason });
    });
    await this.announce({ type: 'files', ids });
  }

  /**
   * Writes the final record of an archive (status `archive`, or `corrupt` when the archive broke after some
   * members were read; events summed over its members) once an ingest has read it, and announces it as a
   * `files` message. The members' own records are written by the writer's commits.
   * @param record the archive's record, with its id (the pending record it replaces).
   */
  async finishArchive(record: FileRecord): Promise<void> {
    await this.db().files.put(record);
    await this.announce({ type: 'files', ids: [record.id!] });
  }

  /** Adds file records (queued as `pending`) and announces them. @returns their ids, in order. */
  async addFiles(records: FileRecord[]): Promise<number[]> {
    if (!records.length) return [];
    const ids = (await this.db().files.bulkAdd(records, { allKeys: true })) as number[];
    await this.announce({ type: 'files', ids });
    return ids;
  }

  /**
   * Marks every `pending` file record `interrupted` with this reason (a page closed or reloaded before they were
   * stored) and announces it when there were some. @returns how many were marked.
   */
  async interruptPending(reason: string): Promise<number> {
    const n = await this.db().files.where('status').equals('pending').modify({ status: 'interrupted', reason });
    if (n) await this.announce({ type: 'files' });
    return n;
  }

  /**
   * Marks those of these file records still `pending` as `cancelled` with this reason (an ingest that ended before
   * storing them) and announces them. @returns the ids marked.
   */
  async cancelPending(ids: number[], reason: string): Promise<number[]> {
    const db = this.db();
    const still = await db.transaction('rw', db.files, async () => {
      const keys = (await db.files
        .where('id')
        .anyOf(ids)
        .filter((f) => f.status === 'pending')
        .primaryKeys()) as number[];
      await db.files.bulkUpdate(keys.map((key) => ({ key, changes: { status: 'cancelled' as FileStatus, reason } })));
      return keys;
    });
    if (still.length) await this.announce({ type: 'files', ids: still });
    return still;
  }
}
