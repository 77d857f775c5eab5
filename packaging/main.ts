/**
 * `deno task package`: builds the release of sluice for linux x86-64 in two forms, a .tar.gz and
 * a .deb (built with dpkg-deb), each holding the pinned Deno runtime, the code the commands load,
 * every npm package already installed (node_modules/), launchers for `sluice-agent`,
 * `sluice-transfer`, `sluice-config` and `sluice-console`, the settings files and the systemd
 * units. Nothing is fetched when a command starts. See docs/install.md and
 * docs/decisions/0005-packaging.md.
 * @module
 */
import { createHash } from "node:crypto";
import { type CommandSpec, parseCommand, runMain, sluiceVersion } from "../core/cli.ts";
import { InvalidInputError } from "../core/errors.ts";
import {
  droppedFromNodeModules,
  graphContent,
  lockDrift,
  type ModuleGraph,
  packageDenoJson,
  runtimeReferences,
} from "./app_files.ts";
import { COMMANDS, launcherScript, parseDenoRunTask } from "./commands.ts";
import {
  conffilesFile,
  controlFile,
  debianVersionProblem,
  installedSizeKiB,
  md5sumsFile,
  PACKAGE,
} from "./debian.ts";
import { DENO_VERSION, fetchRuntime } from "./runtime.ts";

const ROOT = new URL("../", import.meta.url);
const FILES = new URL("files/", import.meta.url);
const COMPRESSIONS = ["xz", "gzip", "zstd"] as const;
type Compression = typeof COMPRESSIONS[number];

const SPEC: CommandSpec = {
  name: "deno task package",
  summary: "build the sluice release for linux x86-64: a .tar.gz and a .deb with systemd units",
  usage: "[--out DIR] [--package-version V] [--format tar|deb] [--deb-compression xz|gzip|zstd]",
  options: {
    out: { type: "string", arg: "DIR", description: "Where the packages go (default: dist)" },
    "package-version": {
      type: "string",
      arg: "V",
      description:
        "Version of the packages (default: deno.json's version, + git<commits>.<commit> in a checkout)",
    },
    format: {
      type: "string",
      multiple: true,
      arg: "tar|deb",
      description: "Build only this form; repeatable (default: both)",
    },
    "deb-compression": {
      type: "string",
      arg: "xz|gzip|zstd",
      description:
        "Compression of the .deb (default: xz, the smallest; gzip builds ~15x faster; zstd needs dpkg ≥ 1.21.18)",
    },
    "cache-dir": {
      type: "string",
      arg: "DIR",
      description: "Build cache: the Deno runtime tarball from npm (default: dist/cache)",
    },
    maintainer: {
      type: "string",
      arg: "'NAME <EMAIL>'",
      description: "The .deb's Maintainer field (default: sluice maintainers <sluice@localhost>)",
    },
  },
  epilog: `Writes DIR/sluice-VERSION-linux-x86_64.tar.gz and DIR/sluice_VERSION_amd64.deb.
Needs npm (the Deno runtime comes from its npm package, once, into the cache), dpkg-deb and tar;
npm packages come from Deno's cache, or the registry when it does not hold them.
Exit codes: 0 built, 1 failure, 2 invalid option.`,
};

/** What a build makes. */
export interface BuildOptions {
  out: string;
  version: string;
  formats: ReadonlySet<"tar" | "deb">;
  debCompression: Compression;
  cacheDir: string;
  maintainer: string;
}

/** A package written, and its size in bytes. */
export interface Built {
  path: string;
  bytes: number;
}

/** Runs a command; throws with its stderr when it fails. Returns stdout. */
async function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string>; clearEnv?: boolean } = {},
): Promise<string> {
  const out = await new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env: options.env,
    clearEnv: options.clearEnv,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  if (!out.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed (exit ${out.code}):\n${
        decoder.decode(out.stderr).trim()
      }`,
    );
  }
  return decoder.decode(out.stdout);
}

/** Every file under `dir` (recursively), as paths relative to it. */
async function walkFiles(dir: string, prefix = ""): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(`${dir}/${prefix}`)) {
    const path = `${prefix}${entry.name}`;
    if (entry.isDirectory) found.push(...await walkFiles(dir, `${path}/`));
    else found.push(path);
  }
  return found;
}

async function copyInto(from: string, to: string, mode?: number): Promise<void> {
  await Deno.mkdir(to.slice(0, to.lastIndexOf("/")), { recursive: true });
  await Deno.copyFile(from, to);
  if (mode !== undefined) await Deno.chmod(to, mode);
}

/**
 * The repository files the commands need: the module graphs of their scripts, plus what those
 * modules open at run time relative to themselves (a worker script and its own graph, a
 * directory of static assets), followed until nothing new turns up.
 */
async function appFiles(
  scripts: string[],
): Promise<{ files: string[]; npmPackages: string[]; entrypoints: string[] }> {
  const root = ROOT.href;
  const entrypoints = [...scripts];
  const assets = new Set<string>();
  const graphs: ModuleGraph[] = [];
  for (let i = 0; i < entrypoints.length; i++) {
    const json = await run(Deno.execPath(), ["info", "--json", entrypoints[i]], {
      cwd: ROOT.pathname,
    });
    graphs.push(JSON.parse(json));
    const { files } = graphContent(graphs, root);
    for (const file of files.filter((f) => /\.[mc]?[jt]s$/.test(f))) {
      const source = await Deno.readTextFile(new URL(file, ROOT));
      for (const ref of runtimeReferences(file, source)) {
        // "" is the package root (core/cli.ts looks for deno.json and VERSION there): the
        // builder writes both itself.
        if (ref === "") continue;
        if (ref.endsWith("/")) assets.add(ref);
        else if (!files.includes(ref) && !entrypoints.includes(ref)) entrypoints.push(ref);
      }
    }
  }
  const { files, npmPackages } = graphContent(graphs, root);
  const all = new Set(files);
  for (const dir of assets) {
    for (const f of await walkFiles(new URL(dir, ROOT).pathname)) {
      if (!/_test\.[jt]s$/.test(f)) all.add(`${dir}${f}`);
    }
  }
  return { files: [...all].sort(), npmPackages, entrypoints };
}

/**
 * Lays out the package's own tree (what goes to /usr/lib/sluice, or the top of the tarball):
 * runtime/deno, app/ (code, deno.json, deno.lock, node_modules/, VERSION) and bin/.
 */
async function buildTree(tree: string, options: BuildOptions, runtime: string): Promise<void> {
  const repoDenoJson = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const runs = COMMANDS.map((c) => {
    const task = repoDenoJson.tasks?.[c.task];
    if (typeof task !== "string") throw new Error(`deno.json has no task '${c.task}'`);
    return parseDenoRunTask(task);
  });
  const { files, npmPackages, entrypoints } = await appFiles(runs.map((r) => r.script));
  console.log(`${files.length} files of code, npm packages: ${npmPackages.join(", ")}`);
  const app = `${tree}/app`;
  for (const file of files) await copyInto(new URL(file, ROOT).pathname, `${app}/${file}`);
  await Deno.writeTextFile(
    `${app}/deno.json`,
    JSON.stringify(packageDenoJson(repoDenoJson, npmPackages, options.version), null, 2) + "\n",
  );
  await Deno.copyFile(new URL("deno.lock", ROOT), `${app}/deno.lock`);
  await Deno.writeTextFile(`${app}/VERSION`, `${options.version}\n`);
  await copyInto(runtime, `${tree}/runtime/deno`, 0o755);

  // The packaged Deno installs node_modules/ from Deno's cache; the lockfile it leaves must hold
  // exactly the packages (and versions, and integrity) the project's lockfile holds for them.
  await run(`${tree}/runtime/deno`, ["install", "--quiet", "--entrypoint", ...entrypoints], {
    cwd: app,
  });
  const drift = lockDrift(
    JSON.parse(await Deno.readTextFile(`${app}/deno.lock`)),
    JSON.parse(await Deno.readTextFile(new URL("deno.lock", ROOT))),
  );
  if (drift.length > 0) {
    throw new Error(`the package's lockfile differs from deno.lock for: ${drift.join(", ")}`);
  }
  let dropped = 0;
  for (const path of await walkFiles(`${app}/node_modules`)) {
    if (!droppedFromNodeModules(path)) continue;
    const file = `${app}/node_modules/${path}`;
    const info = await Deno.lstat(file);
    if (!info.isFile) continue;
    dropped += info.size;
    await Deno.remove(file);
  }
  console.log(`left out of node_modules/: ${(dropped / 1048576).toFixed(1)} MiB of types and maps`);

  for (const [i, command] of COMMANDS.entries()) {
    const path = `${tree}/bin/${command.name}`;
    await Deno.mkdir(`${tree}/bin`, { recursive: true });
    await Deno.writeTextFile(path, launcherScript(command, runs[i], options.version));
    await Deno.chmod(path, 0o755);
  }
}

/**
 * Runs every command's `--version` from the tree as a host without network would: an empty
 * home, and any registry or proxy Deno might try pointing at a closed port. `--version` answers
 * after every static import has loaded, so a module or package missing from the tree fails here.
 */
async function smokeTest(tree: string, version: string, scratch: string): Promise<void> {
  const home = `${scratch}/home`;
  await Deno.mkdir(home, { recursive: true });
  const closed = "http://127.0.0.1:9";
  await Promise.all(COMMANDS.map(async (command) => {
    const out = await run(`${tree}/bin/${command.name}`, ["--version"], {
      clearEnv: true,
      env: {
        PATH: "/usr/bin:/bin",
        HOME: home,
        NPM_CONFIG_REGISTRY: `${closed}/`,
        HTTP_PROXY: closed,
        HTTPS_PROXY: closed,
        NO_PROXY: "",
      },
    });
    const expected = `sluice ${version} (deno ${DENO_VERSION})`;
    if (out.trim() !== expected) {
      throw new Error(`${command.name} --version printed '${out.trim()}', not '${expected}'`);
    }
  }));
  await Deno.remove(home, { recursive: true });
}

async function md5(path: string): Promise<string> {
  const hash = createHash("md5");
  using file = await Deno.open(path);
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}

const SETTINGS_FILES: [name: string, mode: number][] = [
  ["agent.yaml", 0o644],
  ["agent.env", 0o600],
  ["transfer.yaml", 0o644],
  ["transfer.env", 0o600],
];
const UNITS = ["sluice-agent.service", "sluice-transfer.service"];

/** The .deb: the tree under /usr/lib/sluice, commands in /usr/bin, settings, units, DEBIAN/. */
async function buildDeb(stage: string, options: BuildOptions): Promise<Built> {
  const root = `${stage}/deb`;
  await Deno.mkdir(`${root}/usr/bin`, { recursive: true });
  for (const command of COMMANDS) {
    await Deno.symlink(`../lib/${PACKAGE}/bin/${command.name}`, `${root}/usr/bin/${command.name}`);
  }
  for (const [name, mode] of SETTINGS_FILES) {
    await copyInto(new URL(name, FILES).pathname, `${root}/etc/${PACKAGE}/${name}`, mode);
  }
  for (const unit of UNITS) {
    await copyInto(new URL(unit, FILES).pathname, `${root}/lib/systemd/system/${unit}`, 0o644);
  }
  await copyInto(
    new URL("docs/install.md", ROOT).pathname,
    `${root}/usr/share/doc/${PACKAGE}/install.md`,
    0o644,
  );

  const entries: { path: string; md5: string; size: number }[] = [];
  for (const path of await walkFiles(root)) {
    const info = await Deno.lstat(`${root}/${path}`);
    entries.push({ path, md5: info.isFile ? await md5(`${root}/${path}`) : "", size: info.size });
  }
  const debian = `${root}/DEBIAN`;
  await Deno.mkdir(debian);
  await Deno.writeTextFile(
    `${debian}/control`,
    controlFile({
      version: options.version,
      installedSizeKiB: installedSizeKiB(entries.map((e) => e.size)),
      maintainer: options.maintainer,
    }),
  );
  await Deno.writeTextFile(`${debian}/conffiles`, conffilesFile());
  await Deno.writeTextFile(`${debian}/md5sums`, md5sumsFile(entries.filter((e) => e.md5)));
  for (const script of ["postinst", "prerm", "postrm"]) {
    await copyInto(new URL(`debian/${script}`, FILES).pathname, `${debian}/${script}`, 0o755);
  }
  const path = `${options.out}/${PACKAGE}_${options.version}_amd64.deb`;
  await run("dpkg-deb", [
    "--root-owner-group",
    `-Z${options.debCompression}`,
    "--build",
    root,
    path,
  ]);
  return { path, bytes: (await Deno.stat(path)).size };
}

/** The .tar.gz: the tree, plus the settings files in etc/ and the units in systemd/. */
async function buildTar(stage: string, tree: string, options: BuildOptions): Promise<Built> {
  const name = `${PACKAGE}-${options.version}-linux-x86_64`;
  const top = `${stage}/tar/${name}`;
  await Deno.mkdir(`${stage}/tar`, { recursive: true });
  // Hard links: the tree is not copied a second time.
  await run("cp", ["-al", tree, top]);
  for (const [file, mode] of SETTINGS_FILES) {
    await copyInto(new URL(file, FILES).pathname, `${top}/etc/${file}`, mode);
  }
  for (const unit of UNITS) {
    await copyInto(new URL(unit, FILES).pathname, `${top}/systemd/${unit}`, 0o644);
  }
  await copyInto(new URL("docs/install.md", ROOT).pathname, `${top}/INSTALL.md`, 0o644);
  const path = `${options.out}/${name}.tar.gz`;
  await run("tar", [
    "--sort=name",
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    "-czf",
    path,
    "-C",
    `${stage}/tar`,
    name,
  ]);
  return { path, bytes: (await Deno.stat(path)).size };
}

/** Builds the packages `options.formats` asks for into `options.out`. */
export async function buildPackages(options: BuildOptions): Promise<Built[]> {
  const problem = debianVersionProblem(options.version);
  if (problem) throw new InvalidInputError(`--package-version: ${problem}`);
  await Deno.mkdir(options.out, { recursive: true });
  const runtime = await fetchRuntime(options.cacheDir);
  const stage = await Deno.makeTempDir({ dir: options.out, prefix: ".stage-" });
  try {
    const tree = `${stage}/deb/usr/lib/${PACKAGE}`;
    await buildTree(tree, options, runtime);
    await smokeTest(tree, options.version, stage);
    // Side by side (each compresses on one core): neither changes the tree the other reads.
    return await Promise.all([
      ...options.formats.has("tar") ? [buildTar(stage, tree, options)] : [],
      ...options.formats.has("deb") ? [buildDeb(stage, options)] : [],
    ]);
  } finally {
    await Deno.remove(stage, { recursive: true });
  }
}

async function main(args: string[]): Promise<number> {
  const { values } = parseCommand(SPEC, args);
  const str = (name: string) => values[name] as string | undefined;
  const formats = new Set((values.format as string[] | undefined) ?? ["tar", "deb"]);
  for (const f of formats) {
    if (f !== "tar" && f !== "deb") {
      throw new InvalidInputError(`--format must be tar or deb, got '${f}'`);
    }
  }
  const debCompression = str("deb-compression") ?? "xz";
  if (!(COMPRESSIONS as readonly string[]).includes(debCompression)) {
    throw new InvalidInputError(
      `--deb-compression must be ${COMPRESSIONS.join(", ")}, got '${debCompression}'`,
    );
  }
  const out = str("out") ?? new URL("dist", ROOT).pathname;
  const started = Date.now();
  const built = await buildPackages({
    out: out.replace(/\/$/, ""),
    version: str("package-version") ?? sluiceVersion(ROOT),
    formats: formats as Set<"tar" | "deb">,
    debCompression: debCompression as Compression,
    cacheDir: str("cache-dir") ?? new URL("dist/cache", ROOT).pathname,
    maintainer: str("maintainer") ?? "sluice maintainers <sluice@localhost>",
  });
  for (const b of built) console.log(`${b.path}  ${(b.bytes / 1024 / 1024).toFixed(1)} MiB`);
  console.log(`built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return 0;
}

if (import.meta.main) runMain(() => main(Deno.args));
