import { describe, expect, it } from 'vitest';
import { groupTasks, shareTasks } from '../../src/lib/ingest/pool';

const LARGE = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `sizes` as tasks on `workers` workers; each task takes `ms(i)` ms. Returns who ran what and the peaks. */
async function simulate(sizes: number[], workers: number, ms: (i: number) => number, stopAfter = Infinity) {
  const tasks = sizes.map((size, i) => ({ size, i }));
  const ran = Array.from({ length: workers }, () => [] as number[]);
  const large = new Array(workers).fill(0);
  const all = new Array(workers).fill(0);
  const peakLarge = new Array(workers).fill(0);
  const peakAll = new Array(workers).fill(0);
  let done = 0;
  await shareTasks(
    tasks,
    Array.from({ length: workers }, (_, w) => w),
    async (w, t) => {
      ran[w].push(t.i);
      all[w]++;
      if (t.size >= 256 * 1024) large[w]++;
      peakAll[w] = Math.max(peakAll[w], all[w]);
      peakLarge[w] = Math.max(peakLarge[w], large[w]);
      await sleep(ms(t.i));
      all[w]--;
      if (t.size >= 256 * 1024) large[w]--;
      done++;
    },
    () => done >= stopAfter,
  );
  return { ran, peakLarge, peakAll, done };
}

describe('shareTasks: the ingest pool shares one queue between its workers', () => {
  it('shares 20 large files between two workers (one worker used to take all 20)', async () => {
    const r = await simulate(new Array(20).fill(LARGE), 2, () => 5);
    expect(r.done).toBe(20);
    expect(r.ran.flat().sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    expect(Math.min(...r.ran.map((x) => x.length))).toBeGreaterThanOrEqual(9);
    expect(r.peakLarge).toEqual([2, 2]);
  });

  it('gives the tail to whichever worker is free: a slow worker does not keep a backlog', async () => {
    // worker 0's tasks are slow at first: the other takes what is left instead of it queueing up behind
    const r = await simulate(new Array(40).fill(LARGE), 2, (i) => (i < 2 ? 200 : 5));
    expect(r.ran[0].length).toBeLessThanOrEqual(4);
    expect(r.ran[1].length).toBeGreaterThanOrEqual(36);
  });

  it('runs many small files at once, and large ones two at a time, in queue order', async () => {
    const sizes = [...new Array(50).fill(1000), ...new Array(6).fill(LARGE), ...new Array(10).fill(1000)];
    const r = await simulate(sizes, 2, () => 3);
    expect(r.done).toBe(sizes.length);
    expect(Math.max(...r.peakLarge)).toBeLessThanOrEqual(2);
    expect(Math.max(...r.peakAll)).toBeGreaterThan(2);
    expect(Math.max(...r.peakAll)).toBeLessThanOrEqual(32);
  });

  it('stops taking tasks once told to stop, and still resolves', async () => {
    const r = await simulate(new Array(30).fill(LARGE), 2, () => 2, 5);
    expect(r.done).toBeLessThan(30);
    expect(r.done).toBeGreaterThanOrEqual(5);
  });

  it('resolves with no tasks, and with fewer tasks than workers', async () => {
    expect((await simulate([], 2, () => 1)).done).toBe(0);
    expect((await simulate([LARGE], 4, () => 1)).done).toBe(1);
  });
});

describe('groupTasks: small files go to a worker many to a call', () => {
  const sizes = (groups: { tasks: { size: number; i: number }[] }[]) => groups.map((g) => g.tasks.map((t) => t.i));

  it('puts 100 small files into calls of at most 32, in order', () => {
    const tasks = Array.from({ length: 100 }, (_, i) => ({ size: 500, i }));
    const groups = groupTasks(tasks);
    expect(groups.map((g) => g.tasks.length)).toEqual([32, 32, 32, 4]);
    expect(sizes(groups).flat()).toEqual([...Array(100).keys()]);
    expect(groups.every((g) => g.size === 500)).toBe(true);
  });

  it('gives each large file a call of its own, and never groups across it', () => {
    const tasks = [1000, 2000, LARGE, 3000, LARGE, LARGE, 10].map((size, i) => ({ size, i }));
    const groups = groupTasks(tasks);
    expect(sizes(groups)).toEqual([[0, 1], [2], [3], [4], [5], [6]]);
    expect(groups.map((g) => g.size)).toEqual([2000, LARGE, 3000, LARGE, LARGE, 10]);
  });

  it('closes a group at 4 MiB of files', () => {
    const tasks = Array.from({ length: 40 }, (_, i) => ({ size: 200 * 1024, i }));
    const groups = groupTasks(tasks);
    expect(groups.map((g) => g.tasks.length)).toEqual([20, 20]);
  });

  it('groups nothing out of nothing', () => {
    expect(groupTasks([])).toEqual([]);
  });
});
