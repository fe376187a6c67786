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
 * Performance panel) and prints each worker's busiest functions (self time). Env: PROFILE_CHROMIUM_ARGS
 * (extra Chromium switches). A diagnosis tool: timings under the profiler are not benchmark figures.
 */
import { chromium } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
  // non-flattened auto-attach: messages to each worker go through Target.sendMessageToTarget
  const cdp = await context.newCDPSession(page);
  let nextId = 1;
  const pending = new Map();
  const workers = new Map();
  const send = (sessionId, method, params = {}) =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(`${sessionId}:${id}`, resolve);
      cdp
        .send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) })
        .catch(() => resolve({}));
    });
  cdp.on('Target.receivedMessageFromTarget', (ev) => {
    const m = JSON.parse(ev.message);
    const key = `${ev.sessionId}:${m.id}`;
    pending.get(key)?.(m);
    pending.delete(key);
  });
  cdp.on('Target.attachedToTarget', async (ev) => {
    if (ev.targetInfo.type !== 'worker') return;
    workers.set(ev.sessionId, ev.targetInfo.title || ev.targetInfo.url);
    await send(ev.sessionId, 'Profiler.enable');
    await send(ev.sessionId, 'Profiler.setSamplingInterval', { interval: 500 });
    await send(ev.sessionId, 'Profiler.start');
    if (ev.waitingForDebugger) await send(ev.sessionId, 'Runtime.runIfWaitingForDebugger');
  });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: true, flatten: false });
  const t0 = Date.now();
  await page.setInputFiles('[data-testid=file-input]', files);
  await page.waitForSelector('[data-testid=ingest-status][data-state=done]', { timeout: 900_000, state: 'attached' });
  console.log(`ingested ${files.length} files in ${((Date.now() - t0) / 1000).toFixed(1)} s (under the profiler)`);
  mkdirSync(outDir, { recursive: true });
  let n = 0;
  for (const [sessionId, name] of workers) {
    const r = await send(sessionId, 'Profiler.stop');
    if (!r.result) continue;
    const profile = r.result.profile;
    const file = join(outDir, `${n++}-${name.replace(/\W+/g, '_').slice(-40)}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    // self time per function
    const byId = new Map(profile.nodes.map((x) => [x.id, x.callFrame]));
    const self = new Map();
    profile.samples.forEach((id, i) => {
      const f = byId.get(id);
      const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}:${f.columnNumber + 1}`;
      self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
    });
    const idle = [...self].filter(([k]) => k.startsWith('(idle)')).reduce((s, [, v]) => s + v, 0);
    const total = [...self.values()].reduce((s, v) => s + v, 0);
    console.log(`\n${file}: busy ${(total - idle).toFixed(0)} of ${total.toFixed(0)} ms`);
    for (const [k, v] of [...self]
      .filter(([k]) => !k.startsWith('(idle)'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12))
      console.log(`  ${v.toFixed(0).padStart(7)} ms  ${k}`);
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
