import { deepEqual, equal, throws } from "node:assert/strict";
import { InvalidInputError } from "./errors.ts";
import {
  DEFAULT_ENDPOINTS,
  endpointsFromEnv,
  formatHostPort,
  parseHostPort,
  splitUrlList,
} from "./endpoints.ts";

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
    searchNodes: ["https://search:9200"],
  });
});

Deno.test("endpointsFromEnv reads every node of a search engine cluster, the first as search", () => {
  const e = endpointsFromEnv({ SLUICE_SEARCH_URL: " http://s1:9200 ,http://s2:9200,," });
  deepEqual(e.searchNodes, ["http://s1:9200", "http://s2:9200"]);
  equal(e.search, "http://s1:9200");
  deepEqual(endpointsFromEnv({ SLUICE_SEARCH_URL: " , " }).searchNodes, ["http://127.0.0.1:9200"]);
});

Deno.test("splitUrlList keeps the order and drops empty items", () => {
  deepEqual(splitUrlList("a,b , ,c"), ["a", "b", "c"]);
  deepEqual(splitUrlList(""), []);
});

Deno.test("endpointsFromEnv keeps credentials out of the search address", () => {
  const e = endpointsFromEnv({ SLUICE_SEARCH_URL: "https://elastic:secret-pw@es:9200" });
  deepEqual(e.search, "https://es:9200");
  deepEqual(e.searchNodes, ["https://es:9200"]);
});

Deno.test("parseHostPort handles host:port, IPv6 and empty host", () => {
  deepEqual(parseHostPort("127.0.0.1:9464"), { hostname: "127.0.0.1", port: 9464 });
  deepEqual(parseHostPort("[::1]:80"), { hostname: "::1", port: 80 });
  deepEqual(parseHostPort(":9"), { hostname: "0.0.0.0", port: 9 });
  deepEqual(parseHostPort("localhost:0"), { hostname: "localhost", port: 0 });
  deepEqual(parseHostPort("[fe80::1%eth0]:9464"), { hostname: "fe80::1%eth0", port: 9464 });
});

Deno.test("parseHostPort refuses what is not HOST:PORT, naming the setting and the value", () => {
  for (const bad of ["9464", "::1:80", "host:", "host:port", "host:70000", "[]:80", "a b:1"]) {
    throws(() => parseHostPort(bad, "--metrics-addr"), (error: Error) => {
      equal(error instanceof InvalidInputError, true);
      equal(error.message.includes(`--metrics-addr '${bad}' must be HOST:PORT`), true);
      return true;
    });
  }
});

Deno.test("formatHostPort brackets IPv6 and round-trips with parseHostPort", () => {
  for (const address of ["127.0.0.1:9464", "[::1]:80", "host.example:1"]) {
    const { hostname, port } = parseHostPort(address);
    equal(formatHostPort(hostname, port), address);
  }
});
