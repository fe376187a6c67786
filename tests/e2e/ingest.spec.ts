import { gzipSync, zipSync, strToU8 } from 'fflate';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, fileRow, hasPublic, ingestDone, manifest, openApp, PUBLIC, test } from './fixtures';

const KMS_DIR = join(PUBLIC, 'awsdocs-aws-kms-developer-guide');

function event(i: number, extra: Record<string, unknown> = {}) {
  return {
    eventVersion: '1.08',
    eventTime: `2024-03-01T00:00:${String(i % 60).padStart(2, '0')}Z`,
    eventSource: 'kms.amazonaws.com',
    eventName: 'Decrypt',
    awsRegion: 'us-east-1',
    sourceIPAddress: '192.0.2.1',
    eventID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333' },
    recipientAccountId: '111122223333',
    ...extra,
  };
}

test.describe('ingest', () => {
  test.skip(!hasPublic, 'needs ../shared/datasets/public');

  test('drop real KMS files: counts, reload keeps them, dropping again changes nothing', async ({ page }) => {
    const m = manifest();
    const files = readdirSync(KMS_DIR).filter((f) => f.endsWith('.json'));
    const expected = m.files.filter(
      (f) => f.path.startsWith('awsdocs-aws-kms-developer-guide/') && !f.path.includes('/_unparsed/'),
    );
    const expectedEvents = expected.reduce((s, f) => s + f.events, 0);
    // Checked by hand: 71 documentation examples, one event each except the two EC2 "Records" examples (2 and 3? see manifest).
    expect(expected.length).toBe(files.length);
    await openApp(page);
    await page.getByTestId('drop-zone').drop({ files: files.map((f) => join(KMS_DIR, f)) });
    const count = await ingestDone(page);
    expect(count).toBe(expectedEvents);
    // a file's row: status and event count
    const row = await fileRow(page, 'ct-schedule-key-deletion__01__ScheduleKeyDeletion.json');
    await expect(row).toHaveAttribute('data-status', 'ingested');
    await expect(row).toHaveAttribute('data-events', '1');
    // reload keeps everything
    await page.reload();
    await expect(page.getByTestId('event-count')).toHaveAttribute('data-value', String(expectedEvents));
    await page.getByTestId('nav-events').click();
    await expect(page.getByTestId('result-count')).toHaveAttribute('data-value', String(expectedEvents));
    await expect(page.getByTestId('event-row').first()).toBeVisible();
    // dropping the same files again changes nothing
    await page.getByTestId('nav-files').click();
    const rowsBefore = await page.getByTestId('nav-files').innerText();
    await page.getByTestId('drop-zone').drop({ files: files.map((f) => join(KMS_DIR, f)) });
    await expect(page.getByTestId('message')).toContainText('already loaded');
    await expect(page.getByTestId('event-count')).toHaveAttribute('data-value', String(expectedEvents));
    expect(await page.getByTestId('nav-files').innerText()).toBe(rowsBefore);
  });

  test('the whole public corpus through the folder picker matches MANIFEST.json', async ({ page }) => {
    const m = manifest();
    await openApp(page);
    await page.getByTestId('folder-input').setInputFiles(PUBLIC);
    expect(await ingestDone(page)).toBe(m.distinct_events);
    // archive members and a digest, by their paths (the folder picker prefixes the folder name)
    // The same 103 events arrive twice (inside a zip and as a plain file): whichever two workers commit first is
    // ingested with 103 new events, the other is a duplicate adding none.
    const member = await fileRow(
      page,
      'public/OTRF-Security-Datasets/ec2_proxy_s3_exfiltration.zip!ec2_proxy_s3_exfiltration_2020-09-14011940.json',
    );
    await expect(member).toHaveAttribute('data-events', '103');
    const memberNew = Number(await member.getAttribute('data-new'));
    const copy = await fileRow(page, 'public/OTRF-Security-Datasets/ec2_proxy_s3_exfiltration_2020-09-14011940.json');
    await expect(copy).toHaveAttribute('data-events', '103');
    const copyNew = Number(await copy.getAttribute('data-new'));
    expect([memberNew, copyNew].sort()).toEqual([0, 103]);
    await expect(copy).toHaveAttribute('data-status', copyNew ? 'ingested' : 'duplicate');
    const digest = await fileRow(
      page,
      'public/elastic-integrations-aws-cloudtrail/pipeline-test-logs/test-cloudtrail-digest-json.log',
    );
    await expect(digest).toHaveAttribute('data-status', 'digest');
    const gz = await fileRow(page, 'public/grafana-loki-lambda-promtail/cloudtrail-log-file.json.gz');
    await expect(gz).toHaveAttribute('data-status', 'ingested');
    await expect(gz).toHaveAttribute('data-events', '2');
    const csv = await fileRow(page, 'public/OTRF-Security-Datasets/AWS_S3_HoneyBucketLogs.csv');
    await expect(csv).toHaveAttribute('data-status', /not-cloudtrail|corrupt/);
  });
});

test('a corrupt file shows its error while the others ingest', async ({ page }) => {
  const good = gzipSync(strToU8(JSON.stringify({ Records: [event(1), event(2), event(3)] })));
  const truncated = gzipSync(strToU8(JSON.stringify({ Records: [event(4), event(5)] }))).subarray(0, 40);
  const badJson = strToU8(
    '{\n  "Records": [\n    {"eventSource": "kms.amazonaws.com", "eventName": "Decrypt",}\n  ]\n}\n',
  );
  const zip = zipSync({
    'logs/nested/a.json.gz': gzipSync(strToU8(JSON.stringify({ Records: [event(6)] }))),
    'logs/readme.txt': strToU8('hello'),
  });
  await openApp(page);
  await page.getByTestId('file-input').setInputFiles([
    { name: 'good.json.gz', mimeType: 'application/gzip', buffer: Buffer.from(good) },
    { name: 'truncated.json.gz', mimeType: 'application/gzip', buffer: Buffer.from(truncated) },
    { name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from(badJson) },
    { name: 'empty.json', mimeType: 'application/json', buffer: Buffer.alloc(0) },
    { name: 'bundle.zip', mimeType: 'application/zip', buffer: Buffer.from(zip) },
  ]);
  expect(await ingestDone(page)).toBe(4);
  await expect(await fileRow(page, 'good.json.gz')).toHaveAttribute('data-status', 'ingested');
  const t = await fileRow(page, 'truncated.json.gz');
  await expect(t).toHaveAttribute('data-status', 'corrupt');
  await expect(t).toContainText(/truncated|EOF/i);
  const b = await fileRow(page, 'bad.json');
  await expect(b).toHaveAttribute('data-status', 'corrupt');
  await expect(b).toContainText('line 3, column');
  await expect(await fileRow(page, 'empty.json')).toHaveAttribute('data-status', 'not-cloudtrail');
  await expect(await fileRow(page, 'bundle.zip!logs/nested/a.json.gz')).toHaveAttribute('data-events', '1');
  await expect(await fileRow(page, 'bundle.zip!logs/readme.txt')).toHaveAttribute('data-status', 'not-cloudtrail');
  await expect(await fileRow(page, 'bundle.zip')).toHaveAttribute('data-status', 'archive');
});

test('events view: lookup filter, detail with the source file, and delete all', async ({ page }) => {
  const records = [
    event(1),
    event(2, {
      eventName: 'ScheduleKeyDeletion',
      requestParameters: {
        keyId: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        pendingWindowInDays: 7,
      },
    }),
    event(3, { eventName: 'Encrypt', userAgent: '<img src=x onerror=alert(1)>' }),
  ];
  await openApp(page);
  await page.getByTestId('file-input').setInputFiles([
    {
      name: 'AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/01/111122223333_CloudTrail_us-east-1_20240301T0005Z_abc123.json.gz',
      mimeType: 'application/gzip',
      buffer: Buffer.from(gzipSync(strToU8(JSON.stringify({ Records: records })))),
    },
  ]);
  expect(await ingestDone(page)).toBe(3);
  await page.getByTestId('nav-events').click();
  await expect(page.getByTestId('result-count')).toHaveAttribute('data-value', '3');
  // Event history lookup attributes are field names of the query language
  await page.getByTestId('query-input').fill('EventName:ScheduleKeyDeletion');
  await page.getByTestId('query-input').press('Enter');
  await expect(page.getByTestId('result-count')).toHaveAttribute('data-value', '1');
  await page.getByTestId('event-row').first().click();
  await expect(page.getByTestId('event-json')).toContainText('"pendingWindowInDays": 7');
  await expect(page.getByTestId('event-file')).toContainText(
    '111122223333_CloudTrail_us-east-1_20240301T0005Z_abc123.json.gz',
  );
  // time range: from the second second on
  await page.getByTestId('query-input').fill('eventTime>=2024-03-01T00:00:02Z');
  await page.getByTestId('query-input').press('Enter');
  await expect(page.getByTestId('result-count')).toHaveAttribute('data-value', '2');
  // event text is text: the userAgent's markup is shown, not run
  await page.getByTestId('query-input').fill('EventName:Encrypt');
  await page.getByTestId('query-input').press('Enter');
  await expect(page.getByTestId('result-count')).toHaveAttribute('data-value', '1');
  // the rows follow the count (they are read asynchronously): click the new result's row, not the old one
  await expect(page.getByTestId('event-row')).toHaveCount(1);
  await expect(page.getByTestId('event-row').first()).toContainText('Encrypt');
  await page.getByTestId('event-row').first().click();
  await expect(page.getByTestId('event-json')).toContainText('<img src=x onerror=alert(1)>');
  // delete all
  await page.getByTestId('delete-all').click();
  await page.getByTestId('delete-all-confirm').click();
  await expect(page.getByTestId('event-count')).toHaveAttribute('data-value', '0');
  await page.reload();
  await expect(page.getByTestId('event-count')).toHaveAttribute('data-value', '0');
});

test("the header's storage figure is the keytrail storage bucket's, where the store lives", async ({ page }) => {
  await openApp(page);
  await page.getByTestId('load-sample').click();
  await ingestDone(page);
  const bucket = await page.evaluate(async () => {
    const api = (
      navigator as unknown as { storageBuckets?: { open(n: string): Promise<{ persisted(): Promise<boolean> }> } }
    ).storageBuckets;
    return api ? { persisted: await (await api.open('keytrail')).persisted() } : null;
  });
  test.skip(!bucket, 'this Chromium has no Storage Buckets API');
  const area = page.getByTestId('storage-area');
  await expect(area).toHaveAttribute('data-area', 'bucket');
  await expect(area).toHaveAttribute('data-persisted', String(bucket!.persisted));
  await expect(area).toHaveAttribute('title', /storage bucket \(keytrail\)/);
  await expect(page.getByTestId('storage')).toContainText('used');
});
