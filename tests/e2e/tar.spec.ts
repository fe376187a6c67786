import { gunzipSync } from 'node:zlib';
import { expect, fileRow, ingestDone, openApp, test } from './fixtures';
import { LONGNAME_TGZ_BASE64 } from '../unit/tar-fixtures';

const TAR_LOG =
  'AWSLogs/o-aa111bb222/111122223333/CloudTrail/us-east-1/2024/05/01/111122223333_CloudTrail_us-east-1_20240501T0005Z_abcDEF123.json';

test('tar archives (ustar prefix, pax, GNU long names; plain and gzipped) are read member by member in the browser', async ({
  page,
}) => {
  await openApp(page);
  const tgz = (fmt: 'gnu' | 'pax' | 'ustar') => Buffer.from(LONGNAME_TGZ_BASE64[fmt], 'base64');
  await page.getByTestId('file-input').setInputFiles([
    { name: 'ustar.tar', mimeType: 'application/x-tar', buffer: gunzipSync(tgz('ustar')) },
    { name: 'gnu.tar', mimeType: 'application/x-tar', buffer: gunzipSync(tgz('gnu')) },
    { name: 'pax.tar.gz', mimeType: 'application/gzip', buffer: tgz('pax') },
  ]);
  await ingestDone(page);
  for (const path of [`ustar.tar!${TAR_LOG}`, `gnu.tar!${TAR_LOG}`, `pax.tar.gz!my exports é/${TAR_LOG}`]) {
    const row = await fileRow(page, path);
    await expect(row).toHaveAttribute('data-status', /ingested|duplicate/);
    expect(Number(await row.getAttribute('data-events'))).toBeGreaterThan(0);
  }
  await expect(await fileRow(page, `ustar.tar!exports/${'y'.repeat(120)}/events.json`)).toHaveAttribute(
    'data-status',
    /ingested|duplicate/,
  );
  await expect(await fileRow(page, `gnu.tar!exports/${'x'.repeat(120)}/events.json`)).toHaveAttribute(
    'data-status',
    /ingested|duplicate/,
  );
  await expect(await fileRow(page, 'ustar.tar')).toHaveAttribute('data-status', 'archive');
});
