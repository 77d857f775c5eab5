import { equal, rejects } from "node:assert/strict";
import { saslExchange } from "./sasl.ts";

const text = (b: Uint8Array | undefined) =>
  b === undefined ? undefined : new TextDecoder().decode(b);
const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("sasl PLAIN: one message, authorization id empty", async () => {
  const exchange = saslExchange("plain", "alice", "s3cret");
  equal(text(exchange.first()), "\u0000alice\u0000s3cret");
  equal(await exchange.next(new Uint8Array(0)), undefined);
});

// RFC 7677, section 3: the SCRAM-SHA-256 exchange of user "user" with password "pencil".
const NONCE = "rOprNGfwEbeRWgbNEkqO";
const SERVER_FIRST = `r=${NONCE}%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`;
const CLIENT_FINAL =
  `c=biws,r=${NONCE}%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=`;
const SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

Deno.test("sasl SCRAM-SHA-256: RFC 7677's exchange, message for message", async () => {
  const exchange = saslExchange("scram-sha-256", "user", "pencil", NONCE);
  equal(text(exchange.first()), `n,,n=user,r=${NONCE}`);
  equal(text(await exchange.next(bytes(SERVER_FIRST))), CLIENT_FINAL);
  equal(await exchange.next(bytes(SERVER_FINAL)), undefined);
});

Deno.test("sasl SCRAM: a wrong server signature, a server error, a foreign nonce are refused", async () => {
  const forged = saslExchange("scram-sha-256", "user", "pencil", NONCE);
  await forged.next(bytes(SERVER_FIRST));
  await rejects(
    forged.next(bytes("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")),
    /authentication failed: the server's signature does not match/,
  );
  const refused = saslExchange("scram-sha-512", "user", "wrong", NONCE);
  await rejects(
    refused.next(bytes("e=invalid-proof")),
    /SASL SCRAM authentication failed: invalid-proof/,
  );
  const foreign = saslExchange("scram-sha-512", "user", "pencil", NONCE);
  await rejects(
    foreign.next(bytes("r=other,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")),
    /unexpected server message/,
  );
});

Deno.test("sasl SCRAM: user names escape '=' and ','; SHA-512 proofs are 64 bytes", async () => {
  const exchange = saslExchange("scram-sha-512", "a=b,c", "pencil", NONCE);
  equal(text(exchange.first()), `n,,n=a=3Db=2Cc,r=${NONCE}`);
  const final = text(await exchange.next(bytes(SERVER_FIRST)))!;
  equal(atob(final.split(",p=")[1]).length, 64);
});
