/**
 * How many log files the agent holds open at once, agent-wide. A host can have far more log
 * files than the process may open (systemd and many distributions give 1,024 descriptors): the
 * agent keeps at most `budget` files open, leaving room for its sockets, its checkpoint saves and
 * its HTTP server, and closes the files that have been idle longest when others have something
 * to read. A closed file keeps its checkpoint; the scan reopens it when it grows (scan_plan.ts).
 * @module
 */

/** Descriptors kept free for everything that is not a log file (sockets, saves, the server). */
export const RESERVED_DESCRIPTORS = 128;

/**
 * The soft limit on open files from the text of `/proc/self/limits`, or undefined when it is
 * unlimited or cannot be read there.
 *
 * @example
 * ```ts
 * import { softLimitFromProc } from "./open_files.ts";
 * softLimitFromProc("Max open files            1024                 524288               files\n"); // 1024
 * ```
 */
export function softLimitFromProc(text: string): number | undefined {
  const m = /^Max open files\s+(\S+)/m.exec(text);
  if (!m || m[1] === "unlimited") return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** This process's soft limit on open files (Linux), or undefined. */
export function processSoftLimit(): number | undefined {
  try {
    return softLimitFromProc(Deno.readTextFileSync("/proc/self/limits"));
  } catch {
    return undefined;
  }
}

/**
 * How many log files may be open: what the settings ask (`configured`, default no bound), and
 * never more than the soft limit minus `RESERVED_DESCRIPTORS` (at least 16).
 *
 * @example
 * ```ts
 * import { fileBudget } from "./open_files.ts";
 * fileBudget(1024); // 896
 * fileBudget(1024, 100); // 100
 * ```
 */
export function fileBudget(softLimit: number | undefined, configured?: number): number {
  const byLimit = softLimit === undefined
    ? Infinity
    : Math.max(16, softLimit - RESERVED_DESCRIPTORS);
  return Math.min(byLimit, configured ?? Infinity);
}

/** An open file that could be closed to make room. */
export interface EvictionCandidate {
  key: string;
  /** Time since its last new byte, ms. */
  idleMs: number;
  /** Nothing held for it (no partial line, no open multiline event) and read to its end. */
  settled: boolean;
}

/**
 * Which open files to close so that `needed` others can open: settled ones idle at least
 * `minIdleMs`, the longest idle first.
 *
 * @example
 * ```ts
 * import { chooseEvictions } from "./open_files.ts";
 * chooseEvictions([{ key: "a", idleMs: 900, settled: true }, { key: "b", idleMs: 5000, settled: true },
 *   { key: "c", idleMs: 9000, settled: false }], 1, 500); // ["b"]
 * ```
 */
export function chooseEvictions(
  candidates: readonly EvictionCandidate[],
  needed: number,
  minIdleMs: number,
): string[] {
  if (needed <= 0) return [];
  return candidates
    .filter((c) => c.settled && c.idleMs >= minIdleMs)
    .sort((a, b) => b.idleMs - a.idleMs)
    .slice(0, needed)
    .map((c) => c.key);
}

/** A holder of open files that can close some of them on request (a tail task). */
export interface FileHolder {
  /** Closes up to `count` settled files idle at least `minIdleMs`; returns how many it closed. */
  closeIdle(count: number, minIdleMs: number): number;
}

/**
 * The agent-wide count of open log files.
 *
 * @example
 * ```ts
 * import { OpenFiles } from "./open_files.ts";
 * const files = new OpenFiles(2);
 * files.tryTake(); // true
 * files.tryTake(); // true
 * files.tryTake(); // false
 * files.give();
 * files.tryTake(); // true
 * ```
 */
export class OpenFiles {
  readonly budget: number;
  #open = 0;
  readonly #holders = new Set<FileHolder>();

  constructor(budget = Infinity) {
    this.budget = budget;
  }

  /** Files open now. */
  get open(): number {
    return this.#open;
  }

  /** Takes one place for a file to open; false when the budget is used up. */
  tryTake(): boolean {
    if (this.#open >= this.budget) return false;
    this.#open++;
    return true;
  }

  /** Gives a place back (a file was closed). */
  give(): void {
    this.#open = Math.max(0, this.#open - 1);
  }

  /** Registers a holder that `reclaim` may ask to close idle files. */
  register(holder: FileHolder): () => void {
    this.#holders.add(holder);
    return () => this.#holders.delete(holder);
  }

  /**
   * Asks the holders (`first` first) to close up to `count` idle files to make room; returns
   * how many were closed.
   */
  reclaim(count: number, minIdleMs: number, first?: FileHolder): number {
    let closed = 0;
    const holders = first ? [first, ...[...this.#holders].filter((h) => h !== first)] : [
      ...this.#holders,
    ];
    for (const holder of holders) {
      if (closed >= count) break;
      closed += holder.closeIdle(count - closed, minIdleMs);
    }
    return closed;
  }
}
