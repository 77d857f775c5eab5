import { equal, ok, throws } from "node:assert/strict";
import { InvalidInputError, SecurityError } from "../core/errors.ts";
import { Secret } from "../core/secret.ts";
import { etcdTlsAndAuth, explainEtcdSecurityError } from "./etcd.ts";

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";

Deno.test("etcdTlsAndAuth: TLS follows the scheme; credentials go to etcd3's auth", () => {
  equal(JSON.stringify(etcdTlsAndAuth(["http://127.0.0.1:2379"], {})), "{}");
  const out = etcdTlsAndAuth(["https://localhost:2479"], {
    tls: { ca: CA },
    auth: { username: "sluice", password: new Secret("pw-etcd-1", "X") },
  });
  equal(out.credentials?.rootCertificate.toString(), CA);
  equal(out.auth?.username, "sluice");
  equal(out.auth?.password, "pw-etcd-1");
});

Deno.test("etcdTlsAndAuth refuses a CA for http://, mixed schemes and an IP over TLS", () => {
  throws(
    () => etcdTlsAndAuth(["http://127.0.0.1:2379"], { tls: { ca: CA } }),
    (e: Error) => e instanceof InvalidInputError && /write them as https/.test(e.message),
  );
  throws(
    () => etcdTlsAndAuth(["https://a:2379", "http://b:2379"], {}),
    (e: Error) => e instanceof InvalidInputError && /mix https/.test(e.message),
  );
  throws(
    () => etcdTlsAndAuth(["https://127.0.0.1:2479"], { tls: { ca: CA } }),
    (e: Error) => e instanceof InvalidInputError && /needs a host name/.test(e.message),
  );
});

Deno.test("explainEtcdSecurityError: grpc-js texts for a wrong password and an unknown CA", () => {
  const endpoints = ["https://localhost:2479"];
  const auth = explainEtcdSecurityError(
    new Error("3 INVALID_ARGUMENT: etcdserver: authentication failed, invalid user ID or password"),
    endpoints,
    "read the config head",
  );
  ok(auth instanceof SecurityError);
  ok(auth.message.includes("etcd at https://localhost:2479 rejected the credentials"));
  const tls = explainEtcdSecurityError(
    new Error(
      "14 UNAVAILABLE: No connection established. Last error: Error: unable to verify the first certificate",
    ),
    endpoints,
    "read the config head",
  );
  ok(tls?.message.includes("TLS with etcd at https://localhost:2479 failed"), tls?.message);
  equal(
    explainEtcdSecurityError(new Error("14 UNAVAILABLE: connect ECONNREFUSED"), endpoints, "x"),
    undefined,
  );
});
