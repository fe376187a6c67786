import { test as base, expect, type Page } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shared public corpus, present beside the repo in CI. */
export const PUBLIC = fileURLToPath(new URL('../../../shared/datasets/public', import.meta.url));
export const hasPublic = existsSync(join(PUBLIC, 'MANIFEST.json'));

/** MANIFEST.json of the public corpus. */
export function manifest(): { distinct_events: number; files: { path: string; kind: string; events: number; new_distinct: number }[] } {
  return JSON.parse(readFileSync(join(PUBLIC, 'MANIFEST.json'), 'utf8'));
}

/**
 * Every test gets a page whose requests are watched: any request that leaves the page's own origin
 * (other than data: and blob: URLs) fails the test.
 */
export const test = base.extend<{ offOrigin: string[] }>({
  offOrigin: [
    async ({ context, baseURL }, use) => {
      const origin = new URL(baseURL!).origin;
      const seen: string[] = [];
      context.on('request', (r) => {
        const u = r.url();
        if (u.startsWith('data:') || u.startsWith('blob:')) return;
        if (new URL(u).origin !== origin) seen.push(u);
      });
      await use(seen);
      expect(seen, 'requests outside the page origin').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Opens the app and waits until the store is open. */
export async function openApp(page: Page, hash = ''): Promise<void> {
  await page.goto('./' + hash);
  await expect(page.getByTestId('ingest-status')).toBeVisible();
  await expect(page.getByTestId('nav-files')).toBeVisible();
}

/** Waits for the ingest to finish and returns the stored distinct event count. */
export async function ingestDone(page: Page): Promise<number> {
  await expect(page.getByTestId('ingest-status')).toHaveAttribute('data-state', 'done', { timeout: 90_000 });
  return Number(await page.getByTestId('event-count').getAttribute('data-value'));
}

/** Shows only file rows whose path contains `text` and returns that row locator. */
export async function fileRow(page: Page, path: string) {
  await page.getByTestId('nav-files').click();
  await page.getByPlaceholder('Filter by path or reason').fill(path);
  return page.locator(`[data-testid=file-row][data-path="${path}"], [data-testid=archive-row][data-path="${path}"]`);
}
