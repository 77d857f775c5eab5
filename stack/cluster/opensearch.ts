/**
 * The cluster's search engine: two OpenSearch 2.19 nodes of one cluster (HTTP 19200 and 19201,
 * transport 19300 and 19301), each its own JVM started by stack/opensearch/OpenSearchNode.java
 * on the plain node's jars, with node settings that replace single-node discovery by the two
 * seed addresses. Node 1 bootstraps the cluster and is its only cluster manager; node 2 holds
 * data (docs/stack.md says why). Every index gets one replica, so each node holds every shard.
 * @module
 */
import { resolveJars } from "../maven.ts";
import { probeSearch } from "../opensearch.ts";
import { requireJava } from "../prerequisites.ts";
import { withLockFile } from "../process.ts";
import { parseAddress, REPO_ROOT, type ServiceDefinition, STACK_DIR } from "../service.ts";
import {
  SEARCH_CLUSTER_NAME,
  SEARCH_MEMBERS,
  type SearchMemberSpec,
  searchUrl,
} from "./topology.ts";

const POM = `${REPO_ROOT}/stack/opensearch/pom.xml`;
const MAIN = `${REPO_ROOT}/stack/opensearch/OpenSearchNode.java`;
/** The plain node's jars: the same build, resolved once. */
const JARS = `${STACK_DIR}/opensearch/jars`;
/** Two nodes beside the plain stack: 768 MiB each is plenty for the suite's indices. */
const HEAP = ["-Xms512m", "-Xmx768m"];

/**
 * Node settings of `self` (Java properties for OpenSearchNode.java; `[a; b]` is a list): its name
 * and roles, its transport port, the seed addresses of every node, and on the manager-eligible
 * node the bootstrap list. Pure.
 */
export function clusterNodeSettings(
  self: SearchMemberSpec,
  members: readonly SearchMemberSpec[] = SEARCH_MEMBERS,
): string {
  const managers = members.filter((m) => m.roles.includes("cluster_manager"));
  const settings: Record<string, string> = {
    "cluster.name": SEARCH_CLUSTER_NAME,
    "node.name": self.nodeName,
    "node.roles": `[${self.roles.join("; ")}]`,
    "transport.port": String(self.transport),
    // "zen" is OpenSearch's multi-node discovery (the node's default before our single-node).
    "discovery.type": "zen",
    "discovery.seed_hosts": `[${members.map((m) => `127.0.0.1:${m.transport}`).join("; ")}]`,
    // Every index of the cluster has one replica unless it says otherwise.
    "cluster.default_number_of_replicas": "1",
    ...(self.roles.includes("cluster_manager")
      ? {
        "cluster.initial_cluster_manager_nodes": `[${managers.map((m) => m.nodeName).join("; ")}]`,
      }
      : {}),
  };
  return Object.entries(settings).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
}

/** The service definition of one search node of the cluster. */
export function clusterSearchMember(self: SearchMemberSpec): ServiceDefinition {
  return {
    name: "opensearch",
    defaultPort: self.http,
    ports: [self.http, self.transport],
    address: () => parseAddress(searchUrl(self), self.http),
    async prepare(ctx) {
      await requireJava();
      await withLockFile(`${STACK_DIR}/opensearch-jars.lock`, 600_000, async () => {
        await Deno.mkdir(`${STACK_DIR}/opensearch`, { recursive: true });
        await resolveJars(POM, JARS, "opensearch", ctx.progress);
      });
      await Deno.mkdir(`${ctx.dir}/node`, { recursive: true });
      await Deno.writeTextFile(`${ctx.dir}/node.properties`, clusterNodeSettings(self));
    },
    command: (ctx) =>
      Promise.resolve([
        "java",
        ...HEAP,
        "-XX:+UseG1GC",
        "-Djava.awt.headless=true",
        "-Dfile.encoding=UTF-8",
        "-Dlog4j2.disable.jmx=true",
        "-Dlog4j.shutdownHookEnabled=false",
        "-cp",
        `${JARS}/*`,
        MAIN,
        `${ctx.dir}/node`,
        String(self.http),
        `${ctx.dir}/node.properties`,
      ]),
    // Through this node: identified, and the cluster's health yellow or green (a node that has
    // not joined a cluster with a manager answers 503).
    probe: (_ctx, address) => probeSearch(address, {}),
    startTimeoutMs: 180_000,
    stopGraceMs: 30_000,
  };
}
