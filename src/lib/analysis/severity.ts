import type { Finding } from './types';

/** Rank of each finding severity, most severe first (0 = critical); an unknown severity ranks after `info`. */
export const SEVERITY_RANK: Readonly<Record<string, number>> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

/**
 * Order of findings as every list shows them: most severe first, then most recent (`last`, epoch ms, descending).
 * A comparator for `Array.prototype.sort`.
 */
export function compareFindings(x: Pick<Finding, 'severity' | 'last'>, y: Pick<Finding, 'severity' | 'last'>): number {
  return (SEVERITY_RANK[x.severity] ?? 9) - (SEVERITY_RANK[y.severity] ?? 9) || y.last - x.last;
}
