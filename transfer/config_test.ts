import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { InvalidInputError } from "../core/errors.ts";
import { configOptions, defaultConfig, resolveConfig } from "./config.ts";

Deno.test("config: defaults use the endpoints of core/endpoints.ts", () => {
  const c = resolveConfig({});
  assertEquals(c.brokers, ["127.0.0.1:9092"]);
  assertEquals(c.searchUrl, "http://127.0.0.1:9200");
  assertEquals(c.engine, "auto");
  assertEquals(c, defaultConfig());
});

Deno.test("config: flags beat env, env beats the file, the file beats defaults", () => {
  const c = resolveConfig({
    file: { index_prefix: "fromfile", bulk_max_docs: 10, group: "g-file", max_in_flight: 2 },
    env: { SLUICE_INDEX_PREFIX: "fromenv", SLUICE_BULK_MAX_DOCS: "20" },
    flags: { "index-prefix": "fromflag" },
  });
  assertEquals(c.indexPrefix, "fromflag");
  assertEquals(c.bulkMaxDocs, 20);
  assertEquals(c.groupId, "g-file");
  assertEquals(c.maxInFlight, 2);
});

Deno.test("config: lists from repeated flags, commas and YAML lists", () => {
  assertEquals(resolveConfig({ flags: { topic: ["a", "b,c"] } }).topics, ["a", "b", "c"]);
  assertEquals(resolveConfig({ env: { SLUICE_TRANSFER_TOPICS: "x, y" } }).topics, ["x", "y"]);
  assertEquals(resolveConfig({ file: { topics: ["p", "q"] } }).topics, ["p", "q"]);
  assertEquals(
    resolveConfig({ env: { SLUICE_KAFKA_BROKERS: "k1:9092,k2:9092" } }).brokers,
    ["k1:9092", "k2:9092"],
  );
});

Deno.test("config: bad values name where they came from", () => {
  throws(() => resolveConfig({ flags: { "bulk-max-docs": "many" } }), /--bulk-max-docs/);
  throws(() => resolveConfig({ env: { SLUICE_SEARCH_ENGINE: "solr" } }), /SLUICE_SEARCH_ENGINE/);
  throws(() => resolveConfig({ file: { bulk_max_doc: 1 } }), /unknown setting 'bulk_max_doc'/);
  throws(() => resolveConfig({ flags: { "index-prefix": "Logs" } }), InvalidInputError);
  throws(() => resolveConfig({ flags: { "topic-pattern": "([" } }), /topic pattern/);
  throws(() => resolveConfig({ flags: { "max-in-flight": "0" } }), /maxInFlight/);
  throws(() => resolveConfig({ flags: { "metrics-addr": "9464" } }), /HOST:PORT/);
});

Deno.test("config: an empty metrics address turns metrics off", () => {
  assertEquals(resolveConfig({ file: { metrics_addr: "" } }).metricsAddr, "");
});

Deno.test("config: every setting has a flag in --help with its variable", () => {
  const options = configOptions();
  assertEquals(options["bulk-max-docs"].description.includes("SLUICE_BULK_MAX_DOCS"), true);
  assertEquals(options["bulk-max-docs"].description.includes("default: 5000"), true);
  assertEquals(options.topic.multiple, true);
});

Deno.test("config: the search URL may list every node of a cluster, each checked", () => {
  const env = { SLUICE_SEARCH_URL: "http://s1:9200,http://s2:9200" };
  assertEquals(resolveConfig({ env }).searchUrl, "http://s1:9200,http://s2:9200");
  assertEquals(
    resolveConfig({ flags: { "search-url": "http://a:9200, http://b:9200" } }).searchUrl,
    "http://a:9200, http://b:9200",
  );
  throws(
    () => resolveConfig({ flags: { "search-url": "http://a:9200,not a url" } }),
    /search URL 'not a url' is not a URL/,
  );
  throws(
    () => resolveConfig({ flags: { "search-url": "https://u:pw@a:9200,https://u:pw@b:9200" } }),
    (error: Error) =>
      /https:\/\/a:9200 carries a user and password in a list/.test(error.message) &&
      !error.message.includes("pw"),
  );
  // One URL may still carry them.
  assertEquals(
    resolveConfig({ flags: { "search-url": "https://u:pw@a:9200" } }).searchUrl,
    "https://u:pw@a:9200",
  );
});
