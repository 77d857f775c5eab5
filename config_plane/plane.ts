/**
 * The config plane client: appends versioned events to etcd with a compare-and-swap on the head
 * and an idempotency key, reads history and the state at any revision (from the nearest
 * snapshot), rolls back by appending, and hands out the watcher and the agent registry.
 * @module
 */
import type { Etcd3, Namespace } from "etcd3";
import { ConflictError, InvalidInputError } from "../core/errors.ts";
import { endpointsFromEnv } from "../core/endpoints.ts";
import type { EtcdSecurity } from "../core/security.ts";
import { getLogger } from "../core/log.ts";
import { formatIssues, validateEvent, validateState } from "../schemas/validate.ts";
import { createEtcdClient, etcdCall } from "./etcd.ts";
import { type FleetStatus, fleetStatus } from "./fleet.ts";
import { EMPTY_STATE, foldEvents, foldOps } from "./fold.ts";
import { KEYS } from "./keys.ts";
import { type Plan, planChanges } from "./plan.ts";
import { type AgentRegistration, listAgents, registerAgent } from "./agents.ts";
import { watchState, type WatchStateOptions } from "./watch.ts";
import { parseStoredEvents, runnableEvents, type StoredEvents } from "./stored_events.ts";
import type { AgentStatus, ConfigEvent, DesiredState, Op } from "./types.ts";

const log = getLogger("config_plane");

/** etcd's default `--max-request-bytes` (1.5 MiB). */
export const ETCD_MAX_REQUEST_BYTES = 1_572_864;
/** Room kept for the transaction around the event (keys, compares, head, id). */
const TXN_OVERHEAD_BYTES = 4_096;
/** Events read per range request. */
const PAGE = 500;

export interface ConfigPlaneOptions {
  /** etcd client URLs (default: SLUICE_ETCD_ENDPOINTS or http://127.0.0.1:2379). */
  endpoints?: string[];
  /** Key prefix (default: SLUICE_ETCD_PREFIX or /sluice). */
  prefix?: string;
  /** A snapshot of the folded state is written at every seq divisible by this (default 100). */
  snapshotEvery?: number;
  /** etcd's --max-request-bytes; larger events are refused before writing (default 1.5 MiB). */
  maxRequestBytes?: number;
  /** Deadline of each etcd call in ms (default 5000); keeps a dead etcd from hanging a CLI. */
  callTimeoutMs?: number;
  /** TLS and user/password (default: from the SLUICE_ETCD_* variables, core/security.ts). */
  security?: EtcdSecurity;
}

export interface AppendInput {
  /** The head seq the change was planned against; the append fails if the head moved. */
  base: number;
  ops: Op[];
  author: string;
  /** Why. */
  message: string;
  /** Idempotency key (default: a random UUID). The same key again returns the first event. */
  id?: string;
  rollback_of?: number;
  import_of?: string;
}

export interface AppendResult {
  event: ConfigEvent;
  /** False when the idempotency key had already been appended (nothing new was written). */
  created: boolean;
}

export interface RollbackResult {
  /** The head the rollback was planned on. */
  base: number;
  /** From the head state to the state of the target revision. */
  plan: Plan;
  /** Absent when the head state already equals the target state (nothing appended). */
  appended?: AppendResult;
}

interface Snapshot {
  seq: number;
  at: string;
  state: DesiredState;
}

const encoder = new TextEncoder();

/** The config plane of one etcd prefix. Create with {@link openConfigPlane}; `close()` when done. */
export class ConfigPlane {
  readonly endpoints: string[];
  readonly prefix: string;
  readonly snapshotEvery: number;
  readonly maxRequestBytes: number;
  /** The raw client (root namespace), e.g. to read keys of other programs on import. */
  readonly client: Etcd3;
  /** The client scoped to `<prefix>/`. */
  readonly kv: Namespace;

  constructor(options: ConfigPlaneOptions = {}) {
    const env = endpointsFromEnv();
    this.endpoints = options.endpoints ?? env.etcd;
    this.prefix = (options.prefix ?? env.etcdPrefix).replace(/\/+$/, "");
    this.snapshotEvery = options.snapshotEvery ?? 100;
    this.maxRequestBytes = options.maxRequestBytes ?? ETCD_MAX_REQUEST_BYTES;
    this.client = createEtcdClient({
      endpoints: this.endpoints,
      callTimeoutMs: options.callTimeoutMs,
      security: options.security,
    });
    this.kv = this.client.namespace(`${this.prefix}/`);
  }

  /** Runs an etcd call, turning an unreachable etcd into UnreachableError. */
  call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return etcdCall(this.endpoints, what, fn);
  }

  /**
   * The latest seq (0 before the first event).
   *
   * @example
   * ```ts
   * import { openConfigPlane } from "./plane.ts";
   * const plane = openConfigPlane();
   * console.log(await plane.head());
   * plane.close();
   * ```
   */
  async head(): Promise<number> {
    const value = await this.call("read the config head", () => this.kv.get(KEYS.head).string());
    return value === null ? 0 : Number(value);
  }

  /** The event with this seq, or undefined. */
  async event(seq: number): Promise<ConfigEvent | undefined> {
    const value = await this.call(`read event ${seq}`, () => this.kv.get(KEYS.event(seq)).string());
    return value === null ? undefined : JSON.parse(value) as ConfigEvent;
  }

  /**
   * Events with `after < seq <= upTo`, oldest first, read in pages; pinned to one etcd revision
   * when `revision` is given. Missing seqs (pruned) are simply absent.
   */
  async eventsBetween(after: number, upTo: number, revision?: number): Promise<ConfigEvent[]> {
    return (await this.storedEventsBetween(after, upTo, revision)).events;
  }

  /**
   * Like `eventsBetween`, and the keys in the range whose value is not JSON (written past
   * `append` by someone else): they are logged and left out, never thrown.
   */
  async storedEventsBetween(after: number, upTo: number, revision?: number): Promise<StoredEvents> {
    const stored: StoredEvents = { events: [], unreadable: [] };
    let from = after + 1;
    while (from <= upTo) {
      const to = Math.min(upTo, from + PAGE - 1);
      const builder = this.kv.getAll().inRange({ start: KEYS.event(from), end: KEYS.event(to + 1) })
        .sort("Key", "Ascend");
      if (revision !== undefined) builder.revision(revision);
      const page = await this.readStoredEvents("read config events", () => builder.strings());
      stored.events.push(...page.events);
      stored.unreadable.push(...page.unreadable);
      from = to + 1;
    }
    return stored;
  }

  /**
   * Reads event keys and parses them; a key written past append may hold no JSON: it is named
   * and skipped, as every reader of the state skips it, instead of failing the whole read.
   */
  private async readStoredEvents(
    what: string,
    read: () => Promise<Record<string, string>>,
  ): Promise<StoredEvents> {
    const stored = parseStoredEvents(Object.entries(await this.call(what, read)));
    for (const { seq, error } of stored.unreadable) {
      log.warn("config event {seq} cannot be read and is skipped: {error}", { seq, error });
    }
    return stored;
  }

  /** The newest snapshot at or below `seq`, if any. */
  async snapshotAtOrBelow(seq: number, revision?: number): Promise<Snapshot | undefined> {
    const builder = this.kv.getAll()
      .inRange({ start: KEYS.snapshotsPrefix, end: KEYS.snapshot(seq + 1) })
      .sort("Key", "Descend").limit(1);
    if (revision !== undefined) builder.revision(revision);
    const found = await this.call("read config snapshots", () => builder.strings());
    const value = Object.values(found)[0];
    return value === undefined ? undefined : JSON.parse(value) as Snapshot;
  }

  /**
   * The desired state at revision `seq` (0 = empty): the nearest snapshot, then the events after.
   *
   * @example
   * ```ts
   * import { openConfigPlane } from "./plane.ts";
   * const plane = openConfigPlane();
   * const state = await plane.stateAt(await plane.head());
   * console.log(state.sources.map((s) => s.id));
   * plane.close();
   * ```
   */
  async stateAt(seq: number, head?: number): Promise<DesiredState> {
    if (!Number.isInteger(seq) || seq < 0) {
      throw new InvalidInputError(`revision must be a whole number ≥ 0, got ${seq}.`);
    }
    if (seq === 0) return EMPTY_STATE;
    const top = head ?? await this.head();
    if (seq > top) {
      throw new InvalidInputError(
        `revision ${seq} does not exist: the head is ${top}. See 'deno task config:history'.`,
      );
    }
    const snapshot = await this.snapshotAtOrBelow(seq);
    const start = snapshot?.seq ?? 0;
    const { events, unreadable } = await this.storedEventsBetween(start, seq);
    const expected = seq - start;
    if (events.length + unreadable.length !== expected) {
      throw new InvalidInputError(
        `revision ${seq} cannot be rebuilt: ${
          expected - events.length - unreadable.length
        } event(s) after snapshot ${start} are missing.`,
      );
    }
    // Events that are not JSON or not valid are skipped, as every agent skips them.
    return foldEvents(runnableEvents(events), snapshot?.state ?? EMPTY_STATE);
  }

  /**
   * The newest events first, at most `limit` (default 20), optionally only those at or below
   * `before`. Events that fail the event schema are returned as stored (callers check them with
   * `validateEvent`); keys that hold no JSON are logged and left out.
   */
  async history(options: { limit?: number; before?: number } = {}): Promise<ConfigEvent[]> {
    const limit = options.limit ?? 20;
    if (limit === 0) return [];
    const top = options.before ?? await this.head();
    const { events } = await this.readStoredEvents(
      "read the config history",
      () =>
        this.kv.getAll().inRange({ start: KEYS.event(1), end: KEYS.event(top + 1) })
          .sort("Key", "Descend").limit(limit).strings(),
    );
    return events.sort((a, b) => b.seq - a.seq);
  }

  /**
   * Appends one event if the head is still `input.base` (one etcd transaction). Refuses before
   * writing anything: an invalid event or resulting state (InvalidInputError), an event over
   * etcd's request limit (InvalidInputError). A moved head → ConflictError naming it. The same
   * idempotency `id` again → the first event, `created: false`.
   *
   * @example
   * ```ts
   * import { openConfigPlane } from "./plane.ts";
   * const plane = openConfigPlane({ prefix: "/sluice-example" });
   * const { event } = await plane.append({
   *   base: await plane.head(), author: "ann", message: "collect the app log",
   *   ops: [{ op: "put_source", source: { id: "app", paths: ["/var/log/app.log"], topic: "logs" } }],
   * });
   * console.log(event.seq);
   * plane.close();
   * ```
   */
  async append(input: AppendInput): Promise<AppendResult> {
    const event: ConfigEvent = {
      seq: input.base + 1,
      id: input.id ?? crypto.randomUUID(),
      at: new Date().toISOString(),
      author: input.author,
      message: input.message,
      base: input.base,
      ops: input.ops,
    };
    if (input.rollback_of !== undefined) event.rollback_of = input.rollback_of;
    if (input.import_of !== undefined) event.import_of = input.import_of;
    const checked = validateEvent(event);
    if (!checked.ok) {
      throw new InvalidInputError(
        `the change was not appended, it is invalid:\n${formatIssues(checked.errors, "event")}`,
      );
    }

    // A retry of an append that went through must not be judged against the moved head.
    const existing = await this.eventForId(event.id);
    if (existing) return { event: existing, created: false };

    const head = await this.head();
    if (head !== input.base) throw await this.conflict(input.base, head);
    const after = foldOps(event.ops, await this.stateAt(input.base, head));
    const result = validateState(after);
    if (!result.ok) {
      throw new InvalidInputError(
        `the change was not appended, it would leave the config invalid:\n${
          formatIssues(result.errors, "state")
        }`,
      );
    }
    const body = JSON.stringify(event);
    this.checkSize("the event", body);
    this.checkSize(
      "the resulting state (snapshots and rollbacks carry it whole)",
      JSON.stringify(after),
    );

    // Before the first event there is no head key: "head is 0" means "head does not exist".
    const headIsBase = input.base === 0
      ? this.kv.if(KEYS.head, "Version", "==", 0)
      : this.kv.if(KEYS.head, "Value", "==", String(input.base));
    const response = await this.call(
      "append the config event",
      () =>
        headIsBase.and(KEYS.idempotency(event.id), "Version", "==", 0)
          .then(
            this.kv.put(KEYS.event(event.seq)).value(body),
            this.kv.put(KEYS.head).value(String(event.seq)),
            this.kv.put(KEYS.idempotency(event.id)).value(String(event.seq)),
          )
          .commit(),
    );
    if (!response.succeeded) {
      const again = await this.eventForId(event.id);
      if (again) return { event: again, created: false };
      throw await this.conflict(input.base, await this.head());
    }
    if (event.seq % this.snapshotEvery === 0) await this.writeSnapshot(event.seq, after);
    log.info("appended config event {seq} by {author}: {message}", {
      seq: event.seq,
      author: event.author,
      message: event.message,
    });
    return { event, created: true };
  }

  /**
   * Rolls back to revision `seq` by appending a `replace` event carrying `state(seq)` and
   * `rollback_of: seq`; history is never rewritten. Nothing is appended when the head state
   * already equals it.
   *
   * @example
   * ```ts
   * import { openConfigPlane } from "./plane.ts";
   * const plane = openConfigPlane({ prefix: "/sluice-example" });
   * const { plan, appended } = await plane.rollback(1, { author: "ann", message: "revert the topic change" });
   * console.log(plan.empty ? "nothing to do" : `now at ${appended!.event.seq}`);
   * plane.close();
   * ```
   */
  async rollback(
    seq: number,
    options: { author: string; message: string; base?: number; id?: string; dryRun?: boolean },
  ): Promise<RollbackResult> {
    const base = options.base ?? await this.head();
    const target = await this.stateAt(seq, base);
    const plan = planChanges(await this.stateAt(base, base), target);
    if (plan.empty || options.dryRun) return { base, plan };
    const appended = await this.append({
      base,
      author: options.author,
      message: options.message,
      id: options.id,
      ops: [{ op: "replace", state: target }],
      rollback_of: seq,
    });
    return { base, plan, appended };
  }

  /** Writes the folded state at `seq` so readers need not fold from the first event. */
  async writeSnapshot(seq: number, state: DesiredState): Promise<void> {
    const snapshot: Snapshot = { seq, at: new Date().toISOString(), state };
    try {
      await this.call(
        "write a config snapshot",
        () => this.kv.put(KEYS.snapshot(seq)).value(JSON.stringify(snapshot)).exec(),
      );
    } catch (error) {
      // A missing snapshot only costs readers a longer fold; the event is already appended.
      log.warn("could not write the snapshot at {seq}: {error}", { seq, error: String(error) });
    }
  }

  /** Runs the config watcher until `options.signal` aborts (see watch.ts). */
  watchState(options: WatchStateOptions): Promise<void> {
    return watchState(this, options);
  }

  /** Announces an agent under `agents/<agent id>` on a kept-alive lease (see agents.ts). */
  registerAgent(status: AgentStatus, options: { ttlSeconds: number }): Promise<AgentRegistration> {
    return registerAgent(this, status, options);
  }

  /** Every live agent's last report, sorted by agent id. */
  listAgents(): Promise<AgentStatus[]> {
    return listAgents(this);
  }

  /**
   * The head, its state and every live agent, compared (fleet.ts): what `config:status` and the
   * console show.
   */
  async fleetStatus(): Promise<FleetStatus> {
    const head = await this.head();
    const [state, agents] = await Promise.all([this.stateAt(head, head), this.listAgents()]);
    return fleetStatus(head, state, agents);
  }

  /** Closes the etcd connection. */
  close(): void {
    this.client.close();
  }

  private async eventForId(id: string): Promise<ConfigEvent | undefined> {
    const seq = await this.call(
      "read the idempotency key",
      () => this.kv.get(KEYS.idempotency(id)).string(),
    );
    return seq === null ? undefined : await this.event(Number(seq));
  }

  private async conflict(base: number, head: number): Promise<ConflictError> {
    const latest = head > 0 ? await this.event(head) : undefined;
    const by = latest ? ` by ${latest.author} at ${latest.at} ("${latest.message}")` : "";
    return new ConflictError(
      `the config head moved: the change was planned against revision ${base}, but the head is now ` +
        `revision ${head}${by}. Nothing was appended; re-run the command to plan against the new head ` +
        "and review the plan again.",
    );
  }

  private checkSize(what: string, json: string): void {
    const bytes = encoder.encode(json).length;
    if (bytes + TXN_OVERHEAD_BYTES > this.maxRequestBytes) {
      throw new InvalidInputError(
        `the change was not appended: ${what} is ${bytes} bytes, over etcd's request limit of ` +
          `${this.maxRequestBytes} bytes (--max-request-bytes, minus ${TXN_OVERHEAD_BYTES} for the transaction). ` +
          "Split it into smaller applies, or shrink large fields.",
      );
    }
  }
}

/**
 * Opens the config plane (nothing is sent to etcd until the first call).
 *
 * @example
 * ```ts
 * import { openConfigPlane } from "./plane.ts";
 * const plane = openConfigPlane({ endpoints: ["http://127.0.0.1:2379"], prefix: "/sluice" });
 * console.log(await plane.head());
 * plane.close();
 * ```
 */
export function openConfigPlane(options: ConfigPlaneOptions = {}): ConfigPlane {
  return new ConfigPlane(options);
}
