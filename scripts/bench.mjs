#!/usr/bin/env node
/**
 * Ingest benchmark: loads a generated CloudTrail data set into the built app in headless Chromium and
 * measures it.
 *
 *   npm run bench                                   (1,000,000 events in 100 files)
 *   node scripts/bench.mjs --events 20000 --files 10 [--skip-build] [--no-jq]
 *   env: BENCH_EVENTS, BENCH_FILES, BENCH_SKIP_BUILD=1, BENCH_NO_JQ=1, BENCH_PORT (default 4174),
 *        BENCH_INGEST_TIMEOUT_MS (default 600000), BENCH_DATA_DIR (default bench-data/; e.g. a second folder
 *        keeps a 5M data set beside the 1M one, each generated once), BENCH_CHROMIUM_ARGS (extra Chromium
 *        switches, space-separated, for diagnosis only)
 *
 * Progress goes to stderr; the LAST stdout line is one JSON object:
 *   {"bench":"ingest","events","files","compressedMB","uncompressedMB","ingestSeconds","eventsPerSecond",
 *    "mbPerSecond","timeToCountSeconds","peakPageHeapMB","peakWorkersHeapMB","peakJsHeapMB",
 *    "peakChromiumRssMB","peakChromiumPssMB","peakChromiumRssAllMB","peakChromiumRssByStepMB","maxLongTaskMs",
 *    "longTasksOver200ms","ingestPhasesMs","phaseMicrosPerEvent","storedMB","storedBytesPerEvent",
 *    "reloadToFirstQuerySeconds","reloadToFreeTextSeconds","reloadLoadMs","jqSeconds","jqRatio", ...}
 *
 * Definitions (all "MB" fields are MiB, 2^20 bytes; uncompressedMB is the JSON as written, before gzip)
 *   t0  just before page.setInputFiles (the files are read by Chromium straight from local disk), once the
 *       service worker is active (its first-visit precache done)
 *   t1  `[data-testid=ingest-status]` has data-state="done"          -> ingestSeconds = (t1 - t0) / 1000
 *   t2  first poll (every 100 ms from t0) where `[data-testid=event-count]` data-value == events
 *                                                                      -> timeToCountSeconds = (t2 - t0) / 1000
 *   heap   sampled every 250 ms over CDP: page = Performance.getMetrics JSHeapUsedSize; workers =
 *          Runtime.getHeapUsage usedSize of every dedicated worker (auto-attached); peakJsHeapMB is the peak of
 *          page + workers at one sample (a busy thread answers late, so values can be slightly stale).
 *   rss    sampled every 500 ms (PSS, from /proc/<pid>/smaps_rollup, every 5 s): sum of RSS over this process's
 *          descendant processes whose command line mentions chromium, read from /proc. RSS double-counts shared pages.
 *          peakChromiumRssMB / peakChromiumPssMB: peaks from t0 to the end of the ingest (t1 or t2, the later);
 *          peakChromiumRssAllMB: peak RSS over the whole run (ingest, queries, analyses and the reload);
 *          peakChromiumRssByStepMB: the peak RSS of each step of the run: {ingest, fields (the field stores
 *          loading after the ingest, the index snapshot, the storage estimate), queries (queries, facets,
 *          histogram), analyses, reload (from page.reload() to the free-text answer: the previous page's memory
 *          is released meanwhile)}.
 *   ingestPhasesMs  each ingest worker's cumulative ms per phase (codec/phases.ts), one object per worker;
 *          phaseMicrosPerEvent: per phase, the sum over the workers divided by `events`, in µs per event (CPU
 *          time of the workers, not wall clock: phases of two workers overlap).
 *   stored  after the ingest and the index snapshot (query/snapshot.ts): `usage` of the storage estimate of the
 *          Storage Bucket `keytrail` (store/db.ts) when the browser has Storage Buckets, else
 *          navigator.storage.estimate(); storedMB = usage in MiB, storedBytesPerEvent = usage / events. The
 *          estimate counts IndexedDB files on disk (the delivered gzip bytes, columns, field stores, hashes,
 *          the index snapshot) and may lag behind the last writes.
 *   reload  page.reload(), then in the page: the first answer of `eventName:Decrypt` (reloadToFirstQuerySeconds,
 *          from navigation start) and then of the free text `1234abcd` (reloadToFreeTextSeconds);
 *          reloadToCoreSeconds: from navigation start until the query worker had restored the snapshot's core
 *          (every row counted, time order; the page shows its views from then on);
 *          reloadLoadMs: the query worker's own account of that load (QueryService.loadStats: ms reading
 *          the snapshot, segments and field stores from IndexedDB, and ms adding them to the index);
 *          reloadTimelineMs: ms from navigation start to DOMContentLoaded, the query worker's start, its script's
 *          request, the store open in it, the start of its load, the snapshot's core read and restored, and the first answer.
 *   long tasks  PerformanceObserver('longtask') on the page's main thread, installed before the app loads.
 *   jq     `zcat FILES | jq -c '.Records[] | select(.eventSource=="kms.amazonaws.com")' > /dev/null`, run after
 *          the browser has closed (when jq is installed); jqRatio = jqSeconds / ingestSeconds.
 *
 * Extending: push an async function onto MEASUREMENTS (below). Each gets a context after the ingest has
 * finished and the count was verified ({ page, events, result, log, timeIt }) and adds fields to `result`.
 * `queryTimings` is the hook for query benchmarks.
 */
import { chromium } from '@playwright/test';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './gen-bench-data.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const log = (m) => process.stderr.write(`[bench] ${m}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MB = 1024 * 1024;
const round = (x, d = 2) => (x == null || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d);

// ---------------------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------------------

function parseArgs(argv) {
  const o = {
    events: Number(process.env.BENCH_EVENTS ?? 1_000_000),
    files: Number(process.env.BENCH_FILES ?? 100),
    skipBuild: process.env.BENCH_SKIP_BUILD === '1',
    jq: process.env.BENCH_NO_JQ !== '1',
    port: Number(process.env.BENCH_PORT ?? 4174),
    ingestTimeoutMs: Number(process.env.BENCH_INGEST_TIMEOUT_MS ?? 10 * 60_000),
    dataDir: process.env.BENCH_DATA_DIR || undefined,
    countGraceMs: 60_000,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--events') o.events = Number(val());
    else if (a === '--files') o.files = Number(val());
    else if (a === '--skip-build') o.skipBuild = true;
    else if (a === '--no-jq') o.jq = false;
    else if (a === '--port') o.port = Number(val());
    else if (a === '--help' || a === '-h') {
      process.stderr.write(
        'usage: node scripts/bench.mjs [--events N] [--files N] [--skip-build] [--no-jq] [--port N]\n',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(o.events) || o.events < 1) throw new Error(`--events must be a positive integer`);
  if (!Number.isInteger(o.files) || o.files < 1 || o.files > o.events)
    throw new Error(`--files must be an integer in [1, events]`);
  return o;
}

// ---------------------------------------------------------------------------------------------------------
// Post-ingest measurements (hook). Each: async (ctx) => void, adds fields to ctx.result.
// ---------------------------------------------------------------------------------------------------------

/** Times an async function in ms (wall clock, from Node). */
async function timeIt(fn) {
  const s = performance.now();
  const value = await fn();
  return { ms: performance.now() - s, value };
}

const MEASUREMENTS = [
  // Long tasks on the page's main thread during load + ingest.
  async ({ page, result }) => {
    const tasks = await page.evaluate(() => window.__longTasks ?? []);
    result.maxLongTaskMs = round(tasks.length ? Math.max(...tasks) : 0, 0);
    result.longTasksOver200ms = tasks.filter((d) => d > 200).length;
    result.longTasks = tasks.length;
    result.longTaskTotalMs = round(
      tasks.reduce((s, d) => s + d, 0),
      0,
    );
  },
  // Ingest phase totals per worker (ms), from the ingest workers' own counters.
  async ({ page, result }) => {
    result.ingestPhasesMs = await page.evaluate(() => window.keytrail?.app?.lastPhases ?? null);
    if (Array.isArray(result.ingestPhasesMs)) {
      const sum = {};
      for (const w of result.ingestPhasesMs) for (const [k, ms] of Object.entries(w)) sum[k] = (sum[k] ?? 0) + ms;
      result.phaseMicrosPerEvent = Object.fromEntries(
        Object.entries(sum).map(([k, ms]) => [k, round((ms * 1000) / result.events, 2)]),
      );
    }
  },
  // After an ingest the field stores (free text, any-path queries) load in the background: time until done.
  async ({ page, result }) => {
    const { ms } = await timeIt(() =>
      page.waitForFunction(
        () => {
          const s = window.keytrail?.app?.index;
          return s && !s.loading && s.fieldsLoaded >= s.fieldsTotal;
        },
        null,
        { timeout: 600_000, polling: 50 },
      ),
    );
    result.fullTextReadyAfterIngestSeconds = round(ms / 1000, 2);
  },
  // Stored bytes per event, once the index snapshot (written when the index is idle) covers every row.
  async ({ page, result, log }) => {
    const snap = await timeIt(() =>
      page
        .waitForFunction(
          () => {
            const s = window.keytrail?.app?.index;
            return !s || s.snapshotRows === undefined || s.snapshotRows >= s.rows;
          },
          null,
          { timeout: 300_000, polling: 100 },
        )
        .catch(() => log('the index snapshot did not cover every row within 300 s')),
    );
    result.snapshotWrittenAfterIngestSeconds = round(snap.ms / 1000, 2);
    const usage = await page.evaluate(async () => {
      const buckets = navigator.storageBuckets;
      if (buckets && (await buckets.keys()).includes('keytrail'))
        return (await (await buckets.open('keytrail')).estimate()).usage;
      return (await navigator.storage.estimate()).usage;
    });
    result.storedMB = round(usage / MB, 1);
    result.storedBytesPerEvent = round(usage / result.events, 0);
    log(`stored: ${result.storedMB} MiB, ${result.storedBytesPerEvent} bytes/event`);
  },
  // Query timings at this size, through the query worker the page uses (window.keytrail.query), p50/p95 in
  // ms over repeated runs; facets and histogram over the unfiltered result.
  async function queryTimings({ page, result, log, step }) {
    step('fields');
    const QUERIES = {
      fieldEquality: 'eventName:Decrypt',
      fieldEqualityPath: 'userIdentity.arn:"arn:aws:sts::111122223333:assumed-role/Admin/session-1"',
      wildcard: 'eventName:Generate*',
      regex: 'userAgent:/aws-cli\\/2\\..*/',
      freeText: '1234abcd',
      boolean: 'eventSource:kms.amazonaws.com -errorCode:* (awsRegion:us-east-1 OR awsRegion:eu-west-1)',
    };
    const REPEAT = Number(process.env.BENCH_QUERY_REPEAT ?? 9);
    const stats = (xs) => {
      const a = [...xs].sort((x, y) => x - y);
      const q = (p) => a[Math.min(a.length - 1, Math.floor(p * (a.length - 1) + 0.5))];
      return { p50: round(q(0.5), 1), p95: round(q(0.95), 1) };
    };
    result.queryMs = {};
    for (const [name, q] of Object.entries(QUERIES)) {
      const times = await page.evaluate(
        async ({ q, n }) => {
          const out = [];
          for (let i = 0; i < n; i++) {
            const t0 = performance.now();
            const r = await window.keytrail.query.run({ q });
            out.push(performance.now() - t0);
            if (!r.ok) throw new Error(r.message);
          }
          return out;
        },
        { q, n: REPEAT },
      );
      result.queryMs[name] = stats(times);
      log(`query ${name}: ${JSON.stringify(result.queryMs[name])}`);
    }
    await page.evaluate(() => window.keytrail.query.run({ q: '' }));
    for (const [name, fn] of [
      ['facets', 'facets'],
      ['histogram', 'histogram'],
    ]) {
      const times = await page.evaluate(
        async ({ fn, n }) => {
          const out = [];
          for (let i = 0; i < n; i++) {
            const t0 = performance.now();
            await window.keytrail.query[fn]();
            out.push(performance.now() - t0);
          }
          return out;
        },
        { fn, n: REPEAT },
      );
      result.queryMs[name] = stats(times);
      log(`${name}: ${JSON.stringify(result.queryMs[name])}`);
    }
    step('queries');
    // Analyses: the keys view (first call runs the key/CloudHSM analysis), a key's page, findings.
    const analyses = await page.evaluate(async () => {
      const q = window.keytrail.query;
      let t0 = performance.now();
      const keys = await q.keys();
      const keysMs = performance.now() - t0;
      const busiest = [...keys].sort(
        (a, b) => b.cryptoCalls + b.managementCalls - (a.cryptoCalls + a.managementCalls),
      )[0];
      t0 = performance.now();
      if (busiest) await q.key(busiest.arn);
      const keyPageMs = performance.now() - t0;
      const time = async (fn) => {
        const s = performance.now();
        await fn();
        return performance.now() - s;
      };
      const crossAccountMs = await time(() => q.crossAccount());
      const coverageMs = await time(() => q.coverage());
      const integrityMs = await time(() => q.integrity());
      const findingsMs = await time(() => q.findings());
      const principalsMs = await time(() => q.principals());
      return {
        keys: keys.length,
        keysMs,
        keyPageMs,
        crossAccountMs,
        coverageMs,
        integrityMs,
        findingsMs,
        principalsMs,
        analysisMs: await q.analysisMs(),
      };
    });
    result.analysisMs = {
      keysViewFirst: round(analyses.keysMs, 0),
      keyPage: round(analyses.keyPageMs, 0),
      kmsAnalysis: round(analyses.analysisMs, 0),
      crossAccount: round(analyses.crossAccountMs, 0),
      coverage: round(analyses.coverageMs, 0),
      integrity: round(analyses.integrityMs, 0),
      allFindingsAfter: round(analyses.findingsMs, 0),
      principals: round(analyses.principalsMs, 0),
      keys: analyses.keys,
      allAnalyses: round(
        analyses.keysMs + analyses.crossAccountMs + analyses.coverageMs + analyses.integrityMs + analyses.findingsMs,
        0,
      ),
    };
    log(`analyses: ${JSON.stringify(result.analysisMs)}`);
    step('analyses');
    // A reloaded page with every event stored: time from navigation start to the first query answer.
    await page.reload();
    await page.waitForFunction(() => !!window.keytrail?.query, null, { timeout: 60_000 });
    const ready = await page.evaluate(async () => {
      const r = await window.keytrail.query.run({ q: 'eventName:Decrypt' });
      const colsMs = performance.now();
      const r2 = await window.keytrail.query.run({ q: '1234abcd' });
      const stats = await window.keytrail.query.loadStats();
      const nav = performance.getEntriesByType('navigation')[0];
      const worker = performance.getEntriesByType('resource').find((e) => /\/worker-[^/]*\.js$/.test(e.name));
      const at = (epochMs) => (epochMs ? Math.round(epochMs - performance.timeOrigin) : null);
      return {
        timeline: {
          domContentLoaded: Math.round(nav?.domContentLoadedEventEnd ?? NaN),
          workerStart: at(stats.contextStartAt),
          workerFetch: worker ? Math.round(worker.startTime) : null,
          storeOpen: at(stats.storeOpenAt),
          loadStart: at(stats.loadStartAt),
          coreRead: at(stats.snapshotCoreReadAt),
          core: at(stats.snapshotCoreAt),
          firstAnswer: Math.round(colsMs),
        },
        firstAnswerMs: colsMs,
        firstFreeTextMs: performance.now(),
        coreMs: stats.snapshotCoreAt ? stats.snapshotCoreAt - performance.timeOrigin : null,
        total: r.ok ? r.total : -1,
        ok2: r2.ok,
      };
    });
    result.reloadToCoreSeconds = round(ready.coreMs / 1000, 2);
    result.reloadToFirstQuerySeconds = round(ready.firstAnswerMs / 1000, 2);
    result.reloadToFreeTextSeconds = round(ready.firstFreeTextMs / 1000, 2);
    result.reloadTimelineMs = ready.timeline;
    result.reloadLoadMs = await page.evaluate(() => window.keytrail.query.loadStats?.() ?? null).catch(() => null);
    log(
      `reload → first query answer ${ready.firstAnswerMs.toFixed(0)} ms, → first free-text answer ${ready.firstFreeTextMs.toFixed(0)} ms`,
    );
    step('reload');
  },
];

// ---------------------------------------------------------------------------------------------------------
// Processes
// ---------------------------------------------------------------------------------------------------------

const cleanups = [];
async function cleanup() {
  while (cleanups.length) {
    const fn = cleanups.pop();
    try {
      await fn();
    } catch (e) {
      log(`cleanup: ${e.message}`);
    }
  }
}

function build() {
  log('building (npx vite build) ...');
  const r = spawnSync('npx', ['vite', 'build'], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  if (r.status !== 0) throw new Error(`vite build failed (exit ${r.status ?? r.signal})`);
}

async function startPreview(port) {
  log(`starting vite preview on 127.0.0.1:${port} ...`);
  // Own process group, so the whole npx -> node tree can be stopped together.
  const child = spawn('npx', ['vite', 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  let exited = null;
  child.on('exit', (code, sig) => (exited = code ?? sig));
  const stop = async () => {
    if (exited !== null) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return;
    }
    for (let i = 0; i < 30 && exited === null; i++) await sleep(100);
    if (exited === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // the process group is already gone
      }
    }
  };
  cleanups.push(stop);
  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited !== null) throw new Error(`vite preview exited (${exited}):\n${output.trim()}`);
    try {
      const res = await fetch(url);
      if (res.ok) break;
    } catch {
      // not listening yet: try again until the deadline
    }
    if (Date.now() > deadline) throw new Error(`vite preview did not answer on ${url} within 30 s:\n${output.trim()}`);
    await sleep(200);
  }
  return url;
}

/** This process's descendants (pids) whose command line mentions chromium, read from /proc (no `ps`). */
function chromiumPids() {
  const parent = new Map();
  const args = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // the command name may hold spaces and parentheses: the fields after the last ')' are fixed
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(+name, +rest[1]);
      args.set(+name, readFileSync(`/proc/${name}/cmdline`, 'utf8'));
    } catch {
      /* the process ended meanwhile */
    }
  }
  const out = [];
  for (const pid of parent.keys()) {
    if (!/chrom/i.test(args.get(pid) ?? '')) continue;
    for (let p = parent.get(pid), hops = 0; p && hops < 64; p = parent.get(p), hops++)
      if (p === process.pid) {
        out.push(pid);
        break;
      }
  }
  return out;
}

/**
 * Sum of RSS (from /proc/<pid>/statm, cheap) and, with `withPss`, PSS (from /proc/<pid>/smaps_rollup, which
 * walks every page table of the process and is not cheap) in MB over `pids`.
 */
function chromiumMemory(pids, withPss) {
  const page = 4096;
  let rss = 0;
  let pss = 0;
  let pssOk = withPss;
  let n = 0;
  for (const pid of pids) {
    try {
      rss += +readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1] * page;
      n++;
    } catch {
      continue;
    }
    if (!withPss) continue;
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      if (m) pss += +m[1] * 1024;
      else pssOk = false;
    } catch {
      pssOk = false;
    }
  }
  return n ? { rssMB: rss / MB, pssMB: pssOk ? pss / MB : null, processes: n } : null;
}

// ---------------------------------------------------------------------------------------------------------
// Heap sampling over CDP (page via Performance.getMetrics, dedicated workers via auto-attach)
// ---------------------------------------------------------------------------------------------------------

async function startHeapSampler(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const state = {
    page: 0,
    workers: new Map(),
    peakPage: 0,
    peakWorkers: 0,
    peakTotal: 0,
    workerSupport: false,
    workerNames: new Set(),
  };
  // Non-flattened auto-attach: our own sessions to the page's dedicated workers, driven through
  // Target.sendMessageToTarget (Playwright's CDPSession does not expose flattened child sessions).
  let nextId = 1;
  const pending = new Map(); // `${sessionId}:${id}` -> resolve
  const workerSessions = new Map(); // sessionId -> { busy, title }
  cdp.on('Target.attachedToTarget', (ev) => {
    if (ev.targetInfo.type !== 'worker') return;
    workerSessions.set(ev.sessionId, { busy: false, title: ev.targetInfo.title || ev.targetInfo.url });
    state.workerNames.add(ev.targetInfo.title || ev.targetInfo.url);
    if (ev.waitingForDebugger) sendToWorker(ev.sessionId, 'Runtime.runIfWaitingForDebugger').catch(() => {});
  });
  cdp.on('Target.detachedFromTarget', (ev) => {
    workerSessions.delete(ev.sessionId);
    state.workers.delete(ev.sessionId);
  });
  cdp.on('Target.receivedMessageFromTarget', (ev) => {
    let msg;
    try {
      msg = JSON.parse(ev.message);
    } catch {
      return;
    }
    if (msg.id === undefined) return;
    const key = `${ev.sessionId}:${msg.id}`;
    const res = pending.get(key);
    if (res) {
      pending.delete(key);
      res(msg);
    }
  });
  function sendToWorker(sessionId, method, params = {}) {
    const id = nextId++;
    return new Promise((res, rej) => {
      pending.set(`${sessionId}:${id}`, res);
      cdp
        .send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) })
        .catch((e) => {
          pending.delete(`${sessionId}:${id}`);
          rej(e);
        });
    });
  }
  try {
    await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
    state.workerSupport = true;
  } catch (e) {
    log(`worker heap sampling unavailable (${e.message}); reporting page heap only`);
  }

  let pageBusy = false;
  let stopped = false;
  const record = () => {
    let w = 0;
    for (const v of state.workers.values()) w += v;
    state.peakWorkers = Math.max(state.peakWorkers, w);
    state.peakTotal = Math.max(state.peakTotal, state.page + w);
  };
  const tick = () => {
    if (stopped) return;
    if (!pageBusy) {
      pageBusy = true;
      cdp
        .send('Performance.getMetrics')
        .then(({ metrics }) => {
          const m = metrics.find((x) => x.name === 'JSHeapUsedSize');
          if (m) {
            state.page = m.value;
            state.peakPage = Math.max(state.peakPage, m.value);
            record();
          }
        })
        .catch(() => {})
        .finally(() => (pageBusy = false));
    }
    for (const [sid, ws] of workerSessions) {
      if (ws.busy) continue;
      ws.busy = true;
      sendToWorker(sid, 'Runtime.getHeapUsage')
        .then((msg) => {
          if (msg.result && workerSessions.has(sid)) {
            state.workers.set(sid, msg.result.usedSize);
            record();
          }
        })
        .catch(() => {})
        .finally(() => (ws.busy = false));
    }
  };
  const timer = setInterval(tick, 250);
  tick();
  return {
    state,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await cdp.detach().catch(() => {});
    },
  };
}

/**
 * Samples Chromium's memory: RSS every 500 ms, PSS every 5 s (and at stop). The process list is read again
 * every 5 s. Cheap on purpose: the earlier sampler spawned `ps` and walked every page table twice a second,
 * which took about 15% of the machine's CPU during an ingest (perf, 2026-12-01).
 */
function startRssSampler() {
  const s = { peakRss: 0, peakPss: null, maxProcesses: 0, stepPeakRss: 0, steps: {} };
  let pids = [];
  let ticks = 0;
  const tick = (force = false) => {
    const full = force || ticks++ % 10 === 0;
    if (full) pids = chromiumPids();
    const m = chromiumMemory(pids, full);
    if (!m) return;
    s.peakRss = Math.max(s.peakRss, m.rssMB);
    s.stepPeakRss = Math.max(s.stepPeakRss, m.rssMB);
    if (m.pssMB != null) s.peakPss = Math.max(s.peakPss ?? 0, m.pssMB);
    s.maxProcesses = Math.max(s.maxProcesses, m.processes);
  };
  const timer = setInterval(tick, 500);
  tick(true);
  /** Ends a step of the run: its peak RSS (MB) is kept under `name`, and the next step's starts now. */
  const step = (name) => {
    tick(true);
    s.steps[name] = Math.round(s.stepPeakRss);
    s.stepPeakRss = 0;
    tick(true);
  };
  return { state: s, step, stop: () => (clearInterval(timer), tick(true)) };
}

// ---------------------------------------------------------------------------------------------------------
// jq baseline
// ---------------------------------------------------------------------------------------------------------

function runJq(dir, files) {
  if (spawnSync('bash', ['-c', 'command -v jq'], { stdio: 'ignore' }).status !== 0) {
    log('jq not installed: skipping the jq baseline');
    return null;
  }
  const list = join(dir, '.jq-files');
  writeFileSync(list, files.join('\0'));
  log(`jq baseline over ${files.length} files ...`);
  const s = performance.now();
  const r = spawnSync(
    'bash',
    [
      '-c',
      `set -o pipefail; xargs -0 zcat < "$1" | jq -c '.Records[] | select(.eventSource=="kms.amazonaws.com")' > /dev/null`,
      'jq-bench',
      list,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' },
  );
  const sec = (performance.now() - s) / 1000;
  if (r.status !== 0) throw new Error(`jq baseline failed (exit ${r.status}): ${r.stderr}`);
  log(`jq: ${sec.toFixed(2)} s`);
  return sec;
}

// ---------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const data = await generate({ events: opts.events, files: opts.files, dir: opts.dataDir, log });
  if (!opts.skipBuild) build();
  else log('skipping build (--skip-build)');
  const url = await startPreview(opts.port);

  log('launching chromium ...');
  // A persistent profile in a temporary folder (removed at the end): the store lives on disk as for a user.
  // (A Playwright `browser.newContext()` is off the record: IndexedDB is then held in memory, counts toward
  // Chromium's RSS, and its quota, a share of RAM, ran out at about 3M events.)
  const profileDir = mkdtempSync(join(tmpdir(), 'keytrail-bench-'));
  cleanups.push(() => rmSync(profileDir, { recursive: true, force: true }));
  const context = await chromium.launchPersistentContext(profileDir, {
    viewport: { width: 1400, height: 900 },
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
      // diagnosis only (for example `--js-flags=--max-semi-space-size=64`): the reported figures are without
      ...(process.env.BENCH_CHROMIUM_ARGS ?? '').split(' ').filter(Boolean),
    ],
  });
  cleanups.push(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') {
      const line = `console.${m.type()}: ${m.text()}`;
      pageErrors.push(line);
      log(`page ${line}`);
    }
  });
  page.on('pageerror', (e) => {
    pageErrors.push(`pageerror: ${e.message}`);
    log(`page error: ${e.stack ?? e.message}`);
  });
  let crashed = false;
  page.on('crash', () => {
    crashed = true;
    log('PAGE CRASHED');
  });
  await page.addInitScript(() => {
    window.__longTasks = [];
    try {
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.__longTasks.push(e.duration);
      }).observe({ type: 'longtask', buffered: true });
    } catch {
      /* longtask unsupported */
    }
  });

  await page.goto(url);
  await page.waitForSelector('[data-testid=ingest-status]');
  // A first visit installs the service worker, which precaches every file of the site; measured from t0 that
  // competed with the ingest for the CPU (about 8% of it over the first 20 s, perf, 2026-12-01). A user opens
  // the page before dropping files, so the ingest starts once the worker is active (or after 60 s).
  const swMs = await page.evaluate(async () => {
    const t = performance.now();
    if (!('serviceWorker' in navigator)) return -1;
    const ready = navigator.serviceWorker.ready.then(() => performance.now() - t);
    return Promise.race([ready, new Promise((r) => setTimeout(() => r(-1), 60_000))]);
  });
  log(swMs >= 0 ? `service worker active after ${(swMs / 1000).toFixed(1)} s` : 'no active service worker (went on)');
  const status = () =>
    page
      .evaluate(() => ({
        state: document.querySelector('[data-testid=ingest-status]')?.getAttribute('data-state') ?? null,
        count: document.querySelector('[data-testid=event-count]')?.getAttribute('data-value') ?? null,
        progress: document.querySelector('[data-testid=progress-text]')?.textContent?.trim() ?? null,
        message: document.querySelector('[data-testid=message]')?.textContent?.trim() ?? null,
      }))
      .catch((e) => ({ error: e.message }));

  const heap = await startHeapSampler(page);
  cleanups.push(() => heap.stop());
  const rss = startRssSampler();
  cleanups.push(() => rss.stop());

  const result = { bench: 'ingest', events: opts.events, files: data.files.length };
  const want = String(opts.events);
  let last = { state: null, count: null };
  let t2 = null;
  let pollDone = false;

  log(`ingesting ${data.files.length} files (${(data.compressedBytes / MB).toFixed(1)} MiB compressed) ...`);
  const t0 = performance.now();
  // Count poller: every 100 ms from t0, records the first time the count shows N.
  const poller = (async () => {
    while (!pollDone) {
      const s = await status();
      if (!s.error) last = s;
      if (s.count === want && t2 === null) {
        t2 = performance.now();
        return;
      }
      await sleep(100);
    }
  })();
  // Progress heartbeat on stderr.
  const heartbeat = setInterval(() => {
    const w = [...heap.state.workers.values()].reduce((a, b) => a + b, 0);
    log(
      `  ${((performance.now() - t0) / 1000).toFixed(0)} s: state=${last.state} count=${last.count} ${last.progress ?? ''} | heap page ${(heap.state.page / MB).toFixed(0)} MiB, workers ${(w / MB).toFixed(0)} MiB | chromium rss peak ${rss.state.peakRss.toFixed(0)} MiB`,
    );
  }, 10_000);
  cleanups.push(() => clearInterval(heartbeat));

  const fail = async (msg) => {
    pollDone = true;
    const s = await status();
    const detail = `${msg}\n  last seen: ingest-status=${s.state ?? last.state} event-count=${s.count ?? last.count} (expected ${want})\n  progress: ${s.progress ?? last.progress ?? '-'}\n  message: ${s.message ?? last.message ?? '-'}`;
    await page.screenshot({ path: '/tmp/bench-fail.png', fullPage: true }).then(
      () => log('screenshot: /tmp/bench-fail.png'),
      () => {},
    );
    throw new Error(detail);
  };

  await page.setInputFiles('[data-testid=file-input]', data.files);
  try {
    await page.waitForSelector('[data-testid=ingest-status][data-state=done]', {
      timeout: opts.ingestTimeoutMs,
      state: 'attached',
    });
  } catch (e) {
    await fail(`ingest did not finish within ${opts.ingestTimeoutMs / 1000} s (${e.message.split('\n')[0]})`);
  }
  const t1 = performance.now();
  log(`ingest-status done after ${((t1 - t0) / 1000).toFixed(2)} s`);
  if (t2 === null) {
    const deadline = performance.now() + opts.countGraceMs;
    while (t2 === null && performance.now() < deadline) await sleep(100);
    if (t2 === null)
      await fail(`event-count did not reach ${want} within ${opts.countGraceMs / 1000} s after ingest finished`);
  }
  pollDone = true;
  await poller;
  clearInterval(heartbeat);
  await heap.stop();
  // RSS keeps being sampled through the measurements (peakChromiumRssAllMB); these are the ingest's peaks
  const ingestRss = { ...rss.state };
  rss.step('ingest');

  const ingestSeconds = (t1 - t0) / 1000;
  const uncompressedMB = data.uncompressedBytes / MB;
  Object.assign(result, {
    compressedMB: round(data.compressedBytes / MB, 1),
    uncompressedMB: round(uncompressedMB, 1),
    ingestSeconds: round(ingestSeconds, 2),
    eventsPerSecond: Math.round(opts.events / ingestSeconds),
    mbPerSecond: round(uncompressedMB / ingestSeconds, 1),
    timeToCountSeconds: round((t2 - t0) / 1000, 2),
    peakPageHeapMB: round(heap.state.peakPage / MB, 1),
    peakWorkersHeapMB: heap.state.workerSupport ? round(heap.state.peakWorkers / MB, 1) : null,
    peakJsHeapMB: heap.state.workerSupport ? round(heap.state.peakTotal / MB, 1) : null,
    workersSeen: heap.state.workerNames.size,
    peakChromiumRssMB: round(ingestRss.peakRss, 0),
    peakChromiumPssMB: round(ingestRss.peakPss, 0),
  });

  for (const m of MEASUREMENTS) await m({ page, events: opts.events, result, log, timeIt, step: rss.step });
  rss.stop();
  result.peakChromiumRssAllMB = round(rss.state.peakRss, 0);
  result.peakChromiumRssByStepMB = rss.state.steps;
  result.pageCrashed = crashed;
  result.pageErrors = pageErrors.length;

  await cleanup(); // browser + preview closed (profile removed) before the jq run, so jq gets the whole machine
  if (opts.jq) {
    const jq = runJq(data.dir, data.files);
    if (jq != null) {
      result.jqSeconds = round(jq, 2);
      result.jqRatio = round(jq / ingestSeconds, 2);
    }
  }
  return result;
}

let exiting = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    if (exiting) return;
    exiting = true;
    log(`${sig}: cleaning up`);
    await cleanup();
    process.exit(130);
  });
}

main().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  },
  async (e) => {
    log(`FAILED: ${e.message}`);
    await cleanup();
    process.exit(1);
  },
);
