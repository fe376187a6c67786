import { expect, ingestDone, openApp, test } from './fixtures';

/**
 * Sigma detections, as a responder uses them: load events, import rules on the Findings page, then follow a
 * finding to its events in the Events view (without a reload in between).
 */
test('an imported Sigma rule\'s finding shows its events at once, without a reload', async ({ page }) => {
  test.setTimeout(180_000);
  await openApp(page);
  await page.getByTestId('load-sample').click();
  await ingestDone(page);
  await page.getByTestId('nav-findings').click();
  await expect(page.locator('[data-testid=finding]').first()).toBeVisible();

  await page.getByTestId('sigma-input').fill(`title: KMS key scheduled for deletion
id: 0b8f5e1c-1111-4d2a-9c3e-000000000001
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventSource: kms.amazonaws.com
    eventName: ScheduleKeyDeletion
  condition: selection
level: high
`);
  await page.getByTestId('sigma-add').click();
  const rule = page.locator('[data-testid=sigma-rule][data-rule-id="sigma:0b8f5e1c-1111-4d2a-9c3e-000000000001"]');
  await expect(rule).toHaveAttribute('data-ok', 'true');
  const count = await rule.getAttribute('data-count');
  expect(Number(count)).toBeGreaterThan(0);
  const finding = page.locator('[data-testid=finding][data-rule="sigma:0b8f5e1c-1111-4d2a-9c3e-000000000001"]');
  await expect(finding).toHaveAttribute('data-count', count!);
  await finding.getByTestId('finding-events').click();
  await expect(page.getByTestId('result-count')).toHaveAttribute('data-value', count!);
});
