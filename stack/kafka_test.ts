import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { newClusterId, renderServerProperties } from "./kafka.ts";

function parseProperties(text: string): Map<string, string> {
  const entries = text.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => {
    const eq = l.indexOf("=");
    return [l.slice(0, eq), l.slice(eq + 1)] as [string, string];
  });
  return new Map(entries);
}

Deno.test("renderServerProperties makes a single-node KRaft broker on loopback", () => {
  const props = parseProperties(renderServerProperties("/data/kafka"));
  assertEquals(props.get("process.roles"), "broker,controller");
  assertEquals(props.get("controller.quorum.voters"), "1@127.0.0.1:9093");
  assertEquals(props.get("listeners"), "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093");
  assertEquals(props.get("advertised.listeners"), "PLAINTEXT://127.0.0.1:9092");
  assertEquals(props.get("log.dirs"), "/data/kafka");
  // One broker: anything above 1 would leave internal topics without leaders.
  for (
    const key of [
      "offsets.topic.replication.factor",
      "transaction.state.log.replication.factor",
      "transaction.state.log.min.isr",
      "min.insync.replicas",
    ]
  ) {
    assertEquals(props.get(key), "1", key);
  }
  assertEquals(props.get("group.initial.rebalance.delay.ms"), "0");
  assertEquals(props.get("auto.create.topics.enable"), "true");
});

Deno.test("renderServerProperties writes each key once", () => {
  const keys = renderServerProperties("/d").split("\n").filter((l) => l && !l.startsWith("#"))
    .map((l) => l.split("=")[0]);
  assertEquals(new Set(keys).size, keys.length);
});

Deno.test("newClusterId is 22 URL-safe base64 characters", () => {
  for (let i = 0; i < 200; i++) assertMatch(newClusterId(), /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
});

Deno.test("newClusterId draws again when the id would start with '-'", () => {
  let calls = 0;
  const id = newClusterId((bytes) => {
    calls++;
    bytes.fill(calls === 1 ? 0xf8 : 0x00); // 0xf8 → first base64 digit 62 → "-"
    return bytes;
  });
  assertEquals(calls, 2);
  assert(id.startsWith("A"), id);
});
