import { equal, match, throws } from "node:assert/strict";
import {
  checkoutVersion,
  type CommandSpec,
  denoCommand,
  helpText,
  intOption,
  invokedAs,
  parseCommand,
  sluiceVersion,
} from "./cli.ts";
import { ExitCode, InvalidInputError } from "./errors.ts";

const spec: CommandSpec = {
  name: "deno task example",
  summary: "An example command.",
  usage: "FILE [--limit N]",
  options: {
    limit: { type: "string", arg: "N", description: "How many.", default: "10" },
    json: { type: "boolean", description: "Print JSON." },
  },
  epilog: "Exit codes: 0 ok, 2 invalid input.",
};

Deno.test("parseCommand returns values and positionals", () => {
  const { values, positionals } = parseCommand(spec, ["a.yaml", "--limit", "3", "--json"]);
  equal(values.limit, "3");
  equal(values.json, true);
  equal(positionals[0], "a.yaml");
});

Deno.test("parseCommand refuses an unknown option with exit code 2 and a pointer to --help", () => {
  try {
    parseCommand(spec, ["--nope"]);
    throw new Error("no error");
  } catch (error) {
    equal(error instanceof InvalidInputError, true);
    equal((error as InvalidInputError).exitCode, ExitCode.InvalidInput);
    match((error as Error).message, /--help/);
  }
});

Deno.test("helpText lists every option, the default and the epilog", () => {
  const text = helpText(spec);
  match(text, /Usage: deno task example FILE/);
  match(text, /--limit N\s+How many\. \(default: 10\)/);
  match(text, /--json\s+Print JSON\./);
  match(text, /-h, --help/);
  match(text, /--version\s+Show the version and exit\./);
  match(text, /Exit codes/);
});

Deno.test("intOption parses whole numbers and refuses the rest", () => {
  equal(intOption(undefined, "limit", 5), 5);
  equal(intOption("12", "limit", 5), 12);
  throws(() => intOption("1.5", "limit", 5), /--limit must be a whole number/);
  throws(() => intOption("-1", "limit", 5), InvalidInputError);
});

Deno.test("denoCommand names npx and the version only when Deno came through npx", () => {
  equal(
    denoCommand("/root/.npm/_npx/6c2b1f/node_modules/deno/deno", "2.9.6"),
    "npx -y deno@2.9.6",
  );
  equal(denoCommand("/usr/lib/node_modules/deno/deno", "2.9.6"), "deno");
  equal(denoCommand("/home/u/.deno/bin/deno", "2.9.6"), "deno");
});

Deno.test("parseCommand prints the version and exits 0 on --version", async () => {
  const script = `import { parseCommand } from ${JSON.stringify(import.meta.resolve("./cli.ts"))};
parseCommand({ name: "x", summary: "x", options: {} }, ["--version"]);
console.log("not reached");`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  equal(out.code, 0, new TextDecoder().decode(out.stderr));
  match(stdout, /^sluice \S+ \(deno \d+\.\d+\.\d+\)\n$/);
});

Deno.test("checkoutVersion adds the commit count and commit only when both are known", () => {
  equal(checkoutVersion("0.1.0", "412", "1a2b3c4d5e6f"), "0.1.0+git412.1a2b3c4d5e6f");
  equal(checkoutVersion("0.1.0", undefined, "1a2b3c4d5e6f"), "0.1.0");
  equal(checkoutVersion("0.1.0", "412", undefined), "0.1.0");
  equal(checkoutVersion("0.1.0", "fatal: not a git repository", "x"), "0.1.0");
});

Deno.test("sluiceVersion: a package's stamp wins; a copy without git has deno.json's version", async () => {
  const dir = await Deno.makeTempDir({ prefix: "sluice-version-" });
  try {
    const root = new URL(`file://${dir}/`);
    await Deno.writeTextFile(`${dir}/deno.json`, JSON.stringify({ version: "9.8.7" }));
    equal(sluiceVersion(root), "9.8.7");
    await Deno.writeTextFile(`${dir}/VERSION`, "9.8.7+git5.abcdef\n");
    equal(sluiceVersion(root), "9.8.7+git5.abcdef");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sluiceVersion of this checkout starts with deno.json's version", async () => {
  const { version } = JSON.parse(
    await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
  );
  match(
    sluiceVersion(),
    new RegExp(`^${version.replaceAll(".", "\\.")}(\\+git\\d+\\.[0-9a-f]{12})?$`),
  );
});

Deno.test("invokedAs: a packaged launcher's name with the task's subcommand, else the task", () => {
  equal(invokedAs("deno task config:apply", "sluice-config"), "sluice-config apply");
  equal(invokedAs("deno task transfer:replay", "sluice-transfer"), "sluice-transfer replay");
  equal(invokedAs("deno task agent", "sluice-agent"), "sluice-agent");
  equal(invokedAs("deno task agent", undefined), "deno task agent");
  equal(invokedAs("deno task agent", ""), "deno task agent");
  // A name that is not a task is kept as it is.
  equal(invokedAs("demo", "sluice-agent"), "demo");
});
