import { deepStrictEqual as assertEquals, equal, match } from "node:assert/strict";
import { KafkaNetworkError } from "./broker_connection.ts";
import {
  classifySendError,
  decideSendFailure,
  kindOfErrorName,
  type SendAction,
  type SendFailureKind,
} from "./send_failure.ts";
import { KafkaProtocolError } from "./wire.ts";

/** A partition's or a topic's error code, as kafka/cluster.ts and kafka/producer.ts throw them. */
const ProtocolError = KafkaProtocolError;
/** Several failed attempts or brokers, as kafka/cluster.ts throws them. */
const several = (message: string, errors: unknown[]) => new AggregateError(errors, message);

// What the local Kafka 4 broker answers (see docs/decisions/0006-kafka-output-per-topic.md):
// Metadata v12 for the topic "..", with auto-creation asked for, is INVALID_TOPIC_EXCEPTION...
const invalidTopic = new KafkaProtocolError(17, null, "Metadata of topic ..: ");
// ...and Produce v9 of a 5,363-byte record to a topic with max.message.bytes=2048 is
// MESSAGE_TOO_LARGE for its partition.
const tooLarge = new KafkaProtocolError(10, null);

Deno.test("classifySendError: a Metadata answer refusing the topic's name is a refused topic", () => {
  const c = classifySendError(invalidTopic);
  assertEquals([c.kind, c.code], ["topic_refused", "INVALID_TOPIC_EXCEPTION"]);
  match(
    c.message,
    /Metadata of topic \.\.: The request attempted to perform an operation on an invalid topic\./,
  );
  // The same answer from every broker tried, wrapped in an AggregateError.
  equal(
    classifySendError(several("no broker", [invalidTopic, invalidTopic])).code,
    "INVALID_TOPIC_EXCEPTION",
  );
});

Deno.test("classifySendError: a topic the broker does not create (collision, auto-create off) is refused", () => {
  // What the cluster makes of UNKNOWN_TOPIC_OR_PARTITION still there after its retries: measured
  // for `a_b` while `a.b` exists, which Kafka's auto-creation refuses without saying so.
  const c = classifySendError(
    new KafkaProtocolError(
      3,
      null,
      "Metadata of topic iso-x_a: ",
      " It does not exist and was not created.",
    ),
  );
  assertEquals([c.kind, c.code], ["topic_refused", "UNKNOWN_TOPIC_OR_PARTITION"]);
  match(
    c.message,
    /iso-x_a: This server does not host this topic-partition\. It does not exist and was not created\./,
  );
  // A closed client is not about the topic.
  equal(classifySendError(new KafkaNetworkError("the Kafka client is closed")).kind, "unreachable");
});

Deno.test("classifySendError: permissions, codecs and timestamps refuse the topic", () => {
  for (const code of [29, 31, 3, 76, 32, 44, 43]) {
    equal(classifySendError(new ProtocolError(code)).kind, "topic_refused", `code ${code}`);
  }
});

Deno.test("classifySendError: records too large or invalid are refused records", () => {
  const c = classifySendError(tooLarge);
  assertEquals([c.kind, c.code], ["record_refused", "MESSAGE_TOO_LARGE"]);
  for (const code of [10, 18, 87]) {
    equal(classifySendError(new ProtocolError(code)).kind, "record_refused", `code ${code}`);
  }
});

Deno.test("classifySendError: a broker down, a timeout, a moving leader are connection trouble", () => {
  // As kafka/broker_connection.ts makes it: the cause's words in the message, and as its cause.
  const cause = new Error("Connection refused (os error 111)");
  const refused = new KafkaNetworkError(`Connection to 127.0.0.1:1 failed: ${cause.message}`, {
    cause,
  });
  const c = classifySendError(several("No Kafka broker answered", [refused]));
  assertEquals([c.kind, c.code], ["unreachable", "NETWORK"]);
  // The cause is not repeated.
  equal(c.message, "Connection to 127.0.0.1:1 failed: Connection refused (os error 111)");
  // A cause that says more is kept.
  const wrapped = new Error("send failed", { cause: new Error("EPIPE") });
  equal(classifySendError(wrapped).message, "send failed: EPIPE");
  const timedOut = new KafkaNetworkError(
    "Request (API 0) to k:9092 was not answered within 30000 ms",
  );
  equal(classifySendError(timedOut).kind, "unreachable");
  for (const code of [5, 6, 7, 8, 13, 19, 20, 56, 2, -1]) {
    equal(classifySendError(new ProtocolError(code)).kind, "unreachable", `code ${code}`);
  }
  equal(classifySendError(new Error("anything else")).kind, "unreachable");
  equal(classifySendError("a string").kind, "unreachable");
  equal(classifySendError(undefined).kind, "unreachable");
});

Deno.test("classifySendError: an idempotent producer out of step", () => {
  for (const code of [45, 46, 47, 49, 59, 90]) {
    equal(classifySendError(new ProtocolError(code)).kind, "out_of_sequence", `code ${code}`);
  }
});

Deno.test("classifySendError: of several codes, the record refusal, then the topic refusal wins", () => {
  const mixed = several("several", [
    new ProtocolError(6),
    new ProtocolError(45),
    new ProtocolError(29),
  ]);
  equal(classifySendError(mixed).code, "TOPIC_AUTHORIZATION_FAILED");
  const withRecord = several("several", [new ProtocolError(29), new ProtocolError(10)]);
  equal(classifySendError(withRecord).code, "MESSAGE_TOO_LARGE");
  equal(
    classifySendError(several("x", [new ProtocolError(45), new ProtocolError(6)])).kind,
    "unreachable",
  );
});

Deno.test("classifySendError: the broker's own words are kept", () => {
  const c = classifySendError(new ProtocolError(29, "Not authorized to access topics: [logs]"));
  match(
    c.message,
    /Topic authorization failed\. \(broker: Not authorized to access topics: \[logs\]\)$/,
  );
});

Deno.test("kindOfErrorName", () => {
  equal(kindOfErrorName("MESSAGE_TOO_LARGE"), "record_refused");
  equal(kindOfErrorName("INVALID_TOPIC_EXCEPTION"), "topic_refused");
  equal(kindOfErrorName("NOT_LEADER_OR_FOLLOWER"), "unreachable");
});

Deno.test("decideSendFailure: every kind and batch size", () => {
  const cases: [SendFailureKind, number, boolean, SendAction][] = [
    ["unreachable", 10, true, "retry"],
    ["unreachable", 0, false, "retry"],
    ["out_of_sequence", 10, true, "retry"],
    ["topic_refused", 10, true, "refuse_topic"],
    ["topic_refused", 1, true, "refuse_topic"],
    ["record_refused", 2, true, "split"],
    ["record_refused", 2, false, "split"],
    ["record_refused", 1, true, "dead_letter"],
    // Nowhere to put it: it holds its topic, which is reported refused; never dropped.
    ["record_refused", 1, false, "refuse_topic"],
    ["record_refused", 0, true, "refuse_topic"],
  ];
  for (const [kind, records, deadLetter, action] of cases) {
    equal(
      decideSendFailure(kind, { records, deadLetter }),
      action,
      `${kind} ${records} ${deadLetter}`,
    );
  }
});
