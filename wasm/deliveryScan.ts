// AssemblyScript source of KeyTrail's byte-level reader of S3 delivery documents (compiled by
// `npm run build:wasm` into src/lib/ingest/deliveryScanWasm.ts; tests/unit/deliveryScan.test.ts checks that the
// committed module is the compile of this file). Not part of the app's TypeScript program: `usize`, `load` and
// `store` are AssemblyScript's.
//
// It reads a document `{"Records":[{...},...]}` as UTF-8 bytes, one block of records per call, without decoding
// it to a string or parsing it into objects, and writes what the JavaScript walk (FieldStoreBuilder.addEvent in
// src/lib/codec/fields.ts) computes from the parsed events: each block's field store (paths, values, entries)
// and each record's content hash (the leaf sum of src/lib/codec/hash.ts) and eventID hash. For the index columns
// it keeps, per block, dictionaries of the texts the columns are derived from (see N_DICTS): the members read as
// they are (eventName, sourceIPAddress...), and three projections (JSON objects of only the members the
// principal/username, caller and key columns read), so that JavaScript derives each column once per distinct
// text instead of once per record.
//
// It gives up (returns -1) on anything whose JavaScript result it would not reproduce exactly: bytes that are not
// UTF-8, an escape in a key, an escaped backslash, `\u0000` or an escaped non-ASCII character, a number other than
// an integer of at most 15 digits (`500.0` is one), a repeated or integer-like key, white space before a colon,
// nesting past 60 levels, a value of 64 KiB or more, a full table, or JSON that is not valid. The caller then reads the
// document with JavaScript. Escapes of ASCII characters in values (`\"`, `\n`, `\u0041`...: the policy
// documents CloudTrail records as strings) are read: a value is its characters. Text past ASCII (a user name, an
// S3 object key in an encryption context) is read as its UTF-8 bytes: the dictionaries compare bytes, which is
// comparing characters, and string hashes are computed over the UTF-16 code units JavaScript's `charCodeAt`
// reads ({@link hashUtf16}); JavaScript decodes the regions as UTF-8.

// ---- layout (byte offsets in this module's memory) ----
const PATH_SLOTS: u32 = 1 << 15; // path hash table (u32: path id + 1, 0 empty)
const MAX_PATHS: i32 = 16000; // entryPath is 16-bit; far over what a block of CloudTrail events holds
const PATH_INFO: usize = 32; // per path: keyOff, keyLen, parent, kh1, kh2, seen, slot, quick hash
const VAL_SLOTS: u32 = 1 << 18; // value hash table: (generation u32, code u32)
const MAX_VALUES: i32 = 1 << 17;
const MAX_ENTRIES: i32 = 1 << 20;
const MAX_ROWS: i32 = 4096;
const MAX_VALUE_BYTES: i32 = 65536; // MAX_VALUE_CHARS: longer values are cut in the dictionary (JS does it)
const MAX_WALK_DEPTH: i32 = 60; // MAX_STORED_DEPTH is 66

const PT: usize = 65536; // below it: this module's static data (its strings; checked in begin)
const PI: usize = PT + ((<usize>PATH_SLOTS) << 2);
const VT: usize = PI + <usize>MAX_PATHS * PATH_INFO;
const VI: usize = VT + ((<usize>VAL_SLOTS) << 3); // per value: off, len, vh1, vh2, quick hash
const EP: usize = VI + <usize>MAX_VALUES * 20; // entryPath u16
const EV: usize = EP + ((<usize>MAX_ENTRIES) << 1); // entryValue u32
const RS: usize = EV + ((<usize>MAX_ENTRIES) << 2); // rowStart u32 (rows + 1)
const HS: usize = RS + ((<usize>(MAX_ROWS + 1)) << 2); // content hash, 2 lanes a row
const ES: usize = HS + ((<usize>MAX_ROWS) << 3); // eventID hash, 2 lanes a row
const SLOTS: usize = ES + ((<usize>MAX_ROWS) << 3); // projection slots of the current record: start, end, kind
const UIK: usize = SLOTS + 64 * 12; // the bytes of `userIdentity`
const SCR: usize = UIK + 16; // an escaped string's characters (MAX_VALUE_BYTES + 16)
// the dictionaries of texts the index columns are derived from (see N_DICTS), one set per block
const RAW_SLOTS: u32 = 8192;
const RT: usize = SCR + <usize>MAX_VALUE_BYTES + 16; // per dictionary: RAW_SLOTS slots of (generation u32, id u32)
const RI: usize = RT + 16 * ((<usize>RAW_SLOTS) << 3); // per dictionary: per id (arena offset, length, hash, escaped)
const RID: usize = RI + 16 * (<usize>RAW_SLOTS * 16); // per dictionary: each row's id (u32; NONE when absent)
const RCOUNT: usize = RID + 16 * ((<usize>MAX_ROWS) << 2); // per dictionary: ids given (u32)
// the lanes of the strings of column members (hashed, not stored), cached per block: gen, off, len, quick, l1, l2
const COL_SLOTS: u32 = 1 << 15;
const CT: usize = RCOUNT + 64;
/** End of the fixed tables: the caller places its regions (keys, values, projection, document) after it. */
export const TABLES_END: usize = (CT + <usize>COL_SLOTS * 24 + 65535) & ~65535;

// ---- regions set by the caller ----
let docEnd: usize = 0;
let keysOut: usize = 0;
let keysCap: usize = 0;
let valsOut: usize = 0;
let valsCap: usize = 0;

// ---- state ----
let pos: usize = 0; // next byte of the document
let nPaths: i32 = 0;
let nValues: i32 = 0;
let nEntries: i32 = 0;
let gen: u32 = 0;
let serial: u32 = 0;
let keysLen: usize = 0;
let valsLen: usize = 0;

let accA: u32 = 0;
let accB: u32 = 0;
let accN: u32 = 0;
let failed: bool = false;
let uiPath: i32 = 0;

// ---- hashing: src/lib/codec/hash.ts, the same arithmetic on 32-bit lanes ----
const TAG_VALUE: u32 = 1;
const TAG_KEY: u32 = 3;
const TAG_EVENT_ID: u32 = 4;
const ROOT1: u32 = 0x243f6a88;
const ROOT2: u32 = 0x85a308d3;
const TRUE1: u32 = 0x2f1a3c5b;
const TRUE2: u32 = 0x1b873593;
const FALSE1: u32 = 0x6d2b79f5;
const FALSE2: u32 = 0x3c6ef372;
const NULL1: u32 = 0x7feb352d;
const NULL2: u32 = 0x846ca68b;
const EMPTY_ARRAY1: u32 = 0x68e31da4;
const EMPTY_ARRAY2: u32 = 0xb5297a4d;
const EMPTY_OBJECT1: u32 = 0x4cf5ad43;
const EMPTY_OBJECT2: u32 = 0x7a3b1c2d;
const NUMBER1: u32 = 0x5f356495;
const NUMBER2: u32 = 0x2c1b3c6d;

function fmix(h: u32): u32 {
  h ^= h >> 16;
  h *= 0x85ebca6b;
  h ^= h >> 13;
  h *= 0xc2b2ae35;
  h ^= h >> 16;
  return h;
}
function mixA(x: u32, y: u32): u32 {
  return fmix((x ^ y) * 0x9e3779b1 + 0x7f4a7c15);
}
function mixB(x: u32, y: u32): u32 {
  return fmix(((x + y) * 0x85ebca77) ^ 0x165667b1);
}
function index1(i: u32): u32 {
  return 0x61c88647 + (i + 1) * 0x9e3779b1;
}
function index2(i: u32): u32 {
  return ((i + 1) * 0xc2b2ae3d) ^ 0x27d4eb2f;
}

let h1: u32 = 0;
let h2: u32 = 0;
/**
 * hashStringTo of the string whose UTF-8 bytes are [p, p + n) (valid UTF-8: {@link strEnd} checked it); lanes in
 * h1, h2. ASCII bytes are its UTF-16 code units; other text is hashed by {@link hashUtf16}.
 */
function hashBytes(p: usize, n: usize, tag: u32): void {
  let a: u32 = 0x811c9dc5 ^ tag;
  let b: u32 = 0x9747b28c ^ (tag * 0x27d4eb2d) ^ (<u32>n);
  const end = p + n;
  let q = p;
  while (q < end) {
    const c = <u32>load<u8>(q);
    if (c >= 0x80) {
      hashUtf16(p, n, tag);
      return;
    }
    a = (a ^ c) * 0x01000193;
    b = (b ^ c) * 0x5bd1e995;
    b ^= b >> 13;
    q++;
  }
  h1 = fmix(a ^ (<u32>n));
  h2 = fmix(b);
}

/**
 * hashStringTo of the string whose valid UTF-8 bytes are [p, p + n) and hold a character past U+007F: over its
 * UTF-16 code units (a character past U+FFFF is two, a surrogate pair), as JavaScript's `charCodeAt` reads them.
 */
function hashUtf16(p: usize, n: usize, tag: u32): void {
  const end = p + n;
  // the string's length in code units: a unit per lead byte, two for a 4-byte sequence
  let units: u32 = 0;
  for (let q = p; q < end; q++) {
    const c = <u32>load<u8>(q);
    if ((c & 0xc0) != 0x80) units++;
    if (c >= 0xf0) units++;
  }
  let a: u32 = 0x811c9dc5 ^ tag;
  let b: u32 = 0x9747b28c ^ (tag * 0x27d4eb2d) ^ units;
  let q = p;
  while (q < end) {
    let c = <u32>load<u8>(q);
    if (c < 0x80) q++;
    else if (c < 0xe0) {
      c = ((c & 0x1f) << 6) | ((<u32>load<u8>(q + 1)) & 0x3f);
      q += 2;
    } else if (c < 0xf0) {
      c = ((c & 0x0f) << 12) | (((<u32>load<u8>(q + 1)) & 0x3f) << 6) | ((<u32>load<u8>(q + 2)) & 0x3f);
      q += 3;
    } else {
      const cp =
        ((c & 0x07) << 18) |
        (((<u32>load<u8>(q + 1)) & 0x3f) << 12) |
        (((<u32>load<u8>(q + 2)) & 0x3f) << 6) |
        ((<u32>load<u8>(q + 3)) & 0x3f);
      q += 4;
      const hi = 0xd800 + ((cp - 0x10000) >> 10);
      a = (a ^ hi) * 0x01000193;
      b = (b ^ hi) * 0x5bd1e995;
      b ^= b >> 13;
      c = 0xdc00 + ((cp - 0x10000) & 0x3ff);
    }
    a = (a ^ c) * 0x01000193;
    b = (b ^ c) * 0x5bd1e995;
    b ^= b >> 13;
  }
  h1 = fmix(a ^ units);
  h2 = fmix(b);
}

// 64-bit constants of the quick hash (splitmix64 and murmur3's), written in halves
const Q0: u64 = ((<u64>0x9e3779b9) << 32) | 0x7f4a7c15;
const Q1: u64 = ((<u64>0xff51afd7) << 32) | 0xed558ccd;
const Q2: u64 = ((<u64>0xc4ceb9fe) << 32) | 0x1a85ec53;

/**
 * A quick hash of the bytes [p, p + n), 8 at a time, for the tables' lookups only (the exact lanes above are
 * computed once per new path and value). Reads up to 7 bytes past the end (masked off): every region is
 * followed by readable memory.
 */
function quickHash(p: usize, n: usize): u32 {
  let h: u64 = Q0 ^ (<u64>n);
  let i: usize = 0;
  while (i + 8 <= n) {
    h = (h ^ load<u64>(p + i)) * Q1;
    h ^= h >> 32;
    i += 8;
  }
  if (i < n) {
    const rest: u64 = n - i;
    const m = load<u64>(p + i) & (((<u64>1) << (rest << 3)) - 1);
    h = (h ^ m) * Q2;
    h ^= h >> 29;
  }
  h *= Q1;
  return <u32>(h ^ (h >> 32));
}

function addLeaf(p1: u32, p2: u32, v1: u32, v2: u32): void {
  accA += mixA(p1, v1);
  accB += mixB(p2, v2);
  accN++;
}

// ---- projection slots: the members the index columns read (CloudTrailEvent fields, codec/segment.ts) ----
const S_EVENT_ID: i32 = 20;
// userIdentity members (21-27), userIdentity.sessionContext (28) and what the columns read below it (29-33)
const N_SLOTS: i32 = 34;
const K_NONE: u32 = 0;
const K_SCALAR: u32 = 1;
const K_OBJECT: u32 = 2;
const K_ARRAY: u32 = 3;

function slotAddr(s: i32): usize {
  return SLOTS + <usize>s * 12;
}

/** Slot of a top-level key (0-12 copied whole; 13, 16 projected), or -1. */
function topSlot(p: usize, n: usize): i32 {
  if (eq(p, n, 'eventTime')) return 0;
  if (eq(p, n, 'eventSource')) return 1;
  if (eq(p, n, 'eventName')) return 2;
  if (eq(p, n, 'eventType')) return 3;
  if (eq(p, n, 'awsRegion')) return 4;
  if (eq(p, n, 'recipientAccountId')) return 5;
  if (eq(p, n, 'sourceIPAddress')) return 6;
  if (eq(p, n, 'userAgent')) return 7;
  if (eq(p, n, 'errorCode')) return 8;
  if (eq(p, n, 'readOnly')) return 9;
  if (eq(p, n, 'sessionCredentialFromConsole')) return 10;
  if (eq(p, n, 'userIdentity')) return 11;
  if (eq(p, n, 'resources')) return 12;
  if (eq(p, n, 'requestParameters')) return 13;
  if (eq(p, n, 'responseElements')) return 16;
  if (eq(p, n, 'eventID')) return S_EVENT_ID;
  return -1;
}

/** Slot of a key below a projected member (`parent` its slot), or -1. */
function childSlot(parent: i32, p: usize, n: usize): i32 {
  if (parent == 11) {
    if (eq(p, n, 'type')) return 21;
    if (eq(p, n, 'principalId')) return 22;
    if (eq(p, n, 'arn')) return 23;
    if (eq(p, n, 'accountId')) return 24;
    if (eq(p, n, 'accessKeyId')) return 25;
    if (eq(p, n, 'invokedBy')) return 26;
    if (eq(p, n, 'userName')) return 27;
    if (eq(p, n, 'sessionContext')) return 28;
    return -1;
  }
  if (parent == 28) return eq(p, n, 'sessionIssuer') ? 29 : eq(p, n, 'attributes') ? 32 : -1;
  if (parent == 29) return eq(p, n, 'arn') ? 30 : eq(p, n, 'userName') ? 31 : -1;
  if (parent == 32) return eq(p, n, 'mfaAuthenticated') ? 33 : -1;
  if (parent == 13) return eq(p, n, 'keyId') ? 14 : eq(p, n, 'KeyId') ? 15 : -1;
  if (parent == 16) return eq(p, n, 'keyId') ? 17 : eq(p, n, 'keyMetadata') ? 18 : -1;
  if (parent == 18) return eq(p, n, 'arn') ? 19 : -1;
  return -1;
}

/** Whether the bytes [p, p + n) are the ASCII string `s`. */
function eq(p: usize, n: usize, s: string): bool {
  if (<i32>n != s.length) return false;
  for (let i = 0; i < <i32>n; i++) if (<i32>load<u8>(p + <usize>i) != s.charCodeAt(i)) return false;
  return true;
}

/** Top-level keys kept as index columns, not in the field store (COLUMN_PATHS, codec/fields.ts). */
function isColumnPath(p: usize, n: usize): bool {
  return (
    eq(p, n, 'eventSource') ||
    eq(p, n, 'eventName') ||
    eq(p, n, 'awsRegion') ||
    eq(p, n, 'recipientAccountId') ||
    eq(p, n, 'sourceIPAddress') ||
    eq(p, n, 'userAgent') ||
    eq(p, n, 'errorCode') ||
    eq(p, n, 'eventType') ||
    eq(p, n, 'readOnly')
  );
}

/** userIdentity members kept as columns (`type`, `accountId`, `accessKeyId`). */
function isIdentityColumn(p: usize, n: usize): bool {
  return eq(p, n, 'type') || eq(p, n, 'accountId') || eq(p, n, 'accessKeyId');
}

// ---- path dictionary (one per block, as FieldStoreBuilder's) ----
function pathInfo(id: i32): usize {
  return PI + <usize>id * PATH_INFO;
}

/** Id of path (parent, key at [k, k + n)), added when new (with its key's bytes appended to the keys region). */
function child(parent: i32, k: usize, n: usize): i32 {
  const qh = quickHash(k, n);
  let s = (qh ^ (<u32>(parent + 2) * 0x9e3779b1)) & (PATH_SLOTS - 1);
  for (;;) {
    const slot = PT + ((<usize>s) << 2);
    const v = load<i32>(slot);
    if (v == 0) break;
    const id = v - 1;
    const info = pathInfo(id);
    if (load<i32>(info + 8) == parent && load<u32>(info + 28) == qh && load<u32>(info + 4) == <u32>n) {
      if (sameBytes(<usize>load<u32>(info), k, n)) return id;
    }
    s = (s + 1) & (PATH_SLOTS - 1);
  }
  hashBytes(k, n, TAG_KEY);
  const kh1 = h1;
  const kh2 = h2;
  if (nPaths >= MAX_PATHS || keysLen + n + 16 > keysCap) {
    failed = true;
    return 0;
  }
  const id = nPaths++;
  store<i32>(PT + ((<usize>s) << 2), id + 1);
  const info = pathInfo(id);
  store<u32>(info, <u32>k);
  store<u32>(info + 4, <u32>n);
  store<i32>(info + 8, parent);
  store<u32>(info + 12, kh1);
  store<u32>(info + 16, kh2);
  store<u32>(info + 20, 0);
  store<u32>(info + 28, qh);
  let slot = -1;
  if (parent < 0) slot = topSlot(k, n);
  else {
    const ps = load<i32>(pathInfo(parent) + 24);
    if (ps >= 0) slot = childSlot(ps, k, n);
  }
  store<i32>(info + 24, slot);
  // the keys region: the keys joined with 0 (their parents are in the path table)
  if (id > 0) store<u8>(keysOut + keysLen++, 0);
  memory.copy(keysOut + keysLen, k, n);
  keysLen += n;
  return id;
}

function sameBytes(a: usize, b: usize, n: usize): bool {
  let i: usize = 0;
  while (i + 8 <= n) {
    if (load<u64>(a + i) != load<u64>(b + i)) return false;
    i += 8;
  }
  while (i < n) {
    if (load<u8>(a + i) != load<u8>(b + i)) return false;
    i++;
  }
  return true;
}

// ---- value dictionary (one per block) ----
/** Dictionary code of the value text [p, p + n) (added when new; its lanes then in the value info). */
function code(p: usize, n: usize): i32 {
  const qh = quickHash(p, n);
  let s = qh & (VAL_SLOTS - 1);
  for (;;) {
    const slot = VT + ((<usize>s) << 3);
    if (load<u32>(slot) != gen) break;
    const c = load<i32>(slot + 4);
    const info = VI + <usize>c * 20;
    if (load<u32>(info + 16) == qh && load<u32>(info + 4) == <u32>n && sameBytes(<usize>load<u32>(info), p, n))
      return c;
    s = (s + 1) & (VAL_SLOTS - 1);
  }
  if (nValues >= MAX_VALUES || <i32>n >= MAX_VALUE_BYTES || valsLen + n + 1 > valsCap) {
    failed = true;
    return 0;
  }
  hashBytes(p, n, TAG_VALUE);
  const c = nValues++;
  const slot = VT + ((<usize>s) << 3);
  store<u32>(slot, gen);
  store<i32>(slot + 4, c);
  // the values region: the values joined with 0 (SEP); the dictionary compares with the copy there (`p` may be
  // an escaped string's scratch characters)
  if (c > 0) store<u8>(valsOut + valsLen++, 0);
  memory.copy(valsOut + valsLen, p, n);
  const info = VI + <usize>c * 20;
  store<u32>(info, <u32>(valsOut + valsLen));
  store<u32>(info + 4, <u32>n);
  store<u32>(info + 8, h1);
  store<u32>(info + 12, h2);
  store<u32>(info + 16, qh);
  valsLen += n;
  return c;
}

function entry(path: i32, c: i32): void {
  if (nEntries >= MAX_ENTRIES) {
    failed = true;
    return;
  }
  store<u16>(EP + ((<usize>nEntries) << 1), <u16>path);
  store<u32>(EV + ((<usize>nEntries) << 2), <u32>c);
  nEntries++;
}

// ---- the reader ----
function ws(p: usize): usize {
  let c = load<u8>(p);
  while (c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) c = load<u8>(++p);
  return p;
}

/** Whether the string {@link strEnd} read last holds an escape. */
let escaped: bool = false;

function hexDigit(c: u32): i32 {
  if (c >= 0x30 && c <= 0x39) return <i32>c - 0x30;
  c |= 0x20;
  if (c >= 0x61 && c <= 0x66) return <i32>c - 0x57;
  return -1;
}

/** The character of the `\uXXXX` escape at p (its backslash), or -1 when the four digits are not hexadecimal. */
function uEscape(p: usize): i32 {
  let v = 0;
  for (let i: usize = 2; i < 6; i++) {
    const d = hexDigit(load<u8>(p + i));
    if (d < 0) return -1;
    v = (v << 4) | d;
  }
  return v;
}

/**
 * Bytes of the UTF-8 sequence at p whose lead byte (0x80 or over) is c, or 0 when it is not one the browser's
 * strict decoder (`TextDecoder` with `fatal`, as ingest decodes a document) accepts: a stray continuation byte,
 * an overlong form, a surrogate (U+D800-U+DFFF), past U+10FFFF, or cut short.
 */
function utf8Len(p: usize, c: u32): usize {
  const c1 = <u32>load<u8>(p + 1);
  if (c >= 0xc2 && c <= 0xdf) return (c1 & 0xc0) == 0x80 ? 2 : 0;
  const c2 = <u32>load<u8>(p + 2);
  if (c >= 0xe0 && c <= 0xef) {
    const lo: u32 = c == 0xe0 ? 0xa0 : 0x80;
    const hi: u32 = c == 0xed ? 0x9f : 0xbf;
    return c1 >= lo && c1 <= hi && (c2 & 0xc0) == 0x80 ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const lo: u32 = c == 0xf0 ? 0x90 : 0x80;
    const hi: u32 = c == 0xf4 ? 0x8f : 0xbf;
    const c3 = <u32>load<u8>(p + 3);
    return c1 >= lo && c1 <= hi && (c2 & 0xc0) == 0x80 && (c3 & 0xc0) == 0x80 ? 4 : 0;
  }
  return 0;
}

/**
 * End (closing quote) of the string whose body starts at p, or 0 to give up: bytes that are not UTF-8, a control
 * character, or an escape but `\"`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t` and `\u0001`-`\u007f` (an escaped
 * backslash, `\u0000` and escaped non-ASCII characters are left to JavaScript). Sets {@link escaped}.
 */
function strEnd(p: usize): usize {
  escaped = false;
  let c = load<u8>(p);
  while (c != 0x22) {
    if (c >= 0x80) {
      // the document ends with a 0 byte (see begin): a sequence cut by its end is not read past it
      const n = utf8Len(p, <u32>c);
      if (n == 0) return 0;
      p += n;
      c = load<u8>(p);
      continue;
    }
    if (c < 0x20) return 0;
    if (c == 0x5c) {
      const e = load<u8>(p + 1);
      if (e == 0x75) {
        const v = uEscape(p);
        if (v <= 0 || v >= 0x80) return 0;
        p += 6;
      } else if (e == 0x22 || e == 0x2f || e == 0x62 || e == 0x66 || e == 0x6e || e == 0x72 || e == 0x74) p += 2;
      else return 0;
      escaped = true;
      c = load<u8>(p);
      continue;
    }
    c = load<u8>(++p);
  }
  return p;
}

/** Whether the n bytes from p are all ASCII. */
function asciiBytes(p: usize, n: usize): bool {
  for (let i: usize = 0; i < n; i++) if (load<u8>(p + i) >= 0x80) return false;
  return true;
}

/** Whether the bytes [s, e) hold a backslash. */
function hasBackslash(s: usize, e: usize): bool {
  while (s < e) if (load<u8>(s++) == 0x5c) return true;
  return false;
}

/**
 * The characters of the escaped string body [s, e) written to the scratch region SCR: their number, or
 * MAX_VALUE_BYTES when there are too many (the caller's dictionary then gives up).
 */
function unescaped(s: usize, e: usize): usize {
  if (e - s >= <usize>MAX_VALUE_BYTES) return <usize>MAX_VALUE_BYTES; // at most as many characters as bytes
  return unescape(SCR, s, e);
}

/**
 * Writes the characters of the string body [s, e) (read by {@link strEnd}, escapes allowed there) to `dst` as
 * bytes (all ASCII); returns their number.
 */
function unescape(dst: usize, s: usize, e: usize): usize {
  let n: usize = 0;
  while (s < e) {
    let c = <u32>load<u8>(s);
    if (c == 0x5c) {
      const x = <u32>load<u8>(s + 1);
      if (x == 0x75) {
        c = <u32>uEscape(s);
        s += 6;
      } else {
        c = x == 0x62 ? 8 : x == 0x66 ? 12 : x == 0x6e ? 10 : x == 0x72 ? 13 : x == 0x74 ? 9 : x;
        s += 2;
      }
    } else s++;
    store<u8>(dst + n++, <u8>c);
  }
  return n;
}

/** Bytes of the integer part of the number {@link intEnd} read last: the text JavaScript prints for its value. */
let numLen: usize = 0;

/**
 * End of the integer (at most 15 digits, not -0) starting at p, or 0. Its fraction, when it has one, must be
 * zeros: `500.0` is the integer 500, which JavaScript prints `500` and hashes as that (S3 data events write
 * `"bytesTransferredIn":0.0`). Any other fraction or an exponent gives up. The integer's text is [p, p + numLen).
 */
function intEnd(p: usize): usize {
  let q = p;
  if (load<u8>(q) == 0x2d) q++;
  const d0 = q;
  const first = load<u8>(q);
  if (first < 0x30 || first > 0x39) return 0;
  q++;
  if (first == 0x30) {
    if (q - p == 2) return 0; // -0
  } else {
    for (;;) {
      const c = load<u8>(q);
      if (c < 0x30 || c > 0x39) break;
      q++;
    }
  }
  if (q - d0 > 15) return 0;
  numLen = q - p;
  let c = load<u8>(q);
  if (c == 0x2e) {
    q++;
    if (load<u8>(q) != 0x30) return 0;
    while (load<u8>(q) == 0x30) q++;
    c = load<u8>(q);
  }
  if (c == 0x2e || c == 0x65 || c == 0x45 || (c >= 0x30 && c <= 0x39)) return 0;
  return q;
}

/** End of `true`, `false` or `null` at p (its kind in litKind: 1 true, 2 false, 3 null), or 0. */
let litKind: i32 = 0;
function litEnd(p: usize): usize {
  const c = load<u8>(p);
  if (c == 0x74 && load<u8>(p + 1) == 0x72 && load<u8>(p + 2) == 0x75 && load<u8>(p + 3) == 0x65) {
    litKind = 1;
    return p + 4;
  }
  if (
    c == 0x66 &&
    load<u8>(p + 1) == 0x61 &&
    load<u8>(p + 2) == 0x6c &&
    load<u8>(p + 3) == 0x73 &&
    load<u8>(p + 4) == 0x65
  ) {
    litKind = 2;
    return p + 5;
  }
  if (c == 0x6e && load<u8>(p + 1) == 0x75 && load<u8>(p + 2) == 0x6c && load<u8>(p + 3) == 0x6c) {
    litKind = 3;
    return p + 4;
  }
  return 0;
}

/** Whether the key [k, k + n) is an array index (all digits): JavaScript would enumerate it first. */
function integerLike(k: usize, n: usize): bool {
  if (n == 0) return false;
  for (let i: usize = 0; i < n; i++) {
    const c = load<u8>(k + i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function setSlot(s: i32, start: usize, end: usize, kind: u32): void {
  const a = slotAddr(s);
  store<u32>(a, <u32>start);
  store<u32>(a + 4, <u32>end);
  store<u32>(a + 8, kind);
}

/** The key and value of the member {@link memberPath} read last: key bytes [mKey, mKey + mLen), value at mValue. */
let mKey: usize = 0;
let mLen: usize = 0;
let mValue: usize = 0;

/**
 * Reads the key of an object member at p (its opening quote) in the object numbered `obj` below path `parent`:
 * the member's path id (its key and value in mKey, mLen, mValue), or -1 with `failed` set for a key that is
 * not a plain string, has white space before its colon, is all digits, or is repeated in the object.
 */
function memberPath(p: usize, parent: i32, obj: u32): i32 {
  if (load<u8>(p) != 0x22) {
    failed = true;
    return -1;
  }
  const k = p + 1;
  const ke = strEnd(k);
  if (ke == 0 || escaped || load<u8>(ke + 1) != 0x3a || integerLike(k, ke - k)) {
    failed = true;
    return -1;
  }
  const id = child(parent, k, ke - k);
  if (failed) return -1;
  const info = pathInfo(id);
  if (load<u32>(info + 20) == obj) {
    failed = true; // a repeated key
    return -1;
  }
  store<u32>(info + 20, obj);
  mKey = k;
  mLen = ke - k;
  mValue = ws(ke + 2);
  return id;
}

/** Where the object {@link nextMember} closed ends. */
let closedAt: usize = 0;

/**
 * After a member's value ending at p: the next member's address after a comma, or 0 after the closing brace
 * (the object's end in closedAt); 0 with `failed` set for anything else.
 */
function nextMember(p: usize): usize {
  p = ws(p);
  const d = load<u8>(p);
  if (d == 0x2c) return ws(p + 1);
  if (d != 0x7d) failed = true;
  closedAt = p + 1;
  return 0;
}

/**
 * Walks the value at p (FieldStoreBuilder.walk): stores and hashes its leaves at path `path`, position (p1, p2),
 * `plain` when no array lies on the way; `slot` is the projection slot of the path (-1 none); `ident` for the
 * userIdentity object, whose type, accountId and accessKeyId are only hashed (they are columns). Returns the
 * address after the value; sets `failed` to give up.
 */
function walk(p: usize, path: i32, p1: u32, p2: u32, depth: i32, plain: bool, slot: i32, ident: bool): usize {
  if (depth >= MAX_WALK_DEPTH) {
    failed = true;
    return p;
  }
  const c = load<u8>(p);
  if (c == 0x22) {
    const s = p + 1;
    const e = strEnd(s);
    if (e == 0) {
      failed = true;
      return p;
    }
    const cd = escaped ? code(SCR, unescaped(s, e)) : code(s, e - s);
    entry(path, cd);
    const info = VI + <usize>cd * 20;
    addLeaf(p1, p2, load<u32>(info + 8), load<u32>(info + 12));
    if (slot >= 0 && plain) setSlot(slot, p, e + 1, K_SCALAR);
    return e + 1;
  }
  if (c == 0x7b) {
    if (slot >= 0 && plain) setSlot(slot, p, 0, K_OBJECT);
    const obj = ++serial;
    p = ws(p + 1);
    if (load<u8>(p) == 0x7d) {
      addLeaf(p1, p2, EMPTY_OBJECT1, EMPTY_OBJECT2);
      if (slot >= 0 && plain) store<u32>(slotAddr(slot) + 4, <u32>(p + 1));
      return p + 1;
    }
    for (;;) {
      const id = memberPath(p, path, obj);
      if (id < 0) return p;
      const info = pathInfo(id);
      const q1 = mixA(p1, load<u32>(info + 12));
      const q2 = mixB(p2, load<u32>(info + 16));
      const cs = plain ? load<i32>(info + 24) : -1;
      if (ident && isIdentityColumn(mKey, mLen)) p = hashOnly(mValue, q1, q2, cs);
      else p = walk(mValue, id, q1, q2, depth + 1, plain, cs, false);
      if (failed) return p;
      p = nextMember(p);
      if (p) continue;
      if (failed) return closedAt;
      if (slot >= 0 && plain) store<u32>(slotAddr(slot) + 4, <u32>closedAt);
      return closedAt;
    }
  }
  if (c == 0x5b) {
    if (slot >= 0 && plain) setSlot(slot, p, 0, K_ARRAY);
    p = ws(p + 1);
    if (load<u8>(p) == 0x5d) {
      addLeaf(p1, p2, EMPTY_ARRAY1, EMPTY_ARRAY2);
      if (slot >= 0 && plain) store<u32>(slotAddr(slot) + 4, <u32>(p + 1));
      return p + 1;
    }
    let i: u32 = 0;
    for (;;) {
      p = walk(p, path, mixA(p1, index1(i)), mixB(p2, index2(i)), depth + 1, false, -1, false);
      if (failed) return p;
      i++;
      p = ws(p);
      const d = load<u8>(p);
      if (d == 0x2c) {
        p = ws(p + 1);
        continue;
      }
      if (d != 0x5d) {
        failed = true;
        return p;
      }
      if (slot >= 0 && plain) store<u32>(slotAddr(slot) + 4, <u32>(p + 1));
      return p + 1;
    }
  }
  let e = intEnd(p);
  if (e != 0) {
    const cd = code(p, numLen);
    entry(path, cd);
    const info = VI + <usize>cd * 20;
    addLeaf(p1, p2, load<u32>(info + 8) ^ NUMBER1, load<u32>(info + 12) + NUMBER2);
    if (slot >= 0 && plain) setSlot(slot, p, e, K_SCALAR);
    return e;
  }
  e = litEnd(p);
  if (e == 0) {
    failed = true;
    return p;
  }
  entry(path, code(p, e - p));
  if (litKind == 1) addLeaf(p1, p2, TRUE1, TRUE2);
  else if (litKind == 2) addLeaf(p1, p2, FALSE1, FALSE2);
  else addLeaf(p1, p2, NULL1, NULL2);
  if (slot >= 0 && plain) setSlot(slot, p, e, K_SCALAR);
  return e;
}

let colCount: u32 = 0;
/**
 * hashBytes(p, n, TAG_VALUE) of a column member's string, looked up first among the block's (as
 * FieldStoreBuilder's colMap does): lanes in h1, h2.
 */
function columnLanes(p: usize, n: usize): void {
  const qh = quickHash(p, n);
  let s = qh & (COL_SLOTS - 1);
  for (;;) {
    const e = CT + <usize>s * 24;
    if (load<u32>(e) != gen) break;
    if (load<u32>(e + 12) == qh && load<u32>(e + 8) == <u32>n && sameBytes(<usize>load<u32>(e + 4), p, n)) {
      h1 = load<u32>(e + 16);
      h2 = load<u32>(e + 20);
      return;
    }
    s = (s + 1) & (COL_SLOTS - 1);
  }
  hashBytes(p, n, TAG_VALUE);
  if (colCount >= COL_SLOTS / 2) return;
  colCount++;
  const e = CT + <usize>s * 24;
  store<u32>(e, gen);
  store<u32>(e + 4, <u32>p);
  store<u32>(e + 8, <u32>n);
  store<u32>(e + 12, qh);
  store<u32>(e + 16, h1);
  store<u32>(e + 20, h2);
}

/**
 * Hashes a value kept as a column (FieldStoreBuilder.hashOnly): a string, number, literal or empty container;
 * anything else gives up. Records its projection slot. Returns the address after it.
 */
function hashOnly(p: usize, p1: u32, p2: u32, slot: i32): usize {
  const c = load<u8>(p);
  if (c == 0x22) {
    const s = p + 1;
    const e = strEnd(s);
    if (e == 0) {
      failed = true;
      return p;
    }
    // an escaped string by its characters (not cached: the cache compares the document's bytes)
    if (escaped) {
      const n = unescaped(s, e);
      if (n >= <usize>MAX_VALUE_BYTES) {
        failed = true;
        return p;
      }
      hashBytes(SCR, n, TAG_VALUE);
    } else columnLanes(s, e - s);
    addLeaf(p1, p2, h1, h2);
    if (slot >= 0) setSlot(slot, p, e + 1, K_SCALAR);
    return e + 1;
  }
  if (c == 0x7b || c == 0x5b) {
    const q = ws(p + 1);
    if (load<u8>(q) != (c == 0x7b ? 0x7d : 0x5d)) {
      failed = true;
      return p;
    }
    if (c == 0x7b) addLeaf(p1, p2, EMPTY_OBJECT1, EMPTY_OBJECT2);
    else addLeaf(p1, p2, EMPTY_ARRAY1, EMPTY_ARRAY2);
    if (slot >= 0) setSlot(slot, p, q + 1, c == 0x7b ? K_OBJECT : K_ARRAY);
    return q + 1;
  }
  let e = intEnd(p);
  if (e != 0) {
    hashBytes(p, numLen, TAG_VALUE);
    addLeaf(p1, p2, h1 ^ NUMBER1, h2 + NUMBER2);
  } else {
    e = litEnd(p);
    if (e == 0) {
      failed = true;
      return p;
    }
    if (litKind == 1) addLeaf(p1, p2, TRUE1, TRUE2);
    else if (litKind == 2) addLeaf(p1, p2, FALSE1, FALSE2);
    else addLeaf(p1, p2, NULL1, NULL2);
  }
  if (slot >= 0) setSlot(slot, p, e, K_SCALAR);
  return e;
}

/** Walks one record (an object) at p as FieldStoreBuilder.addEvent does. Returns the address after it. */
function record(p: usize): usize {
  accA = 0;
  accB = 0;
  accN = 0;
  for (let s = 0; s < N_SLOTS; s++) store<u32>(slotAddr(s) + 8, K_NONE);
  if (load<u8>(p) != 0x7b) {
    failed = true;
    return p;
  }
  const obj = ++serial;
  p = ws(p + 1);
  if (load<u8>(p) == 0x7d) {
    addLeaf(ROOT1, ROOT2, EMPTY_OBJECT1, EMPTY_OBJECT2);
    return p + 1;
  }
  for (;;) {
    const id = memberPath(p, -1, obj);
    if (id < 0) return p;
    const info = pathInfo(id);
    const p1 = mixA(ROOT1, load<u32>(info + 12));
    const p2 = mixB(ROOT2, load<u32>(info + 16));
    const slot = load<i32>(info + 24);
    const v = mValue;
    if (isColumnPath(mKey, mLen)) p = hashOnly(v, p1, p2, slot);
    // userIdentity's type, accountId and accessKeyId are columns too (FieldStoreBuilder.addEvent)
    else p = walk(v, id, p1, p2, 1, true, slot, id == uiPath);
    if (failed) return p;
    p = nextMember(p);
    if (!p) break;
  }
  return closedAt;
}

// ---- projections: the members each group of index columns reads, as JSON text ----
/** Where the text being written goes next (at the end of the arena; kept only when new, see {@link keep}). */
let cur: usize = 0;
let curEnd: usize = 0;
function put(b: u8): void {
  if (cur < curEnd) store<u8>(cur, b);
  cur++;
}
function putStr(s: string): void {
  for (let i = 0; i < s.length; i++) put(<u8>s.charCodeAt(i));
}
function putRange(s: i32): void {
  const a = slotAddr(s);
  const start = <usize>load<u32>(a);
  const n = <usize>load<u32>(a + 4) - start;
  if (cur + n <= curEnd) memory.copy(cur, start, n);
  cur += n;
}
function kindOf(s: i32): u32 {
  return load<u32>(slotAddr(s) + 8);
}
function name(n: string, first: bool): void {
  if (!first) put(0x2c);
  put(0x22);
  putStr(n);
  put(0x22);
  put(0x3a);
}
/** `"n":` then the slot's text as written (a member of a projection), after a comma unless first. */
function member(n: string, s: i32, first: bool): bool {
  if (kindOf(s) == K_NONE) return first;
  name(n, first);
  putRange(s);
  return false;
}
/**
 * {@link member} of an access key ID as the caller column reads it: a string by its first 4 characters
 * (`AKIA`: long-term, `ASIA`: temporary), anything else as written.
 */
function memberPrefix(n: string, s: i32, first: bool): bool {
  if (kindOf(s) == K_NONE) return first;
  name(n, first);
  const a = slotAddr(s);
  const start = <usize>load<u32>(a);
  // (a character past U+007F among the 4 bytes: the whole string, from which the column reads the same)
  if (load<u8>(start) == 0x22 && <usize>load<u32>(a + 4) - start >= 6 && asciiBytes(start + 1, 4)) {
    put(0x22);
    for (let i: usize = 1; i <= 4; i++) put(load<u8>(start + i));
    put(0x22);
  } else putRange(s);
  return false;
}

const IDENT: i32 = 0; // the principal and username columns
const CALLER: i32 = 1; // the caller column

/**
 * A container slot projected to the members below it that `mode`'s columns read: `{...}` for an object,
 * `[]` for an array (none of its members is read), the value as written otherwise.
 */
function container(n: string, s: i32, first: bool, mode: i32): bool {
  const k = kindOf(s);
  if (k == K_NONE) return first;
  if (k == K_SCALAR) return member(n, s, first);
  name(n, first);
  if (k == K_ARRAY) {
    put(0x5b);
    put(0x5d);
    return false;
  }
  put(0x7b);
  if (s == 11 && mode == IDENT) {
    let f = member('type', 21, true);
    f = member('principalId', 22, f);
    f = member('arn', 23, f);
    f = member('invokedBy', 26, f);
    f = member('userName', 27, f);
    container('sessionContext', 28, f, mode);
  } else if (s == 11) {
    let f = member('type', 21, true);
    f = memberPrefix('accessKeyId', 25, f);
    f = member('invokedBy', 26, f);
    container('sessionContext', 28, f, mode);
  } else if (s == 28 && mode == IDENT) container('sessionIssuer', 29, true, mode);
  else if (s == 28) container('attributes', 32, true, mode);
  else if (s == 29) member('userName', 31, member('arn', 30, true));
  else if (s == 32) member('mfaAuthenticated', 33, true);
  else if (s == 13) member('KeyId', 15, member('keyId', 14, true));
  else if (s == 16) container('keyMetadata', 18, member('keyId', 17, true), mode);
  else if (s == 18) member('arn', 19, true);
  put(0x7d);
  return false;
}

/** The projection of the principal and username columns: `{"userIdentity":...}`. */
function projectIdentity(): void {
  put(0x7b);
  container('userIdentity', 11, true, IDENT);
  put(0x7d);
}

/** The projection of the caller column (identity/classifyCaller in src/lib/cloudtrail/identity.ts). */
function projectCaller(): void {
  put(0x7b);
  let f = member('eventSource', 1, true);
  f = member('eventName', 2, f);
  f = member('eventType', 3, f);
  f = member('userAgent', 7, f);
  f = member('sessionCredentialFromConsole', 10, f);
  container('userIdentity', 11, f, CALLER);
  put(0x7d);
}

/** The projection of the key, resourceNames and resourceTypes columns (keyOf in src/lib/cloudtrail/event.ts). */
function projectKey(): void {
  put(0x7b);
  let f = container('requestParameters', 13, true, IDENT);
  f = container('responseElements', 16, f, IDENT);
  member('resources', 12, f);
  put(0x7d);
}

// ---- dictionaries of texts: one per column group, emptied with each block ----
/**
 * The dictionaries (ingest/deliveryScan.ts reads them in this order): 0 eventTime; the members kept as direct
 * columns, 1 eventSource, 2 eventName, 3 awsRegion, 4 recipientAccountId, 5 sourceIPAddress, 6 userAgent,
 * 7 errorCode, 8 eventType, 9 readOnly, 10 userIdentity.type, 11 userIdentity.accountId,
 * 12 userIdentity.accessKeyId (each as written); then the projections 13 identity, 14 caller, 15 key.
 */
const N_DICTS: i32 = 16;
const NONE: u32 = 0xffffffff;

function directSlot(d: i32): i32 {
  switch (d) {
    case 0:
      return 0;
    case 1:
      return 1;
    case 2:
      return 2;
    case 3:
      return 4;
    case 4:
      return 5;
    case 5:
      return 6;
    case 6:
      return 7;
    case 7:
      return 8;
    case 8:
      return 3;
    case 9:
      return 9;
    case 10:
      return 21;
    case 11:
      return 24;
    default:
      return 25;
  }
}

let arenaOut: usize = 0;
let arenaCap: usize = 0;
let arenaLen: usize = 0;

function startText(): void {
  cur = arenaOut + arenaLen;
  curEnd = arenaOut + arenaCap;
}

/**
 * Id in dictionary d of the text just written from the arena's end to `cur`: kept (the arena grows) when new,
 * dropped when the dictionary holds it. NONE with `failed` set when the arena or the dictionary is full.
 */
function keep(d: i32): u32 {
  const start = arenaOut + arenaLen;
  const end = cur;
  const count = load<u32>(RCOUNT + ((<usize>d) << 2));
  if (end > curEnd || count >= RAW_SLOTS / 2) {
    failed = true;
    return NONE;
  }
  const n = end - start;
  const h = quickHash(start, n) ^ (<u32>d * 0x9e3779b1);
  const table = RT + <usize>d * ((<usize>RAW_SLOTS) << 3);
  const info = RI + <usize>d * (<usize>RAW_SLOTS * 16);
  let s = h & (RAW_SLOTS - 1);
  for (;;) {
    const slot = table + ((<usize>s) << 3);
    if (load<u32>(slot) != gen) break;
    const id = load<u32>(slot + 4);
    const e = info + <usize>id * 16;
    if (load<u32>(e + 8) == h && load<u32>(e + 4) == <u32>n && sameBytes(arenaOut + <usize>load<u32>(e), start, n))
      return id;
    s = (s + 1) & (RAW_SLOTS - 1);
  }
  const slot = table + ((<usize>s) << 3);
  store<u32>(slot, gen);
  store<u32>(slot + 4, count);
  const e = info + <usize>count * 16;
  store<u32>(e, <u32>arenaLen);
  store<u32>(e + 4, <u32>n);
  store<u32>(e + 8, h);
  store<u32>(e + 12, hasBackslash(start, end) ? 1 : 0);
  store<u32>(RCOUNT + ((<usize>d) << 2), count + 1);
  arenaLen += n;
  return count;
}

/** The id in dictionary d of the text of slot `s` as written (NONE when the record has no such member). */
function keepSlot(d: i32, s: i32): u32 {
  if (kindOf(s) == K_NONE) return NONE;
  startText();
  putRange(s);
  return keep(d);
}

// ---- exports ----
/**
 * Sets the regions (byte offsets past {@link TABLES_END}): the document [doc, doc + docLen) followed by a 0
 * byte, and the output regions for keys, values and the projection. Starts reading at the document's start:
 * checks `{"Records":[` and returns 1, or 0 when it is not that (the caller reads it with JavaScript).
 */
export function begin(
  doc: usize,
  docLen: usize,
  keys: usize,
  keysCapacity: usize,
  vals: usize,
  valsCapacity: usize,
  arena: usize,
  arenaCapacity: usize,
): i32 {
  if (__heap_base > PT) return 0;
  arenaOut = arena;
  arenaCap = arenaCapacity;
  docEnd = doc + docLen;
  keysOut = keys;
  keysCap = keysCapacity;
  valsOut = vals;
  valsCap = valsCapacity;
  failed = false;
  let p = ws(doc);
  if (load<u8>(p) != 0x7b) return 0;
  p = ws(p + 1);
  if (!eq(p, 9, '"Records"')) return 0;
  p = ws(p + 9);
  if (load<u8>(p) != 0x3a) return 0;
  p = ws(p + 1);
  if (load<u8>(p) != 0x5b) return 0;
  p = ws(p + 1);
  if (load<u8>(p) == 0x5d) return 0; // no records: JavaScript words what the document is
  pos = p;
  return 1;
}

/**
 * Reads up to `maxRows` records into a new block (its dictionaries empty; path 0 is `userIdentity`, as in
 * FieldStoreBuilder). Returns the records read (0 at the end of the array: the document then must end), or -1
 * to give up (see the module comment). After it: {@link blockStats}, the tables and regions hold the block.
 */
export function block(maxRows: i32): i32 {
  if (maxRows > MAX_ROWS) return -1;
  gen++;
  if (gen == 0) {
    memory.fill(VT, 0, (<usize>VAL_SLOTS) << 3);
    memory.fill(RT, 0, 16 * ((<usize>RAW_SLOTS) << 3));
    memory.fill(CT, 0, <usize>COL_SLOTS * 24);
    gen = 1;
  }
  memory.fill(PT, 0, (<usize>PATH_SLOTS) << 2);
  nPaths = 0;
  nValues = 0;
  nEntries = 0;
  keysLen = 0;
  valsLen = 0;
  arenaLen = 0;
  colCount = 0;
  memory.fill(RCOUNT, 0, (<usize>N_DICTS) << 2);
  for (let i = 0; i < 12; i++) store<u8>(UIK + <usize>i, <u8>UI_KEY.charCodeAt(i));
  uiPath = child(-1, UIK, 12);
  let p = pos;
  let rows = 0;
  while (rows < maxRows) {
    if (load<u8>(p) == 0x5d) break;
    store<u32>(RS + ((<usize>rows) << 2), <u32>nEntries);
    p = record(p);
    if (failed) return -1;
    const h = HS + ((<usize>rows) << 3);
    store<u32>(h, fmix(accA ^ (accN * 0x9e3779b1) ^ 0x4cf5ad43));
    store<u32>(h + 4, fmix(accB + accN + 0x7a3b1c2d));
    const e = ES + ((<usize>rows) << 3);
    const a = slotAddr(S_EVENT_ID);
    if (load<u32>(a + 8) == K_SCALAR && load<u8>(<usize>load<u32>(a)) == 0x22 && load<u32>(a + 4) - load<u32>(a) > 2) {
      const s0 = <usize>load<u32>(a) + 1;
      const s1 = <usize>load<u32>(a + 4) - 1;
      // by its characters (an escape is written otherwise)
      if (hasBackslash(s0, s1)) hashBytes(SCR, unescaped(s0, s1), TAG_EVENT_ID);
      else hashBytes(s0, s1 - s0, TAG_EVENT_ID);
      store<u32>(e, h1);
      store<u32>(e + 4, h2);
    } else {
      store<u32>(e, 0);
      store<u32>(e + 4, 0);
    }
    // the texts the index columns are derived from, each distinct text once a block
    const r4 = (<usize>rows) << 2;
    for (let d = 0; d < 13; d++) store<u32>(RID + <usize>d * ((<usize>MAX_ROWS) << 2) + r4, keepSlot(d, directSlot(d)));
    startText();
    projectIdentity();
    store<u32>(RID + 13 * ((<usize>MAX_ROWS) << 2) + r4, keep(13));
    startText();
    projectCaller();
    store<u32>(RID + 14 * ((<usize>MAX_ROWS) << 2) + r4, keep(14));
    startText();
    projectKey();
    store<u32>(RID + 15 * ((<usize>MAX_ROWS) << 2) + r4, keep(15));
    if (failed) return -1;
    rows++;
    p = ws(p);
    const d = load<u8>(p);
    if (d == 0x2c) p = ws(p + 1);
    else if (d != 0x5d) return -1;
  }
  store<u32>(RS + ((<usize>rows) << 2), <u32>nEntries);
  pos = p;
  if (rows == 0) {
    // the end of Records: `]}` and nothing but white space after
    p = ws(p + 1);
    if (load<u8>(p) != 0x7d) return -1;
    p = ws(p + 1);
    if (p != docEnd) return -1;
  }
  return rows;
}

const UI_KEY: string = 'userIdentity';

/** After {@link block}: 0 paths, 1 values, 2 entries, 3 keys region bytes, 4 values region bytes, 5 arena bytes. */
export function blockStats(which: i32): i32 {
  if (which == 0) return nPaths;
  if (which == 1) return nValues;
  if (which == 2) return nEntries;
  if (which == 3) return <i32>keysLen;
  if (which == 4) return <i32>valsLen;
  return <i32>arenaLen;
}

/**
 * Dictionary d after {@link block} (see N_DICTS): 0 its texts (four u32 a text: arena offset, length, hash,
 * 1 when it holds an escape), 1 each row's id (u32, 0xffffffff when the record has no such member), 2 the number of texts.
 */
export function dict(d: i32, which: i32): usize {
  if (which == 0) return RI + <usize>d * (<usize>RAW_SLOTS * 16);
  if (which == 1) return RID + <usize>d * ((<usize>MAX_ROWS) << 2);
  return <usize>load<u32>(RCOUNT + ((<usize>d) << 2));
}

/**
 * Addresses of the block's arrays: 0 entryPath (u16), 1 entryValue (u32), 2 rowStart (u32), 3 content hash,
 * 4 eventID hash (two u32 lanes a row), 5 the path table (8 u32 a path: the parent id, i32, -1 at the top, is
 * the third), 6 the arena (the texts of {@link dict}), 7 the values region, 8 the keys region.
 */
export function table(which: i32): usize {
  if (which == 6) return arenaOut;
  if (which == 7) return valsOut;
  if (which == 8) return keysOut;
  if (which == 5) return PI;
  if (which == 0) return EP;
  if (which == 1) return EV;
  if (which == 2) return RS;
  if (which == 3) return HS;
  return ES;
}
