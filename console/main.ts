/**
 * `deno task console`: the web console (config history, plan, apply and rollback; fleet status;
 * log search). Loopback by default; any other address needs a token or basic auth.
 * @module
 */
import { type CommandSpec, intOption, parseCommand, runMain } from "../core/cli.ts";
import { InvalidInputError } from "../core/errors.ts";
import { getLogger, setupLogging } from "../core/log.ts";
import { parseBasicAuth } from "./auth.ts";
import { startConsole } from "./server.ts";

const SPEC: CommandSpec = {
  name: "deno task console",
  summary: "the web console: config history, plan/apply/rollback, fleet status, log search",
  usage: "[--hostname ADDR] [--port N] [--token TOKEN | --basic-auth USER:PASSWORD]",
  options: {
    hostname: {
      type: "string",
      arg: "ADDR",
      description:
        "Address to listen on; anything but loopback needs --token or --basic-auth ($SLUICE_CONSOLE_HOSTNAME)",
      default: "127.0.0.1",
    },
    port: {
      type: "string",
      arg: "N",
      description: "Port to listen on, 0 = any free ($SLUICE_CONSOLE_PORT)",
      default: "8080",
    },
    token: {
      type: "string",
      arg: "TOKEN",
      description:
        "Require this token: open the console once with ?token=TOKEN, or send 'Authorization: Bearer TOKEN' ($SLUICE_CONSOLE_TOKEN)",
    },
    "basic-auth": {
      type: "string",
      arg: "USER:PASSWORD",
      description:
        "Require HTTP basic auth; the user is recorded as the author of changes ($SLUICE_CONSOLE_BASIC_AUTH)",
    },
    endpoints: {
      type: "string",
      arg: "URLS",
      description: "etcd client URLs, comma separated (default: $SLUICE_ETCD_ENDPOINTS)",
    },
    prefix: {
      type: "string",
      arg: "PREFIX",
      description: "Key prefix in etcd (default: $SLUICE_ETCD_PREFIX or /sluice)",
    },
    "search-url": {
      type: "string",
      arg: "URL[,URL]",
      description:
        "Search engine URL, or every node's comma separated (default: $SLUICE_SEARCH_URL or http://127.0.0.1:9200)",
    },
    "index-prefix": {
      type: "string",
      arg: "PREFIX",
      description: "Search the indices <PREFIX>-* ($SLUICE_INDEX_PREFIX)",
      default: "sluice",
    },
  },
  epilog: `Pages: /config, /fleet, /logs; the JSON API is under /api (see docs/console.md).

Examples:
  deno task console                                  # http://127.0.0.1:8080
  deno task console --hostname 0.0.0.0 --basic-auth ann:s3cret

Exit codes:
  0  stopped by SIGINT/SIGTERM
  2  invalid option, or a non-loopback address without --token / --basic-auth`,
};

function str(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

async function main(): Promise<void> {
  const { values } = parseCommand(SPEC, Deno.args);
  setupLogging();
  const env = Deno.env.toObject();
  // Flags beat variables; the spec's defaults are applied only when neither is set.
  const flag = (
    name: string,
  ) => (Deno.args.some((a) => a === `--${name}` || a.startsWith(`--${name}=`))
    ? str(values[name])
    : undefined);
  const hostname = flag("hostname") ?? env.SLUICE_CONSOLE_HOSTNAME ?? "127.0.0.1";
  const port = intOption(flag("port") ?? env.SLUICE_CONSOLE_PORT, "port", 8080);
  const token = str(values.token) ?? str(env.SLUICE_CONSOLE_TOKEN);
  let basic;
  try {
    basic = parseBasicAuth(str(values["basic-auth"]) ?? str(env.SLUICE_CONSOLE_BASIC_AUTH));
  } catch (error) {
    throw new InvalidInputError(`--basic-auth: ${(error as Error).message}`);
  }
  const web = await startConsole({
    hostname,
    port,
    auth: { token, basic },
    etcdEndpoints: str(values.endpoints)?.split(",").map((s) => s.trim()).filter(Boolean),
    etcdPrefix: str(values.prefix),
    searchUrl: str(values["search-url"]),
    indexPrefix: flag("index-prefix") ?? str(env.SLUICE_INDEX_PREFIX) ?? "sluice",
  });
  console.log(`sluice console: ${web.url}${token ? "/?token=…" : ""}`);
  const stop = Promise.withResolvers<void>();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => stop.resolve());
  }
  await stop.promise;
  getLogger("console").info("stopping");
  await web.stop();
}

if (import.meta.main) runMain(main);
