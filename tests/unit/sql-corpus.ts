/**
 * The SQL test corpus: KeyTrail queries whose Athena and CloudTrail Lake translations the SQL tests check (shape in
 * sql.test.ts; counts in DuckDB against KeyTrail's engine over the public samples in sql-duckdb.test.ts).
 */
export const SQL_CORPUS: string[] = [
  // whole statements and values
  'eventName:Decrypt errorCode:AccessDenied*', 'key:1234abcd-12ab-34cd-56ef-1234567890ab (eventName:Decrypt OR eventName:GenerateDataKey) -errorCode:*',
  'key:1234abcd', '"kms:Decrypt"', `userAgent:"O'Brien's tool"`, 'errorCode:""', 'eventName:Generate*Key*', 'requestParameters.keyId:alias/my_key*',
  'errorMessage:*100%*', 'userAgent:*C:\\tools*', `userAgent:*it's*`, 'userAgent:/^aws-cli\\/2/i', 'userAgent:/^Boto3/', "errorMessage:/can't.+key/si",
  'errorCode:*', 'requestParameters.grantTokens:*', 'resources:*', 'resources.accountId:*', 'userIdentity.sessionContext:*', 'requestParameters:*', 'readOnly:*',
  // boolean structure
  'NOT eventName:Decrypt', '-(eventName:Decrypt OR errorCode:*)', 'NOT NOT region:us-east-1', 'eventSource:kms.amazonaws.com (eventName:Decrypt OR eventName:Encrypt)',
  'eventName:Decrypt errorCode:AccessDenied OR eventName:Encrypt', 'account:111122223333', 'account:111122223333 OR ip:203.0.113.5',
  // times
  'eventTime>=2024-03-01T12:00Z', 'time<2024-03-02', 'eventtime<=2024-03-02T00:00:00+01:00', 'userIdentity.sessionContext.attributes.creationDate<2021-01-01',
  'requestParameters.numberOfBytes>=64', 'additionalEventData.bytesTransferredOut>-1.5', 'last:24h', 'eventTime:2020-09-14*',
  // fields
  'userIdentity.sessionContext.sessionIssuer.arn:arn:aws:iam::111122223333:role/Admin', 'USERIDENTITY.SessionContext.sessionissuer.ARN:*',
  'userIdentity.type:AssumedRole', 'tlsDetails.tlsVersion:TLSv1.2', 'requestParameters.encryptionContext.Department:Finance',
  'responseElements.keyMetadata.keyState:PendingDeletion', 'requestParameters.x-amz-acl:private', 'additionalEventData.customerMasterKey:*',
  'resources.type:AWS::KMS::Key', 'resources.ARN:*key/1234*', 'principal:*Admin*', 'ip:203.0.113.5', 'region:eu-west-1', 'key:alias/prod_data',
  'key:arn:aws:kms:us-east-1:111122223333:key/1234abcd', 'key:1234*', 'EventId:5a4b3c2d-0000-4000-8000-000000000001', 'EventName:Decrypt',
  'EventSource:kms.amazonaws.com', 'ReadOnly:true', 'ReadOnly:false', 'Username:alice', 'ResourceType:AWS::KMS::Key', 'ResourceName:arn:aws:kms:*',
  'AccessKeyId:AKIAIOSFODNN7EXAMPLE', 'insightDetails.state:Start', '-userIdentity.nosuch:x',
  // free text
  'Decrypt', '"50%_off*"', 'Gen*Key', '/kms:(En|De)crypt/', "it's", 'eventSource:kms.amazonaws.com deny',
  // well-formedness list
  '', '"a \'quoted\' phrase"', '/x(y)?/i', '*', 'eventName:*crypt', 'eventName:/^De/i', '-errorCode:*', 'NOT (a:1 OR b:2)', 'account:1 OR key:2',
  'key:alias/x_y', 'principal:*', 'ip:1.2.3.4', 'region:us-east-1', 'eventTime>2024-01-01', 'requestParameters.n<=3', 'last:15m', 'resources.ARN:*',
  'userIdentity.sessionContext.attributes.mfaAuthenticated:true', 'unknown.field:1', `userAgent:"it's"`, 'Username:bob',
  // the disagreements measured in issue 13
  'responseElements:Success', 'requestParameters:*instance*', 'requestParameters.instancesSet.items.instanceId:*', 'resources.arn:*',
  // public-sample values (non-zero counts)
  'eventSource:s3.amazonaws.com', 'eventName:ListBuckets OR eventName:GetObject', 'userIdentity.type:IAMUser', 'errorCode:AccessDenied',
  'sourceIPAddress:*', 'principal:arn:aws:iam::*', 'responseElements:*', '-responseElements:*', 'requestParameters.bucketName:*',
  'additionalEventData:*', 'requestParameters.instancesSet.items.instanceId:i-*', 'responseElements.instancesSet:*', 'userIdentity:*',
  'eventType:AwsApiCall', 'recipientAccountId:*', 'account:*', 'key:*', 'readOnly:false', 'userIdentity.sessionContext.attributes.mfaAuthenticated:false',
  'eventTime>=2020-09-14', 'eventTime<2020-01-01', 'requestParameters.maxResults>10', 'kms', 'AccessDenied', 'bucket', '/^i-[0-9a-f]+$/',
  'resources.type:*', 'userIdentity.invokedBy:*', 'errorMessage:*not authorized*', 'tlsDetails:*', 'vpcEndpointId:*',
  'Username:*', 'username:pedro', 'Username:root', 'eventID:A3D34FAF-076E-44FF-B2F7-605D76705A81', 'eventID:a3d34faf-076e-44ff-b2f7-605d76705a81',
  'principal:AWSAccount*', 'responseElements.credentials.accessKeyId:ASIA*', 'requestParameters.roleSessionName:i-*', 'pedro', '/^AIDA/',
];
