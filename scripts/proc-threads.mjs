/**
 * CPU time and minor page faults of Chromium's threads, read from Linux's `/proc` (a diagnosis aid for
 * scripts/profile-ingest.mjs and scripts/profile-reload.mjs; Linux only, empty elsewhere).
 *
 *   import { chromiumThreads, threadUsageSince, printThreadUsage } from './proc-threads.mjs';
 *   const before = chromiumThreads(); ...; printThreadUsage(threadUsageSince(before));
 *
 * On the 2-core VMs KeyTrail is benchmarked on, a fresh memory page costs ~12 µs (2.7-3.7 ms per MB written into
 * new memory, against 0.08 ms per MB into memory already touched: measured in a Chromium worker, 2026-12-03), so
 * the fault count of a thread is often the best clue to where its time goes.
 */
import { readdirSync, readFileSync } from 'node:fs';

/**
 * One reading of every thread of every Chromium process: a Map from `pid/tid` to `{ key, cpuS, minflt }`. `key`
 * names the thread by its process type and thread name (`renderer:DedicatedWorker thread` gets its tid appended,
 * each worker being its own thread; other pools are summed under one name). `cpuS`: user + system seconds.
 */
export function chromiumThreads() {
  const out = new Map();
  let pids;
  try {
    pids = readdirSync('/proc').filter((x) => /^\d+$/.test(x));
  } catch {
    return out;
  }
  for (const pid of pids) {
    let cmd;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmd.includes('chromium')) continue;
    const type = (cmd.match(/--type=([a-z-]+)/) ?? [null, 'browser'])[1];
    let tids;
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const name = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
        // fields after "(comm) ": state is [0]; minflt [7]; utime [11], stime [12] (clock ticks, 100 a second)
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        const key = name.startsWith('DedicatedWorker')
          ? `${type}:${name} ${tid}`
          : `${type}:${name.replace(/\d+$/, '')}`;
        out.set(`${pid}/${tid}`, { key, cpuS: (Number(f[11]) + Number(f[12])) / 100, minflt: Number(f[7]) });
      } catch {
        /* the thread ended meanwhile */
      }
    }
  }
  return out;
}

/** CPU seconds and minor faults per thread name since `before` (a {@link chromiumThreads} reading), busiest first. */
export function threadUsageSince(before) {
  const agg = new Map();
  for (const [id, v] of chromiumThreads()) {
    const b = before.get(id) ?? { cpuS: 0, minflt: 0 };
    const a = agg.get(v.key) ?? { key: v.key, cpuS: 0, minflt: 0 };
    a.cpuS += v.cpuS - b.cpuS;
    a.minflt += v.minflt - b.minflt;
    agg.set(v.key, a);
  }
  return [...agg.values()].sort((x, y) => y.cpuS - x.cpuS);
}

/** Prints {@link threadUsageSince}'s rows with at least 0.05 CPU-s or 5,000 faults, and the totals. */
export function printThreadUsage(rows, log = console.log) {
  let cpu = 0;
  let faults = 0;
  for (const r of rows) {
    cpu += r.cpuS;
    faults += r.minflt;
    if (r.cpuS >= 0.05 || r.minflt >= 5000)
      log(`  ${r.key.padEnd(40)} ${r.cpuS.toFixed(2).padStart(7)} CPU-s ${String(r.minflt).padStart(9)} faults`);
  }
  log(
    `  ${'all Chromium threads'.padEnd(40)} ${cpu.toFixed(2).padStart(7)} CPU-s ${String(faults).padStart(9)} faults`,
  );
}
