/**
 * Key, CloudHSM and principal analyses (src/lib/analysis/kms.ts) over an in-memory index built as the query
 * worker builds it: key lifecycle and state step by step, alias resolution over time, every finding rule on a
 * positive fixture and on near-misses, the public AWS KMS and CloudHSM documentation examples (values checked by
 * hand), and CloudHSM clusters and custom key stores. The ~200k event run is in kms-volume.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  accountOf,
  analyzePrincipals,
  externalPrincipals,
  KEY_RULES,
  principalGroup,
} from '../../src/lib/analysis/kms';
import type { KeyState } from '../../src/lib/analysis/types';
import { kmsEventBridgeEvent } from '../../src/lib/ingest/formats/eventBridge';
import type { CloudTrailEvent } from '../../src/lib/cloudtrail/event';
import {
  alice,
  aliasArn,
  datasetEvents,
  datasetFiles,
  hsmCall,
  KEY1,
  KEY1_ID,
  KEY2,
  KEY2_ID,
  keyArn,
  kmsCall,
  kmsInternal,
  MRK_ID,
  OTHER,
  OWNER,
  ownerStatement,
  policy,
  REGION,
  roleSession,
} from './analysis-helpers';
import { createKey, keyOp, run, use } from './kms-helpers';

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/** Key state after each event of `events` (the analysis of every prefix). */
function statesAfterEach(events: CloudTrailEvent[], arn: string): (KeyState | undefined)[] {
  return events.map((_, i) => run(events.slice(0, i + 1)).key(arn)?.state);
}

/** Time `min` minutes after 2024-03-01T10:00:00Z, as CloudTrail writes it. */
const at = (min: number) => new Date(Date.UTC(2024, 2, 1, 10, 0, 0) + min * 60_000).toISOString().replace('.000Z', 'Z');
const ms = (iso: string) => Date.parse(iso);

const pendingDeletionMessage = (arn: string) => `${arn} is pending deletion.`;
const disabledMessage = (arn: string) => `${arn} is disabled.`;

/** A CloudHSM cluster from CreateCluster to DeleteCluster (cloudhsmv2 events as CloudTrail logs them). */
const CLUSTER = 'cluster-igklspoyj5v';
const BACKUP = 'backup-rtq2dwi2gq6';
const hsmLifecycle = [
  hsmCall('CreateCluster', {
    time: at(0),
    requestParameters: { hsmType: 'hsm1.medium', subnetIds: ['subnet-02c28c4b', 'subnet-0a1b2c3d'] },
    responseElements: {
      cluster: {
        clusterId: CLUSTER,
        hsmType: 'hsm1.medium',
        state: 'CREATE_IN_PROGRESS',
        vpcId: 'vpc-1a2b3c4d',
        backupPolicy: 'DEFAULT',
        hsms: [],
      },
    },
  }),
  hsmCall('CreateHsm', {
    time: at(1),
    requestParameters: { availabilityZone: 'us-west-2b', clusterId: CLUSTER },
    responseElements: {
      hsm: {
        eniId: 'eni-65338b5a',
        clusterId: CLUSTER,
        state: 'CREATE_IN_PROGRESS',
        eniIp: '10.0.2.7',
        hsmId: 'hsm-6lz2hfmnzbx',
        subnetId: 'subnet-02c28c4b',
        availabilityZone: 'us-west-2b',
      },
    },
  }),
  hsmCall('InitializeCluster', {
    time: at(2),
    requestParameters: {
      clusterId: CLUSTER,
      signedCert: '-----BEGIN CERTIFICATE-----…',
      trustAnchor: '-----BEGIN CERTIFICATE-----…',
    },
    responseElements: {
      state: 'INITIALIZE_IN_PROGRESS',
      stateMessage: 'Cluster is initializing. State will change to INITIALIZED upon completion.',
    },
  }),
  hsmCall('CreateHsm', {
    time: at(3),
    requestParameters: { availabilityZone: 'us-west-2a', clusterId: CLUSTER },
    responseElements: {
      hsm: {
        eniId: 'eni-0a1b2c3d',
        clusterId: CLUSTER,
        state: 'CREATE_IN_PROGRESS',
        eniIp: '10.0.1.9',
        hsmId: 'hsm-a1b2c3d4e5f',
        subnetId: 'subnet-0a1b2c3d',
        availabilityZone: 'us-west-2a',
      },
    },
  }),
  hsmCall('DeleteHsm', {
    time: at(4),
    requestParameters: { clusterId: CLUSTER, hsmId: 'hsm-a1b2c3d4e5f' },
    responseElements: { hsmId: 'hsm-a1b2c3d4e5f' },
  }),
  // the first event naming the backup: its cluster is the response's sourceCluster
  hsmCall('CopyBackupToRegion', {
    time: at(5),
    requestParameters: { destinationRegion: 'us-east-1', backupId: BACKUP },
    responseElements: {
      destinationBackup: {
        createTimestamp: 'Mar 1, 2024 10:05:00 AM',
        sourceRegion: 'us-west-2',
        sourceBackup: BACKUP,
        sourceCluster: CLUSTER,
      },
    },
  }),
  hsmCall('DeleteBackup', {
    time: at(6),
    requestParameters: { backupId: BACKUP },
    responseElements: {
      backup: {
        backupId: BACKUP,
        backupState: 'PENDING_DELETION',
        clusterId: CLUSTER,
        createTimestamp: 'Mar 1, 2024 10:00:00 AM',
        deleteTimestamp: 'Mar 1, 2024 10:06:00 AM',
      },
    },
  }),
  // a service event at the end of the 7-day window (no public example: the backup ID in serviceEventDetails)
  hsmCall('BackupDeletedPermanently', { time: '2024-03-08T10:06:00Z', serviceEventDetails: { backupId: BACKUP } }),
  hsmCall('DeleteCluster', {
    time: '2024-03-09T00:00:00Z',
    requestParameters: { clusterId: CLUSTER },
    responseElements: { cluster: { clusterId: CLUSTER, state: 'DELETE_IN_PROGRESS', hsmType: 'hsm1.medium' } },
  }),
];

// ---------------------------------------------------------------------------------------------------------------
// 1. Lifecycle, step by step

describe('key lifecycle', () => {
  const G1 = '0c237476b39f8bc44e45212e08498fbe3151305030726c0590dd8d3e9f3d6a60';
  const G2 = 'f020fe75197b93991dc8491d6f19dd3cebb24ee62277a05914386724f3d48758';
  // One key from CreateKey to DeleteKey: [event, state of the lifecycle step (undefined: no state change), key state after, detail]
  const steps: [CloudTrailEvent, KeyState | undefined, KeyState, string | RegExp][] = [
    [
      createKey(KEY1_ID, at(0), { keySpec: 'SYMMETRIC_DEFAULT' }),
      'Enabled',
      'Enabled',
      'SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT, AWS_KMS',
    ],
    [
      kmsCall('CreateAlias', {
        time: at(1),
        key: KEY1,
        alsoResources: [],
        requestParameters: { aliasName: 'alias/payments', targetKeyId: KEY1_ID },
      }),
      undefined,
      'Enabled',
      'alias/payments',
    ],
    [
      keyOp('TagResource', KEY1, at(2), { tags: [{ tagKey: 'Team', tagValue: 'payments' }] }),
      undefined,
      'Enabled',
      'Team',
    ],
    [keyOp('UntagResource', KEY1, at(3), { tagKeys: ['Team'] }), undefined, 'Enabled', 'Team'],
    [
      keyOp('PutKeyPolicy', KEY1, at(4), {
        policyName: 'default',
        policy: policy(ownerStatement),
        bypassPolicyLockoutSafetyCheck: false,
      }),
      undefined,
      'Enabled',
      'policy replaced',
    ],
    [
      kmsCall('CreateGrant', {
        time: at(5),
        key: KEY1,
        requestParameters: {
          keyId: KEY1,
          operations: ['Decrypt', 'Encrypt'],
          granteePrincipal: `arn:aws:iam::${OWNER}:role/app`,
        },
        responseElements: { grantId: G1 },
      }),
      undefined,
      'Enabled',
      `to arn:aws:iam::${OWNER}:role/app (Decrypt…)`,
    ],
    // RetireGrant as the KMS Developer Guide shows it: no requestParameters, the grant ID in additionalEventData
    [
      kmsCall('RetireGrant', {
        time: at(6),
        key: KEY1,
        requestParameters: null,
        extra: { additionalEventData: { grantId: G1 } },
      }),
      undefined,
      'Enabled',
      G1,
    ],
    [
      kmsCall('CreateGrant', {
        time: at(7),
        key: KEY1,
        requestParameters: {
          keyId: KEY1,
          operations: ['GenerateDataKey'],
          granteePrincipal: `arn:aws:iam::${OWNER}:role/batch`,
        },
        responseElements: { grantId: G2 },
      }),
      undefined,
      'Enabled',
      /^to arn:aws:iam::111122223333:role\/batch/,
    ],
    [keyOp('RevokeGrant', KEY1, at(8), { grantId: G2 }), undefined, 'Enabled', G2],
    [keyOp('EnableKeyRotation', KEY1, at(9), { rotationPeriodInDays: 365 }), undefined, 'Enabled', ''],
    [
      kmsCall('RotateKey', {
        time: at(10),
        key: KEY1,
        user: kmsInternal,
        eventType: 'AwsServiceEvent',
        extra: { serviceEventDetails: { keyId: KEY1_ID } },
      }),
      undefined,
      'Enabled',
      '',
    ],
    [keyOp('DisableKeyRotation', KEY1, at(11)), undefined, 'Enabled', ''],
    [keyOp('DisableKey', KEY1, at(12)), 'Disabled', 'Disabled', ''],
    [keyOp('EnableKey', KEY1, at(13)), 'Enabled', 'Enabled', ''],
    // deletionDate as KMS logs it ("Mar 19, 2024, 10:47:31 PM", UTC), 7 days after the call
    [
      kmsCall('ScheduleKeyDeletion', {
        time: '2024-03-12T22:47:31Z',
        key: KEY1,
        requestParameters: { keyId: KEY1_ID, pendingWindowInDays: 7 },
        responseElements: {
          keyId: KEY1,
          deletionDate: 'Mar 19, 2024, 10:47:31 PM',
          keyState: 'PendingDeletion',
          pendingWindowInDays: 7,
        },
      }),
      'PendingDeletion',
      'PendingDeletion',
      'deletion on 2024-03-19T22:47:31Z (7 days)',
    ],
    [
      kmsCall('CancelKeyDeletion', {
        time: '2024-03-13T09:00:00Z',
        key: KEY1,
        requestParameters: { keyId: KEY1_ID },
        responseElements: { keyId: KEY1 },
      }),
      'Disabled',
      'Disabled',
      '',
    ],
    [keyOp('EnableKey', KEY1, '2024-03-13T09:05:00Z'), 'Enabled', 'Enabled', ''],
    // no deletionDate in the response: the call's time + pendingWindowInDays
    [
      kmsCall('ScheduleKeyDeletion', {
        time: '2024-03-14T12:00:00Z',
        key: KEY1,
        requestParameters: { keyId: KEY1_ID, pendingWindowInDays: 10 },
        responseElements: { keyId: KEY1 },
      }),
      'PendingDeletion',
      'PendingDeletion',
      'deletion on 2024-03-24T12:00:00Z (10 days)',
    ],
    // AWS KMS deletes the key at the end of the waiting period (a service event)
    [
      kmsCall('DeleteKey', {
        time: '2024-03-24T12:07:00Z',
        key: KEY1,
        user: kmsInternal,
        eventType: 'AwsServiceEvent',
      }),
      'Deleted',
      'Deleted',
      '',
    ],
  ];
  const events = steps.map((s) => s[0]);

  it('records every management step in order, with the state it leads to and its detail', () => {
    const { detail } = run(events);
    const d = detail(KEY1)!;
    expect(d.lifecycle.map((s) => s.eventName)).toEqual(events.map((e) => e.eventName));
    steps.forEach(([ev, stepState, , det], i) => {
      const s = d.lifecycle[i];
      expect(s.time, ev.eventName).toBe(ms(ev.eventTime!));
      expect(s.state, `${i} ${ev.eventName}`).toBe(stepState);
      if (typeof det === 'string') expect(s.detail, `${i} ${ev.eventName}`).toBe(det);
      else expect(s.detail, `${i} ${ev.eventName}`).toMatch(det);
      expect(s.errorCode).toBe('');
    });
    // RotateKey is AWS KMS's own (userIdentity.invokedBy "AWS Internal")
    expect(d.lifecycle.find((s) => s.eventName === 'RotateKey')!.principal).toBe('AWS Internal');
    expect(d.lifecycle.find((s) => s.eventName === 'PutKeyPolicy')!.principal).toBe(alice.arn);
  });

  it('has the right key state after every step', () => {
    expect(statesAfterEach(events, KEY1)).toEqual(steps.map((s) => s[2]));
  });

  it('keeps spec, usage, origin, rotation and the deletion date', () => {
    const { key } = run(events.slice(0, 12));
    expect(key(KEY1)).toMatchObject({
      keySpec: 'SYMMETRIC_DEFAULT',
      keyUsage: 'ENCRYPT_DECRYPT',
      origin: 'AWS_KMS',
      multiRegion: false,
      rotation: false,
      account: OWNER,
      region: REGION,
      keyId: KEY1_ID,
    });
    expect(run(events.slice(0, 10)).key(KEY1)!.rotation).toBe(true);
    // ScheduleKeyDeletion with KMS's "Mar 19, 2024, 10:47:31 PM" is UTC whatever the local time zone
    const tz = process.env.TZ;
    try {
      process.env.TZ = 'America/Los_Angeles';
      expect(run(events.slice(0, 15)).key(KEY1)!.deletionDate).toBe(Date.UTC(2024, 2, 19, 22, 47, 31));
      process.env.TZ = 'Asia/Kolkata';
      expect(run(events.slice(0, 15)).key(KEY1)!.deletionDate).toBe(Date.UTC(2024, 2, 19, 22, 47, 31));
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
    // CancelKeyDeletion clears it
    expect(run(events.slice(0, 16)).key(KEY1)!.deletionDate).toBeUndefined();
    // pendingWindowInDays fallback
    expect(run(events.slice(0, 18)).key(KEY1)!.deletionDate).toBe(Date.UTC(2024, 2, 24, 12, 0, 0));
    // neither a deletion date nor a window: KMS's default of 30 days
    const bare = kmsCall('ScheduleKeyDeletion', {
      time: '2024-04-01T00:00:00Z',
      key: KEY2,
      requestParameters: { keyId: KEY2_ID },
    });
    expect(run([bare]).key(KEY2)).toMatchObject({ state: 'PendingDeletion', deletionDate: Date.UTC(2024, 4, 1) });
  });

  it('counts calls, failures and principals of the key page', () => {
    const bob = roleSession('app', 'bob-1');
    const bob2 = roleSession('app', 'bob-2');
    const ext = roleSession('partner', 's1', OTHER);
    const evs = [
      createKey(KEY2_ID, at(0)),
      use('Encrypt', KEY2, at(1), { user: bob }),
      use('Decrypt', KEY2, at(2), { user: bob2 }),
      use('Decrypt', KEY2, at(3), {
        user: ext,
        error: ['AccessDeniedException', 'User is not authorized to perform: kms:Decrypt'],
      }),
      keyOp('DescribeKey', KEY2, at(4)),
    ];
    const { key, detail } = run(evs);
    expect(key(KEY2)).toMatchObject({
      cryptoCalls: 3,
      managementCalls: 2,
      failures: 1,
      principals: 3,
      crossAccountPrincipals: 1,
      firstSeen: ms(at(0)),
      lastSeen: ms(at(4)),
    });
    const d = detail(KEY2)!;
    expect(d.lifecycle.map((s) => s.eventName)).toEqual(['CreateKey']); // crypto and read-only calls are not lifecycle steps
    expect(d.failuresByCode).toEqual([{ errorCode: 'AccessDeniedException', count: 1, eventNames: ['Decrypt'] }]);
    expect(d.accounts).toEqual([
      { account: OWNER, calls: 4, failures: 0 },
      { account: OTHER, calls: 1, failures: 1 },
    ]);
    expect(d.principalsUsed.find((p) => p.principal === ext.arn)).toMatchObject({
      crossAccount: true,
      calls: 1,
      failures: 1,
    });
    expect(d.principalsUsed.find((p) => p.principal === bob.arn)).toMatchObject({ crossAccount: false, calls: 1 });
    const total = d.usage.series.reduce((n, s) => n + s.counts.reduce((x, y) => x + y, 0), 0);
    expect(total).toBe(5);
    expect(d.usage.series.find((s) => s.eventName === 'Decrypt')!.counts.reduce((x, y) => x + y, 0)).toBe(2);
    expect(detail('arn:aws:kms:us-west-2:111122223333:key/nope')).toBeNull();
    // a call whose eventTime cannot be read is counted, but in no time bin (keyDetail threw a RangeError)
    const untimed = run([createKey(KEY1_ID, at(0)), use('Decrypt', KEY1, at(5)), use('Encrypt', KEY1, 'not a time')]);
    const ud = untimed.detail(KEY1)!;
    expect(ud.usage.series.map((x) => [x.eventName, x.counts.reduce((a, b) => a + b, 0)])).toEqual([
      ['CreateKey', 1],
      ['Decrypt', 1],
      ['Encrypt', 0],
    ]);
    // no readable time at all
    const none = run([use('Encrypt', KEY1, 'not a time')]);
    expect(none.detail(KEY1)!.usage.series.map((x) => x.eventName)).toEqual(['Encrypt']);
    // more than six operations: the six most used, then "other"
    const many = [createKey(KEY1_ID, at(0))];
    ['Encrypt', 'Decrypt', 'GenerateDataKey', 'ReEncrypt', 'Sign', 'Verify', 'GenerateMac'].forEach((op, i) => {
      for (let j = 0; j <= 7 - i; j++) many.push(use(op, KEY1, at(10 + i * 10 + j)));
    });
    const series = run(many).detail(KEY1)!.usage.series;
    expect(series.map((x) => x.eventName)).toEqual([
      'Encrypt',
      'Decrypt',
      'GenerateDataKey',
      'ReEncrypt',
      'Sign',
      'Verify',
      'other',
    ]);
    // GenerateMac (2 calls) and CreateKey (1) make "other"
    expect(series[6].counts.reduce((x, y) => x + y, 0)).toBe(3);
  });
});

describe('CreateKey', () => {
  it('EXTERNAL origin: PendingImport (from keyMetadata.keyState, and from the origin when the state is not logged)', () => {
    expect(run([createKey(KEY1_ID, at(0), { origin: 'EXTERNAL' })]).key(KEY1)).toMatchObject({
      state: 'PendingImport',
      origin: 'EXTERNAL',
    });
    expect(run([createKey(KEY1_ID, at(0), { origin: 'EXTERNAL', keyState: null })]).key(KEY1)!.state).toBe(
      'PendingImport',
    );
    expect(run([createKey(KEY1_ID, at(0), { keyState: null })]).key(KEY1)!.state).toBe('Enabled');
  });

  it('keyMetadata spec, usage, origin, multi-Region and custom key store', () => {
    const mrk = keyArn(MRK_ID, 'us-east-1');
    const { key, detail } = run([
      createKey(MRK_ID, at(0), {
        region: 'us-east-1',
        keySpec: 'HMAC_256',
        keyUsage: 'GENERATE_VERIFY_MAC',
        multiRegion: true,
      }),
      createKey(KEY2_ID, at(1), { origin: 'AWS_CLOUDHSM', customKeyStoreId: 'cks-1234567890abcdef0' }),
    ]);
    expect(key(mrk)).toMatchObject({
      keySpec: 'HMAC_256',
      keyUsage: 'GENERATE_VERIFY_MAC',
      origin: 'AWS_KMS',
      multiRegion: true,
      state: 'Enabled',
      region: 'us-east-1',
    });
    expect(detail(mrk)!.lifecycle[0].detail).toBe('HMAC_256, GENERATE_VERIFY_MAC, AWS_KMS, multi-Region');
    expect(key(KEY2)).toMatchObject({
      origin: 'AWS_CLOUDHSM',
      customKeyStoreId: 'cks-1234567890abcdef0',
      multiRegion: false,
    });
  });

  it('finds the key in keyMetadata.arn when the event has no resources', () => {
    const { key, a } = run([createKey(KEY1_ID, at(0), { resources: false })]);
    expect(a.keys.map((k) => k.arn)).toEqual([KEY1]);
    expect(key(KEY1)!.state).toBe('Enabled');
  });

  it('a failed management call changes nothing and is recorded as failed', () => {
    const failed = kmsCall('PutKeyPolicy', {
      time: at(1),
      key: KEY1,
      requestParameters: { keyId: KEY1_ID, policyName: 'default', policy: policy(ownerStatement) },
      error: [
        'MalformedPolicyDocumentException',
        'The new key policy will not allow you to update the key policy in the future.',
      ],
    });
    const { detail } = run([createKey(KEY1_ID, at(0)), failed]);
    expect(detail(KEY1)!.lifecycle[1]).toMatchObject({
      eventName: 'PutKeyPolicy',
      errorCode: 'MalformedPolicyDocumentException',
      state: undefined,
    });
    expect(detail(KEY1)!.failures).toBe(1);
  });
});

describe('key material, multi-Region keys', () => {
  it('ImportKeyMaterial / DeleteImportedKeyMaterial / DeleteExpiredKeyMaterial', () => {
    const evs = [
      createKey(KEY2_ID, at(0), { origin: 'EXTERNAL' }),
      kmsCall('GetParametersForImport', {
        time: at(1),
        key: KEY2,
        requestParameters: { keyId: KEY2_ID, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_2048' },
      }),
      keyOp('ImportKeyMaterial', KEY2, at(2), {
        validTo: 'Jan 1, 2025 8:00:00 PM',
        expirationModel: 'KEY_MATERIAL_EXPIRES',
      }),
      keyOp('DeleteImportedKeyMaterial', KEY2, at(3)),
      keyOp('ImportKeyMaterial', KEY2, at(4), {
        expirationModel: 'KEY_MATERIAL_EXPIRES',
        validTo: 'Jan 1, 2025 8:00:00 PM',
      }),
      kmsCall('DeleteExpiredKeyMaterial', {
        time: '2025-01-01T20:00:00Z',
        key: KEY2,
        user: kmsInternal,
        eventType: 'AwsServiceEvent',
        extra: { serviceEventDetails: { keyId: KEY2_ID } },
      }),
    ];
    expect(statesAfterEach(evs, KEY2)).toEqual([
      'PendingImport',
      'PendingImport',
      'Enabled',
      'PendingImport',
      'Enabled',
      'PendingImport',
    ]);
    const d = run(evs).detail(KEY2)!;
    // GetParametersForImport is read-only: not a step
    expect(d.lifecycle.map((s) => [s.eventName, s.state])).toEqual([
      ['CreateKey', 'PendingImport'],
      ['ImportKeyMaterial', 'Enabled'],
      ['DeleteImportedKeyMaterial', 'PendingImport'],
      ['ImportKeyMaterial', 'Enabled'],
      ['DeleteExpiredKeyMaterial', 'PendingImport'],
    ]);
  });

  it('ReplicateKey, UpdatePrimaryRegion; ScheduleKeyDeletion of a primary with replicas is PendingReplicaDeletion', () => {
    const primary = keyArn(MRK_ID, 'us-east-1');
    const evs = [
      createKey(MRK_ID, at(0), { region: 'us-east-1', multiRegion: true }),
      kmsCall('ReplicateKey', {
        time: at(1),
        region: 'us-east-1',
        key: primary,
        requestParameters: {
          keyId: MRK_ID,
          replicaRegion: 'eu-west-1',
          bypassPolicyLockoutSafetyCheck: false,
          description: '',
        },
      }),
      kmsCall('UpdatePrimaryRegion', {
        time: at(2),
        region: 'us-east-1',
        key: primary,
        requestParameters: { keyId: primary, primaryRegion: 'eu-west-1' },
      }),
      kmsCall('ScheduleKeyDeletion', {
        time: at(3),
        region: 'us-east-1',
        key: primary,
        requestParameters: { keyId: MRK_ID, pendingWindowInDays: 30 },
        responseElements: { keyId: primary, keyState: 'PendingReplicaDeletion', pendingWindowInDays: 30 },
      }),
      use('GenerateDataKey', primary, at(4), {
        region: 'us-east-1',
        error: ['KMSInvalidStateException', `${primary} is pending replica deletion.`],
      }),
    ];
    const { key, detail, findings } = run(evs);
    expect(detail(primary)!.lifecycle.map((s) => [s.eventName, s.detail])).toEqual([
      ['CreateKey', 'SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT, AWS_KMS, multi-Region'],
      ['ReplicateKey', 'to eu-west-1'],
      ['UpdatePrimaryRegion', 'primary → eu-west-1'],
      ['ScheduleKeyDeletion', 'deletion 30 days after the last replica is deleted'],
    ]);
    // no deletion date until the last replica is deleted (ScheduleKeyDeletion API reference)
    expect(key(primary)).toMatchObject({ state: 'PendingReplicaDeletion', multiRegion: true, deletionDate: undefined });
    expect(findings('kms-key-deletion-scheduled')[0].keys).toEqual([primary]);
    expect(findings('kms-key-pending-deletion-use')).toMatchObject([{ count: 1, keys: [primary], rows: [4] }]);
    // ReplicateKey alone also marks a key multi-Region
    expect(run([evs[1]]).key(primary)!.multiRegion).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Aliases and key references

describe('aliases and key references', () => {
  // alias/payments → KEY1, alias/archive → KEY1; alias/payments moves to KEY2; alias/archive is deleted.
  const evs = [
    createKey(KEY1_ID, at(0)),
    createKey(KEY2_ID, at(1)),
    kmsCall('CreateAlias', {
      time: at(2),
      key: KEY1,
      alsoResources: [],
      requestParameters: { aliasName: 'alias/payments', targetKeyId: KEY1_ID },
    }),
    kmsCall('CreateAlias', {
      time: at(3),
      key: KEY1,
      requestParameters: { aliasName: 'alias/archive', targetKeyId: KEY1 },
    }),
    // 4: an alias name, no resources: resolved to KEY1 at that time
    use('Decrypt', '', at(4), { keyId: 'alias/payments', resources: false }),
    // 5: UpdateAlias, as KMS logs it: the alias ARN and the new target in resources
    kmsCall('UpdateAlias', {
      time: at(5),
      key: KEY2,
      alsoResources: [aliasArn('alias/payments')],
      requestParameters: { aliasName: 'alias/payments', targetKeyId: KEY2_ID },
    }),
    // 6: an alias ARN after the move: KEY2
    use('Encrypt', '', at(6), { keyId: aliasArn('alias/payments'), resources: false }),
    // 7: the same alias name in another Region is another alias: unresolved
    use('Encrypt', '', at(7), { keyId: 'alias/payments', resources: false, region: 'us-east-1' }),
    // 8: DeleteAlias (resources: the alias ARN and the key it pointed to)
    kmsCall('DeleteAlias', {
      time: at(8),
      key: KEY1,
      alsoResources: [aliasArn('alias/archive')],
      requestParameters: { aliasName: 'alias/archive' },
    }),
    // 9: the deleted alias: unresolved
    use('GenerateDataKey', '', at(9), {
      keyId: 'alias/archive',
      resources: false,
      error: ['NotFoundException', `Alias ${aliasArn('alias/archive')} is not found.`],
    }),
    // 10: a bare key ID: ARN from awsRegion + recipientAccountId
    use('Decrypt', '', at(10), { keyId: KEY2_ID, resources: false }),
    // 11: a multi-Region key ID
    use('Decrypt', '', at(11), { keyId: MRK_ID, resources: false }),
  ];

  it('aliases now and formerly pointing to each key', () => {
    const { key } = run(evs);
    expect(key(KEY1)!.aliases).toEqual([]);
    expect([...key(KEY1)!.formerAliases].sort()).toEqual(['alias/archive', 'alias/payments']);
    expect(key(KEY2)!.aliases).toEqual(['alias/payments']);
    expect(key(KEY2)!.formerAliases).toEqual([]);
  });

  it('resolves alias names, alias ARNs and key IDs to the key at the time of the call', () => {
    const { a } = run(evs);
    const arnOfRow = (r: number) =>
      a.keyOfRow[r] < 0 ? '' : [...a.keyIndexByArn].find(([, i]) => i === a.keyOfRow[r])![0];
    expect(arnOfRow(4)).toBe(KEY1);
    expect(arnOfRow(6)).toBe(KEY2);
    expect(arnOfRow(7)).toBe('');
    expect(arnOfRow(9)).toBe('');
    expect(arnOfRow(10)).toBe(KEY2);
    expect(arnOfRow(11)).toBe(keyArn(MRK_ID));
    expect(a.keys.find((k) => k.arn === KEY1)!.cryptoCalls).toBe(1);
    expect(a.keys.find((k) => k.arn === KEY2)!.cryptoCalls).toBe(2);
  });

  it('alias steps show on the key they name', () => {
    const { detail } = run(evs);
    expect(detail(KEY1)!.lifecycle.map((s) => [s.eventName, s.detail])).toEqual([
      ['CreateKey', 'SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT, AWS_KMS'],
      ['CreateAlias', 'alias/payments'],
      ['CreateAlias', 'alias/archive'],
      ['DeleteAlias', 'alias/archive'],
    ]);
    expect(detail(KEY2)!.lifecycle.map((s) => [s.eventName, s.detail])).toEqual([
      ['CreateKey', 'SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT, AWS_KMS'],
      ['UpdateAlias', 'alias/payments'],
    ]);
  });

  it('a failed alias change moves nothing', () => {
    const failed = kmsCall('UpdateAlias', {
      time: at(5),
      key: KEY2,
      alsoResources: [aliasArn('alias/payments')],
      requestParameters: { aliasName: 'alias/payments', targetKeyId: KEY2_ID },
      error: ['AccessDeniedException', 'not authorized'],
    });
    const { key } = run([...evs.slice(0, 5), failed, evs[6]]);
    expect(key(KEY1)!.aliases).toEqual(['alias/payments', 'alias/archive']);
    expect(key(KEY1)!.cryptoCalls).toBe(2);
  });

  it('an alias used before its first recorded change: the target when that change created it, nothing before an UpdateAlias', () => {
    const early = use('Decrypt', '', at(0), { keyId: 'alias/late', resources: false });
    const created = kmsCall('CreateAlias', {
      time: at(5),
      key: KEY1,
      requestParameters: { aliasName: 'alias/late', targetKeyId: KEY1_ID },
    });
    expect(run([early, created]).a.keyOfRow[0]).toBe(run([early, created]).a.keyIndexByArn.get(KEY1));
    // before an UpdateAlias the alias pointed to a key the trail does not show: not KEY2
    const moved = kmsCall('UpdateAlias', {
      time: at(5),
      key: KEY2,
      alsoResources: [aliasArn('alias/late')],
      requestParameters: { aliasName: 'alias/late', targetKeyId: KEY2_ID },
    });
    const r = run([early, moved]);
    expect(r.a.keyOfRow[0]).toBe(-1);
    expect(r.key(KEY2)!.cryptoCalls).toBe(0);
  });

  it('a call in the same second as the alias change, after it, uses the new target', () => {
    const moved = kmsCall('UpdateAlias', {
      time: at(5),
      key: KEY2,
      alsoResources: [aliasArn('alias/payments')],
      requestParameters: { aliasName: 'alias/payments', targetKeyId: KEY2_ID },
    });
    const { a } = run([
      ...evs.slice(0, 4),
      moved,
      use('Decrypt', '', at(5), { keyId: 'alias/payments', resources: false }),
    ]);
    expect(a.keyOfRow[5]).toBe(a.keyIndexByArn.get(KEY2));
  });

  it("a key ID without recipientAccountId: the caller's account", () => {
    const ev = use('Decrypt', '', at(0), { keyId: KEY1_ID, resources: false });
    delete ev.recipientAccountId;
    expect(run([ev]).a.keys.map((k) => k.arn)).toEqual([KEY1]);
  });

  it('a key ID without a Region or account stays a key ID', () => {
    const ev = use('Decrypt', '', at(0), { keyId: KEY1_ID, resources: false });
    delete ev.awsRegion;
    delete ev.recipientAccountId;
    const { a } = run([ev]);
    expect(a.keys.map((k) => [k.arn, k.account, k.region])).toEqual([[KEY1_ID, '', '']]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 2. Finding rules

describe('finding rules', () => {
  const covered = new Set<string>();
  const fire = (rule: string) => {
    covered.add(rule);
    return rule;
  };

  it('kms-key-pending-deletion-use: calls after ScheduleKeyDeletion, or failing as pending deletion', () => {
    const rule = fire('kms-key-pending-deletion-use');
    const sched = kmsCall('ScheduleKeyDeletion', {
      time: at(10),
      key: KEY1,
      requestParameters: { keyId: KEY1_ID, pendingWindowInDays: 7 },
      responseElements: { keyId: KEY1, keyState: 'PendingDeletion', deletionDate: 'Mar 8, 2024, 10:10:00 AM' },
    });
    const app = roleSession('app', 'worker-7');
    const evs = [
      createKey(KEY1_ID, at(0)),
      use('Decrypt', KEY1, at(5), { user: app }), // near-miss: before ScheduleKeyDeletion
      sched,
      keyOp('DescribeKey', KEY1, at(11)), // near-miss: read-only
      use('Decrypt', KEY1, at(12), { user: app, error: ['KMSInvalidStateException', pendingDeletionMessage(KEY1)] }),
      use('Encrypt', KEY1, at(13), { user: app, error: ['KMSInvalidStateException', pendingDeletionMessage(KEY1)] }),
      // another key, no ScheduleKeyDeletion in the trail: the error message says it
      use('Decrypt', KEY2, at(14), { error: ['KMSInvalidStateException', pendingDeletionMessage(KEY2)] }),
      // near-miss: KMSInvalidStateException for another reason (an external key store's, from the KMS guide)
      use('Decrypt', keyArn('3333aaaa-12ab-34cd-56ef-1234567890ab'), at(15), {
        error: [
          'KMSInvalidStateException',
          'The external key store proxy rejected the request because the specified ciphertext or additional authenticated data is corrupted, missing, or otherwise invalid.',
        ],
      }),
    ];
    const { findings } = run(evs);
    const f = findings(rule);
    expect(f.map((x) => [x.keys, x.count, x.severity, x.rows])).toEqual([
      [[KEY2], 1, 'high', [6]],
      [[KEY1], 2, 'high', [4, 5]],
    ]);
    const k1 = f.find((x) => x.keys[0] === KEY1)!;
    expect(k1).toMatchObject({
      title: KEY_RULES[rule].title,
      first: ms(at(12)),
      last: ms(at(13)),
      accounts: [OWNER],
      principals: [app.arn],
      query: `finding:${rule} key:"${KEY1}"`,
    });
    // after CancelKeyDeletion the key is disabled, not pending deletion
    const cancel = kmsCall('CancelKeyDeletion', {
      time: at(12),
      key: KEY1,
      requestParameters: { keyId: KEY1_ID },
      responseElements: { keyId: KEY1 },
    });
    const after = run([
      evs[0],
      sched,
      cancel,
      use('Decrypt', KEY1, at(13), { error: ['DisabledException', disabledMessage(KEY1)] }),
    ]);
    expect(after.findings(rule)).toEqual([]);
    expect(after.findings('kms-key-disabled-use')).toHaveLength(1);
    // a failed ScheduleKeyDeletion leaves the key usable
    const failedSched = {
      ...sched,
      errorCode: 'AccessDeniedException',
      errorMessage: 'not authorized',
      responseElements: null,
    };
    expect(run([evs[0], failedSched, use('Decrypt', KEY1, at(12))]).findings(rule)).toEqual([]);
  });

  it('kms-key-disabled-use: calls on a disabled key, or failing with DisabledException', () => {
    const rule = fire('kms-key-disabled-use');
    const evs = [
      createKey(KEY1_ID, at(0)),
      use('Encrypt', KEY1, at(1)), // near-miss: enabled
      keyOp('DisableKey', KEY1, at(2)),
      keyOp('DescribeKey', KEY1, at(3)), // near-miss: read-only
      use('Encrypt', KEY1, at(4), { error: ['DisabledException', disabledMessage(KEY1)] }),
      use('GenerateDataKey', KEY1, at(5), { error: ['DisabledException', disabledMessage(KEY1)] }),
      keyOp('EnableKey', KEY1, at(6)), // near-miss: re-enabling is not use
      use('Encrypt', KEY1, at(7)), // near-miss: enabled again
      use('Decrypt', KEY2, at(8), { error: ['DisabledException', disabledMessage(KEY2)] }), // the error alone
    ];
    const f = run(evs).findings(rule);
    expect(f.map((x) => [x.keys, x.count, x.severity, x.rows])).toEqual([
      [[KEY2], 1, 'medium', [8]],
      [[KEY1], 2, 'medium', [4, 5]],
    ]);
    // DisableKey twice: the second is not "use"
    expect(run([evs[0], evs[2], keyOp('DisableKey', KEY1, at(3))]).findings(rule)).toEqual([]);
  });

  it('kms-key-policy-external-access: Principal "*", {"AWS":"*"}, another account (ARN list or bare ID); not the owner or a service', () => {
    const rule = fire('kms-key-policy-external-access');
    const put = (arn: string, min: number, doc: string, error?: [string, string]) =>
      keyOp(
        'PutKeyPolicy',
        arn,
        at(min),
        { policyName: 'default', policy: doc, bypassPolicyLockoutSafetyCheck: false },
        { error },
      );
    const k = (i: number) => keyArn(`${i}${i}${i}${i}aaaa-12ab-34cd-56ef-1234567890ab`);
    const allow = (Principal: unknown, extra: Record<string, unknown> = {}) => ({
      Effect: 'Allow',
      Principal,
      Action: ['kms:Decrypt', 'kms:DescribeKey'],
      Resource: '*',
      ...extra,
    });
    const evs = [
      put(k(1), 0, policy(ownerStatement, allow('*'))),
      put(
        k(2),
        1,
        policy(ownerStatement, allow({ AWS: '*' }, { Condition: { StringEquals: { 'kms:CallerAccount': OTHER } } })),
      ), // a "*" limited to another account (issue 11: medium, see below)
      put(k(3), 2, policy(ownerStatement, allow({ AWS: [`arn:aws:iam::${OTHER}:root`] }))),
      put(k(4), 3, policy(ownerStatement, allow({ AWS: OTHER }))),
      // CreateKey with a policy for another account's role
      createKey('5555aaaa-12ab-34cd-56ef-1234567890ab', at(4), {
        policy: policy(ownerStatement, allow({ AWS: `arn:aws:iam::${OTHER}:role/Partner` })),
      }),
      // near-misses
      put(k(6), 5, policy(ownerStatement)), // only the owner account
      put(k(7), 6, policy(ownerStatement, allow({ AWS: `arn:aws:iam::${OWNER}:role/Admin` }))), // a principal of the owner
      put(
        k(8),
        7,
        policy(
          ownerStatement,
          allow({ Service: 'logs.us-west-2.amazonaws.com' }),
          allow({ Service: ['cloudtrail.amazonaws.com'] }),
        ),
      ), // service principals
      put(k(9), 8, policy(ownerStatement, { Effect: 'Deny', Principal: '*', Action: 'kms:*', Resource: '*' })), // a Deny
      put(k(1), 9, policy(ownerStatement, allow('*')), [
        'MalformedPolicyDocumentException',
        'The new key policy will not allow you to update the key policy in the future.',
      ]), // failed
      createKey('6666aaaa-12ab-34cd-56ef-1234567890ab', at(10), { policy: policy(ownerStatement) }),
    ];
    const { findings, detail } = run(evs);
    const f = findings(rule);
    expect(f.map((x) => x.keys[0]).sort()).toEqual(
      [k(1), k(2), k(3), k(4), keyArn('5555aaaa-12ab-34cd-56ef-1234567890ab')].sort(),
    );
    expect(f.every((x) => x.count === 1 && x.severity === (x.keys[0] === k(2) ? 'medium' : 'high'))).toBe(true);
    expect(detail(k(1))!.lifecycle[0].detail).toBe('grants *');
    expect(detail(k(3))!.lifecycle[0].detail).toBe(`grants arn:aws:iam::${OTHER}:root`);
    expect(detail(k(4))!.lifecycle[0].detail).toBe(`grants ${OTHER}`);
    expect(detail(keyArn('5555aaaa-12ab-34cd-56ef-1234567890ab'))!.lifecycle[0].detail).toMatch(
      new RegExp(`policy grants arn:aws:iam::${OTHER}:role/Partner$`),
    );
    expect(detail(k(6))!.lifecycle[0].detail).toBe('policy replaced');
  });

  it('externalPrincipals, accountOf and principalGroup', () => {
    expect(externalPrincipals(policy({ Effect: 'Allow', Principal: '*', Action: 'kms:*' }), OWNER)).toEqual(['*']);
    expect(externalPrincipals(policy({ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'kms:*' }), OWNER)).toEqual([
      '*',
    ]);
    expect(
      externalPrincipals(
        policy({
          Effect: 'Allow',
          Principal: { AWS: [`arn:aws:iam::${OTHER}:root`, `arn:aws:iam::${OWNER}:root`, '444455556666'] },
        }),
        OWNER,
      ),
    ).toEqual([`arn:aws:iam::${OTHER}:root`, '444455556666']);
    expect(externalPrincipals(policy({ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' } }), OWNER)).toEqual(
      [],
    );
    expect(
      externalPrincipals(policy({ Effect: 'Allow', Principal: { AWS: `arn:aws-cn:iam::${OTHER}:user/x` } }), OWNER),
    ).toEqual([`arn:aws-cn:iam::${OTHER}:user/x`]);
    // a single statement object, not a list
    expect(
      externalPrincipals(JSON.stringify({ Statement: { Effect: 'Allow', Principal: { AWS: OTHER } } }), OWNER),
    ).toEqual([OTHER]);
    expect(externalPrincipals(policy({ Effect: 'Deny', Principal: '*' }), OWNER)).toEqual([]);
    expect(externalPrincipals('{not json', OWNER)).toEqual([]);
    expect(accountOf(OTHER)).toBe(OTHER);
    expect(accountOf(`arn:aws:iam::${OTHER}:root`)).toBe(OTHER);
    expect(accountOf(`arn:aws:sts::${OTHER}:assumed-role/R/s`)).toBe(OTHER);
    expect(accountOf(KEY1)).toBe(OWNER);
    expect(accountOf('ec2.amazonaws.com')).toBe('');
    expect(accountOf('EX_PRINCIPAL_ID')).toBe('');
    expect(principalGroup(`arn:aws:sts::${OWNER}:assumed-role/app/worker-7`)).toBe(`arn:aws:iam::${OWNER}:role/app`);
    expect(principalGroup('AWSAccount:AROAEXAMPLE:session')).toBe('AWSAccount:AROAEXAMPLE');
    expect(principalGroup(alice.arn!)).toBe(alice.arn);
  });

  it('kms-grant-external: CreateGrant to another account; not to the owner account, a service, or when it failed', () => {
    const rule = fire('kms-grant-external');
    const grant = (grantee: string, min: number, error?: [string, string]) =>
      kmsCall('CreateGrant', {
        time: at(min),
        key: KEY1,
        error,
        requestParameters: {
          keyId: KEY1,
          operations: ['Decrypt'],
          granteePrincipal: grantee,
          retiringPrincipal: `arn:aws:iam::${OWNER}:role/Admin`,
        },
        responseElements: error ? null : { grantId: `${min}`.padStart(64, 'a') },
      });
    const evs = [
      createKey(KEY1_ID, at(0)),
      grant(`arn:aws:iam::${OTHER}:role/Partner`, 1),
      grant(`arn:aws:iam::${OWNER}:role/app`, 2), // same account
      grant('ec2.amazonaws.com', 3), // a service principal
      grant(`arn:aws:iam::${OTHER}:role/Other`, 4, ['AccessDeniedException', 'not authorized']), // failed
    ];
    const f = run(evs).findings(rule);
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ keys: [KEY1], count: 1, severity: 'medium', rows: [1] });
  });

  it('kms-key-deletion-scheduled: a successful ScheduleKeyDeletion only', () => {
    const rule = fire('kms-key-deletion-scheduled');
    const sched = (arn: string, min: number, error?: [string, string]) =>
      kmsCall('ScheduleKeyDeletion', {
        time: at(min),
        key: arn,
        error,
        requestParameters: { keyId: arn, pendingWindowInDays: 7 },
        responseElements: error
          ? null
          : {
              keyId: arn,
              keyState: 'PendingDeletion',
              deletionDate: 'Mar 8, 2024, 10:00:00 AM',
              pendingWindowInDays: 7,
            },
      });
    const evs = [
      createKey(KEY1_ID, at(0)),
      createKey(KEY2_ID, at(0)),
      sched(KEY1, 1),
      sched(KEY2, 2, ['AccessDeniedException', 'User is not authorized to perform: kms:ScheduleKeyDeletion']),
    ];
    const { findings, key, detail } = run(evs);
    expect(findings(rule)).toMatchObject([{ keys: [KEY1], count: 1, severity: 'high', rows: [2] }]);
    expect(key(KEY2)!.state).toBe('Enabled');
    expect(key(KEY2)!.deletionDate).toBeUndefined();
    expect(detail(KEY2)!.lifecycle[1]).toMatchObject({
      eventName: 'ScheduleKeyDeletion',
      errorCode: 'AccessDeniedException',
      detail: 'failed: AccessDeniedException',
      state: undefined,
    });
  });

  it('kms-key-disabled: a successful DisableKey only', () => {
    const rule = fire('kms-key-disabled');
    const evs = [
      createKey(KEY1_ID, at(0)),
      createKey(KEY2_ID, at(0)),
      keyOp('DisableKey', KEY1, at(1)),
      keyOp('DisableKeyRotation', KEY2, at(2)), // near-miss
      keyOp('DisableKey', KEY2, at(3), {}, { error: ['AccessDeniedException', 'not authorized'] }), // failed
    ];
    const { findings, key } = run(evs);
    expect(findings(rule)).toMatchObject([{ keys: [KEY1], count: 1, severity: 'medium', rows: [2] }]);
    expect(key(KEY2)!.state).toBe('Enabled');
  });

  it('kms-key-material-change: import, delete and expiry of imported key material', () => {
    const rule = fire('kms-key-material-change');
    const evs = [
      createKey(KEY1_ID, at(0), { origin: 'EXTERNAL' }),
      kmsCall('GetParametersForImport', {
        time: at(1),
        key: KEY1,
        requestParameters: { keyId: KEY1_ID, wrappingAlgorithm: 'RSAES_OAEP_SHA_256', wrappingKeySpec: 'RSA_2048' },
      }), // near-miss
      keyOp(
        'ImportKeyMaterial',
        KEY1,
        at(2),
        { expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' },
        { error: ['IncorrectKeyMaterialException', 'bad'] },
      ), // failed: near-miss
      keyOp('ImportKeyMaterial', KEY1, at(3), { expirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }),
      keyOp('DeleteImportedKeyMaterial', KEY1, at(4)),
      kmsCall('DeleteExpiredKeyMaterial', { time: at(5), key: KEY1, user: kmsInternal, eventType: 'AwsServiceEvent' }),
    ];
    expect(run(evs).findings(rule)).toMatchObject([{ keys: [KEY1], count: 3, severity: 'medium', rows: [3, 4, 5] }]);
  });

  it('kms-custom-key-store-change: successful custom key store changes; not reads or failures', () => {
    const rule = fire('kms-custom-key-store-change');
    const cks = 'cks-1234567890abcdef0';
    const op = (
      name: string,
      min: number,
      rp: Record<string, unknown>,
      re: Record<string, unknown> | null = null,
      error?: [string, string],
    ) => kmsCall(name, { time: at(min), key: null, requestParameters: rp, responseElements: re, error });
    const evs = [
      op(
        'CreateCustomKeyStore',
        0,
        {
          customKeyStoreName: 'ExampleKeyStore',
          cloudHsmClusterId: 'cluster-igklspoyj5v',
          trustAnchorCertificate: '<certificate>',
          keyStorePassword: 'HIDDEN_DUE_TO_SECURITY_REASONS',
        },
        { customKeyStoreId: cks },
      ),
      op('ConnectCustomKeyStore', 1, { customKeyStoreId: cks }),
      op('DescribeCustomKeyStores', 2, { customKeyStoreId: cks }), // near-miss: read-only
      op('DisconnectCustomKeyStore', 3, { customKeyStoreId: cks }),
      op('UpdateCustomKeyStore', 4, { customKeyStoreId: cks, newCustomKeyStoreName: 'Renamed' }),
      op('ConnectCustomKeyStore', 5, { customKeyStoreId: cks }, null, [
        'CustomKeyStoreInvalidStateException',
        'not disconnected',
      ]), // failed: near-miss
      op('DeleteCustomKeyStore', 6, { customKeyStoreId: cks }),
    ];
    const { findings, a } = run(evs);
    expect(findings(rule)).toMatchObject([
      { keys: [], count: 5, severity: 'medium', rows: [0, 1, 3, 4, 6], query: `finding:${rule}` },
    ]);
    expect(a.clusters.find((c) => c.clusterId === 'cluster-igklspoyj5v')!.customKeyStores).toEqual([
      { id: cks, name: 'ExampleKeyStore', state: 'DELETED' },
    ]);
    // the failed ConnectCustomKeyStore does not connect it
    expect(run(evs.slice(0, 6)).a.clusters[0].customKeyStores[0].state).toBe('DISCONNECTED');
    expect(a.keys).toEqual([]);
  });

  it('cloudhsm-resource-deleted: DeleteCluster, DeleteHsm, DeleteBackup, BackupDeletedPermanently', () => {
    const rule = fire('cloudhsm-resource-deleted');
    const { a, findings } = run(hsmLifecycle);
    expect(findings(rule)).toMatchObject([
      { keys: [], count: 4, severity: 'high', rows: [4, 6, 7, 8], accounts: [OWNER], query: `finding:${rule}` },
    ]);
    expect(a.ruleRows.get(rule)).toEqual(Uint32Array.from([4, 6, 7, 8]));
    // near-misses: creation, reads, a failed DeleteCluster
    const { findings: none } = run([
      ...hsmLifecycle.slice(0, 4),
      hsmCall('DescribeClusters', { time: at(30), requestParameters: { filters: { clusterIds: [CLUSTER] } } }),
      hsmCall('DeleteCluster', {
        time: at(31),
        requestParameters: { clusterId: CLUSTER },
        error: ['CloudHsmInvalidRequestException', 'The cluster has HSMs'],
      }),
    ]);
    expect(none(rule)).toEqual([]);
  });

  // ---- issue 11: finding semantics ----

  it('kms-record-gap: a successful cryptographic call on a key the record shows Disabled or PendingDeletion is missing events, not use', () => {
    const rule = fire('kms-record-gap');
    const sched = kmsCall('ScheduleKeyDeletion', {
      time: at(10),
      key: KEY2,
      requestParameters: { keyId: KEY2_ID, pendingWindowInDays: 7 },
      responseElements: { keyId: KEY2, keyState: 'PendingDeletion' },
    });
    const evs = [
      createKey(KEY1_ID, at(0)),
      keyOp('DisableKey', KEY1, at(1)),
      use('Encrypt', KEY1, at(2)), // succeeded: an EnableKey is missing
      use('Encrypt', KEY1, at(3)), // the key is Enabled from then on: not a second gap
      createKey(KEY2_ID, at(9)),
      sched,
      use('Decrypt', KEY2, at(11)), // succeeded: a CancelKeyDeletion + EnableKey are missing
      use('Decrypt', KEY1, at(12), { error: ['AccessDeniedException', 'not authorized'] }), // near-miss: enabled key
    ];
    const r = run(evs);
    expect(r.findings(rule).map((x) => [x.keys, x.rows, x.severity])).toEqual([
      [[KEY2], [6], 'medium'],
      [[KEY1], [2], 'medium'],
    ]);
    expect(r.findings('kms-key-disabled-use')).toEqual([]);
    expect(r.findings('kms-key-pending-deletion-use')).toEqual([]);
    expect(r.key(KEY1)!.state).toBe('Enabled');
    expect(r.key(KEY2)!.state).toBe('Enabled');
    expect(r.detail(KEY1)!.lifecycle.map((s) => [s.eventName, s.state])).toEqual([
      ['CreateKey', 'Enabled'],
      ['DisableKey', 'Disabled'],
      ['Encrypt', 'Enabled'],
    ]);
    // a failed call on the disabled key is still use while disabled
    expect(
      run([
        evs[0],
        evs[1],
        use('Encrypt', KEY1, at(2), { error: ['DisabledException', disabledMessage(KEY1)] }),
      ]).findings('kms-key-disabled-use'),
    ).toHaveLength(1);
  });

  it('kms-alias-repointed: UpdateAlias to another key; not to the same key, not a failed one', () => {
    const rule = fire('kms-alias-repointed');
    const alias = (op: string, min: number, target: string, targetId: string, error?: [string, string]) =>
      kmsCall(op, {
        time: at(min),
        key: target,
        alsoResources: [aliasArn('alias/payments')],
        requestParameters: { aliasName: 'alias/payments', targetKeyId: targetId },
        error,
      });
    const evs = [
      alias('CreateAlias', 0, KEY1, KEY1_ID),
      alias('UpdateAlias', 1, KEY1, KEY1_ID), // near-miss: same key
      alias('UpdateAlias', 2, KEY2, KEY2_ID, ['AccessDeniedException', 'not authorized']), // near-miss: failed
      alias('UpdateAlias', 3, KEY2, KEY2_ID),
    ];
    const f = run(evs).findings(rule);
    expect(f.map((x) => [x.keys, x.rows, x.severity])).toEqual([[[KEY2], [3], 'medium']]);
    expect(f[0].description).toContain(`alias/payments at ${at(3)}: from ${KEY1} to ${KEY2}`);
    // UpdateAlias with no earlier alias change in the record: it moved the alias from a key not in the events
    expect(run([evs[3]]).findings(rule)[0].description).toContain('from a key not in the loaded events');
  });

  it('kms-key-rotation-disabled: a successful DisableKeyRotation', () => {
    const rule = fire('kms-key-rotation-disabled');
    const f = run([
      keyOp('EnableKeyRotation', KEY1, at(0)),
      keyOp('DisableKeyRotation', KEY1, at(1)),
      keyOp('DisableKeyRotation', KEY2, at(2), {}, { error: ['AccessDeniedException', 'not authorized'] }), // near-miss: failed
    ]).findings(rule);
    expect(f.map((x) => [x.keys, x.rows, x.severity])).toEqual([[[KEY1], [1], 'low']]);
  });

  it('kms-key-policy-lockout: bypassPolicyLockoutSafetyCheck true, or no statement lets the owner account manage the policy', () => {
    const rule = fire('kms-key-policy-lockout');
    const put = (arn: string, min: number, doc: string, bypass = false) =>
      keyOp('PutKeyPolicy', arn, at(min), {
        policyName: 'default',
        policy: doc,
        bypassPolicyLockoutSafetyCheck: bypass,
      });
    const k = (i: number) => keyArn(`${i}${i}${i}${i}bbbb-12ab-34cd-56ef-1234567890ab`);
    const userOnly = {
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${OWNER}:user/Alice` },
      Action: ['kms:Encrypt', 'kms:Decrypt'],
      Resource: '*',
    };
    const { findings, detail } = run([
      put(k(1), 0, policy(ownerStatement), true), // the safety check bypassed
      put(k(2), 1, policy(userOnly)), // nobody of the owner account can change the policy any more
      put(k(3), 2, policy({ ...ownerStatement, Principal: { AWS: `arn:aws:iam::${OTHER}:root` } })), // only another account
      put(k(4), 3, policy(ownerStatement)), // near-miss: the default statement
      put(
        k(5),
        4,
        policy(userOnly, {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${OWNER}:role/KeyAdmin` },
          Action: ['kms:Put*', 'kms:Describe*'],
          Resource: '*',
        }),
      ), // near-miss: a key admin role
      createKey('6666bbbb-12ab-34cd-56ef-1234567890ab', at(5), { policy: policy(userOnly) }),
    ]);
    expect(
      findings(rule)
        .map((x) => x.keys[0])
        .sort(),
    ).toEqual([k(1), k(2), k(3), keyArn('6666bbbb-12ab-34cd-56ef-1234567890ab')].sort());
    expect(findings(rule).every((x) => x.severity === 'high' && x.count === 1)).toBe(true);
    expect(detail(k(1))!.lifecycle[0].detail).toBe('lockout risk: bypassPolicyLockoutSafetyCheck true');
    expect(detail(k(2))!.lifecycle[0].detail).toBe(
      `lockout risk: no statement lets account ${OWNER} manage the key policy`,
    );
  });

  it('kms-deleted-key-use: calls after DeleteKey, or failing with NotFoundException on a key the record knows', () => {
    const rule = fire('kms-deleted-key-use');
    const notFound = (arn: string): [string, string] => ['NotFoundException', `Key '${arn}' does not exist`];
    const del = kmsCall('DeleteKey', {
      time: at(2),
      key: KEY1,
      eventType: 'AwsServiceEvent',
      user: kmsInternal,
      requestParameters: null,
      responseElements: null,
    });
    const evs = [
      createKey(KEY1_ID, at(0)),
      kmsCall('ScheduleKeyDeletion', {
        time: at(1),
        key: KEY1,
        requestParameters: { keyId: KEY1_ID, pendingWindowInDays: 7 },
        responseElements: { keyId: KEY1, keyState: 'PendingDeletion' },
      }),
      del,
      use('Decrypt', KEY1, at(3), { error: notFound(KEY1) }),
      use('Encrypt', KEY2, at(4)),
      use('Encrypt', KEY2, at(5), { error: notFound(KEY2) }), // the record knows KEY2, no DeleteKey in it
      use('Encrypt', keyArn('7777cccc-12ab-34cd-56ef-1234567890ab'), at(6), {
        error: notFound(keyArn('7777cccc-12ab-34cd-56ef-1234567890ab')),
      }), // near-miss: a key only this call names
    ];
    const f = run(evs).findings(rule);
    expect(f.map((x) => [x.keys, x.rows, x.severity])).toEqual([
      [[KEY2], [5], 'medium'],
      [[KEY1], [3], 'medium'],
    ]);
    expect(run(evs).findings('kms-key-pending-deletion-use')).toEqual([]);
  });

  it('kms-key-policy-external-access reads Conditions: a "*" limited to an organization or account is medium with the condition shown', () => {
    const rule = fire('kms-key-policy-external-access');
    const put = (arn: string, min: number, doc: string) =>
      keyOp('PutKeyPolicy', arn, at(min), {
        policyName: 'default',
        policy: doc,
        bypassPolicyLockoutSafetyCheck: false,
      });
    const k = (i: number) => keyArn(`${i}${i}${i}${i}dddd-12ab-34cd-56ef-1234567890ab`);
    const star = (Condition?: Record<string, unknown>) => ({
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: ['kms:Decrypt'],
      Resource: '*',
      ...(Condition ? { Condition } : {}),
    });
    const r = run([
      put(k(1), 0, policy(ownerStatement, star({ StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } }))),
      put(k(2), 1, policy(ownerStatement, star({ StringEquals: { 'aws:SourceAccount': OTHER } }))),
      put(k(3), 2, policy(ownerStatement, star({ StringEquals: { 'aws:SourceAccount': OTHER } }), star())), // one open statement: high
      put(k(4), 3, policy(ownerStatement, star({ StringEquals: { 'kms:CallerAccount': OWNER } }))), // near-miss: only the owner's principals
      put(k(5), 4, policy(ownerStatement, star({ StringNotEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } }))), // a negated condition limits nothing: high
    ]);
    const sev = Object.fromEntries(r.findings(rule).map((x) => [x.keys[0], x.severity]));
    expect(sev).toEqual({ [k(1)]: 'medium', [k(2)]: 'medium', [k(3)]: 'high', [k(5)]: 'high' });
    expect(r.detail(k(1))!.lifecycle[0].detail).toBe('grants * if StringEquals aws:PrincipalOrgID=o-a1b2c3d4e5');
    expect(r.findings(rule).find((x) => x.keys[0] === k(2))!.description).toContain(
      'grants * if StringEquals aws:SourceAccount=999988887777',
    );
  });

  it('covers every rule of KEY_RULES', () => {
    expect([...covered].sort()).toEqual(Object.keys(KEY_RULES).sort());
  });

  it('every rule states its AWS source', () => {
    for (const [id, r] of Object.entries(KEY_RULES)) expect(r.source, id).toMatch(/AWS .*(Guide|Reference)/);
  });

  it("orders findings by severity, then most recent first; ruleRows lists each rule's rows", () => {
    const evs = [
      createKey(KEY1_ID, at(0)),
      createKey(KEY2_ID, at(0)),
      keyOp('DisableKey', KEY1, at(1)),
      keyOp('DisableKey', KEY2, at(2)),
      kmsCall('ScheduleKeyDeletion', {
        time: at(3),
        key: KEY1,
        requestParameters: { keyId: KEY1_ID, pendingWindowInDays: 7 },
      }),
    ];
    const { a } = run(evs);
    expect(a.findings.map((f) => [f.rule, f.keys[0]])).toEqual([
      ['kms-key-deletion-scheduled', KEY1],
      ['kms-key-disabled', KEY2],
      ['kms-key-disabled', KEY1],
    ]);
    expect([...a.ruleRows.get('kms-key-disabled')!].sort()).toEqual([2, 3]);
    expect(a.keys.find((k) => k.arn === KEY1)!.findings.sort()).toEqual([
      'kms-key-deletion-scheduled',
      'kms-key-disabled',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 4. CloudHSM

describe('CloudHSM', () => {
  it('cluster, HSM and backup lifecycle', () => {
    const states = hsmLifecycle.map(
      (_, i) => run(hsmLifecycle.slice(0, i + 1)).a.clusters.find((c) => c.clusterId === CLUSTER)?.state,
    );
    // issue 11: Initialized, not Active, while no event shows an HSM active (see the test below)
    expect(states).toEqual([
      'Uninitialized',
      'Uninitialized',
      'Initialized',
      'Initialized',
      'Initialized',
      'Initialized',
      'Initialized',
      'Initialized',
      'Deleted',
    ]);
    const { a } = run(hsmLifecycle);
    expect(a.clusters).toHaveLength(1);
    const c = a.clusters[0];
    expect(c).toMatchObject({
      clusterId: CLUSTER,
      account: OWNER,
      region: REGION,
      hsmType: 'hsm1.medium',
      firstSeen: ms(at(0)),
      lastSeen: ms('2024-03-09T00:00:00Z'),
    });
    expect(c.hsms).toEqual([
      { hsmId: 'hsm-6lz2hfmnzbx', availabilityZone: 'us-west-2b', state: 'CreateInProgress', created: ms(at(1)) },
      {
        hsmId: 'hsm-a1b2c3d4e5f',
        availabilityZone: 'us-west-2a',
        state: 'Deleted',
        created: ms(at(3)),
        deleted: ms(at(4)),
      },
    ]);
    expect(c.backups).toEqual([
      { backupId: BACKUP, state: 'Deleted', deleted: ms('2024-03-08T10:06:00Z'), copiedTo: ['us-east-1'] },
    ]);
    expect(c.lifecycle.map((s) => [s.eventName, s.detail])).toEqual([
      ['CreateCluster', 'hsm1.medium'],
      ['CreateHsm', 'hsm-6lz2hfmnzbx in us-west-2b'],
      ['InitializeCluster', ''],
      ['CreateHsm', 'hsm-a1b2c3d4e5f in us-west-2a'],
      ['DeleteHsm', 'hsm-a1b2c3d4e5f'],
      ['CopyBackupToRegion', BACKUP],
      ['DeleteBackup', BACKUP],
      ['BackupDeletedPermanently', BACKUP],
      ['DeleteCluster', ''],
    ]);
    // after DeleteBackup and before the permanent deletion the backup is pending deletion
    expect(run(hsmLifecycle.slice(0, 7)).a.clusters[0].backups[0].state).toBe('PendingDeletion');
    // KMS keys are not CloudHSM's business
    expect(a.keys).toEqual([]);
  });

  it('a cluster is Uninitialized until InitializeCluster, an HSM CreateInProgress until seen ACTIVE; failed calls create nothing', () => {
    const describe = hsmCall('DescribeClusters', {
      time: at(5),
      requestParameters: { filters: { clusterIds: [CLUSTER] } },
      responseElements: {
        clusters: [
          {
            clusterId: CLUSTER,
            state: 'INITIALIZED',
            hsms: [
              { hsmId: 'hsm-6lz2hfmnzbx', state: 'ACTIVE' },
              { hsmId: 'hsm-a1b2c3d4e5f', state: 'CREATE_IN_PROGRESS' },
            ],
          },
        ],
      },
    });
    const evs = [hsmLifecycle[0], hsmLifecycle[1], hsmLifecycle[3], hsmLifecycle[2], describe];
    const st = (n: number) => {
      const c = run(evs.slice(0, n)).a.clusters[0];
      return [c.state, ...c.hsms.map((h) => h.state)];
    };
    expect(st(3)).toEqual(['Uninitialized', 'CreateInProgress', 'CreateInProgress']); // HSMs alone do not initialize a cluster
    expect(st(4)).toEqual(['Initialized', 'CreateInProgress', 'CreateInProgress']);
    expect(st(5)).toEqual(['Active', 'Active', 'CreateInProgress']);
    // failed calls on clusters the record does not know create no cluster
    const failed = [
      hsmCall('CreateCluster', {
        time: at(0),
        requestParameters: { hsmType: 'hsm1.medium', subnetIds: ['subnet-02c28c4b'] },
        error: ['CloudHsmAccessDeniedException', 'not authorized'],
      }),
      hsmCall('CreateHsm', {
        time: at(1),
        requestParameters: { availabilityZone: 'us-west-2b', clusterId: 'cluster-zzzzzzzzzzz' },
        error: ['CloudHsmResourceNotFoundException', 'no such cluster'],
      }),
    ];
    expect(run(failed).a.clusters).toEqual([]);
    // on a known cluster, a failed call is in its lifecycle and changes nothing
    const c = run([
      hsmLifecycle[0],
      { ...failed[1], requestParameters: { availabilityZone: 'us-west-2b', clusterId: CLUSTER } },
    ]).a.clusters[0];
    expect([c.state, c.hsms, c.lifecycle.map((s) => [s.eventName, s.errorCode])]).toEqual([
      'Uninitialized',
      [],
      [
        ['CreateCluster', ''],
        ['CreateHsm', 'CloudHsmResourceNotFoundException'],
      ],
    ]);
  });

  it('CopyBackupToRegion alone names its source cluster', () => {
    expect(run([hsmLifecycle[5]]).a.clusters.map((c) => [c.clusterId, c.backups.map((b) => b.backupId)])).toEqual([
      [CLUSTER, [BACKUP]],
    ]);
  });

  it('links custom key stores to their cluster and the keys in them', () => {
    const cks = 'cks-1234567890abcdef0';
    const inStore = keyArn('0987dcba-09fe-87dc-65ba-ab0987654321');
    const evs = [
      hsmLifecycle[0],
      hsmLifecycle[1],
      hsmLifecycle[2],
      kmsCall('CreateCustomKeyStore', {
        time: at(10),
        key: null,
        requestParameters: {
          customKeyStoreName: 'ExampleKeyStore',
          cloudHsmClusterId: CLUSTER,
          trustAnchorCertificate: '<certificate>',
          keyStorePassword: 'HIDDEN_DUE_TO_SECURITY_REASONS',
        },
        responseElements: { customKeyStoreId: cks },
      }),
      kmsCall('ConnectCustomKeyStore', { time: at(11), key: null, requestParameters: { customKeyStoreId: cks } }),
      createKey('0987dcba-09fe-87dc-65ba-ab0987654321', at(12), { origin: 'AWS_CLOUDHSM', customKeyStoreId: cks }),
      createKey(KEY1_ID, at(13)), // not in a custom key store
      createKey('4444bbbb-12ab-34cd-56ef-1234567890ab', at(14), {
        origin: 'AWS_CLOUDHSM',
        customKeyStoreId: 'cks-0000000000other',
      }), // another store
    ];
    const { a, key } = run(evs);
    const c = a.clusters.find((x) => x.clusterId === CLUSTER)!;
    expect(c.customKeyStores).toEqual([{ id: cks, name: 'ExampleKeyStore', state: 'CONNECTED' }]);
    expect(c.keys).toEqual([inStore]);
    expect(key(inStore)).toMatchObject({ origin: 'AWS_CLOUDHSM', customKeyStoreId: cks, state: 'Enabled' });
    expect(a.clusters).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Principals

describe('analyzePrincipals', () => {
  it("groups an assumed role's sessions under the role, with keys, operations and source IPs", () => {
    const s1 = roleSession('app', 'worker-1');
    const s2 = roleSession('app', 'worker-2');
    const evs = [
      createKey(KEY1_ID, at(0)),
      createKey(KEY2_ID, at(0)),
      use('Decrypt', KEY1, at(1), { user: s1 }),
      use('Decrypt', KEY2, at(2), { user: s2 }),
      use('Encrypt', KEY2, at(3), { user: s2, error: ['AccessDeniedException', 'no'] }),
    ];
    const { ix, a } = run(evs);
    const ps = analyzePrincipals(ix, a.keyOfRow);
    const role = ps.find((p) => p.principal === `arn:aws:iam::${OWNER}:role/app`)!;
    expect(role).toMatchObject({
      type: 'AssumedRole',
      calls: 3,
      failures: 1,
      keys: 2,
      accounts: [OWNER],
      first: ms(at(1)),
      last: ms(at(3)),
      sourceIPs: ['192.0.2.0'],
    });
    expect(role.operations).toEqual([
      { eventName: 'Decrypt', count: 2 },
      { eventName: 'Encrypt', count: 1 },
    ]);
    expect(ps.find((p) => p.principal === alice.arn)).toMatchObject({
      type: 'IAMUser',
      calls: 2,
      keys: 2,
      failures: 0,
    });
    expect(ps.map((p) => p.calls)).toEqual([3, 2]);
    expect(analyzePrincipals(ix, null).find((p) => p.principal === alice.arn)!.keys).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 3. The public AWS KMS and CloudHSM documentation examples (read in place, never copied into the repository)

const KMS_DIR = 'awsdocs-aws-kms-developer-guide';
const HSM_DIR = 'awsdocs-aws-cloudhsm-user-guide';
const kmsFiles = datasetFiles(KMS_DIR);
const hsmFiles = datasetFiles(HSM_DIR);
const KEY_ARN_RE = /^arn:aws[a-z-]*:kms:[^:]*:\d{12}:key\//;

describe.skipIf(kmsFiles.length === 0)('AWS KMS Developer Guide examples', () => {
  /** The analysis of one example file. */
  const one = (file: string) => run(datasetEvents(KMS_DIR, file));

  it('loads every file and attributes every KMS event that names a key', () => {
    expect(kmsFiles.length).toBeGreaterThanOrEqual(70);
    for (const file of kmsFiles) {
      const evs = datasetEvents(KMS_DIR, file);
      const { a } = one(file);
      let attributed = 0;
      evs.forEach((e, r) => {
        if (e.eventSource !== 'kms.amazonaws.com') {
          expect(a.keyOfRow[r], file).toBe(-1);
          return;
        }
        const named = (e.resources ?? []).map((x) => x.ARN ?? '').find((x) => KEY_ARN_RE.test(x));
        if (named) expect(a.keyIndexByArn.get(named), `${file} row ${r}`).toBe(a.keyOfRow[r]);
        if (a.keyOfRow[r] >= 0) attributed++;
      });
      const sum = a.keys.reduce((n, k) => n + k.cryptoCalls + k.managementCalls, 0);
      expect(sum, file).toBe(attributed);
    }
  });

  // Values below were read by hand from the files named.
  const K1 = 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const K2 = 'arn:aws:kms:us-west-2:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321';
  const MRK = 'arn:aws:kms:us-west-2:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab';

  it('CreateKey examples: state, origin, spec, custom key store', () => {
    // ct-createkey__01__CreateKey.json: origin EXTERNAL, keyMetadata.keyState PendingImport, multiRegion false
    expect(one('ct-createkey__01__CreateKey.json').key(K1)).toMatchObject({
      state: 'PendingImport',
      origin: 'EXTERNAL',
      keySpec: 'SYMMETRIC_DEFAULT',
      keyUsage: 'ENCRYPT_DECRYPT',
      multiRegion: false,
    });
    // ct-createkey__02__CreateKey.json: AWS_CLOUDHSM key 0987dcba… in cks-1234567890abcdef0, Enabled
    expect(one('ct-createkey__02__CreateKey.json').key(K2)).toMatchObject({
      state: 'Enabled',
      origin: 'AWS_CLOUDHSM',
      customKeyStoreId: 'cks-1234567890abcdef0',
    });
    // ct-createkey__03__CreateKey.json: EXTERNAL_KEY_STORE; its resources name key 39c5eb22… of account 227179770375
    // in us-east-1 (the example's keyMetadata.arn says 1234abcd…: the resources ARN is the one used)
    const r3 = one('ct-createkey__03__CreateKey.json');
    expect(r3.a.keys.map((k) => k.arn)).toEqual([
      'arn:aws:kms:us-east-1:227179770375:key/39c5eb22-f37c-4956-92ca-89e8f8b57ab2',
    ]);
    expect(r3.a.keys[0]).toMatchObject({
      state: 'Enabled',
      origin: 'EXTERNAL_KEY_STORE',
      customKeyStoreId: 'cks-1234567890abcdef0',
      account: '227179770375',
    });
  });

  it('alias examples', () => {
    // ct-createalias__01__CreateAlias.json: alias/ExampleAlias → 1234abcd… (us-west-2)
    expect(one('ct-createalias__01__CreateAlias.json').key(K1)).toMatchObject({
      aliases: ['alias/ExampleAlias'],
      formerAliases: [],
    });
    // ct-updatealias__01__UpdateAlias.json: alias/my_alias → 1234abcd… (us-west-2)
    expect(one('ct-updatealias__01__UpdateAlias.json').key(K1)).toMatchObject({ aliases: ['alias/my_alias'] });
    // ct-deletealias__01__DeleteAlias.json: alias/my_alias deleted; its resources name key 1234abcd…
    const del = one('ct-deletealias__01__DeleteAlias.json');
    expect(del.key(K1)).toMatchObject({ aliases: [], formerAliases: ['alias/my_alias'] });
    expect(del.detail(K1)!.lifecycle.map((s) => [s.eventName, s.detail])).toEqual([['DeleteAlias', 'alias/my_alias']]);
    // alias-ct__01__GenerateDataKey.json: keyId alias/project-key, resources 1234abcd…: one successful crypto call
    expect(one('alias-ct__01__GenerateDataKey.json').key(K1)).toMatchObject({
      cryptoCalls: 1,
      managementCalls: 0,
      state: 'Enabled',
    });
  });

  it('deletion examples', () => {
    // ct-schedule-key-deletion__01: 1234abcd… (resources: us-west-2), pendingWindowInDays 20, eventTime
    // 2021-03-23T18:58:30Z; its deletionDate "Apr 12, 2021 18:58:30 PM" is not a valid time (18 PM): the waiting
    // period gives 2021-04-12T18:58:30Z, the date the example means
    const s1 = one('ct-schedule-key-deletion__01__ScheduleKeyDeletion.json');
    expect(s1.key(K1)).toMatchObject({ state: 'PendingDeletion', deletionDate: Date.UTC(2021, 3, 12, 18, 58, 30) });
    expect(s1.findings('kms-key-deletion-scheduled')).toHaveLength(1);
    // ct-schedule-key-deletion__02: multi-Region primary mrk-…, responseElements.keyState PendingReplicaDeletion, no deletionDate
    expect(one('ct-schedule-key-deletion__02__ScheduleKeyDeletion.json').key(MRK)).toMatchObject({
      state: 'PendingReplicaDeletion',
      deletionDate: undefined,
    });
    // ct-schedule-key-deletion__03: 0987dcba…, deletionDate "Nov 2, 2021, 11:25:25 PM"
    expect(one('ct-schedule-key-deletion__03__ScheduleKeyDeletion.json').key(K2)).toMatchObject({
      state: 'PendingDeletion',
      deletionDate: Date.UTC(2021, 10, 2, 23, 25, 25),
    });
    // ct-cancel-key-deletion__01: 1234abcd… → Disabled
    expect(one('ct-cancel-key-deletion__01__CancelKeyDeletion.json').key(K1)!.state).toBe('Disabled');
    // ct-delete-key__01 / __02: service events deleting 1234abcd… (us-west-2 in resources)
    expect(one('ct-delete-key__01__DeleteKey.json').key(K1)!.state).toBe('Deleted');
    expect(one('ct-delete-key__02__DeleteKey.json').key(K1)!.state).toBe('Deleted');
    // fix-keystore__01__DeleteKey.json: the eu-west-1 key
    expect(
      one('fix-keystore__01__DeleteKey.json').key(
        'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      )!.state,
    ).toBe('Deleted');
  });

  it('enable, disable, rotation, key material, policy, grants, replication', () => {
    // ct-disablekey__01 → Disabled + kms-key-disabled; ct-enablekey__01 → Enabled
    const dis = one('ct-disablekey__01__DisableKey.json');
    expect(dis.key(K1)!.state).toBe('Disabled');
    expect(dis.findings('kms-key-disabled')).toMatchObject([{ keys: [K1], count: 1 }]);
    expect(one('ct-enablekey__01__EnableKey.json').key(K1)!.state).toBe('Enabled');
    // ct-enablekeyrotation__01 / ct-disable-key-rotation__01
    expect(one('ct-enablekeyrotation__01__EnableKeyRotation.json').key(K1)!.rotation).toBe(true);
    expect(one('ct-disable-key-rotation__01__DisableKeyRotation.json').key(K1)!.rotation).toBe(false);
    // ct-rotatekey__01: a step, no state change
    expect(
      one('ct-rotatekey__01__RotateKey.json')
        .detail(K1)!
        .lifecycle.map((s) => [s.eventName, s.state]),
    ).toEqual([['RotateKey', undefined]]);
    // ct-importkeymaterial__01 → Enabled; ct-deleteexpiredkeymaterial__01 → PendingImport; both key material changes
    const imp = one('ct-importkeymaterial__01__ImportKeyMaterial.json');
    expect(imp.key(K1)!.state).toBe('Enabled');
    expect(imp.findings('kms-key-material-change')).toHaveLength(1);
    const exp = one('ct-deleteexpiredkeymaterial__01__DeleteExpiredKeyMaterial.json');
    expect(exp.key(K1)!.state).toBe('PendingImport');
    expect(exp.findings('kms-key-material-change')).toHaveLength(1);
    // ct-put-key-policy__01: the policy allows only arn:aws:iam::111122223333:root (the owner)
    const put = one('ct-put-key-policy__01__PutKeyPolicy.json');
    expect(put.findings('kms-key-policy-external-access')).toEqual([]);
    expect(put.detail(K1)!.lifecycle[0].detail).toBe('policy replaced');
    // ct-creategrant__01: grantee EX_PRINCIPAL_ID (no account): not external; operations Encrypt, RetireGrant
    const cg = one('ct-creategrant__01__CreateGrant.json');
    expect(cg.findings('kms-grant-external')).toEqual([]);
    expect(cg.detail(K1)!.lifecycle[0].detail).toBe('to EX_PRINCIPAL_ID (Encrypt…)');
    // ct-retire-grant__01: grant ID in additionalEventData; ct-revoke-grant__01: in requestParameters
    expect(one('ct-retire-grant__01__RetireGrant.json').detail(K1)!.lifecycle[0].detail).toBe(
      'abcde1237f76e4ba7987489ac329fbfba6ad343d6f7075dbd1ef191f0120514a',
    );
    expect(one('ct-revoke-grant__01__RevokeGrant.json').detail(K1)!.lifecycle[0].detail).toBe(
      'abcde1237f76e4ba7987489ac329fbfba6ad343d6f7075dbd1ef191f0120514a',
    );
    // ct-replicate-key__01: primary 1234abcd… in us-east-1 replicated to us-west-2
    const rep = one('ct-replicate-key__01__ReplicateKey.repaired.json');
    const primary = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(rep.key(primary)!.multiRegion).toBe(true);
    expect(rep.detail(primary)!.lifecycle[0].detail).toBe('to us-west-2');
    // ct-update-primary-region__02: no resources; keyId is the ap-northeast-1 ARN
    const upr = one('ct-update-primary-region__02__UpdatePrimaryRegion.json');
    expect(
      upr.detail('arn:aws:kms:ap-northeast-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab')!.lifecycle[0]
        .detail,
    ).toBe('primary → ap-northeast-1');
    // ct-tagresource__01: tag Department; ct-untagresource__01: tag key Dept
    expect(one('ct-tagresource__01__TagResource.json').detail(K1)!.lifecycle[0].detail).toBe('Department');
    expect(one('ct-untagresource__01__UntagResource.json').detail(K1)!.lifecycle[0].detail).toBe('Dept');
  });

  it('calls and failures', () => {
    // ct-decrypt__05: KMSInvalidStateException from an external key store proxy, not pending deletion
    const d5 = one('ct-decrypt__05__Decrypt.json');
    expect(d5.key(K2)).toMatchObject({ failures: 1, cryptoCalls: 1, state: 'Unknown' });
    expect(d5.a.findings).toEqual([]);
    // ct-generatedatakeyplaintext__01: InvalidKeyUsageException
    expect(one('ct-generatedatakeyplaintext__01__GenerateDataKeyWithoutPlaintext.json').key(K1)).toMatchObject({
      failures: 1,
      state: 'Unknown',
    });
    // services-cloudtrail__01: caller account 086441151436 uses key 1234abcd… of 111122223333
    expect(one('services-cloudtrail__01__GenerateDataKey.repaired.json').key(K1)).toMatchObject({
      crossAccountPrincipals: 1,
      principals: 1,
    });
    // ct-generaterandom__01: no key
    expect(one('ct-generaterandom__01__GenerateRandom.json').a.keys).toEqual([]);
    // ct-ec2two__01: RunInstances (ec2) + GenerateDataKeyWithoutPlaintext, CreateGrant, Decrypt on 1234abcd…
    expect(one('ct-ec2two__01__Records.json').key(K1)).toMatchObject({ cryptoCalls: 2, managementCalls: 1 });
  });

  it('custom key store examples', () => {
    // ct-create-keystore__01: cks-1234567890abcdef0 named ExampleKeyStore on cluster-1a23b4cdefg (requestParameters.clusterId)
    const cks = one('ct-create-keystore__01__CreateCustomKeyStore.json');
    expect(cks.a.clusters.map((c) => [c.clusterId, c.customKeyStores])).toEqual([
      ['cluster-1a23b4cdefg', [{ id: 'cks-1234567890abcdef0', name: 'ExampleKeyStore', state: 'DISCONNECTED' }]],
    ]);
    for (const f of [
      'ct-create-keystore__01__CreateCustomKeyStore.json',
      'ct-connect-keystore__01__ConnectCustomKeyStore.json',
      'ct-disconnect-keystore__01__DisconnectCustomKeyStore.json',
      'ct-update-keystore__01__UpdateCustomKeyStore.json',
      'ct-delete-keystore__01__DeleteCustomKeyStore.json',
    ]) {
      expect(one(f).findings('kms-custom-key-store-change'), f).toHaveLength(1);
    }
    expect(one('ct-describe-keystores__01__DescribeCustomKeyStores.json').a.findings).toEqual([]);
  });

  it('all examples in one index', () => {
    const { a, key, findings } = run(...kmsFiles.map((f) => datasetEvents(KMS_DIR, f)));
    // 0987dcba… (us-west-2): CreateKey 2021-10-14 (ct-createkey__02), ScheduleKeyDeletion 2021-10-26T23:25:25Z
    // (ct-schedule-key-deletion__03, deletion 2021-11-02T23:25:25Z), then Sign 2022-03-07 (ct-sign__01), Verify
    // 2022-03-07 (ct-verify__01), Decrypt 2022-11-24 (ct-decrypt__04, success) and Decrypt 2022-11-24
    // (ct-decrypt__05, failed). (ct-reencrypt__01 names 1234abcd… first.) Issue 11: the successful Sign after
    // ScheduleKeyDeletion proves the key was enabled again by calls not in the examples (kms-record-gap), and the
    // key is Enabled from then on; the failed Decrypt is then no use while pending deletion.
    expect(key(K2)).toMatchObject({
      state: 'Enabled',
      deletionDate: undefined,
      cryptoCalls: 4,
      managementCalls: 2,
      failures: 1,
    });
    expect(findings('kms-record-gap').find((f) => f.keys[0] === K2)).toMatchObject({
      count: 1,
      first: ms('2022-03-07T22:36:44Z'),
    });
    expect(findings('kms-key-pending-deletion-use').find((f) => f.keys[0] === K2)).toBeUndefined();
    // 1234abcd… (us-west-2): its last state change is CreateKey 2022-08-10 (ct-createkey__01: PendingImport); aliases
    // alias/ExampleAlias (ct-createalias__01, 2022-08-14) and alias/my_alias (ct-updatealias__01, us-west-2)
    expect(key(K1)!.state).toBe('PendingImport');
    expect([...key(K1)!.aliases].sort()).toEqual(['alias/ExampleAlias', 'alias/my_alias']);
    // cluster-1a23b4cdefg (ct-create-keystore__01) holds cks-1234567890abcdef0, with 0987dcba… (ct-createkey__02)
    // and the key of ct-createkey__03 (same custom key store ID)
    const c = a.clusters.find((x) => x.clusterId === 'cluster-1a23b4cdefg')!;
    expect(c.customKeyStores.map((s) => s.id)).toEqual(['cks-1234567890abcdef0']);
    expect([...c.keys].sort()).toEqual([
      'arn:aws:kms:us-east-1:227179770375:key/39c5eb22-f37c-4956-92ca-89e8f8b57ab2',
      K2,
    ]);
    // every KMS event naming a key ARN in resources is attributed to it
    const sum = a.keys.reduce((n, k) => n + k.cryptoCalls + k.managementCalls, 0);
    expect(sum).toBe([...a.keyOfRow].filter((k) => k >= 0).length);
  });
});

describe.skipIf(hsmFiles.length === 0)('AWS CloudHSM User Guide example', () => {
  it('CreateHsm: cluster-fw7mh6mayb5 with hsm-6lz2hfmnzbx in us-west-2b', () => {
    // get-api-logs-using-cloudtrail__01__CreateHsm.json (the only example of the guide)
    const { a } = run(...hsmFiles.map((f) => datasetEvents(HSM_DIR, f)));
    expect(a.clusters).toHaveLength(1);
    expect(a.clusters[0]).toMatchObject({
      // issue 11: a cluster seen first by CreateHsm has an unknown state; the HSM is CREATE_IN_PROGRESS (its response)
      clusterId: 'cluster-fw7mh6mayb5',
      account: '111122223333',
      region: 'us-west-2',
      state: 'Unknown',
      hsms: [
        {
          hsmId: 'hsm-6lz2hfmnzbx',
          availabilityZone: 'us-west-2b',
          state: 'CreateInProgress',
          created: Date.UTC(2017, 6, 11, 3, 50, 45),
        },
      ],
    });
    expect(a.clusters[0].lifecycle[0]).toMatchObject({
      eventName: 'CreateHsm',
      principal: 'arn:aws:sts::111122223333:assumed-role/AdminRole/ExampleSession',
      detail: 'hsm-6lz2hfmnzbx in us-west-2b',
    });
    expect(a.findings).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Event order: same-second events (CloudTrail log files are not ordered), and key resolution fallbacks

/** Every permutation of `xs`. */
function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

/** Key states and findings of a run, by eventID (row numbers depend on file order). */
function outcome(r: ReturnType<typeof run>) {
  const eid = (row: number) => String(r.fields.valueOfRow(row, 'eventID'));
  return {
    states: r.a.keys.map((k) => [k.arn, k.state]).sort(),
    findings: r.a.findings
      .map((f) => [f.rule, f.severity, f.keys.join(), f.count, f.rows.map(eid).sort().join()])
      .sort(),
  };
}

describe('same-second events', () => {
  const sameSecond = at(1);
  const tied = [
    use('Encrypt', KEY1, sameSecond), // succeeded: before DisableKey
    keyOp('DisableKey', KEY1, sameSecond),
    kmsCall('ScheduleKeyDeletion', {
      time: sameSecond,
      key: KEY1,
      requestParameters: { keyId: KEY1_ID, pendingWindowInDays: 7 },
      responseElements: { keyId: KEY1, keyState: 'PendingDeletion', deletionDate: 'Mar 8, 2024, 10:01:00 AM' },
    }),
    use('Decrypt', KEY1, sameSecond, { error: ['KMSInvalidStateException', pendingDeletionMessage(KEY1)] }), // failed: after ScheduleKeyDeletion
  ];

  it('DisableKey and ScheduleKeyDeletion written in reverse leave the key PendingDeletion, with no false pending-deletion use', () => {
    const r = run([createKey(KEY1_ID, at(0)), tied[2], tied[1]]);
    expect(r.key(KEY1)!.state).toBe('PendingDeletion');
    expect(r.findings('kms-key-pending-deletion-use')).toEqual([]);
    expect(r.detail(KEY1)!.lifecycle.map((s) => s.eventName)).toEqual([
      'CreateKey',
      'DisableKey',
      'ScheduleKeyDeletion',
    ]);
  });

  it('every permutation of the tied events, in one file or several, gives the same state and findings', () => {
    const create = createKey(KEY1_ID, at(0));
    const expected = outcome(run([create, ...tied]));
    expect(expected.states).toEqual([[KEY1, 'PendingDeletion']]);
    // only the failed Decrypt is use while pending deletion; the Encrypt succeeded while the key was enabled
    expect(expected.findings.filter((f) => f[0] === 'kms-key-pending-deletion-use')).toEqual([
      ['kms-key-pending-deletion-use', 'high', KEY1, 1, String(tied[3].eventID)],
    ]);
    expect(expected.findings.map((f) => f[0])).not.toContain('kms-record-gap');
    expect(expected.findings.map((f) => f[0])).not.toContain('kms-key-disabled-use');
    for (const p of permutations(tied)) {
      expect(outcome(run([create, ...p]))).toEqual(expected);
      // dropped as two files, in either order
      expect(outcome(run(p.slice(2), [create, ...p.slice(0, 2)]))).toEqual(expected);
    }
  });

  it('EnableKey and DisableKey in one second: eventID decides, whatever the file order', () => {
    const en = keyOp('EnableKey', KEY1, sameSecond);
    const dis = keyOp('DisableKey', KEY1, sameSecond);
    const a = run([createKey(KEY1_ID, at(0)), en, dis]).key(KEY1)!.state;
    expect(run([createKey(KEY1_ID, at(0)), dis, en]).key(KEY1)!.state).toBe(a);
  });
});

describe('key resolution fallbacks', () => {
  it('an unknown alias in requestParameters.keyId falls back to responseElements.keyId', () => {
    const sched = kmsCall('ScheduleKeyDeletion', {
      time: at(1),
      key: null,
      requestParameters: { keyId: 'alias/old-name', pendingWindowInDays: 7 },
      responseElements: { keyId: KEY1, keyState: 'PendingDeletion' },
    });
    const r = run([sched]);
    expect(r.key(KEY1)!.state).toBe('PendingDeletion');
    expect(r.findings('kms-key-deletion-scheduled').map((f) => f.keys)).toEqual([[KEY1]]);
  });

  it('resources with a lower-case "arn" member name the key', () => {
    const ev = use('Encrypt', '', at(1), { keyId: 'alias/unknown', resources: false });
    ev.resources = [
      { accountId: OWNER, type: 'AWS::KMS::Key', arn: KEY1 } as unknown as {
        ARN: string;
        accountId: string;
        type: string;
      },
    ];
    expect(run([ev]).a.keys.map((k) => k.arn)).toEqual([KEY1]);
  });

  it('an event whose key stays unknown still counts in its rule, under "unknown key"', () => {
    const r = run([
      kmsCall('DisableKey', { time: at(1), key: null, requestParameters: { keyId: 'alias/nowhere' } }),
      use('Decrypt', '', at(2), {
        keyId: 'alias/nowhere',
        resources: false,
        error: ['DisabledException', 'alias/nowhere is disabled.'],
      }),
    ]);
    expect(r.a.keys).toEqual([]);
    expect(r.findings('kms-key-disabled')).toMatchObject([
      { count: 1, keys: [], rows: [0], title: `${KEY_RULES['kms-key-disabled'].title} (unknown key)` },
    ]);
    expect(r.findings('kms-key-disabled-use')).toMatchObject([{ count: 1, keys: [], rows: [1] }]);
    expect(r.findings('kms-key-disabled')[0].description).toContain('Unknown key: 1 event(s)');
  });

  it("old CreateAlias / UpdateAlias without resources appear in the key's lifecycle", () => {
    const r = run([
      createKey(KEY1_ID, at(0)),
      kmsCall('CreateAlias', {
        time: at(1),
        key: null,
        requestParameters: { aliasName: 'alias/old', targetKeyId: KEY1_ID },
      }),
      kmsCall('UpdateAlias', {
        time: at(2),
        key: null,
        requestParameters: { aliasName: 'alias/old', targetKeyId: KEY1_ID },
      }),
    ]);
    expect(r.detail(KEY1)!.lifecycle.map((s) => [s.eventName, s.detail])).toEqual([
      ['CreateKey', 'SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT, AWS_KMS'],
      ['CreateAlias', 'alias/old'],
      ['UpdateAlias', 'alias/old'],
    ]);
  });

  it('a KMS CMK Deletion EventBridge event deletes the key; a call after it is use of a deleted key', () => {
    const del = kmsEventBridgeEvent({
      version: '0',
      id: 'e1',
      'detail-type': 'KMS CMK Deletion',
      source: 'aws.kms',
      account: OWNER,
      time: at(2),
      region: REGION,
      resources: [KEY1],
      detail: { 'key-id': KEY1_ID },
    })!;
    const r = run([
      createKey(KEY1_ID, at(0)),
      kmsCall('ScheduleKeyDeletion', {
        time: at(1),
        key: KEY1,
        requestParameters: { keyId: KEY1_ID, pendingWindowInDays: 7 },
        responseElements: { keyId: KEY1, keyState: 'PendingDeletion' },
      }),
      del,
      use('Decrypt', KEY1, at(3), { error: ['NotFoundException', `Key '${KEY1}' does not exist`] }),
    ]);
    expect(r.key(KEY1)!.state).toBe('Deleted');
    expect(r.findings('kms-deleted-key-use').map((f) => f.rows)).toEqual([[3]]);
  });

  it('a network-activity record (eventType AwsVpceEvent) never changes a key', () => {
    const vpce = keyOp('DisableKey', KEY1, at(1));
    Object.assign(vpce, { eventType: 'AwsVpceEvent', eventCategory: 'NetworkActivity', managementEvent: false });
    const r = run([createKey(KEY1_ID, at(0)), vpce]);
    expect(r.key(KEY1)!.state).toBe('Enabled');
    expect(r.findings('kms-key-disabled')).toEqual([]);
  });
  it('an eventName named like an Object.prototype member (__proto__, hasOwnProperty, constructor) is an ordinary management call', () => {
    const odd = ['__proto__', 'hasOwnProperty', 'constructor', 'toString'];
    const r = run([createKey(KEY1_ID, at(0)), ...odd.map((name, i) => keyOp(name, KEY1, at(1 + i)))]);
    const k = r.key(KEY1)!;
    expect(k.state).toBe('Enabled');
    expect(k.managementCalls).toBe(1 + odd.length);
    expect(r.detail(KEY1)!.lifecycle.map((s) => [s.eventName, s.detail, s.state])).toEqual([
      ['CreateKey', 'SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT, AWS_KMS', 'Enabled'],
      ...odd.map((name) => [name, '', undefined]),
    ]);
  });
});
