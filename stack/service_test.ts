import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { isManagedAddress, parseAddress, servicePaths } from "./service.ts";

Deno.test("parseAddress reads URLs, host:port pairs and IPv6", () => {
  assertEquals(parseAddress("http://127.0.0.1:2379", 2379), {
    host: "127.0.0.1",
    port: 2379,
    display: "http://127.0.0.1:2379",
  });
  assertEquals(parseAddress("kafka-1:19092", 9092).port, 19092);
  assertEquals(parseAddress("kafka-1", 9092).port, 9092);
  assertEquals(parseAddress("[::1]:9092", 9092).host, "[::1]");
  assertEquals(parseAddress("https://search.example.com", 9200).port, 443);
});

Deno.test("isManagedAddress: only the standard loopback address is ours", () => {
  assertEquals(isManagedAddress(parseAddress("127.0.0.1:9092", 9092), 9092), true);
  assertEquals(isManagedAddress(parseAddress("localhost:9092", 9092), 9092), true);
  assertEquals(isManagedAddress(parseAddress("[::1]:9092", 9092), 9092), true);
  assertEquals(isManagedAddress(parseAddress("127.0.0.1:19092", 9092), 9092), false);
  assertEquals(isManagedAddress(parseAddress("http://es.internal:9200", 9200), 9200), false);
});

Deno.test("servicePaths keeps each service's files in its own folder", () => {
  assertEquals(servicePaths("kafka", "/repo/.stack"), {
    dir: "/repo/.stack/kafka",
    logFile: "/repo/.stack/kafka/kafka.log",
    pidFile: "/repo/.stack/kafka/kafka.pid",
  });
});
