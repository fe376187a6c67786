import { readFileSync } from 'node:fs';
import Papa from 'papaparse';
import type { Page } from '@playwright/test';
import { expect, fileRow, ingestDone, openApp, test } from './fixtures';

/**
 * Issue 10, items 5–8: crafted values (formula cells, time zones and out-of-range times, bidi controls,
 * numbers past double precision, duplicate keys) are neither spoofed nor lost.
 */

function event(i: number, extra: Record<string, unknown> = {}) {
  return {
    eventVersion: '1.08',
    eventTime: `2024-05-01T08:00:${String(i).padStart(2, '0')}Z`,
    eventSource: 'kms.amazonaws.com',
    eventName: 'Decrypt',
    awsRegion: 'us-east-1',
    sourceIPAddress: '192.0.2.10',
    userAgent: 'aws-cli/2',
    eventID: `33333333-0000-4000-8000-${String(i).padStart(12, '0')}`,
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

async function drop(page: Page, name: string, text: string): Promise<number> {
  await page
    .getByTestId('file-input')
    .setInputFiles([{ name, mimeType: 'application/json', buffer: Buffer.from(text) }]);
  return ingestDone(page);
}

async function showEvents(page: Page, hash: string): Promise<void> {
  await page.evaluate((h) => (location.hash = h), hash);
  await expect(page.getByTestId('event-row').first()).toBeVisible();
}

test('CSV export: multi-line values starting with = + - @ tab or CR are not live formulas (item 5)', async ({
  page,
}) => {
  const hostile = ["=cmd|' /C calc'!A0\nsecond line", '+1+1\r\nx', '-2+3\ny', '@SUM(A1)\nz', '\t=1\nw', '\r=1\nv'];
  await openApp(page);
  expect(
    await drop(
      page,
      'formulas.json',
      JSON.stringify({ Records: hostile.map((ua, i) => event(i + 1, { userAgent: ua, errorCode: ua })) }),
    ),
  ).toBe(hostile.length);
  await page.getByTestId('nav-events').click();
  await expect(page.getByTestId('result-count')).toHaveAttribute('data-value', String(hostile.length));
  await page.getByTestId('export-menu').click();
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  const rows = Papa.parse<string[]>(readFileSync(await csv.path(), 'utf8'), {
    newline: '\r\n',
    skipEmptyLines: true,
  }).data;
  const header = rows[0];
  const body = rows.slice(1);
  expect(body).toHaveLength(hostile.length);
  const ua = header.indexOf('userAgent');
  expect(body.map((r) => r[ua]).sort()).toEqual(hostile.map((v) => `'${v}`).sort());
  // no cell of the file starts with a formula character
  for (const r of body) for (const cell of r) expect(cell, JSON.stringify(cell)).not.toMatch(/^[=+\-@\t\r]/);
});

test.describe('event times (item 6)', () => {
  // a zone far from UTC, with a half-hour offset: a local-time reading of eventTime shows at once
  test.use({ timezoneId: 'Asia/Kolkata' });

  test('an eventTime without an offset is UTC; an out-of-range time is kept, flagged and shown; a time window counts what it leaves out', async ({
    page,
  }) => {
    await openApp(page);
    expect(await page.evaluate(() => new Date(2024, 4, 1).getTimezoneOffset())).toBe(-330); // the emulated zone is in effect
    const records = [
      event(1, { eventTime: '2024-05-01T10:00:00' }),
      event(2, { eventTime: '2024-05-01T09:00:00Z', eventName: 'Encrypt' }),
      event(3, { eventTime: '+275760-09-13T00:00:00Z', eventName: 'GenerateDataKey' }),
    ];
    expect(await drop(page, 'times.json', JSON.stringify({ Records: records }))).toBe(3);
    await showEvents(page, '#events?q=');
    await expect(page.getByTestId('result-count')).toHaveAttribute('data-value', '3');
    const rows = page.getByTestId('event-row');
    await expect(rows).toHaveCount(3);
    // sorted by eventTime, the unreadable one last, flagged and showing its text as written
    await expect(rows.nth(0)).toContainText('2024-05-01T09:00:00Z');
    await expect(rows.nth(0)).toContainText('Encrypt');
    await expect(rows.nth(1)).toContainText('2024-05-01T10:00:00Z');
    await expect(rows.nth(1)).toContainText('Decrypt');
    await expect(rows.nth(2).getByTestId('event-time-unreadable')).toContainText('+275760-09-13T00:00:00Z');
    await expect(rows.nth(2)).toContainText('GenerateDataKey');
    await expect(page.getByTestId('untimed-note')).toHaveCount(0);

    // a time window around 10:00 UTC: the offset-less event is inside it, and the unreadable one is counted
    await showEvents(page, '#events?q=&from=2024-05-01T09:30:00Z&to=2024-05-01T10:30:00Z');
    await expect(page.getByTestId('result-count')).toHaveAttribute('data-value', '1');
    await expect(rows).toHaveCount(1);
    await expect(rows.nth(0)).toContainText('Decrypt');
    const note = page.getByTestId('untimed-note');
    await expect(note).toBeVisible();
    await expect(note).toHaveAttribute('data-value', '1');
    await expect(note).toContainText('1 matching event is left out of the time window');
  });
});

test('bidi controls are isolated and shown as markers in file names, principals and the event view (item 7)', async ({
  page,
}) => {
  const RLO = '\u202E';
  const file = `report${RLO}gpj.json`;
  const arn = `arn:aws:iam::111122223333:user/${RLO}toor`;
  await openApp(page);
  expect(
    await drop(
      page,
      file,
      JSON.stringify({
        Records: [
          event(1, {
            userIdentity: { type: 'IAMUser', arn, accountId: '111122223333', userName: `${RLO}toor` },
            userAgent: `aws-cli${RLO}/2`,
          }),
        ],
      }),
    ),
  ).toBe(1);

  // the file name
  const f = await fileRow(page, file);
  await expect(f).toHaveAttribute('data-status', 'ingested');
  await expect(f.locator('.path')).toHaveText('report⟨U+202E⟩gpj.json');

  // the events table and the event view
  await showEvents(page, '#events?q=');
  const row = page.getByTestId('event-row').first();
  await expect(row.getByTestId('event-principal')).toHaveText('arn:aws:iam::111122223333:user/⟨U+202E⟩toor');
  // every cell of the row is a bidi isolate
  await expect
    .poll(() =>
      row
        .locator('span')
        .evaluateAll((els) =>
          els.map((e) => `${e.className}:${getComputedStyle(e).unicodeBidi}`).filter((x) => !x.endsWith(':isolate')),
        ),
    )
    .toEqual([]);
  expect(await row.locator('span').count()).toBeGreaterThan(5);
  await row.click();
  await expect(page.getByTestId('event-file')).toHaveText('report⟨U+202E⟩gpj.json');
  const json = page.getByTestId('event-json');
  await expect(json).toContainText('"arn": "arn:aws:iam::111122223333:user/⟨U+202E⟩toor"');
  await expect(json).toContainText('"userAgent": "aws-cli⟨U+202E⟩/2"');
  expect(await json.textContent()).not.toContain(RLO);

  // the principals view
  await page.getByTestId('nav-principals').click();
  const p = page.locator(`[data-testid=principal-row][data-principal="${arn}"]`);
  await expect(p.getByTestId('principal-name')).toHaveText('arn:aws:iam::111122223333:user/⟨U+202E⟩toor');
  expect(await p.getByTestId('principal-name').evaluate((e) => getComputedStyle(e).unicodeBidi)).toBe('isolate');
});

test('distinct JSON is not merged: numbers past 2^53, past the double range, repeated keys; the event view shows numbers as written (item 8)', async ({
  page,
}) => {
  const base = JSON.stringify(event(1, { eventName: 'GenerateDataKey' }));
  const variant = (tail: string) => base.replace(/}$/, `,${tail}}`);
  const files: [string, string][] = [
    ['big-993.json', variant('"requestParameters":{"numberOfBytes":9007199254740993}')],
    ['big-992.json', variant('"requestParameters":{"numberOfBytes":9007199254740992}')],
    ['inf-400.json', variant('"requestParameters":{"numberOfBytes":1e400}')],
    ['inf-401.json', variant('"requestParameters":{"numberOfBytes":1e401}')],
    ['dup-keys.json', variant('"errorCode":"AccessDenied","errorCode":"ThrottlingException"')],
    ['last-key.json', variant('"errorCode":"ThrottlingException"')],
  ];
  await openApp(page);
  await page.getByTestId('file-input').setInputFiles(
    files.map(([name, text]) => ({
      name,
      mimeType: 'application/json',
      buffer: Buffer.from(`{"Records":[${text}]}`),
    })),
  );
  expect(await ingestDone(page)).toBe(files.length);
  for (const [name] of files) {
    const f = await fileRow(page, name);
    await expect(f).toHaveAttribute('data-status', 'ingested');
    await expect(f).toHaveAttribute('data-new', '1');
  }
  // the event view shows the numbers and keys as written
  await showEvents(page, '#events?q=' + encodeURIComponent('requestParameters.numberOfBytes:*'));
  await expect(page.getByTestId('result-count')).toHaveAttribute('data-value', '4');
  const shown: string[] = [];
  const numberShown = async () =>
    /"numberOfBytes": ([^\s,}]+)/.exec((await page.getByTestId('event-json').textContent()) ?? '')?.[1];
  for (let i = 0; i < 4; i++) {
    await page.getByTestId('event-row').nth(i).click();
    // wait for this row's event (each of the four shows another number)
    await expect.poll(numberShown).not.toBe(shown[i - 1]);
    shown.push((await numberShown())!);
  }
  expect(shown.sort()).toEqual(['1e400', '1e401', '9007199254740992', '9007199254740993']);
  await showEvents(page, '#events?q=' + encodeURIComponent('errorCode:ThrottlingException'));
  await expect(page.getByTestId('result-count')).toHaveAttribute('data-value', '2');
});
