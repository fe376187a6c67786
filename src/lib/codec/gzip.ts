import { Gunzip } from 'fflate';
import type { ByteBufferPool } from './buffers';
import { gunzipNative, NativeGunzipUnavailable } from './gunzip-native';
import { SizeCapError } from './limits';

/*
 * gzip decoding shared by ingest (reading inputs) and the store (reading stored sources again): streaming,
 * size-capped, cancellable. Pure byte codecs: no IndexedDB, no DOM beyond Blob and DecompressionStream.
 */

/** Bytes of a blob or an in-memory buffer. */
export type Source = Blob | Uint8Array;

/** Progress of reading one input, in bytes of the input as stored (compressed). */
export type ReadProgress = (bytesRead: number) => void;

/** Thrown by an input read that was cancelled. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

/** Cancellation flag shared by a read and whoever may cancel it. */
export interface CancelToken {
  cancelled: boolean;
}

const READ_CHUNK = 1 << 20;

/**
 * Largest piece of compressed data handed to fflate at once. fflate inflates a whole pushed piece before it
 * calls back, so a 1 MiB piece of a bomb (deflate expands up to ~1032x) would be one 1 GiB allocation before
 * any size cap is checked; 64 KiB pieces keep that under ~66 MB.
 */
export const INFLATE_SLICE = 1 << 16;

/** Pushes `c` to a streaming decompressor in {@link INFLATE_SLICE} pieces (`final` on the last one). */
export function pushSliced(
  d: { push(c: Uint8Array, final: boolean): void },
  c: Uint8Array,
  final: boolean,
  stop?: () => boolean,
): void {
  if (c.length <= INFLATE_SLICE) return d.push(c, final);
  for (let o = 0; o < c.length; o += INFLATE_SLICE) {
    if (stop?.()) return;
    d.push(c.subarray(o, o + INFLATE_SLICE), final && o + INFLATE_SLICE >= c.length);
  }
}
/** Iterates a source in chunks of at most 1 MiB, reporting progress and honouring cancellation. */
export async function* chunks(src: Source, progress?: ReadProgress, cancel?: CancelToken): AsyncGenerator<Uint8Array> {
  if (src instanceof Uint8Array) {
    for (let o = 0; o < src.length; o += READ_CHUNK) {
      if (cancel?.cancelled) throw new CancelledError();
      const c = src.subarray(o, o + READ_CHUNK);
      progress?.(o + c.length);
      yield c;
    }
    return;
  }
  const reader = src.stream().getReader();
  let read = 0;
  try {
    for (;;) {
      if (cancel?.cancelled) throw new CancelledError();
      const { done, value } = await reader.read();
      if (done) return;
      read += value.length;
      progress?.(read);
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
/** Concatenates byte arrays (total length given when known). */
export function concat(parts: Uint8Array[], total = parts.reduce((s, p) => s + p.length, 0)): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Decompresses a gzip stream (single- or multi-member) with fflate's streaming `Gunzip`, up to `cap` bytes.
 * Detects truncation: fflate accepts a stream that stops inside the last member's trailer, so the last
 * member's ISIZE (RFC 1952) is checked against the bytes it produced.
 * @throws SizeCapError past the cap; Error('truncated gzip ...') or fflate's error for broken data.
 */
export async function gunzip(
  src: Source,
  cap: number,
  what: string,
  progress?: ReadProgress,
  cancel?: CancelToken,
): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  let memberStart = 0;
  let members = 1;
  const g = new Gunzip((data) => {
    if (!data.length) return;
    total += data.length;
    if (total > cap) throw new SizeCapError(what, cap);
    parts.push(data);
  });
  g.onmember = () => {
    memberStart = total;
    members++;
  };
  let tail: Uint8Array = new Uint8Array(0);
  let pending: Uint8Array | null = null;
  for await (const c of chunks(src, progress, cancel)) {
    if (pending) pushSliced(g, pending, false);
    pending = c;
    tail = c.length >= 8 ? c.subarray(c.length - 8) : concat([tail, c]).subarray(-8);
  }
  pushSliced(g, pending ?? new Uint8Array(0), true);
  if (tail.length === 8) {
    const isize = (tail[4] | (tail[5] << 8) | (tail[6] << 16) | (tail[7] << 24)) >>> 0;
    const produced = (total - memberStart) >>> 0;
    if (isize !== produced % 2 ** 32 && !(members > 1 && produced === 0)) {
      throw new Error(
        `truncated gzip: member ${members} ends after ${total - memberStart} bytes but its trailer says ${isize}`,
      );
    }
  }
  return concat(parts, total);
}
/**
 * Decompresses gzip with the browser's native `DecompressionStream` when it can (single-member files, the
 * common case), and with fflate's streaming `Gunzip` otherwise (multi-member files, truncated files, or no
 * native support), so the precise errors and multi-member handling of {@link gunzip} are kept.
 * With `pool`, the output may be a buffer of the pool (see `gunzipNative`): give it back with `pool.release`
 * once nothing reads it (releasing an array the pool does not own is harmless).
 */
export async function gunzipFast(
  src: Source,
  cap: number,
  what: string,
  progress?: ReadProgress,
  cancel?: CancelToken,
  pool?: ByteBufferPool,
): Promise<Uint8Array> {
  try {
    const parts = await gunzipNative(src, cap, what, progress, () => !!cancel?.cancelled, pool);
    if (cancel?.cancelled) {
      pool?.release(parts[0]);
      throw new CancelledError();
    }
    return concat(parts);
  } catch (err) {
    if (!(err instanceof NativeGunzipUnavailable)) throw err;
  }
  return gunzip(src, cap, what, progress, cancel);
}
