/**
 * The client's side of Kafka's SASL mechanisms: PLAIN (RFC 4616) and SCRAM-SHA-256/512
 * (RFC 5802, RFC 7677), as the messages a connection sends and checks. Pure apart from WebCrypto;
 * kafka/broker_connection.ts carries the messages in SaslAuthenticate requests.
 * @module
 */

import type { SaslMechanism } from "../core/security.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Kafka's names of the mechanisms. */
export const KAFKA_MECHANISM: Readonly<Record<SaslMechanism, string>> = {
  "plain": "PLAIN",
  "scram-sha-256": "SCRAM-SHA-256",
  "scram-sha-512": "SCRAM-SHA-512",
};

/** A SASL exchange: the first message, then one answer per server message until done. */
export interface SaslExchange {
  first(): Uint8Array;
  /** The next message for the server's `challenge`; undefined when the exchange is over. */
  next(challenge: Uint8Array): Promise<Uint8Array | undefined>;
}

/**
 * The exchange of `mechanism` for `username` and `password`.
 *
 * @example
 * ```ts
 * import { saslExchange } from "./sasl.ts";
 * new TextDecoder().decode(saslExchange("plain", "u", "p").first()); // "\0u\0p"
 * ```
 */
export function saslExchange(
  mechanism: SaslMechanism,
  username: string,
  password: string,
  nonce: string = randomNonce(),
): SaslExchange {
  if (mechanism === "plain") {
    return {
      first: () => encoder.encode(`\u0000${username}\u0000${password}`),
      next: () => Promise.resolve(undefined),
    };
  }
  return new ScramExchange(mechanism === "scram-sha-256" ? "SHA-256" : "SHA-512", {
    username,
    password,
    nonce,
  });
}

function randomNonce(): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(24)));
}

/** RFC 5802's `saslname`: '=' and ',' escaped. */
function saslName(name: string): string {
  return name.replaceAll("=", "=3D").replaceAll(",", "=2C");
}

class ScramExchange implements SaslExchange {
  readonly #clientFirstBare: string;
  #step = 0;
  #serverSignature: Uint8Array | undefined;

  constructor(
    readonly hash: "SHA-256" | "SHA-512",
    readonly credentials: { username: string; password: string; nonce: string },
  ) {
    this.#clientFirstBare = `n=${saslName(credentials.username)},r=${credentials.nonce}`;
  }

  first(): Uint8Array {
    return encoder.encode(`n,,${this.#clientFirstBare}`);
  }

  async next(challenge: Uint8Array): Promise<Uint8Array | undefined> {
    const message = decoder.decode(challenge);
    const fields = parseFields(message);
    if (fields.e) throw new Error(`SASL SCRAM authentication failed: ${fields.e}`);
    if (this.#step++ === 0) return encoder.encode(await this.#final(message, fields));
    const verifier = fields.v ? fromBase64(fields.v) : undefined;
    if (!verifier || !equalBytes(verifier, this.#serverSignature!)) {
      throw new Error("SASL SCRAM authentication failed: the server's signature does not match");
    }
    return undefined;
  }

  /** The client-final message for the server-first `message`. */
  async #final(message: string, fields: Record<string, string>): Promise<string> {
    const { r: nonce, s: salt, i: iterations } = fields;
    if (!nonce?.startsWith(this.credentials.nonce) || !salt || !(Number(iterations) > 0)) {
      throw new Error(`SASL SCRAM authentication failed: unexpected server message "${message}"`);
    }
    const bits = this.hash === "SHA-256" ? 256 : 512;
    const passwordKey = await crypto.subtle.importKey(
      "raw",
      encoder.encode(this.credentials.password.normalize("NFKC")),
      "PBKDF2",
      false,
      ["deriveBits"],
    );
    const salted = new Uint8Array(
      await crypto.subtle.deriveBits(
        { name: "PBKDF2", hash: this.hash, salt: fromBase64(salt), iterations: Number(iterations) },
        passwordKey,
        bits,
      ),
    );
    const clientKey = await this.#hmac(salted, "Client Key");
    const storedKey = new Uint8Array(await crypto.subtle.digest(this.hash, clientKey));
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.#clientFirstBare},${message},${withoutProof}`;
    const signature = await this.#hmac(storedKey, authMessage);
    const proof = clientKey.map((b, k) => b ^ signature[k]);
    this.#serverSignature = await this.#hmac(await this.#hmac(salted, "Server Key"), authMessage);
    return `${withoutProof},p=${toBase64(proof)}`;
  }

  async #hmac(key: Uint8Array<ArrayBuffer>, text: string): Promise<Uint8Array<ArrayBuffer>> {
    const k = await crypto.subtle.importKey(
      "raw",
      key,
      { name: "HMAC", hash: this.hash },
      false,
      ["sign"],
    );
    return new Uint8Array(await crypto.subtle.sign("HMAC", k, encoder.encode(text)));
  }
}

/** `a=1,b=2` as `{ a: "1", b: "2" }` (values may hold '='). */
function parseFields(message: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of message.split(",")) {
    const at = part.indexOf("=");
    if (at > 0) out[part.slice(0, at)] = part.slice(at + 1);
  }
  return out;
}

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, k) => x === b[k]);
}
