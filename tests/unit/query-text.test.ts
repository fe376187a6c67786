import { describe, expect, it } from 'vitest';
import { parseQuery, type QueryNode } from '../../src/lib/query/parser';
import { fieldTerm, queryText, queryValue, quotedTerm, quoteValue } from '../../src/lib/query/text';
import { queryText as sigmaQueryText } from '../../src/lib/analysis/sigma';

/** The exact value a one-term query matches in `field` (throws when it is not one exact match). */
function exactOf(q: QueryNode, field: string): string {
  if (q.type !== 'match' || q.field !== field || q.value.kind !== 'exact')
    throw new Error(`not one exact match: ${JSON.stringify(q)}`);
  return q.value.text;
}

const HOSTILE = [
  'plain',
  'AND',
  'OR',
  'NOT',
  'a b',
  'say "hi"',
  'back\\slash',
  'a*b',
  '(x)',
  'arn:aws:kms:us-east-1:111122223333:key/1234',
  '-lead',
  'k=v,w',
  'é ü',
  '"',
  '\\',
];

describe('query text (query/text.ts)', () => {
  it('quotes values only when the query language needs it, escaping \\ and "', () => {
    expect(queryValue('AccessDenied')).toBe('AccessDenied');
    expect(queryValue('user@example.com')).toBe('user@example.com');
    expect(queryValue('AND')).toBe('"AND"');
    expect(queryValue('a*b')).toBe('"a*b"');
    expect(queryValue('arn:aws:kms:us-east-1:111122223333:key/1')).toBe('"arn:aws:kms:us-east-1:111122223333:key/1"');
    expect(quoteValue('say "hi" \\ bye')).toBe('"say \\"hi\\" \\\\ bye"');
    expect(fieldTerm('errorCode', 'AccessDenied')).toBe('errorCode:AccessDenied');
    expect(fieldTerm('errorCode', 'AccessDenied', true)).toBe('-errorCode:AccessDenied');
    expect(fieldTerm('errorCode', '')).toBe('-errorCode:*');
    expect(fieldTerm('errorCode', '', true)).toBe('errorCode:*');
    expect(quotedTerm('key', 'arn:aws:kms:us-east-1:111122223333:key/1')).toBe(
      'key:"arn:aws:kms:us-east-1:111122223333:key/1"',
    );
  });

  it('writes terms that parse back to an exact match of the same value', () => {
    for (const v of HOSTILE) {
      expect(exactOf(parseQuery(fieldTerm('userAgent', v)), 'userAgent')).toBe(v);
      expect(exactOf(parseQuery(quotedTerm('principal', v)), 'principal')).toBe(v);
      const neg = parseQuery(fieldTerm('userAgent', v, true));
      expect(neg.type === 'not' ? exactOf(neg.child, 'userAgent') : null).toBe(v);
    }
  });

  it('is the one query printer: analysis/sigma re-exports queryText', () => {
    expect(sigmaQueryText).toBe(queryText);
    const q = parseQuery(`${fieldTerm('eventName', 'Decrypt')} ${quotedTerm('principal', 'a "b"')} OR -errorCode:*`);
    expect(queryText(parseQuery(queryText(q)!))).toBe(queryText(q));
  });
});
