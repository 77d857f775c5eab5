import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { EMPTY_STATE } from "./fold.ts";
import { resumeFromSnapshot, type RunningState } from "./runnable_state.ts";
import type { ConfigEvent, DesiredState, Source } from "./types.ts";

function source(id: string): Source {
  return { id, paths: [`/var/log/${id}.log`], topic: "logs" };
}

function event(seq: number, ops: ConfigEvent["ops"]): ConfigEvent {
  return {
    seq,
    id: `e${seq}`,
    at: "2025-01-01T00:00:00.000Z",
    author: "ann",
    message: "change",
    base: seq - 1,
    ops,
  };
}

const put = (seq: number, id: string) => event(seq, [{ op: "put_source", source: source(id) }]);

// What a foreign writer can put straight into etcd, past `append`'s checks: JSON, but no valid
// event (a source id with spaces, no paths).
const schemaInvalid = (seq: number) =>
  event(seq, [{ op: "put_source", source: { id: "Not A Valid Id!", paths: [] } }]);

const ids = (state: DesiredState) => state.sources.map((s) => s.id);

function runningAt(seq: number, state: DesiredState): RunningState {
  return { seq, folded: state, goodSeq: seq, good: state };
}

Deno.test("after pruning, the events kept past the snapshot are folded without the refused ones", () => {
  const snapshot = { seq: 5, state: { sources: [source("app")] } };
  const next = resumeFromSnapshot(
    runningAt(2, EMPTY_STATE),
    snapshot,
    [schemaInvalid(6), put(7, "web")],
    7,
  );
  assertEquals(ids(next.folded), ["app", "web"]);
  assertEquals([next.seq, next.goodSeq], [7, 7]);
  assertEquals(ids(next.good), ["app", "web"]);
});
