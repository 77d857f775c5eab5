import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { ServiceStatus } from "./stack.ts";
import { formatProblems, formatStatusTable } from "./table.ts";

const STATUSES: ServiceStatus[] = [
  {
    name: "etcd",
    state: "running",
    answering: true,
    managed: true,
    version: "3.4.23",
    address: "http://127.0.0.1:2379",
    pid: 4242,
    logFile: "/repo/.stack/etcd/etcd.log",
  },
  {
    name: "kafka",
    state: "stopped",
    answering: false,
    managed: true,
    address: "127.0.0.1:9092",
    logFile: "/repo/.stack/kafka/kafka.log",
    error: "nothing listens on 127.0.0.1:9092",
  },
  {
    name: "opensearch",
    state: "external",
    answering: true,
    managed: false,
    version: "opensearch 2.19.1",
    address: "http://search.internal:9200",
  },
];

Deno.test("formatStatusTable aligns columns and shortens log paths", () => {
  assertEquals(
    formatStatusTable(STATUSES, "/repo").split("\n"),
    [
      "SERVICE     STATE     VERSION            ADDRESS                      PID   LOG",
      "etcd        running   3.4.23             http://127.0.0.1:2379        4242  .stack/etcd/etcd.log",
      "kafka       stopped   -                  127.0.0.1:9092               -     .stack/kafka/kafka.log",
      "opensearch  external  opensearch 2.19.1  http://search.internal:9200  -     -",
    ],
  );
});

Deno.test("formatStatusTable keeps absolute paths outside the base", () => {
  const table = formatStatusTable([STATUSES[0]], "/elsewhere");
  assertEquals(table.split("\n")[1].endsWith("/repo/.stack/etcd/etcd.log"), true);
});

Deno.test("formatProblems lists only services that do not answer", () => {
  assertEquals(formatProblems(STATUSES), ["kafka: nothing listens on 127.0.0.1:9092"]);
  assertEquals(formatProblems([STATUSES[0]]), []);
});
