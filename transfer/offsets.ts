/**
 * Which Kafka offsets may be committed. Pure bookkeeping: a record is "done" once the bulk that
 * held it succeeded or it was dead-lettered; the committable offset of a partition only moves over
 * a contiguous run of done records, so a record still in flight (or being retried) holds the
 * commit back however many later records are already indexed.
 * @module
 */

/** A topic partition. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A commit: `offset` is the next offset to read (last done + 1), as Kafka expects. */
export interface PartitionCommit extends TopicPartition {
  offset: number;
}

interface PartitionState {
  topic: string;
  partition: number;
  /** Offsets tracked and not yet passed by the commit point, in the order they were read. */
  pending: number[];
  /** Index of the first entry of `pending` that is still in use. */
  head: number;
  /** Offsets acknowledged while an earlier one was still pending. */
  done: Set<number>;
  /** Next offset to read once everything up to the commit point is done. */
  next: number | undefined;
  /** Last offset handed out by `committable()` and confirmed with `markCommitted()`. */
  committed: number | undefined;
}

function keyOf(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/**
 * Tracks read and done offsets per partition.
 *
 * @example
 * ```ts
 * import { OffsetTracker } from "./offsets.ts";
 * const tracker = new OffsetTracker();
 * for (const offset of [10, 11, 12]) tracker.track("logs", 0, offset);
 * tracker.ack("logs", 0, 11);
 * tracker.committable(); // [] — 10 is not done yet
 * tracker.ack("logs", 0, 10);
 * tracker.committable(); // [{ topic: "logs", partition: 0, offset: 12 }]
 * ```
 */
export class OffsetTracker {
  #partitions = new Map<string, PartitionState>();

  /** Registers a record just read. Offsets of one partition must be tracked in increasing order. */
  track(topic: string, partition: number, offset: number): void {
    const key = keyOf(topic, partition);
    let state = this.#partitions.get(key);
    if (!state) {
      state = {
        topic,
        partition,
        pending: [],
        head: 0,
        done: new Set(),
        next: undefined,
        committed: undefined,
      };
      this.#partitions.set(key, state);
    }
    const last = state.pending.length > state.head
      ? state.pending[state.pending.length - 1]
      : (state.next ?? -1) - 1;
    if (offset <= last) {
      throw new RangeError(
        `offset ${offset} of ${topic}/${partition} tracked after ${last}: offsets must increase`,
      );
    }
    state.pending.push(offset);
  }

  /** Marks a tracked record done (indexed or dead-lettered). Unknown offsets are ignored. */
  ack(topic: string, partition: number, offset: number): void {
    const state = this.#partitions.get(keyOf(topic, partition));
    if (!state || state.pending.length === state.head) return;
    if (offset < state.pending[state.head]) return;
    state.done.add(offset);
    while (state.head < state.pending.length && state.done.has(state.pending[state.head])) {
      const passed = state.pending[state.head++];
      state.done.delete(passed);
      state.next = passed + 1;
    }
    // Drop the consumed prefix now and then instead of shifting on every ack.
    if (state.head > 1024 && state.head * 2 > state.pending.length) {
      state.pending = state.pending.slice(state.head);
      state.head = 0;
    }
  }

  /** Records tracked and not yet done, over all partitions or one. */
  pendingCount(topic?: string, partition?: number): number {
    let count = 0;
    for (const state of this.#partitions.values()) {
      if (topic !== undefined && state.topic !== topic) continue;
      if (partition !== undefined && state.partition !== partition) continue;
      count += state.pending.length - state.head;
    }
    return count;
  }

  /** Commits that would move a partition forward past what was last marked committed. */
  committable(): PartitionCommit[] {
    const commits: PartitionCommit[] = [];
    for (const state of this.#partitions.values()) {
      if (
        state.next !== undefined && (state.committed === undefined || state.next > state.committed)
      ) {
        commits.push({ topic: state.topic, partition: state.partition, offset: state.next });
      }
    }
    return commits;
  }

  /** Records that these commits reached Kafka, so `committable()` stops returning them. */
  markCommitted(commits: readonly PartitionCommit[]): void {
    for (const commit of commits) {
      const state = this.#partitions.get(keyOf(commit.topic, commit.partition));
      if (state && (state.committed === undefined || commit.offset > state.committed)) {
        state.committed = commit.offset;
      }
    }
  }

  /** The offset last marked committed for a partition. */
  committed(topic: string, partition: number): number | undefined {
    return this.#partitions.get(keyOf(topic, partition))?.committed;
  }

  /** Forgets everything, e.g. after a rebalance, when Kafka re-delivers from the committed offsets. */
  reset(): void {
    this.#partitions.clear();
  }
}
