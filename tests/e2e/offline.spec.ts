import { gzipSync, strToU8 } from 'fflate';
import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from '@playwright/test';
import { expect, ingestDone, openApp, test, watchOffOrigin } from './fixtures';
import { HOSTING_HEADERS } from '../../vite.config';

const DIST = fileURLToPath(new URL('../../dist', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.gz': 'application/gzip',
};

/**
 * A plain static file server, like any static host: serves `root` under the URL prefix `base` (with a
 * redirect to add the trailing slash, and index.html for folders), sends `headers` with every file, and
 * records every path asked for.
 */
function serveStatic(
  root: string,
  base: string,
  port: number,
  headers: Record<string, string> = {},
): Promise<{ server: Server; asked: string[] }> {
  const asked: string[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    asked.push(url.pathname);
    if (url.pathname === base.replace(/\/$/, '')) {
      res.writeHead(301, { location: base });
      return res.end();
    }
    if (!url.pathname.startsWith(base)) {
      res.writeHead(404);
      return res.end();
    }
    let file = normalize(join(root, decodeURIComponent(url.pathname.slice(base.length))));
    if (!file.startsWith(root)) {
      res.writeHead(403);
      return res.end();
    }
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const body = readFileSync(file);
      res.writeHead(200, {
        'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
        'cache-control': 'no-cache',
        ...headers,
      });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ server, asked })));
}

function event(i: number, extra: Record<string, unknown> = {}) {
  return {
    eventVersion: '1.08',
    eventTime: `2024-05-01T10:00:${String(i % 60).padStart(2, '0')}Z`,
    eventSource: 'kms.amazonaws.com',
    eventName: i % 2 ? 'Decrypt' : 'GenerateDataKey',
    awsRegion: 'eu-west-1',
    sourceIPAddress: '198.51.100.7',
    eventID: `11111111-0000-4000-8000-${String(i).padStart(12, '0')}`,
    recipientAccountId: '111122223333',
    userIdentity: {
      type: 'AssumedRole',
      arn: 'arn:aws:sts::111122223333:assumed-role/app/i-0abc',
      accountId: '111122223333',
    },
    ...extra,
  };
}

const trailFile = (name: string, from: number, n: number) => ({
  name,
  mimeType: 'application/gzip',
  buffer: Buffer.from(
    gzipSync(strToU8(JSON.stringify({ Records: Array.from({ length: n }, (_, k) => event(from + k)) }))),
  ),
});

/** Opens the app at a full URL (a server other than the baseURL's) and waits until its store is open. */
async function openAt(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await expect(page.getByTestId('ingest-status')).toBeVisible();
  await expect(page.getByTestId('nav-files')).toBeVisible();
  await page.waitForFunction(() => 'keytrail' in globalThis);
}

/** Waits until the service worker is active (every file precached) and controls the page. */
async function swReady(page: Page): Promise<string> {
  return page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
}

/** Ingests two files and searches them: the journey that must work with the network off. */
async function ingestAndSearch(page: Page): Promise<void> {
  await page
    .getByTestId('file-input')
    .setInputFiles([trailFile('offline-a.json.gz', 0, 40), trailFile('offline-b.json.gz', 40, 20)]);
  expect(await ingestDone(page)).toBe(60);
  await page.getByTestId('nav-events').click();
  await expect(page.getByTestId('result-count')).toHaveAttribute('data-value', '60');
  await page.getByTestId('query-input').fill('eventName:GenerateDataKey');
  await page.getByTestId('query-input').press('Enter');
  await expect(page.getByTestId('result-count')).toHaveAttribute('data-value', '30');
  await page.getByTestId('event-row').first().click();
  await expect(page.getByTestId('event-json')).toContainText('"eventName": "GenerateDataKey"');
}

/** With the network off, a request the service worker does not answer from its cache really fails. */
async function networkIsOff(page: Page): Promise<boolean> {
  return page.evaluate(() =>
    fetch(`./manifest.webmanifest?probe=${Date.now()}`, { cache: 'no-store' }).then(
      () => false,
      () => true,
    ),
  );
}

test('the built HTML carries the CSP meta and the page cannot reach another origin', async ({
  page,
  offOrigin,
  baseURL,
}) => {
  const html = readFileSync(join(DIST, 'index.html'), 'utf8');
  const csp = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1] ?? '';
  expect(csp).toContain("connect-src 'self'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("default-src 'self'");
  expect(csp, 'no remote source in the policy').not.toMatch(/https?:|\*/);
  expect(html, 'no inline script').not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  expect(html).toContain('rel="manifest"');
  await openApp(page);
  // installable: a manifest with icons and a service worker
  const manifest = await page.evaluate(async () => (await fetch('./manifest.webmanifest')).json());
  expect(
    manifest.icons.map((i: { sizes: string; purpose?: string }) => `${i.sizes}${i.purpose ? ' ' + i.purpose : ''}`),
  ).toEqual(expect.arrayContaining(['192x192', '512x512', '512x512 maskable']));
  expect(manifest.display).toBe('standalone');
  expect(await swReady(page)).toBe(baseURL);
  // Chromium's own installability check (manifest, icons, service worker); test contexts are incognito, which
  // alone forbids installing
  const cdp = await page.context().newCDPSession(page);
  const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as {
    installabilityErrors: { errorId: string }[];
  };
  expect(installabilityErrors.map((e) => e.errorId).filter((id) => id !== 'in-incognito')).toEqual([]);
  // the policy refuses an off-origin fetch before anything leaves; the watcher reports the attempt
  const refused = await page.evaluate(() =>
    fetch('http://127.0.0.1:4191/leak').then(
      () => false,
      () => true,
    ),
  );
  expect(refused).toBe(true);
  await expect.poll(() => offOrigin.some((s) => s.startsWith('CSP violation'))).toBe(true);
  expect(
    offOrigin.filter((s) => !s.startsWith('CSP violation')),
    'no request left',
  ).toEqual([]);
  offOrigin.length = 0; // expected here: the policy did its job
});

test('offline: after one online visit the app loads, ingests and searches with the network off', async ({
  page,
  context,
}) => {
  await openApp(page);
  await swReady(page);
  await expect(page.getByTestId('pwa-notice')).toHaveAttribute('data-notice', 'offline-ready');
  await context.setOffline(true);
  expect(await networkIsOff(page)).toBe(true);
  await page.reload();
  await openApp(page);
  expect(await page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
  await ingestAndSearch(page);
  // the built-in sample data is precached too
  await page.getByTestId('nav-files').click();
  await page.getByTestId('load-sample').click();
  await expect
    .poll(async () => Number(await page.getByTestId('event-count').getAttribute('data-value')), { timeout: 60_000 })
    .toBeGreaterThan(60);
  await ingestDone(page);
  await expect(page.getByTestId('message')).toHaveCount(0);
});

test.describe('served from a sub-path of a plain static host', () => {
  const PORT = Number(process.env.E2E_PORT ?? 4173) + 7; // 4180 by default; beside the config's server, whatever E2E_PORT is
  const BASE = '/tools/keytrail/';
  let srv: { server: Server; asked: string[] };
  test.use({ ownOrigins: [`http://127.0.0.1:${PORT}`] });
  test.beforeAll(async () => {
    srv = await serveStatic(DIST, BASE, PORT, HOSTING_HEADERS);
  });
  test.afterAll(() => new Promise<void>((r) => srv.server.close(() => r())));

  test('works online and offline under /tools/keytrail/, with the recommended headers', async ({ page, context }) => {
    await openAt(page, `http://127.0.0.1:${PORT}/tools/keytrail`); // no trailing slash: the host redirects
    expect(page.url()).toBe(`http://127.0.0.1:${PORT}${BASE}`);
    expect(await swReady(page)).toBe(`http://127.0.0.1:${PORT}${BASE}`);
    await context.setOffline(true);
    expect(await networkIsOff(page)).toBe(true);
    await page.reload();
    await openAt(page, `http://127.0.0.1:${PORT}${BASE}`);
    await ingestAndSearch(page);
    expect(
      srv.asked.filter((p) => !p.startsWith(BASE) && p !== BASE.replace(/\/$/, '')),
      'every file asked for lies under the sub-path',
    ).toEqual([]);
  });
});

test.describe('updates', () => {
  const PORT = Number(process.env.E2E_PORT ?? 4173) + 8; // a second server beside the one the config starts
  test.use({ ownOrigins: [`http://127.0.0.1:${PORT}`] });

  for (const visit of ['second visit', 'first visit'] as const) {
    test(`a new version is offered, applied on request, and keeps the stored events (${visit})`, async ({ page }) => {
      const root = mkdtempSync(join(tmpdir(), 'keytrail-dist-'));
      cpSync(DIST, root, { recursive: true });
      const srv = await serveStatic(root, '/', PORT);
      try {
        const url = `http://127.0.0.1:${PORT}/`;
        await openAt(page, url);
        await swReady(page);
        if (visit === 'second visit') {
          await page.reload(); // the page is now served by the service worker
          await openAt(page, url);
        }
        expect(await page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(visit === 'second visit');
        await page.getByTestId('file-input').setInputFiles([trailFile('before-update.json.gz', 0, 25)]);
        expect(await ingestDone(page)).toBe(25);
        // a new build is deployed: its service worker differs
        appendFileSync(join(root, 'sw.js'), '\n// next version\n');
        await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())!.update());
        await expect(page.getByTestId('update-prompt')).toBeVisible();
        // nothing happens until the user accepts
        await page.waitForTimeout(500);
        await expect(page.getByTestId('event-count')).toHaveAttribute('data-value', '25');
        const reloaded = page.waitForEvent('framenavigated');
        await page.getByTestId('update-reload').click();
        await reloaded;
        await openAt(page, url);
        await expect(page.getByTestId('event-count')).toHaveAttribute('data-value', '25');
        expect(await page.evaluate(async () => (await fetch('./sw.js')).text())).toContain('// next version');
        expect(
          await page.evaluate(
            async () =>
              !!(await navigator.serviceWorker.getRegistration())?.active &&
              !(await navigator.serviceWorker.getRegistration())?.waiting,
          ),
        ).toBe(true);
        await expect(page.getByTestId('update-prompt')).toHaveCount(0);
      } finally {
        await new Promise<void>((r) => srv.server.close(() => r()));
        rmSync(root, { recursive: true, force: true });
      }
    });
  }
});

test('the request watcher sees requests from the page, its workers and its service worker', async ({ browser }) => {
  // A probe site without any CSP, on its own origin, whose page, worker and service worker each call a sink
  // on another origin: the watcher must report all three (and the sink proves they really left).
  const hits: string[] = [];
  const sink = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.writeHead(200, { 'access-control-allow-origin': '*' });
    res.end('ok');
  });
  await new Promise<void>((r) => sink.listen(4191, '127.0.0.1', () => r()));
  const files: Record<string, [string, string]> = {
    '/': ['text/html', `<script src="page.js"></script>`],
    '/page.js': [
      'text/javascript',
      `navigator.serviceWorker.register('sw.js'); new Worker('w.js'); fetch('http://127.0.0.1:4191/from-page');`,
    ],
    '/w.js': ['text/javascript', `fetch('http://127.0.0.1:4191/from-worker');`],
    '/sw.js': [
      'text/javascript',
      `self.addEventListener('install', (e) => e.waitUntil(fetch('http://127.0.0.1:4191/from-service-worker').catch(() => 0)));`,
    ],
  };
  const probe = createServer((req, res) => {
    const f = files[req.url ?? ''];
    res.writeHead(f ? 200 : 404, { 'content-type': f?.[0] ?? 'text/plain' });
    res.end(f?.[1] ?? '');
  });
  await new Promise<void>((r) => probe.listen(4192, '127.0.0.1', () => r()));
  const context = await browser.newContext();
  try {
    const seen = watchOffOrigin(context, (o) => o === 'http://127.0.0.1:4192');
    const page = await context.newPage();
    await page.goto('http://127.0.0.1:4192/');
    await expect.poll(() => hits.length, { timeout: 15_000 }).toBe(3);
    await expect
      .poll(() => seen.slice().sort())
      .toEqual([
        'request: http://127.0.0.1:4191/from-page',
        'request: http://127.0.0.1:4191/from-worker',
        'service worker request: http://127.0.0.1:4191/from-service-worker',
      ]);
  } finally {
    await context.close();
    sink.close();
    probe.close();
  }
});

test('every spec file takes `test` from fixtures.ts, so every test has the request watcher', () => {
  const dir = fileURLToPath(new URL('.', import.meta.url));
  const bad = readdirSync(dir)
    .filter((f) => f.endsWith('.spec.ts'))
    .filter((f) => {
      const src = readFileSync(join(dir, f), 'utf8');
      return (
        /import\s*\{[^}]*\btest\b[^}]*\}\s*from\s*'@playwright\/test'/.test(src) || !/from '\.\/fixtures'/.test(src)
      );
    });
  expect(bad).toEqual([]);
});
