/**
 * Many long-lived typed arrays held in a few large blocks instead of one allocation each.
 *
 * Why: when a page's worker ends (a reload, a closed tab), Chromium frees each of its array buffers on its own,
 * one `madvise` system call each, and every call interrupts the other processor of the tab's process to flush
 * its TLB. Measured on the bench machine (2 cores, Chromium 156, 2026-12-02), freeing 2.2 GB held as 10,000
 * buffers of 220 KB took 1.4 s and 10,098 calls; as 4 buffers, 0.3 s and 27 calls; 40,000 buffers of 50 KB took
 * 4.8 s. A reloaded page's first answer waits for that. The field index keeps one offsets array per chunk (2,500
 * at 5M events): they are carved from a pool (see also `StoredFieldStore`, codec/fields.ts, for the rest of a
 * chunk's field store).
 */

/** Elements of one block (16 MB). */
const BLOCK_ELEMENTS = 1 << 22;

/**
 * Carves Uint32Arrays out of blocks of {@link BLOCK_ELEMENTS} elements (an array longer than a quarter block gets
 * its own buffer). Arrays are never given back: the pool lives as long as what holds them (a `FieldIndex`, until
 * it is cleared). Each array starts zeroed (fresh block memory).
 */
export class ArrayPool {
  private block: Uint32Array | null = null;
  private used = 0;
  private blockCount = 0;

  /** Blocks allocated so far (tests, diagnostics). */
  get blocks(): number {
    return this.blockCount;
  }

  /** A zeroed Uint32Array of `n` elements. */
  u32(n: number): Uint32Array {
    if (n > BLOCK_ELEMENTS / 4) return new Uint32Array(n);
    if (!this.block || this.used + n > BLOCK_ELEMENTS) {
      this.block = new Uint32Array(BLOCK_ELEMENTS);
      this.used = 0;
      this.blockCount++;
    }
    const out = this.block.subarray(this.used, this.used + n);
    this.used += n;
    return out;
  }
}
