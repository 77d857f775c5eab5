/**
 * Scenario 3, latency: a writer process appends timed lines (bench/lines.ts) to one file at a
 * steady rate while the agent and the transfer run as processes. Write → Kafka is the broker's
 * append time (the topic uses LogAppendTime; on a single node with acks=all the append is the
 * acknowledgement) minus the write time carried in the line, for every line. Write → searchable
 * is measured on probe lines (every 1,000th): the bench searches for the outstanding probe words
 * every 50 ms, so the figure is the time the probe was first found, at 50 ms resolution, with
 * the index's 1 s refresh. The first seconds are warm-up and not counted.
 * @module
 */
import { sleep } from "../../core/backoff.ts";
import { createKafka } from "../../kafka/connection.ts";
import { templateName } from "../../transfer/index_template.ts";
import type { BenchContext, Scenario } from "../context.ts";
import { parseTimed, probeWord } from "../lines.ts";
import { assertRunning } from "../../core/child.ts";
import {
  benchSource,
  metricValue,
  scrape,
  startAgent,
  startLineWriter,
  startTransfer,
  uniqueName,
} from "../programs.ts";
import { type BenchResult, buildResult, type Distribution, distribution } from "../stats.ts";

const PROBE_EVERY = 1_000;
const POLL_MS = 50;

interface RunLatency {
  kafka: Distribution;
  searchable: Distribution;
  probesMissing: number;
  engine: EngineTimings;
}

/** Where write → searchable waits outside sluice: the transfer's bulk requests and the index's refreshes. */
interface EngineTimings {
  /** Mean time of a bulk request, as the transfer saw it (its sluice_transfer_bulk_seconds). */
  bulkMs: number;
  /** Mean duration of a refresh that made documents searchable. */
  refreshMs: number;
  /** Mean time from one such refresh to the next (the 1 s interval runs after a refresh ends). */
  refreshEveryMs: number;
}

async function searchJson(ctx: BenchContext, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${ctx.endpoints.search}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return await response.json().catch(() => ({}));
}

async function engineTimings(
  ctx: BenchContext,
  prefix: string,
  metricsPort: number,
): Promise<EngineTimings> {
  const page = await scrape(metricsPort);
  const bulks = metricValue(page, "sluice_transfer_bulk_seconds_count");
  const bulkSeconds = metricValue(page, "sluice_transfer_bulk_seconds_sum");
  const stats = await searchJson(ctx, `/${prefix}-*/_stats/refresh`) as {
    indices?: Record<string, { primaries?: { refresh?: Record<string, number> } }>;
  };
  const settings = await searchJson(ctx, `/${prefix}-*/_settings/index.creation_date`) as Record<
    string,
    { settings?: { index?: { creation_date?: string } } }
  >;
  const now = Date.now();
  let refreshes = 0, refreshMs = 0, lifetimeMs = 0;
  for (const [index, entry] of Object.entries(stats.indices ?? {})) {
    // external_* counts the refreshes that change what searches see (OpenSearch 2, ES 8).
    const refresh = entry.primaries?.refresh ?? {};
    refreshes += refresh.external_total ?? refresh.total ?? 0;
    refreshMs += refresh.external_total_time_in_millis ?? refresh.total_time_in_millis ?? 0;
    lifetimeMs = Math.max(
      lifetimeMs,
      now - Number(settings[index]?.settings?.index?.creation_date),
    );
  }
  return {
    bulkMs: bulks > 0 ? (bulkSeconds / bulks) * 1000 : NaN,
    refreshMs: refreshes > 0 ? refreshMs / refreshes : NaN,
    refreshEveryMs: refreshes > 0 ? lifetimeMs / refreshes : NaN,
  };
}

/** Write → broker append time of every record of `topic` written after `cutoff`. */
async function kafkaLatencies(ctx: BenchContext, topic: string, cutoff: number): Promise<number[]> {
  const child = new Deno.Command("kcat", {
    args: ["-C", "-b", ctx.endpoints.kafka.join(","), "-t", topic, "-e", "-q", "-f", "%T\t%s\n"],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const latencies: number[] = [];
  const take = (line: string) => {
    const tab = line.indexOf("\t");
    const appended = Number(line.slice(0, tab));
    const timed = parseTimed(line.slice(tab + 1));
    if (!timed || !Number.isFinite(appended) || timed.writtenAt < cutoff) return;
    latencies.push(appended - timed.writtenAt);
  };
  let rest = "";
  for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + text).split("\n");
    rest = lines.pop()!;
    for (const line of lines) take(line);
  }
  if (rest) take(rest);
  await child.status;
  return latencies;
}

async function runOnce(ctx: BenchContext, label: string): Promise<RunLatency> {
  const { latencySeconds: seconds, latencyRate: rate, latencyWarmupS: warmup } = ctx.sizes;
  const total = seconds * rate;
  const work = await Deno.makeTempDir({ dir: ctx.tmp, prefix: "lat-" });
  const logs = `${work}/logs`;
  await Deno.mkdir(logs);
  await Deno.writeTextFile(`${logs}/f0000.log`, "");
  const topic = uniqueName("lat");
  const group = uniqueName("lg");
  const prefix = uniqueName("li");
  await ctx.topics.create(topic, { partitions: 3, logAppendTime: true });
  const stops: (() => Promise<unknown>)[] = [];
  try {
    const agent = await startAgent({
      endpoints: ctx.endpoints,
      workDir: work,
      profileDir: ctx.profileDir,
      sources: [benchSource("lat", logs, topic)],
    });
    stops.push(agent.stop);
    const transfer = await startTransfer({
      endpoints: ctx.endpoints,
      workDir: work,
      topic,
      group,
      indexPrefix: prefix,
      profileDir: ctx.profileDir,
    });
    stops.push(transfer.stop);
    const tag = `l${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`;
    const writer = await startLineWriter({
      dir: logs,
      files: 1,
      rate,
      seconds,
      tag,
      probeEvery: PROBE_EVERY,
      log: `${work}/writer.log`,
    });
    stops.push(() => writer.stop(1_000));
    const writerStarted = Date.now();
    const probes = total / PROBE_EVERY;
    const found = new Map<number, number>();
    let firstWrite = Infinity;
    const deadline = writerStarted + (seconds + 60) * 1000;
    let lastShown = Date.now();
    while (found.size < probes) {
      if (Date.now() > deadline) break;
      await sleep(POLL_MS);
      const due = Math.min(
        probes - 1,
        Math.floor(((Date.now() - writerStarted) / 1000) * rate / PROBE_EVERY) + 2,
      );
      const words: string[] = [];
      for (let k = 0; k <= due && words.length < 200; k++) {
        if (!found.has(k)) words.push(probeWord(tag, k));
      }
      if (words.length === 0) continue;
      const body = await searchJson(ctx, `/${prefix}-*/_search`, {
        size: words.length,
        _source: ["message"],
        query: { match: { message: { query: words.join(" "), operator: "or" } } },
      }) as { hits?: { hits?: { _source?: { message?: string } }[] } };
      const at = Date.now();
      for (const hit of body.hits?.hits ?? []) {
        const message = hit._source?.message ?? "";
        const timed = parseTimed(message);
        const k = timed ? timed.seq / PROBE_EVERY : NaN;
        if (!timed || !Number.isInteger(k) || found.has(k)) continue;
        found.set(k, at - timed.writtenAt);
        if (k === 0) firstWrite = timed.writtenAt;
      }
      if (at - lastShown > 5_000) {
        lastShown = at;
        ctx.progress(`  ${label}: ${found.size}/${probes} probes searchable`);
      }
      await assertRunning(agent.child);
      await assertRunning(transfer.child);
    }
    await writer.exited;
    await ctx.topics.waitForRecords(topic, total, 60_000);
    if (!Number.isFinite(firstWrite)) throw new Error("the first probe line was never found");
    const cutoff = firstWrite + warmup * 1000;
    const engine = await engineTimings(ctx, prefix, transfer.metricsPort);
    const kafka = distribution(await kafkaLatencies(ctx, topic, cutoff));
    const searchable = distribution(
      [...found].filter(([k]) => k * PROBE_EVERY >= warmup * rate).map(([, ms]) => ms),
    );
    return { kafka, searchable, probesMissing: probes - found.size, engine };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await ctx.topics.delete(topic, `${topic}-dlq`);
    await fetch(`${ctx.endpoints.search}/${prefix}-*?expand_wildcards=all`, { method: "DELETE" })
      .then((r) => r.body?.cancel()).catch(() => {});
    await fetch(`${ctx.endpoints.search}/_index_template/${templateName(prefix)}`, {
      method: "DELETE",
    }).then((r) => r.body?.cancel()).catch(() => {});
    const admin = createKafka({ brokers: ctx.endpoints.kafka, clientId: "sluice-bench" }).admin();
    await admin.connect().then(() => admin.deleteGroups([group])).catch(() => {});
    await admin.disconnect().catch(() => {});
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

export const latencyScenario: Scenario = {
  name: "latency",
  summary: "write → Kafka and write → searchable at a steady rate",
  async run(ctx) {
    const { latencyRuns: runs, latencyRate: rate, latencySeconds: seconds } = ctx.sizes;
    const measured: RunLatency[] = [];
    const errors: string[] = [];
    for (let run = 0; run < runs; run++) {
      const label = `latency, run ${run + 1}/${runs} (${
        rate.toLocaleString("en-US")
      } lines/s, ${seconds} s)`;
      ctx.progress(label);
      try {
        const m = await runOnce(ctx, label);
        measured.push(m);
        ctx.progress(
          `  → Kafka p50 ${m.kafka.p50.toFixed(0)} / p99 ${m.kafka.p99.toFixed(0)} / max ${
            m.kafka.max.toFixed(0)
          } ms; searchable p50 ${m.searchable.p50.toFixed(0)} / p99 ${
            m.searchable.p99.toFixed(0)
          } / max ${m.searchable.max.toFixed(0)} ms; engine: bulk ${
            m.engine.bulkMs.toFixed(0)
          } ms, refresh ${m.engine.refreshMs.toFixed(0)} ms every ${
            m.engine.refreshEveryMs.toFixed(0)
          } ms (means)` +
            (m.probesMissing ? ` (${m.probesMissing} probes never found)` : ""),
        );
      } catch (error) {
        errors.push(`${label}: ${(error as Error).message}`);
        ctx.progress(`  FAILED ${label}: ${(error as Error).message}`);
      }
    }
    const error = errors.length ? errors.join("\n") : undefined;
    const results: BenchResult[] = [];
    const at = `at ${rate.toLocaleString("en-US")} lines/s`;
    const engine = {
      engine_bulk_ms: measured.map((m) => Math.round(m.engine.bulkMs)),
      engine_refresh_ms: measured.map((m) => Math.round(m.engine.refreshMs)),
      engine_refresh_every_ms: measured.map((m) => Math.round(m.engine.refreshEveryMs)),
    };
    for (
      const [what, pick, p99Target, extra] of [
        ["write → acknowledged by Kafka", (m: RunLatency) => m.kafka, 50, {}],
        ["write → searchable (1 s refresh)", (m: RunLatency) => m.searchable, 1500, engine],
      ] as const
    ) {
      for (const stat of ["p50", "p99", "max"] as const) {
        results.push(buildResult({
          scenario: "latency",
          name: `${what} ${stat}, ${at}`,
          unit: "ms",
          direction: "lower",
          samples: measured.map((m) => pick(m)[stat]),
          target: stat === "p99" ? { of: "value", op: "<=", bound: p99Target } : undefined,
          details: stat === "p50"
            ? {
              samples_per_run: measured.map((m) => pick(m).count),
              seconds,
              warmup_seconds: ctx.sizes.latencyWarmupS,
              probe_every: PROBE_EVERY,
              search_poll_ms: POLL_MS,
              ...extra,
            }
            : undefined,
          error,
        }));
      }
    }
    return results;
  },
};
