import { describe, expect, it } from 'vitest';
import { describeJsonError, jsonErrorOffset, lineColumn, parseText } from '../../src/lib/ingest/parse';
import { prepare } from '../../src/lib/ingest/prepare';
import { kmsEvent, kmsEvents, nestArrays, rng, s3File, te } from './helpers';

/** A pretty-printed S3 delivery file as lines, so a test can break a known line. */
function prettyLines(n = 3): string[] {
  return s3File(kmsEvents(n), true).split('\n');
}

function reasonOf(out: ReturnType<typeof parseText>): string {
  if (out.kind !== 'corrupt' && out.kind !== 'not-cloudtrail')
    throw new Error(`expected a problem outcome, got ${out.kind}`);
  return out.reason;
}

describe('parseText: edges of the text', () => {
  it('ignores a UTF-8 BOM', () => {
    const evs = kmsEvents(2);
    const out = parseText('\uFEFF' + s3File(evs));
    expect(out.kind === 'events' && out.events).toEqual(evs);
  });

  it('ignores a BOM followed by white space', () => {
    const out = parseText('\uFEFF \r\n\t' + JSON.stringify(kmsEvent(0)));
    expect(out.kind === 'events' && out.format).toBe('single-event');
  });

  it('empty text', () => {
    expect(parseText('')).toEqual({ kind: 'not-cloudtrail', reason: 'empty file (0 bytes)' });
  });

  it('white space only (and a lone BOM)', () => {
    expect(parseText(' \n\t\r\n  ')).toEqual({ kind: 'not-cloudtrail', reason: 'only white space' });
    expect(parseText('\uFEFF')).toEqual({ kind: 'not-cloudtrail', reason: 'only white space' });
  });

  it('CSV text is not CloudTrail, quoting its start', () => {
    const csv = 'eventTime,eventSource,eventName\n2024-05-01T00:00:00Z,kms.amazonaws.com,Decrypt\n';
    expect(parseText(csv)).toEqual({ kind: 'not-cloudtrail', reason: 'not JSON (starts with "eventTime,ev")' });
  });

  it('YAML text is not CloudTrail, even with flow mappings containing " {"', () => {
    const yaml =
      'Records:\n  - eventSource: kms.amazonaws.com\n    userIdentity: {type: Root}\n    eventName: Decrypt\n';
    const out = parseText(yaml);
    expect(out.kind).toBe('not-cloudtrail');
    expect(reasonOf(out)).toBe('not JSON (starts with "Records:\\n  -")');
  });

  it('HTML is not CloudTrail', () => {
    expect(reasonOf(parseText('<!DOCTYPE html><html><body>{}</body></html>'))).toMatch(
      /^not JSON \(starts with "<!DOCTYPE/,
    );
  });
});

describe('parseText: broken JSON', () => {
  it('a missing comma in a pretty-printed file: line and column of the next token', () => {
    const lines = prettyLines();
    const i = lines.findIndex((l) => l.includes('"eventName"'));
    expect(lines[i].endsWith(',')).toBe(true);
    lines[i] = lines[i].slice(0, -1); // drop the comma
    const out = parseText(lines.join('\n'));
    expect(out.kind).toBe('corrupt');
    const col = lines[i + 1].search(/\S/) + 1;
    expect(reasonOf(out)).toMatch(new RegExp(`^bad JSON at line ${i + 2}, column ${col}: `));
  });

  it('an unexpected token in a pretty-printed file: line and column of the token', () => {
    const lines = prettyLines();
    const i = lines.findIndex((l, k) => k > 40 && l.includes('"readOnly": true'));
    expect(i).toBeGreaterThan(40);
    lines[i] = lines[i].replace('true', 'yes');
    const out = parseText(lines.join('\n'));
    expect(out.kind).toBe('corrupt');
    expect(reasonOf(out)).toMatch(new RegExp(`^bad JSON at line ${i + 1}, column ${lines[i].indexOf('yes') + 1}: `));
  });

  it('a stray character: line and column', () => {
    const lines = prettyLines(2);
    const i = lines.findIndex((l) => l.includes('"awsRegion"'));
    lines[i] = lines[i].replace('"awsRegion"', '#"awsRegion"');
    const out = parseText(lines.join('\n'));
    expect(reasonOf(out)).toMatch(new RegExp(`^bad JSON at line ${i + 1}, column ${lines[i].indexOf('#') + 1}: `));
  });

  it('a trailing comma: line and column', () => {
    const lines = prettyLines(1);
    const i = lines.findIndex((l) => l.includes('"eventCategory"'));
    lines[i] += ',';
    const out = parseText(lines.join('\n'));
    // the error is at the } that follows the comma
    expect(reasonOf(out)).toMatch(new RegExp(`^bad JSON at line ${i + 2}, column ${lines[i + 1].indexOf('}') + 1}: `));
  });

  it('the same error behind a BOM reports the same line and column', () => {
    const lines = prettyLines();
    const i = lines.findIndex((l) => l.includes('"eventName"'));
    lines[i] = lines[i].replace('"Decrypt"', 'Decrypt');
    const plain = reasonOf(parseText(lines.join('\n')));
    expect(plain).toMatch(new RegExp(`^bad JSON at line ${i + 1}, column ${lines[i].indexOf('Decrypt') + 1}: `));
    expect(reasonOf(parseText('\uFEFF' + lines.join('\n')))).toBe(plain);
  });

  it('a truncated file: the error is at its end', () => {
    const text = s3File(kmsEvents(2), true);
    const cut = text.slice(0, text.length - 40);
    const lines = cut.split('\n');
    const out = parseText(cut);
    expect(out.kind).toBe('corrupt');
    expect(reasonOf(out)).toMatch(new RegExp(`^bad JSON at line ${lines.length}, column \\d+: `));
  });

  it('a one-line document with an error reports line 1 and the column', () => {
    expect(reasonOf(parseText('{"Records": [1, 2 3]}'))).toMatch(/^bad JSON at line 1, column 19: /);
    expect(reasonOf(parseText('{"Records": [nul]}'))).toMatch(/^bad JSON at line 1, column (14|17): /);
  });

  it('the reason names the token but does not quote a (multi-line) snippet of the file', () => {
    const lines = prettyLines();
    lines[5] = lines[5].replace(/"[^"]*",?$/, 'oops,');
    const reason = reasonOf(parseText(lines.join('\n')));
    expect(reason).toBe(`bad JSON at line 6, column ${lines[5].indexOf('oops') + 1}: Unexpected token 'o'`);
  });

  it('jsonErrorOffset agrees with JSON.parse on thousands of mangled documents', () => {
    const base = JSON.stringify(
      { Records: kmsEvents(2), n: [-1.5e3, 0, 12, true, false, null, 'a\u00e9\n"x'] },
      null,
      1,
    );
    const r = rng(7);
    const alphabet = '{}[],:"\\ \n0123456789-+.eEtrufalsn\u0001xu';
    let compared = 0;
    for (let k = 0; k < 5000; k++) {
      let t = base;
      for (let o = 1 + ((r() * 3) | 0); o > 0; o--) {
        const p = (r() * t.length) | 0;
        const ch = alphabet[(r() * alphabet.length) | 0];
        const op = r();
        t =
          op < 0.33
            ? t.slice(0, p) + t.slice(p + 1)
            : op < 0.66
              ? t.slice(0, p) + ch + t.slice(p)
              : t.slice(0, p) + ch + t.slice(p + 1);
      }
      if (r() < 0.1) t = t.slice(0, (r() * t.length) | 0);
      let expected: number;
      try {
        JSON.parse(t);
        expected = -1;
      } catch (e) {
        const msg = (e as Error).message;
        const m = /position (\d+)/.exec(msg);
        if (m) expected = +m[1];
        else if (/end of JSON input/.test(msg)) expected = t.length;
        else {
          // no position stated: the offset must at least point inside the text
          expect(jsonErrorOffset(t)).toBeGreaterThanOrEqual(0);
          continue;
        }
      }
      expect(jsonErrorOffset(t), JSON.stringify(t)).toBe(expected);
      compared++;
    }
    expect(compared).toBeGreaterThan(2000);
  });

  it('jsonErrorOffset on small cases', () => {
    expect(jsonErrorOffset('{"a":[1,2,{"b":null}]}')).toBe(-1);
    expect(jsonErrorOffset(' [] ')).toBe(-1);
    expect(jsonErrorOffset('{"a": yes}')).toBe(6);
    expect(jsonErrorOffset('{"a": tru}')).toBe(9);
    expect(jsonErrorOffset('[1 2]')).toBe(3);
    expect(jsonErrorOffset('[1,')).toBe(3);
    expect(jsonErrorOffset('{"a\\q":1}')).toBe(4);
    expect(jsonErrorOffset('[] x')).toBe(3);
    expect(jsonErrorOffset('')).toBe(0);
  });

  it('describeJsonError and lineColumn', () => {
    expect(lineColumn('ab\ncd\nef', 0)).toEqual({ line: 1, column: 1 });
    expect(lineColumn('ab\ncd\nef', 2)).toEqual({ line: 1, column: 3 });
    expect(lineColumn('ab\ncd\nef', 3)).toEqual({ line: 2, column: 1 });
    expect(lineColumn('ab\ncd\nef', 7)).toEqual({ line: 3, column: 2 });
    let err: unknown;
    try {
      JSON.parse('{\n"a" 1}');
    } catch (e) {
      err = e;
    }
    expect(describeJsonError('{\n"a" 1}', err)).toMatch(/^bad JSON at line 2, column 5: /);
    expect(describeJsonError('{\n"a" 1}', err, 10)).toMatch(/^bad JSON at line 12, column 5: /);
  });
});

describe('parseText: JSON lines with problems', () => {
  it('ingests the good lines and notes the bad line number (truncated line)', () => {
    const evs = kmsEvents(4);
    const rows = evs.map((e) => JSON.stringify(e));
    rows.splice(2, 0, rows[2].slice(0, 50)); // line 3 is cut short
    const out = parseText(rows.join('\n'));
    expect(out.kind).toBe('events');
    if (out.kind !== 'events') return;
    expect(out.format).toBe('json-lines');
    expect(out.events).toEqual(evs);
    expect(out.skipped).toBe(1);
    expect(out.notes).toHaveLength(1);
    expect(out.notes[0]).toMatch(/^bad JSON at line 3, column 51: /);
  });

  it('ingests the good lines and notes the bad line number (bad token)', () => {
    const evs = kmsEvents(3);
    const rows = evs.map((e) => JSON.stringify(e));
    rows.push('{"eventSource": kms.amazonaws.com, "eventName": "Decrypt"}');
    const out = parseText(rows.join('\n'));
    expect(out.kind === 'events' && out.events).toEqual(evs);
    expect(out.kind === 'events' && out.skipped).toBe(1);
    expect(out.kind === 'events' && out.notes[0]).toMatch(/^bad JSON at line 4, column 17: /);
  });

  it('CloudWatch-style leading timestamps, with one bad line', () => {
    const evs = kmsEvents(3);
    const rows = evs.map((e, i) => `2024-05-01T00:00:0${i}.000Z ${JSON.stringify(e)}`);
    rows.splice(1, 0, '2024-05-01T00:00:00.500Z {"eventSource": "kms.amazonaws.com",');
    const out = parseText(rows.join('\n'));
    expect(out.kind === 'events' && out.events).toEqual(evs);
    expect(out.kind === 'events' && out.skipped).toBe(1);
    expect(out.kind === 'events' && out.notes[0]).toMatch(/^bad JSON at line 2, /);
  });
});

describe('parseText: deep nesting', () => {
  it('a 100,000-level nested array does not crash', () => {
    const text = '['.repeat(100_000) + ']'.repeat(100_000);
    const out = parseText(text);
    expect(['corrupt', 'not-cloudtrail']).toContain(out.kind);
  });

  it('a 100,000-level nested object does not crash', () => {
    const text = '{"a":'.repeat(100_000) + '{}' + '}'.repeat(100_000);
    const out = parseText(text);
    expect(['corrupt', 'not-cloudtrail']).toContain(out.kind);
  });

  it('an unclosed or broken 100,000-level array is corrupt, not a crash', () => {
    expect(parseText('['.repeat(100_000)).kind).toBe('corrupt');
    const out = parseText('['.repeat(100_000) + 'x' + ']'.repeat(100_000));
    expect(out.kind).toBe('corrupt');
    expect(reasonOf(out)).toMatch(/line 1, column 100001/);
  });

  it('prepare skips an event nested too deep, with a note, and keeps the others', () => {
    const deep = kmsEvent(1, { requestParameters: { keyId: 'k', x: nestArrays(300) } });
    const text = s3File([kmsEvent(0), deep, kmsEvent(2)]);
    const p = prepare({ path: 'deep.json', bytes: te.encode(text), compressed: false });
    expect(p.kind).toBe('events');
    expect(p.texts!.map((t) => JSON.parse(t).eventID)).toEqual([kmsEvent(0).eventID, kmsEvent(2).eventID]);
    expect(p.skipped).toBe(1);
    expect(p.reason).toBe('1 record(s) skipped: event skipped: JSON nested more than 256 levels deep');
    expect(p.h).toHaveLength(4);
    expect(p.e).toHaveLength(4);
  });

  it('prepare of a file whose only event is too deep is not CloudTrail, naming the depth', () => {
    // built as text: JSON.stringify itself overflows the stack on such a value
    const ev =
      JSON.stringify(kmsEvent(0)).slice(0, -1) + ',"deep":' + '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000) + '}';
    const text = `{"Records":[${ev}]}`;
    const p = prepare({ path: 'deep.json', bytes: te.encode(text), compressed: false });
    expect(p.kind).toBe('not-cloudtrail');
    expect(p.events).toEqual([]);
    expect(p.reason).toMatch(/nested more than 256 levels deep/);
  });
});
