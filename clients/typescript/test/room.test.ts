/**
 * The room client against a real Maria: chat and presence between two clients, playback
 * with the clock offset, in-band re-authentication before the token expires, the final
 * close codes (no reconnect loop), and error frames.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";

import { createMaria, MariaError } from "@kinoway/maria";

import { MemoryStorage, now, retimed, sleep, until } from "./support/helpers.js";
import { fast, gatedWebSocket, member, newRoom, recorder } from "./support/rooms.js";
import { startMaria, type MariaServer } from "./support/server.js";

let server: MariaServer;

before(async () => {
  server = await startMaria();
});
after(async () => {
  await server.dispose();
});

describe("room", () => {
  test("two clients chat, see each other join, and share the order of messages", async () => {
    const alice = await member(server.url, "Alice");
    const bob = await member(server.url, "Bob");
    const id = await newRoom(alice);
    const a = alice.room(id);
    const b = bob.room(id);
    const joins: string[] = [];
    a.on("presence", (event) => joins.push(`${event.event}:${event.user_id}`));
    const seenA = recorder(a);
    const seenB = recorder(b);
    try {
      await a.connect();
      await b.connect();
      assert.equal(a.status, "open");
      assert.equal(b.state?.user_id, bob.user?.id);
      await until("bob's join", () => joins.includes(`join:${bob.user!.id}`));
      assert.ok(a.state?.members.some((m) => m.user_id === bob.user!.id));

      a.chat("hello from alice");
      await until("bob hears alice", () => seenB.chats.length === 1);
      b.chat("hi alice");
      await until("both have both", () => seenA.chats.length === 2 && seenB.chats.length === 2);

      assert.deepEqual(seenA.chats, ["hello from alice", "hi alice"]);
      assert.deepEqual(seenB.chats, seenA.chats);
      const seqsA = a.state!.messages.map((m) => m.seq);
      assert.deepEqual(b.state!.messages.map((m) => m.seq), seqsA);
      assert.ok(seqsA[0]! < seqsA[1]!);

      // A third member gets the conversation in the welcome's history (and no chat events).
      const carol = await member(server.url, "Carol");
      const c = carol.room(id);
      const seenC = recorder(c);
      await c.connect();
      assert.deepEqual(c.state!.messages.map((m) => m.text), seenA.chats);
      assert.deepEqual(seenC.chats, []);
      c.close();
      assert.equal(c.status, "closed");
    } finally {
      a.close();
      b.close();
    }
  });

  test("playback: the host's play reaches the others, placed in time by the clock offset", async () => {
    const host = await member(server.url, "Host");
    const guest = await member(server.url, "Guest");
    const id = await newRoom(host);
    const h = host.room(id);
    const g = guest.room(id);
    try {
      await h.connect();
      await g.connect();
      await until("a clock sample", () => g.clock !== null);
      const clock = g.clock!;
      assert.ok(clock.rttMs >= 0);
      // Same machine, same clock: the estimate is off by at most half a round trip (plus
      // the millisecond rounding of both clocks).
      assert.ok(Math.abs(clock.offsetMs) <= clock.rttMs / 2 + 2, JSON.stringify(clock));

      h.play(100);
      await until("the guest sees it playing", () => g.state?.playback.state === "playing");
      const first = g.livePosition();
      assert.ok(first >= 100 && first < 100 + 60, String(first));
      // The start is scheduled a little ahead (the same moment for everyone): from then on
      // a playing film moves on.
      await until("a playing film moves on", () => g.livePosition() > first);

      h.pause(150);
      await until("the guest sees it paused", () => g.state?.playback.state === "paused");
      assert.equal(g.livePosition(), 150);

      // Only the host controls playback (control "host"): the guest's play is refused.
      const refusals: string[] = [];
      g.on("error", (error) => refusals.push(error.code));
      g.play();
      await until("the refusal", () => refusals.length === 1);
      assert.deepEqual(refusals, ["forbidden"]);
      assert.equal(g.state?.playback.state, "paused");
    } finally {
      h.close();
      g.close();
    }
  });

  test("re-authenticates in band before the token expires, and the socket outlives it", { timeout: 20_000 }, async () => {
    const owner = await member(server.url, "Owner");
    const id = await newRoom(owner);
    // A listener whose access token dies in 4 s (its real claims, signed again with the
    // server's secret): the room must renew it in band, or Maria closes the socket (4401).
    const storage = new MemoryStorage();
    await member(server.url, "Listener", storage);
    const t = now();
    const shortLived = retimed(storage.tokens!.access_token, server.secret, { iat: t - 1, exp: t + 4 });
    storage.tokens = { ...storage.tokens!, access_token: shortLived, expires_at: t + 4 };
    const listener = createMaria({ mode: "bearer", baseUrl: server.url, storage, crossTab: false });
    const room = listener.room(id);
    const seen = recorder(room);
    const renewals: number[] = [];
    room.on("authenticated", (frame) => renewals.push(frame.expires_at));
    const o = owner.room(id);
    try {
      await room.connect();
      await o.connect();
      await until("an in-band renewal", () => renewals.length >= 1, 10_000);
      assert.ok(renewals[0]! > t + 4, "the new token lives longer than the old one");
      await until("the old token's end has passed, with the server's check after it", () => now() >= t + 6, 10_000);
      o.chat("still there?");
      await until("the message arrives", () => seen.chats.includes("still there?"));
      assert.equal(room.status, "open");
      assert.deepEqual(seen.codes, [], "the socket was never closed");
    } finally {
      room.close();
      o.close();
    }
  });

  test("an unknown room is final: 4404, connect() rejects, no reconnect", async () => {
    const maria = await member(server.url, "Lost");
    const { WebSocket, made } = gatedWebSocket();
    const room = maria.room(randomUUID(), { WebSocket, backoff: fast });
    const seen = recorder(room);
    await assert.rejects(room.connect(), (e: unknown) => e instanceof MariaError && e.code === "not_found");
    assert.equal(room.status, "closed");
    assert.deepEqual(seen.codes, [4404]);
    await sleep(400); // longer than two reconnect delays of `fast`
    assert.equal(made(), 1);
  });

  test("a deleted room is final: 4410 to its members, no reconnect", async () => {
    const host = await member(server.url, "Host");
    const guest = await member(server.url, "Guest");
    const id = await newRoom(host);
    const { WebSocket, made } = gatedWebSocket();
    const g = guest.room(id, { WebSocket, backoff: fast });
    const seen = recorder(g);
    await g.connect();
    await host.api.DELETE("/api/v1/rooms/{room_id}", { params: { path: { room_id: id } } });
    await until("closed", () => g.status === "closed");
    assert.deepEqual(seen.codes, [4410]);
    await sleep(400);
    assert.equal(made(), 1);
  });

  test("a revoked session is final: 4401, no reconnect", async () => {
    const host = await member(server.url, "Host");
    const id = await newRoom(host);
    const storage = new MemoryStorage();
    const guest = await member(server.url, "Guest", storage);
    const { WebSocket, made } = gatedWebSocket();
    const g = guest.room(id, { WebSocket, backoff: fast });
    const seen = recorder(g);
    await g.connect();
    await guest.logout("global");
    await until("closed", () => g.status === "closed", 5_000);
    assert.deepEqual(seen.codes, [4401]);
    await sleep(400);
    assert.equal(made(), 1);
  });

  test("bad frames come back as error events; sending while not connected throws", async () => {
    const host = await member(server.url, "Host");
    const id = await newRoom(host);
    const room = host.room(id);
    const seen = recorder(room);
    assert.throws(() => room.chat("too early"), (e: unknown) => e instanceof MariaError && e.code === "not_connected");
    try {
      await room.connect();
      room.chat("   ");
      room.seek(1e308);
      await until("two refusals", () => seen.errors.length === 2);
      assert.deepEqual(seen.errors, ["validation_error", "validation_error"]);
      assert.equal(room.status, "open", "an error frame never ends the socket");
    } finally {
      room.close();
    }
  });
});
