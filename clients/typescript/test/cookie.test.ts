/**
 * Cookie mode against a real Maria, with a cookie jar standing in for the browser's:
 * the CSRF header on unsafe methods, nothing persisted, and an expired access cookie
 * (which the browser simply stops sending) renewed by one refresh for many requests.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { createMaria, MariaError, type MariaEvent } from "@kinoway/maria";

import { CookieJar } from "./support/cookieJar.js";
import { countingFetch, newAccount } from "./support/helpers.js";
import { startMaria, type MariaServer } from "./support/server.js";

let server: MariaServer;

before(async () => {
  server = await startMaria();
});
after(async () => {
  await server.dispose();
});

function browser(): { jar: CookieJar; counting: ReturnType<typeof countingFetch>; maria: ReturnType<typeof createMaria> } {
  const jar = new CookieJar();
  const counting = countingFetch(jar.fetch);
  const maria = createMaria({
    mode: "cookie",
    baseUrl: server.url,
    fetch: counting.fetch,
    csrfToken: () => jar.readable("maria_csrf"),
    crossTab: false,
  });
  return { jar, counting, maria };
}

describe("cookie mode", () => {
  test("takes no storage", () => {
    assert.throws(
      () => createMaria({ mode: "cookie", storage: { load: () => null, save: () => undefined } }),
      TypeError,
    );
  });

  test("signs in with cookies and echoes the CSRF cookie on unsafe methods", async () => {
    const { jar, counting, maria } = browser();
    const user = await maria.register(newAccount("Cookie"));
    assert.ok(jar.has("maria_access") && jar.has("maria_refresh") && jar.has("maria_csrf"));

    const { data } = await maria.api.PATCH("/api/v1/users/me", { body: { display_name: "Crumb" } });
    assert.equal(data?.display_name, "Crumb");
    const patch = counting.bodies("/api/v1/users/me");
    assert.equal(patch.length, 1);

    // The same request without the header is refused: the header is what let it through.
    const bare = await jar.fetch(`${server.url}/api/v1/users/me`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ display_name: "Nope" }),
    });
    assert.equal(bare.status, 403);
    assert.equal(((await bare.json()) as { error: { code: string } }).error.code, "csrf_failed");

    // The token it holds (for the room socket) is the access cookie's.
    assert.equal(await maria.accessToken(), jar.get("maria_access"));
    assert.equal(maria.user?.id, user.id);
  });

  test("an expired access cookie: five concurrent calls, one refresh through the refresh cookie", async () => {
    const { jar, counting, maria } = browser();
    await maria.register(newAccount());
    const refreshBefore = jar.get("maria_refresh");
    jar.expire("maria_access");
    const events: MariaEvent[] = [];
    maria.on((event) => events.push(event));

    const answers = await Promise.all(Array.from({ length: 5 }, () => maria.api.GET("/api/v1/users/me")));

    for (const { data } of answers) assert.equal(data?.id, maria.user?.id);
    assert.equal(counting.count("/api/v1/auth/refresh"), 1);
    assert.deepEqual(counting.bodies("/api/v1/auth/refresh"), [""], "cookie mode sends no token in the body");
    assert.notEqual(jar.get("maria_refresh"), refreshBefore, "the refresh cookie rotated");
    assert.deepEqual(events.map((e) => e.type), ["refreshed"]);
  });

  test("restore() in a new page: GET /users/me, refreshing once when the access cookie is gone", async () => {
    const first = browser();
    const user = await first.maria.register(newAccount());
    first.jar.expire("maria_access");
    const page = createMaria({
      mode: "cookie",
      baseUrl: server.url,
      fetch: first.counting.fetch,
      csrfToken: () => first.jar.readable("maria_csrf"),
      crossTab: false,
    });
    assert.equal((await page.restore())?.id, user.id);
    assert.equal(first.counting.count("/api/v1/auth/refresh"), 1);

    const stranger = browser(); // no cookies at all: no request is needed to know
    assert.equal(await stranger.maria.restore(), null);
    assert.equal(stranger.counting.count("/api/v1/users/me"), 0);
  });

  test("logout clears the session cookies and a later call is not_authenticated", async () => {
    const { jar, maria } = browser();
    await maria.register(newAccount());
    const events: MariaEvent[] = [];
    maria.on((event) => events.push(event));
    await maria.logout();
    assert.ok(!jar.has("maria_access") && !jar.has("maria_refresh") && !jar.has("maria_csrf"));
    assert.ok(jar.has("maria_device"), "the device cookie outlives the session");
    assert.deepEqual(events, [{ type: "signedOut", reason: "logout" }]);
    await assert.rejects(
      maria.api.GET("/api/v1/users/me"),
      (e: unknown) => e instanceof MariaError && e.status === 401 && e.code === "not_authenticated",
    );
  });
});
