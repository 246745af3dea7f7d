/**
 * Bearer mode against a real Maria: sign-up, storage, device tokens, and the single-flight
 * refresh (10 concurrent requests on an expired token → exactly one refresh call).
 *
 * Expired tokens without waiting: the server runs with a secret the test knows, so the test
 * signs the session's real claims again with `exp` in the past (`retimed`). Maria accepts
 * the signature and answers `token_expired`, exactly as for a token that aged out.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { createMaria, MariaError, type MariaEvent, type StoredTokens } from "@kinoway/maria";

import { countingFetch, MemoryStorage, newAccount, now, retimed } from "./support/helpers.js";
import { startMaria, type MariaServer } from "./support/server.js";

const REFRESH = "/api/v1/auth/refresh";
let server: MariaServer;

before(async () => {
  server = await startMaria();
});
after(async () => {
  await server.dispose();
});

/** A signed-up user's stored pair (through a client of its own). */
async function signedUp(): Promise<{ stored: StoredTokens; account: ReturnType<typeof newAccount> }> {
  const storage = new MemoryStorage();
  const maria = createMaria({ mode: "bearer", baseUrl: server.url, storage, crossTab: false });
  const account = newAccount();
  await maria.register(account);
  assert.ok(storage.tokens);
  return { stored: storage.tokens, account };
}

function expired(stored: StoredTokens, clientBelievesValid: boolean): StoredTokens {
  const t = now();
  return {
    ...stored,
    access_token: retimed(stored.access_token, server.secret, { iat: t - 960, exp: t - 60 }),
    expires_at: clientBelievesValid ? t + 600 : t - 60,
  };
}

describe("bearer mode", () => {
  test("sign-up signs in, stores the pair, and a new client restores it", async () => {
    const storage = new MemoryStorage();
    const events: MariaEvent[] = [];
    const maria = createMaria({ mode: "bearer", baseUrl: server.url, storage, crossTab: false });
    maria.on((event) => events.push(event));
    const account = newAccount("Signup");

    const user = await maria.register(account);

    assert.equal(user.email, account.email);
    assert.equal(maria.user?.id, user.id);
    assert.deepEqual(events, [{ type: "signedIn", user }]);
    assert.ok(storage.tokens?.access_token && storage.tokens.refresh_token);
    assert.ok(storage.tokens.device_token?.startsWith("d1."), "the sign-up's device token is kept");
    const { data } = await maria.api.GET("/api/v1/users/me");
    assert.equal(data?.id, user.id);

    const later = createMaria({ mode: "bearer", baseUrl: server.url, storage, crossTab: false });
    assert.equal((await later.restore())?.id, user.id);
    assert.equal(later.user?.id, user.id);
  });

  test("login sends back the device token of the last sign-in, also after a sign-out", async () => {
    const { account } = await signedUp();
    const storage = new MemoryStorage();
    const counting = countingFetch();
    const maria = createMaria({ mode: "bearer", baseUrl: server.url, storage, fetch: counting.fetch, crossTab: false });

    await maria.login(account);
    const device = storage.device;
    assert.ok(device?.startsWith("d1."));
    await maria.logout();
    assert.equal(storage.tokens, null, "sign-out forgets the pair");
    assert.equal(maria.user, null);

    const restarted = createMaria({ mode: "bearer", baseUrl: server.url, storage, fetch: counting.fetch, crossTab: false });
    await restarted.login(account);

    const logins = counting.bodies("/api/v1/auth/login").map((b) => JSON.parse(b) as { device_token?: string });
    assert.equal(logins.length, 2);
    assert.equal(logins[0]?.device_token, undefined, "the first login has none to send");
    assert.equal(logins[1]?.device_token, device);
  });

  for (const clientBelievesValid of [true, false]) {
    const what = clientBelievesValid ? "answered token_expired" : "known to be expired";
    test(`10 concurrent requests on an access token ${what}: exactly one refresh`, async () => {
      const { stored } = await signedUp();
      const storage = new MemoryStorage(expired(stored, clientBelievesValid));
      const counting = countingFetch();
      const events: MariaEvent[] = [];
      const maria = createMaria({ mode: "bearer", baseUrl: server.url, storage, fetch: counting.fetch, crossTab: false });
      maria.on((event) => events.push(event));

      const answers = await Promise.all(Array.from({ length: 10 }, () => maria.api.GET("/api/v1/users/me/lists")));

      assert.equal(counting.count(REFRESH), 1);
      for (const { data } of answers) assert.ok(Array.isArray(data) && data.length >= 2);
      const expectedFirstTries = clientBelievesValid ? 10 : 0; // each met token_expired once
      assert.equal(counting.count("/api/v1/users/me/lists"), 10 + expectedFirstTries);
      assert.notEqual(storage.tokens?.refresh_token, stored.refresh_token, "the rotated pair is stored");
      assert.deepEqual(events.map((e) => e.type), ["signedIn"], "a refresh that signs in tells who");
    });
  }

  test("a refused refresh signs out once, tells the app, and every waiting call gets the MariaError", async () => {
    const { stored, account } = await signedUp();
    const other = createMaria({ mode: "bearer", baseUrl: server.url, crossTab: false });
    await other.login(account);
    await other.logout("global"); // ends every session of the account, ours too

    const storage = new MemoryStorage(expired(stored, true));
    const counting = countingFetch();
    const events: MariaEvent[] = [];
    const maria = createMaria({ mode: "bearer", baseUrl: server.url, storage, fetch: counting.fetch, crossTab: false });
    maria.on((event) => events.push(event));

    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => maria.api.GET("/api/v1/users/me")));

    assert.equal(counting.count(REFRESH), 1);
    for (const outcome of outcomes) {
      assert.equal(outcome.status, "rejected");
      const error = (outcome as PromiseRejectedResult).reason as unknown;
      assert.ok(error instanceof MariaError);
      assert.equal(error.status, 401);
      assert.equal(error.code, "invalid_token");
    }
    assert.deepEqual(events, [{ type: "signedOut", reason: "refresh_failed" }]);
    assert.equal(storage.tokens, null);
    assert.equal(await maria.accessToken(), null);
  });

  test("a revoked session is noticed on the next call: signed out with reason revoked", async () => {
    const storage = new MemoryStorage();
    const maria = createMaria({ mode: "bearer", baseUrl: server.url, storage, crossTab: false });
    const account = newAccount();
    await maria.register(account);
    const events: MariaEvent[] = [];
    maria.on((event) => events.push(event));
    const admin = createMaria({ mode: "bearer", baseUrl: server.url, crossTab: false });
    await admin.login(account);
    await admin.logout("global");

    await assert.rejects(maria.api.GET("/api/v1/users/me"), (e: unknown) => e instanceof MariaError && e.code === "invalid_token");
    assert.deepEqual(events, [{ type: "signedOut", reason: "revoked" }]);
    assert.equal(maria.user, null);
  });

  test("after deleting the account, logout() signs the client out (the server has no session left)", async () => {
    const storage = new MemoryStorage();
    const maria = createMaria({ mode: "bearer", baseUrl: server.url, storage, crossTab: false });
    const account = newAccount();
    await maria.register(account);
    const events: MariaEvent[] = [];
    maria.on((event) => events.push(event));
    await maria.api.DELETE("/api/v1/users/me", { body: { password: account.password } });
    await maria.logout();
    assert.deepEqual(events, [{ type: "signedOut", reason: "logout" }]);
    assert.equal(storage.tokens, null);
    assert.equal(maria.user, null);
  });

  test("accessToken() renews a token in its last quarter and the user event follows changes", async () => {
    const { stored } = await signedUp();
    const t = now();
    // 8 s of a 10 s life left is more than a quarter: kept; 1 s left: renewed.
    const fresh = retimed(stored.access_token, server.secret, { iat: t - 2, exp: t + 8 });
    const storage = new MemoryStorage({ ...stored, access_token: fresh, expires_at: t + 8 });
    const maria = createMaria({ mode: "bearer", baseUrl: server.url, storage, crossTab: false });
    assert.equal(await maria.accessToken(), fresh);

    const dying = retimed(stored.access_token, server.secret, { iat: t - 9, exp: t + 1 });
    const storage2 = new MemoryStorage({ ...stored, access_token: dying, expires_at: t + 1 });
    const maria2 = createMaria({ mode: "bearer", baseUrl: server.url, storage: storage2, crossTab: false });
    const renewed = await maria2.accessToken();
    assert.ok(renewed && renewed !== dying);

    await maria2.restore();
    const events: MariaEvent[] = [];
    maria2.on((event) => events.push(event));
    await maria2.api.PATCH("/api/v1/users/me", { body: { display_name: "Renamed" } });
    assert.equal(maria2.user?.display_name, "Renamed");
    assert.deepEqual(events.map((e) => e.type), ["user"]);
  });
});
