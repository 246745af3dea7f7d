/**
 * Bad input and refusals: every one reaches the app as a `MariaError` carrying Maria's
 * code, message, details and Retry-After (and a network failure as `network_error`).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { createMaria, MariaError } from "@kinoway/maria";

import { newAccount } from "./support/helpers.js";
import { startMaria, type MariaServer } from "./support/server.js";

let server: MariaServer;

before(async () => {
  server = await startMaria();
});
after(async () => {
  await server.dispose();
});

function client() {
  return createMaria({ mode: "bearer", baseUrl: server.url, crossTab: false });
}

async function refused(call: Promise<unknown>): Promise<MariaError> {
  try {
    await call;
  } catch (error) {
    assert.ok(error instanceof MariaError, `not a MariaError: ${String(error)}`);
    assert.ok(error.message.length > 0);
    return error;
  }
  assert.fail("the call was not refused");
}

describe("errors", () => {
  test("a body that does not fit the schema: 422 validation_error with details", async () => {
    const error = await refused(client().register({ email: "not an email", password: "Zq9xY", display_name: "" }));
    assert.equal(error.status, 422);
    assert.equal(error.code, "validation_error");
    assert.ok(Array.isArray(error.details) && error.details.length >= 1);
    assert.ok(!JSON.stringify(error.details).includes("Zq9xY"), "details never echo the password");
  });

  test("a password outside the policy: 422 with type password_policy", async () => {
    const error = await refused(client().register({ ...newAccount(), password: "12345678" }));
    assert.equal(error.code, "validation_error");
    assert.equal((error.details?.[0] as { type?: string }).type, "password_policy");
  });

  test("a taken email: 409 conflict", async () => {
    const account = newAccount();
    await client().register(account);
    const error = await refused(client().register(account));
    assert.equal(error.status, 409);
    assert.equal(error.code, "conflict");
  });

  test("a wrong password: 401 invalid_credentials, and no refresh is attempted", async () => {
    const account = newAccount();
    await client().register(account);
    const error = await refused(client().login({ email: account.email, password: "wrong-password-1" }));
    assert.equal(error.status, 401);
    assert.equal(error.code, "invalid_credentials");
  });

  test("not signed in: 401 not_authenticated", async () => {
    const error = await refused(client().api.GET("/api/v1/users/me"));
    assert.equal(error.code, "not_authenticated");
  });

  test("someone else's or no such list: 404 not_found; a garbled cursor: 422 cursor", async () => {
    const maria = client();
    await maria.register(newAccount());
    const missing = await refused(maria.api.GET("/api/v1/users/me/lists/{slug}", { params: { path: { slug: "nope" } } }));
    assert.equal(missing.status, 404);
    assert.equal(missing.code, "not_found");
    const cursor = await refused(
      maria.api.GET("/api/v1/users/me/lists/{slug}/items", {
        params: { path: { slug: "favorites" }, query: { cursor: "AAAA" } },
      }),
    );
    assert.equal(cursor.code, "validation_error");
    assert.equal((cursor.details?.[0] as { type?: string }).type, "cursor");
  });

  test("too many failed logins: 429 rate_limited with retryAfter", async () => {
    const account = newAccount();
    await client().register(account);
    let last: MariaError | null = null;
    for (let i = 0; i < 8 && last?.code !== "rate_limited"; i++) {
      last = await refused(client().login({ email: account.email, password: `wrong-password-${i}` }));
    }
    assert.equal(last?.status, 429);
    assert.equal(last?.code, "rate_limited");
    assert.ok(typeof last?.retryAfter === "number" && last.retryAfter > 0);
  });

  test("no server: network_error, status 0", async () => {
    const maria = createMaria({ mode: "bearer", baseUrl: "http://127.0.0.1:9", crossTab: false });
    const error = await refused(maria.api.GET("/healthz"));
    assert.equal(error.status, 0);
    assert.equal(error.code, "network_error");
  });

  test("an unsupported mode is refused at once", () => {
    assert.throws(() => createMaria({ mode: "basic" as "bearer" }), TypeError);
  });
});
