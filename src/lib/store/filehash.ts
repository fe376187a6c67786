import { gunzipFast } from '../codec/gzip';
import { LIMITS } from '../codec/limits';
import type { KeyTrailDB } from './db';

/*
 * The SHA-256 of a file's decompressed content (`FileRecord.sha256`), the hash a CloudTrail digest file lists
 * for each log file it covers: `logFiles[].hashValue` is the hex SHA-256 of the log file's *uncompressed*
 * content ("CloudTrail digest file structure", AWS CloudTrail User Guide:
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-digest-file-structure.html).
 *
 * Ingest computes it at once for every document whose bytes the store does not keep whole (ingest/ingest-core.ts);
 * for a document stored as its source bytes (a `sources` row, see store/writer.ts) it is left out of the record
 * and computed here, from those bytes, when the integrity analysis needs it.
 */

/**
 * SHA-256 of `bytes` as lower-case hex (64 characters), with WebCrypto (`crypto.subtle.digest`, native speed).
 * @throws Error when WebCrypto is unavailable (no secure context).
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  let s = '';
  for (const b of d) s += b.toString(16).padStart(2, '0');
  return s;
}

/**
 * Ids of the file records whose bytes the store keeps as a source (`sources` rows, by `fileId`): the files whose
 * SHA-256 {@link storedSourceSha256} can compute. Reads the `fileId` index only, never a blob.
 * @throws Error (Dexie's) when the store cannot be read (closed by Delete all, for instance).
 */
export async function filesWithSource(db: KeyTrailDB): Promise<Set<number>> {
  return new Set((await db.sources.orderBy('fileId').uniqueKeys()) as number[]);
}

/**
 * The SHA-256 (lower-case hex) of file `fileId`'s decompressed content, computed from the source bytes the store
 * keeps for it: the blob of its `sources` row, gunzipped when the row says `gzip` (multi-member gzip included:
 * codec/gzip.ts `gunzipFast`, the decoder ingest read the file with, so the bytes hashed are the bytes ingest
 * read), then hashed with `crypto.subtle.digest('SHA-256', …)`. For a CloudTrail log file this is the value its
 * digest file lists (`logFiles[].hashValue`, the SHA-256 of the uncompressed log file: "CloudTrail digest file
 * structure", https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-log-file-validation-digest-file-structure.html).
 *
 * The hash is written back to the record's `sha256` (so the next call reads it instead), best effort: only when
 * the record still exists without a hash and the source read is still stored (a store deleted and created again
 * meanwhile, by Delete all in any tab, is never written to); a failed write is ignored.
 * @returns the hex hash; undefined when no source is stored for the file.
 * @throws SizeCapError when the source decompresses past LIMITS.maxDecompressedBytes; Error when it is broken
 *   gzip or cannot be read (store closed, blob missing).
 */
export async function storedSourceSha256(db: KeyTrailDB, fileId: number): Promise<string | undefined> {
  const src = await db.sources.where('fileId').equals(fileId).first();
  if (!src) return undefined;
  const bytes = src.gzip
    ? await gunzipFast(src.blob, LIMITS.maxDecompressedBytes, `stored source of file ${fileId}`)
    : new Uint8Array(await src.blob.arrayBuffer());
  const sha256 = await sha256Hex(bytes);
  try {
    await db.transaction('rw', db.files, db.sources, async () => {
      const [rec, still] = await Promise.all([db.files.get(fileId), db.sources.get(src.id!)]);
      if (rec && !rec.sha256 && still?.fileId === fileId) await db.files.update(fileId, { sha256 });
    });
  } catch {
    /* a cache only: the next analysis computes it again */
  }
  return sha256;
}
