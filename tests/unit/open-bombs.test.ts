/**
 * openInput against decompression bombs (300 MiB of zeros in a gzip and in a zip member): each is a corrupt leaf
 * naming the 256 MiB cap. Slow (hundreds of MiB inflated): in the `slow` vitest project; the other openInput tests
 * are in open.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Gzip, strToU8, Zip, ZipDeflate } from 'fflate';
import type { Leaf } from '../../src/lib/ingest/open';
import { cat, leavesOf, td } from './helpers';

function problem(l: Leaf): { status: string; reason: string } {
  if (!('status' in l)) throw new Error(`leaf ${l.path} was read (${l.bytes.length} bytes), expected a problem`);
  return { status: l.status, reason: l.reason };
}

function summary(leaves: Leaf[]): [string, string][] {
  return leaves.map((l) => [l.path, 'status' in l ? `${l.status}: ${l.reason}` : td.decode(l.bytes)]);
}

/** A zero-filled stream of `mib` MiB, gzipped in pieces (about 1 KiB of output per MiB of input). */
function gzippedZeros(mib: number): Uint8Array {
  const out: Uint8Array[] = [];
  const g = new Gzip({ level: 6 }, (d) => out.push(d));
  const zero = new Uint8Array(1 << 20);
  for (let i = 0; i < mib; i++) g.push(zero, i === mib - 1);
  return cat(...out);
}

describe('openInput: limits and control', () => {
  it('a gzip bomb (300 MiB of zeros) is corrupt, naming the cap', async () => {
    const bomb = gzippedZeros(300);
    expect(bomb.length).toBeLessThan(2 << 20);
    const leaves = await leavesOf('bomb.json.gz', bomb);
    expect(leaves).toHaveLength(1);
    const p = problem(leaves[0]);
    expect(p.status).toBe('corrupt');
    expect(p.reason).toMatch(/256 MiB cap/);
  });

  it('a zip bomb member (300 MiB of zeros) is corrupt, naming the cap, and other members are still read', async () => {
    const parts: Uint8Array[] = [];
    const zip = new Zip((err, d) => {
      if (err) throw err;
      parts.push(d);
    });
    const ok = new ZipDeflate('ok.json');
    zip.add(ok);
    ok.push(strToU8('{"ok":1}'), true);
    const big = new ZipDeflate('bomb.json', { level: 6 });
    zip.add(big);
    const zero = new Uint8Array(1 << 20);
    for (let i = 0; i < 300; i++) big.push(zero, i === 299);
    const after = new ZipDeflate('after.json');
    zip.add(after);
    after.push(strToU8('{"after":1}'), true);
    zip.end();
    const z = cat(...parts);
    const s = summary(await leavesOf('bomb.zip', z));
    expect(s).toContainEqual(['bomb.zip!ok.json', '{"ok":1}']);
    expect(s).toContainEqual(['bomb.zip!after.json', '{"after":1}']);
    const bomb = s.filter(([p]) => p === 'bomb.zip!bomb.json');
    expect(bomb).toHaveLength(1);
    expect(bomb[0][1]).toMatch(/^corrupt: .*256 MiB cap/);
  });
});
