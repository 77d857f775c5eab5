import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { OffsetTracker } from "./offsets.ts";

Deno.test("offsets: nothing is committable before anything is done", () => {
  const t = new OffsetTracker();
  t.track("a", 0, 0);
  t.track("a", 0, 1);
  assertEquals(t.committable(), []);
  assertEquals(t.pendingCount(), 2);
});

Deno.test("offsets: a later bulk finishing first does not move the commit past an earlier one", () => {
  const t = new OffsetTracker();
  for (let o = 0; o < 10; o++) t.track("a", 0, o);
  for (let o = 5; o < 10; o++) t.ack("a", 0, o); // second bulk succeeded
  assertEquals(t.committable(), []);
  for (let o = 0; o < 4; o++) t.ack("a", 0, o); // first bulk, except offset 4 (being retried)
  assertEquals(t.committable(), [{ topic: "a", partition: 0, offset: 4 }]);
  t.ack("a", 0, 4);
  assertEquals(t.committable(), [{ topic: "a", partition: 0, offset: 10 }]);
  assertEquals(t.pendingCount(), 0);
});

Deno.test("offsets: gaps in the offsets (compaction, transaction markers) do not block", () => {
  const t = new OffsetTracker();
  t.track("a", 0, 3);
  t.track("a", 0, 7);
  t.track("a", 0, 8);
  t.ack("a", 0, 7);
  t.ack("a", 0, 3);
  assertEquals(t.committable(), [{ topic: "a", partition: 0, offset: 8 }]);
});

Deno.test("offsets: partitions and topics move independently", () => {
  const t = new OffsetTracker();
  t.track("a", 0, 0);
  t.track("a", 1, 0);
  t.track("b", 0, 100);
  t.ack("a", 1, 0);
  t.ack("b", 0, 100);
  assertEquals(t.committable(), [
    { topic: "a", partition: 1, offset: 1 },
    { topic: "b", partition: 0, offset: 101 },
  ]);
  assertEquals(t.pendingCount("a"), 1);
  assertEquals(t.pendingCount("a", 1), 0);
});

Deno.test("offsets: markCommitted stops repeating the same commit", () => {
  const t = new OffsetTracker();
  t.track("a", 0, 0);
  t.ack("a", 0, 0);
  const commits = t.committable();
  t.markCommitted(commits);
  assertEquals(t.committable(), []);
  assertEquals(t.committed("a", 0), 1);
  t.track("a", 0, 1);
  t.ack("a", 0, 1);
  assertEquals(t.committable(), [{ topic: "a", partition: 0, offset: 2 }]);
  // an older commit confirmed late does not move the mark back
  t.markCommitted([{ topic: "a", partition: 0, offset: 1 }]);
  t.markCommitted([{ topic: "a", partition: 0, offset: 2 }]);
  t.markCommitted([{ topic: "a", partition: 0, offset: 1 }]);
  assertEquals(t.committed("a", 0), 2);
});

Deno.test("offsets: acks of unknown or already passed offsets are ignored", () => {
  const t = new OffsetTracker();
  t.ack("x", 0, 5);
  t.track("a", 0, 10);
  t.ack("a", 0, 3);
  t.ack("a", 0, 10);
  t.ack("a", 0, 10);
  assertEquals(t.committable(), [{ topic: "a", partition: 0, offset: 11 }]);
});

Deno.test("offsets: tracking out of order is a bug and throws", () => {
  const t = new OffsetTracker();
  t.track("a", 0, 5);
  throws(() => t.track("a", 0, 5), RangeError);
  t.ack("a", 0, 5);
  throws(() => t.track("a", 0, 4), RangeError);
});

Deno.test("offsets: long runs compact without losing the commit point", () => {
  const t = new OffsetTracker();
  for (let o = 0; o < 5000; o++) t.track("a", 0, o);
  for (let o = 0; o < 4999; o++) t.ack("a", 0, o);
  assertEquals(t.committable(), [{ topic: "a", partition: 0, offset: 4999 }]);
  t.track("a", 0, 5000);
  t.ack("a", 0, 5000);
  assertEquals(t.committable(), [{ topic: "a", partition: 0, offset: 4999 }]);
  t.ack("a", 0, 4999);
  assertEquals(t.committable(), [{ topic: "a", partition: 0, offset: 5001 }]);
});

Deno.test("offsets: reset forgets partitions (a rebalance re-delivers from the commit)", () => {
  const t = new OffsetTracker();
  t.track("a", 0, 0);
  t.reset();
  assertEquals(t.pendingCount(), 0);
  t.track("a", 0, 0);
  t.ack("a", 0, 0);
  assertEquals(t.committable(), [{ topic: "a", partition: 0, offset: 1 }]);
});
