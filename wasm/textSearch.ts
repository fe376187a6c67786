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

/**
 * Lower-cases the ASCII letters of bytes [start, end) in place (A-Z to a-z; every other byte unchanged): for
 * ASCII text, exactly what `toLowerCase` (and KeyTrail's `foldCase`) does, without a lower-cased copy of the
 * string. 16 bytes at a time.
 */
export function lowerAscii(start: usize, end: usize): void {
  const a = i8x16.splat(0x40); // 'A' - 1
  const z = i8x16.splat(0x5b); // 'Z' + 1
  const bit = i8x16.splat(0x20);
  let i = start;
  if (end >= 16) {
    const stop = end - 16;
    while (i <= stop) {
      const v = v128.load(i);
      const upper = v128.and(i8x16.gt_s(v, a), i8x16.lt_s(v, z));
      v128.store(i, v128.or(v, v128.and(upper, bit)));
      i += 16;
    }
  }
  while (i < end) {
    const c = load<u8>(i);
    if (c >= 0x41 && c <= 0x5a) store<u8>(i, c | 0x20);
    i++;
  }
}
