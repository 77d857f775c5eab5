import { deepStrictEqual as assertEquals, equal, throws } from "node:assert/strict";
import {
  answerBody,
  correlationIdOf,
  frameRequest,
  KafkaFramingError,
  type KafkaProtocolError,
  metadataRequest,
  parseInitProducerId,
  parseMetadata,
  parseProduce,
  parseSaslAuthenticate,
  parseSaslHandshake,
  WireReader,
  WireWriter,
} from "./wire.ts";

Deno.test("WireWriter and WireReader: integers, varints, strings, bytes and tagged fields round-trip", () => {
  const bytes = new WireWriter().int8(-2).int16(-300).int32(70_000).int64(-5n).bool(true)
    .uvarint(0).uvarint(127).uvarint(128).uvarint(2 ** 31 - 1).string("héllo").string(null)
    .compactString("ü").compactString(null).compactBytes(new Uint8Array([1, 2])).tags().bytes();
  const r = new WireReader(bytes);
  assertEquals(
    [r.int8(), r.int16(), r.int32(), r.int64(), r.bool(), r.uvarint(), r.uvarint(), r.uvarint()],
    [-2, -300, 70_000, -5n, true, 0, 127, 128],
  );
  equal(r.uvarint(), 2 ** 31 - 1);
  assertEquals([r.string(), r.string(), r.compactString(), r.compactString()], [
    "héllo",
    null,
    "ü",
    null,
  ]);
  assertEquals([...r.compactBytes()], [1, 2]);
  r.tags();
  equal(r.position, bytes.length);
  throws(() => r.int8(), KafkaFramingError);
});

Deno.test("WireReader: tagged fields are skipped, a varint over 5 bytes is a framing error", () => {
  // Two tagged fields (tag 0 of 2 bytes, tag 5 of 0 bytes), then an int16.
  const r = new WireReader(new Uint8Array([2, 0, 2, 9, 9, 5, 0, 0, 7]));
  r.tags();
  equal(r.int16(), 7);
  throws(() => new WireReader(new Uint8Array(6).fill(0xff)).uvarint(), /longer than 5 bytes/);
});

Deno.test("frameRequest: size, header v2 (flexible) or v1, then the body's parts", () => {
  const frame = frameRequest(3, 12, 77, "ab", { flexible: true }, [
    new Uint8Array([1]),
    new Uint8Array([2, 3]),
  ]);
  const r = new WireReader(frame);
  equal(r.int32(), frame.length - 4);
  assertEquals([r.int16(), r.int16(), r.int32(), r.string()], [3, 12, 77, "ab"]);
  r.tags();
  assertEquals([r.int8(), r.int8(), r.int8()], [1, 2, 3]);
  const classic = frameRequest(17, 1, 1, "ab", { flexible: false }, [new Uint8Array([9])]);
  equal(classic.length, 4 + 2 + 2 + 4 + 4 + 1);
  // An answer's header: the correlation id, then tagged fields when flexible.
  const answer = new Uint8Array([0, 0, 0, 77, 0, 42]);
  equal(correlationIdOf(answer), 77);
  equal(answerBody(answer, { flexible: true }).int8(), 42);
  equal(answerBody(answer, { flexible: false }).int16(), 42);
});

/** A Metadata v12 answer: two brokers, topic "t" of two partitions, and a topic in error. */
function metadataAnswer(): Uint8Array {
  const w = new WireWriter().int32(0).uvarint(3);
  for (const [id, port] of [[1, 9092], [2, 9093]]) {
    w.int32(id).compactString("127.0.0.1").int32(port).compactString(null).tags();
  }
  w.compactString("cluster").int32(1).uvarint(3);
  w.int16(0).compactString("t").raw(new Uint8Array(16)).bool(false).uvarint(3);
  for (const [index, leader] of [[1, 2], [0, 1]]) {
    w.int16(0).int32(index).int32(leader).int32(0);
    w.uvarint(2).int32(leader).uvarint(2).int32(leader).uvarint(1).tags();
  }
  w.int32(0).tags();
  w.int16(17).compactString("..").raw(new Uint8Array(16)).bool(false).uvarint(1).int32(0).tags();
  return w.tags().bytes();
}

Deno.test("parseMetadata: brokers, and partitions by index whatever their order in the answer", () => {
  const answer = parseMetadata(new WireReader(metadataAnswer()));
  assertEquals(answer.brokers, [
    { nodeId: 1, host: "127.0.0.1", port: 9092 },
    { nodeId: 2, host: "127.0.0.1", port: 9093 },
  ]);
  assertEquals(answer.topics, [
    {
      name: "t",
      errorCode: 0,
      partitions: [{ errorCode: 0, leader: 1 }, { errorCode: 0, leader: 2 }],
    },
    { name: "..", errorCode: 17, partitions: [] },
  ]);
  // The request: one topic by name (a null topic id), auto-creation asked for.
  const request = new WireReader(metadataRequest(["t"], true));
  equal(request.uvarint(), 2);
  request.skip(16);
  equal(request.compactString(), "t");
  request.tags();
  assertEquals([request.bool(), request.bool()], [true, false]);
});

Deno.test("parseMetadata: a truncated answer is a framing error, not a wrong layout", () => {
  const whole = metadataAnswer();
  for (const cut of [3, 20, whole.length - 1]) {
    throws(() => parseMetadata(new WireReader(whole.subarray(0, cut))), KafkaFramingError);
  }
});

Deno.test("parseProduce: per partition, its error code and the broker's words", () => {
  const w = new WireWriter().uvarint(2).compactString("t").uvarint(3);
  for (const [index, code, message] of [[0, 0, null], [1, 10, "too large"]] as const) {
    w.int32(index).int16(code).int64(-1n).int64(-1n).int64(0n);
    w.uvarint(2).int32(0).compactString("bad record").tags();
    w.compactString(message).tags();
  }
  w.tags().int32(0).tags();
  assertEquals(parseProduce(new WireReader(w.bytes())), {
    responses: [{
      name: "t",
      partitionResponses: [
        { index: 0, errorCode: 0, errorMessage: null },
        { index: 1, errorCode: 10, errorMessage: "too large" },
      ],
    }],
  });
});

Deno.test("InitProducerId and SASL answers: values, or Kafka's error by name", () => {
  const ok = new WireWriter().int32(0).int16(0).int64(4242n).int16(3).tags().bytes();
  assertEquals(parseInitProducerId(new WireReader(ok)), { producerId: 4242n, producerEpoch: 3 });
  const refused = new WireWriter().int32(0).int16(53).int64(-1n).int16(-1).tags().bytes();
  throws(() => parseInitProducerId(new WireReader(refused)), (e: KafkaProtocolError) => {
    equal(e.apiId, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED");
    return true;
  });
  const unsupported = new WireWriter().int16(33).int32(1).string("PLAIN").bytes();
  throws(
    () => parseSaslHandshake(new WireReader(unsupported), "SCRAM-SHA-512"),
    /SASL handshake: The broker does not support the requested SASL mechanism\. It takes PLAIN, not SCRAM-SHA-512\./,
  );
  const failed = new WireWriter().int16(58).compactString(
    "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512",
  ).compactBytes(new Uint8Array(0)).int64(0n).tags().bytes();
  throws(
    () => parseSaslAuthenticate(new WireReader(failed)),
    /^KafkaProtocolError: SASL authentication failed: SASL Authentication failed\. \(broker: Authentication failed during/,
  );
});
