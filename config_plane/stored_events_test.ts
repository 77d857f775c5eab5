import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { padSeq } from "./keys.ts";
import { parseStoredEvents } from "./stored_events.ts";
import type { ConfigEvent } from "./types.ts";

const key = (seq: number) => `config/events/${padSeq(seq)}`;

function event(seq: number, id: string): ConfigEvent {
  return {
    seq,
    id: `e${seq}`,
    at: "2025-01-01T00:00:00.000Z",
    author: "ann",
    message: "change",
    base: seq - 1,
    ops: [{ op: "put_source", source: { id, paths: [`/var/log/${id}.log`], topic: "logs" } }],
  };
}

// What a foreign writer can put straight into etcd, past `append`'s checks.
const notJson = '{"seq": 2, "ops": [ this is not JSON';
const schemaInvalid = {
  ...event(3, "x"),
  ops: [{ op: "put_source", source: { id: "Not A Valid Id!", paths: [] } }],
} as unknown as ConfigEvent;

Deno.test("parseStoredEvents keeps values that are not JSON apart, with their seq", () => {
  const stored = parseStoredEvents([
    [key(3), JSON.stringify(schemaInvalid)],
    [key(1), JSON.stringify(event(1, "app"))],
    [key(2), notJson],
  ]);
  assertEquals(stored.events.map((e) => e.seq), [1, 3]);
  assertEquals(stored.unreadable.length, 1);
  assertEquals(stored.unreadable[0].seq, 2);
  assertEquals(stored.unreadable[0].error.startsWith("not JSON: "), true);
});
