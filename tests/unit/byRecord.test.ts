import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openInput } from '../../src/lib/ingest/open';
import { cat, kmsEvents, nestArrays, nestObjects, te } from './helpers';
import { diffByRecord, doc, ev, leaf, nested } from './prepare-diff';
import { deliveryRecords } from '../../src/lib/ingest/parse';

/**
 * prepare()'s JavaScript read of S3 delivery documents, record by record (prepareByRecord: deliveryRecords in
 * ingest/parse.ts splits the Records array and each record is parsed alone), against the whole-document parse
 * (prepareReference): the same Prepared, field for field (hashes, field stores, columns, texts, skipped records
 * and reasons), but for the parsed events it does not keep. It is what prepare() reads when the byte-level reader
 * (prepareWasm, tests/unit/deliveryScan.test.ts) declines a document or the document is not stored as its source.
 * Crafted documents, then every document of the public corpus when it is present. Where a crafted case could pass
 * by falling back to the whole parse, it also checks which path was taken (deliveryRecords).
 */

/** S3 delivery documents of every shape, read record by record: name → text. */
const DELIVERY: Record<string, string> = {
  'plain KMS events': JSON.stringify({ Records: kmsEvents(40) }),
  'string escapes': doc([
    ev(1, String.raw`"s1":"q\"q","s2":"b\\s","s3":"\/x","s4":"\b\f\n\r\t","s5":"\u00e9\u20AC","s6":"\ud83d\ude00"`),
    ev(2, String.raw`"s7":"\ud800","s8":"x\udc00y","s9":"\u0041BC","s10":"\\","s11":"\"","s12":"a\\\"b"`),
    ev(3, String.raw`"s1":"q\"q","s2":"b\\s","s6":"😀","s9":"ABC","requestParameters":{"keyId":"k\/1"}`),
    ev(4, String.raw`"s1":"q\"q","s2":"b\\s","s9":"\u0041BC","userAgent":"aws\u002dcli \"x\"","errorCode":"\\"`),
    ev(
      5,
      String.raw`"s9":"ABC","userAgent":"aws-cli \"x\"","errorCode":"\\","eventSource":"kms.amazonaws.com"`,
    ).replace('"eventSource":"kms.amazonaws.com",', ''),
  ]),
  'U+0000 in values': doc([
    ev(1, String.raw`"z":"a\u0000b","z2":"\u0000","errorCode":"x\u0000"`),
    ev(2, String.raw`"z":"a\u0000b","z2":"\ufffd","errorCode":"x\ufffd"`),
    ev(3, String.raw`"z":"a\ufffdb","z3":["\u0000",{"q":"\u0000\u0000"}]`),
  ]),
  'non-ASCII text': doc([ev(1, '"n":"é😀中","ké":"v","😀":{"中":"x"}'), ev(2, '"n":"é😀中","ké":"w"')]),
  numbers: doc([
    ev(
      1,
      '"n":[0,-0,1.5,1.50,1e2,1E+2,-1e-7,9007199254740993,9007199254740992,123456789012345,1234567890123456,' +
        '1e400,-1e400,0.1,100.0,5e-324,-5,-0.0,0.0,1e-400,12345678901234567890]',
    ),
    ev(2, '"n1":9007199254740993,"n2":-0,"requestParameters":{"numberOfBytes":32,"ratio":0.5,"big":1e21}'),
    ev(3, '"n1":9007199254740992,"n2":0,"requestParameters":{"numberOfBytes":"32","ratio":0.50,"big":1E21}'),
    ev(4, '"awsRegion":1.5e0,"recipientAccountId":111122223333,"errorCode":-0').replace('"awsRegion":"us-east-1",', ''),
  ]),
  literals: doc([
    ev(1, '"t":true,"f":false,"z":null,"arr":[true,false,null],"responseElements":null,"readOnly":true'),
    ev(2, '"t":"true","f":"false","z":"null","arr":[null,false,true],"readOnly":"true"'),
  ]),
  'empty objects and arrays': doc([
    ev(1, '"o":{},"a":[],"aa":[[]],"ao":[{}],"oo":{"x":{}},"resources":[],"requestParameters":{}'),
    ev(2, '"o":[],"a":{},"aa":[[],[[]]],"ao":[{},{}],"errorCode":{},"userAgent":[]'),
  ]),
  'arrays of arrays and of objects': doc([
    ev(1, '"m":[[1,2],[3,[4,"x"]],[]],"resources":[{"ARN":"a","type":"t"},{"ARN":"b"},{"type":"t2","ARN":"c"}]'),
    ev(2, '"m":[[1,[2]],[3,4,"x"]],"resources":[{"type":"t","ARN":"a"}]'),
    ev(3, '"m":[1,[2,[3,[4,[5]]]]],"resources":[[{"ARN":"a"}],{"ARN":["b","c"]}]'),
  ]),
  'column paths holding every type': doc([
    ev(1, '"awsRegion":{"a":[1,{"b":null}]},"recipientAccountId":5,"sourceIPAddress":null,"userAgent":["x",1]').replace(
      '"awsRegion":"us-east-1",',
      '',
    ),
    ev(2, '"errorCode":{"x":{"y":"z"}},"eventType":true,"readOnly":"true","userIdentity.type":"literal"'),
    ev(3, '"errorCode":"AccessDenied","eventType":"AwsApiCall","sourceIPAddress":"kms.amazonaws.com"'),
    ev(4, '"errorCode":"AccessDenied","eventType":"AwsApiCall","sourceIPAddress":"198.51.100.1"'),
  ]),
  'userIdentity shapes': doc(
    [
      '"userIdentity":{}',
      '"userIdentity":"someone"',
      '"userIdentity":null',
      '"userIdentity":[{"type":"IAMUser","accountId":"1","accessKeyId":"AKIA"},{"arn":"x"}]',
      '"userIdentity":{"type":{"a":1},"accountId":5,"accessKeyId":null,"sessionContext":{"attributes":{}}}',
      '"userIdentity":{"accessKeyId":"AKIA1","type":"IAMUser","accountId":"222233334444","userName":"bob"}',
      '"userIdentity":{"accessKeyId":"AKIA1","type":"IAMUser","accountId":"222233334444","userName":"bob"}',
    ].map((u, i) => ev(i, '"x":1').replace(/"userIdentity":\{[^}]*\}/, u)),
  ),
  'white space everywhere': [
    ' \r\n\t{ "Records" :\n [ \n',
    '{ "eventSource" : "kms.amazonaws.com" ,\n\t"eventName"\r\n:\t"Decrypt" , "eventID" : "a" ,',
    ' "userIdentity" : { "type" : "Root" , "x" : [ 1 , { "y" : { } } , [ ] ] } , "n" : -1.50e+3 ,',
    ' "t" : true , "f" : false , "z" : null , "e" : { } , "a" : [ ] }\n ,\n',
    '{"eventSource":"kms.amazonaws.com","eventName":"Decrypt","eventID":"b","userIdentity":{"type":"Root"}}',
    ' ]\n, "other" : { "Records" : [ 1 ] } } \n',
  ].join(''),
  'pretty-printed document': JSON.stringify({ Records: kmsEvents(12) }, null, 2),
  'eventID variants': doc([
    ev(1).replace('"eventID":"e-1"', '"eventID":""'),
    ev(2).replace('"eventID":"e-2"', '"eventID":42'),
    ev(3).replace('"eventID":"e-3"', String.raw`"eventID":"e-\u0033"`),
    ev(4).replace('"eventID":"e-4",', ''),
    ev(5).replace('"eventID":"e-5"', '"eventID":null'),
    ev(6).replace('"eventID":"e-6"', '"eventID":{"id":"e-6"}'),
    ev(7),
    ev(8).replace('"eventID":"e-8"', '"eventID":"e-7"'),
  ]),
  '__proto__ keys': doc([ev(1, '"__proto__":{"x":1},"requestParameters":{"__proto__":"v","constructor":1}')]),
  'keys that are not integers': doc([ev(1, '"requestParameters":{"b":1,"1a":2,"-1":3,"1.5":4,"":5," 1":6}')]),
  'nesting around the stored depth (66)': doc([
    ev(1, `"d1":${nested(63, '"leaf"')},"d2":${nested(64, '"leaf"')},"d3":${nested(65, '"leaf"')}`),
    ev(2, `"d1":${nested(66, '"leaf"')},"d2":${nested(67, '[1,{"b":2},[]]')},"d3":${nested(70, '{}')}`),
    ev(3, `"d4":${nested(64, '"x"', '[', ']')},"d5":${nested(65, '"x"', '[', ']')},"d6":${nested(66, '[]', '[', ']')}`),
    ev(4, `"d7":${nested(65, '{"k":"v","l":[true,null]}')},"d1":${nested(66, '"leaf"')}`),
    ev(5, `"requestParameters":${nested(80, '{"p":1.5,"q":"\\u0000"}')},"errorCode":${nested(90, '1')}`),
  ]),
  'records nested too deep are skipped': doc([
    ev(1),
    ev(2, `"deep":${JSON.stringify(nestObjects(300))}`),
    ev(3, `"deep":${JSON.stringify(nestArrays(300))}`),
    ev(4, `"ok":${JSON.stringify(nestArrays(255))}`),
    ev(5, `"deep":${JSON.stringify(nestArrays(256))}`),
    ev(6, `"deep":${JSON.stringify(nestObjects(256))},"after":"x"`),
    ev(7, `"errorCode":${JSON.stringify(nestArrays(300))}`),
    ev(8, `"userIdentity.type":${JSON.stringify(nestObjects(290))}`),
    ev(9, `"ok":${JSON.stringify(nestObjects(255))}`),
  ]),
  'long values are cut in the field store': doc([
    ev(1, `"long":"${'x'.repeat(70_000)}","long0":"\\u0000${'y'.repeat(70_000)}"`),
    ev(2, `"long":"${'x'.repeat(70_000)}","userAgent":"${'u'.repeat(70_000)}"`),
    ev(3, `"long":"${'x'.repeat(65_536)}","long2":"${'x'.repeat(65_537)}"`),
  ]),
  'other members around Records': `{"x":{"Records":[1]},"y":"\\"Records\\":[","Records":[${ev(1)},${ev(2)}],"z":[{"a":"]"}]}`,
  'an empty Records array': '{"Records":[]}',
};

/**
 * S3 delivery documents that JSON.parse does not read as written (a repeated key keeps the last value at the first
 * key's place, integer keys come first, escaped or repeated top-level keys): name → text.
 */
const KEY_QUIRKS: Record<string, string> = {
  'a repeated key': doc([ev(1, '"x":1,"x":2'), ev(2)]),
  'a repeated key in a nested object': doc([ev(1, '"requestParameters":{"a":1,"b":2,"a":3}')]),
  'a key repeated through an escape': doc([ev(1, String.raw`"requestParameters":{"key":1,"k\u0065y":2}`)]),
  'a repeated key in a column value': doc([ev(1, '"errorCode":{"a":1,"a":2}')]),
  'a repeated key in an unstored depth': doc([ev(1, `"d":${nested(70, '{"a":1,"a":2}')}`)]),
  'a repeated key with a space before a colon elsewhere': doc([ev(1, '"x":1,"x":2'), ev(2, '"y" :1')]),
  'an integer key': doc([ev(1, '"requestParameters":{"b":1,"10":2}')]),
  'a top-level key written with an escape': `{"Rec\\u006frds":[${ev(1)}]}`,
  'two Records members': `{"Records":[${ev(1)},${ev(2)}],"Records":[${ev(3)},${ev(4)}]}`,
};

describe('record-by-record read against the whole-document parse', () => {
  for (const [name, text] of Object.entries(DELIVERY)) {
    it(`reads ${name} record by record, as the whole parse reads it`, () => {
      // no records: left to the whole parse, which says the document holds no events
      if (name === 'an empty Records array') expect(deliveryRecords(text)).toBeNull();
      else expect(deliveryRecords(text)).not.toBeNull();
      for (const source of [false, true]) {
        const { diff, got } = diffByRecord(leaf(name, text, source));
        expect(diff).toBeNull();
        if (name !== 'an empty Records array') expect(got.events).toEqual([]);
      }
    });
  }

  for (const [name, text] of Object.entries(KEY_QUIRKS)) {
    it(`gives the whole parse's result for ${name}`, () => {
      const { diff, got } = diffByRecord(leaf(name, text));
      expect(diff).toBeNull();
      expect(got.kind).toBe('events');
    });
  }

  it('reads two Records members whole: JSON.parse keeps the last', () => {
    const text = `{"Records":[${ev(1)},${ev(2)}],"Records":[${ev(3)}]}`;
    expect(deliveryRecords(text)).toBeNull();
    const { diff, got } = diffByRecord(leaf('two', text));
    expect(diff).toBeNull();
    expect(got.texts!.map((t) => JSON.parse(t).eventID)).toEqual(['e-3']);
  });

  it('reads a document whole when a record is not an event, counting what it skips', () => {
    for (const bad of ['null', '3', '[1]', '{"eventSource":"kms.amazonaws.com"}', '"x"']) {
      const text = doc([ev(1), bad, ev(2)]);
      expect(deliveryRecords(text)).not.toBeNull(); // split, then given up at the record
      const { diff, got } = diffByRecord(leaf('bad', text));
      expect(diff).toBeNull();
      expect(got.skipped).toBe(1);
      expect(got.h.length / 2).toBe(2);
    }
  });

  it('reports broken JSON as the whole parse does, inside a record or outside', () => {
    for (const text of [
      doc([ev(1), ev(2).slice(0, -1)]),
      doc([ev(1), ev(2) + ' x']),
      `{"Records":[${ev(1)}],}`,
      `{"Records":[${ev(1)}]} trailing`,
      `{"Records":[${ev(1)}],"other":[}`,
      `{"Records":[${ev(1)},]}`,
      `{"Records":[${ev(1)}`,
      `{"Records":[${ev(1)} ${ev(2)}]}`,
    ]) {
      const { diff, got } = diffByRecord(leaf('broken', text));
      expect(diff, text).toBeNull();
      expect(got.kind, text).toBe('corrupt');
    }
  });

  it('reads a document with a byte order mark, other top-level members and white space', () => {
    const text = ` \n{ "before" : {"Records":[1]}, "Records" : [ ${ev(1)} ,\n ${ev(2)} ] , "after": "]" }\n`;
    expect(deliveryRecords(text)).not.toBeNull();
    for (const bytes of [te.encode(text), cat(new Uint8Array([0xef, 0xbb, 0xbf]), te.encode(text))]) {
      const { diff, got } = diffByRecord(leaf('ws', bytes));
      expect(diff).toBeNull();
      expect(got.h.length / 2).toBe(2);
    }
  });

  it('leaves documents that are not S3 delivery files to the whole parse', () => {
    for (const text of [
      JSON.stringify(kmsEvents(2)),
      JSON.stringify({ Events: [] }),
      JSON.stringify(kmsEvents(1)[0]),
      '{"Records":"x"}',
      '{"Records":null}',
    ]) {
      expect(deliveryRecords(text)).toBeNull();
      expect(diffByRecord(leaf('other', text)).diff).toBeNull();
    }
  });
});

/** The shared public corpus (../shared/datasets/public), present in CI; never copied into the repo. */
const ROOT = join(__dirname, '../../../shared/datasets/public');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}

describe.skipIf(!existsSync(join(ROOT, 'MANIFEST.json')))('record-by-record read on the public corpus', () => {
  it('gives the whole parse result for every document of every file', async () => {
    let split = 0;
    let documents = 0;
    const diffs: string[] = [];
    for (const file of walk(ROOT).sort()) {
      for await (const l of openInput(file, new Uint8Array(readFileSync(file)))) {
        if (!('bytes' in l)) continue;
        documents++;
        const byRecord = diffByRecord(l);
        if (byRecord.diff) diffs.push(`record by record: ${byRecord.diff}`);
        if (byRecord.got.format === 's3-delivery' && byRecord.got.events.length === 0) split++;
      }
    }
    expect(diffs).toEqual([]);
    expect(documents).toBeGreaterThan(50);
    expect(split).toBeGreaterThan(5);
  });
});
