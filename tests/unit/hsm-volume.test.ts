import { describe, expect, it } from 'vitest';
import { analyzeKms } from '../../src/lib/analysis/kms';
import type { ClusterSummary } from '../../src/lib/analysis/types';
import { hsmCall, indexOf } from './analysis-helpers';
import { rng } from './helpers';

/*
 * The CloudHSM pass looks HSMs and backups up by id (HsmBook in analysis/kms.ts) instead of scanning every
 * cluster's list on each event. This drives it with thousands of random calls (HSMs created, shown ACTIVE by
 * DescribeClusters, deleted, ids repeated and unknown; backups created, copied, deleted) and checks every cluster's
 * state, HSMs and backups against a model that scans the lists as the pass did before.
 */

type Model = {
  state: ClusterSummary['state'];
  hsms: { hsmId: string; state: string }[];
  backups: { backupId: string; state: string; copiedTo: string[] }[];
};

function workload(n: number, seed: number) {
  const r = rng(seed);
  const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)];
  const clusters = ['cluster-aaaaaaaaaaa', 'cluster-bbbbbbbbbbb', 'cluster-ccccccccccc'];
  const created: string[] = [];
  const backups: string[] = [];
  const events = [];
  const model = new Map<string, Model>();
  const m = (c: string) => {
    let x = model.get(c);
    if (!x) model.set(c, (x = { state: 'Unknown', hsms: [], backups: [] }));
    return x;
  };
  const activate = (states: Map<string, string>) => {
    for (const x of model.values()) {
      for (const h of x.hsms)
        if (h.state === 'CreateInProgress' && states.get(h.hsmId) === 'ACTIVE') h.state = 'Active';
      if (x.state === 'Initialized' && x.hsms.some((h) => h.state === 'Active')) x.state = 'Active';
    }
  };
  const t0 = Date.UTC(2024, 4, 1);
  for (let i = 0; i < n; i++) {
    const time = new Date(t0 + i * 1000).toISOString().replace('.000', '');
    const c = pick(clusters);
    const roll = r();
    if (roll < 0.05) {
      events.push(hsmCall('InitializeCluster', { time, requestParameters: { clusterId: c } }));
      const x = m(c);
      x.state = 'Initialized';
      if (x.hsms.some((h) => h.state === 'Active')) x.state = 'Active';
    } else if (roll < 0.4) {
      // a new HSM id, or (1 in 10) one already used
      const hsmId = created.length && r() < 0.1 ? pick(created) : `hsm-${i.toString(36).padStart(11, '0')}`;
      created.push(hsmId);
      const active = r() < 0.1;
      events.push(
        hsmCall('CreateHsm', {
          time,
          requestParameters: { clusterId: c, availabilityZone: 'us-west-2a' },
          responseElements: { hsm: { clusterId: c, hsmId, state: active ? 'ACTIVE' : 'CREATE_IN_PROGRESS' } },
        }),
      );
      const x = m(c);
      x.hsms.push({ hsmId, state: active ? 'Active' : 'CreateInProgress' });
      // the response showing it ACTIVE shows every HSM of that id so
      if (active) activate(new Map([[hsmId, 'ACTIVE']]));
      if (x.state === 'Initialized' && x.hsms.some((h) => h.state === 'Active')) x.state = 'Active';
    } else if (roll < 0.7 && created.length) {
      // DescribeClusters listing a few HSMs, some ACTIVE
      const hsms = Array.from({ length: 1 + Math.floor(r() * 3) }, () => ({
        hsmId: pick(created),
        state: r() < 0.6 ? 'ACTIVE' : 'DEGRADED',
      }));
      events.push(
        hsmCall('DescribeClusters', {
          time,
          requestParameters: { filters: { clusterIds: [c] } },
          responseElements: { clusters: [{ clusterId: c, hsms }] },
        }),
      );
      activate(new Map(hsms.map((h) => [h.hsmId, h.state])));
    } else if (roll < 0.8) {
      const hsmId = created.length && r() < 0.8 ? pick(created) : 'hsm-neverseen000';
      events.push(
        hsmCall('DeleteHsm', {
          time,
          requestParameters: { clusterId: c, hsmId },
          responseElements: { hsmId },
        }),
      );
      const x = m(c);
      const h = x.hsms.find((y) => y.hsmId === hsmId);
      if (h) h.state = 'Deleted';
      else x.hsms.push({ hsmId, state: 'Deleted' });
    } else {
      const name = pick(['CreateBackup', 'DeleteBackup', 'RestoreBackup', 'CopyBackupToRegion']);
      const backupId =
        name === 'CreateBackup' || !backups.length ? `backup-${i.toString(36).padStart(11, '0')}` : pick(backups);
      backups.push(backupId);
      events.push(
        hsmCall(name, {
          time,
          requestParameters: { clusterId: c, backupId, destinationRegion: 'us-east-1' },
        }),
      );
      const x = m(c);
      let b = x.backups.find((y) => y.backupId === backupId);
      if (!b) x.backups.push((b = { backupId, state: 'Unknown', copiedTo: [] }));
      if (name === 'CreateBackup') b.state = 'Ready';
      else if (name === 'DeleteBackup') b.state = 'PendingDeletion';
      else if (name === 'RestoreBackup') b.state = 'Ready';
      else b.copiedTo.push('us-east-1');
    }
  }
  return { events, model };
}

describe('CloudHSM pass at volume', () => {
  it('matches a list-scanning model over 6,000 random CloudHSM calls', () => {
    const { events, model } = workload(6000, 0x5eed);
    const chunks = [];
    for (let i = 0; i < events.length; i += 500) chunks.push(events.slice(i, i + 500));
    const { ix, fields } = indexOf(chunks);
    const got = analyzeKms(ix, fields).clusters;
    const seen = got.map((c) => ({
      id: c.clusterId,
      state: c.state,
      hsms: c.hsms.map((h) => ({ hsmId: h.hsmId, state: h.state })),
      backups: c.backups.map((b) => ({ backupId: b.backupId, state: b.state, copiedTo: b.copiedTo })),
    }));
    const want = [...model].map(([id, x]) => ({ id, ...x }));
    expect(seen.sort((a, b) => a.id.localeCompare(b.id))).toEqual(want.sort((a, b) => a.id.localeCompare(b.id)));
    // the workload reaches every state the pass tracks
    const hsmStates = new Set(seen.flatMap((c) => c.hsms.map((h) => h.state)));
    expect([...hsmStates].sort()).toEqual(['Active', 'CreateInProgress', 'Deleted']);
    expect(new Set(seen.map((c) => c.state)).has('Active')).toBe(true);
    expect(seen.reduce((s, c) => s + c.hsms.length, 0)).toBeGreaterThan(1500);
  });
});
