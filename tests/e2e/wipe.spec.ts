import { chromium } from '@playwright/test';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, ingestDone, openApp, test, watchOffOrigin } from './fixtures';
import { deleteAll, storeState, trailFiles } from './tabs-helpers';

/** Every file under `dir` whose bytes contain `marker` (files that vanish while walking are skipped). */
function filesHolding(dir: string, marker: string): string[] {
  const needle = Buffer.from(marker);
  const out: string[] = [];
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      try {
        const s = statSync(p);
        if (s.isDirectory()) walk(p);
        else if (s.isFile() && readFileSync(p).includes(needle)) out.push(p);
      } catch {
        /* removed meanwhile */
      }
    }
  };
  walk(dir);
  return out;
}

test('Delete all leaves no event text in the browser profile on disk', async ({ baseURL }) => {
  test.setTimeout(180_000);
  // a real profile on disk (the default test context keeps nothing after it closes)
  const profile = mkdtempSync(join(tmpdir(), 'keytrail-profile-'));
  const { launchOptions } = test.info().project.use;
  const context = await chromium.launchPersistentContext(profile, {
    ...launchOptions,
    baseURL,
    serviceWorkers: 'block',
  });
  const own = new URL(baseURL!).origin;
  const offOrigin = watchOffOrigin(context, (o) => o === own);
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const marker = `KTWIPE${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}X`;
    // plain S3 delivery files (their bytes are stored as dropped) and gzipped ones
    const paths = [
      ...trailFiles(test.info().outputPath('plain'), 2, 300, 'wp', { plain: true, marker }),
      ...trailFiles(test.info().outputPath('gz'), 2, 300, 'wg', { marker }),
    ];
    await openApp(page);
    await page.getByTestId('file-input').setInputFiles(paths);
    expect(await ingestDone(page)).toBe(1200);
    // the events' text is in the profile's storage now (the search can find it)
    await expect.poll(() => filesHolding(profile, marker).length, { timeout: 30_000 }).toBeGreaterThan(0);
    await deleteAll(page);
    await expect(page.getByTestId('message')).toContainText('All data deleted');
    expect(await storeState(page)).toEqual({ stats: 0, segments: 0, byStatus: {} });
    expect(filesHolding(profile, marker), 'files still holding event text after Delete all').toEqual([]);
    // the app still works: a new ingest is stored
    await page.getByTestId('file-input').setInputFiles(paths.slice(0, 1));
    await expect
      .poll(() => storeState(page), { timeout: 60_000 })
      .toEqual({ stats: 300, segments: 300, byStatus: { ingested: 1 } });
    expect(offOrigin, 'requests outside the page origin, or CSP violations').toEqual([]);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
