/**
 * The agent as a whole: watches the desired state in the config plane, keeps one TailTask per
 * source that matches this host (start / stop / restart only what changed, bursts coalesced),
 * shares one Kafka producer between them, reports its status in etcd and serves metrics.
 * @module
 */
import { getLogger } from "../core/log.ts";
import { type MetricsServer, serveMetrics } from "../core/metrics_server.ts";
import {
  type ConfigPlane,
  openConfigPlane,
  sourcesForHost,
  specHash,
} from "../config_plane/mod.ts";
import type { AgentStatus, DesiredState, SourceStatus } from "../config_plane/types.ts";
import { createLogProducer, type LogProducer } from "../kafka/producer.ts";
import { loadAppliedConfig, saveAppliedConfig } from "./applied_config.ts";
import { AgentMetrics } from "./metrics.ts";
import { CoalescingRunner, planReconcile } from "./reconciler.ts";
import type { AgentSettings } from "./settings.ts";
import { buildStatus, StatusReporter } from "./status.ts";
import { fileBudget, OpenFiles, processSoftLimit } from "./open_files.ts";
import { TailTask } from "./tail_task.ts";

const log = getLogger("agent");

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
  /** Log files open at once, shared by every source (agent/open_files.ts). */
  readonly #openFiles: OpenFiles;
  #plane: ConfigPlane | undefined;
  #producer: LogProducer | undefined;
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
    this.#producer = createLogProducer({
      brokers: s.kafka,
      clientId: `sluice-agent-${s.agentId}`,
      compression: s.compression,
      lingerMs: s.lingerMs,
      onError: () => this.metrics.kafkaErrors.inc(),
    });
    if (s.metricsAddress) {
      // docs/health.md: 200 once a config runs (saved or from etcd); Kafka trouble does not
      // make the agent unhealthy (it shows in the metrics), only starting and stopping do.
      this.#server = serveMetrics({
        address: s.metricsAddress,
        metrics: this.metrics,
        part: "agent",
        health: () => ({
          ok: !this.#stopping && this.#appliedSeq >= 0,
          problem: this.#stopping
            ? "stopping"
            : this.#appliedSeq < 0
            ? "no config applied yet: waiting for etcd"
            : undefined,
          detail: { agent_id: s.agentId, seq: this.#appliedSeq, sources: this.#sourceStatuses() },
        }),
      });
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
    await this.#runner.idle();
    const budget = this.settings.shutdownTimeoutMs;
    await Promise.all([...this.#tasks.values()].map((r) => r.task.stop(budget * 0.7)));
    this.#tasks.clear();
    await this.#producer?.close({ timeoutMs: budget * 0.1 });
    await this.#reporter?.close();
    await this.#watch;
    this.#plane?.close();
    await this.#server?.close();
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

  #sourceStatuses(): Record<string, SourceStatus> {
    const out: Record<string, SourceStatus> = {};
    for (const [id, r] of this.#tasks) out[id] = r.task.status();
    return out;
  }

  async #reconcile(): Promise<void> {
    const desired = this.#desired;
    if (!desired || this.#stopping) return;
    const s = this.settings;
    const sources = sourcesForHost(desired.state, s.agentId, s.labels);
    const running = new Map([...this.#tasks].map(([id, r]) => [id, r.hash]));
    const plan = planReconcile(sources, running, specHash);
    this.metrics.reconciles.inc();
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
          producer: this.#producer!,
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
