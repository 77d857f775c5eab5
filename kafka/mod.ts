/**
 * The only door to Kafka in sluice: the agent's log producer (its own record batches, see
 * docs/decisions/0003-own-record-batches.md), the transfer's group consumer, topic creation and
 * the offset look-ups of the tools. Nothing outside kafka/ imports a Kafka client library.
 *
 * @example Send two lines and close
 * ```ts ignore
 * import { createLogProducer } from "./mod.ts";
 * const producer = createLogProducer({ brokers: ["127.0.0.1:9092"] });
 * await producer.send("logs", [{ key: "web-1/2049-17", value: "line one" }, { key: "web-1/2049-17", value: "line two" }]);
 * await producer.close();
 * ```
 * @module
 */
export {
  type Compression,
  createLogProducer,
  type LogProducer,
  type LogProducerOptions,
  type ProducerRecord,
  SUPPORTED_COMPRESSION,
} from "./producer.ts";
export {
  committedOffsets,
  type ConsumedRecord,
  createGroupConsumer,
  type GroupConsumer,
  type GroupConsumerOptions,
  offsetsForTime,
  partitionBounds,
  type RecordBatch,
} from "./consumer.ts";
export { createKafka, ensureTopic, type KafkaConnectionOptions } from "./connection.ts";
