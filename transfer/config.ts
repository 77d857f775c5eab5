/**
 * What the user sets for a transfer: defaults, then an optional YAML/JSON file (`--config` /
 * SLUICE_TRANSFER_CONFIG), then SLUICE_* environment variables, then flags — later layers win.
 * The table below drives all three and the `--help` text, through the one settings loader
 * (core/settings.ts) the agent uses too.
 * @module
 */
import type { OptionSpec } from "../core/cli.ts";
import { endpointsFromEnv, parseHostPort, splitUrlList } from "../core/endpoints.ts";
import { redactUrl } from "../core/secret.ts";
import { InvalidInputError } from "../core/errors.ts";
import {
  readSettingsFile,
  resolveSettingTable,
  type Setting,
  type SettingLayers,
  settingOptions,
} from "../core/settings.ts";
import type { StreamFrom } from "./routing.ts";

export interface TransferConfig {
  /** Kafka bootstrap brokers, host:port. */
  brokers: string[];
  /** Topics to read (ignored when `topicPattern` is set). */
  topics: string[];
  /** A regular expression; every topic whose name matches is read (resolved at start-up). */
  topicPattern?: string;
  /** Consumer group id; its committed offsets are the transfer's progress. */
  groupId: string;
  /** A member silent this long is dropped from the group and its partitions reassigned, ms. */
  sessionTimeoutMs: number;
  /** Search engine base URL. */
  searchUrl: string;
  /** "auto" asks `GET /`. */
  engine: "auto" | "elasticsearch" | "opensearch";
  /** Indices are `<indexPrefix>-<stream>-YYYY.MM.DD`. */
  indexPrefix: string;
  /** The `<stream>` part: the envelope's source id or the Kafka topic. */
  stream: StreamFrom;
  /** A bulk request holds at most this many documents… */
  bulkMaxDocs: number;
  /** …and at most this many bytes… */
  bulkMaxBytes: number;
  /** …and waits at most this long for more documents, ms. */
  bulkLingerMs: number;
  /** Bulk requests sent at once; consumption pauses while all are busy. */
  maxInFlight: number;
  /** Records the engine rejects, and records that are not envelopes, go here with the reason. */
  deadLetterTopic: string;
  /** Date shards older than this many days are deleted (0 = keep everything). */
  retentionDays: number;
  /** host:port of /metrics and /healthz ("" = off); docs/health.md. */
  metricsAddr: string;
  /** Replicas of each date shard, set by the index template. */
  indexReplicas: number;
  /** Refresh interval of each date shard, set by the index template. */
  refreshInterval: string;
  /** Longest wait between two retries of a bulk request, ms. */
  retryMaxMs: number;
  /** On shutdown, how long in-flight bulks may take before they are abandoned (not committed). */
  shutdownGraceMs: number;
}

/** Every setting: its flag, environment variable and file key. */
export const SETTINGS: readonly Setting<keyof TransferConfig>[] = [
  {
    key: "brokers",
    flag: "brokers",
    env: "SLUICE_KAFKA_BROKERS",
    file: "brokers",
    kind: "list",
    arg: "HOST:PORT,…",
    description: "Kafka bootstrap brokers.",
  },
  {
    key: "topics",
    flag: "topic",
    env: "SLUICE_TRANSFER_TOPICS",
    file: "topics",
    kind: "list",
    arg: "TOPIC",
    description: "Topic to read; repeat or separate by commas.",
  },
  {
    key: "topicPattern",
    flag: "topic-pattern",
    env: "SLUICE_TRANSFER_TOPIC_PATTERN",
    file: "topic_pattern",
    kind: "string",
    arg: "REGEX",
    description: "Read every topic whose name matches (instead of --topic).",
  },
  {
    key: "groupId",
    flag: "group",
    env: "SLUICE_TRANSFER_GROUP",
    file: "group",
    kind: "string",
    arg: "ID",
    description: "Kafka consumer group id.",
  },
  {
    key: "sessionTimeoutMs",
    flag: "session-timeout-ms",
    env: "SLUICE_TRANSFER_SESSION_TIMEOUT_MS",
    file: "session_timeout_ms",
    kind: "int",
    arg: "MS",
    description: "Consumer group session timeout (how fast a dead member's partitions move).",
  },
  {
    key: "searchUrl",
    flag: "search-url",
    env: "SLUICE_SEARCH_URL",
    file: "search_url",
    kind: "string",
    arg: "URL[,URL]",
    description:
      "Search engine URL, or every node's URL of one cluster comma separated (credentials may be given in a single URL).",
  },
  {
    key: "engine",
    flag: "engine",
    env: "SLUICE_SEARCH_ENGINE",
    file: "engine",
    kind: "choice",
    choices: ["auto", "elasticsearch", "opensearch"],
    arg: "KIND",
    description: "auto | elasticsearch | opensearch.",
  },
  {
    key: "indexPrefix",
    flag: "index-prefix",
    env: "SLUICE_INDEX_PREFIX",
    file: "index_prefix",
    kind: "string",
    arg: "PREFIX",
    description: "Indices are PREFIX-STREAM-YYYY.MM.DD.",
  },
  {
    key: "stream",
    flag: "stream",
    env: "SLUICE_INDEX_STREAM",
    file: "stream",
    kind: "choice",
    choices: ["source", "topic"],
    arg: "FROM",
    description: "STREAM is the envelope's source id or the Kafka topic.",
  },
  {
    key: "bulkMaxDocs",
    flag: "bulk-max-docs",
    env: "SLUICE_BULK_MAX_DOCS",
    file: "bulk_max_docs",
    kind: "int",
    arg: "N",
    description: "Documents per bulk request, at most.",
  },
  {
    key: "bulkMaxBytes",
    flag: "bulk-max-bytes",
    env: "SLUICE_BULK_MAX_BYTES",
    file: "bulk_max_bytes",
    kind: "int",
    arg: "BYTES",
    description: "Bytes per bulk request, at most.",
  },
  {
    key: "bulkLingerMs",
    flag: "bulk-linger-ms",
    env: "SLUICE_BULK_LINGER_MS",
    file: "bulk_linger_ms",
    kind: "int",
    arg: "MS",
    description: "Longest wait for a bulk request to fill.",
  },
  {
    key: "maxInFlight",
    flag: "max-in-flight",
    env: "SLUICE_BULK_MAX_IN_FLIGHT",
    file: "max_in_flight",
    kind: "int",
    arg: "N",
    description: "Bulk requests at once; consumption pauses beyond.",
  },
  {
    key: "deadLetterTopic",
    flag: "dead-letter-topic",
    env: "SLUICE_DEAD_LETTER_TOPIC",
    file: "dead_letter_topic",
    kind: "string",
    arg: "TOPIC",
    description: "Where rejected and unreadable records go, with the reason.",
  },
  {
    key: "retentionDays",
    flag: "retention-days",
    env: "SLUICE_RETENTION_DAYS",
    file: "retention_days",
    kind: "int",
    arg: "DAYS",
    description: "Delete date shards older than DAYS days (0 = keep all).",
  },
  {
    key: "metricsAddr",
    flag: "metrics-addr",
    env: "SLUICE_TRANSFER_METRICS_ADDR",
    file: "metrics_addr",
    kind: "string",
    arg: "HOST:PORT",
    description: "Serve /metrics and /healthz here (docs/health.md; empty = off).",
  },
  {
    key: "indexReplicas",
    flag: "index-replicas",
    env: "SLUICE_INDEX_REPLICAS",
    file: "index_replicas",
    kind: "int",
    arg: "N",
    description: "Replicas per date shard (index template).",
  },
  {
    key: "refreshInterval",
    flag: "refresh-interval",
    env: "SLUICE_INDEX_REFRESH_INTERVAL",
    file: "refresh_interval",
    kind: "string",
    arg: "DURATION",
    description: "Refresh interval per date shard (index template).",
  },
  {
    key: "retryMaxMs",
    flag: "retry-max-ms",
    env: "SLUICE_BULK_RETRY_MAX_MS",
    file: "retry_max_ms",
    kind: "int",
    arg: "MS",
    description: "Longest wait between retries of a bulk request.",
  },
  {
    key: "shutdownGraceMs",
    flag: "shutdown-grace-ms",
    env: "SLUICE_TRANSFER_SHUTDOWN_GRACE_MS",
    file: "shutdown_grace_ms",
    kind: "int",
    arg: "MS",
    description: "On SIGTERM, how long in-flight bulks may still take.",
  },
];

/** Defaults, with the service addresses from core/endpoints.ts. */
export function defaultConfig(env: Record<string, string | undefined> = {}): TransferConfig {
  const endpoints = endpointsFromEnv(env);
  return {
    brokers: endpoints.kafka,
    topics: ["logs"],
    groupId: "sluice-transfer",
    sessionTimeoutMs: 30_000,
    searchUrl: endpoints.searchNodes.join(","),
    engine: "auto",
    indexPrefix: "sluice",
    stream: "source",
    bulkMaxDocs: 5_000,
    bulkMaxBytes: 8 * 1024 * 1024,
    bulkLingerMs: 50,
    maxInFlight: 4,
    deadLetterTopic: "sluice-dead-letter",
    retentionDays: 0,
    metricsAddr: "127.0.0.1:9465",
    indexReplicas: 1,
    refreshInterval: "1s",
    retryMaxMs: 10_000,
    shutdownGraceMs: 30_000,
  };
}

/** The config options of the CLI (core/cli.ts format), for transfer and replay alike. */
export function configOptions(): Record<string, OptionSpec> {
  return {
    config: {
      type: "string",
      arg: "FILE",
      description:
        "YAML/JSON file with these settings (snake_case keys); env SLUICE_TRANSFER_CONFIG.",
    },
    ...settingOptions(SETTINGS, defaultConfig()),
  };
}

/**
 * Merges the layers over the defaults and checks the result. Throws InvalidInputError naming
 * the flag, variable or file key at fault.
 *
 * @example
 * ```ts
 * import { resolveConfig } from "./config.ts";
 * const config = resolveConfig({
 *   file: { bulk_max_docs: 1000 },
 *   env: { SLUICE_INDEX_PREFIX: "logs" },
 *   flags: { topic: ["web", "app"] },
 * });
 * // config.bulkMaxDocs === 1000, config.indexPrefix === "logs", config.topics = ["web", "app"]
 * ```
 */
export function resolveConfig(layers: SettingLayers): TransferConfig {
  // Endpoint variables are applied by defaultConfig (core/endpoints.ts) and again by the table.
  const config = resolveSettingTable(SETTINGS, defaultConfig(layers.env), layers, "config file");
  return validateConfig(config);
}

/** Checks values whose type alone does not make them valid. */
export function validateConfig(config: TransferConfig): TransferConfig {
  const problems: string[] = [];
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(config.indexPrefix)) {
    problems.push(
      `index prefix '${config.indexPrefix}' must be lowercase letters, digits, '.', '_', '-'`,
    );
  }
  if (config.topicPattern) {
    try {
      new RegExp(config.topicPattern);
    } catch (error) {
      problems.push(`topic pattern: ${(error as Error).message}`);
    }
  } else if (config.topics.length === 0) {
    problems.push("no topic to read: set --topic or --topic-pattern");
  }
  for (const key of ["bulkMaxDocs", "bulkMaxBytes", "maxInFlight"] as const) {
    if (config[key] < 1) problems.push(`${key} must be at least 1`);
  }
  if (config.metricsAddr) {
    try {
      parseHostPort(config.metricsAddr, "metrics address");
    } catch (error) {
      problems.push(`${(error as Error).message} (or empty for off)`);
    }
  }
  problems.push(...searchUrlProblems(config.searchUrl));
  if (problems.length > 0) throw new InvalidInputError(problems.join("; "));
  return config;
}

/**
 * The config of a command line: reads `--config`/SLUICE_TRANSFER_CONFIG when given.
 *
 * @example
 * ```ts ignore
 * import { loadConfig } from "./config.ts";
 * const config = await loadConfig({ topic: ["logs"] }, Deno.env.toObject());
 * ```
 */
export async function loadConfig(
  flags: Record<string, unknown>,
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Promise<TransferConfig> {
  const path = (flags.config as string | undefined) ?? env.SLUICE_TRANSFER_CONFIG;
  const file = await readSettingsFile(path, "config file");
  return resolveConfig({ file, env, flags });
}

/**
 * What is wrong with a search URL setting: one URL, or several nodes' URLs comma separated, each
 * a URL; credentials are taken from a single URL only (in a list they would be printed with the
 * addresses, and could differ between nodes). Pure.
 *
 * @example
 * ```ts
 * import { searchUrlProblems } from "./config.ts";
 * searchUrlProblems("http://a:9200,http://b:9200"); // []
 * searchUrlProblems("http://a:9200,b"); // ["search URL 'b' is not a URL"]
 * ```
 */
export function searchUrlProblems(text: string): string[] {
  const urls = splitUrlList(text);
  if (urls.length === 0) return [`search URL '${text}' is empty`];
  const problems: string[] = [];
  for (const url of urls) {
    try {
      const parsed = new URL(url);
      if (urls.length > 1 && (parsed.username || parsed.password)) {
        problems.push(
          `search URL ${redactUrl(url)} carries a user and password in a list of several nodes: ` +
            "give them in SLUICE_SEARCH_USERNAME and SLUICE_SEARCH_PASSWORD(_FILE) instead",
        );
      }
    } catch {
      problems.push(`search URL '${url}' is not a URL`);
    }
  }
  return problems;
}
