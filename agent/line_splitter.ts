/**
 * Bytes → lines, with no I/O: lines end at `\n` (a trailing `\r` is dropped), a partial last line
 * is held until its newline or an explicit `flush()`, a line longer than `maxLineBytes` is cut into
 * numbered parts (never held back), and bytes that are not UTF-8 become U+FFFD and are flagged.
 * @module
 */
import { DEFAULT_MAX_LINE_BYTES } from "../config_plane/source.ts";
import { decodeUtf8 } from "../core/utf8.ts";

/** One line (or one part of a long line) with where it lies in the file. */
export interface Line {
  /** File offset of the line's first byte (the same for every part of a split line). */
  offset: number;
  /** File offset just past this piece, its newline included. */
  end: number;
  /**
   * Where a restart must read from so that this piece is not lost: `end` for a finished line, the
   * line's start for a part that is not the last (re-reading yields the same parts and event ids).
   */
  resume: number;
  /** The text, without its line ending. */
  text: string;
  /** Set on lines longer than `maxLineBytes`: the part number, from 0. */
  part?: number;
  /** Set when some bytes were not valid UTF-8 and were replaced by U+FFFD. */
  invalidUtf8?: true;
}

export interface LineSplitterOptions {
  /** Longest line kept whole, in bytes (default 1 MiB). */
  maxLineBytes?: number;
  /** File offset of the first byte that will be pushed (default 0). */
  startOffset?: number;
}

/**
 * Where the splitter hands each finished line (or part) as bytes: `bytes[start..stop)` is the
 * line without its ending, valid only during the call (copy what is kept); `offset`, `end`,
 * `resume` as in `Line`; `part` the part number, -1 for a line that was not cut.
 */
export type LineSink = (
  bytes: Uint8Array,
  start: number,
  stop: number,
  offset: number,
  end: number,
  resume: number,
  part: number,
) => void;

/** The default of a source's `max_line_bytes`: its one owner is the config plane's source model. */
export { DEFAULT_MAX_LINE_BYTES } from "../config_plane/source.ts";

const NEWLINE = 0x0a;
const CR = 0x0d;
/** Decoding with the U+FFFD flag has one owner, shared with the transfer (format 2 records). */
export { decodeUtf8 } from "../core/utf8.ts";

/**
 * A file is treated as binary when its first bytes contain a NUL byte: text logs never do, while
 * almost every binary format (images, archives, databases, executables) does in its header.
 *
 * @example
 * ```ts
 * import { looksBinary } from "./line_splitter.ts";
 * looksBinary(new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x00])); // true
 * ```
 */
export function looksBinary(head: Uint8Array): boolean {
  return head.includes(0);
}

/**
 * How many bytes of `bytes` (≤ `length`) can be cut off without splitting a UTF-8 sequence: the
 * cut moves back over at most 3 bytes to the start of an unfinished sequence.
 */
export function utf8SafeCut(bytes: Uint8Array, length: number): number {
  for (let back = 1; back <= 3 && back < length; back++) {
    const b = bytes[length - back];
    if ((b & 0xc0) !== 0x80) {
      // b starts a sequence (or is ASCII): does the sequence fit in the `back` bytes we keep?
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      return need > back ? length - back : length;
    }
  }
  return length;
}

/**
 * Splits a byte stream into lines. Push chunks as they are read; each call returns the lines it
 * finished. Memory is bounded by `maxLineBytes`.
 *
 * @example
 * ```ts
 * import { LineSplitter } from "./line_splitter.ts";
 * const s = new LineSplitter();
 * const enc = new TextEncoder();
 * s.push(enc.encode("one\r\ntw")); // [{ offset: 0, end: 5, resume: 5, text: "one" }]
 * s.push(enc.encode("o\n"));       // [{ offset: 5, end: 9, resume: 9, text: "two" }]
 * ```
 */
export class LineSplitter {
  readonly maxLineBytes: number;
  #pending: Uint8Array;
  #pendingLen = 0;
  /** File offset of the first byte of the line being assembled. */
  #lineStart: number;
  /** Bytes of the current line already emitted as parts. */
  #emitted = 0;
  #part = 0;

  constructor(options: LineSplitterOptions = {}) {
    this.maxLineBytes = Math.max(4, options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
    this.#lineStart = options.startOffset ?? 0;
    // Small at first (it grows as a line needs): a thousand idle files must not hold 64 KiB each.
    this.#pending = new Uint8Array(Math.min(this.maxLineBytes, 1024));
  }

  /** Bytes of an unfinished line held back. */
  get pendingBytes(): number {
    return this.#pendingLen;
  }

  /** File offset just past the last byte pushed. */
  get position(): number {
    return this.#lineStart + this.#emitted + this.#pendingLen;
  }

  /** Forgets any held bytes and continues at `offset` (after a truncation or a seek). */
  reset(offset: number): void {
    this.#pendingLen = 0;
    this.#emitted = 0;
    this.#part = 0;
    this.#lineStart = offset;
  }

  /** Adds bytes that follow the previous ones in the file; returns the lines they finished. */
  push(chunk: Uint8Array): Line[] {
    const out: Line[] = [];
    this.pushTo(chunk, (bytes, start, stop, offset, end, resume, part) => {
      out.push(toLine(bytes, start, stop, offset, end, resume, part));
    });
    return out;
  }

  /**
   * Adds bytes that follow the previous ones in the file and hands each line they finished to
   * `sink` as bytes, in order: no string per line (the agent's default path). A line that lies
   * whole in `chunk` is handed as a view of it, without a copy.
   */
  pushTo(chunk: Uint8Array, sink: LineSink): void {
    let start = 0;
    const max = this.maxLineBytes;
    while (start <= chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      const segEnd = nl === -1 ? chunk.length : nl;
      if (nl !== -1 && this.#pendingLen === 0 && this.#emitted === 0 && segEnd - start <= max) {
        // Nothing held: the line is whole in the chunk.
        const stop = segEnd > start && chunk[segEnd - 1] === CR ? segEnd - 1 : segEnd;
        const offset = this.#lineStart;
        const end = offset + segEnd - start + 1;
        this.#lineStart = end;
        this.#part = 0;
        sink(chunk, start, stop, offset, end, end, -1);
        start = nl + 1;
        continue;
      }
      let s = start;
      // A line that already has more than max bytes is cut now, so a huge line never stalls.
      while (this.#pendingLen + (segEnd - s) > max) {
        const take = max - this.#pendingLen;
        this.#append(chunk.subarray(s, s + take));
        s += take;
        this.#emitPart(sink);
      }
      this.#append(chunk.subarray(s, segEnd));
      if (nl === -1) break;
      this.#finishLine(1, sink);
      start = nl + 1;
    }
  }

  /**
   * Emits the held partial line as finished (after the flush timeout, or when a rotated file
   * ends). Bytes pushed later start a new line.
   */
  flush(): Line[] {
    const out: Line[] = [];
    this.flushTo((bytes, start, stop, offset, end, resume, part) => {
      out.push(toLine(bytes, start, stop, offset, end, resume, part));
    });
    return out;
  }

  /** `flush`, handing the line to `sink` as bytes. */
  flushTo(sink: LineSink): void {
    if (this.#pendingLen > 0) this.#finishLine(0, sink);
  }

  #append(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const need = this.#pendingLen + bytes.length;
    if (need > this.#pending.length) {
      const grown = new Uint8Array(
        Math.min(this.maxLineBytes, Math.max(need, this.#pending.length * 2)),
      );
      grown.set(this.#pending.subarray(0, this.#pendingLen));
      this.#pending = grown;
    }
    this.#pending.set(bytes, this.#pendingLen);
    this.#pendingLen = need;
  }

  /** Emits the first ≤ max bytes of the held line as a part, keeping a split UTF-8 char whole. */
  #emitPart(sink: LineSink): void {
    const cut = utf8SafeCut(this.#pending, this.#pendingLen);
    const offset = this.#lineStart;
    sink(this.#pending, 0, cut, offset, offset + this.#emitted + cut, offset, this.#part++);
    this.#emitted += cut;
    this.#pending.copyWithin(0, cut, this.#pendingLen);
    this.#pendingLen -= cut;
  }

  /** Emits the held bytes as the end of the line; `newline` is 1 when a `\n` follows them. */
  #finishLine(newline: 0 | 1, sink: LineSink): void {
    let len = this.#pendingLen;
    if (newline === 1 && len > 0 && this.#pending[len - 1] === CR) len--;
    const end = this.#lineStart + this.#emitted + this.#pendingLen + newline;
    const offset = this.#lineStart;
    const part = this.#part > 0 ? this.#part : -1;
    // Reset before the sink runs, which may read `position`; the bytes stay until the next push.
    this.reset(end);
    sink(this.#pending, 0, len, offset, end, end, part);
  }
}

/** A line as text: `bytes[start..stop)` decoded, flagged when it was not UTF-8. */
function toLine(
  bytes: Uint8Array,
  start: number,
  stop: number,
  offset: number,
  end: number,
  resume: number,
  part: number,
): Line {
  const { text, invalid } = decodeUtf8(bytes.subarray(start, stop));
  const line: Line = { offset, end, resume, text };
  if (part >= 0) line.part = part;
  if (invalid) line.invalidUtf8 = true;
  return line;
}
