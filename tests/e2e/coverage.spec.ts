import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, ingestDone, openApp, test } from './fixtures';

const SAMPLE = fileURLToPath(new URL('../../public/sample', import.meta.url));
/** Known answers of the generated sample (scripts/gen-sample.mjs computes them from what it generated). */
const EXPECTED = JSON.parse(readFileSync(`${SAMPLE}/EXPECTED.json`, 'utf8'));

test('from dropping the sample folder to the exclusion timeline, cross-account pairing, integrity and detections', async ({
  page,
}) => {
  test.setTimeout(180_000);
  await openApp(page);
  // the whole folder, as a responder would drop it: logs, digests and the test public keys
  await page.getByTestId('folder-input').setInputFiles(SAMPLE);
  expect(await ingestDone(page)).toBe(EXPECTED.distinctEvents);

  // coverage: every exclusion window, with its kind and bounds
  await page.getByTestId('nav-coverage').click();
  const windows = page.getByTestId('exclusion-window');
  await expect(windows).toHaveCount(EXPECTED.coverage.windows.length);
  for (const w of EXPECTED.coverage.windows) {
    const row = page.locator(
      `[data-testid=exclusion-window][data-trail="${w.trail}"][data-account="${w.account}"][data-kind="${w.kind}"][data-start="${w.start}"]`,
    );
    await expect(row).toHaveAttribute('data-end', w.end ?? '');
    if (w.selectorKind) await expect(row).toHaveAttribute('data-selector-kind', w.selectorKind);
    await expect(row).toContainText(w.startedBy.sourceIPAddress);
  }
  for (const s of EXPECTED.coverage.kmsSilence) {
    await expect(
      page.locator(`[data-testid=kms-silence][data-account="${s.account}"][data-start="${s.start}"]`),
    ).toHaveAttribute('data-end', s.end);
  }

  // cross-account pairing
  await page.getByTestId('nav-accounts').click();
  const ca = EXPECTED.crossAccount;
  await expect(page.getByTestId('status-paired')).toHaveAttribute('data-count', String(ca.paired));
  await expect(page.getByTestId('status-caller-only-denied')).toHaveAttribute(
    'data-count',
    String(ca.callerOnlyDenied),
  );
  await expect(page.getByTestId('status-caller-only-succeeded')).toHaveAttribute(
    'data-count',
    String(ca.callerOnlySucceeded),
  );
  await expect(page.getByTestId('status-owner-only')).toHaveAttribute('data-count', String(ca.ownerOnly));
  await expect(page.locator('[data-testid=account-row][data-account="777788889999"]')).toHaveAttribute(
    'data-external',
    'true',
  );
  await page.getByTestId('status-owner-only').click();
  await expect(page.locator('[data-testid=cross-account-row][data-status=owner-only]').first()).toHaveAttribute(
    'data-caller-account',
    '777788889999',
  );
  await expect(page.locator('[data-testid=cross-account-row]:not([data-status=owner-only])')).toHaveCount(0);

  // integrity: one changed and one missing log file, signatures checked with the dropped test keys
  await page.getByTestId('nav-integrity').click();
  const summary = page.getByTestId('integrity-summary');
  await expect(summary).toHaveAttribute('data-changed', '1');
  await expect(summary).toHaveAttribute('data-missing', '1');
  await expect(summary).toHaveAttribute('data-signatures-invalid', '0');
  expect(Number(await summary.getAttribute('data-signatures-valid'))).toBeGreaterThan(EXPECTED.digests.count / 2);
  await expect(page.locator('[data-testid=integrity-file][data-status=changed]')).toContainText(
    EXPECTED.logFileIntegrity.changed.path.split('/').pop(),
  );

  // findings of every kind are there, each with its events one click away
  await page.getByTestId('nav-findings').click();
  for (const rule of [
    'kms-events-excluded',
    'management-events-disabled',
    'trail-logging-stopped',
    'trail-deleted',
    'trail-updated',
    'kms-silence-gap',
    'cross-account-owner-copy-missing',
    'external-account-key-use',
    'digest-hash-mismatch',
    'digest-missing-log-file',
  ]) {
    await expect(page.locator(`[data-testid=finding][data-rule="${rule}"]`).first()).toBeVisible();
  }
  // detections: a Sigma rule runs, an unsupported one says why
  await page.getByTestId('sigma-input').fill(`title: KMS key scheduled for deletion
id: 6f9bd2e0-0000-4000-8000-000000000001
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventSource: kms.amazonaws.com
    eventName: ScheduleKeyDeletion
  condition: selection
level: high
---
title: Encoded payload
id: 6f9bd2e0-0000-4000-8000-000000000002
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    requestParameters|base64offset|contains: evil
  condition: selection
level: low
`);
  await page.getByTestId('sigma-add').click();
  await expect(
    page.locator('[data-testid=sigma-rule][data-rule-id="sigma:6f9bd2e0-0000-4000-8000-000000000001"]'),
  ).toHaveAttribute('data-count', '1');
  const bad = page.locator('[data-testid=sigma-rule][data-rule-id="sigma:6f9bd2e0-0000-4000-8000-000000000002"]');
  await expect(bad).toHaveAttribute('data-ok', 'false');
  await expect(bad).toContainText('base64offset');
  await expect(page.locator('[data-testid=finding][data-rule^="sigma:"]').first()).toBeVisible();
});
