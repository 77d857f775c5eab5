/**
 * What every benchmark scenario gets from `bench/main.ts`: where the services are, the sizes of
 * this invocation (full or `--quick`), a scratch directory, the topic admin, the peers' producer
 * settings, and a progress printer.
 * @module
 */
import type { Endpoints } from "../core/endpoints.ts";
import type { PeerProducerSettings } from "./peers.ts";
import type { BenchResult } from "./stats.ts";
import type { BenchTopics } from "./topics.ts";

/** Sizes of one invocation; `--quick` shrinks them to finish in under 3 minutes. */
export interface BenchSizes {
  /** agent → Kafka: lines per run, runs, and the file counts compared. */
  agentLines: number;
  agentRuns: number;
  agentFileCounts: number[];
  /** transfer: documents per run, runs. */
  transferDocs: number;
  transferRuns: number;
  /** latency: seconds of writing per run (the first `latencyWarmupS` not counted), runs. */
  latencySeconds: number;
  latencyWarmupS: number;
  latencyRuns: number;
  latencyRate: number;
  /** config propagation: agents, applies. */
  fleetAgents: number;
  fleetRuns: number;
  /** memory: files, idle seconds, load seconds and rate, runs. */
  memoryFiles: number;
  memoryIdleS: number;
  memoryLoadS: number;
  memoryLoadRate: number;
  memoryRuns: number;
}

export const FULL_SIZES: BenchSizes = {
  agentLines: 2_000_000,
  agentRuns: 3,
  agentFileCounts: [1, 100],
  transferDocs: 500_000,
  transferRuns: 3,
  latencySeconds: 60,
  latencyWarmupS: 3,
  latencyRuns: 3,
  latencyRate: 10_000,
  fleetAgents: 100,
  fleetRuns: 5,
  memoryFiles: 1_000,
  memoryIdleS: 10,
  memoryLoadS: 20,
  memoryLoadRate: 10_000,
  memoryRuns: 3,
};

export const QUICK_SIZES: BenchSizes = {
  agentLines: 100_000,
  agentRuns: 1,
  agentFileCounts: [1, 100],
  transferDocs: 40_000,
  transferRuns: 1,
  latencySeconds: 12,
  latencyWarmupS: 2,
  latencyRuns: 1,
  latencyRate: 10_000,
  fleetAgents: 20,
  fleetRuns: 2,
  memoryFiles: 200,
  memoryIdleS: 3,
  memoryLoadS: 5,
  memoryLoadRate: 10_000,
  memoryRuns: 1,
};

export interface BenchContext {
  endpoints: Endpoints;
  sizes: BenchSizes;
  quick: boolean;
  /** Scratch space of this invocation, removed at the end. */
  tmp: string;
  topics: BenchTopics;
  peerSettings: PeerProducerSettings;
  /** Versions of the programs (for the peer names). */
  versions: Record<string, string>;
  progress(line: string): void;
  /** With `--profile DIR`: the agent and transfer processes write V8 CPU profiles there. */
  profileDir?: string;
  /** Files the scenario wants kept next to latest.json (name → content), e.g. a plot. */
  artifacts: Map<string, string>;
}

/** A scenario: measures and returns its result rows (throws only when nothing was measured). */
export interface Scenario {
  name: string;
  summary: string;
  run(ctx: BenchContext): Promise<BenchResult[]>;
}
