/**
 * Translates a KeyTrail query (the AST of `../query/parser`) into SQL for running the same investigation
 * at scale where the logs live: Amazon Athena over a CloudTrail table, or AWS CloudTrail Lake.
 *
 * The translation mirrors KeyTrail's own evaluation (`../query/engine`, `../query/resolve`): field values
 * match case-insensitively (`lower(col) = lower('v')`), `*` wildcards match the whole value (`LIKE` with
 * `%`), regexes are case-sensitive unless flagged `i`, `field:*` means "present and not empty", shorthands
 * (`account:`, `key:`, `principal:`, `ip:`, `region:`) and Event history lookup attribute names resolve to
 * the same fields. What SQL cannot say exactly is approximated and announced in `--` comments above the
 * SELECT (see {@link toSql}).
 *
 * Sources:
 * - Athena table: "Create a table for CloudTrail logs in Athena using manual partitioning"
 *   (https://docs.aws.amazon.com/athena/latest/ug/create-cloudtrail-table.html) and "Create the table for
 *   CloudTrail logs in Athena using partition projection"
 *   (https://docs.aws.amazon.com/athena/latest/ug/create-cloudtrail-table-partition-projection.html);
 *   nested fields and `resources` ("Querying AWS CloudTrail logs",
 *   https://docs.aws.amazon.com/athena/latest/ug/cloudtrail-logs.html); `requestparameters` and the other
 *   JSON strings read with `json_extract_scalar` ("Extracting data from JSON",
 *   https://docs.aws.amazon.com/athena/latest/ug/extracting-data-from-JSON.html).
 * - CloudTrail Lake: "CloudTrail Lake SQL constraints" (only SELECT; all Trino functions and operators;
 *   `FROM` takes the event data store ID; https://docs.aws.amazon.com/awscloudtrail/latest/userguide/query-limitations.html),
 *   "Supported SQL schemas for event data stores" (`eventtime` timestamp, `requestparameters`,
 *   `responseelements`, `additionaleventdata` map<string,string>, `readonly` boolean, `resources`
 *   array<struct<accountid,type,arn,arnprefix>>;
 *   https://docs.aws.amazon.com/awscloudtrail/latest/userguide/query-supported-event-schemas.html),
 *   "CloudTrail Lake queries" (time bounds as `eventtime >= '2023-01-05 13:51:00'`;
 *   https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-lake-queries.html).
 * - Functions (Athena engine version 3 and CloudTrail Lake are both Trino): `filter`, `cardinality`
 *   (https://trino.io/docs/current/functions/array.html), `regexp_extract_all`, `date_add`, `regexp_like` (Java pattern syntax,
 *   https://trino.io/docs/current/functions/regexp.html), `json_extract_scalar`, `json_extract`,
 *   `json_format` (https://trino.io/docs/current/functions/json.html), `LIKE ... ESCAPE`
 *   (https://trino.io/docs/current/functions/comparison.html), `from_iso8601_timestamp`,
 *   `format_datetime`, `current_timestamp` and interval arithmetic (https://trino.io/docs/current/functions/datetime.html),
 *   `element_at` (https://trino.io/docs/current/functions/map.html), `try`, `TRY_CAST`.
 */
import { QuerySyntaxError, type QueryNode, type Value } from '../query/parser';
import { utcIso } from '../format/utc';

/** The SQL engines KeyTrail exports to. */
export type SqlDialect = 'athena' | 'lake';

/** Options of {@link toSql}. */
export interface SqlOptions {
  /** Inclusive start of the time range, epoch ms (as in the events view). */
  from?: number;
  /** Exclusive end of the time range, epoch ms. */
  to?: number;
  /** Newest first (`ORDER BY eventtime DESC`). */
  descending?: boolean;
  /** Table name (Athena, default {@link ATHENA_DEFAULT_TABLE}) or event data store ID (Lake, default {@link LAKE_TABLE_PLACEHOLDER}). */
  table?: string;
  /** Row limit (default {@link DEFAULT_LIMIT}); 0, a negative number or Infinity means no LIMIT clause. */
  limit?: number;
}

/** Default Athena table name, as in {@link ATHENA_TABLE_DDL} and the AWS documentation. */
export const ATHENA_DEFAULT_TABLE = 'cloudtrail_logs';
/** Placeholder for the CloudTrail Lake event data store ID (the ID part of its ARN). */
export const LAKE_TABLE_PLACEHOLDER = '$EDS_ID';
/** Default LIMIT of the generated queries. */
export const DEFAULT_LIMIT = 1000;

/**
 * Athena DDL for a CloudTrail table that {@link toSql} queries (`cloudtrail_logs`).
 *
 * The columns are those of "Create a table for CloudTrail logs in Athena using manual partitioning"
 * (https://docs.aws.amazon.com/athena/latest/ug/create-cloudtrail-table.html): the JSON SerDe
 * `org.apache.hive.hcatalog.data.JsonSerDe` with `com.amazon.emr.cloudtrail.CloudTrailInputFormat`, `userIdentity`,
 * `resources`, `addendum` and `tlsDetails` as structs, `requestParameters`, `responseElements`,
 * `additionalEventData` and `serviceEventDetails` as JSON strings. Adapted: instead of `ALTER TABLE ADD
 * PARTITION` for every day, partitions are projected ("Create the table for CloudTrail logs in Athena using
 * partition projection", https://docs.aws.amazon.com/athena/latest/ug/create-cloudtrail-table-partition-projection.html)
 * over an enumerated list of Regions and days. Replace `<BUCKET>` (the trail's S3 bucket, with its prefix if
 * any), `<ACCOUNT_ID>`, `<REGIONS>` (comma-separated, e.g. `us-east-1,eu-west-1`) and `<START_DATE>`
 * (`yyyy/MM/dd`). Adding `AND region = 'us-east-1' AND "timestamp" >= '2024/03/01'` to a query limits the
 * S3 objects Athena reads.
 */
export const ATHENA_TABLE_DDL = `CREATE EXTERNAL TABLE cloudtrail_logs (
  eventversion STRING,
  useridentity STRUCT<
    type: STRING,
    principalid: STRING,
    arn: STRING,
    accountid: STRING,
    invokedby: STRING,
    accesskeyid: STRING,
    username: STRING,
    onbehalfof: STRUCT<
      userid: STRING,
      identitystorearn: STRING>,
    sessioncontext: STRUCT<
      attributes: STRUCT<
        mfaauthenticated: STRING,
        creationdate: STRING>,
      sessionissuer: STRUCT<
        type: STRING,
        principalid: STRING,
        arn: STRING,
        accountid: STRING,
        username: STRING>,
      ec2roledelivery: STRING,
      webidfederationdata: STRUCT<
        federatedprovider: STRING,
        attributes: MAP<STRING, STRING>>>>,
  eventtime STRING,
  eventsource STRING,
  eventname STRING,
  awsregion STRING,
  sourceipaddress STRING,
  useragent STRING,
  errorcode STRING,
  errormessage STRING,
  requestparameters STRING,
  responseelements STRING,
  additionaleventdata STRING,
  requestid STRING,
  eventid STRING,
  resources ARRAY<STRUCT<
    arn: STRING,
    accountid: STRING,
    type: STRING>>,
  eventtype STRING,
  apiversion STRING,
  readonly STRING,
  recipientaccountid STRING,
  serviceeventdetails STRING,
  sharedeventid STRING,
  vpcendpointid STRING,
  vpcendpointaccountid STRING,
  eventcategory STRING,
  addendum STRUCT<
    reason: STRING,
    updatedfields: STRING,
    originalrequestid: STRING,
    originaleventid: STRING>,
  sessioncredentialfromconsole STRING,
  edgedevicedetails STRING,
  tlsdetails STRUCT<
    tlsversion: STRING,
    ciphersuite: STRING,
    clientprovidedhostheader: STRING>
)
COMMENT 'CloudTrail logs, table layout of the Athena user guide, queried by KeyTrail exports'
PARTITIONED BY (region STRING, \`timestamp\` STRING)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION 's3://<BUCKET>/AWSLogs/<ACCOUNT_ID>/CloudTrail/'
TBLPROPERTIES (
  'projection.enabled' = 'true',
  'projection.region.type' = 'enum',
  'projection.region.values' = '<REGIONS>',
  'projection.timestamp.type' = 'date',
  'projection.timestamp.format' = 'yyyy/MM/dd',
  'projection.timestamp.range' = '<START_DATE>,NOW',
  'projection.timestamp.interval' = '1',
  'projection.timestamp.interval.unit' = 'DAYS',
  'storage.location.template' = 's3://<BUCKET>/AWSLogs/<ACCOUNT_ID>/CloudTrail/\${region}/\${timestamp}'
);`;

// ---------------------------------------------------------------------------------------------------------
// Schema: the CloudTrail record fields that are columns (or struct fields) of the Athena table above and of
// Lake's schema, by their CloudTrail JSON names. Struct fields are matched case-insensitively; keys inside
// JSON values (requestParameters.keyId) are case-sensitive, as JSON keys are.

/**
 * How a field is stored. `json`: a JSON object (Athena: a JSON string; Lake: map<string,string>); `none`: not a
 * column in that engine.
 */
type Kind = 'string' | 'struct' | 'array' | 'json' | 'map' | 'time' | 'bool' | 'none';

interface Field {
  name: string;
  /** Kind in Athena's table. */
  kind: Kind;
  /** Kind in CloudTrail Lake when it differs. */
  lake?: Kind;
  children?: Field[];
}

const s = (name: string, lake?: Kind): Field => ({ name, kind: 'string', lake });
const struct = (name: string, children: Field[], lake?: Kind): Field => ({ name, kind: 'struct', children, lake });
const json = (name: string): Field => ({ name, kind: 'json', lake: 'map' });
/** A field of CloudTrail Lake's schema that the Athena table of the user guide does not have. */
const lakeOnly = (f: Field): Field => ({ ...f, lake: f.kind, kind: 'none' });

const SCHEMA: Field[] = [
  s('eventVersion'),
  struct('userIdentity', [
    s('type'),
    s('principalId'),
    s('arn'),
    s('accountId'),
    s('invokedBy'),
    s('accessKeyId'),
    s('userName'),
    struct('onBehalfOf', [s('userId'), s('identityStoreArn')]),
    struct('sessionContext', [
      struct('attributes', [s('mfaAuthenticated'), s('creationDate', 'time')]),
      struct('sessionIssuer', [s('type'), s('principalId'), s('arn'), s('accountId'), s('userName')]),
      s('ec2RoleDelivery'),
      struct('webIdFederationData', [s('federatedProvider'), { name: 'attributes', kind: 'map' }]),
      lakeOnly(s('sourceIdentity')),
      lakeOnly(s('ec2IssuedInVPC')),
    ]),
    lakeOnly(struct('inScopeOf', [s('sourceArn'), s('sourceAccount'), s('issuerType'), s('credentialsIssuedTo')])),
    lakeOnly(s('identityProvider')),
  ]),
  { name: 'eventTime', kind: 'time' },
  s('eventSource'),
  s('eventName'),
  s('awsRegion'),
  s('sourceIPAddress'),
  s('userAgent'),
  s('errorCode'),
  s('errorMessage'),
  json('requestParameters'),
  json('responseElements'),
  json('additionalEventData'),
  s('requestID'),
  s('eventID'),
  { name: 'resources', kind: 'array', children: [s('ARN'), s('accountId'), s('type')] },
  s('eventType'),
  s('apiVersion'),
  s('readOnly', 'bool'),
  s('recipientAccountId'),
  json('serviceEventDetails'),
  s('sharedEventID'),
  s('vpcEndpointId'),
  s('vpcEndpointAccountId'),
  s('eventCategory'),
  struct('addendum', [s('reason'), s('updatedFields'), s('originalRequestID'), s('originalEventID')], 'map'),
  s('sessionCredentialFromConsole'),
  { name: 'edgeDeviceDetails', kind: 'json', lake: 'map' },
  struct('tlsDetails', [s('tlsVersion'), s('cipherSuite'), s('clientProvidedHostHeader')]),
  lakeOnly({ name: 'managementEvent', kind: 'bool' }),
];

/**
 * Query field names with a special meaning, lower-cased (as `../query/resolve` looks them up): shorthands
 * and Event history lookup attribute names (LookupEvents API reference, LookupAttribute) → CloudTrail paths.
 */
const ALIASES: Record<string, string[]> = {
  region: ['awsRegion'],
  ip: ['sourceIPAddress'],
  accesskeyid: ['userIdentity.accessKeyId'],
  username: ['userIdentity.userName'],
  resourcename: ['resources.ARN'],
  resourcetype: ['resources.type'],
  time: ['eventTime'],
  account: ['userIdentity.accountId', 'recipientAccountId'],
  key: ['requestParameters.keyId', 'resources.ARN'],
};

// ---------------------------------------------------------------------------------------------------------
// SQL building blocks

/** A SQL boolean expression and how loosely it binds: 0 = OR, 1 = AND, 2 = atom (parenthesised, a call, NOT). */
interface P {
  sql: string;
  prec: 0 | 1 | 2;
}

const atom = (sql: string): P => ({ sql, prec: 2 });
const FALSE_: P = atom('FALSE');

/** A SQL string literal: single quotes doubled. */
export function sqlString(v: string): string {
  return `'${v.replaceAll("'", "''")}'`;
}

/** Wraps `p` in parentheses when it binds more loosely than `min`. */
function wrap(p: P, min: 0 | 1 | 2): string {
  return p.prec < min ? `(${p.sql})` : p.sql;
}

/**
 * ORs expressions; AND operands are parenthesised for readability, and OR operands too unless `flatten`
 * (used inside one field's targets, where the grouping says nothing).
 */
function or(parts: P[], flatten = false): P {
  if (parts.length === 0) return FALSE_;
  if (parts.length === 1) return parts[0];
  return { sql: parts.map((p) => (flatten && p.prec === 0 ? p.sql : wrap(p, 2))).join(' OR '), prec: 0 };
}

/** ANDs expressions; OR operands are parenthesised. */
function and(parts: P[]): P {
  if (parts.length === 1) return parts[0];
  return { sql: parts.map((p) => wrap(p, 1)).join(' AND '), prec: 1 };
}

/** Escapes backslash, `%` and `_` of a literal for a LIKE pattern with a backslash ESCAPE clause. */
function escapeLike(t: string): string {
  return t.replace(/[\\%_]/g, '\\$&');
}

/** A KeyTrail wildcard pattern (`*` = any run of characters) as a LIKE pattern. */
function likeOfWildcard(pattern: string): string {
  return pattern.split('*').map(escapeLike).join('%');
}

/**
 * `lower(expr) LIKE lower('pattern')`, with a backslash `ESCAPE` clause only when the pattern escapes something.
 * `pattern` is a LIKE pattern already (see {@link escapeLike}, {@link likeOfWildcard}).
 */
function like(expr: string, pattern: string): P {
  const escape = pattern.includes('\\') ? ` ESCAPE '\\'` : '';
  return atom(`lower(${expr}) LIKE lower(${sqlString(pattern)})${escape}`);
}

/** `regexp_like` with KeyTrail's flags as inline flags (`i`, `m`, `s` mean the same in Java patterns). */
function regex(expr: string, source: string, flags: string): P {
  const inline = [...new Set(flags)]
    .filter((f) => 'ims'.includes(f))
    .sort()
    .join('');
  return atom(`regexp_like(${expr}, ${sqlString((inline ? `(?${inline})` : '') + source)})`);
}

/**
 * Case-insensitive equality, as KeyTrail matches field values. `''` matches a present, empty value only (KeyTrail
 * keeps an empty column value as "absent", which `field:""` does not match).
 */
function equals(expr: string, text: string): P {
  if (text === '') return atom(`${expr} = ''`);
  return atom(`lower(${expr}) = lower(${sqlString(text)})`);
}

/** `cardinality(filter(array, r -> p)) > 0`: some element of the array passes `p` (Trino array functions). */
function anyOf(array: string, p: P): P {
  return atom(`cardinality(filter(${array}, r -> ${p.sql})) > 0`);
}

/** Escapes the characters that are special in a regex (Java patterns and RE2 alike). */
function regexEscape(t: string): string {
  return t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A string's text inside a JSON string literal (without the quotes). */
function jsonEscape(t: string): string {
  return JSON.stringify(t).slice(1, -1);
}

/** A JSON scalar that is not a string (how numbers, booleans and null appear in JSON text), lower case. */
const JSON_LITERAL = /^(-?\d+(\.\d+)?(e[+-]?\d+)?|true|false|null)$/;
/** One character of a JSON string's text: anything but a quote or backslash, or an escape. */
const JSON_CHAR = '(?:[^"\\\\]|\\\\.)';
/** What follows a JSON value (not a key, which a colon follows): a comma, a closing bracket, or the end. */
const AFTER_VALUE = '\\s*($|[,}\\]])';

/**
 * The string values (not the keys) of a JSON text, without their quotes but still JSON-escaped (`\"`, `\\`):
 * `regexp_extract_all`'s group 1 of a JSON string that a comma, a closing bracket or the end follows.
 */
function jsonStringValues(text: string): string {
  return `regexp_extract_all(${text}, ${sqlString(`"(${JSON_CHAR}*)"${AFTER_VALUE}`)}, 1)`;
}

/**
 * A regex matching one JSON leaf value in lower-cased JSON text, as KeyTrail matches a leaf (`field:*`: a
 * value that is not `""` nor `null`; exact: equal ignoring case; wildcard: `*` = any run of characters). Both
 * the JSON string form (`"v"`, JSON-escaped) and, when the value can be one, the bare literal (`42`, `true`).
 */
function leafPattern(v: Exclude<Value, { kind: 'regex' }>): string {
  switch (v.kind) {
    case 'any':
      return `(?:"${JSON_CHAR}+"${AFTER_VALUE}|-?[0-9]|true|false)`;
    case 'exact': {
      const x = v.text.toLowerCase();
      const alts = [`"${regexEscape(jsonEscape(x))}"`];
      if (JSON_LITERAL.test(x)) alts.push(regexEscape(x));
      return `(?:${alts.join('|')})${AFTER_VALUE}`;
    }
    case 'wildcard': {
      const parts = v.pattern.toLowerCase().split('*');
      const alts = [`"${parts.map((p) => regexEscape(jsonEscape(p))).join(`${JSON_CHAR}*`)}"`];
      if (parts.every((p) => /^[-+.0-9a-z]*$/.test(p))) alts.push(parts.map(regexEscape).join('[-+.0-9a-z]*'));
      return `(?:${alts.join('|')})${AFTER_VALUE}`;
    }
  }
}

/** JSONPath of keys for json_extract: `$.a.b`, or `$["a-b"]` for keys that are not plain identifiers. */
function jsonPath(keys: string[]): string {
  return '$' + keys.map((k) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`)).join('');
}

/** Epoch ms as CloudTrail writes times: `2024-03-01T00:00:00Z` (milliseconds only when not zero). */
function isoUtc(ms: number): string {
  return utcIso(ms);
}

/** Epoch ms as a Lake timestamp literal: `2024-03-01 00:00:00` (UTC). */
function lakeTimestamp(ms: number): string {
  return isoUtc(ms).replace('T', ' ').replace(/Z$/, '');
}

/** Parses a comparison operand like the engine does: a number, or a UTC time (`2024-03-01`, `2024-03-01T12:00Z`). */
function operand(text: string, forTime: boolean): number {
  if (!forTime && /^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(text)
    ? `${text}T00:00:00Z`
    : /[zZ]|[+-]\d{2}:?\d{2}$/.test(text)
      ? text
      : `${text}Z`;
  return Date.parse(iso);
}

/**
 * A `last:` duration as an amount and a unit: in the unit typed when it is a whole number (`24h` → 24 hour,
 * weeks as days), else in the largest whole unit of its length in ms.
 */
function interval(text: string, ms: number): [number, string] {
  const m = /^(\d+)(s|m|h|d|w)$/.exec(text.trim());
  if (m) {
    const unit = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'day' }[m[2] as 's'];
    return [m[2] === 'w' ? +m[1] * 7 : +m[1], unit];
  }
  if (ms % 864e5 === 0) return [ms / 864e5, 'day'];
  if (ms % 36e5 === 0) return [ms / 36e5, 'hour'];
  if (ms % 6e4 === 0) return [ms / 6e4, 'minute'];
  return [ms / 1e3, 'second'];
}

// ---------------------------------------------------------------------------------------------------------
// Targets: where one field's value is read from, in one dialect

/** One place a field's value is read from. */
interface Target {
  /** The value as a string (varchar), or null when the field is not a scalar (a struct, an array). */
  str: string | null;
  /** SQL that is true when the value is present and not empty (`field:*`). */
  present: P;
  /** A timestamp expression when the value is a time column (eventTime; Lake's timestamps). */
  time?: string;
  /** True when `time` is a Lake timestamp column (compared with `'YYYY-MM-DD HH:MM:SS'` literals). */
  lakeTime?: boolean;
  /** The array the value is inside, tested with `cardinality(filter(<array>, r -> ...)) > 0`. */
  array?: string;
  /** The value is the leaves of a JSON text (Athena's JSON string columns, Lake's maps as JSON): see {@link Translator.jsonMatch}. */
  json?: JsonLeaves;
}

/** The leaves at and below `keys` of the JSON text in column `col`. */
interface JsonLeaves {
  col: string;
  keys: string[];
  /** Lake: `col` is a map<string,string> (its JSON text is `json_format(CAST(col AS JSON))`). */
  map?: boolean;
}

/** How one query field translates. */
interface Resolved {
  targets: Target[];
  /** `key:` semantics: a key ID also matches the key ARN ending with it, an alias name the alias ARN. */
  keyMatch?: boolean;
  /** True for eventTime: comparisons are always times. */
  time?: boolean;
}

class Translator {
  /** `--` notes for what is approximated, in order of first use. */
  readonly notes: string[] = [];

  constructor(readonly dialect: SqlDialect) {}

  private note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  private get lake(): boolean {
    return this.dialect === 'lake';
  }

  /** A column or struct path as written in this dialect: lower case in Athena, CloudTrail's names in Lake. */
  private name(parts: string[]): string {
    return this.lake ? parts.join('.') : parts.join('.').toLowerCase();
  }

  /** The eventTime target (time range, `last:`, comparisons). */
  eventTime(): Target {
    return this.path('eventTime')!;
  }

  /** Resolves a query field name (see `../query/resolve`): aliases case-insensitively, then schema paths. */
  resolve(field: string): Resolved {
    const low = field.toLowerCase();
    if (low === 'principal') return { targets: [this.principal()] };
    if (low === 'username') return { targets: [this.username()] };
    const paths = ALIASES[low] ?? [field];
    const targets: Target[] = [];
    for (const p of paths) {
      const t = this.path(p);
      if (t) targets.push(t);
      else
        this.note(
          `"${field}" is not a column of the ${this.lake ? 'event data store' : 'CloudTrail table'}: conditions on it are FALSE.`,
        );
    }
    return { targets, keyMatch: low === 'key', time: paths.length === 1 && paths[0].toLowerCase() === 'eventtime' };
  }

  /**
   * `principal:` as KeyTrail shows it (`principalOf` in `../cloudtrail/event`): `userIdentity.arn`, else the
   * session issuer's ARN, else `invokedBy`, else `type:principalId` (or the type alone).
   */
  private principal(): Target {
    const parts = [
      ['userIdentity', 'arn'],
      ['userIdentity', 'sessionContext', 'sessionIssuer', 'arn'],
      ['userIdentity', 'invokedBy'],
      ['userIdentity', 'type'],
      ['userIdentity', 'principalId'],
    ].map((p) => this.name(p));
    const typed = `nullif(${parts[3]}, '') || coalesce(':' || nullif(${parts[4]}, ''), '')`;
    const str = `coalesce(nullif(${parts[0]}, ''), nullif(${parts[1]}, ''), nullif(${parts[2]}, ''), ${typed})`;
    return { str, present: and([atom(`${str} IS NOT NULL`), atom(`${str} <> ''`)]) };
  }

  /**
   * The user name KeyTrail derives (`usernameOf` in `../cloudtrail/event`, for free text): `userIdentity.userName`,
   * else `root` for the root user, else the role session name (after the `:` of principalId), else the session
   * issuer's user name.
   */
  private username(): Target {
    const [name, type, pid, issuer] = [
      ['userIdentity', 'userName'],
      ['userIdentity', 'type'],
      ['userIdentity', 'principalId'],
      ['userIdentity', 'sessionContext', 'sessionIssuer', 'userName'],
    ].map((p) => this.name(p));
    const str = `coalesce(nullif(${name}, ''), CASE WHEN ${type} = 'Root' THEN 'root' END, CASE WHEN strpos(${pid}, ':') > 0 THEN substr(${pid}, strpos(${pid}, ':') + 1) END, ${issuer})`;
    return { str, present: nonEmpty(str) };
  }

  /** Resolves a CloudTrail path (`userIdentity.sessionContext.sessionIssuer.arn`, `requestParameters.keyId`). */
  path(path: string): Target | null {
    const segs = path.split('.');
    let fields = SCHEMA;
    const named: string[] = [];
    let array: string | undefined;
    for (let i = 0; i < segs.length; i++) {
      const f = fields.find((x) => x.name.toLowerCase() === segs[i].toLowerCase());
      if (!f) return null;
      named.push(f.name);
      const kind = (this.lake && f.lake) || f.kind;
      if (kind === 'none') return null;
      const rest = segs.slice(i + 1);
      const col = array ? `r.${f.name.toLowerCase()}` : this.name(named);
      const base = array ? { array } : {};
      if (kind === 'struct' || kind === 'array') {
        if (!rest.length) {
          const present = kind === 'array' ? atom(`cardinality(${col}) > 0`) : atom(`${col} IS NOT NULL`);
          return { str: null, present, ...base };
        }
        if (kind === 'array') {
          if (array) return null;
          array = col;
          named.length = 0;
        }
        fields = f.children!;
        continue;
      }
      if (kind === 'json' && this.lake === false) return this.jsonTarget(col, rest, base);
      if (kind === 'json' || kind === 'map') {
        // a struct of CloudTrail that Lake stores as a map (addendum): its keys as CloudTrail names them
        const keys = rest.map((k, j) =>
          j === 0 && f.children ? (f.children.find((c) => c.name.toLowerCase() === k.toLowerCase())?.name ?? k) : k,
        );
        return this.mapTarget(col, keys, base);
      }
      if (rest.length) return null;
      if (kind === 'time') {
        if (this.lake) {
          return {
            str: `format_datetime(${col}, 'yyyy-MM-dd''T''HH:mm:ss''Z''')`,
            present: atom(`${col} IS NOT NULL`),
            time: col,
            lakeTime: true,
            ...base,
          };
        }
        return { str: col, present: nonEmpty(col), time: `try(from_iso8601_timestamp(${col}))`, ...base };
      }
      if (kind === 'bool') return { str: `CAST(${col} AS varchar)`, present: atom(`${col} IS NOT NULL`), ...base };
      return { str: col, present: nonEmpty(col), ...base };
    }
    return null;
  }

  /**
   * A path inside a JSON string column (Athena): `json_extract_scalar(col, '$.a.b')` as the value (`key:`,
   * comparisons), and the JSON leaves below it for matches (see {@link jsonMatch}).
   */
  private jsonTarget(col: string, keys: string[], base: { array?: string }): Target {
    const json = { col, keys };
    if (!keys.length) return { str: col, present: nonEmpty(col), json, ...base };
    const p = sqlString(jsonPath(keys));
    return {
      str: `json_extract_scalar(${col}, ${p})`,
      present: atom(`json_extract(${col}, ${p}) IS NOT NULL`),
      json,
      ...base,
    };
  }

  /**
   * A path inside a map<string,string> (Lake's requestParameters...; webIdFederationData.attributes):
   * `element_at(col, 'a')`, and JSON below it (nested objects are JSON strings in the map).
   */
  private mapTarget(col: string, keys: string[], base: { array?: string }): Target {
    if (!keys.length) {
      return {
        str: `json_format(CAST(${col} AS JSON))`,
        present: atom(`cardinality(${col}) > 0`),
        json: { col, keys, map: true },
        ...base,
      };
    }
    this.note(
      `Keys in the ${col} map are matched as typed (element_at), and JSON below the first key is read with json_extract_scalar, one value, not through arrays (KeyTrail ignores key case and matches every value at or below the path).`,
    );
    const el = `element_at(${col}, ${sqlString(keys[0])})`;
    if (keys.length === 1) return { str: el, present: nonEmpty(el), ...base };
    const p = sqlString(jsonPath(keys.slice(1)));
    return { str: `json_extract_scalar(${el}, ${p})`, present: atom(`json_extract(${el}, ${p}) IS NOT NULL`), ...base };
  }

  /** Applies a predicate of the value to a target, inside `cardinality(filter(...)) > 0` when the value is in an array. */
  private onTarget(t: Target, pred: (expr: string) => P): P {
    if (t.str === null) return FALSE_;
    const p = pred(t.str);
    return t.array ? anyOf(t.array, p) : p;
  }

  /** `field:value`. */
  match(field: string, v: Value): P {
    const r = this.resolve(field);
    // KeyTrail matches an exact eventID as written (by its hash), not ignoring case
    if (
      field.toLowerCase() === 'eventid' &&
      v.kind === 'exact' &&
      v.text !== '' &&
      r.targets.length === 1 &&
      r.targets[0].str
    ) {
      return atom(`${r.targets[0].str} = ${sqlString(v.text)}`);
    }
    return or(
      r.targets.map((t) => this.matchTarget(t, v, !!r.keyMatch)),
      true,
    );
  }

  private matchTarget(t: Target, v: Value, keyMatch: boolean): P {
    if (t.json && !keyMatch) return this.jsonMatch(t.json, v);
    switch (v.kind) {
      case 'any':
        return t.array ? anyOf(t.array, t.present) : t.present;
      case 'exact':
        return this.onTarget(t, (e) => (keyMatch ? keyRef(e, v.text) : equals(e, v.text)));
      case 'wildcard':
        return this.onTarget(t, (e) => like(e, likeOfWildcard(v.pattern)));
      case 'regex':
        this.regexNote();
        return this.onTarget(t, (e) => regex(e, v.source, v.flags));
    }
  }

  /**
   * `field:value` on the leaves of a JSON value, as KeyTrail matches a path: any leaf (string, number, boolean,
   * null) at or below the path, through arrays, with the value's case ignored. SQL reads the path with
   * `json_extract` and matches the leaves in its JSON text with one `regexp_like` over `lower(...)`: a JSON
   * string value (not a key: the next character is `,`, `}`, `]` or the end) equal to the value, JSON-escaped.
   * `json_extract` paths cannot pass through arrays, so for a path of two keys or more the value is also looked
   * for after the keys below the first one, in order, anywhere in the first key's JSON text. Both announced.
   */
  jsonMatch(j: JsonLeaves, v: Value): P {
    const text = (keys: string[]) =>
      j.map
        ? `json_format(CAST(${j.col} AS JSON))`
        : keys.length
          ? `json_format(json_extract(${j.col}, ${sqlString(jsonPath(keys))}))`
          : j.col;
    if (j.map) {
      this.note(
        `The whole ${j.col} map is matched in its JSON text: nested objects are JSON strings in the map, so only its top-level values match exactly.`,
      );
    }
    if (v.kind === 'regex') {
      this.regexNote();
      this.note(
        'A regex on JSON fields runs over each string value in the JSON text (still JSON-escaped); numbers and booleans are not matched, and paths do not pass through JSON arrays.',
      );
      return anyOf(jsonStringValues(text(j.keys)), regex('r', v.source, v.flags));
    }
    if (!j.map) {
      this.note(
        'Values in JSON columns are matched in the JSON text: as the log writes them (JSON-escaped, numbers as written), and a string value holding JSON punctuation such as ", " can match falsely; json_extract reads the keys of the path as typed (KeyTrail ignores their case).',
      );
    }
    const core = leafPattern(v);
    const parts: P[] = [atom(`regexp_like(lower(${text(j.keys)}), ${sqlString(`(^|[\\[:,])\\s*${core}`)})`)];
    if (j.keys.length >= 2 && !j.map) {
      const last = j.keys[j.keys.length - 1];
      const after =
        j.keys.length > 2
          ? `the keys ${j.keys
              .slice(1)
              .map((k) => `"${k}"`)
              .join(', ')} in this order`
          : `the key "${last}"`;
      this.note(
        `${j.col}.${j.keys.join('.')} may pass through JSON arrays, which json_extract paths cannot: the value is also matched after ${after} anywhere in the JSON text of ${j.col}.${j.keys[0]}, ignoring case (the keys need not be nested there).`,
      );
      const seq = j.keys
        .slice(1)
        .map((k) => `"${regexEscape(jsonEscape(k.toLowerCase()))}"\\s*:`)
        .join('.*?');
      const key = `${seq}\\s*\\[?\\s*${core}`;
      parts.push(atom(`regexp_like(lower(${text(j.keys.slice(0, 1))}), ${sqlString(key)})`));
    }
    return or(parts, true);
  }

  private regexNote(): void {
    this.note('Regexes run as regexp_like (Java pattern syntax); JavaScript-only syntax may behave differently.');
  }

  /** `field op value`: numbers, or times. @throws QuerySyntaxError when the operand is neither. */
  compare(node: Extract<QueryNode, { type: 'compare' }>): P {
    const r = this.resolve(node.field);
    const isTime = !!r.time;
    const x = operand(node.text, isTime);
    if (!Number.isFinite(x)) {
      throw new QuerySyntaxError(
        `"${node.text}" is not ${isTime ? 'a UTC time (2024-03-01 or 2024-03-01T12:00Z)' : 'a number or a UTC time'}`,
        node.pos,
        node.end,
      );
    }
    const numeric = !isTime && /^-?\d+(\.\d+)?$/.test(node.text);
    return or(
      r.targets.map((t) => {
        if (t.json && t.json.keys.length) {
          this.note(
            'A comparison on a JSON field reads one value at the path (json_extract_scalar, not through arrays); KeyTrail compares every value at or below it.',
          );
        }
        if (numeric) return this.onTarget(t, (e) => atom(`TRY_CAST(${e} AS DOUBLE) ${node.op} ${node.text}`));
        if (t.time && !t.array) return this.timeCompare(t, node.op, x);
        return this.onTarget(t, (e) =>
          atom(`try(from_iso8601_timestamp(${e})) ${node.op} from_iso8601_timestamp(${sqlString(isoUtc(x))})`),
        );
      }),
    );
  }

  /** A time column compared with an instant (a malformed Athena eventtime is NULL: no match, no failed query). */
  timeCompare(t: Target, op: string, ms: number): P {
    if (t.lakeTime) return atom(`${t.time} ${op} ${sqlString(lakeTimestamp(ms))}`);
    return atom(`${t.time} ${op} from_iso8601_timestamp(${sqlString(isoUtc(ms))})`);
  }

  /**
   * `last:24h`: Athena `eventtime >= current_timestamp - interval '24' hour`; Lake without INTERVAL literals,
   * `eventTime >= date_add('hour', -24, current_timestamp)` (as CloudTrail Lake's sample queries write it).
   */
  last(text: string, ms: number): P {
    const [n, unit] = interval(text, ms);
    if (this.lake) return atom(`${this.eventTime().time} >= date_add('${unit}', -${n}, current_timestamp)`);
    return atom(`${this.eventTime().time} >= current_timestamp - interval '${n}' ${unit}`);
  }

  /**
   * Free text (a bare word, "phrase", wildcard or /regex/ over the whole event). Lake: over the `eventJson`
   * column. Athena has no raw-text column: every column of the table ({@link FREE_TEXT_PATHS}; the JSON columns
   * as text for a word, by their string values for wildcards and regexes, which KeyTrail tests on values only)
   * plus the principal and user name KeyTrail derives. Announced in a `--` note.
   */
  freeText(v: Value): P {
    if (v.kind === 'any') return atom('TRUE');
    if (this.lake) {
      this.note(
        'Free text runs over the JSON text of the event (eventJson): key names and JSON punctuation match too, and characters JSON escapes (" \\ control characters) are matched escaped; the principal and user name KeyTrail derives (AWSAccount:AIDA..., a role session name) are searched only where the event holds them.',
      );
      if (v.kind === 'regex') {
        this.regexNote();
        return regex('eventJson', v.source, v.flags);
      }
      return like('eventJson', v.kind === 'exact' ? `%${escapeLike(v.text)}%` : `%${likeOfWildcard(v.pattern)}%`);
    }
    this.note(
      'Free text has no column in the CloudTrail table: it runs over every column (JSON columns as text: an exact word also matches key names, as KeyTrail matches field names; wildcards and regexes test the string values) and the principal and user name KeyTrail derives; fields the table has no column for are not searched.',
    );
    const targets = [...FREE_TEXT_PATHS.map((p) => this.path(p)!), this.principal(), this.username()];
    return or(
      targets.map((t) => {
        if (t.json && v.kind !== 'exact') {
          // KeyTrail's bare wildcards and regexes test values, not key names: the JSON text's string values
          const values = jsonStringValues(t.json.col);
          if (v.kind === 'regex') this.regexNote();
          return v.kind === 'wildcard'
            ? anyOf(values, like('r', `%${likeOfWildcard(v.pattern)}%`))
            : anyOf(values, regex('r', v.source, v.flags));
        }
        switch (v.kind) {
          case 'exact':
            return this.onTarget(t, (e) => like(e, `%${escapeLike(v.text)}%`));
          case 'wildcard':
            return this.onTarget(t, (e) => like(e, `%${likeOfWildcard(v.pattern)}%`));
          case 'regex':
            this.regexNote();
            return this.onTarget(t, (e) => regex(e, v.source, v.flags));
        }
      }),
    );
  }

  /** Translates an AST node. */
  node(n: QueryNode): P {
    switch (n.type) {
      case 'all':
        return atom('TRUE');
      case 'and':
        return and(n.children.map((c) => this.node(c)));
      case 'or':
        return or(n.children.map((c) => this.node(c)));
      case 'not':
        // NULL (an absent field) must count as "no match", so that NOT matches events without the field.
        return atom(`NOT coalesce(${this.node(n.child).sql}, FALSE)`);
      case 'last':
        return this.last(n.text, n.ms);
      case 'compare':
        return this.compare(n);
      case 'match':
        return n.field === null ? this.freeText(n.value) : this.match(n.field, n.value);
    }
  }
}

/** `expr IS NOT NULL AND expr <> ''`. */
function nonEmpty(expr: string): P {
  return and([atom(`${expr} IS NOT NULL`), atom(`${expr} <> ''`)]);
}

/**
 * `key:` for one value (see `keyRefMatches` in `../query/resolve`): the stored reference equals the typed one,
 * or ends with `/typed` (a key ID in a key ARN), or `:typed` (an alias name in an alias ARN), or the typed
 * ARN ends with the stored ID or alias name.
 */
function keyRef(expr: string, text: string): P {
  if (text === '') return equals(expr, text);
  const equal = [text];
  for (const sep of ['/', ':']) {
    const i = text.lastIndexOf(sep);
    if (i >= 0 && i < text.length - 1 && !equal.includes(text.slice(i + 1))) equal.push(text.slice(i + 1));
  }
  const lit = (t: string) => `lower(${sqlString(t)})`;
  const parts: P[] = [
    equal.length === 1 ? equals(expr, text) : atom(`lower(${expr}) IN (${equal.map(lit).join(', ')})`),
    like(expr, `%/${escapeLike(text)}`),
  ];
  if (text.includes('/')) parts.push(like(expr, `%:${escapeLike(text)}`));
  return or(parts);
}

/**
 * The fields free text is searched in, Athena: every string column and struct field of the table, the JSON
 * string columns and the resources' fields (KeyTrail searches every value of the event; fields the table has no
 * column for cannot be searched in Athena). Maps (webIdFederationData.attributes) are left out.
 */
function freeTextPaths(fields: Field[] = SCHEMA, prefix = ''): string[] {
  return fields.flatMap((f) => {
    const p = prefix + f.name;
    if (f.kind === 'struct' || f.kind === 'array') return freeTextPaths(f.children!, p + '.');
    return f.kind === 'map' || f.kind === 'none' ? [] : [p];
  });
}
const FREE_TEXT_PATHS = freeTextPaths();

/**
 * Translates a KeyTrail query to one SQL SELECT for Amazon Athena (`dialect: 'athena'`, over the table of
 * {@link ATHENA_TABLE_DDL}, default name {@link ATHENA_DEFAULT_TABLE}) or AWS CloudTrail Lake (`'lake'`, `FROM`
 * the event data store ID, default placeholder {@link LAKE_TABLE_PLACEHOLDER}).
 *
 * The SELECT lists eventTime, eventSource, eventName, userIdentity.arn, sourceIPAddress, awsRegion, errorCode
 * and requestParameters; WHERE holds the query's conditions (one top-level AND operand a line) and the time
 * range (`from` inclusive, `to` exclusive); ORDER BY eventTime (DESC when `descending`); LIMIT `limit`
 * (default 1000). An empty query gives no WHERE but the time range.
 *
 * Mapping (both dialects):
 * - `field:v` → `lower(col) = lower('v')`; `field:a*b` → `lower(col) LIKE lower('a%b')` (`%`, `_`, `\` escaped,
 *   with `ESCAPE '\'`); `field:/re/i` → `regexp_like(col, '(?i)re')`; `field:*` → `col IS NOT NULL AND col <> ''`;
 *   `NOT x` → `NOT coalesce(x, FALSE)` (an absent field is no match, so its negation matches, as in KeyTrail);
 *   `field>n` → `TRY_CAST(col AS DOUBLE) > n`; time operands (`eventTime>=2024-03-01`) compare as timestamps.
 * - Top-level fields and `userIdentity.*` → (struct) columns, names case-insensitive; `resources.ARN` /
 *   `resources.type` (`ResourceName`, `ResourceType`) → `cardinality(filter(resources, r -> ...)) > 0`.
 * - Athena: `requestParameters.x.y`, `responseElements.x`, `additionalEventData.x`, `serviceEventDetails.x`,
 *   `edgeDeviceDetails.x` → the leaves below the path, as KeyTrail matches them: `regexp_like` over
 *   `lower(json_format(json_extract(requestparameters, '$.x.y')))` (see `Translator.jsonMatch`; regexes over
 *   each string value, `regexp_extract_all`); `key:` and comparisons read `json_extract_scalar`. Times →
 *   `try(from_iso8601_timestamp(eventtime))` against `from_iso8601_timestamp('2024-03-01T00:00:00Z')`; the
 *   time range also bounds the `"timestamp"` partition (day of `from` to the day after `to`).
 * - Lake: the same fields, `addendum` and `edgeDeviceDetails` as maps → `element_at(requestParameters, 'x')`
 *   (deeper keys with json_extract_scalar on the element, a JSON string); `eventTime >= '2024-03-01 00:00:00'`;
 *   `readOnly`, `managementEvent` (booleans) as varchar; `sessionContext.sourceIdentity`, `inScopeOf.*`,
 *   `identityProvider` are columns; free text over `eventJson`.
 * - Shorthands: `account:` → userIdentity.accountId or recipientAccountId; `key:` → requestParameters.keyId or a
 *   resource ARN, equal or ending with `/value` (`:value` for alias names); `principal:` → userIdentity.arn,
 *   else the session issuer ARN, else invokedBy, else `type:principalId`; `Username` → userName, else `root`,
 *   else the role session name, else the issuer's user name; `ip:` → sourceIPAddress; `region:` → awsRegion;
 *   lookup names EventId (exact: as written), EventName, EventSource, ReadOnly, ResourceType, ResourceName,
 *   AccessKeyId.
 * - `last:24h` → Athena `eventtime >= current_timestamp - interval '24' hour`, Lake
 *   `eventTime >= date_add('hour', -24, current_timestamp)`.
 *
 * Every difference from KeyTrail's result is announced in `--` lines above the SELECT when the query has it:
 * free text (Athena: over every column and the derived principal and user name; Lake: over eventJson); regexes
 * (Java syntax); JSON paths of two keys or more (arrays on the way); whole Lake maps; JSON comparisons; fields
 * that are not columns (FALSE); the partition's day of delivery delay; the LIMIT.
 *
 * @throws QuerySyntaxError when a comparison operand is neither a number nor a time (as KeyTrail's engine).
 * @throws Error when `opts.table` is not a plain (optionally qualified) table name or data store ID.
 */
export function toSql(ast: QueryNode, dialect: SqlDialect, opts: SqlOptions = {}): string {
  const tr = new Translator(dialect);
  const lake = dialect === 'lake';
  const table = opts.table ?? (lake ? LAKE_TABLE_PLACEHOLDER : ATHENA_DEFAULT_TABLE);
  if (!/^[A-Za-z0-9_$.\-"`]+$/.test(table)) throw new Error(`not a table name: ${JSON.stringify(table)}`);

  const where: P[] = [];
  if (ast.type === 'and') for (const c of ast.children) where.push(tr.node(c));
  else if (ast.type !== 'all') where.push(tr.node(ast));
  const t = tr.eventTime();
  const from = opts.from !== undefined && Number.isFinite(opts.from) ? opts.from : undefined;
  const to = opts.to !== undefined && Number.isFinite(opts.to) ? opts.to : undefined;
  if (from !== undefined) where.push(tr.timeCompare(t, '>=', from));
  if (to !== undefined) where.push(tr.timeCompare(t, '<', to));
  if (!lake && (from !== undefined || to !== undefined)) {
    // the partition of ATHENA_TABLE_DDL's projection: the day of the S3 key, which is the delivery day
    const day = (ms: number) => isoUtc(ms).slice(0, 10).replaceAll('-', '/');
    if (from !== undefined) where.push(atom(`"timestamp" >= ${sqlString(day(from))}`));
    if (to !== undefined) where.push(atom(`"timestamp" <= ${sqlString(day(to + 864e5))}`));
    tr.notes.push(
      'The "timestamp" partition (the day CloudTrail delivered the log file) limits the S3 objects read; it allows one day of delivery delay after the window.',
    );
  }

  const columns = lake
    ? [
        'eventTime',
        'eventSource',
        'eventName',
        'userIdentity.arn',
        'sourceIPAddress',
        'awsRegion',
        'errorCode',
        'requestParameters',
      ]
    : [
        'eventtime',
        'eventsource',
        'eventname',
        'useridentity.arn',
        'sourceipaddress',
        'awsregion',
        'errorcode',
        'requestparameters',
      ];
  const lines = tr.notes.map((n) => `-- ${n}`);
  lines.push('SELECT', columns.map((c) => `  ${c}`).join(',\n'), `FROM ${table}`);
  where.forEach((p, i) => lines.push(`${i === 0 ? 'WHERE' : '  AND'} ${wrap(p, 1)}`));
  lines.push(`ORDER BY ${columns[0]}${opts.descending ? ' DESC' : ''}`);
  const limit = opts.limit ?? DEFAULT_LIMIT;
  if (Number.isFinite(limit) && limit > 0) {
    lines.splice(
      lines.indexOf('SELECT'),
      0,
      `-- At most ${Math.floor(limit)} rows (LIMIT ${Math.floor(limit)}): remove the LIMIT to get every matching event.`,
    );
    lines.push(`LIMIT ${Math.floor(limit)}`);
  }
  return lines.join('\n');
}
