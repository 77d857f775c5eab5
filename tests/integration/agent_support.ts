/**
 * Shared pieces of the agent integration tests (real Kafka and etcd, no mocks): unique names,
 * sequence-numbered log writers, a Kafka collector, the agent as a child process, and the check
 * that every sequence number arrived exactly once and in order per file.
 * @module
 */
import type { Consumer, KafkaMessage } from "kafkajs";
import { endpointsFromEnv } from "../../core/endpoints.ts";
import type { Envelope } from "../../core/envelope.ts";
import { decodeEnvelope, type RecordHeaders } from "../../core/record_format.ts";
import type { Source } from "../../config_plane/types.ts";
import { waitFor as poll } from "../../core/child.ts";
import { createKafka, ensureTopic } from "../../kafka/connection.ts";
import {
  createLogProducer,
  type LogProducer,
  type LogProducerOptions,
} from "../../kafka/producer.ts";
import { type TailOptions, TailTask } from "../../agent/tail_task.ts";
import { AgentMetrics } from "../../agent/metrics.ts";
import { TestProcess } from "../support/process.ts";
import { taskFlags } from "../../bench/programs.ts";

export const endpoints = endpointsFromEnv();

/** A name unique to this run, for topics, prefixes and source ids. */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
}

/** `tag seq=000042 ...padding` lines for seq in [from, to). */
export function seqLines(tag: string, from: number, to: number, pad = 40): string {
  let out = "";
  for (let n = from; n < to; n++) {
    out += `${tag} seq=${String(n).padStart(6, "0")} ${"x".repeat(pad)}\n`;
  }
  return out;
}

/** Appends seq lines to a file. */
export async function appendSeq(
  path: string,
  tag: string,
  from: number,
  to: number,
): Promise<void> {
  await Deno.writeTextFile(path, seqLines(tag, from, to), { append: true });
}

/** A writer of seq lines running in the background (`steadyWriter`). */
export interface SteadyWriter {
  readonly count: number;
  /** Stops writing; resolves to how many lines were written. */
  stop(): Promise<number>;
}

/** Appends seq lines (`tag seq=N ...`), `linesPerTick` every `tickMs`, until stopped. */
export function steadyWriter(
  path: string,
  tag: string,
  linesPerTick = 20,
  tickMs = 20,
): SteadyWriter {
  let n = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      await appendSeq(path, tag, n, n + linesPerTick);
      n += linesPerTick;
      await new Promise((r) => setTimeout(r, tickMs));
    }
  })();
  return {
    get count() {
      return n;
    },
    async stop(): Promise<number> {
      running = false;
      await done;
      return n;
    },
  };
}

/** Polls `condition` every 100 ms until true or the deadline; throws with `what` on timeout. */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  await poll(what, condition, { timeoutMs });
}

/**
 * The envelope of a record the agent sent, read as the transfer reads it (whichever record format
 * it came in: core/record_format.ts).
 */
export function envelopeOf(
  m: { key: Uint8Array | null; value: Uint8Array | null; headers?: RecordHeaders },
): Envelope {
  const decoded = decodeEnvelope({ key: m.key, value: m.value, headers: m.headers });
  if ("problem" in decoded) throw new Error(`not a record of the agent: ${decoded.problem}`);
  return decoded.envelope;
}

/** Creates `topic` (3 partitions) and hands every record of it, from its start, to `onRecord`. */
async function consumeFromStart(
  topic: string,
  onRecord: (m: KafkaMessage) => void,
): Promise<Consumer> {
  const kafka = createKafka({ brokers: endpoints.kafka, clientId: "agent-test" });
  await ensureTopic(kafka, topic, { partitions: 3 });
  const consumer = kafka.consumer({ groupId: unique("agent-test"), maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachBatch: ({ batch }) => {
      for (const m of batch.messages) onRecord(m);
      return Promise.resolve();
    },
  });
  return consumer;
}

/** A record whose value is JSON of another kind than the agent's (a dead letter), as it is. */
export function jsonValue(m: KafkaMessage): Envelope {
  return JSON.parse(m.value?.toString() ?? "null");
}

/** Collects every record of a topic from the beginning into `envelopes`. */
export class TopicCollector {
  readonly envelopes: Envelope[] = [];
  readonly keys: string[] = [];
  #consumer: Consumer | undefined;

  private constructor(readonly topic: string) {}

  /**
   * Creates the topic (3 partitions) and starts consuming it. `decode` makes an envelope of a
   * record (default: as the transfer does, any record format of the agent); another topic's JSON
   * (dead letters) can be read with `jsonValue`.
   */
  static async start(
    topic: string,
    decode: (m: KafkaMessage) => Envelope = envelopeOf,
  ): Promise<TopicCollector> {
    const c = new TopicCollector(topic);
    c.#consumer = await consumeFromStart(topic, (m) => {
      c.envelopes.push(decode(m));
      c.keys.push(m.key?.toString() ?? "");
    });
    return c;
  }

  /** What it has collected, per tag (the first word of a line): for a failing test's report. */
  describe(): string {
    const byTag = new Map<string, number>();
    for (const e of this.envelopes) {
      const tag = e.message.split(" ", 1)[0];
      byTag.set(tag, (byTag.get(tag) ?? 0) + 1);
    }
    const tags = [...byTag].map(([tag, n]) => `${tag} ${n}`).join(", ");
    return `${this.envelopes.length} records collected from ${this.topic}${
      tags ? ` (${tags})` : ""
    }`;
  }

  /** Envelopes whose message starts with `tag `. */
  tagged(tag: string): Envelope[] {
    return this.envelopes.filter((e) => e.message.startsWith(tag + " "));
  }

  async stop(): Promise<void> {
    await this.#consumer?.disconnect().catch(() => {});
  }
}

/**
 * Collects, per tag (a line's first word), which event id carried which line number: lean
 * enough for millions of records (no envelope is kept). `check` then says whether every number
 * arrived exactly once counting distinct event ids — a re-send under the same id is not a
 * duplicate (the index stores one document per id).
 */
export class EventIdCollector {
  readonly #byTag = new Map<string, Map<string, number>>();
  records = 0;
  #consumer: Consumer | undefined;

  private constructor(readonly topic: string) {}

  static async start(topic: string): Promise<EventIdCollector> {
    const c = new EventIdCollector(topic);
    c.#consumer = await consumeFromStart(topic, (m) => {
      const e = envelopeOf(m);
      const tag = e.message.slice(0, e.message.indexOf(" "));
      let ids = c.#byTag.get(tag);
      if (!ids) c.#byTag.set(tag, ids = new Map());
      ids.set(e.id, seqOf(e.message));
      c.records++;
    });
    return c;
  }

  /** Distinct event ids of `tag`. */
  distinct(tag: string): number {
    return this.#byTag.get(tag)?.size ?? 0;
  }

  /** Lines of `tag` in [0, count) missing, and numbers carried by more than one event id. */
  check(tag: string, count: number): { missing: number[]; duplicated: number[] } {
    const seen = new Map<number, number>();
    for (const seq of this.#byTag.get(tag)?.values() ?? []) seen.set(seq, (seen.get(seq) ?? 0) + 1);
    const missing: number[] = [];
    for (let n = 0; n < count; n++) if (!seen.has(n)) missing.push(n);
    const duplicated = [...seen].filter(([, c]) => c > 1).map(([n]) => n);
    return { missing, duplicated };
  }

  /** What was collected, per tag, for a failing test's report. */
  describe(): string {
    const tags = [...this.#byTag].map(([tag, ids]) => `${tag} ${ids.size}`).join(", ");
    return `${this.records} records collected from ${this.topic} (distinct ids: ${tags || "none"})`;
  }

  async stop(): Promise<void> {
    await this.#consumer?.disconnect().catch(() => {});
  }
}

const SEQ = / seq=(\d+) /;

/** The sequence number in a line written by seqLines. */
export function seqOf(message: string): number {
  const m = SEQ.exec(message);
  if (!m) throw new Error(`no seq in line: ${message.slice(0, 80)}`);
  return Number(m[1]);
}

export interface SeqReport {
  missing: number[];
  duplicates: number;
  /** Places where a file's seq went backwards (first occurrences only). */
  outOfOrder: number;
}

/**
 * Compares the seq numbers of `tag` lines with [0, count): which are missing, how many came more
 * than once, and whether the first occurrences are in order within each file id.
 */
export function checkSeq(envelopes: Envelope[], tag: string, count: number): SeqReport {
  const seen = new Set<number>();
  let duplicates = 0;
  let outOfOrder = 0;
  const lastByFile = new Map<string, number>();
  for (const e of envelopes) {
    if (!e.message.startsWith(tag + " ")) continue;
    const n = seqOf(e.message);
    if (seen.has(n)) {
      duplicates++;
      continue;
    }
    seen.add(n);
    const last = lastByFile.get(e.file_id);
    if (last !== undefined && n < last) outOfOrder++;
    lastByFile.set(e.file_id, n);
  }
  const missing: number[] = [];
  for (let n = 0; n < count; n++) if (!seen.has(n)) missing.push(n);
  return { missing, duplicates, outOfOrder };
}

/** Fails with a readable summary unless every seq in [0, count) came exactly once, in order. */
export function assertExactlyOnce(envelopes: Envelope[], tag: string, count: number): void {
  const r = checkSeq(envelopes, tag, count);
  if (r.missing.length || r.duplicates || r.outOfOrder) {
    throw new Error(
      `${tag}: ${r.missing.length} missing (first ${
        r.missing.slice(0, 10).join(",")
      }), ${r.duplicates} duplicates, ${r.outOfOrder} out of order`,
    );
  }
}

/** Deno.test without the op/resource sanitizers (npm clients keep sockets and timers). */
export function test(name: string, fn: () => Promise<void>) {
  Deno.test({ name, sanitizeOps: false, sanitizeResources: false, fn });
}

export interface AgentProcessOptions {
  agentId: string;
  /** etcd prefix of its config plane. */
  prefix: string;
  checkpointDir: string;
  /** `key=value` labels of its selectors (default `role=test`). */
  labels?: string[];
  /** File poll interval (default 50 ms). */
  pollMs?: number;
  /** Glob scan interval (default 200 ms). */
  scanMs?: number;
  /** etcd endpoints (default: the stack's). */
  etcd?: string[];
  /** `host:port` of its /metrics and /healthz (default: none served). */
  metricsAddr?: string;
  /** More agent flags, e.g. `["--dead-letter-topic", "t"]`. */
  args?: string[];
  /** More `deno run` flags, e.g. those of `deno task agent` (`agentTaskFlags`). */
  denoFlags?: string[];
  /** SLUICE_LOG_LEVEL (default: SLUICE_TEST_AGENT_LOG_LEVEL, else info). */
  logLevel?: string;
}

/** The `deno run` flags `deno task agent` (and so the packaged `sluice-agent`) runs with. */
export function agentTaskFlags(): Promise<string[]> {
  return taskFlags("agent", "agent/main.ts");
}

/**
 * Starts `agent/main.ts` as a child process on the stack of SLUICE_*_ENDPOINTS with fast polling
 * and no /metrics unless `metricsAddr` is given; its log is kept (tests/support/process.ts) for a
 * failing test's report.
 *
 * @example
 * ```ts ignore
 * const agent = spawnAgent({ agentId: "a1", prefix: "/sluice-x", checkpointDir: `${dir}/cp` });
 * await agent.stop();
 * ```
 */
export function spawnAgent(options: AgentProcessOptions): TestProcess {
  const { labels = ["role=test"], pollMs = 50, scanMs = 200, etcd = endpoints.etcd } = options;
  return new TestProcess({
    name: `agent ${options.agentId}`,
    script: "agent/main.ts",
    args: [
      ...["--agent-id", options.agentId],
      ...labels.flatMap((label) => ["--label", label]),
      ...["--prefix", options.prefix, "--checkpoint-dir", options.checkpointDir],
      ...["--metrics-addr", options.metricsAddr ?? "", "--kafka", endpoints.kafka.join(",")],
      ...["--etcd", etcd.join(","), "--poll-ms", String(pollMs)],
      ...["--scan-ms", String(scanMs), "--linger-ms", "5", "--shutdown-timeout-ms", "5000"],
      ...(options.args ?? []),
    ],
    denoFlags: options.denoFlags,
    env: {
      SLUICE_LOG_LEVEL: options.logLevel ?? Deno.env.get("SLUICE_TEST_AGENT_LOG_LEVEL") ?? "info",
    },
    metricsAddr: options.metricsAddr,
  });
}

/** Fast polling for tests: files are looked at every 50 ms, globs every 200 ms. */
export const FAST: Partial<TailOptions> = {
  pollMs: 50,
  scanMs: 200,
  rotateWaitMs: 500,
  lineFlushMs: 500,
};

export interface Rig {
  dir: string;
  topic: string;
  collector: TopicCollector;
  producer: LogProducer;
  checkpoints: string;
  metrics: AgentMetrics;
  /** A task on the rig's topic (`checkpointDir`: other checkpoints than the rig's). */
  task(source: Partial<Source>, options?: Partial<TailOptions>, checkpointDir?: string): TailTask;
  cleanup(): Promise<void>;
}

export async function rig(producerOptions: Partial<LogProducerOptions> = {}): Promise<Rig> {
  const dir = await Deno.makeTempDir({ prefix: "sluice-agent-" });
  const topic = unique("agent-tail");
  const collector = await TopicCollector.start(topic);
  const producer = createLogProducer({ brokers: endpoints.kafka, lingerMs: 5, ...producerOptions });
  const checkpoints = `${dir}/.checkpoints`;
  const tasks: TailTask[] = [];
  const metrics = new AgentMetrics();
  return {
    dir,
    topic,
    collector,
    producer,
    checkpoints,
    metrics,
    task(source, options, checkpointDir = checkpoints) {
      const t = new TailTask({
        id: "src",
        paths: [`${dir}/*.log`],
        topic,
        start_at: "beginning",
        ...source,
      }, {
        host: "test-host",
        producer,
        checkpointDir,
        metrics,
        options: { ...FAST, ...options },
      });
      tasks.push(t);
      t.start();
      return t;
    },
    async cleanup() {
      for (const t of tasks) await t.stop(2000);
      await producer.close({ timeoutMs: 2000 });
      await collector.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
