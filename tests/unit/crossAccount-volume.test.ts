/**
 * Cross-account correlation at volume (slow project): the analysis as the query worker runs it (`kmsCallSource`:
 * records only for the calls that may pair up, every other call streamed, rows ordered by their rank in the
 * index's time order) against `correlate` over a record per KMS call (`kmsCallRecords`), on 30,000 generated
 * events (scripts/gen-bench-data.mjs: 5% of KMS calls cross-account). The results must be equal.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { correlate } from '../../src/lib/analysis/crossAccount';
import { kmsCallRecords, kmsCallSource } from '../../src/lib/analysis/inputs';
import { analyzeKms } from '../../src/lib/analysis/kms';
import { indexOf } from './analysis-helpers';
import { generateBenchFiles } from './helpers';

const TMP = mkdtempSync(join(tmpdir(), 'keytrail-xacct-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

describe('cross-account correlation at volume', () => {
  it('streams the calls that cannot pair up and gives the result of a record per call', () => {
    const events = generateBenchFiles(TMP, 30000, 3).flatMap(
      (f) => (JSON.parse(gunzipSync(readFileSync(f)).toString('utf8')) as { Records: object[] }).Records,
    );
    expect(events).toHaveLength(30000);
    // the generator writes the owner's copy of its cross-account calls: add the caller's copy of some, turn
    // others into the caller's copy alone (some denied), so that every status shows
    type Ev = Record<string, unknown> & { userIdentity?: { accountId?: string } };
    let k = 0;
    for (const e of [...(events as Ev[])]) {
      if (typeof e.sharedEventID !== 'string') continue;
      const caller = e.userIdentity?.accountId;
      if (!caller) continue;
      if (k % 3 === 0) events.push({ ...e, recipientAccountId: caller, eventID: `${e.eventID as string}-c` });
      else if (k % 3 === 2) {
        e.recipientAccountId = caller;
        if (k % 2) e.errorCode = 'AccessDeniedException';
      }
      k++;
    }
    expect(k).toBeGreaterThan(300);
    const chunks: object[][] = [];
    for (let i = 0; i < events.length; i += 2000) chunks.push(events.slice(i, i + 2000));
    const { ix, fields } = indexOf(chunks);
    const a = analyzeKms(ix, fields);
    const accounts = ix.column('recipientAccountId');
    const loaded = new Set<string>();
    for (let c = 0; c < accounts.size; c++) if (accounts.text(c)) loaded.add(accounts.text(c));

    const all = kmsCallRecords(ix, fields, a);
    const want = correlate(all, loaded);
    const { calls, others, order } = kmsCallSource(ix, fields, a);
    const got = correlate(calls, loaded, { others, order });

    expect(want.records.length).toBeGreaterThan(100);
    expect(new Set(want.records.map((r) => r.status))).toEqual(
      new Set(['paired', 'owner-only', 'caller-only-succeeded', 'caller-only-denied']),
    );
    expect(want.matrix.length).toBeGreaterThan(1);
    expect(calls.length).toBeLessThan(all.length / 5); // the records kept are the few that may pair up
    expect(got.records).toEqual(want.records);
    expect(got.matrix).toEqual(want.matrix);
    expect(got.accounts).toEqual(want.accounts);
    expect(got.findings).toEqual(want.findings);
  }, 120_000);
});
