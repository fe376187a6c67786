import { test as base, expect, type BrowserContext, type Page } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The shared public corpus, present beside the repo in CI. */
export const PUBLIC = fileURLToPath(new URL('../../../shared/datasets/public', import.meta.url));
export const hasPublic = existsSync(join(PUBLIC, 'MANIFEST.json'));

/** MANIFEST.json of the public corpus. */
export function manifest(): {
  distinct_events: number;
  files: { path: string; kind: string; events: number; new_distinct: number }[];
} {
  return JSON.parse(readFileSync(join(PUBLIC, 'MANIFEST.json'), 'utf8'));
}

/**
 * Watches every request a browser context makes (its pages, their dedicated workers and its service workers:
 * Playwright reports all three as context requests in Chromium) and every Content-Security-Policy violation
 * the pages report, and returns the list of offences: requests to an origin for which `own` is false (data:,
 * blob: and about: URLs are local) and CSP refusals (an attempt the policy stopped before it left).
 */
export function watchOffOrigin(context: BrowserContext, own: (origin: string) => boolean): string[] {
  const seen: string[] = [];
  const check = (url: string, via: string) => {
    if (/^(data|blob|about):/.test(url)) return;
    let origin: string;
    try {
      origin = new URL(url).origin;
    } catch {
      seen.push(`${via}: unparsable URL ${url}`);
      return;
    }
    if (!own(origin)) seen.push(`${via}: ${url}`);
  };
  context.on('request', (r) => check(r.url(), r.serviceWorker() ? 'service worker request' : 'request'));
  const onPage = (p: Page) => p.on('websocket', (ws) => check(ws.url(), 'websocket'));
  context.pages().forEach(onPage);
  context.on('page', onPage);
  context.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) seen.push(`CSP violation: ${m.text()}`);
  });
  return seen;
}

/**
 * Every test gets a page whose requests are watched (see {@link watchOffOrigin}): any request that leaves the
 * page's own origin (the baseURL's, plus `ownOrigins` for tests that serve the app themselves), from the page,
 * a worker or a service worker, and any CSP violation, fails the test.
 */
export const test = base.extend<{ offOrigin: string[]; ownOrigins: string[] }>({
  ownOrigins: [[], { option: true }],
  offOrigin: [
    async ({ context, baseURL, ownOrigins }, use) => {
      const allowed = new Set([new URL(baseURL!).origin, ...ownOrigins.map((o) => new URL(o).origin)]);
      const seen = watchOffOrigin(context, (o) => allowed.has(o));
      await use(seen);
      expect(seen, 'requests outside the page origin, or CSP violations').toEqual([]);
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
  await page.waitForFunction(() => 'keytrail' in globalThis); // the store is open and the state hook is set
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
  const v = path.replace(/["\\]/g, '\\$&'); // a CSS string: any path, quotes and markup included
  return page.locator(`[data-testid=file-row][data-path="${v}"], [data-testid=archive-row][data-path="${v}"]`);
}
