import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error the build script is plain JavaScript (no declarations)
import { compile, moduleText, MODULES } from '../../scripts/build-wasm.mjs';
import { DELIVERY_SCAN_WASM_BASE64 } from '../../src/lib/ingest/deliveryScanWasm';
import { scanDelivery } from '../../src/lib/ingest/deliveryScan';
import { openInput } from '../../src/lib/ingest/open';
import { prepare, prepareByRecord, prepareReference, prepareWasm } from '../../src/lib/ingest/prepare';
import { CHUNK_EVENTS } from '../../src/lib/codec/segment';
import { kmsEvents, nestObjects, te, walk } from './helpers';
// @ts-expect-error plain JavaScript (no declarations)
import { mulberry32 } from '../../scripts/prng.mjs';
import { doc, ev, firstDifference, leaf } from './prepare-diff';

/**
 * The byte-level reader of S3 delivery documents (wasm/deliveryScan.ts, ingest/deliveryScan.ts) against the
 * JavaScript read: on every document it reads, `prepareWasm` must equal `prepareByRecord` exactly (field stores,
 * content and eventID hashes, columns, stored records), and every document it declines must still be read by
 * `prepare` as `prepareByRecord` reads it.
 */

/** `records` plus filler events, so that the document is stored as its source (MIN_SOURCE_BYTES, 64 KiB). */
function big(records: string[]): string {
  const out = records.slice();
  for (let i = 0; out.join(',').length < 70_000; i++) out.push(ev(1000 + i));
  return doc(out);
}

/** prepareWasm(text) against prepareByRecord, and prepare() against prepareByRecord. */
function compare(text: string | Uint8Array): { read: boolean; diff: string | null } {
  const l = leaf('doc.json', text, true);
  const want = prepareByRecord(l);
  const got = prepareWasm(l);
  const viaPrepare = firstDifference(prepare(l), want, 'prepare');
  if (!got) return { read: false, diff: viaPrepare };
  return { read: true, diff: firstDifference(got, want, 'prepareWasm') ?? viaPrepare };
}

describe('byte-level reader of S3 delivery documents (wasm/deliveryScan.ts)', () => {
  it('the committed module is the compile of wasm/deliveryScan.ts', async () => {
    const mod = MODULES.find((m: { source: string }) => m.source === 'wasm/deliveryScan.ts');
    const bytes: Uint8Array = await compile(mod);
    expect(Buffer.from(bytes).toString('base64')).toBe(DELIVERY_SCAN_WASM_BASE64);
    expect(readFileSync(new URL('../../src/lib/ingest/deliveryScanWasm.ts', import.meta.url), 'utf8')).toBe(
      moduleText(bytes, mod),
    );
  }, 60_000);

  it('reads generated KMS events of several blocks exactly as the record-by-record read', () => {
    const text = doc(kmsEvents(4500).map((e) => JSON.stringify(e)));
    expect(compare(text)).toEqual({ read: true, diff: null });
    const got = prepareWasm(leaf('d', text, true))!;
    expect(got.blocks.map((b) => b.n)).toEqual([2000, 2000, 500]);
    expect(got.records).toEqual(Uint32Array.from({ length: 4500 }, (_, i) => i));
    // the field stores hold what the events hold
    expect(got.blocks[0].fields.paths).toContain('requestParameters.keyId');
    expect(got.blocks[0].fields.nValues).toBeGreaterThan(100);
  });

  it('reads unusual but exact shapes as JavaScript does', () => {
    const cases: Record<string, string> = {
      'empty containers': ev(3, '"a":{},"b":[],"c":[{}],"d":[[]],"requestParameters":{"x":{}}'),
      literals: ev(4, '"a":null,"b":true,"c":false,"d":[null,true,false,0,-7,123456789012345]'),
      'userIdentity a string': ev(5).replace(/"userIdentity":\{[^}]*\}/, '"userIdentity":"someone"'),
      'userIdentity null': ev(6).replace(/"userIdentity":\{[^}]*\}/, '"userIdentity":null'),
      'userIdentity an array': ev(7).replace(/"userIdentity":\{[^}]*\}/, '"userIdentity":[{"arn":"a"}]'),
      'userIdentity empty': ev(8).replace(/"userIdentity":\{[^}]*\}/, '"userIdentity":{}'),
      'column members not strings': ev(9, '"readOnly":true,"eventType":null,"errorCode":5,"userAgent":{}'),
      'identity columns not strings': ev(10).replace('"type":"AssumedRole"', '"type":7,"accessKeyId":null'),
      'requestParameters an array': ev(11, '"requestParameters":[{"keyId":"k-in-array"}]'),
      'requestParameters a string': ev(12, '"requestParameters":"keyId"'),
      'both key ids': ev(13, '"requestParameters":{"KeyId":"upper","keyId":"lower"}'),
      'key id not a string': ev(14, '"requestParameters":{"keyId":42},"responseElements":{"keyId":"r"}'),
      'keyMetadata shapes': ev(15, '"responseElements":{"keyMetadata":[{"arn":"x"}],"keyId":""}'),
      'keyMetadata arn': ev(16, '"responseElements":{"keyMetadata":{"arn":"arn:aws:kms:us-east-1:1:key/k"}}'),
      resources: ev(17, '"resources":[{"ARN":"a1","type":"AWS::KMS::Key"},{"arn":"a2","Type":"t"},"x",null]'),
      'same key in sibling objects': ev(18, '"a":[{"k":1},{"k":2}],"b":{"k":{"k":3}}'),
      'no eventID': ev(19).replace(/,"eventID":"[^"]*"/, ''),
      'empty eventID': ev(20).replace(/"eventID":"[^"]*"/, '"eventID":""'),
      'eventID a number': ev(21).replace(/"eventID":"[^"]*"/, '"eventID":21'),
      'eventTime odd': ev(22).replace(/"eventTime":"[^"]*"/, '"eventTime":"2024-05-01 10:00:00.5+02:00"'),
      'no eventTime': ev(23).replace(/"eventTime":"[^"]*",/, ''),
      sessionCredentialFromConsole: ev(24, '"sessionCredentialFromConsole":"true","userAgent":"aws-cli/2"'),
      'value of 60,000 characters': ev(25, `"big":"${'x'.repeat(60_000)}"`),
      'nested 50 levels': ev(26, `"deep":${JSON.stringify(nestObjects(50))}`),
      '__proto__ key': ev(27, '"__proto__":{"polluted":1}'),
      'a policy document': ev(
        28,
        '"requestParameters":{"keyId":"k","policy":"{\\n  \\"Version\\": \\"2012-10-17\\",\\n\\t\\"Id\\": \\"key-default-1\\"\\n}"}',
      ),
      'every escape of a value': ev(29, '"s":"a\\"b\\/c\\bd\\fe\\nf\\rg\\th\\u0041\\u007f\\u001f"'),
      'the same value escaped and not': ev(30, '"a":"AB","b":"\\u0041B","c":["A\\u0042","AB"]'),
      'escapes in column members': ev(31, '"userAgent":"aws-cli \\"quoted\\"","errorCode":"\\u0041ccessDenied"'),
      'escapes in the members columns read': ev(
        32,
        '"requestParameters":{"keyId":"alias\\/my-key"},"resources":[{"ARN":"arn:aws:kms:us-east-1:1:key\\/k","type":"AWS::KMS::Key"}]',
      ),
      'an escaped eventID': ev(33).replace(/"eventID":"[^"]*"/, '"eventID":"e\\u002d33"'),
      'an escaped eventTime': ev(34).replace(/"eventTime":"[^"]*"/, '"eventTime":"2024-05-01T00:00:34\\u005a"'),
      // text past ASCII: hashed over its UTF-16 code units (two for a character past U+FFFF), as JavaScript does
      'non-ASCII text': ev(35, '"who":"Zoë","city":"Zürich","jp":"東京","emoji":"🔑 key","mixed":"a\\u0041ë🔑\\n"'),
      'each UTF-8 length at its bounds': ev(
        36,
        '"b":["\u0080","\u07ff","\u0800","\ud7ff","\ue000","\uffff","\u{10000}","\u{10ffff}"]'.replace(
          /\\u\{?([0-9a-f]+)\}?/g,
          (_, h: string) => String.fromCodePoint(parseInt(h, 16)),
        ),
      ),
      'non-ASCII keys': ev(37, '"clé":"v","🔑":{"ß":1,"日本":[{"ü":"ö"}]}'),
      'non-ASCII in column members': ev(
        38,
        '"userAgent":"Mozilla/5.0 (Ünïcode; 日本語)","errorCode":"Fehler ß","eventType":"Événement","sourceIPAddress":"внутренний"',
      ),
      'non-ASCII in the identity': ev(39).replace(
        /"userIdentity":\{[^}]*\}/,
        '"userIdentity":{"type":"IAMUser","principalId":"AIDAÄ","arn":"arn:aws:iam::111122223333:user/José",' +
          '"accountId":"111122223333","accessKeyId":"AKIAé0123","userName":"José 🔑","sessionContext":' +
          '{"sessionIssuer":{"userName":"Rôle","arn":"arn:aws:iam::111122223333:role/Rôle"},"attributes":{"mfaAuthenticated":"true"}}}',
      ),
      'non-ASCII in the first characters of an access key ID': ev(40).replace(
        '"accountId":"111122223333"}',
        '"accountId":"111122223333","accessKeyId":"ÄSIA0123"}',
      ),
      'an access key ID of 4 non-ASCII characters': ev(41).replace(
        '"accountId":"111122223333"}',
        '"accountId":"111122223333","accessKeyId":"ΑΚΙΑ"}',
      ),
      'non-ASCII in the members the key columns read': ev(
        42,
        '"requestParameters":{"keyId":"alias/clé","encryptionContext":{"aws:s3:arn":"arn:aws:s3:::bucket/Grüße/日本語.txt"}},' +
          '"resources":[{"ARN":"arn:aws:kms:us-east-1:1:key/ü","type":"AWS::KMS::Key"}]',
      ),
      'a non-ASCII eventID': ev(43).replace(/"eventID":"[^"]*"/, '"eventID":"é-43-🔑"'),
      // a fraction of zeros: the integer (JavaScript prints 500.0 as 500 and hashes that)
      'integers with a fraction of zeros': ev(
        47,
        '"additionalEventData":{"bytesTransferredIn":0.0,"bytesTransferredOut":500.0},"d":[-5.000,1.00,7]',
      ),
      'the same integer written both ways': ev(48, '"a":500,"b":500.0,"c":[500.00,"500"]'),
      'integers with a fraction of zeros in column members': ev(49, '"readOnly":1.0,"errorCode":0.00')
        .replace('"accountId":"111122223333"}', '"accountId":111122223333.0}')
        .replace('"type":"AssumedRole"', '"type":3.0'),
      'integers with a fraction of zeros in the members the key columns read': ev(
        50,
        '"requestParameters":{"keyId":42.0},"responseElements":{"keyId":7.00},"resources":[{"ARN":1.0}]',
      ),
      'a non-ASCII eventTime': ev(44).replace(/"eventTime":"[^"]*"/, '"eventTime":"2024-05-01T00:00:44Z ü"'),
    };
    for (const [name, record] of Object.entries(cases)) {
      expect({ name, ...compare(big([record])) }).toEqual({ name, read: true, diff: null });
    }
    // white space between every token but before a colon
    const spaced = big([ev(1), ev(2)])
      .replace(/([,{[])/g, '$1 \n\t')
      .replace(/([}\]])/g, '\r\n $1')
      .replace(/:(?=["{[0-9tfn-])/g, ': ');
    expect(spaced).toContain('{ \n\t"eventVersion": "1.08"');
    expect(compare(` ${spaced} \n`)).toEqual({ read: true, diff: null });
  });

  it('declines what it would not read exactly, and prepare then reads it with JavaScript', () => {
    const cases: Record<string, string> = {
      'an escaped backslash': big([ev(1, '"p":"C:\\\\Windows"')]),
      'an escaped key': big([ev(2, '"a\\u0062":1')]),
      'an escaped NUL': big([ev(14, '"p":"a\\u0000b"')]),
      'an escaped non-ASCII character': big([ev(15, '"p":"Zo\\u00eb"')]),
      'an unknown escape': big([ev(16, '"p":"a\\qb"')]),
      'a short \\u escape': big([ev(17, '"p":"a\\u00"')]),
      'a fraction': big([ev(4, '"n":1.5')]),
      'a fraction that is not all zeros': big([ev(4, '"n":1.01')]),
      'minus zero with a fraction': big([ev(4, '"n":-0.0')]),
      'an exponent after a fraction of zeros': big([ev(4, '"n":1.0e3')]),
      '16 digits and a fraction of zeros': big([ev(4, '"n":1234567890123456.0')]),
      'a point without digits': big([ev(4, '"n":1.')]),
      'an exponent': big([ev(5, '"n":1e3')]),
      'minus zero': big([ev(6, '"n":-0')]),
      '16 digits': big([ev(7, '"n":1234567890123456')]),
      'a repeated key': big([ev(8, '"eventName":"Again"')]),
      'a repeated nested key': big([ev(9, '"a":{"k":1,"k":2}')]),
      'an integer-like key': big([ev(10, '"a":{"10":1,"b":2}')]),
      'white space before a colon': big([ev(11, '"a" :1')]),
      'nesting past 60 levels': big([ev(12, `"deep":${JSON.stringify(nestObjects(70))}`)]),
      'a record that is not an event': big(['{"eventVersion":"1.08","eventSource":"kms.amazonaws.com"}']),
      'a record that is not an object': big(['[1,2]']),
      'a value of 64 KiB': big([ev(13, `"big":"${'x'.repeat(70_000)}"`)]),
      'another top-level key': big([]).replace('{"Records":', '{"Other":1,"Records":'),
      'text after the document': big([]) + ' x',
      'invalid JSON': big([]).replace('"eventName":"Decrypt"', '"eventName":Decrypt'),
      'a truncated document': big([]).slice(0, -5),
    };
    for (const [name, text] of Object.entries(cases)) {
      expect(scanDelivery(te.encode(text), CHUNK_EVENTS), name).toBeNull();
      expect({ name, ...compare(text) }).toEqual({ name, read: false, diff: null });
    }
    // bytes that are not UTF-8, inside a string (JavaScript reports the document as not UTF-8)
    const notUtf8: Record<string, number[]> = {
      'a stray continuation byte': [0x80],
      'an overlong 2-byte form': [0xc0, 0xaf],
      'an overlong 3-byte form': [0xe0, 0x80, 0xaf],
      'an overlong 4-byte form': [0xf0, 0x80, 0x80, 0xaf],
      'a surrogate': [0xed, 0xa0, 0x80],
      'past U+10FFFF': [0xf4, 0x90, 0x80, 0x80],
      'a lead byte F5': [0xf5, 0x80, 0x80, 0x80],
      'a byte FF': [0xff],
      'a sequence cut by the closing quote': [0xe2, 0x82],
      'a lead byte before ASCII': [0xc3, 0x78],
    };
    for (const [name, seq] of Object.entries(notUtf8)) {
      const text = te.encode(big([ev(45, '"p":"a@b"')]));
      const at = text.indexOf(0x40); // the @
      const bytes = new Uint8Array(text.length - 1 + seq.length);
      bytes.set(text.subarray(0, at));
      bytes.set(seq, at);
      bytes.set(text.subarray(at + 1), at + seq.length);
      expect(scanDelivery(bytes, CHUNK_EVENTS), name).toBeNull();
      expect({ name, ...compare(bytes) }).toEqual({ name, read: false, diff: null });
      expect(prepare(leaf('bad.json', bytes, true)).kind, name).toBe('corrupt');
    }
    // a document cut inside a character
    const cut = te.encode(big([ev(46, '"p":"日本"')]));
    const end = cut.indexOf(0xe6) + 1;
    expect(scanDelivery(cut.subarray(0, end), CHUNK_EVENTS)).toBeNull();
    expect(compare(cut.slice(0, end))).toEqual({ read: false, diff: null });
    // empty Records: JavaScript says what the document is
    expect(scanDelivery(te.encode('{"Records":[]}'), CHUNK_EVENTS)).toBeNull();
  });

  it('reads generated events with non-ASCII text in many members exactly as the record-by-record read', () => {
    const names = ['Zoë', 'José', 'Łukasz', '東京', 'Ünïcödé 🔑', 'محمد', '👩‍💻'];
    const records = kmsEvents(3000).map((e, i) => {
      const t = JSON.stringify(e);
      if (i % 3) return t;
      const who = names[i % names.length];
      return t.replace(
        /^\{/,
        `{"requestParameters_note":"${who} ${i}","tags":{"Owner":"${who}","Proyécto":"Ω-${i % 11}"},`,
      );
    });
    const text = doc(records);
    expect(text).toContain('Ünïcödé');
    expect(compare(text)).toEqual({ read: true, diff: null });
    expect(prepareWasm(leaf('d', text, true))!.blocks.map((b) => b.n)).toEqual([2000, 1000]);
  });

  it('on 3,000 randomly damaged documents, declines or agrees with JavaScript, and never throws', () => {
    const rnd: () => number = mulberry32(20261202);
    const base = te.encode(big(kmsEvents(60).map((e) => JSON.stringify(e))));
    const bytes = te.encode('{}[]",:\\ 0123456789-.eEtrufalsn\u0000\u00e9\n');
    let read = 0;
    for (let k = 0; k < 3000; k++) {
      const doc = base.slice();
      const edits = 1 + Math.floor(rnd() * 3);
      for (let j = 0; j < edits; j++) doc[Math.floor(rnd() * doc.length)] = bytes[Math.floor(rnd() * bytes.length)];
      const l = leaf(`damaged-${k}.json`, doc, true);
      const got = prepareWasm(l);
      if (!got) continue;
      read++;
      expect(firstDifference(got, prepareByRecord(l), `damaged ${k}`)).toBeNull();
    }
    // most edits land in values, which stay valid: those documents are still read (and must agree)
    expect(read).toBeGreaterThan(300);
  }, 120_000);

  it('leaves small documents and documents without their source to JavaScript', () => {
    const text = doc([ev(1), ev(2)]);
    expect(prepareWasm(leaf('small.json', text, true))).toBeNull();
    expect(prepareWasm(leaf('nosource.json', big([]), false))).toBeNull();
    expect(scanDelivery(te.encode(text), CHUNK_EVENTS)).not.toBeNull();
  });
});

/** The shared public corpus (../shared/datasets/public), present in CI; never copied into the repo. */
const PUBLIC = join(__dirname, '../../../shared/datasets/public');

describe.skipIf(!existsSync(join(PUBLIC, 'MANIFEST.json')))('byte-level reader on the public corpus', () => {
  it('reads every S3 delivery document it accepts exactly as the whole-document read', async () => {
    let read = 0;
    let declined = 0;
    const diffs: string[] = [];
    for (const file of walk(PUBLIC).sort()) {
      for await (const l of openInput(file, new Uint8Array(readFileSync(file)))) {
        if (!('bytes' in l)) continue;
        // every document, whatever its size (the ingest only gives the reader those stored as their source)
        const got = scanDelivery(l.bytes, CHUNK_EVENTS);
        if (!got) continue;
        const want = prepareReference(l);
        if (want.format !== 's3-delivery' || want.skipped) {
          diffs.push(`${l.path}: read, but JavaScript reads it as ${want.format} with ${want.skipped} skipped`);
          continue;
        }
        const d = firstDifference(
          { h: got.h, e: got.e, blocks: got.blocks },
          { h: want.h, e: want.e, blocks: want.blocks },
          l.path,
        );
        if (d) diffs.push(d);
        read++;
      }
      declined++;
    }
    expect(diffs).toEqual([]);
    expect(read).toBeGreaterThan(5);
    expect(declined).toBeGreaterThan(read);
  });
});
