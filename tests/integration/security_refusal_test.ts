/**
 * The secure services refuse a wrong password and a server certificate signed by a CA the client
 * does not trust, and sluice says so: which service, that it is about TLS or credentials, and
 * which variables to check — without printing the password it tried. Exit code 4 at once (no
 * retrying a refusal).
 */
import { equal, ok } from "node:assert/strict";
import { searchSecurityFromEnv } from "../../core/security.ts";
import { ensureCa } from "../../stack/secure/certs.ts";
import { deleteIndexTemplate, runSluice, uniqueName, withSecureStack } from "./security_support.ts";

const WRONG = `wrong-${crypto.randomUUID()}`;

interface Case {
  name: string;
  /** Variables to change in the secure stack's environment (undefined = remove). */
  change: (otherCa: string) => Record<string, string | undefined>;
  /** config:history (etcd) or a transfer start (Kafka, search engine). */
  command: "etcd" | "transfer";
  expect: RegExp[];
}

const CASES: Case[] = [
  {
    name: "etcd, wrong password",
    change: () => ({ SLUICE_ETCD_PASSWORD_FILE: undefined, SLUICE_ETCD_PASSWORD: WRONG }),
    command: "etcd",
    expect: [
      /etcd at https:\/\/localhost:2479 rejected the credentials/,
      /SLUICE_ETCD_PASSWORD/,
    ],
  },
  {
    name: "etcd, unknown CA",
    change: (ca) => ({ SLUICE_ETCD_TLS_CA_FILE: ca }),
    command: "etcd",
    expect: [/TLS with etcd at https:\/\/localhost:2479 failed/, /SLUICE_ETCD_TLS_CA/],
  },
  {
    name: "Kafka, wrong password",
    change: () => ({ SLUICE_KAFKA_PASSWORD_FILE: undefined, SLUICE_KAFKA_PASSWORD: WRONG }),
    command: "transfer",
    expect: [/Kafka at 127\.0\.0\.1:9192 rejected the SASL credentials/, /SLUICE_KAFKA_PASSWORD/],
  },
  {
    name: "Kafka, unknown CA",
    change: (ca) => ({ SLUICE_KAFKA_TLS_CA_FILE: ca }),
    command: "transfer",
    expect: [/TLS with Kafka at 127\.0\.0\.1:9192 failed/, /SLUICE_KAFKA_TLS_CA/],
  },
  {
    name: "search engine, wrong password",
    change: () => ({ SLUICE_SEARCH_PASSWORD_FILE: undefined, SLUICE_SEARCH_PASSWORD: WRONG }),
    command: "transfer",
    expect: [
      /search engine at https:\/\/127\.0\.0\.1:9201 rejected the credentials/,
      /SLUICE_SEARCH_PASSWORD/,
    ],
  },
  {
    name: "search engine, unknown CA",
    change: (ca) => ({ SLUICE_SEARCH_TLS_CA_FILE: ca }),
    command: "transfer",
    expect: [
      /TLS with the search engine at https:\/\/127\.0\.0\.1:9201 failed/,
      /SLUICE_SEARCH_TLS_CA/,
    ],
  },
];

Deno.test({
  name:
    "secure stack: wrong passwords and unknown CAs fail at once with an error naming the service",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withSecureStack(async (stack) => {
      const dir = await Deno.makeTempDir({ prefix: "sluice-refusal-" });
      const name = uniqueName("refusal");
      try {
        // A CA of its own that signed nothing the services present.
        await ensureCa(dir, "a CA the secure stack does not use");
        const otherCa = `${dir}/ca.pem`;
        for (const c of CASES) {
          const env: Record<string, string> = { ...stack.env };
          for (const [key, value] of Object.entries(c.change(otherCa))) {
            if (value === undefined) delete env[key];
            else env[key] = value;
          }
          env.SLUICE_LOG_LEVEL = "debug";
          const started = Date.now();
          const result = c.command === "etcd"
            ? await runSluice("config_plane/main.ts", ["history", "--prefix", `/${name}`], env)
            : await runSluice("transfer/main.ts", [
              "--topic",
              name,
              "--group",
              name,
              "--index-prefix",
              name,
              "--metrics-addr",
              "",
            ], env);
          const seconds = (Date.now() - started) / 1000;
          const output = result.output;
          equal(result.code, 4, `${c.name}: exit code ${result.code}\n${output}`);
          for (const pattern of c.expect) {
            ok(pattern.test(output), `${c.name}: no ${pattern} in:\n${output}`);
          }
          ok(!output.includes(WRONG), `${c.name}: the password tried is printed:\n${output}`);
          ok(seconds < 30, `${c.name}: took ${seconds} s (a refusal must not be retried)`);
          console.error(`${c.name}: exit 4 after ${seconds.toFixed(1)} s`);
        }
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
        // The Kafka cases reach the engine first and install the index template.
        await deleteIndexTemplate(
          stack.env.SLUICE_SEARCH_URL,
          searchSecurityFromEnv(stack.env),
          name,
        ).catch(() => {});
      }
    }),
});
