import { deepStrictEqual as assertEquals, match } from "node:assert/strict";
import {
  APPLIED_CONFIG_FILE,
  loadAppliedConfig,
  parseAppliedConfig,
  saveAppliedConfig,
} from "./applied_config.ts";
import type { DesiredState } from "../config_plane/types.ts";

const state: DesiredState = {
  defaults: { topic: "logs" },
  sources: [{ id: "app", paths: ["/var/log/app/*.log"] }],
};

Deno.test("a saved config loads back for its prefix, with its seq and state", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assertEquals(await loadAppliedConfig(dir, "/sluice"), undefined);
    await saveAppliedConfig(dir, "/sluice", 7, state, new Date("2026-11-21T10:00:00Z"));
    assertEquals(await loadAppliedConfig(dir, "/sluice"), {
      ok: true,
      seq: 7,
      state,
      savedAt: "2026-11-21T10:00:00.000Z",
    });
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), [APPLIED_CONFIG_FILE]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a saved config is refused for another prefix, torn JSON, a bad seq or a bad state", () => {
  const body = (over: Record<string, unknown>) =>
    JSON.stringify({ version: 1, prefix: "/a", seq: 3, saved_at: "", state, ...over });
  const reason = (text: string, prefix = "/a") => {
    const r = parseAppliedConfig(text, prefix);
    return r.ok ? "accepted" : r.reason;
  };
  assertEquals(parseAppliedConfig(body({}), "/a").ok, true);
  match(reason(body({}), "/b"), /config of prefix '\/a', not '\/b'/);
  match(reason(body({}).slice(0, 20)), /not valid JSON/);
  match(reason(body({ version: 2 })), /not a version 1/);
  match(reason("null"), /not a version 1/);
  match(reason(body({ seq: -1 })), /seq '-1'/);
  match(reason(body({ seq: "3" })), /seq '3'/);
  match(
    reason(body({ state: { sources: [{ id: "Bad Id", paths: ["/x"] }] } })),
    /^state: sources\[0\]\.id .*"Bad Id" is not allowed/,
  );
});
