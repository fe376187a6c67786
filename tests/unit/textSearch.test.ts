/**
 * The WebAssembly free-text kernel (wasm/textSearch.ts → query/textSearch.ts) against the reference it replaces:
 * `String.prototype.indexOf` over each chunk's case-folded values (FieldIndex with `textKernel: false`).
 */
import { describe, expect, it } from 'vitest';
import { buildFieldStore, valuesPieces } from '../../src/lib/codec/fields';
import { FieldIndex } from '../../src/lib/query/fieldIndex';
import { foldCase } from '../../src/lib/query/resolve';
import { TextArena, textKernelAvailable } from '../../src/lib/query/textSearch';
import { TEXT_SEARCH_WASM_BASE64 } from '../../src/lib/query/textSearchWasm';
// @ts-expect-error: a plain JavaScript build script, without type declarations
import { compile, moduleText } from '../../scripts/build-wasm.mjs';
import { readFileSync } from 'node:fs';
import { kmsEvent, rng } from './helpers';

/** Every occurrence of `needle` in `text` by indexOf (the reference), as offsets. */
function allJs(text: string, needle: string): number[] {
  const out: number[] = [];
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + 1)) out.push(i);
  return out;
}

/** Every occurrence by the kernel, as UTF-16 offsets (converted from byte offsets through the decoded prefix). */
function allKernel(arena: TextArena, text: string, needle: string): number[] {
  const t = arena.add(text)!;
  const bytes = new TextEncoder().encode(text);
  const out: number[] = [];
  for (let i = arena.indexOf(t, needle); i !== -1; i = arena.indexOf(t, needle, i + 1))
    out.push(new TextDecoder().decode(bytes.subarray(0, i)).length);
  return out;
}

const ALPHABET = ['a', 'b', '1', '2', 'f', '-', ':', '/', '\u0000', 'é', 'İ', 'ß', '日', '😀', 'ς', 'Σ', 'A'];

describe('text search kernel', () => {
  it('is available in this engine (WebAssembly SIMD): otherwise the tests below would test nothing', () => {
    expect(textKernelAvailable()).toBe(true);
  });

  it('finds exactly the occurrences indexOf finds, at every alignment, in random text', () => {
    const rand = rng(7);
    const arena = new TextArena();
    for (let round = 0; round < 300; round++) {
      const len = Math.floor(rand() * 200);
      let text = '';
      for (let i = 0; i < len; i++) text += ALPHABET[Math.floor(rand() * (round % 3 === 0 ? 5 : ALPHABET.length))];
      const start = Math.floor(rand() * Math.max(1, len - 3));
      const needle =
        rand() < 0.7
          ? text.slice(start, start + 1 + Math.floor(rand() * 6))
          : ALPHABET[Math.floor(rand() * 5)] + ALPHABET[Math.floor(rand() * 5)];
      if (!needle || !TextArena.searchable(needle)) continue;
      expect(allKernel(arena, text, needle), `${JSON.stringify(text)} / ${JSON.stringify(needle)}`).toEqual(
        allJs(text, needle),
      );
    }
  });

  it('finds a needle at the very start and the very end of a text, and not past its end', () => {
    const arena = new TextArena();
    const a = arena.add('0123456789abcdef0123456789abcdefXY')!;
    arena.add('Zrest-of-the-memory-after-the-text');
    expect(arena.indexOf(a, '0123')).toBe(0);
    expect(arena.indexOf(a, 'XY')).toBe(32);
    expect(arena.indexOf(a, 'Y')).toBe(33);
    expect(arena.indexOf(a, 'YZ')).toBe(-1); // would straddle into the next text
    expect(arena.indexOf(a, 'cdef', 13)).toBe(28);
    expect(arena.indexOf(a, 'cdef0', 13)).toBe(-1);
    expect(arena.text(a)).toBe('0123456789abcdef0123456789abcdefXY');
  });

  it('reports byte offsets of values for non-ASCII text, and character offsets equal bytes for ASCII', () => {
    const arena = new TextArena();
    const t = arena.add(['é', 'ab', '日本'].join('\u0000'))!;
    expect(t.ascii).toBe(false);
    expect([...arena.valueOffsets(t, 3)]).toEqual([0, 3, 6, 13]);
    expect(arena.add('plain\u0000ascii')!.ascii).toBe(true);
  });

  it('refuses needles it cannot search as bytes (lone surrogate, empty)', () => {
    expect(TextArena.searchable('\ud800')).toBe(false);
    expect(TextArena.searchable('')).toBe(false);
    expect(TextArena.searchable('😀')).toBe(true);
  });

  it('the committed module is the compile of wasm/textSearch.ts', async () => {
    const bytes: Uint8Array = await compile();
    expect(Buffer.from(bytes).toString('base64')).toBe(TEXT_SEARCH_WASM_BASE64);
    expect(readFileSync(new URL('../../src/lib/query/textSearchWasm.ts', import.meta.url), 'utf8')).toBe(
      moduleText(bytes),
    );
  }, 60_000);
});

describe('free text through FieldIndex: kernel and indexOf agree', () => {
  /** Events with values that fold to other lengths, non-ASCII text, lone surrogates and long values. */
  function events(seed: number, n: number, loneSurrogate = false) {
    const rand = rng(seed);
    const words = ['İstanbul', 'straße', 'ΟΔΟΣ', '日本語', '😀x', 'Decrypt', '1234ABCD', 'Σς', 'K'];
    // a chunk with a lone surrogate stays a string (its text cannot be UTF-8)
    if (loneSurrogate) words.push('lone\ud800');
    return Array.from({ length: n }, (_, i) =>
      kmsEvent(i, {
        requestParameters: {
          keyId: `alias/${words[Math.floor(rand() * words.length)]}-${i % 7}`,
          note: words[Math.floor(rand() * words.length)].repeat(1 + Math.floor(rand() * 40)),
        },
      }),
    );
  }

  function marks(fx: FieldIndex, n: number, needle: string, path?: string): number[] {
    const out = new Uint8Array(n);
    if (path) fx.matchPath(path, (v) => v.includes(needle), true, out, needle);
    else fx.matchText(needle, out);
    return [...out.keys()].filter((i) => out[i]);
  }

  it('marks the same rows for every needle, chunk by chunk', () => {
    // the last chunk is all ASCII, with capitals
    const ascii = Array.from({ length: 40 }, (_, i) =>
      kmsEvent(i, { requestParameters: { keyId: `alias/K-${i % 7}`, note: `1234ABCD Decrypt ${'X'.repeat(i)}` } }),
    );
    const chunks = [events(1, 40), events(2, 40), events(3, 40, true), ascii];
    const reference = new FieldIndex({ textKernel: false });
    chunks.forEach((evs, k) => reference.add({ id: k + 1, ...buildFieldStore(evs) }, k * 40));
    /** The chunks' field index, each chunk's values as one string or in small pieces (as stored: of at most 32K). */
    const make = (pieces: boolean): FieldIndex => {
      const fx = new FieldIndex();
      chunks.forEach((evs, k) => {
        const fs = buildFieldStore(evs);
        fx.add({ id: k + 1, ...fs, values: pieces ? valuesPieces(fs.values, 64) : fs.values }, k * 40);
      });
      return fx;
    };
    const n = chunks.length * 40;
    const needles = [
      'istanbul',
      'i̇stanbul',
      'straße',
      'οδοσ',
      'σσ',
      '日本',
      '😀',
      'decrypt',
      '1234abcd',
      'lone',
      '\ud800',
    ]
      .concat(['-3', 'alias/', 'k-', 'zzz', '111122223333', 'kms.amazonaws.com', 'x', 'xxxxxxxxxxxxxxxxxxxx'])
      .map(foldCase);
    // the reference: every chunk case-folded into a string and searched by indexOf
    while (!reference.foldSome(50));
    let any = 0;
    for (const pieces of [false, true]) {
      // the first query on chunks not folded yet (right after a load) searches them without folding them
      for (const needle of needles) {
        const ref = marks(reference, n, needle);
        any += ref.length;
        const fresh = make(pieces);
        expect(marks(fresh, n, needle), needle).toEqual(ref);
        expect(fresh.textArenaBytes).toBe(0);
        const freshPath = make(pieces);
        expect(marks(freshPath, n, needle, 'requestParameters'), needle).toEqual(
          marks(reference, n, needle, 'requestParameters'),
        );
        expect(freshPath.textArenaBytes).toBe(0);
      }
      // the queries after it fold them into the kernel's memory, which the kernel searches
      const withKernel = make(pieces);
      for (const needle of needles) {
        expect(marks(withKernel, n, needle), needle).toEqual(marks(reference, n, needle));
        expect(marks(withKernel, n, needle, 'requestParameters'), needle).toEqual(
          marks(reference, n, needle, 'requestParameters'),
        );
      }
      expect(withKernel.textArenaBytes).toBeGreaterThan(65_536); // the kernel searched (two chunks' text)
    }
    expect(any).toBeGreaterThan(200); // the needles do find rows
  });

  it('chunks that do not fit in the kernel memory stay strings, and the answers stay the same', () => {
    const chunks = [events(5, 60), events(6, 60), events(7, 60), events(8, 60)];
    const reference = new FieldIndex({ textKernel: false });
    // room for the needle area and the first two chunks' text (at the 3 bytes a code unit non-ASCII text reserves)
    const bytes = chunks.map((evs) => new TextEncoder().encode(foldCase(buildFieldStore(evs).values)).length);
    const units = chunks.map((evs) => foldCase(buildFieldStore(evs).values).length);
    const limit = 65_536 + Math.max(3 * units[0], bytes[0] + 3 * units[1]);
    const small = new FieldIndex({ textArenaLimitBytes: limit });
    chunks.forEach((evs, k) => {
      reference.add({ id: k + 1, ...buildFieldStore(evs) }, k * 60);
      small.add({ id: k + 1, ...buildFieldStore(evs) }, k * 60);
    });
    while (!small.foldSome(50));
    for (const needle of ['istanbul', '日本', 'alias/', '-5', 'σσ'].map(foldCase))
      expect(marks(small, 240, needle), needle).toEqual(marks(reference, 240, needle));
    expect(small.textArenaBytes).toBeGreaterThan(65_536); // some chunks are in the kernel's memory
    expect(small.textArenaBytes).toBeLessThan(65_536 + bytes.reduce((a, b) => a + b)); // and not all of them
  });

  it('a match on a path skips chunks by their case-folded text only once folded: it does not fold them itself', () => {
    const chunks = [events(11, 50), events(12, 50), events(13, 50)];
    const fx = new FieldIndex();
    const reference = new FieldIndex({ textKernel: false });
    chunks.forEach((evs, k) => {
      fx.add({ id: k + 1, ...buildFieldStore(evs) }, k * 50);
      reference.add({ id: k + 1, ...buildFieldStore(evs) }, k * 50);
    });
    const n = chunks.length * 50;
    /** The rows the reference marks testing every value at the path, without skipping a chunk. */
    const scanned = (needle: string): number[] => {
      const out = new Uint8Array(n);
      reference.matchPath('requestParameters.keyId', (v) => v.includes(needle), true, out);
      return [...out.keys()].filter((i) => out[i]);
    };
    const needles = ['alias/k-0', 'decrypt-1', '1234abcd-', 'straße-2', '日本語-4', 'zzz'].map(foldCase);
    let found = 0;
    // the first query meets the chunks unfolded (after a load, before the background fold): it scans them
    // rather than fold them (at 5M events folding every chunk took seconds, which the first query on a path
    // waited for); the next one folds them and skips the chunks without the value
    for (const [i, needle] of needles.entries()) {
      const want = scanned(needle);
      found += want.length;
      expect(marks(fx, n, needle, 'requestParameters.keyId'), needle).toEqual(want);
      if (i === 0) expect(fx.textArenaBytes).toBe(0);
      else expect(fx.textArenaBytes).toBeGreaterThan(0);
    }
    expect(found).toBeGreaterThan(10);
    // once folded (as the background fold does), the skip applies: the same rows
    while (!fx.foldSome(50));
    expect(fx.textArenaBytes).toBeGreaterThan(0);
    for (const needle of needles)
      expect(marks(fx, n, needle, 'requestParameters.keyId'), needle).toEqual(scanned(needle));
  });

  it('a field index cleared and filled again searches its new chunks only', () => {
    const fx = new FieldIndex();
    fx.add({ id: 1, ...buildFieldStore(events(4, 10)) }, 0);
    expect(marks(fx, 10, 'alias/').length).toBe(10);
    fx.clear();
    fx.add({ id: 2, ...buildFieldStore([kmsEvent(0, { requestParameters: { keyId: 'only-this' } })]) }, 0);
    expect(marks(fx, 1, 'only-this')).toEqual([0]);
    expect(marks(fx, 1, 'istanbul')).toEqual([]);
  });
});
