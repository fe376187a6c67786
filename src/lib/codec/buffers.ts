/**
 * Reusable byte buffers for decompressed documents.
 *
 * Every large `ArrayBuffer` a worker allocates is mapped fresh by the allocator and each of its 4 KiB pages is
 * faulted in on first write; when it dies its pages go back to the system. On the 2-core VM KeyTrail is
 * benchmarked on, a page fault costs ~12 µs: allocating and filling one 14 MB buffer (a 10,000-event trail file
 * decompressed) took ~47 ms in Chromium, of which the copy is ~3 ms (measured 2026-12-01: 3,570 faults per
 * 14 MB). Ingest decompresses every file into a buffer taken from a {@link ByteBufferPool} and gives it back once
 * the file is committed, so the pages are faulted in once per worker instead of once per file.
 */
export class ByteBufferPool {
  private free: ArrayBuffer[] = [];
  private readonly owned = new WeakSet<ArrayBufferLike>();
  private idleTimer: ReturnType<typeof setTimeout> | null = null;

  /**
   * @param keep buffers kept for reuse at most (more released at once are dropped to the garbage collector)
   * @param maxBytes buffers larger than this (bytes) are never kept: a rare huge file does not pin its memory
   * @param idleMs the buffers kept are dropped once none was asked for or given back for this long (ms): an
   *   ingest worker outlives its ingest, its buffers should not
   */
  constructor(
    private readonly keep = 4,
    private readonly maxBytes = 64 * 1024 * 1024,
    private readonly idleMs = 5000,
  ) {}

  /**
   * A buffer of exactly `n` bytes (a view of a pooled buffer of at least `n` bytes; its content is whatever the
   * last user left). Give it back with {@link release} when nothing reads it any more.
   */
  acquire(n: number): Uint8Array {
    this.touch();
    let best = -1;
    for (let i = 0; i < this.free.length; i++)
      if (this.free[i].byteLength >= n && (best < 0 || this.free[i].byteLength < this.free[best].byteLength)) best = i;
    if (best >= 0) return new Uint8Array(this.free.splice(best, 1)[0], 0, n);
    // room to grow: trail files of one trail differ in size by a few percent
    const buf = new ArrayBuffer(n > this.maxBytes ? n : Math.min(this.maxBytes, Math.ceil((n * 1.25) / 65536) * 65536));
    if (buf.byteLength <= this.maxBytes) this.owned.add(buf);
    return new Uint8Array(buf, 0, n);
  }

  /**
   * Gives back a view returned by {@link acquire} (any other array, or one given back already, is ignored).
   * The caller must not read or write it afterwards.
   */
  release(view: Uint8Array | null | undefined): void {
    const buf = view?.buffer;
    if (!buf || !this.owned.has(buf) || this.free.includes(buf as ArrayBuffer)) return;
    if (this.free.length >= this.keep) this.free.shift();
    this.free.push(buf as ArrayBuffer);
    this.touch();
  }

  /** Drops the buffers kept (they are garbage once their last user has given them back). */
  clear(): void {
    this.free = [];
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  /** Restarts the idle countdown after which the kept buffers are dropped. */
  private touch(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = this.free.length ? setTimeout(() => this.clear(), this.idleMs) : null;
  }

  /** Buffers held for reuse (tests). */
  get held(): number {
    return this.free.length;
  }
}
