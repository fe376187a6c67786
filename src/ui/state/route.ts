/**
 * The view state in the URL hash, so a link reproduces the view on another machine holding the same data:
 *
 * `#events?q=<query>&from=<ISO UTC>&to=<ISO UTC>&sort=desc&event=<eventID>`, `#keys?key=<key ARN>`, or
 * `#<view>` for every other view of src/ui/views.ts (`#files`, `#cloudhsm`, `#findings`...)
 *
 * (`q` is the query text, `from`/`to` the time window (from inclusive, to exclusive), `sort=desc` newest first,
 * `event` the eventID of the open event). Every parameter is optional. Which view keeps which parameters is
 * src/ui/views.ts's `params`.
 */
import { utcIso } from '../../lib/format/utc';
import { viewSpec, type RouteParam, type ViewName } from '../views';

export interface Route {
  view: ViewName;
  /** The key ARN of an open key page (`#keys?key=<ARN>`). */
  key?: string;
  q: string;
  /** Start of the time window, epoch ms, inclusive. */
  from?: number;
  /** End of the time window, epoch ms, exclusive. */
  to?: number;
  desc: boolean;
  event?: string;
}

/** How each URL parameter is written: its text, or undefined when the route leaves it out. */
const WRITE: Record<RouteParam, (r: Route) => string | undefined> = {
  q: (r) => r.q || undefined,
  from: (r) => (r.from !== undefined ? utcIso(r.from) : undefined),
  to: (r) => (r.to !== undefined ? utcIso(r.to) : undefined),
  sort: (r) => (r.desc ? 'desc' : undefined),
  event: (r) => r.event || undefined,
  key: (r) => r.key || undefined,
};

/**
 * Reads a route from a hash (`location.hash`). Unknown or malformed parameters are ignored; an unknown view is
 * `events` when the hash has a `q`, else `files`.
 */
export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#\/?/, '');
  const [view, qs = ''] = h.split('?', 2) as [string, string?];
  const p = new URLSearchParams(qs);
  const time = (k: string) => {
    const v = p.get(k);
    const t = v ? Date.parse(v) : NaN;
    return Number.isFinite(t) ? t : undefined;
  };
  const known = (viewSpec(view)?.id as ViewName | undefined) ?? (p.has('q') ? 'events' : 'files');
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

/** Writes a route as a hash (`#events?q=...`): the view and the parameters it keeps (src/ui/views.ts), spaces as `%20`. */
export function formatRoute(r: Route): string {
  const p = new URLSearchParams();
  for (const name of viewSpec(r.view)?.params ?? []) {
    const v = WRITE[name](r);
    if (v !== undefined) p.set(name, v);
  }
  const s = p.toString().replace(/\+/g, '%20');
  return s ? `#${r.view}?${s}` : `#${r.view}`;
}
