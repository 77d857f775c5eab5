/**
 * The data model of the config plane: sources, the desired state, the operations an event
 * carries, and what an agent reports. The JSON Schemas in schemas/ describe the same shapes;
 * these types are what the code passes around.
 * @module
 */

/** Which hosts run a source. Absent = every host. All given conditions must hold. */
export interface HostSelector {
  /** Host names (agent ids); glob patterns with `*` allowed. Any one must match. */
  names?: string[];
  /** Labels that must all be present on the agent with these values. */
  labels?: Record<string, string>;
}

export interface RateLimit {
  /** Lines per second (token bucket refill). */
  lines_per_sec: number;
  /** Optional bytes per second. */
  bytes_per_sec?: number;
  /** Bucket size; default = one second's worth. */
  burst?: number;
}

export interface MultilineSpec {
  /** A line matching this regex starts a new event; other lines join the previous one. */
  start_pattern: string;
  /** At most this many lines are joined (default 500). */
  max_lines?: number;
  /** An unfinished event is flushed after this many ms without a new line (default 1000). */
  timeout_ms?: number;
}

export type ParserSpec =
  | { type: "none" }
  | { type: "json" }
  | { type: "regex"; pattern: string };

/**
 * Where the event time of a line comes from (`docs/agent.md`, "Event time and processors").
 * Without it, `@timestamp` is the read time.
 */
export interface TimestampSpec {
  /** The parsed field (JSON key, regex group, or dotted path into nested JSON) holding the time. */
  field: string;
  /**
   * Tried in order; the first that parses wins. A named format (`rfc3339`, `common_log`,
   * `syslog`, `epoch_s`, `epoch_ms`, `epoch_us`) or a strftime-style pattern with `%`.
   */
  formats: string[];
  /** IANA time zone of times written without an offset (default "UTC"). */
  timezone?: string;
  /** A time more than this far ahead of the read time is not trusted (default 86400 = 1 day). */
  max_future_sec?: number;
}

/** The type a `convert` processor gives a parsed field. */
export type ConvertType = "integer" | "float" | "boolean" | "string";

/** One processing step on the host, run in the order of the source's `processors` list. */
export type ProcessorSpec =
  /** Drops lines whose message (or `field`) matches `pattern`. */
  | { type: "drop"; pattern: string; field?: string }
  /** Keeps only lines whose message (or `field`) matches `pattern`. */
  | { type: "keep"; pattern: string; field?: string }
  /** Replaces every match of `pattern` in the message and in parsed string fields by `mask`. */
  | { type: "redact"; pattern: string; mask?: string }
  /** Gives parsed fields a type. */
  | { type: "convert"; fields: Record<string, ConvertType> }
  /** Sets parsed fields to fixed values. */
  | { type: "add_fields"; fields: Record<string, string | number | boolean> };

/** What to collect and where to send it. */
export interface Source {
  /** Unique id: lowercase letters, digits, `_`, `-`, `.`; also the index stream name. */
  id: string;
  /** Path globs (`*`, `**`, `?`, `{a,b}`). */
  paths: string[];
  /** Globs of files to leave out. */
  exclude?: string[];
  /** Kafka topic (falls back to defaults.topic). */
  topic?: string;
  rate?: RateLimit;
  /** Where to start in a file seen for the first time (default "end"). */
  start_at?: "beginning" | "end";
  multiline?: MultilineSpec;
  parser?: ParserSpec;
  /** Extra fields added to every record of the source. */
  fields?: Record<string, string>;
  /** The event time from a parsed field; absent = the read time. */
  timestamp?: TimestampSpec;
  /** Drop/keep, redaction, conversion and added fields, applied in this order on the host. */
  processors?: ProcessorSpec[];
  hosts?: HostSelector;
  /** Default true; a disabled source is kept in the config but not run. */
  enabled?: boolean;
  /** Lines longer than this are split into marked parts (default 1 MiB). */
  max_line_bytes?: number;
  /**
   * A file idle this long has its handle closed (its checkpoint stays; it is reopened when it
   * grows): a duration like `"5m"` (default `"5m"`).
   */
  close_inactive?: string;
  /** Files not modified for this long are not read (a duration like `"24h"`; default: none). */
  ignore_older?: string;
}

/** Values a source falls back to when it does not set them. */
export interface Defaults {
  topic?: string;
  rate?: RateLimit;
  start_at?: "beginning" | "end";
  fields?: Record<string, string>;
  max_line_bytes?: number;
}

/** The whole desired state: what `config:apply FILE` takes and what fold produces. */
export interface DesiredState {
  defaults?: Defaults;
  /** Sorted by id in a folded state. */
  sources: Source[];
}

export type Op =
  | { op: "put_source"; source: Source }
  | { op: "delete_source"; id: string }
  | { op: "set_defaults"; defaults: Defaults }
  | { op: "replace"; state: DesiredState };

/** One appended, never edited, config change. Stored at `<prefix>/config/events/<seq:20>`. */
export interface ConfigEvent {
  seq: number;
  /** Idempotency key: a retried append with the same id is "already applied". */
  id: string;
  /** ISO 8601 time of the append. */
  at: string;
  author: string;
  /** Why the change was made. */
  message: string;
  /** The head seq the change was planned against. */
  base: number;
  ops: Op[];
  /** Set on rollback events: the seq whose state this event restores. */
  rollback_of?: number;
  /** Set on imported events: what was imported (format and key or file). */
  import_of?: string;
}

export type SourceState = "starting" | "running" | "waiting" | "stopped" | "error";

export interface SourceStatus {
  state: SourceState;
  /** Files open now. */
  files: number;
  /** Files known (checkpointed) but closed: idle, let go after a rotation, or over the budget. */
  files_closed?: number;
  /** Bytes written to the source's files but not yet acknowledged by Kafka. */
  lag_bytes?: number;
  last_error?: string;
}

/** What an agent writes under `<prefix>/agents/<agent id>` (leased, refreshed as heartbeat). */
export interface AgentStatus {
  agent_id: string;
  host: string;
  labels: Record<string, string>;
  /** The config seq whose state the agent runs. */
  seq: number;
  /** A newer seq the agent refused (invalid), if any, with why. */
  rejected?: { seq: number; error: string };
  started_at: string;
  heartbeat_at: string;
  version: string;
  sources: Record<string, SourceStatus>;
  last_error?: string;
}
