/**
 * Tabs sharing one session: one refresh for all of them, the new pair handed to every tab,
 * and no lock wait without an end.
 *
 * The server runs with MARIA_REFRESH_REUSE_GRACE=0, so any second use of a refresh token
 * (two tabs racing, or a tab keeping a stale copy) is reuse and ends the session: the
 * tests pass only if the tabs truly never race.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, test } from "node:test";
import { Worker } from "node:worker_threads";

import { createMaria, type StoredTokens } from "@kinoway/maria";

import { countingFetch, MemoryStorage, newAccount, now, retimed, sleep } from "./support/helpers.js";
import { startMaria, type MariaServer } from "./support/server.js";
import type { TabCommand, TabData, TabReport } from "./support/tab.js";

const REFRESH = "/api/v1/auth/refresh";
let server: MariaServer;

before(async () => {
  server = await startMaria({ env: { MARIA_REFRESH_REUSE_GRACE: "0" } });
});
after(async () => {
  await server.dispose();
});

async function expiredPair(): Promise<StoredTokens> {
  const storage = new MemoryStorage();
  await createMaria({ mode: "bearer", baseUrl: server.url, storage, crossTab: false }).register(newAccount());
  const stored = storage.tokens!;
  const t = now();
  // Expired for the server, still valid as far as the tabs know: each call meets 401.
  return { ...stored, access_token: retimed(stored.access_token, server.secret, { iat: t - 960, exp: t - 60 }), expires_at: t + 600 };
}

class Tab {
  private readonly worker: Worker;
  private readonly ready: Promise<void>;

  constructor(data: TabData) {
    this.worker = new Worker(new URL("./support/tab.js", import.meta.url), { workerData: data });
    this.ready = new Promise((done) => this.worker.once("message", () => done()));
  }

  async send(command: TabCommand): Promise<TabReport> {
    await this.ready;
    const report = new Promise<TabReport>((done) => this.worker.once("message", done));
    this.worker.postMessage(command);
    return report;
  }

  async exit(): Promise<void> {
    this.worker.postMessage({ type: "exit" } satisfies TabCommand);
    await this.worker.terminate();
  }
}

/** A stand-in for `navigator.locks` (Node 20 has none): exclusive locks granted in order,
 * a wait given up when its signal aborts; `held` names are held by a tab that never lets go. */
class FakeLocks {
  private readonly tails = new Map<string, Promise<void>>();
  requests = 0;

  constructor(private readonly held = new Set<string>()) {}

  request<T>(name: string, options: { signal: AbortSignal }, fn: () => Promise<T>): Promise<T> {
    this.requests += 1;
    const { signal } = options;
    const aborted = new Promise<never>((_, fail) => signal.addEventListener("abort", () => fail(signal.reason), { once: true }));
    if (this.held.has(name)) return aborted;
    const previous = this.tails.get(name) ?? Promise.resolve();
    let release!: () => void;
    this.tails.set(name, new Promise<void>((done) => (release = done)));
    return Promise.race([previous, aborted]).then(
      () => fn().finally(release),
      (error: unknown) => {
        void previous.then(release); // keep the queue moving after this waiter left
        throw error;
      },
    );
  }
}

async function withLocks<T>(locks: FakeLocks, body: () => Promise<T>): Promise<T> {
  Object.defineProperty(globalThis, "navigator", { value: { locks }, configurable: true, writable: true });
  try {
    return await body();
  } finally {
    Reflect.deleteProperty(globalThis, "navigator");
  }
}

describe("tabs", () => {
  test("two tabs (worker threads, one BroadcastChannel) meeting an expired token: one refresh, one pair", async () => {
    const tokens = await expiredPair();
    const channel = `maria-test-${randomBytes(4).toString("hex")}`;
    const tabs = [new Tab({ url: server.url, tokens, channel }), new Tab({ url: server.url, tokens, channel })];
    try {
      const [a, b] = await Promise.all(tabs.map((tab) => tab.send({ type: "calls", count: 5 })));
      assert.deepEqual([a!.failures, b!.failures], [[], []]);
      assert.equal(a!.refreshCalls + b!.refreshCalls, 1);
      assert.ok(a!.refreshToken && a!.refreshToken !== tokens.refresh_token);
      assert.equal(a!.refreshToken, b!.refreshToken, "the tab that did not refresh adopted the new pair");

      // Each tab refreshes in turn: with reuse grace 0 this works only if each holds the
      // pair the other one made.
      const first = await tabs[0]!.send({ type: "refresh" });
      const second = await tabs[1]!.send({ type: "refresh" });
      const third = await tabs[0]!.send({ type: "calls", count: 3 });
      assert.deepEqual([first.failures, second.failures, third.failures], [[], [], []]);
      assert.notEqual(second.refreshToken, first.refreshToken);
    } finally {
      await Promise.all(tabs.map((tab) => tab.exit()));
    }
  });

  test("Web Locks: two clients of one storage share one refresh", async () => {
    const tokens = await expiredPair();
    const locks = new FakeLocks();
    await withLocks(locks, async () => {
      const storage = new MemoryStorage(tokens); // shared, as localStorage is
      const counting = countingFetch();
      const name = `maria-test-${randomBytes(4).toString("hex")}`;
      const clients = [0, 1].map(() => createMaria({ mode: "bearer", baseUrl: server.url, storage, fetch: counting.fetch, crossTab: { name } }));
      try {
        await Promise.all(clients.flatMap((maria) => [maria.api.GET("/api/v1/users/me"), maria.api.GET("/api/v1/users/me/lists")]));
        assert.equal(counting.count(REFRESH), 1);
        assert.ok(locks.requests >= 1, "the refresh went through navigator.locks");
      } finally {
        for (const maria of clients) maria.close();
      }
    });
  });

  test("Web Locks: a lock another tab never releases delays the refresh, never blocks it", { timeout: 15_000 }, async () => {
    const tokens = await expiredPair();
    const name = `maria-test-${randomBytes(4).toString("hex")}`;
    await withLocks(new FakeLocks(new Set([`${name}:refresh`])), async () => {
      const counting = countingFetch();
      const maria = createMaria({ mode: "bearer", baseUrl: server.url, storage: new MemoryStorage(tokens), fetch: counting.fetch, crossTab: { name, lockTimeoutMs: 200 } });
      try {
        const { data } = await maria.api.GET("/api/v1/users/me");
        assert.ok(data?.id);
        assert.equal(counting.count(REFRESH), 1);
      } finally {
        maria.close();
      }
    });
  });

  test("BroadcastChannel: the claim of a tab that died holding it expires", { timeout: 15_000 }, async () => {
    const tokens = await expiredPair();
    const name = `maria-test-${randomBytes(4).toString("hex")}`;
    const counting = countingFetch();
    const maria = createMaria({ mode: "bearer", baseUrl: server.url, storage: new MemoryStorage(tokens), fetch: counting.fetch, crossTab: { name, lockTimeoutMs: 200 } });
    const dead = new BroadcastChannel(name); // a tab that claimed the refresh, then died
    dead.postMessage({ type: "claim", key: "refresh", id: "0-dead-tab", at: Date.now() - 1 });
    await sleep(50); // delivered to the client's channel
    try {
      const { data } = await maria.api.GET("/api/v1/users/me");
      assert.ok(data?.id);
      assert.equal(counting.count(REFRESH), 1);
    } finally {
      maria.close();
      dead.close();
    }
  });
});
