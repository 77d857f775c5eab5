import { equal, ok } from "node:assert/strict";
import {
  ELASTICSEARCH_ARTIFACT,
  elasticsearchHome,
  nodeCommand,
  renderElasticsearchYml,
} from "./elasticsearch.ts";
import { secureElasticsearchSettings, SLUICE_ROLE_YML } from "./secure/elasticsearch.ts";
import { engineAddress, localEngineAt } from "./service.ts";

Deno.test("the plain node: one node on loopback, its own ports, security off, files in its folder", () => {
  const yml = renderElasticsearchYml("/s/es", { http: 9220, transport: 9320 }, "sluice-es");
  for (
    const line of [
      "http.port: 9220",
      "transport.port: 9320",
      'network.host: "127.0.0.1"',
      'discovery.type: "single-node"',
      'path.data: "/s/es/data"',
      'path.logs: "/s/es/logs"',
      "xpack.security.enabled: false",
      "cluster.routing.allocation.disk.threshold_enabled: false",
    ]
  ) ok(yml.includes(`${line}\n`), line);
});

Deno.test("the secure node: security and TLS on HTTP replace the plain settings", () => {
  const yml = renderElasticsearchYml(
    "/s",
    { http: 9222, transport: 9322 },
    "c",
    secureElasticsearchSettings(),
  );
  ok(yml.includes("xpack.security.enabled: true\n"));
  ok(!yml.includes("xpack.security.enabled: false"));
  ok(yml.includes('xpack.security.http.ssl.certificate: "server.pem"\n'));
  ok(SLUICE_ROLE_YML.includes('names: ["sluice*"]'));
});

Deno.test("the distribution is the integ-test zip, unpacked under its version", () => {
  ok(ELASTICSEARCH_ARTIFACT.startsWith("org.elasticsearch.distribution.integ-test-zip:"));
  ok(elasticsearchHome("/d").startsWith("/d/elasticsearch-8."));
});

Deno.test("SLUICE_SEARCH_URL moves the engine it names and leaves the other local", () => {
  equal(engineAddress("http://127.0.0.1:9200", "opensearch").port, 9200);
  equal(engineAddress("http://127.0.0.1:9200", "elasticsearch").port, 9220);
  equal(engineAddress("http://localhost:9220", "opensearch").display, "http://127.0.0.1:9200");
  equal(engineAddress("http://localhost:9220", "elasticsearch").display, "http://localhost:9220");
  equal(engineAddress("https://es.example:9200", "opensearch").host, "es.example");
  equal(engineAddress("https://es.example:9200", "elasticsearch").port, 9220);
  equal(localEngineAt("http://127.0.0.1:9201"), undefined);
  equal(localEngineAt("http://[::1]:9220"), "elasticsearch");
});

Deno.test("the node's command names its folder after bash too, so its pid stays recognised", async () => {
  const command = await nodeCommand("/r/.stack/secure/elasticsearch");
  const bash = command.indexOf("bash");
  ok(bash > 0, command.join(" "));
  // bash reads the distribution's scripts (outside the folder) before it execs java: its own
  // arguments must still name the folder, or ownedPid would take the node for dead meanwhile.
  ok(command.slice(bash).some((arg) => arg.includes("/r/.stack/secure/elasticsearch/")));
  ok(command.includes("ES_PATH_CONF=/r/.stack/secure/elasticsearch/config"));
});
