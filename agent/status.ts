/**
 * The agent's status in etcd: a leased key (`<prefix>/agents/<agent id>`) with the config seq it
 * runs, a refused seq if any, and each source's state, file count, lag and last error. The
 * `StatusReporter` refreshes it as the heartbeat and whenever something changes; the lease makes
 * a dead agent's key disappear by itself. A source's status shows its Kafka topic's trouble too
 * (`withTopicProblem`), and `/healthz` is decided from the same facts (`agentHealth`), so the two
 * agree.
 * @module
 */
import { getLogger } from "../core/log.ts";
import type { HealthReport } from "../core/metrics_server.ts";
import type { AgentRegistration, ConfigPlane } from "../config_plane/mod.ts";
import type { AgentStatus, SourceStatus } from "../config_plane/types.ts";
import type { SendProblem } from "../kafka/producer.ts";

export interface StatusInput {
  agentId: string;
  host: string;
  labels: Record<string, string>;
  seq: number;
  rejected?: { seq: number; error: string };
  startedAt: Date;
  now: Date;
  sources: Record<string, SourceStatus>;
  lastError?: string;
  /** The sluice version the agent runs (core/cli.ts `sluiceVersion`), shown in the fleet view. */
  version: string;
}

/**
 * The status document (pure).
 *
 * @example
 * ```ts
 * import { buildStatus } from "./status.ts";
 * const now = new Date();
 * buildStatus({ agentId: "web-1", host: "web-1", labels: {}, seq: 3, startedAt: now, now, sources: {},
 *   version: "0.1.0" }).seq; // 3
 * ```
 */
export function buildStatus(input: StatusInput): AgentStatus {
  const status: AgentStatus = {
    agent_id: input.agentId,
    host: input.host,
    labels: input.labels,
    seq: Math.max(0, input.seq),
    started_at: input.startedAt.toISOString(),
    heartbeat_at: input.now.toISOString(),
    version: input.version,
    sources: input.sources,
  };
  if (input.rejected) status.rejected = input.rejected;
  if (input.lastError) status.last_error = input.lastError;
  return status;
}

/**
 * A topic's trouble as one sentence: what Kafka said, since when, how many attempts (and which
 * sources send to it, when given).
 *
 * @example
 * ```ts
 * import { describeTopicProblem } from "./status.ts";
 * describeTopicProblem("..", {
 *   kind: "refused", code: "INVALID_TOPIC_EXCEPTION", message: "invalid topic",
 *   since: new Date("2026-01-01T00:00:00Z"), attempts: 4,
 * });
 * // 'Kafka refuses topic "..": INVALID_TOPIC_EXCEPTION: invalid topic (since 2026-01-01T00:00:00.000Z, 4 attempts)'
 * ```
 */
export function describeTopicProblem(
  topic: string,
  problem: SendProblem,
  sources?: readonly string[],
): string {
  const what = problem.kind === "refused"
    ? `Kafka refuses topic ${JSON.stringify(topic)}`
    : `Kafka cannot be reached for topic ${JSON.stringify(topic)}`;
  const who = sources === undefined
    ? ""
    : sources.length === 0
    ? " (no source now)"
    : ` (source${sources.length === 1 ? "" : "s"} ${sources.join(", ")})`;
  const attempts = `${problem.attempts} attempt${problem.attempts === 1 ? "" : "s"}`;
  return `${what}${who}: ${problem.code}: ${problem.message} (since ${problem.since.toISOString()}, ${attempts})`;
}

/**
 * A source's status with its topic's trouble folded in (pure): a refused topic makes the source
 * `error` with the reason naming the topic (its lines wait in their files); Kafka out of reach
 * only sets `last_error`, as every source waits alike. Without trouble the status is its own.
 *
 * @example
 * ```ts
 * import { withTopicProblem } from "./status.ts";
 * const own = { state: "running" as const, files: 1, lag_bytes: 300 };
 * withTopicProblem(own, "logs", undefined) === own; // true
 * withTopicProblem(own, "..", {
 *   kind: "refused", code: "INVALID_TOPIC_EXCEPTION", message: "invalid topic",
 *   since: new Date(0), attempts: 3,
 * }).state; // "error"
 * ```
 */
export function withTopicProblem(
  status: SourceStatus,
  topic: string,
  problem: SendProblem | undefined,
): SourceStatus {
  if (!problem || status.state === "stopped") return status;
  const text = describeTopicProblem(topic, problem);
  if (problem.kind === "refused") {
    return { ...status, state: "error", last_error: `${text}; its lines wait in their files` };
  }
  return { ...status, last_error: text };
}

/** What `/healthz` is decided from. */
export interface HealthInput {
  agentId: string;
  /** The config seq running (-1 before the first). */
  seq: number;
  stopping: boolean;
  /** Each source's status (with its topic's trouble, `withTopicProblem`). */
  sources: Record<string, SourceStatus>;
  /** Each running source's topic. */
  topicOf: Record<string, string>;
  /** Topics Kafka is not taking records for now, and why (kafka/topic_producers.ts). */
  topics: ReadonlyMap<string, SendProblem>;
}

/**
 * The agent's `/healthz` (docs/health.md), pure: 503 before a config runs, while stopping, and
 * while Kafka refuses a topic (its sources hold; the problem names the topic and its sources, and
 * says the others keep sending). Kafka out of reach keeps 200: every source waits and resumes by
 * itself. The detail lists every troubled topic with its sources.
 *
 * @example
 * ```ts
 * import { agentHealth } from "./status.ts";
 * agentHealth({
 *   agentId: "web-1", seq: 4, stopping: false, sources: {}, topicOf: { app: "..", web: "logs" },
 *   topics: new Map([["..", {
 *     kind: "refused", code: "INVALID_TOPIC_EXCEPTION", message: "invalid topic",
 *     since: new Date(0), attempts: 2,
 *   }]]),
 * }).problem;
 * // 'Kafka refuses topic ".." (source app): INVALID_TOPIC_EXCEPTION: invalid topic (since ...); the other sources keep sending'
 * ```
 */
export function agentHealth(input: HealthInput): HealthReport {
  const sourcesOf = (topic: string) =>
    Object.entries(input.topicOf).filter(([, t]) => t === topic).map(([id]) => id).sort();
  const topics: Record<string, unknown> = {};
  const refused: string[] = [];
  for (const [topic, problem] of [...input.topics].sort(([a], [b]) => a.localeCompare(b))) {
    const sources = sourcesOf(topic);
    topics[topic] = {
      kind: problem.kind,
      code: problem.code,
      message: problem.message,
      since: problem.since.toISOString(),
      attempts: problem.attempts,
      sources,
    };
    if (problem.kind === "refused") refused.push(describeTopicProblem(topic, problem, sources));
  }
  const problem = input.stopping
    ? "stopping"
    : input.seq < 0
    ? "no config applied yet: waiting for etcd"
    : refused.length > 0
    ? `${refused.join("; ")}; the other sources keep sending`
    : undefined;
  return {
    ok: problem === undefined,
    problem,
    detail: { agent_id: input.agentId, seq: input.seq, sources: input.sources, topics },
  };
}

const log = getLogger("agent", "status");

/** Keeps the leased status key up to date; never throws (etcd outages are logged and retried). */
export class StatusReporter {
  #registration: AgentRegistration | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly plane: ConfigPlane,
    private readonly current: () => AgentStatus,
    private readonly ttlSeconds: number,
  ) {}

  /** Registers and starts the heartbeat (every third of the TTL). */
  async start(): Promise<void> {
    try {
      this.#registration = await this.plane.registerAgent(this.current(), {
        ttlSeconds: this.ttlSeconds,
      });
    } catch (error) {
      log.warn("cannot register the agent status yet: {error}", {
        error: (error as Error).message,
      });
    }
    this.#timer = setInterval(() => void this.update(), (this.ttlSeconds * 1000) / 3);
  }

  /** Writes the current status now (serialised with the heartbeat). */
  update(): Promise<void> {
    this.#writing = this.#writing.then(async () => {
      try {
        if (!this.#registration) {
          this.#registration = await this.plane.registerAgent(this.current(), {
            ttlSeconds: this.ttlSeconds,
          });
        } else {
          await this.#registration.update(this.current());
        }
      } catch (error) {
        log.warn("status update failed: {error}", { error: (error as Error).message });
      }
    });
    return this.#writing;
  }

  /** Stops the heartbeat and removes the key (deregisters). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#writing;
    await this.#registration?.close().catch((error) =>
      log.warn("deregistering failed (the lease expires by itself): {error}", {
        error: (error as Error).message,
      })
    );
  }
}
