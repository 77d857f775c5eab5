import { equal, match, throws } from "node:assert/strict";
import { type CommandSpec, denoCommand, helpText, intOption, parseCommand } from "./cli.ts";
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
