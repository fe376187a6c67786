/** What the first bytes of a file say it is. */
export type Sniffed = 'empty' | 'gzip' | 'zip' | 'tar' | 'text' | 'binary';

/**
 * Classifies content by its first bytes (pass at least 512 bytes when available, for tar): gzip magic
 * `1f 8b`, zip local header `PK\x03\x04` (or the empty-archive `PK\x05\x06`), POSIX tar (`ustar` at 257), or
 * text vs binary (a NUL byte or many control characters in the first 4 KiB means binary).
 */
export function sniff(head: Uint8Array): Sniffed {
  if (head.length === 0) return 'empty';
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (
    head.length >= 4 &&
    head[0] === 0x50 &&
    head[1] === 0x4b &&
    ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6))
  )
    return 'zip';
  if (
    head.length >= 262 &&
    head[257] === 0x75 &&
    head[258] === 0x73 &&
    head[259] === 0x74 &&
    head[260] === 0x61 &&
    head[261] === 0x72
  )
    return 'tar';
  const n = Math.min(head.length, 4096);
  let control = 0;
  for (let i = 0; i < n; i++) {
    const c = head[i];
    if (c === 0) return 'binary';
    if (c < 9 || (c > 13 && c < 32)) control++;
  }
  return control > n / 10 ? 'binary' : 'text';
}
