/// <reference lib="webworker" />
import * as Comlink from 'comlink';
import { openDB, STORE_CHANNEL, type FileRecord, type StoreMessage } from '../store/db';
import { ColumnarIndex } from './columnar';
import { RawReader } from '../store/raw';
import { compileSimpleFilter, type SimpleFilter } from './lookup';

/** One row of the events table, read from the index (no raw JSON). */
export interface RowView {
  /** Row id in the index (stable until the store is wiped). */
  row: number;
  /** eventTime, epoch ms UTC (NaN when absent). */
  time: number;
  eventSource: string;
  eventName: string;
  principal: string;
  recipientAccountId: string;
  awsRegion: string;
  sourceIPAddress: string;
  errorCode: string;
  key: string;
}

/** A stored event fetched for the detail view. */
export interface EventDetail {
  row: number;
  /** The event's JSON, pretty-printed (2-space indent). */
  json: string;
  file: Pick<FileRecord, 'id' | 'path' | 'status' | 's3'> | null;
}

/** Index status. */
export interface IndexStatus {
  rows: number;
  loading: boolean;
  /** Time range of all rows, epoch ms (NaN when empty). */
  minTime: number;
  maxTime: number;
}

const db = openDB();
const ix = new ColumnarIndex();
let loading: Promise<void> | null = null;
let result: Uint32Array = new Uint32Array(0);
let filter: SimpleFilter = {};
let desc = false;
let listeners: ((s: IndexStatus) => void)[] = [];
let notifyTimer: ReturnType<typeof setTimeout> | null = null;
const raw = new RawReader(db);

function status(): IndexStatus {
  let min = Infinity;
  let max = -Infinity;
  const t = ix.time;
  for (let i = 0; i < ix.n; i++) {
    const v = t[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { rows: ix.n, loading: loading !== null, minTime: ix.n ? min : NaN, maxTime: ix.n ? max : NaN };
}

function notify(): void {
  if (notifyTimer) return;
  notifyTimer = setTimeout(() => {
    notifyTimer = null;
    const s = status();
    for (const l of listeners) l(s);
  }, 250);
}

async function loadAll(): Promise<void> {
  const keys = (await db.segments.toCollection().primaryKeys()) as number[];
  const todo = keys.filter((k) => !ix.segments.has(k));
  for (let i = 0; i < todo.length; i += 64) {
    const segs = await db.segments.bulkGet(todo.slice(i, i + 64));
    for (const s of segs) if (s) ix.addSegment(s);
  }
}

function ensureLoaded(): Promise<void> {
  if (!loading) {
    loading = loadAll().finally(() => {
      loading = null;
      notify();
    });
  }
  return loading;
}

let pendingIds: number[] = [];
let pendingLoad: Promise<void> | null = null;
async function loadPending(): Promise<void> {
  while (pendingIds.length) {
    const ids = pendingIds;
    pendingIds = [];
    const segs = await db.segments.bulkGet(ids);
    for (const s of segs) if (s) ix.addSegment(s);
  }
  pendingLoad = null;
  notify();
}

const channel = new BroadcastChannel(STORE_CHANNEL);
channel.onmessage = (ev: MessageEvent<StoreMessage>) => {
  const m = ev.data;
  if (m.type === 'cleared') {
    ix.clear();
    raw.clear();
    result = new Uint32Array(0);
    notify();
  } else if (m.type === 'commit') {
    pendingIds.push(...m.segmentIds);
    pendingLoad ??= loadPending();
  }
};

function compute(): void {
  const sorted = ix.sortedByTime();
  const pred = compileSimpleFilter(ix, filter);
  let out: Uint32Array;
  if (!pred) out = sorted.slice();
  else {
    const buf = new Uint32Array(sorted.length);
    let k = 0;
    for (let i = 0; i < sorted.length; i++) if (pred(sorted[i])) buf[k++] = sorted[i];
    out = buf.slice(0, k);
  }
  if (desc) out.reverse();
  result = out;
}

/** The query worker's API, called from the page through comlink. */
const api = {
  /** Loads every stored segment not yet in the index. Resolves with the status once loaded. */
  async open(): Promise<IndexStatus> {
    await ensureLoaded();
    return status();
  },
  /** Calls `cb` (a comlink proxy) with the status whenever rows are added or removed (at most 4 times/s). */
  subscribe(cb: (s: IndexStatus) => void): void {
    listeners.push(cb);
  },
  /** Runs a filter over all rows, sorted by eventTime (descending when `descending`). Returns the match count. */
  async run(f: SimpleFilter, descending: boolean): Promise<number> {
    await ensureLoaded();
    filter = f;
    desc = descending;
    compute();
    return result.length;
  },
  /** Rows `offset..offset+limit` of the last result. */
  page(offset: number, limit: number): RowView[] {
    const out: RowView[] = [];
    const end = Math.min(result.length, offset + limit);
    for (let i = Math.max(0, offset); i < end; i++) {
      const r = result[i];
      out.push({
        row: r,
        time: ix.time[r],
        eventSource: ix.value('eventSource', r),
        eventName: ix.value('eventName', r),
        principal: ix.value('principal', r) || ix.value('identityType', r),
        recipientAccountId: ix.value('recipientAccountId', r),
        awsRegion: ix.value('awsRegion', r),
        sourceIPAddress: ix.value('sourceIPAddress', r),
        errorCode: ix.value('errorCode', r),
        key: ix.value('key', r),
      });
    }
    return out;
  },
  /** The raw JSON of one row and the file it came from. */
  async event(row: number): Promise<EventDetail | null> {
    if (row < 0 || row >= ix.n) return null;
    const text = await raw.eventText(ix.seg[row], ix.off[row]);
    if (text === undefined) return null;
    let json = text;
    try {
      json = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      /* stored text is always JSON; show it as is otherwise */
    }
    const f = await db.files.get(ix.file[row]);
    return { row, json, file: f ? { id: f.id, path: f.path, status: f.status, s3: f.s3 } : null };
  },
  /** Index status without waiting for a load. */
  status,
  /** Drops the in-memory index (after the store was wiped). */
  reset(): void {
    ix.clear();
    raw.clear();
    result = new Uint32Array(0);
  },
  /** Removes all listeners (page unload in tests). */
  unsubscribeAll(): void {
    listeners = [];
  },
};

/** Type of the query worker's API. */
export type QueryWorkerApi = typeof api;

Comlink.expose(api);
