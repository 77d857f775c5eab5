/**
 * Proves the search engine of the stack is real, through its official client
 * (@opensearch-project/opensearch): bulk-index documents with our own `_id`s, find them with a
 * query, and see that re-sending the same bulk does not duplicate them (the transfer relies on it).
 * Expects the engine at SLUICE_SEARCH_URL (default http://127.0.0.1:9200); `deno task test`
 * starts it.
 * @module
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { Client } from "@opensearch-project/opensearch";
import { endpointsFromEnv } from "../../core/endpoints.ts";

const endpoints = endpointsFromEnv();

Deno.test({
  name: "opensearch: bulk index then search, and a re-sent bulk does not duplicate",
  // The client keeps pooled sockets after close(); the sanitizers would flag them.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const client = new Client({ node: endpoints.search, requestTimeout: 30_000 });
    const index = `sluice-smoke-${Date.now().toString(36)}-${crypto.randomUUID().slice(0, 8)}`;
    const docs = Array.from({ length: 20 }, (_, i) => ({
      id: `host-a:dev1-ino${i % 2}:${i * 100}`,
      doc: {
        "@timestamp": new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
        // ECS names, as the transfer writes them: the `sluice-*` template (installed by the demo
        // and the transfer) maps `host` as an object.
        host: { name: "host-a" },
        message: i % 5 === 0 ? `ERROR disk full on volume ${i}` : `GET /item/${i} 200`,
        log: { offset: i * 100 },
      },
    }));
    const body = docs.flatMap(({ id, doc }) => [{ index: { _index: index, _id: id } }, doc]);
    try {
      const first = await client.bulk({ body, refresh: true });
      assertEquals(first.body.errors, false, JSON.stringify(first.body.items.slice(0, 2)));
      assertEquals(first.body.items.length, docs.length);
      assert(first.body.items.every((item) => item.index?.result === "created"));

      const errors = await client.search({
        index,
        body: {
          query: { match: { message: "ERROR" } },
          sort: [{ "log.offset": "asc" }],
          size: 100,
        },
      });
      const hits = errors.body.hits.hits;
      assertEquals(
        hits.map((h) => (h._source as { log?: { offset?: number } })?.log?.offset),
        [0, 500, 1000, 1500],
      );
      assertEquals(hits[0]._id, "host-a:dev1-ino0:0");

      // Replaying a batch with the same ids overwrites; the count stays the same.
      const again = await client.bulk({ body, refresh: true });
      assertEquals(again.body.errors, false);
      assert(again.body.items.every((item) => item.index?.result === "updated"));
      const count = await client.count({ index });
      assertEquals(count.body.count, docs.length);
    } finally {
      await client.indices.delete({ index }).catch(() => {});
      await client.close();
    }
  },
});
