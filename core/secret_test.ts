import { equal, ok } from "node:assert/strict";
import { inspect } from "node:util";
import { REDACTED, redactUrl, scrubSecrets, Secret } from "./secret.ts";

Deno.test("Secret never prints its value: String, template, JSON, Deno.inspect, util.inspect", () => {
  const secret = new Secret("pw-0123456789", "SLUICE_ETCD_PASSWORD");
  const settings = { etcd: { username: "sluice", password: secret } };
  for (
    const text of [
      String(secret),
      `${secret}`,
      JSON.stringify(settings),
      Deno.inspect(settings, { depth: 10 }),
      inspect(settings, { depth: 10 }),
    ]
  ) {
    ok(!text.includes("pw-0123456789"), text);
    ok(text.includes(REDACTED), text);
  }
  equal(secret.reveal(), "pw-0123456789");
  ok(Deno.inspect(secret).includes("SLUICE_ETCD_PASSWORD"), "the source is shown");
});

Deno.test("scrubSecrets replaces every known secret value, and leaves short values alone", () => {
  new Secret("scrub-me-please", "X");
  new Secret("abc", "Y");
  equal(
    scrubSecrets("a scrub-me-please b scrub-me-please abc"),
    `a ${REDACTED} b ${REDACTED} abc`,
  );
});

Deno.test("redactUrl drops the user and password and keeps the rest", () => {
  equal(redactUrl("https://elastic:change%40me@es.local:9200"), "https://es.local:9200");
  equal(redactUrl("https://elastic:pw@es.local:9200/"), "https://es.local:9200/");
  equal(redactUrl("http://127.0.0.1:9200"), "http://127.0.0.1:9200");
  equal(redactUrl("127.0.0.1:9092"), "127.0.0.1:9092");
});
