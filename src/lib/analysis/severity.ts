import type { Finding, Severity } from './types';

/** Finding severities, most severe first (the order findings are listed and counted in). */
export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

/** Rank of each severity: 0 is the most severe (`critical`), 4 the least (`info`). */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

/** The more severe of two severities (the first when equal). */
export function moreSevere(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[b] < SEVERITY_RANK[a] ? b : a;
}

/**
 * Order of findings: most severe first, then the most recent (`last`, epoch ms) first. An unknown severity
 * sorts after `info`. For `Array.prototype.sort`.
 */
export function compareFindings(a: Pick<Finding, 'severity' | 'last'>, b: Pick<Finding, 'severity' | 'last'>): number {
  return (SEVERITY_RANK[a.severity] ?? 9) - (SEVERITY_RANK[b.severity] ?? 9) || b.last - a.last;
}
