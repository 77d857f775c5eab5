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
} from "../../transfer/testing.ts";

const { kafka: brokers } = endpointsFromEnv();
const main = new URL("../../transfer/main.ts", import.meta.url).pathname;

interface TransferProcess {
  child: Deno.ChildProcess;
  /** The last lines it wrote to stderr (for failure messages). */
  tail: string[];
  output: Promise<void>;
}

function spawnTransfer(name: string): TransferProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      main,
      ...["--topic", name, "--group", name, "--index-prefix", name],
      ...["--dead-letter-topic", `${name}-dlq`, "--metrics-addr", "", "--index-replicas", "0"],
      // Small bulks, one at a time: the kill lands while bulks are being sent.
      ...["--bulk-max-docs", "250", "--max-in-flight", "1", "--bulk-linger-ms", "100"],
      // The killed member holds its partitions until its session expires.
      ...["--session-timeout-ms", "6000"],
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const tail: string[] = [];
  const output = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      tail.push(...decoder.decode(chunk).split("\n").filter(Boolean));
      tail.splice(0, Math.max(0, tail.length - 30));
    }
  })();
  return { child, tail, output };
}

Deno.test({
  name: "transfer: kill -9 mid-batch and restart → N documents, no duplicates; SIGTERM exits 0",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const name = uniqueName("crash");
    const config = testConfig(name);
    const engine = await createEngine({ url: config.searchUrl });
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
    let running: TransferProcess | undefined;
    try {
      await produce(brokers, name, envelopeRecords(envelopes));

      running = spawnTransfer(name);
      const partly = await waitForCount(engine, `${name}-*`, (n) => n >= 2_000, 60_000);
      running.child.kill("SIGKILL");
      const status = await running.child.status;
      await running.output;
      assertEquals(status.signal, "SIGKILL");
      running = undefined;
      assertEquals(partly < N, true, `everything was indexed (${partly}) before the kill`);

      // Whatever was committed was indexed first.
      const committed = await committedSum(brokers, name, name);
      const indexed = await waitForCount(engine, `${name}-*`, () => true, 5_000);
      assertEquals(committed <= indexed, true, `committed ${committed} > indexed ${indexed}`);
      assertEquals(indexed < N, true);

      running = spawnTransfer(name);
      const after = await waitForCount(engine, `${name}-*`, (n) => n >= N, 90_000);
      assertEquals(after, N, running.tail.join("\n"));
      await eventually(
        "all offsets committed",
        async () => (await committedSum(brokers, name, name)) === N ? true : undefined,
        15_000,
      );

      running.child.kill("SIGTERM");
      const stopped = await running.child.status;
      await running.output;
      assertEquals(stopped.code, 0, running.tail.join("\n"));
      assertEquals(running.tail.some((l) => l.includes("stopped:")), true, running.tail.join("\n"));
      running = undefined;
      // Exactly N: records indexed twice (before and after the kill) kept their _id.
      assertEquals(await engine.count(`${name}-*`), N);
    } finally {
      if (running) {
        running.child.kill("SIGKILL");
        await running.child.status;
        await running.output.catch(() => {});
      }
      await cleanUpTest(config, engine);
    }
  },
});
