/**
 * One connection to one Kafka broker: TCP or TLS (Deno's own sockets), SASL when configured,
 * then requests written in call order and answers matched to them by correlation id (a broker
 * answers a connection's requests in the order it got them). A failure of the socket, an answer
 * out of step or a request unanswered within its timeout closes the connection and fails every
 * request on it with a `KafkaNetworkError`: kafka/send_failure.ts classifies that as
 * `unreachable`, and kafka/cluster.ts opens a fresh connection on next use.
 * @module
 */

import type { SaslMechanism, TlsSettings } from "../core/security.ts";
import { KAFKA_MECHANISM, saslExchange } from "./sasl.ts";
import {
  answerBody,
  ApiKey,
  correlationIdOf,
  frameRequest,
  type HeaderShape,
  KafkaFramingError,
  parseSaslAuthenticate,
  parseSaslHandshake,
  SASL_AUTHENTICATE_VERSION,
  SASL_HANDSHAKE_VERSION,
  saslAuthenticateRequest,
  saslHandshakeRequest,
  type WireReader,
} from "./wire.ts";

/** The largest answer taken (a broker's answers to a producer are small). */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;
/** The read buffer a connection keeps between answers. */
const READ_BUFFER_BYTES = 64 * 1024;

/** The socket failed, an answer was out of step, or a request timed out. */
export class KafkaNetworkError extends Error {
  readonly code = "NETWORK";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "KafkaNetworkError";
  }
}

export interface BrokerConnectionOptions {
  host: string;
  port: number;
  clientId: string;
  tls?: TlsSettings;
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
  connectTimeoutMs: number;
  requestTimeoutMs: number;
}

interface Waiting {
  correlationId: number;
  shape: HeaderShape;
  resolve: (answer: WireReader) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

const FLEXIBLE: HeaderShape = { flexible: true };
const CLASSIC: HeaderShape = { flexible: false };

/**
 * A connection, open and authenticated once `open` resolves.
 *
 * @example
 * ```ts ignore
 * const c = await BrokerConnection.open({ host: "127.0.0.1", port: 9092, clientId: "a",
 *   connectTimeoutMs: 3000, requestTimeoutMs: 30000 });
 * const answer = await c.send(ApiKey.metadata, METADATA_VERSION, [metadataRequest(["t"], true)]);
 * parseMetadata(answer).brokers;
 * c.close();
 * ```
 */
export class BrokerConnection {
  readonly address: string;
  readonly #conn: Deno.Conn;
  readonly #options: BrokerConnectionOptions;
  readonly #waiting: Waiting[] = [];
  #nextCorrelationId = 1;
  #writing: Promise<void> = Promise.resolve();
  #failure: KafkaNetworkError | undefined;

  private constructor(conn: Deno.Conn, options: BrokerConnectionOptions) {
    this.#conn = conn;
    this.#options = options;
    this.address = `${options.host}:${options.port}`;
    this.#readLoop();
  }

  /** Connects (within `connectTimeoutMs`), and authenticates when `sasl` is set. */
  static async open(options: BrokerConnectionOptions): Promise<BrokerConnection> {
    const address = `${options.host}:${options.port}`;
    let conn: Deno.Conn;
    try {
      conn = await connectWithin(options);
    } catch (error) {
      throw new KafkaNetworkError(`Connection to ${address} failed: ${messageOf(error)}`, {
        cause: error,
      });
    }
    const connection = new BrokerConnection(conn, options);
    if (options.sasl) {
      try {
        await connection.#authenticate(options.sasl);
      } catch (error) {
        connection.close();
        throw error;
      }
    }
    return connection;
  }

  /** Whether the connection failed or was closed: it takes no more requests. */
  get closed(): boolean {
    return this.#failure !== undefined;
  }

  /**
   * Sends a request (its body as parts, framed here) and resolves with the reader of its answer's
   * body. `flexible` selects the header versions of flexible API versions (the default).
   */
  send(
    apiKey: number,
    version: number,
    body: readonly Uint8Array[],
    flexible = true,
  ): Promise<WireReader> {
    if (this.#failure) return Promise.reject(this.#failure);
    const correlationId = this.#nextCorrelationId;
    this.#nextCorrelationId = (this.#nextCorrelationId + 1) & 0x7fffffff;
    const shape = flexible ? FLEXIBLE : CLASSIC;
    const frame = frameRequest(apiKey, version, correlationId, this.#options.clientId, shape, body);
    return new Promise<WireReader>((resolve, reject) => {
      const timeoutMs = this.#options.requestTimeoutMs;
      const timer = setTimeout(() => {
        this.#fail(
          new KafkaNetworkError(
            `Request (API ${apiKey}) to ${this.address} was not answered within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.#waiting.push({ correlationId, shape, resolve, reject, timer });
      this.#writing = this.#writing.then(() => this.#writeAll(frame)).catch((error) =>
        this.#fail(
          new KafkaNetworkError(`Writing to ${this.address} failed: ${messageOf(error)}`, {
            cause: error,
          }),
        )
      );
    });
  }

  /** Closes the socket; requests still waiting fail. */
  close(): void {
    this.#fail(new KafkaNetworkError(`Connection to ${this.address} closed`));
  }

  async #writeAll(frame: Uint8Array): Promise<void> {
    if (this.#failure) return;
    for (let at = 0; at < frame.length;) at += await this.#conn.write(frame.subarray(at));
  }

  #fail(error: KafkaNetworkError): void {
    if (this.#failure) return;
    this.#failure = error;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    for (const w of this.#waiting.splice(0)) {
      clearTimeout(w.timer);
      w.reject(error);
    }
  }

  async #readLoop(): Promise<void> {
    let buf = new Uint8Array(READ_BUFFER_BYTES);
    let length = 0;
    try {
      for (;;) {
        const n = await this.#conn.read(buf.subarray(length));
        if (n === null) throw new Error("the broker closed the connection");
        length += n;
        let at = 0;
        while (length - at >= 4) {
          const size = new DataView(buf.buffer, at, 4).getInt32(0);
          if (size < 4 || size > MAX_ANSWER_BYTES) {
            throw new KafkaFramingError(`an answer of ${size} bytes`);
          }
          if (length - at - 4 < size) break;
          this.#deliver(buf.slice(at + 4, at + 4 + size));
          at += 4 + size;
        }
        if (at > 0) {
          buf.copyWithin(0, at, length);
          length -= at;
        }
        const wanted = length >= 4 ? 4 + new DataView(buf.buffer, 0, 4).getInt32(0) : 0;
        if (wanted > buf.length) {
          const grown = new Uint8Array(wanted);
          grown.set(buf.subarray(0, length));
          buf = grown;
        } else if (length === 0 && buf.length > READ_BUFFER_BYTES) {
          buf = new Uint8Array(READ_BUFFER_BYTES);
        }
      }
    } catch (error) {
      if (this.#failure) return;
      this.#fail(
        new KafkaNetworkError(`Connection to ${this.address} failed: ${messageOf(error)}`, {
          cause: error,
        }),
      );
    }
  }

  #deliver(frame: Uint8Array): void {
    const waiting = this.#waiting.shift();
    const correlationId = correlationIdOf(frame);
    if (!waiting || waiting.correlationId !== correlationId) {
      if (waiting) this.#waiting.unshift(waiting);
      throw new KafkaFramingError(
        `an answer to request ${correlationId}, expected ${waiting?.correlationId ?? "none"}`,
      );
    }
    clearTimeout(waiting.timer);
    try {
      waiting.resolve(answerBody(frame, waiting.shape));
    } catch (error) {
      waiting.reject(error as Error);
    }
  }

  async #authenticate(sasl: NonNullable<BrokerConnectionOptions["sasl"]>): Promise<void> {
    const mechanism = KAFKA_MECHANISM[sasl.mechanism];
    parseSaslHandshake(
      await this.send(
        ApiKey.saslHandshake,
        SASL_HANDSHAKE_VERSION,
        [saslHandshakeRequest(mechanism)],
        false,
      ),
      mechanism,
    );
    const exchange = saslExchange(sasl.mechanism, sasl.username, sasl.password);
    let message: Uint8Array | undefined = exchange.first();
    while (message) {
      const answer = await this.send(ApiKey.saslAuthenticate, SASL_AUTHENTICATE_VERSION, [
        saslAuthenticateRequest(message),
      ]);
      message = await exchange.next(parseSaslAuthenticate(answer));
    }
  }
}

/** A TCP or TLS connection, or an error once `connectTimeoutMs` passed. */
async function connectWithin(options: BrokerConnectionOptions): Promise<Deno.Conn> {
  const { host: hostname, port, tls, connectTimeoutMs } = options;
  if (!tls) {
    return await Deno.connect({ hostname, port, signal: AbortSignal.timeout(connectTimeoutMs) });
  }
  const connecting = Deno.connectTls({
    hostname,
    port,
    ...(tls.ca ? { caCerts: [tls.ca] } : {}),
    ...(tls.cert && tls.key ? { cert: tls.cert, key: tls.key.reveal() } : {}),
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no TLS connection within ${connectTimeoutMs} ms`)),
      connectTimeoutMs,
    );
  });
  try {
    const conn = await Promise.race([connecting, timeout]);
    // The handshake happens on first use: do it now, so a wrong certificate fails here.
    await Promise.race([conn.handshake(), timeout]);
    return conn;
  } catch (error) {
    connecting.then((late) => late.close(), () => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
