/**
 * The key analysis (src/lib/analysis/kms.ts) over about 200,000 generated KMS events: a sanity check that the
 * per-key counts add up (not a timing). Slow: in the `slow` vitest project; the other key analysis tests are in
 * kms.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { CRYPTO_OPERATIONS } from '../../src/lib/analysis/kms';
import type { CloudTrailEvent } from '../../src/lib/cloudtrail/event';
import { keyArn, kmsCall } from './analysis-helpers';
import { createKey, keyOp, run, use } from './kms-helpers';

describe('about 200,000 generated KMS events', () => {
  it('completes, and the per-key counts add up to the rows attributed to keys', () => {
    const N_KEYS = 400;
    const N = 200_000;
    const ids = Array.from(
      { length: N_KEYS },
      (_, i) => `${i.toString(16).padStart(8, '0')}-12ab-34cd-56ef-1234567890ab`,
    );
    const arns = ids.map((id) => keyArn(id));
    const crypto = new Array<number>(N_KEYS).fill(0);
    const mgmt = new Array<number>(N_KEYS).fill(0);
    const t0 = Date.UTC(2024, 0, 1);
    const iso = (s: number) => new Date(t0 + s * 1000).toISOString().replace('.000Z', 'Z');
    const events: CloudTrailEvent[] = [];
    let s = 0;
    for (let k = 0; k < N_KEYS; k++) {
      events.push(createKey(ids[k], iso(s++)));
      mgmt[k]++;
      events.push(
        kmsCall('CreateAlias', {
          time: iso(s++),
          key: arns[k],
          requestParameters: { aliasName: `alias/k${k}`, targetKeyId: ids[k] },
        }),
      );
      mgmt[k]++;
    }
    const ops = ['Decrypt', 'Encrypt', 'GenerateDataKey', 'ReEncrypt'];
    let unattributed = 0;
    for (let i = 0; events.length < N; i++) {
      const k = (i * 7919) % N_KEYS;
      const m = i % 50;
      if (m === 0) {
        events.push(keyOp('DescribeKey', arns[k], iso(s++)));
        mgmt[k]++;
      } else if (m === 1) {
        events.push(kmsCall('GenerateRandom', { time: iso(s++), key: null, requestParameters: { numberOfBytes: 32 } }));
        unattributed++;
      } else if (m === 2) {
        // by alias, no resources
        events.push(use('Decrypt', '', iso(s++), { keyId: `alias/k${k}`, resources: false }));
        crypto[k]++;
      } else if (m === 3) {
        // another service's event
        events.push({ ...kmsCall('GetObject', { time: iso(s++), key: null }), eventSource: 's3.amazonaws.com' });
        unattributed++;
      } else if (m === 4 && i % 1000 === 4) {
        events.push(keyOp('DisableKey', arns[k], iso(s++)));
        mgmt[k]++;
      } else if (m === 5 && i % 1000 === 5) {
        events.push(keyOp('EnableKey', arns[k], iso(s++)));
        mgmt[k]++;
      } else {
        events.push(
          use(
            ops[i % ops.length],
            arns[k],
            iso(s++),
            i % 97 === 0 ? { error: ['AccessDeniedException', 'denied'] } : {},
          ),
        );
        crypto[k]++;
      }
    }
    const chunks: CloudTrailEvent[][] = [];
    for (let i = 0; i < events.length; i += 10_000) chunks.push(events.slice(i, i + 10_000));
    const { ix, a } = run(...chunks);
    expect(ix.n).toBe(N);
    expect(a.keys).toHaveLength(N_KEYS);
    const kmsRows = [...a.keyOfRow].filter(
      (k, r) => k >= 0 && ix.value('eventSource', r) === 'kms.amazonaws.com',
    ).length;
    const sum = a.keys.reduce((n, k) => n + k.cryptoCalls + k.managementCalls, 0);
    expect(sum).toBe(kmsRows);
    expect(sum).toBe(N - unattributed);
    for (let k = 0; k < N_KEYS; k++) {
      const key = a.keys.find((x) => x.arn === arns[k])!;
      expect(key.cryptoCalls).toBe(crypto[k]);
      expect(key.managementCalls).toBe(mgmt[k]);
      expect(key.aliases).toEqual([`alias/k${k}`]);
    }
    expect(a.keys.every((k) => k.state === 'Enabled' || k.state === 'Disabled')).toBe(true);
    expect(CRYPTO_OPERATIONS.has('ReEncrypt')).toBe(true);
  }, 120_000);
});
