import { deepEqual, equal, ok } from "node:assert/strict";
import { InvalidInputError } from "../core/errors.ts";
import { Secret } from "../core/secret.ts";
import {
  explainKafkaSecurityError,
  kafkaTlsAndSasl,
  topicHasLeaders,
  topicNotReadyYet,
} from "./connection.ts";

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";

Deno.test("kafkaTlsAndSasl: plaintext, TLS with system CAs, TLS with a CA, SCRAM", () => {
  deepEqual(kafkaTlsAndSasl({}), {});
  deepEqual(kafkaTlsAndSasl({ tls: {} }), { ssl: true });
  deepEqual(kafkaTlsAndSasl({ tls: { ca: CA } }), { ssl: { ca: [CA], rejectUnauthorized: true } });
  const out = kafkaTlsAndSasl({
    tls: { ca: CA },
    sasl: { mechanism: "scram-sha-512", username: "sluice", password: new Secret("pw-1234", "X") },
  });
  deepEqual(out.sasl, { mechanism: "scram-sha-512", username: "sluice", password: "pw-1234" });
});

Deno.test("explainKafkaSecurityError: TLS and SASL failures as kafkajs reports them", () => {
  const brokers = ["127.0.0.1:9192"];
  const tls = explainKafkaSecurityError(
    new Error("Connection error: unable to verify the first certificate"),
    brokers,
  );
  ok(tls?.startsWith("TLS with Kafka at 127.0.0.1:9192 failed"), tls);
  ok(tls?.includes("SLUICE_KAFKA_TLS_CA"));
  const sasl = explainKafkaSecurityError(
    new Error(
      "SASL SCRAM SHA512 authentication failed: Authentication failed during authentication " +
        "due to invalid credentials with SASL mechanism SCRAM-SHA-512",
    ),
    brokers,
  );
  ok(sasl?.startsWith("Kafka at 127.0.0.1:9192 rejected the SASL credentials"), sasl);
  equal(explainKafkaSecurityError(new Error("Connection timeout"), brokers), undefined);
  // A settings error of our own already says what to do, even if it mentions TLS.
  equal(
    explainKafkaSecurityError(new InvalidInputError("SLUICE_KAFKA_TLS_CA_FILE=/x: …"), brokers),
    undefined,
  );
});

Deno.test("explainKafkaSecurityError: causes inside an AggregateError are read too", () => {
  const error = new AggregateError(
    [
      new Error("Connection to 127.0.0.1:9192 failed.", {
        cause: new Error("self-signed certificate in certificate chain"),
      }),
    ],
    "Producing messages failed.",
  );
  const text = explainKafkaSecurityError(error, ["127.0.0.1:9192"]);
  ok(text?.startsWith("TLS with Kafka at 127.0.0.1:9192 failed"), text);
  ok(text?.includes("self-signed certificate"), text);
});

Deno.test("topicNotReadyYet: a broker that does not know a new topic yet is asked again; refusals are final", () => {
  // What kafkajs threw in the secure pipeline test's transfer (issue 16): the broker had not
  // caught up with the topic the controller had just created.
  const notHosted = Object.assign(new Error("This server does not host this topic-partition"), {
    name: "KafkaJSProtocolError",
    type: "UNKNOWN_TOPIC_OR_PARTITION",
    code: 3,
    retriable: true,
  });
  ok(topicNotReadyYet(notHosted));
  ok(topicNotReadyYet({ type: "LEADER_NOT_AVAILABLE" }));
  ok(topicNotReadyYet({ type: "NOT_CONTROLLER" }));
  ok(topicNotReadyYet({ errors: [{ type: "LEADER_NOT_AVAILABLE" }, notHosted] }));
  ok(
    !topicNotReadyYet({
      errors: [{ type: "LEADER_NOT_AVAILABLE" }, { type: "INVALID_TOPIC_EXCEPTION" }],
    }),
  );
  ok(!topicNotReadyYet({ type: "INVALID_TOPIC_EXCEPTION" }));
  ok(!topicNotReadyYet({ type: "TOPIC_AUTHORIZATION_FAILED" }));
  ok(!topicNotReadyYet(new Error("Connection error: connect ECONNREFUSED 127.0.0.1:9092")));
  ok(!topicNotReadyYet(undefined));
});

Deno.test("topicHasLeaders: every partition has a leader, and there is at least one", () => {
  ok(topicHasLeaders([{ leader: 1 }, { leader: 2 }, { leader: 1 }]));
  ok(!topicHasLeaders([{ leader: 1 }, { leader: -1 }]));
  ok(!topicHasLeaders([]));
});
