import { describe, expect, it } from 'vitest';
import { ArrayPool } from '../../src/lib/query/arrayPool';

describe('ArrayPool', () => {
  it('carves zeroed, non-overlapping arrays out of few blocks', () => {
    const pool = new ArrayPool();
    const arrays: Uint32Array[] = [];
    for (let i = 0; i < 2000; i++) {
      const n = 1 + ((i * 7919) % 3000);
      const a = pool.u32(n);
      expect(a.length).toBe(n);
      expect(a.every((x) => x === 0)).toBe(true);
      a.fill(i + 1);
      arrays.push(a);
    }
    // each kept what was written: no two overlap
    arrays.forEach((a, i) => expect(a.every((x) => x === i + 1)).toBe(true));
    // ~3M elements in 16 MB blocks, not 2,000 buffers
    expect(new Set(arrays.map((a) => a.buffer)).size).toBe(pool.blocks);
    expect(pool.blocks).toBe(1);
  });

  it('an array longer than a quarter block gets a buffer of its own', () => {
    const pool = new ArrayPool();
    const big = pool.u32(2_000_000);
    expect(big.buffer.byteLength).toBe(8_000_000);
    expect(pool.blocks).toBe(0);
  });
});
