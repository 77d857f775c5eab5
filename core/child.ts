/**
 * Child processes that sluice's own tools start (the demo, the benchmarks, the fault suite):
 * spawned with their output in a log file, stopped by their own pid (SIGTERM, then SIGKILL after
 * a grace period), the tail of a log for error messages, and the small waits around them (a free
 * port, an HTTP endpoint that answers 200, a condition that becomes true).
 * @module
 */
import { sleep } from "./backoff.ts";

export interface Child {
  name: string;
  pid: number;
  process: Deno.ChildProcess;
  log: string;
  /** Resolves with the exit code when the process ends. */
  exited: Promise<number>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. */
  stop(graceMs?: number): Promise<number>;
}

/** Spawns `command args` with stdout and stderr appended to `log`. */
export async function spawnLogged(
  name: string,
  command: string,
  args: string[],
  options: { log: string; env?: Record<string, string>; cwd?: string },
): Promise<Child> {
  const file = await Deno.open(options.log, { create: true, append: true });
  const process = new Deno.Command(command, {
    args,
    env: options.env,
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = file.writable.getWriter();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) await writer.write(chunk);
  };
  const pumped = Promise.all([pump(process.stdout), pump(process.stderr)])
    .catch(() => {})
    .finally(() => writer.close().catch(() => {}));
  const exited = process.status.then(async (s) => {
    await pumped;
    return s.code;
  });
  let stopping: Promise<number> | undefined;
  return {
    name,
    pid: process.pid,
    process,
    log: options.log,
    exited,
    stop(graceMs = 15_000) {
      stopping ??= (async () => {
        try {
          process.kill("SIGTERM");
        } catch {
          return await exited; // already gone
        }
        const timer = setTimeout(() => {
          try {
            process.kill("SIGKILL");
          } catch { /* gone */ }
        }, graceMs);
        const code = await exited;
        clearTimeout(timer);
        return code;
      })();
      return stopping;
    },
  };
}

/** The last `count` lines of `text` (a trailing newline does not count as an empty line). */
export function lastLines(text: string, count: number): string[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines.slice(Math.max(0, lines.length - count));
}

/** The last `count` lines of a log file, reading at most its last 64 KiB. */
export async function tailFile(path: string, count: number): Promise<string[]> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch {
    return [];
  }
  try {
    const size = (await file.stat()).size;
    const start = Math.max(0, size - 65_536);
    await file.seek(start, Deno.SeekMode.Start);
    const buffer = new Uint8Array(size - start);
    let read = 0;
    while (read < buffer.length) {
      const n = await file.read(buffer.subarray(read));
      if (n === null) break;
      read += n;
    }
    return lastLines(new TextDecoder().decode(buffer.subarray(0, read)), count);
  } finally {
    file.close();
  }
}

/** The last `lines` lines of a log file as one text, for error messages. */
export async function tailOf(path: string, lines = 15): Promise<string> {
  return (await tailFile(path, lines)).join("\n");
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

export interface WaitForOptions {
  /** Give up after this long, ms. */
  timeoutMs: number;
  /** Pause between two checks, ms (default 100). */
  intervalMs?: number;
  /**
   * Treat an error thrown by `check` as "not yet" and keep polling; the last one is named in the
   * timeout error (default: an error ends the wait at once).
   */
  retryErrors?: boolean;
}

/**
 * Polls `check` until it returns a value other than `undefined` or `false`, and returns that
 * value; throws after `timeoutMs`, naming `what`. The one poller of programs and tests.
 *
 * @example
 * ```ts ignore
 * import { waitFor } from "./child.ts";
 * await waitFor("the file", () => Deno.stat("/tmp/x").then(() => true), { timeoutMs: 5_000 });
 * ```
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  options: WaitForOptions,
): Promise<T> {
  const { timeoutMs, intervalMs = 100, retryErrors = false } = options;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      if (!retryErrors) throw error;
      last = error;
    }
    if (Date.now() >= deadline) {
      const detail = last === undefined
        ? ""
        : ` (last error: ${last instanceof Error ? last.message : last})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(intervalMs);
  }
}

/** True when GET `url` answers 200. */
export async function answers200(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** Fails with the child's log tail if it has exited. */
export async function assertRunning(child: Child): Promise<void> {
  const code = await Promise.race([child.exited, Promise.resolve(undefined)]);
  if (code !== undefined) {
    throw new Error(
      `${child.name} exited with code ${code}; its log ends with:\n${await tailOf(child.log)}`,
    );
  }
}
