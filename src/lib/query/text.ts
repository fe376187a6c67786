import type { QueryNode, Value } from './parser';

/*
 * Writing query text: the one place that quotes values and prints query trees, used by the Sigma translation
 * (queryText), the events view's filters (fieldTerm) and the links of the keys, principals and coverage views.
 * Whatever is written here reads back through parseQuery (query/parser.ts) as the same query.
 */

/** Regex-escapes literal text. */
function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

const KEYWORDS = new Set(['AND', 'OR', 'NOT']);

/**
 * A value always in double quotes, with `\` and `"` escaped: the query language reads `"..."` as the exact
 * text (see README "Searching").
 */
export function quoteValue(s: string): string {
  return `"${s.replace(/[\\"]/g, '\\$&')}"`;
}

/**
 * A value as typed in the query box: bare when it is a plain word the parser reads back as itself (letters,
 * digits and `_ . @ / + = , -`, no `*`, not the keywords AND / OR / NOT), otherwise {@link quoteValue}.
 */
export function queryValue(v: string): string {
  return /^[A-Za-z0-9_.@/+=,-]+$/.test(v) && !KEYWORDS.has(v) ? v : quoteValue(v);
}

/**
 * One `field:value` term that matches `value` exactly ({@link queryValue}), negated with `-` when `exclude`.
 * An empty value means "absent": `-field:*` (or `field:*` when excluding).
 */
export function fieldTerm(field: string, value: string, exclude = false): string {
  if (value === '') return `${exclude ? '' : '-'}${field}:*`;
  return `${exclude ? '-' : ''}${field}:${queryValue(value)}`;
}

/** `field:"value"`, the value always quoted ({@link quoteValue}), e.g. `key:"arn:aws:kms:…"` in UI links. */
export function quotedTerm(field: string, value: string): string {
  return `${field}:${quoteValue(value)}`;
}

/** A regex source with every `/` outside a character class escaped, so it reads back inside `/.../`. */
function slashEscape(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\' && i + 1 < source.length) {
      out += c + source[++i];
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
    else if (c === '/' && !inClass) {
      out += '\\/';
      continue;
    }
    out += c;
  }
  return out;
}

function wildcardAsRegex(pattern: string, anchored: boolean): string {
  const core = anchored ? pattern : pattern.replace(/^\*+|\*+$/g, '');
  const body = core.split('*').map(escapeRe).join('.*');
  return `/${anchored ? `^${body}$` : body}/is`;
}

function valueText(v: Value, field: boolean): string {
  switch (v.kind) {
    case 'any':
      return '*';
    case 'exact':
      return quoteValue(v.text);
    case 'regex':
      return `/${slashEscape(v.source)}/${v.flags}`;
    case 'wildcard': {
      const bare = field
        ? /^[^\s()"'/][^\s()]*$/.test(v.pattern)
        : /^[^\s()"'/-][^\s()"':<>=]*$/.test(v.pattern) && !KEYWORDS.has(v.pattern);
      return bare && v.pattern.includes('*') ? v.pattern : wildcardAsRegex(v.pattern, field);
    }
  }
}

/**
 * The query text of an AST (for the events view's query box): `parseQuery(queryText(q))` selects the same
 * events as `q`. Null when a field name cannot be written in the query language.
 */
export function queryText(node: QueryNode): string | null {
  const FIELD = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
  const walk = (n: QueryNode, top: boolean): string | null => {
    switch (n.type) {
      case 'all':
        return top ? '' : '*';
      case 'last':
        return `last:${n.text}`;
      case 'compare':
        return FIELD.test(n.field) ? `${n.field}${n.op}${n.text}` : null;
      case 'match':
        if (n.field === null) return valueText(n.value, false);
        if (!FIELD.test(n.field) || n.field.toLowerCase() === 'last') return null;
        return `${n.field}:${valueText(n.value, true)}`;
      case 'not': {
        const c = walk(n.child, false);
        if (c === null) return null;
        return n.child.type === 'and' || n.child.type === 'or' ? `NOT (${c})` : `NOT ${c}`;
      }
      case 'and': {
        const parts: string[] = [];
        for (const c of n.children) {
          const t = walk(c, false);
          if (t === null) return null;
          parts.push(c.type === 'or' ? `(${t})` : t);
        }
        return parts.join(' ');
      }
      case 'or': {
        const parts: string[] = [];
        for (const c of n.children) {
          const t = walk(c, false);
          if (t === null) return null;
          parts.push(c.type === 'or' ? `(${t})` : t);
        }
        return parts.join(' OR ');
      }
    }
  };
  return walk(node, true);
}
