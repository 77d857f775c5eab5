/**
 * The programs sluice is measured against: `kcat -P` (librdkafka) and rsyslog `imfile` →
 * `omkafka`, both from Debian. Installs them with apt when missing (without letting the package
 * start rsyslog as a system service), reports their versions, and writes their settings: the
 * librdkafka properties shared by both, and an rsyslog configuration for a foreground rsyslogd
 * with its own state directory. The config text is pure and unit tested.
 * @module
 */
import { SluiceError } from "../core/errors.ts";
import type { Compression } from "../kafka/codecs.ts";

/** Debian packages the peers come from. */
export const PEER_PACKAGES = ["kcat", "rsyslog", "rsyslog-kafka"] as const;

/** The installed version of a Debian package, or undefined. */
export async function packageVersion(name: string): Promise<string | undefined> {
  const out = await new Deno.Command("dpkg-query", {
    args: ["-W", "-f", "${Status}\t${Version}", name],
    stdout: "piped",
    stderr: "null",
  }).output().catch(() => undefined);
  if (!out || out.code !== 0) return undefined;
  const [status, version] = new TextDecoder().decode(out.stdout).split("\t");
  return status.endsWith(" installed") ? version : undefined;
}

async function apt(args: string[]): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command("apt-get", {
    args,
    env: { DEBIAN_FRONTEND: "noninteractive" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, output: decode(out.stdout) + decode(out.stderr) };
}

const POLICY_RC = "/usr/sbin/policy-rc.d";

/**
 * Installs the missing peer packages with apt-get (after `apt-get update` if the first try
 * fails). While installing, a `policy-rc.d` that denies service starts is put in place if the
 * machine has none, so the rsyslog package does not start the system rsyslogd: the benchmark
 * runs its own rsyslogd in the foreground. Returns package → version.
 */
export async function ensurePeers(
  progress: (line: string) => void,
): Promise<Record<string, string>> {
  const missing: string[] = [];
  for (const name of PEER_PACKAGES) if (!(await packageVersion(name))) missing.push(name);
  if (missing.length > 0) {
    progress(`installing ${missing.join(", ")} with apt-get`);
    let placedPolicy = false;
    try {
      await Deno.stat(POLICY_RC);
    } catch {
      await Deno.writeTextFile(
        POLICY_RC,
        "#!/bin/sh\n# placed by sluice bench during apt-get\nexit 101\n",
        {
          mode: 0o755,
        },
      );
      placedPolicy = true;
    }
    try {
      const install = ["install", "-y", "--no-install-recommends", ...missing];
      let result = await apt(install);
      if (result.code !== 0) {
        await apt(["update"]);
        result = await apt(install);
      }
      if (result.code !== 0) {
        throw new SluiceError(
          `apt-get install ${missing.join(" ")} failed (exit ${result.code}); run it by hand as ` +
            `root and retry:\n${result.output.slice(-2000)}`,
        );
      }
    } finally {
      if (placedPolicy) await Deno.remove(POLICY_RC).catch(() => {});
    }
  }
  const versions: Record<string, string> = {};
  for (const name of PEER_PACKAGES) versions[name] = (await packageVersion(name)) ?? "missing";
  return versions;
}

/** The librdkafka version kcat reports (`kcat -V`), e.g. "2.0.2". */
export async function librdkafkaVersion(): Promise<string | undefined> {
  const out = await new Deno.Command("kcat", { args: ["-V"], stdout: "piped", stderr: "piped" })
    .output().catch(() => undefined);
  if (!out) return undefined;
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return /librdkafka ([\d.]+)/.exec(text)?.[1];
}

/** How the peers batch and compress: the same for kcat and omkafka, close to the agent's. */
export interface PeerProducerSettings {
  /** The agent's codec and the peers' (the same names in librdkafka). */
  compression: Compression;
  lingerMs: number;
  batchBytes: number;
}

/**
 * librdkafka producer properties for a run: acks from all in-sync replicas, idempotence (as the
 * agent's producer), and the batching and compression of `settings`.
 *
 * @example
 * ```ts
 * import { librdkafkaProperties } from "./peers.ts";
 * librdkafkaProperties({ compression: "gzip", lingerMs: 10, batchBytes: 1_000_000 })[0];
 * // "acks=all"
 * ```
 */
export function librdkafkaProperties(settings: PeerProducerSettings): string[] {
  return [
    "acks=all",
    "enable.idempotence=true",
    `compression.codec=${settings.compression}`,
    `linger.ms=${settings.lingerMs}`,
    `batch.size=${settings.batchBytes}`,
  ];
}

/** The arguments of `kcat -P` reading lines from `file` into `topic`. */
export function kcatArgs(
  brokers: string[],
  topic: string,
  file: string,
  settings: PeerProducerSettings,
): string[] {
  return [
    "-P",
    "-b",
    brokers.join(","),
    "-t",
    topic,
    "-l",
    ...librdkafkaProperties(settings).flatMap((p) => ["-X", p]),
    file,
  ];
}

export interface RsyslogOptions {
  /** imfile's state files (where it keeps its read offsets). */
  workDir: string;
  /** Glob of the files to read. */
  files: string;
  brokers: string[];
  topic: string;
  settings: PeerProducerSettings;
}

function quote(s: string): string {
  return JSON.stringify(s);
}

/**
 * An rsyslog configuration: imfile (inotify) reads `files` from their start, and omkafka sends
 * each line as it was written (template `%msg%`) with the shared librdkafka settings.
 *
 * @example
 * ```ts
 * import { rsyslogConfig } from "./peers.ts";
 * const conf = rsyslogConfig({
 *   workDir: "/tmp/r", files: "/tmp/logs/*.log", brokers: ["127.0.0.1:9092"], topic: "t",
 *   settings: { compression: "gzip", lingerMs: 10, batchBytes: 1_000_000 },
 * });
 * conf.includes('module(load="omkafka")'); // true
 * ```
 */
export function rsyslogConfig(options: RsyslogOptions): string {
  const props = librdkafkaProperties(options.settings).filter((p) => !p.startsWith("acks="));
  return [
    `# Written by deno task bench: imfile -> omkafka, foreground rsyslogd with its own state.`,
    `global(workDirectory=${quote(options.workDir)} maxMessageSize="64k")`,
    `module(load="imfile" mode="inotify")`,
    `module(load="omkafka")`,
    `template(name="bench_line" type="string" string="%msg%")`,
    `input(type="imfile" file=${quote(options.files)} tag="bench" ruleset="to_kafka"`,
    `      freshStartTail="off" addMetadata="off")`,
    `ruleset(name="to_kafka" queue.type="LinkedList" queue.size="200000"`,
    `        queue.dequeueBatchSize="2048") {`,
    `  action(type="omkafka" broker=[${options.brokers.map(quote).join(", ")}]`,
    `         topic=${quote(options.topic)} template="bench_line" partitions.auto="on"`,
    `         confParam=[${props.map(quote).join(", ")}]`,
    `         topicConfParam=["request.required.acks=-1"]`,
    // When librdkafka's queue is full the action is suspended; without retries rsyslog would
    // drop those lines (it lost ~100 of 2,000,000 that way). Retry forever, as the agent does.
    `         action.resumeRetryCount="-1" resubmitOnFailure="on"`,
    `         errorFile=${quote(`${options.workDir}/omkafka-errors.json`)})`,
    `}`,
    `# rsyslogd's own messages, for diagnosis.`,
    `if $programname == "rsyslogd" then {`,
    `  action(type="omfile" file=${quote(`${options.workDir}/rsyslogd-messages.log`)})`,
    `}`,
    "",
  ].join("\n");
}
