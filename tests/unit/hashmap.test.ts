import { describe, expect, it } from 'vitest';
import { HashMap64 } from '../../src/lib/store/hashmap';
import { rng } from './helpers';

const u32 = (r: () => number) => (r() * 4294967296) >>> 0;
const key = (a: number, b: number) => `${a}:${b}`;

describe('HashMap64', () => {
  it('matches a Map over 100,000 random keys (set, overwrite, get, has, grow)', () => {
    const r = rng(1);
    const m = new HashMap64(16); // starts small: grows many times
    const ref = new Map<string, [number, number]>();
    const keys: [number, number][] = [];
    for (let i = 0; i < 100_000; i++) {
      const k: [number, number] = [u32(r), u32(r)];
      const v: [number, number] = [u32(r), u32(r)];
      keys.push(k);
      m.set(k[0], k[1], v[0], v[1]);
      ref.set(key(...k), v);
      // overwrite an earlier key now and then
      if (i % 7 === 0) {
        const old = keys[Math.floor(r() * keys.length)];
        const nv: [number, number] = [u32(r), u32(r)];
        m.set(old[0], old[1], nv[0], nv[1]);
        ref.set(key(...old), nv);
      }
      if (i % 10_000 === 0) expect(m.size).toBe(ref.size);
    }
    expect(m.size).toBe(ref.size);
    const out = new Uint32Array(2);
    for (const k of keys) {
      expect(m.has(k[0], k[1])).toBe(true);
      expect(m.get(k[0], k[1], out)).toBe(true);
      expect([out[0], out[1]]).toEqual(ref.get(key(...k)));
    }
    // keys never set
    let absent = 0;
    for (let i = 0; i < 100_000; i++) {
      const a = u32(r);
      const b = u32(r);
      if (ref.has(key(a, b))) continue;
      absent++;
      expect(m.has(a, b)).toBe(false);
    }
    expect(absent).toBeGreaterThan(99_000);
  });

  it('as a set (no values): the same keys as a Map over 100,000 random keys, half the memory', () => {
    const r = rng(2);
    const set = new HashMap64(16, false);
    const map = new HashMap64(16);
    const ref = new Set<string>();
    const keys: [number, number][] = [];
    for (let i = 0; i < 100_000; i++) {
      const k: [number, number] = [u32(r), u32(r)];
      keys.push(k);
      set.set(k[0], k[1], 7, 8);
      map.set(k[0], k[1], 7, 8);
      ref.add(key(...k));
      if (i % 5 === 0) set.set(k[0], k[1]); // again
    }
    expect(set.size).toBe(ref.size);
    const out = new Uint32Array(2);
    for (const k of keys) {
      expect(set.has(k[0], k[1])).toBe(true);
      expect(set.get(k[0], k[1], out)).toBe(true);
      expect([...out]).toEqual([0, 0]); // no values kept
    }
    for (let i = 0; i < 10_000; i++) {
      const a = u32(r);
      const b = u32(r);
      if (!ref.has(key(a, b))) expect(set.has(a, b)).toBe(false);
    }
    // the keys' table only: half of a map's bytes
    const bytes = (m: HashMap64) =>
      Object.values(m).reduce((n, v) => n + (ArrayBuffer.isView(v) ? (v as Uint32Array).byteLength : 0), 0);
    expect(bytes(set) * 2).toBe(bytes(map));
    set.clear();
    expect(set.size).toBe(0);
    expect(set.has(keys[0][0], keys[0][1])).toBe(false);
  });

  it('get leaves out untouched for a missing key', () => {
    const m = new HashMap64();
    m.set(1, 2, 3, 4);
    const out = new Uint32Array([9, 9]);
    expect(m.get(2, 1, out)).toBe(false);
    expect([...out]).toEqual([9, 9]);
    expect(m.get(1, 2, out)).toBe(true);
    expect([...out]).toEqual([3, 4]);
  });

  it('values default to (0, 0) and are stored as unsigned', () => {
    const m = new HashMap64();
    m.set(5, 6);
    m.set(7, 8, -1, -2);
    const out = new Uint32Array(2);
    expect(m.get(5, 6, out)).toBe(true);
    expect([...out]).toEqual([0, 0]);
    m.get(7, 8, out);
    expect([...out]).toEqual([0xffffffff, 0xfffffffe]);
  });

  it('signed and unsigned forms of a key are the same key', () => {
    const m = new HashMap64();
    m.set(-1, -2147483648, 1, 1);
    expect(m.has(0xffffffff, 0x80000000)).toBe(true);
    m.set(0xffffffff, 0x80000000, 2, 2);
    expect(m.size).toBe(1);
  });

  it('the key (0, 0) can be stored (it is kept as (0, 1))', () => {
    const m = new HashMap64();
    expect(m.has(0, 0)).toBe(false);
    const out = new Uint32Array(2);
    expect(m.get(0, 0, out)).toBe(false);
    m.set(0, 0, 11, 12);
    expect(m.size).toBe(1);
    expect(m.has(0, 0)).toBe(true);
    expect(m.get(0, 0, out)).toBe(true);
    expect([...out]).toEqual([11, 12]);
    m.set(0, 0, 13, 14);
    expect(m.size).toBe(1);
    m.get(0, 0, out);
    expect([...out]).toEqual([13, 14]);
    // (0, 0) survives growth
    for (let i = 1; i <= 5000; i++) m.set(i, i * 3);
    expect(m.get(0, 0, out)).toBe(true);
    expect([...out]).toEqual([13, 14]);
    expect(m.size).toBe(5001);
  });

  it('keys that share one lane and crowd the same slots', () => {
    const m = new HashMap64(4);
    const out = new Uint32Array(2);
    for (let i = 0; i < 20_000; i++) m.set(12345, i, i, ~i);
    for (let i = 0; i < 20_000; i++) m.set(i, 777, i + 1, 0);
    expect(m.size).toBe(20_000 + 20_000 - 1); // (12345, 777) is in both runs
    for (let i = 0; i < 20_000; i++) {
      expect(m.get(12345, i, out)).toBe(true);
      expect(out[0]).toBe(i === 777 ? 12346 : i);
    }
    for (let i = 0; i < 20_000; i++) expect(m.get(i, 777, out) && out[0]).toBe(i + 1);
    expect(m.has(12345, 20_000)).toBe(false);
  });

  it('clear removes every key and the map can be reused', () => {
    const m = new HashMap64();
    for (let i = 0; i < 3000; i++) m.set(i, i + 1, i, i);
    m.clear();
    expect(m.size).toBe(0);
    for (let i = 0; i < 3000; i++) expect(m.has(i, i + 1)).toBe(false);
    m.set(1, 2, 3, 4);
    expect(m.size).toBe(1);
    expect(m.has(1, 2)).toBe(true);
  });

  it('dedupes as the store uses it: content hashes to 0', () => {
    const m = new HashMap64(100);
    const r = rng(9);
    const hashes = Array.from({ length: 1000 }, () => [u32(r), u32(r)] as const);
    let fresh = 0;
    for (const pass of [0, 1]) {
      for (const [a, b] of hashes) {
        if (!m.has(a, b)) {
          fresh++;
          m.set(a, b);
        }
      }
      expect(fresh).toBe(1000);
      expect(pass === 0 || m.size === 1000).toBe(true);
    }
  });
});
