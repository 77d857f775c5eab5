/**
 * `transfer:replay`: re-index a range of a topic — from an offset or a time, up to now or to a
 * time — for a lost or rebuilt index. Documents keep their `_id`, so a replay never duplicates.
 * It reads through a throwaway consumer group that starts at the planned offsets and is deleted
 * afterwards, so the main group's committed offsets are never touched.
 * @module
 */
import { InvalidInputError } from "../core/errors.ts";
import { getLogger } from "../core/log.ts";
import {
  createGroupConsumer,
  deleteConsumerGroup,
  offsetsForTime,
  partitionBounds,
  type RecordBatch,
  setGroupOffsets,
} from "../kafka/consumer.ts";
import type { TransferConfig } from "./config.ts";
import { openDeadLetterQueue } from "./dead_letter.ts";
import { createEngine } from "./engine.ts";
import { installIndexTemplate } from "./index_template.ts";
import { TransferMetrics } from "./metrics.ts";
import { IndexPipeline } from "./pipeline.ts";

const log = getLogger("transfer", "replay");

/** What to replay. Exactly one of `fromOffsets` and `fromTime`. */
export interface ReplayRange {
  topic: string;
  /** Start offsets of the partitions to replay (other partitions are left out). */
  fromOffsets?: { partition: number; offset: number }[];
  /** Replay every partition from its first record at or after this time (ms). */
  fromTime?: number;
  /** Stop before the first record after this time (ms); default: the end when replay starts. */
  toTime?: number;
}

/** The offsets to read of one partition: `start` inclusive, `end` exclusive. */
export interface PartitionRange {
  partition: number;
  start: number;
  end: number;
}

/**
 * Parses `--from-offset P:O` values (repeatable, or comma separated).
 *
 * @example
 * ```ts
 * import { parseFromOffsets } from "./replay.ts";
 * parseFromOffsets(["0:100", "2:0"]); // [{ partition: 0, offset: 100 }, { partition: 2, offset: 0 }]
 * ```
 */
export function parseFromOffsets(
  values: readonly string[],
): { partition: number; offset: number }[] {
  const result = values.flatMap((v) => v.split(",")).map((v) => v.trim()).filter(Boolean).map(
    (value) => {
      const match = /^(\d+):(\d+)$/.exec(value);
      if (!match) {
        throw new InvalidInputError(
          `--from-offset takes PARTITION:OFFSET, e.g. 0:1500; got '${value}'`,
        );
      }
      return { partition: Number(match[1]), offset: Number(match[2]) };
    },
  );
  const seen = new Set<number>();
  for (const { partition } of result) {
    if (seen.has(partition)) {
      throw new InvalidInputError(`--from-offset names partition ${partition} twice`);
    }
    seen.add(partition);
  }
  return result;
}

/** Parses an ISO 8601 time flag into ms. */
export function parseTime(value: string, flag: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new InvalidInputError(
      `${flag} takes an ISO 8601 time such as 2024-03-09T00:00:00Z; got '${value}'`,
    );
  }
  return ms;
}

/**
 * The offsets to read per partition, from the partitions' bounds and, for time ranges, the
 * offsets Kafka gives for those times (a partition with nothing after a time reports -1 or its end).
 *
 * @example
 * ```ts
 * import { planReplay } from "./replay.ts";
 * planReplay(
 *   [{ partition: 0, low: 0, high: 100 }, { partition: 1, low: 50, high: 80 }],
 *   { fromOffsets: [{ partition: 1, offset: 10 }] },
 * );
 * // [{ partition: 1, start: 50, end: 80 }]
 * ```
 */
export function planReplay(
  bounds: readonly { partition: number; low: number; high: number }[],
  range: {
    fromOffsets?: { partition: number; offset: number }[];
    fromTimeOffsets?: { partition: number; offset: number }[];
    toTimeOffsets?: { partition: number; offset: number }[];
  },
): PartitionRange[] {
  const byPartition = (list?: { partition: number; offset: number }[]) =>
    new Map((list ?? []).map((e) => [e.partition, e.offset]));
  const from = byPartition(range.fromOffsets ?? range.fromTimeOffsets);
  const to = byPartition(range.toTimeOffsets);
  const known = new Set(bounds.map((b) => b.partition));
  for (const partition of from.keys()) {
    if (!known.has(partition)) {
      throw new InvalidInputError(
        `partition ${partition} does not exist (partitions: ${
          [...known].sort((a, b) => a - b).join(", ")
        })`,
      );
    }
  }
  const plan: PartitionRange[] = [];
  for (const { partition, low, high } of [...bounds].sort((a, b) => a.partition - b.partition)) {
    const wanted = from.get(partition);
    if (wanted === undefined) continue;
    const start = Math.min(high, Math.max(low, wanted < 0 ? high : wanted));
    const toOffset = to.get(partition);
    const end = toOffset === undefined || toOffset < 0 ? high : Math.min(high, toOffset);
    plan.push({ partition, start, end: Math.max(start, end) });
  }
  return plan;
}

/** Progress of a running replay. */
export interface ReplayProgress {
  topic: string;
  /** Records in the planned range. */
  total: number;
  read: number;
  indexed: number;
  deadLettered: number;
  elapsedMs: number;
}

/**
 * One progress line.
 *
 * @example
 * ```ts
 * import { formatProgress } from "./replay.ts";
 * formatProgress({ topic: "logs", total: 200, read: 50, indexed: 40, deadLettered: 1, elapsedMs: 2000 });
 * // "replay logs: 50/200 read (25%), 40 indexed, 1 dead-lettered, 25 records/s"
 * ```
 */
export function formatProgress(p: ReplayProgress): string {
  const pct = p.total === 0 ? 100 : Math.floor((p.read / p.total) * 100);
  const rate = p.elapsedMs > 0 ? Math.round(p.read / (p.elapsedMs / 1000)) : 0;
  return `replay ${p.topic}: ${p.read}/${p.total} read (${pct}%), ${p.indexed} indexed, ` +
    `${p.deadLettered} dead-lettered, ${rate} records/s`;
}

export interface ReplayOptions {
  /** Called about once a second, and once at the end. */
  onProgress?(progress: ReplayProgress): void;
  signal?: AbortSignal;
}

/**
 * Re-indexes a range of a topic and resolves with the final progress once every record of the
 * range is indexed or dead-lettered.
 *
 * @example
 * ```ts ignore
 * import { resolveConfig } from "./config.ts";
 * import { runReplay } from "./replay.ts";
 * const result = await runReplay(resolveConfig({}), { topic: "logs", fromTime: Date.parse("2024-03-09T00:00:00Z") });
 * console.log(result.indexed);
 * ```
 */
export async function runReplay(
  config: TransferConfig,
  range: ReplayRange,
  options: ReplayOptions = {},
): Promise<ReplayProgress> {
  if ((range.fromOffsets === undefined) === (range.fromTime === undefined)) {
    throw new InvalidInputError("replay needs exactly one of --from-offset and --from-time");
  }
  const kafka = { brokers: config.brokers, clientId: `${config.groupId}-replay` };
  const bounds = (await partitionBounds(kafka, range.topic)).map((b) => ({
    partition: b.partition,
    low: Number(b.low),
    high: Number(b.high),
  }));
  if (bounds.length === 0) throw new InvalidInputError(`topic '${range.topic}' does not exist`);
  const asNumbers = (list: { partition: number; offset: string }[]) =>
    list.map((e) => ({ partition: e.partition, offset: Number(e.offset) }));
  const plan = planReplay(bounds, {
    fromOffsets: range.fromOffsets,
    fromTimeOffsets: range.fromTime === undefined
      ? undefined
      : asNumbers(await offsetsForTime(kafka, range.topic, range.fromTime)),
    toTimeOffsets: range.toTime === undefined
      ? undefined
      : asNumbers(await offsetsForTime(kafka, range.topic, range.toTime + 1)),
  });
  const total = plan.reduce((sum, p) => sum + (p.end - p.start), 0);
  const started = Date.now();
  const progress = (read: number, indexed: number, deadLettered: number): ReplayProgress => ({
    topic: range.topic,
    total,
    read,
    indexed,
    deadLettered,
    elapsedMs: Date.now() - started,
  });
  log.info("replaying {total} records of {topic}: {plan}", {
    total,
    topic: range.topic,
    plan: plan.map((p) => `${p.partition}:[${p.start},${p.end})`).join(" "),
  });
  if (total === 0) {
    const done = progress(0, 0, 0);
    options.onProgress?.(done);
    return done;
  }

  const engine = await createEngine({ url: config.searchUrl, kind: config.engine });
  // A rebuilt index needs its mappings just as the transfer's do.
  await installIndexTemplate(engine, config);
  const deadLetters = await openDeadLetterQueue({
    brokers: config.brokers,
    topic: config.deadLetterTopic,
    clientId: `${config.groupId}-replay-dlq`,
  });
  const groupId = `${config.groupId}-replay-${started.toString(36)}-${
    crypto.randomUUID().slice(0, 8)
  }`;
  const ends = new Map(plan.map((p) => [p.partition, p]));
  // Partitions outside the plan start (and end) at their current end: nothing is read there.
  await setGroupOffsets(
    kafka,
    groupId,
    range.topic,
    bounds.map((b) => ({
      partition: b.partition,
      offset: String(ends.get(b.partition)?.start ?? b.high),
    })),
  );
  const pipeline = new IndexPipeline({
    config,
    engine,
    deadLetters,
    metrics: new TransferMetrics(),
    signal: options.signal,
  });
  const consumer = createGroupConsumer({ brokers: config.brokers, groupId, topics: [range.topic] });
  const remaining = new Set(plan.filter((p) => p.end > p.start).map((p) => p.partition));
  let allRead!: () => void;
  const readDone = new Promise<void>((resolve) => (allRead = resolve));
  const timer = setInterval(() => {
    const c = pipeline.counts;
    options.onProgress?.(progress(c.consumed, c.indexed, c.deadLettered));
  }, 1_000);
  const onBatch = (batch: RecordBatch) => {
    const p = ends.get(batch.partition);
    if (!p || !remaining.has(batch.partition)) return;
    pipeline.accept(batch, (offset) => offset >= p.start && offset < p.end);
    const last = Number(batch.records[batch.records.length - 1].offset);
    if (last >= p.end - 1) {
      consumer.pause([{ topic: range.topic, partition: batch.partition }]);
      remaining.delete(batch.partition);
      if (remaining.size === 0) allRead();
    }
  };
  try {
    await consumer.start({ onBatch });
    const aborted = new Promise<never>((_, reject) => {
      options.signal?.addEventListener("abort", () => reject(options.signal!.reason), {
        once: true,
      });
    });
    await Promise.race([readDone, aborted]);
    await Promise.race([pipeline.idle(), aborted]);
    // So that what was replayed is searchable when the command returns.
    await engine.refresh(`${config.indexPrefix}-*`).catch(() => {});
  } finally {
    clearInterval(timer);
    pipeline.close();
    await consumer.close().catch(() => {});
    await deleteConsumerGroup(kafka, groupId).catch((error) =>
      log.warn("could not delete replay group {group}: {error}", {
        group: groupId,
        error: String(error),
      })
    );
    await deadLetters.close().catch(() => {});
    await engine.close().catch(() => {});
  }
  const c = pipeline.counts;
  const final = progress(c.consumed, c.indexed, c.deadLettered);
  options.onProgress?.(final);
  return final;
}
