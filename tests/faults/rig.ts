/**
 * The fault suite's rig: a pipeline of real processes (`agent/main.ts`, `transfer/main.ts`) on
 * the real stack, each scenario under its own etcd prefix, topic, group and index prefix; writers
 * of numbered lines (with rename rotation); the count of what reached the index per source; what
 * the operator sees (log lines, /metrics, /healthz, the status keys); and `scenario()`, which runs
 * one scenario as a test and records its row for docs/RELIABILITY.md even when it fails.
 * @module
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { sleep } from "../../core/backoff.ts";
import { freePort, waitFor } from "../../core/child.ts";
import { endpointsFromEnv } from "../../core/endpoints.ts";
import {
  type AgentStatus,
  type ConfigPlane,
  type Op,
  openConfigPlane,
  type Source,
} from "../../config_plane/mod.ts";
import { createKafka } from "../../kafka/connection.ts";
import { createGroupConsumer, deleteConsumerGroup, partitionBounds } from "../../kafka/consumer.ts";
import type { DeadLetterValue } from "../../transfer/dead_letter.ts";
import {
  type EngineServiceName,
  localEngineAt,
  type ServiceName,
  serviceStatus,
  startService,
  stopService,
} from "../../stack/mod.ts";
import { DOCUMENT_FIELDS } from "../../transfer/document.ts";
import { cleanUp, uniqueName } from "../support/transfer_rig.ts";
import { seqLines } from "../integration/agent_support.ts";
import {
  consumerLagProbe,
  type Diagnostics,
  topicRecordsProbe,
  withDiagnostics,
} from "../support/diagnostics.ts";
import type { TestProcess } from "../support/process.ts";
import { RESULTS_DIR, saveRow, type ScenarioRow } from "./report.ts";
import type { Point } from "./series.ts";
import { describeTally, type Tally, tallySeqs } from "./tally.ts";

export const endpoints = endpointsFromEnv();

/**
 * True when the suite runs on a cluster (SLUICE_* list several members, as `deno task
 * test:faults --cluster` sets them): indices then get a replica, so a lost search node loses no
 * shard.
 */
export const onCluster = endpoints.kafka.length > 1 || endpoints.searchNodes.length > 1;

/**
 * The search engine the suite runs against (SLUICE_SEARCH_URL): the stack service to stop in an
 * engine outage, and its name for titles. tests/run.ts runs the engine scenarios once per engine.
 */
export const engine: { service: EngineServiceName; label: string } = (() => {
  const service = localEngineAt(endpoints.search) ?? "opensearch";
  return { service, label: service === "elasticsearch" ? "Elasticsearch" : "OpenSearch" };
})();
const ROOT = new URL("../../", import.meta.url).pathname;
const decoder = new TextDecoder();

/** Environment of the suite's processes: info-level logs, kept for the failure report. */
const PROCESS_ENV = { SLUICE_LOG_LEVEL: "info" };

// ---- processes ----------------------------------------------------------------------------

/** An agent or transfer process of a scenario (tests/support/process.ts). */
export type Proc = TestProcess;

// ---- numbered lines ----------------------------------------------------------------------

export interface WriterOptions {
  /** Lines per second. */
  rate: number;
  /** Stop by itself after this many lines (default: until `stop()`). */
  total?: number;
  /** Rename the file to `<path>.<n>` after every this many lines (a new file takes its place). */
  rotateEvery?: number;
  /** Padding of each line (default 40 bytes). */
  pad?: number;
}

/** Appends `tag seq=NNNNNN xxx…` lines to a file at a steady rate, rotating by rename. */
export class SeqWriter {
  count = 0;
  rotations = 0;
  readonly done: Promise<number>;
  #running = true;

  constructor(readonly path: string, readonly tag: string, readonly options: WriterOptions) {
    this.done = this.#run();
  }

  async #run(): Promise<number> {
    const { rate, total = Infinity, rotateEvery = Infinity, pad = 40 } = this.options;
    const started = Date.now();
    while (this.#running && this.count < total) {
      const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate) + 1);
      while (this.count < due) {
        const boundary = (Math.floor(this.count / rotateEvery) + 1) * rotateEvery;
        const to = Math.min(due, boundary);
        await Deno.writeTextFile(this.path, seqLines(this.tag, this.count, to, pad), {
          append: true,
        });
        this.count = to;
        if (to === boundary) {
          await Deno.rename(this.path, `${this.path}.${++this.rotations}`);
        }
      }
      await sleep(10);
    }
    return this.count;
  }

  /** Stops writing; resolves to the number of lines written. */
  stop(): Promise<number> {
    this.#running = false;
    return this.done;
  }
}

// ---- the pipeline ------------------------------------------------------------------------

export interface AgentOptions {
  /** Agent id (default `a1`), also the status key and envelope host. */
  id?: string;
  /** Checkpoint directory (default `<dir>/checkpoints-<id>`). */
  checkpointDir?: string;
  extraArgs?: string[];
  /** Run the command through this prefix (e.g. `setpriv` to drop root). */
  wrapper?: string[];
}

/**
 * One scenario's pipeline: its own etcd prefix, topic, consumer group, index prefix and dead
 * letter topic (all named after `name`), a temp directory for its logs, and the processes it
 * started. `close()` stops them and deletes all of it.
 */
export class Pipeline {
  readonly topic: string;
  readonly dlq: string;
  readonly prefix: string;
  #plane: ConfigPlane | undefined;

  private constructor(
    readonly name: string,
    readonly dir: string,
    readonly diagnostics: Diagnostics,
  ) {
    this.topic = name;
    this.dlq = `${name}-dlq`;
    this.prefix = `/${name}`;
  }

  /** The suite's own config plane client, opened on first use (again after `releaseEtcd`). */
  get plane(): ConfigPlane {
    this.#plane ??= openConfigPlane({ endpoints: endpoints.etcd, prefix: this.prefix });
    return this.#plane;
  }

  /**
   * Closes the suite's etcd client before etcd is stopped: a process holding an idle HTTP/2
   * session with an etcd that goes away can die inside Deno's HTTP/2 (denoland/deno#36788), and
   * here that process is the test runner. The next use of `plane` opens a new client.
   */
  releaseEtcd(): void {
    this.#plane?.close();
    this.#plane = undefined;
  }

  /**
   * A fresh pipeline whose processes, probes and clean-up belong to `d`; its topic has 3
   * partitions, the cluster's default replication factor (1 on one broker, 3 on the cluster)
   * and `topicConfig` (e.g. max.message.bytes). Use `inPipeline`.
   */
  static async open(
    label: string,
    d: Diagnostics,
    topicConfig: Record<string, string> = {},
  ): Promise<Pipeline> {
    const name = uniqueName(label);
    const dir = await Deno.makeTempDir({ prefix: `sluice-fault-${label}-` });
    await Deno.chmod(dir, 0o755);
    const p = new Pipeline(name, dir, d);
    d.defer(() => p.close());
    const kafka = { brokers: endpoints.kafka };
    d.probe(`records in ${p.topic}`, topicRecordsProbe(kafka, p.topic));
    d.probe(`transfer group ${name}`, consumerLagProbe(kafka, name, p.topic));
    d.probe(`documents in ${p.indices()} per source`, () => p.#countsBySource());
    d.probe("status keys", async () => await p.agents());
    const admin = createKafka({ brokers: endpoints.kafka, clientId: "sluice-faults" }).admin();
    try {
      await admin.connect();
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{
          topic: name,
          numPartitions: 3,
          configEntries: Object.entries(topicConfig).map(([name, value]) => ({ name, value })),
        }],
      });
    } finally {
      await admin.disconnect();
    }
    return p;
  }

  /** Documents per source now, for a failure report. */
  async #countsBySource(): Promise<string> {
    const body = await search(`/${this.indices()}/_search`, {
      size: 0,
      aggs: { sources: { terms: { field: DOCUMENT_FIELDS.source, size: 50 } } },
    });
    const buckets = (body.aggregations?.sources?.buckets ?? []) as Json[];
    return `${body.hits?.total?.value ?? "?"} in all (${
      buckets.map((b) => `${b.key} ${b.doc_count}`).join(", ") || "none"
    })`;
  }

  /** Index pattern of one source's documents (the stream is the source id). */
  indices(source = "*"): string {
    return `${this.name}-${source}-*`;
  }

  /** A source reading `<dir>/<id>/*.log` (or `glob` there) into the pipeline's topic. */
  source(id: string, extra: Partial<Source> & { glob?: string } = {}): Source {
    const { glob = "*.log", ...rest } = extra;
    return {
      id,
      paths: [`${this.dir}/${id}/${glob}`],
      topic: this.topic,
      start_at: "beginning",
      ...rest,
    };
  }

  /** Creates the directory of a source's files; returns its path. */
  async sourceDir(id: string): Promise<string> {
    const path = `${this.dir}/${id}`;
    await Deno.mkdir(path, { recursive: true });
    await Deno.chmod(path, 0o777);
    return path;
  }

  /** Appends one event on the current head; returns its seq. */
  async apply(ops: Op[], message: string): Promise<number> {
    const base = await this.plane.head();
    const { event } = await this.plane.append({ base, ops, author: "fault-suite", message });
    return event.seq;
  }

  /** Puts sources (one event). */
  put(...sources: Source[]): Promise<number> {
    return this.apply(sources.map((source) => ({ op: "put_source", source })), "fault suite");
  }

  /** Starts an agent process following this pipeline's prefix. */
  agent(options: AgentOptions = {}): Proc {
    const id = options.id ?? "a1";
    const addr = `127.0.0.1:${freePort()}`;
    return this.diagnostics.spawn({
      name: `agent ${id}`,
      script: "agent/main.ts",
      metricsAddr: addr,
      env: PROCESS_ENV,
      wrapper: options.wrapper,
      args: [
        ...["--agent-id", `${this.name}-${id}`, "--label", "role=fault"],
        ...["--prefix", this.prefix, "--etcd", endpoints.etcd.join(",")],
        ...["--kafka", endpoints.kafka.join(",")],
        ...["--checkpoint-dir", options.checkpointDir ?? `${this.dir}/checkpoints-${id}`],
        ...["--metrics-addr", addr],
        ...["--poll-ms", "50", "--scan-ms", "200", "--linger-ms", "5"],
        ...["--rotate-wait-ms", "500", "--line-flush-ms", "500", "--shutdown-timeout-ms", "5000"],
        ...(options.extraArgs ?? []),
      ],
    });
  }

  /** Starts an agent (as `agent()` does) and waits until its /healthz says it runs its config. */
  async runningAgent(options: AgentOptions = {}): Promise<Proc> {
    const proc = this.agent(options);
    await until(`${proc.name} runs its config`, async () => (await proc.health()).status === 200);
    return proc;
  }

  /**
   * Starts a transfer process for this pipeline's topic, group and index prefix (`name` tells
   * several apart in reports). Its indices have a replica on a cluster, none on one node.
   */
  transfer(extraArgs: string[] = [], name = "transfer"): Proc {
    const addr = `127.0.0.1:${freePort()}`;
    return this.diagnostics.spawn({
      name,
      script: "transfer/main.ts",
      metricsAddr: addr,
      env: PROCESS_ENV,
      args: [
        ...["--topic", this.topic, "--group", this.name, "--index-prefix", this.name],
        ...["--dead-letter-topic", this.dlq, "--metrics-addr", addr],
        ...["--index-replicas", onCluster ? "1" : "0"],
        ...[
          "--brokers",
          endpoints.kafka.join(","),
          "--search-url",
          endpoints.searchNodes.join(","),
        ],
        // A killed member's partitions move on after 6 s; a returning engine is retried within 2 s.
        ...["--session-timeout-ms", "6000", "--retry-max-ms", "2000", "--bulk-linger-ms", "200"],
        ...extraArgs,
      ],
    });
  }

  /** `deno task config:status [args]` for this prefix, as an operator runs it. */
  async configStatus(...args: string[]): Promise<{ code: number; stdout: string }> {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "config_plane/main.ts", "status", "--prefix", this.prefix, ...args],
      cwd: ROOT,
      env: { SLUICE_ETCD_ENDPOINTS: endpoints.etcd.join(","), NO_COLOR: "1" },
      stdin: "null",
    }).output();
    return { code: out.code, stdout: decoder.decode(out.stdout) + decoder.decode(out.stderr) };
  }

  /** The agent ids' status keys as the agents wrote them. */
  async agents(): Promise<AgentStatus[]> {
    return await this.plane.listAgents();
  }

  /** Documents of `source` in the index now (after a refresh); -1 when the engine is down. */
  async count(source: string): Promise<number> {
    try {
      await search(`/${this.indices(source)}/_refresh`, undefined, "POST");
      const body = await search(`/${this.indices(source)}/_count`, { query: bySource(source) });
      return body.count as number;
    } catch {
      return -1;
    }
  }

  /**
   * Waits until `source` has at least `want` documents, giving up when the count has not moved
   * for `stallMs` (or after `timeoutMs`); returns the last count.
   */
  async waitIndexed(
    source: string,
    want: number,
    { stallMs = 20_000, timeoutMs = 180_000 } = {},
  ): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let last = -2, movedAt = Date.now();
    while (true) {
      const n = await this.count(source);
      if (n >= want) return n;
      if (n !== last) [last, movedAt] = [n, Date.now()];
      if (Date.now() - movedAt > stallMs || Date.now() > deadline) return n;
      await sleep(500);
    }
  }

  /** Reads every document of `source` back and counts lost and duplicated line numbers. */
  async tally(source: string, written: number): Promise<Tally> {
    const seqs: number[] = [];
    for await (const doc of scroll(this.indices(source), bySource(source), ["message"])) {
      const m = / seq=(\d+) /.exec(String(doc.message));
      seqs.push(m ? Number(m[1]) : -1);
    }
    return tallySeqs(written, seqs);
  }

  /** Records on the topic (sum of the partitions' end offsets): re-sent lines show up here. */
  async topicRecords(topic = this.topic): Promise<number> {
    const bounds = await partitionBounds({ brokers: endpoints.kafka }, topic);
    return bounds.reduce((sum, b) => sum + Number(b.high) - Number(b.low), 0);
  }

  /** Reads the dead-letter topic from its start until `want` letters or `timeoutMs`. */
  async deadLetters(want: number, timeoutMs = 30_000): Promise<DeadLetterValue[]> {
    const groupId = `${this.name}-dlq-reader`;
    const consumer = createGroupConsumer({
      brokers: endpoints.kafka,
      groupId,
      topics: [this.dlq],
      fromBeginning: true,
    });
    const letters: DeadLetterValue[] = [];
    await consumer.start({
      onBatch: (batch) => {
        for (const r of batch.records) {
          if (r.value) letters.push(JSON.parse(decoder.decode(r.value)));
        }
      },
    });
    try {
      const deadline = Date.now() + timeoutMs;
      while (letters.length < want && Date.now() < deadline) await sleep(250);
      return letters;
    } finally {
      await consumer.close();
      await deleteConsumerGroup({ brokers: endpoints.kafka }, groupId).catch(() => {});
    }
  }

  /** Deletes topics, group, indices, template, keys, files (its processes are stopped first). */
  async close(): Promise<void> {
    await Promise.all(this.diagnostics.processes.map((p) => p.kill9()));
    await cleanUp({
      brokers: endpoints.kafka,
      topics: [this.topic, this.dlq],
      groups: [this.name],
      indexPrefix: this.name,
      searchUrl: endpoints.search,
    });
    await fetch(`${endpoints.search}/${this.name}-*`, { method: "DELETE" }).then(
      (r) => r.body?.cancel(),
      () => {},
    );
    await this.plane.kv.delete().all().catch(() => {});
    this.releaseEtcd();
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/** How `withPipeline` sets a scenario's pipeline up. */
export interface PipelineSetup {
  /** Names the pipeline (topic, group, etcd prefix, index prefix, temp directory). */
  label: string;
  /** Settings of the topic (e.g. max.message.bytes). */
  topicConfig?: Record<string, string>;
  /** The one source's id (default `app`). */
  source?: string;
  /** More settings of that source (e.g. its `glob`). */
  sourceExtra?: Partial<Source> & { glob?: string };
  agent?: AgentOptions;
}

/** What `withPipeline` started for the scenario's body. */
export interface Started {
  /** The source's directory. */
  dir: string;
  transfer: Proc;
  /** An agent that runs its config. */
  agent: Proc;
}

/**
 * The common start of a scenario: a fresh pipeline with one source (its directory created, the
 * source put in one event), a transfer, and an agent that runs its config. Runs `body`, then
 * closes the pipeline whatever happened.
 */
export function withPipeline(
  setup: PipelineSetup,
  body: (p: Pipeline, started: Started) => Promise<void>,
): Promise<void> {
  return inPipeline(setup.label, async (p) => {
    const source = setup.source ?? "app";
    const dir = await p.sourceDir(source);
    await p.put(p.source(source, setup.sourceExtra));
    const transfer = p.transfer();
    const agent = await p.runningAgent(setup.agent);
    await body(p, { dir, transfer, agent });
  }, setup.topicConfig);
}

/**
 * Runs `body` with a fresh pipeline (`Pipeline.open`) and closes it whatever happens; a failure
 * is rethrown with the report of tests/support/diagnostics.ts (each process's last lines and
 * /healthz, the topic's records, the group's lag, documents per source, the status keys).
 */
export function inPipeline(
  label: string,
  body: (p: Pipeline) => Promise<void>,
  topicConfig: Record<string, string> = {},
): Promise<void> {
  return withDiagnostics(async (d) => body(await Pipeline.open(label, d, topicConfig)), {
    graceMs: 0,
  });
}

function bySource(source: string): Record<string, unknown> {
  return { term: { [DOCUMENT_FIELDS.source]: source } };
}

// deno-lint-ignore no-explicit-any -- search responses are read field by field, as JSON
type Json = Record<string, any>;

async function search(path: string, body?: unknown, method = "POST"): Promise<Json> {
  const response = await fetch(`${endpoints.search}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) {
    throw new Error(`${method} ${path}: HTTP ${response.status} ${JSON.stringify(json)}`);
  }
  return json;
}

/** Every matching document's `_source` fields, through the scroll API. */
export async function* scroll(
  pattern: string,
  query: Record<string, unknown>,
  fields: string[],
): AsyncGenerator<Record<string, unknown>> {
  await search(`/${pattern}/_refresh`);
  let page = await search(
    `/${pattern}/_search?scroll=1m&filter_path=_scroll_id,hits.hits._source`,
    {
      size: 5000,
      query,
      _source: fields,
      sort: ["_doc"],
    },
  );
  const id = page._scroll_id as string;
  try {
    while (page.hits?.hits?.length) {
      for (const hit of page.hits.hits) yield hit._source;
      page = await search("/_search/scroll?filter_path=_scroll_id,hits.hits._source", {
        scroll: "1m",
        scroll_id: id,
      });
    }
  } finally {
    await fetch(`${endpoints.search}/_search/scroll`, {
      method: "DELETE",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ scroll_id: id }),
    }).then((r) => r.body?.cancel(), () => {});
  }
}

/** Samples `read()` every `everyMs` until `stop()`; failed reads are skipped. */
export function sampler(read: () => Promise<number>, everyMs = 250) {
  const points: Point[] = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const t = Date.now();
      try {
        points.push({ t, v: await read() });
      } catch { /* not answering: no sample */ }
      await sleep(Math.max(0, t + everyMs - Date.now()));
    }
  })();
  return {
    points,
    async stop(): Promise<Point[]> {
      running = false;
      await done;
      return points;
    },
  };
}

// ---- services ----------------------------------------------------------------------------

/** Why `name` cannot be stopped here (not run by stack/), or undefined when it can. */
export async function cannotStop(name: ServiceName): Promise<string | undefined> {
  const status = await serviceStatus(name).catch(() => undefined);
  return status?.pid === undefined
    ? `${name} is not run by \`deno task stack:up\` here, so the suite cannot stop it`
    : undefined;
}

/**
 * Stops a service of the local stack for `downMs`, running `meanwhile` during the outage, and
 * starts it again — also when `meanwhile` throws. Returns how long the restart took.
 */
export async function outage(
  name: ServiceName,
  downMs: number,
  meanwhile: () => Promise<void> = () => Promise.resolve(),
): Promise<{ restartMs: number }> {
  if (!(await stopService(name))) throw new Error(`stopService(${name}) stopped nothing`);
  const downSince = Date.now();
  let restartMs = 0;
  try {
    await meanwhile();
    await sleep(Math.max(0, downSince + downMs - Date.now()));
  } finally {
    const t = Date.now();
    await startService(name);
    restartMs = Date.now() - t;
  }
  return { restartMs };
}

// ---- scenarios ---------------------------------------------------------------------------

/** What a scenario fills in while it runs. */
export interface Recorder {
  /** Sets (or adds to) lines written, documents indexed, lost, duplicated. */
  count(t: Tally): void;
  /** Something the operator saw (a log line, a metric, health, status). */
  saw(...items: string[]): void;
  /** What the operator saw, in one line for the report's table. */
  headline(text: string): void;
  /** A measured detail. */
  measured(...items: string[]): void;
}

export interface ScenarioSpec {
  id: string;
  order: number;
  title: string;
  /** What the scenario does. */
  done: string;
  /** What is expected, and why a non-zero count is acceptable where it is. */
  expected: string;
  /** Set when the scenario cannot run here: the test is ignored and its row says why. */
  skip?: string;
  /** The scenario checks its own counts (lost/duplicated are not required to be 0). */
  ownCounts?: boolean;
}

/**
 * Registers a scenario as a test. Its row is saved whatever happens (failed with the error,
 * skipped with the reason); unless `ownCounts`, lost and duplicated must both be 0.
 */
export async function scenario(spec: ScenarioSpec, fn: (r: Recorder) => Promise<void>) {
  const row: ScenarioRow = {
    id: spec.id,
    order: spec.order,
    title: spec.title,
    outcome: "skipped",
    written: null,
    indexed: null,
    lost: null,
    duplicated: null,
    saw: [],
    done: spec.done,
    expected: spec.expected,
    measured: [],
    finishedAt: new Date().toISOString(),
    seconds: 0,
  };
  if (spec.skip) {
    console.error(`fault scenario '${spec.title}' ignored: ${spec.skip}`);
    row.error = spec.skip;
    // A scenario loaded where it cannot run (a cluster one outside --cluster) records why, but
    // never over the row of a run that did happen.
    if (!await rowExists(spec.id)) await saveRow(row);
  }
  Deno.test({
    name: `fault: ${spec.title}`,
    ignore: spec.skip !== undefined,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const started = Date.now();
      const recorder: Recorder = {
        count(t) {
          row.written = (row.written ?? 0) + t.written;
          row.indexed = (row.indexed ?? 0) + t.indexed;
          row.lost = (row.lost ?? 0) + t.lost;
          row.duplicated = (row.duplicated ?? 0) + t.duplicated + t.unexpected;
          if (t.lost || t.duplicated || t.unexpected) row.measured.push(describeTally(t));
        },
        saw: (...items) => void row.saw.push(...items),
        headline: (text) => void (row.headline = text),
        measured: (...items) => void row.measured.push(...items),
      };
      try {
        await fn(recorder);
        if (!spec.ownCounts) {
          assertEquals(
            { lost: row.lost, duplicated: row.duplicated },
            { lost: 0, duplicated: 0 },
            row.measured.join("\n"),
          );
        }
        row.outcome = "passed";
      } catch (error) {
        row.outcome = "failed";
        row.error = (error as Error).message.split("\n").slice(0, 6).join(" ");
        throw error;
      } finally {
        row.seconds = (Date.now() - started) / 1000;
        row.finishedAt = new Date().toISOString();
        await saveRow(row);
      }
    },
  });
}

/** Polls `condition` every 250 ms until true; throws naming `what` after `timeoutMs`. */
export async function until(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(what, condition, { timeoutMs, intervalMs: 250 });
}

/** The first `count` of `lines` (log lines) without their timestamp, as report items. */
export function quote(lines: string[], count: number, who: string): string[] {
  return lines.slice(0, count).map((l) =>
    `${who} log: \`${l.replace(/^\S+ \S+ \S+ /, "").slice(0, 200)}\``
  );
}

/**
 * The most frequent log messages among `lines` (timestamps, numbers and quoted values blanked so
 * that repeats of one message count together), as `N × message` items.
 */
export function topMessages(lines: string[], count: number, who: string): string[] {
  const counts = new Map<string, number>();
  for (const line of lines) {
    const message = line.replace(/^\S+ \S+ \S+ /, "").replace(/"[^"]*"/g, '"…"')
      .replace(/\d+/g, "N").slice(0, 160);
    counts.set(message, (counts.get(message) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).slice(0, count)
    .map(([message, c]) => `${who} log, ${n(c)} ×: \`${message}\``);
}

/** "12,345" */
export function n(value: number): string {
  return value.toLocaleString("en-US");
}

/** True when a row of scenario `id` was recorded before. */
function rowExists(id: string): Promise<boolean> {
  return Deno.stat(`${RESULTS_DIR}/${id}.json`).then(() => true, () => false);
}
