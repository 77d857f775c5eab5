/**
 * The small Kafka consumer interface the transfer uses — a consumer group with explicit commits,
 * pause/resume per partition and seek — implemented with kafkajs through `createKafka`, so the
 * client could be swapped (e.g. for @platformatic/kafka) without touching transfer/. Also the few
 * admin reads the transfer needs (partition ends, offsets for a time, a group's commits).
 * @module
 */
import type { Consumer, EachBatchPayload, Kafka } from "kafkajs";
import { getLogger } from "../core/log.ts";
import { createKafka, type KafkaConnectionOptions } from "./connection.ts";

const log = getLogger("kafka", "consumer");

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** An offset of a partition, as a decimal string (Kafka offsets are 64-bit). */
export interface TopicPartitionOffset extends TopicPartition {
  offset: string;
}

/** One record as read. */
export interface ConsumedRecord extends TopicPartitionOffset {
  key: Uint8Array | null;
  value: Uint8Array | null;
  /** Record timestamp, ms since the epoch. */
  timestamp: number;
  /** Record headers by name (format 2 records carry theirs there: core/record_format.ts). */
  headers?: Record<string, Uint8Array | string | (Uint8Array | string)[] | undefined>;
}

/** Consecutive records of one partition, handed over together. */
export interface RecordBatch extends TopicPartition {
  records: ConsumedRecord[];
  /** Offset the next produced record of the partition will get (for lag). */
  highWatermark: string;
}

export interface ConsumerHandlers {
  /**
   * Called for each batch, one at a time. Return quickly: the consumer does not fetch while it
   * runs. Offsets are never committed implicitly; call `commit`.
   */
  onBatch(batch: RecordBatch): Promise<void> | void;
  /** Called after each (re)join of the group with this member's partitions. */
  onAssignment?(assigned: TopicPartition[]): void;
}

export interface GroupConsumerOptions extends Omit<KafkaConnectionOptions, "clientId"> {
  clientId?: string;
  groupId: string;
  /** Topics to read; or `topicPattern`. */
  topics?: string[];
  /** Topics whose name matches (resolved when the consumer starts). */
  topicPattern?: RegExp;
  /** Where a group without committed offsets starts: the earliest record (default) or the end. */
  fromBeginning?: boolean;
  /** Session timeout in ms (default 30 s). */
  sessionTimeoutMs?: number;
  /** Upper bound of one fetch per partition, bytes (default 2 MiB). */
  maxBytesPerPartition?: number;
  /** Upper bound of one fetch, bytes (default 16 MiB). */
  maxBytes?: number;
  /** Longest wait of a fetch for new data, ms (default 500: keeps linger latency low). */
  maxWaitMs?: number;
}

/** A member of a consumer group, reading with explicit commits. */
export interface GroupConsumer {
  readonly groupId: string;
  /** Connects, joins the group and starts fetching. Resolves once consuming has started. */
  start(handlers: ConsumerHandlers): Promise<void>;
  /** Commits `offset` = next offset to read, per partition. */
  commit(offsets: readonly TopicPartitionOffset[]): Promise<void>;
  /** Stops fetching these partitions until `resume` (the member stays in the group). */
  pause(partitions: readonly TopicPartition[]): void;
  resume(partitions: readonly TopicPartition[]): void;
  /** Reads a partition from `offset` on (after `start`). */
  seek(position: TopicPartitionOffset): void;
  /** Partitions currently assigned to this member. */
  assignment(): TopicPartition[];
  /** Stops fetching, waits for the running `onBatch`, leaves the group and disconnects. */
  close(): Promise<void>;
}

/**
 * A consumer-group member on kafkajs with `autoCommit: false`.
 *
 * @example
 * ```ts ignore
 * import { createGroupConsumer } from "./consumer.ts";
 * const consumer = createGroupConsumer({ brokers: ["127.0.0.1:9092"], groupId: "g", topics: ["logs"] });
 * await consumer.start({
 *   onBatch: async (batch) => {
 *     const last = batch.records.at(-1)!;
 *     await consumer.commit([{ ...batch, offset: String(BigInt(last.offset) + 1n) }]);
 *   },
 * });
 * ```
 */
export function createGroupConsumer(options: GroupConsumerOptions): GroupConsumer {
  return new KafkajsGroupConsumer(options);
}

/**
 * Requests whose timeout means a broker the member depends on stopped answering (frozen, or cut
 * off without closing its connections): the group coordinator's, and fetches from a partition
 * leader (a live leader answers a fetch within its wait time).
 */
const REJOIN_AFTER_TIMEOUT: ReadonlySet<string> = new Set([
  "Fetch",
  "Heartbeat",
  "OffsetCommit",
  "OffsetFetch",
  "SyncGroup",
  "LeaveGroup",
]);

/**
 * True when a request that timed out (`apiName` as kafkajs names it) means the member must join
 * the group again through a fresh client: kafkajs sends every later request to the broker it
 * knows as coordinator or leader, and asks the cluster again only when a broker refuses
 * (NOT_COORDINATOR, NOT_LEADER); a broker that stops answering without closing its connections
 * (a frozen one) stalls the member until its retries run out (a minute and more), long after the
 * cluster moved its partitions and the coordinator elsewhere. Pure.
 *
 * @example
 * ```ts
 * import { rejoinAfterTimeout } from "./consumer.ts";
 * rejoinAfterTimeout("Heartbeat"); // true
 * rejoinAfterTimeout("JoinGroup"); // false: it waits for the other members by design
 * ```
 */
export function rejoinAfterTimeout(apiName: string): boolean {
  return REJOIN_AFTER_TIMEOUT.has(apiName);
}

class KafkajsGroupConsumer implements GroupConsumer {
  readonly groupId: string;
  readonly #options: GroupConsumerOptions;
  readonly #kafka: Kafka;
  #consumer: Consumer;
  /** Counts the kafkajs consumers made: batches and events of an older one are ignored. */
  #generation = 0;
  #handlers: ConsumerHandlers | undefined;
  #restarting: Promise<void> | undefined;
  #assigned: TopicPartition[] = [];
  #closed = false;

  constructor(options: GroupConsumerOptions) {
    this.groupId = options.groupId;
    this.#options = options;
    this.#kafka = createKafka({
      // 10 s, not kafkajs' 30 s: a broker that does not answer is noticed (and left, see
      // rejoinAfterTimeout) that much sooner. A fetch and a JoinGroup add their own waits.
      requestTimeoutMs: 10_000,
      ...options,
      clientId: options.clientId ?? `sluice-${options.groupId}`,
    });
    this.#consumer = this.#newConsumer();
  }

  #newConsumer(): Consumer {
    const { sessionTimeoutMs = 30_000 } = this.#options;
    return this.#kafka.consumer({
      groupId: this.#options.groupId,
      sessionTimeout: sessionTimeoutMs,
      heartbeatInterval: Math.max(1_000, Math.floor(sessionTimeoutMs / 10)),
      maxBytesPerPartition: this.#options.maxBytesPerPartition ?? 2 * 1024 * 1024,
      maxBytes: this.#options.maxBytes ?? 16 * 1024 * 1024,
      maxWaitTimeInMs: this.#options.maxWaitMs ?? 500,
      allowAutoTopicCreation: false,
    });
  }

  async start(handlers: ConsumerHandlers): Promise<void> {
    const { topics, topicPattern } = this.#options;
    if (!topics?.length && !topicPattern) {
      throw new Error("a consumer needs topics or a topic pattern");
    }
    this.#handlers = handlers;
    await this.#run(this.#consumer, this.#generation);
  }

  async #run(consumer: Consumer, generation: number): Promise<void> {
    const handlers = this.#handlers!;
    const { topics, topicPattern } = this.#options;
    const current = () => generation === this.#generation && !this.#closed;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      if (!current()) return;
      const assignment = event.payload.memberAssignment as Record<string, number[]>;
      this.#assigned = Object.entries(assignment).flatMap(([topic, partitions]) =>
        partitions.map((partition) => ({ topic, partition }))
      );
      handlers.onAssignment?.(this.#assigned);
    });
    consumer.on(consumer.events.REQUEST_TIMEOUT, (event) => {
      const { apiName, broker } = event.payload as { apiName: string; broker: string };
      if (!current() || !rejoinAfterTimeout(apiName)) return;
      log.warn(
        "broker {broker} did not answer {request} in time: joining the group again with a " +
          "fresh view of the cluster",
        { broker, request: apiName, group: this.groupId },
      );
      void this.#restart();
    });
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload as { error: Error; restart: boolean };
      // kafkajs restarts the consumer itself after a retriable error; after any other (e.g.
      // "Failed to find group coordinator" while brokers move the group) it stops for good.
      if (!current() || restart) return;
      log.warn("the consumer of group {group} stopped ({reason}): joining the group again", {
        group: this.groupId,
        reason: error?.message,
      });
      void this.#restart();
    });
    await consumer.connect();
    await consumer.subscribe({
      topics: [...(topics ?? []), ...(topicPattern ? [topicPattern] : [])],
      fromBeginning: this.#options.fromBeginning ?? true,
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch }: EachBatchPayload) => {
        // A batch of a consumer that was replaced is not handed over: its partitions are read
        // again from the committed offsets by whoever owns them now.
        if (!current() || batch.messages.length === 0) return;
        await handlers.onBatch({
          topic: batch.topic,
          partition: batch.partition,
          highWatermark: batch.highWatermark,
          records: batch.messages.map((m) => ({
            topic: batch.topic,
            partition: batch.partition,
            offset: m.offset,
            key: m.key ?? null,
            value: m.value ?? null,
            timestamp: Number(m.timestamp),
            ...(m.headers && Object.keys(m.headers).length > 0 ? { headers: m.headers } : {}),
          })),
        });
      },
    });
  }

  /**
   * Replaces the kafkajs consumer by a new one, which finds the coordinator afresh and joins the
   * group (its partitions come back through `onAssignment`). The old one is let go without
   * waiting: its requests may hang on the broker that does not answer.
   */
  #restart(): Promise<void> {
    this.#restarting ??= (async () => {
      const old = this.#consumer;
      const generation = ++this.#generation;
      this.#assigned = [];
      void old.disconnect().catch(() => {});
      for (let attempt = 0; !this.#closed && generation === this.#generation; attempt++) {
        const consumer = this.#newConsumer();
        this.#consumer = consumer;
        try {
          await this.#run(consumer, generation);
          return;
        } catch (error) {
          void consumer.disconnect().catch(() => {});
          log.warn("joining the group {group} again failed ({reason}); trying again", {
            group: this.groupId,
            reason: (error as Error).message,
          });
          await new Promise((r) => setTimeout(r, Math.min(5_000, 500 * 2 ** attempt)));
        }
      }
    })().finally(() => this.#restarting = undefined);
    return this.#restarting;
  }

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    await this.#consumer.commitOffsets(offsets.map((o) => ({ ...o })));
  }

  /**
   * Pauses fetching `partitions`. Between two kafkajs consumers (a restart, above) there is
   * nothing to pause: kafkajs refuses ("not initialized"), and the partitions come back through
   * `onAssignment`, read again from their committed offsets.
   */
  pause(partitions: readonly TopicPartition[]): void {
    this.#betweenConsumers(() => {
      for (const [topic, list] of byTopic(partitions)) {
        this.#consumer.pause([{ topic, partitions: list }]);
      }
    });
  }

  /** Resumes fetching `partitions` (nothing to resume between two consumers, as for pause). */
  resume(partitions: readonly TopicPartition[]): void {
    this.#betweenConsumers(() => {
      for (const [topic, list] of byTopic(partitions)) {
        this.#consumer.resume([{ topic, partitions: list }]);
      }
    });
  }

  #betweenConsumers(act: () => void): void {
    try {
      act();
    } catch (error) {
      if (!/not initialized/.test((error as Error).message)) throw error;
      log.debug("group {group}: no running consumer to pause or resume ({reason})", {
        group: this.groupId,
        reason: (error as Error).message,
      });
    }
  }

  seek(position: TopicPartitionOffset): void {
    this.#consumer.seek(position);
  }

  assignment(): TopicPartition[] {
    return [...this.#assigned];
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // disconnect() stops the fetch loop, waits for the running batch and leaves the group.
    await this.#consumer.disconnect();
  }
}

function byTopic(partitions: readonly TopicPartition[]): Map<string, number[]> {
  const map = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    const list = map.get(topic) ?? [];
    list.push(partition);
    map.set(topic, list);
  }
  return map;
}

type ConnectionOnly = Omit<KafkaConnectionOptions, "clientId"> & { clientId?: string };

async function withAdmin<T>(
  options: ConnectionOnly,
  fn: (admin: ReturnType<ReturnType<typeof createKafka>["admin"]>) => Promise<T>,
): Promise<T> {
  const admin = createKafka({ ...options, clientId: options.clientId ?? "sluice-admin" }).admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** First (`low`) and next-to-be-written (`high`) offsets of every partition of a topic. */
export function partitionBounds(
  options: ConnectionOnly,
  topic: string,
): Promise<{ partition: number; low: string; high: string }[]> {
  return withAdmin(options, async (admin) =>
    (await admin.fetchTopicOffsets(topic))
      .map(({ partition, low, high }) => ({ partition, low, high }))
      .sort((a, b) => a.partition - b.partition));
}

/**
 * Per partition, the offset of the first record with a timestamp ≥ `timeMs` (the partition's
 * end when there is none).
 */
export function offsetsForTime(
  options: ConnectionOnly,
  topic: string,
  timeMs: number,
): Promise<TopicPartitionOffset[]> {
  return withAdmin(
    options,
    async (admin) =>
      (await admin.fetchTopicOffsetsByTimestamp(topic, timeMs))
        .map(({ partition, offset }) => ({ topic, partition, offset }))
        .sort((a, b) => a.partition - b.partition),
  );
}

/** Offsets a group has committed for a topic (partitions without a commit are left out). */
export function committedOffsets(
  options: ConnectionOnly,
  groupId: string,
  topic: string,
): Promise<TopicPartitionOffset[]> {
  return withAdmin(options, async (admin) => {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (entry?.partitions ?? [])
      .filter((p) => Number(p.offset) >= 0)
      .map((p) => ({ topic, partition: p.partition, offset: p.offset }))
      .sort((a, b) => a.partition - b.partition);
  });
}

/** Deletes a consumer group (it must have no members); a missing group is not an error. */
export function deleteConsumerGroup(options: ConnectionOnly, groupId: string): Promise<void> {
  return withAdmin(options, async (admin) => {
    try {
      await admin.deleteGroups([groupId]);
    } catch (error) {
      const code = (error as { groups?: { errorCode?: number }[] }).groups?.[0]?.errorCode;
      if (code !== 69) throw error; // 69 = GROUP_ID_NOT_FOUND
    }
  });
}

/**
 * Sets the committed offsets of a group that has no running member (e.g. a replay's throwaway
 * group, so that it starts exactly there).
 */
export function setGroupOffsets(
  options: ConnectionOnly,
  groupId: string,
  topic: string,
  offsets: readonly { partition: number; offset: string }[],
): Promise<void> {
  return withAdmin(
    options,
    (admin) => admin.setOffsets({ groupId, topic, partitions: offsets.map((o) => ({ ...o })) }),
  );
}
