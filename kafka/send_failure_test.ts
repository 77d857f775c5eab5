import { deepStrictEqual as assertEquals, equal, match } from "node:assert/strict";
import {
  MultipleErrors,
  NetworkError,
  ProtocolError,
  ResponseError,
  TimeoutError,
  UserError,
} from "@platformatic/kafka";
import {
  classifySendError,
  decideSendFailure,
  kindOfErrorName,
  type SendAction,
  type SendFailureKind,
} from "./send_failure.ts";

// Answers captured from the local Kafka 4 broker (see docs/decisions/0006-kafka-output-per-topic.md):
// Metadata v12 for the topic "..", with auto-creation asked for...
const METADATA_API = 3;
const invalidTopic = new ResponseError(METADATA_API, 12, { "/topics/0": [17, null] }, {
  topics: [{ name: "..", errorCode: 17, partitions: [] }],
});
// ...and Produce v9 of a 5,363-byte record to a topic with max.message.bytes=2048.
const PRODUCE_API = 0;
const tooLargeAnswer = {
  responses: [{
    name: "iso-tiny",
    partitionResponses: [{
      index: 0,
      errorCode: 10,
      baseOffset: -1n,
      logAppendTimeMs: -1n,
      logStartOffset: -1n,
      recordErrors: [],
      errorMessage: null,
    }],
  }],
  throttleTimeMs: 0,
};
const tooLarge = new ResponseError(
  PRODUCE_API,
  9,
  { "/responses/0/partition_responses/0": [10, null] },
  tooLargeAnswer,
);

Deno.test("classifySendError: a Metadata answer refusing the topic's name is a refused topic", () => {
  const c = classifySendError(invalidTopic);
  assertEquals([c.kind, c.code], ["topic_refused", "INVALID_TOPIC_EXCEPTION"]);
  match(c.message, /invalid topic/);
  // The same answer after the client's own retries, wrapped in their MultipleErrors.
  const retried = new MultipleErrors("metadata failed 4 times.", [invalidTopic, invalidTopic]);
  equal(classifySendError(retried).code, "INVALID_TOPIC_EXCEPTION");
});

Deno.test("classifySendError: a topic the broker does not create (collision, auto-create off) is refused", () => {
  // What the client makes of UNKNOWN_TOPIC_OR_PARTITION still there after its retries: measured
  // for `a_b` while `a.b` exists, which Kafka's auto-creation refuses without saying so.
  const c = classifySendError(new UserError("Unknown topic iso-x_a."));
  assertEquals([c.kind, c.code], ["topic_refused", "UNKNOWN_TOPIC_OR_PARTITION"]);
  match(c.message, /Unknown topic iso-x_a\. It does not exist and was not created/);
  // Other user errors of the client are not about the topic.
  equal(classifySendError(new UserError("Client is closed.")).kind, "unreachable");
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
  const refused = new NetworkError("Connection to 127.0.0.1:1 failed.", {
    cause: new Error("connect ECONNREFUSED 127.0.0.1:1"),
  });
  const c = classifySendError(refused);
  assertEquals([c.kind, c.code], ["unreachable", "PLT_KFK_NETWORK"]);
  match(c.message, /Connection to 127\.0\.0\.1:1 failed\.: connect ECONNREFUSED/);
  equal(classifySendError(new TimeoutError("Request timed out")).kind, "unreachable");
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
  const mixed = new MultipleErrors("several", [
    new ProtocolError(6),
    new ProtocolError(45),
    new ProtocolError(29),
  ]);
  equal(classifySendError(mixed).code, "TOPIC_AUTHORIZATION_FAILED");
  const withRecord = new MultipleErrors("several", [new ProtocolError(29), new ProtocolError(10)]);
  equal(classifySendError(withRecord).code, "MESSAGE_TOO_LARGE");
  equal(
    classifySendError(new MultipleErrors("x", [new ProtocolError(45), new ProtocolError(6)])).kind,
    "unreachable",
  );
});

Deno.test("classifySendError: the broker's own words are kept", () => {
  const c = classifySendError(new ProtocolError(29, "Not authorized to access topics: [logs]"));
  match(c.message, /broker: Not authorized to access topics: \[logs\]/);
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
