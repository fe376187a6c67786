import { expect, ingestDone, openApp, test } from './fixtures';
import { deleteAll, shownCount, storeState, trailFiles } from './tabs-helpers';

/**
 * Many tabs of one browser profile share one store: what one tab does (ingest, Delete all) reaches every
 * other tab's state, writer and query worker, and no tab is left stuck.
 */

test('Delete all in one tab, then the same files dropped again in another tab are stored, not marked duplicate', async ({
  page: a,
  context,
}) => {
  const paths = trailFiles(test.info().outputPath('trail'), 3, 200, 'one');
  await openApp(a);
  const b = await context.newPage();
  await openApp(b);
  await a.getByTestId('file-input').setInputFiles(paths);
  expect(await ingestDone(a)).toBe(600);
  await deleteAll(b);
  await expect(b.getByTestId('message')).toContainText('All data deleted');
  await expect(b.getByTestId('event-count')).toHaveAttribute('data-value', '0');
  // tab A, not reloaded, drops the very same files again: they are new to the emptied store
  await a.getByTestId('file-input').setInputFiles(paths);
  await expect
    .poll(() => storeState(a), { timeout: 60_000 })
    .toEqual({ stats: 600, segments: 600, byStatus: { ingested: 3 } });
  await expect(a.getByTestId('event-count')).toHaveAttribute('data-value', '600');
  await expect(b.getByTestId('event-count')).toHaveAttribute('data-value', '600');
  await expect
    .poll(() =>
      a.evaluate(
        () => (globalThis as unknown as { keytrail: { app: { index: { rows: number } } } }).keytrail.app.index.rows,
      ),
    )
    .toBe(600);
  // and a reload keeps them
  await a.reload();
  await openApp(a);
  await expect(a.getByTestId('event-count')).toHaveAttribute('data-value', '600');
  expect(await storeState(a)).toEqual({ stats: 600, segments: 600, byStatus: { ingested: 3 } });
});

test('Delete all in the ingesting tab cancels the ingest, releases the ingest lock, and every tab can ingest again', async ({
  page: a,
  context,
}) => {
  test.setTimeout(180_000);
  const big = trailFiles(test.info().outputPath('big'), 24, 2500, 'big');
  await openApp(a);
  const b = await context.newPage();
  await openApp(b);
  await a.getByTestId('file-input').setInputFiles(big);
  await expect.poll(() => shownCount(a), { timeout: 60_000, intervals: [50] }).toBeGreaterThan(0);
  await expect(a.getByTestId('ingest-status')).toHaveAttribute('data-state', 'running');
  await deleteAll(a);
  await expect(a.getByTestId('message')).toContainText('All data deleted');
  await expect(a.getByTestId('ingest-status')).not.toHaveAttribute('data-state', 'running');
  await expect.poll(() => storeState(a)).toEqual({ stats: 0, segments: 0, byStatus: {} });
  // the other tab can ingest (the lock was released), and so can this one
  await b.getByTestId('file-input').setInputFiles(trailFiles(test.info().outputPath('b'), 2, 100, 'b'));
  expect(await ingestDone(b)).toBe(200);
  await a.getByTestId('file-input').setInputFiles(trailFiles(test.info().outputPath('a'), 3, 100, 'a'));
  await expect
    .poll(() => storeState(a), { timeout: 60_000 })
    .toEqual({ stats: 500, segments: 500, byStatus: { ingested: 5 } });
  await expect(a.getByTestId('ingest-status')).toHaveAttribute('data-state', 'done');
  await expect(a.getByTestId('event-count')).toHaveAttribute('data-value', '500');
  await expect(b.getByTestId('event-count')).toHaveAttribute('data-value', '500');
});

test('Delete all in another tab during an ingest cancels that ingest; nothing of it stays, and it can be dropped again', async ({
  page: a,
  context,
}) => {
  test.setTimeout(180_000);
  const big = trailFiles(test.info().outputPath('big'), 24, 2500, 'big');
  await openApp(a);
  const b = await context.newPage();
  await openApp(b);
  await a.getByTestId('file-input').setInputFiles(big);
  await expect.poll(() => shownCount(a), { timeout: 60_000, intervals: [50] }).toBeGreaterThan(0);
  await expect(a.getByTestId('ingest-status')).toHaveAttribute('data-state', 'running');
  await deleteAll(b);
  await expect(b.getByTestId('message')).toContainText('All data deleted');
  await expect(a.getByTestId('ingest-status')).not.toHaveAttribute('data-state', 'running');
  await expect(a.getByTestId('message')).toContainText('deleted in another tab');
  await expect.poll(() => storeState(b)).toEqual({ stats: 0, segments: 0, byStatus: {} });
  await expect(a.getByTestId('event-count')).toHaveAttribute('data-value', '0');
  // tab A drops some of the same files again: all stored
  await a.getByTestId('file-input').setInputFiles(big.slice(0, 2));
  await expect
    .poll(() => storeState(a), { timeout: 60_000 })
    .toEqual({ stats: 5000, segments: 5000, byStatus: { ingested: 2 } });
  await expect(b.getByTestId('event-count')).toHaveAttribute('data-value', '5000');
});

test("a tab opened during another tab's ingest converges to the stored counts and file statuses without a reload", async ({
  page: b,
  context,
}) => {
  test.setTimeout(180_000);
  const big = trailFiles(test.info().outputPath('big'), 24, 2500, 'big');
  await openApp(b);
  await b.getByTestId('file-input').setInputFiles(big);
  await expect.poll(() => shownCount(b), { timeout: 60_000, intervals: [50] }).toBeGreaterThan(0);
  await expect(b.getByTestId('ingest-status')).toHaveAttribute('data-state', 'running');
  const a = await context.newPage();
  await openApp(a);
  const total = await ingestDone(b);
  expect(total).toBe(60_000);
  // tab A, never reloaded: the stored count, the index and every file row match the store
  await expect(a.getByTestId('event-count')).toHaveAttribute('data-value', String(total));
  await expect
    .poll(() =>
      a.evaluate(
        () => (globalThis as unknown as { keytrail: { app: { index: { rows: number } } } }).keytrail.app.index.rows,
      ),
    )
    .toBe(total);
  await a.getByTestId('nav-files').click();
  await expect(a.getByTestId('status-chip-ingested')).toContainText('24');
  await expect(a.getByTestId('status-chip-pending')).toHaveCount(0);
  await expect(a.locator('[data-testid=file-row][data-status=pending]')).toHaveCount(0);
});
