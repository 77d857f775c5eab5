/**
 * The variants of the local stack that the one orchestrator (stack/stack.ts) runs: `plain` (the
 * standard loopback ports, no security, env overrides make a service external), `secure`
 * (TLS, SASL/SCRAM and passwords, on its own ports under `.stack/secure/`) and `cluster` (three
 * etcd members, three Kafka voters and three brokers, two OpenSearch nodes, on its own ports
 * under `.stack/cluster/`). A variant says which members run each service, where their files
 * are, what its hooks get and what must exist before anything starts; the orchestrator starts,
 * probes and stops each member.
 * @module
 */
import type { Endpoints } from "../core/endpoints.ts";
import { elasticsearchService } from "./elasticsearch.ts";
import { etcdService } from "./etcd.ts";
import { kafkaService } from "./kafka.ts";
import { openSearchService } from "./opensearch.ts";
import { ownedPid } from "./process.ts";
import { certificatePaths, ensureCertificates } from "./secure/certs.ts";
import { credentialFiles, ensureCredentials } from "./secure/credentials.ts";
import { secureElasticsearchService } from "./secure/elasticsearch.ts";
import { secureEtcdService } from "./secure/etcd.ts";
import { secureKafkaService } from "./secure/kafka.ts";
import { secureOpenSearchService } from "./secure/opensearch.ts";
import { clusterEtcdMember } from "./cluster/etcd.ts";
import { clusterKafkaMember } from "./cluster/kafka.ts";
import { clusterSearchMember } from "./cluster/opensearch.ts";
import {
  CLUSTER_STACK_DIR,
  ETCD_MEMBERS,
  KAFKA_MEMBERS,
  SEARCH_MEMBERS,
} from "./cluster/topology.ts";
import {
  type Progress,
  type SecureContext,
  SERVICE_NAMES,
  type ServiceContext,
  type ServiceDefinition,
  type ServiceName,
  servicePaths,
  STACK_DIR,
} from "./service.ts";

export type VariantName = "plain" | "secure" | "cluster";

/** One running instance of a service: its id names its folder, log and pid file. */
export interface Member {
  service: ServiceName;
  /** `kafka` (one member) or e.g. `kafka-2` (one of several). */
  id: string;
  definition: ServiceDefinition;
}

/** What the orchestrator needs to know of a variant. */
export interface StackVariant {
  name: VariantName;
  /** The folder of its data, logs, pid files (`.stack` or `.stack/secure`). */
  root: string;
  /** The command-line flag that selects it (`""`, `" --secure"`, `" --cluster"`), for fix hints. */
  flag: string;
  /** True when its folders hold secrets and are made private (mode 0700). */
  privateDirs: boolean;
  /** The members that run `service` (none: the variant does not run it), in start order. */
  members(service: ServiceName): Member[];
  /** How a member is named in progress lines and errors. */
  label(member: Member): string;
  /** Made once before any member starts (idempotent): the secure certificates and passwords. */
  setup(progress: Progress): Promise<void>;
  /** What a member's hooks get. Pure: a status check must not create anything. */
  context(member: Member, endpoints: Endpoints, progress: Progress): ServiceContext;
  /** Why no member can answer yet, before anything was set up (e.g. no certificates). */
  notReady(): Promise<string | undefined>;
  /** The variable that moves `service` elsewhere, when the variant allows it. */
  overrideVariable?: Record<ServiceName, string>;
}

/** The environment variable that moves each service of the plain stack elsewhere. */
export const OVERRIDE_VARIABLE: Record<ServiceName, string> = {
  etcd: "SLUICE_ETCD_ENDPOINTS",
  kafka: "SLUICE_KAFKA_BROKERS",
  opensearch: "SLUICE_SEARCH_URL",
  elasticsearch: "SLUICE_SEARCH_URL",
};

const PLAIN: Record<ServiceName, ServiceDefinition> = {
  etcd: etcdService,
  kafka: kafkaService,
  opensearch: openSearchService,
  elasticsearch: elasticsearchService,
};

// The secure hooks take a SecureContext, which the secure variant's `context` makes.
const SECURE: Record<ServiceName, ServiceDefinition> = {
  etcd: secureEtcdService as ServiceDefinition,
  kafka: secureKafkaService as ServiceDefinition,
  opensearch: secureOpenSearchService as ServiceDefinition,
  elasticsearch: secureElasticsearchService as ServiceDefinition,
};

function single(definitions: Record<ServiceName, ServiceDefinition>) {
  return (service: ServiceName): Member[] => [
    { service, id: service, definition: definitions[service] },
  ];
}

function baseContext(
  root: string,
  member: Member,
  endpoints: Endpoints,
  progress: Progress,
): ServiceContext {
  const paths = servicePaths(member.id, root);
  return { root, dir: paths.dir, paths, endpoints, progress };
}

/** The plain stack: standard loopback ports, env overrides, `.stack/`. */
export function plainVariant(root: string = STACK_DIR): StackVariant {
  return {
    name: "plain",
    root,
    flag: "",
    privateDirs: false,
    members: single(PLAIN),
    label: (member) => member.id,
    setup: () => Promise.resolve(),
    context: (member, endpoints, progress) => baseContext(root, member, endpoints, progress),
    notReady: () => Promise.resolve(undefined),
    overrideVariable: OVERRIDE_VARIABLE,
  };
}

/** Where the secure stack keeps certificates, passwords, data and logs. */
export const SECURE_STACK_DIR = `${STACK_DIR}/secure`;

/** The secure stack: TLS and passwords on every service, its own ports, `.stack/secure/`. */
export function secureVariant(root: string = SECURE_STACK_DIR): StackVariant {
  const exists = (path: string) => Deno.stat(path).then(() => true, () => false);
  return {
    name: "secure",
    root,
    flag: " --secure",
    privateDirs: true,
    members: single(SECURE),
    label: (member) => `${member.id} (secure)`,
    async setup(progress) {
      await Deno.mkdir(root, { recursive: true, mode: 0o700 });
      await ensureCertificates(`${root}/certs`, progress);
      const renewed = await ensureCredentials(`${root}/secrets`);
      // New passwords: data made with the old ones (SCRAM users, etcd users, the security
      // indices) would refuse them.
      for (const service of SERVICE_NAMES.filter((name) => renewed.includes(name))) {
        const { dir, pidFile } = servicePaths(service, root);
        if (await ownedPid(pidFile, dir) === undefined) {
          await Deno.remove(dir, { recursive: true }).catch(() => {});
        }
      }
    },
    context(member, endpoints, progress): SecureContext {
      return {
        ...baseContext(root, member, endpoints, progress),
        certs: certificatePaths(`${root}/certs`),
        credentials: credentialFiles(`${root}/secrets`),
      };
    },
    async notReady() {
      const ready = await exists(`${root}/certs/ca.pem`) && await exists(`${root}/secrets`);
      return ready ? undefined : "not set up yet (no certificates)";
    },
  };
}

export { CLUSTER_STACK_DIR };

/**
 * The cluster: etcd-1…3 (one etcd cluster), kafka-controller-1…3 (KRaft voters) and kafka-1…3
 * (brokers), opensearch-1…2 (one OpenSearch cluster; the search engine of the cluster is
 * OpenSearch only, docs/stack.md says why), each member in `.stack/cluster/<member>/`. No
 * overrides: its addresses are its own (stack/cluster/topology.ts).
 */
export function clusterVariant(root: string = CLUSTER_STACK_DIR): StackVariant {
  const members: Record<ServiceName, Member[]> = {
    etcd: ETCD_MEMBERS.map((m) => ({
      service: "etcd",
      id: m.id,
      definition: clusterEtcdMember(m),
    })),
    kafka: KAFKA_MEMBERS.map((m) => ({
      service: "kafka",
      id: m.id,
      definition: clusterKafkaMember(m),
    })),
    opensearch: SEARCH_MEMBERS.map((m) => ({
      service: "opensearch",
      id: m.id,
      definition: clusterSearchMember(m),
    })),
    elasticsearch: [],
  };
  return {
    name: "cluster",
    root,
    flag: " --cluster",
    privateDirs: false,
    members: (service) => members[service],
    label: (member) => `${member.id} (cluster)`,
    setup: async () => void await Deno.mkdir(root, { recursive: true }),
    context: (member, endpoints, progress) => baseContext(root, member, endpoints, progress),
    notReady: () => Promise.resolve(undefined),
  };
}

/** The variant of a name, with its default folder unless `root` is given. */
export function stackVariant(name: VariantName, root?: string): StackVariant {
  if (name === "cluster") return clusterVariant(root);
  return name === "secure" ? secureVariant(root) : plainVariant(root);
}
