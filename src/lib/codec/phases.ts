/** Cumulative time per ingest phase in this worker, ms (for profiling with `npm run bench`). */
export const PHASES: Record<string, number> = {};

/** Adds `ms` to a phase. */
export function phase(name: string, since: number): number {
  const now = performance.now();
  PHASES[name] = (PHASES[name] ?? 0) + (now - since);
  return now;
}
