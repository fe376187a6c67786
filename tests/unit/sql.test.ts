import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseQuery, QuerySyntaxError } from '../../src/lib/query/parser';
import { ATHENA_TABLE_DDL, toSql, type SqlDialect, type SqlOptions } from '../../src/lib/export/sql';
import { SQL_CORPUS } from './sql-corpus';

const MAR1 = Date.UTC(2024, 2, 1);
const MAR2 = Date.UTC(2024, 2, 2);

const sql = (q: string, d: SqlDialect, opts: SqlOptions = {}) => toSql(parseQuery(q), d, opts);

/** The WHERE clause of a query without time range: the conditions, one per line, `WHERE `/`  AND ` removed. */
function where(q: string, d: SqlDialect): string[] {
  const out = sql(q, d);
  const m = /\nWHERE ([\s\S]*?)\nORDER BY/.exec(out);
  if (!m) return [];
  return m[1].split('\n  AND ');
}

/** The single condition of a one-term query. */
const cond = (q: string, d: SqlDialect) => {
  const w = where(q, d);
  expect(w).toHaveLength(1);
  return w[0];
};

/** `--` note lines above the SELECT (of the statement without LIMIT, whose note is tested on its own). */
const notes = (q: string, d: SqlDialect) =>
  sql(q, d, { limit: 0 })
    .split('\n')
    .filter((l) => l.startsWith('-- '));

/** Parentheses balance and string literals close, outside of literals. */
function balanced(text: string): boolean {
  let depth = 0;
  let inStr = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inStr) {
      if (c === "'") {
        if (text[i + 1] === "'") i++;
        else inStr = false;
      }
    } else if (c === "'") inStr = true;
    else if (c === '(') depth++;
    else if (c === ')' && --depth < 0) return false;
  }
  return depth === 0 && !inStr;
}

describe('toSql: whole statements', () => {
  it('Athena: fields, wildcard, time range, descending', () => {
    expect(sql('eventName:Decrypt errorCode:AccessDenied*', 'athena', { from: MAR1, to: MAR2, descending: true })).toBe(
      [
        '-- The "timestamp" partition (the day CloudTrail delivered the log file) limits the S3 objects read; it allows one day of delivery delay after the window.',
        '-- At most 1000 rows (LIMIT 1000): remove the LIMIT to get every matching event.',
        'SELECT',
        '  eventtime,',
        '  eventsource,',
        '  eventname,',
        '  useridentity.arn,',
        '  sourceipaddress,',
        '  awsregion,',
        '  errorcode,',
        '  requestparameters',
        'FROM cloudtrail_logs',
        "WHERE lower(eventname) = lower('Decrypt')",
        "  AND lower(errorcode) LIKE lower('AccessDenied%')",
        "  AND try(from_iso8601_timestamp(eventtime)) >= from_iso8601_timestamp('2024-03-01T00:00:00Z')",
        "  AND try(from_iso8601_timestamp(eventtime)) < from_iso8601_timestamp('2024-03-02T00:00:00Z')",
        `  AND "timestamp" >= '2024/03/01'`,
        `  AND "timestamp" <= '2024/03/03'`,
        'ORDER BY eventtime DESC',
        'LIMIT 1000',
      ].join('\n'),
    );
  });

  it('CloudTrail Lake: the same query', () => {
    expect(sql('eventName:Decrypt errorCode:AccessDenied*', 'lake', { from: MAR1, to: MAR2, descending: true })).toBe(
      [
        '-- At most 1000 rows (LIMIT 1000): remove the LIMIT to get every matching event.',
        'SELECT',
        '  eventTime,',
        '  eventSource,',
        '  eventName,',
        '  userIdentity.arn,',
        '  sourceIPAddress,',
        '  awsRegion,',
        '  errorCode,',
        '  requestParameters',
        'FROM $EDS_ID',
        "WHERE lower(eventName) = lower('Decrypt')",
        "  AND lower(errorCode) LIKE lower('AccessDenied%')",
        "  AND eventTime >= '2024-03-01 00:00:00'",
        "  AND eventTime < '2024-03-02 00:00:00'",
        'ORDER BY eventTime DESC',
        'LIMIT 1000',
      ].join('\n'),
    );
  });

  it('Athena: key shorthand, OR group and a negation', () => {
    const q = 'key:1234abcd-12ab-34cd-56ef-1234567890ab (eventName:Decrypt OR eventName:GenerateDataKey) -errorCode:*';
    expect(sql(q, 'athena', { table: 'security.trail_logs', limit: 50 })).toBe(
      [
        '-- At most 50 rows (LIMIT 50): remove the LIMIT to get every matching event.',
        'SELECT',
        '  eventtime,',
        '  eventsource,',
        '  eventname,',
        '  useridentity.arn,',
        '  sourceipaddress,',
        '  awsregion,',
        '  errorcode,',
        '  requestparameters',
        'FROM security.trail_logs',
        "WHERE (lower(json_extract_scalar(requestparameters, '$.keyId')) = lower('1234abcd-12ab-34cd-56ef-1234567890ab')" +
          " OR lower(json_extract_scalar(requestparameters, '$.keyId')) LIKE lower('%/1234abcd-12ab-34cd-56ef-1234567890ab')" +
          " OR cardinality(filter(resources, r -> lower(r.arn) = lower('1234abcd-12ab-34cd-56ef-1234567890ab')" +
          " OR lower(r.arn) LIKE lower('%/1234abcd-12ab-34cd-56ef-1234567890ab'))) > 0)",
        "  AND (lower(eventname) = lower('Decrypt') OR lower(eventname) = lower('GenerateDataKey'))",
        "  AND NOT coalesce(errorcode IS NOT NULL AND errorcode <> '', FALSE)",
        'ORDER BY eventtime',
        'LIMIT 50',
      ].join('\n'),
    );
  });

  it('CloudTrail Lake: key shorthand reads the requestParameters map', () => {
    expect(cond('key:1234abcd', 'lake')).toBe(
      "(lower(element_at(requestParameters, 'keyId')) = lower('1234abcd')" +
        " OR lower(element_at(requestParameters, 'keyId')) LIKE lower('%/1234abcd')" +
        " OR cardinality(filter(resources, r -> lower(r.arn) = lower('1234abcd') OR lower(r.arn) LIKE lower('%/1234abcd'))) > 0)",
    );
  });

  it('Lake: free text runs over the eventJson column, with the difference announced in a leading comment', () => {
    const out = sql('"kms:Decrypt"', 'lake', { table: 'EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE' });
    const lines = out.split('\n');
    expect(lines[0]).toMatch(
      /^-- Free text runs over the JSON text of the event \(eventJson\): key names and JSON punctuation match too/,
    );
    expect(lines[1]).toMatch(/^-- At most 1000 rows/);
    expect(lines[2]).toBe('SELECT');
    expect(out).toContain('FROM EXAMPLE-f852-4e8f-8bd1-bcf6cEXAMPLE\n');
    expect(cond('"kms:Decrypt"', 'lake')).toBe("lower(eventJson) LIKE lower('%kms:Decrypt%')");
    expect(cond('Gen*Key', 'lake')).toBe("lower(eventJson) LIKE lower('%Gen%Key%')");
    expect(cond('/kms:(En|De)crypt/i', 'lake')).toBe("regexp_like(eventJson, '(?i)kms:(En|De)crypt')");
  });

  it('an empty query has no WHERE; the time range alone makes one', () => {
    const athena = sql('', 'athena');
    expect(athena).not.toContain('WHERE');
    expect(athena.endsWith('FROM cloudtrail_logs\nORDER BY eventtime\nLIMIT 1000')).toBe(true);
    expect(sql('  ', 'lake', { to: MAR2 })).toContain(
      "FROM $EDS_ID\nWHERE eventTime < '2024-03-02 00:00:00'\nORDER BY eventTime\nLIMIT 1000",
    );
    expect(sql('', 'athena', { from: MAR1 + 1500 })).toContain(
      "WHERE try(from_iso8601_timestamp(eventtime)) >= from_iso8601_timestamp('2024-03-01T00:00:01.500Z')\n  AND \"timestamp\" >= '2024/03/01'\nORDER BY",
    );
    // the end of the window: the partition allows a day of delivery delay
    expect(sql('', 'athena', { to: Date.UTC(2024, 1, 29, 12) })).toContain(`\n  AND "timestamp" <= '2024/03/01'\n`);
    expect(sql('', 'lake', { from: MAR1 + 1500 })).toContain("WHERE eventTime >= '2024-03-01 00:00:01.500'");
  });

  it('LIMIT: default 1000, a given number, none for 0 or Infinity; stated in a comment', () => {
    expect(sql('', 'athena').split('\n').at(-1)).toBe('LIMIT 1000');
    expect(sql('', 'athena').split('\n')[0]).toBe(
      '-- At most 1000 rows (LIMIT 1000): remove the LIMIT to get every matching event.',
    );
    expect(sql('', 'athena', { limit: 25.7 }).split('\n').at(-1)).toBe('LIMIT 25');
    expect(sql('', 'athena', { limit: 0 })).not.toContain('LIMIT');
    expect(sql('', 'lake', { limit: Infinity })).not.toContain('LIMIT');
  });

  it('rejects a table name that is not a name', () => {
    expect(() => sql('', 'athena', { table: 'logs; DROP TABLE x' })).toThrow(/not a table name/);
    expect(() => sql('', 'lake', { table: "a'b" })).toThrow(/not a table name/);
  });
});

describe('toSql: values', () => {
  it('exact values are case-insensitive and quotes are doubled', () => {
    expect(cond(`userAgent:"O'Brien's tool"`, 'athena')).toBe("lower(useragent) = lower('O''Brien''s tool')");
    expect(cond(`userAgent:"O'Brien's tool"`, 'lake')).toBe("lower(userAgent) = lower('O''Brien''s tool')");
    // KeyTrail keeps an empty value as absent, and `errorCode:""` matches a present empty string only
    expect(cond(`errorCode:""`, 'athena')).toBe("errorcode = ''");
  });

  it('wildcards become LIKE, escaping % _ and \\ with an ESCAPE clause only when needed', () => {
    expect(cond('eventName:Generate*Key*', 'athena')).toBe("lower(eventname) LIKE lower('Generate%Key%')");
    expect(cond('requestParameters.keyId:alias/my_key*', 'athena')).toBe(
      `regexp_like(lower(json_format(json_extract(requestparameters, '$.keyId'))), '(^|[\\[:,])\\s*(?:"alias/my_key(?:[^"\\\\]|\\\\.)*")\\s*($|[,}\\]])')`,
    );
    expect(cond('errorMessage:*100%*', 'lake')).toBe("lower(errorMessage) LIKE lower('%100\\%%') ESCAPE '\\'");
    expect(cond('userAgent:*C:\\tools*', 'athena')).toBe("lower(useragent) LIKE lower('%C:\\\\tools%') ESCAPE '\\'");
    expect(cond(`userAgent:*it's*`, 'athena')).toBe("lower(useragent) LIKE lower('%it''s%')");
  });

  it('regexes become regexp_like with inline flags, and are announced', () => {
    expect(cond('userAgent:/^aws-cli\\/2/i', 'athena')).toBe("regexp_like(useragent, '(?i)^aws-cli\\/2')");
    expect(cond('userAgent:/^Boto3/', 'lake')).toBe("regexp_like(userAgent, '^Boto3')");
    expect(cond("errorMessage:/can't.+key/si", 'athena')).toBe("regexp_like(errormessage, '(?is)can''t.+key')");
    expect(notes('userAgent:/x/', 'athena')).toEqual([
      '-- Regexes run as regexp_like (Java pattern syntax); JavaScript-only syntax may behave differently.',
    ]);
  });

  it('field:* means present and not empty', () => {
    expect(cond('errorCode:*', 'athena')).toBe("errorcode IS NOT NULL AND errorcode <> ''");
    // a JSON path is present when a leaf below it is a value other than "" and null (an empty array is not)
    expect(cond('requestParameters.grantTokens:*', 'athena')).toBe(
      `regexp_like(lower(json_format(json_extract(requestparameters, '$.grantTokens'))), '(^|[\\[:,])\\s*(?:"(?:[^"\\\\]|\\\\.)+"\\s*($|[,}\\]])|-?[0-9]|true|false)')`,
    );
    expect(cond('requestParameters.grantTokens:*', 'lake')).toBe(
      "element_at(requestParameters, 'grantTokens') IS NOT NULL AND element_at(requestParameters, 'grantTokens') <> ''",
    );
    expect(cond('resources:*', 'athena')).toBe('cardinality(resources) > 0');
    expect(cond('resources.accountId:*', 'lake')).toBe(
      "cardinality(filter(resources, r -> r.accountid IS NOT NULL AND r.accountid <> '')) > 0",
    );
    expect(cond('userIdentity.sessionContext:*', 'athena')).toBe('useridentity.sessioncontext IS NOT NULL');
    expect(cond('requestParameters:*', 'lake')).toBe(
      `regexp_like(lower(json_format(CAST(requestParameters AS JSON))), '(^|[\\[:,])\\s*(?:"(?:[^"\\\\]|\\\\.)+"\\s*($|[,}\\]])|-?[0-9]|true|false)')`,
    );
    expect(notes('requestParameters:*', 'lake')[0]).toMatch(
      /^-- The whole requestParameters map is matched in its JSON text/,
    );
    expect(cond('readOnly:*', 'lake')).toBe('readOnly IS NOT NULL');
  });
});

describe('toSql: boolean structure', () => {
  it('NOT wraps the negated condition so that an absent field matches the negation', () => {
    expect(cond('NOT eventName:Decrypt', 'athena')).toBe("NOT coalesce(lower(eventname) = lower('Decrypt'), FALSE)");
    expect(cond('-(eventName:Decrypt OR errorCode:*)', 'lake')).toBe(
      "NOT coalesce(lower(eventName) = lower('Decrypt') OR (errorCode IS NOT NULL AND errorCode <> ''), FALSE)",
    );
    expect(cond('NOT NOT region:us-east-1', 'athena')).toBe(
      "NOT coalesce(NOT coalesce(lower(awsregion) = lower('us-east-1'), FALSE), FALSE)",
    );
  });

  it('OR groups and AND inside OR are parenthesised', () => {
    expect(where('eventSource:kms.amazonaws.com (eventName:Decrypt OR eventName:Encrypt)', 'athena')).toEqual([
      "lower(eventsource) = lower('kms.amazonaws.com')",
      "(lower(eventname) = lower('Decrypt') OR lower(eventname) = lower('Encrypt'))",
    ]);
    expect(cond('eventName:Decrypt errorCode:AccessDenied OR eventName:Encrypt', 'athena')).toBe(
      "((lower(eventname) = lower('Decrypt') AND lower(errorcode) = lower('AccessDenied')) OR lower(eventname) = lower('Encrypt'))",
    );
    expect(cond('(a:1 OR b:2) OR c:3', 'athena')).toContain(' OR ');
  });

  it('a multi-column shorthand is one parenthesised OR', () => {
    expect(cond('account:111122223333', 'athena')).toBe(
      "(lower(useridentity.accountid) = lower('111122223333') OR lower(recipientaccountid) = lower('111122223333'))",
    );
    expect(where('account:111122223333 OR ip:203.0.113.5', 'lake')).toEqual([
      "((lower(userIdentity.accountId) = lower('111122223333') OR lower(recipientAccountId) = lower('111122223333')) OR lower(sourceIPAddress) = lower('203.0.113.5'))",
    ]);
  });
});

describe('toSql: times', () => {
  it('comparisons on eventTime (and time:) are timestamps', () => {
    expect(cond('eventTime>=2024-03-01T12:00Z', 'athena')).toBe(
      "try(from_iso8601_timestamp(eventtime)) >= from_iso8601_timestamp('2024-03-01T12:00:00Z')",
    );
    expect(cond('eventTime>=2024-03-01T12:00Z', 'lake')).toBe("eventTime >= '2024-03-01 12:00:00'");
    expect(cond('time<2024-03-02', 'lake')).toBe("eventTime < '2024-03-02 00:00:00'");
    expect(cond('eventtime<=2024-03-02T00:00:00+01:00', 'athena')).toBe(
      "try(from_iso8601_timestamp(eventtime)) <= from_iso8601_timestamp('2024-03-01T23:00:00Z')",
    );
  });

  it('a time operand on another field compares parsed times', () => {
    const q = 'userIdentity.sessionContext.attributes.creationDate<2024-03-01';
    expect(cond(q, 'athena')).toBe(
      "try(from_iso8601_timestamp(useridentity.sessioncontext.attributes.creationdate)) < from_iso8601_timestamp('2024-03-01T00:00:00Z')",
    );
    expect(cond(q, 'lake')).toBe("userIdentity.sessionContext.attributes.creationDate < '2024-03-01 00:00:00'");
  });

  it('numeric comparisons cast to DOUBLE', () => {
    expect(cond('requestParameters.numberOfBytes>=64', 'athena')).toBe(
      "TRY_CAST(json_extract_scalar(requestparameters, '$.numberOfBytes') AS DOUBLE) >= 64",
    );
    expect(cond('requestParameters.numberOfBytes>=64', 'lake')).toBe(
      "TRY_CAST(element_at(requestParameters, 'numberOfBytes') AS DOUBLE) >= 64",
    );
    expect(cond('additionalEventData.bytesTransferredOut>-1.5', 'athena')).toBe(
      "TRY_CAST(json_extract_scalar(additionaleventdata, '$.bytesTransferredOut') AS DOUBLE) > -1.5",
    );
  });

  it('an operand that is neither a number nor a time is a QuerySyntaxError', () => {
    expect(() => sql('eventTime>yesterday', 'athena')).toThrow(QuerySyntaxError);
    expect(() => sql('requestParameters.numberOfBytes>lots', 'lake')).toThrow(QuerySyntaxError);
  });

  it('last: is relative to current_timestamp, in the unit typed (Lake: date_add, no INTERVAL)', () => {
    expect(cond('last:24h', 'athena')).toBe(
      "try(from_iso8601_timestamp(eventtime)) >= current_timestamp - interval '24' hour",
    );
    expect(cond('last:24h', 'lake')).toBe("eventTime >= date_add('hour', -24, current_timestamp)");
    expect(cond('last:2w', 'athena')).toBe(
      "try(from_iso8601_timestamp(eventtime)) >= current_timestamp - interval '14' day",
    );
    expect(cond('last:90m', 'lake')).toBe("eventTime >= date_add('minute', -90, current_timestamp)");
    expect(cond('last:1.5h', 'lake')).toBe("eventTime >= date_add('minute', -90, current_timestamp)");
    expect(cond('last:30s', 'lake')).toBe("eventTime >= date_add('second', -30, current_timestamp)");
    for (const q of ['last:24h', 'last:2w', 'last:1.5d']) expect(sql(q, 'lake')).not.toMatch(/interval/i);
  });

  it('the time range follows the query conditions', () => {
    expect(sql('last:7d', 'lake', { from: MAR1, to: MAR2 })).toContain(
      "WHERE eventTime >= date_add('day', -7, current_timestamp)\n  AND eventTime >= '2024-03-01 00:00:00'\n  AND eventTime < '2024-03-02 00:00:00'\n",
    );
  });

  it('a string match on Lake eventTime formats the timestamp as CloudTrail writes it', () => {
    expect(cond('eventTime:2024-03-01*', 'lake')).toBe(
      "lower(format_datetime(eventTime, 'yyyy-MM-dd''T''HH:mm:ss''Z''')) LIKE lower('2024-03-01%')",
    );
    expect(cond('eventTime:2024-03-01*', 'athena')).toBe("lower(eventtime) LIKE lower('2024-03-01%')");
  });
});

describe('toSql: fields', () => {
  it('userIdentity paths are struct columns, matched case-insensitively', () => {
    expect(cond('userIdentity.sessionContext.sessionIssuer.arn:arn:aws:iam::111122223333:role/Admin', 'athena')).toBe(
      "lower(useridentity.sessioncontext.sessionissuer.arn) = lower('arn:aws:iam::111122223333:role/Admin')",
    );
    expect(cond('USERIDENTITY.SessionContext.sessionissuer.ARN:x', 'lake')).toBe(
      "lower(userIdentity.sessionContext.sessionIssuer.arn) = lower('x')",
    );
    expect(cond('userIdentity.type:AssumedRole', 'lake')).toBe("lower(userIdentity.type) = lower('AssumedRole')");
    expect(cond('tlsDetails.tlsVersion:TLSv1.2', 'athena')).toBe("lower(tlsdetails.tlsversion) = lower('TLSv1.2')");
  });

  it('JSON fields: every leaf below the path in the JSON text (Athena), element_at then JSON (Lake)', () => {
    // a value at the path (a string, or any leaf of an object or array there), or after the last key anywhere
    // below the first one (paths through JSON arrays), announced
    expect(cond('requestParameters.encryptionContext.Department:Finance', 'athena')).toBe(
      `(regexp_like(lower(json_format(json_extract(requestparameters, '$.encryptionContext.Department'))), '(^|[\\[:,])\\s*(?:"finance")\\s*($|[,}\\]])')` +
        ` OR regexp_like(lower(json_format(json_extract(requestparameters, '$.encryptionContext'))), '"department"\\s*:\\s*\\[?\\s*(?:"finance")\\s*($|[,}\\]])'))`,
    );
    expect(notes('requestParameters.encryptionContext.Department:Finance', 'athena')).toEqual([
      '-- Values in JSON columns are matched in the JSON text: as the log writes them (JSON-escaped, numbers as written), and a string value holding JSON punctuation such as ", " can match falsely; json_extract reads the keys of the path as typed (KeyTrail ignores their case).',
      '-- requestparameters.encryptionContext.Department may pass through JSON arrays, which json_extract paths cannot: the value is also matched after the key "Department" anywhere in the JSON text of requestparameters.encryptionContext, ignoring case (the keys need not be nested there).',
    ]);
    // the whole object: any leaf value, not a key name
    expect(cond('responseElements:Success', 'athena')).toBe(
      `regexp_like(lower(responseelements), '(^|[\\[:,])\\s*(?:"success")\\s*($|[,}\\]])')`,
    );
    // numbers and booleans appear bare in JSON text
    expect(cond('requestParameters.dryRun:TRUE', 'athena')).toContain(
      `'(^|[\\[:,])\\s*(?:"true"|true)\\s*($|[,}\\]])'`,
    );
    // a regex tests each string value
    expect(cond('requestParameters:/^i-[0-9a-f]+$/', 'athena')).toBe(
      `cardinality(filter(regexp_extract_all(requestparameters, '"((?:[^"\\\\]|\\\\.)*)"\\s*($|[,}\\]])', 1), r -> regexp_like(r, '^i-[0-9a-f]+$'))) > 0`,
    );
    expect(cond('requestParameters.encryptionContext.Department:Finance', 'lake')).toBe(
      "lower(json_extract_scalar(element_at(requestParameters, 'encryptionContext'), '$.Department')) = lower('Finance')",
    );
    expect(cond('responseElements.keyMetadata.keyState:PendingDeletion', 'athena')).toContain(
      "regexp_like(lower(json_format(json_extract(responseelements, '$.keyMetadata.keyState'))), ",
    );
    expect(cond('requestParameters.x-amz-acl:private', 'athena')).toBe(
      `regexp_like(lower(json_format(json_extract(requestparameters, '$["x-amz-acl"]'))), '(^|[\\[:,])\\s*(?:"private")\\s*($|[,}\\]])')`,
    );
    expect(cond('additionalEventData.customerMasterKey:*', 'lake')).toBe(
      "element_at(additionalEventData, 'customerMasterKey') IS NOT NULL AND element_at(additionalEventData, 'customerMasterKey') <> ''",
    );
  });

  it('resources: cardinality(filter(...)) > 0 over the array', () => {
    expect(cond('resources.type:AWS::KMS::Key', 'athena')).toBe(
      "cardinality(filter(resources, r -> lower(r.type) = lower('AWS::KMS::Key'))) > 0",
    );
    expect(cond('resources.ARN:*key/1234*', 'lake')).toBe(
      "cardinality(filter(resources, r -> lower(r.arn) LIKE lower('%key/1234%'))) > 0",
    );
  });

  it('shorthands principal:, ip:, region:', () => {
    expect(cond('principal:*Admin*', 'athena')).toBe(
      "lower(coalesce(nullif(useridentity.arn, ''), nullif(useridentity.sessioncontext.sessionissuer.arn, ''), nullif(useridentity.invokedby, '')," +
        " nullif(useridentity.type, '') || coalesce(':' || nullif(useridentity.principalid, ''), ''))) LIKE lower('%Admin%')",
    );
    expect(cond('ip:203.0.113.5', 'lake')).toBe("lower(sourceIPAddress) = lower('203.0.113.5')");
    expect(cond('region:eu-west-1', 'athena')).toBe("lower(awsregion) = lower('eu-west-1')");
  });

  it('key: with an alias name also matches alias ARNs; with a key ARN also the bare key ID', () => {
    expect(cond('key:alias/prod_data', 'athena')).toBe(
      "(lower(json_extract_scalar(requestparameters, '$.keyId')) IN (lower('alias/prod_data'), lower('prod_data'))" +
        " OR lower(json_extract_scalar(requestparameters, '$.keyId')) LIKE lower('%/alias/prod\\_data') ESCAPE '\\'" +
        " OR lower(json_extract_scalar(requestparameters, '$.keyId')) LIKE lower('%:alias/prod\\_data') ESCAPE '\\'" +
        " OR cardinality(filter(resources, r -> lower(r.arn) IN (lower('alias/prod_data'), lower('prod_data'))" +
        " OR lower(r.arn) LIKE lower('%/alias/prod\\_data') ESCAPE '\\'" +
        " OR lower(r.arn) LIKE lower('%:alias/prod\\_data') ESCAPE '\\')) > 0)",
    );
    const arn = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd';
    expect(cond(`key:${arn}`, 'lake')).toContain(
      `lower(element_at(requestParameters, 'keyId')) IN (lower('${arn}'), lower('1234abcd'), lower('key/1234abcd'))`,
    );
    expect(cond('key:1234*', 'athena')).toBe(
      "(lower(json_extract_scalar(requestparameters, '$.keyId')) LIKE lower('1234%') OR cardinality(filter(resources, r -> lower(r.arn) LIKE lower('1234%'))) > 0)",
    );
  });

  it('Event history lookup attribute names', () => {
    // an exact eventID is matched as written, as KeyTrail matches it
    expect(cond('EventId:5a4B3c2d-0000-4000-8000-000000000001', 'athena')).toBe(
      "eventid = '5a4B3c2d-0000-4000-8000-000000000001'",
    );
    expect(cond('eventID:5a4b*', 'lake')).toBe("lower(eventID) LIKE lower('5a4b%')");
    expect(cond('EventName:Decrypt', 'lake')).toBe("lower(eventName) = lower('Decrypt')");
    expect(cond('EventSource:kms.amazonaws.com', 'athena')).toBe("lower(eventsource) = lower('kms.amazonaws.com')");
    expect(cond('ReadOnly:true', 'athena')).toBe("lower(readonly) = lower('true')");
    expect(cond('ReadOnly:false', 'lake')).toBe("lower(CAST(readOnly AS varchar)) = lower('false')");
    // Username as KeyTrail derives it: userName, else root, else the role session name, else the issuer's user name
    expect(cond('Username:alice', 'athena')).toBe(
      "lower(coalesce(nullif(useridentity.username, ''), CASE WHEN useridentity.type = 'Root' THEN 'root' END," +
        " CASE WHEN strpos(useridentity.principalid, ':') > 0 THEN substr(useridentity.principalid, strpos(useridentity.principalid, ':') + 1) END," +
        " useridentity.sessioncontext.sessionissuer.username)) = lower('alice')",
    );
    expect(notes('Username:alice', 'athena')).toEqual([]);
    expect(cond('ResourceType:AWS::KMS::Key', 'lake')).toBe(
      "cardinality(filter(resources, r -> lower(r.type) = lower('AWS::KMS::Key'))) > 0",
    );
    expect(cond('ResourceName:arn:aws:kms:*', 'athena')).toBe(
      "cardinality(filter(resources, r -> lower(r.arn) LIKE lower('arn:aws:kms:%'))) > 0",
    );
    expect(cond('AccessKeyId:AKIAIOSFODNN7EXAMPLE', 'lake')).toBe(
      "lower(userIdentity.accessKeyId) = lower('AKIAIOSFODNN7EXAMPLE')",
    );
  });

  it('a field that is not a column is FALSE, with a note', () => {
    expect(cond('insightDetails.state:Start', 'athena')).toBe('FALSE');
    expect(notes('insightDetails.state:Start', 'athena')).toEqual([
      '-- "insightDetails.state" is not a column of the CloudTrail table: conditions on it are FALSE.',
    ]);
    expect(cond('-userIdentity.nosuch:x', 'lake')).toBe('NOT coalesce(FALSE, FALSE)');
  });
});

describe('toSql: CloudTrail Lake schema', () => {
  it('addendum and edgeDeviceDetails are maps', () => {
    expect(cond('addendum.reason:DELIVERY_DELAY', 'lake')).toBe(
      "lower(element_at(addendum, 'reason')) = lower('DELIVERY_DELAY')",
    );
    expect(cond('addendum.ORIGINALEVENTID:*', 'lake')).toBe(
      "element_at(addendum, 'originalEventID') IS NOT NULL AND element_at(addendum, 'originalEventID') <> ''",
    );
    expect(cond('edgeDeviceDetails.deviceID:x', 'lake')).toBe(
      "lower(element_at(edgeDeviceDetails, 'deviceID')) = lower('x')",
    );
    expect(notes('edgeDeviceDetails.deviceID:x', 'lake')).toEqual([
      '-- Keys in the edgeDeviceDetails map are matched as typed (element_at), and JSON below the first key is read with json_extract_scalar, one value, not through arrays (KeyTrail ignores key case and matches every value at or below the path).',
    ]);
    // Athena: addendum is a struct, edgedevicedetails a JSON string
    expect(cond('addendum.reason:DELIVERY_DELAY', 'athena')).toBe("lower(addendum.reason) = lower('DELIVERY_DELAY')");
  });

  it('managementEvent, sessionContext.sourceIdentity, inScopeOf and identityProvider are columns', () => {
    expect(cond('managementEvent:true', 'lake')).toBe("lower(CAST(managementEvent AS varchar)) = lower('true')");
    expect(cond('userIdentity.sessionContext.sourceIdentity:alice', 'lake')).toBe(
      "lower(userIdentity.sessionContext.sourceIdentity) = lower('alice')",
    );
    expect(cond('userIdentity.inScopeOf.issuerType:*', 'lake')).toBe(
      "userIdentity.inScopeOf.issuerType IS NOT NULL AND userIdentity.inScopeOf.issuerType <> ''",
    );
    expect(cond('userIdentity.identityProvider:x', 'lake')).toBe("lower(userIdentity.identityProvider) = lower('x')");
    for (const q of [
      'managementEvent:true',
      'userIdentity.sessionContext.sourceIdentity:alice',
      'userIdentity.inScopeOf.sourceArn:*',
      'userIdentity.identityProvider:x',
    ]) {
      expect(notes(q, 'lake'), q).toEqual([]);
      // not in the Athena table of the user guide
      expect(cond(q, 'athena'), q).toBe('FALSE');
    }
  });
});

describe('toSql: free text', () => {
  it('a bare word is a LIKE over every column, the JSON text and the derived principal and user name (Athena)', () => {
    const c = cond('Decrypt', 'athena');
    expect(
      c.startsWith(
        "(lower(eventversion) LIKE lower('%Decrypt%') OR lower(useridentity.type) LIKE lower('%Decrypt%') OR ",
      ),
    ).toBe(true);
    expect(c).toContain("lower(eventname) LIKE lower('%Decrypt%')");
    expect(c).toContain("lower(useridentity.sessioncontext.sessionissuer.username) LIKE lower('%Decrypt%')");
    expect(c).toContain("lower(tlsdetails.clientprovidedhostheader) LIKE lower('%Decrypt%')");
    expect(c).toContain(
      "lower(coalesce(nullif(useridentity.username, ''), CASE WHEN useridentity.type = 'Root' THEN 'root' END,",
    );
    expect(c).toContain("lower(requestparameters) LIKE lower('%Decrypt%')");
    expect(c).toContain("lower(responseelements) LIKE lower('%Decrypt%')");
    expect(c).toContain("lower(additionaleventdata) LIKE lower('%Decrypt%')");
    expect(c).toContain("cardinality(filter(resources, r -> lower(r.arn) LIKE lower('%Decrypt%'))) > 0");
    expect(notes('Decrypt', 'athena')[0]).toMatch(
      /^-- Free text has no column in the CloudTrail table: it runs over every column/,
    );
  });

  it('phrases are literal, wildcards and regexes apply to each column', () => {
    expect(cond('"50%_off*"', 'athena')).toContain("lower(useragent) LIKE lower('%50\\%\\_off*%') ESCAPE '\\'");
    expect(cond('Gen*Key', 'athena')).toContain("lower(eventname) LIKE lower('%Gen%Key%')");
    // wildcards and regexes test the string values of the JSON columns (KeyTrail does not match key names with them)
    expect(cond('Gen*Key', 'athena')).toContain(
      `cardinality(filter(regexp_extract_all(requestparameters, '"((?:[^"\\\\]|\\\\.)*)"\\s*($|[,}\\]])', 1), r -> lower(r) LIKE lower('%Gen%Key%'))) > 0`,
    );
    expect(cond('/kms:(En|De)crypt/', 'athena')).toContain(
      `cardinality(filter(regexp_extract_all(requestparameters, '"((?:[^"\\\\]|\\\\.)*)"\\s*($|[,}\\]])', 1), r -> regexp_like(r, 'kms:(En|De)crypt'))) > 0`,
    );
    expect(cond("it's", 'athena')).toContain("lower(useragent) LIKE lower('%it''s%')");
    expect(cond("it's", 'lake')).toBe("lower(eventJson) LIKE lower('%it''s%')");
  });

  it('free text combines with fields', () => {
    const w = where('eventSource:kms.amazonaws.com deny', 'athena');
    expect(w).toHaveLength(2);
    expect(w[0]).toBe("lower(eventsource) = lower('kms.amazonaws.com')");
    expect(w[1].startsWith('(') && w[1].endsWith(')')).toBe(true);
  });
});

describe('toSql: every output is well formed', () => {
  const queries = [
    ...SQL_CORPUS,
    '',
    'Decrypt',
    '"a \'quoted\' phrase"',
    'Gen*Key',
    '/x(y)?/i',
    '*',
    'eventName:Decrypt',
    'eventName:*crypt',
    'eventName:/^De/i',
    'errorCode:*',
    '-errorCode:*',
    'NOT (a:1 OR b:2)',
    'account:1 OR key:2',
    'key:alias/x_y',
    'principal:*',
    'ip:1.2.3.4',
    'region:us-east-1',
    'eventTime>2024-01-01',
    'requestParameters.n<=3',
    'last:15m',
    'resources.ARN:*',
    'resources:*',
    'userIdentity.sessionContext.attributes.mfaAuthenticated:true',
    'unknown.field:1',
    `userAgent:"it's"`,
    'Username:bob',
  ];
  for (const d of ['athena', 'lake'] as const) {
    it(`${d}: balanced parentheses and quotes, one SELECT`, () => {
      for (const q of queries) {
        const out = sql(q, d, { from: MAR1, to: MAR2 });
        expect(balanced(out), `${q} → ${out}`).toBe(true);
        expect(out.match(/^SELECT$/gm)).toHaveLength(1);
        expect(out).not.toMatch(/;\s*$/);
      }
    });
  }
});

describe('ATHENA_TABLE_DDL', () => {
  it('is the table definition of the README, character for character (it pastes into Athena as is)', () => {
    const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
    const block = /The Athena table[\s\S]*?```sql\n([\s\S]*?)\n```/.exec(readme);
    expect(block).not.toBeNull();
    expect(block![1]).toBe(ATHENA_TABLE_DDL);
    expect(ATHENA_TABLE_DDL).not.toContain('\\');
  });

  it('is the CloudTrail table with the JSON SerDe, every column the translation reads, and placeholders', () => {
    expect(ATHENA_TABLE_DDL).toMatch(/^CREATE EXTERNAL TABLE cloudtrail_logs \(/);
    expect(ATHENA_TABLE_DDL).toContain("ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'");
    expect(ATHENA_TABLE_DDL).toContain("STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'");
    for (const col of [
      'eventversion STRING',
      'eventtime STRING',
      'eventsource STRING',
      'eventname STRING',
      'awsregion STRING',
      'sourceipaddress STRING',
      'useragent STRING',
      'errorcode STRING',
      'errormessage STRING',
      'requestparameters STRING',
      'responseelements STRING',
      'additionaleventdata STRING',
      'requestid STRING',
      'eventid STRING',
      'resources ARRAY<STRUCT<',
      'eventtype STRING',
      'apiversion STRING',
      'readonly STRING',
      'recipientaccountid STRING',
      'serviceeventdetails STRING',
      'sharedeventid STRING',
      'vpcendpointid STRING',
      'tlsdetails STRUCT<',
      'useridentity STRUCT<',
      'sessionissuer: STRUCT<',
      'creationdate: STRING',
    ]) {
      expect(ATHENA_TABLE_DDL).toContain(col);
    }
    for (const p of ['<BUCKET>', '<ACCOUNT_ID>', '<REGIONS>', '<START_DATE>']) expect(ATHENA_TABLE_DDL).toContain(p);
    expect(ATHENA_TABLE_DDL).toContain(
      "'storage.location.template' = 's3://<BUCKET>/AWSLogs/<ACCOUNT_ID>/CloudTrail/${region}/${timestamp}'",
    );
    const filled = ATHENA_TABLE_DDL.replace(/<[A-Z_]+>/g, 'x');
    expect(balanced(filled)).toBe(true);
    expect(filled.match(/</g)?.length).toBe(filled.match(/>/g)?.length); // struct brackets close
  });
});
