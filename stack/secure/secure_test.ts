import { deepEqual, equal, ok } from "node:assert/strict";
import { secureClientEnv } from "./credentials.ts";
import { secureEtcdArgs } from "./etcd.ts";
import { renderSecureServerProperties, scramJaas } from "./kafka.ts";
import { jarArtifact, secureNodeSettings } from "./opensearch.ts";

Deno.test("jarArtifact strips the version, so bundled duplicates are found by name", () => {
  equal(jarArtifact("netty-common-4.1.121.Final.jar"), "netty-common");
  equal(jarArtifact("transport-netty4-client-2.19.3.jar"), "transport-netty4-client");
  equal(jarArtifact("guava-33.4.0-jre.jar"), "guava");
  equal(jarArtifact("opensearch-security-2.19.3.0.jar"), "opensearch-security");
  equal(jarArtifact("bcprov-jdk18on-1.78.jar"), "bcprov-jdk18on");
});

Deno.test("the secure broker: SASL_SSL only for clients, SCRAM-SHA-512, PKCS#12 key store", () => {
  const props = renderSecureServerProperties(
    "/d",
    { keystore: "/c/server.p12", keystorePassword: "ks-pw", ca: "/c/ca.pem" },
    'adm"in-pw',
  );
  const map = Object.fromEntries(
    props.split("\n").filter((l) => l.includes("=") && !l.startsWith("#")).map((l) => {
      const i = l.indexOf("=");
      return [l.slice(0, i), l.slice(i + 1)];
    }),
  );
  equal(map["listeners"], "SASL_SSL://127.0.0.1:9192,CONTROLLER://127.0.0.1:9193");
  equal(map["advertised.listeners"], "SASL_SSL://127.0.0.1:9192");
  equal(map["inter.broker.listener.name"], "SASL_SSL");
  equal(map["sasl.enabled.mechanisms"], "SCRAM-SHA-512");
  equal(map["ssl.keystore.location"], "/c/server.p12");
  equal(map["log.dirs"], "/d");
  equal(
    map["listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config"],
    'org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" ' +
      'password="adm\\"in-pw";',
  );
  ok(!props.includes("PLAINTEXT://"), "no plaintext client listener");
  equal(scramJaas("u", "a\\b").endsWith('password="a\\\\b";'), true);
});

Deno.test("the secure etcd serves TLS on loopback and advertises the name its clients use", () => {
  const args = secureEtcdArgs("/data", "/c/server.pem", "/c/server.key");
  const value = (flag: string) => args[args.indexOf(flag) + 1];
  equal(value("--listen-client-urls"), "https://127.0.0.1:2479");
  equal(value("--advertise-client-urls"), "https://localhost:2479");
  equal(value("--cert-file"), "/c/server.pem");
  equal(value("--key-file"), "/c/server.key");
  ok(!args.includes("--client-cert-auth"), "client certificates are not required");
});

Deno.test("the secure node's settings load the security plugin with TLS on both layers", () => {
  const text = secureNodeSettings();
  ok(text.includes("sluice.plugin.types=org.opensearch.security.OpenSearchSecurityPlugin\n"));
  ok(text.includes("plugins.security.ssl.http.enabled=true\n"));
  ok(text.includes("plugins.security.nodes_dn=[CN=localhost,O=sluice]\n"));
  ok(text.includes("transport.port=9400\n"));
});

Deno.test("secureClientEnv points at the secure ports, with passwords by file only", () => {
  const env = secureClientEnv("/r");
  equal(env.SLUICE_KAFKA_BROKERS, "127.0.0.1:9192");
  equal(env.SLUICE_ETCD_ENDPOINTS, "https://localhost:2479");
  equal(env.SLUICE_SEARCH_URL, "https://127.0.0.1:9201");
  deepEqual(
    Object.keys(env).filter((k) => /PASSWORD|API_KEY/.test(k)).sort(),
    ["SLUICE_ETCD_PASSWORD_FILE", "SLUICE_KAFKA_PASSWORD_FILE", "SLUICE_SEARCH_PASSWORD_FILE"],
  );
  equal(env.SLUICE_KAFKA_PASSWORD_FILE, "/r/secrets/kafka-sluice.password");
});

Deno.test("secureClientEnv for the secure Elasticsearch: its port and its sluice password", () => {
  const env = secureClientEnv("/r", "elasticsearch");
  equal(env.SLUICE_SEARCH_URL, "https://127.0.0.1:9222");
  equal(env.SLUICE_SEARCH_PASSWORD_FILE, "/r/secrets/elasticsearch-sluice.password");
  equal(env.SLUICE_KAFKA_BROKERS, "127.0.0.1:9192");
});
