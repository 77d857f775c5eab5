/**
 * Kafka topics of the benchmark: a fresh topic per run (optionally stamped with the broker's
 * append time, which is when a record was acknowledged on a single node), the sum of its end
 * offsets to know when every line arrived, and deletion afterwards so the disk stays free.
 * @module
 */
import type { Admin } from "kafkajs";
import { assertRunning, type Child, waitFor } from "../core/child.ts";
import { createKafka } from "../kafka/connection.ts";

export class BenchTopics {
  readonly #admin: Admin;
  readonly #created = new Set<string>();

  private constructor(admin: Admin) {
    this.#admin = admin;
  }

  static async connect(brokers: string[]): Promise<BenchTopics> {
    const admin = createKafka({ brokers, clientId: "sluice-bench" }).admin();
    await admin.connect();
    return new BenchTopics(admin);
  }

  /**
   * Creates `topic` with `partitions` partitions, replication factor 1 (the local broker is a
   * single node). With `logAppendTime` each record's timestamp is set by the broker on append.
   */
  async create(topic: string, options: { partitions?: number; logAppendTime?: boolean } = {}) {
    await this.#admin.createTopics({
      waitForLeaders: true,
      topics: [{
        topic,
        numPartitions: options.partitions ?? 3,
        replicationFactor: 1,
        configEntries: options.logAppendTime
          ? [{ name: "message.timestamp.type", value: "LogAppendTime" }]
          : [],
      }],
    });
    this.#created.add(topic);
  }

  /** Records in `topic`: the sum of its partitions' end offsets (topics start empty). */
  async records(topic: string): Promise<number> {
    const offsets = await this.#admin.fetchTopicOffsets(topic);
    let sum = 0;
    for (const p of offsets) sum += Number(p.high) - Number(p.low);
    return sum;
  }

  /**
   * Waits until `topic` holds `total` records (polled every 200 ms); fails after `timeoutMs`, or
   * at once when `writer`, the program sending them, has exited.
   */
  async waitForRecords(topic: string, total: number, timeoutMs: number, writer?: Child) {
    await waitFor(`${writer ? `${writer.name}: ` : ""}all ${total} lines in ${topic}`, async () => {
      if (writer) await assertRunning(writer);
      return (await this.records(topic)) >= total;
    }, { timeoutMs, intervalMs: 200 });
  }

  /**
   * Deletes topics whose name starts with `prefix`: what an interrupted earlier run left behind
   * (every bench topic is named `bench-…`; the bench runs under the stack lock, so none is in use).
   */
  async deleteLeftovers(prefix = "bench-"): Promise<string[]> {
    const leftovers = (await this.#admin.listTopics()).filter((t) => t.startsWith(prefix));
    await this.delete(...leftovers);
    return leftovers;
  }

  /** Deletes topics (and forgets them); errors are ignored, the run is over anyway. */
  async delete(...topics: string[]): Promise<void> {
    if (topics.length === 0) return;
    await this.#admin.deleteTopics({ topics, timeout: 30_000 }).catch(() => {});
    for (const t of topics) this.#created.delete(t);
  }

  /** Deletes every topic this instance created and not yet deleted, and disconnects. */
  async close(): Promise<void> {
    await this.delete(...this.#created);
    await this.#admin.disconnect().catch(() => {});
  }
}
