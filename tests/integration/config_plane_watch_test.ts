/**
 * The config watcher against the real etcd: the initial load (also from a snapshot when old
 * events are pruned), invalid revisions, every event exactly once across an etcd restart while
 * 1,000 events are appended, and recovery after a compaction past the watcher's position.
 * The restart uses stack/ (stopService/startService), so etcd must be the one `stack:up` runs.
 * @module
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { sleep } from "../../core/backoff.ts";
import { endpointsFromEnv } from "../../core/endpoints.ts";
import { UnreachableError } from "../../core/errors.ts";
import {
  type ConfigEvent,
  type ConfigPlane,
  type DesiredState,
  openConfigPlane,
  type Source,
} from "../../config_plane/mod.ts";
import { planeTest } from "./plane_support.ts";
import { serviceStatus, startService, stopService } from "../../stack/mod.ts";

const endpoints = endpointsFromEnv().etcd;
// Only an etcd that stack/ runs can be restarted; otherwise that test is reported as skipped.
const etcdIsOurs = (await serviceStatus("etcd").catch(() => undefined))?.pid !== undefined;
const source = (id: string): Source => ({ id, paths: [`/var/log/${id}.log`], topic: "logs" });

/** What a watcher reported, with a way to wait for a condition on it. */
class Recorder {
  states: { seq: number; state: DesiredState }[] = [];
  events: ConfigEvent[] = [];
  invalid: { seq: number; error: string }[] = [];
  reloads: string[] = [];

  async until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(10);
    }
  }

  get lastSeq(): number {
    return this.states.at(-1)?.seq ?? -1;
  }

  watch(plane: ConfigPlane, signal: AbortSignal, fromSeq?: number): Promise<void> {
    return plane.watchState({
      signal,
      fromSeq,
      onState: (seq, state) => void this.states.push({ seq, state }),
      onEvent: (event) => void this.events.push(event),
      onInvalid: (seq, error) => void this.invalid.push({ seq, error }),
      onReload: (reason) => void this.reloads.push(reason),
    });
  }
}

/** planeTest with snapshots every 50 events; the keys are deleted once etcd answers again. */
const test = (name: string, fn: (plane: ConfigPlane, prefix: string) => Promise<void>) =>
  planeTest(name, fn, { snapshotEvery: 50, clear: retryUnreachable });

/** etcd calls during a restart fail fast with UnreachableError; try again until it is back. */
async function retryUnreachable<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0;; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const transient = error instanceof UnreachableError ||
        /UNAVAILABLE|DEADLINE|ECONNRESET/.test(String(error));
      if (!transient || attempt > 300) throw error;
      await sleep(50);
    }
  }
}

/** Appends `count` events, one source each, with stable ids so a retried append is not doubled. */
async function appendMany(
  plane: ConfigPlane,
  from: number,
  count: number,
  tag = "e",
): Promise<void> {
  for (let i = from; i < from + count; i++) {
    await retryUnreachable(async () =>
      plane.append({
        base: await plane.head(),
        id: `${tag}-${i}`,
        author: "test",
        message: `event ${i}`,
        ops: [{ op: "put_source", source: source(`s${i % 40}`) }],
      })
    );
  }
}

Deno.test(
  test("the watcher loads the head state, then reports each new revision", async (plane) => {
    await appendMany(plane, 0, 3);
    const rec = new Recorder();
    const stop = new AbortController();
    const done = rec.watch(plane, stop.signal);
    await rec.until("initial state", () => rec.lastSeq === 3);
    assertEquals(rec.states[0].state, await plane.stateAt(3));
    assertEquals(rec.events.length, 0, "events up to fromSeq (default: the head) are not replayed");
    await appendMany(plane, 3, 2);
    await rec.until("revision 5", () => rec.lastSeq === 5);
    assertEquals(rec.events.map((e) => e.seq), [4, 5]);
    assertEquals(rec.states.at(-1)!.state, await plane.stateAt(5));
    stop.abort();
    await done;
  }),
);

Deno.test(
  test("an invalid revision goes to onInvalid and the last good state stays", async (plane) => {
    await appendMany(plane, 0, 1);
    const rec = new Recorder();
    const stop = new AbortController();
    const done = rec.watch(plane, stop.signal);
    await rec.until("initial state", () => rec.lastSeq === 1);
    // Written around the library (as a buggy tool would): not checked before it lands.
    const bad = {
      seq: 2,
      id: "bad",
      at: new Date().toISOString(),
      author: "x",
      message: "m",
      base: 1,
      ops: [{ op: "put_source", source: { id: "NO", paths: [] } }],
    };
    await plane.kv.put("config/events/00000000000000000002").value(JSON.stringify(bad));
    await plane.kv.put("config/head").value("2");
    await rec.until("onInvalid", () => rec.invalid.length === 1);
    assertEquals(rec.invalid[0].seq, 2);
    assert(rec.invalid[0].error.includes("ops[0].source.id"), rec.invalid[0].error);
    assertEquals(rec.lastSeq, 1);
    await plane.append({
      base: 2,
      author: "t",
      message: "fix",
      // The library folds the bad event too, so the fix must remove what it added.
      ops: [{ op: "delete_source", id: "NO" }, { op: "put_source", source: source("fixed") }],
    });
    await rec.until("revision 3", () => rec.lastSeq === 3);
    assertEquals(rec.states.at(-1)!.state.sources.map((s) => s.id), ["fixed", "s0"]);
    stop.abort();
    await done;
  }),
);

Deno.test(
  test("the initial load starts from a snapshot when older events were pruned", async (plane) => {
    await appendMany(plane, 0, 60); // snapshot at 50
    const expected = await plane.stateAt(60);
    await plane.kv.delete().inRange({
      start: "config/events/",
      end: "config/events/00000000000000000051",
    });
    const rec = new Recorder();
    const stop = new AbortController();
    const done = rec.watch(plane, stop.signal);
    await rec.until("state 60", () => rec.lastSeq === 60);
    assertEquals(rec.states.at(-1)!.state, expected);
    stop.abort();
    await done;
  }),
);

Deno.test({
  ...test("a watcher sees every event exactly once across an etcd restart while 1,000 are appended", async (plane) => {
    const rec = new Recorder();
    const stop = new AbortController();
    const done = rec.watch(plane, stop.signal, 0);
    await rec.until("initial state", () => rec.lastSeq === 0);
    // Held as a settled value: a failure must fail the test, not escape as an unhandled rejection.
    const appending = appendMany(plane, 0, 1_000).then(() => undefined, (error: unknown) => error);
    await rec.until("300 events", () => rec.events.length >= 300, 30_000);
    const stopped = await stopService("etcd");
    try {
      assert(
        stopped,
        "etcd was not started by `deno task stack:up`, so this test cannot restart it",
      );
      await sleep(300);
    } finally {
      // Whatever happens, leave etcd running for everyone else.
      await startService("etcd");
    }
    const failure = await appending;
    if (failure) throw failure;
    await rec.until(
      "all 1,000 events",
      () => rec.events.length >= 1_000 && rec.lastSeq === 1_000,
      30_000,
    );
    await sleep(200); // a duplicate would show up now
    assertEquals(
      rec.events.map((e) => e.seq),
      Array.from({ length: 1_000 }, (_, i) => i + 1),
    );
    assertEquals(rec.states.at(-1)!.state, await plane.stateAt(1_000));
    const seqs = rec.states.map((s) => s.seq);
    assert(
      seqs.every((s, i) => i === 0 || s > seqs[i - 1]),
      "states arrive in increasing seq order",
    );
    stop.abort();
    await done;
  }),
  ignore: !etcdIsOurs,
});

/** A TCP relay in front of etcd that the test can cut, to break only the watcher's connection. */
class Relay {
  private listener?: Deno.Listener;
  private conns = new Set<Deno.Conn>();
  constructor(private readonly target: { hostname: string; port: number }) {}

  get url(): string {
    return `http://127.0.0.1:${(this.listener!.addr as Deno.NetAddr).port}`;
  }

  open(port = 0): void {
    this.listener = Deno.listen({ hostname: "127.0.0.1", port });
    (async () => {
      for await (const client of this.listener!) {
        const upstream = await Deno.connect(this.target).catch(() => undefined);
        if (!upstream) {
          client.close();
          continue;
        }
        this.conns.add(client).add(upstream);
        const pipe = (a: Deno.Conn, b: Deno.Conn) =>
          a.readable.pipeTo(b.writable).catch(() => undefined).finally(() => {
            for (const c of [a, b]) {
              try {
                c.close();
              } catch { /* closed already */ }
              this.conns.delete(c);
            }
          });
        pipe(client, upstream);
        pipe(upstream, client);
      }
    })().catch(() => undefined);
  }

  /** Drops every connection and refuses new ones. Returns the port, to reopen on it. */
  cut(): number {
    const port = (this.listener!.addr as Deno.NetAddr).port;
    this.listener!.close();
    for (const c of this.conns) {
      try {
        c.close();
      } catch { /* closed already */ }
    }
    this.conns.clear();
    return port;
  }
}

Deno.test(
  test("a watcher recovers after etcd compacted past its position", async (plane, prefix) => {
    const target = new URL(endpoints[0]);
    const relay = new Relay({ hostname: target.hostname, port: Number(target.port || 2379) });
    relay.open();
    const watcherPlane = openConfigPlane({ endpoints: [relay.url], prefix });
    const rec = new Recorder();
    const stop = new AbortController();
    try {
      await appendMany(plane, 0, 5);
      const done = rec.watch(watcherPlane, stop.signal, 0);
      await rec.until("5 events", () => rec.events.length === 5);
      const port = relay.cut();
      await appendMany(plane, 5, 20);
      const put = await plane.kv.put("config/compaction-marker").value("x").exec();
      await plane.client.kv.compact({ revision: put.header.revision, physical: true });
      relay.open(port);
      await rec.until("25 events after the reload", () => rec.lastSeq === 25);
      assert(rec.reloads.includes("compaction"), `reloads: ${rec.reloads.join(", ")}`);
      assertEquals(rec.events.map((e) => e.seq), Array.from({ length: 25 }, (_, i) => i + 1));
      assertEquals(rec.states.at(-1)!.state, await plane.stateAt(25));
      // And it keeps watching from the new position.
      await appendMany(plane, 25, 1);
      await rec.until("revision 26", () => rec.lastSeq === 26);
      stop.abort();
      await done;
    } finally {
      stop.abort();
      relay.cut();
      watcherPlane.close();
    }
  }),
);
