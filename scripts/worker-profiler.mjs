/**
 * CPU profiles of a page's dedicated workers over the Chrome DevTools Protocol (the sampling profiler attached to
 * every worker as it starts), for the diagnosis scripts (scripts/profile-ingest.mjs, scripts/profile-reload.mjs).
 *
 *   const prof = await profileWorkers(context, page, { intervalUs: 500 });
 *   ... // navigate, ingest, query
 *   for (const { name, profile } of await prof.stop()) printSelfTimes(profile);
 *
 * Attach before the page creates its workers (before `page.goto` for a reload): each worker waits for the
 * debugger at start, so its profile begins with its first line.
 */

/**
 * Starts profiling every dedicated worker the page creates from now on.
 * @param intervalUs sampling interval, µs (default 500)
 * @returns `stop()`: stops every profiler and resolves to `{ name, profile }` per worker (`profile` as
 *   `Profiler.stop` gives it: a `.cpuprofile`'s content; `name` the worker's name or script URL).
 */
export async function profileWorkers(context, page, { intervalUs = 500 } = {}) {
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
    await send(ev.sessionId, 'Profiler.setSamplingInterval', { interval: intervalUs });
    await send(ev.sessionId, 'Profiler.start');
    if (ev.waitingForDebugger) await send(ev.sessionId, 'Runtime.runIfWaitingForDebugger');
  });
  await cdp.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: true, flatten: false });
  return {
    async stop() {
      const out = [];
      for (const [sessionId, name] of workers) {
        const r = await send(sessionId, 'Profiler.stop');
        if (r.result) out.push({ name, profile: r.result.profile });
      }
      return out;
    },
  };
}

/** `name file:line:column` of a profile node's function (the key the summaries below group by). */
function frameKey(f) {
  return `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}:${f.columnNumber + 1}`;
}

/** Self time per function of a profile, ms, busiest first: `[key, ms][]` (idle included, as `(idle)`). */
export function selfTimes(profile) {
  const byId = new Map(profile.nodes.map((x) => [x.id, x.callFrame]));
  const self = new Map();
  profile.samples.forEach((id, i) => {
    const key = frameKey(byId.get(id));
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...self].sort((a, b) => b[1] - a[1]);
}

/** Prints a profile's busy time and its `top` busiest functions (self time). */
export function printSelfTimes(label, profile, top = 12, log = console.log) {
  const rows = selfTimes(profile);
  const idle = rows.filter(([k]) => k.startsWith('(idle)')).reduce((s, [, v]) => s + v, 0);
  const total = rows.reduce((s, [, v]) => s + v, 0);
  log(`\n${label}: busy ${(total - idle).toFixed(0)} of ${total.toFixed(0)} ms`);
  for (const [k, v] of rows.filter(([k]) => !k.startsWith('(idle)')).slice(0, top))
    log(`  ${v.toFixed(0).padStart(7)} ms  ${k}`);
}

/**
 * A profile's time per `bucketMs` of its run, by what the thread did: idle (waiting: for IndexedDB, messages),
 * gc, program (native code outside JavaScript) and the `top` functions by self time over the run, the rest as
 * `other`. Returns printable lines, one per bucket (`  3.0 s  idle 45%  gc 25% ...`).
 */
export function timeline(profile, bucketMs = 1000, top = 3) {
  const byId = new Map(profile.nodes.map((x) => [x.id, x.callFrame]));
  const named = new Set(
    selfTimes(profile)
      .map(([k]) => k)
      .filter((k) => !k.startsWith('('))
      .slice(0, top),
  );
  const label = (f) => {
    const k = frameKey(f);
    if (k.startsWith('(idle)')) return 'idle';
    if (k.startsWith('(garbage collector)')) return 'gc';
    if (k.startsWith('(program)')) return 'program';
    return named.has(k) ? k.split(' ')[0] : 'other';
  };
  const buckets = new Map();
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    const b = Math.floor((t - profile.startTime) / 1000 / bucketMs);
    const m = buckets.get(b) ?? new Map();
    const l = label(byId.get(id));
    m.set(l, (m.get(l) ?? 0) + dt / 1000);
    buckets.set(b, m);
  });
  return [...buckets]
    .sort((a, b) => a[0] - b[0])
    .map(
      ([b, m]) =>
        `${((b * bucketMs) / 1000).toFixed(1).padStart(6)} s  ` +
        [...m]
          .sort((x, y) => y[1] - x[1])
          .map(([l, ms]) => `${l} ${Math.round((100 * ms) / bucketMs)}%`)
          .join('  '),
    );
}
