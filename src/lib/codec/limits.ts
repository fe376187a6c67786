/** Limits that keep a hostile or broken file from hurting the tab. Sizes in bytes. */
export const LIMITS = {
  /** Largest decompressed size of one file or archive member (a bigger one is reported as corrupt). */
  maxDecompressedBytes: 256 * 1024 * 1024,
  /** Largest total decompressed size of all members of one archive (zip bombs). */
  maxArchiveBytes: 2 * 1024 * 1024 * 1024,
  /** Largest number of members read from one archive. */
  maxArchiveMembers: 200_000,
  /** Deepest nesting of archives inside archives. */
  maxArchiveDepth: 4,
} as const;

/** A file or member grew past a size cap while being decompressed. */
export class SizeCapError extends Error {
  constructor(what: string, cap: number) {
    super(`${what} exceeds the ${Math.round(cap / 1024 / 1024)} MiB cap (decompression bomb?)`);
    this.name = 'SizeCapError';
  }
}

/** Formats a byte count for people (`1.5 MiB`). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const u = ['KiB', 'MiB', 'GiB', 'TiB'];
  let i = -1;
  do {
    n /= 1024;
    i++;
  } while (n >= 1024 && i < u.length - 1);
  return `${n < 10 ? n.toFixed(1) : Math.round(n)} ${u[i]}`;
}
