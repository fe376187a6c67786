import 'fake-indexeddb/auto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingestTask } from '../../src/lib/ingest/ingest-core';
import { openDB, type FileStatus } from '../../src/lib/store/db';
import { addPendingFile } from './helpers';
import { StoreWriter } from '../../src/lib/store/writer';

/**
 * Conformance over the shared public corpus (../shared/datasets/public, present in CI): ingesting every file,
 * in path order, yields exactly MANIFEST.json's distinct_events, and each file's status matches its kind.
 */
const ROOT = join(__dirname, '../../../shared/datasets/public');
const present = existsSync(join(ROOT, 'MANIFEST.json'));

interface ManifestFile {
  path: string;
  kind: 'events' | 'none' | 'invalid' | 'digest';
  events: number;
  new_distinct: number;
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(relative(ROOT, p));
  }
  return out;
}

const ALLOWED: Record<ManifestFile['kind'], FileStatus[]> = {
  events: ['ingested', 'duplicate'],
  none: ['not-cloudtrail'],
  invalid: ['not-cloudtrail', 'corrupt'],
  digest: ['digest'],
};

describe.skipIf(!present)('public corpus conformance', () => {
  it('stores exactly the manifest distinct events with the expected status per file', async () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'MANIFEST.json'), 'utf8')) as {
      distinct_events: number;
      files: ManifestFile[];
    };
    const db = openDB(`conformance-${Date.now()}`);
    const writer = new StoreWriter(db);
    const files = walk(ROOT)
      .filter((p) => manifest.files.some((f) => f.path === p || f.path.startsWith(p + '!')))
      .sort();
    const statuses = new Map<string, { status: FileStatus; events: number; newEvents: number }>();
    let id = 0;
    for (const path of files) {
      const bytes = new Uint8Array(readFileSync(join(ROOT, path)));
      const fileId = await addPendingFile(db, path, bytes.length);
      id = fileId;
      const results = await ingestTask(
        db,
        writer,
        { fileId, path, source: new Blob([bytes]), size: bytes.length, lastModified: 0, fingerprint: path },
        () => {},
      );
      for (const r of results) statuses.set(r.path, { status: r.status, events: r.events, newEvents: r.newEvents });
    }
    expect(id).toBeGreaterThan(0);
    const mismatches: string[] = [];
    for (const f of manifest.files) {
      const s = statuses.get(f.path);
      if (!s) mismatches.push(`${f.path}: not read`);
      else if (!ALLOWED[f.kind].includes(s.status)) mismatches.push(`${f.path}: ${s.status}, manifest says ${f.kind}`);
      else if (s.events !== f.events) mismatches.push(`${f.path}: ${s.events} events, manifest says ${f.events}`);
      else if (s.newEvents !== f.new_distinct)
        mismatches.push(`${f.path}: ${s.newEvents} new, manifest says ${f.new_distinct}`);
    }
    expect(mismatches).toEqual([]);
    const stats = await db.meta.get('stats');
    expect(stats?.events).toBe(manifest.distinct_events);
    expect(
      await db.segments
        .toCollection()
        .toArray()
        .then((s) => s.reduce((n, x) => n + x.n, 0)),
    ).toBe(manifest.distinct_events);
    db.close();
  });
});
