import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { describeOwners, isListening, parseSsListeners } from "./ports.ts";

// Copied from `ss -ltnpH` on a machine running the temporary etcd and Kafka.
const SS_OUTPUT = `LISTEN 0      128               0.0.0.0:2024 0.0.0.0:*
LISTEN 0      4096            127.0.0.1:2379 0.0.0.0:* users:(("etcd",pid=3249,fd=8))
LISTEN 0      4096            127.0.0.1:2380 0.0.0.0:* users:(("etcd",pid=3249,fd=7))
LISTEN 0      50     [::ffff:127.0.0.1]:9092       *:* users:(("java",pid=3026,fd=142))
LISTEN 0      511                  [::]:80        [::]:* users:(("nginx",pid=10,fd=6),("nginx",pid=11,fd=6))
LISTEN 0      4096      127.0.0.1%lo:53 0.0.0.0:*
`;

Deno.test("parseSsListeners reads port, address and owners of each line", () => {
  const listeners = parseSsListeners(SS_OUTPUT);
  assertEquals(listeners.map((l) => l.port), [2024, 2379, 2380, 9092, 80, 53]);
  assertEquals(listeners[1], {
    port: 2379,
    address: "127.0.0.1",
    owners: [{ pid: 3249, program: "etcd" }],
  });
  assertEquals(listeners[3].address, "::ffff:127.0.0.1");
  assertEquals(listeners[3].owners, [{ pid: 3026, program: "java" }]);
  assertEquals(listeners[4].owners.map((o) => o.pid), [10, 11]);
  assertEquals(listeners[5].address, "127.0.0.1");
  assertEquals(listeners[0].owners, []);
});

Deno.test("parseSsListeners skips headers, blank and non-LISTEN lines", () => {
  const text = "State Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n\n" +
    "ESTAB 0 0 127.0.0.1:5000 127.0.0.1:6000\n";
  assertEquals(parseSsListeners(text), []);
});

Deno.test("describeOwners names each pid once, or says it cannot see them", () => {
  const listeners = parseSsListeners(SS_OUTPUT);
  assertEquals(
    describeOwners(listeners.filter((l) => l.port === 2379 || l.port === 2380)),
    "pid 3249 (etcd)",
  );
  assertEquals(
    describeOwners(listeners.filter((l) => l.port === 80)),
    "pid 10 (nginx), pid 11 (nginx)",
  );
  assertEquals(
    describeOwners(listeners.filter((l) => l.port === 2024)),
    "an unknown process (run `ss -ltnp` as root to see it)",
  );
});

Deno.test("isListening sees a real listener and its absence", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const accepting = (async () => {
    for await (const conn of listener) conn.close();
  })();
  assertEquals(await isListening("127.0.0.1", port), true);
  listener.close();
  await accepting.catch(() => {});
  assertEquals(await isListening("127.0.0.1", port), false);
});
