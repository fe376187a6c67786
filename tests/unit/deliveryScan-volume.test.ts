import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openInput } from '../../src/lib/ingest/open';
import { prepareByRecord, prepareWasm } from '../../src/lib/ingest/prepare';
import { generateBenchFiles, walk } from './helpers';
import { firstDifference } from './prepare-diff';

/**
 * The byte-level reader (wasm/deliveryScan.ts) against the record-by-record JavaScript read at volume (slow
 * project): 100,000 generated events (scripts/gen-bench-data.mjs) in gzipped S3 delivery files, each read by
 * both; every document must be read by the byte-level reader and give exactly the JavaScript result. And the
 * hostile corpus (scripts/gen-hostile.mjs): whatever it reads must equal the JavaScript result.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TMP = mkdtempSync(join(tmpdir(), 'keytrail-dscan-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }), 120_000);

describe('byte-level reader at volume', () => {
  it('reads 100,000 generated events exactly as JavaScript does', async () => {
    const files = generateBenchFiles(join(TMP, 'bench'), 100000, 10);
    let read = 0;
    let events = 0;
    const diffs: string[] = [];
    for (const file of files.sort()) {
      for await (const l of openInput(file, new Uint8Array(readFileSync(file)))) {
        if (!('bytes' in l)) continue;
        const got = prepareWasm(l);
        if (!got) {
          diffs.push(`${l.path}: declined`);
          continue;
        }
        read++;
        events += got.h.length / 2;
        const d = firstDifference(got, prepareByRecord(l), l.path);
        if (d) diffs.push(d);
      }
    }
    expect(diffs).toEqual([]);
    expect(read).toBe(10);
    expect(events).toBe(100_000);
  }, 600_000);

  it('on every document of the hostile corpus, declines or agrees with JavaScript', async () => {
    const dir = join(TMP, 'hostile');
    execFileSync(process.execPath, [join(ROOT, 'scripts/gen-hostile.mjs'), dir], { stdio: 'ignore' });
    let documents = 0;
    let read = 0;
    const diffs: string[] = [];
    for (const file of walk(join(dir, 'corpus')).sort()) {
      for await (const l of openInput(file, new Uint8Array(readFileSync(file)))) {
        if (!('bytes' in l)) continue;
        documents++;
        const got = prepareWasm(l);
        if (!got) continue;
        read++;
        const d = firstDifference(got, prepareByRecord(l), l.path);
        if (d) diffs.push(d);
      }
    }
    expect(diffs).toEqual([]);
    expect(documents).toBeGreaterThanOrEqual(20);
    // its large delivery documents are too deep, too wide or over MAX_SCAN_BYTES: all read by JavaScript
    expect(read).toBe(0);
  }, 600_000);
});
