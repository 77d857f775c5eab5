import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { InvalidInputError } from "./errors.ts";
import { classifySecurityFailure, type Env, securityFromEnv } from "./security.ts";

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";

/** A file system of a few files; reading any other path fails as Deno's would. */
function files(map: Record<string, string>) {
  return (path: string) => {
    if (path in map) return map[path];
    throw new Deno.errors.NotFound(`No such file or directory (os error 2): readfile '${path}'`);
  };
}

const none = files({});

function fails(env: Env, pattern: RegExp, read = none) {
  throws(() => securityFromEnv(env, read), (error: unknown) => {
    ok(error instanceof InvalidInputError, String(error));
    ok(pattern.test((error as Error).message), (error as Error).message);
    return true;
  });
}

Deno.test("securityFromEnv: nothing set means plaintext and no credentials", () => {
  deepEqual(securityFromEnv({}, none), { kafka: {}, etcd: {}, search: {} });
});

Deno.test("securityFromEnv: Kafka SASL/SCRAM over TLS, the password from a file", () => {
  const s = securityFromEnv({
    SLUICE_KAFKA_TLS_CA_FILE: "/ca.pem",
    SLUICE_KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
    SLUICE_KAFKA_USERNAME: "sluice",
    SLUICE_KAFKA_PASSWORD_FILE: "/run/secrets/kafka",
  }, files({ "/ca.pem": CA, "/run/secrets/kafka": "from-file-pw\n" }));
  equal(s.kafka.tls?.ca, CA.trimEnd());
  equal(s.kafka.sasl?.mechanism, "scram-sha-512");
  equal(s.kafka.sasl?.username, "sluice");
  equal(s.kafka.sasl?.password.reveal(), "from-file-pw", "the trailing newline is dropped");
  equal(s.kafka.sasl?.password.source, "SLUICE_KAFKA_PASSWORD_FILE=/run/secrets/kafka");
  ok(!JSON.stringify(s).includes("from-file-pw"));
});

Deno.test("securityFromEnv: SLUICE_KAFKA_TLS=true alone means TLS with the system's CAs", () => {
  deepEqual(securityFromEnv({ SLUICE_KAFKA_TLS: "true" }, none).kafka, { tls: {} });
  deepEqual(securityFromEnv({ SLUICE_KAFKA_TLS: "0" }, none).kafka, {});
  fails({ SLUICE_KAFKA_TLS: "maybe" }, /SLUICE_KAFKA_TLS must be true or false/);
  fails(
    { SLUICE_KAFKA_TLS: "false", SLUICE_KAFKA_TLS_CA: CA },
    /SLUICE_KAFKA_TLS=false, but a TLS CA/,
  );
});

Deno.test("securityFromEnv: a value and its _FILE variant together is an error, not a choice", () => {
  fails(
    { SLUICE_ETCD_USERNAME: "u", SLUICE_ETCD_PASSWORD: "a", SLUICE_ETCD_PASSWORD_FILE: "/p" },
    /both SLUICE_ETCD_PASSWORD and SLUICE_ETCD_PASSWORD_FILE are set: set only one/,
  );
});

Deno.test("securityFromEnv: an unreadable or empty secret file names the variable and the path", () => {
  fails(
    { SLUICE_ETCD_USERNAME: "u", SLUICE_ETCD_PASSWORD_FILE: "/missing" },
    /SLUICE_ETCD_PASSWORD_FILE=\/missing: cannot read the file \(No such file/,
  );
  fails(
    { SLUICE_ETCD_USERNAME: "u", SLUICE_ETCD_PASSWORD_FILE: "/empty" },
    /SLUICE_ETCD_PASSWORD_FILE=\/empty: the file is empty/,
    files({ "/empty": "\n" }),
  );
});

Deno.test("securityFromEnv: user without password and password without user say what is missing", () => {
  fails(
    { SLUICE_ETCD_USERNAME: "u" },
    /SLUICE_ETCD_USERNAME is set but no password: set SLUICE_ETCD_PASSWORD_FILE/,
  );
  fails({ SLUICE_SEARCH_PASSWORD: "p" }, /but SLUICE_SEARCH_USERNAME is not/);
});

Deno.test("securityFromEnv: the Kafka mechanism is required with a user, and must be known", () => {
  fails(
    { SLUICE_KAFKA_USERNAME: "u", SLUICE_KAFKA_PASSWORD: "p" },
    /SLUICE_KAFKA_SASL_MECHANISM is not: set it to .*scram-sha-512/,
  );
  fails(
    {
      SLUICE_KAFKA_SASL_MECHANISM: "gssapi",
      SLUICE_KAFKA_USERNAME: "u",
      SLUICE_KAFKA_PASSWORD: "p",
    },
    /must be one of scram-sha-512, scram-sha-256, plain, got 'gssapi'/,
  );
  fails({ SLUICE_KAFKA_SASL_MECHANISM: "plain" }, /needs SLUICE_KAFKA_USERNAME/);
});

Deno.test("securityFromEnv: a CA must be PEM; a path in the PEM variable is pointed to _FILE", () => {
  fails(
    { SLUICE_ETCD_TLS_CA: "/etc/ca.pem" },
    /Put the PEM text in SLUICE_ETCD_TLS_CA, or the path of a PEM file in SLUICE_ETCD_TLS_CA_FILE/,
  );
  fails(
    { SLUICE_ETCD_TLS_CA_FILE: "/ca.pem" },
    /SLUICE_ETCD_TLS_CA_FILE=\/ca.pem: the file is not a PEM certificate/,
    files({ "/ca.pem": "hello" }),
  );
});

Deno.test("securityFromEnv: a client certificate needs its key; the key is a Secret", () => {
  fails({ SLUICE_ETCD_TLS_CERT: CA }, /SLUICE_ETCD_TLS_CERT and SLUICE_ETCD_TLS_KEY go together/);
  const s = securityFromEnv(
    { SLUICE_ETCD_TLS_CERT: CA, SLUICE_ETCD_TLS_KEY_FILE: "/k" },
    files({ "/k": KEY }),
  );
  equal(s.etcd.tls?.cert, CA);
  equal(s.etcd.tls?.key?.reveal(), KEY.replace(/\n$/, ""));
  ok(!Deno.inspect(s, { depth: 10 }).includes("MIIE"));
});

Deno.test("securityFromEnv: search basic auth, API key, or credentials in the URL", () => {
  const basic = securityFromEnv({
    SLUICE_SEARCH_USERNAME: "sluice",
    SLUICE_SEARCH_PASSWORD: "pw12",
  }, none);
  equal(basic.search.auth?.kind, "basic");
  const key = securityFromEnv(
    { SLUICE_SEARCH_API_KEY_FILE: "/key" },
    files({ "/key": "a2V5OnZhbHVl\n" }),
  );
  equal(key.search.auth?.kind === "apiKey" && key.search.auth.apiKey.reveal(), "a2V5OnZhbHVl");
  const inUrl = securityFromEnv({ SLUICE_SEARCH_URL: "https://elastic:ch%40nge@es:9200" }, none);
  ok(inUrl.search.auth?.kind === "basic");
  equal(inUrl.search.auth.username, "elastic");
  equal(inUrl.search.auth.password.reveal(), "ch@nge");
  fails(
    { SLUICE_SEARCH_API_KEY: "k", SLUICE_SEARCH_USERNAME: "u", SLUICE_SEARCH_PASSWORD: "p" },
    /both an API key .* and a user .* are set/,
  );
  fails(
    {
      SLUICE_SEARCH_URL: "https://a:b@es:9200",
      SLUICE_SEARCH_USERNAME: "u",
      SLUICE_SEARCH_PASSWORD: "p",
    },
    /SLUICE_SEARCH_URL \(https:\/\/es:9200\) carries a user and password/,
  );
});

Deno.test("classifySecurityFailure tells TLS from credentials from anything else", () => {
  // Texts as the clients report them (kafkajs, grpc-js for etcd, fetch, the search clients).
  equal(classifySecurityFailure("self-signed certificate in certificate chain"), "tls");
  equal(classifySecurityFailure("unable to verify the first certificate"), "tls");
  equal(
    classifySecurityFailure(
      "error sending request: client error (Connect): invalid peer certificate: UnknownIssuer",
    ),
    "tls",
  );
  equal(classifySecurityFailure("SASL SCRAM SHA512 authentication failed, reason: ..."), "auth");
  equal(
    classifySecurityFailure(
      "3 INVALID_ARGUMENT: etcdserver: authentication failed, invalid user ID or password",
    ),
    "auth",
  );
  equal(classifySecurityFailure("connect ECONNREFUSED 127.0.0.1:2379"), undefined);
  equal(classifySecurityFailure("Connection timeout"), undefined);
});
