/**
 * Reconnecting after the server drops the socket: `maria serve` is stopped with SIGTERM
 * (room sockets close with 1012) and started again on the same port and database. One
 * member (Alice) comes back at once and keeps chatting; the other (Bob) stays away a while,
 * his reconnects failing for real against a closed port, then comes back. Bob must end up
 * with every message exactly once, in order: first after a short gap (all of it in the
 * welcome's history, overlapping what he had), then after a long one (more than the 50 the
 * welcome carries: the rest comes from `GET /rooms/{id}/messages`, two pages of 100).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import type { Maria, RoomClient } from "@kinoway/maria";

import { until } from "./support/helpers.js";
import { fast, gatedWebSocket, member, newRoom, recorder } from "./support/rooms.js";
import { startMaria, type MariaServer } from "./support/server.js";

let server: MariaServer;

before(async () => {
  // Alice sends the long gap in one burst: lift the per-user chat throttle for this test.
  server = await startMaria({ env: { MARIA_ROOM_CHAT_LIMIT: "1000", MARIA_ROOM_CHAT_WINDOW: "1" } });
});
after(async () => {
  await server.dispose();
});

async function say(room: RoomClient, seen: { chats: string[] }, texts: string[]): Promise<void> {
  const before = seen.chats.length;
  for (const text of texts) room.chat(text);
  await until(`${texts.length} messages echoed`, () => seen.chats.length === before + texts.length, 20_000);
}

describe("reconnect", () => {
  test("after a server restart: no duplicate and no missing message", { timeout: 60_000 }, async () => {
    const alice: Maria = await member(server.url, "Alice");
    const bob: Maria = await member(server.url, "Bob");
    const id = await newRoom(alice);
    const a = alice.room(id, { backoff: fast });
    const { WebSocket, gate } = gatedWebSocket();
    const b = bob.room(id, { WebSocket, backoff: fast });
    const seenA = recorder(a);
    const seenB = recorder(b);
    try {
      await a.connect();
      await b.connect();
      const opening = ["one", "two", "three"];
      await say(a, seenA, opening);
      await until("bob has the opening", () => seenB.chats.length === 3);

      for (const gap of [4, 170]) {
        gate.open = false;
        await server.stop();
        await until("both dropped", () => a.status === "reconnecting" && b.status === "reconnecting");
        await server.start(); // same port, same database
        await until("alice is back", () => a.status === "open", 30_000);
        const texts = Array.from({ length: gap }, (_, i) => `gap ${gap} #${i}`);
        const bobHad = seenB.chats.length;
        await say(a, seenA, texts);
        assert.equal(b.status, "reconnecting", "bob was away while alice spoke");

        gate.open = true;
        await until("bob is back", () => b.status === "open", 30_000);
        await until("bob caught up", () => seenB.chats.length >= bobHad + gap, 10_000);
        assert.deepEqual(seenB.chats.slice(bobHad), texts, "exactly the missed messages, in order");
      }

      assert.deepEqual(seenB.chats, seenA.chats);
      const messages = b.state!.messages;
      assert.deepEqual(messages.map((m) => m.text), seenA.chats);
      assert.equal(new Set(messages.map((m) => m.id)).size, messages.length, "no duplicate ids");
      for (let i = 1; i < messages.length; i++) assert.ok(messages[i]!.seq > messages[i - 1]!.seq);
      assert.ok(seenB.codes.includes(1012), "the restart closed the socket with 1012");
      assert.ok(seenB.codes.includes(1006), "and bob's attempts while away failed for real");
    } finally {
      a.close();
      b.close();
    }
  });
});
