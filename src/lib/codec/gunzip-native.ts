import type { ByteBufferPool } from './buffers';
import type { Source } from './gzip';
import { SizeCapError } from './limits';

/** Compressed inputs up to this size (bytes) are read whole before inflating; larger ones are streamed. */
const WHOLE_READ_BYTES = 32 * 1024 * 1024;

/** Why the native path gave up (the caller falls back to fflate, which reads any valid gzip). */
export class NativeGunzipUnavailable extends Error {
  constructor(cause: unknown) {
    super(`native gzip decompression failed: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'NativeGunzipUnavailable';
  }
}

/**
 * Decompresses a single-member gzip input with the browser's native `DecompressionStream` (zlib, several
 * times faster than a JavaScript inflater), up to `cap` bytes. `src` is a Blob (a dropped File) or bytes
 * already in memory (a small file read whole, an archive member), which are inflated as they are: wrapping them
 * in a Blob to read them back cost two copies through the browser process per file, the largest share of an
 * ingest worker's time on a folder of small files (profiled, 2026-12-02).
 *
 * The native stream rejects multi-member gzip ("junk after end of compressed data") and truncated input; it
 * then throws {@link NativeGunzipUnavailable} and the caller reads the file again with fflate's streaming
 * `Gunzip`, which handles multi-member files and reports truncation precisely.
 * With `pool`, a single-member output is written into a buffer taken from it (codec/buffers.ts): the caller
 * gives the returned array back with `pool.release` once done with it.
 * @throws SizeCapError past the cap; NativeGunzipUnavailable on any other failure.
 */
export async function gunzipNative(
  src: Source,
  cap: number,
  what: string,
  progress?: (bytesRead: number) => void,
  isCancelled?: () => boolean,
  pool?: ByteBufferPool,
): Promise<Uint8Array[]> {
  if (typeof DecompressionStream === 'undefined')
    throw new NativeGunzipUnavailable('DecompressionStream is not available');
  const parts: Uint8Array[] = [];
  let total = 0;
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  /**
   * The whole output, when its size is known from the gzip trailer (ISIZE, the size mod 2^32 of a single
   * member): each chunk the stream gives is copied in at once and dropped, instead of some 220 chunks of 64 KiB
   * per 14 MB file living until a final copy (the allocator then hands their pages back to the system and
   * faults them in again for the next file: a large share of the ingest's system time, perf, 2026-12-01).
   */
  let whole: Uint8Array | null = null;
  if (src instanceof Uint8Array || src.size <= WHOLE_READ_BYTES) {
    // Read the compressed bytes in one request and inflate them from memory: streaming a File costs a
    // round trip to the browser process per 64 KiB.
    const bytes = src instanceof Uint8Array ? src : new Uint8Array(await src.arrayBuffer());
    progress?.(bytes.length);
    if (bytes.length >= 18) {
      const n = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 4, 4).getUint32(0, true);
      if (n > 0 && n <= cap) whole = pool ? pool.acquire(n) : new Uint8Array(n);
    }
    const ds = new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>;
    const w = ds.writable.getWriter();
    w.write(bytes).catch(() => undefined);
    w.close().catch(() => undefined);
    reader = ds.readable.getReader();
  } else {
    let read = 0;
    const counter = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, ctl) {
        read += chunk.length;
        progress?.(read);
        ctl.enqueue(chunk);
      },
    });
    reader = src
      .stream()
      .pipeThrough(counter)
      .pipeThrough(new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>)
      .getReader();
  }
  try {
    for (;;) {
      if (isCancelled?.()) {
        await reader.cancel();
        return whole ? [whole.subarray(0, total)] : parts;
      }
      const { done, value } = await reader.read();
      if (done) break;
      if (total + value.length > cap) {
        await reader.cancel().catch(() => undefined);
        throw new SizeCapError(what, cap);
      }
      if (whole && total + value.length <= whole.length) whole.set(value, total);
      else {
        // more than the trailer said (several members, or 4 GiB and over): keep the chunks instead
        if (whole) parts.push(whole.slice(0, total));
        pool?.release(whole);
        whole = null;
        parts.push(value);
      }
      total += value.length;
    }
  } catch (err) {
    pool?.release(whole);
    if (err instanceof SizeCapError) throw err;
    throw new NativeGunzipUnavailable(err);
  }
  if (whole) return [total === whole.length ? whole : whole.subarray(0, total)];
  return parts;
}
