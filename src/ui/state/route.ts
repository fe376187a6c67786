/**
 * The view state in the URL hash, so a link reproduces the view on another machine holding the same data:
 *
 * `#events?q=<query>&from=<ISO UTC>&to=<ISO UTC>&sort=desc&event=<eventID>`, `#keys?key=<key ARN>`, or
 * `#files`, `#keys`, `#cloudhsm`, `#principals`, `#findings`
 *
 * (`q` is the query text, `from`/`to` the time window (from inclusive, to exclusive), `sort=desc` newest first,
 * `event` the eventID of the open event). Every parameter is optional.
 */
import { utcIso } from '../../lib/format/utc';

/** The views, each with its own hash (`#keys`, `#cloudhsm`...). */
export const VIEWS = ['files', 'events', 'keys', 'cloudhsm', 'principals', 'accounts', 'coverage', 'integrity', 'findings'] as const;
export type ViewName = (typeof VIEWS)[number];

export interface Route {
  view: ViewName;
  /** The key ARN of an open key page (`#keys?key=<ARN>`). */
  key?: string;
  q: string;
  from?: number;
  to?: number;
  desc: boolean;
  event?: string;
}


/** Reads a route from a hash (`location.hash`). Unknown or malformed parameters are ignored. */
export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#\/?/, '');
  const [view, qs = ''] = h.split('?', 2) as [string, string?];
  const p = new URLSearchParams(qs);
  const time = (k: string) => {
    const v = p.get(k);
    const t = v ? Date.parse(v) : NaN;
    return Number.isFinite(t) ? t : undefined;
  };
  const known = (VIEWS as readonly string[]).includes(view) ? (view as ViewName) : p.has('q') ? 'events' : 'files';
  return {
    view: known,
    key: p.get('key') || undefined,
    q: p.get('q') ?? '',
    from: time('from'),
    to: time('to'),
    desc: p.get('sort') === 'desc',
    event: p.get('event') || undefined,
  };
}

/** Writes a route as a hash (`#events?q=...`). */
export function formatRoute(r: Route): string {
  if (r.view === 'keys' && r.key) return `#keys?key=${encodeURIComponent(r.key)}`;
  if (r.view !== 'events') return `#${r.view}`;
  const p = new URLSearchParams();
  if (r.q) p.set('q', r.q);
  if (r.from !== undefined) p.set('from', utcIso(r.from));
  if (r.to !== undefined) p.set('to', utcIso(r.to));
  if (r.desc) p.set('sort', 'desc');
  if (r.event) p.set('event', r.event);
  const s = p.toString().replace(/\+/g, '%20');
  return s ? `#events?${s}` : '#events';
}
