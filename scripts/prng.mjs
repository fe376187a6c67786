/**
 * mulberry32: a small seeded PRNG (32-bit state), so the generated sample and bench data are byte-identical
 * on every run. Returns a function giving floats in [0, 1).
 */
export function mulberry32(a) {
  return function () {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
