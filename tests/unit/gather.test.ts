import { describe, expect, it } from 'vitest';
import { statInputs, type InputFile } from '../../src/lib/ingest/gather';

/** An input whose File counts the reads of its size (as a picked file's first read is a synchronous stat). */
function input(size: number, reads: { n: number }): InputFile {
  const file = new File([new Uint8Array(size)], `f${size}.json`);
  Object.defineProperty(file, 'size', {
    get: () => {
      reads.n++;
      return size;
    },
  });
  return { file, path: file.name };
}

describe('statInputs: the sizes of many picked files are read without freezing the page', () => {
  it('totals the sizes, reading each once, and yields to the page between slices', async () => {
    const reads = { n: 0 };
    const inputs = Array.from({ length: 1000 }, (_, i) => input(i, reads));
    let readsWhenPageRan = -1;
    // a task the page queued before: it runs between two slices, not after all the stats
    setTimeout(() => (readsWhenPageRan = reads.n), 0);
    const seen: number[] = [];
    const total = await statInputs(inputs, (done) => seen.push(done), 256);
    expect(total).toBe((999 * 1000) / 2);
    expect(reads.n).toBe(1000);
    expect(readsWhenPageRan).toBeGreaterThan(0);
    expect(readsWhenPageRan).toBeLessThan(1000);
    expect(seen).toEqual([256, 512, 768, 1000]);
  });

  it('reads nothing for no inputs', async () => {
    expect(await statInputs([])).toBe(0);
  });
});
