import { deepEqual } from "node:assert/strict";
import { DEFAULT_ENDPOINTS, endpointsFromEnv } from "./endpoints.ts";

Deno.test("endpointsFromEnv falls back to the loopback defaults", () => {
  deepEqual(endpointsFromEnv({}), DEFAULT_ENDPOINTS);
});

Deno.test("endpointsFromEnv splits lists and ignores empty entries", () => {
  const e = endpointsFromEnv({
    SLUICE_ETCD_ENDPOINTS: "http://a:2379, http://b:2379,",
    SLUICE_KAFKA_BROKERS: "k1:9092",
    SLUICE_SEARCH_URL: "https://search:9200",
    SLUICE_ETCD_PREFIX: "/prod",
  });
  deepEqual(e, {
    etcd: ["http://a:2379", "http://b:2379"],
    etcdPrefix: "/prod",
    kafka: ["k1:9092"],
    search: "https://search:9200",
  });
});

Deno.test("endpointsFromEnv keeps credentials out of the search address", () => {
  const e = endpointsFromEnv({ SLUICE_SEARCH_URL: "https://elastic:secret-pw@es:9200" });
  deepEqual(e.search, "https://es:9200");
});
