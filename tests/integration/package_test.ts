/**
 * The release as an operator installs it: `deno task package` builds a .deb and a .tar.gz twice
 * (an upgrade needs a rebuilt package). The .deb is installed with dpkg on this machine, and its
 * agent run the way its systemd unit says (the unit's command, user, capability and environment,
 * through setpriv: no systemd runs here) with an empty home and every registry and proxy at a
 * closed port, so any fetch fails. It must deliver a file only root may read to Kafka, go on
 * across an upgrade to the rebuilt package without losing or doubling a line, and leave nothing
 * behind when purged. The tarball is unpacked into fresh directories and run the same way.
 * Needs root (dpkg -i, a system user), as CI runs it.
 */
import { deepStrictEqual as equal, match, ok } from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { sluiceVersion } from "../../core/cli.ts";
import { type ConfigPlane, openConfigPlane } from "../../config_plane/mod.ts";
import { PACKAGE } from "../../packaging/debian.ts";
import { DENO_VERSION } from "../../packaging/runtime.ts";
import { parseUnit, unitEnvironment, unitValue } from "../../packaging/systemd_unit.ts";
import {
  assertExactlyOnce,
  checkSeq,
  endpoints,
  seqLines,
  test,
  TopicCollector,
  unique,
  waitFor,
} from "./agent_support.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const IS_ROOT = Deno.uid() === 0;
/** Lines in the file before the agent starts: > 1 MiB, so gzip goes to the worker thread too. */
const BACKLOG = 20_000;
const CLOSED = "http://127.0.0.1:9";
/** Every way Deno or npm could reach a registry leads to a closed port; the stack is direct. */
const OFFLINE: Record<string, string> = {
  NPM_CONFIG_REGISTRY: `${CLOSED}/`,
  HTTP_PROXY: CLOSED,
  HTTPS_PROXY: CLOSED,
  http_proxy: CLOSED,
  https_proxy: CLOSED,
  NO_PROXY: "127.0.0.1,localhost",
  no_proxy: "127.0.0.1,localhost",
};

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; clearEnv?: boolean; cwd?: string } = {},
): Promise<Result> {
  const out = await new Deno.Command(command, { args, stdin: "null", ...options }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

async function mustRun(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; clearEnv?: boolean; cwd?: string } = {},
): Promise<string> {
  const r = await run(command, args, options);
  if (r.code !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited ${r.code}:\n${r.stdout}${r.stderr}`);
  }
  return r.stdout;
}

const exists = (path: string) => Deno.lstat(path).then(() => true, () => false);

// ---------------------------------------------------------------------------------------------
// The two builds, shared by both tests and deleted when the module unloads.

interface Build {
  version: string;
  deb: string;
  tar: string;
}

let builds: Promise<[Build, Build]> | undefined;
let buildDir: string | undefined;

globalThis.addEventListener("unload", () => {
  if (buildDir) Deno.removeSync(buildDir, { recursive: true });
});

/** Builds version `…~pkgtest1` and the rebuilt `…~pkgtest2` (gzip: a .deb in ~10 s, not ~100). */
function packages(): Promise<[Build, Build]> {
  builds ??= (async () => {
    buildDir = await Deno.makeTempDir({ prefix: "sluice-package-test-" });
    const base = sluiceVersion();
    const made: Build[] = [];
    for (const n of [1, 2]) {
      const version = `${base}~pkgtest${n}`;
      const out = `${buildDir}/v${n}`;
      await mustRun(Deno.execPath(), [
        "task",
        "--quiet",
        "package",
        "--out",
        out,
        "--package-version",
        version,
        "--deb-compression",
        "gzip",
      ], { cwd: ROOT });
      made.push({
        version,
        deb: `${out}/${PACKAGE}_${version}_amd64.deb`,
        tar: `${out}/${PACKAGE}-${version}-linux-x86_64.tar.gz`,
      });
    }
    return made as [Build, Build];
  })();
  return builds;
}

// ---------------------------------------------------------------------------------------------
// One pipeline per test: a config plane prefix, a topic and its collector, a protected log file.

interface Pipeline {
  /** Root-only directory (0700) holding the log file (0600). */
  logDir: string;
  log: string;
  tag: string;
  topic: string;
  prefix: string;
  agentId: string;
  collector: TopicCollector;
  plane: ConfigPlane;
  /** Scratch space for this test (homes, unpacked tarballs, checkpoints). */
  scratch: string;
}

async function withPipeline(label: string, body: (p: Pipeline) => Promise<void>): Promise<void> {
  const scratch = await Deno.makeTempDir({ prefix: `sluice-pkg-${label}-` });
  await Deno.chmod(scratch, 0o755);
  const logDir = `${scratch}/logs`;
  await Deno.mkdir(logDir, { mode: 0o700 });
  await Deno.chmod(logDir, 0o700);
  const log = `${logDir}/app.log`;
  const tag = `pkg-${label}`;
  await Deno.writeTextFile(log, seqLines(tag, 0, BACKLOG), { mode: 0o600 });
  const topic = unique(`package-${label}`);
  const prefix = `/${unique("sluice-package-test")}`;
  const collector = await TopicCollector.start(topic);
  const plane = openConfigPlane({ endpoints: endpoints.etcd, prefix });
  try {
    await plane.append({
      base: 0,
      author: "package test",
      message: "collect the protected log",
      ops: [{
        op: "put_source",
        source: { id: "pkg", paths: [`${logDir}/*.log`], topic, start_at: "beginning" },
      }],
    });
    await body({
      logDir,
      log,
      tag,
      topic,
      prefix,
      agentId: unique(label),
      collector,
      plane,
      scratch,
    });
  } finally {
    await plane.kv.delete().all().catch(() => {});
    plane.close();
    await collector.stop();
    await Deno.remove(scratch, { recursive: true });
  }
}

/** The bootstrap settings an operator adds to agent.yaml for this machine's stack. */
function agentSettings(p: Pipeline): string {
  return [
    "",
    "# Added by the package test: this machine's stack, a unique prefix, fast polling.",
    `agent_id: ${p.agentId}`,
    `etcd: ${JSON.stringify(endpoints.etcd)}`,
    `prefix: ${p.prefix}`,
    `kafka: ${JSON.stringify(endpoints.kafka)}`,
    'metrics_addr: ""',
    "poll_ms: 50",
    "scan_ms: 200",
    "linger_ms: 5",
    "shutdown_timeout_ms: 5000",
    "",
  ].join("\n");
}

/** Appends lines at a steady pace until stopped; resolves to the next seq (= lines written). */
function writer(p: Pipeline): { stop(): Promise<number>; readonly next: number } {
  let next = BACKLOG;
  let running = true;
  const done = (async () => {
    while (running) {
      await Deno.writeTextFile(p.log, seqLines(p.tag, next, next + 20), { append: true });
      next += 20;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    get next() {
      return next;
    },
    async stop() {
      running = false;
      await done;
      return next;
    },
  };
}

/** Sends SIGTERM and expects the clean stop (exit 0) within the unit's bound. */
async function stopCleanly(agent: Deno.ChildProcess, what: string): Promise<void> {
  const started = Date.now();
  agent.kill("SIGTERM");
  const { code } = await agent.status;
  equal(code, 0, `${what} exit code after SIGTERM`);
  ok(Date.now() - started < 20_000, `${what} took ${Date.now() - started} ms to stop`);
}

function kill(agent: Deno.ChildProcess | undefined): Promise<unknown> {
  if (!agent) return Promise.resolve();
  try {
    agent.kill("SIGKILL");
  } catch { /* already gone */ }
  return agent.status;
}

/** The Deno caches of a run hold no npm package: nothing was downloaded. */
async function assertNothingFetched(denoDir: string): Promise<void> {
  const npm = `${denoDir}/npm`;
  const fetched = await exists(npm)
    ? [...Deno.readDirSync(npm)].flatMap((registry) =>
      [...Deno.readDirSync(`${npm}/${registry.name}`)].map((p) => p.name)
    )
    : [];
  equal(fetched, [], `npm packages in ${npm}`);
}

// ---------------------------------------------------------------------------------------------
// The .deb

const UNIT = "/lib/systemd/system/sluice-agent.service";
const TRANSFER_UNIT = "/lib/systemd/system/sluice-transfer.service";

async function dpkg(args: string[]): Promise<string> {
  return await mustRun("dpkg", args, { env: { DEBIAN_FRONTEND: "noninteractive" } });
}

/** What a package of this name would leave behind; [] on a clean machine. */
async function leftovers(): Promise<string[]> {
  const paths = [
    "/usr/lib/sluice",
    "/etc/sluice",
    "/var/lib/sluice",
    UNIT,
    TRANSFER_UNIT,
    "/usr/share/doc/sluice",
    "/var/lib/systemd/deb-systemd-helper-enabled/sluice-agent.service.dsh-also",
    "/var/lib/systemd/deb-systemd-helper-enabled/sluice-transfer.service.dsh-also",
    ...["agent", "transfer", "config", "console"].map((c) => `/usr/bin/sluice-${c}`),
  ];
  const left = [];
  for (const path of paths) if (await exists(path)) left.push(path);
  if ((await run("getent", ["passwd", PACKAGE])).code === 0) left.push("user sluice");
  if ((await run("getent", ["group", PACKAGE])).code === 0) left.push("group sluice");
  if ((await run("dpkg-query", ["-W", PACKAGE])).code === 0) left.push("dpkg status entry");
  return left;
}

/**
 * Directories the package owns that exist while it is not installed (something else wrote
 * there: a doc example run as root, a hand-made test) are renamed aside for the test, so it
 * installs on a clean state, and put back afterwards, so the machine ends as it was found.
 */
async function moveAside(): Promise<[string, string][]> {
  const moved: [string, string][] = [];
  for (const path of ["/etc/sluice", "/var/lib/sluice"]) {
    if (!await exists(path)) continue;
    const to = `${path}.package-test-${Deno.pid}`;
    await Deno.rename(path, to);
    moved.push([path, to]);
  }
  return moved;
}

async function putBack(moved: [string, string][]): Promise<void> {
  for (const [path, to] of moved) {
    await Deno.remove(path, { recursive: true }).catch(() => {});
    await Deno.rename(to, path);
  }
}

/**
 * Runs the installed agent as its unit would: ExecStart as the unit's User with only the
 * unit's capabilities, the unit's Environment= and EnvironmentFile=, and a home of its own.
 */
async function startAsUnit(home: string): Promise<Deno.ChildProcess> {
  const unit = parseUnit(await Deno.readTextFile(UNIT));
  const user = unitValue(unit, "Service", "User")!;
  const caps = unitValue(unit, "Service", "AmbientCapabilities")!.split(/\s+/)
    .map((c) => c.replace(/^CAP_/, "").toLowerCase());
  const capList = ["-all", ...caps.map((c) => `+${c}`)].join(",");
  const envFile = unitValue(unit, "Service", "EnvironmentFile")!.replace(/^-/, "");
  const fromFile: Record<string, string> = {};
  for (const line of (await Deno.readTextFile(envFile)).split("\n")) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) fromFile[m[1]] = m[2];
  }
  return new Deno.Command("setpriv", {
    args: [
      `--reuid=${user}`,
      `--regid=${unitValue(unit, "Service", "Group")}`,
      "--init-groups",
      `--inh-caps=${capList}`,
      `--ambient-caps=${capList}`,
      `--bounding-set=${capList}`,
      "--no-new-privs",
      "--",
      ...unitValue(unit, "Service", "ExecStart")!.split(/\s+/),
    ],
    clearEnv: true,
    env: {
      PATH: "/usr/bin:/bin",
      HOME: home,
      ...fromFile,
      ...unitEnvironment(unit),
      ...OFFLINE,
      // Only warnings on this test's output; still JSON lines as the unit sets it.
      SLUICE_LOG_LEVEL: "warning",
    },
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
}

Deno.test({
  name:
    ".deb: dpkg -i, the unit's agent delivers a root-only file offline, upgrade loses and doubles nothing, purge leaves nothing",
  ignore: !IS_ROOT,
  // npm clients keep sockets and timers past a test.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const [v1, v2] = await packages();
    if ((await run("dpkg-query", ["-W", PACKAGE])).code === 0) {
      // A run killed before its cleanup: start from a clean state.
      await run("dpkg", ["--purge", PACKAGE], { env: { DEBIAN_FRONTEND: "noninteractive" } });
    }
    const aside = await moveAside();
    let agent: Deno.ChildProcess | undefined;
    try {
      equal(await leftovers(), [], "a clean machine before the test");
      await withPipeline("deb", async (p) => {
        await dpkg(["-i", v1.deb]);
        const passwd = (await mustRun("getent", ["passwd", PACKAGE])).split(":");
        ok(Number(passwd[2]) < 1000, `a system user (uid ${passwd[2]})`);
        const state = await Deno.stat("/var/lib/sluice");
        equal(state.uid, Number(passwd[2]), "/var/lib/sluice belongs to the user");
        for (const command of ["agent", "transfer", "config", "console"]) {
          const out = await mustRun(`/usr/bin/sluice-${command}`, ["--version"], {
            env: { HOME: `${p.scratch}/root-home`, ...OFFLINE },
          });
          equal(
            out.trim(),
            `sluice ${v1.version} (deno ${DENO_VERSION})`,
            `sluice-${command} --version`,
          );
        }
        const verify = await run("systemd-analyze", [
          "verify",
          UNIT,
          TRANSFER_UNIT,
        ]);
        equal([verify.code, verify.stderr.trim()], [0, ""], "systemd-analyze verify");
        // The hardening, as systemd rates it (0 = best, 10 = none; 2.1 and 1.5 today).
        for (const [unit, threshold] of [[UNIT, 25], [TRANSFER_UNIT, 20]] as const) {
          const rated = await run("systemd-analyze", [
            "security",
            "--offline=true",
            `--threshold=${threshold}`,
            "--no-pager",
            unit,
          ]);
          equal(rated.code, 0, `${unit} exposure above ${threshold / 10}:\n${rated.stdout}`);
        }

        // The premise: without the unit's capability the agent's user cannot read the file.
        const denied = await run("setpriv", [
          "--reuid=sluice",
          "--regid=sluice",
          "--init-groups",
          "--",
          "head",
          "-c1",
          p.log,
        ]);
        ok(denied.code !== 0, "the log file is unreadable to the sluice user by permissions");

        const yaml = "/etc/sluice/agent.yaml";
        await Deno.writeTextFile(yaml, agentSettings(p), { append: true });
        const edited = await Deno.readTextFile(yaml);
        equal(parseYaml(edited).checkpoint_dir, "/var/lib/sluice/agent");

        const home = `${p.scratch}/home`;
        await Deno.mkdir(home);
        await mustRun("chown", [`${PACKAGE}:${PACKAGE}`, home]);
        agent = await startAsUnit(home);
        await waitFor(
          "the backlog in Kafka",
          () => p.collector.tagged(p.tag).length >= BACKLOG,
          60_000,
        );
        const lines = writer(p);
        try {
          await waitFor(
            "live lines",
            () => p.collector.tagged(p.tag).length > BACKLOG + 200,
            30_000,
          );
          const checkpoints = [...Deno.readDirSync("/var/lib/sluice/agent")].map((e) => e.name);
          ok(checkpoints.length > 0, "checkpoints in the state directory");

          // Upgrade while the agent runs and lines keep coming; then restart it as postinst's
          // `systemctl try-restart` would.
          await dpkg(["-i", v2.deb]);
          equal(await Deno.readTextFile(yaml), edited, "the upgrade kept the edited agent.yaml");
          equal(
            (await mustRun("/usr/bin/sluice-agent", ["--version"], {
              env: { HOME: `${p.scratch}/root-home`, ...OFFLINE },
            })).trim(),
            `sluice ${v2.version} (deno ${DENO_VERSION})`,
          );
          await stopCleanly(agent, "the v1 agent");
          const atRestart = lines.next;
          agent = await startAsUnit(home);
          await waitFor(
            "lines after the upgrade",
            () => p.collector.tagged(p.tag).length > atRestart + 200,
            30_000,
          );
        } finally {
          await lines.stop();
        }
        const total = lines.next;
        await waitFor(
          `all ${total} lines`,
          () => checkSeq(p.collector.envelopes, p.tag, total).missing.length === 0,
          30_000,
        );
        await new Promise((r) => setTimeout(r, 300));
        assertExactlyOnce(p.collector.envelopes, p.tag, total);
        await stopCleanly(agent, "the v2 agent");
        agent = undefined;
        await assertNothingFetched(`${home}/.cache/sluice/deno`);

        // remove keeps settings, checkpoints and the user; purge takes everything.
        await dpkg(["--remove", PACKAGE]);
        const kept = await leftovers();
        for (const path of ["/etc/sluice", "/var/lib/sluice", "user sluice"]) {
          ok(kept.includes(path), `remove keeps ${path}`);
        }
        ok(!kept.includes("/usr/lib/sluice") && !kept.includes("/usr/bin/sluice-agent"));
        await dpkg(["--purge", PACKAGE]);
        equal(await leftovers(), [], "nothing left after purge");
      });
    } finally {
      await kill(agent);
      // Whatever failed, the machine is left as it was found.
      if ((await run("dpkg-query", ["-W", PACKAGE])).code === 0) {
        await run("dpkg", ["--purge", PACKAGE], { env: { DEBIAN_FRONTEND: "noninteractive" } });
      }
      await putBack(aside);
    }
  },
});

// ---------------------------------------------------------------------------------------------
// The .tar.gz

test(".tar.gz: unpacked into a fresh directory, the agent runs offline; a new version unpacked beside it resumes without a gap or a repeat", async () => {
  const [v1, v2] = await packages();
  await withPipeline("tar", async (p) => {
    const unpack = async (build: Build, dir: string) => {
      await Deno.mkdir(dir);
      await mustRun("tar", ["-xzf", build.tar, "-C", dir]);
      return `${dir}/${PACKAGE}-${build.version}-linux-x86_64`;
    };
    const home = `${p.scratch}/home`;
    await Deno.mkdir(home);
    const env = { PATH: "/usr/bin:/bin", HOME: home, SLUICE_LOG_LEVEL: "warning", ...OFFLINE };
    const state = `${p.scratch}/state`;
    const settings = `${p.scratch}/agent.yaml`;
    const start = (dir: string) =>
      new Deno.Command(`${dir}/bin/sluice-agent`, {
        args: ["--config", settings, "--checkpoint-dir", state],
        clearEnv: true,
        env,
        stdin: "null",
        stdout: "null",
        stderr: "inherit",
      }).spawn();

    const first = await unpack(v1, `${p.scratch}/a`);
    equal(
      (await mustRun(`${first}/bin/sluice-agent`, ["--version"], { clearEnv: true, env })).trim(),
      `sluice ${v1.version} (deno ${DENO_VERSION})`,
    );
    // --help names the command the user ran, not the deno.json task behind it.
    const help = await mustRun(`${first}/bin/sluice-config`, ["history", "--help"], {
      clearEnv: true,
      env,
    });
    match(help, /^Usage: sluice-config history /m);
    ok(!/deno task (config|agent|transfer|console)/.test(help), help.slice(0, 600));
    match(
      await mustRun(`${first}/bin/sluice-config`, ["--help"], { clearEnv: true, env }),
      /^ {2}sluice-config apply +make FILE/m,
    );
    // The operator's settings: the shipped file plus this machine's stack.
    await Deno.writeTextFile(
      settings,
      (await Deno.readTextFile(`${first}/etc/agent.yaml`)) + agentSettings(p),
    );
    let agent: Deno.ChildProcess | undefined = start(first);
    const lines = writer(p);
    try {
      await waitFor(
        "the backlog in Kafka",
        () => p.collector.tagged(p.tag).length >= BACKLOG,
        60_000,
      );
      const second = await unpack(v2, `${p.scratch}/b`);
      await stopCleanly(agent, "the agent from the first tarball");
      const atRestart = lines.next;
      agent = start(second);
      await waitFor(
        "lines from the second tarball's agent",
        () => p.collector.tagged(p.tag).length > atRestart + 200,
        30_000,
      );
      await lines.stop();
      const total = lines.next;
      await waitFor(
        `all ${total} lines`,
        () => checkSeq(p.collector.envelopes, p.tag, total).missing.length === 0,
        30_000,
      );
      await new Promise((r) => setTimeout(r, 300));
      assertExactlyOnce(p.collector.envelopes, p.tag, total);
      await stopCleanly(agent, "the agent from the second tarball");
      agent = undefined;

      // The console serves the static files the package carries.
      const web = new Deno.Command(`${second}/bin/sluice-console`, {
        args: ["--port", "0", "--prefix", p.prefix, "--endpoints", endpoints.etcd.join(",")],
        clearEnv: true,
        env,
        stdin: "null",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      try {
        const reader = web.stdout.pipeThrough(new TextDecoderStream()).getReader();
        let printed = "";
        while (!/http:\/\/\S+/.test(printed)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`sluice-console ended before printing its address: ${printed}`);
          printed += value;
        }
        await reader.cancel();
        const url = /http:\/\/[^\s/]+/.exec(printed)![0];
        const css = await fetch(`${url}/static/console.css`);
        equal(css.status, 200, "console.css from the package");
        await css.body?.cancel();
      } finally {
        web.kill("SIGTERM");
        await web.status;
      }
      await assertNothingFetched(`${home}/.cache/sluice/deno`);
    } finally {
      await lines.stop();
      await kill(agent);
    }
  });
});
