/**
 * The storage figure of the header (src/lib/store/db.ts storeStorage / persistStore): where the store lives in
 * the `keytrail` storage bucket, its use and persistence are the bucket's own, not the origin's default storage
 * area's. The Storage Buckets API and StorageManager are stubbed (Node has neither).
 */
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { persistStore, STORE_BUCKET, storeStorage } from '../../src/lib/store/db';

/** A default storage area (navigator.storage) with these figures, recording persist() calls. */
function originStorage(usage: number, quota: number, persisted: boolean) {
  const calls: string[] = [];
  return {
    calls,
    storage: {
      estimate: async () => ({ usage, quota }),
      persisted: async () => persisted,
      persist: async () => {
        calls.push('origin.persist');
        return persisted;
      },
    },
  };
}

/** The Storage Buckets API with one bucket of these figures, recording what was opened and asked. */
function bucketsApi(usage: number, quota: number, persisted: boolean) {
  const calls: string[] = [];
  let kept = persisted;
  const bucket = {
    indexedDB,
    estimate: async () => ({ usage, quota }),
    persisted: async () => kept,
    persist: async () => {
      calls.push('bucket.persist');
      kept = true;
      return kept;
    },
  };
  return {
    calls,
    api: {
      open: async (name: string, options?: { persisted?: boolean }) => {
        calls.push(`open ${name} ${JSON.stringify(options ?? {})}`);
        return bucket;
      },
      delete: async () => {},
    },
  };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the storage area holding the store', () => {
  it("in the keytrail bucket: the bucket's use, quota and persistence, not the origin's", async () => {
    const origin = originStorage(900_000, 10_000_000, false);
    const buckets = bucketsApi(4096, 8192, true);
    vi.stubGlobal('navigator', { storage: origin.storage, storageBuckets: buckets.api });
    expect(await storeStorage()).toEqual({ area: 'bucket', usage: 4096, quota: 8192, persisted: true });
    expect(buckets.calls).toEqual([`open ${STORE_BUCKET} {"persisted":true}`]);
  });

  it('a best-effort bucket in a persistent origin is shown best-effort', async () => {
    const origin = originStorage(900_000, 10_000_000, true);
    vi.stubGlobal('navigator', { storage: origin.storage, storageBuckets: bucketsApi(4096, 8192, false).api });
    expect(await storeStorage()).toMatchObject({ area: 'bucket', persisted: false });
  });

  it("without the Storage Buckets API: the origin's default storage", async () => {
    const origin = originStorage(900_000, 10_000_000, true);
    vi.stubGlobal('navigator', { storage: origin.storage });
    expect(await storeStorage()).toEqual({ area: 'origin', usage: 900_000, quota: 10_000_000, persisted: true });
  });

  it('asking for persistence asks the origin, then the bucket the store is in', async () => {
    const origin = originStorage(0, 0, true);
    const buckets = bucketsApi(0, 0, false);
    vi.stubGlobal('navigator', { storage: origin.storage, storageBuckets: buckets.api });
    await persistStore();
    expect(origin.calls).toEqual(['origin.persist']);
    expect(buckets.calls.filter((c) => c === 'bucket.persist')).toEqual(['bucket.persist']);
    expect(await storeStorage()).toMatchObject({ area: 'bucket', persisted: true });
  });
});
