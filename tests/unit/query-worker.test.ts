/**
 * The query service (what the query worker exposes), run in Node over a fake IndexedDB store: the order in
 * which the page asks for analyses must not change their answers; analyses run once per index version; store
 * writes invalidate them through store messages only; every analysis's finding rows are queryable.
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ingestTask } from '../../src/lib/ingest/ingest-core';
import { openDB, STORE_CHANNEL, type KeyTrailDB, type StoreMessage } from '../../src/lib/store/db';
import { StoreWriter } from '../../src/lib/store/writer';
import { StoreWrites } from '../../src/lib/store/writes';
import { QueryService } from '../../src/lib/query/service';
import {
  ANALYSES,
  AnalysisCache,
  type AnalysisContext,
  type AnalysisEntry,
  type AnalysisId,
} from '../../src/lib/analysis/registry';
import type { DigestDocument } from '../../src/lib/ingest/formats';
import { zipSync } from 'fflate';
import { addPendingFile, digestDoc, kmsEvents, s3File, te } from './helpers';

const RULE =
  'title: KMS calls\nid: 5d1c0000-0000-4000-8000-000000000001\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    eventSource: kms.amazonaws.com\n  condition: sel\n';
const RULE_ID = 'sigma:5d1c0000-0000-4000-8000-000000000001';

let dbCount = 0;
const services: QueryService[] = [];
afterEach(() => {
  for (const s of services.splice(0)) s.close();
});

/** A fresh store (own database name) holding `n` KMS events. */
async function storeWith(n: number): Promise<{ name: string; db: KeyTrailDB }> {
  const name = `keytrail-service-${++dbCount}`;
  const db = openDB(name);
  const writer = new StoreWriter(db);
  const bytes = te.encode(s3File(kmsEvents(n)));
  const fileId = (await db.files.add({
    path: 'a.json',
    size: bytes.length,
    lastModified: 0,
    fingerprint: 'a',
    status: 'pending',
    events: 0,
    newEvents: 0,
    skipped: 0,
    conflicts: 0,
    bytes: 0,
    s3: {},
  })) as number;
  await ingestTask(
    db,
    writer,
    { fileId, path: 'a.json', source: new Blob([bytes]), size: bytes.length, lastModified: 0, fingerprint: 'a' },
    () => {},
  );
  return { name, db };
}

function serviceOn(name: string, listen = false): QueryService {
  const s = new QueryService({ open: async () => openDB(name), listen, notifyMs: 0 });
  services.push(s);
  return s;
}

describe('query service: finding: queries', () => {
  it("an imported Sigma rule's finding selects its events when the rules ran before the key analysis", async () => {
    const { name, db } = await storeWith(12);
    await db.configs.add({ fileId: 0, path: 'rules.yml', kind: 'sigma', capturedAt: 0, doc: RULE });

    const api = serviceOn(name);
    expect((await api.open()).rows).toBe(12);
    // as the page does after an import: the rules' list first, then the findings and their events
    const { results } = await api.sigma();
    expect(results).toMatchObject([{ id: RULE_ID, ok: true, count: 12 }]);
    const finding = (await api.findings()).find((f) => f.rule === RULE_ID);
    expect(finding?.count).toBe(12);
    expect(await api.run({ q: finding!.query })).toMatchObject({ ok: true, total: 12 });
  });

  it('the finding rows of every analysis (integrity included) are queryable, whatever order they ran in', async () => {
    const { name, db } = await storeWith(12);
    await db.configs.add({ fileId: 0, path: 'rules.yml', kind: 'sigma', capturedAt: 0, doc: RULE });
    // a digest listing a log file that is not loaded: an integrity finding
    await db.digests.add({
      fileId: 0,
      path: 'AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/d.json.gz',
      digest: digestDoc() as unknown as DigestDocument,
    });
    const api = serviceOn(name);
    await api.open();
    // integrity and Sigma before the key analysis, coverage after it
    await api.integrity();
    await api.sigma();
    await api.keys();
    await api.coverage();
    const findings = await api.findings();
    const integrityRules = (await api.integrity()).findings.map((f) => f.rule);
    expect(integrityRules.length).toBeGreaterThan(0);
    expect(findings.map((f) => f.rule)).toEqual(expect.arrayContaining([...integrityRules, RULE_ID]));
    const rules = api.findingRules();
    for (const f of findings) {
      expect(rules.has(f.rule), f.rule).toBe(true);
      const rows = new Set(rules.get(f.rule));
      for (const r of f.rows) expect(rows.has(r), `${f.rule} row ${r}`).toBe(true);
    }
    expect(await api.run({ q: `finding:${RULE_ID}` })).toMatchObject({ ok: true, total: 12 });
  });
});

describe('query service: bitmaps reused between queries', () => {
  it('gives each query the answer a fresh evaluation gives, whatever ran before it, pages included, oldest or newest first', async () => {
    const { name } = await storeWith(40);
    const api = serviceOn(name);
    await api.open();
    // the answers of each query alone, on a fresh service (no bitmap handed out twice yet)
    const queries = [
      'eventName:Decrypt',
      'eventName:Encrypt OR eventName:Decrypt',
      '-eventName:Decrypt',
      'eventName:Decrypt AND eventSource:kms.amazonaws.com',
      '*',
      'eventName:Nothing',
      '(eventName:Decrypt OR eventName:Encrypt) AND -eventName:Encrypt',
    ];
    const want: number[] = [];
    const wantFirst: number[][] = [];
    const wantNewest: number[][] = [];
    for (const q of queries) {
      const fresh = serviceOn(name);
      await fresh.open();
      const r = await fresh.run({ q });
      want.push(r.ok ? r.total : -1);
      wantFirst.push((await fresh.page(0, 5)).map((v) => v.row));
      // newest first: the whole result reversed
      wantNewest.push(
        (await fresh.page(0, 100))
          .map((v) => v.row)
          .reverse()
          .slice(0, 5),
      );
    }
    expect(want[0]).toBeGreaterThan(0);
    expect(want[0]).toBeLessThan(40);
    for (let round = 0; round < 3; round++)
      for (let i = 0; i < queries.length; i++) {
        const r = await api.run({ q: queries[i] });
        expect(r.ok && r.total, queries[i]).toBe(want[i]);
        expect(
          (await api.page(0, 5)).map((v) => v.row),
          queries[i],
        ).toEqual(wantFirst[i]);
        const d = await api.run({ q: queries[i], descending: true });
        expect(d.ok && d.total, queries[i]).toBe(want[i]);
        expect(
          (await api.page(0, 5)).map((v) => v.row),
          queries[i],
        ).toEqual(wantNewest[i]);
      }
  });
});

describe('query service: free text prepared in the background', () => {
  it('folds the stored values for free text once the field index is loaded, before any free-text query', async () => {
    const { name } = await storeWith(60);
    const api = serviceOn(name);
    expect((await api.open()).rows).toBe(60);
    // a field query answers from the columns; nothing asked for free text
    const decrypt = await api.run({ q: 'eventName:Decrypt' });
    expect(decrypt.ok && decrypt.total).toBeGreaterThan(0);
    // the kernel's memory fills with no free-text query (before: only the first free-text query filled it)
    await vi.waitFor(async () => expect((await api.loadStats()).textArenaBytes).toBeGreaterThan(65_536), {
      timeout: 5000,
    });
    // and free text then answers as a fresh service that folds at its first query does
    const fresh = serviceOn(name);
    await fresh.open();
    for (const q of ['decrypt', 'kms.amazonaws.com', '"alias/"', 'nothing-like-this']) {
      const want = await fresh.run({ q });
      expect(want.ok).toBe(true);
      expect(await api.run({ q }), q).toMatchObject({ ok: true, total: want.ok ? want.total : -1 });
    }
  });
});

describe('query service: the accounts view', () => {
  it('is sent the correlation without the rows of every call, and without findings', async () => {
    const { name } = await storeWith(40);
    const api = serviceOn(name);
    await api.open();
    const full = await (api as unknown as { analyses: AnalysisCache }).analyses.get('crossAccount');
    const view = await api.crossAccount();
    expect(full.matrix.length).toBeGreaterThan(0);
    expect(full.matrix.reduce((s, c) => s + c.rows.length, 0)).toBeGreaterThan(0);
    expect(view.matrix.every((c) => !('rows' in c))).toBe(true);
    expect(view.matrix).toEqual(full.matrix.map(({ rows: _, ...c }) => c));
    expect('findings' in view).toBe(false);
    expect(view.records).toEqual(full.records);
    expect(view.accounts).toEqual(full.accounts);
  });
});

describe('query service: analyses memoised on the index version', () => {
  it('each analysis runs once per version, however often and in whatever order it is asked for', async () => {
    const runs: Record<string, number> = {};
    const counted = Object.fromEntries(
      Object.entries(ANALYSES).map(([id, e]) => [
        id,
        {
          ...e,
          run: (ctx: AnalysisContext) => ((runs[id] = (runs[id] ?? 0) + 1), (e as AnalysisEntry<AnalysisId>).run(ctx)),
        },
      ]),
    ) as unknown as typeof ANALYSES;
    const { name } = await storeWith(5);
    const api = serviceOn(name);
    await api.open();
    // the service's own cache, rebuilt over the counting registry with the same context and version
    const inner = api as unknown as { analyses: AnalysisCache };
    const original = inner.analyses;
    const ctx = (original as unknown as { ctx: Omit<AnalysisContext, 'get'> }).ctx;
    inner.analyses = new AnalysisCache(
      ctx,
      () => api.version,
      async () => {},
      counted,
    );
    await Promise.all([api.coverage(), api.keys(), api.crossAccount(), api.findings()]);
    await api.findings();
    await api.run({ q: 'finding:*' });
    expect(runs).toEqual({ kms: 1, crossAccount: 1, coverage: 1, integrity: 1, sigma: 1 });
    const v = api.version;
    await api.storeMessage({ type: 'configs', kinds: ['sigma'], id: 'w1' });
    // the same write heard twice (channel and direct hand-over) is one change
    await api.storeMessage({ type: 'configs', kinds: ['sigma'], id: 'w1' });
    expect(api.version).toBe(v + 1);
    await api.findings();
    expect(runs).toEqual({ kms: 2, crossAccount: 2, coverage: 2, integrity: 2, sigma: 2 });
  });

  it('a configuration write invalidates the analyses through its store message only', async () => {
    const { name, db } = await storeWith(12);
    const api = serviceOn(name, true);
    await api.open();
    expect((await api.sigma()).results).toEqual([]);
    // written behind the store's back (no message): the memoised result stays
    await db.configs.add({ fileId: 0, path: 'quiet.yml', kind: 'sigma', capturedAt: 0, doc: RULE });
    expect((await api.sigma()).results).toEqual([]);
    await db.configs.clear();
    // written through the write API, announced on the store channel only (as another tab would)
    const channel = new BroadcastChannel(STORE_CHANNEL);
    const before = api.version;
    const writes = new StoreWrites(
      () => db,
      (m: StoreMessage) => channel.postMessage(m),
    );
    await writes.addConfig('sigma', 'rules.yml', RULE);
    await vi.waitFor(() => expect(api.version).toBeGreaterThan(before));
    expect((await api.sigma()).results).toMatchObject([{ id: RULE_ID, ok: true, count: 12 }]);
    expect((await api.findings()).some((f) => f.rule === RULE_ID)).toBe(true);
    // removing them announces too
    const again = api.version;
    await writes.removeConfigs(['sigma', 'sigma-placeholders']);
    await vi.waitFor(() => expect(api.version).toBeGreaterThan(again));
    expect((await api.sigma()).results).toEqual([]);
    channel.close();
  });
});

describe('store write API', () => {
  it('announces every write: configuration kinds, and file statuses with their ids; placeholder values are kept once', async () => {
    const { db } = await storeWith(1);
    const heard: StoreMessage[] = [];
    const writes = new StoreWrites(
      () => db,
      (m) => void heard.push(m),
    );
    await writes.replaceConfig('sigma-placeholders', 'Sigma placeholder values', { A: ['1'] });
    await writes.replaceConfig('sigma-placeholders', 'Sigma placeholder values', { A: ['2'] });
    expect((await db.configs.toArray()).map((c) => [c.kind, c.doc])).toEqual([['sigma-placeholders', { A: ['2'] }]]);
    const [file] = await db.files.toArray();
    await writes.setFileStatus([file.id!], 'cancelled', 'cancelled before it was stored');
    expect(await db.files.get(file.id!)).toMatchObject({
      status: 'cancelled',
      reason: 'cancelled before it was stored',
    });
    expect(heard.map((m) => m.type)).toEqual(['configs', 'configs', 'files']);
    expect(heard[0]).toMatchObject({ kinds: ['sigma-placeholders'] });
    expect(heard[2]).toEqual({ type: 'files', ids: [file.id] });
    expect(
      new Set(
        heard
          .slice(0, 2)
          .map((m) => (m.type === 'configs' ? m.id : ''))
          .filter(Boolean),
      ).size,
    ).toBe(2);
  });

  it("announces an archive's record as a files message when an ingest finalises it", async () => {
    const db = openDB(`keytrail-service-${++dbCount}`);
    const zip = zipSync({
      'a.json': te.encode(s3File(kmsEvents(3))),
      'b.json': te.encode(s3File(kmsEvents(2, 3))),
    });
    const fileId = await addPendingFile(db, 'logs.zip', zip.length);
    const heard: StoreMessage[] = [];
    const writes = new StoreWrites(
      () => db,
      (m) => void heard.push(m),
    );
    const task = {
      fileId,
      path: 'logs.zip',
      source: new Blob([zip]),
      size: zip.length,
      lastModified: 0,
      fingerprint: 'z',
    };
    const results = await ingestTask(db, new StoreWriter(db), task, () => {}, undefined, writes);
    expect(results.map((r) => [r.path, r.status, r.events])).toEqual([
      ['logs.zip!a.json', 'ingested', 3],
      ['logs.zip!b.json', 'ingested', 2],
    ]);
    expect(await db.files.get(fileId)).toMatchObject({
      status: 'archive',
      events: 5,
      newEvents: 5,
      reason: '2 member(s)',
    });
    expect(heard).toEqual([{ type: 'files', ids: [fileId] }]);
  });
});
