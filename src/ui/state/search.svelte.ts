import type { FacetResult, Histogram } from '../../lib/query/facets';
import type { QueryWorkerApi } from '../../lib/query/worker';
import type * as Comlink from 'comlink';
import { formatRoute, parseRoute, type Route } from './route';
import { fieldTerm } from '../../lib/query/text';

/**
 * The search state of the events view (Svelte 5 runes): query text, time window, sort, the open event, and
 * the current result's count, facets and histogram. Kept in step with the URL hash (see route.ts): running a
 * query pushes a history entry, so back/forward walk through earlier searches.
 */
export class Search {
  q = $state('');
  /** The query text last run (the input may hold an edit not yet run). */
  applied = $state('');
  from = $state<number | undefined>(undefined);
  to = $state<number | undefined>(undefined);
  desc = $state(false);
  /** eventID of the open event (for the URL). */
  eventId = $state<string | undefined>(undefined);
  /** Index in the result and row id of the open event; -1 when none. */
  selected = $state(-1);
  selectedRow = $state(-1);
  total = $state(0);
  ms = $state(0);
  error = $state<{ message: string; pos: number; end: number } | null>(null);
  warnings = $state<string[]>([]);
  /** Matching events the time window left out because their eventTime cannot be read. */
  untimed = $state(0);
  facets = $state.raw<FacetResult[]>([]);
  histogram = $state.raw<Histogram | null>(null);
  /** Bumped when a new result replaces the old one, with `total` (tables drop cached pages at once). */
  version = $state(0);
  running = $state(false);

  private generation = 0;
  /** Bumped each time the user opens or closes an event (a run that ends later leaves that choice alone). */
  private selections = 0;
  private userRunning = false;
  constructor(private query: () => Comlink.Remote<QueryWorkerApi>) {}

  /** The current state as a route. */
  route(): Route {
    return { view: 'events', q: this.applied, from: this.from, to: this.to, desc: this.desc, event: this.eventId };
  }

  /** Applies a route (from the URL) and runs it without adding a history entry. */
  async applyRoute(r: Route): Promise<void> {
    this.q = r.q;
    this.from = r.from;
    this.to = r.to;
    this.desc = r.desc;
    this.eventId = r.event;
    await this.run({ push: false, keepEvent: true });
  }

  /** Writes the state into the URL: a new history entry with `push`, else a replacement. */
  syncUrl(push: boolean): void {
    const hash = formatRoute(this.route());
    if (location.hash === hash) return;
    if (push) history.pushState(null, '', hash);
    else history.replaceState(null, '', hash);
  }

  /**
   * Runs the query text in `q` with the window and sort. On a syntax error the previous result stays and
   * `error` holds the message and position.
   */
  async run(opts: { push?: boolean; keepEvent?: boolean; text?: string; refresh?: boolean } = {}): Promise<void> {
    // a background refresh never supersedes a search the user started
    if (opts.refresh && this.userRunning) return;
    const gen = ++this.generation;
    this.running = true;
    if (!opts.refresh) this.userRunning = true;
    const text = opts.text ?? this.q;
    try {
      const res = await this.query().run({ q: text, from: this.from, to: this.to, descending: this.desc });
      if (gen !== this.generation) return;
      if (!res.ok) {
        this.error = { message: res.message, pos: res.pos, end: res.end };
        return;
      }
      if (opts.text === undefined) this.error = null;
      this.applied = text;
      if (!opts.keepEvent) this.eventId = undefined;
      const facetsAndHistogram = Promise.all([this.query().facets(8), this.query().histogram(120)]);
      facetsAndHistogram.catch(() => {}); // awaited below unless a newer run supersedes this one
      const index = this.eventId ? await this.query().indexOfEventId(this.eventId) : -1;
      if (gen !== this.generation) return;
      // The count, the open event's place and the table's rows change together: `version` makes the table drop
      // the previous result's rows in this same update, so no row of the old result is shown (or clickable)
      // under the new count. Facets and the histogram follow.
      this.total = res.total;
      this.ms = res.ms;
      this.warnings = res.warnings;
      this.untimed = res.untimed;
      this.selected = index;
      this.selectedRow = -1;
      if (index < 0) this.eventId = undefined;
      this.version++;
      const selections = this.selections;
      const [facets, histogram] = await facetsAndHistogram;
      if (gen !== this.generation) return;
      this.facets = facets;
      this.histogram = histogram;
      // an event the user opened (or closed) meanwhile stays as they left it
      if (index >= 0 && selections === this.selections) {
        const [row] = await this.query().page(index, 1);
        if (gen === this.generation && selections === this.selections) this.selectedRow = row?.row ?? -1;
      }
      if (opts.push !== undefined) this.syncUrl(opts.push);
    } finally {
      if (gen === this.generation) {
        this.running = false;
        this.userRunning = false;
      }
    }
  }

  /** Re-runs the last applied query (new data arrived); keeps the open event. */
  async refresh(): Promise<void> {
    await this.run({ keepEvent: true, text: this.applied, refresh: true });
  }

  /** Opens the event at result index `i` (row id `row`) and records its eventID in the URL. */
  async select(i: number, row: number): Promise<void> {
    this.selections++;
    this.selected = i;
    this.selectedRow = row;
    this.eventId = (await this.query().eventId(row)) || undefined;
    this.syncUrl(false);
  }

  /** Closes the open event. */
  close(): void {
    this.selections++;
    this.selectedRow = -1;
    this.eventId = undefined;
    this.syncUrl(false);
  }

  /** Adds `field:"value"` (or its negation) to the query and runs it. '' means "absent": `-field:*`. */
  async addFilter(field: string, value: string, exclude: boolean): Promise<void> {
    const term = fieldTerm(field, value, exclude);
    const base = this.applied.trim();
    this.q = base ? (/\bOR\b/.test(base) ? `(${base}) ${term}` : `${base} ${term}`) : term;
    await this.run({ push: true });
  }

  /** Sets the time window (zoom) and runs; undefined bounds clear it. */
  async setWindow(from: number | undefined, to: number | undefined): Promise<void> {
    this.from = from;
    this.to = to;
    await this.run({ push: true, keepEvent: true, text: this.applied });
  }

  /** Flips the sort order and runs. */
  async toggleSort(): Promise<void> {
    this.desc = !this.desc;
    await this.run({ push: true, keepEvent: true, text: this.applied });
  }

  /** Reads the URL hash (on load and on back/forward). */
  async fromLocation(): Promise<void> {
    const r = parseRoute(location.hash);
    if (r.view === 'events') await this.applyRoute(r);
  }
}
