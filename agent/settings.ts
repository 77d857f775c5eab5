/**
 * Bootstrap settings of an agent: who it is (id, labels), where the services are, where it keeps
 * checkpoints and serves metrics, and the knobs of reading and sending. Flags beat environment
 * variables, which beat the optional settings file (JSON or YAML), which beats the defaults.
 * What to collect never comes from here: that is the config plane's job.
 * @module
 */
import { parse as parseYaml } from "yaml";
import type { OptionSpec } from "../core/cli.ts";
import { endpointsFromEnv } from "../core/endpoints.ts";
import { InvalidInputError } from "../core/errors.ts";
import { type Compression, parseCompression } from "../kafka/producer.ts";
import { DEFAULT_TAIL_OPTIONS, type TailOptions } from "./tail_task.ts";

export interface AgentSettings {
  /** Agent id: the host name used in selectors, envelopes, record keys and the status key. */
  agentId: string;
  labels: Record<string, string>;
  etcd: string[];
  prefix: string;
  kafka: string[];
  checkpointDir: string;
  /** `host:port` of /metrics and /healthz; "" turns the endpoint off. */
  metricsAddress: string;
  compression: Compression;
  lingerMs: number;
  /** Lease TTL of the status key; the heartbeat runs at a third of it. */
  statusTtlSeconds: number;
  /** Bound on a clean shutdown (flush + checkpoint + deregister). */
  shutdownTimeoutMs: number;
  tail: TailOptions;
}

/** The agent's command-line options (also the keys of the settings file, with `_` for `-`). */
export const AGENT_OPTIONS: Record<string, OptionSpec> = {
  config: {
    type: "string",
    arg: "FILE",
    description: "Settings file (JSON or YAML); keys as the flags, e.g. agent_id.",
  },
  "agent-id": {
    type: "string",
    arg: "ID",
    description: "Agent id [SLUICE_AGENT_ID] (default: host name)",
  },
  label: {
    type: "string",
    multiple: true,
    arg: "K=V",
    description: "A label for source selectors; repeatable [SLUICE_AGENT_LABELS=k=v,k=v]",
  },
  etcd: {
    type: "string",
    arg: "URLS",
    description: "etcd endpoints, comma separated [SLUICE_ETCD_ENDPOINTS]",
  },
  prefix: {
    type: "string",
    arg: "PREFIX",
    description: "Config plane key prefix [SLUICE_ETCD_PREFIX]",
  },
  kafka: {
    type: "string",
    arg: "BROKERS",
    description: "Kafka brokers host:port, comma separated [SLUICE_KAFKA_BROKERS]",
  },
  "checkpoint-dir": {
    type: "string",
    arg: "DIR",
    description:
      "Where read offsets and the last applied config are kept [SLUICE_CHECKPOINT_DIR] " +
      "(default: ~/.local/state/sluice/agent)",
  },
  "metrics-addr": {
    type: "string",
    arg: "HOST:PORT",
    description:
      "/metrics and /healthz; empty to disable [SLUICE_METRICS_ADDR] (default: 127.0.0.1:9464)",
  },
  compression: {
    type: "string",
    arg: "CODEC",
    description: "none, gzip or snappy [SLUICE_KAFKA_COMPRESSION] (default: gzip)",
  },
  "linger-ms": {
    type: "string",
    arg: "MS",
    description: "How long a small Kafka batch waits for more (default: 10)",
  },
  "max-inflight-bytes": {
    type: "string",
    arg: "BYTES",
    description: `Per source: bytes read but not yet acknowledged + checkpointed (default: ${
      String(DEFAULT_TAIL_OPTIONS.maxInflightBytes)
    })`,
  },
  "line-flush-ms": {
    type: "string",
    arg: "MS",
    description: `Send a last line without newline after this long (default: ${
      String(DEFAULT_TAIL_OPTIONS.lineFlushMs)
    })`,
  },
  "rotate-wait-ms": {
    type: "string",
    arg: "MS",
    description: `Release a rotated/deleted file this long after its last byte (default: ${
      String(DEFAULT_TAIL_OPTIONS.rotateWaitMs)
    })`,
  },
  "poll-ms": {
    type: "string",
    arg: "MS",
    description: `Idle file poll interval (default: ${String(DEFAULT_TAIL_OPTIONS.pollMs)})`,
  },
  "scan-ms": {
    type: "string",
    arg: "MS",
    description: `Glob rescan interval (default: ${String(DEFAULT_TAIL_OPTIONS.scanMs)})`,
  },
  "shutdown-timeout-ms": {
    type: "string",
    arg: "MS",
    description: "Bound on a clean stop (default: 10000)",
  },
};

type Values = Record<string, string | boolean | string[] | undefined>;

/**
 * Settings from parsed flags, the environment and the settings file's content. Pure.
 *
 * @example
 * ```ts
 * import { resolveSettings } from "./settings.ts";
 * const s = resolveSettings({ label: ["role=web"] }, { SLUICE_AGENT_ID: "web-1" }, {}, "fallback-host");
 * // s.agentId === "web-1", s.labels.role === "web"
 * ```
 */
export function resolveSettings(
  flags: Values,
  env: Record<string, string | undefined>,
  file: Record<string, unknown>,
  hostname: string,
): AgentSettings {
  const endpoints = endpointsFromEnv(env);
  const fromFile = (name: string): unknown => file[name.replaceAll("-", "_")];
  const pick = (flag: string, envName?: string): string | undefined => {
    const f = flags[flag];
    if (typeof f === "string") return f;
    if (envName && env[envName]) return env[envName];
    const v = fromFile(flag);
    if (v === undefined || v === null) return undefined;
    return Array.isArray(v) ? v.join(",") : String(v);
  };
  const int = (flag: string, fallback: number): number => {
    const raw = pick(flag);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0) {
      throw new InvalidInputError(`--${flag} must be a whole number ≥ 0, got '${raw}'`);
    }
    return n;
  };
  const list = (v: string | undefined) => v?.split(",").map((s) => s.trim()).filter(Boolean);

  const labels: Record<string, string> = {};
  const fileLabels = fromFile("labels") ?? fromFile("label");
  if (fileLabels && typeof fileLabels === "object" && !Array.isArray(fileLabels)) {
    for (const [k, v] of Object.entries(fileLabels)) labels[k] = String(v);
  }
  const pairs = Array.isArray(flags.label) ? flags.label : list(env.SLUICE_AGENT_LABELS) ?? [];
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new InvalidInputError(`a label must be KEY=VALUE, got '${pair}'`);
    labels[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }

  const home = env.HOME ?? ".";
  const checkpointDir =
    (pick("checkpoint-dir", "SLUICE_CHECKPOINT_DIR") ?? `${home}/.local/state/sluice/agent`)
      .replace(/^~(?=\/|$)/, home);
  const agentId = pick("agent-id", "SLUICE_AGENT_ID") ?? hostname;
  if (!agentId) throw new InvalidInputError("the agent id is empty; pass --agent-id");
  return {
    agentId,
    labels,
    etcd: list(typeof flags.etcd === "string" ? flags.etcd : undefined) ?? list(pick("etcd")) ??
      endpoints.etcd,
    prefix: (typeof flags.prefix === "string" ? flags.prefix : undefined) ??
      (env.SLUICE_ETCD_PREFIX || (fromFile("prefix") as string | undefined)) ??
      endpoints.etcdPrefix,
    kafka: list(typeof flags.kafka === "string" ? flags.kafka : undefined) ??
      (env.SLUICE_KAFKA_BROKERS ? endpoints.kafka : list(pick("kafka"))) ?? endpoints.kafka,
    checkpointDir,
    metricsAddress: pick("metrics-addr", "SLUICE_METRICS_ADDR") ?? "127.0.0.1:9464",
    compression: parseCompression(pick("compression", "SLUICE_KAFKA_COMPRESSION") ?? "gzip"),
    lingerMs: int("linger-ms", 10),
    statusTtlSeconds: 10,
    shutdownTimeoutMs: int("shutdown-timeout-ms", 10_000),
    tail: {
      ...DEFAULT_TAIL_OPTIONS,
      maxInflightBytes: int("max-inflight-bytes", DEFAULT_TAIL_OPTIONS.maxInflightBytes),
      lineFlushMs: int("line-flush-ms", DEFAULT_TAIL_OPTIONS.lineFlushMs),
      rotateWaitMs: int("rotate-wait-ms", DEFAULT_TAIL_OPTIONS.rotateWaitMs),
      pollMs: Math.max(10, int("poll-ms", DEFAULT_TAIL_OPTIONS.pollMs)),
      scanMs: Math.max(10, int("scan-ms", DEFAULT_TAIL_OPTIONS.scanMs)),
    },
  };
}

/** Reads the settings file named by `--config` (JSON or YAML); {} without one. */
export async function readSettingsFile(path: string | undefined): Promise<Record<string, unknown>> {
  if (!path) return {};
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new InvalidInputError(`cannot read settings file ${path}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = path.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new InvalidInputError(
      `settings file ${path} does not parse: ${(error as Error).message}`,
    );
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new InvalidInputError(`settings file ${path} must hold a mapping of settings`);
  }
  return value as Record<string, unknown>;
}
