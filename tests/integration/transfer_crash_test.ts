/**
 * `kill -9` of a transfer process in the middle of its bulks, then a restart: no committed offset
 * is ahead of what was indexed, the restarted transfer finishes the topic, every record is there
 * exactly once (_id = event id), and a SIGTERM then stops it cleanly with exit code 0.
 */
import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { endpointsFromEnv } from "../../core/endpoints.ts";
import { createEngine } from "../../transfer/engine.ts";
import {
  cleanUpTest,
  committedSum,
  envelopeRecords,
  eventually,
  makeEnvelopes,
  produce,
  testConfig,
  uniqueName,
  waitForCount,
} from "../support/transfer_rig.ts";
import {
  consumerLagProbe,
  type Diagnostics,
  documentsProbe,
  topicRecordsProbe,
  withDiagnostics,
} from "../support/diagnostics.ts";
import type { TestProcess } from "../support/process.ts";

const { kafka: brokers, search } = endpointsFromEnv();
/** A transfer process on topic, group and index prefix `name`, tracked by `d`. */
function spawnTransfer(d: Diagnostics, name: string): TestProcess {
  return d.spawn({
    name: "transfer",
    script: "transfer/main.ts",
    args: [
      ...["--topic", name, "--group", name, "--index-prefix", name],
      ...["--dead-letter-topic", `${name}-dlq`, "--metrics-addr", "", "--index-replicas", "0"],
      // The engine under test (a child gets none of our SLUICE_* variables).
      ...["--search-url", search],
      // Small bulks, one at a time: the kill lands while bulks are being sent.
      ...["--bulk-max-docs", "250", "--max-in-flight", "1", "--bulk-linger-ms", "100"],
      // The killed member holds its partitions until its session expires.
      ...["--session-timeout-ms", "6000"],
    ],
  });
}

Deno.test({
  name: "transfer: kill -9 mid-batch and restart → N documents, no duplicates; SIGTERM exits 0",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withDiagnostics(async (d) => {
      const name = uniqueName("crash");
      const config = testConfig(name);
      const engine = await createEngine({ url: config.searchUrl });
      d.defer(() => cleanUpTest(config, engine));
      d.probe(`records in ${name}`, topicRecordsProbe({ brokers }, name));
      d.probe(`transfer group ${name}`, consumerLagProbe({ brokers }, name, name));
      d.probe(`documents in ${name}-*`, documentsProbe(engine, `${name}-*`));
      const envelopes = [
        ...makeEnvelopes({
          count: 10_000,
          source: "web",
          host: "a",
          start: Date.parse("2024-07-01T00:00:00Z"),
          stepMs: 50,
        }),
        ...makeEnvelopes({
          count: 10_000,
          source: "web",
          host: "b",
          start: Date.parse("2024-07-01T00:00:00Z"),
          stepMs: 50,
        }),
      ];
      const N = envelopes.length;
      await produce(brokers, name, envelopeRecords(envelopes));

      const first = spawnTransfer(d, name);
      const partly = await waitForCount(engine, `${name}-*`, (n) => n >= 2_000, 60_000);
      await first.kill9();
      assertEquals(first.status?.signal, "SIGKILL");
      assertEquals(partly < N, true, `everything was indexed (${partly}) before the kill`);

      // Whatever was committed was indexed first.
      const committed = await committedSum(brokers, name, name);
      const indexed = await waitForCount(engine, `${name}-*`, () => true, 5_000);
      assertEquals(committed <= indexed, true, `committed ${committed} > indexed ${indexed}`);
      assertEquals(indexed < N, true);

      const running = spawnTransfer(d, name);
      const tail = () => running.lines.slice(-30);
      const after = await waitForCount(engine, `${name}-*`, (n) => n >= N, 90_000);
      assertEquals(after, N, tail().join("\n"));
      await eventually(
        "all offsets committed",
        async () => (await committedSum(brokers, name, name)) === N ? true : undefined,
        15_000,
      );

      running.signal("SIGTERM");
      const stopped = await running.exited;
      assertEquals(stopped.code, 0, tail().join("\n"));
      assertEquals(tail().some((l) => l.includes("stopped:")), true, tail().join("\n"));
      // Exactly N: records indexed twice (before and after the kill) kept their _id.
      assertEquals(await engine.count(`${name}-*`), N);
    }),
});
