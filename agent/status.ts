/**
 * The agent's status in etcd: a leased key (`<prefix>/agents/<agent id>`) with the config seq it
 * runs, a refused seq if any, and each source's state, file count, lag and last error. The
 * `StatusReporter` refreshes it as the heartbeat and whenever something changes; the lease makes
 * a dead agent's key disappear by itself.
 * @module
 */
import { getLogger } from "../core/log.ts";
import type { AgentRegistration, ConfigPlane } from "../config_plane/mod.ts";
import type { AgentStatus, SourceStatus } from "../config_plane/types.ts";

export const AGENT_VERSION = "0.1.0";

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
}

/**
 * The status document (pure).
 *
 * @example
 * ```ts
 * import { buildStatus } from "./status.ts";
 * const now = new Date();
 * buildStatus({ agentId: "web-1", host: "web-1", labels: {}, seq: 3, startedAt: now, now, sources: {} }).seq; // 3
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
    version: AGENT_VERSION,
    sources: input.sources,
  };
  if (input.rejected) status.rejected = input.rejected;
  if (input.lastError) status.last_error = input.lastError;
  return status;
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
