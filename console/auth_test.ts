import { deepStrictEqual as assertEquals, equal, ok as assert, throws } from "node:assert/strict";
import { authorize, bindRefusal, isLoopback, parseBasicAuth, TOKEN_COOKIE } from "./auth.ts";

const url = new URL("http://console.example/config");

Deno.test("loopback addresses are recognized, others are not", () => {
  for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"]) assert(isLoopback(h), h);
  for (const h of ["0.0.0.0", "::", "10.0.0.5", "example.com", "128.0.0.1"]) {
    assert(!isLoopback(h), h);
  }
});

Deno.test("binding beyond loopback is refused without a token or basic auth", () => {
  equal(bindRefusal("127.0.0.1", {}), undefined);
  const refusal = bindRefusal("0.0.0.0", {});
  assert(refusal?.includes("--token") && refusal.includes("--basic-auth"), refusal);
  equal(bindRefusal("0.0.0.0", { token: "t" }), undefined);
  equal(bindRefusal("10.0.0.5", { basic: { user: "ann", password: "pw" } }), undefined);
});

Deno.test("basic auth option: USER:PASSWORD, the password may hold colons", () => {
  assertEquals(parseBasicAuth("ann:pa:ss"), { user: "ann", password: "pa:ss" });
  equal(parseBasicAuth(""), undefined);
  throws(() => parseBasicAuth("ann"), /USER:PASSWORD/);
  throws(() => parseBasicAuth(":pw"), /USER:PASSWORD/);
  throws(() => parseBasicAuth("ann:"), /USER:PASSWORD/);
});

Deno.test("no access control configured: every request passes", () => {
  assertEquals(authorize(new Headers(), url, {}), { ok: true });
});

Deno.test("basic auth: right credentials give the user, wrong ones a 401 with a challenge", () => {
  const basic = { user: "ann", password: "s3cret" };
  const good = new Headers({ authorization: `Basic ${btoa("ann:s3cret")}` });
  assertEquals(authorize(good, url, { basic }), { ok: true, user: "ann" });
  for (
    const header of [`Basic ${btoa("ann:wrong")}`, `Basic ${btoa("bob:s3cret")}`, "Basic !!!", ""]
  ) {
    const r = authorize(new Headers({ authorization: header }), url, { basic });
    assert(!r.ok, header);
    if (!r.ok) assert(r.challenge?.startsWith("Basic realm="));
  }
});

Deno.test("token: bearer header, cookie, or ?token= (which sets the cookie)", () => {
  const auth = { token: "tok-123" };
  assert(authorize(new Headers({ authorization: "Bearer tok-123" }), url, auth).ok);
  assert(authorize(new Headers({ cookie: `a=1; ${TOKEN_COOKIE}=tok-123` }), url, auth).ok);
  const viaQuery = authorize(new Headers(), new URL("http://h/config?token=tok-123"), auth);
  assert(viaQuery.ok && viaQuery.setCookie?.startsWith(`${TOKEN_COOKIE}=tok-123;`));
  assert(viaQuery.ok && viaQuery.setCookie?.includes("HttpOnly"));
  const wrong = authorize(new Headers({ authorization: "Bearer tok-12" }), url, auth);
  assert(!wrong.ok && wrong.status === 401 && wrong.challenge === undefined);
  assert(!authorize(new Headers({ cookie: `${TOKEN_COOKIE}=nope` }), url, auth).ok);
  assert(!authorize(new Headers(), new URL("http://h/?token="), auth).ok);
});

Deno.test("token and basic auth together: either one lets a request in", () => {
  const auth = { token: "t", basic: { user: "ann", password: "pw" } };
  assert(authorize(new Headers({ authorization: "Bearer t" }), url, auth).ok);
  const r = authorize(new Headers({ authorization: `Basic ${btoa("ann:pw")}` }), url, auth);
  assertEquals(r, { ok: true, user: "ann" });
});
