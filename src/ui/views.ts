/**
 * The views of the app, in tab order: the one table that the URL router (src/ui/state/route.ts), the tab bar,
 * the keyboard shortcuts and the rendering (src/App.svelte) all read. Adding a view is one entry here plus its
 * component in App.svelte's `COMPONENTS` (svelte-check fails until it is there).
 *
 * Data only (no Svelte import), so the router and its unit test load it in Node.
 */

/** A URL parameter a view keeps in the hash (`#events?q=...`); src/ui/state/route.ts reads and writes each. */
export type RouteParam = 'q' | 'from' | 'to' | 'sort' | 'event' | 'key';

/** One view: its hash (`#<id>`), tab label, keyboard shortcut and the URL parameters it keeps. */
export interface ViewSpec {
  /** The hash of the view (`#keys`) and the suffix of its tab's `data-testid` (`nav-keys`). */
  id: string;
  /** Text of the tab. */
  label: string;
  /** Key that shows the view (`1`...`9`), outside text fields and without Alt/Ctrl/Meta. */
  shortcut?: string;
  /** The URL parameters of the view, in the order they are written. */
  params: readonly RouteParam[];
}

export const VIEWS = [
  { id: 'files', label: 'Files', shortcut: '1', params: [] },
  { id: 'events', label: 'Events', shortcut: '2', params: ['q', 'from', 'to', 'sort', 'event'] },
  { id: 'keys', label: 'KMS keys', shortcut: '3', params: ['key'] },
  { id: 'cloudhsm', label: 'CloudHSM', shortcut: '4', params: [] },
  { id: 'principals', label: 'Principals', shortcut: '5', params: [] },
  { id: 'accounts', label: 'Accounts', shortcut: '6', params: [] },
  { id: 'coverage', label: 'Coverage', shortcut: '7', params: [] },
  { id: 'integrity', label: 'Integrity', shortcut: '8', params: [] },
  { id: 'findings', label: 'Findings', shortcut: '9', params: [] },
] as const satisfies readonly ViewSpec[];

/** The id of a view of {@link VIEWS}. */
export type ViewName = (typeof VIEWS)[number]['id'];

/** The entry of {@link VIEWS} with this id, or undefined. */
export function viewSpec(id: string): ViewSpec | undefined {
  return VIEWS.find((v) => v.id === id);
}
