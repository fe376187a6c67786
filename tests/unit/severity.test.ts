import { describe, expect, it } from 'vitest';
import { compareFindings, moreSevere, SEVERITIES, SEVERITY_RANK } from '../../src/lib/analysis/severity';

describe('finding severity order (analysis/severity.ts)', () => {
  it('ranks critical first and info last, and lists severities in that order', () => {
    expect(SEVERITIES).toEqual(['critical', 'high', 'medium', 'low', 'info']);
    expect(SEVERITIES.map((s) => SEVERITY_RANK[s])).toEqual([0, 1, 2, 3, 4]);
    expect(moreSevere('low', 'high')).toBe('high');
    expect(moreSevere('critical', 'info')).toBe('critical');
  });

  it('sorts findings most severe first, then most recent first', () => {
    const f = [
      { id: 'a', severity: 'low' as const, last: 5 },
      { id: 'b', severity: 'high' as const, last: 1 },
      { id: 'c', severity: 'high' as const, last: 9 },
      { id: 'd', severity: 'critical' as const, last: 0 },
    ];
    expect(f.sort(compareFindings).map((x) => x.id)).toEqual(['d', 'c', 'b', 'a']);
  });
});
