import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { DOCUMENT_FIELDS } from "./document.ts";
import { indexTemplate, templateName } from "./index_template.ts";

/** The mapping of a dotted field name in a template's properties (undefined when unmapped). */
function mapped(props: Record<string, unknown>, path: string): { type?: string } | undefined {
  let node: Record<string, unknown> | undefined = { properties: props };
  for (const key of path.split(".")) {
    node = (node?.properties as Record<string, Record<string, unknown>> | undefined)?.[key];
  }
  return node as { type?: string } | undefined;
}

Deno.test("index template: every document field has its ECS type", () => {
  const t = indexTemplate({ prefix: "sluice" });
  assertEquals(t.index_patterns, ["sluice-*"]);
  const props = t.template.mappings.properties as Record<string, unknown>;
  const expected: Record<string, string> = {
    timestamp: "date",
    ingested: "date",
    message: "text",
    id: "keyword",
    host: "keyword",
    source: "keyword",
    path: "keyword",
    service: "keyword",
    tags: "keyword",
    fileId: "keyword",
    offset: "long",
    part: "integer",
    invalidUtf8: "boolean",
    labels: "object",
  };
  for (const [key, field] of Object.entries(DOCUMENT_FIELDS)) {
    assertEquals(mapped(props, field)?.type, expected[key], field);
  }
  // A label is a keyword, whatever its name.
  const dynamic = t.template.mappings.dynamic_templates as Record<string, unknown>[];
  assertEquals(dynamic[0].labels_as_keywords, {
    path_match: "labels.*",
    mapping: { type: "keyword", ignore_above: 1024 },
  });
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
