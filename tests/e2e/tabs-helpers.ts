import { gzipSync, strToU8 } from 'fflate';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';

/** One KMS Decrypt/Encrypt event; `tag` makes a set of files distinct from another set (same shape). */
function kmsEvent(tag: string, f: number, i: number, marker = '') {
  return {
    eventVersion: '1.08',
    eventTime: `2024-03-${String(1 + (f % 28)).padStart(2, '0')}T01:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`,
    eventSource: 'kms.amazonaws.com',
    eventName: i % 3 ? 'Decrypt' : 'Encrypt',
    awsRegion: 'eu-west-1',
    sourceIPAddress: `10.1.${f % 250}.${i % 250}`,
    userAgent: `sdk/${tag}/${f}.${i}`,
    requestID: `r-${tag}-${f}-${i}`,
    eventID: `${tag}-${String(f).padStart(6, '0')}-${String(i).padStart(8, '0')}`,
    recipientAccountId: '111122223333',
    requestParameters: {
      keyId: `arn:aws:kms:eu-west-1:111122223333:key/k-${f % 5}`,
      encryptionContext: { job: `${marker}${tag}-${f}-${i}`, pad: 'q'.repeat(150) },
    },
    userIdentity: {
      type: 'AssumedRole',
      arn: `arn:aws:sts::111122223333:assumed-role/app/i-${f}`,
      accountId: '111122223333',
    },
  };
}

/**
 * Writes `files` S3 delivery files (`{"Records":[...]}`) of `per` distinct events each into `dir` (gzipped
 * unless `plain`); returns their paths. Files with another `tag` hold other events.
 */
export function trailFiles(
  dir: string,
  files: number,
  per: number,
  tag: string,
  opts: { plain?: boolean; marker?: string } = {},
): string[] {
  mkdirSync(dir, { recursive: true });
  return Array.from({ length: files }, (_, f) => {
    const text = JSON.stringify({ Records: Array.from({ length: per }, (_, i) => kmsEvent(tag, f, i, opts.marker)) });
    const name = `111122223333_CloudTrail_eu-west-1_20240301T${String(f).padStart(4, '0')}Z_${tag}${f}.json`;
    const p = join(dir, opts.plain ? name : `${name}.gz`);
    writeFileSync(p, opts.plain ? text : gzipSync(strToU8(text), { mtime: 0 }));
    return p;
  });
}

/** What the store holds, read straight from IndexedDB by the page: the counter, stored rows and file statuses. */
export async function storeState(
  page: Page,
): Promise<{ stats: number; segments: number; byStatus: Record<string, number> }> {
  await page.waitForFunction(() => 'keytrail' in globalThis);
  return page.evaluate(async () => {
    type Tbl<T> = { toArray(): Promise<T[]>; get(k: string): Promise<T | undefined> };
    const db = (globalThis as unknown as { keytrail: { app: { db: Record<string, Tbl<Record<string, unknown>>> } } })
      .keytrail.app.db;
    const files = (await db.files.toArray()) as { status: string }[];
    const byStatus: Record<string, number> = {};
    for (const f of files) byStatus[f.status] = (byStatus[f.status] ?? 0) + 1;
    const segs = (await db.segments.toArray()) as { n: number }[];
    return {
      stats: ((await db.meta.get('stats')) as { events?: number } | undefined)?.events ?? 0,
      segments: segs.reduce((s, x) => s + x.n, 0),
      byStatus,
    };
  });
}

/** Confirms "Delete all data" in `page`. */
export async function deleteAll(page: Page): Promise<void> {
  await page.getByTestId('delete-all').click();
  await page.getByTestId('delete-all-confirm').click();
}

/** The stored distinct event count a page shows. */
export async function shownCount(page: Page): Promise<number> {
  return Number(await page.getByTestId('event-count').getAttribute('data-value'));
}
