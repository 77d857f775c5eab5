/**
 * The control part of the .deb (what `dpkg-deb --build` reads from DEBIAN/): the control file,
 * the list of configuration files dpkg keeps on upgrade, and the checksums of the rest. Pure.
 * @module
 */

/** The package name, also the system user's and the directories' (/etc/sluice, /var/lib/sluice). */
export const PACKAGE = "sluice";

/** Settings files under /etc/sluice: dpkg keeps an operator's edits on upgrade and asks first. */
export const CONFFILES = [
  "/etc/sluice/agent.yaml",
  "/etc/sluice/agent.env",
  "/etc/sluice/transfer.yaml",
  "/etc/sluice/transfer.env",
] as const;

/**
 * Why `version` cannot be the version of this (native) package, or undefined when it can: a
 * digit first, then letters, digits, `.`, `+` and `~` (no `-`: that would start a Debian
 * revision; no `:`, an epoch). `~` sorts before anything, so `1.0~rc1` < `1.0`.
 *
 * @example
 * ```ts
 * import { debianVersionProblem } from "./debian.ts";
 * debianVersionProblem("0.1.0+git203.1dfc569f0015"); // undefined
 * debianVersionProblem("v0.1.0"); // "… must start with a digit …"
 * ```
 */
export function debianVersionProblem(version: string): string | undefined {
  if (!/^[0-9]/.test(version)) return `version '${version}' must start with a digit`;
  const bad = /[^A-Za-z0-9.+~]/.exec(version);
  if (bad) {
    return `version '${version}' may hold only letters, digits, '.', '+' and '~', not '${bad[0]}'`;
  }
  return undefined;
}

/** What the control file says beyond the fixed fields. */
export interface ControlFields {
  version: string;
  /** Sum of the installed files' sizes, KiB (see installedSizeKiB). */
  installedSizeKiB: number;
  /** `Name <email>` of whoever answers for the package. */
  maintainer: string;
}

/**
 * DEBIAN/control. The Deno runtime needs glibc ≥ 2.27 (its newest versioned symbol) and
 * libgcc_s; adduser creates the system user in postinst.
 */
export function controlFile(fields: ControlFields): string {
  return [
    `Package: ${PACKAGE}`,
    `Version: ${fields.version}`,
    "Architecture: amd64",
    `Maintainer: ${fields.maintainer}`,
    `Installed-Size: ${fields.installedSizeKiB}`,
    "Depends: adduser, libc6 (>= 2.27), libgcc-s1 | libgcc1",
    "Section: admin",
    "Priority: optional",
    "Description: log pipeline: agent tailing log files into Kafka, configured live from etcd",
    " The sluice agent follows log files (rotation, truncation, globs) and sends every line to",
    " Kafka, checkpointing only what Kafka acknowledged. What each host collects is an",
    " append-only, versioned configuration log in etcd that agents follow live.",
    " .",
    " Also: sluice-transfer (Kafka to Elasticsearch/OpenSearch), sluice-config (the",
    " configuration CLI) and sluice-console (the web console). The Deno runtime and every",
    " dependency are included: nothing is downloaded at start.",
    "",
  ].join("\n");
}

/** Installed-Size: each file rounded up to a KiB, as dpkg-gencontrol counts, plus 1 per entry. */
export function installedSizeKiB(sizes: readonly number[]): number {
  return sizes.reduce((sum, size) => sum + Math.ceil(size / 1024), 0) + sizes.length;
}

/** DEBIAN/md5sums: `md5  path` (no leading slash) for each file that is not a conffile. */
export function md5sumsFile(entries: readonly { path: string; md5: string }[]): string {
  return entries
    .filter((e) => !(CONFFILES as readonly string[]).includes(`/${e.path}`))
    .map((e) => `${e.md5}  ${e.path}\n`)
    .join("");
}

/** DEBIAN/conffiles. */
export function conffilesFile(): string {
  return CONFFILES.map((path) => `${path}\n`).join("");
}
