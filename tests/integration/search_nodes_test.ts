/**
 * A search URL that lists several nodes, against the real engine: the first listed node does not
 * answer (nothing listens on its port), and the transfer's engine (detection, bulk, count) and
 * the console's log search still work through the next one, as they must on a cluster that
 * lost a node.
 * @module
 */
import { equal, ok } from "node:assert/strict";
import { endpointsFromEnv } from "../../core/endpoints.ts";
import { freePort } from "../../core/child.ts";
import { createEngine, detectEngine } from "../../transfer/engine.ts";
import { LogSearch } from "../../console/log_search.ts";
import { uniqueName } from "../support/transfer_rig.ts";

const live = endpointsFromEnv().search;

Deno.test("a search node that does not answer is passed over for the next one listed", async () => {
  const dead = `http://127.0.0.1:${freePort()}`;
  const nodes = `${dead},${live}`;
  const detected = await detectEngine(nodes);
  ok(["opensearch", "elasticsearch"].includes(detected.kind));

  const prefix = uniqueName("sluice-nodes");
  const engine = await createEngine({ url: nodes });
  try {
    const lines = [0, 1, 2, 3].flatMap((i) => [
      JSON.stringify({ index: { _index: `${prefix}-x`, _id: `d${i}` } }),
      JSON.stringify({ "@timestamp": new Date().toISOString(), message: `node list ${i}` }),
    ]);
    // Each bulk may first meet the dead node; it is then left out and the next goes through.
    let indexed = false;
    for (let attempt = 0; attempt < 3 && !indexed; attempt++) {
      const outcome = await engine.bulk(lines.join("\n") + "\n");
      indexed = outcome.kind === "response" && outcome.status === 200;
    }
    ok(indexed, "a bulk went through the live node");
    await engine.refresh(`${prefix}-*`);
    equal(await engine.count(`${prefix}-*`), 4);

    const search = new LogSearch({ url: nodes, indexPrefix: prefix });
    try {
      const now = Date.now();
      const found = await search.search({
        q: "",
        from: now - 3_600_000,
        to: now + 60_000,
        sources: [],
        size: 10,
      });
      equal(found.total, 4);
    } finally {
      search.close();
    }
  } finally {
    await engine.deleteIndices(await engine.listIndices(`${prefix}-*`));
    await engine.close();
  }
});
