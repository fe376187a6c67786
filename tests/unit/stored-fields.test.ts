/**
 * Field stores as the `fields` table stores them (codec/fields.ts `StoredFieldStore`): values in pieces of at
 * most 32K code units, the row, path and value arrays in one buffer. The field index answers from the pieces
 * exactly as from one string: same matches for every kind of query, same values of rows.
 */
import { describe, expect, it } from 'vitest';
import {
  buildFieldStore,
  joinedFieldStore,
  SEP,
  storedFieldStore,
  valuesPieces,
  VALUES_PIECE_CHARS,
  type FieldStore,
} from '../../src/lib/codec/fields';
import { Engine } from '../../src/lib/query/engine';
import { FieldIndex } from '../../src/lib/query/fieldIndex';
import { parseQuery } from '../../src/lib/query/parser';
import { chunks, events, ix, KEY_IDS, NOW } from './engine-corpus';

describe('valuesPieces', () => {
  it('cuts after a separator, within the limit, and joins back to the text', () => {
    const values = ['a', 'bb', '', 'ccc', 'dddd', 'e', '', 'İx', 'ff'];
    const text = values.join(SEP);
    for (let max = 1; max <= text.length + 1; max++) {
      const pieces = valuesPieces(text, max);
      expect(pieces.join('')).toBe(text);
      pieces.forEach((p, i) => {
        if (i < pieces.length - 1) expect(p.endsWith(SEP)).toBe(true);
        // over the limit only when one value is longer than it
        if (p.length > max) expect(p.slice(0, -1).includes(SEP)).toBe(false);
      });
    }
    expect(valuesPieces('')).toEqual(['']);
    expect(valuesPieces(text)).toEqual([text]);
  });

  it('keeps a value longer than a piece whole, in a piece of its own', () => {
    const long = 'x'.repeat(VALUES_PIECE_CHARS + 5);
    const text = ['a', long, 'b'].join(SEP);
    const pieces = valuesPieces(text);
    expect(pieces).toEqual(['a' + SEP, long + SEP, 'b']);
  });
});

describe('storedFieldStore', () => {
  it('holds the arrays in one buffer and the values in pieces; joined, it is the field store', () => {
    const fs: FieldStore = { id: 3, ...buildFieldStore(events.slice(0, 400)) };
    const stored = storedFieldStore(fs);
    expect(stored.rowStart.buffer).toBe(stored.entryPath.buffer);
    expect(stored.entryValue.buffer).toBe(stored.entryPath.buffer);
    expect(Array.isArray(stored.values)).toBe(true);
    expect((stored.values as string[]).length).toBeGreaterThan(1);
    for (const p of stored.values as string[])
      if (p.length > VALUES_PIECE_CHARS) expect(p.slice(0, -1).includes(SEP)).toBe(false); // one long value
    const back = joinedFieldStore(stored);
    expect(back.values).toBe(fs.values);
    expect([...back.rowStart]).toEqual([...fs.rowStart]);
    expect([...back.entryPath]).toEqual([...fs.entryPath]);
    expect([...back.entryValue]).toEqual([...fs.entryValue]);
    expect(back.entryValue.constructor).toBe(fs.entryValue.constructor);
  });
});

describe('field index over stored pieces', () => {
  /** The corpus's field index built with each chunk's values as one string, or in pieces of at most `max`. */
  function index(max: number | null, textKernel: boolean): FieldIndex {
    const fx = new FieldIndex({ textKernel });
    for (const c of chunks) {
      const fs = buildFieldStore(c.events);
      const values = max === null ? fs.values : valuesPieces(fs.values, max);
      fx.add({ id: c.id, ...fs, values }, ix.segBase.get(c.id)!);
    }
    return fx;
  }

  const QUERIES = [
    'decrypt',
    'İstanbul',
    'istanbul',
    'josé',
    'naïve café',
    '用户',
    'zoë',
    KEY_IDS[0],
    KEY_IDS[3].slice(4, 20),
    'requestParameters.keyId:*',
    `requestParameters.keyId:${KEY_IDS[1]}`,
    'userIdentity.userName:İlker',
    'userIdentity.userName:ilker',
    'userIdentity:*alice*',
    'requestParameters:/alias\\/.+/',
    'resources.ARN:*key*',
    '/[0-9a-f]{8}-[0-9a-f]{4}/',
    '"AWS Internal"',
    'NOT requestParameters:*',
    'errorMessage:*denied*',
  ];

  for (const textKernel of [true, false]) {
    it(`matches as with one string per chunk (text kernel ${textKernel ? 'on' : 'off'})`, () => {
      const whole = new Engine(ix, index(null, textKernel));
      for (const max of [7, 64, 1000]) {
        const pieces = new Engine(ix, index(max, textKernel));
        for (const q of QUERIES) {
          const a = whole.evaluate(parseQuery(q), { now: NOW });
          const b = pieces.evaluate(parseQuery(q), { now: NOW });
          expect({ q, max, rows: [...b].reduce((s, x) => s + x, 0) }).toEqual({
            q,
            max,
            rows: [...a].reduce((s, x) => s + x, 0),
          });
          expect(Buffer.from(b).equals(Buffer.from(a)), `${q} (pieces of ${max})`).toBe(true);
        }
      }
    });
  }

  it('gives every row the same values', () => {
    const whole = index(null, true);
    const pieces = index(5, true);
    const paths = ['eventID', 'userIdentity.arn', 'requestParameters.keyId', 'resources.ARN', 'userAgent'];
    let seen = 0;
    for (let row = 0; row < ix.n; row++) {
      for (const p of paths) {
        expect(pieces.valueOfRow(row, p)).toBe(whole.valueOfRow(row, p));
        expect(pieces.valuesOfRow(row, p)).toEqual(whole.valuesOfRow(row, p));
        if (whole.valueOfRow(row, p) !== undefined) seen++;
      }
    }
    expect(seen).toBeGreaterThan(ix.n);
  });
});
