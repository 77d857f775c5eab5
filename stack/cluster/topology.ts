/**
 * The cluster variant's shape, pure: which members run each service, their names, ports and
 * roles, and the endpoint lists that point sluice at all of them. Its own ports (etcd 123xx,
 * Kafka 190xx, OpenSearch 192xx/193xx), so it runs beside the plain and the secure stack.
 * @module
 */
import type { Endpoints } from "../../core/endpoints.ts";
import { STACK_DIR } from "../service.ts";

/** Where the cluster keeps its data, logs and pid files. */
export const CLUSTER_STACK_DIR = `${STACK_DIR}/cluster`;

/** One etcd member of the cluster. */
export interface EtcdMemberSpec {
  /** Member id: folder, log and pid file name, and etcd's `--name`. */
  id: string;
  client: number;
  peer: number;
}

/** One Kafka process: a controller (a KRaft voter) or a broker. */
export interface KafkaMemberSpec {
  id: string;
  role: "controller" | "broker";
  /** KRaft `node.id` (brokers 1–3, so metadata names them as their members do; voters 101–103). */
  nodeId: number;
  /** Its one listener: CONTROLLER for a voter, PLAINTEXT for a broker. */
  port: number;
}

/** One search node. */
export interface SearchMemberSpec {
  id: string;
  /** `node.name`, as `_cat/nodes` and shard allocation name it. */
  nodeName: string;
  http: number;
  transport: number;
  /** `node.roles`. */
  roles: string[];
}

/** etcd: three members of one cluster (quorum 2). */
export const ETCD_MEMBERS: readonly EtcdMemberSpec[] = [1, 2, 3].map((i) => ({
  id: `etcd-${i}`,
  client: 12379 + (i - 1) * 2,
  peer: 12380 + (i - 1) * 2,
}));

/**
 * Kafka: three controller-only voters and three brokers. The voters are processes of their own so
 * that two brokers down still leave a quorum: the in-sync set then shrinks below
 * min.insync.replicas and producers are refused (NOT_ENOUGH_REPLICAS) instead of every metadata
 * change stopping, which is the fault the suite shows.
 */
export const KAFKA_MEMBERS: readonly KafkaMemberSpec[] = [
  ...[1, 2, 3].map((i) => ({
    id: `kafka-controller-${i}`,
    role: "controller" as const,
    nodeId: 100 + i,
    port: 19093 + (i - 1) * 2,
  })),
  ...[1, 2, 3].map((i) => ({
    id: `kafka-${i}`,
    role: "broker" as const,
    nodeId: i,
    port: 19092 + (i - 1) * 2,
  })),
];

/** The Kafka brokers only. */
export const KAFKA_BROKERS: readonly KafkaMemberSpec[] = KAFKA_MEMBERS.filter((m) =>
  m.role === "broker"
);

/** The cluster's replication settings (server.properties of every broker). */
export const KAFKA_REPLICATION = { factor: 3, minInsync: 2 } as const;

/**
 * OpenSearch: two nodes of one cluster, each a copy of every shard (1 replica). Only the first
 * is cluster-manager-eligible: with two eligible nodes the voting configuration holds one of
 * them anyway, so the loss of that one stops the cluster either way; naming it makes plain
 * which node may be lost (the second) and which may not.
 */
export const SEARCH_MEMBERS: readonly SearchMemberSpec[] = [
  {
    id: "opensearch-1",
    nodeName: "sluice-os-1",
    http: 19200,
    transport: 19300,
    roles: ["cluster_manager", "data", "ingest"],
  },
  {
    id: "opensearch-2",
    nodeName: "sluice-os-2",
    http: 19201,
    transport: 19301,
    roles: ["data", "ingest"],
  },
];

/** The cluster's name in OpenSearch. */
export const SEARCH_CLUSTER_NAME = "sluice-cluster";

/** `host:port` of a Kafka member. */
export function kafkaAddress(member: KafkaMemberSpec): string {
  return `127.0.0.1:${member.port}`;
}

/** The client URL of an etcd member. */
export function etcdUrl(member: EtcdMemberSpec): string {
  return `http://127.0.0.1:${member.client}`;
}

/** The HTTP URL of a search node. */
export function searchUrl(member: SearchMemberSpec): string {
  return `http://127.0.0.1:${member.http}`;
}

/**
 * Where sluice finds the cluster: every member of each service.
 *
 * @example
 * ```ts
 * import { clusterEndpoints } from "./topology.ts";
 * clusterEndpoints().kafka; // ["127.0.0.1:19092", "127.0.0.1:19094", "127.0.0.1:19096"]
 * ```
 */
export function clusterEndpoints(): Endpoints {
  const search = SEARCH_MEMBERS.map(searchUrl);
  return {
    etcd: ETCD_MEMBERS.map(etcdUrl),
    etcdPrefix: "/sluice",
    kafka: KAFKA_BROKERS.map(kafkaAddress),
    search: search[0],
    searchNodes: search,
  };
}

/**
 * The SLUICE_* variables that point a sluice process (agent, transfer, console, CLIs) at the
 * cluster: comma-separated lists of every member.
 *
 * @example
 * ```ts
 * import { clusterClientEnv } from "./topology.ts";
 * clusterClientEnv().SLUICE_SEARCH_URL; // "http://127.0.0.1:19200,http://127.0.0.1:19201"
 * ```
 */
export function clusterClientEnv(): Record<string, string> {
  const e = clusterEndpoints();
  return {
    SLUICE_ETCD_ENDPOINTS: e.etcd.join(","),
    SLUICE_KAFKA_BROKERS: e.kafka.join(","),
    SLUICE_SEARCH_URL: e.searchNodes.join(","),
  };
}
