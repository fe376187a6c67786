import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gunzipNative, NativeGunzipUnavailable } from '../../src/lib/codec/gunzip-native';
import { SizeCapError } from '../../src/lib/codec/limits';

const text = JSON.stringify({ Records: Array.from({ length: 3000 }, (_, i) => ({ eventID: `e-${i}`, n: i })) });
const gz = new Uint8Array(gzipSync(text));

describe('gunzipNative (DecompressionStream)', () => {
  it('inflates a single-member file into one buffer of the size its trailer gives', async () => {
    const parts = await gunzipNative(new Blob([gz]), 1 << 30, 'f.json.gz');
    expect(parts).toHaveLength(1);
    expect(parts[0].length).toBe(text.length);
    expect(new TextDecoder().decode(parts[0])).toBe(text);
  });

  it('inflates bytes already in memory as they are, a view into a larger buffer included (no Blob)', async () => {
    // a small dropped file is read whole and an archive member is a view of its archive's bytes
    const framed = new Uint8Array(gz.length + 7);
    framed.set(gz, 3);
    const view = framed.subarray(3, 3 + gz.length);
    const parts = await gunzipNative(view, 1 << 30, 'f.json.gz');
    expect(parts).toHaveLength(1);
    expect(new TextDecoder().decode(parts[0])).toBe(text);
    expect(view).toEqual(gz); // the input is left as it was (not detached, not changed)
  });

  it('reads a multi-member file whole, past the size its trailer gives, or gives up (then fflate reads it)', async () => {
    // Chromium's stream rejects a second member; Node's reads it: either way nothing is lost or cut
    const two = new Uint8Array([...gz, ...gz]);
    const got = await gunzipNative(new Blob([two]), 1 << 30, 'f.json.gz').catch((e: unknown) => e);
    if (got instanceof NativeGunzipUnavailable) return;
    const parts = got as Uint8Array[];
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.map((p) => new TextDecoder().decode(p)).join('')).toBe(text + text);
  });

  it('gives up when the trailer states another size', async () => {
    for (const delta of [-1, 1]) {
      const bad = gz.slice();
      new DataView(bad.buffer).setUint32(bad.length - 4, text.length + delta, true);
      await expect(gunzipNative(new Blob([bad]), 1 << 30, 'f.json.gz')).rejects.toBeInstanceOf(NativeGunzipUnavailable);
    }
  });

  it('stops at the size cap', async () => {
    await expect(gunzipNative(new Blob([gz]), 1000, 'f.json.gz')).rejects.toBeInstanceOf(SizeCapError);
  });
});
