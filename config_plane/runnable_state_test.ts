import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { EMPTY_STATE, foldEvents } from "./fold.ts";
import { padSeq } from "./keys.ts";
import {
  foldRunnable,
  NOT_STARTED,
  prunedBelow,
  resumeFromSnapshot,
  runnableEvents,
  type RunningState,
  seqOfStored,
  startRunning,
  stepEvent,
} from "./runnable_state.ts";
import { parseStoredEvents } from "./stored_events.ts";
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

const key = (seq: number) => `config/events/${padSeq(seq)}`;
const notJson = '{"seq": 2, "ops": [ this is not JSON';

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

Deno.test("runnableEvents drops schema-invalid events; the fold goes on past them", () => {
  const stored = parseStoredEvents([
    [key(1), JSON.stringify(put(1, "app"))],
    [key(2), notJson],
    [key(3), JSON.stringify(schemaInvalid(3))],
    [key(4), JSON.stringify(put(4, "web"))],
  ]);
  const runnable = runnableEvents(stored.events);
  assertEquals(runnable.map((e) => e.seq), [1, 4]);
  assertEquals(foldEvents(runnable).sources.map((s) => s.id), ["app", "web"]);
  assertEquals(foldRunnable(stored.events), foldEvents(runnable), "what stateAt answers");
});

Deno.test("the first load runs the state at its seq when it is valid", () => {
  const snapshot = { seq: 2, state: { sources: [source("app")] } };
  const { running, error } = startRunning(snapshot, [schemaInvalid(3), put(4, "web")], 5);
  assertEquals(error, undefined);
  assertEquals([running.seq, running.goodSeq], [5, 5], "the seq asked for, also past the events");
  assertEquals(ids(running.good), ["app", "web"]);
  assertEquals(running.folded, running.good);
});

Deno.test("the first load on an invalid state runs the newest valid one before it", () => {
  const { running, error } = startRunning(undefined, [
    put(1, "app"),
    event(2, [{ op: "set_defaults", defaults: {} }]),
    event(3, [{ op: "put_source", source: { id: "no-topic", paths: ["/x.log"] } }]),
    put(4, "web"),
  ], 4);
  assert(error?.includes("state 4"), error);
  assertEquals([running.seq, running.goodSeq], [4, 2]);
  assertEquals(ids(running.good), ["app"]);
  assertEquals(ids(running.folded), ["app", "no-topic", "web"]);
});

Deno.test("the first load with no valid state at all runs nothing", () => {
  const invalid = { sources: [{ id: "no-topic", paths: ["/x.log"] }] };
  const { running, error } = startRunning({ seq: 3, state: invalid }, [], 3);
  assert(error !== undefined);
  assertEquals([running.seq, running.goodSeq], [3, -1]);
  assertEquals(NOT_STARTED.goodSeq, -1);
});

Deno.test("a stored event's seq: its own, else its key's, else the next", () => {
  const running = runningAt(4, EMPTY_STATE);
  assertEquals(seqOfStored(running, put(6, "a"), 9), 6);
  assertEquals(seqOfStored(running, undefined, 7), 7);
  assertEquals(seqOfStored(running, { ops: [] } as unknown as ConfigEvent), 5);
});

Deno.test("stepping: seen, refused (no JSON, no valid event), applied, applied to an invalid state", () => {
  const start = runningAt(1, { sources: [source("app")] });
  assertEquals(stepEvent(start, put(1, "x"), 1), { kind: "seen" });
  assertEquals(
    stepEvent(start, undefined, 0),
    { kind: "seen" },
    "a replayed broken key is seen too",
  );

  const noJson = stepEvent(start, undefined, 2);
  assert(noJson.kind === "refused");
  assertEquals([noJson.seq, noJson.error], [2, "the stored event is not JSON"]);
  assertEquals([noJson.running.seq, noJson.running.goodSeq], [2, 1]);
  assertEquals(noJson.running.folded, start.folded);

  const invalid = stepEvent(start, schemaInvalid(2), 2);
  assert(invalid.kind === "refused");
  assert(invalid.error.startsWith("event 2"), invalid.error);
  assertEquals(ids(invalid.running.folded), ["app"], "not folded");

  const applied = stepEvent(start, put(2, "web"), 2);
  assert(applied.kind === "applied");
  assertEquals(applied.error, undefined);
  assertEquals([applied.running.seq, applied.running.goodSeq], [2, 2]);
  assertEquals(ids(applied.running.good), ["app", "web"]);

  const noTopic = event(2, [{ op: "put_source", source: { id: "bad", paths: ["/b.log"] } }]);
  const badState = stepEvent(start, noTopic, 2);
  assert(badState.kind === "applied");
  assert(badState.error?.startsWith("state 2"), badState.error);
  assertEquals([badState.running.seq, badState.running.goodSeq], [2, 1]);
  assertEquals(ids(badState.running.good), ["app"], "the last good state keeps running");
  assertEquals(ids(badState.running.folded), ["app", "bad"], "later events fold on top of it");
});

Deno.test("pruned: the events right after our seq are gone, whatever the first kept key holds", () => {
  assertEquals(prunedBelow(3, 3, []), undefined, "nothing new");
  assertEquals(prunedBelow(3, 9, [4, 5, 9]), undefined);
  assertEquals(prunedBelow(3, 9, [7, 8, 9]), 6);
  assertEquals(prunedBelow(3, 9, []), 9, "all gone: up to the head");
  assertEquals(prunedBelow(3, 9, [5, 4]), undefined, "the first key after ours, unordered");
});

Deno.test("after pruning, an invalid resumed state keeps the last good one", () => {
  const start = runningAt(2, { sources: [source("app")] });
  const invalid = { sources: [{ id: "no-topic", paths: ["/x.log"] }] };
  const next = resumeFromSnapshot(start, { seq: 5, state: invalid }, [], 5);
  assertEquals([next.seq, next.goodSeq], [5, 2]);
  assertEquals(ids(next.good), ["app"]);
});
