import { Unzip, UnzipInflate, type AsyncFlateStreamHandler, type UnzipDecoder } from 'fflate';
import { createTarDecoder, type ParsedTarEntry } from 'modern-tar';
import {
  CancelledError,
  chunks,
  concat,
  gunzipFast,
  INFLATE_SLICE,
  pushSliced,
  type CancelToken,
  type ReadProgress,
  type Source,
} from '../codec/gzip';
import { LIMITS, SizeCapError } from '../codec/limits';
import { ByteBufferPool } from '../codec/buffers';
import { sniff } from './sniff';

export {
  CancelledError,
  concat,
  gunzip,
  gunzipFast,
  type CancelToken,
  type ReadProgress,
  type Source,
} from '../codec/gzip';

/** Buffers that dropped gzip files are decompressed into, reused file after file (codec/buffers.ts). */
const documentBuffers = new ByteBufferPool();

/**
 * One document found in an input: a plain file, or a member of an archive (path `archive!member`), with its
 * decompressed bytes, or the reason it could not be read.
 */
export type Leaf =
  | {
      path: string;
      bytes: Uint8Array;
      compressed: boolean;
      /**
       * The bytes the document was read from, as stored: the gzip bytes for a gzipped document, the plain
       * bytes otherwise. Kept as the stored copy of its events (see ChunkRecord); absent in hand-made leaves.
       */
      source?: Source;
    }
  | { path: string; status: 'corrupt' | 'not-cloudtrail'; reason: string };

/**
 * fflate's synchronous zip inflater, made stoppable: `terminate()` (called when a member passes a size cap)
 * stops inflating the rest of the member, which fflate's own `UnzipInflate` would keep doing (it has no
 * terminate), so a zip bomb member costs no more than its cap.
 */
class StoppableUnzipInflate implements UnzipDecoder {
  static compression = 8;
  ondata: AsyncFlateStreamHandler = () => undefined;
  private inner = new UnzipInflate();
  private stopped = false;
  constructor() {
    this.inner.ondata = (err, data, final) => {
      if (!this.stopped) this.ondata(err, data, final);
    };
  }
  push(chunk: Uint8Array, final: boolean): void {
    if (!this.stopped) pushSliced(this.inner, chunk, final, () => this.stopped);
  }
  terminate(): void {
    this.stopped = true;
  }
}

/** Files up to this size (bytes) are read into memory at once (see {@link openInput}). */
const SMALL_FILE_BYTES = 256 * 1024;

async function head(src: Source, n: number): Promise<Uint8Array> {
  if (src instanceof Uint8Array) return src.subarray(0, n);
  return new Uint8Array(await src.slice(0, n).arrayBuffer());
}

async function readAllBytes(
  src: Source,
  cap: number,
  what: string,
  progress?: ReadProgress,
  cancel?: CancelToken,
): Promise<Uint8Array> {
  // in-memory sources too: a plain tar's members arrive as Uint8Arrays
  if ((src instanceof Uint8Array ? src.length : src.size) > cap) throw new SizeCapError(what, cap);
  if (src instanceof Uint8Array) {
    progress?.(src.length);
    return src;
  }
  const parts: Uint8Array[] = [];
  for await (const c of chunks(src, progress, cancel)) parts.push(c);
  return concat(parts, src.size);
}

/** What an archive may still expand to: bytes and members. */
interface Budget {
  bytes: number;
  members: number;
}

/** Options for {@link openInput}. */
export interface OpenOptions {
  progress?: ReadProgress;
  cancel?: CancelToken;
}

/** Why a member was not read once its archive's decompressed total passed the cap. */
function archiveCapReason(): string {
  return `${new SizeCapError("the archive's total decompressed size", LIMITS.maxArchiveBytes).message}: this member was not read`;
}

/** A clear reason for a gzip stream that could not be read (fflate's messages are terse). */
function gzipReason(err: unknown): string {
  if (err instanceof CancelledError) throw err;
  const msg = err instanceof Error ? err.message : String(err);
  if (/^truncated gzip/.test(msg)) return msg;
  if (/unexpected EOF/i.test(msg)) return 'truncated gzip: the file ends inside the compressed data (unexpected EOF)';
  return `broken gzip data: ${msg}`;
}

function corrupt(path: string, err: unknown): Leaf {
  if (err instanceof CancelledError) throw err;
  const msg = err instanceof Error ? err.message : String(err);
  return { path, status: 'corrupt', reason: msg };
}

/**
 * Opens one input (a dropped file or an archive member) and yields every document in it: the file itself
 * when it is plain or gzipped, or each member of a `.zip`, `.tar`, `.tar.gz`/`.tgz` (nested archives too,
 * up to {@link LIMITS.maxArchiveDepth}). Never throws for bad data: a broken input yields a `corrupt` or
 * `not-cloudtrail` leaf naming the problem (members already read are kept).
 * A leaf's `bytes` may be a reused buffer: they are valid until the next document is asked for (or the
 * iteration stops), so a consumer copies what it keeps longer.
 * @throws CancelledError when `opts.cancel` is set during the read.
 */
export async function* openInput(
  path: string,
  src: Source,
  opts: OpenOptions = {},
  depth = 0,
  budget: Budget = { bytes: LIMITS.maxArchiveBytes, members: LIMITS.maxArchiveMembers },
): AsyncGenerator<Leaf> {
  // A small file is read once, whole (for 10,000 small files, each extra read of a Blob is a round trip).
  if (!(src instanceof Uint8Array) && src.size <= SMALL_FILE_BYTES) src = new Uint8Array(await src.arrayBuffer());
  const h = await head(src, 512);
  const kind = sniff(h);
  if (kind === 'empty') {
    yield { path, status: 'not-cloudtrail', reason: 'empty file (0 bytes)' };
    return;
  }
  if (kind === 'binary') {
    const utf16 = (h[0] === 0xff && h[1] === 0xfe) || (h[0] === 0xfe && h[1] === 0xff);
    yield {
      path,
      status: 'not-cloudtrail',
      reason: utf16
        ? 'UTF-16 text: CloudTrail files are UTF-8 (convert it, for example with iconv -f UTF-16 -t UTF-8)'
        : 'binary file (not text, not gzip, zip or tar)',
    };
    return;
  }
  if (kind === 'text') {
    try {
      yield {
        path,
        bytes: await readAllBytes(src, LIMITS.maxDecompressedBytes, path, opts.progress, opts.cancel),
        compressed: false,
        source: src,
      };
    } catch (err) {
      yield corrupt(path, err);
    }
    return;
  }
  if (depth >= LIMITS.maxArchiveDepth) {
    yield { path, status: 'corrupt', reason: `archives nested more than ${LIMITS.maxArchiveDepth} deep` };
    return;
  }
  if (kind === 'gzip') {
    // Inside an archive, a gzip member's output counts against the archive's budget too (a zip of gzip bombs).
    const inArchive = depth > 0;
    if (inArchive && budget.bytes <= 0) {
      yield { path, status: 'corrupt', reason: archiveCapReason() };
      return;
    }
    const byBudget = inArchive && budget.bytes < LIMITS.maxDecompressedBytes;
    // a dropped file's output goes into a reused buffer, given back when its consumer asks for the next
    // document (or stops): archive members are never read into one, their archive's bytes may be in use
    const pool = inArchive ? undefined : documentBuffers;
    let bytes: Uint8Array;
    try {
      bytes = await gunzipFast(
        src,
        byBudget ? budget.bytes : LIMITS.maxDecompressedBytes,
        `decompressed size of ${path}`,
        opts.progress,
        opts.cancel,
        pool,
      );
    } catch (err) {
      if (err instanceof SizeCapError) {
        if (inArchive) budget.bytes = byBudget ? 0 : budget.bytes - LIMITS.maxDecompressedBytes;
        yield { path, status: 'corrupt', reason: byBudget ? archiveCapReason() : err.message };
      } else yield corrupt(path, new Error(gzipReason(err)));
      return;
    }
    if (inArchive) budget.bytes -= bytes.length;
    try {
      const inner = sniff(bytes.subarray(0, 512));
      if (inner === 'tar' || inner === 'zip' || inner === 'gzip') {
        yield* openInput(path, bytes, { cancel: opts.cancel }, depth + 1, budget);
      } else if (inner === 'binary') {
        yield { path, status: 'not-cloudtrail', reason: 'gzip of a binary file (not text)' };
      } else if (inner === 'empty') {
        yield { path, status: 'not-cloudtrail', reason: 'gzip of an empty file' };
      } else yield { path, bytes, compressed: true, source: src };
    } finally {
      pool?.release(bytes);
    }
    return;
  }
  if (kind === 'zip') {
    yield* openZip(path, src, opts, depth, budget);
    return;
  }
  yield* openTar(path, src, opts, depth, budget);
}

/** Reading one tar member's body stopped: at a size cap, or because the archive ended inside it. */
type MemberRead = { bytes: Uint8Array } | { problem: string };

/** Reads one tar member's body whole, stopping (and cancelling the rest) once it passes `cap` bytes. */
async function readMember(
  body: ReadableStream<Uint8Array>,
  size: number,
  cap: number,
  name: string,
): Promise<MemberRead> {
  if (size > cap) {
    await body.cancel();
    return { problem: new SizeCapError(name, cap).message };
  }
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let got = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    got += value.length;
    if (got > cap) {
      await reader.cancel();
      return { problem: new SizeCapError(name, cap).message };
    }
    parts.push(value);
  }
  if (got < size) return { problem: `tar member truncated: the archive ends after ${got} of its ${size} bytes` };
  return { bytes: concat(parts, got) };
}

/**
 * Each member of a tar archive, read as a stream with modern-tar's decoder (ustar names with their `prefix`,
 * pax `path` records, GNU long names), one member in memory at a time. Regular files only (directories, links
 * and devices are not leaves). Limits: the archive itself at most {@link LIMITS.maxArchiveBytes}, each member
 * at most {@link LIMITS.maxDecompressedBytes}, and the members counted against the shared budget.
 */
async function* openTar(
  path: string,
  src: Source,
  opts: OpenOptions,
  depth: number,
  budget: Budget,
): AsyncGenerator<Leaf> {
  if ((src instanceof Uint8Array ? src.length : src.size) > LIMITS.maxArchiveBytes) {
    yield corrupt(path, new SizeCapError(path, LIMITS.maxArchiveBytes));
    return;
  }
  const input = chunks(src, opts.progress, opts.cancel);
  const entries = new ReadableStream<Uint8Array>({
    async pull(c) {
      const { done, value } = await input.next();
      if (done) c.close();
      else c.enqueue(value);
    },
    async cancel() {
      await input.return(undefined);
    },
  })
    .pipeThrough(createTarDecoder())
    .getReader();
  try {
    for (;;) {
      let next: ReadableStreamReadResult<ParsedTarEntry>;
      try {
        next = await entries.read();
      } catch (err) {
        if (err instanceof CancelledError || opts.cancel?.cancelled) throw new CancelledError();
        yield { path, status: 'corrupt', reason: `broken tar archive: ${(err as Error).message}` };
        return;
      }
      if (next.done) return;
      const { header, body } = next.value;
      if (opts.cancel?.cancelled) throw new CancelledError();
      if (header.type !== 'file') {
        await body.cancel();
        continue;
      }
      const name = `${path}!${memberName(header.name)}`;
      if (--budget.members < 0) {
        await body.cancel();
        yield {
          path,
          status: 'corrupt',
          reason: `archive has more than ${LIMITS.maxArchiveMembers} members; the rest were not read`,
        };
        return;
      }
      const read = await readMember(body, header.size, LIMITS.maxDecompressedBytes, name);
      if ('problem' in read) yield { path: name, status: 'corrupt', reason: read.problem };
      else yield* openInput(name, read.bytes, { cancel: opts.cancel }, depth + 1, budget);
    }
  } finally {
    await entries.cancel().catch(() => undefined);
  }
}

/** An archive member's name as shown: `\` to `/`, leading `/` and `../` segments removed (never used as a path on disk). */
export function memberName(name: string): string {
  const parts = name
    .replace(/\\/g, '/')
    .split('/')
    .filter((p) => p && p !== '.' && p !== '..');
  return parts.join('/') || '(unnamed)';
}

async function* openZip(
  path: string,
  src: Source,
  opts: OpenOptions,
  depth: number,
  budget: Budget,
): AsyncGenerator<Leaf> {
  const done: { name: string; bytes: Uint8Array }[] = [];
  const failed: Leaf[] = [];
  const uz = new Unzip();
  uz.register(StoppableUnzipInflate);
  let sawFile = false;
  const unfinished = new Set<string>();
  uz.onfile = (f) => {
    sawFile = true;
    if (f.name.endsWith('/')) return;
    const name = `${path}!${memberName(f.name)}`;
    if (--budget.members < 0) {
      failed.push({
        path: name,
        status: 'corrupt',
        reason: `archive has more than ${LIMITS.maxArchiveMembers} members`,
      });
      return;
    }
    if (f.compression !== 0 && f.compression !== 8) {
      failed.push({ path: name, status: 'corrupt', reason: `unsupported zip compression method ${f.compression}` });
      return;
    }
    const parts: Uint8Array[] = [];
    let total = 0;
    let stopped = false;
    unfinished.add(name);
    f.ondata = (err, data, final) => {
      if (stopped) return;
      if (final || err) unfinished.delete(name);
      if (err) {
        stopped = true;
        failed.push({ path: name, status: 'corrupt', reason: `broken zip member: ${err.message}` });
        return;
      }
      total += data.length;
      budget.bytes -= data.length;
      if (total > LIMITS.maxDecompressedBytes || budget.bytes < 0) {
        stopped = true;
        unfinished.delete(name);
        const reason =
          total > LIMITS.maxDecompressedBytes
            ? new SizeCapError('decompressed member', LIMITS.maxDecompressedBytes).message
            : archiveCapReason();
        failed.push({ path: name, status: 'corrupt', reason });
        try {
          f.terminate();
        } catch {
          /* already ended */
        }
        return;
      }
      parts.push(data);
      if (final) done.push({ name, bytes: concat(parts, total) });
    };
    f.start();
  };
  let error: unknown = null;
  try {
    let pending: Uint8Array | null = null;
    // In slices, handing over members as they complete (so memory holds few at once, and each member is
    // charged to the archive's budget in archive order).
    async function* feed(c: Uint8Array, final: boolean): AsyncGenerator<Leaf> {
      for (let o = 0; o < c.length || (final && o === 0); o += INFLATE_SLICE) {
        uz.push(c.subarray(o, o + INFLATE_SLICE), final && o + INFLATE_SLICE >= c.length);
        while (done.length) {
          const m = done.shift()!;
          yield* openInput(m.name, m.bytes, { cancel: opts.cancel }, depth + 1, budget);
        }
        while (failed.length) yield failed.shift()!;
      }
    }
    for await (const c of chunks(src, opts.progress, opts.cancel)) {
      if (pending) yield* feed(pending, false);
      pending = c;
    }
    yield* feed(pending ?? new Uint8Array(0), true);
  } catch (err) {
    if (err instanceof CancelledError) throw err;
    error = err;
  }
  for (const m of done) yield* openInput(m.name, m.bytes, { cancel: opts.cancel }, depth + 1, budget);
  for (const f of failed) yield f;
  for (const name of unfinished)
    yield { path: name, status: 'corrupt', reason: 'zip member truncated (archive ends inside it)' };
  if (error) yield { path, status: 'corrupt', reason: `broken zip archive: ${(error as Error).message}` };
  else if (!(await hasZipEnd(src)))
    yield {
      path,
      status: 'corrupt',
      reason: 'zip archive truncated (no end-of-central-directory record): members after the cut are missing',
    };
  else if (!sawFile) yield { path, status: 'not-cloudtrail', reason: 'zip archive with no members' };
}

/**
 * True when a zip ends with its end-of-central-directory record (within the last 64 KiB + 22 bytes, room for its
 * comment left). The streaming reader needs no central directory, so this is how a zip cut between two
 * members is told apart from a whole one.
 */
async function hasZipEnd(src: Source): Promise<boolean> {
  const size = src instanceof Uint8Array ? src.length : src.size;
  const from = Math.max(0, size - 22 - 0xffff);
  const t = src instanceof Uint8Array ? src.subarray(from) : new Uint8Array(await src.slice(from).arrayBuffer());
  for (let i = t.length - 22; i >= 0; i--) {
    if (
      t[i] === 0x50 &&
      t[i + 1] === 0x4b &&
      t[i + 2] === 5 &&
      t[i + 3] === 6 &&
      i + 22 + (t[i + 20] | (t[i + 21] << 8)) <= t.length
    )
      return true;
  }
  return false;
}
