/**
 * The processes a test starts (agent, transfer, console, any sluice command): spawned with their
 * stdout and stderr kept as lines, so that a failing test can show how each one's log ends, with
 * its /metrics and /healthz when it serves them. The one way tests start long-running processes;
 * `Diagnostics` (./diagnostics.ts) puts them in a failing test's report.
 * @module
 */
import { metricSum, parseMetrics, type Sample } from "./metrics_text.ts";

/** The repository root (absolute, no trailing slash). */
export const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** Lines kept per process (the newest). */
const KEPT_LINES = 20_000;

export interface TestProcessOptions {
  /** How reports name it, e.g. `agent a1`. */
  name: string;
  /** A script under the repository root run with `deno run -A` (e.g. `agent/main.ts`)... */
  script?: string;
  /** More `deno run` flags for `script` (e.g. a task's `--v8-flags=…`). */
  denoFlags?: string[];
  /** ...or any command and its arguments (`args` are appended). */
  command?: string[];
  args?: string[];
  /** Added to the child's environment (see `clearEnv`). */
  env?: Record<string, string>;
  /**
   * Start from an empty environment instead of this process's one without its `SLUICE_*`
   * variables (default false). PATH and HOME are kept either way.
   */
  clearEnv?: boolean;
  /** `host:port` of its /metrics and /healthz, when it serves them. */
  metricsAddr?: string;
  /** Run the command through this prefix (e.g. `setpriv` to drop root). */
  wrapper?: string[];
  cwd?: string;
}

/** The environment of a child: ours without any SLUICE_* (or nothing), plus `env`. */
export function childEnv(
  env: Record<string, string> = {},
  clear = false,
): Record<string, string> {
  const ours = Deno.env.toObject();
  const base = clear
    ? Object.fromEntries(["PATH", "HOME"].filter((k) => ours[k]).map((k) => [k, ours[k]]))
    : Object.fromEntries(Object.entries(ours).filter(([k]) => !k.startsWith("SLUICE_")));
  return { NO_COLOR: "1", ...base, ...env };
}

/** Splits a stream's chunks into lines; `end()` returns the unterminated rest. */
export class LineBuffer {
  readonly #decoder = new TextDecoder();
  #rest = "";

  constructor(readonly lines: string[], readonly keep = KEPT_LINES) {}

  push(chunk: Uint8Array): void {
    const parts = (this.#rest + this.#decoder.decode(chunk, { stream: true })).split("\n");
    this.#rest = parts.pop() ?? "";
    for (const part of parts) this.lines.push(part);
    if (this.lines.length > this.keep) this.lines.splice(0, this.lines.length - this.keep);
  }

  end(): void {
    const rest = this.#rest + this.#decoder.decode();
    this.#rest = "";
    if (rest) this.lines.push(rest);
  }
}

/** A long-running child process of a test. */
export class TestProcess {
  /** Its stdout and stderr, line by line, in arrival order (the newest 20,000). */
  readonly lines: string[] = [];
  readonly exited: Promise<Deno.CommandStatus>;
  readonly name: string;
  readonly metricsAddr: string | undefined;
  readonly child: Deno.ChildProcess;
  /** Set once the process has exited. */
  status: Deno.CommandStatus | undefined;
  readonly #pumped: Promise<void>;

  constructor(options: TestProcessOptions) {
    this.name = options.name;
    this.metricsAddr = options.metricsAddr;
    const base = options.script
      ? [Deno.execPath(), "run", "-A", ...(options.denoFlags ?? []), `${ROOT}/${options.script}`]
      : options.command;
    if (!base) throw new TypeError(`${options.name}: neither script nor command given`);
    const command = [...(options.wrapper ?? []), ...base, ...(options.args ?? [])];
    this.child = new Deno.Command(command[0], {
      args: command.slice(1),
      cwd: options.cwd ?? ROOT,
      env: childEnv(options.env, options.clearEnv),
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const pump = async (stream: ReadableStream<Uint8Array>) => {
      const buffer = new LineBuffer(this.lines);
      for await (const chunk of stream) buffer.push(chunk);
      buffer.end();
    };
    this.#pumped = Promise.all([pump(this.child.stdout), pump(this.child.stderr)])
      .then(() => {}, () => {});
    this.exited = this.child.status.then(async (status) => {
      await this.#pumped;
      this.status = status;
      return status;
    });
  }

  get pid(): number {
    return this.child.pid;
  }

  /** Everything it printed (kept lines), as one text. */
  get output(): string {
    return this.lines.join("\n");
  }

  /** Log lines matching `pattern`. */
  grep(pattern: RegExp): string[] {
    return this.lines.filter((l) => pattern.test(l));
  }

  /** Log lines at warning level or above. */
  problems(): string[] {
    return this.grep(/\[(WRN|ERR|FTL)\]|"level":"(warning|error|fatal)"/);
  }

  /** Sends a signal; false when the process is already gone. */
  signal(signal: Deno.Signal): boolean {
    try {
      this.child.kill(signal);
      return true;
    } catch {
      return false;
    }
  }

  /** `kill -9` and wait for the exit. */
  async kill9(): Promise<void> {
    this.signal("SIGKILL");
    await this.exited;
  }

  /** SIGTERM (after SIGCONT, in case it was paused), SIGKILL after `graceMs`; the exit code. */
  async stop(graceMs = 20_000): Promise<number> {
    this.signal("SIGCONT");
    this.signal("SIGTERM");
    const timer = setTimeout(() => this.signal("SIGKILL"), graceMs);
    try {
      return (await this.exited).code;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The /metrics samples, or [] when the endpoint does not answer. */
  async metrics(): Promise<Sample[]> {
    if (!this.metricsAddr) return [];
    try {
      const response = await fetch(`http://${this.metricsAddr}/metrics`, {
        signal: AbortSignal.timeout(5_000),
      });
      return parseMetrics(await response.text());
    } catch {
      return [];
    }
  }

  /** One metric summed over its samples whose labels include `where`; throws when not answering. */
  async metric(name: string, where: Record<string, string> = {}): Promise<number> {
    const samples = await this.metrics();
    if (samples.length === 0) throw new Error(`${this.name}: /metrics is not answering`);
    return metricSum(samples, name, where);
  }

  /** /healthz status and body; status 0 when it does not answer. */
  async health(): Promise<{ status: number; body: string }> {
    if (!this.metricsAddr) return { status: 0, body: "no metrics address" };
    try {
      const response = await fetch(`http://${this.metricsAddr}/healthz`, {
        signal: AbortSignal.timeout(5_000),
      });
      return { status: response.status, body: (await response.text()).trim() };
    } catch (error) {
      return { status: 0, body: `not answering (${(error as Error).message})` };
    }
  }

  /** The last `n` lines, under a heading naming the process. */
  tail(n = 15): string {
    return `${this.name} log ends with:\n${this.lines.slice(-n).join("\n")}`;
  }

  /**
   * What a failure report shows of it: pid and state (running, or its exit code or signal),
   * /healthz when it serves one, and its last `n` lines.
   */
  async describe(n = 40): Promise<string> {
    const state = this.status
      ? `exited with ${
        this.status.signal ? `signal ${this.status.signal}` : `code ${this.status.code}`
      }`
      : "running";
    const head = [`${this.name} (pid ${this.pid}, ${state})`];
    if (this.metricsAddr && !this.status) {
      const { status, body } = await this.health();
      head.push(`  /healthz: ${status} ${body.slice(0, 2_000)}`);
    }
    const shown = this.lines.slice(-n);
    const skipped = this.lines.length - shown.length;
    head.push(
      `  its last ${shown.length} lines${skipped > 0 ? ` (of ${this.lines.length} kept)` : ""}:`,
    );
    return [...head, ...shown.map((l) => `  | ${l.slice(0, 500)}`)].join("\n");
  }
}
