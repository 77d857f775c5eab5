/**
 * Micro-benchmark of the config fold (`deno bench bench/fold_bench.ts`): 10,000 events of mixed
 * ops over ~500 sources, from scratch and from a snapshot, plus planning between two states.
 * The result is checked once so a fast-but-wrong fold cannot pass for a fast one.
 * @module
 */
import { foldEvents, planChanges, sourcesForHost, specHash } from "../config_plane/mod.ts";
import type { ConfigEvent, Op } from "../config_plane/types.ts";

const SOURCES = 500;

function opFor(i: number): Op {
  if (i % 97 === 0) {
    return {
      op: "set_defaults",
      defaults: { topic: `logs-${i % 3}`, rate: { lines_per_sec: 1000 } },
    };
  }
  if (i % 5 === 4) return { op: "delete_source", id: `s${(i * 7) % SOURCES}` };
  return {
    op: "put_source",
    source: {
      id: `s${i % SOURCES}`,
      paths: [`/var/log/app${i % SOURCES}/*.log`],
      fields: { rev: String(i), team: `t${i % 11}` },
      hosts: { labels: { role: i % 2 ? "web" : "db" } },
      rate: { lines_per_sec: 100 + (i % 50) },
    },
  };
}

const events: ConfigEvent[] = Array.from({ length: 10_000 }, (_, k) => ({
  seq: k + 1,
  id: `e${k + 1}`,
  at: "2025-01-01T00:00:00Z",
  author: "bench",
  message: "m",
  base: k,
  ops: [opFor(k)],
}));

// Correctness check against a naive fold before measuring anything.
const naive = new Map<string, unknown>();
for (const e of events) {
  for (const op of e.ops) {
    if (op.op === "put_source") naive.set(op.source.id, op.source);
    if (op.op === "delete_source") naive.delete(op.id);
  }
}
const folded = foldEvents(events);
if (
  folded.sources.length !== naive.size ||
  folded.sources.some((s, i, all) => i > 0 && all[i - 1].id >= s.id)
) {
  throw new Error("foldEvents disagrees with the naive fold");
}
const snapshot = foldEvents(events.slice(0, 9_000));
const previous = foldEvents(events.slice(0, 9_990));

Deno.bench("foldEvents: 10,000 events from scratch", { group: "fold", baseline: true }, () => {
  foldEvents(events);
});

Deno.bench("foldEvents: last 1,000 of 10,000 events from a snapshot", { group: "fold" }, () => {
  foldEvents(events.slice(9_000), snapshot);
});

Deno.bench("planChanges: two states of ~400 sources", () => {
  planChanges(previous, folded);
});

Deno.bench("sourcesForHost + specHash of each: ~400 sources", () => {
  for (const s of sourcesForHost(folded, "web-1", { role: "web" })) specHash(s);
});
