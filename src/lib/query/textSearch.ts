import { TEXT_SEARCH_WASM_BASE64 } from './textSearchWasm';

/** Bytes of one WebAssembly memory page. */
const PAGE = 65_536;
/** Bytes at the start of the memory kept for the needle (a longer needle is searched without the kernel). */
const NEEDLE_BYTES = PAGE;

interface Kernel {
  find(start: number, end: number, needle: number, m: number): number;
  memory: WebAssembly.Memory;
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled kernel, or null where WebAssembly or its SIMD instructions are unavailable (checked once). */
function kernelModule(): WebAssembly.Module | null {
  if (compiled !== undefined) return compiled;
  try {
    const bytes = Uint8Array.from(atob(TEXT_SEARCH_WASM_BASE64), (c) => c.charCodeAt(0));
    compiled = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    compiled = null;
  }
  return compiled;
}

/** Whether this engine runs the WebAssembly search kernel (WebAssembly with fixed-width SIMD). */
export function textKernelAvailable(): boolean {
  return kernelModule() !== null;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when `s` has no lone surrogate (`String.prototype.isWellFormed`, ES2024, where the engine has it). */
export function isWellFormed(s: string): boolean {
  const own = (s as { isWellFormed?: () => boolean }).isWellFormed;
  return own ? own.call(s) : !LONE_SURROGATE.test(s);
}

/** A text held by a {@link TextArena}: its bytes' range in the arena's memory. */
export interface ArenaText {
  /** Byte offset of the first byte. */
  start: number;
  /** Byte offset one past the last byte. */
  end: number;
  /** True when every character is ASCII (byte offsets are then character offsets). */
  ascii: boolean;
}

/**
 * Case-folded free text held as UTF-8 in the memory of a WebAssembly module and searched by its SIMD kernel
 * (wasm/textSearch.ts): about five times the speed of `String.prototype.indexOf` on CloudTrail values, whose
 * hexadecimal identifiers make indexOf's first-character scan stop every few bytes (Node 20 and Chromium on this
 * project's bench data, 2026-12-01: ~110 vs ~580 ms per GB).
 *
 * The bytes replace the JavaScript string (not a copy beside it). Matching UTF-8 bytes is matching the text: for
 * well-formed text and needle, a byte match starts and ends on character boundaries (UTF-8 is self-synchronising),
 * so callers keep texts with lone surrogates (`isWellFormed` false) as strings. The memory only grows (up to
 * WebAssembly's 4 GiB); {@link TextArena.add} returns null when it cannot, and the caller keeps that text as a
 * string.
 */
export class TextArena {
  private readonly kernel: Kernel;
  private top = NEEDLE_BYTES;
  private view: Uint8Array;
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder();
  private needle: { text: string; bytes: number } | null = null;

  /**
   * @param limitBytes most bytes of memory to use (default: as much as WebAssembly's memory can grow to, 4 GiB
   *   in Chromium); past it {@link TextArena.add} returns null, as when the memory cannot grow.
   * @throws Error when the kernel is unavailable (check {@link textKernelAvailable} first).
   */
  constructor(private readonly limitBytes = Infinity) {
    const mod = kernelModule();
    if (!mod) throw new Error('the WebAssembly text search kernel is not available in this engine');
    this.kernel = new WebAssembly.Instance(mod, {}).exports as unknown as Kernel;
    this.view = new Uint8Array(this.kernel.memory.buffer);
  }

  /** Bytes of memory in use (texts and the needle area). */
  get bytes(): number {
    return this.top;
  }

  /** Makes room for `n` more bytes after `top`; false when the memory cannot grow. */
  private reserve(n: number): boolean {
    const need = this.top + n;
    if (need > this.limitBytes) return false;
    const have = this.kernel.memory.buffer.byteLength;
    if (need > have) {
      try {
        // grow by at least an eighth of what is held: fewer, larger steps
        const pages = Math.max(Math.ceil((need - have) / PAGE), Math.ceil(have / PAGE / 8));
        this.kernel.memory.grow(pages);
      } catch {
        try {
          this.kernel.memory.grow(Math.ceil((need - have) / PAGE));
        } catch {
          return false;
        }
      }
      this.view = new Uint8Array(this.kernel.memory.buffer);
    }
    return true;
  }

  /**
   * Stores `text` (well-formed UTF-16: `isWellFormed()`) as UTF-8. Returns where it lies, or null when the memory
   * cannot grow enough (nothing is stored then).
   */
  add(text: string): ArenaText | null {
    // ASCII first (CloudTrail values nearly always are); room for the worst case (3 bytes a code unit) if not
    if (!this.reserve(text.length)) return null;
    let r = this.encoder.encodeInto(text, this.view.subarray(this.top, this.top + text.length));
    if (r.read < text.length) {
      if (!this.reserve(text.length * 3)) return null;
      r = this.encoder.encodeInto(text, this.view.subarray(this.top, this.top + text.length * 3));
    }
    const t = { start: this.top, end: this.top + r.written, ascii: r.written === text.length };
    this.top = t.end;
    return t;
  }

  /** The text stored at `t`, decoded (for tests and rare fallbacks). */
  text(t: ArenaText): string {
    return this.decoder.decode(this.view.subarray(t.start, t.end));
  }

  /**
   * Byte offset (within `t`) of the first occurrence of `needle` at or after byte offset `from`, or -1.
   * `needle` must be well-formed, non-empty and at most 21,845 code units (64 KiB of UTF-8); see
   * {@link TextArena.searchable}.
   */
  indexOf(t: ArenaText, needle: string, from = 0): number {
    const m = this.setNeedle(needle);
    // usize in the module: an offset past 2 GiB comes back as a negative i32
    const at = this.kernel.find(t.start + from, t.end, 0, m) >>> 0;
    return at === 0xffffffff ? -1 : at - t.start;
  }

  /** Whether {@link TextArena.indexOf} can search for `needle` (non-empty, well-formed, short enough). */
  static searchable(needle: string): boolean {
    return needle.length > 0 && needle.length * 3 <= NEEDLE_BYTES && isWellFormed(needle);
  }

  /** Writes the needle's UTF-8 at offset 0 (once per distinct needle); its byte length. */
  private setNeedle(needle: string): number {
    if (this.needle?.text === needle) return this.needle.bytes;
    const { written } = this.encoder.encodeInto(needle, this.view.subarray(0, NEEDLE_BYTES));
    this.needle = { text: needle, bytes: written };
    return written;
  }

  /**
   * Start offset (bytes, within `t`) of each of the `nValues` values of `t`, joined with U+0000, plus one past the
   * end (byte length + 1): the layout of `FieldIndex`'s value offsets, in bytes.
   */
  valueOffsets(t: ArenaText, nValues: number): Uint32Array {
    const offsets = new Uint32Array(nValues + 1);
    const bytes = this.view.subarray(t.start, t.end);
    let k = 1;
    for (let i = bytes.indexOf(0); i !== -1 && k < nValues; i = bytes.indexOf(0, i + 1)) offsets[k++] = i + 1;
    offsets[nValues] = bytes.length + 1;
    return offsets;
  }
}
