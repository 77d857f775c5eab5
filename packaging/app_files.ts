/**
 * What of the repository goes into a package: the local modules the commands load (their module
 * graph, from `deno info --json`), the npm packages they import, the files they read at run time,
 * and a deno.json and lockfile cut down to those packages. Pure: the builder runs `deno info`
 * and copies what these functions decide.
 * @module
 */

/** The part of `deno info --json` output that is read here. */
export interface ModuleGraph {
  modules: {
    kind?: string;
    specifier: string;
    npmPackage?: string;
    error?: string;
  }[];
}

/** Local files and npm package names of one or more module graphs. */
export interface GraphContent {
  /** Paths relative to the repository root, sorted. */
  files: string[];
  /** npm package names (without version), sorted. */
  npmPackages: string[];
}

/**
 * The repository files and npm packages in module graphs. Throws on a module that did not
 * resolve, a local module outside the repository, or a remote (https:, jsr:) module: the
 * package carries only local files and npm packages, so such a module would be fetched at start.
 *
 * @example
 * ```ts
 * import { graphContent } from "./app_files.ts";
 * graphContent([{ modules: [
 *   { kind: "esm", specifier: "file:///repo/agent/main.ts" },
 *   { kind: "npm", specifier: "npm:/yaml@2.9.1", npmPackage: "yaml@2.9.1" },
 *   { kind: "node", specifier: "node:zlib" },
 * ] }], "file:///repo/");
 * // { files: ["agent/main.ts"], npmPackages: ["yaml"] }
 * ```
 */
export function graphContent(graphs: ModuleGraph[], root: string): GraphContent {
  const files = new Set<string>();
  const npm = new Set<string>();
  for (const graph of graphs) {
    for (const m of graph.modules) {
      if (m.error) throw new Error(`module ${m.specifier} does not load: ${m.error}`);
      if (m.kind === "npm" && m.npmPackage) {
        npm.add(m.npmPackage.slice(0, m.npmPackage.lastIndexOf("@")));
      } else if (m.specifier.startsWith("file://")) {
        if (!m.specifier.startsWith(root)) {
          throw new Error(`module ${m.specifier} is outside the repository ${root}`);
        }
        files.add(decodeURIComponent(m.specifier.slice(root.length)));
      } else if (!m.specifier.startsWith("node:")) {
        throw new Error(
          `module ${m.specifier} is remote: a package starts without network, so only local ` +
            "modules and npm: packages can be packaged",
        );
      }
    }
  }
  return { files: [...files].sort(), npmPackages: [...npm].sort() };
}

/**
 * Files a module opens at run time relative to itself (`new URL("./x", import.meta.url)`), which
 * no module graph shows: a worker script, a static asset directory. A template literal gives the
 * directory before its first `${`. Paths are relative to the repository root.
 *
 * @example
 * ```ts
 * import { runtimeReferences } from "./app_files.ts";
 * runtimeReferences("kafka/compressor.ts", 'new Worker(new URL("./gzip_worker.ts", import.meta.url))');
 * // ["kafka/gzip_worker.ts"]
 * ```
 */
export function runtimeReferences(path: string, source: string): string[] {
  const found: string[] = [];
  const re = /new URL\(\s*(?:"([^"]+)"|'([^']+)'|`([^`]+)`)\s*,\s*import\.meta\.url\s*\)/g;
  for (const m of source.matchAll(re)) {
    let relative = m[1] ?? m[2] ?? m[3];
    const placeholder = m[3] === undefined ? -1 : relative.indexOf("${");
    if (placeholder >= 0) relative = relative.slice(0, placeholder);
    found.push(new URL(relative, `file:///${path}`).pathname.slice(1));
  }
  return found;
}

/**
 * The references (see runtimeReferences) that `files` do not cover; a directory (a reference
 * ending in `/`, or "" for the root) is covered by any file under it.
 */
export function uncoveredReferences(files: readonly string[], references: string[]): string[] {
  return references.filter((ref) =>
    ref === "" || ref.endsWith("/") ? !files.some((f) => f.startsWith(ref)) : !files.includes(ref)
  );
}

/** The deno.json fields a package keeps. */
export interface PackageDenoJson {
  version: string;
  nodeModulesDir: "auto";
  imports: Record<string, string>;
}

/**
 * The package's deno.json: the import map entries of the npm packages the commands use (not the
 * test-only ones), the version, and node_modules/ beside it. No tasks, no name (the package is
 * no library), no lint or test settings.
 */
export function packageDenoJson(
  repo: { version?: string; imports?: Record<string, string> },
  npmPackages: readonly string[],
  version: string,
): PackageDenoJson {
  const imports: Record<string, string> = {};
  for (const [key, target] of Object.entries(repo.imports ?? {})) {
    const m = /^npm:((?:@[^/@]+\/)?[^/@]+)/.exec(target);
    if (m && npmPackages.includes(m[1])) imports[key] = target;
  }
  const missing = npmPackages.filter((name) =>
    !Object.values(imports).some((t) => t.startsWith(`npm:${name}@`))
  );
  if (missing.length > 0) {
    throw new Error(
      `npm packages used without an import map entry in deno.json: ${missing.join(", ")}`,
    );
  }
  return { version, nodeModulesDir: "auto", imports };
}

/** The `npm` section of a deno.lock (version 5): package id → integrity and dependencies. */
type LockNpm = Record<string, unknown>;

/**
 * The npm entries of the package's lockfile that are not exactly as in the repository's: the
 * package must run the very packages the project tests, so the builder stops on any. A lockfile
 * names a dependency without its version when it holds one version of it only (`protobufjs`),
 * with it otherwise (`protobufjs@7.6.6`): the package holds fewer packages than the repository,
 * so dependencies are compared by the entry each name resolves to in its own lockfile.
 */
export function lockDrift(
  packageLock: { npm?: LockNpm },
  repoLock: { npm?: LockNpm },
): string[] {
  const repo = repoLock.npm ?? {};
  const ours = packageLock.npm ?? {};
  return Object.entries(ours)
    .filter(([id, entry]) =>
      JSON.stringify(resolvedEntry(repo[id], repo)) !== JSON.stringify(resolvedEntry(entry, ours))
    )
    .map(([id]) => id);
}

/** A lock entry with every dependency named by the id (`name@version`) it resolves to in `lock`. */
function resolvedEntry(entry: unknown, lock: LockNpm): unknown {
  if (!entry || typeof entry !== "object") return entry;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(entry)) {
    out[key] = Array.isArray(value)
      ? value.map((dep) => typeof dep === "string" ? resolvedDependency(dep, lock) : dep)
      : value;
  }
  return out;
}

function resolvedDependency(dep: string, lock: LockNpm): string {
  // A version after the name (past a scope's leading '@') names the entry already.
  if (dep.indexOf("@", 1) > 0) return dep;
  const ids = Object.keys(lock).filter((id) =>
    id.startsWith(`${dep}@`) && !id.slice(dep.length + 1).includes("/")
  );
  return ids.length === 1 ? ids[0] : dep;
}

/**
 * Whether a file under node_modules/ is left out of a package: type declarations and source maps
 * (a quarter of the npm packages' bytes) serve type checking and debuggers; the packaged commands
 * run without type checking, and a stack trace without a source map still names the JavaScript.
 *
 * @example
 * ```ts
 * import { droppedFromNodeModules } from "./app_files.ts";
 * droppedFromNodeModules("yaml/dist/index.d.ts"); // true
 * droppedFromNodeModules("yaml/dist/index.js"); // false
 * ```
 */
export function droppedFromNodeModules(path: string): boolean {
  return /\.d\.[cm]?ts$|\.map$/.test(path);
}
