import { describe, expect, it } from 'vitest';
import { gunzipSync, gzipSync, strToU8, zipSync, type Zippable } from 'fflate';
import { packTar } from 'modern-tar';
import { CancelledError, gunzip, memberName, openInput, type Leaf, type Source } from '../../src/lib/ingest/open';
import { parseText } from '../../src/lib/ingest/parse';
import { parseS3Path } from '../../src/lib/cloudtrail/s3path';
import { prepare } from '../../src/lib/ingest/prepare';
import { blob, cat, kmsEvents, leafText, leavesOf, noise, s3File, td, te } from './helpers';
import { LONGNAME_TGZ_BASE64 } from './tar-fixtures';

const LOG =
  'AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01/111122223333_CloudTrail_us-east-1_20240501T0005Z_abcDEF123.json.gz';

const sources: [string, (b: Uint8Array) => Source][] = [
  ['Uint8Array', (b) => b],
  ['Blob', blob],
];

function problem(l: Leaf): { status: string; reason: string } {
  if (!('status' in l)) throw new Error(`leaf ${l.path} was read (${l.bytes.length} bytes), expected a problem`);
  return { status: l.status, reason: l.reason };
}

/** Byte equality (vitest's deep equality is very slow on megabytes). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const base64Bytes = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

/** A ustar archive of these entries (a name ending in `/` and no data is a folder), written by modern-tar. */
function createTar(entries: { name: string; data?: string | Uint8Array }[]): Promise<Uint8Array> {
  return packTar(
    entries.map(({ name, data }) => {
      if (data === undefined) return { header: { name, type: 'directory' as const, size: 0 } };
      const body = typeof data === 'string' ? te.encode(data) : data;
      return { header: { name, size: body.length }, body };
    }),
  );
}

function summary(leaves: Leaf[]): [string, string][] {
  return leaves.map((l) => [l.path, 'status' in l ? `${l.status}: ${l.reason}` : td.decode(l.bytes)]);
}

describe.each(sources)('openInput on a %s', (_, src) => {
  it('a plain file is one leaf with its bytes', async () => {
    const bytes = te.encode(s3File(kmsEvents(3)));
    const leaves = await leavesOf('a.json', src(bytes));
    expect(leaves).toHaveLength(1);
    expect(leaves[0]).toMatchObject({ path: 'a.json', bytes, compressed: false });
    // the source kept as the stored copy is the input itself
    const leaf = leaves[0] as { source?: Blob | Uint8Array };
    expect(leaf.source instanceof Blob ? leaf.source.size : leaf.source?.length).toBe(bytes.length);
  });

  it('a gzipped file is one leaf with the decompressed bytes', async () => {
    const text = s3File(kmsEvents(50));
    const leaves = await leavesOf('a.json.gz', src(gzipSync(te.encode(text))));
    expect(leaves).toHaveLength(1);
    expect(leaves[0].path).toBe('a.json.gz');
    expect('compressed' in leaves[0] && leaves[0].compressed).toBe(true);
    expect(leafText(leaves[0])).toBe(text);
  });

  it('a multi-member gzip (one S3 file split across members) yields the whole file', async () => {
    const text = s3File(kmsEvents(40));
    const b = te.encode(text);
    const cuts = [0, 1000, 1001, 7777, b.length];
    const gz = cat(...cuts.slice(1).map((c, k) => gzipSync(b.subarray(cuts[k], c))));
    const leaves = await leavesOf('multi.json.gz', src(gz));
    expect(leaves).toHaveLength(1);
    expect(leafText(leaves[0])).toBe(text);
    const out = parseText(leafText(leaves[0]));
    expect(out.kind === 'events' && out.events).toHaveLength(40);
  });

  it('a multi-member gzip of JSON lines, members larger than a read chunk', async () => {
    const rows = kmsEvents(6000).map((e) => JSON.stringify(e));
    const half = rows.length / 2;
    const a = te.encode(rows.slice(0, half).join('\n') + '\n');
    const b = te.encode(rows.slice(half).join('\n') + '\n');
    expect(a.length).toBeGreaterThan(1 << 20);
    // level 0: stored blocks, so each member is over 1 MiB and members straddle read chunks
    const gz = cat(gzipSync(a, { level: 0 }), gzipSync(b, { level: 0 }));
    const leaves = await leavesOf('lines.json.gz', src(gz));
    expect(leaves).toHaveLength(1);
    const got = (leaves[0] as { bytes: Uint8Array }).bytes;
    expect(got.length).toBe(a.length + b.length);
    expect(td.decode(got)).toBe(td.decode(a) + td.decode(b));
    const out = parseText(td.decode(got));
    expect(out.kind === 'events' && out.events.length).toBe(6000);
  });

  it('a multi-member gzip whose last member is empty', async () => {
    const text = s3File(kmsEvents(2));
    const gz = cat(gzipSync(te.encode(text)), gzipSync(new Uint8Array(0)));
    expect(leafText((await leavesOf('x.gz', src(gz)))[0])).toBe(text);
  });

  it.each([1, 4, 8, 12])('a gzip missing its last %i bytes is corrupt (truncated)', async (cut) => {
    const gz = gzipSync(te.encode(s3File(kmsEvents(30))));
    const leaves = await leavesOf('cut.json.gz', src(gz.subarray(0, gz.length - cut)));
    expect(leaves).toHaveLength(1);
    const p = problem(leaves[0]);
    expect(p.status).toBe('corrupt');
    expect(p.reason).toMatch(/truncated|EOF/i);
  });

  it('a gzip cut in the middle is corrupt (truncated)', async () => {
    const gz = gzipSync(te.encode(s3File(kmsEvents(30))));
    const leaves = await leavesOf('cut.json.gz', src(gz.subarray(0, gz.length >> 1)));
    expect(leaves).toHaveLength(1);
    expect(problem(leaves[0])).toEqual({ status: 'corrupt', reason: expect.stringMatching(/truncated|EOF/i) });
  });

  it('a multi-member gzip cut inside its second member is corrupt', async () => {
    const b = te.encode(s3File(kmsEvents(30)));
    const m1 = gzipSync(b.subarray(0, 3000));
    const m2 = gzipSync(b.subarray(3000));
    const gz = cat(m1, m2);
    for (const keep of [gz.length - 4, m1.length + (m2.length >> 1), m1.length + 5]) {
      const leaves = await leavesOf('cut.json.gz', src(gz.subarray(0, keep)));
      expect(leaves).toHaveLength(1);
      expect(problem(leaves[0])).toEqual({ status: 'corrupt', reason: expect.stringMatching(/truncated|EOF/i) });
    }
  });

  it('a gzip with a broken deflate stream is corrupt', async () => {
    const gz = gzipSync(te.encode(s3File(kmsEvents(30))));
    const bad = gz.slice();
    for (let i = 10; i < 60; i++) bad[i] = 0xff;
    const leaves = await leavesOf('bad.json.gz', src(bad));
    expect(leaves).toHaveLength(1);
    expect(problem(leaves[0]).status).toBe('corrupt');
  });

  it('the empty file is not CloudTrail', async () => {
    expect(summary(await leavesOf('empty.json', src(new Uint8Array(0))))).toEqual([
      ['empty.json', 'not-cloudtrail: empty file (0 bytes)'],
    ]);
  });

  it('a binary file (PNG) is not CloudTrail', async () => {
    const png = cat(
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]),
      noise(200),
    );
    const leaves = await leavesOf('img.png', src(png));
    expect(leaves).toHaveLength(1);
    expect(problem(leaves[0])).toEqual({ status: 'not-cloudtrail', reason: expect.stringContaining('binary') });
  });

  it('gzip of an empty file and of a binary file are not CloudTrail', async () => {
    expect(problem((await leavesOf('e.gz', src(gzipSync(new Uint8Array(0)))))[0])).toEqual({
      status: 'not-cloudtrail',
      reason: 'gzip of an empty file',
    });
    expect(problem((await leavesOf('b.gz', src(gzipSync(noise(5000)))))[0])).toEqual({
      status: 'not-cloudtrail',
      reason: 'gzip of a binary file (not text)',
    });
  });

  it('zip members in nested folders keep their paths', async () => {
    const a = s3File(kmsEvents(2));
    const b = s3File(kmsEvents(3, 10));
    const z = zipSync({
      'top.json': strToU8('[]'),
      dir: { sub: { 'file.json': strToU8(a) }, 'b.json.gz': gzipSync(strToU8(b)) },
    });
    const leaves = await leavesOf('archive.zip', src(z));
    expect(summary(leaves).sort()).toEqual(
      [
        ['archive.zip!dir/b.json.gz', b],
        ['archive.zip!dir/sub/file.json', a],
        ['archive.zip!top.json', '[]'],
      ].sort(),
    );
    const gzLeaf = leaves.find((l) => l.path.endsWith('.gz'))!;
    expect('compressed' in gzLeaf && gzLeaf.compressed).toBe(true);
  });

  it('zip member names are cleaned: no "..", no leading "/", "\\\\" as "/"', async () => {
    const z = zipSync({
      '../evil.json': strToU8('{"a":1}'),
      '/abs/x.json': strToU8('{"b":2}'),
      'win\\path\\y.json': strToU8('{"c":3}'),
      'a/../../b/./z.json': strToU8('{}'),
    });
    const paths = (await leavesOf('archive.zip', src(z))).map((l) => l.path).sort();
    expect(paths).toEqual([
      'archive.zip!a/b/z.json',
      'archive.zip!abs/x.json',
      'archive.zip!evil.json',
      'archive.zip!win/path/y.json',
    ]);
    for (const p of paths) expect(p).not.toContain('..');
  });

  it('a stored (uncompressed) zip member', async () => {
    const text = s3File(kmsEvents(5));
    const z = zipSync({ 'stored.json': [strToU8(text), { level: 0 }] });
    expect(z[8] | (z[9] << 8)).toBe(0); // compression method 0 in the local header
    const leaves = await leavesOf('s.zip', src(z));
    expect(summary(leaves)).toEqual([['s.zip!stored.json', text]]);
  });

  it('a zip with stored and deflated members larger than a read chunk', async () => {
    const big = te.encode(
      kmsEvents(4000)
        .map((e) => JSON.stringify(e))
        .join('\n'),
    );
    expect(big.length).toBeGreaterThan(1 << 20);
    const z = zipSync({
      'stored.json': [big, { level: 0 }],
      'deflated.json': [big, { level: 9 }],
      'after.json': strToU8('{"x":1}'),
    });
    const leaves = await leavesOf('big.zip', src(z));
    expect(leaves.map((l) => l.path)).toEqual(['big.zip!stored.json', 'big.zip!deflated.json', 'big.zip!after.json']);
    expect(sameBytes((leaves[0] as { bytes: Uint8Array }).bytes, big)).toBe(true);
    expect(sameBytes((leaves[1] as { bytes: Uint8Array }).bytes, big)).toBe(true);
  });

  it('an empty zip archive', async () => {
    expect(summary(await leavesOf('e.zip', src(zipSync({}))))).toEqual([
      ['e.zip', 'not-cloudtrail: zip archive with no members'],
    ]);
  });

  it('empty and binary zip members are reported, others read', async () => {
    const z = zipSync({
      'empty.json': new Uint8Array(0),
      'bin.dat': noise(3000),
      'ok.json': strToU8('{"Records":[]}'),
    });
    expect(summary(await leavesOf('m.zip', src(z))).sort()).toEqual(
      [
        ['m.zip!bin.dat', 'not-cloudtrail: binary file (not text, not gzip, zip or tar)'],
        ['m.zip!empty.json', 'not-cloudtrail: empty file (0 bytes)'],
        ['m.zip!ok.json', '{"Records":[]}'],
      ].sort(),
    );
  });

  it('a zip inside a zip', async () => {
    const text = s3File(kmsEvents(4));
    const inner = zipSync({ [LOG]: gzipSync(strToU8(text)) });
    const outer = zipSync({ 'outer.json': strToU8('{}'), nested: { 'inner.zip': inner } }, { level: 0 });
    const s = summary(await leavesOf('o.zip', src(outer)));
    expect(s.sort()).toEqual(
      [
        [`o.zip!nested/inner.zip!${LOG}`, text],
        ['o.zip!outer.json', '{}'],
      ].sort(),
    );
    expect(parseS3Path(s[0][0])).toMatchObject({ account: '111122223333', region: 'us-east-1', fileType: 'log' });
  });

  it('a zip with an unsupported compression method names it', async () => {
    const z = zipSync({ 'a.json': strToU8('{"a":1}'), 'b.json': strToU8('{"b":2}') }, { level: 0 });
    // patch member a's method to 12 (bzip2) in its local header (offset 8) and central directory entry (offset 10)
    z[8] = 12;
    const cd = z.findIndex((_, i) => z[i] === 0x50 && z[i + 1] === 0x4b && z[i + 2] === 1 && z[i + 3] === 2);
    z[cd + 10] = 12;
    expect(summary(await leavesOf('m.zip', src(z))).sort()).toEqual(
      [
        ['m.zip!a.json', 'corrupt: unsupported zip compression method 12'],
        ['m.zip!b.json', '{"b":2}'],
      ].sort(),
    );
  });

  it('a zip cut in the middle: members before the cut are kept, a corrupt leaf reports the rest, no throw', async () => {
    const files: Zippable = {};
    const texts: string[] = [];
    for (let k = 0; k < 4; k++) {
      texts.push(s3File(kmsEvents(40, k * 100)));
      files[`part${k}.json`] = strToU8(texts[k]);
    }
    const z = zipSync(files);
    const leaves = await leavesOf('cut.zip', src(z.subarray(0, Math.floor(z.length * 0.6))));
    const read = leaves.filter((l) => !('status' in l));
    const bad = leaves.filter((l) => 'status' in l);
    expect(read.length).toBeGreaterThanOrEqual(1);
    for (const l of read) expect(leafText(l)).toBe(texts[+l.path.slice(-6, -5)]);
    expect(bad.length).toBeGreaterThanOrEqual(1);
    for (const l of bad) expect(problem(l).status).toBe('corrupt');
    expect(read.length).toBeLessThan(4);
  });

  it('a zip cut exactly between two members: the members before are kept, a corrupt leaf names the truncation', async () => {
    const z = zipSync(
      { 'a.json': strToU8('{"a":1}'), 'b.json': strToU8('{"b":2}'), 'c.json': strToU8('{"c":3}') },
      { level: 0 },
    );
    const starts: number[] = [];
    for (let i = 0; i + 3 < z.length; i++)
      if (z[i] === 0x50 && z[i + 1] === 0x4b && z[i + 2] === 3 && z[i + 3] === 4) starts.push(i);
    expect(starts).toHaveLength(3);
    for (const cut of [starts[2], starts[2] + 10, starts[1] + 2]) {
      const s = summary(await leavesOf('cut.zip', src(z.subarray(0, cut))));
      expect(s[0]).toEqual(['cut.zip!a.json', '{"a":1}']);
      expect(s[s.length - 1][0]).toBe('cut.zip');
      expect(s[s.length - 1][1]).toMatch(/^corrupt: zip archive truncated/);
    }
  });

  it('a zip with a comment is whole', async () => {
    const z = zipSync({ 'a.json': strToU8('{"a":1}') });
    expect([...z.subarray(z.length - 22, z.length - 18)]).toEqual([0x50, 0x4b, 5, 6]);
    // set the end record's comment length and append the comment
    const withComment = cat(z.subarray(0, z.length - 2), new Uint8Array([14, 0]), te.encode('made by a test'));
    expect(summary(await leavesOf('c.zip', src(withComment)))).toEqual([['c.zip!a.json', '{"a":1}']]);
  });

  it.each([0.1, 0.5, 0.9, 0.99])('a zip cut at %f of its length never throws and reports a corrupt leaf', async (f) => {
    const z = zipSync({ 'a.json': strToU8(s3File(kmsEvents(30))), 'b.json': strToU8(s3File(kmsEvents(30, 50))) });
    const leaves = await leavesOf('cut.zip', src(z.subarray(0, Math.floor(z.length * f))));
    expect(leaves.some((l) => 'status' in l && l.status === 'corrupt')).toBe(true);
  });

  it('a tar with nested folders (directories are not leaves)', async () => {
    const a = s3File(kmsEvents(2));
    const t = await createTar([
      { name: 'logs/' },
      { name: 'logs/2024/' },
      { name: 'logs/2024/a.json', data: a },
      { name: 'logs/2024/05/b.json.gz', data: gzipSync(strToU8('[1]')) },
      { name: 'top.json', data: '{}' },
    ]);
    expect(summary(await leavesOf('x.tar', src(t)))).toEqual([
      ['x.tar!logs/2024/a.json', a],
      ['x.tar!logs/2024/05/b.json.gz', '[1]'],
      ['x.tar!top.json', '{}'],
    ]);
  });

  it('a tar.gz with nested folders', async () => {
    const a = s3File(kmsEvents(3));
    const t = gzipSync(
      await createTar([
        { name: 'AWSLogs/' },
        { name: 'AWSLogs/111122223333/CloudTrail/us-east-1/x.json', data: a },
        { name: 'other/readme.txt', data: 'hello' },
      ]),
    );
    expect(summary(await leavesOf('x.tar.gz', src(t)))).toEqual([
      ['x.tar.gz!AWSLogs/111122223333/CloudTrail/us-east-1/x.json', a],
      ['x.tar.gz!other/readme.txt', 'hello'],
    ]);
  });

  const TAR_LOG =
    'AWSLogs/o-aa111bb222/111122223333/CloudTrail/us-east-1/2024/05/01/111122223333_CloudTrail_us-east-1_20240501T0005Z_abcDEF123.json';
  it.each([
    ['gnu', TAR_LOG, `exports/${'x'.repeat(120)}/events.json`],
    ['pax', `my exports é/${TAR_LOG}`, 'short name.json'],
    ['ustar', TAR_LOG, `exports/${'y'.repeat(120)}/events.json`],
  ])('long member paths in %s-format tars are read whole (tar.gz and tar)', async (fmt, first, second) => {
    // written by Python's tarfile (tests/fixtures/make-tars.py)
    const tgz = base64Bytes(LONGNAME_TGZ_BASE64[fmt as 'gnu' | 'pax' | 'ustar']);
    for (const [name, bytes] of [
      ['l.tar.gz', tgz],
      ['l.tar', gunzipSync(tgz)],
    ] as const) {
      const leaves = await leavesOf(name, src(bytes));
      expect(leaves.map((l) => l.path)).toEqual([`${name}!${first}`, `${name}!${second}`]);
      const out = parseText(leafText(leaves[0]));
      expect(out.kind === 'events' && out.events[0].eventID).toBe('11111111-2222-4333-8444-555555555555');
      expect(parseS3Path(leaves[0].path)).toMatchObject({
        orgId: 'o-aa111bb222',
        account: '111122223333',
        region: 'us-east-1',
        fileType: 'log',
      });
    }
  });

  it('a tar inside a tar', async () => {
    const inner = await createTar([{ name: 'in/inner.json', data: '{"inner":true}' }]);
    const outer = await createTar([
      { name: 'first.json', data: '{"first":true}' },
      { name: 'sub/inner.tar', data: inner },
      { name: 'last.json', data: '{"last":true}' },
    ]);
    expect(summary(await leavesOf('o.tar', src(outer)))).toEqual([
      ['o.tar!first.json', '{"first":true}'],
      ['o.tar!sub/inner.tar!in/inner.json', '{"inner":true}'],
      ['o.tar!last.json', '{"last":true}'],
    ]);
  });

  it('a tar stored in a zip, and a tar.gz in a zip', async () => {
    const tar = await createTar([{ name: 'd/t.json', data: '{"t":1}' }]);
    const z = zipSync({ 'pad.txt': strToU8('x'.repeat(1000)), 'a.tar': [tar, { level: 0 }], 'b.tgz': gzipSync(tar) });
    expect(summary(await leavesOf('z.zip', src(z))).sort()).toEqual(
      [
        ['z.zip!a.tar!d/t.json', '{"t":1}'],
        ['z.zip!b.tgz!d/t.json', '{"t":1}'],
        ['z.zip!pad.txt', 'x'.repeat(1000)],
      ].sort(),
    );
  });

  it('archives nested 4 deep are read, 5 deep are refused', async () => {
    let b = te.encode('{"deep":true}');
    for (let k = 0; k < 4; k++) b = gzipSync(b);
    expect(summary(await leavesOf('d4.gz', src(b)))).toEqual([['d4.gz', '{"deep":true}']]);
    b = gzipSync(b);
    expect(summary(await leavesOf('d5.gz', src(b)))).toEqual([['d5.gz', 'corrupt: archives nested more than 4 deep']]);
  });

  it('a truncated tar is corrupt and does not throw', async () => {
    const t = await createTar([{ name: 'a.json', data: 'x'.repeat(2000) }]);
    const leaves = await leavesOf('t.tar', src(t.subarray(0, 1024)));
    expect(leaves).toHaveLength(1);
    expect(problem(leaves[0]).status).toBe('corrupt');
  });
});

describe('openInput: limits and control', () => {
  it('a tar is read as a stream: its first member is handed over before the archive is read to its end', async () => {
    const big = te.encode(s3File(kmsEvents(2)).padEnd(16 << 20, ' '));
    const t = await createTar([
      { name: 'first.json', data: '{"first":true}' },
      { name: 'big.json', data: big },
      { name: 'last.json', data: '{"last":true}' },
    ]);
    let read = 0;
    const seenAt: [string, number][] = [];
    for await (const l of openInput('s.tar', t, { progress: (n) => (read = n) })) seenAt.push([l.path, read]);
    expect(seenAt.map(([p]) => p)).toEqual(['s.tar!first.json', 's.tar!big.json', 's.tar!last.json']);
    expect(seenAt[0][1]).toBeLessThan(t.length / 2);
    expect(seenAt[2][1]).toBe(t.length);
  });

  it('a tar member declared larger than 256 MiB is corrupt, naming the cap, without being read; one cut short says so', async () => {
    const t = await createTar([
      { name: 'ok.json', data: '{"ok":1}' },
      { name: 'huge.json', data: '{}' },
    ]);
    // the second header (at 1024) claims 300 MiB: rewrite its size field and checksum
    const h = t.subarray(1024, 1536);
    h.set(te.encode((300 * 1024 * 1024).toString(8).padStart(11, '0') + '\0'), 124);
    h.fill(0x20, 148, 156);
    const sum = h.reduce((a, b) => a + b, 0);
    h.set(te.encode(sum.toString(8).padStart(6, '0') + '\0 '), 148);
    expect(summary(await leavesOf('cap.tar', blob(t.subarray(0, 2048))))).toEqual([
      ['cap.tar!ok.json', '{"ok":1}'],
      ['cap.tar!huge.json', expect.stringMatching(/^corrupt: cap\.tar!huge\.json exceeds the 256 MiB cap/)],
    ]);
    const cut = await createTar([{ name: 'a.json', data: 'x'.repeat(2000) }]);
    expect(summary(await leavesOf('cut.tar', cut.subarray(0, 1024)))).toEqual([
      ['cut.tar!a.json', 'corrupt: tar member truncated: the archive ends after 512 of its 2000 bytes'],
    ]);
  });

  it('a plain text file over 256 MiB is corrupt, naming the cap, in memory (as tar members are) or as a Blob', async () => {
    const big = new Uint8Array(256 * 1024 * 1024 + 1).fill(0x20);
    big[0] = 0x7b;
    for (const src of [big, blob(big)]) {
      const leaves = await leavesOf('huge.json', src);
      expect(leaves).toHaveLength(1);
      expect(problem(leaves[0])).toEqual({
        status: 'corrupt',
        reason: expect.stringMatching(/huge\.json exceeds the 256 MiB cap/),
      });
    }
  });

  it('gunzip stops at the cap it is given', async () => {
    const gz = gzipSync(new Uint8Array(100_000));
    await expect(gunzip(gz, 50_000, 'test')).rejects.toThrow(/cap/);
    expect((await gunzip(gz, 100_000, 'test')).length).toBe(100_000);
  });

  it('reports progress up to the size of the input', async () => {
    const gz = gzipSync(te.encode(s3File(kmsEvents(100))));
    const seen: number[] = [];
    await leavesOf('p.json.gz', blob(gz), { progress: (n) => seen.push(n) });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[seen.length - 1]).toBe(gz.length);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThanOrEqual(seen[i - 1]);
  });

  it('a cancelled read throws CancelledError', async () => {
    const gz = gzipSync(te.encode(s3File(kmsEvents(10))));
    await expect(leavesOf('c.json.gz', blob(gz), { cancel: { cancelled: true } })).rejects.toBeInstanceOf(
      CancelledError,
    );
    const z = zipSync({ 'a.json': strToU8('{}') });
    await expect(leavesOf('c.zip', z, { cancel: { cancelled: true } })).rejects.toBeInstanceOf(CancelledError);
    const t = await createTar([{ name: 'a.json', data: '{}' }]);
    await expect(leavesOf('c.tar', t, { cancel: { cancelled: true } })).rejects.toBeInstanceOf(CancelledError);
  });

  it('leaves from archives prepare to events end to end', async () => {
    const evs = kmsEvents(7);
    const z = zipSync({ AWSLogs: { 'x.json.gz': gzipSync(strToU8(s3File(evs))) } });
    const out = [];
    for await (const l of openInput('in.zip', blob(z))) out.push(prepare(l));
    expect(out).toHaveLength(1);
    expect(out[0].kind).toBe('events');
    expect(out[0].texts!.map((t) => JSON.parse(t))).toEqual(evs);
  });
});

describe('memberName', () => {
  it.each([
    ['a/b/c.json', 'a/b/c.json'],
    ['../evil.json', 'evil.json'],
    ['../../etc/passwd', 'etc/passwd'],
    ['/abs/path.json', 'abs/path.json'],
    ['a\\b\\c.json', 'a/b/c.json'],
    ['./x/./y.json', 'x/y.json'],
    ['a//b.json', 'a/b.json'],
    ['..', '(unnamed)'],
    ['', '(unnamed)'],
  ])('%j → %j', (input, out) => {
    expect(memberName(input)).toBe(out);
  });
});
