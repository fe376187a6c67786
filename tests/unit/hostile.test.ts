import 'fake-indexeddb/auto';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ingestTask } from '../../src/lib/ingest/ingest-core';
import { openDB } from '../../src/lib/store/db';
import { StoreWriter } from '../../src/lib/store/writer';

/**
 * The hostile corpus (scripts/gen-hostile.mjs) through the whole ingest core (open, parse, hash, dedupe,
 * columns, commit into fake-indexeddb), file by file: each gets the status and reason CASES.json expects, and
 * nothing throws. The browser journey is tests/e2e/hostile.spec.ts.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DATA = join(ROOT, 'hostile-data');
const CORPUS = join(DATA, 'corpus');

interface Expected {
  status: string;
  reason?: string;
  events?: number;
  new?: number;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}

describe('hostile corpus through the ingest core', () => {
  beforeAll(() => {
    execFileSync(process.execPath, [join(ROOT, 'scripts/gen-hostile.mjs'), DATA], { stdio: 'inherit' });
  }, 120_000);

  it('gives every file a clear status and reason, and stores every good event', async () => {
    const cases = JSON.parse(readFileSync(join(DATA, 'CASES.json'), 'utf8')) as Record<string, Expected>;
    const db = openDB(`hostile-${Date.now()}`);
    const writer = new StoreWriter(db);
    const got = new Map<string, { status: string; reason?: string; events: number; newEvents: number }>();
    for (const file of walk(CORPUS).sort()) {
      const path = relative(CORPUS, file);
      const size = statSync(file).size;
      const fileId = (await db.files.add({
        path,
        size,
        lastModified: 0,
        fingerprint: path,
        status: 'pending',
        events: 0,
        newEvents: 0,
        skipped: 0,
        conflicts: 0,
        bytes: 0,
        s3: {},
      })) as number;
      const results = await ingestTask(
        db,
        writer,
        { fileId, path, source: new Blob([readFileSync(file)]), size, lastModified: 0, fingerprint: path },
        () => {},
      );
      for (const r of results)
        got.set(r.path, { status: r.status, reason: r.reason, events: r.events, newEvents: r.newEvents });
      const own = await db.files.get(fileId);
      if (own && !got.has(path))
        got.set(path, { status: own.status, reason: own.reason, events: own.events, newEvents: own.newEvents });
    }
    const wrong: string[] = [];
    for (const [path, e] of Object.entries(cases)) {
      const g = got.get(path);
      if (!g) {
        wrong.push(`${path}: no record`);
        continue;
      }
      const line = `${path}: ${g.status} (${g.events} events, ${g.newEvents} new) ${g.reason ?? ''}`;
      if (!new RegExp(`^(${e.status})$`).test(g.status)) wrong.push(`${line} -- expected status ${e.status}`);
      if (e.reason && !new RegExp(e.reason, 'i').test(g.reason ?? ''))
        wrong.push(`${line} -- expected reason /${e.reason}/`);
      if (e.events !== undefined && g.events !== e.events) wrong.push(`${line} -- expected ${e.events} events`);
      if (e.new !== undefined && g.newEvents !== e.new) wrong.push(`${line} -- expected ${e.new} new`);
    }
    // a failed file states why
    for (const [path, g] of got)
      if ((g.status === 'corrupt' || g.status === 'not-cloudtrail') && !g.reason)
        wrong.push(`${path}: ${g.status} without a reason`);
    console.log(
      [...got]
        .map(([p, g]) => `${p}: ${g.status} ${g.events}/${g.newEvents} ${(g.reason ?? '').slice(0, 140)}`)
        .join('\n'),
    );
    expect(wrong).toEqual([]);
    // the three copies of good-1 stored their 50 events once
    const copies = ['good-1.json.gz', 'copy-of-good-1.json.gz', 'dup/renamed-good-1.gz'].map((p) => got.get(p)!);
    expect(copies.map((c) => c.newEvents).sort()).toEqual([0, 0, 50]);
    const stats = await db.meta.get('stats');
    const segments = await db.segments.toArray();
    expect(segments.reduce((n, s) => n + s.n, 0)).toBe(stats?.events);
    expect(stats?.events).toBe(
      [...got.values()].reduce((n, g) => n + g.newEvents, 0) -
        (got.get('zip-slip.zip')?.newEvents ?? 0) -
        (got.get('zip-bomb.zip')?.newEvents ?? 0) -
        (got.get('zip-of-gzip-bombs.zip')?.newEvents ?? 0) -
        (got.get('nested-6-deep.zip')?.newEvents ?? 0),
    );
    db.close();
  }, 600_000);
});
