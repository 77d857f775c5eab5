import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { indexTemplate, templateName } from "./index_template.ts";

Deno.test("index template: envelope fields have fixed types", () => {
  const t = indexTemplate({ prefix: "sluice" });
  assertEquals(t.index_patterns, ["sluice-*"]);
  const props = t.template.mappings.properties as Record<string, { type: string }>;
  assertEquals(props["@timestamp"].type, "date");
  assertEquals(props.message.type, "text");
  for (const keyword of ["host", "source", "path", "file_id", "id"]) {
    assertEquals(props[keyword].type, "keyword", keyword);
  }
  assertEquals(props.offset.type, "long");
});

Deno.test("index template: settings follow the options", () => {
  const t = indexTemplate({ prefix: "p", shards: 2, replicas: 0, refreshInterval: "30s" });
  assertEquals(t.template.settings, {
    number_of_shards: 2,
    number_of_replicas: 0,
    refresh_interval: "30s",
  });
  assertEquals(templateName("p"), "p-logs");
});
