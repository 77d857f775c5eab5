/**
 * Multiline joining, with no I/O: a line matching the start pattern begins a new event, other
 * lines join the open one; an event is closed by the next start, by `max_lines`, or by the timeout.
 * Events keep the offset of their first line and the resume offset of their last.
 * @module
 */
import type { MultilineSpec } from "../config_plane/types.ts";
import type { Line } from "./line_splitter.ts";

export const DEFAULT_MAX_LINES = 500;
export const DEFAULT_TIMEOUT_MS = 1000;

/**
 * Joins lines into events.
 *
 * @example
 * ```ts
 * import { MultilineJoiner } from "./multiline.ts";
 * const j = new MultilineJoiner({ start_pattern: "^\\S" });
 * j.push({ offset: 0, end: 6, resume: 6, text: "Error" }, 0);      // []
 * j.push({ offset: 6, end: 12, resume: 12, text: "  at x" }, 0);   // []
 * j.push({ offset: 12, end: 17, resume: 17, text: "next" }, 0);
 * // → [{ offset: 0, end: 12, resume: 12, text: "Error\n  at x" }]
 * ```
 */
export class MultilineJoiner {
  readonly #start: RegExp;
  readonly #maxLines: number;
  readonly timeoutMs: number;
  #open: Line | undefined;
  #count = 0;
  #lastAt = 0;

  constructor(spec: MultilineSpec) {
    this.#start = new RegExp(spec.start_pattern);
    this.#maxLines = Math.max(1, spec.max_lines ?? DEFAULT_MAX_LINES);
    this.timeoutMs = spec.timeout_ms ?? DEFAULT_TIMEOUT_MS;
  }

  /** True while an event is open (its lines are not yet sent, so not checkpointed either). */
  get pending(): boolean {
    return this.#open !== undefined;
  }

  /** Adds a line read at time `now` (ms); returns the events it closed. */
  push(line: Line, now: number): Line[] {
    const out: Line[] = [];
    // A later part of a split line continues the previous part: join it without a newline.
    const continuesPart = line.part !== undefined && line.part > 0 && this.#open !== undefined;
    if (this.#open && !continuesPart && this.#start.test(line.text)) out.push(this.#close());
    if (this.#open === undefined) {
      this.#open = { ...line };
      delete this.#open.part;
      this.#count = 1;
    } else {
      const open = this.#open;
      open.text += continuesPart ? line.text : "\n" + line.text;
      open.end = line.end;
      open.resume = line.resume;
      if (line.invalidUtf8) open.invalidUtf8 = true;
      if (!continuesPart) this.#count++;
    }
    this.#lastAt = now;
    if (this.#count >= this.#maxLines) out.push(this.#close());
    return out;
  }

  /** Closes the open event when no line came for `timeoutMs`. */
  flushDue(now: number): Line[] {
    return this.#open && now - this.#lastAt >= this.timeoutMs ? [this.#close()] : [];
  }

  /** Closes the open event now (the file ended for good). */
  flush(): Line[] {
    return this.#open ? [this.#close()] : [];
  }

  #close(): Line {
    const event = this.#open!;
    this.#open = undefined;
    this.#count = 0;
    return event;
  }
}
