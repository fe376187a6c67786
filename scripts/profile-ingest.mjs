#!/usr/bin/env node
/**
 * CPU profiles of the app's workers (ingest, writer, query) during one ingest, for finding where the time
 * goes: Chrome DevTools' sampling profiler attached to every dedicated worker over CDP.
 *
 *   npx vite build && node scripts/profile-ingest.mjs DATA_DIR [OUT_DIR]
 *
 * DATA_DIR: a folder of `.json.gz` files (for example `bench-data-200k` from
 * `BENCH_DATA_DIR=bench-data-200k node scripts/bench.mjs --events 200000 --files 20`). Writes one
 * `<n>-<worker name>.cpuprofile` per worker into OUT_DIR (default `profiles/`; open them in Chrome DevTools'
 * Performance panel), prints each worker's busiest functions (self time) and each Chromium thread's CPU time and
 * minor page faults during the ingest (Linux /proc, scripts/proc-threads.mjs). Env: PROFILE_CHROMIUM_ARGS
 * (extra Chromium switches). A diagnosis tool: timings under the profiler are not benchmark figures.
 */
import { chromium } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumThreads, printThreadUsage, threadUsageSince } from './proc-threads.mjs';
import { printSelfTimes, profileWorkers } from './worker-profiler.mjs';

const [dataDir, outDir = 'profiles'] = process.argv.slice(2);
if (!dataDir) {
  console.error('usage: node scripts/profile-ingest.mjs DATA_DIR [OUT_DIR]');
  process.exit(2);
}
const walk = (d) =>
  readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? walk(join(d, n)) : [join(d, n)]));
const files = walk(dataDir)
  .filter((f) => f.endsWith('.json.gz'))
  .sort();
const port = 4176;
const server = spawn('npx', ['vite', 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], {
  stdio: 'ignore',
  detached: true,
});
const profileDir = mkdtempSync(join(tmpdir(), 'keytrail-profile-'));
try {
  await new Promise((r) => setTimeout(r, 3000));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', ...(process.env.PROFILE_CHROMIUM_ARGS ?? '').split(' ').filter(Boolean)],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForSelector('[data-testid=ingest-status]');
  await page.evaluate(() => navigator.serviceWorker?.ready);
  const prof = await profileWorkers(context, page);
  const before = chromiumThreads();
  const t0 = Date.now();
  await page.setInputFiles('[data-testid=file-input]', files);
  await page.waitForSelector('[data-testid=ingest-status][data-state=done]', { timeout: 900_000, state: 'attached' });
  console.log(`ingested ${files.length} files in ${((Date.now() - t0) / 1000).toFixed(1)} s (under the profiler)`);
  console.log('\nCPU and minor page faults per Chromium thread during the ingest (/proc):');
  printThreadUsage(threadUsageSince(before));
  mkdirSync(outDir, { recursive: true });
  let n = 0;
  for (const { name, profile } of await prof.stop()) {
    const file = join(outDir, `${n++}-${name.replace(/\W+/g, '_').slice(-40)}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    printSelfTimes(file, profile);
  }
  await context.close();
} finally {
  rmSync(profileDir, { recursive: true, force: true });
  try {
    process.kill(-server.pid);
  } catch {
    /* already gone */
  }
}
