/**
 * The code of docs/nextjs.md: each of its file blocks is one of these example files (checked
 * below, byte for byte), compiled with the tests (strict) and run here against a real Maria:
 * the rewrite config, the browser client in a page-like setting (a cookie jar standing in for
 * the browser's, `document.cookie` from it), the server side reading the cookies a page
 * request carries, the session gate's resume, the room socket, and the bearer storage.
 * Not run: the few lines of Next.js glue the guide marks as such (they import `next`).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

import { CookieJar } from "./support/cookieJar.js";
import { MapStorage, newAccount } from "./support/helpers.js";
import { startMaria, type MariaServer } from "./support/server.js";

const PACKAGE = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const GUIDE = resolve(PACKAGE, "../../docs/nextjs.md");
let server: MariaServer;
const jar = new CookieJar();

before(async () => {
  server = await startMaria();
  // The page's world: the app's env, the browser's cookies and fetch.
  process.env.MARIA_URL = server.url;
  process.env.NEXT_PUBLIC_MARIA_URL = server.url;
  process.env.NEXT_PUBLIC_MARIA_WS_URL = server.url.replace("http", "ws");
  Object.defineProperty(globalThis, "document", { value: { get cookie() { return jar.documentCookie(); } }, configurable: true });
  globalThis.fetch = jar.fetch;
});
after(async () => {
  await server.dispose();
});

describe("the Next.js guide's code", () => {
  test("every file block of docs/nextjs.md is the example file it names", () => {
    const guide = readFileSync(GUIDE, "utf8");
    const blocks = [...guide.matchAll(/<!-- file: (\S+) -->\n```\w*\n([\s\S]*?)```/g)];
    assert.ok(blocks.length >= 6, `only ${blocks.length} file blocks`);
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

  test("browser client, server reads, stale session resumed by the browser", async () => {
    const { maria, joinRoom } = await import("../examples/nextjs/lib/maria.js");
    const { currentUser, sessionState, signInRedirect } = await import("../examples/nextjs/lib/session.js");
    const { resumeSession } = await import("../examples/nextjs/lib/resume.js");
    const page = () => jar.sentTo("/account"); // what a page request carries

    assert.equal(sessionState(page()), "signed-out");
    assert.equal(signInRedirect(new URL("http://app.test/account?tab=lists"), page())?.href, "http://app.test/sign-in?next=%2Faccount%3Ftab%3Dlists");

    const user = await maria.register(newAccount("Next"));
    assert.equal(sessionState(page()), "signed-in");
    assert.equal((await currentUser(page()))?.id, user.id);
    assert.equal(signInRedirect(new URL("http://app.test/account"), page()), null);
    assert.equal(page().get("maria_refresh"), undefined, "a page request never carries the refresh cookie");
    assert.ok(jar.sentTo("/api/v1/auth/refresh").get("maria_refresh"), "only Maria's auth paths get it");

    jar.expire("maria_access"); // the access token's lifetime is over
    assert.equal(sessionState(page()), "stale");
    assert.equal(await currentUser(page()), null);
    let rerenders = 0;
    assert.equal((await resumeSession(maria, () => (rerenders += 1)))?.id, user.id);
    assert.equal(rerenders, 1);
    assert.equal(sessionState(page()), "signed-in");
    assert.equal((await currentUser(page()))?.id, user.id);

    const { data: room } = await maria.api.POST("/api/v1/rooms", { body: { movie_id: 326 } });
    const socket = joinRoom(room!.id);
    await socket.connect();
    assert.equal(socket.state?.user_id, user.id);
    socket.close();

    await maria.logout();
    assert.equal(sessionState(page()), "signed-out");
    assert.equal(await currentUser({ get: (name) => (name === "maria_access" ? { value: "not.a.token" } : undefined) }), null);
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
