/**
 * A failing test that started processes explains itself: `withDiagnostics` runs a test body with
 * a `Diagnostics` that owns the test's processes, the probes of the state it waits on (records
 * in a topic, consumer lag, documents in an index, anything else) and its clean-ups. When the
 * body throws, the error is rethrown with a report of how every process's log ends, its
 * /healthz, and what each probe reads at that moment — taken before anything is stopped, so the
 * report shows the state the test gave up on. Then the processes are stopped and the clean-ups
 * run, whatever happened.
 * @module
 */
import { committedOffsets, partitionBounds } from "../../kafka/consumer.ts";
import type { KafkaSecurity } from "../../core/security.ts";
import type { SearchEngine } from "../../transfer/engine.ts";
import { TestProcess, type TestProcessOptions } from "./process.ts";

/** Reads one piece of state for a report: a value or a text; it may throw. */
export type Probe = () => unknown | Promise<unknown>;

/** How long one probe may take in a report before it is cut off, ms. */
const PROBE_TIMEOUT_MS = 10_000;
/** Lines of each process's log in a report. */
const REPORT_LINES = 40;

/** The processes, probes and clean-ups of one test. */
export class Diagnostics {
  readonly processes: TestProcess[] = [];
  readonly #probes: [string, Probe][] = [];
  readonly #cleanups: (() => unknown | Promise<unknown>)[] = [];

  /** Starts a process (see `TestProcess`); it is in the report and stopped at the end. */
  spawn(options: TestProcessOptions): TestProcess {
    return this.track(new TestProcess(options));
  }

  /** Adds a process started elsewhere to the report and to what is stopped at the end. */
  track(process: TestProcess): TestProcess {
    this.processes.push(process);
    return process;
  }

  /** A piece of state the test waits on, read when the report is made. */
  probe(name: string, read: Probe): void {
    this.#probes.push([name, read]);
  }

  /** Runs `fn` at the end, after the processes are stopped (last registered, first run). */
  defer(fn: () => unknown | Promise<unknown>): void {
    this.#cleanups.push(fn);
  }

  /**
   * The report: every probe's reading, then every process's state and log tail. With
   * SLUICE_TEST_LOG_DIR set, every process's whole kept log is also written there (named in the
   * report), for a failure whose cause is further back than the tail.
   */
  async report(): Promise<string> {
    const readings = await Promise.all(
      this.#probes.map(async ([name, read]) => `  ${name}: ${await readProbe(read)}`),
    );
    const processes = await Promise.all(this.processes.map((p) => p.describe(REPORT_LINES)));
    const dir = Deno.env.get("SLUICE_TEST_LOG_DIR");
    if (dir) {
      await Deno.mkdir(dir, { recursive: true });
      for (const p of this.processes) {
        const path = `${dir}/${p.name.replace(/[^\w.-]+/g, "_")}-${p.pid}.log`;
        await Deno.writeTextFile(path, p.output + "\n");
        readings.push(`  whole log of ${p.name}: ${path}`);
      }
    }
    return formatReport(readings, processes);
  }

  /** Stops every process (SIGTERM, SIGKILL after `graceMs`), then runs the clean-ups. */
  async close(graceMs = 10_000): Promise<void> {
    await Promise.all(this.processes.map((p) => p.stop(graceMs).catch(() => {})));
    for (const fn of this.#cleanups.reverse()) {
      try {
        await fn();
      } catch (error) {
        console.error(`clean-up failed: ${(error as Error).message}`);
      }
    }
  }
}

/** A probe's reading as one text, or why there is none; never throws, never hangs. */
export async function readProbe(read: Probe, timeoutMs = PROBE_TIMEOUT_MS): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`(no answer within ${timeoutMs} ms)`), timeoutMs);
  });
  try {
    return await Promise.race([
      (async () => showValue(await read()))(),
      timeout,
    ]);
  } catch (error) {
    return `(failed: ${(error as Error).message})`;
  } finally {
    clearTimeout(timer);
  }
}

function showValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "(nothing)";
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** The report's text from the probes' readings and the processes' descriptions. */
export function formatReport(readings: string[], processes: string[]): string {
  const parts = ["--- what the test waited on, when it failed ---"];
  parts.push(...(readings.length > 0 ? readings : ["  (no probes)"]));
  parts.push("--- the processes it started ---");
  parts.push(...(processes.length > 0 ? processes : ["  (none)"]));
  return parts.join("\n");
}

/**
 * The error a failing test throws: its own message followed by the report, with the original
 * error as the cause.
 */
export function explained(error: unknown, report: string): Error {
  const message = error instanceof Error ? error.message : String(error);
  const out = new Error(`${message}\n${report}`, { cause: error });
  if (error instanceof Error && error.stack) {
    // Keep where it failed: the original frames. The runner prints the whole message, then the
    // stack's lines after its first, so the stack's first line must not repeat the report.
    const frames = error.stack.split("\n").filter((l) => /^\s+at /.test(l));
    out.stack = [`${out.name}: ${message.split("\n")[0]}`, ...frames].join("\n");
  }
  return out;
}

/**
 * Runs `body` with a fresh `Diagnostics`; a failure is rethrown with the report (see the
 * module's comment). Processes are stopped (SIGTERM, SIGKILL after `graceMs`, default 10 s) and
 * clean-ups run in every case.
 *
 * @example
 * ```ts ignore
 * import { withDiagnostics } from "./diagnostics.ts";
 * await withDiagnostics(async (d) => {
 *   const agent = d.spawn({ name: "agent", script: "agent/main.ts", args: ["--help"] });
 *   d.probe("documents", () => countDocuments());
 *   await agent.exited;
 * });
 * ```
 */
export async function withDiagnostics<T>(
  body: (d: Diagnostics) => Promise<T>,
  options: { graceMs?: number } = {},
): Promise<T> {
  const d = new Diagnostics();
  try {
    return await body(d);
  } catch (error) {
    throw explained(error, await d.report());
  } finally {
    await d.close(options.graceMs);
  }
}

// ---- probes every pipeline test needs ------------------------------------------------------

export interface KafkaProbeOptions {
  brokers: string[];
  security?: KafkaSecurity;
}

/** Records in `topic` per partition and in all, from the partitions' first and end offsets. */
export function topicRecordsProbe(options: KafkaProbeOptions, topic: string): Probe {
  return async () => {
    const bounds = await partitionBounds(options, topic);
    const total = bounds.reduce((sum, b) => sum + Number(b.high) - Number(b.low), 0);
    const parts = bounds.map((b) => `p${b.partition} ${b.low}..${b.high}`).join(", ");
    return `${total} records (${parts})`;
  };
}

/** What `group` has committed on `topic` against the partitions' ends: the lag per partition. */
export function consumerLagProbe(options: KafkaProbeOptions, group: string, topic: string): Probe {
  return async () => {
    const [bounds, committed] = await Promise.all([
      partitionBounds(options, topic),
      committedOffsets(options, group, topic),
    ]);
    const at = new Map(committed.map((c) => [c.partition, Number(c.offset)]));
    let lag = 0;
    const parts = bounds.map((b) => {
      const done = at.get(b.partition);
      const behind = Number(b.high) - (done ?? Number(b.low));
      lag += behind;
      return `p${b.partition} committed ${done ?? "none"}/${b.high}`;
    });
    return `lag ${lag} (${parts.join(", ")})`;
  };
}

/** Documents in the indices matching `pattern` (after a refresh), and which indices there are. */
export function documentsProbe(
  engine: Pick<SearchEngine, "refresh" | "count" | "listIndices">,
  pattern: string,
): Probe {
  return async () => {
    const indices = await engine.listIndices(pattern);
    if (indices.length === 0) return `no index matches ${pattern}`;
    await engine.refresh(pattern);
    return `${await engine.count(pattern)} documents in ${indices.join(", ")}`;
  };
}
