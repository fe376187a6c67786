import { gunzipFast } from '../codec/gzip';
import { LIMITS } from '../codec/limits';
import { arrayRanges } from '../codec/slices';
import type { ChunkRecord, KeyTrailDB } from './db';
import { filesWithSource, storedSourceSha256 } from './filehash';

/**
 * Reads the stored JSON text of events: from a chunk's `events`, or by decoding the chunk's source file
 * (gunzip when needed) and slicing each event's range. Keeps a few chunks and decoded sources in memory
 * (at most about 64M characters of decoded text) so paging through neighbouring events stays fast.
 */
export class RawReader {
  private chunks = new Map<number, ChunkRecord>();
  private texts = new Map<number, string>();
  /** Offsets of each record of a source's `Records` array (`[start, end)` pairs), found when first read. */
  private records = new Map<number, Uint32Array>();
  private textChars = 0;

  constructor(private db: KeyTrailDB) {}

  private async chunk(id: number): Promise<ChunkRecord | undefined> {
    let c = this.chunks.get(id);
    if (c) return c;
    c = await this.db.chunks.get(id);
    if (!c) return undefined;
    this.chunks.set(id, c);
    if (this.chunks.size > 16) this.chunks.delete(this.chunks.keys().next().value!);
    return c;
  }

  private async sourceText(id: number): Promise<string> {
    const cached = this.texts.get(id);
    if (cached !== undefined) {
      this.texts.delete(id);
      this.texts.set(id, cached);
      return cached;
    }
    const src = await this.db.sources.get(id);
    if (!src) throw new Error(`stored source ${id} is missing`);
    const bytes = src.gzip
      ? await gunzipFast(src.blob, LIMITS.maxDecompressedBytes, `stored source ${id}`)
      : new Uint8Array(await src.blob.arrayBuffer());
    const text = new TextDecoder().decode(bytes);
    this.texts.set(id, text);
    this.textChars += text.length;
    while (this.textChars > 64 * 1024 * 1024 && this.texts.size > 1) {
      const [k, v] = this.texts.entries().next().value!;
      this.texts.delete(k);
      this.textChars -= v.length;
    }
    return text;
  }

  /** `[start, end)` offsets of the chunk's events in `text`, two per event. */
  private chunkRanges(c: ChunkRecord, text: string): Uint32Array {
    if (c.ranges) return c.ranges;
    let all = this.records.get(c.sourceId!);
    if (!all) {
      all = arrayRanges(text, 'Records') ?? new Uint32Array(0);
      this.records.set(c.sourceId!, all);
      if (this.records.size > 64) this.records.delete(this.records.keys().next().value!);
    }
    const recs = c.records ?? new Uint32Array(0);
    const out = new Uint32Array(recs.length * 2);
    for (let i = 0; i < recs.length; i++) {
      const k = recs[i];
      if (k * 2 + 1 >= all.length) throw new Error(`stored source ${c.sourceId} has no record ${k}`);
      out[i * 2] = all[k * 2];
      out[i * 2 + 1] = all[k * 2 + 1];
    }
    return out;
  }

  /**
   * The JSON text of event `offset` of chunk `chunkId`, or undefined when absent.
   * @throws Error when a chunk's source file is missing or cannot be decompressed.
   */
  async eventText(chunkId: number, offset: number): Promise<string | undefined> {
    const c = await this.chunk(chunkId);
    if (!c) return undefined;
    if (c.events) return c.events[offset];
    const n = c.records?.length ?? (c.ranges?.length ?? 0) / 2;
    if (c.sourceId === undefined || offset >= n) return undefined;
    const text = await this.sourceText(c.sourceId);
    if (c.ranges) return text.slice(c.ranges[offset * 2], c.ranges[offset * 2 + 1]);
    const r = this.chunkRanges({ ...c, records: c.records!.subarray(offset, offset + 1) }, text);
    return text.slice(r[0], r[1]);
  }

  /** Every event text of a chunk, in order (for exports). */
  async chunkTexts(chunkId: number): Promise<string[]> {
    const c = await this.chunk(chunkId);
    if (!c) return [];
    if (c.events) return c.events;
    const text = await this.sourceText(c.sourceId!);
    const r = this.chunkRanges(c, text);
    const out: string[] = [];
    for (let i = 0; i < r.length; i += 2) out.push(text.slice(r[i], r[i + 1]));
    return out;
  }

  /**
   * Ids of the file records whose source bytes are stored (see store/filehash.ts `filesWithSource`): those a
   * missing `sha256` can be computed for with {@link sourceSha256}.
   * @throws Error when the store cannot be read.
   */
  async sourceFileIds(): Promise<Set<number>> {
    return filesWithSource(this.db);
  }

  /**
   * The SHA-256 (lower-case hex) of file `fileId`'s decompressed content, from its stored source bytes, written
   * back to its record's `sha256` (best effort): see store/filehash.ts `storedSourceSha256`, which it calls.
   * For a CloudTrail log file, the hash its digest file lists (`logFiles[].hashValue`, "CloudTrail digest file
   * structure", AWS CloudTrail User Guide).
   * @returns the hex hash; undefined when no source is stored for the file.
   * @throws SizeCapError or Error when the source cannot be read or decompressed.
   */
  async sourceSha256(fileId: number): Promise<string | undefined> {
    return storedSourceSha256(this.db, fileId);
  }

  /** Forgets every cached chunk and text (after a wipe). */
  clear(): void {
    this.chunks.clear();
    this.texts.clear();
    this.records.clear();
    this.textChars = 0;
  }
}
