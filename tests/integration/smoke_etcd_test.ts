/**
 * Proves the etcd of the stack is real, through the client the config plane uses (etcd3):
 * put/get, a watch that sees a write, a transaction, and leases that expire and are revoked.
 * Expects etcd at SLUICE_ETCD_ENDPOINTS (default 127.0.0.1:2379); `deno task test` starts it.
 * @module
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Etcd3, type IKeyValue } from "etcd3";
import { sleep } from "../../core/backoff.ts";
import { endpointsFromEnv } from "../../core/endpoints.ts";

const endpoints = endpointsFromEnv();

/** A key prefix of its own per run, so parallel runs and leftovers never collide. */
function uniquePrefix(): string {
  return `/sluice-smoke/${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}/`;
}

async function withClient(fn: (client: Etcd3, prefix: string) => Promise<void>): Promise<void> {
  const client = new Etcd3({ hosts: endpoints.etcd, dialTimeout: 3000 });
  const prefix = uniquePrefix();
  try {
    await fn(client, prefix);
  } finally {
    await client.delete().prefix(prefix).catch(() => {});
    client.close();
  }
}

/** Resolves with the first value of `promise`, or rejects after `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// etcd3 keeps gRPC channels and timers after close(); the sanitizers would flag them.
const options = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  ...options,
  name: "etcd: put then get returns the value, and a missing key is null",
  fn: () =>
    withClient(async (client, prefix) => {
      await client.put(`${prefix}greeting`).value("hello etcd");
      assertEquals(await client.get(`${prefix}greeting`).string(), "hello etcd");
      assertEquals(await client.get(`${prefix}missing`).string(), null);
      const all = await client.getAll().prefix(prefix).strings();
      assertEquals(all, { [`${prefix}greeting`]: "hello etcd" });
    }),
});

Deno.test({
  ...options,
  name: "etcd: a transaction writes only while its comparison holds",
  fn: () =>
    withClient(async (client, prefix) => {
      const key = `${prefix}head`;
      await client.put(key).value("1");
      // The config plane's append: write only if head is still what we planned against.
      const won = await client.if(key, "Value", "==", "1").then(client.put(key).value("2"))
        .else(client.get(key)).commit();
      assertEquals(won.succeeded, true);
      const lost = await client.if(key, "Value", "==", "1").then(client.put(key).value("3"))
        .else(client.get(key)).commit();
      assertEquals(lost.succeeded, false);
      assertEquals(await client.get(key).string(), "2");
    }),
});

Deno.test({
  ...options,
  name: "etcd: a watch on a prefix sees a put made after it started",
  fn: () =>
    withClient(async (client, prefix) => {
      const watcher = await client.watch().prefix(prefix).create();
      try {
        const seen = new Promise<IKeyValue>((resolve) => watcher.on("put", resolve));
        await client.put(`${prefix}watched`).value("v1");
        const kv = await within(seen, 5000, "watch event");
        assertEquals(kv.key.toString(), `${prefix}watched`);
        assertEquals(kv.value.toString(), "v1");
        assert(Number(kv.mod_revision) > 0);
      } finally {
        await watcher.cancel();
      }
    }),
});

Deno.test({
  ...options,
  name: "etcd: a key under a lease disappears when the lease expires or is revoked",
  fn: () =>
    withClient(async (client, prefix) => {
      // Expiry: no keep-alive, so etcd itself must drop the key after the TTL.
      const expiring = client.lease(1, { autoKeepAlive: false });
      await expiring.put(`${prefix}expiring`).value("alive");
      assertEquals(await client.get(`${prefix}expiring`).string(), "alive");
      let gone = false;
      for (let i = 0; i < 40 && !gone; i++) {
        await sleep(250);
        gone = await client.get(`${prefix}expiring`).string() === null;
      }
      assert(gone, "the key of an expired lease is still there after 10 s");

      // Revocation: the agent's status key goes away at once when it shuts down cleanly.
      const lease = client.lease(30);
      await lease.put(`${prefix}agent`).value("status");
      assertEquals(await client.get(`${prefix}agent`).string(), "status");
      await lease.revoke();
      assertEquals(await client.get(`${prefix}agent`).string(), null);
    }),
});
