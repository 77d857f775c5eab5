/**
 * Helpers for the transfer's integration tests (tests/integration/transfer_*_test.ts), the
 * console's and the fault suite: envelopes to produce, a raw producer for garbage, waiting for documents, reading the
 * dead-letter topic, and cleaning up topics, groups and indices. Talks to the real services.
 * @module
 */
import { Buffer } from "node:buffer";
import { type Envelope, eventId } from "../../core/envelope.ts";
import { sleep } from "../../core/backoff.ts";
import { waitFor } from "../../core/child.ts";
import { searchHttp } from "../../core/search_http.ts";
import { searchSecurityFromEnv } from "../../core/security.ts";
import { createKafka, ensureTopic } from "../../kafka/connection.ts";
import {
  committedOffsets,
  createGroupConsumer,
  deleteConsumerGroup,
} from "../../kafka/consumer.ts";
import { resolveConfig, type TransferConfig } from "../../transfer/config.ts";
import type { DeadLetterValue } from "../../transfer/dead_letter.ts";
import type { SearchEngine } from "../../transfer/engine.ts";
import { templateName } from "../../transfer/index_template.ts";

/** A unique lowercase name for a test's topic, group and index prefix. */
export function uniqueName(label: string): string {
  return `t-${label}-${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 6)}`;
}

/**
 * A transfer config for a test: its own topic, group, index prefix and dead-letter topic (all
 * `name`), metrics on a free port, no replicas, short linger and retry waits; `flags` override.
 */
export function testConfig(name: string, flags: Record<string, unknown> = {}): TransferConfig {
  const env = Deno.env.toObject();
  return resolveConfig({
    env: {
      SLUICE_KAFKA_BROKERS: env.SLUICE_KAFKA_BROKERS,
      SLUICE_SEARCH_URL: env.SLUICE_SEARCH_URL,
    },
    flags: {
      topic: [name],
      group: name,
      "index-prefix": name,
      "dead-letter-topic": `${name}-dlq`,
      "metrics-addr": "127.0.0.1:0",
      "index-replicas": "0",
      "bulk-linger-ms": "200",
      "retry-max-ms": "2000",
      ...flags,
    },
  });
}

/**
 * `count` envelopes of one file of `host`, timestamps from `start` every `stepMs` ms.
 *
 * @example
 * ```ts
 * import { makeEnvelopes } from "./transfer_rig.ts";
 * makeEnvelopes({ count: 2, source: "web", start: Date.parse("2024-03-09T23:59:59Z"), stepMs: 1000 })
 *   .map((e) => e["@timestamp"]); // ["2024-03-09T23:59:59.000Z", "2024-03-10T00:00:00.000Z"]
 * ```
 */
export function makeEnvelopes(options: {
  count: number;
  source: string;
  start: number;
  stepMs: number;
  host?: string;
  fileId?: string;
  firstOffset?: number;
}): Envelope[] {
  const host = options.host ?? "host-1";
  const fileId = options.fileId ?? `2049-${crypto.randomUUID().slice(0, 8)}`;
  const envelopes: Envelope[] = [];
  let offset = options.firstOffset ?? 0;
  for (let i = 0; i < options.count; i++) {
    const message = `line ${i} GET /item/${i} 200`;
    envelopes.push({
      "@timestamp": new Date(options.start + i * options.stepMs).toISOString(),
      id: eventId(host, fileId, offset),
      host,
      source: options.source,
      path: `/var/log/${options.source}.log`,
      file_id: fileId,
      offset,
      message,
    });
    offset += message.length + 1;
  }
  return envelopes;
}

export interface RawRecord {
  key?: string | null;
  value: string | Uint8Array | null;
  partition?: number;
}

/** Creates `topic` and produces the records (acks from all in-sync replicas). */
export async function produce(
  brokers: string[],
  topic: string,
  records: readonly RawRecord[],
  partitions = 3,
): Promise<void> {
  const kafka = createKafka({ brokers, clientId: "sluice-test-producer" });
  await ensureTopic(kafka, topic, { partitions });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let i = 0; i < records.length; i += 2_000) {
      await producer.send({
        topic,
        acks: -1,
        messages: records.slice(i, i + 2_000).map((r) => ({
          key: r.key ?? null,
          value: r.value === null
            ? null
            : typeof r.value === "string"
            ? r.value
            : Buffer.from(r.value),
          partition: r.partition,
        })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Envelopes as records keyed by file, like the agent sends them. */
export function envelopeRecords(envelopes: readonly Envelope[]): RawRecord[] {
  return envelopes.map((e) => ({ key: `${e.host}/${e.file_id}`, value: JSON.stringify(e) }));
}

/**
 * The offsets `group` committed on `topic`, summed over its partitions: with every partition
 * starting at offset 0, how many records the group is done with.
 *
 * @example
 * ```ts ignore
 * import { committedSum } from "./transfer_rig.ts";
 * await committedSum(["127.0.0.1:9092"], "my-group", "my-topic"); // e.g. 20000
 * ```
 */
export async function committedSum(
  brokers: string[],
  group: string,
  topic: string,
): Promise<number> {
  const offsets = await committedOffsets({ brokers }, group, topic);
  return offsets.reduce((sum, o) => sum + Number(o.offset), 0);
}

/** Polls `count(pattern)` (after a refresh) until `predicate` holds or the deadline passes. */
export async function waitForCount(
  engine: SearchEngine,
  pattern: string,
  predicate: (n: number) => boolean,
  timeoutMs = 60_000,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = -1;
  while (true) {
    try {
      await engine.refresh(pattern);
      last = await engine.count(pattern);
      if (predicate(last)) return last;
    } catch {
      // engine restarting: keep polling
    }
    if (Date.now() >= deadline) return last;
    await sleep(250);
  }
}

/** Polls `check` until it returns a value other than undefined, or throws at the deadline. */
export function eventually<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  return waitFor(what, check, { timeoutMs, intervalMs });
}

/** Reads `count` records of the dead-letter topic (from its start) and parses them. */
export async function readDeadLetters(
  brokers: string[],
  topic: string,
  count: number,
  timeoutMs = 30_000,
): Promise<DeadLetterValue[]> {
  const groupId = uniqueName("dlq-reader");
  const consumer = createGroupConsumer({ brokers, groupId, topics: [topic], fromBeginning: true });
  const letters: DeadLetterValue[] = [];
  await consumer.start({
    onBatch: (batch) => {
      for (const r of batch.records) {
        if (r.value) letters.push(JSON.parse(new TextDecoder().decode(r.value)));
      }
    },
  });
  try {
    await eventually(
      `${count} dead letters in ${topic}`,
      () => letters.length >= count ? true : undefined,
      timeoutMs,
    );
    return letters;
  } finally {
    await consumer.close();
    await deleteConsumerGroup({ brokers }, groupId).catch(() => {});
  }
}

/**
 * Tears down what a test made with `testConfig`: its topics and dead-letter topic, its group, its
 * date shards and index template (all named in the config itself), then closes `engine`.
 */
export async function cleanUpTest(config: TransferConfig, engine: SearchEngine): Promise<void> {
  try {
    await cleanUp({
      brokers: config.brokers,
      engine,
      topics: [...config.topics, config.deadLetterTopic],
      groups: [config.groupId],
      indexPrefix: config.indexPrefix,
      searchUrl: config.searchUrl,
    });
  } finally {
    await engine.close();
  }
}

/** Deletes test topics, groups and the indices of a prefix; errors are ignored. */
export async function cleanUp(options: {
  brokers: string[];
  engine?: SearchEngine;
  topics?: string[];
  groups?: string[];
  indexPrefix?: string;
  /** With indexPrefix: also delete the prefix's index template. */
  searchUrl?: string;
}): Promise<void> {
  const admin = createKafka({ brokers: options.brokers, clientId: "sluice-test-cleanup" }).admin();
  try {
    await admin.connect();
    if (options.groups?.length) await admin.deleteGroups(options.groups).catch(() => {});
    if (options.topics?.length) {
      await admin.deleteTopics({ topics: options.topics }).catch(() => {});
    }
  } catch {
    // best effort
  } finally {
    await admin.disconnect().catch(() => {});
  }
  if (options.engine && options.indexPrefix) {
    try {
      await options.engine.deleteIndices(
        await options.engine.listIndices(`${options.indexPrefix}-*`),
      );
    } catch {
      // best effort
    }
  }
  if (options.searchUrl && options.indexPrefix) {
    const http = searchHttp(options.searchUrl, searchSecurityFromEnv());
    const url = `${http.base}/_index_template/${templateName(options.indexPrefix)}`;
    await fetch(url, { ...http.init, method: "DELETE" }).then((r) => r.body?.cancel(), () => {});
    http.close();
  }
}
