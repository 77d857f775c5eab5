import { deepEqual, equal, ok } from "node:assert/strict";
import { SECURE_PORTS } from "../secure/credentials.ts";
import { stackVariant } from "../variants.ts";
import { SERVICE_NAMES } from "../service.ts";
import { clusterEtcdArgs } from "./etcd.ts";
import { quorumVoters, renderClusterProperties } from "./kafka.ts";
import { clusterNodeSettings } from "./opensearch.ts";
import {
  clusterClientEnv,
  clusterEndpoints,
  ETCD_MEMBERS,
  KAFKA_BROKERS,
  KAFKA_MEMBERS,
  SEARCH_MEMBERS,
} from "./topology.ts";

function properties(text: string): Record<string, string> {
  return Object.fromEntries(
    text.split("\n").filter((l) => l.includes("=") && !l.startsWith("#")).map((l) => {
      const i = l.indexOf("=");
      return [l.slice(0, i), l.slice(i + 1)];
    }),
  );
}

Deno.test("the cluster's ports are all distinct and clash with neither the plain nor the secure stack", () => {
  const cluster = [
    ...ETCD_MEMBERS.flatMap((m) => [m.client, m.peer]),
    ...KAFKA_MEMBERS.map((m) => m.port),
    ...SEARCH_MEMBERS.flatMap((m) => [m.http, m.transport]),
  ];
  equal(new Set(cluster).size, cluster.length);
  // The plain stack (OpenSearch's transport takes the first free port of 9300-9399).
  const plain = [2379, 2380, 9092, 9093, 9200, 9220, 9320];
  for (const port of cluster) {
    ok(!plain.includes(port) && !(port >= 9300 && port <= 9399), `port ${port}`);
    ok(!Object.values(SECURE_PORTS).includes(port as never), `port ${port}`);
    // Below the kernel's ephemeral range, so a client's own port never takes one.
    ok(port < 32768, `port ${port}`);
  }
});

Deno.test("three etcd members name each other in one initial cluster", () => {
  const args = clusterEtcdArgs(ETCD_MEMBERS[1], "/d");
  const at = (flag: string) => args[args.indexOf(flag) + 1];
  equal(at("--name"), "etcd-2");
  equal(at("--listen-client-urls"), "http://127.0.0.1:12381");
  equal(at("--initial-advertise-peer-urls"), "http://127.0.0.1:12382");
  equal(
    at("--initial-cluster"),
    "etcd-1=http://127.0.0.1:12380,etcd-2=http://127.0.0.1:12382,etcd-3=http://127.0.0.1:12384",
  );
  equal(at("--initial-cluster-state"), "new");
});

Deno.test("Kafka: three voters, three brokers, replication 3, min ISR 2, no unclean election", () => {
  equal(quorumVoters(), "101@127.0.0.1:19093,102@127.0.0.1:19095,103@127.0.0.1:19097");
  const broker = properties(renderClusterProperties(KAFKA_BROKERS[2], "/d"));
  equal(broker["process.roles"], "broker");
  equal(broker["node.id"], "3");
  equal(broker["listeners"], "PLAINTEXT://127.0.0.1:19096");
  equal(broker["advertised.listeners"], "PLAINTEXT://127.0.0.1:19096");
  for (const key of ["default.replication.factor", "offsets.topic.replication.factor"]) {
    equal(broker[key], "3", key);
  }
  equal(broker["min.insync.replicas"], "2");
  equal(broker["transaction.state.log.min.isr"], "2");
  equal(broker["unclean.leader.election.enable"], "false");
  const voter = properties(renderClusterProperties(KAFKA_MEMBERS[0], "/d"));
  equal(voter["process.roles"], "controller");
  equal(voter["node.id"], "101");
  equal(voter["listeners"], "CONTROLLER://127.0.0.1:19093");
  equal(voter["advertised.listeners"], undefined);
  // The controllers make topics and write the cluster-wide min ISR on the first start: theirs
  // must say the same as the brokers'.
  equal(voter["default.replication.factor"], "3");
  equal(voter["min.insync.replicas"], "2");
  equal(voter["unclean.leader.election.enable"], "false");
});

Deno.test("OpenSearch: two nodes seed each other; only the first bootstraps and manages", () => {
  const first = properties(clusterNodeSettings(SEARCH_MEMBERS[0]));
  const second = properties(clusterNodeSettings(SEARCH_MEMBERS[1]));
  equal(first["discovery.type"], "zen");
  equal(first["discovery.seed_hosts"], "[127.0.0.1:19300; 127.0.0.1:19301]");
  equal(second["discovery.seed_hosts"], first["discovery.seed_hosts"]);
  equal(first["cluster.initial_cluster_manager_nodes"], "[sluice-os-1]");
  equal(second["cluster.initial_cluster_manager_nodes"], undefined);
  equal(first["node.roles"], "[cluster_manager; data; ingest]");
  equal(second["node.roles"], "[data; ingest]");
  equal(second["transport.port"], "19301");
  equal(first["cluster.default_number_of_replicas"], "1");
});

Deno.test("the cluster variant lists its members and runs no Elasticsearch", () => {
  const variant = stackVariant("cluster", "/tmp/cluster");
  const ids = SERVICE_NAMES.map((s) => variant.members(s).map((m) => m.id));
  deepEqual(ids, [
    ["etcd-1", "etcd-2", "etcd-3"],
    [
      "kafka-controller-1",
      "kafka-controller-2",
      "kafka-controller-3",
      "kafka-1",
      "kafka-2",
      "kafka-3",
    ],
    ["opensearch-1", "opensearch-2"],
    [],
  ]);
  const ctx = variant.context(variant.members("kafka")[4], clusterEndpoints(), () => {});
  equal(ctx.dir, "/tmp/cluster/kafka-2");
  equal(ctx.paths.pidFile, "/tmp/cluster/kafka-2/kafka-2.pid");
});

Deno.test("the client environment lists every member of each service", () => {
  deepEqual(clusterClientEnv(), {
    SLUICE_ETCD_ENDPOINTS: "http://127.0.0.1:12379,http://127.0.0.1:12381,http://127.0.0.1:12383",
    SLUICE_KAFKA_BROKERS: "127.0.0.1:19092,127.0.0.1:19094,127.0.0.1:19096",
    SLUICE_SEARCH_URL: "http://127.0.0.1:19200,http://127.0.0.1:19201",
  });
  equal(clusterEndpoints().search, "http://127.0.0.1:19200");
});
