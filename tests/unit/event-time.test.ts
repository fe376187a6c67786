import { afterEach, describe, expect, it } from 'vitest';
import { eventTimeMs, parseEventTime } from '../../src/lib/cloudtrail/event';
import { buildColumns } from '../../src/lib/codec/segment';

const ZONES = ['UTC', 'America/New_York', 'Asia/Kolkata', 'Pacific/Chatham'];
const savedTz = process.env.TZ;

afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

describe('eventTime is read as UTC whatever the machine time zone (issue 10, item 6)', () => {
  for (const tz of ZONES) {
    it(`TZ=${tz}: an eventTime without an offset is UTC`, () => {
      process.env.TZ = tz; // Node applies a new TZ at once
      expect(new Date(2024, 4, 1).getTimezoneOffset() === 0).toBe(tz === 'UTC'); // the zone really is in effect
      const ev = { eventSource: 'kms.amazonaws.com', eventName: 'Decrypt', eventTime: '2024-05-01T10:00:00' };
      expect(eventTimeMs(ev)).toBe(Date.UTC(2024, 4, 1, 10, 0, 0));
      expect(buildColumns([ev]).time[0]).toBe(Date.UTC(2024, 4, 1, 10, 0, 0));
      expect(parseEventTime('2024-05-01 10:00')).toBe(Date.UTC(2024, 4, 1, 10, 0, 0));
      expect(parseEventTime('2024-05-01')).toBe(Date.UTC(2024, 4, 1));
    });
  }

  it('offsets and fractions as written', () => {
    expect(parseEventTime('2024-05-01T10:00:00Z')).toBe(Date.UTC(2024, 4, 1, 10));
    expect(parseEventTime('2024-05-01T12:30:00+02:30')).toBe(Date.UTC(2024, 4, 1, 10));
    expect(parseEventTime('2024-05-01T05:00:00-0500')).toBe(Date.UTC(2024, 4, 1, 10));
    expect(parseEventTime('2024-05-01T10:00:00.123456Z')).toBe(Date.UTC(2024, 4, 1, 10, 0, 0, 123));
    expect(parseEventTime('0099-01-01T00:00:00Z')).toBe(Date.parse('0099-01-01T00:00:00Z'));
  });

  it('out-of-range and impossible times cannot be read (NaN), and never throw', () => {
    for (const s of [
      '+275760-09-13T00:00:00Z',
      '+275760-09-13T00:00:01Z',
      '-271821-04-20T00:00:00Z',
      '2024-02-30T00:00:00Z',
      '2024-13-01T00:00:00Z',
      'yesterday',
      '',
      '2024-05-01T10:00:00+25:00',
    ]) {
      expect(parseEventTime(s), s).toBeNaN();
    }
  });
});
