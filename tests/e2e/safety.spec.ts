import { gzipSync, strToU8 } from 'fflate';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, ingestDone, openApp, test } from './fixtures';

/** Data safety: a reload, a closed tab or a full disk mid-ingest leaves the store consistent and the files retryable. */

function event(f: number, i: number) {
  return {
    eventVersion: '1.08',
    eventTime: `2024-02-${String(1 + (f % 28)).padStart(2, '0')}T00:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`,
    eventSource: 'kms.amazonaws.com',
    eventName: i % 3 ? 'Decrypt' : 'Encrypt',
    awsRegion: 'us-west-2',
    sourceIPAddress: `10.0.${f % 250}.${i % 250}`,
    userAgent: `sdk/${f}.${i}`,
    requestID: `r-${f}-${i}`,
    eventID: `${String(f).padStart(8, '0')}-0000-4000-8000-${String(i).padStart(12, '0')}`,
    recipientAccountId: '444455556666',
    requestParameters: {
      keyId: `arn:aws:kms:us-west-2:444455556666:key/k-${f % 7}`,
      encryptionContext: { job: `j-${f}-${i}`, pad: 'p'.repeat(200) },
    },
    userIdentity: {
      type: 'AssumedRole',
      arn: `arn:aws:sts::444455556666:assumed-role/worker/i-${f}`,
      accountId: '444455556666',
    },
  };
}

/** Writes `files` gzipped trail files of `per` distinct events each into a folder of the test's output; returns their paths. */
function trailFiles(dir: string, files: number, per: number): string[] {
  mkdirSync(dir, { recursive: true });
  return Array.from({ length: files }, (_, f) => {
    const p = join(dir, `444455556666_CloudTrail_us-west-2_20240201T${String(f).padStart(4, '0')}Z_${f}.json.gz`);
    writeFileSync(
      p,
      gzipSync(strToU8(JSON.stringify({ Records: Array.from({ length: per }, (_, i) => event(f, i)) })), { mtime: 0 }),
    );
    return p;
  });
}

interface StoreState {
  stats: number;
  segments: number;
  hashes: number;
  committedNew: number;
  byStatus: Record<string, number>;
}

/** What the store holds, read straight from IndexedDB: counters, segments and file records must agree. */
async function storeState(page: Page): Promise<StoreState> {
  await page.waitForFunction(() => 'keytrail' in globalThis);
  return page.evaluate(async () => {
    type Tbl<T> = { toArray(): Promise<T[]>; get(k: string): Promise<T | undefined> };
    const db = (globalThis as unknown as { keytrail: { app: { db: Record<string, Tbl<Record<string, unknown>>> } } })
      .keytrail.app.db;
    const files = (await db.files.toArray()) as { status: string; newEvents: number; parentId?: number }[];
    const byStatus: Record<string, number> = {};
    for (const f of files) byStatus[f.status] = (byStatus[f.status] ?? 0) + 1;
    const segs = (await db.segments.toArray()) as { n: number }[];
    const hashes = (await db.hashes.toArray()) as { h: Uint32Array }[];
    return {
      stats: ((await db.meta.get('stats')) as { events?: number } | undefined)?.events ?? 0,
      segments: segs.reduce((s, x) => s + x.n, 0),
      hashes: hashes.reduce((s, x) => s + x.h.length / 2, 0),
      committedNew: files
        .filter((f) => f.status === 'ingested' || f.status === 'duplicate')
        .reduce((s, f) => s + f.newEvents, 0),
      byStatus,
    };
  });
}

function consistent(s: StoreState): void {
  expect(s.segments, 'stored rows = counter').toBe(s.stats);
  expect(s.hashes, 'hash rows = counter').toBe(s.stats);
  expect(s.committedNew, 'committed files account for every stored event').toBe(s.stats);
  expect(s.byStatus.pending ?? 0, 'no file left pending').toBe(0);
}

const FILES = 24;
const PER = 2500;

for (const how of ['reload', 'close the tab'] as const) {
  test(`${how} mid-ingest: the store stays consistent, unfinished files are interrupted, dropping them again completes them`, async ({
    page,
    context,
  }) => {
    test.setTimeout(180_000);
    const paths = trailFiles(test.info().outputPath('trail'), FILES, PER);
    await openApp(page);
    await page.getByTestId('file-input').setInputFiles(paths);
    // wait until some files are stored and others are not
    await expect
      .poll(async () => Number(await page.getByTestId('event-count').getAttribute('data-value')), {
        timeout: 60_000,
        intervals: [50],
      })
      .toBeGreaterThan(0);
    await expect(page.getByTestId('ingest-status')).toHaveAttribute('data-state', 'running');
    if (how === 'reload') await page.reload();
    else {
      await page.close();
      page = await context.newPage();
    }
    await openApp(page);
    const s = await storeState(page);
    consistent(s);
    expect(s.byStatus.interrupted ?? 0, 'files left unfinished are marked').toBeGreaterThan(0);
    expect((s.byStatus.interrupted ?? 0) + (s.byStatus.ingested ?? 0)).toBe(FILES);
    await expect(page.getByTestId('message')).toContainText('interrupted');
    await expect(page.getByTestId('event-count')).toHaveAttribute('data-value', String(s.stats));
    // the files view says how to finish them
    await page.getByTestId('nav-files').click();
    await expect(page.locator('[data-testid=file-row][data-status=interrupted]').first()).toContainText(
      'drop it again',
    );
    // dropping everything again: stored files are skipped, interrupted ones are read again
    await page.getByTestId('file-input').setInputFiles(paths);
    expect(await ingestDone(page)).toBe(FILES * PER);
    const end = await storeState(page);
    consistent(end);
    expect(end.byStatus).toEqual({ ingested: FILES });
    await expect(page.getByTestId('message')).toContainText('already loaded were skipped');
  });
}

test('quota exhaustion stops the ingest cleanly, says how much space is needed, and the files can be finished later', async ({
  page,
}) => {
  test.setTimeout(180_000);
  const paths = trailFiles(test.info().outputPath('trail'), 16, 3000);
  await openApp(page);
  await page.evaluate(async () => navigator.serviceWorker.ready); // the app shell is cached first: its size counts too
  const origin = new URL(page.url()).origin;
  const cdp = await page.context().newCDPSession(page);
  const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + 3 * 1024 * 1024 });
  await page.getByTestId('file-input').setInputFiles(paths);
  await expect(page.getByTestId('ingest-status')).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  const message = page.getByTestId('message');
  await expect(message).toHaveAttribute('role', 'alert');
  await expect(message).toContainText(/Ingest stopped: storage quota exhausted.*at least \d+ MiB more is needed/);
  const s = await storeState(page);
  consistent(s);
  expect(s.byStatus.cancelled ?? 0, 'files not stored are retryable').toBeGreaterThan(0);
  await page.getByTestId('nav-files').click();
  await expect(page.locator('[data-testid=file-row][data-status=cancelled]').first()).toContainText(
    /storage (quota exhausted|is full)/,
  );
  // space again: dropping the files finishes them
  await cdp.send('Storage.overrideQuotaForOrigin', { origin });
  await page.getByTestId('file-input').setInputFiles(paths);
  await expect(page.getByTestId('event-count')).toHaveAttribute('data-value', String(16 * 3000), { timeout: 60_000 });
  await ingestDone(page);
  const end = await storeState(page);
  consistent(end);
  expect(end.byStatus).toEqual({ ingested: 16 });
});

test('storage persistence is requested on the first ingest and its state is shown', async ({ page }) => {
  await page.addInitScript(() => {
    const w = window as unknown as { __persistCalls: number };
    w.__persistCalls = 0;
    const orig = navigator.storage.persist.bind(navigator.storage);
    navigator.storage.persist = () => {
      w.__persistCalls++;
      return orig();
    };
  });
  await openApp(page);
  await page.getByTestId('file-input').setInputFiles(trailFiles(test.info().outputPath('trail'), 1, 10));
  await ingestDone(page);
  expect(await page.evaluate(() => (window as unknown as { __persistCalls: number }).__persistCalls)).toBeGreaterThan(
    0,
  );
  const persisted = await page.evaluate(() => navigator.storage.persisted());
  await expect(page.getByText(persisted ? 'Storage (persistent)' : 'Storage (best-effort)')).toBeVisible();
  await expect(page.getByTestId('storage')).toContainText(/used · .* free/);
});

test('"Delete all data" asks first, clears the store and the data caches, and keeps the app working offline', async ({
  page,
  context,
}) => {
  await openApp(page);
  await page.evaluate(async () => navigator.serviceWorker.ready);
  await page.getByTestId('file-input').setInputFiles(trailFiles(test.info().outputPath('trail'), 2, 50));
  expect(await ingestDone(page)).toBe(100);
  await page.evaluate(async () => (await caches.open('keytrail-data-export')).put('./export.csv', new Response('a,b')));
  // asks first: "Keep data" (and Escape) change nothing; focus goes back to the button
  const open = page.getByTestId('delete-all');
  await open.focus();
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Delete all data?' });
  await expect(dialog).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  await expect(open).toBeFocused();
  await open.click();
  await dialog.getByRole('button', { name: 'Keep data' }).click();
  await expect(page.getByTestId('event-count')).toHaveAttribute('data-value', '100');
  // confirmed: everything goes
  await open.click();
  await page.getByTestId('delete-all-confirm').click();
  await expect(page.getByTestId('event-count')).toHaveAttribute('data-value', '0');
  const s = await storeState(page);
  expect(s).toEqual({ stats: 0, segments: 0, hashes: 0, committedNew: 0, byStatus: {} });
  const names = await page.evaluate(() => caches.keys());
  expect(names.filter((n) => n.startsWith('keytrail-data'))).toEqual([]);
  // the app shell (the Workbox precache holds only the app's own files, never user data) stays: still works offline
  expect(names.some((n) => n.startsWith('workbox-precache'))).toBe(true);
  await context.setOffline(true);
  await page.reload();
  await openApp(page);
  await expect(page.getByTestId('event-count')).toHaveAttribute('data-value', '0');
});
