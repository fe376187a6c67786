/**
 * KeyTrail's query language: a parser from text to an AST, with precise error positions.
 *
 * ```
 * query    := or
 * or       := and ( "OR" and )*
 * and      := unary ( ["AND"] unary )*          -- juxtaposition is AND
 * unary    := ("NOT" | "-") unary | primary
 * primary  := "(" or ")" | term
 * term     := FIELD ":" value                   -- equality / wildcard / regex / presence (field:*)
 *           | FIELD (">=" | "<=" | ">" | "<") SCALAR   -- numeric and time comparisons
 *           | "last:" DURATION                  -- relative time, e.g. last:24h, last:7d
 *           | value                             -- bare word, "phrase" or /regex/ over the whole event text
 * value    := "quoted string" | /regex/flags | WORD (may hold * wildcards)
 * ```
 * Keywords AND, OR, NOT are case-sensitive (upper case), as in most log search tools; `and`/`or` are words.
 */

/** A value to match. */
export type Value =
  | { kind: 'exact'; text: string; quoted: boolean }
  | { kind: 'wildcard'; pattern: string }
  | { kind: 'regex'; source: string; flags: string }
  | { kind: 'any' };

/** A query AST node. `pos`/`end` are character offsets into the query text. */
export type QueryNode =
  | { type: 'and'; children: QueryNode[] }
  | { type: 'or'; children: QueryNode[] }
  | { type: 'not'; child: QueryNode }
  | { type: 'match'; field: string | null; value: Value; pos: number; end: number }
  | { type: 'compare'; field: string; op: '>' | '>=' | '<' | '<='; text: string; pos: number; end: number }
  | { type: 'last'; ms: number; text: string; pos: number; end: number }
  | { type: 'all' };

/** A query that cannot be parsed; `pos` is the 0-based offset of the problem, `end` its end. */
export class QuerySyntaxError extends Error {
  constructor(
    message: string,
    public pos: number,
    public end = pos + 1,
  ) {
    super(message);
    this.name = 'QuerySyntaxError';
  }
}

type Tok =
  | { t: 'lparen' | 'rparen' | 'and' | 'or' | 'not' | 'minus'; pos: number; end: number }
  | { t: 'word'; text: string; quoted: boolean; pos: number; end: number }
  | { t: 'regex'; source: string; flags: string; pos: number; end: number }
  | { t: 'field'; name: string; op: ':' | '>' | '>=' | '<' | '<='; pos: number; end: number };

const FIELD_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const WS = /\s/;

function readQuoted(q: string, i: number): { text: string; end: number } {
  const start = i;
  const quote = q[i++];
  let text = '';
  while (i < q.length && q[i] !== quote) {
    if (q[i] === '\\' && i + 1 < q.length) {
      text += q[i + 1];
      i += 2;
    } else text += q[i++];
  }
  if (i >= q.length)
    throw new QuerySyntaxError(`unterminated ${quote === '"' ? 'double' : 'single'}-quoted string`, start, q.length);
  return { text, end: i + 1 };
}

function readRegex(q: string, i: number): { source: string; flags: string; end: number } {
  const start = i;
  i++;
  let source = '';
  let inClass = false;
  while (i < q.length) {
    const c = q[i];
    if (c === '\\' && i + 1 < q.length) {
      source += c + q[i + 1];
      i += 2;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    else if (c === '/' && !inClass) break;
    source += c;
    i++;
  }
  if (i >= q.length) throw new QuerySyntaxError('unterminated /regex/', start, q.length);
  i++;
  let flags = '';
  while (i < q.length && /[a-z]/.test(q[i])) flags += q[i++];
  for (let f = 0; f < flags.length; f++) {
    const at = i - flags.length + f;
    if (!'ims'.includes(flags[f]))
      throw new QuerySyntaxError(`unsupported regex flag "${flags[f]}" (use i, m or s)`, at, at + 1);
  }
  try {
    new RegExp(source, flags);
  } catch (err) {
    throw new QuerySyntaxError(
      `invalid regex: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`,
      start,
      i,
    );
  }
  return { source, flags, end: i };
}

/** Splits a query into tokens. @throws QuerySyntaxError on unterminated strings or bad regexes. */
function tokenize(q: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i];
    if (WS.test(c)) {
      i++;
      continue;
    }
    const pos = i;
    if (c === '(') {
      out.push({ t: 'lparen', pos, end: ++i });
      continue;
    }
    if (c === ')') {
      out.push({ t: 'rparen', pos, end: ++i });
      continue;
    }
    if (c === '"' || c === "'") {
      const r = readQuoted(q, i);
      out.push({ t: 'word', text: r.text, quoted: true, pos, end: r.end });
      i = r.end;
      continue;
    }
    if (c === '/') {
      const r = readRegex(q, i);
      out.push({ t: 'regex', source: r.source, flags: r.flags, pos, end: r.end });
      i = r.end;
      continue;
    }
    if (c === '-' && i + 1 < q.length && !WS.test(q[i + 1]) && q[i + 1] !== ')') {
      out.push({ t: 'minus', pos, end: ++i });
      continue;
    }
    // a bare run up to white space or a parenthesis; a field operator splits it
    let j = i;
    while (j < q.length && !WS.test(q[j]) && q[j] !== '(' && q[j] !== ')') {
      if ((q[j] === '"' || q[j] === "'") && j > i && /[:<>=]/.test(q[j - 1])) break;
      if (q[j] === '/' && j > i && q[j - 1] === ':') break;
      j++;
    }
    const run = q.slice(i, j);
    const m = /^([A-Za-z_][A-Za-z0-9_.-]*)(:|>=|<=|>|<)/.exec(run);
    // a bare ARN (arn:aws:kms:...) is a word, not the field "arn"
    if (m && FIELD_RE.test(m[1]) && !/^arn:aws[a-z-]*:/.test(run)) {
      out.push({ t: 'field', name: m[1], op: m[2] as ':', pos, end: i + m[0].length });
      i += m[0].length;
      // the value: the rest of the run is one word, colons, operators and keywords included
      // (principal:arn:aws:iam::111122223333:role/Admin, x>-5, eventName:OR); quotes and /regex/ are read as usual
      if (i < q.length && !WS.test(q[i]) && !'()"\'/'.includes(q[i])) {
        let e = i;
        while (e < q.length && !WS.test(q[e]) && q[e] !== '(' && q[e] !== ')') e++;
        out.push({ t: 'word', text: q.slice(i, e), quoted: false, pos: i, end: e });
        i = e;
      }
      continue;
    }
    if (run === 'AND' || run === 'OR' || run === 'NOT') {
      out.push({ t: run === 'AND' ? 'and' : run === 'OR' ? 'or' : 'not', pos, end: j });
      i = j;
      continue;
    }
    out.push({ t: 'word', text: run, quoted: false, pos, end: j });
    i = j;
  }
  return out;
}

/** Parses a duration like `24h`, `15m`, `7d`, `2w`, `30s` to ms; NaN when malformed. */
export function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d|w)$/.exec(s.trim());
  if (!m) return NaN;
  const unit = { s: 1e3, m: 6e4, h: 36e5, d: 864e5, w: 6048e5 }[m[2] as 's']!;
  return +m[1] * unit;
}

function wordValue(text: string, quoted: boolean): Value {
  if (!quoted && text === '*') return { kind: 'any' };
  if (!quoted && text.includes('*')) return { kind: 'wildcard', pattern: text };
  return { kind: 'exact', text, quoted };
}

/**
 * Parses a query. An empty (or white-space) query matches everything (`{type:'all'}`).
 * @throws QuerySyntaxError with the position of the problem.
 */
export function parseQuery(q: string): QueryNode {
  const toks = tokenize(q);
  let k = 0;
  const peek = () => toks[k];

  function parseOr(): QueryNode {
    const parts = [parseAnd()];
    while (peek()?.t === 'or') {
      const op = toks[k++];
      if (!peek() || peek().t === 'rparen' || peek().t === 'or')
        throw new QuerySyntaxError('OR needs a term after it', op.pos, op.end);
      parts.push(parseAnd());
    }
    return parts.length === 1 ? parts[0] : { type: 'or', children: parts };
  }

  function parseAnd(): QueryNode {
    const parts = [parseUnary()];
    for (;;) {
      const t = peek();
      if (!t || t.t === 'or' || t.t === 'rparen') break;
      if (t.t === 'and') {
        k++;
        const n = peek();
        if (!n || n.t === 'rparen' || n.t === 'or' || n.t === 'and')
          throw new QuerySyntaxError('AND needs a term after it', t.pos, t.end);
        continue;
      }
      parts.push(parseUnary());
    }
    return parts.length === 1 ? parts[0] : { type: 'and', children: parts };
  }

  function parseUnary(): QueryNode {
    const t = peek();
    if (t && (t.t === 'not' || t.t === 'minus')) {
      k++;
      if (!peek() || peek().t === 'rparen' || peek().t === 'or' || peek().t === 'and')
        throw new QuerySyntaxError(`${t.t === 'not' ? 'NOT' : '-'} needs a term after it`, t.pos, t.end);
      return { type: 'not', child: parseUnary() };
    }
    return parsePrimary();
  }

  function parsePrimary(): QueryNode {
    const t = toks[k++];
    if (!t) throw new QuerySyntaxError('unexpected end of query', q.length, q.length);
    switch (t.t) {
      case 'lparen': {
        if (peek()?.t === 'rparen') throw new QuerySyntaxError('empty parentheses', t.pos, peek().end);
        const inner = parseOr();
        const close = toks[k++];
        if (!close || close.t !== 'rparen') throw new QuerySyntaxError('missing ")" for this "("', t.pos, t.end);
        return inner;
      }
      case 'rparen':
        throw new QuerySyntaxError('unmatched ")"', t.pos, t.end);
      case 'and':
      case 'or':
        throw new QuerySyntaxError(`${t.t.toUpperCase()} needs a term before it`, t.pos, t.end);
      case 'word':
        return { type: 'match', field: null, value: wordValue(t.text, t.quoted), pos: t.pos, end: t.end };
      case 'regex':
        return {
          type: 'match',
          field: null,
          value: { kind: 'regex', source: t.source, flags: t.flags },
          pos: t.pos,
          end: t.end,
        };
      case 'field': {
        const v = toks[k];
        const adjacent = v && v.pos === t.end && (v.t === 'word' || v.t === 'regex');
        if (!adjacent) throw new QuerySyntaxError(`"${t.name}${t.op}" needs a value right after it`, t.pos, t.end);
        k++;
        if (t.name.toLowerCase() === 'last' && t.op === ':') {
          if (v.t !== 'word') throw new QuerySyntaxError('last: takes a duration like 24h, 7d, 30m', v.pos, v.end);
          const ms = parseDuration(v.text);
          if (!Number.isFinite(ms))
            throw new QuerySyntaxError(`"${v.text}" is not a duration (use s, m, h, d or w: 24h, 7d)`, v.pos, v.end);
          return { type: 'last', ms, text: v.text, pos: t.pos, end: v.end };
        }
        if (t.op !== ':') {
          if (v.t !== 'word')
            throw new QuerySyntaxError(`${t.op} compares with a number or a time, not a regex`, v.pos, v.end);
          return { type: 'compare', field: t.name, op: t.op, text: v.text, pos: t.pos, end: v.end };
        }
        if (v.t === 'regex')
          return {
            type: 'match',
            field: t.name,
            value: { kind: 'regex', source: v.source, flags: v.flags },
            pos: t.pos,
            end: v.end,
          };
        return { type: 'match', field: t.name, value: wordValue(v.text, v.quoted), pos: t.pos, end: v.end };
      }
      case 'not':
      case 'minus':
        k--;
        return parseUnary();
    }
  }

  if (!toks.length) return { type: 'all' };
  const root = parseOr();
  if (k < toks.length) {
    const t = toks[k];
    throw new QuerySyntaxError(t.t === 'rparen' ? 'unmatched ")"' : 'unexpected token', t.pos, t.end);
  }
  return root;
}
