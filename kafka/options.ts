/**
 * Kafka connection settings that do not depend on a client library: the options every client is
 * built from, Node's TLS options for kafkajs, and operator-facing explanations of TLS and SASL
 * failures. The agent loads only this and the producer with its own connections (kafka/cluster.ts);
 * kafkajs (kafka/connection.ts) is loaded by the transfer and tools.
 * @module
 */
import { SluiceError } from "../core/errors.ts";
import { classifySecurityFailure, type KafkaSecurity, type TlsSettings } from "../core/security.ts";

export interface KafkaConnectionOptions {
  brokers: string[];
  clientId: string;
  /** TLS and SASL (default: from the SLUICE_KAFKA_* variables, core/security.ts). */
  security?: KafkaSecurity;
  /** Connection timeout in ms (default 3000). */
  connectionTimeoutMs?: number;
  /** Request timeout in ms (default 30000). */
  requestTimeoutMs?: number;
}

/**
 * Node `tls.connect` options for `tls`, as both Kafka clients take them: the CA and the client
 * certificate when set, and always a verified server certificate. The key is revealed only here.
 */
export function tlsConnectOptions(tls: TlsSettings): {
  ca?: string[];
  cert?: string;
  key?: string;
  rejectUnauthorized: true;
} {
  const { ca, cert, key } = tls;
  return {
    ...(ca ? { ca: [ca] } : {}),
    ...(cert ? { cert, key: key?.reveal() } : {}),
    rejectUnauthorized: true,
  };
}

/**
 * A Kafka error as an operator-facing sentence when it is about TLS or SASL (a wrong CA, a
 * rejected password), naming the variables to check; undefined for any other error.
 *
 * @example
 * ```ts
 * import { explainKafkaSecurityError } from "./options.ts";
 * explainKafkaSecurityError(new Error("SASL SCRAM SHA512 authentication failed"), ["k:9093"]);
 * // "Kafka at k:9093 rejected the SASL credentials (...): check SLUICE_KAFKA_USERNAME ..."
 * ```
 */
export function explainKafkaSecurityError(error: unknown, brokers: string[]): string | undefined {
  // Our own errors (a settings file that cannot be read) already say what to do.
  if (error instanceof SluiceError) return undefined;
  const message = errorChainText(error);
  const failure = classifySecurityFailure(message);
  if (failure === "tls") {
    return `TLS with Kafka at ${brokers.join(",")} failed (${message}): check that ` +
      "SLUICE_KAFKA_TLS_CA(_FILE) holds the CA that signed the broker's certificate and that " +
      "the broker address is a TLS listener";
  }
  if (failure === "auth") {
    return `Kafka at ${brokers.join(",")} rejected the SASL credentials (${message}): check ` +
      "SLUICE_KAFKA_USERNAME, SLUICE_KAFKA_PASSWORD(_FILE) and SLUICE_KAFKA_SASL_MECHANISM";
  }
  return undefined;
}

/**
 * The messages of an error and its causes, joined: kafkajs wraps the error it got in
 * `originalError`, our own connections (kafka/cluster.ts) in `cause` and in the `errors` of an AggregateError.
 */
export function errorChainText(error: unknown): string {
  const parts: string[] = [];
  const visit = (e: unknown, depth: number) => {
    if (!e || depth > 5) return;
    const message = (e as { message?: unknown }).message;
    if (typeof message === "string" && message && !parts.some((p) => p.includes(message))) {
      parts.push(message);
    }
    const inner = e as { cause?: unknown; originalError?: unknown; errors?: unknown };
    visit(inner.cause ?? inner.originalError, depth + 1);
    if (Array.isArray(inner.errors)) { for (const each of inner.errors) visit(each, depth + 1); }
  };
  visit(error, 0);
  return parts.join(": ") || String(error);
}
