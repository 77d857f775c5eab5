import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { sleep } from "../core/backoff.ts";
import { tailFile } from "../core/child.ts";
import {
  commandLine,
  isAlive,
  launchDetached,
  ownedPid,
  parsePid,
  terminate,
  waitUntil,
} from "./process.ts";

async function which(program: string): Promise<string> {
  const out = await new Deno.Command("sh", { args: ["-c", `command -v ${program}`] }).output();
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("parsePid accepts a positive integer only", () => {
  assertEquals(parsePid("1234\n"), 1234);
  assertEquals(parsePid(""), undefined);
  assertEquals(parsePid("0"), undefined);
  assertEquals(parsePid("12ab"), undefined);
});

Deno.test("waitUntil returns the first value, or fails with the last error after the timeout", async () => {
  let calls = 0;
  assertEquals(
    await waitUntil(() => Promise.resolve(++calls >= 3 ? "ok" : undefined), {
      timeoutMs: 5000,
      intervalMs: 1,
    }),
    "ok",
  );
  let message = "";
  try {
    await waitUntil(() => Promise.reject(new Error("refused")), { timeoutMs: 50, intervalMs: 10 });
  } catch (error) {
    message = (error as Error).message;
  }
  assert(message.includes("last error: refused"), message);
});

Deno.test("a detached process is found by its pid file, survives, and is terminated", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-process-test-" });
  try {
    const pidFile = `${dir}/sleeper.pid`;
    const logFile = `${dir}/sleeper.log`;
    // Run `sleep` through a link in the temp dir so the marker (the dir) is on its command line,
    // as a service's data dir is on its own.
    await Deno.symlink(await which("sleep"), `${dir}/sleep`);
    const pid = await launchDetached({
      command: ["sh", "-c", `echo started; exec ${dir}/sleep 60`],
      cwd: dir,
      logFile,
      pidFile,
    });
    assert(await isAlive(pid));
    await waitUntil(async () => (await commandLine(pid)).startsWith(`${dir}/sleep`) || undefined, {
      timeoutMs: 5000,
      intervalMs: 20,
    });
    assertEquals(await ownedPid(pidFile, dir), pid);
    assertEquals(await ownedPid(pidFile, "/some/other/marker"), undefined, "a stranger's pid");
    assertEquals(await terminate(pid, 5000), "exited");
    assertEquals(await isAlive(pid), false);
    assertEquals(await ownedPid(pidFile, dir), undefined);
    assertEquals(await tailFile(logFile, 5), ["started"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("terminate kills a process that ignores SIGTERM after the grace period", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-process-test-" });
  try {
    const pid = await launchDetached({
      command: ["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"],
      cwd: dir,
      logFile: `${dir}/stubborn.log`,
      pidFile: `${dir}/stubborn.pid`,
    });
    // Until the shell has set its trap, SIGTERM would still end it.
    await waitUntil(async () => (await commandLine(pid)).includes("trap") || undefined, {
      timeoutMs: 5000,
      intervalMs: 20,
    });
    await sleep(100);
    const started = Date.now();
    assertEquals(await terminate(pid, 500), "killed");
    assert(Date.now() - started >= 500);
    assertEquals(await isAlive(pid), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a service launched under `flock` does not keep the lock", async () => {
  // `flock LOCK deno task stack:up` hands its lock to deno as fd 3; a service that inherited it
  // would hold the lock for as long as it runs, and every later `flock LOCK …` would wait forever.
  const dir = await Deno.makeTempDir({ prefix: "sluice-process-test-" });
  let pid: number | undefined;
  try {
    const lock = `${dir}/stack.lock`;
    const module = new URL("./process.ts", import.meta.url).href;
    const code = `import { launchDetached } from "${module}";
      console.log(await launchDetached({ command: ["sleep", "60"], cwd: "${dir}",
        logFile: "${dir}/sleeper.log", pidFile: "${dir}/sleeper.pid" }));`;
    const launched = await new Deno.Command("flock", {
      args: [lock, Deno.execPath(), "eval", code],
      stderr: "inherit",
    }).output();
    assertEquals(launched.code, 0);
    pid = Number(new TextDecoder().decode(launched.stdout).trim());
    assert(await isAlive(pid));
    const free = await new Deno.Command("flock", { args: ["-n", lock, "true"] }).output();
    assertEquals(free.code, 0, "the lock is still held after the launcher exited");
  } finally {
    if (pid) await terminate(pid, 2000);
    await Deno.remove(dir, { recursive: true });
  }
});
