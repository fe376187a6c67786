import 'fake-indexeddb/auto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATHENA_TABLE_DDL, toSql } from '../../src/lib/export/sql';
import type { CloudTrailEvent } from '../../src/lib/cloudtrail/event';
import { stringHash } from '../../src/lib/codec/hash';
import { ingestTask } from '../../src/lib/ingest/ingest-core';
import { ColumnarIndex } from '../../src/lib/query/columnar';
import { Engine } from '../../src/lib/query/engine';
import { FieldIndex } from '../../src/lib/query/fieldIndex';
import { parseQuery } from '../../src/lib/query/parser';
import { openDB } from '../../src/lib/store/db';
import { RawReader } from '../../src/lib/store/raw';
import { buildFieldStore } from '../../src/lib/codec/fields';
import { buildColumns, type Segment } from '../../src/lib/codec/segment';
import { StoreWriter } from '../../src/lib/store/writer';
import { addPendingFile } from './helpers';
import { SQL_CORPUS } from './sql-corpus';

/**
 * Agreement of "Copy as SQL" (Athena) with KeyTrail's engine, measured on a real SQL engine: the public samples
 * (../shared/datasets/public, skipped when absent) are ingested as KeyTrail ingests them, the same events are
 * loaded into DuckDB as a table of ATHENA_TABLE_DDL's shape, and every Athena query of the SQL test corpus must
 * count the events KeyTrail's engine counts over the same records restricted to the table's columns (what Athena
 * can see: a field the table has no column for, such as `managementEvent` or `@timestamp` in some exports, cannot
 * be searched there; README, "Export, and moving to Athena or CloudTrail Lake").
 *
 * The table is built as Athena's Hive JsonSerDe reads CloudTrail records: object keys match column and struct
 * field names case-insensitively (`resources[].arn` fills `arn` as `ARN` does), STRING columns holding a JSON
 * object or array get its JSON text, numbers and booleans their JSON text, absent fields NULL. The partition
 * columns `region` and `timestamp` are the record's awsRegion and eventTime day (`yyyy/MM/dd`), as CloudTrail's
 * S3 key layout files them.
 *
 * Presto/Trino → DuckDB rewrite, function names only (the SQL is otherwise run as generated):
 * - `regexp_like` → `regexp_matches` (both unanchored; RE2 instead of Java patterns)
 * - `cardinality` → `len` (of an array)
 * - `json_format` → `json` (JSON value to its compact text)
 * - `json_extract_scalar` → `json_extract_scalar_trino`, and `from_iso8601_timestamp` → `from_iso8601_timestamp_trino`:
 *   macros defined below, because DuckDB has no function of the same meaning (json_extract_string returns an
 *   object's text where Trino's json_extract_scalar returns NULL; the ISO 8601 parse is a TIMESTAMPTZ cast).
 * Names kept: `lower`, `json_extract`, `filter` (lambda `r -> ...`), `try`, `TRY_CAST`, `coalesce`, `nullif`,
 * `current_timestamp`, `LIKE ... ESCAPE`.
 */
const ROOT = join(__dirname, '../../../shared/datasets/public');
const present = existsSync(join(ROOT, 'MANIFEST.json'));

/** Function-name rewrite of generated Athena SQL for DuckDB (see the file comment). */
const PRESTO_TO_DUCKDB: Record<string, string> = {
  regexp_like: 'regexp_matches',
  cardinality: 'len',
  json_format: 'json',
  json_extract_scalar: 'json_extract_scalar_trino',
  from_iso8601_timestamp: 'from_iso8601_timestamp_trino',
};

/**
 * Corpus queries not run in DuckDB, with the reason (a syntax difference of the engines, not of KeyTrail's SQL).
 */
const NOT_IN_DUCKDB: Record<string, string> = {
  'requestParameters.x-amz-acl:private':
    'the JSONPath of a key that is not an identifier is $["x-amz-acl"] in Trino, $."x-amz-acl" in DuckDB',
};

const MACROS = [
  `CREATE MACRO json_extract_scalar_trino(j, p) AS
     CASE WHEN json_type(json_extract(j, p)) IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string(j, p) END`,
  `CREATE MACRO from_iso8601_timestamp_trino(s) AS CAST(s AS TIMESTAMPTZ)`,
];

/** Rewrites function names outside string literals (`--` comment lines are dropped first). */
function toDuckdb(sql: string): string {
  return sql
    .split('\n')
    .filter((l) => !l.startsWith('--'))
    .join('\n')
    .split(/('(?:[^']|'')*')/)
    .map((part, i) =>
      i % 2
        ? part
        : part.replace(/\b([a-z_0-9]+)\s*\(/gi, (m, name: string) =>
            PRESTO_TO_DUCKDB[name.toLowerCase()] ? `${PRESTO_TO_DUCKDB[name.toLowerCase()]}(` : m,
          ),
    )
    .join('');
}

// ---------------------------------------------------------------------------------------------------------------
// The table: Hive types of the DDL, as DuckDB types, and rows as the JSON SerDe reads them

type HiveType =
  | { t: 'string' }
  | { t: 'boolean' }
  | { t: 'struct'; fields: [string, HiveType][] }
  | { t: 'array'; of: HiveType }
  | { t: 'map' };

function parseType(s: string, at: { i: number }): HiveType {
  const word = /^\s*([A-Za-z]+)/.exec(s.slice(at.i))!;
  at.i += word[0].length;
  const name = word[1].toUpperCase();
  const expect = (c: string) => {
    while (/\s/.test(s[at.i])) at.i++;
    if (s[at.i] !== c) throw new Error(`DDL: expected ${c} at ${s.slice(at.i, at.i + 30)}`);
    at.i++;
  };
  if (name === 'STRING') return { t: 'string' };
  if (name === 'BOOLEAN') return { t: 'boolean' };
  if (name === 'ARRAY') {
    expect('<');
    const of = parseType(s, at);
    expect('>');
    return { t: 'array', of };
  }
  if (name === 'MAP') {
    expect('<');
    parseType(s, at);
    expect(',');
    parseType(s, at);
    expect('>');
    return { t: 'map' };
  }
  if (name === 'STRUCT') {
    expect('<');
    const fields: [string, HiveType][] = [];
    for (;;) {
      const f = /^\s*([a-z0-9_]+)\s*:/.exec(s.slice(at.i))!;
      at.i += f[0].length;
      fields.push([f[1], parseType(s, at)]);
      while (/\s/.test(s[at.i])) at.i++;
      if (s[at.i] === ',') at.i++;
      else break;
    }
    expect('>');
    return { t: 'struct', fields };
  }
  throw new Error(`DDL: unknown type ${name}`);
}

/** The columns of ATHENA_TABLE_DDL (and its partition columns), parsed. */
function ddlColumns(): [string, HiveType][] {
  const body = /CREATE EXTERNAL TABLE \w+ \(\n([\s\S]*?)\n\)\n/.exec(ATHENA_TABLE_DDL)![1];
  const cols: [string, HiveType][] = [];
  const at = { i: 0 };
  while (at.i < body.length) {
    const m = /^\s*([a-z0-9_]+)\s+/.exec(body.slice(at.i));
    if (!m) break;
    at.i += m[0].length;
    cols.push([m[1], parseType(body, at)]);
    while (at.i < body.length && /[\s,]/.test(body[at.i])) at.i++;
  }
  const part = /PARTITIONED BY \(([^)]*)\)/.exec(ATHENA_TABLE_DDL)![1];
  for (const p of part.split(',')) cols.push([p.trim().split(/\s+/)[0].replace(/`/g, ''), { t: 'string' }]);
  return cols;
}

function duckType(h: HiveType): string {
  switch (h.t) {
    case 'string':
      return 'VARCHAR';
    case 'boolean':
      return 'BOOLEAN';
    case 'map':
      return 'MAP(VARCHAR, VARCHAR)';
    case 'array':
      return `${duckType(h.of)}[]`;
    case 'struct':
      return `STRUCT(${h.fields.map(([n, t]) => `"${n}" ${duckType(t)}`).join(', ')})`;
  }
}

/** A JSON value read into a Hive type as the JSON SerDe does (keys case-insensitive; the last key of a name wins). */
function serde(v: unknown, h: HiveType): unknown {
  if (v === null || v === undefined) return null;
  switch (h.t) {
    case 'string':
      return typeof v === 'string' ? v : JSON.stringify(v);
    case 'boolean':
      return typeof v === 'boolean' ? v : typeof v === 'string' ? v.toLowerCase() === 'true' : null;
    case 'array':
      return Array.isArray(v) ? v.map((x) => serde(x, h.of)) : null;
    case 'map':
      return v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, serde(x, { t: 'string' })]))
        : null;
    case 'struct': {
      if (typeof v !== 'object' || Array.isArray(v)) return null;
      const byLower = new Map(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k.toLowerCase(), x]));
      return Object.fromEntries(h.fields.map(([n, t]) => [n, serde(byLower.get(n), t)]));
    }
  }
}

/**
 * An event restricted to the table's columns (what Athena can see of it), keys and values as logged: struct
 * fields matched case-insensitively, STRING columns kept whole (KeyTrail then sees the leaves inside).
 */
function project(v: unknown, h: HiveType): unknown {
  if (v === null || v === undefined || h.t !== 'struct' || typeof v !== 'object') {
    if (h.t === 'array' && Array.isArray(v)) return v.map((x) => project(x, h.of));
    return v;
  }
  if (Array.isArray(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const f = h.fields.find(([n]) => n === k.toLowerCase());
    if (f) out[k] = project(x, f[1]);
  }
  return out;
}

function segmentOf(id: number, events: CloudTrailEvent[]): Segment {
  const built = buildColumns(events);
  const eid = new Uint32Array(events.length * 2);
  events.forEach((ev, i) => {
    if (typeof ev.eventID === 'string' && ev.eventID) stringHash(ev.eventID, eid, i * 2);
  });
  return { id, fileId: 1, n: events.length, time: built.time, eid, cols: built.cols };
}

// ---------------------------------------------------------------------------------------------------------------

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else out.push(relative(ROOT, p));
  }
  return out;
}

describe.skipIf(!present)('Athena SQL in DuckDB agrees with KeyTrail over the public samples', () => {
  let engine: Engine;
  let n = 0;
  /** Each row's event text (for the differences a failure lists). */
  let texts: string[] = [];
  let con: DuckDBConnection;
  let tmp = '';

  beforeAll(async () => {
    // ingest the corpus as the app does
    const manifest = JSON.parse(readFileSync(join(ROOT, 'MANIFEST.json'), 'utf8')) as { files: { path: string }[] };
    const db = openDB(`sql-duckdb-${Date.now()}`);
    const writer = new StoreWriter(db);
    const files = walk(ROOT)
      .filter((p) => manifest.files.some((f) => f.path === p || f.path.startsWith(p + '!')))
      .sort();
    for (const path of files) {
      const bytes = new Uint8Array(readFileSync(join(ROOT, path)));
      const fileId = await addPendingFile(db, path, bytes.length);
      await ingestTask(
        db,
        writer,
        { fileId, path, source: new Blob([bytes]), size: bytes.length, lastModified: 0, fingerprint: path },
        () => {},
      );
    }
    const raw = new RawReader(db);
    texts = [];
    let stored = 0;
    for (const seg of await db.segments.toArray()) {
      texts.push(...(await raw.chunkTexts(seg.id)));
      stored += seg.n;
    }
    db.close();
    expect(texts.length).toBe(stored);
    // one record of our own whose eventTime is not a time: a time window must skip it, not fail the query
    texts.push(
      JSON.stringify({
        eventVersion: '1.08',
        eventTime: '14/09/2020 00:50',
        eventSource: 'kms.amazonaws.com',
        eventName: 'Decrypt',
        awsRegion: 'us-east-1',
        eventID: 'malformed-time-0001',
      }),
    );
    n = texts.length;

    // KeyTrail's engine over the stored events restricted to the table's columns
    const cols = ddlColumns();
    const record: HiveType = { t: 'struct', fields: cols.filter(([c]) => c !== 'region' && c !== 'timestamp') };
    const events = texts.map((t) => project(JSON.parse(t), record) as CloudTrailEvent);
    const ix = new ColumnarIndex();
    const fx = new FieldIndex();
    ix.addSegment(segmentOf(1, events));
    fx.add({ id: 1, ...buildFieldStore(events) }, 0);
    engine = new Engine(ix, fx);

    // the same events as the Athena table
    tmp = mkdtempSync(join(tmpdir(), 'keytrail-sql-'));
    const file = join(tmp, 'events.ndjson');
    writeFileSync(
      file,
      texts
        .map((t, i) => {
          const e = JSON.parse(t) as Record<string, unknown>;
          const row = serde(e, record) as Record<string, unknown>;
          const time = typeof e.eventTime === 'string' ? e.eventTime : '';
          row.region = typeof e.awsRegion === 'string' ? e.awsRegion : null;
          row.timestamp = /^\d{4}-\d{2}-\d{2}/.test(time) ? time.slice(0, 10).replaceAll('-', '/') : null;
          row.keytrail_row = i; // not a column of the DDL: names the event when a count differs
          return JSON.stringify(row);
        })
        .join('\n'),
    );
    const inst = await DuckDBInstance.create(':memory:');
    con = await inst.connect();
    await con.run(`SET TimeZone = 'UTC'`);
    for (const m of MACROS) await con.run(m);
    const spec = [
      ...cols.map(([c, t]) => `'${c}': '${duckType(t).replaceAll("'", "''")}'`),
      `'keytrail_row': 'INTEGER'`,
    ].join(', ');
    await con.run(
      `CREATE TABLE cloudtrail_logs AS SELECT * FROM read_json('${file}', format = 'newline_delimited', columns = {${spec}})`,
    );
  }, 120_000);

  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('the table holds every stored event', async () => {
    const r = await con.runAndReadAll('SELECT count(*) FROM cloudtrail_logs');
    expect(Number(r.getRows()[0][0])).toBe(n);
    expect(n).toBeGreaterThan(200);
  });

  /** The corpus queries whose counts differ, with the SQL and a few differing events. */
  async function disagreements(window: { from?: number; to?: number }): Promise<{ bad: string[]; matched: number }> {
    const now = Date.now();
    const bad: string[] = [];
    let matched = 0;
    for (const q of SQL_CORPUS) {
      if (NOT_IN_DUCKDB[q]) continue;
      const ast = parseQuery(q);
      const bm = engine.evaluate(ast, { now, ...window });
      let want = 0;
      for (let i = 0; i < n; i++) want += bm[i];
      if (want > 0 && want < n) matched++;
      const sql = toDuckdb(toSql(ast, 'athena', { limit: 0, ...window }));
      let got: number;
      try {
        const r = await con.runAndReadAll(`SELECT count(*) FROM (\n${sql}\n)`);
        got = Number(r.getRows()[0][0]);
      } catch (e) {
        bad.push(`${q}: DuckDB error ${(e as Error).message.split('\n')[0]}\n${sql}`);
        continue;
      }
      if (got !== want) {
        const rows = (
          await con.runAndReadAll(
            `SELECT keytrail_row FROM (\n${sql.replace(/^SELECT\n/m, 'SELECT keytrail_row,\n')}\n)`,
          )
        )
          .getRows()
          .map((r) => Number(r[0]));
        const sqlOnly = rows
          .filter((r) => !bm[r])
          .slice(0, 3)
          .map((r) => texts[r].slice(0, 300));
        const ktOnly = [...bm.keys()]
          .filter((r) => bm[r] && !rows.includes(r))
          .slice(0, 3)
          .map((r) => texts[r].slice(0, 300));
        bad.push(
          `${q}: KeyTrail ${want}, SQL ${got} (only SQL: ${sqlOnly.join(' ')}; only KeyTrail: ${ktOnly.join(' ')})\n${sql}`,
        );
      }
    }
    return { bad, matched };
  }

  it('every corpus query counts the same events in DuckDB as in KeyTrail', async () => {
    const { bad, matched } = await disagreements({});
    expect(bad, bad.join('\n\n')).toEqual([]);
    // the corpus selects real subsets of the samples, not only nothing or everything
    expect(matched).toBeGreaterThan(50);
  });

  it('the same in a time window (partition condition, a malformed eventtime skipped)', async () => {
    const window = { from: Date.UTC(2014, 2, 1), to: Date.UTC(2020, 7, 1, 12) };
    const inWindow = engine.evaluate(parseQuery(''), window).reduce((a, b) => a + b, 0);
    expect(inWindow).toBeGreaterThan(20);
    const { bad } = await disagreements(window);
    expect(bad, bad.join('\n\n')).toEqual([]);
  });
});
