import { describe, expect, it } from 'vitest';
import Papa from 'papaparse';
import { csvOf, jsonLinesOf, jsonLinesParts, recordsJsonOf, recordsJsonParts } from '../../src/lib/export/formats';

const T = Date.UTC(2024, 2, 1, 12, 0, 0);

describe('csvOf', () => {
  it('writes a header and the cells in column order; times as ISO UTC', () => {
    const rows: Record<string, string | number>[] = [
      { time: T, eventName: 'Decrypt', awsRegion: 'us-east-1', extra: 'ignored' },
      { time: T + 1234, eventName: 'Encrypt' },
      { time: NaN, eventName: 'NoTime', awsRegion: 'eu-west-1' },
    ];
    expect(csvOf(rows, ['time', 'eventName', 'awsRegion'])).toBe(
      'time,eventName,awsRegion\r\n' +
        '2024-03-01T12:00:00Z,Decrypt,us-east-1\r\n' +
        '2024-03-01T12:00:01.234Z,Encrypt,\r\n' +
        ',NoTime,eu-west-1\r\n',
    );
  });

  it('any column ending in "time" holding a number is a time; other numbers stay numbers', () => {
    expect(csvOf([{ eventTime: T, count: 42, bytes: -5 }], ['eventTime', 'count', 'bytes'])).toBe(
      'eventTime,count,bytes\r\n2024-03-01T12:00:00Z,42,-5\r\n',
    );
  });

  it('neutralises formula injection: a userAgent =HYPERLINK(...) is prefixed with a quote', () => {
    const out = csvOf([{ userAgent: '=HYPERLINK("http://x")', eventName: 'Decrypt' }], ['eventName', 'userAgent']);
    expect(out).toBe('eventName,userAgent\r\nDecrypt,"\'=HYPERLINK(""http://x"")"\r\n');
    const cell = Papa.parse<string[]>(out).data[1][1];
    expect(cell).toBe('\'=HYPERLINK("http://x")');
    expect(cell.startsWith('=')).toBe(false);
  });

  it('every formula-starting character is neutralised (= + - @ tab CR)', () => {
    const values = ['=1+1', '+SUM(A1)', '-2+3', '@SUM(A1)', '\tcmd', '\rcmd'];
    const out = csvOf(
      values.map((v) => ({ v })),
      ['v'],
    );
    const cells = Papa.parse<string[]>(out, { skipEmptyLines: true })
      .data.slice(1)
      .map((r) => r[0]);
    expect(cells).toEqual(values.map((v) => `'${v}`));
  });

  it('multi-line values starting with a formula character are neutralised too (issue 10)', () => {
    const values = [
      "=cmd|' /C calc'!A0\nsecond line",
      '+1\r\n2',
      '-2+3\nx',
      '@SUM(A1)\ny',
      '\tcmd\nz',
      '\rcmd\nw',
      '=A1\r',
    ];
    const out = csvOf(
      values.map((v) => ({ v })),
      ['v'],
    );
    const cells = Papa.parse<string[]>(out, { newline: '\r\n', skipEmptyLines: true })
      .data.slice(1)
      .map((r) => r[0]);
    expect(cells).toEqual(values.map((v) => `'${v}`));
  });

  it('quotes commas, quotes and line breaks (RFC 4180) and round-trips through a CSV parser', () => {
    const rows: Record<string, string | number>[] = [
      { a: 'x,y', b: 'say "hi"', c: 'line1\nline2' },
      { a: 'plain', b: '', c: 'cr\r\nlf' },
    ];
    const out = csvOf(rows, ['a', 'b', 'c']);
    expect(out.split('\r\n')[1]).toBe('"x,y","say ""hi""","line1\nline2"');
    const parsed = Papa.parse<string[]>(out, { newline: '\r\n', skipEmptyLines: true }).data;
    expect(parsed).toEqual([
      ['a', 'b', 'c'],
      ['x,y', 'say "hi"', 'line1\nline2'],
      ['plain', '', 'cr\r\nlf'],
    ]);
  });

  it('no rows: the header only', () => {
    expect(csvOf([], ['time', 'eventName'])).toBe('time,eventName\r\n');
  });
});

const events = [
  {
    eventVersion: '1.08',
    eventTime: '2024-03-01T12:00:00Z',
    eventSource: 'kms.amazonaws.com',
    eventName: 'Decrypt',
    requestParameters: { keyId: 'k' },
  },
  {
    eventTime: '2024-03-01T12:00:01Z',
    eventSource: 'kms.amazonaws.com',
    eventName: 'Encrypt',
    resources: [{ ARN: 'arn:aws:kms:us-east-1:1:key/k' }],
  },
  { eventSource: 'cloudhsm.amazonaws.com', eventName: 'CreateCluster', note: 'unicode ✓ "quoted" \\ back' },
];

describe('Records JSON', () => {
  it('round-trips: JSON.parse of the output gives back the events', () => {
    const texts = events.map((e) => JSON.stringify(e));
    expect(JSON.parse(recordsJsonOf(texts))).toEqual({ Records: events });
  });

  it('keeps each text byte for byte (no re-serialisation), pretty-printed ones too', () => {
    const texts = ['{"eventName": "A",  "eventSource":"s"}', JSON.stringify(events[1], null, 2)];
    expect(recordsJsonOf(texts)).toBe(`{"Records":[${texts[0]},${texts[1]}]}`);
    expect(JSON.parse(recordsJsonOf(texts)).Records[1]).toEqual(events[1]);
  });

  it('no events: an empty Records array', () => {
    expect(recordsJsonOf([])).toBe('{"Records":[]}');
    expect(JSON.parse(recordsJsonOf([]))).toEqual({ Records: [] });
  });

  it('parts build the same document, and a Blob of them reads back', async () => {
    const texts = events.map((e) => JSON.stringify(e));
    const parts = recordsJsonParts(texts);
    expect(parts).toEqual(['{"Records":[', texts[0], ',', texts[1], ',', texts[2], ']}']);
    expect(parts.join('')).toBe(recordsJsonOf(texts));
    expect(JSON.parse(await new Blob(parts).text())).toEqual({ Records: events });
    // any iterable works (e.g. a generator over pages of stored texts)
    function* gen() {
      yield* texts;
    }
    expect(recordsJsonParts(gen()).join('')).toBe(recordsJsonOf(texts));
  });
});

describe('JSON lines', () => {
  it('one compact event per line; pretty-printed inputs are re-serialised', () => {
    const texts = [
      JSON.stringify(events[0], null, 2),
      JSON.stringify(events[1], null, '\t').replaceAll('\n', '\r\n'),
      JSON.stringify(events[2]),
    ];
    const out = jsonLinesOf(texts);
    expect(out.endsWith('\n')).toBe(true);
    const lines = out.slice(0, -1).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => JSON.parse(l))).toEqual(events);
    expect(lines[0]).toBe(JSON.stringify(events[0]));
    expect(lines[1]).toBe(JSON.stringify(events[1]));
    expect(out).not.toContain('\r');
  });

  it('a single-line text is kept as is (original spacing and key order)', () => {
    const t = '{"eventName": "Decrypt", "eventSource" : "kms.amazonaws.com"}';
    expect(jsonLinesOf([t])).toBe(`${t}\n`);
  });

  it('strings holding escaped newlines stay on one line', () => {
    const t = JSON.stringify({ eventName: 'X', errorMessage: 'a\nb' });
    expect(t.includes('\n')).toBe(false);
    expect(jsonLinesOf([t])).toBe(`${t}\n`);
    expect(JSON.parse(jsonLinesOf([JSON.stringify({ errorMessage: 'a\nb' }, null, 2)]))).toEqual({
      errorMessage: 'a\nb',
    });
  });

  it('no events: empty output; parts are one line each', async () => {
    expect(jsonLinesOf([])).toBe('');
    const texts = [JSON.stringify(events[0], null, 2), JSON.stringify(events[1])];
    const parts = jsonLinesParts(texts);
    expect(parts).toEqual([`${JSON.stringify(events[0])}\n`, `${texts[1]}\n`]);
    expect(await new Blob(parts).text()).toBe(jsonLinesOf(texts));
  });

  it('a pretty-printed text that is not JSON throws', () => {
    expect(() => jsonLinesOf(['{\n  "broken": \n'])).toThrow(SyntaxError);
  });
});
