import { describe, expect, it } from 'vitest';
import {
  contentHeight,
  MAX_SCROLL_PX,
  maxOffset,
  offsetAt,
  offsetToShow,
  rowWindow,
  scrollTopFor,
} from '../../src/ui/common/rowWindow';

/** The rows a viewport shows at `offset`: those at least partly inside it. */
function onScreen(count: number, rowHeight: number, viewport: number, offset: number): [number, number] {
  return [Math.floor(offset / rowHeight), Math.min(count, Math.ceil((offset + viewport) / rowHeight))];
}

describe('virtual list arithmetic (VirtualRows)', () => {
  it('lays rows out one after the other when they fit under the cap', () => {
    const size = { count: 1592, rowHeight: 28, viewport: 600 };
    expect(contentHeight(size)).toBe(1592 * 28);
    for (const scrollTop of [0, 1, 27, 28, 5000, contentHeight(size) - 600]) {
      expect(offsetAt(size, scrollTop)).toBe(scrollTop);
      expect(scrollTopFor(size, scrollTop)).toBe(scrollTop);
      const w = rowWindow(size, scrollTop, scrollTop, 12);
      expect(w.top).toBe(w.first * 28);
    }
  });

  for (const count of [1_200_000, 5_000_000, 50_000_000]) {
    it(`reaches every row of ${count.toLocaleString('en')} under the browsers' height cap`, () => {
      const size = { count, rowHeight: 28, viewport: 600 };
      const height = contentHeight(size);
      expect(height).toBeLessThanOrEqual(MAX_SCROLL_PX);
      // the whole scroll range maps onto the whole list
      const lastTop = height - size.viewport;
      expect(offsetAt(size, 0)).toBe(0);
      expect(offsetAt(size, lastTop)).toBeCloseTo(maxOffset(size), 3);
      for (const scrollTop of [0, 0.5, 1, 777, lastTop / 3, lastTop / 2, lastTop - 1, lastTop]) {
        const offset = offsetAt(size, scrollTop);
        expect(scrollTopFor(size, offset)).toBeCloseTo(scrollTop, 6);
        const w = rowWindow(size, offset, scrollTop, 12);
        const [a, b] = onScreen(count, 28, 600, offset);
        // every row on screen is drawn, inside the scrolling content, where the viewport shows it
        expect(w.first).toBeLessThanOrEqual(a);
        expect(w.end).toBeGreaterThanOrEqual(b);
        for (const i of [a, b - 1]) {
          const y = w.top + (i - w.first) * 28;
          expect(y - scrollTop).toBeCloseTo(i * 28 - offset, 6);
          expect(y).toBeGreaterThanOrEqual(-28);
          expect(y + 28).toBeLessThanOrEqual(height + 28);
        }
      }
      // at the bottom of the range the last row is on screen
      const end = rowWindow(size, offsetAt(size, lastTop), lastTop, 0);
      expect(end.end).toBe(count);
    });
  }

  it('brings a row into view with the least movement, wherever it is', () => {
    const size = { count: 5_000_000, rowHeight: 28, viewport: 600 };
    let offset = 0;
    expect(offsetToShow(size, offset, 3)).toBe(0); // visible: no move
    offset = offsetToShow(size, offset, 4_999_999);
    expect(offset).toBe(maxOffset(size));
    const [a, b] = onScreen(size.count, 28, 600, offset);
    expect(b).toBe(size.count);
    expect(a).toBeLessThan(size.count - 1);
    offset = offsetToShow(size, offset, 2_500_000);
    expect(offset).toBe(2_500_000 * 28); // above: its top at the top
    offset = offsetToShow(size, offset, 2_500_100);
    expect(offset).toBe(2_500_101 * 28 - 600); // below: its bottom at the bottom
    expect(rowWindow({ count: 0, rowHeight: 28, viewport: 600 }, 0, 0, 12)).toEqual({ first: 0, end: 0, top: 0 });
  });
});
