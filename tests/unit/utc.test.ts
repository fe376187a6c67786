import { describe, expect, it } from 'vitest';
import { utcDay, utcFileStamp, utcIso, utcSeconds } from '../../src/lib/format/utc';

// 2024-03-01T12:00:05Z, a leap-year day, plus milliseconds
const T = Date.UTC(2024, 2, 1, 12, 0, 5);

describe('utcSeconds: eventTime as CloudTrail writes it', () => {
  it('writes whole seconds with a Z', () => {
    expect(utcSeconds(T)).toBe('2024-03-01T12:00:05Z');
    expect(utcSeconds(0)).toBe('1970-01-01T00:00:00Z');
  });
  it('drops milliseconds by truncating, never rounding up to the next second', () => {
    expect(utcSeconds(T + 999)).toBe('2024-03-01T12:00:05Z');
    expect(utcSeconds(T + 1)).toBe('2024-03-01T12:00:05Z');
  });
  it('formats times before 1970', () => {
    expect(utcSeconds(Date.UTC(1969, 11, 31, 23, 59, 59))).toBe('1969-12-31T23:59:59Z');
  });
  it("returns '' for a time that cannot be formatted instead of throwing", () => {
    for (const bad of [NaN, Infinity, -Infinity, 8.64e15 + 1]) expect(utcSeconds(bad)).toBe('');
  });
});

describe('utcIso: lossless ISO 8601', () => {
  it('omits .000 but keeps other milliseconds', () => {
    expect(utcIso(T)).toBe('2024-03-01T12:00:05Z');
    expect(utcIso(T + 250)).toBe('2024-03-01T12:00:05.250Z');
    expect(utcIso(T + 1)).toBe('2024-03-01T12:00:05.001Z');
  });
  it('parses back to the same epoch ms', () => {
    for (const t of [T, T + 1, T + 999, 0, -1, Date.UTC(2099, 11, 31, 23, 59, 59, 999)])
      expect(Date.parse(utcIso(t))).toBe(t);
  });
  it("returns '' for NaN and infinities", () => {
    for (const bad of [NaN, Infinity, -Infinity]) expect(utcIso(bad)).toBe('');
  });
});

describe('utcDay', () => {
  it('is the UTC day, whatever the hour', () => {
    expect(utcDay(Date.UTC(2024, 1, 29, 23, 59, 59, 999))).toBe('2024-02-29');
    expect(utcDay(Date.UTC(2024, 2, 1))).toBe('2024-03-01');
  });
  it("returns '' for NaN", () => {
    expect(utcDay(NaN)).toBe('');
  });
});

describe('utcFileStamp', () => {
  it('has no colon or dot, and drops milliseconds', () => {
    expect(utcFileStamp(T + 678)).toBe('2024-03-01T12-00-05Z');
  });
  it("returns '' for NaN", () => {
    expect(utcFileStamp(NaN)).toBe('');
  });
});
