/**
 * Processes of the local stack: start a service detached from the terminal with its output in a
 * log file, remember it in a pid file, find it again, stop it gracefully, wait for it to answer.
 * @module
 */
import { sleep } from "../core/backoff.ts";

/** How a service process is started. */
export interface LaunchSpec {
  /** Program and arguments. */
  command: string[];
  /** Working directory. */
  cwd: string;
  /** File that receives stdout and stderr (appended). */
  logFile: string;
  /** File that receives the pid. */
  pidFile: string;
  env?: Record<string, string>;
}

/**
 * Starts `spec.command` in its own session (so a Ctrl-C in the terminal that ran `stack:up` does
 * not reach it) and returns its pid. `setsid --fork` makes init its parent, so no sluice process
 * has to reap it; the shell writes its own pid and then `exec`s the service, so the pid file
 * holds the service's pid.
 */
export async function launchDetached(spec: LaunchSpec): Promise<number> {
  await Deno.remove(spec.pidFile).catch(() => {});
  // Descriptors 3-9 are closed first: a caller run under `flock LOCK …` passes its lock down as
  // fd 3, and a service holding it would keep the shared stack lock for as long as it runs.
  const script = "exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; " +
    'pidfile=$1; log=$2; shift 2; echo $$ > "$pidfile.tmp" && mv "$pidfile.tmp" "$pidfile"; ' +
    'exec "$@" >> "$log" 2>&1 < /dev/null';
  const child = new Deno.Command("setsid", {
    args: [
      "--fork",
      "sh",
      "-c",
      script,
      "sluice-stack",
      spec.pidFile,
      spec.logFile,
      ...spec.command,
    ],
    cwd: spec.cwd,
    env: spec.env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  });
  const result = await child.output();
  if (!result.success) {
    throw new Error(`setsid failed: ${new TextDecoder().decode(result.stderr).trim()}`);
  }
  for (let i = 0; i < 100; i++) {
    const pid = await readPidFile(spec.pidFile);
    if (pid !== undefined) return pid;
    await sleep(50);
  }
  throw new Error(`${spec.command[0]} did not write ${spec.pidFile} within 5 s`);
}

/** The pid in `path`, or undefined when the file is missing or not a pid. */
export async function readPidFile(path: string): Promise<number | undefined> {
  try {
    return parsePid(await Deno.readTextFile(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/** A positive integer pid from the text of a pid file, else undefined. */
export function parsePid(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return undefined;
  const pid = Number(trimmed);
  return pid > 0 ? pid : undefined;
}

/**
 * True when `pid` is a live process (a zombie counts as dead: a stopped service whose parent
 * has not reaped it yet must not look like it is still running).
 */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    // Field 3, after the parenthesised command name, is the state letter.
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** The command line of `pid` as one string (empty when it is gone). */
export async function commandLine(pid: number): Promise<string> {
  try {
    const raw = await Deno.readTextFile(`/proc/${pid}/cmdline`);
    return raw.split("\0").filter((s) => s.length > 0).join(" ");
  } catch {
    return "";
  }
}

/**
 * The pid recorded in `pidFile` when that process is alive and its command line contains
 * `marker` (a path only our service uses): a recycled pid never makes `stack:down` kill a
 * stranger. The pid file of a dead process is removed.
 */
export async function ownedPid(pidFile: string, marker: string): Promise<number | undefined> {
  const pid = await readPidFile(pidFile);
  if (pid === undefined) return undefined;
  for (let attempt = 0; attempt < 10; attempt++) {
    if (!await isAlive(pid)) {
      await Deno.remove(pidFile).catch(() => {});
      return undefined;
    }
    const cmdline = await commandLine(pid);
    // An empty command line is a process in the middle of exec (sh → java): look again.
    if (cmdline !== "") return cmdline.includes(marker) ? pid : undefined;
    await sleep(20);
  }
  return undefined;
}

/**
 * Sends SIGTERM, waits up to `graceMs` for the process to exit, then sends SIGKILL.
 * Returns how it ended.
 */
export async function terminate(
  pid: number,
  graceMs: number,
): Promise<"exited" | "killed" | "gone"> {
  if (!await isAlive(pid)) return "gone";
  try {
    Deno.kill(pid, "SIGTERM");
  } catch {
    return "gone";
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!await isAlive(pid)) return "exited";
    await sleep(200);
  }
  try {
    Deno.kill(pid, "SIGKILL");
  } catch {
    return "exited";
  }
  for (let i = 0; i < 50 && await isAlive(pid); i++) await sleep(100);
  return "killed";
}

export interface WaitOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** Pause between checks (default 500 ms). */
  intervalMs?: number;
  /** Called about every `progressEveryMs` with the seconds waited so far. */
  onProgress?: (waitedSeconds: number) => void;
  progressEveryMs?: number;
  /** Checked before each try: a reason to stop waiting (e.g. the process died). */
  abortReason?: () => Promise<string | undefined>;
}

/**
 * Calls `check` until it returns a value (not undefined), and returns it. Throws when the
 * timeout passes or `abortReason` gives a reason, with the last error of `check` attached.
 */
export async function waitUntil<T>(
  check: () => Promise<T | undefined>,
  options: WaitOptions,
): Promise<T> {
  const started = Date.now();
  let lastProgress = started;
  let lastError: unknown;
  for (;;) {
    const reason = await options.abortReason?.();
    if (reason) throw new Error(reason, { cause: lastError });
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    const now = Date.now();
    if (now - started >= options.timeoutMs) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`no answer within ${Math.round(options.timeoutMs / 1000)} s${detail}`, {
        cause: lastError,
      });
    }
    if (options.onProgress && now - lastProgress >= (options.progressEveryMs ?? 10_000)) {
      lastProgress = now;
      options.onProgress(Math.round((now - started) / 1000));
    }
    await sleep(options.intervalMs ?? 500);
  }
}

/**
 * Runs `fn` while holding a lock file that holds our pid, so two `stack:up` at once do not both
 * start a service. A lock left by a process that died is taken over; a live holder is waited for
 * up to `timeoutMs`.
 */
export async function withLockFile<T>(
  path: string,
  timeoutMs: number,
  fn: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const file = await Deno.open(path, { write: true, createNew: true });
      await file.write(new TextEncoder().encode(`${Deno.pid}\n`));
      file.close();
      break;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
      const holder = await readPidFile(path);
      if (holder === undefined || !await isAlive(holder)) {
        await Deno.remove(path).catch(() => {});
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`${path} is still held by pid ${holder} after ${timeoutMs / 1000} s`);
      }
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    await Deno.remove(path).catch(() => {});
  }
}
