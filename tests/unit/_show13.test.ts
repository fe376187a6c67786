import { it } from 'vitest';
import { parseQuery } from '../../src/lib/query/parser';
import { toSql } from '../../src/lib/export/sql';
it('show', () => {
  const MAR1 = Date.UTC(2024, 2, 1), MAR2 = Date.UTC(2024, 2, 2);
  const qs: [string, 'athena'|'lake', object][] = JSON.parse(process.env.QS!);
  for (const [q, d, o] of qs) console.log(`=== ${q} [${d}] ${JSON.stringify(o)}\n` + toSql(parseQuery(q), d, o as never));
});
