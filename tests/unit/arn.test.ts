import { describe, expect, it } from 'vitest';
import {
  accountOf,
  isKmsKeyArn,
  kmsKeyArn,
  parseKmsAliasArn,
  parseKmsKeyArn,
  parseRoleArn,
  parseTrailArn,
  roleOfSession,
} from '../../src/lib/cloudtrail/arn';

const KEY = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

describe('ARN parsing (cloudtrail/arn.ts)', () => {
  it('splits and builds KMS key and alias ARNs, in any partition', () => {
    expect(parseKmsKeyArn(KEY)).toEqual({
      region: 'us-east-1',
      account: '111122223333',
      keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
    });
    expect(parseKmsKeyArn('arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/mrk-1')?.keyId).toBe('mrk-1');
    expect(isKmsKeyArn(KEY)).toBe(true);
    expect(isKmsKeyArn('arn:aws:kms:us-east-1:111122223333:alias/app')).toBe(false);
    expect(parseKmsAliasArn('arn:aws:kms:us-east-1:111122223333:alias/app/x')).toEqual({
      region: 'us-east-1',
      account: '111122223333',
      alias: 'alias/app/x',
    });
    expect(parseKmsKeyArn('1234abcd-12ab-34cd-56ef-1234567890ab')).toBeNull();
    expect(kmsKeyArn('us-east-1', '111122223333', '1234abcd-12ab-34cd-56ef-1234567890ab')).toBe(KEY);
  });

  it('reads accounts, roles of sessions, role and trail ARNs', () => {
    expect(accountOf('111122223333')).toBe('111122223333');
    expect(accountOf('arn:aws:iam::444455556666:root')).toBe('444455556666');
    expect(accountOf('arn:aws:s3:::bucket')).toBe('');
    expect(roleOfSession('arn:aws:sts::111122223333:assumed-role/Admin/alice')).toBe(
      'arn:aws:iam::111122223333:role/Admin',
    );
    expect(roleOfSession('arn:aws-cn:sts::111122223333:assumed-role/Admin/alice')).toBe(
      'arn:aws-cn:iam::111122223333:role/Admin',
    );
    expect(roleOfSession('arn:aws:iam::111122223333:user/bob')).toBeNull();
    expect(parseRoleArn('arn:aws:iam::111122223333:role/ops/Admin')).toEqual({
      account: '111122223333',
      role: 'ops/Admin',
    });
    expect(parseTrailArn('arn:aws:cloudtrail:eu-west-1:111122223333:trail/main')).toEqual({
      region: 'eu-west-1',
      account: '111122223333',
      name: 'main',
    });
    expect(parseTrailArn('main')).toBeNull();
  });
});
