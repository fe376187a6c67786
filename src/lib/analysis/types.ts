/**
 * Shapes of the analyses the query worker computes over the stored events (keys, CloudHSM, principals,
 * findings). All times are epoch ms UTC; `rows` are row ids of the query index (open them with
 * `query.event(row)`); `query` strings select the same events in the events view.
 */

/** A KMS key state as the events show it (source: "Key states of AWS KMS keys", AWS KMS Developer Guide). */
export type KeyState =
  | 'Enabled'
  | 'Disabled'
  | 'PendingDeletion'
  | 'Deleted'
  | 'PendingImport'
  | 'PendingReplicaDeletion'
  | 'Unavailable'
  | 'Unknown';

/** One step of a key's lifecycle (a management event). */
export interface LifecycleStep {
  row: number;
  time: number;
  eventName: string;
  principal: string;
  /** The caller's account (userIdentity.accountId). */
  account: string;
  errorCode: string;
  /** What the step did, for people ("alias/payments → key", "deletion on 2024-03-19T22:47:31Z"). */
  detail: string;
  /** State after the step (successful steps that change it). */
  state?: KeyState;
}

/** One KMS key as the events show it. */
export interface KeySummary {
  /** Key ARN (`arn:aws:kms:REGION:ACCOUNT:key/ID`); for keys seen only by ID without a Region/account, the ID. */
  arn: string;
  keyId: string;
  account: string;
  region: string;
  /** Aliases pointing to the key at the end of the record (alias names, `alias/...`). */
  aliases: string[];
  /** Aliases that pointed to it at some time. */
  formerAliases: string[];
  firstSeen: number;
  lastSeen: number;
  managementCalls: number;
  cryptoCalls: number;
  failures: number;
  principals: number;
  /** Principals whose account differs from the key's account. */
  crossAccountPrincipals: number;
  state: KeyState;
  /** ScheduleKeyDeletion's deletion date, epoch ms. */
  deletionDate?: number;
  keySpec?: string;
  keyUsage?: string;
  /** AWS_KMS, EXTERNAL, AWS_CLOUDHSM, EXTERNAL_KEY_STORE. */
  origin?: string;
  multiRegion?: boolean;
  rotation?: boolean;
  customKeyStoreId?: string;
  description?: string;
  /** Finding rule ids that involve this key. */
  findings: string[];
}

/** A key's page. */
export interface KeyDetail extends KeySummary {
  lifecycle: LifecycleStep[];
  /** Use over time: bucket starts and counts per operation (top operations, the rest as "other"). */
  usage: { start: number; step: number; series: { eventName: string; counts: number[] }[] };
  principalsUsed: {
    principal: string;
    account: string;
    calls: number;
    failures: number;
    crossAccount: boolean;
    first: number;
    last: number;
  }[];
  accounts: { account: string; calls: number; failures: number }[];
  failuresByCode: { errorCode: string; count: number; eventNames: string[] }[];
}

/** Severity of a finding. */
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';

/** One finding: a rule that fired, with its events. */
export interface Finding {
  /** Stable rule id, listed in the README (for example `kms-key-deletion-scheduled`). */
  rule: string;
  title: string;
  severity: Severity;
  /** What happened and why it matters, for people. */
  description: string;
  /** Number of events. */
  count: number;
  first: number;
  last: number;
  accounts: string[];
  keys: string[];
  principals: string[];
  /** The events (row ids, time order). */
  rows: number[];
  /** A query selecting these events (`finding:<rule>` plus a key when the finding is per key). */
  query: string;
}

/** A CloudHSM cluster as the events show it. */
export interface ClusterSummary {
  clusterId: string;
  account: string;
  region: string;
  /**
   * `Uninitialized` from CreateCluster until InitializeCluster, then `Initialized`, `Active` once an HSM of the
   * initialized cluster is seen active; `Unknown` for a cluster first seen without its CreateCluster. Source:
   * CloudHSM API Reference (Cluster State: UNINITIALIZED, INITIALIZE_IN_PROGRESS, INITIALIZED, ACTIVE...).
   */
  state: 'Active' | 'Initialized' | 'Uninitialized' | 'Deleted' | 'Unknown';
  hsmType?: string;
  firstSeen: number;
  lastSeen: number;
  /**
   * HSMs: `CreateInProgress` from CreateHsm until an event shows the HSM ACTIVE (CreateHsm's or a DescribeClusters
   * response). Source: "Logging AWS CloudHSM API calls with AWS CloudTrail" and the CloudHSM API Reference (Hsm
   * State: CREATE_IN_PROGRESS, ACTIVE, DEGRADED, DELETE_IN_PROGRESS, DELETED).
   */
  hsms: {
    hsmId: string;
    availabilityZone?: string;
    state: 'Active' | 'CreateInProgress' | 'Deleted' | 'Unknown';
    created?: number;
    deleted?: number;
  }[];
  backups: {
    backupId: string;
    state: 'Ready' | 'Deleted' | 'PendingDeletion' | 'Unknown';
    created?: number;
    deleted?: number;
    copiedTo: string[];
  }[];
  /** KMS custom key stores backed by the cluster (CreateCustomKeyStore's CloudHsmClusterId). */
  customKeyStores: { id: string; name: string; state: string }[];
  /** Key ARNs in those custom key stores. */
  keys: string[];
  lifecycle: LifecycleStep[];
}

/** One principal (an assumed role's session issuer stands for its sessions). */
export interface PrincipalSummary {
  principal: string;
  type: string;
  accounts: string[];
  keys: number;
  calls: number;
  failures: number;
  operations: { eventName: string; count: number }[];
  sourceIPs: string[];
  first: number;
  last: number;
}
