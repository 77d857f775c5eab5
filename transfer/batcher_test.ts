import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { Batcher } from "./batcher.ts";

Deno.test("batcher: full at maxItems", () => {
  const b = new Batcher<number>({ maxItems: 3, maxBytes: 1_000_000, lingerMs: 1000 });
  assertEquals(b.add(1, 10, 0), []);
  assertEquals(b.add(2, 10, 0), []);
  assertEquals(b.add(3, 10, 0), [[1, 2, 3]]);
  assertEquals(b.size, 0);
  assertEquals(b.bytes, 0);
});

Deno.test("batcher: an item that would overflow maxBytes starts the next batch", () => {
  const b = new Batcher<string>({ maxItems: 100, maxBytes: 100, lingerMs: 1000 });
  assertEquals(b.add("a", 60, 0), []);
  assertEquals(b.add("b", 50, 0), [["a"]]);
  assertEquals(b.size, 1);
  assertEquals(b.bytes, 50);
});

Deno.test("batcher: reaching maxBytes exactly completes the batch", () => {
  const b = new Batcher<string>({ maxItems: 100, maxBytes: 100, lingerMs: 1000 });
  assertEquals(b.add("a", 40, 0), []);
  assertEquals(b.add("b", 60, 0), [["a", "b"]]);
});

Deno.test("batcher: an item larger than maxBytes is a batch of its own", () => {
  const b = new Batcher<string>({ maxItems: 100, maxBytes: 100, lingerMs: 1000 });
  assertEquals(b.add("a", 10, 0), []);
  assertEquals(b.add("huge", 500, 0), [["a"], ["huge"]]);
  assertEquals(b.size, 0);
});

Deno.test("batcher: linger counts from the first item of the batch", () => {
  const b = new Batcher<string>({ maxItems: 100, maxBytes: 1000, lingerMs: 50 });
  assertEquals(b.due(1_000), false);
  assertEquals(b.dueAt, undefined);
  b.add("a", 1, 100);
  b.add("b", 1, 140);
  assertEquals(b.dueAt, 150);
  assertEquals(b.due(149), false);
  assertEquals(b.due(150), true);
  assertEquals(b.take(), ["a", "b"]);
  assertEquals(b.due(10_000), false);
  b.add("c", 1, 10_000);
  assertEquals(b.dueAt, 10_050);
});

Deno.test("batcher: the next batch's clock starts when an overflow splits", () => {
  const b = new Batcher<string>({ maxItems: 100, maxBytes: 10, lingerMs: 50 });
  b.add("a", 8, 0);
  b.add("b", 8, 30);
  assertEquals(b.dueAt, 80);
});

Deno.test("batcher: nonsense limits are refused", () => {
  throws(() => new Batcher({ maxItems: 0, maxBytes: 1, lingerMs: 0 }), RangeError);
});
