import type { EventColumn, EventTable, FieldValues } from '../codec/table';
import { quotedTerm } from '../query/text';
import { compareFindings, moreSevere } from './severity';
import { accountOf, isKmsKeyArn, kmsKeyArn, parseKmsAliasArn, parseKmsKeyArn, roleOfSession } from '../cloudtrail/arn';
import type { StringColumn } from '../codec/segment';
import type {
  ClusterSummary,
  Finding,
  KeyDetail,
  KeyState,
  KeySummary,
  LifecycleStep,
  PrincipalSummary,
  Severity,
} from './types';
import { utcIso } from '../format/utc';

/**
 * KMS operations that use a key cryptographically. Source: "AWS KMS cryptographic operations" in the AWS KMS
 * Developer Guide and the KMS API reference.
 */
export const CRYPTO_OPERATIONS: ReadonlySet<string> = new Set([
  'Encrypt',
  'Decrypt',
  'ReEncrypt',
  'ReEncryptFrom',
  'ReEncryptTo',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
  'GenerateRandom',
  'Sign',
  'Verify',
  'GenerateMac',
  'VerifyMac',
  'DeriveSharedSecret',
]);

const CUSTOM_KEY_STORE_OPS = new Set([
  'CreateCustomKeyStore',
  'ConnectCustomKeyStore',
  'DisconnectCustomKeyStore',
  'UpdateCustomKeyStore',
  'DeleteCustomKeyStore',
]);

/** A finding rule: what it says, its default severity, and the AWS documentation its reason rests on. */
export interface RuleMeta {
  title: string;
  severity: Severity;
  /** What counts as an event of the finding, and why it matters. */
  description: string;
  /** The AWS documentation pages the rule's reason rests on. */
  source: string;
}

/**
 * The rule ids KeyTrail's key and CloudHSM analyses raise (listed in the README's Findings section), each with
 * its reason (`description`) and AWS source (`source`).
 */
export const KEY_RULES: Record<string, RuleMeta> = {
  'kms-key-pending-deletion-use': {
    title: 'KMS key used while pending deletion',
    severity: 'high',
    description:
      'Failed calls on a key after ScheduleKeyDeletion (and before CancelKeyDeletion), successful management calls then, or calls that failed with KMSInvalidStateException because the key is pending deletion. Something still depends on a key that is about to be deleted, and data encrypted under it will become unrecoverable.',
    source:
      '"Key states of AWS KMS keys" and "Deleting AWS KMS keys" (AWS KMS Developer Guide); ScheduleKeyDeletion (AWS KMS API Reference)',
  },
  'kms-key-disabled-use': {
    title: 'KMS key used while disabled',
    severity: 'medium',
    description:
      'Failed calls on a disabled key (management calls other than EnableKey/DisableKey, successful or not), or calls that failed with DisabledException: a workload depends on the key (an outage), or disabling it was an attack on availability.',
    source:
      '"Key states of AWS KMS keys" and "Enable and disable keys" (AWS KMS Developer Guide); DisabledException (AWS KMS API Reference)',
  },
  'kms-record-gap': {
    title: 'Successful use of a key the record shows disabled or pending deletion: events missing',
    severity: 'medium',
    description:
      'A cryptographic call succeeded on a key that the loaded events leave Disabled, PendingDeletion or Deleted. AWS KMS refuses such calls in those states (DisabledException, KMSInvalidStateException), so the key was enabled again by a call (EnableKey, CancelKeyDeletion) that is not in the loaded record: log files are missing, or a trail did not record it. The key is taken as Enabled from then on.',
    source:
      '"Key states of AWS KMS keys" (a disabled key or one pending deletion cannot be used in cryptographic operations) and "Logging AWS KMS API calls with AWS CloudTrail" (every KMS call is logged) (AWS KMS Developer Guide)',
  },
  'kms-key-policy-external-access': {
    title: 'Key policy grants another account or everyone',
    severity: 'high',
    description:
      'A key policy set by PutKeyPolicy or CreateKey has an Allow statement whose Principal is "*" or an account other than the key owner. High when nothing limits it; medium when a Condition limits a "*" principal to an organization or account (aws:PrincipalOrgID, aws:PrincipalOrgPaths, aws:PrincipalAccount, aws:SourceAccount, aws:SourceOrgID, aws:SourceArn, kms:CallerAccount), the condition shown. Check the statement: this can hand the key to an outside party.',
    source:
      '"Key policies in AWS KMS" and "Allowing users in other accounts to use a KMS key" (AWS KMS Developer Guide); "AWS global condition context keys" (IAM User Guide)',
  },
  'kms-key-policy-lockout': {
    title: 'Key policy can lock the owner account out',
    severity: 'high',
    description:
      'PutKeyPolicy or CreateKey with bypassPolicyLockoutSafetyCheck true, or with a policy in which no Allow statement lets the owner account (its root or one of its principals) manage the key policy (kms:PutKeyPolicy, kms:* or *): the key can become unmanageable, and only AWS Support can restore access.',
    source:
      '"Default key policy" (AWS KMS Developer Guide); PutKeyPolicy and CreateKey, BypassPolicyLockoutSafetyCheck (AWS KMS API Reference)',
  },
  'kms-alias-repointed': {
    title: 'Alias re-pointed to another key',
    severity: 'medium',
    description:
      'UpdateAlias associated an alias with a different KMS key: every application that names the alias encrypts under the new key from then on (an attacker-controlled key in a ransom scenario), and decrypting what the old key encrypted needs the old key.',
    source:
      'UpdateAlias ("Associates an existing AWS KMS alias with a different KMS key", AWS KMS API Reference); "Aliases in AWS KMS" (AWS KMS Developer Guide)',
  },
  'kms-key-rotation-disabled': {
    title: 'Automatic key rotation disabled',
    severity: 'low',
    description: 'DisableKeyRotation: AWS KMS stops rotating the key material every year (or the configured period).',
    source: 'DisableKeyRotation (AWS KMS API Reference); "Rotate AWS KMS keys" (AWS KMS Developer Guide)',
  },
  'kms-deleted-key-use': {
    title: 'Use of a deleted key',
    severity: 'medium',
    description:
      'Calls on a key after its DeleteKey in the record, or calls on a key the record knows that failed with NotFoundException: something still depends on a deleted key, and what it encrypted cannot be decrypted any more.',
    source:
      '"Deleting AWS KMS keys" (AWS KMS Developer Guide); NotFoundException (AWS KMS API Reference); "Monitor KMS keys with Amazon EventBridge" (KMS CMK Deletion)',
  },
  'kms-grant-external': {
    title: 'Grant to a principal of another account',
    severity: 'medium',
    description: 'CreateGrant gave a principal of another account permission to use the key.',
    source: '"Grants in AWS KMS" (AWS KMS Developer Guide); CreateGrant (AWS KMS API Reference)',
  },
  'kms-key-deletion-scheduled': {
    title: 'KMS key deletion scheduled',
    severity: 'high',
    description:
      'ScheduleKeyDeletion: after the waiting period the key and every ciphertext under it are lost for good. A classic destructive or ransom action.',
    source: '"Deleting AWS KMS keys" (AWS KMS Developer Guide); ScheduleKeyDeletion (AWS KMS API Reference)',
  },
  'kms-key-disabled': {
    title: 'KMS key disabled',
    severity: 'medium',
    description: 'DisableKey: every cryptographic operation with the key fails until it is enabled again.',
    source: '"Key states of AWS KMS keys" (AWS KMS Developer Guide); DisableKey (AWS KMS API Reference)',
  },
  'kms-key-material-change': {
    title: 'Imported key material imported or deleted',
    severity: 'medium',
    description:
      'ImportKeyMaterial, DeleteImportedKeyMaterial or DeleteExpiredKeyMaterial: deleting imported material makes the key unusable immediately.',
    source:
      '"Importing key material for AWS KMS keys" (AWS KMS Developer Guide); ImportKeyMaterial, DeleteImportedKeyMaterial (AWS KMS API Reference)',
  },
  'kms-custom-key-store-change': {
    title: 'Custom key store created, connected, updated or deleted',
    severity: 'medium',
    description:
      'A change to a custom key store (CloudHSM or external): disconnecting it makes every key in it unusable.',
    source:
      '"Custom key stores" (AWS KMS Developer Guide); DisconnectCustomKeyStore, DeleteCustomKeyStore (AWS KMS API Reference)',
  },
  'cloudhsm-resource-deleted': {
    title: 'CloudHSM cluster, HSM or backup deleted',
    severity: 'high',
    description:
      'DeleteCluster, DeleteHsm or DeleteBackup (or a backup deleted permanently): key material held only there may be lost.',
    source:
      '"Logging AWS CloudHSM API calls with AWS CloudTrail" (AWS CloudHSM User Guide); DeleteCluster, DeleteHsm, DeleteBackup (AWS CloudHSM API Reference)',
  },
};

interface KeyAgg {
  s: KeySummary;
  principalSet: Set<string>;
  crossSet: Set<string>;
  lifecycle: LifecycleStep[];
  aliasSet: Set<string>;
}

/** The result of one analysis pass over the index. */
export interface KmsAnalysis {
  keys: KeySummary[];
  findings: Finding[];
  clusters: ClusterSummary[];
  /** Key index per row (-1 when the row names no key). */
  keyOfRow: Int32Array;
  /** Rows per finding rule. */
  ruleRows: Map<string, Uint32Array>;
  lifecycles: Map<string, LifecycleStep[]>;
  /** Index used in `keyOfRow` for each key ARN. */
  keyIndexByArn: Map<string, number>;
  ms: number;
}

function parseDate(s: string | undefined, fallback: number): number | undefined {
  if (!s) return Number.isFinite(fallback) ? fallback : undefined;
  let t = Date.parse(s);
  if (!/Z|[+-]\d\d:?\d\d$|UTC|GMT/.test(s)) {
    const u = Date.parse(s + ' UTC');
    if (Number.isFinite(u)) t = u;
  }
  return Number.isFinite(t) ? t : Number.isFinite(fallback) ? fallback : undefined;
}

const isoTime = (t: number) => utcIso(t) || '?';

/** What a successful key management step sees: its row, time, key aggregate and the analysis' helpers. */
interface StepContext {
  /** Row of the event; `t` its eventTime (epoch ms). */
  r: number;
  t: number;
  /** The key's summary and aggregate, and its index in the analysis' keys (-2: no key). */
  s: KeySummary;
  K: KeyAgg;
  ki: number;
  /** The key ARN of the row ('' when unknown). */
  arn: string;
  /** A field of a row (FieldValues.valueOfRow). */
  f: (row: number, path: string) => string | undefined;
  /** Records a row for a finding rule of a key; `note` adds a line to the finding's description. */
  hit: (rule: string, key: number, r: number) => void;
  note: (rule: string, ki: number, text: string, sev?: Severity) => void;
  /** The key policy rules of a CreateKey / PutKeyPolicy (see analyzeKms); returns what the step says. */
  policyChecks: (r: number, ki: number, owner: string, policy: string | undefined) => string;
  /** For each UpdateAlias row: the key the alias pointed to before (null: unknown). */
  aliasPrev: Map<number, string | null>;
}

/** What a step sets: the lifecycle detail text and the key state it leads to. */
interface StepOut {
  detail?: string;
  state?: KeyState;
}

/**
 * Successful KMS key management operations by eventName: each updates the key's summary, records findings and
 * says what the lifecycle step shows. Operations and their effects on key state: "Key states of AWS KMS keys"
 * and the AWS KMS API Reference pages of each operation.
 */
const KEY_STEPS: Record<string, (c: StepContext, out: StepOut) => void> = {
  CreateKey: ({ r, s, ki, f, policyChecks }: StepContext, out: StepOut) => {
    const md = 'responseElements.keyMetadata.';
    s.keySpec =
      f(r, md + 'keySpec') ??
      f(r, md + 'customerMasterKeySpec') ??
      f(r, 'requestParameters.keySpec') ??
      f(r, 'requestParameters.customerMasterKeySpec') ??
      s.keySpec;
    s.keyUsage = f(r, md + 'keyUsage') ?? f(r, 'requestParameters.keyUsage') ?? s.keyUsage;
    s.origin = f(r, md + 'origin') ?? f(r, 'requestParameters.origin') ?? s.origin ?? 'AWS_KMS';
    const mr = f(r, md + 'multiRegion') ?? f(r, 'requestParameters.multiRegion');
    if (mr !== undefined) s.multiRegion = mr === 'true';
    s.customKeyStoreId =
      f(r, md + 'customKeyStoreId') ?? f(r, 'requestParameters.customKeyStoreId') ?? s.customKeyStoreId;
    s.description = f(r, md + 'description') ?? f(r, 'requestParameters.description') ?? s.description;
    const ks = f(r, md + 'keyState') as KeyState | undefined;
    out.state = ks ?? (s.origin === 'EXTERNAL' ? 'PendingImport' : 'Enabled');
    out.detail = [s.keySpec, s.keyUsage, s.origin, s.multiRegion ? 'multi-Region' : ''].filter(Boolean).join(', ');
    const said = policyChecks(r, ki, s.account, f(r, 'requestParameters.policy'));
    if (said) out.detail += ` · policy ${said}`;
  },
  PutKeyPolicy: ({ r, s, ki, f, policyChecks }: StepContext, out: StepOut) => {
    out.detail = policyChecks(r, ki, s.account, f(r, 'requestParameters.policy') ?? '') || 'policy replaced';
  },
  CreateGrant: ({ r, s, ki, f, hit }: StepContext, out: StepOut) => {
    const grantee = f(r, 'requestParameters.granteePrincipal') ?? '';
    const ops = f(r, 'requestParameters.operations') ?? '';
    const ga = accountOf(grantee);
    if (ga && s.account && ga !== s.account) hit('kms-grant-external', ki, r);
    out.detail = `to ${grantee}${ops ? ` (${ops}…)` : ''}`;
  },
  RetireGrant: ({ r, f }: StepContext, out: StepOut) => {
    out.detail = f(r, 'requestParameters.grantId') ?? f(r, 'additionalEventData.grantId') ?? '';
  },
  RevokeGrant: (c, o) => KEY_STEPS.RetireGrant(c, o),
  EnableKey: (_c: StepContext, out: StepOut) => {
    out.state = 'Enabled';
  },
  DisableKey: ({ r, ki, hit }: StepContext, out: StepOut) => {
    out.state = 'Disabled';
    hit('kms-key-disabled', ki, r);
  },
  ScheduleKeyDeletion: ({ r, t, s, ki, f, hit }: StepContext, out: StepOut) => {
    // a multi-Region primary key with replicas: no deletion date until its last replica is deleted
    const replicas = f(r, 'responseElements.keyState') === 'PendingReplicaDeletion';
    out.state = replicas ? 'PendingReplicaDeletion' : 'PendingDeletion';
    const days = Number(f(r, 'requestParameters.pendingWindowInDays') ?? 30);
    s.deletionDate = replicas
      ? undefined
      : parseDate(f(r, 'responseElements.deletionDate'), t + (Number.isFinite(days) ? days : 30) * 864e5);
    out.detail = replicas
      ? `deletion ${days} days after the last replica is deleted`
      : `deletion on ${s.deletionDate ? isoTime(s.deletionDate) : '?'} (${days} days)`;
    hit('kms-key-deletion-scheduled', ki, r);
  },
  CancelKeyDeletion: ({ s }: StepContext, out: StepOut) => {
    out.state = 'Disabled';
    s.deletionDate = undefined;
  },
  DeleteKey: (_c: StepContext, out: StepOut) => {
    out.state = 'Deleted';
  },
  ImportKeyMaterial: ({ r, ki, hit }: StepContext, out: StepOut) => {
    out.state = 'Enabled';
    hit('kms-key-material-change', ki, r);
  },
  DeleteImportedKeyMaterial: ({ r, ki, hit }: StepContext, out: StepOut) => {
    out.state = 'PendingImport';
    hit('kms-key-material-change', ki, r);
  },
  DeleteExpiredKeyMaterial: (c, o) => KEY_STEPS.DeleteImportedKeyMaterial(c, o),
  EnableKeyRotation: ({ s }: StepContext) => {
    s.rotation = true;
  },
  DisableKeyRotation: ({ r, s, ki, hit }: StepContext) => {
    s.rotation = false;
    hit('kms-key-rotation-disabled', ki, r);
  },
  CreateAlias: ({ r, f }: StepContext, out: StepOut) => {
    out.detail = f(r, 'requestParameters.aliasName') ?? '';
  },
  UpdateAlias: ({ r, t, ki, arn, f, hit, note, aliasPrev }: StepContext, out: StepOut) => {
    const alias = f(r, 'requestParameters.aliasName') ?? '';
    out.detail = alias;
    // re-pointed unless the record shows the alias already pointing to this key
    const prev = aliasPrev.get(r);
    if (prev !== arn || !arn) {
      hit('kms-alias-repointed', ki, r);
      const from =
        prev === undefined || prev === null
          ? 'a key not in the loaded events'
          : prev || 'no key (deleted alias) or an unknown key';
      note('kms-alias-repointed', ki, `${alias} at ${isoTime(t)}: from ${from} to ${arn || 'an unknown key'}`);
    }
  },
  DeleteAlias: ({ r, K, f }: StepContext, out: StepOut) => {
    out.detail = f(r, 'requestParameters.aliasName') ?? '';
    // the key it pointed to (in resources) had the alias
    if (out.detail) K.aliasSet.add(out.detail);
  },
  ReplicateKey: ({ r, s, f }: StepContext, out: StepOut) => {
    s.multiRegion = true;
    out.detail = `to ${f(r, 'requestParameters.replicaRegion') ?? '?'}`;
  },
  UpdatePrimaryRegion: ({ r, f }: StepContext, out: StepOut) => {
    out.detail = `primary → ${f(r, 'requestParameters.primaryRegion') ?? '?'}`;
  },
  UpdateKeyDescription: ({ r, s, f }: StepContext) => {
    s.description = f(r, 'requestParameters.description') ?? s.description;
  },
  TagResource: ({ r, f }: StepContext, out: StepOut) => {
    out.detail = (f(r, 'requestParameters.tags.tagKey') ?? f(r, 'requestParameters.tagKeys') ?? '') as string;
  },
  UntagResource: (c, o) => KEY_STEPS.TagResource(c, o),
};

/**
 * The principal an event's principal belongs to: an assumed-role session ARN
 * (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`) stands for its role (`arn:aws:iam::ACCOUNT:role/ROLE`, the
 * session issuer without its path); `AWSAccount:ROLEID:SESSION` (the key owner's copy of a cross-account call)
 * for `AWSAccount:ROLEID`.
 */
export function principalGroup(p: string): string {
  const role = roleOfSession(p);
  if (role) return role;
  const a = /^(AWSAccount:[^:]+):/.exec(p);
  return a ? a[1] : p;
}

export { accountOf } from '../cloudtrail/arn';

/** Condition keys that limit a `*` principal to an organization or an account (global and KMS condition keys). */
const LIMITING_CONDITION_KEYS = [
  'aws:principalorgid',
  'aws:principalorgpaths',
  'aws:principalaccount',
  'aws:sourceaccount',
  'aws:sourceorgid',
  'aws:sourceorgpaths',
  'aws:sourcearn',
  'kms:calleraccount',
];

/** One outside principal an Allow statement of a key policy grants, with the conditions that limit it. */
export interface PolicyGrant {
  /** `*` or the principal (account ID or ARN) outside the owner account. */
  principal: string;
  /** The statement's limiting conditions, as `Operator key=value[,value]` (for example `StringEquals aws:PrincipalOrgID=o-abc`); [] when none. */
  conditions: string[];
}

type Stmt = Record<string, unknown>;
const statementsOf = (policyJson: string): Stmt[] | null => {
  let policy: { Statement?: unknown };
  try {
    policy = JSON.parse(policyJson);
  } catch {
    return null;
  }
  const st = Array.isArray(policy?.Statement) ? policy.Statement : policy?.Statement ? [policy.Statement] : [];
  return (st as unknown[]).filter((x): x is Stmt => !!x && typeof x === 'object' && !Array.isArray(x));
};
const principalsOf = (p: unknown): string[] => {
  const list: string[] = [];
  if (p === '*') list.push('*');
  else if (p && typeof p === 'object') {
    for (const [k, v] of Object.entries(p as Record<string, unknown>)) {
      if (k === 'Service' || k === 'Federated') continue;
      if (typeof v === 'string') list.push(v);
      else if (Array.isArray(v)) for (const x of v) if (typeof x === 'string') list.push(x);
    }
  }
  return list;
};
const strings = (v: unknown): string[] =>
  typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];

/**
 * The principals outside `owner` (another account, or `*`) that the Allow statements of a key policy grant,
 * each with the statement's conditions that limit it to an organization or account (`aws:PrincipalOrgID`,
 * `aws:PrincipalOrgPaths`, `aws:PrincipalAccount`, `aws:SourceAccount`, `aws:SourceOrgID`, `aws:SourceArn`,
 * `kms:CallerAccount`). A `*` principal limited by `aws:PrincipalAccount` or `kms:CallerAccount` to the owner
 * alone is not outside. Service principals are not. Returns [] for a policy that cannot be parsed.
 * Sources: "Key policies in AWS KMS", "Allowing users in other accounts to use a KMS key" (AWS KMS Developer
 * Guide); "AWS global condition context keys" (IAM User Guide): a condition key absent from the request makes a
 * StringEquals condition false, so these conditions do limit a `*` principal.
 */
export function policyGrants(policyJson: string, owner: string): PolicyGrant[] {
  const stmts = statementsOf(policyJson);
  if (!stmts) return [];
  const out = new Map<string, PolicyGrant>();
  for (const st of stmts) {
    if (st.Effect !== 'Allow') continue;
    const conditions: string[] = [];
    let ownerOnly = false;
    const cond = st.Condition && typeof st.Condition === 'object' ? (st.Condition as Record<string, unknown>) : {};
    for (const [op, kv] of Object.entries(cond)) {
      if (!kv || typeof kv !== 'object' || /IfExists$/.test(op) || /^(StringNot|ArnNot|Null)/.test(op)) continue;
      for (const [k, v] of Object.entries(kv as Record<string, unknown>)) {
        const key = k.toLowerCase();
        if (!LIMITING_CONDITION_KEYS.includes(key)) continue;
        const vals = strings(v);
        if (!vals.length) continue;
        conditions.push(`${op} ${k}=${vals.join(',')}`);
        if ((key === 'aws:principalaccount' || key === 'kms:calleraccount') && owner && vals.every((x) => x === owner))
          ownerOnly = true;
      }
    }
    for (const x of principalsOf(st.Principal)) {
      if (x === '*') {
        if (ownerOnly) continue;
      } else {
        const a = accountOf(x);
        if (!a || a === owner) continue;
      }
      const prev = out.get(x);
      // the least limited grant of the principal counts
      if (!prev || (prev.conditions.length && !conditions.length))
        out.set(x, { principal: x, conditions: x === '*' ? conditions : [] });
    }
  }
  return [...out.values()];
}

/**
 * The principals an Allow statement of a key policy grants that are outside `owner` (another account, or
 * `*` not limited to the owner account). Returns [] for a policy that cannot be parsed. Source: "Key policies in
 * AWS KMS" (AWS KMS Developer Guide).
 */
export function externalPrincipals(policyJson: string, owner: string): string[] {
  return policyGrants(policyJson, owner).map((g) => g.principal);
}

const actionAllows = (action: unknown, wanted: string): boolean =>
  strings(action).some((a) => {
    const re = new RegExp(
      '^' +
        a
          .toLowerCase()
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.') +
        '$',
    );
    return re.test(wanted);
  });

/**
 * Does a key policy keep the owner account able to manage it? True when an Allow statement without
 * NotPrincipal/NotAction grants `kms:PutKeyPolicy` (directly, by `kms:*` or `*`) to the owner account (its root,
 * bare account ID, or any principal ARN of the account) or to `*`. Undefined when the policy cannot be parsed or
 * the owner is unknown. Source: "Default key policy" ("allows access to the AWS account and enables IAM
 * policies", and the lockout it prevents) and PutKeyPolicy's BypassPolicyLockoutSafetyCheck (AWS KMS API
 * Reference): "Setting this value to true increases the risk that the KMS key becomes unmanageable".
 */
export function policyKeepsOwnerAccess(policyJson: string, owner: string): boolean | undefined {
  const stmts = statementsOf(policyJson);
  if (!stmts || !owner) return undefined;
  return stmts.some(
    (st) =>
      st.Effect === 'Allow' &&
      actionAllows(st.Action, 'kms:putkeypolicy') &&
      principalsOf(st.Principal).some((p) => p === '*' || accountOf(p) === owner),
  );
}

/** A key's aggregate before any of its events is counted (state `Unknown`, no aliases, no calls). */
function newKeyAgg(arn: string, keyId: string, account: string, region: string): KeyAgg {
  return {
    s: {
      arn,
      keyId,
      account,
      region,
      aliases: [],
      formerAliases: [],
      firstSeen: Infinity,
      lastSeen: -Infinity,
      managementCalls: 0,
      cryptoCalls: 0,
      failures: 0,
      principals: 0,
      crossAccountPrincipals: 0,
      state: 'Unknown',
      findings: [],
    },
    principalSet: new Set(),
    crossSet: new Set(),
    lifecycle: [],
    aliasSet: new Set(),
  };
}

/** A custom key store as its CreateCustomKeyStore / Connect / Disconnect / Delete events leave it. */
interface CustomKeyStore {
  id: string;
  name: string;
  clusterId: string;
  /** CONNECTED, DISCONNECTED or DELETED. */
  state: string;
}

/** Records a row for a finding rule of a key (key index; -1 for findings that are not about a key). */
type Hit = (rule: string, key: number, r: number) => void;

/** A field of a row as text (FieldValues.valueOfRow); undefined when absent. */
type RowField = (row: number, path: string) => string | undefined;

/** The handler of a table by eventName, or undefined: own properties only (an eventName `__proto__` is no handler). */
function handlerOf<T>(table: Record<string, T>, name: string): T | undefined {
  return Object.hasOwn(table, name) ? table[name] : undefined;
}

/** Key index of events whose key stays unknown: counted in their rules under "unknown key" (never dropped), no state. */
const UNKNOWN_KEY = -2;

/** Management calls that read only (cryptographic operations are recorded as readOnly too, but they use the key). */
const READ_ONLY_NAME = /^(Describe|List|Get(?!ParametersForImport))/;

/** Successful alias changes, read in pass 1 to resolve alias names over time. */
const ALIAS_OPS: ReadonlySet<string> = new Set(['CreateAlias', 'UpdateAlias', 'DeleteAlias']);

/** Calls whose own outcome sets the key's pending-deletion state: never a use of a key in its state. */
const DELETION_STEPS: ReadonlySet<string> = new Set(['ScheduleKeyDeletion', 'CancelKeyDeletion', 'DeleteKey']);

const PENDING = (st: KeyState) => st === 'PendingDeletion' || st === 'PendingReplicaDeletion';

const KEY_STATES: ReadonlySet<string> = new Set([
  'Enabled',
  'Disabled',
  'PendingDeletion',
  'Deleted',
  'PendingImport',
  'PendingReplicaDeletion',
  'Unavailable',
]);

/** Management calls that set a key's state (a lifecycle step shows the state even when it stays the same). */
const STATE_OPS: ReadonlySet<string> = new Set([
  'CreateKey',
  'EnableKey',
  'DisableKey',
  'ScheduleKeyDeletion',
  'CancelKeyDeletion',
  'DeleteKey',
  'ImportKeyMaterial',
  'DeleteImportedKeyMaterial',
  'DeleteExpiredKeyMaterial',
]);

/** Order of same-time rows before their outcomes are checked: CreateKey first, ScheduleKeyDeletion and DeleteKey last. */
const tieRank = (name: string) =>
  name === 'CreateKey' ? 0 : name === 'ScheduleKeyDeletion' ? 2 : name === 'DeleteKey' ? 3 : 1;

/** A custom key store's state after each change of it (CreateCustomKeyStore and Update keep it). */
const CUSTOM_KEY_STORE_STATE: Record<string, string> = {
  ConnectCustomKeyStore: 'CONNECTED',
  DisconnectCustomKeyStore: 'DISCONNECTED',
  DeleteCustomKeyStore: 'DELETED',
};

/**
 * The key state after a successful call, from the call alone (the state before when it changes nothing).
 * Source: "Key states of AWS KMS keys" (AWS KMS Developer Guide); the management call's own
 * responseElements.keyState wins when it states one.
 */
function stateAfter(f: RowField, r: number, name: string, prev: KeyState): KeyState {
  if (CRYPTO_OPERATIONS.has(name))
    return prev === 'Unknown' || prev === 'Disabled' || PENDING(prev) || prev === 'Deleted' ? 'Enabled' : prev;
  switch (name) {
    case 'CreateKey': {
      const ks = f(r, 'responseElements.keyMetadata.keyState');
      if (ks && KEY_STATES.has(ks)) return ks as KeyState;
      const origin = f(r, 'responseElements.keyMetadata.origin') ?? f(r, 'requestParameters.origin');
      return origin === 'EXTERNAL' ? 'PendingImport' : 'Enabled';
    }
    case 'EnableKey':
    case 'ImportKeyMaterial':
      return 'Enabled';
    case 'DisableKey':
    case 'CancelKeyDeletion':
      return 'Disabled';
    case 'ScheduleKeyDeletion':
      return f(r, 'responseElements.keyState') === 'PendingReplicaDeletion'
        ? 'PendingReplicaDeletion'
        : 'PendingDeletion';
    case 'DeleteKey':
      return 'Deleted';
    case 'DeleteImportedKeyMaterial':
    case 'DeleteExpiredKeyMaterial':
      return 'PendingImport';
  }
  return prev;
}

/** Did a call fail with KMSInvalidStateException because its key is pending (replica) deletion? */
const pendingFailureOf = (f: RowField, r: number, err: string) =>
  err === 'KMSInvalidStateException' && /pending ?(replica )?deletion/i.test(f(r, 'errorMessage') ?? '');

/**
 * Could this call (eventName `name`, errorCode `err`) have had its outcome with the key in state `st`? A call
 * that AWS KMS refuses in a state cannot have succeeded in it (a successful cryptographic call needs Enabled,
 * ScheduleKeyDeletion a key not pending deletion, CancelKeyDeletion and DeleteKey one pending deletion,
 * Enable/DisableKey one not pending deletion), and DisabledException / KMSInvalidStateException "pending
 * deletion" happen only in those states. Source: "Key states of AWS KMS keys" (AWS KMS Developer Guide).
 */
function possible(f: RowField, r: number, name: string, err: string, st: KeyState): boolean {
  if (st === 'Unknown') return true;
  if (err) {
    if (err === 'DisabledException') return st === 'Disabled';
    if (pendingFailureOf(f, r, err)) return PENDING(st);
    return true;
  }
  if (st === 'Deleted') return false;
  if (CRYPTO_OPERATIONS.has(name)) return st === 'Enabled';
  switch (name) {
    case 'CreateKey':
      return false;
    case 'ScheduleKeyDeletion':
    case 'EnableKey':
    case 'DisableKey':
      return !PENDING(st);
    case 'CancelKeyDeletion':
      return PENDING(st);
  }
  return true;
}

/** An alias name (`alias/...`) or alias ARN, with the ARN's account and Region; null for anything else. */
function aliasNameOf(ref: string): { name: string; acc?: string; reg?: string } | null {
  if (ref.startsWith('alias/')) return { name: ref };
  const m = parseKmsAliasArn(ref);
  return m ? { name: m.alias, acc: m.account, reg: m.region } : null;
}

/** One KMS event of pass 2 that names a key (or a key the record cannot resolve), as the step handlers see it. */
interface KeyEvent {
  /** Row and eventTime (epoch ms). */
  r: number;
  t: number;
  name: string;
  /** errorCode ('' when the call succeeded). */
  err: string;
  crypto: boolean;
  readOnly: boolean;
  /** The key ARN ('' unknown), its index in the analysis' keys (UNKNOWN_KEY when unknown) and aggregate. */
  arn: string;
  ki: number;
  K: KeyAgg;
  /** Code of the row's principal; the caller's account (userIdentity.accountId). */
  pc: number;
  callerAcc: string;
}

/**
 * One pass of the key analysis over an index: the columns it reads, the state it builds (keys, aliases, custom
 * key stores, finding rows and notes), and the steps that build it. `analyzeKms` runs the passes in order.
 */
class KeyPass {
  readonly order: Uint32Array;
  readonly f: RowField;
  readonly hsmCode: number | undefined;
  private readonly src: EventColumn;
  private readonly kmsCode: number | undefined;
  private readonly names: EventColumn;
  private readonly errs: EventColumn;
  private readonly region: EventColumn;
  private readonly recip: EventColumn;
  private readonly acct: EventColumn;
  private readonly princ: EventColumn;
  private readonly ro: EventColumn;
  private readonly keyCol: EventColumn;
  private readonly resCol: EventColumn;
  private readonly etype: EventColumn;

  /** KMS rows in time order (same-time rows canonically ordered) and the [start, end) of each same-time group. */
  private readonly kmsRows: number[] = [];
  private readonly groups: [number, number][] = [];
  /** Key ARN of a resources list, per dictionary entry. */
  private readonly resArn = new Map<number, string>();
  /** Alias timelines per (account, region, alias name): [time, key ARN | '', eventName] in time order. */
  private readonly aliasTl = new Map<string, [number, string, string][]>();
  /** UpdateAlias row → the key the alias pointed to before ('' deleted or unknown key; null: no earlier change recorded). */
  private readonly aliasPrev = new Map<number, string | null>();
  /** Per row: 1 + the index in `arnTexts` of its key ARN (keyArnOfRow); 0 not computed yet. */
  private readonly arnOfRow: Int32Array;
  private readonly arnTexts: string[] = [];
  private readonly arnCodes = new Map<string, number>();
  private readonly groupCache: string[] = [];

  readonly keys: KeyAgg[] = [];
  readonly keyIndex = new Map<string, number>();
  readonly keyOfRow: Int32Array;
  /** rule → key index → rows (key -1 for non-key findings). */
  private readonly ruleKeys = new Map<string, Map<number, number[]>>();
  readonly customKeyStores = new Map<string, CustomKeyStore>();
  /** Details per rule and key index (`rule|ki`), appended to the finding's description; severity per rule and key when raised above the rule's. */
  private readonly notes = new Map<string, string[]>();
  private readonly severityOf = new Map<string, Severity>();

  constructor(
    readonly ix: EventTable,
    fields: FieldValues,
  ) {
    const col = (c: StringColumn) => ix.column(c);
    this.src = col('eventSource');
    this.kmsCode = this.src.code('kms.amazonaws.com');
    this.hsmCode = this.src.code('cloudhsm.amazonaws.com');
    this.names = col('eventName');
    this.errs = col('errorCode');
    this.region = col('awsRegion');
    this.recip = col('recipientAccountId');
    this.acct = col('accountId');
    this.princ = col('principal');
    this.ro = col('readOnly');
    this.keyCol = col('key');
    this.resCol = col('resourceNames');
    this.etype = col('eventType');
    this.order = ix.sortedByTime();
    this.f = (row: number, path: string) => fields.valueOfRow(row, path);
    this.keyOfRow = new Int32Array(ix.n).fill(-1);
    this.arnOfRow = new Int32Array(ix.n);
  }

  /** VPC endpoint network-activity records (eventType AwsVpceEvent): not API calls, they never change a key. */
  private isNetwork(r: number): boolean {
    return this.etype.at(r) === 'AwsVpceEvent';
  }

  /** The account a row's key or alias belongs to when the row does not say: recipientAccountId, else the caller's. */
  private accountOfRow(r: number): string {
    return this.recip.at(r) || this.acct.at(r);
  }

  hit: Hit = (rule, key, r) => {
    let m = this.ruleKeys.get(rule);
    if (!m) this.ruleKeys.set(rule, (m = new Map()));
    let rows = m.get(key);
    if (!rows) m.set(key, (rows = []));
    rows.push(r);
  };

  /** Adds a line to the finding of `rule` for key `ki`, and raises its severity to `sev` when given. */
  note = (rule: string, ki: number, text: string, sev?: Severity) => {
    const k = `${rule}|${ki}`;
    let l = this.notes.get(k);
    if (!l) this.notes.set(k, (l = []));
    if (!l.includes(text)) l.push(text);
    if (sev) {
      const prev = this.severityOf.get(k);
      this.severityOf.set(k, prev ? moreSevere(prev, sev) : sev);
    }
  };

  /** The canonical order of same-time rows: eventID, then eventName and errorCode. */
  private tieKey(r: number): string {
    return `${this.f(r, 'eventID') ?? ''}\u0000${this.names.at(r)}\u0000${this.errs.at(r)}`;
  }

  /** `rows` sorted by {@link tieKey}, each key computed once. */
  private byTieKey(rows: number[]): number[] {
    const keyed = rows.map((r) => ({ r, k: this.tieKey(r) }));
    keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
    return keyed.map((x) => x.r);
  }

  /**
   * KMS rows in time order. Rows of the same time are put in a canonical order taken from the events themselves
   * (eventID, then eventName and errorCode), never from file or drop order: CloudTrail log files are not ordered
   * ("Logging AWS KMS API calls with AWS CloudTrail", AWS KMS Developer Guide: "CloudTrail log files are not an
   * ordered stack trace of the public API calls, so they do not appear in any specific order"). `orderTies`
   * reorders each group of same-time rows further by what each call needs of the key's state.
   */
  orderKmsRows(): void {
    const { order, kmsRows, ix } = this;
    if (this.kmsCode !== undefined)
      for (let k = 0; k < order.length; k++) if (this.src.codes[order[k]] === this.kmsCode) kmsRows.push(order[k]);
    for (let i = 0; i < kmsRows.length;) {
      let j = i + 1;
      while (j < kmsRows.length && ix.timeOf(kmsRows[j]) === ix.timeOf(kmsRows[i])) j++;
      if (j - i > 1) {
        const g = this.byTieKey(kmsRows.slice(i, j));
        for (let x = 0; x < g.length; x++) kmsRows[i + x] = g[x];
        this.groups.push([i, j]);
      }
      i = j;
    }
  }

  private static aliasKey(acc: string, reg: string, name: string): string {
    return `${acc}|${reg}|${name}`;
  }

  /** A key reference as a key ARN: a key ARN, or a key ID completed with the row's Region and account; '' otherwise. */
  private toArn(ref: string, r: number): string {
    if (!ref) return '';
    if (isKmsKeyArn(ref)) return ref;
    if (/^(mrk-)?[0-9a-f-]{32,40}$/i.test(ref) || /^mrk-[0-9a-f]{32}$/.test(ref)) {
      const reg = this.region.at(r);
      const acc = this.accountOfRow(r);
      return reg && acc ? kmsKeyArn(reg, acc, ref) : ref;
    }
    return '';
  }

  /** Pass 1: the alias changes (successful CreateAlias / UpdateAlias / DeleteAlias) into the alias timelines. */
  collectAliases(): void {
    for (const r of this.kmsRows) {
      if (this.errs.at(r) || this.isNetwork(r)) continue;
      const name = this.names.at(r);
      if (!ALIAS_OPS.has(name)) continue;
      const alias = this.f(r, 'requestParameters.aliasName') ?? '';
      if (!alias) continue;
      const target = name === 'DeleteAlias' ? '' : this.toArn(this.f(r, 'requestParameters.targetKeyId') ?? '', r);
      const key = KeyPass.aliasKey(this.accountOfRow(r), this.region.at(r), alias);
      let tl = this.aliasTl.get(key);
      if (!tl) this.aliasTl.set(key, (tl = []));
      if (name === 'UpdateAlias') this.aliasPrev.set(r, tl.length ? tl[tl.length - 1][1] : null);
      tl.push([this.ix.timeOf(r), target, name]);
    }
  }

  /** The key an alias name or alias ARN pointed to at the row's time ('' when the record does not say). */
  private resolveAlias(ref: string, r: number): string {
    const a = aliasNameOf(ref);
    if (!a) return '';
    const acc = a.acc ?? this.accountOfRow(r);
    const reg = a.reg ?? this.region.at(r);
    const tl = this.aliasTl.get(KeyPass.aliasKey(acc, reg, a.name));
    if (!tl) return '';
    const t = this.ix.timeOf(r);
    let cur = '';
    for (const [at, arn] of tl) {
      if (at <= t) cur = arn;
      else break;
    }
    // an alias used before its first recorded change: assume the first target when that change created it (before
    // an UpdateAlias it pointed to another, unrecorded key)
    return cur || (tl[0][0] > t && tl[0][2] === 'CreateAlias' ? tl[0][1] : '');
  }

  /** The index of a key in `keys`, adding the key when new. */
  private getKey(arn: string): number {
    let i = this.keyIndex.get(arn);
    if (i === undefined) {
      i = this.keys.length;
      this.keyIndex.set(arn, i);
      const m = parseKmsKeyArn(arn);
      this.keys.push(newKeyAgg(arn, m ? m.keyId : arn, m ? m.account : '', m ? m.region : ''));
    }
    return i;
  }

  /**
   * Which key a row names: the key in `resources` (an alias operation's target key first), the response's key
   * metadata, requestParameters.keyId (key ID, key ARN, alias name or alias ARN resolved over time), then the
   * response's keyId / keyMetadata (AWS KMS adds the key ARN to responseElements.keyId of management operations:
   * "Logging AWS KMS API calls with AWS CloudTrail"). '' when the key stays unknown. Cached per row.
   */
  private keyArnOfRow(r: number): string {
    const have = this.arnOfRow[r];
    if (have) return this.arnTexts[have - 1];
    const { f } = this;
    let arn: string;
    const name = this.names.at(r);
    const crypto = CRYPTO_OPERATIONS.has(name);
    const readOnly = !crypto && (this.ro.at(r) === 'true' || READ_ONLY_NAME.test(name));
    arn =
      name === 'CreateAlias' || name === 'UpdateAlias'
        ? this.toArn(f(r, 'requestParameters.targetKeyId') ?? '', r)
        : '';
    if (!arn) arn = this.resArnOf(this.resCol.codes[r]);
    if (!arn && !readOnly && !crypto) arn = this.toArn(f(r, 'responseElements.keyMetadata.arn') ?? '', r);
    if (!arn) {
      const ref = this.keyCol.at(r);
      arn = this.toArn(ref, r) || this.resolveAlias(ref, r);
    }
    if (!arn) {
      for (const p of [
        'responseElements.keyId',
        'responseElements.keyMetadata.arn',
        'responseElements.keyMetadata.keyId',
        'requestParameters.keyId',
        'requestParameters.KeyId',
      ]) {
        arn = this.toArn(f(r, p) ?? '', r);
        if (arn) break;
      }
    }
    let code = this.arnCodes.get(arn);
    if (code === undefined) {
      this.arnCodes.set(arn, (code = this.arnTexts.length));
      this.arnTexts.push(arn);
    }
    this.arnOfRow[r] = code + 1;
    return arn;
  }

  private resArnOf(code: number): string {
    let v = this.resArn.get(code);
    if (v === undefined) {
      v = this.resCol.text(code).split('\n').find(isKmsKeyArn) ?? '';
      this.resArn.set(code, v);
    }
    return v;
  }

  /**
   * Same-time rows in the order their outcomes allow: repeatedly the first row (by tieRank: CreateKey first,
   * ScheduleKeyDeletion and DeleteKey last; then the canonical eventID order) that could have had its outcome in
   * its key's state as simulated so far; when none could, the first. Depends only on the events and the states
   * before the group, never on file order.
   */
  private orderTies(g: number[]): number[] {
    const { names, errs, f } = this;
    const sim = new Map<string, KeyState>();
    const stOf = (arn: string): KeyState =>
      sim.get(arn) ?? (this.keyIndex.has(arn) ? this.keys[this.keyIndex.get(arn)!].s.state : 'Unknown');
    // the group is in tie-key order already (orderKmsRows): a stable sort by rank keeps it within each rank
    const rest = g.slice().sort((a, b) => tieRank(names.at(a)) - tieRank(names.at(b)));
    const out: number[] = [];
    while (rest.length) {
      let i = rest.findIndex((r) => {
        const arn = this.keyArnOfRow(r);
        return !arn || this.isNetwork(r) || possible(f, r, names.at(r), errs.at(r), stOf(arn));
      });
      if (i < 0) i = 0;
      const r = rest.splice(i, 1)[0];
      out.push(r);
      const arn = this.keyArnOfRow(r);
      if (arn && !this.isNetwork(r) && !errs.at(r)) sim.set(arn, stateAfter(f, r, names.at(r), stOf(arn)));
    }
    return out;
  }

  /** Pass 2: every KMS event in time order, same-time groups in the order their outcomes allow. */
  walk(): void {
    const { kmsRows, groups } = this;
    let gi = 0;
    for (let i = 0; i < kmsRows.length;) {
      if (gi < groups.length && groups[gi][0] === i) {
        const [a, b] = groups[gi++];
        const g = kmsRows.slice(a, b);
        // without a call that changes a key's state, every row sees the same states: the canonical order stands
        for (const r of g.some((x) => STATE_OPS.has(this.names.at(x))) ? this.orderTies(g) : g) this.step(r);
        i = b;
      } else this.step(kmsRows[i++]);
    }
  }

  /** One KMS event: a custom key store change, or a call on a key (counted, checked against the key's state, a lifecycle step). */
  private step(r: number): void {
    const name = this.names.at(r);
    const network = this.isNetwork(r);
    if (CUSTOM_KEY_STORE_OPS.has(name)) {
      if (!this.errs.at(r) && !network) this.customKeyStoreStep(r, name);
      return;
    }
    const crypto = !network && CRYPTO_OPERATIONS.has(name);
    // network-activity records change nothing
    const readOnly = network || (!crypto && (this.ro.at(r) === 'true' || READ_ONLY_NAME.test(name)));
    const arn = this.keyArnOfRow(r);
    if (!arn && readOnly) return;
    const ki = arn ? this.getKey(arn) : UNKNOWN_KEY;
    const K = arn ? this.keys[ki] : newKeyAgg('', '', '', '');
    if (!arn) K.s.account = this.accountOfRow(r);
    else this.keyOfRow[r] = ki;
    const e: KeyEvent = {
      r,
      t: this.ix.timeOf(r),
      name,
      err: this.errs.at(r),
      crypto,
      readOnly,
      arn,
      ki,
      K,
      pc: this.princ.codes[r],
      callerAcc: this.acct.at(r),
    };
    const seenBefore = this.count(e);
    const gap = !readOnly && !DELETION_STEPS.has(name) && this.stateDependentUse(e, seenBefore);
    if (crypto) this.cryptoStep(e, gap);
    else if (!readOnly) this.managementStep(e);
  }

  /** A successful custom key store change: its finding, and the store's name, cluster and connection state. */
  private customKeyStoreStep(r: number, name: string): void {
    const { f } = this;
    this.hit('kms-custom-key-store-change', -1, r);
    const id = f(r, 'requestParameters.customKeyStoreId') ?? f(r, 'responseElements.customKeyStoreId') ?? '';
    if (!id) return;
    const cks = this.customKeyStores.get(id) ?? { id, name: '', clusterId: '', state: 'DISCONNECTED' };
    if (name === 'CreateCustomKeyStore') {
      cks.name = f(r, 'requestParameters.customKeyStoreName') ?? '';
      cks.clusterId = f(r, 'requestParameters.cloudHsmClusterId') ?? f(r, 'requestParameters.clusterId') ?? '';
    }
    cks.state = handlerOf(CUSTOM_KEY_STORE_STATE, name) ?? cks.state;
    this.customKeyStores.set(id, cks);
  }

  /** Counts a call on its key (times seen, calls, failures, principals); returns whether the key was seen before it. */
  private count({ t, crypto, err, K, pc, callerAcc }: KeyEvent): boolean {
    const s = K.s;
    const seenBefore = s.firstSeen <= t;
    if (t < s.firstSeen) s.firstSeen = t;
    if (t > s.lastSeen) s.lastSeen = t;
    if (crypto) s.cryptoCalls++;
    else s.managementCalls++;
    if (err) s.failures++;
    const group = (this.groupCache[pc] ??= principalGroup(this.princ.text(pc)));
    K.principalSet.add(group);
    if (callerAcc && s.account && callerAcc !== s.account) K.crossSet.add(group);
    return seenBefore;
  }

  /**
   * The findings of a call that uses a key in a state that refuses it (disabled, pending deletion, deleted), or
   * that succeeded in such a state as the record shows it (events missing). Returns true for the latter (a gap).
   */
  private stateDependentUse({ r, t, name, err, crypto, arn, ki, K }: KeyEvent, seenBefore: boolean): boolean {
    const st = K.s.state;
    if (crypto && !err && (st === 'Disabled' || PENDING(st) || st === 'Deleted')) {
      this.hit('kms-record-gap', ki, r);
      this.note('kms-record-gap', ki, `${name} at ${isoTime(t)} succeeded on a key the record shows ${st}`);
      return true;
    }
    if (st === 'Deleted' || (err === 'NotFoundException' && arn && seenBefore)) this.hit('kms-deleted-key-use', ki, r);
    else if (PENDING(st) || pendingFailureOf(this.f, r, err)) this.hit('kms-key-pending-deletion-use', ki, r);
    else if ((st === 'Disabled' && name !== 'EnableKey' && name !== 'DisableKey') || err === 'DisabledException')
      this.hit('kms-key-disabled-use', ki, r);
    return false;
  }

  /** A cryptographic call: a successful one shows the key Enabled (and, after a gap, a lifecycle step saying so). */
  private cryptoStep({ r, t, name, err, K, pc, callerAcc }: KeyEvent, gap: boolean): void {
    const s = K.s;
    if (!err && (s.state === 'Unknown' || gap)) s.state = 'Enabled';
    if (!gap) return;
    s.deletionDate = undefined;
    K.lifecycle.push({
      row: r,
      time: t,
      eventName: name,
      principal: this.princ.text(pc),
      account: callerAcc,
      errorCode: '',
      state: 'Enabled',
      detail: 'succeeded: the key was enabled again by a call that is not in the loaded events (events missing)',
    });
  }

  /** A management call that changes the key: a step of its lifecycle (KEY_STEPS when it succeeded). */
  private managementStep({ r, t, name, err, arn, ki, K, pc, callerAcc }: KeyEvent): void {
    const s = K.s;
    let detail = '';
    let state: KeyState | undefined;
    if (!err) {
      const step = handlerOf(KEY_STEPS, name);
      if (step) {
        const o: StepOut = {};
        const { f, hit, note, policyChecks, aliasPrev } = this;
        step({ r, t, s, K, ki, arn, f, hit, note, policyChecks, aliasPrev }, o);
        if (o.detail !== undefined) detail = o.detail;
        if (o.state !== undefined) state = o.state;
      }
      // the state after the step, as the tie ordering simulates it
      if (arn) state = stateAfter(this.f, r, name, s.state);
      if (state === s.state && !STATE_OPS.has(name)) state = undefined;
      if (state) s.state = state;
    } else if (name === 'ScheduleKeyDeletion' || name === 'DisableKey') {
      detail = `failed: ${err}`;
    }
    if (arn)
      K.lifecycle.push({
        row: r,
        time: t,
        eventName: name,
        principal: this.princ.text(pc),
        account: callerAcc,
        errorCode: err,
        detail,
        state: err ? undefined : state,
      });
  }

  /**
   * The key policy rules of a successful CreateKey / PutKeyPolicy: `kms-key-policy-external-access` (high, or
   * medium when every outside grant is a `*` limited by an organization/account condition, the condition shown)
   * and `kms-key-policy-lockout`. Returns what the lifecycle step says ('' when nothing).
   */
  policyChecks = (r: number, ki: number, owner: string, policy: string | undefined): string => {
    const parts: string[] = [];
    const at = `${this.names.at(r)} at ${isoTime(this.ix.timeOf(r))}`;
    const bypass = this.f(r, 'requestParameters.bypassPolicyLockoutSafetyCheck') === 'true';
    const grants = policy ? policyGrants(policy, owner) : [];
    if (grants.length) {
      this.hit('kms-key-policy-external-access', ki, r);
      const open = grants.some((g) => !g.conditions.length);
      const text = grants
        .map((g) => (g.conditions.length ? `${g.principal} if ${g.conditions.join(' and ')}` : g.principal))
        .join(', ');
      this.note('kms-key-policy-external-access', ki, `${at} grants ${text}`, open ? 'high' : 'medium');
      parts.push(`grants ${text}`);
    }
    const keeps = policy ? policyKeepsOwnerAccess(policy, owner) : undefined;
    if (bypass || keeps === false) {
      this.hit('kms-key-policy-lockout', ki, r);
      const why = [
        bypass ? 'bypassPolicyLockoutSafetyCheck true' : '',
        keeps === false ? `no statement lets account ${owner} manage the key policy` : '',
      ]
        .filter(Boolean)
        .join('; ');
      this.note('kms-key-policy-lockout', ki, `${at}: ${why}`);
      parts.push(`lockout risk: ${why}`);
    }
    return parts.join(' · ');
  };

  /** The aliases now pointing at each key, and every alias that ever did (former aliases, see `summaries`). */
  assignAliases(): void {
    for (const [k, tl] of this.aliasTl) {
      const alias = k.split('|')[2];
      const last = tl[tl.length - 1][1];
      for (const [, arn] of tl) {
        const i = arn ? this.keyIndex.get(arn) : undefined;
        if (i !== undefined) this.keys[i].aliasSet.add(alias);
      }
      const i = last ? this.keyIndex.get(last) : undefined;
      if (i !== undefined) this.keys[i].s.aliases.push(alias);
    }
  }

  /** The findings (one per rule and key, sorted by severity) and the rows of each rule; adds each rule to its key's findings. */
  findings(): { findings: Finding[]; ruleRows: Map<string, Uint32Array> } {
    const findings: Finding[] = [];
    const ruleRows = new Map<string, Uint32Array>();
    for (const [rule, byKey] of this.ruleKeys) {
      const all: number[] = [];
      for (const [ki, rows] of byKey) {
        all.push(...rows);
        findings.push(this.finding(rule, ki, rows));
      }
      ruleRows.set(rule, Uint32Array.from(new Set(all)));
    }
    findings.sort(compareFindings);
    return { findings, ruleRows };
  }

  /** The finding of one rule for one key (or the unknown key, or no key: -1) from its rows. */
  private finding(rule: string, ki: number, rows: number[]): Finding {
    const { ix } = this;
    const meta = KEY_RULES[rule];
    const key = ki >= 0 ? this.keys[ki].s : undefined;
    if (key && !key.findings.includes(rule)) key.findings.push(rule);
    const uniq = [...new Set(rows)].sort((a, b) => ix.timeOf(a) - ix.timeOf(b));
    const accounts = new Set<string>();
    const principals = new Set<string>();
    for (const r of uniq) {
      const a = this.acct.at(r) || this.recip.at(r);
      if (a) accounts.add(a);
      principals.add(this.princ.at(r));
    }
    const extra = [...(this.notes.get(`${rule}|${ki}`) ?? [])];
    if (ki === UNKNOWN_KEY)
      extra.unshift(
        `Unknown key: ${uniq.length} event(s) name a key the loaded events do not resolve (an alias or key ID without its key).`,
      );
    return {
      rule,
      title: ki === UNKNOWN_KEY ? `${meta.title} (unknown key)` : meta.title,
      severity: this.severityOf.get(`${rule}|${ki}`) ?? meta.severity,
      description: [meta.description, ...extra].join(' '),
      count: uniq.length,
      first: ix.timeOf(uniq[0]),
      last: ix.timeOf(uniq[uniq.length - 1]),
      accounts: [...accounts],
      keys: key ? [key.arn] : [],
      principals: [...principals],
      rows: uniq,
      query: key ? `finding:${rule} ${quotedTerm('key', key.arn)}` : `finding:${rule}`,
    };
  }

  /** The key summaries, most recently seen first, with their lifecycles; fills each cluster's keys. */
  summaries(clusters: ClusterSummary[]): { keys: KeySummary[]; lifecycles: Map<string, LifecycleStep[]> } {
    const lifecycles = new Map<string, LifecycleStep[]>();
    const keys = this.keys.map((K) => {
      K.s.principals = K.principalSet.size;
      K.s.crossAccountPrincipals = K.crossSet.size;
      K.s.formerAliases = [...K.aliasSet].filter((a) => !K.s.aliases.includes(a));
      lifecycles.set(K.s.arn, K.lifecycle);
      return K.s;
    });
    // keys in custom key stores
    for (const c of clusters) {
      const ids = new Set(c.customKeyStores.map((x) => x.id));
      c.keys = keys.filter((k) => k.customKeyStoreId && ids.has(k.customKeyStoreId)).map((k) => k.arn);
    }
    keys.sort((a, b) => b.lastSeen - a.lastSeen);
    return { keys, lifecycles };
  }
}

/**
 * Reconstructs every KMS key's lifecycle and use, the CloudHSM clusters, and the key findings from the index.
 * Management events are read through the field index (only those, a small share of a trail); cryptographic
 * calls through the columns only.
 * Sources: "Logging AWS KMS API calls with AWS CloudTrail" and "Key states of AWS KMS keys" (AWS KMS Developer
 * Guide); "Logging AWS CloudHSM API calls with AWS CloudTrail" (AWS CloudHSM User Guide).
 */
export function analyzeKms(ix: EventTable, fields: FieldValues): KmsAnalysis {
  const t0 = performance.now();
  const p = new KeyPass(ix, fields);
  p.orderKmsRows();
  p.collectAliases();
  p.walk();
  p.assignAliases();
  const clusters = new HsmPass(ix, fields, p.hit).run(p.order, p.hsmCode, p.customKeyStores);
  const { findings, ruleRows } = p.findings();
  const { keys, lifecycles } = p.summaries(clusters);
  return {
    keys,
    findings,
    clusters,
    keyOfRow: p.keyOfRow,
    ruleRows,
    lifecycles,
    keyIndexByArn: p.keyIndex,
    ms: performance.now() - t0,
  };
}

/** A successful CloudHSM call as its step handler sees it: the row, its time, its cluster and backup. */
interface HsmStep {
  r: number;
  t: number;
  name: string;
  c: ClusterSummary;
  /** The backup the call names ('' none). */
  backupId: string;
  f: RowField;
  hit: Hit;
  /** The pass's lookups over HSMs and backups (every change to an HSM's state goes through it). */
  book: HsmBook;
}

type Hsm = ClusterSummary['hsms'][number];
type Backup = ClusterSummary['backups'][number];

/**
 * The clusters' HSMs and backups by id, the HSMs still being created and the number of active HSMs per cluster:
 * so an event costs the same however many HSMs and backups a trail creates (a scan of every cluster's HSMs per
 * CloudHSM event took 6.6 s at 5M bench events, ~12,500 CreateHsm calls). Lookups return the first entry
 * with that id, as a search of the cluster's list in order would.
 */
class HsmBook {
  private readonly hsmById = new FirstById<Hsm>();
  private readonly backupById = new FirstById<Backup>();
  /** HSMs in CreateInProgress by hsmId, with their cluster. */
  private readonly creating = new Map<string, { h: Hsm; c: ClusterSummary }[]>();
  private readonly active = new Map<ClusterSummary, number>();

  /** The cluster's first HSM with this id, or undefined. */
  hsm(c: ClusterSummary, hsmId: string): Hsm | undefined {
    return this.hsmById.get(c, hsmId);
  }

  /** Appends an HSM to the cluster's list. */
  addHsm(c: ClusterSummary, h: Hsm): void {
    this.hsmById.add(c, c.hsms, h, h.hsmId);
    if (h.state === 'CreateInProgress') {
      const list = this.creating.get(h.hsmId);
      if (list) list.push({ h, c });
      else this.creating.set(h.hsmId, [{ h, c }]);
    } else if (h.state === 'Active') this.active.set(c, (this.active.get(c) ?? 0) + 1);
  }

  /** Marks an HSM of the cluster deleted at `t` (epoch ms). */
  deleteHsm(c: ClusterSummary, h: Hsm, t: number): void {
    if (h.state === 'Active') this.active.set(c, (this.active.get(c) ?? 1) - 1);
    h.state = 'Deleted';
    h.deleted = t;
  }

  /** Every HSM with this id still in CreateInProgress becomes Active; the clusters they belong to. */
  activate(hsmId: string): ClusterSummary[] {
    const list = this.creating.get(hsmId);
    if (!list) return [];
    this.creating.delete(hsmId);
    const touched: ClusterSummary[] = [];
    for (const { h, c } of list) {
      if (h.state !== 'CreateInProgress') continue; // deleted meanwhile
      h.state = 'Active';
      this.active.set(c, (this.active.get(c) ?? 0) + 1);
      touched.push(c);
    }
    return touched;
  }

  /** Whether the cluster has an Active HSM. */
  hasActive(c: ClusterSummary): boolean {
    return (this.active.get(c) ?? 0) > 0;
  }

  /** The cluster's first backup with this id, or undefined. */
  backup(c: ClusterSummary, backupId: string): Backup | undefined {
    return this.backupById.get(c, backupId);
  }

  /** Appends a backup to the cluster's list. */
  addBackup(c: ClusterSummary, b: Backup): void {
    this.backupById.add(c, c.backups, b, b.backupId);
  }
}

/** Per cluster, the first entry of one of its lists (HSMs, backups) with each id. */
class FirstById<T> {
  private readonly byCluster = new Map<ClusterSummary, Map<string, T>>();

  /** The cluster's first entry with this id, or undefined. */
  get(c: ClusterSummary, id: string): T | undefined {
    return this.byCluster.get(c)?.get(id);
  }

  /** Appends `item` to `list` (one of the cluster's), found by `id` unless an earlier entry has that id. */
  add(c: ClusterSummary, list: T[], item: T, id: string): void {
    list.push(item);
    let byId = this.byCluster.get(c);
    if (!byId) this.byCluster.set(c, (byId = new Map()));
    if (!byId.has(id)) byId.set(id, item);
  }
}

/** Backup calls: the backup's state (Ready, PendingDeletion, Deleted) and the Regions it was copied to. */
function backupStep({ r, t, name, c, backupId, f, hit, book }: HsmStep): string {
  let b = book.backup(c, backupId);
  if (!b) book.addBackup(c, (b = { backupId: backupId || '(unknown backup)', state: 'Unknown', copiedTo: [] }));
  if (name === 'CreateBackup') {
    b.state = 'Ready';
    b.created = t;
  } else if (name === 'DeleteBackup') {
    b.state = 'PendingDeletion';
    hit('cloudhsm-resource-deleted', -1, r);
  } else if (name === 'BackupDeletedPermanently') {
    b.state = 'Deleted';
    b.deleted = t;
    hit('cloudhsm-resource-deleted', -1, r);
  } else if (name === 'RestoreBackup') b.state = 'Ready';
  else if (name === 'CopyBackupToRegion') {
    const dest = f(r, 'requestParameters.destinationRegion') ?? '';
    if (dest) b.copiedTo.push(dest);
  }
  return backupId;
}

/**
 * Successful CloudHSM (cloudhsmv2) calls by eventName: each updates its cluster and returns the lifecycle step's
 * detail. Source: "Logging AWS CloudHSM API calls with AWS CloudTrail" (AWS CloudHSM User Guide) and the AWS
 * CloudHSM API Reference pages of each operation.
 */
const HSM_STEPS: Record<string, (x: HsmStep) => string> = {
  CreateCluster: ({ r, c, f }) => {
    c.state = 'Uninitialized';
    c.hsmType = f(r, 'responseElements.cluster.hsmType') ?? f(r, 'requestParameters.hsmType') ?? c.hsmType;
    return c.hsmType ?? '';
  },
  InitializeCluster: ({ c }) => {
    c.state = 'Initialized';
    return '';
  },
  DeleteCluster: ({ r, c, hit }) => {
    c.state = 'Deleted';
    hit('cloudhsm-resource-deleted', -1, r);
    return '';
  },
  CreateHsm: ({ r, t, c, f, book }) => {
    // an HSM is CREATE_IN_PROGRESS until an event shows it ACTIVE; creating one does not change the cluster's state
    const hsmId = f(r, 'responseElements.hsm.hsmId') ?? '';
    const az = f(r, 'requestParameters.availabilityZone') ?? f(r, 'responseElements.hsm.availabilityZone');
    const st = f(r, 'responseElements.hsm.state');
    book.addHsm(c, {
      hsmId: hsmId || '(unknown HSM)',
      availabilityZone: az,
      state: st === 'ACTIVE' ? 'Active' : 'CreateInProgress',
      created: t,
    });
    return `${hsmId}${az ? ' in ' + az : ''}`;
  },
  DeleteHsm: ({ r, t, c, f, hit, book }) => {
    const hsmId = f(r, 'responseElements.hsmId') ?? f(r, 'requestParameters.hsmId') ?? '';
    const h = book.hsm(c, hsmId);
    if (h) book.deleteHsm(c, h, t);
    else book.addHsm(c, { hsmId: hsmId || '(unknown HSM)', state: 'Deleted', deleted: t });
    hit('cloudhsm-resource-deleted', -1, r);
    return hsmId;
  },
  CreateBackup: backupStep,
  DeleteBackup: backupStep,
  RestoreBackup: backupStep,
  BackupDeletedPermanently: backupStep,
  CopyBackupToRegion: backupStep,
  ModifyBackupAttributes: backupStep,
};

/** A cluster before any of its events is counted (state Unknown, first seen +Infinity, last seen -Infinity). */
function newCluster(clusterId: string, account: string, region: string): ClusterSummary {
  return {
    clusterId,
    account,
    region,
    state: 'Unknown',
    firstSeen: Infinity,
    lastSeen: -Infinity,
    hsms: [],
    backups: [],
    customKeyStores: [],
    keys: [],
    lifecycle: [],
  };
}

/** The CloudHSM part of the key analysis: clusters, their HSMs and backups, and the custom key stores on them. */
class HsmPass {
  private readonly clusters = new Map<string, ClusterSummary>();
  private readonly book = new HsmBook();
  /** Backup ID → the cluster it belongs to, as earlier events showed. */
  private readonly backupCluster = new Map<string, string>();
  private readonly f: RowField;
  private readonly cols: Record<'names' | 'errs' | 'princ' | 'acct' | 'recip' | 'region', EventColumn>;

  constructor(
    private readonly ix: EventTable,
    private readonly fields: FieldValues,
    private readonly hit: Hit,
  ) {
    this.f = (row: number, path: string) => fields.valueOfRow(row, path);
    this.cols = {
      names: ix.column('eventName'),
      errs: ix.column('errorCode'),
      princ: ix.column('principal'),
      acct: ix.column('accountId'),
      recip: ix.column('recipientAccountId'),
      region: ix.column('awsRegion'),
    };
  }

  /** Every CloudHSM event in time order, then the custom key stores (of the KMS pass) attached to their clusters. */
  run(order: Uint32Array, hsmCode: number | undefined, customKeyStores: Map<string, CustomKeyStore>): ClusterSummary[] {
    if (hsmCode !== undefined) {
      const src = this.ix.column('eventSource');
      for (let k = 0; k < order.length; k++) if (src.codes[order[k]] === hsmCode) this.step(order[k]);
    }
    for (const cks of customKeyStores.values()) {
      if (!cks.clusterId) continue;
      const c = this.clusters.get(cks.clusterId) ?? {
        // a cluster known only from a custom key store: never seen in a CloudHSM event
        ...newCluster(cks.clusterId, '', ''),
        firstSeen: NaN,
        lastSeen: NaN,
      };
      this.clusters.set(cks.clusterId, c);
      c.customKeyStores.push({ id: cks.id, name: cks.name, state: cks.state });
    }
    return [...this.clusters.values()];
  }

  /** The cluster a row's call concerns, from its request, response or backup; '(unknown cluster)' when none says. */
  private clusterIdOf(r: number, backupId: string): string {
    const { f } = this;
    let clusterId =
      f(r, 'requestParameters.clusterId') ??
      f(r, 'responseElements.cluster.clusterId') ??
      f(r, 'responseElements.hsm.clusterId') ??
      f(r, 'responseElements.backup.clusterId') ??
      f(r, 'responseElements.destinationBackup.sourceCluster') ??
      f(r, 'serviceEventDetails.clusterId') ??
      '';
    if (!clusterId && backupId) clusterId = this.backupCluster.get(backupId) ?? '';
    const resourceId = f(r, 'requestParameters.resourceId') ?? '';
    if (!clusterId && resourceId.startsWith('cluster-')) clusterId = resourceId;
    if (!clusterId && resourceId.startsWith('backup-')) clusterId = this.backupCluster.get(resourceId) ?? '';
    return clusterId || '(unknown cluster)';
  }

  /** One CloudHSM event: a read that may show HSMs active, or a step of its cluster's lifecycle. */
  private step(r: number): void {
    const { ix, f, cols } = this;
    const name = cols.names.at(r);
    const err = cols.errs.at(r);
    const t = ix.timeOf(r);
    if (/^(Describe|List)/.test(name)) {
      // a DescribeClusters response that lists HSMs shows which are active
      if (!err) this.seenActive(r);
      return;
    }
    const backupId =
      f(r, 'requestParameters.backupId') ??
      f(r, 'responseElements.backup.backupId') ??
      f(r, 'serviceEventDetails.backupId') ??
      '';
    const clusterId = this.clusterIdOf(r, backupId);
    // a failed call creates nothing: it shows in the lifecycle of a cluster the record already knows, if any
    if (err && !this.clusters.has(clusterId)) return;
    if (backupId && clusterId !== '(unknown cluster)') this.backupCluster.set(backupId, clusterId);
    const c = this.cluster(clusterId, r);
    if (t < c.firstSeen) c.firstSeen = t;
    if (t > c.lastSeen) c.lastSeen = t;
    let detail = '';
    if (!err) {
      const handler = handlerOf(HSM_STEPS, name);
      if (handler) detail = handler({ r, t, name, c, backupId, f, hit: this.hit, book: this.book });
      this.seenActive(r);
      if (c.state === 'Initialized' && this.book.hasActive(c)) c.state = 'Active';
    }
    const [principal, account] = [cols.princ.at(r), cols.acct.at(r)];
    c.lifecycle.push({ row: r, time: t, eventName: name, principal, account, errorCode: err, detail });
  }

  /** The cluster of an id, added (in the row's account and Region) when new. */
  private cluster(id: string, r: number): ClusterSummary {
    let c = this.clusters.get(id);
    if (!c) {
      const account = this.cols.recip.at(r) || this.cols.acct.at(r);
      this.clusters.set(id, (c = newCluster(id, account, this.cols.region.at(r))));
    }
    return c;
  }

  /** HSMs a response shows ACTIVE (responseElements.hsm, .cluster.hsms, .clusters[].hsms), and the clusters that makes active. */
  private seenActive(r: number): void {
    const states = new Map<string, string>();
    for (const p of ['responseElements.hsm.', 'responseElements.cluster.hsms.', 'responseElements.clusters.hsms.']) {
      const ids = this.fields.valuesOfRow(r, p + 'hsmId');
      if (!ids.length) continue;
      const st = this.fields.valuesOfRow(r, p + 'state');
      if (st.length === ids.length) ids.forEach((id, i) => states.set(id, st[i]));
    }
    // a cluster only becomes Initialized in step(), which then checks it: only the clusters of HSMs that become
    // Active here can change state
    for (const [id, st] of states) {
      if (st !== 'ACTIVE') continue;
      for (const c of this.book.activate(id)) if (c.state === 'Initialized') c.state = 'Active';
    }
  }
}

/** The time bins of a key's use chart: bin width `step` (ms: 1 h, 3 h, 6 h, 12 h, 1 day, 1 week, 30 days or whole days) so the span fits `bins` bins. */
function usageBins(first: number, last: number, bins: number): { start: number; step: number; nb: number } {
  const span = Math.max(36e5, last - first);
  const step =
    [36e5, 108e5, 216e5, 432e5, 864e5, 6048e5, 2592e6].find((x) => span / x <= bins) ??
    Math.ceil(span / bins / 864e5) * 864e5;
  const start = Math.floor(first / step) * step;
  return { start, step, nb: Math.floor((last - start) / step) + 1 };
}

type PrincipalUse = KeyDetail['principalsUsed'][number];
type AccountUse = KeyDetail['accounts'][number];

/** A key's calls tallied per operation (and time bin), principal, account and errorCode: what keyDetail shows. */
class KeyUseTally {
  readonly byOp = new Map<string, number[]>();
  readonly total = new Map<string, number>();
  readonly principals = new Map<string, PrincipalUse>();
  readonly accounts = new Map<string, AccountUse>();
  readonly failures = new Map<string, { errorCode: string; count: number; eventNames: Set<string> }>();

  constructor(
    private readonly ix: EventTable,
    /** The key's owner account ('' unknown): a caller of another account is cross-account. */
    private readonly owner: string,
    private readonly bins: { start: number; step: number; nb: number },
  ) {}

  /** Counts one call of the key (rows in time order). */
  add(r: number, op: string, p: string, acc: string, err: string): void {
    const { start, step, nb } = this.bins;
    this.total.set(op, (this.total.get(op) ?? 0) + 1);
    let arr = this.byOp.get(op);
    if (!arr) this.byOp.set(op, (arr = new Array(nb).fill(0)));
    const b = Math.floor((this.ix.timeOf(r) - start) / step);
    if (b >= 0 && b < nb) arr[b]++;
    this.addPrincipal(r, p, acc, err);
    const key = acc || '(unknown)';
    let aa = this.accounts.get(key);
    if (!aa) this.accounts.set(key, (aa = { account: key, calls: 0, failures: 0 }));
    aa.calls++;
    if (!err) return;
    aa.failures++;
    let fc = this.failures.get(err);
    if (!fc) this.failures.set(err, (fc = { errorCode: err, count: 0, eventNames: new Set() }));
    fc.count++;
    fc.eventNames.add(op);
  }

  private addPrincipal(r: number, p: string, acc: string, err: string): void {
    const t = this.ix.timeOf(r);
    let pp = this.principals.get(p);
    if (!pp) {
      const crossAccount = !!acc && !!this.owner && acc !== this.owner;
      pp = { principal: p, account: acc, calls: 0, failures: 0, crossAccount, first: t, last: t };
      this.principals.set(p, pp);
    }
    pp.calls++;
    if (err) pp.failures++;
    pp.last = t;
  }

  /** The six most used operations' counts per bin, and `other` for the rest. */
  series(): { eventName: string; counts: number[] }[] {
    const top = [...this.total.entries()].sort((x, y) => y[1] - x[1]);
    const series = top.slice(0, 6).map(([op]) => ({ eventName: op, counts: this.byOp.get(op)! }));
    if (top.length > 6) {
      const other = new Array(this.bins.nb).fill(0);
      for (const [op] of top.slice(6)) this.byOp.get(op)!.forEach((c, i) => (other[i] += c));
      series.push({ eventName: 'other', counts: other });
    }
    return series;
  }
}

/** A key's page from an analysis: lifecycle, use over time by operation, principals, accounts, failures. */
export function keyDetail(ix: EventTable, a: KmsAnalysis, arn: string, bins = 60): KeyDetail | null {
  const s = a.keys.find((k) => k.arn === arn);
  if (!s) return null;
  const ki = a.keyIndexByArn.get(arn) ?? -1;
  const rows: number[] = [];
  const order = ix.sortedByTime();
  for (let k = 0; k < order.length; k++) if (a.keyOfRow[order[k]] === ki) rows.push(order[k]);
  const names = ix.column('eventName');
  const errs = ix.column('errorCode');
  const princ = ix.column('principal');
  const acct = ix.column('accountId');
  // rows are in time order with unreadable times (NaN) last: the chart spans the readable ones (they are
  // counted, in no bin)
  const timed = rows.filter((r) => Number.isFinite(ix.timeOf(r)));
  const first = timed.length ? ix.timeOf(timed[0]) : 0;
  const last = timed.length ? ix.timeOf(timed[timed.length - 1]) : 0;
  const b = usageBins(first, last, bins);
  const tally = new KeyUseTally(ix, s.account, b);
  for (const r of rows) tally.add(r, names.at(r), princ.at(r), acct.at(r), errs.at(r));
  return {
    ...s,
    lifecycle: a.lifecycles.get(arn) ?? [],
    usage: { start: b.start, step: b.step, series: tally.series() },
    principalsUsed: [...tally.principals.values()].sort((x, y) => y.calls - x.calls),
    accounts: [...tally.accounts.values()].sort((x, y) => y.calls - x.calls),
    failuresByCode: [...tally.failures.values()]
      .map((x) => ({ errorCode: x.errorCode, count: x.count, eventNames: [...x.eventNames] }))
      .sort((x, y) => y.count - x.count),
  };
}

/** One principal group's summary while its rows are counted: accounts, keys, operations and source IPs by code. */
interface PrincipalAgg {
  s: PrincipalSummary;
  accounts: Set<number>;
  keys: Set<number>;
  ops: Map<number, number>;
  ips: Map<number, number>;
}

function newPrincipalAgg(principal: string, type: string): PrincipalAgg {
  return {
    s: {
      principal,
      type,
      accounts: [],
      keys: 0,
      calls: 0,
      failures: 0,
      operations: [],
      sourceIPs: [],
      first: Infinity,
      last: -Infinity,
    },
    accounts: new Set(),
    keys: new Set(),
    ops: new Map(),
    ips: new Map(),
  };
}

/** A principal's summary from its aggregate: accounts, key count, its six top operations and five top source IPs. */
function principalSummary(G: PrincipalAgg, acct: EventColumn, names: EventColumn, ips: EventColumn): PrincipalSummary {
  G.s.accounts = [...G.accounts].map((c) => acct.text(c)).filter(Boolean);
  G.s.keys = G.keys.size;
  G.s.operations = [...G.ops.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([c, count]) => ({ eventName: names.text(c), count }));
  G.s.sourceIPs = [...G.ips.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([c]) => ips.text(c))
    .filter(Boolean);
  return G.s;
}

/**
 * Principals: one row per principal (an assumed role's sessions are grouped under the role, derived from the
 * session ARN `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` → `arn:aws:iam::ACCOUNT:role/ROLE`).
 */
export function analyzePrincipals(ix: EventTable, keyOfRow: Int32Array | null): PrincipalSummary[] {
  const princ = ix.column('principal');
  const groupOf = Array.from({ length: princ.size }, (_, c) => principalGroup(princ.text(c)));
  const type = ix.column('identityType');
  const acct = ix.column('accountId');
  const names = ix.column('eventName');
  const errs = ix.column('errorCode');
  const ips = ix.column('sourceIPAddress');
  const groups = new Map<string, PrincipalAgg>();
  for (let r = 0; r < ix.n; r++) {
    const g = groupOf[princ.codes[r]] || '(none)';
    let G = groups.get(g);
    if (!G) groups.set(g, (G = newPrincipalAgg(g, type.at(r))));
    const s = G.s;
    s.calls++;
    if (errs.codes[r] !== undefined && errs.at(r)) s.failures++;
    const t = ix.timeOf(r);
    if (t < s.first) s.first = t;
    if (t > s.last) s.last = t;
    G.accounts.add(acct.codes[r]);
    if (keyOfRow && keyOfRow[r] >= 0) G.keys.add(keyOfRow[r]);
    G.ops.set(names.codes[r], (G.ops.get(names.codes[r]) ?? 0) + 1);
    G.ips.set(ips.codes[r], (G.ips.get(ips.codes[r]) ?? 0) + 1);
  }
  return [...groups.values()].map((G) => principalSummary(G, acct, names, ips)).sort((a, b) => b.calls - a.calls);
}
