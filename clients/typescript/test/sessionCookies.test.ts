/**
 * `refreshSessionCookies` (the server side's renewal, e.g. Next.js middleware) against a real
 * Maria that sends the refresh cookie to every path (`MARIA_REFRESH_COOKIE_PATH=/`) and
 * believes this machine's `X-Forwarded-For` (`MARIA_TRUSTED_PROXIES=127.0.0.1`, as it would
 * the Next.js server's): an expired session renewed for the rest of the request and for the
 * browser, the browser refreshing at the same moment with the same cookie (both get one pair,
 * the session lives on), a refused refresh, and bad input (never a throw).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  createMaria,
  createServerApi,
  parseCookieHeader,
  refreshSessionCookies,
  withSetCookies,
  type SessionCookies,
} from "@kinoway/maria";

import { CookieJar } from "./support/cookieJar.js";
import { countingFetch, newAccount, now, retimed } from "./support/helpers.js";
import { startMaria, type MariaServer } from "./support/server.js";

let server: MariaServer;

before(async () => {
  server = await startMaria({ env: { MARIA_REFRESH_COOKIE_PATH: "/", MARIA_TRUSTED_PROXIES: "127.0.0.1" } });
});
after(async () => {
  await server.dispose();
});

/** A browser: its cookie jar, and the cookie-mode client of its pages. */
function browser() {
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

/** What the app's server does with a page request's cookies. */
function renew(cookieHeader: string | null, extra: { forwardedFor?: string; fetch?: typeof fetch } = {}): Promise<SessionCookies> {
  return refreshSessionCookies({ baseUrl: server.url, cookieHeader, ...extra });
}

/** The values a `Set-Cookie` list sets (removals as ""). */
function written(setCookie: string[]): Map<string, string> {
  return new Map(
    setCookie.map((line) => {
      const pair = line.split(";")[0]!;
      const removed = /;\s*max-age=0(;|$)/i.test(line);
      return [pair.slice(0, pair.indexOf("=")), removed ? "" : pair.slice(pair.indexOf("=") + 1)];
    }),
  );
}

async function me(accessToken: string | undefined): Promise<string | undefined> {
  const { data } = await createServerApi({ baseUrl: server.url, accessToken: accessToken ?? null }).GET("/api/v1/users/me");
  return data?.id;
}

describe("refreshSessionCookies", () => {
  test("with MARIA_REFRESH_COOKIE_PATH=/ page requests carry the refresh cookie", async () => {
    const { jar, maria } = browser();
    await maria.register(newAccount("Path"));
    assert.ok(jar.sentTo("/account").get("maria_refresh"), "a page request carries the refresh cookie");
  });

  test("an expired session: renewed once, for the rest of the request and for the browser", async () => {
    const { jar, counting, maria } = browser();
    const user = await maria.register(newAccount("Renew"));
    const live = jar.header("/account");
    const unsent = countingFetch();
    const current = await renew(live, { fetch: unsent.fetch });
    assert.deepEqual(current, { outcome: "current", user: null, setCookie: [], cookieHeader: live });
    assert.equal(unsent.count("/api/v1/auth/refresh"), 0, "a live access cookie costs no request");

    jar.expire("maria_access"); // the browser stopped sending it
    const page = `theme=dark; ${jar.header("/account")}`; // the app's own cookies pass through
    const refreshBefore = jar.get("maria_refresh");
    const renewed = await renew(page);
    assert.equal(renewed.outcome, "renewed");
    assert.equal(renewed.user?.id, user.id);
    const sets = written(renewed.setCookie);
    assert.ok(sets.get("maria_access") && sets.get("maria_refresh") && sets.get("maria_csrf"));
    assert.notEqual(sets.get("maria_refresh"), refreshBefore, "rotated");
    assert.ok(renewed.setCookie.some((line) => line.startsWith("maria_refresh=") && / Path=\/(;|$)/.test(line)));

    // The rest of this request (server components): the fresh access cookie, the app's too.
    const forwarded = parseCookieHeader(renewed.cookieHeader);
    assert.equal(forwarded.get("theme"), "dark");
    assert.equal(forwarded.get("maria_access"), sets.get("maria_access"));
    assert.equal(forwarded.get("maria_refresh"), sets.get("maria_refresh"));
    assert.equal(await me(forwarded.get("maria_access")), user.id);

    // The browser gets the page with the Set-Cookie headers, and its client goes on with them:
    // no refresh of its own, and its next one (with the new cookie) is no reuse.
    jar.receive(renewed.setCookie);
    assert.equal(jar.get("maria_refresh"), sets.get("maria_refresh"));
    const { data } = await maria.api.GET("/api/v1/users/me");
    assert.equal(data?.id, user.id);
    assert.equal(counting.count("/api/v1/auth/refresh"), 0);
    jar.expire("maria_access");
    assert.equal((await maria.api.GET("/api/v1/users/me")).data?.id, user.id);
    assert.equal(counting.count("/api/v1/auth/refresh"), 1);
  });

  test("an access cookie whose token has expired, or is in its last minute, is renewed", async () => {
    const { jar, maria } = browser();
    const user = await maria.register(newAccount("Minted"));
    const access = jar.get("maria_access")!;
    for (const times of [
      { iat: now() - 1000, exp: now() - 100 }, // expired (a cookie that outlived its token)
      { iat: now() - 880, exp: now() + 20 }, // 20 s left of 900: inside the renewal margin
    ]) {
      const cookieHeader = withSetCookies(jar.header("/account"), [`maria_access=${retimed(access, server.secret, times)}`]);
      const renewed = await renew(cookieHeader);
      assert.equal(renewed.outcome, "renewed");
      assert.equal(renewed.user?.id, user.id);
      jar.receive(renewed.setCookie);
      assert.equal(await me(parseCookieHeader(renewed.cookieHeader).get("maria_access")), user.id);
    }
    const garbled = await renew(withSetCookies(jar.header("/account"), ["maria_access=not.a.jwt"]));
    assert.equal(garbled.outcome, "renewed", "an access cookie that is no token is renewed");
  });

  test("middleware and the browser refresh at once with the same cookie: one pair, the session lives on", async () => {
    const { jar, counting, maria } = browser();
    const user = await maria.register(newAccount("Race"));
    const barrier = meeting(2); // both requests leave together, with the same refresh cookie
    const atRefresh = (inner: typeof fetch): typeof fetch => async (input, init) => {
      const request = new Request(input, init);
      if (new URL(request.url).pathname === "/api/v1/auth/refresh") await barrier.arrive();
      return inner(request);
    };
    const racing = createMaria({
      mode: "cookie",
      baseUrl: server.url,
      fetch: atRefresh(counting.fetch),
      csrfToken: () => jar.readable("maria_csrf"),
      crossTab: false,
    });
    for (let round = 0; round < 3; round++) {
      barrier.reset();
      jar.expire("maria_access");
      const presented = jar.get("maria_refresh");
      const page = jar.header("/account");
      const [middleware, call] = await Promise.all([renew(page, { fetch: atRefresh(globalThis.fetch) }), racing.api.GET("/api/v1/users/me")]);
      assert.equal(middleware.outcome, "renewed", `round ${round}`);
      assert.equal(call.data?.id, user.id);
      const sets = written(middleware.setCookie);
      assert.notEqual(jar.get("maria_refresh"), presented, "the browser's refresh rotated the cookie");
      assert.equal(sets.get("maria_refresh"), jar.get("maria_refresh"), "the same refresh token for both");
      assert.equal(sets.get("maria_access"), jar.get("maria_access"), "the same access token for both");
      jar.receive(middleware.setCookie); // the page's answer arrives too: nothing changes
    }
    assert.equal(counting.count("/api/v1/auth/refresh"), 3);
    // Not taken for reuse: the session is alive, and is still the one session.
    jar.expire("maria_access");
    const { data: sessions } = await maria.api.GET("/api/v1/auth/sessions");
    assert.equal(sessions?.length, 1);
    assert.equal(counting.count("/api/v1/auth/refresh"), 4);
  });

  test("a refused refresh (the session was revoked): the cookies to remove, no exception", async () => {
    const { jar, maria } = browser();
    await maria.register(newAccount("Revoked"));
    jar.expire("maria_access");
    const page = `theme=dark; ${jar.header("/account")}`;
    await maria.logout(); // e.g. from another tab; this page request still carries the cookies
    const ended = await renew(page);
    assert.equal(ended.outcome, "ended");
    assert.equal(ended.user, null);
    assert.equal(ended.error?.code, "invalid_token");
    const removed = written(ended.setCookie);
    for (const name of ["maria_access", "maria_refresh", "maria_csrf"]) assert.equal(removed.get(name), "", name);
    assert.equal(ended.cookieHeader, "theme=dark", "the rest of the request sees no session");
    jar.receive(ended.setCookie);
    assert.ok(!jar.has("maria_refresh") && !jar.has("maria_csrf"));
  });

  test("bad input: no cookies, garbled or half a session, Maria away: an answer, never a throw", async () => {
    for (const header of [null, "", "theme=dark", "maria_refresh=", "=; ;;", "maria_csrf=abc"]) {
      const answer = await renew(header);
      assert.deepEqual(answer, { outcome: "none", user: null, setCookie: [], cookieHeader: header ?? "" }, String(header));
    }
    // A refresh cookie without the CSRF cookie, or with characters no cookie of Maria's has:
    // nothing this side can renew.
    for (const header of ["maria_refresh=abc", "maria_refresh=a\u00e9b; maria_csrf=x", "maria_refresh=\"q\"; maria_csrf=x,y"]) {
      assert.equal((await renew(header)).outcome, "none", header);
    }
    // Garbled tokens go to Maria, which refuses them and removes the cookies.
    for (const token of ["garbage", "a".repeat(9000), "00000000-0000-0000-0000-000000000000.0.xxxx"]) {
      const answer = await renew(`maria_refresh=${token}; maria_csrf=x; other=1`);
      assert.equal(answer.outcome, "ended", token.slice(0, 20));
      assert.equal(answer.cookieHeader, "other=1");
      assert.equal(written(answer.setCookie).get("maria_refresh"), "");
    }
    const away = await refreshSessionCookies({ baseUrl: "http://127.0.0.1:9", cookieHeader: "maria_refresh=x; maria_csrf=y" });
    assert.equal(away.outcome, "unavailable");
    assert.equal(away.error?.code, "network_error");
    assert.deepEqual(away.setCookie, []);
  });

  test("X-Forwarded-For: each browser has its own refresh budget; Maria's 429 changes nothing", async () => {
    const garbled = "maria_refresh=garbage; maria_csrf=x";
    for (let i = 0; i < 120; i++) {
      assert.equal((await renew(garbled, { forwardedFor: "198.51.100.7" })).outcome, "ended");
    }
    const limited = await renew(garbled, { forwardedFor: "198.51.100.7" });
    assert.equal(limited.outcome, "unavailable");
    assert.equal(limited.error?.code, "rate_limited");
    assert.ok((limited.error?.retryAfter ?? 0) > 0);
    assert.deepEqual(limited.setCookie, []);
    assert.equal(limited.cookieHeader, garbled);
    // Another browser behind the same app server is not limited.
    assert.equal((await renew(garbled, { forwardedFor: "198.51.100.8" })).outcome, "ended");
    // A header value that cannot be sent is left out rather than thrown on.
    assert.equal((await renew(garbled, { forwardedFor: "198.51.100.9\n, x" })).outcome, "ended");
  });
});

describe("withSetCookies", () => {
  test("sets replace or join, removals leave, the rest stays as it was", () => {
    const header = "a=1; maria_access=old; b=2; b=3; maria_refresh=r0";
    const result = withSetCookies(header, [
      'maria_refresh=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Max-Age=0; Path=/api/v1/auth; SameSite=lax',
      "maria_access=new; HttpOnly; Max-Age=900; Path=/; SameSite=lax",
      "maria_refresh=r1; HttpOnly; Max-Age=2592000; Path=/; SameSite=lax",
      "maria_csrf=c; Max-Age=2592000; Path=/; SameSite=lax",
    ]);
    assert.equal(result, "a=1; b=2; b=3; maria_access=new; maria_refresh=r1; maria_csrf=c");
    assert.equal(withSetCookies(result, ["maria_access=; Expires=Thu, 01 Jan 1970 00:00:00 GMT"]), "a=1; b=2; b=3; maria_refresh=r1; maria_csrf=c");
    assert.equal(withSetCookies("", []), "");
  });

  test("parseCookieHeader keeps the later of two pairs with one name, as Maria reads them", () => {
    assert.deepEqual([...parseCookieHeader(" x=1;y=a=b; x=2; ;=z; w")], [["x", "2"], ["y", "a=b"]]);
  });
});

/** A meeting point for `count` parties: each `arrive()` resolves once all have arrived. */
function meeting(count: number): { arrive(): Promise<void>; reset(): void } {
  let arrived = 0;
  let open: () => void = () => undefined;
  let gate = new Promise<void>((done) => (open = done));
  return {
    arrive() {
      arrived += 1;
      if (arrived === count) open();
      return gate;
    },
    reset() {
      arrived = 0;
      gate = new Promise<void>((done) => (open = done));
    },
  };
}
