/**
 * Finds the source text of each element of a top-level array in a JSON document (`{"Records":[...]}`), so the
 * stored copy of an event is its original text instead of a re-serialisation. Jumps from quote to quote with
 * the native `indexOf`, so it costs far less than `JSON.stringify` of the parsed events.
 *
 * Returns the element ranges: `[start0, end0, start1, end1, ...]` as UTF-16 offsets into `text` (end exclusive),
 * or null when the document does not have the expected shape; the caller then serialises the parsed events
 * instead. The text must already be valid JSON (it is only called after `JSON.parse` succeeded).
 */
export function arrayRanges(text: string, key: string): Uint32Array | null {
  const n = text.length;
  let i = 0;
  let depth = 0;
  let target = -1; // index of '[' of the wanted array
  const wanted = JSON.stringify(key);
  // 1. find `"key"` as a key of the top-level object
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      const end = stringEnd(text, i);
      if (end < 0) return null;
      if (depth === 1 && end - i + 1 === wanted.length && text.startsWith(wanted, i)) {
        let j = end + 1;
        while (j < n && text.charCodeAt(j) <= 32) j++;
        if (text.charCodeAt(j) === 58 /* : */) {
          j++;
          while (j < n && text.charCodeAt(j) <= 32) j++;
          if (text.charCodeAt(j) !== 91 /* [ */) return null;
          target = j;
          break;
        }
      }
      i = end + 1;
      continue;
    }
    if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) depth--;
    i++;
  }
  if (target < 0) return null;
  // 2. split the array's elements
  const out: number[] = [];
  const push = (a: number, b: number) => {
    while (b > a && text.charCodeAt(b - 1) <= 32) b--;
    out.push(a, b);
  };
  i = target + 1;
  depth = 0;
  let start = -1;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      if (start < 0) start = i;
      const end = stringEnd(text, i);
      if (end < 0) return null;
      i = end + 1;
      continue;
    }
    if (c === 123 || c === 91) {
      if (start < 0) start = i;
      depth++;
    } else if (c === 125 || c === 93) {
      if (depth === 0) {
        if (start >= 0) push(start, i);
        return Uint32Array.from(out);
      }
      depth--;
    } else if (c === 44 /* , */ && depth === 0) {
      if (start < 0) return null;
      push(start, i);
      start = -1;
    } else if (c > 32 && start < 0) start = i;
    i++;
  }
  return null;
}

/** Index of the closing quote of the string opening at `i`, or -1. */
function stringEnd(text: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const q = text.indexOf('"', j);
    if (q < 0) return -1;
    let bs = 0;
    for (let k = q - 1; k > i && text.charCodeAt(k) === 92; k--) bs++;
    if (bs % 2 === 0) return q;
    j = q + 1;
  }
}
