/**
 * The programs the local stack needs from the machine (Java 17+, Maven, etcd) and the errors,
 * each with its fix, when one is missing. etcd is installed with apt-get when it can be.
 * @module
 */
import { SluiceError } from "../core/errors.ts";

/** Receives one human-readable progress line (e.g. "kafka: waiting for 127.0.0.1:9092 (10 s)"). */
export type Progress = (line: string) => void;

/** A program could not be found or installed; the message says how to fix it. */
export class MissingPrerequisiteError extends SluiceError {}

interface RunResult {
  ok: boolean;
  output: string;
}

/** Runs a program to completion; `ok: false` (never a throw) when it is missing or fails. */
export async function run(
  program: string,
  args: string[],
  env?: Record<string, string>,
): Promise<RunResult> {
  try {
    const out = await new Deno.Command(program, { args, env, stdin: "null" }).output();
    const decoder = new TextDecoder();
    return { ok: out.success, output: decoder.decode(out.stdout) + decoder.decode(out.stderr) };
  } catch (error) {
    return { ok: false, output: (error as Error).message };
  }
}

/** True when `program` is found on PATH. */
export async function onPath(program: string): Promise<boolean> {
  return (await run("sh", ["-c", `command -v ${program}`])).ok;
}

/**
 * The major version in the output of `java -version`, e.g. 17 for `openjdk version "17.0.15"`
 * and 8 for `java version "1.8.0_392"`; undefined when there is none.
 */
export function parseJavaMajor(versionOutput: string): number | undefined {
  const match = versionOutput.match(/version "(\d+)(?:\.(\d+))?/);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] ? Number(match[2]) : first;
}

/** Throws MissingPrerequisiteError unless `java` 17 or newer is on PATH. */
export async function requireJava(): Promise<void> {
  const result = await run("java", ["-version"]);
  const major = result.ok ? parseJavaMajor(result.output) : undefined;
  if (major === undefined) {
    throw new MissingPrerequisiteError(
      "Java not found: Kafka and OpenSearch run on Java 17+. Install it, e.g. " +
        "`apt-get install -y openjdk-17-jdk-headless`, or point SLUICE_KAFKA_BROKERS and " +
        "SLUICE_SEARCH_URL at services you run yourself.",
    );
  }
  if (major < 17) {
    throw new MissingPrerequisiteError(
      `Java ${major} found, but Kafka 4 and OpenSearch 2.19 need Java 17+. Install ` +
        "`openjdk-17-jdk-headless` and put it first on PATH.",
    );
  }
}

/** Throws MissingPrerequisiteError unless `mvn` is on PATH. */
export async function requireMaven(): Promise<void> {
  if (!await onPath("mvn")) {
    throw new MissingPrerequisiteError(
      "Maven (mvn) not found: it downloads the Kafka and OpenSearch jars from Maven Central. " +
        "Install it, e.g. `apt-get install -y maven`.",
    );
  }
}

/**
 * Makes sure `program` is on PATH, installing the Debian package `debianPackage` with apt-get
 * when it is not (running `apt-get update` first if the install fails for lack of package
 * lists). `elsewhere` finishes the error message: what the user can do instead.
 */
export async function ensureProgram(
  program: string,
  debianPackage: string,
  progress: Progress,
  elsewhere: string,
): Promise<void> {
  if (await onPath(program)) return;
  if (!await onPath("apt-get")) {
    throw new MissingPrerequisiteError(
      `${program} not found and apt-get is not available to install it. Install ` +
        `${debianPackage} and put ${program} on PATH, ${elsewhere}.`,
    );
  }
  const asRoot = Deno.uid() === 0;
  if (!asRoot && !await onPath("sudo")) {
    throw new MissingPrerequisiteError(
      `${program} not found, and installing it needs root: run \`sudo apt-get install -y ` +
        `${debianPackage}\`.`,
    );
  }
  const [command, ...prefix] = asRoot ? ["apt-get"] : ["sudo", "-n", "apt-get"];
  const apt = (args: string[]) =>
    run(command, [...prefix, ...args], { DEBIAN_FRONTEND: "noninteractive" });
  progress(`${program}: not found, installing the Debian package ${debianPackage} (apt-get)`);
  let result = await apt(["install", "-y", "-q", debianPackage]);
  if (!result.ok) {
    progress(`${program}: install failed, running apt-get update and trying again`);
    await apt(["update", "-q"]);
    result = await apt(["install", "-y", "-q", debianPackage]);
  }
  if (!result.ok || !await onPath(program)) {
    const tail = result.output.trim().split("\n").slice(-8).join("\n");
    throw new MissingPrerequisiteError(
      `installing ${debianPackage} with apt-get failed:\n${tail}\n` +
        `Fix: run \`apt-get update && apt-get install -y ${debianPackage}\` yourself, ${elsewhere}.`,
    );
  }
}

/** Makes sure an `etcd` binary is on PATH (Debian's `etcd-server`). */
export async function ensureEtcdBinary(progress: Progress): Promise<void> {
  await ensureProgram(
    "etcd",
    "etcd-server",
    progress,
    "or point SLUICE_ETCD_ENDPOINTS at an etcd you run yourself",
  );
}

/** Makes sure `openssl` is on PATH: the secure stack makes its CA and certificates with it. */
export async function ensureOpenssl(progress: Progress): Promise<void> {
  await ensureProgram("openssl", "openssl", progress, "or run the plaintext stack only");
}
