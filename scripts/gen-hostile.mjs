#!/usr/bin/env node
/**
 * Generates KeyTrail's hostile-input corpus: broken and malicious files that must each end with a clear
 * per-file error or a safe ingest, with the tab alive and every other file ingested. Used by
 * tests/e2e/hostile.spec.ts and tests/unit/hostile.test.ts; not committed (hostile-data/ is gitignored).
 *
 *   node scripts/gen-hostile.mjs [outDir]      (default: hostile-data/)
 *
 * Deterministic (seeded PRNG, gzip mtime 0). Skips the work when outDir/STAMP already holds this generator's
 * version, so tests can call it every run. Bombs are made with streaming zlib: a 1 GiB bomb is ~1 MB on disk
 * and never held in memory.
 *
 * Output:
 *   corpus/           the cases, each named for what it is (CASES.json lists them with the expected outcome)
 *   many/             10,000 tiny single-event files (f00000.json ... f09999.json)
 *   CASES.json        { path: { status, reason?: regex source, events?, new? } } for corpus/
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const VERSION = '4';
const root = fileURLToPath(new URL('..', import.meta.url));
const out = process.argv[2] ?? join(root, 'hostile-data');
if (existsSync(join(out, 'STAMP')) && readFileSync(join(out, 'STAMP'), 'utf8') === VERSION) {
  console.log(`hostile corpus up to date in ${out}`);
  process.exit(0);
}
rmSync(out, { recursive: true, force: true });
const corpus = join(out, 'corpus');
mkdirSync(join(corpus, 'dup'), { recursive: true });
mkdirSync(join(out, 'many'), { recursive: true });
const t0 = Date.now();

// ---------------------------------------------------------------------------------------------- helpers
let seed = 0x6b657974;
/** mulberry32 */
function rand() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const MiB = 1024 * 1024;

/** A KMS event with a deterministic, distinct eventID (series `s`, number `i`). */
function event(s, i, extra = {}) {
  const sec = i % 60,
    min = Math.floor(i / 60) % 60,
    hour = Math.floor(i / 3600) % 24;
  return {
    eventVersion: '1.08',
    userIdentity: {
      type: 'IAMUser',
      principalId: 'AIDAEXAMPLE',
      arn: 'arn:aws:iam::111122223333:user/hostile',
      accountId: '111122223333',
      userName: 'hostile',
    },
    eventTime: `2024-06-0${1 + (s % 9)}T${String(hour).padStart(2, '0')}:${String(min).padStart(2, '0')}:${String(sec).padStart(2, '0')}Z`,
    eventSource: 'kms.amazonaws.com',
    eventName: 'Decrypt',
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.9',
    userAgent: 'aws-cli/2.15.0',
    requestParameters: { encryptionAlgorithm: 'SYMMETRIC_DEFAULT' },
    responseElements: null,
    requestID: `req-${s}-${i}`,
    eventID: `${String(s).padStart(8, '0')}-0000-4000-8000-${String(i).padStart(12, '0')}`,
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: '111122223333',
    eventCategory: 'Management',
    resources: [
      {
        accountId: '111122223333',
        type: 'AWS::KMS::Key',
        ARN: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      },
    ],
    ...extra,
  };
}
const records = (s, n, extra) => JSON.stringify({ Records: Array.from({ length: n }, (_, i) => event(s, i, extra)) });
const gz = (text) => zlib.gzipSync(Buffer.from(text), { level: 9 });

/** Streams `total` bytes made by repeating `unit` (after `prefix`) through a zlib compressor into a buffer. */
async function compressRepeated(make, prefix, unit, total) {
  const z = make();
  const parts = [];
  z.on('data', (d) => parts.push(d));
  const done = once(z, 'end');
  let crc = 0;
  const block = Buffer.alloc(4 * MiB, unit);
  let left = total;
  const write = async (b) => {
    crc = zlib.crc32(b, crc);
    if (!z.write(b)) await once(z, 'drain');
  };
  if (prefix) {
    await write(Buffer.from(prefix));
    left -= prefix.length;
  }
  while (left > 0) {
    const b = left >= block.length ? block : block.subarray(0, left);
    await write(b);
    left -= b.length;
  }
  z.end();
  await done;
  return { data: Buffer.concat(parts), crc: crc >>> 0, size: total };
}

/**
 * A minimal zip writer (stored or deflated members, no zip64): `members` are { name, data (as stored),
 * method 0|8, crc, size (uncompressed) }. Names are written exactly as given, `../` and all.
 */
function zip(members) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const m of members) {
    const name = Buffer.from(m.name);
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt16LE(0x0800, 6); // UTF-8 names
    h.writeUInt16LE(m.method, 8);
    h.writeUInt32LE(0, 10); // time, date
    h.writeUInt32LE(m.crc, 14);
    h.writeUInt32LE(m.data.length, 18);
    h.writeUInt32LE(m.size, 22);
    h.writeUInt16LE(name.length, 26);
    h.writeUInt16LE(0, 28);
    locals.push(h, name, m.data);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(20, 4);
    c.writeUInt16LE(20, 6);
    c.writeUInt16LE(0x0800, 8);
    c.writeUInt16LE(m.method, 10);
    c.writeUInt32LE(0, 12);
    c.writeUInt32LE(m.crc, 16);
    c.writeUInt32LE(m.data.length, 20);
    c.writeUInt32LE(m.size, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt32LE(offset, 42);
    centrals.push(c, name);
    offset += 30 + name.length + m.data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
const stored = (name, data) => ({
  name,
  data: Buffer.from(data),
  method: 0,
  crc: zlib.crc32(Buffer.from(data)) >>> 0,
  size: Buffer.byteLength(data),
});
const deflated = (name, data) => ({
  name,
  data: zlib.deflateRawSync(Buffer.from(data)),
  method: 8,
  crc: zlib.crc32(Buffer.from(data)) >>> 0,
  size: Buffer.byteLength(data),
});

const cases = {};
/** Writes one case and records what the app must show for it. */
function put(name, data, expect) {
  writeFileSync(join(corpus, name), data);
  if (expect) cases[name] = expect;
}

// ---------------------------------------------------------------------------------------------- the cases
// Good files: ingested around the bad ones.
const good1 = gz(records(1, 50));
put('good-1.json.gz', good1, { status: 'ingested|duplicate', events: 50 });
put('good-2.json', records(2, 30), { status: 'ingested', events: 30, new: 30 });

// Duplicate files under different names: one of the three copies stores the 50 events, the others are duplicates.
put('copy-of-good-1.json.gz', good1, { status: 'ingested|duplicate', events: 50 });
put('dup/renamed-good-1.gz', good1, { status: 'ingested|duplicate', events: 50 });

// Truncated gzip.
const trunc = gz(records(3, 40));
put('truncated.json.gz', trunc.subarray(0, Math.floor(trunc.length / 2)), {
  status: 'corrupt',
  reason: 'truncated|unexpected end|EOF',
});

// Garbage behind a gzip magic number.
put(
  'garbage.json.gz',
  Buffer.concat([
    Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]),
    Buffer.from(Array.from({ length: 4096 }, () => Math.floor(rand() * 256))),
  ]),
  { status: 'corrupt', reason: '.' },
);

// Gzip bomb: 1.1 GiB of JSON white space inside {"Records":[ ... (about 1 MB compressed).
const bomb = await compressRepeated(() => zlib.createGzip({ level: 9 }), '{"Records":[', 0x20, 1100 * MiB);
put('gzip-bomb.json.gz', bomb.data, { status: 'corrupt', reason: 'exceeds the 256 MiB cap' });

// Zip with path-traversal member names: read as members with the `..` segments and leading `/` removed, never as paths.
put(
  'zip-slip.zip',
  zip([
    stored('../../../../../etc/cron.d/evil.json', records(4, 1)),
    stored('/absolute/path.json', records(5, 1)),
    stored('..\\..\\windows\\system32\\evil.json', records(6, 1)),
    stored('ok/../../../up.json', records(7, 1)),
  ]),
  { status: 'archive', events: 4 },
);
cases['zip-slip.zip!etc/cron.d/evil.json'] = { status: 'ingested', events: 1, new: 1 };
cases['zip-slip.zip!absolute/path.json'] = { status: 'ingested', events: 1, new: 1 };
cases['zip-slip.zip!windows/system32/evil.json'] = { status: 'ingested', events: 1, new: 1 };
cases['zip-slip.zip!ok/up.json'] = { status: 'ingested', events: 1, new: 1 };

// Zip bomb: one deflated member of 1 GiB of white space (about 1 MB compressed), between two good members.
const zbomb = await compressRepeated(() => zlib.createDeflateRaw({ level: 9 }), '{"Records":[', 0x20, 1024 * MiB);
put(
  'zip-bomb.zip',
  zip([
    deflated('before.json', records(8, 5)),
    { name: 'bomb.json', data: zbomb.data, method: 8, crc: zbomb.crc, size: zbomb.size },
    deflated('after.json', records(9, 5)),
  ]),
  { status: 'archive', events: 10 },
);
cases['zip-bomb.zip!before.json'] = { status: 'ingested', events: 5, new: 5 };
cases['zip-bomb.zip!bomb.json'] = { status: 'corrupt', reason: 'exceeds the 256 MiB cap' };
cases['zip-bomb.zip!after.json'] = { status: 'ingested', events: 5, new: 5 };

// A zip of gzip bombs: each member is capped at 256 MiB, and together they hit the 2 GiB per-archive cap.
const gbomb = await compressRepeated(() => zlib.createGzip({ level: 9 }), '', 0x20, 300 * MiB);
const gbombs = [];
for (let k = 0; k < 10; k++)
  gbombs.push({
    name: `bomb-${k}.json.gz`,
    data: gbomb.data,
    method: 0,
    crc: zlib.crc32(gbomb.data) >>> 0,
    size: gbomb.data.length,
  });
gbombs.push(stored('zz-last.json', records(10, 3)));
put('zip-of-gzip-bombs.zip', zip(gbombs), { status: 'archive|corrupt' });
for (let k = 0; k < 10; k++) cases[`zip-of-gzip-bombs.zip!bomb-${k}.json.gz`] = { status: 'corrupt', reason: 'cap' };
cases['zip-of-gzip-bombs.zip!zz-last.json'] = { status: 'corrupt', reason: '2048 MiB' };

// Archives nested deeper than the limit (a 42.zip in miniature).
let nested = zip([stored('deep.json', records(11, 1))]);
for (let k = 0; k < 5; k++) nested = zip([stored(`level-${k}.zip`, nested)]);
put('nested-6-deep.zip', nested, { status: 'archive' });

// Invalid UTF-8 inside a JSON string.
put(
  'invalid-utf8.json',
  Buffer.concat([
    Buffer.from(records(12, 2).slice(0, 200)),
    Buffer.from([0xc3, 0x28, 0xff, 0xfe]),
    Buffer.from(records(12, 2).slice(200)),
  ]),
  {
    status: 'corrupt',
    reason: 'not valid UTF-8',
  },
);

// A 100 MB single-line JSON document (valid: 10,000 events of ~10 KB each, one line, no newline at all).
{
  const f = createWriteStream(join(corpus, 'single-line-100mb.json'));
  f.write('{"Records":[');
  const pad = 'x'.repeat(10_000);
  for (let i = 0; i < 10_000; i++) {
    const e = JSON.stringify(
      event(13, i, { requestParameters: { keyId: `alias/pad-${i}`, encryptionContext: { blob: pad } } }),
    );
    if (!f.write(i ? ',' + e : e)) await once(f, 'drain');
  }
  f.end(']}');
  await once(f, 'finish');
  cases['single-line-100mb.json'] = { status: 'ingested', events: 10_000, new: 10_000 };
}

// JSON nested 100,000 levels deep: inside an event's requestParameters (that record is skipped, its neighbour kept),
// and as a bare document.
const deep = '['.repeat(100_000) + ']'.repeat(100_000);
put(
  'deep-100k-in-event.json',
  `{"Records":[${JSON.stringify(event(14, 0)).replace('"requestParameters":{"encryptionAlgorithm":"SYMMETRIC_DEFAULT"}', `"requestParameters":${deep}`)},${JSON.stringify(event(14, 1))}]}`,
  {
    status: 'ingested',
    events: 1,
    new: 1,
    reason: 'nested more than 256',
  },
);
put('deep-100k.json', deep, { status: 'not-cloudtrail', reason: '.' });
put('deep-100k-unclosed.json', '{"a":'.repeat(100_000), { status: 'corrupt', reason: 'bad JSON|too deeply nested' });

// "Records" that is not an array, and records of the wrong types.
put('records-object.json', '{"Records":{"eventSource":"kms.amazonaws.com","eventName":"Decrypt"}}', {
  status: 'corrupt',
  reason: 'not an array',
});
put('records-string.json', '{"Records":"[]"}', { status: 'corrupt', reason: 'not an array' });
put('records-null.json', '{"Records":null}', { status: 'corrupt', reason: 'not an array' });
put(
  'wrong-types.json',
  JSON.stringify({
    Records: [
      1,
      'x',
      null,
      [],
      true,
      { eventSource: 5, eventName: true },
      { eventSource: 'kms.amazonaws.com' },
      // an event whose fields all have the wrong types: stored (it is an event), indexed without crashing
      {
        eventSource: 'kms.amazonaws.com',
        eventName: 'Encrypt',
        eventTime: 12345,
        eventID: 42,
        awsRegion: { a: 1 },
        sourceIPAddress: [1, 2],
        userIdentity: 'root',
        userAgent: null,
        errorCode: ['x'],
        errorMessage: { m: 1 },
        readOnly: 'maybe',
        recipientAccountId: 111122223333,
        requestParameters: 'keyId',
        responseElements: [1],
        resources: 'arn:aws:kms:us-east-1:111122223333:key/x',
        eventType: false,
        sharedEventID: {},
        requestID: 7,
        vpcEndpointId: [],
        additionalEventData: 'x',
        tlsDetails: 1,
      },
      event(15, 0, {
        eventTime: 'not a time',
        resources: [null, 1, 'x', { ARN: 5 }],
        userIdentity: { type: 7, arn: {}, sessionContext: 'x' },
      }),
      event(15, 1, { eventTime: '2024-13-45T99:99:99Z' }),
    ],
  }),
  { status: 'ingested', events: 3, new: 3, reason: '7 record' },
);

// Empty and binary files.
put('empty.json', Buffer.alloc(0), { status: 'not-cloudtrail', reason: 'empty' });
put('random.bin', Buffer.from(Array.from({ length: 65536 }, () => Math.floor(rand() * 256))), {
  status: 'not-cloudtrail',
  reason: 'binary',
});
put('image.png', readFileSync(join(root, 'public/icons/icon-192.png')), { status: 'not-cloudtrail', reason: 'binary' });
put(
  'program.elf.json',
  Buffer.concat([
    Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]),
    Buffer.alloc(8),
    Buffer.from(Array.from({ length: 8192 }, () => Math.floor(rand() * 256))),
  ]),
  { status: 'not-cloudtrail', reason: 'binary' },
);
put('utf16.json', Buffer.from('\ufeff' + records(16, 1), 'utf16le'), { status: 'not-cloudtrail', reason: 'UTF-16' });

// Enormous fields: a 5 MB userAgent and a 5 MB errorMessage.
put(
  'huge-fields.json',
  records(17, 2, { userAgent: 'A'.repeat(5 * MiB), errorCode: 'AccessDenied', errorMessage: 'M'.repeat(5 * MiB) }),
  { status: 'ingested', events: 2, new: 2 },
);

// 10,000 tiny files (one event each).
for (let i = 0; i < 10_000; i++)
  writeFileSync(
    join(out, 'many', `f${String(i).padStart(5, '0')}.json`),
    JSON.stringify(event(20 + Math.floor(i / 1000), i % 1000)),
  );

writeFileSync(join(out, 'CASES.json'), JSON.stringify(cases, null, 1));
writeFileSync(join(out, 'STAMP'), VERSION);
console.log(
  `hostile corpus written to ${out} in ${((Date.now() - t0) / 1000).toFixed(1)} s (gzip bomb ${bomb.data.length} bytes -> ${bomb.size}; zip bomb member ${zbomb.data.length} -> ${zbomb.size})`,
);
