/**
 * Bootstrap settings of an agent: who it is (id, labels), where the services are, where it keeps
 * checkpoints and serves metrics, and the knobs of reading and sending. Flags beat environment
 * variables, which beat the optional settings file (JSON or YAML), which beats the defaults: the
 * table below, resolved by the one settings loader (core/settings.ts) the transfer uses too.
 * What to collect never comes from here: that is the config plane's job.
 * @module
 */
import type { OptionSpec } from "../core/cli.ts";
import { DEFAULT_ENDPOINTS, parseHostPort } from "../core/endpoints.ts";
import { InvalidInputError } from "../core/errors.ts";
import {
  readSettingsFile,
  resolveSettingTable,
  type Setting,
  settingOptions,
} from "../core/settings.ts";
import { type Compression, parseCompression, SUPPORTED_COMPRESSION } from "../kafka/producer.ts";
import { kafkaTopicIssue } from "../schemas/validate.ts";
import { DEFAULT_DEAD_LETTER_TOPIC } from "./dead_letter.ts";
import { DEFAULT_TAIL_OPTIONS, type TailOptions, UNSAVED_PER_INFLIGHT } from "./tail_task.ts";

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
  /**
   * Where a line goes whose record its topic refuses for itself (larger than its
   * `max.message.bytes`): a letter with the reason (agent/dead_letter.ts); "" holds such a line.
   */
  deadLetterTopic: string;
  /** Lease TTL of the status key; the heartbeat runs at a third of it. */
  statusTtlSeconds: number;
  /** Bound on a clean shutdown (flush + checkpoint + deregister). */
  shutdownTimeoutMs: number;
  /**
   * Log files open at once, agent-wide; 0: as many as the soft limit on open files allows (it
   * minus a reserve for sockets and saves; agent/open_files.ts).
   */
  maxOpenFiles: number;
  tail: TailOptions;
}

/** The settings as the table reads them, before the tail options are grouped. */
type AgentValues =
  & Omit<AgentSettings, "tail" | "statusTtlSeconds">
  & Pick<TailOptions, "maxInflightBytes" | "lineFlushMs" | "rotateWaitMs" | "pollMs" | "scanMs">;

/** Every setting of the agent: its flag, environment variable and settings-file key. */
const AGENT_SETTINGS: readonly Setting<keyof AgentValues>[] = [
  {
    key: "agentId",
    flag: "agent-id",
    env: "SLUICE_AGENT_ID",
    file: "agent_id",
    kind: "string",
    arg: "ID",
    description: "Agent id",
    shownDefault: "host name",
  },
  {
    key: "labels",
    flag: "label",
    env: "SLUICE_AGENT_LABELS",
    file: "labels",
    fileAliases: ["label"],
    kind: "pairs",
    arg: "K=V",
    description: "A label for source selectors; repeatable, or k=v,k=v",
  },
  {
    key: "etcd",
    flag: "etcd",
    env: "SLUICE_ETCD_ENDPOINTS",
    file: "etcd",
    kind: "list",
    arg: "URLS",
    description: "etcd endpoints, comma separated",
  },
  {
    key: "prefix",
    flag: "prefix",
    env: "SLUICE_ETCD_PREFIX",
    file: "prefix",
    kind: "string",
    arg: "PREFIX",
    description: "Config plane key prefix",
  },
  {
    key: "kafka",
    flag: "kafka",
    env: "SLUICE_KAFKA_BROKERS",
    file: "kafka",
    kind: "list",
    arg: "BROKERS",
    description: "Kafka brokers host:port, comma separated",
  },
  {
    key: "checkpointDir",
    flag: "checkpoint-dir",
    env: "SLUICE_CHECKPOINT_DIR",
    file: "checkpoint_dir",
    kind: "string",
    arg: "DIR",
    description: "Where read offsets and the last applied config are kept",
    shownDefault: "~/.local/state/sluice/agent",
  },
  {
    key: "metricsAddress",
    flag: "metrics-addr",
    env: "SLUICE_METRICS_ADDR",
    file: "metrics_addr",
    kind: "string",
    arg: "HOST:PORT",
    description: "/metrics and /healthz (docs/health.md); empty to disable",
  },
  {
    key: "compression",
    flag: "compression",
    env: "SLUICE_KAFKA_COMPRESSION",
    file: "compression",
    kind: "string",
    parse: parseCompression,
    arg: "CODEC",
    description: `Kafka codec: ${SUPPORTED_COMPRESSION.join(", ")}`,
  },
  {
    key: "lingerMs",
    flag: "linger-ms",
    file: "linger_ms",
    kind: "int",
    arg: "MS",
    description: "How long a small Kafka batch waits for more",
  },
  {
    key: "deadLetterTopic",
    flag: "dead-letter-topic",
    env: "SLUICE_AGENT_DEAD_LETTER_TOPIC",
    file: "dead_letter_topic",
    kind: "string",
    arg: "TOPIC",
    description:
      "Topic for lines their topic refuses as too large (docs/agent.md); empty: hold them",
  },
  {
    key: "maxInflightBytes",
    flag: "max-inflight-bytes",
    file: "max_inflight_bytes",
    kind: "int",
    arg: "BYTES",
    description:
      `Per source: bytes read but not yet acknowledged by Kafka (${UNSAVED_PER_INFLIGHT}× as many may wait for a checkpoint save)`,
  },
  {
    key: "lineFlushMs",
    flag: "line-flush-ms",
    file: "line_flush_ms",
    kind: "int",
    arg: "MS",
    description: "Send a last line without newline after this long",
  },
  {
    key: "rotateWaitMs",
    flag: "rotate-wait-ms",
    file: "rotate_wait_ms",
    kind: "int",
    arg: "MS",
    description: "Release a rotated/deleted file this long after its last byte",
  },
  {
    key: "pollMs",
    flag: "poll-ms",
    file: "poll_ms",
    kind: "int",
    arg: "MS",
    description: "Idle file poll interval (at least 10)",
  },
  {
    key: "scanMs",
    flag: "scan-ms",
    file: "scan_ms",
    kind: "int",
    arg: "MS",
    description: "Glob rescan interval (at least 10); 10 × that while inotify watches every " +
      "directory of a source",
  },
  {
    key: "maxOpenFiles",
    flag: "max-open-files",
    env: "SLUICE_MAX_OPEN_FILES",
    file: "max_open_files",
    kind: "int",
    arg: "N",
    description: "Log files open at once (0: the soft limit on open files minus a reserve)",
  },
  {
    key: "shutdownTimeoutMs",
    flag: "shutdown-timeout-ms",
    file: "shutdown_timeout_ms",
    kind: "int",
    arg: "MS",
    description: "Bound on a clean stop",
  },
];

/** The defaults; the agent id is the host name, checkpoints live under the home directory. */
function agentDefaults(home: string, hostname: string): AgentValues {
  return {
    agentId: hostname,
    labels: {},
    etcd: DEFAULT_ENDPOINTS.etcd,
    prefix: DEFAULT_ENDPOINTS.etcdPrefix,
    kafka: DEFAULT_ENDPOINTS.kafka,
    checkpointDir: `${home}/.local/state/sluice/agent`,
    metricsAddress: "127.0.0.1:9464",
    compression: "gzip",
    lingerMs: 10,
    deadLetterTopic: DEFAULT_DEAD_LETTER_TOPIC,
    maxInflightBytes: DEFAULT_TAIL_OPTIONS.maxInflightBytes,
    lineFlushMs: DEFAULT_TAIL_OPTIONS.lineFlushMs,
    rotateWaitMs: DEFAULT_TAIL_OPTIONS.rotateWaitMs,
    pollMs: DEFAULT_TAIL_OPTIONS.pollMs,
    scanMs: DEFAULT_TAIL_OPTIONS.scanMs,
    shutdownTimeoutMs: 10_000,
    maxOpenFiles: 0,
  };
}

/** The agent's command-line options (also the keys of the settings file, with `_` for `-`). */
export const AGENT_OPTIONS: Record<string, OptionSpec> = {
  config: {
    type: "string",
    arg: "FILE",
    description: "Settings file (JSON or YAML); keys as the flags, e.g. agent_id.",
  },
  ...settingOptions(AGENT_SETTINGS, agentDefaults("~", "")),
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
  const home = env.HOME ?? ".";
  const v = resolveSettingTable(AGENT_SETTINGS, agentDefaults(home, hostname), {
    flags,
    env,
    file,
  });
  if (!v.agentId) throw new InvalidInputError("the agent id is empty; pass --agent-id");
  if (v.metricsAddress) parseHostPort(v.metricsAddress, "metrics address");
  const topicIssue = v.deadLetterTopic ? kafkaTopicIssue(v.deadLetterTopic) : undefined;
  if (topicIssue) {
    throw new InvalidInputError(
      `dead-letter topic ${JSON.stringify(v.deadLetterTopic)} ${topicIssue} (--dead-letter-topic)`,
    );
  }
  return {
    agentId: v.agentId,
    labels: v.labels,
    etcd: v.etcd,
    prefix: v.prefix,
    kafka: v.kafka,
    checkpointDir: v.checkpointDir.replace(/^~(?=\/|$)/, home),
    metricsAddress: v.metricsAddress,
    compression: v.compression,
    lingerMs: v.lingerMs,
    deadLetterTopic: v.deadLetterTopic,
    statusTtlSeconds: 10,
    shutdownTimeoutMs: v.shutdownTimeoutMs,
    maxOpenFiles: Math.max(0, v.maxOpenFiles),
    tail: {
      ...DEFAULT_TAIL_OPTIONS,
      maxInflightBytes: v.maxInflightBytes,
      lineFlushMs: v.lineFlushMs,
      rotateWaitMs: v.rotateWaitMs,
      pollMs: Math.max(10, v.pollMs),
      scanMs: Math.max(10, v.scanMs),
    },
  };
}

/**
 * The settings of a command line: reads the settings file named by `--config`, then resolves.
 *
 * @example
 * ```ts ignore
 * import { loadSettings } from "./settings.ts";
 * const settings = await loadSettings({ "agent-id": "web-1" }, Deno.env.toObject(), Deno.hostname());
 * ```
 */
export async function loadSettings(
  flags: Values,
  env: Record<string, string | undefined>,
  hostname: string,
): Promise<AgentSettings> {
  const file = await readSettingsFile(flags.config as string | undefined);
  return resolveSettings(flags, env, file, hostname);
}
