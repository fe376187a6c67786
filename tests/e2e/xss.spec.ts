import { gzipSync, strToU8, zipSync } from 'fflate';
import type { Page } from '@playwright/test';
import { expect, fileRow, ingestDone, openApp, test } from './fixtures';

/**
 * Event content is text, never markup: a trail whose strings hold HTML and script (userAgent, errorMessage,
 * requestParameters, key aliases, identities, file and member names) is shown as text and runs nothing. Every
 * payload, if it ran or became markup, would open a dialog, set `window.__xss`, or load an image from another
 * origin (which the request watcher of fixtures.ts reports, as it does a CSP refusal).
 */
const SINK = 'http://127.0.0.1:4191';
const P = {
  ua: `<img src="${SINK}/ua.png" onerror="window.__xss='ua';alert('ua')">`,
  err: `<script>window.__xss='err';alert('err')</script>`,
  code: `"><svg onload="window.__xss='code';alert('code')">`,
  key: `alias/<img src="${SINK}/alias.png" onerror="alert('alias')">`,
  alias: `alias/</span><script>alert('newalias')</script>`,
  policy: `{"Statement":"<iframe srcdoc='<script>parent.__xss=1</script>'></iframe>"}`,
  user: `<a href="javascript:alert('user')">mallory</a>`,
  ip: `<style>body{display:none}</style>`,
  name: `<b onmouseover="alert('name')">Decrypt</b>`,
  file: `<img src="${SINK}/file.png" onerror="alert('file')">.json`,
  member: `<script>alert('member')</script>.json`,
};

function event(i: number, extra: Record<string, unknown>) {
  return {
    eventVersion: '1.08',
    eventTime: `2024-04-02T08:00:${String(i).padStart(2, '0')}Z`,
    eventSource: 'kms.amazonaws.com',
    eventName: 'Decrypt',
    awsRegion: 'us-east-1',
    sourceIPAddress: '192.0.2.10',
    userAgent: 'aws-cli/2',
    eventID: `22222222-0000-4000-8000-${String(i).padStart(12, '0')}`,
    recipientAccountId: '111122223333',
    userIdentity: {
      type: 'IAMUser',
      arn: 'arn:aws:iam::111122223333:user/alice',
      accountId: '111122223333',
      userName: 'alice',
    },
    ...extra,
  };
}

const EVENTS = [
  event(1, { userAgent: P.ua, errorCode: P.code, errorMessage: P.err, requestParameters: { keyId: P.key } }),
  event(2, {
    eventName: 'CreateAlias',
    requestParameters: {
      aliasName: P.alias,
      targetKeyId: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    },
    resources: [
      {
        ARN: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        type: 'AWS::KMS::Key',
        accountId: '111122223333',
      },
    ],
  }),
  event(3, {
    eventName: 'PutKeyPolicy',
    requestParameters: { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', policyName: 'default', policy: P.policy },
  }),
  event(4, {
    sourceIPAddress: P.ip,
    userIdentity: {
      type: 'IAMUser',
      arn: `arn:aws:iam::111122223333:user/${P.user}`,
      accountId: '111122223333',
      userName: P.user,
    },
  }),
  event(5, { eventName: P.name }),
  // prototype-pollution shaped names and keys are plain data too
  event(6, {
    eventName: '__proto__',
    userAgent: 'constructor',
    requestParameters: { __proto__: { polluted: 'yes' }, constructor: { prototype: { polluted: 'yes' } } },
  }),
];

async function noMarkup(page: Page): Promise<void> {
  const state = await page.evaluate(() => ({
    xss: (window as unknown as { __xss?: unknown }).__xss ?? null,
    handlers: document.querySelectorAll('[onerror],[onload],[onmouseover],iframe,svg[onload]').length,
    scripts: [...document.scripts].filter((s) => !s.src).length,
    offImages: [...document.images].filter((i) => !i.src.startsWith(location.origin) && !i.src.startsWith('data:'))
      .length,
    polluted: ({} as Record<string, unknown>).polluted ?? null,
    bodyShown: getComputedStyle(document.body).display !== 'none',
  }));
  expect(state).toEqual({ xss: null, handlers: 0, scripts: 0, offImages: 0, polluted: null, bodyShown: true });
}

test('XSS: HTML and script in events and file names are shown as text and run nothing', async ({ page }) => {
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await openApp(page);
  const zip = zipSync({
    [`logs/${P.member}`]: strToU8(JSON.stringify({ Records: [event(7, { errorMessage: P.err })] })),
  });
  await page.getByTestId('file-input').setInputFiles([
    { name: P.file, mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ Records: EVENTS })) },
    {
      name: 'AWSLogs/111122223333/CloudTrail/us-east-1/2024/04/02/111122223333_CloudTrail_us-east-1_20240402T0805Z_xss.json.gz',
      mimeType: 'application/gzip',
      buffer: Buffer.from(gzipSync(strToU8(JSON.stringify({ Records: [event(8, { userAgent: P.ua })] })))),
    },
    { name: 'bundle.zip', mimeType: 'application/zip', buffer: Buffer.from(zip) },
  ]);
  expect(await ingestDone(page)).toBe(EVENTS.length + 2);

  // file and member names: text in the files view
  const f = await fileRow(page, P.file);
  await expect(f).toHaveAttribute('data-status', 'ingested');
  await expect(f.locator('.path')).toHaveText(P.file);
  const m = await fileRow(page, `bundle.zip!logs/${P.member}`);
  await expect(m).toHaveAttribute('data-status', 'ingested');
  await expect(m.locator('.path')).toHaveText(`bundle.zip!logs/${P.member}`);
  await noMarkup(page);

  // events: the table, the detail, the facets
  await page.getByTestId('nav-events').click();
  await expect(page.getByTestId('result-count')).toHaveAttribute('data-value', String(EVENTS.length + 2));
  await expect(page.getByTestId('event-row').first()).toBeVisible();
  await noMarkup(page);
  const rows = page.getByTestId('event-row');
  const n = await rows.count();
  const shown: string[] = [];
  for (let i = 0; i < n; i++) {
    await rows.nth(i).click();
    await expect(page.getByTestId('event-json')).toBeVisible();
    shown.push(await page.getByTestId('event-json').innerText());
    await noMarkup(page);
  }
  const all = shown.join('\n');
  for (const p of [P.ua, P.err, P.key, P.alias, P.user, P.ip, P.name])
    expect(all).toContain(JSON.stringify(p).slice(1, -1));
  expect(all).toContain('"eventName": "__proto__"');
  // the table shows the markup as text too (eventName column)
  await expect(page.getByTestId('event-row').filter({ hasText: P.name })).toHaveCount(1);

  // a query for the payload finds it as text
  await page.getByTestId('query-input').fill('eventName:__proto__');
  await page.getByTestId('query-input').press('Enter');
  await expect(page.getByTestId('result-count')).toHaveAttribute('data-value', '1');

  // every other view (keys, principals...) shows the same data as text
  const tabs = page.locator('nav[aria-label="Views"] button');
  for (let i = 0; i < (await tabs.count()); i++) {
    await tabs.nth(i).click();
    await page.waitForTimeout(300);
    await noMarkup(page);
  }
  await page.reload();
  await openApp(page);
  await noMarkup(page);
  expect(dialogs).toEqual([]);
});
