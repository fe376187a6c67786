import { SEP } from '../codec/fields';
import { valuesContaining } from './fieldIndex';
import { foldCase } from './resolve';

/**
 * A string column's dictionary case-folded (`foldCase`) and joined with U+0000, kept in step with the dictionary
 * as it grows, so that free text tests every value with one native `indexOf` over the joined text instead of
 * folding and testing each value per query (at 1M events the `accessKeyId` column alone holds about 650,000
 * upper-case values, which cost more to fold on every query than the whole search).
 */
export class FoldedDict {
  /** The dictionary the text was built from, and how many of its values it holds. */
  private dict: readonly string[] | null = null;
  private size = 0;
  private text = '';
  /** Start offset of each value in `text` plus one past the end (length + 1); null when a value holds U+0000. */
  private offsets: Uint32Array | null = null;

  /**
   * Codes of the values of `dict` that contain `needle` (case-folded, non-empty, without U+0000): a table with
   * 1 at each such code, or null when there is none. Undefined when the joined text cannot answer (a value holds
   * U+0000): the caller then tests each value itself.
   */
  search(dict: readonly string[], needle: string): Uint8Array | null | undefined {
    this.sync(dict);
    return this.offsets ? valuesContaining(this.text, this.offsets, this.size, needle) : undefined;
  }

  /** Brings the text up to date with `dict`: appends the values added since, or rebuilds it for another array. */
  private sync(dict: readonly string[]): void {
    if (dict === this.dict && dict.length === this.size) return;
    if (dict !== this.dict || dict.length < this.size || this.size === 0) {
      this.text = foldCase(dict.join(SEP));
    } else {
      this.text += SEP + foldCase(dict.slice(this.size).join(SEP));
    }
    this.dict = dict;
    this.size = dict.length;
    this.offsets = valueOffsets(this.text, this.size);
  }
}

/**
 * Start offset of each of the `n` SEP-joined values of `text`, plus one past the end (length + 1); null when
 * `text` holds more separators than `n - 1` (some value contains U+0000).
 */
function valueOffsets(text: string, n: number): Uint32Array | null {
  const offsets = new Uint32Array(n + 1);
  let k = 1;
  for (let i = text.indexOf(SEP); i !== -1; i = text.indexOf(SEP, i + 1)) {
    if (k >= n) return null;
    offsets[k++] = i + 1;
  }
  offsets[n] = text.length + 1;
  return offsets;
}
