import { deepStrictEqual as assertEquals, rejects, throws } from "node:assert/strict";
import { InvalidInputError } from "./errors.ts";
import { readSettingsFile, resolveSettingTable, type Setting, settingOptions } from "./settings.ts";

interface Demo {
  name: string;
  hosts: string[];
  waitMs: number;
  mode: string;
  labels: Record<string, string>;
  level: number;
}

const TABLE: readonly Setting<keyof Demo>[] = [
  {
    key: "name",
    flag: "name",
    env: "X_NAME",
    file: "name",
    kind: "string",
    arg: "N",
    description: "Name.",
  },
  {
    key: "hosts",
    flag: "host",
    env: "X_HOSTS",
    file: "hosts",
    kind: "list",
    arg: "H",
    description: "Hosts.",
  },
  { key: "waitMs", flag: "wait-ms", file: "wait_ms", kind: "int", arg: "MS", description: "Wait." },
  {
    key: "mode",
    flag: "mode",
    env: "X_MODE",
    file: "mode",
    kind: "choice",
    choices: ["fast", "safe"],
    arg: "M",
    description: "Mode.",
  },
  {
    key: "labels",
    flag: "label",
    env: "X_LABELS",
    file: "labels",
    fileAliases: ["label"],
    kind: "pairs",
    arg: "K=V",
    description: "Labels.",
    shownDefault: "none",
  },
  {
    key: "level",
    flag: "level",
    env: "X_LEVEL",
    file: "level",
    kind: "string",
    parse: (text, where) => {
      const n = Number(text);
      if (!(n >= 1 && n <= 9)) throw new InvalidInputError(`${where} must be 1-9, got '${text}'`);
      return n;
    },
    arg: "L",
    description: "Level.",
  },
];

const DEFAULTS: Demo = {
  name: "d",
  hosts: ["h:1"],
  waitMs: 10,
  mode: "safe",
  labels: {},
  level: 6,
};

Deno.test("resolveSettingTable: defaults alone", () => {
  assertEquals(resolveSettingTable(TABLE, DEFAULTS, {}), DEFAULTS);
});

Deno.test("resolveSettingTable: flags beat env, env beats the file, the file beats defaults", () => {
  const file = { name: "file", hosts: ["f:1", "f:2"], wait_ms: 50, mode: "fast", level: 2 };
  const env = { X_NAME: "env", X_HOSTS: "e:1, e:2", X_LEVEL: "3" };
  let s = resolveSettingTable(TABLE, DEFAULTS, { file, env });
  assertEquals([s.name, s.hosts, s.waitMs, s.mode, s.level], [
    "env",
    ["e:1", "e:2"],
    50,
    "fast",
    3,
  ]);
  s = resolveSettingTable(TABLE, DEFAULTS, {
    file,
    env,
    flags: { name: "flag", host: ["a:1", "b:1,c:1"], "wait-ms": "0", level: "9" },
  });
  assertEquals([s.name, s.hosts, s.waitMs, s.level], ["flag", ["a:1", "b:1", "c:1"], 0, 9]);
});

Deno.test("resolveSettingTable: an empty variable or an empty repeated flag counts as unset", () => {
  const s = resolveSettingTable(TABLE, DEFAULTS, {
    env: { X_NAME: "", X_HOSTS: "" },
    flags: { host: [] },
  });
  assertEquals([s.name, s.hosts], ["d", ["h:1"]]);
  // An empty flag is a value: it is how a setting such as a metrics address is turned off.
  assertEquals(resolveSettingTable(TABLE, DEFAULTS, { flags: { name: "" } }).name, "");
});

Deno.test("resolveSettingTable: pairs merge key by key, a file mapping or K=V items", () => {
  const s = resolveSettingTable(TABLE, DEFAULTS, {
    file: { labels: { zone: "a", role: "db", port: 80 } },
    env: { X_LABELS: "role=cache, tier=2" },
    flags: { label: ["role=web"] },
  });
  assertEquals(s.labels, { zone: "a", role: "web", port: "80", tier: "2" });
  assertEquals(
    resolveSettingTable(TABLE, DEFAULTS, { file: { label: ["k=v"] } }).labels,
    { k: "v" },
  );
});

Deno.test("resolveSettingTable: errors name the flag, the variable or the file key", () => {
  throws(() => resolveSettingTable(TABLE, DEFAULTS, { flags: { "wait-ms": "-1" } }), {
    message: "--wait-ms must be a whole number ≥ 0, got '-1'",
  });
  throws(() => resolveSettingTable(TABLE, DEFAULTS, { env: { X_MODE: "slow" } }), {
    message: "X_MODE must be one of fast, safe, got 'slow'",
  });
  throws(() => resolveSettingTable(TABLE, DEFAULTS, { file: { wait_ms: 1.5 } }, "config file"), {
    message: "config file key 'wait_ms' must be a whole number ≥ 0, got '1.5'",
  });
  throws(() => resolveSettingTable(TABLE, DEFAULTS, { flags: { host: [","] } }), {
    message: "--host is empty",
  });
  throws(() => resolveSettingTable(TABLE, DEFAULTS, { flags: { label: ["novalue"] } }), {
    message: "--label must be KEY=VALUE, got 'novalue'",
  });
  throws(() => resolveSettingTable(TABLE, DEFAULTS, { env: { X_LEVEL: "0" } }), {
    message: "X_LEVEL must be 1-9, got '0'",
  });
  throws(
    () => resolveSettingTable(TABLE, DEFAULTS, { file: { wait: 1 } }),
    (error: Error) =>
      error instanceof InvalidInputError &&
      error.message === "settings file: unknown setting 'wait' (known: name, hosts, wait_ms, " +
          "mode, labels, level)",
  );
});

Deno.test("settingOptions: one option per setting with its default and variable", () => {
  const options = settingOptions(TABLE, DEFAULTS);
  assertEquals(Object.keys(options), ["name", "host", "wait-ms", "mode", "label", "level"]);
  assertEquals(options.host, {
    type: "string",
    multiple: true,
    arg: "H",
    description: "Hosts. (default: h:1) [X_HOSTS]",
  });
  assertEquals(options["wait-ms"].description, "Wait. (default: 10)");
  assertEquals(options["wait-ms"].multiple, false);
  assertEquals(options.label.description, "Labels. (default: none) [X_LABELS]");
  assertEquals(options.label.multiple, true);
});

Deno.test("readSettingsFile: YAML or JSON mapping; errors name the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/a.yaml`, "name: y\nhosts: [a, b]\n");
    assertEquals(await readSettingsFile(`${dir}/a.yaml`), { name: "y", hosts: ["a", "b"] });
    await Deno.writeTextFile(`${dir}/b.json`, '{"wait_ms": 5}');
    assertEquals(await readSettingsFile(`${dir}/b.json`), { wait_ms: 5 });
    await Deno.writeTextFile(`${dir}/empty.yaml`, "");
    assertEquals(await readSettingsFile(`${dir}/empty.yaml`), {});
    assertEquals(await readSettingsFile(undefined), {});
    await Deno.writeTextFile(`${dir}/list.yaml`, "- a\n");
    await rejects(readSettingsFile(`${dir}/list.yaml`, "config file"), {
      message: `config file ${dir}/list.yaml must hold a mapping of settings`,
    });
    await Deno.writeTextFile(`${dir}/bad.yaml`, "a: [\n");
    await rejects(
      readSettingsFile(`${dir}/bad.yaml`),
      (error: Error) =>
        error instanceof InvalidInputError &&
        error.message.startsWith(`settings file ${dir}/bad.yaml does not parse:`),
    );
    await rejects(
      readSettingsFile(`${dir}/missing.yaml`),
      (error: Error) =>
        error instanceof InvalidInputError &&
        error.message.startsWith(`cannot read settings file ${dir}/missing.yaml:`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
