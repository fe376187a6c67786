import type { CloudTrailEvent } from '../cloudtrail/event';
import { FORMATS, FormatError, isDigest, unwrapItem, type DigestDocument } from './formats';

/** What one text document turned out to be. */
export type ParseOutcome =
  | { kind: 'events'; format: string; events: CloudTrailEvent[]; skipped: number; notes: string[] }
  | { kind: 'digest'; digest: DigestDocument }
  | { kind: 'not-cloudtrail'; reason: string }
  | { kind: 'corrupt'; reason: string };

/** Line and column (both 1-based) of a character offset in `text`. */
export function lineColumn(text: string, pos: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  for (let i = text.indexOf('\n'); i !== -1 && i < pos; i = text.indexOf('\n', i + 1)) {
    line++;
    last = i;
  }
  return { line, column: pos - last };
}

/** Describes a JSON.parse error with line and column, from V8's "at position N" message. */
export function describeJsonError(text: string, err: unknown, lineOffset = 0): string {
  const msg = String((err as Error)?.message ?? err).replace(/\s*\(line \d+ column \d+\)/, '');
  if (err instanceof RangeError) return `JSON too deeply nested or too large (${msg})`;
  const m = /position (\d+)/.exec(msg);
  const pos = m ? +m[1] : /end of JSON input/i.test(msg) ? text.length : -1;
  const short = msg.replace(/\s*in JSON at position \d+/, '').replace(/^JSON\.parse: /, '');
  if (pos < 0) return `bad JSON: ${short}`;
  const { line, column } = lineColumn(text, pos);
  return `bad JSON at line ${line + lineOffset}, column ${column}: ${short}`;
}

function fromDocument(doc: unknown): ParseOutcome {
  for (const f of FORMATS) {
    if (!f.detect(doc)) continue;
    if (f.id === 'digest') return { kind: 'digest', digest: doc as DigestDocument };
    let x;
    try {
      x = f.extract(doc);
    } catch (err) {
      if (err instanceof FormatError) return { kind: 'corrupt', reason: `${f.id}: ${err.message}` };
      throw err;
    }
    if (x.events.length === 0) {
      return {
        kind: 'not-cloudtrail',
        reason: `valid JSON (${f.id} shape) but no CloudTrail events${x.notes.length ? ': ' + x.notes[0] : ''}`,
      };
    }
    return { kind: 'events', format: f.id, events: x.events, skipped: x.skipped, notes: x.notes };
  }
  const what = Array.isArray(doc) ? 'an array' : doc === null ? 'null' : typeof doc === 'object' ? 'an object' : `a ${typeof doc}`;
  return { kind: 'not-cloudtrail', reason: `valid JSON (${what}) but no CloudTrail events` };
}

/**
 * Parses JSON lines: one JSON value per line (an event, an EventBridge envelope or a lookup-events item;
 * extra fields allowed). A line may carry a leading timestamp before the JSON, as CloudWatch Logs exports do.
 * Returns null when no line holds an event.
 */
function parseJsonLines(text: string): ParseOutcome | null {
  const events: CloudTrailEvent[] = [];
  const notes: string[] = [];
  let skipped = 0;
  let digest: DigestDocument | null = null;
  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lineNo++;
    let line = text.slice(start, end).trim();
    start = end + 1;
    if (!line) continue;
    if (line[0] !== '{' && line[0] !== '[') {
      const brace = line.indexOf(' {');
      if (brace === -1) {
        skipped++;
        if (notes.length < 3) notes.push(`line ${lineNo}: not JSON`);
        continue;
      }
      line = line.slice(brace + 1);
    }
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      skipped++;
      if (notes.length < 3) notes.push(describeJsonError(line, err).replace('line 1,', `line ${lineNo},`));
      continue;
    }
    if (isDigest(v)) {
      digest ??= v;
      continue;
    }
    const r = unwrapItem(v);
    if (typeof r === 'string') {
      skipped++;
      if (notes.length < 3) notes.push(`line ${lineNo}: ${r}`);
    } else events.push(r);
  }
  if (events.length) return { kind: 'events', format: 'json-lines', events, skipped, notes };
  if (digest) return { kind: 'digest', digest };
  return null;
}

/**
 * Classifies and parses one decoded text document (BOM and surrounding white space allowed).
 * Never throws: every problem is reported as `not-cloudtrail` or `corrupt` with a reason.
 */
export function parseText(text: string): ParseOutcome {
  let i = 0;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < text.length && text.charCodeAt(i) <= 32) i++;
  if (i >= text.length) return { kind: 'not-cloudtrail', reason: text.length ? 'only white space' : 'empty file (0 bytes)' };
  const first = text[i];
  if (first !== '{' && first !== '[') {
    const jl = text.includes(' {') ? parseJsonLines(text) : null;
    if (jl) return jl;
    return { kind: 'not-cloudtrail', reason: `not JSON (starts with ${JSON.stringify(text.slice(i, i + 12))})` };
  }
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    const whole = describeJsonError(body, err);
    if (text.indexOf('\n', i) !== -1) {
      const jl = parseJsonLines(text);
      if (jl) return jl;
    }
    return { kind: 'corrupt', reason: whole };
  }
  try {
    return fromDocument(doc);
  } catch (err) {
    return { kind: 'corrupt', reason: String((err as Error).message ?? err) };
  }
}
