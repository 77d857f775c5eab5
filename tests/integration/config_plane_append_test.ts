/**
 * The config plane library against the real etcd (127.0.0.1:2379 or SLUICE_ETCD_ENDPOINTS):
 * compare-and-swap appends, idempotency, refusals before writing, rollback, history, snapshots
 * and the agents registry. Each test works under its own random prefix and deletes it.
 * @module
 */
import {
  deepStrictEqual as assertEquals,
  ok as assert,
  rejects as assertRejects,
} from "node:assert/strict";
import { ConflictError, InvalidInputError } from "../../core/errors.ts";
import {
  commitChange,
  type ConfigPlane,
  foldEvents,
  planRollback,
  type Source,
} from "../../config_plane/mod.ts";
import { planeTest } from "./plane_support.ts";

const source = (id: string, extra: Partial<Source> = {}): Source => ({
  id,
  paths: [`/var/log/${id}.log`],
  topic: "logs",
  ...extra,
});

async function eventCount(plane: ConfigPlane): Promise<number> {
  return await plane.kv.getAll().prefix("config/events/").count();
}

Deno.test(
  planeTest(
    "two appends planned on the same head: exactly one is appended, the other conflicts",
    async (plane) => {
      await plane.append({
        base: 0,
        author: "ann",
        message: "first",
        ops: [{ op: "put_source", source: source("a") }],
      });
      const results = await Promise.allSettled([
        plane.append({
          base: 1,
          author: "ann",
          message: "ann's",
          ops: [{ op: "put_source", source: source("b") }],
        }),
        plane.append({
          base: 1,
          author: "bob",
          message: "bob's",
          ops: [{ op: "put_source", source: source("c") }],
        }),
      ]);
      const ok = results.filter((r) => r.status === "fulfilled");
      const failed = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
      assertEquals([ok.length, failed.length], [1, 1]);
      assert(failed[0].reason instanceof ConflictError, String(failed[0].reason));
      assert(
        /planned against revision 1, but the head is now revision 2/.test(failed[0].reason.message),
      );
      assertEquals(await plane.head(), 2);
      assertEquals(await eventCount(plane), 2);
    },
  ),
);

Deno.test(planeTest("the same idempotency key twice appends one event", async (plane) => {
  const input = {
    base: 0,
    id: "deploy-42",
    author: "ann",
    message: "m",
    ops: [{ op: "put_source" as const, source: source("a") }],
  };
  const first = await plane.append(input);
  const again = await plane.append(input);
  assert(first.created);
  assert(!again.created);
  assertEquals(again.event, first.event);
  // Still "already applied" after someone else moved the head.
  await plane.append({
    base: 1,
    author: "bob",
    message: "other",
    ops: [{ op: "delete_source", id: "a" }],
  });
  const late = await plane.append(input);
  assertEquals([late.created, late.event.seq], [false, 1]);
  assertEquals(await eventCount(plane), 2);
}));

Deno.test(
  planeTest(
    "an event over etcd's request limit is refused before anything is written",
    async (plane) => {
      const huge = source("big", { fields: { blob: "x".repeat(1_600_000) } });
      await assertRejects(
        plane.append({
          base: 0,
          author: "ann",
          message: "too big",
          ops: [{ op: "put_source", source: huge }],
        }),
        (e: Error) =>
          e instanceof InvalidInputError &&
          /over etcd's request limit of 1572864 bytes/.test(e.message),
      );
      assertEquals(await plane.head(), 0);
      assertEquals(await eventCount(plane), 0);
      // The limit is etcd's own: an event just under it goes through.
      const large = source("large", { fields: { blob: "x".repeat(1_560_000) } });
      const { event } = await plane.append({
        base: 0,
        author: "ann",
        message: "large",
        ops: [{ op: "put_source", source: large }],
      });
      assertEquals(event.seq, 1);
    },
  ),
);

Deno.test(planeTest("an invalid change is refused before anything is written", async (plane) => {
  await assertRejects(
    plane.append({
      base: 0,
      author: "ann",
      message: "bad",
      ops: [{ op: "put_source", source: { id: "Bad!", paths: [] } }],
    }),
    (e: Error) => e instanceof InvalidInputError && e.message.includes("ops[0].source.id"),
  );
  // Valid on its own, but it leaves a source without a topic.
  await assertRejects(
    plane.append({
      base: 0,
      author: "ann",
      message: "no topic",
      ops: [{ op: "put_source", source: { id: "a", paths: ["/a"] } }],
    }),
    (e: Error) => e instanceof InvalidInputError && e.message.includes("sources[0].topic"),
  );
  await assertRejects(
    plane.append({ base: 0, author: "", message: "", ops: [] }),
    (e: Error) =>
      e instanceof InvalidInputError && /author/.test(e.message) && /ops/.test(e.message),
  );
  assertEquals(await plane.head(), 0);
  assertEquals(await eventCount(plane), 0);
}));

Deno.test(
  planeTest(
    "rollback to N appends state(N); history keeps every event with author and reason",
    async (plane) => {
      await plane.append({
        base: 0,
        author: "ann",
        message: "one",
        ops: [{ op: "put_source", source: source("a") }],
      });
      await plane.append({
        base: 1,
        author: "bob",
        message: "two",
        ops: [{ op: "put_source", source: source("b") }],
      });
      await plane.append({
        base: 2,
        author: "cy",
        message: "three",
        ops: [{ op: "set_defaults", defaults: { start_at: "beginning" } }, {
          op: "delete_source",
          id: "a",
        }],
      });
      const wanted = await plane.stateAt(1);
      const { plan, appended } = await commitChange(plane, await planRollback(plane, 1), {
        author: "dee",
        message: "undo two and three",
      });
      assertEquals([plan.added.length, plan.removed.length, plan.defaults.length], [1, 1, 1]);
      assertEquals(appended!.event.rollback_of, 1);
      assertEquals(appended!.event.seq, 4);
      assertEquals(await plane.stateAt(4), wanted);
      const history = await plane.history({ limit: 10 });
      assertEquals(history.map((e) => [e.seq, e.author, e.message]), [
        [4, "dee", "undo two and three"],
        [3, "cy", "three"],
        [2, "bob", "two"],
        [1, "ann", "one"],
      ]);
      // Rolling back to what the head already is appends nothing.
      const again = await commitChange(plane, await planRollback(plane, 4), {
        author: "dee",
        message: "noop",
      });
      assert(again.plan.empty && again.appended === undefined);
      assertEquals(await plane.head(), 4);
      assertEquals((await plane.history({ limit: 2 })).length, 2);
    },
  ),
);

Deno.test(
  planeTest(
    "snapshots every N events; stateAt from a snapshot equals the fold of all events",
    async (plane) => {
      for (let i = 0; i < 12; i++) {
        const ops = i % 4 === 3
          ? [{ op: "delete_source" as const, id: `s${i - 2}` }]
          : [{ op: "put_source" as const, source: source(`s${i}`, { fields: { n: String(i) } }) }];
        await plane.append({ base: i, author: "ann", message: `step ${i}`, ops });
      }
      const snapshots = await plane.kv.getAll().prefix("config/snapshots/").keys();
      assertEquals(snapshots.map((k) => Number(k.split("/").pop())), [5, 10]);
      const events = (await plane.history({ limit: 100 })).reverse();
      for (const seq of [3, 5, 7, 10, 12]) {
        assertEquals(await plane.stateAt(seq), foldEvents(events.slice(0, seq)), `state at ${seq}`);
      }
      await assertRejects(plane.stateAt(13), /revision 13 does not exist: the head is 12/);
    },
    { snapshotEvery: 5 },
  ),
);

Deno.test(
  planeTest("agents register on a lease, update, list, and disappear on close", async (plane) => {
    const now = new Date().toISOString();
    const status = {
      agent_id: "web-1",
      host: "web-1",
      labels: { role: "web" },
      seq: 0,
      started_at: now,
      heartbeat_at: now,
      version: "test",
      sources: {},
    };
    const registration = await plane.registerAgent(status, { ttlSeconds: 5 });
    const other = await plane.registerAgent({ ...status, agent_id: "db-1", host: "db-1" }, {
      ttlSeconds: 5,
    });
    assertEquals((await plane.listAgents()).map((a) => a.agent_id), ["db-1", "web-1"]);
    await registration.update({
      ...status,
      seq: 3,
      sources: { app: { state: "running", files: 2 } },
    });
    const web = (await plane.listAgents()).find((a) => a.agent_id === "web-1")!;
    assertEquals([web.seq, web.sources.app.files], [3, 2]);
    await assertRejects(registration.update({ ...status, seq: -1 }), InvalidInputError);
    await registration.close();
    await other.close();
    assertEquals(await plane.listAgents(), []);
  }),
);
