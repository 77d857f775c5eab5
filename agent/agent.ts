/**
 * The agent as a whole: watches the desired state in the config plane, keeps one TailTask per
 * source that matches this host (start / stop / restart only what changed, bursts coalesced),
 * sends through one Kafka producer per topic over shared connections (a topic Kafka refuses holds
 * only its own sources), reports its status in etcd and serves metrics.
 * @module
 */
import { sluiceVersion } from "../core/cli.ts";
import { getLogger } from "../core/log.ts";
import { type MetricsServer, serveMetrics } from "../core/metrics_server.ts";
import {
  type ConfigPlane,
  openConfigPlane,
  sourcesForHost,
  specHash,
} from "../config_plane/mod.ts";
import type { AgentStatus, DesiredState, SourceStatus } from "../config_plane/types.ts";
import type { RefusedRecord, SendFailure, SendProblem } from "../kafka/producer.ts";
import { createTopicProducers, type TopicProducers } from "../kafka/topic_producers.ts";
import { loadAppliedConfig, saveAppliedConfig } from "./applied_config.ts";
import { deadLetterFor } from "./dead_letter.ts";
import { IdleMemory, v8MemoryRelease } from "./idle_memory.ts";
import { AgentMetrics } from "./metrics.ts";
import { CoalescingRunner, planReconcile } from "./reconciler.ts";
import type { AgentSettings } from "./settings.ts";
import {
  agentHealth,
  buildStatus,
  describeTopicProblem,
  StatusReporter,
  withTopicProblem,
} from "./status.ts";
import { fileBudget, OpenFiles, processSoftLimit } from "./open_files.ts";
import { TailTask } from "./tail_task.ts";

const log = getLogger("agent");

let version: string | undefined;
/** The version, asked once per process (the fleet bench runs hundreds of agents in one). */
function agentVersion(): string {
  return version ??= sluiceVersion();
}

interface Running {
  task: TailTask;
  hash: string;
}

/**
 * One agent.
 *
 * @example
 * ```ts
 * import { Agent } from "./agent.ts";
 * import { resolveSettings } from "./settings.ts";
 * const agent = new Agent(resolveSettings({}, Deno.env.toObject(), {}, Deno.hostname()));
 * await agent.start();
 * // ... on SIGTERM:
 * await agent.stop();
 * ```
 */
export class Agent {
  readonly settings: AgentSettings;
  readonly metrics: AgentMetrics = new AgentMetrics();
  readonly #tasks = new Map<string, Running>();
  readonly #abort = new AbortController();
  readonly #runner: CoalescingRunner;
  readonly #startedAt = new Date();
  /** What `--version` prints (a package's stamped version, or the checkout's commit). */
  readonly #version = agentVersion();
  /** Log files open at once, shared by every source (agent/open_files.ts). */
  readonly #openFiles: OpenFiles;
  #plane: ConfigPlane | undefined;
  #output: TopicProducers | undefined;
  /** Per topic, the kind and code of its trouble last logged (a change is logged once). */
  readonly #loggedProblems = new Map<string, string>();
  /** Per source, its last dead-lettered line (shown as its last error while it has none). */
  readonly #deadLettered = new Map<string, string>();
  #reporter: StatusReporter | undefined;
  #server: MetricsServer | undefined;
  #watch: Promise<void> | undefined;
  #desired: { seq: number; state: DesiredState } | undefined;
  /** The desired state as last saved to disk (applied_config.ts), to save only what changed. */
  #savedJson: string | undefined;
  /** True until etcd's state arrives when the agent started from its saved config. */
  #fromSaved = false;
  #appliedSeq = -1;
  #rejected: { seq: number; error: string } | undefined;
  #stopping = false;
  #lastError: string | undefined;
  #idleMemory: IdleMemory | undefined;
  /** Reconciles run (work for agent/idle_memory.ts, besides bytes read). */
  #reconciles = 0;

  constructor(settings: AgentSettings) {
    this.settings = settings;
    this.#runner = new CoalescingRunner(() => this.#reconcile());
    this.#openFiles = new OpenFiles(
      fileBudget(processSoftLimit(), settings.maxOpenFiles || undefined),
    );
  }

  /** The metrics port actually bound (useful with port 0). */
  get metricsPort(): number | undefined {
    return this.#server?.port;
  }

  /** The config seq whose state runs now (-1 before the first). */
  get appliedSeq(): number {
    return this.#appliedSeq;
  }

  /** Connects, registers, and starts following the config plane. Returns once watching. */
  async start(): Promise<void> {
    const s = this.settings;
    this.#output = createTopicProducers({
      brokers: s.kafka,
      clientId: `sluice-agent-${s.agentId}`,
      compression: s.compression,
      lingerMs: s.lingerMs,
      deadLetter: s.deadLetterTopic
        ? { topic: s.deadLetterTopic, letter: (refused) => this.#deadLetter(refused) }
        : undefined,
      onFailure: (failure) => this.#kafkaFailure(failure),
      onProblem: (topic, problem) => this.#topicProblem(topic, problem),
    });
    this.metrics.countKafkaTopics = () => this.#output?.topics().length ?? 0;
    if (s.metricsAddress) {
      // docs/health.md: 200 once a config runs (saved or from etcd), 503 while Kafka refuses a
      // topic (its sources hold); Kafka out of reach keeps 200 (every source waits alike).
      this.#server = serveMetrics({
        address: s.metricsAddress,
        metrics: this.metrics,
        part: "agent",
        health: () =>
          agentHealth({
            agentId: s.agentId,
            seq: this.#appliedSeq,
            stopping: this.#stopping,
            sources: this.#sourceStatuses(),
            topicOf: this.#topicOf(),
            topics: this.#output?.problems() ?? new Map(),
          }),
      });
    }
    const release = v8MemoryRelease();
    if (release) {
      // Work: bytes read, and reconciles (a task replaced starts its count again).
      this.#idleMemory = new IdleMemory(() => this.#work(), release);
      this.#idleMemory.start();
    }
    await this.#startFromSaved();
    this.#plane = openConfigPlane({ endpoints: s.etcd, prefix: s.prefix });
    this.#reporter = new StatusReporter(this.#plane, () => this.status(), s.statusTtlSeconds);
    await this.#reporter.start();
    this.#watch = this.#plane.watchState({
      signal: this.#abort.signal,
      onState: (seq, state) => {
        if (this.#fromSaved) {
          this.#fromSaved = false;
          log.info("etcd answered: config seq {seq} replaces the saved one", { seq });
        }
        this.#desired = { seq, state };
        if (this.#rejected && this.#rejected.seq <= seq) this.#rejected = undefined;
        void this.#runner.trigger();
      },
      onInvalid: (seq, error) => {
        log.error(
          "config seq {seq} is invalid and was not applied (seq {applied} keeps running): {error}",
          {
            seq,
            applied: this.#appliedSeq,
            error,
          },
        );
        this.#rejected = { seq, error };
        this.metrics.rejectedSeq.set(seq);
        void this.#reporter?.update();
      },
    }).catch((error) => {
      this.#lastError = `config watch ended: ${(error as Error).message}`;
      log.error("{error}", { error: this.#lastError });
    });
  }

  /**
   * Stops reading everywhere, waits for Kafka to acknowledge what was sent (bounded by the
   * shutdown timeout), saves checkpoints, deregisters and closes connections.
   */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#abort.abort();
    this.#idleMemory?.stop();
    await this.#runner.idle();
    const budget = this.settings.shutdownTimeoutMs;
    await Promise.all([...this.#tasks.values()].map((r) => r.task.stop(budget * 0.7)));
    this.#tasks.clear();
    await this.#output?.close({ timeoutMs: budget * 0.1 });
    await this.#reporter?.close();
    await this.#watch;
    this.#plane?.close();
    await this.#server?.close();
  }

  /** A counter that moves while the agent works: bytes read by every source, and reconciles. */
  #work(): number {
    let bytes = this.#reconciles;
    for (const r of this.#tasks.values()) bytes += r.task.bytesRead;
    return bytes;
  }

  /** The status document as written to etcd. */
  status(): AgentStatus {
    return buildStatus({
      agentId: this.settings.agentId,
      // The agent id is the host name of selectors and envelopes; the fleet view matches the
      // head's selectors against this field, so it must be the same name.
      host: this.settings.agentId,
      labels: this.settings.labels,
      seq: this.#appliedSeq,
      rejected: this.#rejected,
      startedAt: this.#startedAt,
      now: new Date(),
      sources: this.#sourceStatuses(),
      lastError: this.#lastError,
      version: this.#version,
    });
  }

  /**
   * Runs the config saved by the last run (applied_config.ts) until etcd's arrives, so that a
   * restart while etcd is unreachable does not stop collecting. A saved config that does not
   * check out is logged and ignored.
   */
  async #startFromSaved(): Promise<void> {
    const s = this.settings;
    const saved = await loadAppliedConfig(s.checkpointDir, s.prefix);
    if (!saved) return;
    if (!saved.ok) {
      log.warn("the saved config in {dir} is not used: {reason}", {
        dir: s.checkpointDir,
        reason: saved.reason,
      });
      return;
    }
    log.info("running the saved config seq {seq} (applied {at}) until etcd answers", {
      seq: saved.seq,
      at: saved.savedAt,
    });
    this.#fromSaved = true;
    this.#desired = { seq: saved.seq, state: saved.state };
    this.#savedJson = JSON.stringify(this.#desired);
    await this.#runner.trigger();
  }

  /** Saves the desired state just applied when it differs from the saved one; never throws. */
  async #saveApplied(desired: { seq: number; state: DesiredState }): Promise<void> {
    const json = JSON.stringify(desired);
    if (json === this.#savedJson) return;
    try {
      const { checkpointDir, prefix } = this.settings;
      await saveAppliedConfig(checkpointDir, prefix, desired.seq, desired.state);
      this.#savedJson = json;
    } catch (error) {
      log.warn("cannot save the applied config (a restart without etcd runs nothing): {error}", {
        error: (error as Error).message,
      });
    }
  }

  /** Each source's status, with its topic's trouble and its last dead letter folded in. */
  #sourceStatuses(): Record<string, SourceStatus> {
    const out: Record<string, SourceStatus> = {};
    const problems = this.#output?.problems();
    for (const [id, r] of this.#tasks) {
      const topic = r.task.source.topic ?? "";
      let status = withTopicProblem(r.task.status(), topic, problems?.get(topic));
      const letter = this.#deadLettered.get(id);
      if (letter && status.last_error === undefined) status = { ...status, last_error: letter };
      out[id] = status;
    }
    return out;
  }

  /** Each running source's topic. */
  #topicOf(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [id, r] of this.#tasks) out[id] = r.task.source.topic ?? "";
    return out;
  }

  /** The ids of the running sources that send to `topic`. */
  #sourcesOf(topic: string): string[] {
    return [...this.#tasks].filter(([, r]) => r.task.source.topic === topic).map(([id]) => id);
  }

  #kafkaFailure(failure: SendFailure): void {
    this.metrics.kafkaErrors.inc({ topic: failure.topic ?? "", kind: failure.kind });
  }

  /**
   * A topic's trouble began, changed or ended: logged once per change naming its sources, the
   * refused-topic gauge set, and the status key written at once (not at the next heartbeat).
   */
  #topicProblem(topic: string, problem: SendProblem | undefined): void {
    if (problem?.kind === "refused") this.metrics.topicRefused.set({ topic }, 1);
    else this.metrics.topicRefused.remove({ topic });
    const signature = problem ? `${problem.kind} ${problem.code}` : undefined;
    if (signature === this.#loggedProblems.get(topic)) return;
    const sources = this.#sourcesOf(topic);
    if (problem) {
      this.#loggedProblems.set(topic, signature!);
      log.warn(
        "sources {sources}: {problem}; their lines wait in their files, the other sources keep sending",
        { sources, topic, problem: describeTopicProblem(topic, problem) },
      );
    } else {
      this.#loggedProblems.delete(topic);
      log.info("sources {sources}: Kafka takes topic {topic} again; they send what waited", {
        sources,
        topic,
      });
    }
    void this.#reporter?.update();
  }

  /**
   * The letter for a line its topic refused (agent/dead_letter.ts): logged with the source, the
   * file and the offset (the line stays there), counted, and kept as the source's last error.
   */
  #deadLetter(refused: RefusedRecord) {
    const { record, letter } = deadLetterFor(refused);
    const where = letter.path !== undefined ? `${letter.path} at offset ${letter.offset}` : "?";
    const note = `a line of ${refused.value.length} bytes (${where}, event id ${letter.id}) was ` +
      `refused by topic ${JSON.stringify(refused.topic)} (${refused.code}) and sent to the ` +
      `dead-letter topic ${JSON.stringify(this.settings.deadLetterTopic)}; it stays in the file`;
    log.warn("source {source}: {note}", { source: letter.source, note });
    this.metrics.deadLetters.inc({ source: letter.source ?? "", topic: refused.topic });
    if (letter.source) this.#deadLettered.set(letter.source, note);
    return record;
  }

  async #reconcile(): Promise<void> {
    const desired = this.#desired;
    if (!desired || this.#stopping) return;
    const s = this.settings;
    const sources = sourcesForHost(desired.state, s.agentId, s.labels);
    const running = new Map([...this.#tasks].map(([id, r]) => [id, r.hash]));
    const plan = planReconcile(sources, running, specHash);
    this.metrics.reconciles.inc();
    this.#reconciles++;
    // Stops first (a restarted source must save its checkpoints before its successor loads them).
    const stopping = [...plan.stop, ...plan.restart.map((x) => x.id)];
    await Promise.all(stopping.map(async (id) => {
      const r = this.#tasks.get(id);
      this.#tasks.delete(id);
      await r?.task.stop(this.settings.shutdownTimeoutMs * 0.7);
      this.metrics.filesTailed.remove({ source: id });
    }));
    for (const source of [...plan.start, ...plan.restart]) {
      if (this.#stopping) break;
      try {
        const task = new TailTask(source, {
          host: s.agentId,
          producer: this.#output!,
          checkpointDir: s.checkpointDir,
          metrics: this.metrics,
          options: s.tail,
          openFiles: this.#openFiles,
        });
        this.#tasks.set(source.id, { task, hash: specHash(source) });
        task.start();
      } catch (error) {
        log.error("cannot start source {id}: {error}", {
          id: source.id,
          error: (error as Error).message,
        });
      }
    }
    // The producers of topics no source uses any more close, and what they held is given up
    // (its sources stopped; their checkpoints are before it). Not awaited: a closing producer
    // may wait for a request in flight.
    const topics = new Set([...this.#tasks.values()].map((r) => r.task.source.topic ?? ""));
    this.#output?.retain(topics).catch(() => {});
    for (const id of plan.stop) this.#deadLettered.delete(id);
    this.#appliedSeq = desired.seq;
    this.metrics.appliedSeq.set(desired.seq);
    if (plan.start.length + plan.stop.length + plan.restart.length > 0) {
      log.info(
        "config seq {seq}: started {start}, restarted {restart}, stopped {stop}, unchanged {unchanged}",
        {
          seq: desired.seq,
          start: plan.start.map((x) => x.id),
          restart: plan.restart.map((x) => x.id),
          stop: plan.stop,
          unchanged: plan.unchanged,
        },
      );
    }
    await this.#reporter?.update();
    // After the status key: the fleet sees the new seq without waiting for this fsync.
    await this.#saveApplied(desired);
  }
}
