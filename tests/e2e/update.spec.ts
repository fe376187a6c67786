import { expect, openApp, test } from './fixtures';
import { storeState, trailFiles } from './tabs-helpers';

/**
 * A tab opened on an older build, after the site was updated: its worker scripts are gone (404) or do not
 * answer. The ingest ends with a clear message instead of hanging, and Cancel always ends an ingest.
 */

// no service worker: the worker scripts are fetched from the (routed) network, as after an update
test.use({ serviceWorkers: 'block' });

const WORKER_SCRIPT = /\/assets\/(worker|writer-worker)-[^/]*\.js(\?.*)?$/;

test('worker scripts that never load: Cancel ends the ingest; scripts gone (404): the ingest ends with "KeyTrail was updated: reload this tab"', async ({
  page,
  context,
}) => {
  const paths = trailFiles(test.info().outputPath('trail'), 2, 50, 'upd');
  await openApp(page); // the query worker is loaded; the ingest and writer workers start with the first ingest
  const status = page.getByTestId('ingest-status');
  // the scripts' requests never answer
  await context.route(WORKER_SCRIPT, () => undefined);
  await page.getByTestId('file-input').setInputFiles(paths);
  await expect(status).toHaveAttribute('data-state', 'running');
  await page.getByTestId('cancel-ingest').click();
  await expect(status).toHaveAttribute('data-state', 'done');
  await expect(page.getByTestId('message')).toContainText('cancelled');
  expect((await storeState(page)).byStatus).toEqual({ cancelled: 2 });
  await context.unrouteAll({ behavior: 'ignoreErrors' });
  // the scripts are gone
  await context.route(WORKER_SCRIPT, (r) => r.fulfill({ status: 404, contentType: 'text/plain', body: 'not found' }));
  await page.getByTestId('file-input').setInputFiles(paths);
  await expect(page.getByTestId('message')).toContainText('KeyTrail was updated: reload this tab');
  await expect(page.getByTestId('message')).toHaveAttribute('role', 'alert');
  await expect(status).toHaveAttribute('data-state', 'done');
  expect((await storeState(page)).byStatus).toEqual({ cancelled: 2 });
  // reloaded (the scripts are served again): the files are stored
  await context.unrouteAll({ behavior: 'ignoreErrors' });
  await page.reload();
  await openApp(page);
  await page.getByTestId('file-input').setInputFiles(paths);
  await expect
    .poll(() => storeState(page), { timeout: 60_000 })
    .toEqual({ stats: 100, segments: 100, byStatus: { ingested: 2 } });
});
