/**
 * The config event log in etcd, and nothing above it: the head, events, snapshots and
 * idempotency ids under one prefix (keys.ts), read at one etcd revision when asked, and the one
 * transaction that writes an event. What a change may write is decided in change.ts, what may
 * run in runnable_state.ts; the watcher (watch.ts) and the agents registry (agents.ts) sit on
 * this store, and `ConfigPlane` (plane.ts) is this store with them.
 * @module
 */
import type { Etcd3, Namespace, Watcher } from "etcd3";
import { InvalidInputError } from "../core/errors.ts";
import { endpointsFromEnv } from "../core/endpoints.ts";
import type { EtcdSecurity } from "../core/security.ts";
import { getLogger } from "../core/log.ts";
import { createEtcdClient, etcdCall } from "./etcd.ts";
import { EMPTY_STATE } from "./fold.ts";
import { KEYS } from "./keys.ts";
import { foldRunnable } from "./runnable_state.ts";
import { parseStoredEvents, type StoredEvents } from "./stored_events.ts";
import type { ConfigEvent, DesiredState } from "./types.ts";

const log = getLogger("config_plane");

/** etcd's default `--max-request-bytes` (1.5 MiB). */
export const ETCD_MAX_REQUEST_BYTES = 1_572_864;
/** Events read per range request. */
const PAGE = 500;

export interface EventStoreOptions {
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

/** The folded state at a seq, stored every `snapshotEvery` events. */
export interface Snapshot {
  seq: number;
  at: string;
  state: DesiredState;
}

/** The event log of one etcd prefix; `close()` when done. */
export class EventStore {
  readonly endpoints: string[];
  readonly prefix: string;
  readonly snapshotEvery: number;
  readonly maxRequestBytes: number;
  /** The raw client (root namespace), e.g. to read keys of other programs on import. */
  readonly client: Etcd3;
  /** The client scoped to `<prefix>/`. */
  readonly kv: Namespace;

  constructor(options: EventStoreOptions = {}) {
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
   * ```ts ignore
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

  /** The head and the etcd revision it was read at, to read everything else at that revision. */
  async headAndRevision(): Promise<{ head: number; revision: number }> {
    const response = await this.call("read the config head", () => this.kv.get(KEYS.head).exec());
    return {
      head: response.kvs.length > 0 ? Number(response.kvs[0].value.toString()) : 0,
      revision: Number(response.header.revision),
    };
  }

  /** The event with this seq, or undefined. */
  async event(seq: number): Promise<ConfigEvent | undefined> {
    const value = await this.call(`read event ${seq}`, () => this.kv.get(KEYS.event(seq)).string());
    return value === null ? undefined : JSON.parse(value) as ConfigEvent;
  }

  /** The event appended under idempotency key `id`, or undefined. */
  async eventForId(id: string): Promise<ConfigEvent | undefined> {
    const seq = await this.call(
      "read the idempotency key",
      () => this.kv.get(KEYS.idempotency(id)).string(),
    );
    return seq === null ? undefined : await this.event(Number(seq));
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
   * The desired state at revision `seq` (0 = empty): the nearest snapshot, then the events after,
   * those that may run (runnable_state.ts).
   *
   * @example
   * ```ts ignore
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
    return foldRunnable(events, snapshot?.state ?? EMPTY_STATE);
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
   * The append transaction: *if the head is still `event.base` and `event.id` is unused, write
   * the event, move the head, record the id*. False when it did not hold (nothing written).
   * `state` is the state the event leads to, kept as a snapshot every `snapshotEvery` events.
   * The checks before it are `appendEvent`'s (change.ts).
   */
  async writeEvent(event: ConfigEvent, state: DesiredState): Promise<boolean> {
    // Before the first event there is no head key: "head is 0" means "head does not exist".
    const headIsBase = event.base === 0
      ? this.kv.if(KEYS.head, "Version", "==", 0)
      : this.kv.if(KEYS.head, "Value", "==", String(event.base));
    const response = await this.call(
      "append the config event",
      () =>
        headIsBase.and(KEYS.idempotency(event.id), "Version", "==", 0)
          .then(
            this.kv.put(KEYS.event(event.seq)).value(JSON.stringify(event)),
            this.kv.put(KEYS.head).value(String(event.seq)),
            this.kv.put(KEYS.idempotency(event.id)).value(String(event.seq)),
          )
          .commit(),
    );
    if (!response.succeeded) return false;
    if (event.seq % this.snapshotEvery === 0) await this.writeSnapshot(event.seq, state);
    return true;
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

  /** A watch of the event keys from etcd revision `startRevision` (the watcher's stream). */
  watchEvents(startRevision: number): Watcher {
    return this.kv.watch().prefix(KEYS.eventsPrefix).startRevision(String(startRevision))
      .watcher();
  }

  /** Closes the etcd connection. */
  close(): void {
    this.client.close();
  }
}
