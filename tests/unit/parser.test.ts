import { describe, expect, it } from 'vitest';
import { parseDuration, parseQuery, QuerySyntaxError, type QueryNode, type Value } from '../../src/lib/query/parser';

// ---------- AST builders (positions are exact character offsets into the query text) ----------

/** An unquoted bare word (exact, wildcard or `*`) over the whole event, at `pos`. */
function word(text: string, pos: number): QueryNode {
  const value: Value =
    text === '*'
      ? { kind: 'any' }
      : text.includes('*')
        ? { kind: 'wildcard', pattern: text }
        : { kind: 'exact', text, quoted: false };
  return { type: 'match', field: null, value, pos, end: pos + text.length };
}
const exact = (text: string, quoted = false): Value => ({ kind: 'exact', text, quoted });
const wild = (pattern: string): Value => ({ kind: 'wildcard', pattern });
const re = (source: string, flags = ''): Value => ({ kind: 'regex', source, flags });
const ANY: Value = { kind: 'any' };
const match = (field: string | null, value: Value, pos: number, end: number): QueryNode => ({
  type: 'match',
  field,
  value,
  pos,
  end,
});
const and = (...children: QueryNode[]): QueryNode => ({ type: 'and', children });
const or = (...children: QueryNode[]): QueryNode => ({ type: 'or', children });
const not = (child: QueryNode): QueryNode => ({ type: 'not', child });

/** Parses `q`, expecting a QuerySyntaxError at exactly [pos, end); returns it for message checks. */
function syntaxError(q: string): QuerySyntaxError {
  try {
    parseQuery(q);
  } catch (err) {
    expect(err).toBeInstanceOf(QuerySyntaxError);
    return err as QuerySyntaxError;
  }
  throw new Error(`expected a QuerySyntaxError for ${JSON.stringify(q)}`);
}
function expectError(q: string, pos: number, end: number, message: RegExp): void {
  const err = syntaxError(q);
  expect({ q, pos: err.pos, end: err.end }).toEqual({ q, pos, end });
  expect(err.message).toMatch(message);
  expect(err.name).toBe('QuerySyntaxError');
}

// ---------- the empty query ----------

describe('parseQuery: empty query', () => {
  it.each(['', ' ', '   ', '\t\n', '\r\n \t'])('%j matches everything', (q) => {
    expect(parseQuery(q)).toEqual({ type: 'all' });
  });
});

// ---------- bare words and phrases ----------

describe('parseQuery: bare words', () => {
  it('a single word, with surrounding white space', () => {
    expect(parseQuery('Decrypt')).toEqual(match(null, exact('Decrypt'), 0, 7));
    expect(parseQuery('  Decrypt \t')).toEqual(match(null, exact('Decrypt'), 2, 9));
  });

  it('a hyphen inside a word is part of the word, not a negation', () => {
    expect(parseQuery('us-east-1')).toEqual(word('us-east-1', 0));
    expect(parseQuery('kms us-east-1')).toEqual(and(word('kms', 0), word('us-east-1', 4)));
    expect(parseQuery('a-')).toEqual(word('a-', 0));
    expect(parseQuery('1234abcd-12ab-34cd-56ef-1234567890ab')).toEqual(word('1234abcd-12ab-34cd-56ef-1234567890ab', 0));
  });

  it('a lone "-" (followed by white space, a ")" or the end) is a word', () => {
    expect(parseQuery('- a')).toEqual(and(word('-', 0), word('a', 2)));
    expect(parseQuery('a -')).toEqual(and(word('a', 0), word('-', 2)));
    expect(parseQuery('(a -)')).toEqual(and(word('a', 1), word('-', 3)));
  });

  it('lower- and mixed-case and/or/not are words, not keywords', () => {
    expect(parseQuery('and')).toEqual(word('and', 0));
    expect(parseQuery('a and b')).toEqual(and(word('a', 0), word('and', 2), word('b', 6)));
    expect(parseQuery('a or b')).toEqual(and(word('a', 0), word('or', 2), word('b', 5)));
    expect(parseQuery('not a')).toEqual(and(word('not', 0), word('a', 4)));
    expect(parseQuery('Or And Not')).toEqual(and(word('Or', 0), word('And', 3), word('Not', 7)));
  });

  it('words with dots, digits, @ and = stay single words', () => {
    expect(parseQuery('kms.amazonaws.com')).toEqual(word('kms.amazonaws.com', 0));
    expect(parseQuery('10.0.0.1')).toEqual(word('10.0.0.1', 0));
    expect(parseQuery('alice@example.com')).toEqual(word('alice@example.com', 0));
    expect(parseQuery('a=b')).toEqual(word('a=b', 0));
    expect(parseQuery('12:00')).toEqual(word('12:00', 0));
  });

  it('wildcards and a bare *', () => {
    expect(parseQuery('Create*')).toEqual(match(null, wild('Create*'), 0, 7));
    expect(parseQuery('*Key*')).toEqual(match(null, wild('*Key*'), 0, 5));
    expect(parseQuery('*')).toEqual(match(null, ANY, 0, 1));
    expect(parseQuery('**')).toEqual(match(null, wild('**'), 0, 2));
  });

  it('a bare ARN is one word (not the field "arn")', () => {
    const arn = 'arn:aws:iam::111122223333:role/Admin';
    expect(parseQuery(arn)).toEqual(word(arn, 0));
    const kms = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(parseQuery(`Decrypt ${kms}`)).toEqual(and(word('Decrypt', 0), word(kms, 8)));
    expect(parseQuery('arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/x')).toEqual(
      word('arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/x', 0),
    );
    expect(parseQuery('arn:aws-cn:s3:::bucket/key')).toEqual(word('arn:aws-cn:s3:::bucket/key', 0));
    expect(parseQuery('arn:aws:kms:*:111122223333:key/*')).toEqual(
      match(null, wild('arn:aws:kms:*:111122223333:key/*'), 0, 32),
    );
    expect(parseQuery(`-${arn}`)).toEqual(not(word(arn, 1)));
    expect(parseQuery(`(${arn})`)).toEqual(word(arn, 1));
  });

  it('a word stops at a parenthesis', () => {
    expect(parseQuery('a(b)')).toEqual(and(word('a', 0), word('b', 2)));
    expect(parseQuery('(a)b')).toEqual(and(word('a', 1), word('b', 3)));
  });

  it('a quote inside a word (not after an operator) is part of the word', () => {
    expect(parseQuery(`it's`)).toEqual(word(`it's`, 0));
    expect(parseQuery('say"hi"')).toEqual(word('say"hi"', 0));
  });
});

describe('parseQuery: quoted phrases', () => {
  it('double and single quotes', () => {
    expect(parseQuery('"Access Denied"')).toEqual(match(null, exact('Access Denied', true), 0, 15));
    expect(parseQuery("'Access Denied'")).toEqual(match(null, exact('Access Denied', true), 0, 15));
    expect(parseQuery('x "a b" y')).toEqual(and(word('x', 0), match(null, exact('a b', true), 2, 7), word('y', 8)));
  });

  it('the empty phrase', () => {
    expect(parseQuery('""')).toEqual(match(null, exact('', true), 0, 2));
    expect(parseQuery("''")).toEqual(match(null, exact('', true), 0, 2));
  });

  it('backslash escapes the quote, the backslash and any other character', () => {
    // "a\"b\\c"  → a"b\c
    expect(parseQuery('"a\\"b\\\\c"')).toEqual(match(null, exact('a"b\\c', true), 0, 9));
    // 'it\'s'  → it's
    expect(parseQuery("'it\\'s'")).toEqual(match(null, exact("it's", true), 0, 7));
    // "\n" is just n (no C escapes)
    expect(parseQuery('"\\n"')).toEqual(match(null, exact('n', true), 0, 4));
  });

  it('the other quote character needs no escape', () => {
    expect(parseQuery(`'say "hi"'`)).toEqual(match(null, exact('say "hi"', true), 0, 10));
    expect(parseQuery(`"it's"`)).toEqual(match(null, exact("it's", true), 0, 6));
  });

  it('keywords, parentheses, colons, slashes and * inside quotes are literal', () => {
    expect(parseQuery('"a (b) OR c:d /e/"')).toEqual(match(null, exact('a (b) OR c:d /e/', true), 0, 18));
    expect(parseQuery('"Create*"')).toEqual(match(null, exact('Create*', true), 0, 9));
    expect(parseQuery('"*"')).toEqual(match(null, exact('*', true), 0, 3));
    expect(parseQuery('"AND"')).toEqual(match(null, exact('AND', true), 0, 5));
  });

  it('adjacent phrases and words are separate terms', () => {
    expect(parseQuery('"a""b"')).toEqual(and(match(null, exact('a', true), 0, 3), match(null, exact('b', true), 3, 6)));
  });
});

// ---------- field:value ----------

describe('parseQuery: field:value', () => {
  it('a simple field', () => {
    expect(parseQuery('eventName:Decrypt')).toEqual(match('eventName', exact('Decrypt'), 0, 17));
    expect(parseQuery(' eventName:Decrypt ')).toEqual(match('eventName', exact('Decrypt'), 1, 18));
  });

  it('aliases and any case parse as plain field names', () => {
    expect(parseQuery('EventName:Decrypt')).toEqual(match('EventName', exact('Decrypt'), 0, 17));
    expect(parseQuery('ip:10.0.0.1')).toEqual(match('ip', exact('10.0.0.1'), 0, 11));
    expect(parseQuery('region:us-east-1')).toEqual(match('region', exact('us-east-1'), 0, 16));
    expect(parseQuery('_x:1')).toEqual(match('_x', exact('1'), 0, 4));
  });

  it('dotted CloudTrail paths', () => {
    const q1 = 'userIdentity.sessionContext.sessionIssuer.arn:arn:aws:iam::111122223333:role/Admin';
    expect(parseQuery(q1)).toEqual(
      match('userIdentity.sessionContext.sessionIssuer.arn', exact('arn:aws:iam::111122223333:role/Admin'), 0, 82),
    );
    const q2 = 'requestParameters.keyId:1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(parseQuery(q2)).toEqual(
      match('requestParameters.keyId', exact('1234abcd-12ab-34cd-56ef-1234567890ab'), 0, 60),
    );
    expect(parseQuery('tlsDetails.tlsVersion:TLSv1.3')).toEqual(
      match('tlsDetails.tlsVersion', exact('TLSv1.3'), 0, 29),
    );
    expect(parseQuery('additionalEventData.x-amz-id-2:abc')).toEqual(
      match('additionalEventData.x-amz-id-2', exact('abc'), 0, 34),
    );
  });

  it('a value with colons keeps the whole ARN', () => {
    const q = 'principal:arn:aws:iam::111122223333:role/Admin';
    expect(q.length).toBe(46);
    expect(parseQuery(q)).toEqual(match('principal', exact('arn:aws:iam::111122223333:role/Admin'), 0, 46));
    expect(parseQuery(`${q} eventName:Decrypt`)).toEqual(
      and(
        match('principal', exact('arn:aws:iam::111122223333:role/Admin'), 0, 46),
        match('eventName', exact('Decrypt'), 47, 64),
      ),
    );
    expect(parseQuery(`(${q})`)).toEqual(match('principal', exact('arn:aws:iam::111122223333:role/Admin'), 1, 47));
    expect(parseQuery('a:b:c')).toEqual(match('a', exact('b:c'), 0, 5));
    expect(parseQuery('a:b>c')).toEqual(match('a', exact('b>c'), 0, 5));
    expect(parseQuery('a::')).toEqual(match('a', exact(':'), 0, 3));
  });

  it('values with "/" in them', () => {
    expect(parseQuery('key:alias/payments')).toEqual(match('key', exact('alias/payments'), 0, 18));
    const arn = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(parseQuery(`key:${arn}`)).toEqual(match('key', exact(arn), 0, 4 + arn.length));
    expect(parseQuery('key:arn:aws:kms:us-east-1:111122223333:alias/payments')).toEqual(
      match('key', exact('arn:aws:kms:us-east-1:111122223333:alias/payments'), 0, 53),
    );
    expect(parseQuery('requestParameters.url:https://example.com/a')).toEqual(
      match('requestParameters.url', exact('https://example.com/a'), 0, 43),
    );
  });

  it('keywords, "-" and operators right after the colon are part of the value', () => {
    expect(parseQuery('eventName:OR')).toEqual(match('eventName', exact('OR'), 0, 12));
    expect(parseQuery('eventName:AND b')).toEqual(and(match('eventName', exact('AND'), 0, 13), word('b', 14)));
    expect(parseQuery('eventName:NOT')).toEqual(match('eventName', exact('NOT'), 0, 13));
    expect(parseQuery('x:-1')).toEqual(match('x', exact('-1'), 0, 4));
    expect(parseQuery('x:a<b')).toEqual(match('x', exact('a<b'), 0, 5));
  });

  it('quoted field values', () => {
    expect(parseQuery('userAgent:"aws-cli/2.0 Python"')).toEqual(
      match('userAgent', exact('aws-cli/2.0 Python', true), 0, 30),
    );
    expect(parseQuery("userAgent:'aws-cli/2.0 Python'")).toEqual(
      match('userAgent', exact('aws-cli/2.0 Python', true), 0, 30),
    );
    expect(parseQuery('errorMessage:"say \\"no\\""')).toEqual(match('errorMessage', exact('say "no"', true), 0, 25));
    expect(parseQuery('errorCode:""')).toEqual(match('errorCode', exact('', true), 0, 12));
    expect(parseQuery('eventName:"Create*"')).toEqual(match('eventName', exact('Create*', true), 0, 19));
    expect(parseQuery('errorCode:"*"')).toEqual(match('errorCode', exact('*', true), 0, 13));
  });

  it('wildcards and presence', () => {
    expect(parseQuery('eventName:Create*')).toEqual(match('eventName', wild('Create*'), 0, 17));
    expect(parseQuery('eventName:*Key')).toEqual(match('eventName', wild('*Key'), 0, 14));
    expect(parseQuery('errorCode:*')).toEqual(match('errorCode', ANY, 0, 11));
  });

  it('absence: -field:* and NOT field:*', () => {
    expect(parseQuery('-errorCode:*')).toEqual(not(match('errorCode', ANY, 1, 12)));
    expect(parseQuery('NOT errorCode:*')).toEqual(not(match('errorCode', ANY, 4, 15)));
    expect(parseQuery('eventName:Decrypt -errorCode:*')).toEqual(
      and(match('eventName', exact('Decrypt'), 0, 17), not(match('errorCode', ANY, 19, 30))),
    );
  });
});

// ---------- regular expressions ----------

describe('parseQuery: regexes', () => {
  it('a bare regex', () => {
    expect(parseQuery('/Decrypt|Encrypt/')).toEqual(match(null, re('Decrypt|Encrypt'), 0, 17));
    expect(parseQuery('/x/ims')).toEqual(match(null, re('x', 'ims'), 0, 6));
    expect(parseQuery('/(?:Create|Delete)Key/')).toEqual(match(null, re('(?:Create|Delete)Key'), 0, 22));
  });

  it('a fielded regex with a flag', () => {
    expect(parseQuery('eventName:/^Get.*/i')).toEqual(match('eventName', re('^Get.*', 'i'), 0, 19));
    expect(parseQuery('eventName:/^Get.*/i errorCode:*')).toEqual(
      and(match('eventName', re('^Get.*', 'i'), 0, 19), match('errorCode', ANY, 20, 31)),
    );
  });

  it('an escaped "/" stays escaped in the source', () => {
    expect(parseQuery('/alias\\/pay/')).toEqual(match(null, re('alias\\/pay'), 0, 12));
    expect(parseQuery('key:/alias\\/.*/')).toEqual(match('key', re('alias\\/.*'), 0, 15));
    expect(new RegExp('alias\\/pay').test('alias/payments')).toBe(true);
  });

  it('a "/" inside a character class does not end the regex', () => {
    expect(parseQuery('/[/]x/')).toEqual(match(null, re('[/]x'), 0, 6));
    expect(parseQuery('/key[/:][0-9a-f-]+$/')).toEqual(match(null, re('key[/:][0-9a-f-]+$'), 0, 20));
    // an escaped ] does not close the class
    expect(parseQuery('/[\\]/]+/')).toEqual(match(null, re('[\\]/]+'), 0, 8));
  });

  it('spaces, parentheses and quotes inside a regex are part of it', () => {
    expect(parseQuery('/a b (c)/ d')).toEqual(and(match(null, re('a b (c)'), 0, 9), word('d', 10)));
    expect(parseQuery('/"x"/')).toEqual(match(null, re('"x"'), 0, 5));
  });

  it('negated and grouped regexes', () => {
    expect(parseQuery('-/Get.*/')).toEqual(not(match(null, re('Get.*'), 1, 8)));
    expect(parseQuery('(/a/ OR /b/)')).toEqual(or(match(null, re('a'), 1, 4), match(null, re('b'), 8, 11)));
  });
});

// ---------- comparisons and last: ----------

describe('parseQuery: comparisons', () => {
  it('each operator', () => {
    expect(parseQuery('eventTime>=2024-03-01')).toEqual({
      type: 'compare',
      field: 'eventTime',
      op: '>=',
      text: '2024-03-01',
      pos: 0,
      end: 21,
    });
    expect(parseQuery('eventTime<2024-03-01T12:00Z')).toEqual({
      type: 'compare',
      field: 'eventTime',
      op: '<',
      text: '2024-03-01T12:00Z',
      pos: 0,
      end: 27,
    });
    expect(parseQuery('responseElements.x>5')).toEqual({
      type: 'compare',
      field: 'responseElements.x',
      op: '>',
      text: '5',
      pos: 0,
      end: 20,
    });
    expect(parseQuery('x<=1.5')).toEqual({ type: 'compare', field: 'x', op: '<=', text: '1.5', pos: 0, end: 6 });
  });

  it('a negative number and a quoted value', () => {
    expect(parseQuery('x>-5')).toEqual({ type: 'compare', field: 'x', op: '>', text: '-5', pos: 0, end: 4 });
    expect(parseQuery('eventTime>="2024-03-01 12:00"')).toEqual({
      type: 'compare',
      field: 'eventTime',
      op: '>=',
      text: '2024-03-01 12:00',
      pos: 0,
      end: 29,
    });
  });

  it('a time range', () => {
    expect(parseQuery('eventTime>=2024-03-01 eventTime<2024-03-02')).toEqual(
      and(
        { type: 'compare', field: 'eventTime', op: '>=', text: '2024-03-01', pos: 0, end: 21 },
        { type: 'compare', field: 'eventTime', op: '<', text: '2024-03-02', pos: 22, end: 42 },
      ),
    );
  });

  it('"last" with a comparison operator is an ordinary comparison', () => {
    expect(parseQuery('last>5')).toEqual({ type: 'compare', field: 'last', op: '>', text: '5', pos: 0, end: 6 });
  });
});

describe('parseQuery: last:', () => {
  it.each([
    ['last:24h', 24 * 3600e3, '24h'],
    ['last:7d', 7 * 86400e3, '7d'],
    ['last:30m', 30 * 60e3, '30m'],
    ['last:45s', 45e3, '45s'],
    ['last:2w', 14 * 86400e3, '2w'],
    ['last:1.5h', 5400e3, '1.5h'],
    ['last:0d', 0, '0d'],
  ])('%s', (q, ms, text) => {
    expect(parseQuery(q)).toEqual({ type: 'last', ms, text, pos: 0, end: q.length });
  });

  it('inside a larger query, with any case of "last", and with a quoted duration', () => {
    expect(parseQuery('eventName:Decrypt last:24h')).toEqual(
      and(match('eventName', exact('Decrypt'), 0, 17), { type: 'last', ms: 864e5, text: '24h', pos: 18, end: 26 }),
    );
    expect(parseQuery('Last:7d')).toEqual({ type: 'last', ms: 6048e5, text: '7d', pos: 0, end: 7 });
    expect(parseQuery('LAST:30m')).toEqual({ type: 'last', ms: 18e5, text: '30m', pos: 0, end: 8 });
    expect(parseQuery('last:"24h"')).toEqual({ type: 'last', ms: 864e5, text: '24h', pos: 0, end: 10 });
  });

  it('parseDuration', () => {
    expect(parseDuration('24h')).toBe(864e5);
    expect(parseDuration(' 7d ')).toBe(6048e5);
    expect(parseDuration('2w')).toBe(12096e5);
    for (const bad of ['', 'h', '24', '24H', '24x', '-1h', '1e3s', '24 h', 'abc']) expect(parseDuration(bad)).toBeNaN();
  });
});

// ---------- AND, OR, NOT, parentheses ----------

describe('parseQuery: boolean structure', () => {
  it('implicit and explicit AND give the same tree, flattened', () => {
    const t = and(word('a', 0), word('b', 2), word('c', 4));
    expect(parseQuery('a b c')).toEqual(t);
    expect(parseQuery('a AND b AND c')).toEqual(and(word('a', 0), word('b', 6), word('c', 12)));
    expect(parseQuery('a AND b c')).toEqual(and(word('a', 0), word('b', 6), word('c', 8)));
    expect(parseQuery('a\tb\nc')).toEqual(t);
  });

  it('OR is flattened', () => {
    expect(parseQuery('a OR b OR c')).toEqual(or(word('a', 0), word('b', 5), word('c', 10)));
  });

  it('AND binds tighter than OR', () => {
    expect(parseQuery('a OR b c')).toEqual(or(word('a', 0), and(word('b', 5), word('c', 7))));
    expect(parseQuery('a b OR c')).toEqual(or(and(word('a', 0), word('b', 2)), word('c', 7)));
    expect(parseQuery('a AND b OR c AND d')).toEqual(
      or(and(word('a', 0), word('b', 6)), and(word('c', 11), word('d', 17))),
    );
  });

  it('NOT and - bind tighter than AND', () => {
    expect(parseQuery('NOT a b')).toEqual(and(not(word('a', 4)), word('b', 6)));
    expect(parseQuery('a -b')).toEqual(and(word('a', 0), not(word('b', 3))));
    expect(parseQuery('a AND NOT b')).toEqual(and(word('a', 0), not(word('b', 10))));
    expect(parseQuery('NOT a OR b')).toEqual(or(not(word('a', 4)), word('b', 9)));
  });

  it('stacked negations are kept', () => {
    expect(parseQuery('NOT NOT a')).toEqual(not(not(word('a', 8))));
    expect(parseQuery('--a')).toEqual(not(not(word('a', 2))));
    expect(parseQuery('-NOT a')).toEqual(not(not(word('a', 5))));
  });

  it('NOT and - on groups', () => {
    expect(parseQuery('-(a OR b)')).toEqual(not(or(word('a', 2), word('b', 7))));
    expect(parseQuery('NOT (a OR b)')).toEqual(not(or(word('a', 5), word('b', 10))));
    expect(parseQuery('eventName:Decrypt -(errorCode:AccessDenied OR errorCode:*Exception)')).toEqual(
      and(
        match('eventName', exact('Decrypt'), 0, 17),
        not(or(match('errorCode', exact('AccessDenied'), 20, 42), match('errorCode', wild('*Exception'), 46, 66))),
      ),
    );
  });

  it('parentheses group without adding a node, and override precedence', () => {
    expect(parseQuery('(a)')).toEqual(word('a', 1));
    expect(parseQuery('((a))')).toEqual(word('a', 2));
    expect(parseQuery('(a OR b) c')).toEqual(and(or(word('a', 1), word('b', 6)), word('c', 9)));
    expect(parseQuery('a (b OR c)')).toEqual(and(word('a', 0), or(word('b', 3), word('c', 8))));
    // a group inside an AND is not flattened into it
    expect(parseQuery('(a b) c')).toEqual(and(and(word('a', 1), word('b', 3)), word('c', 6)));
  });

  it('nested parentheses', () => {
    expect(parseQuery('((a OR b) c) OR d')).toEqual(
      or(and(or(word('a', 2), word('b', 7)), word('c', 10)), word('d', 16)),
    );
    expect(parseQuery('(a (b (c OR d)))')).toEqual(
      and(word('a', 1), and(word('b', 4), or(word('c', 7), word('d', 12)))),
    );
    expect(parseQuery('( a )')).toEqual(word('a', 2));
  });

  it('a realistic investigation query', () => {
    const q =
      'eventSource:kms.amazonaws.com (eventName:Decrypt OR eventName:/^ReEncrypt/) -userIdentity.type:AWSService last:7d';
    expect(parseQuery(q)).toEqual(
      and(
        match('eventSource', exact('kms.amazonaws.com'), 0, 29),
        or(match('eventName', exact('Decrypt'), 31, 48), match('eventName', re('^ReEncrypt'), 52, 74)),
        not(match('userIdentity.type', exact('AWSService'), 77, 105)),
        { type: 'last', ms: 6048e5, text: '7d', pos: 106, end: 113 },
      ),
    );
  });
});

// ---------- errors ----------

describe('parseQuery: errors', () => {
  it('unterminated quotes', () => {
    expectError('"abc', 0, 4, /unterminated double-quoted string/);
    expectError("'abc", 0, 4, /unterminated single-quoted string/);
    expectError('a "b c', 2, 6, /unterminated double-quoted/);
    expectError('userAgent:"aws-cli', 10, 18, /unterminated double-quoted/);
    expectError('"abc\\"', 0, 6, /unterminated/); // the only closing quote is escaped
    expectError('"abc\\', 0, 5, /unterminated/); // a trailing backslash
    expectError(`"it's`, 0, 5, /unterminated double-quoted/);
  });

  it('unterminated regexes', () => {
    expectError('/abc', 0, 4, /unterminated \/regex\//);
    expectError('eventName:/Get', 10, 14, /unterminated \/regex\//);
    expectError('/a[/]', 0, 5, /unterminated \/regex\//); // the "/" is inside a class
    expectError('/a\\/', 0, 4, /unterminated \/regex\//); // the "/" is escaped
    expectError('a /', 2, 3, /unterminated \/regex\//);
  });

  it('invalid regexes cover the whole regex', () => {
    expectError('/a(/', 0, 4, /^invalid regex: /);
    expectError('x:/a(/i', 2, 7, /^invalid regex: /);
    expectError('/[b-a]/', 0, 7, /^invalid regex: /);
    expectError('/*/', 0, 3, /^invalid regex: /);
    expectError('/a/ii', 0, 5, /^invalid regex: /); // duplicate flag
  });

  it('unsupported regex flags point at the flag', () => {
    expectError('/a/g', 3, 4, /unsupported regex flag "g"/);
    expectError('/a/ig', 4, 5, /unsupported regex flag "g"/);
    expectError('eventName:/a/x', 13, 14, /unsupported regex flag "x"/);
    expectError('/a/u b', 3, 4, /unsupported regex flag "u"/);
  });

  it('a field with no value right after it', () => {
    expectError('eventName:', 0, 10, /^"eventName:" needs a value right after it$/);
    expectError('eventName: Decrypt', 0, 10, /"eventName:" needs a value/);
    expectError('a eventName:', 2, 12, /"eventName:" needs a value/);
    expectError('eventName:(Decrypt)', 0, 10, /"eventName:" needs a value/);
    expectError('(eventName:)', 1, 11, /"eventName:" needs a value/);
    expectError('x>', 0, 2, /"x>" needs a value/);
    expectError('eventTime>= 2024', 0, 11, /"eventTime>=" needs a value/);
    expectError('last:', 0, 5, /"last:" needs a value/);
  });

  it('unmatched ")"', () => {
    expectError(')', 0, 1, /^unmatched "\)"$/);
    expectError('a )', 2, 3, /unmatched "\)"/);
    expectError('(a))', 3, 4, /unmatched "\)"/);
    expectError('a) b', 1, 2, /unmatched "\)"/);
    expectError('a OR ) b', 2, 4, /OR needs a term after it/);
    expectError('-)', 1, 2, /unmatched "\)"/); // "-" before ")" is a word
  });

  it('missing ")" points at the "(" left open', () => {
    expectError('(a', 0, 1, /^missing "\)" for this "\("$/);
    expectError('((a)', 0, 1, /missing "\)"/);
    expectError('a (b OR (c)', 2, 3, /missing "\)"/);
    expectError('(a OR b', 0, 1, /missing "\)"/);
  });

  it('a "(" at the end of the query', () => {
    expectError('(', 1, 1, /unexpected end of query/);
    expectError('a (', 3, 3, /unexpected end of query/);
  });

  it('empty parentheses', () => {
    expectError('()', 0, 2, /^empty parentheses$/);
    expectError('( )', 0, 3, /empty parentheses/);
    expectError('a ( ) b', 2, 5, /empty parentheses/);
    expectError('(())', 1, 3, /empty parentheses/);
  });

  it('AND and OR with no term before them', () => {
    expectError('OR a', 0, 2, /^OR needs a term before it$/);
    expectError('AND a', 0, 3, /^AND needs a term before it$/);
    expectError('(OR a)', 1, 3, /OR needs a term before it/);
    expectError('a OR AND b', 5, 8, /AND needs a term before it/);
    expectError('OR', 0, 2, /OR needs a term before it/);
  });

  it('AND and OR with no term after them', () => {
    expectError('a AND', 2, 5, /^AND needs a term after it$/);
    expectError('a AND AND b', 2, 5, /AND needs a term after it/);
    expectError('a AND OR b', 2, 5, /AND needs a term after it/);
    expectError('(a AND) b', 3, 6, /AND needs a term after it/);
    expectError('a OR', 2, 4, /^OR needs a term after it$/);
    expectError('a OR OR b', 2, 4, /OR needs a term after it/);
    expectError('(a OR) b', 3, 5, /OR needs a term after it/);
  });

  it('NOT and - with no term after them', () => {
    expectError('NOT', 0, 3, /^NOT needs a term after it$/);
    expectError('a NOT', 2, 5, /NOT needs a term after it/);
    expectError('(NOT)', 1, 4, /NOT needs a term after it/);
    expectError('NOT OR a', 0, 3, /NOT needs a term after it/);
    expectError('NOT AND a', 0, 3, /NOT needs a term after it/);
    expectError('a -AND b', 2, 3, /^- needs a term after it$/);
    expectError('-OR', 0, 1, /- needs a term after it/);
    // a "-" at the end is a word, so NOT has its term
    expect(parseQuery('NOT -')).toEqual(not(word('-', 4)));
  });

  it('last: with something that is not a duration', () => {
    expectError('last:abc', 5, 8, /^"abc" is not a duration/);
    expectError('last:24', 5, 7, /"24" is not a duration/);
    expectError('last:24H', 5, 8, /"24H" is not a duration/);
    expectError('a last:-1h b', 7, 10, /"-1h" is not a duration/);
    expectError('last:""', 5, 7, /"" is not a duration/);
    expectError('last:/24h/', 5, 10, /^last: takes a duration/);
  });

  it('a comparison with a regex', () => {
    expectError('x>/a/', 2, 5, /^> compares with a number or a time, not a regex$/);
    expectError('eventTime>=/2024/', 11, 17, />= compares with a number or a time, not a regex/);
    expectError('x</a/i', 2, 6, /< compares/);
  });

  it('errors in a later term are reported even when earlier terms are fine', () => {
    expectError('eventName:Decrypt AND (errorCode:* OR', 35, 37, /OR needs a term after it/);
    expectError('eventName:Decrypt userAgent:"aws-cli', 28, 36, /unterminated/);
  });

  it('QuerySyntaxError defaults end to pos + 1', () => {
    const e = new QuerySyntaxError('x', 3);
    expect([e.pos, e.end, e.name, e.message]).toEqual([3, 4, 'QuerySyntaxError', 'x']);
    expect(e).toBeInstanceOf(Error);
  });
});

// ---------- property test ----------

/** Deterministic PRNG (mulberry32), so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Checks that every positioned node's slice of `q` starts with its field name or is its value as typed. */
function checkSpans(q: string, n: QueryNode): void {
  const valueSpan = (s: string, v: Value) => {
    switch (v.kind) {
      case 'any':
        expect(s).toBe('*');
        break;
      case 'wildcard':
        expect(s).toBe(v.pattern);
        break;
      case 'regex':
        expect(s).toBe(`/${v.source}/${v.flags}`);
        break;
      case 'exact':
        if (v.quoted) {
          expect(['"', "'"]).toContain(s[0]);
          expect(s.length).toBeGreaterThanOrEqual(2 + v.text.length);
          expect(s[s.length - 1]).toBe(s[0]);
        } else expect(s).toBe(v.text);
    }
  };
  switch (n.type) {
    case 'and':
    case 'or':
      expect(n.children.length).toBeGreaterThanOrEqual(2);
      for (const c of n.children) checkSpans(q, c);
      return;
    case 'not':
      return checkSpans(q, n.child);
    case 'all':
      return;
    case 'match': {
      expect(0 <= n.pos && n.pos < n.end && n.end <= q.length).toBe(true);
      const s = q.slice(n.pos, n.end);
      if (n.field === null) return valueSpan(s, n.value);
      expect(s.startsWith(`${n.field}:`)).toBe(true);
      return valueSpan(s.slice(n.field.length + 1), n.value);
    }
    case 'compare': {
      const s = q.slice(n.pos, n.end);
      expect(s.startsWith(n.field + n.op)).toBe(true);
      expect(
        s.slice(n.field.length + n.op.length).includes(n.text) || /^["']/.test(s.slice(n.field.length + n.op.length)),
      ).toBe(true);
      return;
    }
    case 'last': {
      const s = q.slice(n.pos, n.end);
      expect(s.slice(0, 5).toLowerCase()).toBe('last:');
      return;
    }
  }
}

function shift(n: QueryNode, d: number): QueryNode {
  switch (n.type) {
    case 'and':
    case 'or':
      return { type: n.type, children: n.children.map((c) => shift(c, d)) };
    case 'not':
      return { type: 'not', child: shift(n.child, d) };
    case 'all':
      return n;
    default:
      return { ...n, pos: n.pos + d, end: n.end + d };
  }
}

interface Gen {
  text: string;
  ast: QueryNode;
}

/** A generator of valid queries together with the AST the parser must produce for them. */
function grammar(rand: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const WORDS = [
    'Decrypt',
    'us-east-1',
    'and',
    'or',
    'not',
    'kms.amazonaws.com',
    'AccessDenied',
    '10.0.0.1',
    'Create*',
    '*Key*',
    '*',
    '2024-03-01',
    'arn:aws:iam::111122223333:role/Admin',
    'arn:aws:kms:*:111122223333:key/*',
    'a=b',
    'x-',
    '12:00',
    'ÄÖ',
    "it's",
  ];
  const VALUES = [
    ...WORDS,
    'AND',
    'OR',
    'NOT',
    '-1',
    'a:b',
    'a<b',
    'alias/payments',
    'https://example.com/x',
    'TLSv1.3',
    'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    '1234abcd-12ab-34cd-56ef-1234567890ab',
  ];
  const FIELDS = [
    'eventName',
    'EventName',
    'errorCode',
    'userIdentity.sessionContext.sessionIssuer.arn',
    'requestParameters.keyId',
    'tlsDetails.tlsVersion',
    'principal',
    'key',
    'awsRegion',
    'userAgent',
    'resources.ARN',
    'x-amz-id',
    '_f',
  ];
  const REGEXES = [
    'Decrypt|Encrypt',
    '^Get.*',
    'alias\\/pay',
    '[/]x',
    '[\\]/]+',
    'key[/:][0-9a-f-]+$',
    '(?:Create|Delete)Key',
    'a b',
    '"q"',
  ];
  const PHRASE_CHARS = ['a', 'b', ' ', '"', "'", '\\', '(', ')', ':', '*', '/', '-', 'AND', 'OR', '\t'];
  const SCALARS = ['5', '-5', '1.5', '2024-03-01', '2024-03-01T12:00Z', '0'];
  const DURATIONS: [string, number][] = [
    ['24h', 864e5],
    ['7d', 6048e5],
    ['30m', 18e5],
    ['15s', 15e3],
    ['2w', 12096e5],
    ['1.5h', 54e5],
  ];

  const wordValue = (text: string): Value =>
    text === '*'
      ? { kind: 'any' }
      : text.includes('*')
        ? { kind: 'wildcard', pattern: text }
        : { kind: 'exact', text, quoted: false };

  function quoted(): { text: string; value: Value } {
    const quote = rand() < 0.5 ? '"' : "'";
    let raw = '';
    let out = quote;
    const len = Math.floor(rand() * 6);
    for (let i = 0; i < len; i++) {
      const c = pick(PHRASE_CHARS);
      raw += c;
      for (const ch of c) out += ch === quote || ch === '\\' || rand() < 0.1 ? `\\${ch}` : ch;
    }
    return { text: out + quote, value: { kind: 'exact', text: raw, quoted: true } };
  }
  function regex(): { text: string; value: Value } {
    const source = pick(REGEXES);
    const flags = pick(['', '', 'i', 'm', 's', 'is', 'ims']);
    return { text: `/${source}/${flags}`, value: { kind: 'regex', source, flags } };
  }

  function term(): Gen {
    const r = rand();
    if (r < 0.2) {
      const w = pick(WORDS);
      return { text: w, ast: { type: 'match', field: null, value: wordValue(w), pos: 0, end: w.length } };
    }
    if (r < 0.3) {
      const v = quoted();
      return { text: v.text, ast: { type: 'match', field: null, value: v.value, pos: 0, end: v.text.length } };
    }
    if (r < 0.4) {
      const v = regex();
      return { text: v.text, ast: { type: 'match', field: null, value: v.value, pos: 0, end: v.text.length } };
    }
    if (r < 0.75) {
      const f = pick(FIELDS);
      const k = rand();
      const v =
        k < 0.6
          ? (() => {
              const w = pick(VALUES);
              return { text: w, value: wordValue(w) };
            })()
          : k < 0.8
            ? quoted()
            : regex();
      const text = `${f}:${v.text}`;
      return { text, ast: { type: 'match', field: f, value: v.value, pos: 0, end: text.length } };
    }
    if (r < 0.9) {
      const f = pick(FIELDS.filter((x) => x !== 'key'));
      const op = pick(['>', '>=', '<', '<='] as const);
      const quote = rand() < 0.2;
      const s = pick(SCALARS);
      const text = `${f}${op}${quote ? `"${s}"` : s}`;
      return { text, ast: { type: 'compare', field: f, op, text: s, pos: 0, end: text.length } };
    }
    const [d, ms] = pick(DURATIONS);
    const text = `${pick(['last', 'last', 'Last', 'LAST'])}:${d}`;
    return { text, ast: { type: 'last', ms, text: d, pos: 0, end: text.length } };
  }

  function join(parts: Gen[], seps: () => string, type: 'and' | 'or'): Gen {
    let text = '';
    const children: QueryNode[] = [];
    parts.forEach((p, i) => {
      if (i) text += seps();
      children.push(shift(p.ast, text.length));
      text += p.text;
    });
    return { text, ast: children.length === 1 ? children[0] : { type, children } };
  }

  function primary(depth: number): Gen {
    if (depth > 0 && rand() < 0.25) {
      const inner = or(depth - 1);
      const pad = rand() < 0.3 ? ' ' : '';
      return { text: `(${pad}${inner.text}${pad})`, ast: shift(inner.ast, 1 + pad.length) };
    }
    return term();
  }
  function unary(depth: number): Gen {
    const r = rand();
    if (r < 0.12) {
      const inner = unary(depth);
      return { text: `NOT ${inner.text}`, ast: { type: 'not', child: shift(inner.ast, 4) } };
    }
    if (r < 0.24) {
      const inner = unary(depth);
      return { text: `-${inner.text}`, ast: { type: 'not', child: shift(inner.ast, 1) } };
    }
    return primary(depth);
  }
  function and(depth: number): Gen {
    const n = 1 + Math.floor(rand() * 3);
    return join(
      Array.from({ length: n }, () => unary(depth)),
      () => pick([' ', ' AND ', '  ', '\t', '\n AND\t']),
      'and',
    );
  }
  function or(depth: number): Gen {
    const n = 1 + Math.floor(rand() * 3);
    return join(
      Array.from({ length: n }, () => and(depth)),
      () => pick([' OR ', '\nOR ', ' OR\t']),
      'or',
    );
  }
  return (): Gen => {
    const g = or(3);
    const lead = pick(['', ' ', '\t']);
    return { text: lead + g.text + pick(['', ' ']), ast: shift(g.ast, lead.length) };
  };
}

describe('parseQuery: property tests', () => {
  it('2,000 generated valid queries parse to the expected AST, and every match span starts with its field or value', () => {
    const gen = grammar(prng(0x5eed));
    for (let i = 0; i < 2000; i++) {
      const { text, ast } = gen();
      let got: QueryNode;
      try {
        got = parseQuery(text);
      } catch (err) {
        throw new Error(
          `query #${i} ${JSON.stringify(text)} failed to parse: ${(err as Error).message} at ${(err as QuerySyntaxError).pos}`,
          { cause: err },
        );
      }
      expect({ i, text, ast: got }).toEqual({ i, text, ast });
      checkSpans(text, got);
    }
  });

  it('2,000 random token soups either parse (with consistent spans) or throw a QuerySyntaxError inside the text', () => {
    const rand = prng(42);
    const FRAGMENTS = [
      '(',
      ')',
      'AND',
      'OR',
      'NOT',
      '-',
      '"',
      "'",
      '/',
      ':',
      '*',
      '\\',
      'a',
      'b1',
      'eventName:',
      'last:',
      'x>',
      'x>=',
      '<',
      '"a b"',
      "'c'",
      '/a(/',
      '/a/i',
      '/a/g',
      '/[/]/',
      '24h',
      'arn:aws:kms',
      'arn:',
      '[',
      ']',
      'and',
      'us-east-1',
      '=',
      '?',
      'é',
      '\t',
    ];
    let parsed = 0;
    let failed = 0;
    for (let i = 0; i < 2000; i++) {
      let q = '';
      const n = 1 + Math.floor(rand() * 10);
      for (let k = 0; k < n; k++) q += FRAGMENTS[Math.floor(rand() * FRAGMENTS.length)] + (rand() < 0.5 ? ' ' : '');
      let ast: QueryNode | undefined;
      try {
        ast = parseQuery(q);
      } catch (err) {
        if (!(err instanceof QuerySyntaxError))
          throw new Error(`query #${i} ${JSON.stringify(q)} threw ${String(err)}`, { cause: err });
        expect(Number.isInteger(err.pos) && Number.isInteger(err.end)).toBe(true);
        expect(0 <= err.pos && err.pos <= err.end && err.end <= q.length).toBe(true);
        // an empty range only at the very end ("unexpected end of query")
        if (err.pos === err.end) expect(err.pos).toBe(q.length);
        failed++;
        continue;
      }
      checkSpans(q, ast);
      parsed++;
    }
    // the soup exercises both outcomes
    expect(parsed).toBeGreaterThan(100);
    expect(failed).toBeGreaterThan(100);
  });
});
