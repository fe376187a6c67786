import type { CloudTrailEvent } from '../cloudtrail/event';
import { eventTimeMs, isEvent } from '../cloudtrail/event';
import { SEP, type FieldStore } from '../codec/fields';
import { COLUMN_NAMES, COLUMN_OF, ColumnsBuilder } from '../codec/segment';
import type { PreparedBlock } from '../store/prepared';
import { DELIVERY_SCAN_WASM_BASE64 } from './deliveryScanWasm';

/** What {@link scanDelivery} read: as `prepare` would give them for the same S3 delivery document. */
export interface ScannedDelivery {
  /** Content hash of each record (two u32 lanes a record). */
  h: Uint32Array;
  /** eventID hash of each record (two lanes; 0, 0 for none). */
  e: Uint32Array;
  blocks: PreparedBlock[];
}

interface Exports {
  memory: WebAssembly.Memory;
  TABLES_END: WebAssembly.Global;
  begin(
    doc: number,
    docLen: number,
    keys: number,
    keysCap: number,
    vals: number,
    valsCap: number,
    arena: number,
    arenaCap: number,
  ): number;
  block(maxRows: number): number;
  blockStats(which: number): number;
  table(which: number): number;
  dict(d: number, which: number): number;
}

let instance: Exports | null | undefined;

/** The reader's module, instantiated once per thread (null where WebAssembly is unavailable). */
function reader(): Exports | null {
  if (instance !== undefined) return instance;
  try {
    const bytes = Uint8Array.from(atob(DELIVERY_SCAN_WASM_BASE64), (c) => c.charCodeAt(0));
    const module = new WebAssembly.Module(bytes);
    instance = new WebAssembly.Instance(module, {
      env: {
        abort() {
          throw new Error('deliveryScan: abort');
        },
      },
    }).exports as unknown as Exports;
  } catch {
    instance = null;
  }
  return instance;
}

/**
 * Largest document (bytes) the reader takes: its module's memory holds the document and never shrinks, so a
 * larger one (CloudTrail delivers files far smaller) is read with JavaScript rather than kept in every worker.
 */
export const MAX_SCAN_BYTES = 64 << 20;
/** Bytes of the values region (a block's distinct field-store values; the reader declines a block past it). */
const VALS_CAP = 16 << 20;
/** Bytes of the keys region (path keys of one block, joined). */
const KEYS_CAP = 1 << 20;
/**
 * Bytes of the arena holding a block's distinct texts the columns are derived from (the reader declines a
 * block past it: some 20 times what a block of CloudTrail events needs).
 */
const ARENA_CAP = 32 << 20;
/** A row without the member (the reader's NONE). */
const NONE = 0xffffffff;

/** How an event is made from a text of one of the reader's dictionaries (wasm/deliveryScan.ts, N_DICTS). */
type Wrap = (v: unknown) => object;
const top =
  (name: string): Wrap =>
  (v) => ({ [name]: v });
const identity =
  (name: string): Wrap =>
  (v) => ({ userIdentity: { [name]: v } });
const whole: Wrap = (v) => v as object;
/** The reader's dictionaries, in its order: how each text becomes an event the column derivations read. */
const DICTS: Wrap[] = [
  top('eventTime'),
  top('eventSource'),
  top('eventName'),
  top('awsRegion'),
  top('recipientAccountId'),
  top('sourceIPAddress'),
  top('userAgent'),
  top('errorCode'),
  top('eventType'),
  top('readOnly'),
  identity('type'),
  identity('accountId'),
  identity('accessKeyId'),
  whole, // identity projection
  whole, // caller projection
  whole, // key projection
];
/**
 * The dictionary each string column is derived from, in COLUMN_NAMES order: the member itself, or the
 * projection holding every member its derivation (codec/segment.ts STRING_COLUMNS) reads.
 */
const DICT_OF_COLUMN: Record<string, number> = {
  eventSource: 1,
  eventName: 2,
  awsRegion: 3,
  recipientAccountId: 4,
  sourceIPAddress: 5,
  userAgent: 6,
  errorCode: 7,
  eventType: 8,
  readOnly: 9,
  identityType: 10,
  accountId: 11,
  accessKeyId: 12,
  principal: 13,
  username: 13,
  caller: 14,
  key: 15,
  resourceNames: 15,
  resourceTypes: 15,
};
const COLUMN_DICT = COLUMN_NAMES.map((name) => {
  const d = DICT_OF_COLUMN[name];
  if (d === undefined) throw new Error(`deliveryScan: no dictionary for column ${name}`);
  return d;
});

const utf8 = new TextDecoder('utf-8');

/**
 * Reads an S3 delivery document (`{"Records":[...]}`, UTF-8 bytes) with the byte-level reader
 * (wasm/deliveryScan.ts) in blocks of `blockRows` records: each block's field store and columns, and every
 * record's content and eventID hashes, equal to what `prepareReference` computes from the parsed events
 * (tests/unit/deliveryScan.test.ts checks it over the public samples and generated events).
 *
 * Returns null, having done nothing the caller must undo, when the reader does not read this document
 * exactly as JavaScript would (see the module comment of wasm/deliveryScan.ts: bytes that are not UTF-8, escapes,
 * numbers other than integers, repeated keys, a record that is not an event...), when it is over
 * {@link MAX_SCAN_BYTES}, or when WebAssembly or memory for it is unavailable: the caller then reads it with
 * JavaScript. Never throws.
 */
export function scanDelivery(bytes: Uint8Array, blockRows: number): ScannedDelivery | null {
  const x = reader();
  if (!x || bytes.length === 0 || bytes.length > MAX_SCAN_BYTES) return null;
  const base = Number(x.TABLES_END.value);
  const valsCap = Math.min(bytes.length, VALS_CAP) + 1024;
  const keys = base;
  const vals = keys + KEYS_CAP;
  const arena = vals + valsCap;
  const doc = arena + ARENA_CAP;
  const need = doc + bytes.length + 16;
  const mem = x.memory;
  if (mem.buffer.byteLength < need) {
    try {
      mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
    } catch {
      return null; // no memory for it here: JavaScript reads it
    }
  }
  const u8 = new Uint8Array(mem.buffer);
  u8.set(bytes, doc);
  u8.fill(0, doc + bytes.length, doc + bytes.length + 16);
  if (!x.begin(doc, bytes.length, keys, KEYS_CAP, vals, valsCap, arena, ARENA_CAP)) return null;
  const hs: Uint32Array[] = [];
  const es: Uint32Array[] = [];
  const blocks: PreparedBlock[] = [];
  let start = 0;
  try {
    for (;;) {
      const n = x.block(blockRows);
      if (n < 0) return null;
      if (n === 0) break;
      const b = readBlock(x, n);
      if (!b) return null;
      blocks.push({ start, n, ...b.block });
      hs.push(b.h);
      es.push(b.e);
      start += n;
    }
  } catch {
    return null; // a trap in the module or a derivation that throws: JavaScript reads it and says what is wrong
  }
  return { h: concat(hs, start * 2), e: concat(es, start * 2), blocks };
}

/**
 * The block just read: its field store, hashes and columns. Each column is derived once per distinct text of
 * its dictionary (the member itself, or the projection of the members its derivation reads), and each
 * eventTime parsed once: the same dictionaries, in the same first-seen order, as ColumnsBuilder.add of every
 * event. Null when a record is not an event (the caller then reads the document with JavaScript, which says
 * why).
 */
function readBlock(
  x: Exports,
  n: number,
): { block: Omit<PreparedBlock, 'start' | 'n'>; h: Uint32Array; e: Uint32Array } | null {
  const buf = x.memory.buffer;
  const nPaths = x.blockStats(0);
  const nValues = x.blockStats(1);
  const nEntries = x.blockStats(2);
  const keysLen = x.blockStats(3);
  const valsLen = x.blockStats(4);
  const arenaLen = x.blockStats(5);
  const arenaBytes = new Uint8Array(buf, x.table(6), arenaLen);
  const arena = arenaLen ? utf8.decode(arenaBytes) : '';
  // ASCII: byte offsets are string offsets; otherwise each text is decoded from its bytes
  const asciiArena = arena.length === arenaLen;
  const textAt = (from: number, to: number): string =>
    asciiArena ? arena.slice(from, to) : utf8.decode(arenaBytes.subarray(from, to));
  const nd = DICTS.length;
  const ids: Uint32Array[] = [];
  const infos: Uint32Array[] = [];
  const counts: number[] = [];
  /** Each dictionary's events, made when first needed; index `count` is the event without the member. */
  const events: (object | undefined)[][] = [];
  for (let d = 0; d < nd; d++) {
    const count = x.dict(d, 2);
    counts.push(count);
    ids.push(new Uint32Array(buf, x.dict(d, 1), n));
    infos.push(new Uint32Array(buf, x.dict(d, 0), count * 4));
    events.push(new Array(count + 1));
  }
  const eventOf = (d: number, k: number): object => {
    let ev = events[d][k];
    if (ev === undefined) {
      if (k === counts[d]) ev = {};
      else {
        const at = infos[d][k * 4];
        const len = infos[d][k * 4 + 1];
        // a string without an escape is its text between the quotes; anything else is JSON
        const plain = arenaBytes[at] === 34 && infos[d][k * 4 + 3] === 0;
        const v = plain ? textAt(at + 1, at + len - 1) : JSON.parse(textAt(at, at + len));
        ev = DICTS[d](v);
      }
      events[d][k] = ev;
    }
    return ev;
  };
  // an event has eventSource and eventName strings (isEvent): every distinct value, and no row without them
  for (const d of [1, 2]) {
    if (ids[d].includes(NONE)) return null;
    for (let k = 0; k < counts[d]; k++) if (!isEvent({ eventSource: '', eventName: '', ...eventOf(d, k) })) return null;
  }
  const columns = new ColumnsBuilder(n);
  const ncol = COLUMN_OF.length;
  const cache = COLUMN_DICT.map((d) => new Int32Array(counts[d] + 1).fill(-1));
  const timeMs = new Float64Array(counts[0] + 1).fill(-Infinity);
  const row = new Uint32Array(ncol);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < ncol; c++) {
      const d = COLUMN_DICT[c];
      const id = ids[d][i];
      const k = id === NONE ? counts[d] : id;
      let code = cache[c][k];
      if (code < 0) code = cache[c][k] = columns.code(c, COLUMN_OF[c](eventOf(d, k) as CloudTrailEvent));
      row[c] = code;
    }
    const t = ids[0][i];
    const k = t === NONE ? counts[0] : t;
    let ms = timeMs[k];
    if (ms === -Infinity) ms = timeMs[k] = eventTimeMs(eventOf(0, k) as CloudTrailEvent);
    columns.addRow(ms, row);
  }
  const keys = keysLen ? utf8.decode(new Uint8Array(buf, x.table(8), keysLen)).split(SEP) : [];
  const table = new Int32Array(buf, x.table(5), nPaths * 8);
  const paths: string[] = new Array(nPaths);
  for (let i = 0; i < nPaths; i++) {
    const parent = table[i * 8 + 2];
    paths[i] = parent < 0 ? keys[i] : `${paths[parent]}.${keys[i]}`;
  }
  const rowStart = new Uint32Array(buf, x.table(2), n + 1).slice();
  const entryPath = new Uint16Array(buf, x.table(0), nEntries).slice();
  const ev32 = new Uint32Array(buf, x.table(1), nEntries);
  const fields: Omit<FieldStore, 'id'> = {
    paths,
    values: valsLen ? utf8.decode(new Uint8Array(buf, x.table(7), valsLen)) : '',
    nValues,
    rowStart,
    entryPath,
    entryValue: nValues <= 0xffff ? Uint16Array.from(ev32) : ev32.slice(),
  };
  const { time, cols } = columns.finish();
  return {
    block: { fields, time, cols },
    h: new Uint32Array(buf, x.table(3), n * 2).slice(),
    e: new Uint32Array(buf, x.table(4), n * 2).slice(),
  };
}

function concat(parts: Uint32Array[], total: number): Uint32Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint32Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
