/**
 * The code of docs/nextjs.md: each of its file blocks is one of these example files (checked
 * below, byte for byte), compiled with the tests (strict) and run here against a real Maria:
 * the rewrite config, the browser client in a page-like setting (a cookie jar standing in for
 * the browser's, `document.cookie` from it), the middleware on page requests (what Next.js
 * would pass it and do with its answer), the server components reading the cookies it hands
 * on, the room socket, the bearer storage; and the alternative for a Maria that keeps the
 * refresh cookie on /api/v1/auth (the browser renews, the server only reads).
 * Not run: the few lines of Next.js glue the guide marks as such (they import `next`).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

import { createMaria, type Maria } from "@kinoway/maria";

import type { CookieReader } from "../examples/nextjs/lib/session.js";
import { CookieJar } from "./support/cookieJar.js";
import { MapStorage, newAccount, until } from "./support/helpers.js";
import { startMaria, type MariaServer } from "./support/server.js";

const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const GUIDE = resolve(PACKAGE, "../../docs/nextjs.md");
const network = globalThis.fetch;
let server: MariaServer; // as the guide sets it up: MARIA_REFRESH_COOKIE_PATH=/
let plain: MariaServer; // the refresh cookie on /api/v1/auth (the default)
const jar = new CookieJar();
let maria: Maria;

before(async () => {
  server = await startMaria({ env: { MARIA_REFRESH_COOKIE_PATH: "/", MARIA_TRUSTED_PROXIES: "127.0.0.1" } });
  plain = await startMaria();
  // The app's env; the browser's cookies for the page's client (which keeps the fetch it was
  // made with). The server side (middleware, server components) uses the network's fetch.
  process.env.MARIA_URL = server.url;
  process.env.NEXT_PUBLIC_MARIA_URL = server.url;
  process.env.NEXT_PUBLIC_MARIA_WS_URL = server.url.replace("http", "ws");
  Object.defineProperty(globalThis, "document", { value: { get cookie() { return jar.documentCookie(); } }, configurable: true });
  globalThis.fetch = jar.fetch;
  ({ maria } = await import("../examples/nextjs/lib/maria.js"));
  globalThis.fetch = network;
});
after(async () => {
  await server.dispose();
  await plain.dispose();
});

/** A page request from the browser of `browserJar`, as Next.js runs it: the middleware,
 * then (unless it answers itself) the page, whose server components read `cookies()`. The
 * browser applies the answer's Set-Cookie headers. */
async function visit(path: string, browserJar = jar): Promise<{ status: number; location: string | null; cookies: CookieReader | null }> {
  const { sessionMiddleware } = await import("../examples/nextjs/lib/middleware.js");
  const { headerCookies } = await import("../examples/nextjs/lib/session.js");
  let forwarded: Headers | null = null;
  const request = new Request(`http://app.test${path}`, {
    headers: { cookie: browserJar.header(new URL(path, "http://app.test").pathname), "x-forwarded-for": "198.51.100.20" },
  });
  const response = await sessionMiddleware(request, (headers) => {
    forwarded = headers;
    return new Response("the page");
  });
  browserJar.receive(response.headers.getSetCookie());
  const seen = forwarded as Headers | null;
  return { status: response.status, location: response.headers.get("location"), cookies: seen ? headerCookies(seen.get("cookie") ?? "") : null };
}

describe("the Next.js guide's code", () => {
  test("every file block of docs/nextjs.md is the example file it names", () => {
    const guide = readFileSync(GUIDE, "utf8");
    const blocks = [...guide.matchAll(/<!-- file: (\S+) -->\n```\w*\n([\s\S]*?)```/g)];
    assert.ok(blocks.length >= 7, `only ${blocks.length} file blocks`);
    for (const [, path, body] of blocks) {
      assert.equal(body, readFileSync(resolve(PACKAGE, path!), "utf8"), `docs/nextjs.md's ${path} is not the file`);
    }
  });

  test("next.config.mjs forwards Maria's paths to MARIA_URL", async () => {
    const config = (await import(pathToFileURL(resolve(PACKAGE, "examples/nextjs/next.config.mjs")).href)) as {
      default: { rewrites(): Promise<{ source: string; destination: string }[]> };
    };
    assert.deepEqual(await config.default.rewrites(), [
      { source: "/api/v1/:path*", destination: `${server.url}/api/v1/:path*` },
    ]);
  });

  test("middleware renews an expired session; the server components of that request read it", async () => {
    const { joinRoom } = await import("../examples/nextjs/lib/maria.js");
    const { currentUser, sessionState } = await import("../examples/nextjs/lib/session.js");

    const away = await visit("/account?tab=lists");
    assert.equal(away.status, 307);
    assert.equal(away.location, "http://app.test/sign-in?next=%2Faccount%3Ftab%3Dlists");
    assert.equal((await visit("/")).status, 200, "public pages are not sent away");

    const user = await maria.register(newAccount("Next"));
    const signedIn = await visit("/account");
    assert.equal(signedIn.status, 200);
    assert.equal((await currentUser(signedIn.cookies!))?.id, user.id);

    jar.expire("maria_access"); // the access token's lifetime is over
    const refreshBefore = jar.get("maria_refresh");
    const renewed = await visit("/account");
    assert.equal(renewed.status, 200, "a session the server renews is not sent away");
    assert.equal(sessionState(renewed.cookies!), "signed-in");
    assert.equal((await currentUser(renewed.cookies!))?.id, user.id, "the same request sees the fresh access cookie");
    assert.ok(jar.has("maria_access"), "the browser got the new cookies with the page");
    assert.notEqual(jar.get("maria_refresh"), refreshBefore);
    assert.equal(renewed.cookies!.get("maria_access")?.value, jar.get("maria_access"));

    // The browser client goes on with the cookies the page brought, and renews on its own
    // for its own calls (the middleware does not see /api/v1).
    assert.equal((await maria.api.GET("/api/v1/users/me")).data?.id, user.id);
    jar.expire("maria_access");
    assert.equal((await maria.restore())?.id, user.id);
    assert.equal((await currentUser((await visit("/account")).cookies!))?.id, user.id);

    const { data: room } = await maria.api.POST("/api/v1/rooms", { body: { movie_id: 326 } });
    const socket = joinRoom(room!.id);
    await socket.connect();
    assert.equal(socket.state?.user_id, user.id);
    socket.close();

    await maria.logout();
    assert.equal((await visit("/account")).status, 307);
    assert.equal(await currentUser({ get: (name) => (name === "maria_access" ? { value: "not.a.token" } : undefined) }), null);
  });

  test("watchTogether loads the room's film, follows the queue and starts with the room", async () => {
    const { watchTogether } = await import("../examples/nextjs/lib/watch.js");
    await maria.register(newAccount("Watcher"));
    const { data: room } = await maria.api.POST("/api/v1/rooms", { body: { movie_id: 326 } });
    const loaded: number[] = [];
    const player = { currentTime: 0, playbackRate: 1, paused: true, play() { this.paused = false; }, pause() { this.paused = true; } };
    const { room: socket, leave } = await watchTogether(room!.id, player, (id) => loaded.push(id));
    try {
      assert.deepEqual(loaded, [326]);
      socket.queueAdd(435);
      socket.queueNext();
      await until("the new film loaded", () => loaded.length === 2);
      assert.deepEqual(loaded, [326, 435]);
      socket.setReady("ready");
      socket.play(0);
      await until("the player started with the room", () => !player.paused);
    } finally {
      leave();
    }
  });

  test("a session Maria refuses: the middleware removes its cookies and sends the visitor away", async () => {
    const { currentUser } = await import("../examples/nextjs/lib/session.js");
    await maria.register(newAccount("Gone"));
    const { data: sessions } = await maria.api.GET("/api/v1/auth/sessions");
    await maria.api.DELETE("/api/v1/auth/sessions/{session_id}", { params: { path: { session_id: sessions![0]!.id } } });
    jar.expire("maria_access");
    const page = await visit("/lists/favorites");
    assert.equal(page.status, 307);
    assert.ok(!jar.has("maria_refresh") && !jar.has("maria_csrf"), "the dead cookies are gone");
    const home = await visit("/");
    assert.equal(home.cookies!.get("maria_access"), undefined);
    assert.equal(await currentUser(home.cookies!), null);
  });

  test("the refresh cookie kept on /api/v1/auth: the server only reads, the browser renews", async () => {
    const { currentUser, sessionState } = await import("../examples/nextjs/lib/session.js");
    const { resumeSession } = await import("../examples/nextjs/lib/resume.js");
    const browserJar = new CookieJar();
    const browser = createMaria({ mode: "cookie", baseUrl: plain.url, fetch: browserJar.fetch, csrfToken: () => browserJar.readable("maria_csrf"), crossTab: false });
    process.env.MARIA_URL = plain.url;
    try {
      const user = await browser.register(newAccount("Plain"));
      assert.equal(browserJar.sentTo("/account").get("maria_refresh"), undefined, "a page request never carries it");
      browserJar.expire("maria_access");
      const stale = await visit("/account", browserJar);
      assert.equal(stale.status, 200, "a stale session is let through, to the browser");
      assert.equal(sessionState(stale.cookies!), "stale");
      assert.equal(await currentUser(stale.cookies!), null);
      let rerenders = 0;
      assert.equal((await resumeSession(browser, () => (rerenders += 1)))?.id, user.id);
      assert.equal(rerenders, 1);
      assert.equal((await currentUser((await visit("/account", browserJar)).cookies!))?.id, user.id);
    } finally {
      process.env.MARIA_URL = server.url;
      browser.close();
    }
  });

  test("bearer storage: the pair in Web Storage, the device token kept through sign-out", async () => {
    const { bearerClient } = await import("../examples/bearer/client.js");
    const store = Object.assign(new MapStorage(), {
      removeItem(this: MapStorage, key: string) {
        this.items.delete(key);
      },
    });
    const account = newAccount("Bearer");
    const maria = bearerClient(server.url, store);
    await maria.register(account);
    assert.ok(store.getItem("maria:tokens") && store.getItem("maria:device"));
    maria.close();
    const again = bearerClient(server.url, store);
    assert.equal((await again.restore())?.email, account.email);
    await again.logout();
    assert.equal(store.getItem("maria:tokens"), null);
    assert.ok(store.getItem("maria:device"));
    again.close();
  });
});
