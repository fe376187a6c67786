// AssemblyScript source of KeyTrail's free-text search kernel (compiled by `npm run build:wasm` into
// src/lib/query/textSearchWasm.ts; tests/unit/textSearch.test.ts checks that the committed module is the
// compile of this file). Not part of the app's TypeScript program: `usize`, `v128` and `load` are AssemblyScript's.

/**
 * First offset p in [start, end) where the `m` bytes at `needle` occur (the whole match within [start, end)),
 * or -1. Addresses are byte offsets in this module's memory; m >= 1.
 *
 * SIMD filter (W. Muła, "SIMD-friendly algorithms for substring searching"): 16 candidate positions at a time
 * are kept only when both their first and their last byte equal the needle's, and only those are compared in
 * full. Case-folded CloudTrail text is dense in hexadecimal digits, where a first-byte scan (memchr) stops
 * every ~20 bytes; the two-byte filter stops about every 400.
 */
export function find(start: usize, end: usize, needle: usize, m: i32): isize {
  const lastOff = <usize>(m - 1);
  const first = i8x16.splat(load<i8>(needle));
  const last = i8x16.splat(load<i8>(needle + lastOff));
  let i = start;
  if (end >= start + lastOff + 16) {
    const stop = end - lastOff - 16;
    while (i <= stop) {
      const a = v128.load(i);
      const b = v128.load(i + lastOff);
      let mask = i8x16.bitmask(v128.and(i8x16.eq(a, first), i8x16.eq(b, last)));
      while (mask != 0) {
        const p = i + <usize>ctz(mask);
        let k: usize = 1;
        while (k < lastOff && load<u8>(p + k) == load<u8>(needle + k)) k++;
        if (k >= lastOff) return <isize>p;
        mask &= mask - 1;
      }
      i += 16;
    }
  }
  while (i + lastOff < end) {
    let k: usize = 0;
    while (k < <usize>m && load<u8>(i + k) == load<u8>(needle + k)) k++;
    if (k == <usize>m) return <isize>i;
    i++;
  }
  return -1;
}
