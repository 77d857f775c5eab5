import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { identifyEngine } from "./engine.ts";

const json = (headers: Record<string, string> = {}) =>
  new Headers({ "content-type": "application/json; charset=UTF-8", ...headers });

Deno.test("identifyEngine: OpenSearch 2.19 by its GET / body (captured from the local stack)", async () => {
  const body = JSON.parse(
    await Deno.readTextFile(new URL("./testdata/opensearch_2.19_root.json", import.meta.url)),
  );
  assertEquals(identifyEngine({ status: 200, headers: json(), body }), {
    kind: "opensearch",
    version: "2.19.1",
    clusterName: "sluice-local",
  });
});

Deno.test("identifyEngine: a version without distribution is Elasticsearch", () => {
  const body = {
    name: "es-1",
    cluster_name: "docker-cluster",
    version: { number: "8.19.2", build_flavor: "default" },
    tagline: "You Know, for Search",
  };
  assertEquals(
    identifyEngine({ status: 200, headers: json({ "x-elastic-product": "Elasticsearch" }), body }),
    { kind: "elasticsearch", version: "8.19.2", clusterName: "docker-cluster" },
  );
});

Deno.test("identifyEngine: no search engine in a failed or versionless answer", () => {
  const os = { cluster_name: "c", version: { distribution: "opensearch", number: "2.19.1" } };
  assertEquals(identifyEngine({ status: 503, headers: json(), body: os }), undefined);
  assertEquals(identifyEngine({ status: 200, headers: json(), body: { ok: true } }), undefined);
  assertEquals(identifyEngine({ status: 200, headers: new Headers(), body: undefined }), undefined);
  assertEquals(
    identifyEngine({ status: 200, headers: json(), body: { version: { number: 8 } } }),
    undefined,
  );
});

/** A recorded answer (testdata/) as identifyEngine takes it. */
function recorded(name: string) {
  const { status, headers, body } = JSON.parse(
    Deno.readTextFileSync(new URL(`./testdata/${name}.json`, import.meta.url)),
  );
  return { status, headers: new Headers(headers ?? {}), body };
}

Deno.test("identifyEngine: Elasticsearch 8.19's 405 to GET / (no rest-root) says nothing", () => {
  const root = recorded("elasticsearch_8.19_root");
  assertEquals(root.status, 405);
  assertEquals(root.headers.get("x-elastic-product"), "Elasticsearch");
  assertEquals(identifyEngine(root), undefined);
});

Deno.test("identifyEngine: Elasticsearch 8.19 by its GET /_nodes/_local (captured)", () => {
  assertEquals(identifyEngine(recorded("elasticsearch_8.19_nodes_local")), {
    kind: "elasticsearch",
    version: "8.19.21",
    clusterName: "sluice-es",
  });
  // Without the header, its node's build_flavor still names it.
  const bare = recorded("elasticsearch_8.19_nodes_local");
  assertEquals(identifyEngine({ ...bare, headers: new Headers() })?.kind, "elasticsearch");
});

Deno.test("identifyEngine: OpenSearch 2.19 by its GET /_nodes/_local (captured)", () => {
  assertEquals(identifyEngine(recorded("opensearch_2.19_nodes_local")), {
    kind: "opensearch",
    version: "2.19.1",
    clusterName: "sluice-local",
  });
});

Deno.test("identifyEngine: a nodes answer without a version is no engine", () => {
  assertEquals(
    identifyEngine({ status: 200, headers: json(), body: { nodes: { a: {} } } }),
    undefined,
  );
  assertEquals(identifyEngine({ status: 200, headers: json(), body: { nodes: {} } }), undefined);
});
