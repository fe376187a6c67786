import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { expect, ingestDone, openApp, test } from './fixtures';

/**
 * Sigma detections, as a responder uses them: load events, import rules on the Findings page, then follow a
 * finding to its events in the Events view (without a reload in between).
 */
test("an imported Sigma rule's finding shows its events at once, without a reload", async ({ page }) => {
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

  // a rule written with another log source's field name runs, matches nothing, and says why
  await page.getByTestId('nav-findings').click();
  await page.getByTestId('sigma-input').fill(`title: Deletion from one address
id: 0b8f5e1c-1111-4d2a-9c3e-000000000003
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventName: ScheduleKeyDeletion
    src_ip: 203.0.113.10
  condition: selection
`);
  await page.getByTestId('sigma-add').click();
  const other = page.locator('[data-testid=sigma-rule][data-rule-id="sigma:0b8f5e1c-1111-4d2a-9c3e-000000000003"]');
  await expect(other).toHaveAttribute('data-count', '0');
  await expect(other.getByTestId('sigma-warning')).toHaveText('⚠ no stored event has a field "src_ip"');
});

/** The distinct events of the sample's CloudTrail log files (identical once keys are sorted = one event). */
function sampleEvents(): Record<string, unknown>[] {
  const root = fileURLToPath(new URL('../../public/sample/AWSLogs', import.meta.url));
  const canon = (v: unknown): string =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? `{${Object.keys(v)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${canon((v as Record<string, unknown>)[k])}`)
          .join(',')}}`
      : Array.isArray(v)
        ? `[${v.map(canon).join(',')}]`
        : JSON.stringify(v);
  const seen = new Map<string, Record<string, unknown>>();
  for (const f of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    if (!f.endsWith('.json.gz') || !f.includes('/CloudTrail/')) continue;
    for (const r of JSON.parse(gunzipSync(readFileSync(join(root, f))).toString('utf8')).Records) seen.set(canon(r), r);
  }
  return [...seen.values()];
}

test('Sigma rules with count() by field within a timeframe, and |expand placeholders given on the page', async ({
  page,
}) => {
  test.setTimeout(180_000);
  // what the rules should select, computed here from the sample files with a brute-force count of every window
  const kms = sampleEvents().filter((e) => e.eventSource === 'kms.amazonaws.com');
  const arnOf = (e: Record<string, unknown>) => (e.userIdentity as { arn?: string } | undefined)?.arn;
  const byArn = new Map<string, number[]>();
  for (const e of kms) {
    const a = arnOf(e);
    if (a) byArn.set(a, [...(byArn.get(a) ?? []), Date.parse(e.eventTime as string)]);
  }
  let burst = 0;
  for (const times of byArn.values()) {
    times.sort((a, b) => a - b);
    const kept = new Set<number>();
    for (let b = 0; b < times.length; b++)
      for (let a = 0; a <= b; a++)
        if (times[b] - times[a] <= 3600_000 && b - a + 1 > 5) for (let k = a; k <= b; k++) kept.add(k);
    burst += kept.size;
  }
  expect(burst).toBeGreaterThan(0);
  expect(burst).toBeLessThan(kms.length);
  const admins = [...byArn.entries()]
    .sort((x, y) => y[1].length - x[1].length)
    .slice(0, 2)
    .map(([a]) => a);
  const notAdmins = kms.filter((e) => !admins.includes(arnOf(e)!)).length;

  await openApp(page);
  await page.getByTestId('load-sample').click();
  await ingestDone(page);
  await page.getByTestId('nav-findings').click();
  await page.getByTestId('sigma-input').fill(`title: KMS call burst by one principal
id: 0b8f5e1c-1111-4d2a-9c3e-000000000002
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventSource: kms.amazonaws.com
  timeframe: 1h
  condition: selection | count() by userIdentity.arn > 5
level: medium
---
title: KMS call by a principal outside the admins
id: 0b8f5e1c-1111-4d2a-9c3e-000000000003
logsource: {product: aws, service: cloudtrail}
detection:
  selection:
    eventSource: kms.amazonaws.com
  filter_admins:
    userIdentity.arn|expand: '%kms_admins%'
  condition: selection and not filter_admins
level: low
`);
  await page.getByTestId('sigma-add').click();
  const burstRule = page.locator('[data-testid=sigma-rule][data-rule-id="sigma:0b8f5e1c-1111-4d2a-9c3e-000000000002"]');
  await expect(burstRule).toHaveAttribute('data-ok', 'true');
  await expect(burstRule).toHaveAttribute('data-count', String(burst));
  await expect(burstRule).toContainText('count() by userIdentity.arn > 5 within 1h');

  // the placeholder rule waits for values, with a field to give them
  const expandRule = page.locator(
    '[data-testid=sigma-rule][data-rule-id="sigma:0b8f5e1c-1111-4d2a-9c3e-000000000003"]',
  );
  await expect(expandRule).toHaveAttribute('data-ok', 'false');
  await expect(expandRule).toContainText('%kms_admins%');
  const field = page.locator('[data-testid=sigma-placeholder][data-name=kms_admins]');
  await field.fill(admins.join('\n'));
  await page.getByTestId('sigma-placeholders-apply').click();
  await expect(expandRule).toHaveAttribute('data-ok', 'true');
  await expect(expandRule).toHaveAttribute('data-count', String(notAdmins));
  await expect(field).toHaveValue(admins.join('\n'));
  await expect(field).toHaveAttribute('data-values', '2');

  // both findings lead to their events
  const finding = page.locator('[data-testid=finding][data-rule="sigma:0b8f5e1c-1111-4d2a-9c3e-000000000002"]');
  await expect(finding).toHaveAttribute('data-count', String(burst));
  await finding.getByTestId('finding-events').click();
  await expect(page.getByTestId('result-count')).toHaveAttribute('data-value', String(burst));
  await page.getByTestId('nav-findings').click();
  await page
    .locator('[data-testid=finding][data-rule="sigma:0b8f5e1c-1111-4d2a-9c3e-000000000003"]')
    .getByTestId('finding-events')
    .click();
  await expect(page.getByTestId('result-count')).toHaveAttribute('data-value', String(notAdmins));
});
