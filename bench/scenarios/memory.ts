/**
 * Scenario 5, memory: the agent tails 1,000 files (each starts with 20 lines, all read first),
 * then sits idle — RSS (VmRSS) at the end of the idle period — then a writer process appends
 * 10,000 lines/s spread over all the files — the largest RSS seen while that runs (sampled every
 * 200 ms). rsyslog imfile → omkafka does the same with the same files in the same run.
 * @module
 */
import { sleep } from "../../core/backoff.ts";
import type { BenchContext, Scenario } from "../context.ts";
import { timedLine } from "../lines.ts";
import { MIB, RssWatcher, sample } from "../procstat.ts";
import type { Child } from "../../core/child.ts";
import { benchSource, startAgent, startLineWriter, startRsyslog, uniqueName } from "../programs.ts";
import { type BenchResult, buildResult } from "../stats.ts";

const PROGRAMS = ["sluice agent", "rsyslog"] as const;
type Program = typeof PROGRAMS[number];
const LINES_PER_FILE = 20;

interface MemoryMeasure {
  idleRssMib: number;
  loadRssMib: number;
  peakRssMib: number;
}

async function runOnce(ctx: BenchContext, program: Program, label: string): Promise<MemoryMeasure> {
  const { memoryFiles: files, memoryIdleS: idleS, memoryLoadS: loadS, memoryLoadRate: rate } =
    ctx.sizes;
  const work = await Deno.makeTempDir({ dir: ctx.tmp, prefix: "mem-" });
  const logs = `${work}/logs`;
  await Deno.mkdir(logs);
  const topic = uniqueName("mem");
  await ctx.topics.create(topic, { partitions: 3 });
  let stop: (() => Promise<void>) | undefined;
  try {
    const now = Date.now();
    for (let f = 0; f < files; f++) {
      let text = "";
      for (let i = 0; i < LINES_PER_FILE; i++) {
        text += timedLine(now, f * LINES_PER_FILE + i, "m", 0) + "\n";
      }
      await Deno.writeTextFile(`${logs}/f${String(f).padStart(4, "0")}.log`, text);
    }
    let child: Child;
    if (program === "sluice agent") {
      const agent = await startAgent({
        endpoints: ctx.endpoints,
        workDir: work,
        profileDir: ctx.profileDir,
        sources: [benchSource("mem", logs, topic)],
      });
      child = agent.child;
      stop = agent.stop;
    } else {
      const rsyslog = await startRsyslog({
        workDir: work,
        files: `${logs}/*.log`,
        brokers: ctx.endpoints.kafka,
        topic,
        settings: ctx.peerSettings,
      });
      child = rsyslog.child;
      stop = rsyslog.stop;
    }
    const initial = files * LINES_PER_FILE;
    await ctx.topics.waitForRecords(topic, initial, 120_000, child);
    ctx.progress(`  ${label}: ${files} files read; idle for ${idleS} s`);
    await sleep(idleS * 1000);
    const idle = await sample(child.pid);
    if (!idle) throw new Error(`${program} exited while idle`);
    ctx.progress(`  ${label}: writing ${rate.toLocaleString("en-US")} lines/s for ${loadS} s`);
    const watcher = new RssWatcher(child.pid, 200);
    watcher.start();
    const writer = await startLineWriter({
      dir: logs,
      files,
      rate,
      seconds: loadS,
      tag: "m",
      log: `${work}/writer.log`,
    });
    const code = await writer.exited;
    if (code !== 0) throw new Error(`the line writer failed (exit ${code})`);
    await ctx.topics.waitForRecords(topic, initial + rate * loadS, 60_000, child);
    const loadRss = await watcher.stop();
    const end = await sample(child.pid);
    return {
      idleRssMib: idle.rssBytes / MIB,
      loadRssMib: loadRss / MIB,
      peakRssMib: (end?.peakRssBytes ?? NaN) / MIB,
    };
  } finally {
    await stop?.().catch(() => {});
    await ctx.topics.delete(topic);
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

export const memoryScenario: Scenario = {
  name: "memory",
  summary: "agent RSS with 1,000 tailed files, idle and under load",
  async run(ctx) {
    const { memoryRuns: runs, memoryFiles: files, memoryLoadRate: rate } = ctx.sizes;
    const measured: Record<Program, MemoryMeasure[]> = { "sluice agent": [], rsyslog: [] };
    const errors: string[] = [];
    for (let run = 0; run < runs; run++) {
      const order = run % 2 === 0 ? PROGRAMS : [...PROGRAMS].reverse();
      for (const program of order) {
        const label = `memory, ${program}, run ${run + 1}/${runs}`;
        ctx.progress(label);
        try {
          const m = await runOnce(ctx, program, label);
          measured[program].push(m);
          ctx.progress(
            `  ${label}: idle ${m.idleRssMib.toFixed(0)} MiB, under load ${
              m.loadRssMib.toFixed(0)
            } MiB, peak (VmHWM) ${m.peakRssMib.toFixed(0)} MiB`,
          );
        } catch (error) {
          errors.push(`${label}: ${(error as Error).message}`);
          ctx.progress(`  FAILED ${label}: ${(error as Error).message}`);
        }
      }
    }
    const peer = `rsyslog ${ctx.versions.rsyslog ?? ""} imfile → omkafka`;
    const error = errors.length ? errors.join("\n") : undefined;
    const n = files.toLocaleString("en-US");
    const results: BenchResult[] = [
      buildResult({
        scenario: "memory",
        name: `agent RSS, ${n} files tailed, idle`,
        unit: "MiB",
        direction: "lower",
        samples: measured["sluice agent"].map((m) => m.idleRssMib),
        peer,
        peerSamples: measured.rsyslog.map((m) => m.idleRssMib),
        target: { of: "value", op: "<=", bound: 100 },
        details: {
          files,
          lines_per_file_at_start: LINES_PER_FILE,
          idle_seconds: ctx.sizes.memoryIdleS,
          load_seconds: ctx.sizes.memoryLoadS,
          load_rate: rate,
          peak_rss_mib: measured["sluice agent"].map((m) => m.peakRssMib),
          peer_peak_rss_mib: measured.rsyslog.map((m) => m.peakRssMib),
        },
        error,
      }),
      buildResult({
        scenario: "memory",
        name: `agent RSS, ${n} files tailed, ${rate.toLocaleString("en-US")} lines/s`,
        unit: "MiB",
        direction: "lower",
        samples: measured["sluice agent"].map((m) => m.loadRssMib),
        peer,
        peerSamples: measured.rsyslog.map((m) => m.loadRssMib),
        target: { of: "value", op: "<=", bound: 150 },
        error,
      }),
    ];
    return results;
  },
};
