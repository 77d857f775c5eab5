/**
 * The index template installed at start-up for `<prefix>-*`: the document's ECS fields
 * (transfer/document.ts) get fixed types (`message` as full text, `@timestamp` and
 * `event.ingested` as dates, `host.name`, `event.dataset`, `log.file.path`, `labels.*` as keywords,
 * `log.offset` as a long) so that every date shard is searchable the same way, by Kibana and
 * Dashboards too. Pure.
 * @module
 */

import type { TransferConfig } from "./config.ts";

/** A composable index template body, as `PUT _index_template/<name>` takes it on both engines. */
export interface IndexTemplate {
  index_patterns: string[];
  priority: number;
  template: {
    settings: Record<string, unknown>;
    mappings: Record<string, unknown>;
  };
  _meta: Record<string, unknown>;
}

export interface TemplateOptions {
  /** Index prefix; the template matches `<prefix>-*`. */
  prefix: string;
  /** Primary shards per date shard (default 1: one day of one stream is rarely big). */
  shards?: number;
  /** Replicas (default 1; set 0 on a single node to keep the cluster green). */
  replicas?: number;
  /** Refresh interval, e.g. "1s" (default) or "30s" for heavier indexing. */
  refreshInterval?: string;
}

/** The template's name for a prefix. */
export function templateName(prefix: string): string {
  return `${prefix}-logs`;
}

/**
 * The index template for a prefix.
 *
 * @example
 * ```ts
 * import { indexTemplate } from "./index_template.ts";
 * indexTemplate({ prefix: "sluice" }).index_patterns; // ["sluice-*"]
 * ```
 */
export function indexTemplate(options: TemplateOptions): IndexTemplate {
  return {
    index_patterns: [`${options.prefix}-*`],
    // Above the 100 of built-in templates such as ES's `logs-*-*` so ours wins for our indices.
    priority: 200,
    template: {
      settings: {
        number_of_shards: options.shards ?? 1,
        number_of_replicas: options.replicas ?? 1,
        refresh_interval: options.refreshInterval ?? "1s",
      },
      mappings: {
        dynamic_templates: [
          // A source's extra fields are labels (env, team, …): keywords, not analysed text, as
          // ECS's `labels` are.
          {
            labels_as_keywords: {
              path_match: "labels.*",
              mapping: { type: "keyword", ignore_above: 1024 },
            },
          },
        ],
        // The names of transfer/document.ts, typed as ECS types them.
        properties: {
          "@timestamp": { type: "date" },
          message: { type: "text" },
          event: {
            properties: {
              id: { type: "keyword" },
              ingested: { type: "date" },
              dataset: { type: "keyword" },
            },
          },
          host: { properties: { name: { type: "keyword" } } },
          log: {
            properties: {
              file: { properties: { path: { type: "keyword" } } },
              offset: { type: "long" },
            },
          },
          service: { properties: { name: { type: "keyword" } } },
          // Why a line is not as its source asked (agent flags: timestamp_invalid, …), ECS tags.
          tags: { type: "keyword" },
          labels: { type: "object" },
          sluice: {
            properties: {
              file_id: { type: "keyword" },
              part: { type: "integer" },
              invalid_utf8: { type: "boolean" },
            },
          },
          // Parsed fields vary per source; their types are learned from the first document.
          parsed: { type: "object", dynamic: true },
        },
      },
    },
    _meta: { managed_by: "sluice transfer" },
  };
}

/**
 * Installs the template of `config`'s index prefix on `engine` (idempotent: a put replaces it).
 * The transfer does this at start-up and replay before re-indexing, so a rebuilt index gets the
 * same mappings.
 */
export async function installIndexTemplate(
  // Only what is needed, declared here: engine.ts imports this module's IndexTemplate, so an
  // import of engine.ts back would be a circle.
  engine: { putIndexTemplate(name: string, template: IndexTemplate): Promise<void> },
  config: Pick<TransferConfig, "indexPrefix" | "indexReplicas" | "refreshInterval">,
): Promise<void> {
  await engine.putIndexTemplate(
    templateName(config.indexPrefix),
    indexTemplate({
      prefix: config.indexPrefix,
      replicas: config.indexReplicas,
      refreshInterval: config.refreshInterval,
    }),
  );
}
