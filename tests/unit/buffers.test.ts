import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ByteBufferPool } from '../../src/lib/codec/buffers';
import { openInput } from '../../src/lib/ingest/open';
import { blob, kmsEvents, s3File, td, te } from './helpers';

/**
 * Reused buffers for decompressed documents (codec/buffers.ts): a dropped gzip file is decompressed into a buffer
 * that the next dropped file reuses once the first file's document has been consumed, and never while it is read.
 */
describe('ByteBufferPool', () => {
  it('gives back the smallest free buffer large enough, and a new one when none is', () => {
    const pool = new ByteBufferPool(4, 1 << 20);
    const a = pool.acquire(1000);
    const b = pool.acquire(50_000);
    expect(a.length).toBe(1000);
    expect(b.length).toBe(50_000);
    expect(a.buffer).not.toBe(b.buffer);
    pool.release(a);
    pool.release(b);
    pool.release(b); // twice: kept once
    expect(pool.held).toBe(2);
    expect(pool.acquire(900).buffer).toBe(a.buffer);
    expect(pool.acquire(40_000).buffer).toBe(b.buffer);
    expect(pool.acquire(40_000).buffer).not.toBe(b.buffer); // b is in use
  });

  it('drops the buffers it keeps once it has not been used for a while', async () => {
    const pool = new ByteBufferPool(4, 1 << 20, 30);
    const a = pool.acquire(1000);
    pool.release(a);
    expect(pool.held).toBe(1);
    await new Promise((r) => setTimeout(r, 10));
    expect(pool.acquire(1000).buffer).toBe(a.buffer); // used again: the countdown starts over
    pool.release(a);
    await new Promise((r) => setTimeout(r, 80));
    expect(pool.held).toBe(0);
    expect(pool.acquire(1000).buffer).not.toBe(a.buffer);
  });

  it('keeps neither arrays it did not hand out nor buffers over its size limit', () => {
    const pool = new ByteBufferPool(2, 1 << 20);
    pool.release(new Uint8Array(10));
    pool.release(pool.acquire(2 << 20));
    expect(pool.held).toBe(0);
    // three buffers of growing size given back: the pool keeps two
    for (let i = 0; i < 3; i++) pool.release(pool.acquire(10 + i * 100_000));
    expect(pool.held).toBe(2);
    const xs = [pool.acquire(10), pool.acquire(10), pool.acquire(10)];
    for (const x of xs) pool.release(x);
    expect(pool.held).toBe(2);
  });
});

describe('openInput decompresses dropped gzip files into reused buffers', () => {
  // large enough to be streamed from a Blob rather than read whole as a small file
  const texts = [0, 1, 2].map((k) => s3File(kmsEvents(3000 + k * 10)));
  const files = texts.map((t) => blob(new Uint8Array(gzipSync(te.encode(t)))));

  it('reuses the first file’s buffer for the next file once its document was consumed', async () => {
    const buffers: ArrayBufferLike[] = [];
    for (const [i, f] of files.entries()) {
      for await (const leaf of openInput(`f${i}.json.gz`, f)) {
        if (!('bytes' in leaf)) throw new Error(leaf.reason);
        expect(td.decode(leaf.bytes)).toBe(texts[i]);
        buffers.push(leaf.bytes.buffer);
      }
    }
    expect(buffers[1]).toBe(buffers[0]);
    expect(buffers[2]).toBe(buffers[0]);
  });

  it('never hands a buffer still being read to another file', async () => {
    // two files read at once (an ingest worker works on two large files at a time)
    const a = openInput('a.json.gz', files[0])[Symbol.asyncIterator]();
    const b = openInput('b.json.gz', files[1])[Symbol.asyncIterator]();
    const [la, lb] = [(await a.next()).value, (await b.next()).value];
    if (!la || !lb || !('bytes' in la) || !('bytes' in lb)) throw new Error('not read');
    expect(la.bytes.buffer).not.toBe(lb.bytes.buffer);
    expect(td.decode(la.bytes)).toBe(texts[0]);
    expect(td.decode(lb.bytes)).toBe(texts[1]);
    await a.return?.(undefined);
    await b.return?.(undefined);
  });

  it('does not reuse a tar.gz archive’s buffer while its members are read', async () => {
    // a gzip inside a gzip: the outer file's bytes are the archive read by the inner read
    const inner = gzipSync(te.encode(texts[2]));
    const outer = blob(new Uint8Array(gzipSync(inner)));
    const seen: string[] = [];
    for await (const leaf of openInput('nested.json.gz.gz', outer)) {
      if (!('bytes' in leaf)) throw new Error(leaf.reason);
      seen.push(td.decode(leaf.bytes));
    }
    expect(seen).toEqual([texts[2]]);
  });
});
