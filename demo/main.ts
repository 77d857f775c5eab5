/**
 * `deno task demo`: the whole pipeline on this machine, on Elasticsearch 8 (the default, the engine
 * the user named) or OpenSearch 2 (`--engine opensearch`). Brings the local stack up, applies a
 * sample config (a web-server access log and a JSON application log), starts an agent and a
 * transfer as processes, writes lines, waits until every one is searchable, reports how long it
 * took, serves the web console, and keeps the pipeline running until Ctrl-C, which stops
 * everything it started.
 * @module
 */
import { denoCommand, intOption, parseCommand, runMain } from "../core/cli.ts";
import { endpointsFromEnv } from "../core/endpoints.ts";
import { searchHttp } from "../core/search_http.ts";
import { searchSecurityFromEnv } from "../core/security.ts";
import { SluiceError } from "../core/errors.ts";
import {
  ENGINE_PORTS,
  type EngineServiceName,
  ensureStack,
  formatStatusTable,
  localEngineAt,
  STACK_DIR,
  stopStack,
} from "../stack/mod.ts";
import { InvalidInputError } from "../core/errors.ts";
import { startConsole } from "../console/server.ts";
import { accessLogLine, appLogLine, seededRandom } from "./generate.ts";
import { answers200, type Child, spawnLogged, tailOf, waitFor } from "../core/child.ts";

const spec = {
  name: "deno task demo",
  summary: "Run the whole pipeline locally: stack, config, agent, transfer, searchable lines.",
  usage: "[--engine elasticsearch|opensearch] [--lines N] [--exit]",
  options: {
    engine: {
      type: "string",
      arg: "ENGINE",
      description: "The local search engine to index into: elasticsearch (Elasticsearch 8, the " +
        "default) or opensearch (OpenSearch 2). SLUICE_SEARCH_URL, when set, is used instead.",
      default: "elasticsearch",
    },
    lines: {
      type: "string",
      arg: "N",
      description: "Lines to write for the check.",
      default: "2000",
    },
    exit: {
      type: "boolean",
      description: "Stop everything once the lines are searchable (default: keep running).",
    },
    "console-port": {
      type: "string",
      arg: "PORT",
      description: "Port of the web console on 127.0.0.1 (0 = none).",
      default: "8080",
    },
    "timeout-s": {
      type: "string",
      arg: "S",
      description: "Give up when the lines are not searchable after S seconds.",
      default: "120",
    },
  },
  epilog: [
    "Files: .stack/demo/ holds the generated logs, the agent's checkpoints, the desired state",
    "and the logs of the agent and the transfer it started. Ctrl-C stops what the demo started.",
  ].join("\n"),
} as const;

const TOPIC = "sluice-demo";
const INDEX_PREFIX = "sluice";
/** Where the demo's agent and transfer serve /metrics and /healthz (their defaults, set here). */
const METRICS = { agent: "127.0.0.1:9464", transfer: "127.0.0.1:9465" };
const root = new URL("..", import.meta.url).pathname;
const deno = Deno.execPath();

function say(line: string): void {
  console.log(line);
}

function demoConfig(logDir: string): string {
  return `# Written by deno task demo: two sources over the demo's generated logs.
defaults:
  topic: ${TOPIC}
  start_at: beginning
  fields:
    env: demo
sources:
  - id: demo-web
    paths: ["${logDir}/web/*.log"]
    parser:
      type: regex
      pattern: '^(?<client>\\S+) \\S+ \\S+ \\[(?<time>[^\\]]+)\\] "(?<method>\\S+) (?<path>\\S+) \\S+" (?<status>\\d{3}) (?<bytes>\\d+)'
    fields:
      service: web
  - id: demo-app
    paths: ["${logDir}/app/*.log"]
    parser:
      type: json
    fields:
      service: checkout
`;
}

async function countMatching(searchUrl: string, run: string): Promise<number> {
  const http = searchHttp(searchUrl, searchSecurityFromEnv());
  const response = await fetch(`${http.base}/${INDEX_PREFIX}-demo-*/_count`, {
    ...http.init,
    method: "POST",
    headers: { ...http.headers, "content-type": "application/json" },
    body: JSON.stringify({ query: { match: { message: run } } }),
  }).catch(() => undefined).finally(() => http.close());
  if (!response?.ok) {
    await response?.body?.cancel();
    return 0;
  }
  return (await response.json()).count ?? 0;
}

/**
 * Where the demo indexes: SLUICE_SEARCH_URL when set (any engine, detected), else the local
 * stack's engine chosen by --engine.
 */
function demoEndpoints(engine: EngineServiceName) {
  const fromEnv = Deno.env.get("SLUICE_SEARCH_URL");
  const base = endpointsFromEnv();
  const url = fromEnv ? base.search : `http://127.0.0.1:${ENGINE_PORTS[engine]}`;
  const service = localEngineAt(url);
  const label = service === "elasticsearch"
    ? "Elasticsearch 8"
    : service === "opensearch"
    ? "OpenSearch 2"
    : url;
  return { search: { url, service, label }, endpoints: { ...base, search: url } };
}

async function appendLines(path: string, lines: string[]): Promise<void> {
  if (lines.length === 0) return;
  await Deno.writeTextFile(path, lines.join("\n") + "\n", { append: true });
}

async function main(): Promise<number> {
  const { values } = parseCommand(spec, Deno.args);
  const total = intOption(values.lines, "lines", 2000);
  const timeoutMs = intOption(values["timeout-s"], "timeout-s", 120) * 1000;
  const engine = values.engine as string;
  if (engine !== "elasticsearch" && engine !== "opensearch") {
    throw new InvalidInputError(
      `--engine: '${engine}' is not a search engine the demo runs; use elasticsearch or opensearch`,
    );
  }
  const { search, endpoints } = demoEndpoints(engine);

  say(`== 1/5 local stack (search engine: ${search.label})`);
  // Only the engine the demo uses is started: the other would cost a JVM and half a minute.
  const stack = await ensureStack({
    endpoints,
    services: search.service ? ["etcd", "kafka", search.service] : ["etcd", "kafka"],
    progress: (line) => say(`   ${line}`),
  });
  say(formatStatusTable(stack.statuses));

  const demoDir = `${STACK_DIR}/demo`;
  const logDir = `${demoDir}/logs`;
  await Deno.mkdir(`${logDir}/web`, { recursive: true });
  await Deno.mkdir(`${logDir}/app`, { recursive: true });
  const webLog = `${logDir}/web/access.log`;
  const appLog = `${logDir}/app/checkout.log`;
  const configFile = `${demoDir}/desired-state.yaml`;
  await Deno.writeTextFile(configFile, demoConfig(logDir));

  const children: Child[] = [];
  let webConsole: { url: string; stop(): Promise<void> } | undefined;
  // One stop, whoever asks first (Ctrl-C or the end of main); every caller waits for all of it,
  // so the process never exits with services still running.
  let stopping: Promise<void> | undefined;
  const stopAll = () => stopping ??= stopEverything();
  const stopEverything = async () => {
    say("\n== stopping what the demo started");
    await webConsole?.stop().catch(() => {});
    await Promise.all(
      children.map(async (c) => say(`stopped ${c.name} (exit ${await c.stop(20_000)})`)),
    );
    if (stack.started.length > 0) {
      say(`stopping services: ${stack.started.join(", ")}`);
      await stopStack(stack);
    }
  };

  try {
    say(`\n== 2/5 config: apply ${configFile}`);
    const apply = await new Deno.Command(deno, {
      args: [
        "run",
        "-A",
        "config_plane/main.ts",
        "apply",
        configFile,
        "-m",
        "demo: web access log and JSON app log",
        "--author",
        "demo",
      ],
      cwd: root,
      stdin: "null",
    }).output();
    await Deno.stdout.write(apply.stdout);
    await Deno.stderr.write(apply.stderr);
    if (apply.code !== 0) throw new SluiceError(`config:apply failed (exit ${apply.code})`);

    say("\n== 3/5 agent and transfer");
    // Both streams of each go to its log file; the demo's own output stays readable.
    const start = (name: string, args: string[]) =>
      spawnLogged(name, deno, ["run", "-A", ...args], { log: `${demoDir}/${name}.log`, cwd: root });
    children.push(
      await start("agent", [
        "agent/main.ts",
        "--checkpoint-dir",
        `${demoDir}/checkpoints`,
        "--label",
        "role=demo",
        "--metrics-addr",
        METRICS.agent,
      ]),
    );
    children.push(
      await start("transfer", [
        "transfer/main.ts",
        "--topic",
        TOPIC,
        "--group",
        "sluice-demo",
        "--index-replicas",
        "0",
        "--metrics-addr",
        METRICS.transfer,
        "--search-url",
        search.url,
      ]),
    );
    for (const c of children) say(`   ${c.name}: pid ${c.pid}, log ${c.log}`);
    // Lines are written once both answer, so the time reported below is write → searchable, not
    // their start-up (which on a first run includes fetching their npm packages).
    const startedAt = Date.now();
    for (const c of children) {
      const url = `http://${METRICS[c.name as keyof typeof METRICS]}/healthz`;
      await waitFor(`${c.name} to answer ${url}`, async () => {
        await throwIfExited(children);
        return await answers200(url);
      }, { timeoutMs: 180_000, intervalMs: 250 });
    }
    say(`   both running ${((Date.now() - startedAt) / 1000).toFixed(1)} s after their start`);

    Deno.addSignalListener("SIGINT", () => {
      stopAll().then(() => Deno.exit(0));
    });

    const run = `demo${Date.now().toString(36)}`;
    say(`\n== 4/5 writing ${total} lines (run marker ${run})`);
    const random = seededRandom(Date.now() & 0xffff);
    const web: string[] = [], app: string[] = [];
    for (let seq = 0; seq < total; seq++) {
      const at = new Date();
      if (seq % 2 === 0) web.push(accessLogLine(run, seq, at, random));
      else app.push(appLogLine(run, seq, at, random));
    }
    const writtenAt = Date.now();
    await appendLines(webLog, web);
    await appendLines(appLog, app);

    say(`\n== 5/5 waiting until all ${total} lines are searchable in ${endpoints.search}`);
    let found = 0, lastShown = -1;
    const deadline = writtenAt + timeoutMs;
    while (found < total && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      found = await countMatching(endpoints.search, run);
      if (found !== lastShown) {
        say(
          `   ${found}/${total} searchable after ${((Date.now() - writtenAt) / 1000).toFixed(1)} s`,
        );
        lastShown = found;
      }
      await throwIfExited(children);
    }
    const tookS = (Date.now() - writtenAt) / 1000;
    if (found < total) {
      throw new SluiceError(
        `only ${found} of ${total} lines were searchable after ${tookS.toFixed(0)} s.\n` +
          `agent log: ${children[0].log}\n${await tailOf(children[0].log, 10)}\n` +
          `transfer log: ${children[1].log}\n${await tailOf(children[1].log, 10)}`,
      );
    }

    const consolePort = intOption(values["console-port"], "console-port", 8080);
    if (consolePort > 0) {
      webConsole = await startConsole({ port: consolePort, searchUrl: endpoints.search });
    }

    say(`\n${total} of ${total} lines written on this host are searchable.`);
    say(`time from write to searchable (all lines): ${tookS.toFixed(2)} s`);
    if (webConsole) say(`web console (config, fleet, log search): ${webConsole.url}`);
    say("\nTry:");
    say(
      `  curl -s '${endpoints.search}/${INDEX_PREFIX}-demo-*/_search?q=message:${run}&size=3&pretty'`,
    );
    say(
      `  curl -s '${endpoints.search}/${INDEX_PREFIX}-demo-*/_search?q=event.dataset:demo-web` +
        `%20AND%20parsed.status:500&size=3&pretty'   # ECS names (docs/transfer.md)`,
    );
    say(`  curl -s '${endpoints.search}/_cat/indices/${INDEX_PREFIX}-*?v'`);
    say(`  ${denoCommand()} task config:history`);
    say(`  ${denoCommand()} task config:status`);
    say(`  curl -s http://${METRICS.agent}/metrics | grep sluice_   # agent`);
    say(`  curl -s http://${METRICS.transfer}/metrics | grep sluice_   # transfer`);

    if (values.exit) {
      await stopAll();
      return 0;
    }
    say("\nThe pipeline keeps running and writes a line a second to each file; Ctrl-C stops it.");
    for (let seq = total;; seq += 2) {
      await new Promise((r) => setTimeout(r, 1000));
      if (stopping) break;
      const at = new Date();
      await appendLines(webLog, [accessLogLine(run, seq, at, random)]);
      await appendLines(appLog, [appLogLine(run, seq + 1, at, random)]);
      if ((seq - total) % 20 === 0) {
        say(`   ${await countMatching(endpoints.search, run)} lines of this run searchable`);
      }
    }
    await stopAll(); // already under way after Ctrl-C: wait until it is done
    return 0;
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Throws, with the end of its log, when one of `children` has exited. */
async function throwIfExited(children: Child[]): Promise<void> {
  for (const c of children) {
    const code = await Promise.race([c.exited, Promise.resolve(undefined)]);
    if (code !== undefined) {
      throw new SluiceError(
        `${c.name} exited with code ${code}; its log ends with:\n${await tailOf(c.log, 20)}`,
      );
    }
  }
}

if (import.meta.main) await runMain(main);
