/**
 * An open-addressing hash map from 64-bit keys (two 32-bit lanes) to 64-bit values, held in typed arrays
 * (16 bytes a slot; 8 without values). Used for event dedupe (content hashes, a set: no values) and for
 * eventID conflicts (eventID hash → content hash). The key (0, 0) is reserved as "empty" and is remapped to
 * (0, 1) on every call.
 */
export class HashMap64 {
  private keys: Uint32Array;
  private vals: Uint32Array;
  private mask: number;
  /** Number of keys stored. */
  size = 0;

  /**
   * @param capacity expected number of keys (the table grows as needed).
   * @param values false for a set: values are not kept (`get` gives 0, 0), halving the memory (at 5M stored
   *   events the content-hash set held 128 MB of zero values).
   */
  constructor(
    capacity = 1024,
    private readonly values = true,
  ) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.keys = new Uint32Array(cap * 2);
    this.vals = new Uint32Array(values ? cap * 2 : 0);
    this.mask = cap - 1;
  }

  private slot(k1: number, k2: number): number {
    let i = (Math.imul(k1 ^ (k2 >>> 7), 0x9e3779b1) >>> 0) & this.mask;
    const keys = this.keys;
    for (;;) {
      const a = keys[i * 2];
      const b = keys[i * 2 + 1];
      if ((a === 0 && b === 0) || (a === k1 && b === k2)) return i;
      i = (i + 1) & this.mask;
    }
  }

  private grow(): void {
    const oldK = this.keys;
    const oldV = this.vals;
    const cap = (this.mask + 1) * 2;
    this.keys = new Uint32Array(cap * 2);
    this.vals = new Uint32Array(this.values ? cap * 2 : 0);
    this.mask = cap - 1;
    for (let i = 0; i < oldK.length; i += 2) {
      if (oldK[i] === 0 && oldK[i + 1] === 0) continue;
      const s = this.slot(oldK[i], oldK[i + 1]);
      this.keys[s * 2] = oldK[i];
      this.keys[s * 2 + 1] = oldK[i + 1];
      if (!this.values) continue;
      this.vals[s * 2] = oldV[i];
      this.vals[s * 2 + 1] = oldV[i + 1];
    }
  }

  /** True when the key is present. */
  has(k1: number, k2: number): boolean {
    if (k1 === 0 && k2 === 0) k2 = 1;
    const s = this.slot(k1 >>> 0, k2 >>> 0);
    return !(this.keys[s * 2] === 0 && this.keys[s * 2 + 1] === 0);
  }

  /**
   * Looks up a key. Returns true and writes its value into `out[0..1]` when present; false otherwise.
   */
  get(k1: number, k2: number, out: Uint32Array): boolean {
    if (k1 === 0 && k2 === 0) k2 = 1;
    const s = this.slot(k1 >>> 0, k2 >>> 0);
    if (this.keys[s * 2] === 0 && this.keys[s * 2 + 1] === 0) return false;
    out[0] = this.values ? this.vals[s * 2] : 0;
    out[1] = this.values ? this.vals[s * 2 + 1] : 0;
    return true;
  }

  /** Sets a key's value (adds the key when absent). */
  set(k1: number, k2: number, v1 = 0, v2 = 0): void {
    if (k1 === 0 && k2 === 0) k2 = 1;
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    const s = this.slot(k1 >>> 0, k2 >>> 0);
    if (this.keys[s * 2] === 0 && this.keys[s * 2 + 1] === 0) {
      this.keys[s * 2] = k1 >>> 0;
      this.keys[s * 2 + 1] = k2 >>> 0;
      this.size++;
    }
    if (!this.values) return;
    this.vals[s * 2] = v1 >>> 0;
    this.vals[s * 2 + 1] = v2 >>> 0;
  }

  /** Removes every key. */
  clear(): void {
    this.keys.fill(0);
    this.vals.fill(0);
    this.size = 0;
  }
}
