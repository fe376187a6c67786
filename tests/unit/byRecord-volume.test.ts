import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openInput } from '../../src/lib/ingest/open';
import { generateBenchFiles, kmsEvents, nestArrays, nestObjects, walk } from './helpers';
import { diffByRecord, doc, ev, leaf } from './prepare-diff';

/**
 * The record-by-record read of S3 delivery documents (prepareByRecord, tests/unit/byRecord.test.ts) against the
 * whole-document parse (prepareReference) at volume (slow project): 100,000 generated events
 * (scripts/gen-bench-data.mjs), the hostile corpus (scripts/gen-hostile.mjs) and a document of several blocks.
 * Both must agree exactly on every document, but for the parsed events the record-by-record read does not keep.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TMP = mkdtempSync(join(tmpdir(), 'keytrail-byrecord-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }), 120_000);

/** Differences between prepareByRecord and prepareReference over every document of some files, the documents and events read. */
async function compareFiles(files: string[]): Promise<{ diffs: string[]; documents: number; events: number }> {
  const diffs: string[] = [];
  let documents = 0;
  let events = 0;
  for (const file of files.sort()) {
    for await (const l of openInput(file, new Uint8Array(readFileSync(file)))) {
      if (!('bytes' in l)) continue;
      documents++;
      const { diff, got } = diffByRecord(l);
      if (diff) diffs.push(diff);
      events += got.h.length / 2;
    }
  }
  return { diffs, documents, events };
}

describe('record-by-record read against the whole parse at volume', () => {
  it('agrees on 100,000 generated events', async () => {
    const files = generateBenchFiles(join(TMP, 'bench'), 100000, 10);
    expect(files).toHaveLength(10);
    const r = await compareFiles(files);
    expect(r.diffs).toEqual([]);
    expect(r.events).toBe(100_000);
  }, 600_000);

  it('agrees on every document of the hostile corpus', async () => {
    const dir = join(TMP, 'hostile');
    execFileSync(process.execPath, [join(ROOT, 'scripts/gen-hostile.mjs'), dir], { stdio: 'ignore' });
    const r = await compareFiles(walk(join(dir, 'corpus')));
    expect(r.diffs).toEqual([]);
    expect(r.documents).toBeGreaterThanOrEqual(20);
  }, 600_000);

  it('reads a document of several blocks, stored as its source, with skipped records on a block edge', () => {
    const evs = kmsEvents(4100).map((e) => JSON.stringify(e));
    evs.splice(1999, 0, ev(1, `"deep":${JSON.stringify(nestObjects(300))}`));
    evs.splice(2001, 0, ev(2, `"deep":${JSON.stringify(nestArrays(400))}`));
    const text = doc(evs);
    for (const source of [false, true]) {
      const { diff, got } = diffByRecord(leaf('blocks', text, source));
      expect(diff).toBeNull();
      expect(got.events).toEqual([]);
      expect(got.blocks.map((b) => b.n)).toEqual([2000, 2000, 100]);
      expect(got.skipped).toBe(2);
      expect(source ? got.records : got.texts).toBeDefined();
    }
  });
});
