/**
 * Scenario 1, agent file → Kafka: the same access-log lines (about 140 bytes each, in 1 file and
 * in 100 files) sent to a fresh 3-partition topic by the sluice agent, by `kcat -P` and by
 * rsyslog imfile → omkafka, in turn, each run. A run starts when the files appear in the watched
 * directory (kcat: when it starts, reading the lines from one file) and ends when the topic's end
 * offsets hold every line. CPU seconds are the process's utime + stime over that window (kcat,
 * which exits at the end of its input: its whole life, from the bench's ended-children time),
 * peak RSS its VmHWM.
 * @module
 */
import { sleep } from "../../core/backoff.ts";
import type { BenchContext, Scenario } from "../context.ts";
import { writeAccessLogFiles } from "../lines.ts";
import { lineChart, ratesOf, thin } from "../plot.ts";
import { endedChildrenCpuSeconds, MIB, sample } from "../procstat.ts";
import { assertRunning, type Child } from "../../core/child.ts";
import { benchSource, startAgent, startKcat, startRsyslog, uniqueName } from "../programs.ts";
import type { ProgramSummary } from "../report.ts";
import { type BenchResult, buildResult, median, type Target } from "../stats.ts";

const PROGRAMS = ["sluice agent", "kcat", "rsyslog"] as const;
type Program = typeof PROGRAMS[number];

interface RunMeasure {
  program: Program;
  lines: number;
  seconds: number;
  cpuSeconds: number;
  peakRssBytes: number;
  /** [seconds since start, records in the topic] every ~100 ms. */
  timeline: [number, number][];
}

interface Started {
  child: Child;
  /** Makes the lines appear; the clock starts just before. */
  begin(): Promise<void>;
  /** CPU seconds since `begin` and peak RSS, once every line is in the topic. */
  usage(): Promise<{ cpuSeconds: number; peakRssBytes: number }>;
  stop(): Promise<void>;
}

/** Usage of a long-running process: /proc/<pid> at the end minus at the start. */
async function runningUsage(program: string, child: Child) {
  const before = await sample(child.pid);
  if (!before) throw new Error(`${program} exited before the run began`);
  return async () => {
    const after = await sample(child.pid);
    if (!after) throw new Error(`${program} exited before its usage could be read`);
    return { cpuSeconds: after.cpuSeconds - before.cpuSeconds, peakRssBytes: after.peakRssBytes };
  };
}

async function startProgram(
  ctx: BenchContext,
  program: Program,
  work: string,
  staged: { paths: string[]; joined: string },
  topic: string,
): Promise<Started> {
  const logs = `${work}/logs`;
  await Deno.mkdir(logs, { recursive: true });
  // Hard links: the files appear in the watched directory at once, and nothing is copied.
  const link = async () => {
    for (const path of staged.paths) await Deno.link(path, `${logs}/${path.split("/").pop()}`);
  };
  if (program === "sluice agent") {
    const agent = await startAgent({
      endpoints: ctx.endpoints,
      workDir: work,
      profileDir: ctx.profileDir,
      sources: [benchSource("bench", logs, topic)],
      extraArgs: ["--compression", ctx.peerSettings.compression],
    });
    const usage = await runningUsage(program, agent.child);
    return { child: agent.child, begin: link, usage, stop: agent.stop };
  }
  if (program === "rsyslog") {
    const rsyslog = await startRsyslog({
      workDir: work,
      files: `${logs}/*.log`,
      brokers: ctx.endpoints.kafka,
      topic,
      settings: ctx.peerSettings,
    });
    // imfile sets up its inotify watch after the pid file is written; give it a moment.
    await sleep(500);
    const usage = await runningUsage(program, rsyslog.child);
    return { child: rsyslog.child, begin: link, usage, stop: rsyslog.stop };
  }
  // kcat: started by begin(); measured from the bench's ended-children CPU time around its life.
  let child: Child | undefined;
  let cpuBefore = 0;
  let peak = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  const handle: Started = {
    get child() {
      return child!;
    },
    async begin() {
      cpuBefore = await endedChildrenCpuSeconds();
      child = await startKcat({
        workDir: work,
        brokers: ctx.endpoints.kafka,
        topic,
        file: staged.joined,
        settings: ctx.peerSettings,
      });
      const pid = child.pid;
      timer = setInterval(async () => {
        const s = await sample(pid).catch(() => undefined);
        if (s && s.peakRssBytes > peak) peak = s.peakRssBytes;
      }, 100);
    },
    async usage() {
      const code = await Promise.race([child!.exited, sleep(30_000).then(() => undefined)]);
      clearInterval(timer);
      if (code !== 0) throw new Error(`kcat did not exit cleanly (${code ?? "still running"})`);
      return { cpuSeconds: (await endedChildrenCpuSeconds()) - cpuBefore, peakRssBytes: peak };
    },
    async stop() {
      clearInterval(timer);
      await child?.stop(5_000);
    },
  };
  return handle;
}

async function runOnce(
  ctx: BenchContext,
  program: Program,
  staged: { paths: string[]; joined: string },
  lines: number,
  label: string,
): Promise<RunMeasure> {
  const work = await Deno.makeTempDir({ dir: ctx.tmp, prefix: "a2k-" });
  const topic = uniqueName("a2k");
  await ctx.topics.create(topic, { partitions: 3 });
  let started: Started | undefined;
  try {
    started = await startProgram(ctx, program, work, staged, topic);
    const t0 = performance.now();
    await started.begin();
    const timeline: [number, number][] = [[0, 0]];
    let count = 0;
    let lastChange = t0;
    let lastShown = t0;
    while (count < lines) {
      await sleep(100);
      const n = await ctx.topics.records(topic);
      const now = performance.now();
      timeline.push([(now - t0) / 1000, n]);
      if (n !== count) lastChange = now;
      count = n;
      if (now - lastShown > 3_000) {
        lastShown = now;
        ctx.progress(
          `  ${label}: ${count.toLocaleString("en-US")}/${lines.toLocaleString("en-US")} lines, ` +
            `${Math.round(count / ((now - t0) / 1000)).toLocaleString("en-US")} lines/s`,
        );
      }
      if (count < lines) {
        // kcat exits by itself once all is sent; its last records may land after this poll.
        const exited = await Promise.race([started.child.exited, Promise.resolve(undefined)]);
        if (exited !== undefined && (await ctx.topics.records(topic)) < lines) {
          await assertRunning(started.child);
        }
      }
      if (now - lastChange > 60_000) {
        throw new Error(`${program}: no progress for 60 s at ${count} of ${lines} lines`);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const usage = await started.usage();
    if (count > lines) ctx.progress(`  ${label}: note: ${count - lines} records more than lines`);
    return { program, lines, seconds, ...usage, timeline };
  } finally {
    await started?.stop().catch(() => {});
    await ctx.topics.delete(topic);
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

function summarize(program: string, runs: RunMeasure[], bytes: number): ProgramSummary {
  const m = (f: (r: RunMeasure) => number) => runs.length ? median(runs.map(f)) : null;
  return {
    program,
    lines_per_s: m((r) => r.lines / r.seconds),
    mib_per_s: m((r) => bytes / MIB / r.seconds),
    cpu_s_per_mline: m((r) => (r.cpuSeconds / r.lines) * 1e6),
    peak_rss_mib: m((r) => r.peakRssBytes / MIB),
  };
}

export const agentKafka: Scenario = {
  name: "agent-kafka",
  summary: "agent file → Kafka vs kcat -P and rsyslog imfile → omkafka",
  async run(ctx) {
    const { agentLines: lines, agentRuns: runs, agentFileCounts } = ctx.sizes;
    const results: BenchResult[] = [];
    const peerName: Record<Program, string> = {
      "sluice agent": "sluice agent",
      kcat: `kcat -P ${ctx.versions.kcat ?? ""} (librdkafka ${ctx.versions.librdkafka ?? "?"})`,
      rsyslog: `rsyslog ${ctx.versions.rsyslog ?? ""} imfile → omkafka`,
    };
    const plotName: Record<Program, string> = {
      "sluice agent": "sluice agent",
      kcat: "kcat -P",
      rsyslog: "rsyslog imfile → omkafka",
    };
    const plotSeries: { name: string; points: [number, number][] }[] = [];
    for (const files of agentFileCounts) {
      const variant = `${files} file${files === 1 ? "" : "s"}`;
      ctx.progress(`agent → Kafka, ${variant}: writing ${lines.toLocaleString("en-US")} lines`);
      const staging = await Deno.makeTempDir({ dir: ctx.tmp, prefix: `lines-${files}-` });
      const { paths, bytes } = await writeAccessLogFiles(staging, lines, files);
      // kcat reads one file: the same lines, concatenated when there are several files.
      let joined = paths[0];
      if (paths.length > 1) {
        joined = `${staging}/all.txt`;
        const out = await Deno.open(joined, { write: true, create: true, truncate: true });
        for (const path of paths) {
          const input = await Deno.open(path);
          await input.readable.pipeTo(out.writable, { preventClose: true });
        }
        out.close();
      }
      const staged = { paths, joined };
      ctx.progress(`  ${(bytes / MIB).toFixed(0)} MiB, ${(bytes / lines).toFixed(0)} bytes a line`);
      const measured: Record<Program, RunMeasure[]> = {
        "sluice agent": [],
        kcat: [],
        rsyslog: [],
      };
      const errors: string[] = [];
      for (let run = 0; run < runs; run++) {
        // Rotate the order so that no program always runs first (a warm or cold broker).
        const order = PROGRAMS.map((_, i) => PROGRAMS[(i + run) % PROGRAMS.length]);
        for (const program of order) {
          const label = `${variant}, ${program}, run ${run + 1}/${runs}`;
          try {
            const m = await runOnce(ctx, program, staged, lines, label);
            measured[program].push(m);
            ctx.progress(
              `  ${label}: ${Math.round(m.lines / m.seconds).toLocaleString("en-US")} lines/s, ` +
                `${m.cpuSeconds.toFixed(1)} CPU s, peak RSS ${
                  (m.peakRssBytes / MIB).toFixed(0)
                } MiB`,
            );
          } catch (error) {
            const text = `${label}: ${(error as Error).message}`;
            errors.push(text);
            ctx.progress(`  FAILED ${text}`);
          }
        }
      }
      await Deno.remove(staging, { recursive: true }).catch(() => {});
      const summaries = PROGRAMS.map((p) => summarize(peerName[p], measured[p], bytes));
      const ours = measured["sluice agent"];
      const details = {
        lines,
        files,
        bytes,
        programs: summaries,
        runs: Object.fromEntries(
          PROGRAMS.map((p) => [
            p,
            measured[p].map((r) => ({
              seconds: r.seconds,
              cpu_seconds: r.cpuSeconds,
              peak_rss_mib: r.peakRssBytes / MIB,
            })),
          ]),
        ),
      };
      const error = errors.length ? errors.join("\n") : undefined;
      const metrics = [
        {
          what: "throughput" as const,
          unit: "lines/s",
          direction: "higher" as const,
          f: (r: RunMeasure) => r.lines / r.seconds,
        },
        {
          what: "CPU" as const,
          unit: "CPU s / M lines",
          direction: "lower" as const,
          f: (r: RunMeasure) => (r.cpuSeconds / r.lines) * 1e6,
        },
        {
          what: "peak RSS" as const,
          unit: "MiB",
          direction: "lower" as const,
          f: (r: RunMeasure) => r.peakRssBytes / MIB,
        },
      ];
      for (const peer of ["kcat", "rsyslog"] as const) {
        for (const metric of metrics) {
          results.push(buildResult({
            scenario: "agent-kafka",
            name: `agent → Kafka, ${variant}, ${metric.what} vs ${peer}`,
            unit: metric.unit,
            direction: metric.direction,
            samples: ours.map(metric.f),
            peer: peerName[peer],
            peerSamples: measured[peer].map(metric.f),
            target: agentTarget(metric.what, peer),
            details: metric.what === "throughput" && peer === "kcat" ? details : undefined,
            error,
          }));
        }
      }
      if (files === agentFileCounts[0]) {
        for (const p of PROGRAMS) {
          const first = measured[p][0];
          if (first) {
            plotSeries.push({ name: plotName[p], points: ratesOf(thin(first.timeline, 0.5)) });
          }
        }
        ctx.artifacts.set(
          "throughput.svg",
          lineChart({
            title: `file → Kafka, ${variant}, ${lines.toLocaleString("en-US")} lines (run 1)`,
            xLabel: "seconds since the files appeared",
            yLabel: "lines/s reaching Kafka",
            series: plotSeries,
          }),
        );
      }
    }
    return results;
  },
};

/**
 * The agent's targets (issue 20): throughput at least 0.8× kcat's (1.5× rsyslog's, issue 6),
 * at most 4.5 CPU s per million lines, a peak RSS of at most 250 MiB working off the backlog.
 * The value targets stand on the rows against kcat only, so each is counted once.
 */
export function agentTarget(
  what: "throughput" | "CPU" | "peak RSS",
  peer: "kcat" | "rsyslog",
): Target | undefined {
  if (what === "throughput") return { of: "ratio", op: ">=", bound: peer === "kcat" ? 0.8 : 1.5 };
  if (peer !== "kcat") return undefined;
  return { of: "value", op: "<=", bound: what === "CPU" ? 4.5 : 250 };
}
