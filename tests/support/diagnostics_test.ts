import { equal, match, ok, rejects } from "node:assert/strict";
import { explained, formatReport, readProbe, withDiagnostics } from "./diagnostics.ts";

Deno.test("withDiagnostics: a failure is rethrown with the probes' readings and each process's last lines", async () => {
  let cleanedUp = false;
  const error = await rejects(
    withDiagnostics(async (d) => {
      const printer = d.spawn({
        name: "printer",
        command: [Deno.execPath(), "eval"],
        args: [
          'for (let i = 0; i < 100; i++) console.log(`line ${i}`); console.error("an error line"); ' +
          "setInterval(() => {}, 1000);",
        ],
      });
      d.probe("documents in the index", () => Promise.resolve(42));
      d.probe("records in the topic", () => {
        throw new Error("broker unreachable");
      });
      d.defer(() => (cleanedUp = true));
      while (!printer.lines.includes("an error line")) await new Promise((r) => setTimeout(r, 20));
      throw new Error("timed out waiting for 300 documents");
    }),
    (e: Error) => {
      match(e.message, /^timed out waiting for 300 documents\n/);
      match(e.message, /documents in the index: 42/);
      match(e.message, /records in the topic: \(failed: broker unreachable\)/);
      match(e.message, /printer \(pid \d+, running\)/);
      match(e.message, /\| line 99\n/);
      match(e.message, /\| an error line/);
      ok(!/\| line 59\n/.test(e.message), "only the last 40 lines are shown");
      ok(e.cause instanceof Error);
      return true;
    },
  );
  equal(error, undefined);
  ok(cleanedUp, "clean-ups run after a failure");
});

Deno.test("withDiagnostics: on success the processes are stopped and nothing is reported", async () => {
  let pid = 0;
  const value = await withDiagnostics(async (d) => {
    const sleeper = d.spawn({
      name: "sleeper",
      command: [Deno.execPath(), "eval", "setInterval(() => {}, 1000)"],
    });
    pid = sleeper.pid;
    return await Promise.resolve("done");
  });
  equal(value, "done");
  ok(pid > 0);
  // The process is gone: signalling it fails.
  let alive = true;
  try {
    Deno.kill(pid, "SIGCONT");
  } catch {
    alive = false;
  }
  ok(!alive, `pid ${pid} still running after withDiagnostics returned`);
});

Deno.test("readProbe: a hanging probe is cut off and a value is shown as JSON", async () => {
  equal(await readProbe(() => new Promise(() => {}), 50), "(no answer within 50 ms)");
  equal(await readProbe(() => ({ lag: 3 })), '{"lag":3}');
  equal(await readProbe(() => "12 records"), "12 records");
});

Deno.test("explained: the original message first, the report after it, the original as cause", () => {
  const original = new Error("boom");
  const e = explained(original, formatReport(["  a: 1"], []));
  ok(e.message.startsWith("boom\n--- what the test waited on, when it failed ---\n  a: 1\n"));
  match(e.stack ?? "", /^Error: boom\n\s+at /, "the stack names where it failed, once");
  equal(e.cause, original);
});
