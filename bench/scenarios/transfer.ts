/**
 * Scenario 2, transfer Kafka → OpenSearch: a topic is filled once with envelopes as the agent
 * writes them (access-log lines, gzip batches); each run, the sluice transfer (a process, its own
 * group and index prefix) indexes all of them, and a direct bulk loader sends the same documents,
 * same `_id`s, with the transfer's bulk size (5,000) and concurrency (4) straight to the engine
 * from bodies built before the clock starts. docs/s is the steady rate between 10 % and 90 % of
 * the documents indexed, so the transfer's start-up (group join) counts for neither.
 * @module
 */
import { sleep } from "../../core/backoff.ts";
import { type Envelope, eventId } from "../../core/envelope.ts";
import { actionLine, documentSource } from "../../transfer/encoder.ts";
import { indexTemplate, templateName } from "../../transfer/index_template.ts";
import { indexFor } from "../../transfer/routing.ts";
import type { BenchContext, Scenario } from "../context.ts";
import { accessLogText, seededRandomFor } from "../lines.ts";
import { assertRunning } from "../../core/child.ts";
import { metricValue, scrape, startTransfer, uniqueName } from "../programs.ts";
import { type BenchResult, buildResult, windowRate } from "../stats.ts";
import { createKafka } from "../../kafka/connection.ts";
import { createLogProducer } from "../../kafka/producer.ts";
import { FileRecordEncoder } from "../../core/record_format.ts";

const BULK_DOCS = 5_000;
const IN_FLIGHT = 4;
const FILES = 12;

/** N envelopes of 12 files of one host. */
function makeEnvelopes(count: number): { values: Envelope[] } {
  const random = seededRandomFor();
  const text = accessLogText(0, count, random).split("\n");
  const base = Date.now();
  const offsets = new Array(FILES).fill(0);
  const values: Envelope[] = [];
  for (let i = 0; i < count; i++) {
    const f = i % FILES;
    const fileId = `2049-${100_000 + f}-0f1e2d3c`;
    const message = text[i];
    const envelope: Envelope = {
      "@timestamp": new Date(base + i).toISOString(),
      id: eventId("bench-host", fileId, offsets[f]),
      host: "bench-host",
      source: "bench",
      path: `/var/log/bench/f${f}.log`,
      file_id: fileId,
      offset: offsets[f],
      message,
    };
    offsets[f] += message.length + 1;
    values.push(envelope);
  }
  return { values };
}

async function search(ctx: BenchContext, path: string, init: RequestInit = {}): Promise<unknown> {
  const response = await fetch(`${ctx.endpoints.search}${path}`, {
    ...init,
    headers: { "content-type": "application/json", ...(init.headers ?? {}) },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok && response.status !== 404) {
    throw new Error(`${init.method ?? "GET"} ${path}: ${response.status} ${JSON.stringify(body)}`);
  }
  return body;
}

async function countDocs(ctx: BenchContext, prefix: string): Promise<number> {
  await search(ctx, `/${prefix}-*/_refresh`, { method: "POST" });
  const body = await search(ctx, `/${prefix}-*/_count`) as { count?: number };
  return body.count ?? 0;
}

async function dropIndices(ctx: BenchContext, prefix: string): Promise<void> {
  await search(ctx, `/${prefix}-*?expand_wildcards=all`, { method: "DELETE" }).catch(() => {});
  await search(ctx, `/_index_template/${templateName(prefix)}`, { method: "DELETE" })
    .catch(() => {});
}

interface Measure {
  docsPerS: number | null;
  wallSeconds: number;
  timeline: [number, number][];
}

async function runTransfer(
  ctx: BenchContext,
  topic: string,
  total: number,
  label: string,
): Promise<Measure> {
  const work = await Deno.makeTempDir({ dir: ctx.tmp, prefix: "xfer-" });
  const group = uniqueName("xg");
  const prefix = uniqueName("xo");
  const t0 = performance.now();
  const transfer = await startTransfer({
    endpoints: ctx.endpoints,
    workDir: work,
    topic,
    group,
    indexPrefix: prefix,
    profileDir: ctx.profileDir,
    extraArgs: ["--bulk-max-docs", String(BULK_DOCS), "--max-in-flight", String(IN_FLIGHT)],
  });
  try {
    const timeline: [number, number][] = [];
    let indexed = 0;
    let lastShown = performance.now();
    let lastChange = performance.now();
    while (indexed < total) {
      await sleep(100);
      const n = metricValue(
        await scrape(transfer.metricsPort),
        "sluice_transfer_docs_indexed_total",
      );
      const now = performance.now();
      timeline.push([(now - t0) / 1000, n]);
      if (n !== indexed) lastChange = now;
      indexed = n;
      if (now - lastShown > 3_000) {
        lastShown = now;
        ctx.progress(
          `  ${label}: ${indexed.toLocaleString("en-US")}/${total.toLocaleString("en-US")}`,
        );
      }
      await assertRunning(transfer.child);
      if (now - lastChange > 60_000) throw new Error(`transfer stuck at ${indexed} of ${total}`);
    }
    const wallSeconds = (performance.now() - t0) / 1000;
    const stored = await countDocs(ctx, prefix);
    if (stored !== total) {
      throw new Error(`transfer: ${stored} documents stored, expected ${total}`);
    }
    return { docsPerS: windowRate(timeline, total), wallSeconds, timeline };
  } finally {
    await transfer.stop();
    await dropIndices(ctx, prefix);
    const admin = createKafka({ brokers: ctx.endpoints.kafka, clientId: "sluice-bench" }).admin();
    await admin.connect().then(() => admin.deleteGroups([group])).catch(() => {});
    await admin.disconnect().catch(() => {});
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

async function runLoader(
  ctx: BenchContext,
  envelopes: Envelope[],
  label: string,
): Promise<Measure> {
  const prefix = uniqueName("xl");
  try {
    await search(ctx, `/_index_template/${templateName(prefix)}`, {
      method: "PUT",
      body: JSON.stringify(indexTemplate({ prefix, replicas: 0, refreshInterval: "1s" })),
    });
    // Bodies are built before the clock starts: the loader does nothing but send.
    const encoder = new TextEncoder();
    const bodies: Uint8Array<ArrayBuffer>[] = [];
    for (let i = 0; i < envelopes.length; i += BULK_DOCS) {
      let body = "";
      for (const e of envelopes.slice(i, i + BULK_DOCS)) {
        body += actionLine(indexFor(e, "bench", { prefix, stream: "source" })!, e.id) + "\n" +
          documentSource(e) + "\n";
      }
      bodies.push(encoder.encode(body));
    }
    const total = envelopes.length;
    const timeline: [number, number][] = [[0, 0]];
    let done = 0;
    let next = 0;
    const t0 = performance.now();
    let lastShown = t0;
    const worker = async () => {
      while (next < bodies.length) {
        const body = bodies[next++];
        const response = await fetch(`${ctx.endpoints.search}/_bulk`, {
          method: "POST",
          headers: { "content-type": "application/x-ndjson" },
          body,
        });
        const result = await response.json() as { errors?: boolean; items?: unknown[] };
        if (!response.ok || result.errors) {
          throw new Error(
            `direct bulk failed: ${response.status} ${JSON.stringify(result).slice(0, 300)}`,
          );
        }
        done += result.items?.length ?? 0;
        const now = performance.now();
        timeline.push([(now - t0) / 1000, done]);
        if (now - lastShown > 3_000) {
          lastShown = now;
          ctx.progress(
            `  ${label}: ${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")}`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    const wallSeconds = (performance.now() - t0) / 1000;
    const stored = await countDocs(ctx, prefix);
    if (stored !== total) throw new Error(`loader: ${stored} documents stored, expected ${total}`);
    return { docsPerS: windowRate(timeline, total), wallSeconds, timeline };
  } finally {
    await dropIndices(ctx, prefix);
  }
}

/**
 * Produces the envelopes as the agent sends them (record format 2, core/record_format.ts; gzip,
 * acks=all, idempotent), with the agent's own producer: kcat cannot give each record its headers.
 */
async function fillTopic(ctx: BenchContext, topic: string, values: Envelope[]): Promise<void> {
  const producer = createLogProducer({
    brokers: ctx.endpoints.kafka,
    clientId: "sluice-bench-fill",
    compression: "gzip",
  });
  const encoders = new Map<string, FileRecordEncoder>();
  const sends: Promise<void>[] = [];
  try {
    // A send per file and 1,000 lines, as a backlog's sends are.
    for (let i = 0; i < values.length; i += 1_000 * FILES) {
      for (let f = 0; f < FILES; f++) {
        let started = false;
        let encoder: FileRecordEncoder | undefined;
        for (let j = i + f; j < Math.min(values.length, i + 1_000 * FILES); j += FILES) {
          const e = values[j];
          encoder = encoders.get(e.file_id);
          if (!encoder) {
            encoder = new FileRecordEncoder({
              host: e.host,
              source: e.source,
              path: e.path,
              fileId: e.file_id,
            });
            encoders.set(e.file_id, encoder);
          }
          if (!started) encoder.begin(e["@timestamp"]);
          started = true;
          encoder.addLine({ offset: e.offset, text: e.message }, e["@timestamp"]);
        }
        if (started) sends.push(producer.sendEncoded(topic, encoder!.finish()));
      }
      if (sends.length > 200) await Promise.all(sends.splice(0));
    }
    await Promise.all(sends);
  } finally {
    await producer.close();
  }
}

export const transferScenario: Scenario = {
  name: "transfer",
  summary: "transfer Kafka → OpenSearch vs a direct bulk loader",
  async run(ctx) {
    const total = ctx.sizes.transferDocs;
    const runs = ctx.sizes.transferRuns;
    ctx.progress(`transfer: filling a topic with ${total.toLocaleString("en-US")} envelopes`);
    const { values } = makeEnvelopes(total);
    const topic = uniqueName("xfer");
    await ctx.topics.create(topic, { partitions: 3 });
    const ours: Measure[] = [];
    const loader: Measure[] = [];
    const errors: string[] = [];
    try {
      await fillTopic(ctx, topic, values);
      const inTopic = await ctx.topics.records(topic);
      if (inTopic !== total) throw new Error(`the topic holds ${inTopic} records, not ${total}`);
      for (let run = 0; run < runs; run++) {
        const order = run % 2 === 0 ? ["transfer", "loader"] : ["loader", "transfer"];
        for (const who of order) {
          const label = `transfer scenario, ${who}, run ${run + 1}/${runs}`;
          try {
            const m = who === "transfer"
              ? await runTransfer(ctx, topic, total, label)
              : await runLoader(ctx, values, label);
            (who === "transfer" ? ours : loader).push(m);
            ctx.progress(
              `  ${label}: ${Math.round(m.docsPerS ?? NaN).toLocaleString("en-US")} docs/s ` +
                `(all ${total.toLocaleString("en-US")} in ${m.wallSeconds.toFixed(1)} s)`,
            );
          } catch (error) {
            errors.push(`${label}: ${(error as Error).message}`);
            ctx.progress(`  FAILED ${label}: ${(error as Error).message}`);
          }
        }
      }
    } finally {
      await ctx.topics.delete(topic, `${topic}-dlq`);
    }
    const results: BenchResult[] = [
      buildResult({
        scenario: "transfer",
        name: `transfer Kafka → OpenSearch, ${total.toLocaleString("en-US")} docs`,
        unit: "docs/s",
        direction: "higher",
        samples: ours.map((m) => m.docsPerS ?? NaN),
        peer: `direct bulk loader (${BULK_DOCS} docs/bulk, ${IN_FLIGHT} in flight)`,
        peerSamples: loader.map((m) => m.docsPerS ?? NaN),
        target: { of: "ratio", op: ">=", bound: 0.8 },
        details: {
          docs: total,
          bulk_docs: BULK_DOCS,
          in_flight: IN_FLIGHT,
          wall_seconds: ours.map((m) => m.wallSeconds),
          peer_wall_seconds: loader.map((m) => m.wallSeconds),
          rate_window: "10 % → 90 % of the documents indexed",
        },
        error: errors.length ? errors.join("\n") : undefined,
      }),
    ];
    return results;
  },
};
