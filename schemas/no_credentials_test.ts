// The config plane (etcd) says what to collect, never how to log in: sluice reads credentials
// from the environment or files only (core/security.ts, docs/security.md). These tests keep the
// schemas closed, so a password, key or TLS setting written into a source or the defaults is
// refused by `config:apply` instead of being stored in etcd in clear.
import { ok } from "node:assert/strict";
import { validateSource, validateState } from "./validate.ts";

const source = { id: "app", paths: ["/var/log/app.log"] };

const CREDENTIAL_SHAPES: Record<string, unknown>[] = [
  { password: "hunter2" },
  { kafka: { brokers: ["k:9093"], sasl: { username: "u", password: "p" } } },
  { sasl: { mechanism: "scram-sha-512", username: "u", password: "p" } },
  { tls: { ca: "-----BEGIN CERTIFICATE-----" } },
  { ssl: true },
  { username: "u", password_file: "/run/secrets/p" },
  { api_key: "a2V5" },
  { credentials: { user: "u", pass: "p" } },
  { brokers: ["k:9093"] },
  { search_url: "https://elastic:changeme@es:9200" },
];

Deno.test("a source with credentials or connection settings is refused", () => {
  for (const extra of CREDENTIAL_SHAPES) {
    const result = validateSource({ ...source, ...extra });
    ok(!result.ok, `accepted ${JSON.stringify(extra)}`);
  }
});

Deno.test("defaults with credentials or connection settings are refused", () => {
  for (const extra of CREDENTIAL_SHAPES) {
    const result = validateState({ defaults: { topic: "logs", ...extra }, sources: [source] });
    ok(!result.ok, `accepted defaults ${JSON.stringify(extra)}`);
  }
});

Deno.test("credentials nested in a parser, multiline or host selector are refused", () => {
  for (
    const bad of [
      { parser: { type: "json", password: "p" } },
      { multiline: { start_pattern: "^x", sasl: { password: "p" } } },
      { hosts: { names: ["a"], password: "p" } },
      { rate: { lines_per_sec: 10, api_key: "k" } },
    ]
  ) {
    ok(!validateSource({ ...source, ...bad }).ok, `accepted ${JSON.stringify(bad)}`);
  }
});
