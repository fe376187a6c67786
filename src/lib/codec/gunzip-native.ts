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
 * Decompresses a single-member gzip blob with the browser's native `DecompressionStream` (zlib, several
 * times faster than a JavaScript inflater), up to `cap` bytes.
 *
 * The native stream rejects multi-member gzip ("junk after end of compressed data") and truncated input; it
 * then throws {@link NativeGunzipUnavailable} and the caller reads the file again with fflate's streaming
 * `Gunzip`, which handles multi-member files and reports truncation precisely.
 * @throws SizeCapError past the cap; NativeGunzipUnavailable on any other failure.
 */
export async function gunzipNative(
  src: Blob,
  cap: number,
  what: string,
  progress?: (bytesRead: number) => void,
  isCancelled?: () => boolean,
): Promise<Uint8Array[]> {
  if (typeof DecompressionStream === 'undefined')
    throw new NativeGunzipUnavailable('DecompressionStream is not available');
  let read = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, ctl) {
      read += chunk.length;
      progress?.(read);
      ctl.enqueue(chunk);
    },
  });
  const parts: Uint8Array[] = [];
  let total = 0;
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  if (src.size <= WHOLE_READ_BYTES) {
    // Read the compressed bytes in one request and inflate them from memory: streaming a File costs a
    // round trip to the browser process per 64 KiB.
    const bytes = new Uint8Array(await src.arrayBuffer());
    progress?.(bytes.length);
    const ds = new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>;
    const w = ds.writable.getWriter();
    w.write(bytes).catch(() => undefined);
    w.close().catch(() => undefined);
    reader = ds.readable.getReader();
  } else
    reader = src
      .stream()
      .pipeThrough(counter)
      .pipeThrough(new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>)
      .getReader();
  try {
    for (;;) {
      if (isCancelled?.()) {
        await reader.cancel();
        return parts;
      }
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > cap) {
        await reader.cancel().catch(() => undefined);
        throw new SizeCapError(what, cap);
      }
      parts.push(value);
    }
  } catch (err) {
    if (err instanceof SizeCapError) throw err;
    throw new NativeGunzipUnavailable(err);
  }
  return parts;
}
