/** `importLocalStorage()`: Kinoway's two keys in one call, once, then marked. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { createMaria, IMPORTED_KEY, MariaError } from "@kinoway/maria";

import { countingFetch, MapStorage, newAccount } from "./support/helpers.js";
import { startMaria, type MariaServer } from "./support/server.js";

const IMPORT = "/api/v1/users/me/lists/import";
let server: MariaServer;

before(async () => {
  server = await startMaria();
});
after(async () => {
  await server.dispose();
});

async function items(maria: ReturnType<typeof createMaria>, slug: string): Promise<number[]> {
  const { data } = await maria.api.GET("/api/v1/users/me/lists/{slug}/items", {
    params: { path: { slug }, query: { order: "oldest", limit: 100 } },
  });
  return (data?.items ?? []).map((item) => item.movie_id);
}

describe("importLocalStorage", () => {
  test("imports both keys in one request, marks them, and never again", async () => {
    const counting = countingFetch();
    const maria = createMaria({ mode: "bearer", baseUrl: server.url, fetch: counting.fetch, crossTab: false });
    await maria.register(newAccount());
    const local = new MapStorage();
    local.setItem("favorites", JSON.stringify([301, 326, "not-a-movie", 301]));
    local.setItem("watch-later", JSON.stringify([535341]));

    const result = await maria.importLocalStorage(local);

    assert.deepEqual(result, { added: 3, existing: 1, skipped: 1 });
    assert.equal(counting.count(IMPORT), 1);
    assert.deepEqual(JSON.parse(counting.bodies(IMPORT)[0] ?? "null"), {
      favorites: [301, 326, "not-a-movie", 301],
      "watch-later": [535341],
    });
    assert.deepEqual(await items(maria, "favorites"), [301, 326]);
    assert.deepEqual(await items(maria, "watch-later"), [535341]);
    assert.ok(local.getItem(IMPORTED_KEY), "marked");
    assert.equal(local.getItem("favorites"), JSON.stringify([301, 326, "not-a-movie", 301]), "the app's keys are left alone");

    assert.equal(await maria.importLocalStorage(local), null);
    assert.equal(counting.count(IMPORT), 1, "the second call sent nothing");
  });

  test("nothing to import, or keys that are not JSON arrays: no request, not marked", async () => {
    const counting = countingFetch();
    const maria = createMaria({ mode: "bearer", baseUrl: server.url, fetch: counting.fetch, crossTab: false });
    await maria.register(newAccount());
    const local = new MapStorage();
    local.setItem("favorites", "{broken");
    local.setItem("watch-later", JSON.stringify({ not: "an array" }));
    assert.equal(await maria.importLocalStorage(local), null);
    assert.equal(counting.count(IMPORT), 0);
    assert.equal(local.getItem(IMPORTED_KEY), null, "a later import with data still runs");
  });

  test("a refused import is not marked, so it is tried again", async () => {
    const signedOut = createMaria({ mode: "bearer", baseUrl: server.url, crossTab: false });
    const local = new MapStorage();
    local.setItem("favorites", JSON.stringify([1]));
    await assert.rejects(signedOut.importLocalStorage(local), (e: unknown) => e instanceof MariaError && e.code === "not_authenticated");
    assert.equal(local.getItem(IMPORTED_KEY), null);
  });
});
