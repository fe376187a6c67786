/**
 * The arithmetic of a virtual list of fixed-height rows (VirtualRows.svelte), in CSS pixels, for any number of
 * rows. Browsers cap an element's height (Chromium ~33.5M px, Firefox ~17.9M px): at 28 px a row, 5M rows
 * would need 140M px, and rows past the cap could never be scrolled to. So the scrolling content is at most
 * {@link MAX_SCROLL_PX} high, and a scroll position maps linearly onto the rows' own offset: the top of the
 * scroll range shows the first row, its bottom the last.
 *
 * (@tanstack/svelte-virtual, used before, measures every row: at 5M rows one count change kept the page's
 * main thread busy ~1 s, building 5M measurement objects, and its content was 140M px high.)
 */

/** Most height (px) of the scrolling content: below every engine's cap on an element's height. */
export const MAX_SCROLL_PX = 8_000_000;

/** A list's size: `count` rows of `rowHeight` px, shown in a viewport of `viewport` px. */
export interface RowListSize {
  count: number;
  rowHeight: number;
  viewport: number;
}

/** Height (px) of the scrolling content. */
export function contentHeight({ count, rowHeight }: RowListSize): number {
  return Math.min(count * rowHeight, MAX_SCROLL_PX);
}

/** Rows' offset (px, as if every row were laid out) per scroll px: 1 unless the content is capped. */
function scale(size: RowListSize): number {
  const full = size.count * size.rowHeight;
  const height = contentHeight(size);
  if (full <= height || height <= size.viewport) return 1;
  return (full - size.viewport) / (height - size.viewport);
}

/** The rows' offset (px) shown at the top of the viewport at scroll position `scrollTop` (px). */
export function offsetAt(size: RowListSize, scrollTop: number): number {
  return Math.max(0, Math.min(scrollTop * scale(size), maxOffset(size)));
}

/** The scroll position (px) that shows the rows' offset `offset` (px) at the top of the viewport. */
export function scrollTopFor(size: RowListSize, offset: number): number {
  const max = Math.max(0, contentHeight(size) - size.viewport);
  return Math.max(0, Math.min(offset / scale(size), max));
}

/** The largest offset (px): the last row at the bottom of the viewport. */
export function maxOffset(size: RowListSize): number {
  return Math.max(0, size.count * size.rowHeight - size.viewport);
}

/** The rows to draw: [first, end), with `overscan` extra rows each side. */
export interface RowWindow {
  first: number;
  end: number;
  /** Top (px, within the scrolling content) of row `first`; each next row is `rowHeight` lower. */
  top: number;
}

/**
 * The rows on screen (plus `overscan` each side) when the rows' offset `offset` (px) is at the top of the
 * viewport and the content is scrolled to `scrollTop` (px): row i is drawn at `scrollTop + i * rowHeight -
 * offset`, which is `i * rowHeight` when the content is not capped.
 */
export function rowWindow(size: RowListSize, offset: number, scrollTop: number, overscan: number): RowWindow {
  const { count, rowHeight, viewport } = size;
  if (count <= 0 || rowHeight <= 0) return { first: 0, end: 0, top: 0 };
  const first = Math.max(0, Math.floor(offset / rowHeight) - overscan);
  const end = Math.min(count, Math.ceil((offset + Math.max(viewport, rowHeight)) / rowHeight) + overscan);
  return { first, end, top: scrollTop + first * rowHeight - offset };
}

/**
 * The offset (px) that brings row `index` into view with the least movement from `offset` (unchanged when the
 * row is fully visible already): the `align: 'auto'` of scrollIntoView.
 */
export function offsetToShow(size: RowListSize, offset: number, index: number): number {
  const { rowHeight, viewport } = size;
  const top = index * rowHeight;
  if (top < offset) return Math.max(0, top);
  if (top + rowHeight > offset + viewport) return Math.min(maxOffset(size), top + rowHeight - viewport);
  return offset;
}
