/**
 * CPU time and memory of a running process from Linux's /proc, read the same way for sluice and
 * for the peers: CPU seconds = utime + stime of /proc/<pid>/stat, peak RSS = VmHWM and current
 * RSS = VmRSS of /proc/<pid>/status. The parsers are pure; `sample` reads the files.
 * @module
 */

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on every Linux we run on). */
export const CLOCK_TICKS = 100;

/**
 * utime + stime in clock ticks from the text of /proc/<pid>/stat. The command name (field 2) is
 * in parentheses and may hold spaces, so fields are counted after its closing parenthesis.
 *
 * @example
 * ```ts
 * import { parseStatTicks } from "./procstat.ts";
 * parseStatTicks("42 (a b) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 1 1 1");
 * // 300
 * ```
 */
export function parseStatTicks(text: string): number {
  const close = text.lastIndexOf(")");
  if (close < 0) throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 80)}`);
  // After ")": state(3) ppid(4) pgrp(5) session(6) tty(7) tpgid(8) flags(9) minflt(10)
  // cminflt(11) majflt(12) cmajflt(13) utime(14) stime(15).
  const fields = text.slice(close + 2).trim().split(/\s+/);
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`no utime/stime in /proc/<pid>/stat: ${text.slice(0, 80)}`);
  }
  return utime + stime;
}

/**
 * cutime + cstime in clock ticks from /proc/<pid>/stat: the CPU time of the process's children
 * that have ended and been waited for.
 *
 * @example
 * ```ts
 * import { parseStatChildTicks } from "./procstat.ts";
 * parseStatChildTicks("42 (deno) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 30 12 20 0 1 0 1 1 1");
 * // 42
 * ```
 */
export function parseStatChildTicks(text: string): number {
  const fields = text.slice(text.lastIndexOf(")") + 2).trim().split(/\s+/);
  const cutime = Number(fields[16 - 3]);
  const cstime = Number(fields[17 - 3]);
  if (!Number.isFinite(cutime) || !Number.isFinite(cstime)) {
    throw new Error(`no cutime/cstime in /proc/<pid>/stat: ${text.slice(0, 80)}`);
  }
  return cutime + cstime;
}

/**
 * CPU seconds of this process's ended children. A program that exits by itself (kcat at the
 * end of its input) is measured by the difference of this before it starts and after it ended.
 */
export async function endedChildrenCpuSeconds(): Promise<number> {
  return parseStatChildTicks(await Deno.readTextFile("/proc/self/stat")) / CLOCK_TICKS;
}

/**
 * A `kB` field of /proc/<pid>/status in bytes (e.g. "VmHWM"), or undefined when absent.
 *
 * @example
 * ```ts
 * import { parseStatusBytes } from "./procstat.ts";
 * parseStatusBytes("Name:\tdeno\nVmHWM:\t  2048 kB\nVmRSS:\t1024 kB\n", "VmHWM"); // 2097152
 * ```
 */
export function parseStatusBytes(text: string, field: string): number | undefined {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text);
  return match ? Number(match[1]) * 1024 : undefined;
}

/** One look at a process. */
export interface ProcessSample {
  cpuSeconds: number;
  rssBytes: number;
  peakRssBytes: number;
}

/** CPU and memory of `pid` now, or undefined when it has exited. */
export async function sample(pid: number): Promise<ProcessSample | undefined> {
  try {
    const [stat, status] = await Promise.all([
      Deno.readTextFile(`/proc/${pid}/stat`),
      Deno.readTextFile(`/proc/${pid}/status`),
    ]);
    return {
      cpuSeconds: parseStatTicks(stat) / CLOCK_TICKS,
      rssBytes: parseStatusBytes(status, "VmRSS") ?? 0,
      peakRssBytes: parseStatusBytes(status, "VmHWM") ?? 0,
    };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * Tracks a process while it runs: the largest RSS seen between `start()` and `stop()` (VmHWM
 * covers the whole life of the process, start-up included, so a phase needs its own maximum).
 */
export class RssWatcher {
  #max = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(readonly pid: number, readonly intervalMs = 200) {}

  start(): void {
    this.#max = 0;
    const tick = async () => {
      const s = await sample(this.pid).catch(() => undefined);
      if (s && s.rssBytes > this.#max) this.#max = s.rssBytes;
    };
    void tick();
    this.#timer = setInterval(tick, this.intervalMs);
  }

  /** Stops watching; the largest RSS seen, in bytes. */
  async stop(): Promise<number> {
    clearInterval(this.#timer);
    const s = await sample(this.pid).catch(() => undefined);
    if (s && s.rssBytes > this.#max) this.#max = s.rssBytes;
    return this.#max;
  }
}

export const MIB = 1024 * 1024;
