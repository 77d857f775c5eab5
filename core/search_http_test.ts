import { deepEqual, equal } from "node:assert/strict";
import { authorizationHeader, searchAuth, searchHttp } from "./search_http.ts";
import { Secret } from "./secret.ts";

Deno.test("searchHttp: base without credentials, basic auth from the URL or the settings", () => {
  const fromUrl = searchHttp("https://elastic:ch%40nge@es:9200/", {});
  equal(fromUrl.base, "https://es:9200");
  equal(fromUrl.headers.authorization, `Basic ${btoa("elastic:ch@nge")}`);
  fromUrl.close();
  const fromSettings = searchHttp("http://127.0.0.1:9200", {
    auth: { kind: "basic", username: "sluice", password: new Secret("pw-5678", "X") },
  });
  equal(fromSettings.headers.authorization, `Basic ${btoa("sluice:pw-5678")}`);
  fromSettings.close();
  deepEqual(searchHttp("http://127.0.0.1:9200", {}).headers, {});
});

Deno.test("an API key is sent as ApiKey; settings win over the URL", () => {
  const apiKey = { kind: "apiKey" as const, apiKey: new Secret("a2V5OnNlY3JldA==", "X") };
  equal(authorizationHeader(apiKey), "ApiKey a2V5OnNlY3JldA==");
  equal(searchAuth("https://u:p@es:9200", { auth: apiKey })?.kind, "apiKey");
  equal(searchAuth("https://es:9200", {}), undefined);
});
