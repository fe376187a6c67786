import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layers of src/lib, lowest first. A module may import modules of its own layer or of a lower one, never
 * of a higher one, so the dependency direction is one way (README "Layout"). Every folder of src/lib must be
 * listed here: a new folder has to be given its place.
 */
export const LAYERS: readonly string[] = [
  'format', // UTC time text
  'cloudtrail', // event fields, identities, S3 key paths, digest documents
  'codec', // pure codecs and index structures: hashing, field store encoding, segment columns, gzip, event table interface
  'store', // IndexedDB schema, writer (dedupe + commit), raw reader
  'ingest', // sniff, open, formats, parse, prepare, ingest workers
  'query', // query text, parser, engine, columnar and field indexes, facets
  'analysis', // KMS / CloudHSM / coverage / integrity / cross-account / Sigma analyses over an EventTable
  'export', // CSV, JSON Lines, SQL export
];

/**
 * Composition roots: modules that wire every layer together (they may import any layer; nothing in src/lib
 * imports them). The query worker builds the indexes, runs the analyses and the exports.
 */
export const ROOTS: readonly string[] = ['query/worker.ts', 'query/service.ts'];

/**
 * Edges allowed by the layer order but still forbidden: analyses read the event index through the narrow
 * `EventTable` / `FieldValues` / `RowQuery` interfaces (codec/table.ts, analysis/sigma.ts), never through the
 * query layer's index classes, so the index layout can change without touching them.
 */
export const NARROW: readonly { from: string; to: string }[] = [
  { from: 'analysis/', to: 'query/columnar' },
  { from: 'analysis/', to: 'query/fieldIndex' },
  { from: 'analysis/', to: 'query/engine' },
];

const LIB = resolve(__dirname, '../../src/lib');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.(ts|svelte)$/.test(name)) out.push(p);
  }
  return out;
}

/** Relative module specifiers of a source text: static imports, re-exports and dynamic imports. */
export function importsOf(text: string): string[] {
  const out: string[] = [];
  const re =
    /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;
  for (const m of text.matchAll(re)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec.startsWith('.')) out.push(spec);
  }
  return out;
}

/** `{from, to}` edges (paths relative to src/lib) that point to a higher layer or out of src/lib into the UI. */
export function forbiddenEdges(lib: string): string[] {
  const bad: string[] = [];
  for (const file of sources(lib)) {
    const from = relative(lib, file).split('\\').join('/');
    const fromLayer = from.split('/')[0];
    const fromRank = LAYERS.indexOf(fromLayer);
    if (fromRank < 0) bad.push(`${from}: folder ${fromLayer} has no layer (add it to LAYERS)`);
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const to = relative(lib, resolve(dirname(file), spec))
        .split('\\')
        .join('/');
      if (to.startsWith('..')) {
        bad.push(`${from} -> ${spec} (src/lib must not import outside itself)`);
        continue;
      }
      if (ROOTS.includes(from)) continue;
      const toLayer = to.split('/')[0];
      const toRank = LAYERS.indexOf(toLayer);
      if (ROOTS.some((r) => r.replace(/\.ts$/, '') === to.replace(/\.ts$/, '')))
        bad.push(`${from} -> ${to} (a composition root)`);
      else if (toRank > fromRank) bad.push(`${from} -> ${to} (${fromLayer} may not import ${toLayer})`);
      else if (NARROW.some((e) => from.startsWith(e.from) && to.replace(/\.ts$/, '') === e.to))
        bad.push(`${from} -> ${to} (use the EventTable interfaces)`);
    }
  }
  return bad;
}

describe('layers of src/lib', () => {
  it('reads import, re-export and dynamic import statements', () => {
    const text = `import { a } from '../store/db';\nimport type {\n  B,\n} from './x';\nexport { c } from "../codec/hash";\nconst w = import('../query/worker');\nimport 'fake-indexeddb/auto';`;
    expect(importsOf(text)).toEqual(['../store/db', './x', '../codec/hash', '../query/worker']);
  });

  it('analyses never index dictionary codes by hand (EventTable.column(c).at(row) / value(c, row))', () => {
    const hits = sources(join(LIB, 'analysis')).filter((f) => /\bdict\[[^\]]*codes\[/.test(readFileSync(f, 'utf8')));
    expect(hits.map((f) => relative(LIB, f))).toEqual([]);
  });

  it('imports only from the same or a lower layer (one-way dependency direction)', () => {
    expect(forbiddenEdges(LIB)).toEqual([]);
  });
});
