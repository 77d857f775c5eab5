/**
 * The console's JSON API against the real stack: config plan/apply/rollback with the CLI's
 * validation (400 + field errors) and conflict handling (409 naming the head), the author of
 * every write, access control, the fleet from live agent registrations, and log search over
 * documents indexed straight into a throwaway index prefix of OpenSearch.
 * @module
 */
import { deepStrictEqual as assertEquals, equal, ok as assert, rejects } from "node:assert/strict";
import { type AgentStatus, openConfigPlane } from "../../config_plane/mod.ts";
import { endpointsFromEnv } from "../../core/endpoints.ts";
import { InvalidInputError } from "../../core/errors.ts";
import { type ConsoleOptions, type RunningConsole, startConsole } from "../../console/server.ts";
import { testIndices } from "../support/console_rig.ts";
import { planeTest } from "./plane_support.ts";

const env = endpointsFromEnv();

/** planeTest with a console on that prefix (stopped before the prefix's keys are deleted). */
function withConsole(
  name: string,
  fn: (web: RunningConsole, prefix: string) => Promise<void>,
  options: ConsoleOptions = {},
): Deno.TestDefinition {
  return planeTest(name, async (_plane, prefix) => {
    const web = await startConsole({ port: 0, etcdPrefix: prefix, ...options });
    try {
      await fn(web, prefix);
    } finally {
      await web.stop();
    }
  }, { label: "sluice-console-test" });
}

async function call(
  web: RunningConsole,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${web.url}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

const V1 = `defaults: { topic: logs }
sources:
  - id: app
    paths: [/var/log/app/*.log]
`;
const V2 = `defaults: { topic: logs }
sources:
  - id: app
    paths: [/var/log/app/*.log]
    rate: { lines_per_sec: 100 }
  - id: web
    paths: [/var/log/nginx/access.log]
`;

Deno.test(withConsole("config: plan, apply, history, revision, diff, rollback", async (web) => {
  const plan = await call(web, "/api/config/plan", { text: V1 });
  equal(plan.status, 200);
  equal(plan.json.base, 0);
  assert(String(plan.json.text).includes("+ source app"), String(plan.json.text));

  const first = await call(web, "/api/config/apply", {
    text: V1,
    base: 0,
    message: "collect the app",
    author: "ann",
  });
  equal(first.status, 201, JSON.stringify(first.json));
  const event1 = first.json.appended as { seq: number; author: string };
  equal(event1.seq, 1);
  equal(event1.author, "ann");

  // The same request again (a retry, a double click) is the same change: "already applied",
  // not a second revision and not a conflict, although the head moved past base 0.
  const again = await call(web, "/api/config/apply", {
    text: V1,
    base: 0,
    message: "collect the app",
    author: "ann",
  });
  equal(again.status, 200, JSON.stringify(again.json));
  equal(again.json.created, false);
  equal((again.json.appended as { seq: number }).seq, 1);
  // Another reason is another change: planned on base 0, it is a conflict now.
  const other = await call(web, "/api/config/apply", {
    text: V1,
    base: 0,
    message: "another reason",
  });
  equal(other.status, 409, JSON.stringify(other.json));
  equal(other.json.head, 1);

  const second = await call(web, "/api/config/apply", {
    text: V2,
    base: 1,
    message: "throttle app, add web",
  });
  equal(second.status, 201);
  equal((second.json.appended as { author: string }).author, "console", "the default author");
  const plan2 = second.json.plan as { added: { id: string }[]; changed: { id: string }[] };
  assertEquals(plan2.added.map((s) => s.id), ["web"]);
  assertEquals(plan2.changed.map((s) => s.id), ["app"]);

  const history = await call(web, "/api/config/history");
  equal(history.json.head, 2);
  const revisions = history.json.revisions as { seq: number; author: string; message: string }[];
  assertEquals(revisions.map((r) => [r.seq, r.author, r.message]), [
    [2, "console", "throttle app, add web"],
    [1, "ann", "collect the app"],
  ]);

  const rev1 = await call(web, "/api/config/revisions/1");
  assertEquals((rev1.json.state as { sources: { id: string }[] }).sources.map((s) => s.id), [
    "app",
  ]);
  assert(String(rev1.json.yaml).includes("/var/log/app/*.log"));
  equal((await call(web, "/api/config/revisions/9")).status, 400, "past the head");

  const diff = await call(web, "/api/config/diff?from=1&to=2");
  assert(
    String(diff.json.text).includes('rate: (unset) → {"lines_per_sec":100}'),
    String(diff.json.text),
  );

  const rollback = await call(web, "/api/config/rollback", {
    revision: 1,
    base: 2,
    message: "web floods Kafka",
    author: "bob",
  });
  equal(rollback.status, 201, JSON.stringify(rollback.json));
  const event3 = rollback.json.appended as { seq: number; rollback_of: number; author: string };
  assertEquals([event3.seq, event3.rollback_of, event3.author], [3, 1, "bob"]);
  const rev3 = await call(web, "/api/config/revisions/3");
  assertEquals(rev3.json.state, rev1.json.state);

  // Rolling back again to the state the head already has appends nothing.
  const noop = await call(web, "/api/config/rollback", { revision: 1, message: "again" });
  equal(noop.status, 200);
  equal(noop.json.appended, null);
}));

Deno.test(
  withConsole("config: invalid input is a 400 with field errors, nothing appended", async (web) => {
    const missing = await call(web, "/api/config/apply", { text: V1 });
    equal(missing.status, 400);
    assertEquals((missing.json.errors as { path: string }[]).map((e) => e.path), [
      "message",
      "base",
    ]);

    const invalid = await call(web, "/api/config/apply", {
      text: "sources:\n  - id: Bad Id\n    paths: []\n",
      base: 0,
      message: "broken",
    });
    equal(invalid.status, 400);
    const paths = (invalid.json.errors as { path: string }[]).map((e) => e.path);
    assert(paths.some((p) => p.startsWith("sources[0]")), JSON.stringify(invalid.json));

    const yaml = await call(web, "/api/config/plan", { text: "sources: [\n" });
    equal(yaml.status, 400);
    assert(String(yaml.json.error).includes("line"), String(yaml.json.error));

    const form = await fetch(`${web.url}/api/config/apply`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "text=x",
    });
    equal(form.status, 415, "only JSON bodies: a cross-site form cannot write");
    await form.body?.cancel();

    equal((await call(web, "/api/config/history")).json.head, 0);
  }),
);

Deno.test(
  withConsole(
    "config: a change planned on an old head is a 409 naming the new head",
    async (web, prefix) => {
      const plan = await call(web, "/api/config/plan", { text: V1 });
      // Someone else appends first, through the library as the CLI would.
      const plane = openConfigPlane({ prefix });
      await plane.append({
        base: 0,
        author: "carol",
        message: "carol was faster",
        ops: [{ op: "put_source", source: { id: "other", paths: ["/o.log"], topic: "logs" } }],
      });
      plane.close();
      const late = await call(web, "/api/config/apply", {
        text: V1,
        base: plan.json.base,
        message: "mine",
      });
      equal(late.status, 409);
      equal(late.json.head, 1);
      assert(String(late.json.error).includes("revision 1 by carol"), String(late.json.error));
      const rollback = await call(web, "/api/config/rollback", {
        revision: 0,
        base: 0,
        message: "x",
      });
      equal(rollback.status, 409);
    },
  ),
);

const HOST_KEY_VALUE = JSON.stringify([
  { service: "nginx", log_path: "/var/log/nginx/access.log", topic: "web_log", send_rate: 1000 },
  { service: "redis", log_path: "/var/log/redis/redis.log", topic: "redis_log", send_rate: 0 },
]);

Deno.test(withConsole(
  "import: a pasted logagent value → plan → import, idempotent, recorded as an import",
  async (web) => {
    await call(web, "/api/config/apply", { text: V1, base: 0, message: "app", author: "ann" });
    const request = { format: "logagent-host-key", text: HOST_KEY_VALUE, host: "10.0.0.5" };
    const plan = await call(web, "/api/config/import/plan", request);
    equal(plan.status, 200, JSON.stringify(plan.json));
    assertEquals([plan.json.base, plan.json.sources, plan.json.import_of], [
      1,
      2,
      "logagent-host-key:pasted",
    ]);
    const added = (plan.json.plan as { added: { id: string }[] }).added.map((s) => s.id);
    assertEquals(added, ["nginx-10.0.0.5", "redis-10.0.0.5"]);
    assert(String(plan.json.text).includes("+ source nginx-10.0.0.5"), String(plan.json.text));

    const imported = await call(web, "/api/config/import", {
      ...request,
      base: 1,
      author: "ann",
    });
    equal(imported.status, 201, JSON.stringify(imported.json));
    const event = imported.json.appended as {
      seq: number;
      author: string;
      message: string;
      import_of: string;
    };
    assertEquals([event.seq, event.author, event.message, event.import_of], [
      2,
      "ann",
      "import logagent-host-key from pasted",
      "logagent-host-key:pasted",
    ]);
    const state = (await call(web, "/api/config/revisions/2")).json.state as {
      sources: { id: string; hosts?: unknown; rate?: unknown; start_at?: string }[];
    };
    assertEquals(state.sources.map((s) => s.id), ["app", "nginx-10.0.0.5", "redis-10.0.0.5"]);
    assertEquals(state.sources[1].hosts, { names: ["10.0.0.5"] });
    assertEquals(state.sources[1].rate, { lines_per_sec: 1000 });

    // A retried request answers "already imported"; importing again appends nothing.
    const retry = await call(web, "/api/config/import", { ...request, base: 1, author: "ann" });
    equal(retry.status, 200, JSON.stringify(retry.json));
    assertEquals([retry.json.created, (retry.json.appended as { seq: number }).seq], [false, 2]);
    const replan = await call(web, "/api/config/import/plan", request);
    equal((replan.json.plan as { empty: boolean }).empty, true);
    const noop = await call(web, "/api/config/import", { ...request, base: 2, message: "again" });
    assertEquals([noop.status, noop.json.appended], [200, null]);
    const history = await call(web, "/api/config/history");
    equal(history.json.head, 2);
    equal((history.json.revisions as { import_of?: string }[])[0].import_of, event.import_of);
  },
));

Deno.test(withConsole(
  "import: from an etcd key and a key prefix, as config:import reads them",
  async (web, prefix) => {
    const raw = `/console-test-${crypto.randomUUID().slice(0, 8)}/logagent`;
    const plane = openConfigPlane({ prefix });
    try {
      await plane.client.put(`${raw}/10.0.0.7/logconfig`).value(HOST_KEY_VALUE);
      await plane.client.put(`${raw}/10.0.0.8/logconfig`).value(
        JSON.stringify([{ service: "api", log_path: "/srv/api.log", topic: "api_log" }]),
      );
      await plane.client.put(`${raw}/collect`).value(
        JSON.stringify([{ path: "/var/log/app/app.log", topic: "app_log" }]),
      );
      const one = await call(web, "/api/config/import/plan", {
        format: "logagent-host-key",
        key: `${raw}/10.0.0.7/logconfig`,
      });
      equal(one.status, 200, JSON.stringify(one.json));
      assertEquals((one.json.plan as { added: { id: string }[] }).added.map((s) => s.id), [
        "nginx-10.0.0.7",
        "redis-10.0.0.7",
      ]);
      const all = await call(web, "/api/config/import", {
        format: "logagent-host-key",
        key: raw,
        base: 0,
        message: "move the fleet over",
      });
      equal(all.status, 201, JSON.stringify(all.json));
      equal(all.json.import_of, `logagent-host-key:${raw}`);
      assertEquals((all.json.plan as { added: { id: string }[] }).added.map((s) => s.id), [
        "api-10.0.0.8",
        "nginx-10.0.0.7",
        "redis-10.0.0.7",
      ]);
      const list = await call(web, "/api/config/import", {
        format: "logagent-list",
        key: `${raw}/collect`,
        base: 1,
        message: "the shared list",
      });
      equal(list.status, 201, JSON.stringify(list.json));
      assertEquals((list.json.plan as { added: { id: string }[] }).added.map((s) => s.id), [
        "app_log-app",
      ]);
      const missing = await call(web, "/api/config/import/plan", {
        format: "logagent-list",
        key: `${raw}/nothing-here`,
      });
      equal(missing.status, 400);
      assertEquals((missing.json.errors as { path: string }[]).map((e) => e.path), ["key"]);
    } finally {
      await plane.client.delete().prefix(raw);
      plane.close();
    }
  },
));

Deno.test(withConsole(
  "import: invalid values are 400s, a stale base is a 409 naming the head",
  async (web, prefix) => {
    const notJson = await call(web, "/api/config/import/plan", {
      format: "logagent-list",
      text: "[{path: /x}]",
    });
    equal(notJson.status, 400);
    assert(String(notJson.json.error).startsWith("pasted: is not valid JSON"));
    const badEntry = await call(web, "/api/config/import/plan", {
      format: "logagent-list",
      text: '[{"path": "/x.log"}]',
      filename: "list.json",
    });
    equal(badEntry.status, 400);
    assert(
      String(badEntry.json.error).includes("list.json: [0].topic"),
      String(badEntry.json.error),
    );
    const neither = await call(web, "/api/config/import/plan", { format: "logagent-list" });
    equal(neither.status, 400);
    const format = await call(web, "/api/config/import/plan", { format: "yaml", text: "[]" });
    assertEquals((format.json.errors as { path: string }[]).map((e) => e.path), ["format"]);

    const request = { format: "logagent-host-key", text: HOST_KEY_VALUE, host: "10.0.0.5" };
    const plan = await call(web, "/api/config/import/plan", request);
    const plane = openConfigPlane({ prefix });
    await plane.append({
      base: 0,
      author: "carol",
      message: "carol was faster",
      ops: [{ op: "put_source", source: { id: "other", paths: ["/o.log"], topic: "logs" } }],
    });
    plane.close();
    const late = await call(web, "/api/config/import", { ...request, base: plan.json.base });
    equal(late.status, 409, JSON.stringify(late.json));
    equal(late.json.head, 1);
    assert(String(late.json.error).includes("revision 1 by carol"), String(late.json.error));
  },
));

Deno.test(withConsole("validate: checks a desired state without writing", async (web) => {
  const good = await call(web, "/api/config/validate", { text: V2 });
  assertEquals(good, { status: 200, json: { ok: true, sources: 2, defaults: true } });
  const bad = await call(web, "/api/config/validate", {
    text: '{"sources": [{"id": "Bad Id", "paths": []}]}',
    filename: "fleet.json",
  });
  equal(bad.status, 400);
  assert(
    (bad.json.errors as { path: string }[]).some((e) => e.path.startsWith("sources[0]")),
    JSON.stringify(bad.json),
  );
  equal((await call(web, "/api/config/history")).json.head, 0);
}));

Deno.test(withConsole(
  "access: basic auth is required, and its user is the author whatever the body says",
  async (web) => {
    const anonymous = await fetch(`${web.url}/api/config/history`);
    equal(anonymous.status, 401);
    assert(anonymous.headers.get("www-authenticate")?.startsWith("Basic"));
    await anonymous.body?.cancel();
    const page = await fetch(`${web.url}/config`);
    equal(page.status, 401, "pages too");
    await page.body?.cancel();
    const authorization = `Basic ${btoa("dana:pw")}`;
    const applied = await call(web, "/api/config/apply", {
      text: V1,
      base: 0,
      message: "as dana",
      author: "somebody-else",
    }, { authorization });
    equal(applied.status, 201);
    equal((applied.json.appended as { author: string }).author, "dana");
  },
  { auth: { basic: { user: "dana", password: "pw" } } },
));

Deno.test({
  name: "access: no listening beyond loopback without a token or basic auth",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await rejects(startConsole({ hostname: "0.0.0.0", port: 0 }), InvalidInputError);
    const web = await startConsole({ hostname: "0.0.0.0", port: 0, auth: { token: "tkn" } });
    try {
      const local = `http://127.0.0.1:${web.port}`;
      const denied = await fetch(`${local}/api/fleet`);
      equal(denied.status, 401);
      await denied.body?.cancel();
      const viaQuery = await fetch(`${local}/config?token=tkn`);
      equal(viaQuery.status, 200);
      const cookie = viaQuery.headers.get("set-cookie")!.split(";")[0];
      await viaQuery.body?.cancel();
      const withCookie = await fetch(`${local}/healthz`, { headers: { cookie } });
      equal(withCookie.status, 200);
      await withCookie.body?.cancel();
      const bearer = await fetch(`${local}/static/config.js`, {
        headers: { authorization: "Bearer tkn" },
      });
      equal(bearer.status, 200);
      await bearer.body?.cancel();
    } finally {
      await web.stop();
    }
  },
});

Deno.test(
  withConsole(
    "fleet: live agents with revision, health and per-source state",
    async (web, prefix) => {
      const plane = openConfigPlane({ prefix });
      await plane.append({
        base: 0,
        author: "ann",
        message: "app",
        ops: [{ op: "put_source", source: { id: "app", paths: ["/a.log"], topic: "logs" } }],
      });
      const now = new Date().toISOString();
      const status = (id: string, seq: number): AgentStatus => ({
        agent_id: id,
        host: id,
        labels: { role: "web" },
        seq,
        started_at: now,
        heartbeat_at: now,
        version: "0.1.0",
        sources: seq === 1 ? { app: { state: "running", files: 1, lag_bytes: 0 } } : {},
      });
      const a = await plane.registerAgent(status("web-1", 1), { ttlSeconds: 10 });
      const b = await plane.registerAgent(status("web-2", 0), { ttlSeconds: 10 });
      try {
        const fleet = await call(web, "/api/fleet");
        equal(fleet.json.head, 1);
        equal(fleet.json.converged, false);
        const agents = fleet.json.agents as {
          agent_id: string;
          health: string;
          seq: number;
          sources: { id: string; state: string }[];
        }[];
        assertEquals(agents.map((x) => [x.agent_id, x.seq, x.health]), [
          ["web-1", 1, "ok"],
          ["web-2", 0, "behind"],
        ]);
        assertEquals(agents[0].sources.map((s) => [s.id, s.state]), [["app", "running"]]);
        // web-2 catches up: the next poll shows the fleet converged.
        await b.update({ ...status("web-2", 1), heartbeat_at: new Date().toISOString() });
        const after = await call(web, "/api/fleet");
        equal(after.json.converged, true);
      } finally {
        await a.close();
        await b.close();
        plane.close();
      }
    },
  ),
);

Deno.test({
  name: "logs: search with query, source filter, histogram; tail; query errors are 400",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const indices = testIndices(env.search);
    const web = await startConsole({ port: 0, indexPrefix: indices.prefix });
    try {
      const marker = `needle${crypto.randomUUID().slice(0, 8)}`;
      const now = Date.now();
      await indices.index([
        { source: "app", message: `payment ${marker} failed`, at: new Date(now - 120_000) },
        { source: "app", message: "payment ok", at: new Date(now - 60_000) },
        { source: "web", message: `GET /${marker} 500`, at: new Date(now - 30_000) },
        { source: "web", message: "GET / 200", at: new Date(now - 3_600_000 * 3) },
      ]);
      const all = await call(web, "/api/logs/search?range=1h");
      equal(all.status, 200, JSON.stringify(all.json));
      equal(all.json.total, 3, "the line 3 h ago is outside the last hour");
      const hist = all.json.histogram as { interval: string; buckets: { count: number }[] };
      equal(hist.interval, "1m");
      equal(hist.buckets.reduce((n, b) => n + b.count, 0), 3);
      assert(hist.buckets.length >= 60, `empty buckets included: ${hist.buckets.length}`);
      assertEquals(
        (all.json.sources as { id: string; count: number }[]).map((s) => [s.id, s.count]),
        [["app", 2], ["web", 1]],
      );

      const found = await call(web, `/api/logs/search?q=${marker}&range=1h`);
      const rows = found.json.rows as { message: string; source: string }[];
      assertEquals(rows.map((r) => r.source), ["web", "app"], "newest first");
      const onlyApp = await call(web, `/api/logs/search?q=${marker}&range=1h&source=app`);
      assertEquals((onlyApp.json.rows as { message: string }[]).map((r) => r.message), [
        `payment ${marker} failed`,
      ]);
      equal((await call(web, `/api/logs/search?range=24h`)).json.total, 4);

      const since = new Date(now - 60_000).toISOString();
      const tail = await call(web, `/api/logs/tail?since=${since}`);
      assertEquals((tail.json.rows as { message: string }[]).map((r) => r.message), [
        "payment ok",
        `GET /${marker} 500`,
      ]);
      const bad = await call(web, "/api/logs/search?q=message:(unclosed");
      equal(bad.status, 400);
      assert(String(bad.json.error).includes("refused the query"), String(bad.json.error));
      equal((await call(web, "/api/logs/search?range=forever")).status, 400);
    } finally {
      await web.stop();
      await indices.drop();
    }
  },
});
