/*
 * Amazon Resource Names (ARNs) as CloudTrail records them: the one place KeyTrail splits or builds them.
 * Format `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` ("Identify AWS resources with Amazon Resource Names
 * (ARNs)", AWS Identity and Access Management User Guide); partitions `aws`, `aws-cn`, `aws-us-gov`, ...
 * KMS key and alias ARNs: "Key identifiers (KeyId)", AWS KMS Developer Guide.
 */

const ACCOUNT_IN_ARN = /^arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:(\d{12}):/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:([^:]*):(\d{12}):key\/(.+)$/;
const KMS_ALIAS_ARN = /^arn:aws[a-z-]*:kms:([^:]*):(\d{12}):(alias\/.+)$/;
const ASSUMED_ROLE_ARN = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\//;
const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(.+)$/;
const TRAIL_ARN = /^arn:aws[a-z-]*:cloudtrail:([a-z0-9-]+):(\d{12}):trail\/(.+)$/;

/** The account of an ARN or a bare 12-digit account ID (a principal may be either); '' when none. */
export function accountOf(principal: string): string {
  if (/^\d{12}$/.test(principal)) return principal;
  const m = ACCOUNT_IN_ARN.exec(principal);
  return m ? m[1] : '';
}

/** True for a KMS key ARN (`arn:aws:kms:REGION:ACCOUNT:key/KEY-ID`). */
export function isKmsKeyArn(s: string): boolean {
  return KMS_KEY_ARN.test(s);
}

/** Splits a KMS key ARN; null when `s` is not one. */
export function parseKmsKeyArn(s: string): { region: string; account: string; keyId: string } | null {
  const m = KMS_KEY_ARN.exec(s);
  return m ? { region: m[1], account: m[2], keyId: m[3] } : null;
}

/** Splits a KMS alias ARN (`arn:aws:kms:REGION:ACCOUNT:alias/NAME`, name with its `alias/` prefix); null otherwise. */
export function parseKmsAliasArn(s: string): { region: string; account: string; alias: string } | null {
  const m = KMS_ALIAS_ARN.exec(s);
  return m ? { region: m[1], account: m[2], alias: m[3] } : null;
}

/** The KMS key ARN of a key ID in a region and account, in the `aws` partition (as CloudTrail's key ARNs are). */
export function kmsKeyArn(region: string, account: string, keyId: string): string {
  return `arn:aws:kms:${region}:${account}:key/${keyId}`;
}

/**
 * The role of an assumed-role session ARN (`arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION` →
 * `arn:aws:iam::ACCOUNT:role/ROLE`, the session issuer without its path); null for any other string.
 */
export function roleOfSession(s: string): string | null {
  const m = ASSUMED_ROLE_ARN.exec(s);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : null;
}

/** Splits an IAM role ARN (`arn:aws:iam::ACCOUNT:role/PATH/NAME`, `role` keeps the path); null otherwise. */
export function parseRoleArn(s: string): { account: string; role: string } | null {
  const m = IAM_ROLE_ARN.exec(s);
  return m ? { account: m[1], role: m[2] } : null;
}

/** Splits a trail ARN (`arn:aws:cloudtrail:REGION:ACCOUNT:trail/NAME`); null when `s` is not one. */
export function parseTrailArn(s: string): { region: string; account: string; name: string } | null {
  const m = TRAIL_ARN.exec(s);
  return m ? { region: m[1], account: m[2], name: m[3] } : null;
}
