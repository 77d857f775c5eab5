/**
 * Giving memory back once the agent goes quiet. V8 keeps the heap it grew to while reading (a
 * backlog, or 1,000 files opened at start): its memory reducer only shrinks the heap when little
 * is allocated, and an agent polling its files always allocates a little. So when reading stops
 * for a while after having read, the agent asks V8 once for a memory-reducing collection (what V8
 * itself runs on a low-memory notification) and glibc to trim its heap, at most once a minute.
 * Measured on the memory benchmark (1,000 files, 10 s idle): RSS 128–140 → 112 MiB with the
 * collection, ~5 MiB less with the trim (docs/BENCHMARKS.md).
 *
 * The collection needs V8's `gc` function, exposed by `--v8-flags=--expose-gc` (`deno task
 * agent` and the packaged `sluice-agent` pass it); without it nothing is done.
 * @module
 */
import { getLogger } from "../core/log.ts";

const log = getLogger("agent", "memory");

/** What the decision remembers between two looks. */
export interface IdleMemoryState {
  /** The work counter at the last look (bytes read, summed over the sources). */
  work: number;
  /** When the counter last moved, ms. */
  workAt: number;
  /** Whether it moved since the last release (a first release follows start-up). */
  workedSinceRelease: boolean;
  /** When memory was last given back, ms (-Infinity: never). */
  releasedAt: number;
}

/** How long without work, and how long at least between two releases. */
export interface IdleMemoryOptions {
  quietMs: number;
  minIntervalMs: number;
}

export const DEFAULT_IDLE_MEMORY: IdleMemoryOptions = { quietMs: 5_000, minIntervalMs: 60_000 };

/** The state of a process that has just started (start-up counts as work). */
export function initialIdleMemory(now: number, work: number): IdleMemoryState {
  return { work, workAt: now, workedSinceRelease: true, releasedAt: -Infinity };
}

/**
 * One look: whether to give memory back now, and the next state. Memory is given back when the
 * work counter has not moved for `quietMs`, it moved since the last release, and the last release
 * is `minIntervalMs` old.
 *
 * @example
 * ```ts
 * import { decideRelease, DEFAULT_IDLE_MEMORY, initialIdleMemory } from "./idle_memory.ts";
 * const start = initialIdleMemory(0, 0);
 * decideRelease(start, 1_000, 500, DEFAULT_IDLE_MEMORY).release; // false: it read just now
 * decideRelease(start, 6_000, 0, DEFAULT_IDLE_MEMORY).release; // true: quiet for 6 s
 * ```
 */
export function decideRelease(
  state: IdleMemoryState,
  now: number,
  work: number,
  options: IdleMemoryOptions,
): { release: boolean; state: IdleMemoryState } {
  if (work !== state.work) {
    return {
      release: false,
      state: { ...state, work, workAt: now, workedSinceRelease: true },
    };
  }
  const release = state.workedSinceRelease && now - state.workAt >= options.quietMs &&
    now - state.releasedAt >= options.minIntervalMs;
  if (!release) return { release, state };
  return { release, state: { ...state, workedSinceRelease: false, releasedAt: now } };
}

type GcFunction = (options?: { type: string; execution: string; flavor: string }) => void;

/**
 * glibc's `malloc_trim(0)`: gives the free pages of the C heap back to the system (the runtime's
 * own allocations made while files were opened and read leave them behind: ~5 MiB with 1,000
 * files). Undefined where there is no glibc (musl) or FFI is not allowed.
 */
export function mallocTrim(): (() => void) | undefined {
  try {
    const libc = Deno.dlopen("libc.so.6", {
      malloc_trim: { parameters: ["usize"], result: "i32" },
    });
    return () => void libc.symbols.malloc_trim(0n);
  } catch {
    return undefined;
  }
}

/**
 * V8's memory-reducing collection when `--expose-gc` made it available, then `mallocTrim` where
 * there is one.
 */
export function v8MemoryRelease(): (() => void) | undefined {
  const gc = (globalThis as { gc?: GcFunction }).gc;
  if (typeof gc !== "function") return undefined;
  const trim = mallocTrim();
  return () => {
    gc({ type: "major", execution: "sync", flavor: "last-resort" });
    trim?.();
  };
}

/**
 * Looks every `checkMs` at `work` (a counter that moves while the agent works) and gives memory
 * back by `release` when `decideRelease` says so.
 */
export class IdleMemory {
  readonly #work: () => number;
  readonly #release: () => void;
  readonly #options: IdleMemoryOptions;
  #state: IdleMemoryState;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Releases made (for tests and the debug log). */
  releases = 0;

  constructor(
    work: () => number,
    release: () => void,
    options: IdleMemoryOptions = DEFAULT_IDLE_MEMORY,
  ) {
    this.#work = work;
    this.#release = release;
    this.#options = options;
    this.#state = initialIdleMemory(Date.now(), work());
  }

  start(checkMs = 1_000): void {
    if (this.#timer !== undefined) return;
    const timer = setInterval(() => this.look(Date.now()), checkMs);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One look at `now` (the timer's; tests call it with their own clock). */
  look(now: number): void {
    const { release, state } = decideRelease(this.#state, now, this.#work(), this.#options);
    this.#state = state;
    if (!release) return;
    const before = Deno.memoryUsage().rss;
    const t0 = performance.now();
    this.#release();
    this.releases++;
    log.debug("idle: memory given back, RSS {before} → {after} MiB in {ms} ms", {
      before: Math.round(before / 1048576),
      after: Math.round(Deno.memoryUsage().rss / 1048576),
      ms: Math.round(performance.now() - t0),
    });
  }
}
