/**
 * The query worker's module, run in Node over a fake IndexedDB store (comlink's `expose` captured instead of
 * listening for messages): the order in which the page asks for analyses must not change their answers.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it, vi } from 'vitest';
import { ingestTask } from '../../src/lib/ingest/ingest-core';
import { openDB } from '../../src/lib/store/db';
import { StoreWriter } from '../../src/lib/store/writer';
import type { QueryWorkerApi } from '../../src/lib/query/worker';
import { kmsEvents, s3File, te } from './helpers';

let exposed: QueryWorkerApi | null = null;
vi.mock('comlink', () => ({ expose: (api: QueryWorkerApi) => (exposed = api) }));

describe('query worker: finding: queries', () => {
  it("an imported Sigma rule's finding selects its events when the rules ran before the key analysis", async () => {
    // the worker opens the default store: fill it first
    const db = openDB();
    const writer = new StoreWriter(db);
    const bytes = te.encode(s3File(kmsEvents(12)));
    const fileId = (await db.files.add({ path: 'a.json', size: bytes.length, lastModified: 0, fingerprint: 'a', status: 'pending', events: 0, newEvents: 0, skipped: 0, conflicts: 0, bytes: 0, s3: {} })) as number;
    await ingestTask(db, writer, { fileId, path: 'a.json', source: new Blob([bytes]), size: bytes.length, lastModified: 0, fingerprint: 'a' }, () => {});
    await db.configs.add({
      fileId: 0, path: 'rules.yml', kind: 'sigma', capturedAt: 0,
      doc: 'title: KMS calls\nid: 5d1c0000-0000-4000-8000-000000000001\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  sel:\n    eventSource: kms.amazonaws.com\n  condition: sel\n',
    });

    await import('../../src/lib/query/worker');
    const api = exposed!;
    expect((await api.open()).rows).toBe(12);
    // as the page does after an import: the rules' list first, then the findings and their events
    const { results } = await api.sigma();
    expect(results).toMatchObject([{ id: 'sigma:5d1c0000-0000-4000-8000-000000000001', ok: true, count: 12 }]);
    const finding = (await api.findings()).find((f) => f.rule === 'sigma:5d1c0000-0000-4000-8000-000000000001');
    expect(finding?.count).toBe(12);
    expect(await api.run({ q: finding!.query })).toMatchObject({ ok: true, total: 12 });
  });
});
