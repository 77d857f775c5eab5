/**
 * The transfer of sluice as a library: Kafka → Elasticsearch 8 / OpenSearch 2, the same code
 * `deno task transfer` runs (date-sharded indices, `_id` = event id, offsets committed only after
 * indexing, dead letters), its configuration, the replay of a range, and the engine client.
 *
 * @example Run a transfer in-process
 * ```ts ignore
 * import { resolveConfig, startTransfer } from "./mod.ts";
 * const transfer = await startTransfer(resolveConfig({ flags: { topic: ["logs"] } }));
 * console.log(transfer.stats());
 * await transfer.stop();
 * ```
 * @module
 */
export { startTransfer, type Transfer, type TransferStats } from "./transfer.ts";
export { loadConfig, resolveConfig, type TransferConfig } from "./config.ts";
export { type ReplayOptions, type ReplayRange, runReplay } from "./replay.ts";
export { createEngine, type EngineKind, type SearchEngine } from "./engine.ts";
