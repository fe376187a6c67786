#!/usr/bin/env node
/**
 * Times a reload of a kept store in a fresh browser: from navigation start to the first field answer, the first
 * free-text answer and a second free-text query, with the query worker's own account of the load
 * (`QueryService.loadStats`). For working on what `npm run bench` reports as reloadToFirstQuerySeconds and
 * reloadToFreeTextSeconds without ingesting again for every try (at 5M events the ingest takes minutes).
 *
 *   npx vite build && node scripts/profile-reload.mjs PROFILE_DIR [--ingest DATA_DIR] [--runs N] [--cpu-profile]
 *     [--first-only] [--same-page K]
 *
 * PROFILE_DIR: a Chromium profile folder that keeps the store (created when missing). `--ingest DATA_DIR` first
 * ingests a folder of `.json.gz` files into it (for example `bench-data-5m`) and waits until the field stores are
 * loaded and the index snapshot covers every row. Each run then opens `dist/` (served by `vite preview` on port
 * 4177, service worker blocked, so that a stale cached build is never what runs) and prints one JSON line
 * (times in ms from navigation start unless named otherwise):
 *   workerStart, storeOpen, loadStart, coreRead: when the query worker started, had the store open, began loading
 *   and had read the snapshot's core;
 *   core, first, freeText: the core restored, `eventName:Decrypt` answered, free text `1234abcd` answered (s);
 *   secondFreeTextMs: the free text `ABCD1234` right after (it case-folds what the first left unfolded);
 *   (`--first-only`: no free text, each run ends at the first answer; `--same-page K`: then, K times, once every
 *   field store is loaded, the same page reloads and is timed again, as in the bench, where the page that reloads
 *   holds the whole index);
 *   fieldsReadMs, fieldsAddMs, snapshotReadMs: from loadStats; dcl, workerFetch: the page's DOMContentLoaded
 *   and when the query worker's script was requested.
 * Then each Chromium thread's CPU time and page faults over the run (scripts/proc-threads.mjs). With
 * `--cpu-profile`, the query worker's CPU profile is written to `profiles/reload.cpuprofile` and summarised (busiest
 * functions, and what the worker did each second). A diagnosis tool: not a benchmark (one run is noisy here:
 * ±0.3 s on a first answer of ~2 s at 5M).
 */
import { chromium } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromiumThreads, printThreadUsage, threadUsageSince } from './proc-threads.mjs';
import { printSelfTimes, profileWorkers, timeline } from './worker-profiler.mjs';

const argv = process.argv.slice(2);
const profileDir = argv.find(
  (a, i) => !a.startsWith('--') && !['--ingest', '--runs', '--same-page'].includes(argv[i - 1]),
);
const opt = (name) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
if (!profileDir) {
  console.error(
    'usage: node scripts/profile-reload.mjs PROFILE_DIR [--ingest DATA_DIR] [--runs N] [--cpu-profile] [--first-only] [--same-page K]',
  );
  process.exit(2);
}
const dataDir = opt('--ingest');
const runs = Number(opt('--runs') ?? 1);
const cpuProfile = argv.includes('--cpu-profile');
const firstOnly = argv.includes('--first-only');
const port = 4177;
const args = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const walk = (d) =>
  readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]));
const server = spawn('npx', ['vite', 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], {
  stdio: 'ignore',
  detached: true,
});
const samePage = Number(opt('--same-page') ?? 0);
/** In the page: every row and field store is in the query index and the snapshot covers every row. */
const loadedEverything = () => {
  const s = window.keytrail?.app?.index;
  return (
    s && !s.loading && s.fieldsLoaded >= s.fieldsTotal && (s.snapshotRows === undefined || s.snapshotRows >= s.rows)
  );
};
const launch = (opts = {}) =>
  chromium.launchPersistentContext(profileDir, { executablePath: '/usr/bin/chromium', args, ...opts });

try {
  await new Promise((r) => setTimeout(r, 3000));
  if (dataDir) {
    const files = walk(dataDir)
      .filter((f) => f.endsWith('.json.gz'))
      .sort();
    const context = await launch();
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForSelector('[data-testid=ingest-status]');
    const t0 = Date.now();
    await page.setInputFiles('[data-testid=file-input]', files);
    await page.waitForSelector('[data-testid=ingest-status][data-state=done]', {
      timeout: 3_600_000,
      state: 'attached',
    });
    console.log(`ingested ${files.length} files in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await page.waitForFunction(loadedEverything, null, { timeout: 1_800_000, polling: 200 });
    console.log(`field stores loaded and snapshot written ${((Date.now() - t0) / 1000).toFixed(1)} s after the drop`);
    await context.close();
  }
  for (let run = 0; run < runs; run++) {
    // a build cached by an earlier run's service worker would be what runs
    rmSync(join(profileDir, 'Default', 'Service Worker'), { recursive: true, force: true });
    const context = await launch({ serviceWorkers: 'block' });
    const page = context.pages()[0] ?? (await context.newPage());
    const prof = cpuProfile ? await profileWorkers(context, page, { intervalUs: 1000 }) : null;
    const before = chromiumThreads();
    await page.goto(`http://127.0.0.1:${port}/`);
    await measure(page, prof, before);
    for (let k = 0; k < samePage; k++) {
      // as in the bench: the page has every field store loaded when it reloads (its memory is freed meanwhile)
      await page.waitForFunction(loadedEverything, null, { timeout: 1_800_000, polling: 200 });
      const again = chromiumThreads();
      await page.reload();
      console.log('same page, reloaded:');
      await measure(page, null, again);
    }
    await context.close();
  }
} finally {
  try {
    process.kill(-server.pid);
  } catch {
    /* already gone */
  }
}

/** Times one page load from navigation start to its first answers; prints a JSON line and per-thread usage. */
async function measure(page, prof, before) {
  await page.waitForFunction(() => !!window.keytrail?.query, null, { timeout: 120_000 });
  const r = await page.evaluate(async (firstOnly) => {
    const q = window.keytrail.query;
    await q.run({ q: 'eventName:Decrypt' });
    const first = performance.now();
    if (!firstOnly) await q.run({ q: '1234abcd' });
    const freeText = performance.now();
    if (!firstOnly) await q.run({ q: 'ABCD1234' });
    const second = performance.now() - freeText;
    const nav = performance.getEntriesByType('navigation')[0];
    const worker = performance.getEntriesByType('resource').find((e) => /\/worker-[^/]*\.js$/.test(e.name));
    const s = await q.loadStats();
    const at = (epochMs) => (epochMs ? Math.round(epochMs - performance.timeOrigin) : null);
    return {
      workerStart: at(s.contextStartAt),
      storeOpen: at(s.storeOpenAt),
      loadStart: at(s.loadStartAt),
      coreRead: at(s.snapshotCoreReadAt),
      core: at(s.snapshotCoreAt) / 1000,
      first: Math.round(first) / 1000,
      freeText: Math.round(freeText) / 1000,
      secondFreeTextMs: Math.round(second),
      fieldsReadMs: Math.round(s.fieldsReadMs),
      fieldsAddMs: Math.round(s.fieldsAddMs),
      snapshotReadMs: Math.round(s.snapshotReadMs),
      dcl: Math.round(nav?.domContentLoadedEventEnd ?? NaN),
      workerFetch: worker ? Math.round(worker.startTime) : null,
    };
  }, firstOnly);
  console.log(JSON.stringify(r));
  printThreadUsage(threadUsageSince(before));
  if (prof) {
    const query = (await prof.stop()).find((w) => /query/.test(w.name));
    if (query) {
      mkdirSync('profiles', { recursive: true });
      writeFileSync('profiles/reload.cpuprofile', JSON.stringify(query.profile));
      printSelfTimes('query worker (profiles/reload.cpuprofile)', query.profile, 15);
      for (const line of timeline(query.profile)) console.log(line);
    }
  }
}
