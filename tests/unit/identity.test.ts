/**
 * Caller classification (src/lib/cloudtrail/identity.ts): every userIdentity type the CloudTrail User Guide
 * documents, long-term and temporary credentials, MFA, console / CLI / SDK / AWS service, and the operations
 * AWS KMS runs itself. Real shapes come from the public CloudTrail, IAM and KMS documentation examples
 * (../shared/datasets/public, read in place when present); the rest are fixtures written after the
 * "CloudTrail userIdentity element" page.
 */
import { describe, expect, it } from 'vitest';
import {
  callerLabel,
  classifyCaller,
  IDENTITY_TYPES,
  KMS_INTERNAL_OPERATIONS,
  type CallerClass,
} from '../../src/lib/cloudtrail/identity';
import type { CloudTrailEvent, UserIdentity } from '../../src/lib/cloudtrail/event';
import { datasetEvents, hasDataset } from './analysis-helpers';

const CT = 'awsdocs-aws-cloudtrail-user-guide';
const IAM = 'awsdocs-iam-user-guide';
const KMS = 'awsdocs-aws-kms-developer-guide';

/** An event with this caller. */
function ev(userIdentity: UserIdentity | undefined, o: Partial<CloudTrailEvent> = {}): CloudTrailEvent {
  return {
    eventVersion: '1.08',
    eventTime: '2024-03-01T10:00:00Z',
    eventSource: 'kms.amazonaws.com',
    eventName: 'DescribeKey',
    awsRegion: 'us-west-2',
    sourceIPAddress: '192.0.2.0',
    userAgent: 'aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64 command/kms.describe-key',
    ...(userIdentity ? { userIdentity } : {}),
    eventType: 'AwsApiCall',
    recipientAccountId: '111122223333',
    ...o,
  };
}

/** The single event of a documentation example file (or its first record). */
const doc = (folder: string, file: string) => datasetEvents(folder, file)[0];
/** A documented `userIdentity` fragment wrapped in an event. */
const fragment = (n: number, o: Partial<CloudTrailEvent> = {}) => {
  const f = datasetEvents(
    CT,
    `fragments/cloudtrail-event-reference-user-identity__snippet0${n}.fragment.json`,
  )[0] as unknown as { userIdentity: UserIdentity };
  return ev(f.userIdentity, o);
};

const is = (c: CallerClass, want: Partial<CallerClass>) => expect(c).toMatchObject(want);

describe('userIdentity types (fixtures after "CloudTrail userIdentity element")', () => {
  it('Root with a long-term access key, from the CLI', () => {
    const c = classifyCaller(
      ev({
        type: 'Root',
        principalId: '111122223333',
        arn: 'arn:aws:iam::111122223333:root',
        accountId: '111122223333',
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      }),
    );
    expect(c).toEqual({ type: 'Root', credentials: 'long-term', mfa: '', via: 'CLI', invokedBy: '' });
    expect(callerLabel(c)).toBe('Root · long-term · CLI');
  });

  it('IAMUser with a long-term key, no MFA, from an SDK', () => {
    const c = classifyCaller(
      ev(
        {
          type: 'IAMUser',
          principalId: 'AIDAJ45Q7YFFAREXAMPLE',
          arn: 'arn:aws:iam::111122223333:user/Alice',
          accountId: '111122223333',
          accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
          userName: 'Alice',
        },
        {
          userAgent:
            'Boto3/1.34.51 md/Botocore#1.34.51 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.8 cfg/retry-mode#legacy Botocore/1.34.51',
        },
      ),
    );
    expect(c).toEqual({ type: 'IAMUser', credentials: 'long-term', mfa: '', via: 'SDK', invokedBy: '' });
  });

  it('AssumedRole with temporary credentials and MFA (string and boolean)', () => {
    const role = (mfa: unknown): UserIdentity => ({
      type: 'AssumedRole',
      principalId: 'AROAIDPPEZS35WEXAMPLE:Admin',
      arn: 'arn:aws:sts::111122223333:assumed-role/Admin/Admin',
      accountId: '111122223333',
      accessKeyId: 'ASIAIOSFODNN7EXAMPLE',
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: 'AROAIDPPEZS35WEXAMPLE',
          arn: 'arn:aws:iam::111122223333:role/Admin',
          accountId: '111122223333',
          userName: 'Admin',
        },
        attributes: { mfaAuthenticated: mfa as string, creationDate: '2024-03-01T09:00:00Z' },
      },
    });
    is(classifyCaller(ev(role('true'))), { type: 'AssumedRole', credentials: 'temporary', mfa: 'MFA' });
    is(classifyCaller(ev(role(true))), { mfa: 'MFA' });
    is(classifyCaller(ev(role('false'))), { mfa: 'no MFA' });
    is(classifyCaller(ev(role(false))), { mfa: 'no MFA' });
    is(classifyCaller(ev(role(undefined))), { mfa: '' });
    expect(callerLabel(classifyCaller(ev(role('true'))))).toBe('AssumedRole · temporary · MFA · CLI');
  });

  it('FederatedUser (GetFederationToken)', () => {
    const c = classifyCaller(
      ev({
        type: 'FederatedUser',
        principalId: '111122223333:Bob',
        arn: 'arn:aws:sts::111122223333:federated-user/Bob',
        accountId: '111122223333',
        accessKeyId: 'ASIAIOSFODNN7EXAMPLE',
        sessionContext: {
          sessionIssuer: {
            type: 'IAMUser',
            principalId: 'AIDAJ45Q7YFFAREXAMPLE',
            arn: 'arn:aws:iam::111122223333:user/Alice',
            accountId: '111122223333',
            userName: 'Alice',
          },
          attributes: { mfaAuthenticated: 'false', creationDate: '2024-03-01T09:00:00Z' },
        },
      }),
    );
    expect(c).toEqual({ type: 'FederatedUser', credentials: 'temporary', mfa: 'no MFA', via: 'CLI', invokedBy: '' });
  });

  it('AWSService (a service using a key for the customer)', () => {
    const c = classifyCaller(
      ev(
        { type: 'AWSService', invokedBy: 'secretsmanager.amazonaws.com' },
        {
          eventName: 'GenerateDataKey',
          userAgent: 'secretsmanager.amazonaws.com',
          sourceIPAddress: 'secretsmanager.amazonaws.com',
        },
      ),
    );
    expect(c).toEqual({
      type: 'AWSService',
      credentials: '',
      mfa: '',
      via: 'AWS service',
      invokedBy: 'secretsmanager.amazonaws.com',
    });
    expect(callerLabel(c)).toBe('AWSService · via secretsmanager.amazonaws.com');
    // an AWSService caller without invokedBy is still an AWS service
    is(classifyCaller(ev({ type: 'AWSService' }, { userAgent: 'AWS Internal' })), {
      via: 'AWS service',
      invokedBy: '',
    });
    is(classifyCaller(ev({ type: 'AWSService' }, { userAgent: undefined })), { via: 'AWS service', invokedBy: '' });
  });

  it('AWSAccount (a call from another account, as the resource owner sees it)', () => {
    is(
      classifyCaller(
        ev(
          { type: 'AWSAccount', principalId: 'AROAEXAMPLE:session', accountId: '999988887777' },
          { userAgent: 'aws-sdk-java/1.12.600 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS java/17.0.9' },
        ),
      ),
      { type: 'AWSAccount', credentials: '', via: 'SDK' },
    );
  });

  it('SAMLUser, WebIdentityUser, IdentityCenterUser, Directory', () => {
    is(
      classifyCaller(
        ev({
          type: 'SAMLUser',
          principalId: 'SampleUkh1i4+ExamplexL/jEvs=:SamlExample',
          userName: 'SamlExample',
          identityProvider: 'bdGOnTesti4+ExamplexL/jEvs=',
        }),
      ),
      { type: 'SAMLUser', via: 'CLI' },
    );
    is(
      classifyCaller(
        ev({
          type: 'WebIdentityUser',
          principalId: 'accounts.google.com:app-id.apps.googleusercontent.com:user-id',
          userName: 'user-id',
          identityProvider: 'accounts.google.com',
        }),
      ),
      { type: 'WebIdentityUser' },
    );
    const ic = classifyCaller(
      ev(
        {
          type: 'IdentityCenterUser',
          accountId: '111122223333',
          onBehalfOf: {
            userId: '544894e8-80c1-707f-60e3-3ba6510dfac1',
            identityStoreArn: 'arn:aws:identitystore::111122223333:identitystore/d-9067642ac7',
          },
          credentialId: 'EXAMPLEVHULjJdTUdPJfofVa1sufHDoj7aYcOYcxFVllWR_Whr1fEXAMPLE',
        },
        {
          userAgent:
            'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36',
          eventSource: 'sso.amazonaws.com',
          eventName: 'ListApplications',
        },
      ),
    );
    expect(ic).toEqual({ type: 'IdentityCenterUser', credentials: '', mfa: '', via: 'console', invokedBy: '' });
    is(
      classifyCaller(
        ev({ type: 'Directory', principalId: 'S-1-5-21-EXAMPLE', accountId: '111122223333', userName: 'Alice' }),
      ),
      { type: 'Directory' },
    );
  });

  it('Unknown: documented as Unknown, an unrecognised type, or no userIdentity at all', () => {
    is(classifyCaller(ev({ type: 'Unknown', principalId: 'EXAMPLE', userName: 'alice@example.com' })), {
      type: 'Unknown',
    });
    is(classifyCaller(ev({ type: 'Martian', accountId: '111122223333' })), { type: 'Unknown' });
    is(classifyCaller(ev(undefined)), { type: 'Unknown', credentials: '', mfa: '', invokedBy: '' });
    // never throws on malformed identities
    const odd = ev(undefined, { userIdentity: 'root' as unknown as UserIdentity, userAgent: 42 as unknown as string });
    expect(classifyCaller(odd)).toEqual({ type: 'Unknown', credentials: '', mfa: '', via: 'other', invokedBy: '' });
    is(
      classifyCaller(
        ev({
          type: 'IAMUser',
          accessKeyId: 17 as unknown as string,
          sessionContext: null as unknown as UserIdentity['sessionContext'],
        }),
      ),
      { credentials: '', mfa: '' },
    );
  });

  it('lists every documented type', () => {
    for (const t of [
      'Root',
      'IAMUser',
      'AssumedRole',
      'FederatedUser',
      'AWSService',
      'AWSAccount',
      'SAMLUser',
      'WebIdentityUser',
      'IdentityCenterUser',
      'Unknown',
    ]) {
      expect(IDENTITY_TYPES).toContain(t);
      expect(classifyCaller(ev({ type: t })).type).toBe(t);
    }
  });
});

describe('credentials and how the call was made', () => {
  const user: UserIdentity = {
    type: 'IAMUser',
    principalId: 'AIDAEXAMPLE',
    arn: 'arn:aws:iam::111122223333:user/Alice',
    accountId: '111122223333',
    userName: 'Alice',
  };

  it('AKIA is long-term, ASIA temporary, anything else nothing', () => {
    is(classifyCaller(ev({ ...user, accessKeyId: 'AKIAIOSFODNN7EXAMPLE' })), { credentials: 'long-term' });
    is(classifyCaller(ev({ ...user, accessKeyId: 'ASIAIOSFODNN7EXAMPLE' })), { credentials: 'temporary' });
    is(classifyCaller(ev({ ...user, accessKeyId: '' })), { credentials: '' });
    is(classifyCaller(ev({ ...user, accessKeyId: 'EXAMPLE_KEY_ID' })), { credentials: '' });
    is(classifyCaller(ev({ ...user, accessKeyId: 'akiaiosfodnn7example' })), { credentials: '' });
    // other IAM unique ID prefixes are not access keys
    for (const id of ['ASCAEXAMPLE', 'AIDAEXAMPLE', 'AROAEXAMPLE', 'ANPAEXAMPLE'])
      is(classifyCaller(ev({ ...user, accessKeyId: id })), { credentials: '' });
  });

  it('console: sessionCredentialFromConsole, sign-in, console user agents, browsers', () => {
    const asia = { ...user, accessKeyId: 'ASIAIOSFODNN7EXAMPLE' };
    is(classifyCaller(ev(asia, { sessionCredentialFromConsole: 'true', userAgent: 'AWS Internal' })), {
      via: 'console',
    });
    is(
      classifyCaller(
        ev(asia, { sessionCredentialFromConsole: true, userAgent: 'aws-internal/3 aws-sdk-java/1.12.600' }),
      ),
      { via: 'console' },
    );
    is(classifyCaller(ev(asia, { userAgent: 'console.amazonaws.com' })), { via: 'console' });
    is(classifyCaller(ev(asia, { userAgent: 'console.ec2.amazonaws.com' })), { via: 'console' });
    is(classifyCaller(ev({ ...asia, invokedBy: 'signin.amazonaws.com' }, { userAgent: 'signin.amazonaws.com' })), {
      via: 'console',
      invokedBy: 'signin.amazonaws.com',
    });
    is(
      classifyCaller(ev(asia, { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0' })),
      { via: 'console' },
    );
    is(classifyCaller(ev(asia, { userAgent: 'AWSConsole' })), { via: 'console' });
    is(
      classifyCaller(ev(asia, { userAgent: 'EC2ConsoleFrontend, aws-internal/3 aws-sdk-java/1.11.848 Linux/4.9.217' })),
      { via: 'console' },
    );
    // issue 11: an aws-internal/* user agent is AWS itself (a console backend or service), not an SDK the caller ran
    is(
      classifyCaller(
        ev(asia, {
          userAgent:
            'aws-internal/3 aws-sdk-java/1.12.600 Linux/5.10 OpenJDK_64-Bit_Server_VM/25.382-b06 java/1.8.0_382',
        }),
      ),
      { via: 'AWS service' },
    );
    is(classifyCaller(ev(asia, { userAgent: 'aws-internal/3' })), { via: 'AWS service' });
    is(classifyCaller(ev(asia, { userAgent: 'aws-sdk-java/1.12.600 Linux/5.10' })), { via: 'SDK' });
    // sessionCredentialFromConsole "false" is not the console
    is(classifyCaller(ev(asia, { sessionCredentialFromConsole: 'false' })), { via: 'CLI' });
    // the console label names no service even when one is recorded
    expect(
      callerLabel(
        classifyCaller(ev({ ...asia, invokedBy: 'signin.amazonaws.com' }, { userAgent: 'signin.amazonaws.com' })),
      ),
    ).toBe('IAMUser · temporary · console');
  });

  it('CLI and SDK user agents', () => {
    is(
      classifyCaller(ev(user, { userAgent: 'aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64 command/kms.encrypt' })),
      { via: 'CLI' },
    );
    is(classifyCaller(ev(user, { userAgent: 'aws-cli/1.16.96 Python/3.6.0 Windows/10 botocore/1.12.86' })), {
      via: 'CLI',
    });
    // S3 records the user agent in brackets
    is(classifyCaller(ev(user, { userAgent: '[aws-cli/1.11.10 Python/2.7.8 Linux/3.2.45 botocore/1.4.67]' })), {
      via: 'CLI',
    });
    for (const ua of [
      'Boto3/1.34.51 md/Botocore#1.34.51 ua/2.0 os/linux#6.1 lang/python#3.11.8',
      'aws-sdk-java/1.12.600 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS java/17.0.9',
      'aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.0 md/GOOS#linux md/GOARCH#amd64 api/kms#1.29.1',
      'aws-sdk-js/3.525.0 ua/2.0 os/linux#6.1 lang/js md/nodejs#20.11.1 api/kms#3.525.0',
      '[Boto3/1.34.51 md/Botocore#1.34.51]',
    ])
      is(classifyCaller(ev(user, { userAgent: ua })), { via: 'SDK' });
    is(classifyCaller(ev(user, { userAgent: 'curl/8.5.0' })), { via: 'other' });
    is(classifyCaller(ev(user, { userAgent: undefined })), { via: 'other' });
  });

  it('invokedBy: a service acting for a principal', () => {
    const c = classifyCaller(
      ev(
        { ...user, accessKeyId: 'ASIAIOSFODNN7EXAMPLE', invokedBy: 'cloudformation.amazonaws.com' },
        { userAgent: 'cloudformation.amazonaws.com' },
      ),
    );
    expect(c).toEqual({
      type: 'IAMUser',
      credentials: 'temporary',
      mfa: '',
      via: 'AWS service',
      invokedBy: 'cloudformation.amazonaws.com',
    });
    expect(callerLabel(c)).toBe('IAMUser · temporary · via cloudformation.amazonaws.com');
    // a service user agent without invokedBy
    is(classifyCaller(ev(user, { userAgent: 'kms.amazonaws.com' })), { via: 'AWS service', invokedBy: '' });
    is(classifyCaller(ev(user, { userAgent: 'AWS Internal' })), { via: 'AWS service' });
  });
});

describe('operations AWS KMS runs itself', () => {
  const internal: UserIdentity = { accountId: '111122223333', invokedBy: 'AWS Internal' };
  const service = (eventName: string, o: Partial<CloudTrailEvent> = {}) =>
    ev(internal, {
      eventName,
      eventType: 'AwsServiceEvent',
      userAgent: 'AWS Internal',
      sourceIPAddress: 'AWS Internal',
      requestParameters: null,
      responseElements: null,
      ...o,
    });

  it('DeleteExpiredKeyMaterial, DeleteKey after the waiting period, RotateKey, SynchronizeMultiRegionKey', () => {
    expect([...KMS_INTERNAL_OPERATIONS].sort()).toEqual([
      'DeleteExpiredKeyMaterial',
      'DeleteKey',
      'RotateKey',
      'SynchronizeMultiRegionKey',
    ]);
    for (const op of KMS_INTERNAL_OPERATIONS) {
      const c = classifyCaller(service(op));
      expect(c, op).toEqual({
        type: 'Unknown',
        credentials: '',
        mfa: '',
        via: 'KMS internal',
        invokedBy: 'AWS Internal',
      });
      expect(callerLabel(c)).toBe('Unknown · KMS internal');
    }
    // recorded with an AWSService identity and no invokedBy (whatever the eventType)
    is(
      classifyCaller(
        ev({ type: 'AWSService' }, { eventName: 'RotateKey', eventType: 'AwsApiCall', userAgent: 'AWS Internal' }),
      ),
      { type: 'AWSService', via: 'KMS internal' },
    );
    // no userIdentity and no user agent
    is(classifyCaller(ev(undefined, { eventName: 'DeleteKey', eventType: 'AwsApiCall', userAgent: undefined })), {
      via: 'KMS internal',
    });
    // SynchronizeMultiRegionKey as the KMS guide shows it: eventType AwsApiCall, no type, invokedBy "AWS Internal"
    is(
      classifyCaller(
        ev(internal, { eventName: 'SynchronizeMultiRegionKey', eventType: 'AwsApiCall', userAgent: 'AWS Internal' }),
      ),
      { via: 'KMS internal' },
    );
  });

  it("near-misses: a person's call, another service's operation of the same name, a service event of another KMS operation", () => {
    const alice: UserIdentity = {
      type: 'IAMUser',
      principalId: 'AIDAEXAMPLE',
      arn: 'arn:aws:iam::111122223333:user/Alice',
      accountId: '111122223333',
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      userName: 'Alice',
    };
    is(classifyCaller(ev(alice, { eventName: 'RotateKeyOnDemand' })), { via: 'CLI' });
    // AWS Payment Cryptography has a DeleteKey API of its own
    is(classifyCaller(ev(alice, { eventSource: 'payment-cryptography.amazonaws.com', eventName: 'DeleteKey' })), {
      via: 'CLI',
    });
    is(classifyCaller(service('DeleteKey', { eventSource: 'payment-cryptography.amazonaws.com' })), {
      via: 'AWS service',
    });
    is(classifyCaller(service('Decrypt')), { via: 'AWS service' });
    // a principal calling with invokedBy "AWS Internal" is not KMS's own operation
    is(
      classifyCaller(
        ev({ ...alice, invokedBy: 'AWS Internal' }, { eventName: 'DeleteKey', userAgent: 'AWS Internal' }),
      ),
      { type: 'IAMUser', via: 'AWS service' },
    );
  });
});

// The public documentation examples, read in place
describe.skipIf(!hasDataset(CT))('CloudTrail User Guide examples', () => {
  it('userIdentity fragments', () => {
    // snippet01: IAMUser Alice, accessKeyId ""
    expect(classifyCaller(fragment(1))).toMatchObject({ type: 'IAMUser', credentials: '', mfa: '' });
    // snippet02: AssumedRole, mfaAuthenticated "false"
    expect(classifyCaller(fragment(2))).toMatchObject({ type: 'AssumedRole', credentials: '', mfa: 'no MFA' });
    // snippet03: WebIdentityUser (accounts.google.com)
    expect(classifyCaller(fragment(3))).toMatchObject({ type: 'WebIdentityUser', credentials: '' });
    // snippet04: a whole AssumeRole event by an AWSAccount caller, aws-cli user agent
    const s4 = datasetEvents(CT, 'fragments/cloudtrail-event-reference-user-identity__snippet04.fragment.json')[0];
    expect(classifyCaller(s4)).toEqual({ type: 'AWSAccount', credentials: '', mfa: '', via: 'CLI', invokedBy: '' });
  });

  it('console sign-in and API examples', () => {
    // Root console sign-in in a browser
    expect(
      classifyCaller(doc(CT, 'cloudtrail-event-reference-aws-console-sign-in-events__06__ConsoleLogin.json')),
    ).toMatchObject({ type: 'Root', credentials: '', via: 'console' });
    // IAM user console sign-in
    expect(
      classifyCaller(doc(CT, 'cloudtrail-event-reference-aws-console-sign-in-events__02__ConsoleLogin.json')),
    ).toMatchObject({ type: 'IAMUser', via: 'console' });
    // Root EnableMFADevice: accessKeyId "EXAMPLE", mfaAuthenticated "false", user agent Coral/Netty4
    expect(
      classifyCaller(doc(CT, 'cloudtrail-event-reference-aws-console-sign-in-events__09__EnableMFADevice.json')),
    ).toEqual({ type: 'Root', credentials: '', mfa: 'no MFA', via: 'other', invokedBy: '' });
    // StartLogging by IAM user Mary_Major: AKIA key, invokedBy and user agent signin.amazonaws.com
    const sl = classifyCaller(doc(CT, 'cloudtrail-event-reference__01__StartLogging.repaired.json'));
    expect(sl).toEqual({
      type: 'IAMUser',
      credentials: 'long-term',
      mfa: 'no MFA',
      via: 'console',
      invokedBy: 'signin.amazonaws.com',
    });
    expect(callerLabel(sl)).toBe('IAMUser · long-term · no MFA · console');
    // log file examples: "AWSConsole" and "EC2ConsoleBackend, aws-sdk-java/…" user agents are the console;
    // "aws-cli/1.3.2 …" the CLI
    expect(classifyCaller(doc(CT, 'cloudtrail-log-file-examples__05__Records.json'))).toMatchObject({
      type: 'IAMUser',
      via: 'console',
    });
    expect(classifyCaller(doc(CT, 'cloudtrail-log-file-examples__03__Records.json'))).toMatchObject({
      type: 'IAMUser',
      via: 'console',
    });
    expect(classifyCaller(doc(CT, 'cloudtrail-log-file-examples__04__Records.json'))).toMatchObject({
      type: 'IAMUser',
      via: 'CLI',
    });
    // KMS RotateKey as a non-API service event
    expect(classifyCaller(doc(CT, 'non-api-aws-service-events__01__RotateKey.json'))).toMatchObject({
      type: 'Unknown',
      via: 'KMS internal',
      invokedBy: 'AWS Internal',
    });
  });
});

describe.skipIf(!hasDataset(IAM))('IAM User Guide examples', () => {
  it('AWSAccount, SAMLUser, WebIdentityUser, AssumedRole via the CLI and an SDK', () => {
    // AssumeRole by account 777788889999 (AWSAccount), aws-cli user agent
    expect(classifyCaller(doc(IAM, 'cloudtrail-integration__03__AssumeRole.json'))).toMatchObject({
      type: 'AWSAccount',
      via: 'CLI',
    });
    // S3 DeleteBucket: the CLI user agent in brackets, AssumedRole, mfaAuthenticated "false"
    expect(classifyCaller(doc(IAM, 'cloudtrail-integration__05__DeleteBucket.json'))).toMatchObject({
      type: 'AssumedRole',
      mfa: 'no MFA',
      via: 'CLI',
    });
    expect(classifyCaller(doc(IAM, 'cloudtrail-integration__06__AssumeRoleWithSAML.repaired.json'))).toMatchObject({
      type: 'SAMLUser',
      credentials: '',
      via: 'CLI',
    });
    expect(
      classifyCaller(doc(IAM, 'cloudtrail-integration__07__AssumeRoleWithWebIdentity.repaired.json')),
    ).toMatchObject({ type: 'WebIdentityUser', via: 'CLI' });
    // GetUserPolicy from the console (invokedBy signin.amazonaws.com)
    expect(classifyCaller(doc(IAM, 'cloudtrail-integration__01__GetUserPolicy.json'))).toMatchObject({
      type: 'IAMUser',
      credentials: 'long-term',
      via: 'console',
    });
    // CreateAnalyzer: mfaAuthenticated "true", aws-sdk-java
    expect(classifyCaller(doc(IAM, 'logging-using-cloudtrail__01__CreateAnalyzer.repaired.json'))).toMatchObject({
      type: 'AssumedRole',
      mfa: 'MFA',
      via: 'SDK',
    });
    // ConsoleLogin in a browser
    expect(classifyCaller(doc(IAM, 'cloudtrail-integration__09__ConsoleLogin.json'))).toMatchObject({
      type: 'IAMUser',
      via: 'console',
    });
  });
});

describe.skipIf(!hasDataset(KMS))('AWS KMS Developer Guide examples', () => {
  it('KMS internal operations and service callers', () => {
    for (const f of [
      'ct-delete-key__01__DeleteKey.json',
      'ct-delete-key__02__DeleteKey.json',
      'ct-rotatekey__01__RotateKey.json',
      'ct-deleteexpiredkeymaterial__01__DeleteExpiredKeyMaterial.json',
      'fix-keystore__01__DeleteKey.json',
    ]) {
      expect(classifyCaller(doc(KMS, f)), f).toEqual({
        type: 'Unknown',
        credentials: '',
        mfa: '',
        via: 'KMS internal',
        invokedBy: 'AWS Internal',
      });
    }
    // ct-synchronize-multi-region-key__01: logged as AwsApiCall with only accountId and invokedBy "AWS Internal"
    expect(
      classifyCaller(doc(KMS, 'ct-synchronize-multi-region-key__01__SynchronizeMultiRegionKey.json')),
    ).toMatchObject({ via: 'KMS internal' });
    // services-wm__01: WorkMail encrypting for the customer
    expect(classifyCaller(doc(KMS, 'services-wm__01__Encrypt.json'))).toEqual({
      type: 'AWSService',
      credentials: '',
      mfa: '',
      via: 'AWS service',
      invokedBy: 'workmail.eu-west-1.amazonaws.com',
    });
    // ct-createkey__01: IAM user Alice, "EXAMPLE_KEY_ID" is no AKIA/ASIA key, user agent "AWS Internal"
    expect(classifyCaller(doc(KMS, 'ct-createkey__01__CreateKey.json'))).toEqual({
      type: 'IAMUser',
      credentials: '',
      mfa: '',
      via: 'AWS service',
      invokedBy: '',
    });
  });
});
