/**
 * `deno task config:*` as a user runs it: the CLI as a subprocess against the real etcd, checking
 * exit codes (0/2/3/4) and what it prints. Each test uses its own random prefix and deletes it.
 * @module
 */
import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
} from "node:assert/strict";
import { endpointsFromEnv } from "../../core/endpoints.ts";
import type { ConfigPlane } from "../../config_plane/mod.ts";
import { planeTest } from "./plane_support.ts";

const root = new URL("../../", import.meta.url).pathname;
const cli = `${root}config_plane/main.ts`;
const endpoints = endpointsFromEnv().etcd;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(prefix: string, ...args: string[]): Promise<Run> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, ...args],
    cwd: root,
    env: {
      SLUICE_ETCD_PREFIX: prefix,
      SLUICE_ETCD_ENDPOINTS: endpoints.join(","),
      SLUICE_AUTHOR: "tester",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/** planeTest with a temp dir of its own for the files the CLI reads and writes. */
function cliTest(
  name: string,
  fn: (prefix: string, plane: ConfigPlane, dir: string) => Promise<void>,
): Deno.TestDefinition {
  return planeTest(name, async (plane, prefix) => {
    const dir = await Deno.makeTempDir({ prefix: "sluice-cli-test-" });
    try {
      await fn(prefix, plane, dir);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

const example = `${root}examples/fleet.yaml`;

Deno.test(
  cliTest(
    "apply prints the plan and the new revision; the same file again appends nothing",
    async (prefix, plane) => {
      const first = await run(prefix, "apply", example, "-m", "first sources");
      assertEquals(first.code, 0, first.stderr);
      assertMatch(first.stdout, /\+ source nginx-access/);
      assertMatch(first.stdout, /Plan: 3 to add, 0 to change, 0 to remove, defaults changed\./);
      assertMatch(first.stdout, /Applied as revision 1 \(planned on 0\) by tester\./);
      const again = await run(prefix, "apply", example, "-m", "again");
      assertEquals(again.code, 0, again.stderr);
      assertMatch(again.stdout, /Nothing to change: revision 1 already is this state/);
      assertEquals(await plane.head(), 1);
      const event = (await plane.event(1))!;
      assertEquals([event.author, event.message], ["tester", "first sources"]);
    },
  ),
);

Deno.test(
  cliTest(
    "an invalid file exits 2 naming the file and field, and nothing is written",
    async (prefix, plane, dir) => {
      const file = `${dir}/bad.yaml`;
      await Deno.writeTextFile(
        file,
        "sources:\n  - id: app\n    path: /var/log/app.log\n    topic: logs\n",
      );
      const result = await run(prefix, "apply", file, "-m", "bad");
      assertEquals(result.code, 2);
      assert(
        result.stderr.includes(`${file}: sources[0].paths is required but missing`),
        result.stderr,
      );
      assert(
        result.stderr.includes(
          `${file}: sources[0].path is not a known field; did you mean "paths"?`,
        ),
        result.stderr,
      );
      const validate = await run(prefix, "validate", file);
      assertEquals(validate.code, 2);
      const noMessage = await run(prefix, "apply", example);
      assertEquals(noMessage.code, 2);
      assertMatch(noMessage.stderr, /needs -m WHY/);
      const missing = await run(prefix, "apply", `${dir}/nope.yaml`, "-m", "x");
      assertEquals(missing.code, 2);
      assertMatch(missing.stderr, /nope\.yaml: no such file/);
      assertEquals(await plane.head(), 0);
      assertEquals(await plane.kv.getAll().prefix("config/").count(), 0);
    },
  ),
);

Deno.test(
  cliTest(
    "two concurrent applies planned on the same head: one appends, the other exits 3",
    async (prefix, plane, dir) => {
      assertEquals((await run(prefix, "apply", example, "-m", "base")).code, 0);
      const a = `${dir}/a.yaml`;
      const b = `${dir}/b.yaml`;
      await Deno.writeTextFile(a, "defaults: {topic: logs}\nsources:\n  - {id: a, paths: [/a]}\n");
      await Deno.writeTextFile(b, "defaults: {topic: logs}\nsources:\n  - {id: b, paths: [/b]}\n");
      const results = await Promise.all([
        run(prefix, "apply", a, "-m", "ann's change", "--base", "1"),
        run(prefix, "apply", b, "-m", "bob's change", "--base", "1"),
      ]);
      assertEquals(
        results.map((r) => r.code).sort(),
        [0, 3],
        results.map((r) => r.stderr).join("\n"),
      );
      const loser = results.find((r) => r.code === 3)!;
      assertMatch(
        loser.stderr,
        /planned against revision 1, but the head is now revision 2 by tester/,
      );
      assertMatch(loser.stderr, /re-run the command/);
      assertEquals(await plane.head(), 2);
    },
  ),
);

Deno.test(
  cliTest(
    "an apply planned on an old --base exits 3 even when it changes nothing there",
    async (prefix, plane, dir) => {
      assertEquals((await run(prefix, "apply", example, "-m", "one")).code, 0);
      const other = `${dir}/other.yaml`;
      await Deno.writeTextFile(
        other,
        "defaults: {topic: logs}\nsources:\n  - {id: a, paths: [/a]}\n",
      );
      assertEquals((await run(prefix, "apply", other, "-m", "two")).code, 0);
      // The file is the state of revision 1, not of the head: "nothing to change" would be false.
      const stale = await run(prefix, "apply", example, "-m", "back", "--base", "1");
      assertEquals(stale.code, 3, stale.stdout + stale.stderr);
      assertMatch(stale.stderr, /planned against revision 1, but the head is now revision 2/);
      assertEquals(await plane.head(), 2);
    },
  ),
);

Deno.test(cliTest("history, show, diff, rollback and dry runs", async (prefix, plane, dir) => {
  const changed = `${dir}/changed.yaml`;
  await Deno.writeTextFile(
    changed,
    (await Deno.readTextFile(example)).replace("lines_per_sec: 2000", "lines_per_sec: 3000"),
  );
  assertEquals((await run(prefix, "apply", example, "-m", "one")).code, 0);
  const dry = await run(prefix, "apply", changed, "-m", "two", "--dry-run");
  assertEquals(dry.code, 0);
  assertMatch(dry.stdout, /rate\.lines_per_sec: 2000 → 3000/);
  assertMatch(dry.stdout, /Dry run: nothing appended/);
  assertEquals(await plane.head(), 1);
  assertEquals((await run(prefix, "apply", changed, "-m", "two")).code, 0);

  const diff = await run(prefix, "diff", "1", "2", "--json");
  assertEquals(diff.code, 0);
  assertEquals(JSON.parse(diff.stdout).plan.changed[0].changes, [{
    path: "rate.lines_per_sec",
    from: 2000,
    to: 3000,
  }]);

  const rollback = await run(prefix, "rollback", "1", "-m", "too fast");
  assertEquals(rollback.code, 0, rollback.stderr);
  assertMatch(rollback.stdout, /rate\.lines_per_sec: 3000 → 2000/);
  assertMatch(rollback.stdout, /Applied as revision 3/);
  assertEquals(await plane.stateAt(3), await plane.stateAt(1));

  const history = JSON.parse((await run(prefix, "history", "--json")).stdout);
  assertEquals(
    history.map((
      e: { seq: number; message: string; rollback_of?: number },
    ) => [e.seq, e.message, e.rollback_of]),
    [
      [3, "too fast", 1],
      [2, "two", undefined],
      [1, "one", undefined],
    ],
  );
  const table = await run(prefix, "history", "--limit", "1");
  assertMatch(table.stdout, /3 .* tester .* rollback to 1 .* too fast/);
  assert(!table.stdout.includes(" two"), table.stdout);

  const show = JSON.parse((await run(prefix, "show", "2", "--json")).stdout);
  assertEquals(show.state, await plane.stateAt(2));
  const yaml = await run(prefix, "show");
  assertMatch(
    yaml.stdout,
    /^# revision 3 \(head 3\)\nsources:|^# revision 3 \(head 3\)\ndefaults:/,
  );
  const missing = await run(prefix, "show", "9");
  assertEquals(missing.code, 2);
  assertMatch(missing.stderr, /revision 9 does not exist: the head is 3/);
}));

Deno.test(
  cliTest(
    "import turns logagent configs from a file, a key and a key prefix into revisions",
    async (prefix, plane) => {
      const file = await run(
        prefix,
        "import",
        "--format",
        "logagent-list",
        `${root}examples/logagent-list.json`,
      );
      assertEquals(file.code, 0, file.stderr);
      assertMatch(file.stdout, /\+ source web_log-access/);
      const key = `${prefix}/logagent/10.0.0.9/logconfig`;
      await plane.client.put(key).value(
        JSON.stringify([{
          service: "api",
          log_path: "/var/log/api.log",
          topic: "api_log",
          send_rate: 50,
        }]),
      );
      await plane.client.put(`${prefix}/logagent/10.0.0.10/logconfig`).value(
        JSON.stringify([{ service: "api", log_path: "/var/log/api.log", topic: "api_log" }]),
      );
      const one = await run(
        prefix,
        "import",
        "--format",
        "logagent-host-key",
        key,
        "-m",
        "move 10.0.0.9 over",
      );
      assertEquals(one.code, 0, one.stderr);
      const all = await run(
        prefix,
        "import",
        "--format",
        "logagent-host-key",
        `${prefix}/logagent`,
      );
      assertEquals(all.code, 0, all.stderr);
      assertMatch(all.stdout, /\+ source api-10.0.0.10/);
      const state = await plane.stateAt(3);
      const api = state.sources.find((s) => s.id === "api-10.0.0.9")!;
      assertEquals([api.hosts, api.rate], [{ names: ["10.0.0.9"] }, { lines_per_sec: 50 }]);
      assertEquals((await plane.event(2))!.import_of, `logagent-host-key:${key}`);
      const bad = await run(
        prefix,
        "import",
        "--format",
        "logagent-list",
        `${prefix}/nothing-here`,
      );
      assertEquals(bad.code, 2);
      assertMatch(bad.stderr, /neither a file nor an etcd key/);
      const noFormat = await run(prefix, "import", key);
      assertEquals(noFormat.code, 2);
    },
  ),
);

Deno.test(
  cliTest(
    "status lists live agents and whether the fleet converged on the head",
    async (prefix, plane) => {
      assertEquals((await run(prefix, "apply", example, "-m", "one")).code, 0);
      const now = new Date().toISOString();
      const agent = await plane.registerAgent({
        agent_id: "web-1",
        host: "web-1",
        labels: { role: "web" },
        seq: 1,
        started_at: now,
        heartbeat_at: now,
        version: "test",
        sources: {
          "app-json": { state: "running", files: 2 },
          "nginx-access": { state: "running", files: 1 },
          "nginx-error": {
            state: "error",
            files: 0,
            last_error: "EACCES: /var/log/nginx/error.log",
          },
        },
      }, { ttlSeconds: 10 });
      try {
        const text = await run(prefix, "status");
        assertEquals(text.code, 1, "a fleet that has not converged exits 1");
        assertMatch(
          text.stdout,
          /web-1 {2}host web-1 {2}labels role=web {2}runs revision 1 {2}NOT converged: sources in error: nginx-error/,
        );
        assertMatch(text.stdout, /nginx-error: error \(0 files\) {2}error: EACCES/);
        assertMatch(text.stdout, /Fleet NOT converged on revision 1: 1 of 1 agents differ\./);
        const gaveUp = await run(prefix, "status", "--wait", "1");
        assertEquals(gaveUp.code, 1);
        assertMatch(gaveUp.stdout, /1 of 1 agents differ after waiting 1 s\./);
        // --wait returns as soon as the agent reports the source healthy again.
        const waiting = run(prefix, "status", "--wait", "20");
        await new Promise((resolve) => setTimeout(resolve, 1500));
        await agent.update({
          agent_id: "web-1",
          host: "web-1",
          labels: { role: "web" },
          seq: 1,
          started_at: now,
          heartbeat_at: new Date().toISOString(),
          version: "test",
          sources: {
            "app-json": { state: "running", files: 2 },
            "nginx-access": { state: "running", files: 1 },
            "nginx-error": { state: "waiting", files: 0 },
          },
        });
        const waited = await waiting;
        assertEquals(waited.code, 0, waited.stdout + waited.stderr);
        assertMatch(waited.stdout, /Fleet converged on revision 1 \(1 agent\)\./);
        const timedOut = await run(prefix, "status", "--wait", "1", "--json");
        assertEquals(timedOut.code, 0, "converged fleet: no wait needed");
        const json = JSON.parse(timedOut.stdout);
        assertEquals([json.head, json.converged, json.agents[0].agent.agent_id], [
          1,
          true,
          "web-1",
        ]);
      } finally {
        await agent.close();
      }
      const empty = await run(prefix, "status");
      assertMatch(empty.stdout, /No live agents/);
    },
  ),
);

Deno.test(
  cliTest(
    "an unreachable etcd exits 4 quickly with what to do; --help documents exit codes",
    async (prefix) => {
      const started = Date.now();
      const down = await run(prefix, "history", "--endpoints", "http://127.0.0.1:1");
      assertEquals(down.code, 4);
      assertMatch(down.stderr, /etcd at http:\/\/127\.0\.0\.1:1 is unreachable/);
      assertMatch(down.stderr, /deno task stack:up/);
      assert(Date.now() - started < 10_000, "must fail fast, not hang");
      for (
        const sub of [
          "apply",
          "rollback",
          "history",
          "show",
          "diff",
          "status",
          "validate",
          "import",
        ]
      ) {
        const help = await run(prefix, sub, "--help");
        assertEquals(help.code, 0, sub);
        assertMatch(help.stdout, /Exit codes:/, sub);
      }
      const unknown = await run(prefix, "frobnicate");
      assertEquals(unknown.code, 2);
      assertMatch(unknown.stderr, /unknown command 'frobnicate'/);
    },
  ),
);

Deno.test(
  cliTest(
    "history lists events written past append by a foreign writer instead of failing",
    async (prefix, plane) => {
      assertEquals((await run(prefix, "apply", example, "-m", "one")).code, 0);
      // Someone with etcd access writes seq 2 (no JSON) and seq 3 (JSON, not a valid event).
      await plane.kv.put("config/events/00000000000000000002").value("{oops");
      await plane.kv.put("config/events/00000000000000000003").value(
        JSON.stringify({ seq: 3, ops: "not a list" }),
      );
      await plane.kv.put("config/head").value("3");
      const history = await run(prefix, "history");
      assertEquals(history.code, 0, history.stderr);
      assertMatch(history.stdout, /^3 .*REFUSED: not a valid event, agents skip it/m);
      assertMatch(history.stdout, /^1 .*tester .*one$/m);
      assertMatch(history.stderr, /config event 2 cannot be read and is skipped: "?not JSON/);
    },
  ),
);
