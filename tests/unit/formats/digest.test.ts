import { describe, expect, it } from 'vitest';
import { digest, isDigest } from '../../../src/lib/ingest/formats/digest';
import { FORMATS } from '../../../src/lib/ingest/formats';
import { parseText } from '../../../src/lib/ingest/parse';
import { digestDoc, kmsEvent } from '../helpers';

describe('digest format', () => {
  it('detects a digest file', () => {
    expect(isDigest(digestDoc())).toBe(true);
    expect(isDigest({ digestStartTime: 'a', digestEndTime: 'b', logFiles: [] })).toBe(true);
  });

  it('needs both times as strings and logFiles as an array', () => {
    const d = digestDoc();
    expect(isDigest({ ...d, logFiles: {} })).toBe(false);
    expect(isDigest({ ...d, digestStartTime: 1 })).toBe(false);
    const { digestEndTime: _, ...noEnd } = d;
    expect(isDigest(noEnd)).toBe(false);
    expect(isDigest([d])).toBe(false);
    expect(isDigest(null)).toBe(false);
  });

  it('is checked first, and extracts no events', () => {
    expect(FORMATS[0]).toBe(digest);
    expect(digest.extract(digestDoc())).toEqual({ events: [], skipped: 0, notes: [] });
  });

  it('parseText returns the digest document itself', () => {
    const d = digestDoc();
    const out = parseText(JSON.stringify(d, null, 2));
    expect(out).toEqual({ kind: 'digest', digest: d });
  });

  it('a digest with no log files is still a digest (hours with no events have one too)', () => {
    const d = { ...digestDoc(), logFiles: [], newestEventTime: null, oldestEventTime: null };
    expect(parseText(JSON.stringify(d))).toEqual({ kind: 'digest', digest: d });
  });

  it('a digest-like document with a broken logFiles is not a digest', () => {
    const out = parseText(JSON.stringify({ ...digestDoc(), logFiles: 'x' }));
    expect(out).toEqual({ kind: 'not-cloudtrail', reason: 'valid JSON (an object) but no CloudTrail events' });
  });

  it('digest lines in JSON lines: a digest alone is a digest, events win over digests', () => {
    const d = digestDoc();
    const two = JSON.stringify(d) + '\n' + JSON.stringify({ ...d, digestEndTime: 'later' }) + '\n';
    expect(parseText(two)).toEqual({ kind: 'digest', digest: d });
    const mixed = JSON.stringify(d) + '\n' + JSON.stringify(kmsEvent(1)) + '\n';
    const out = parseText(mixed);
    expect(out.kind === 'events' && out.events).toEqual([kmsEvent(1)]);
  });
});
