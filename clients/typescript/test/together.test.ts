/**
 * Issue 13 through the room client, against a real Maria: the ready gate with one
 * scheduled start for everyone, players that follow it and have their drift corrected,
 * the server's clock estimate, the shared queue, roles and moderation, reactions, and the
 * ready state told again after a reconnect. Bad input answers an `error` frame and the
 * socket lives on.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { EMOJI, type Maria, type RoomClient, type RoomPlayer } from "@kinoway/maria";

import { until } from "./support/helpers.js";
import { fast, member, newRoom, recorder } from "./support/rooms.js";
import { startMaria, type MariaServer } from "./support/server.js";

let server: MariaServer;

before(async () => {
  server = await startMaria();
});
after(async () => {
  await server.dispose();
});

/** A player whose clock is the wall clock: what an HTMLMediaElement does, without media. */
class WallClockPlayer implements RoomPlayer {
  paused = true;
  plays = 0;
  readonly rates: number[] = [];
  private base = 0;
  private since = Date.now();
  private rate = 1;

  get currentTime(): number {
    return this.paused ? this.base : this.base + ((Date.now() - this.since) / 1000) * this.rate;
  }

  set currentTime(seconds: number) {
    this.base = seconds;
    this.since = Date.now();
  }

  get playbackRate(): number {
    return this.rate;
  }

  set playbackRate(rate: number) {
    this.currentTime = this.currentTime; // the time so far at the old rate
    this.rate = rate;
    this.rates.push(rate);
  }

  play(): void {
    if (!this.paused) return;
    this.since = Date.now();
    this.paused = false;
    this.plays += 1;
  }

  pause(): void {
    if (this.paused) return;
    this.base = this.currentTime;
    this.paused = true;
  }
}

async function joined(maria: Maria, id: string): Promise<RoomClient> {
  const room = maria.room(id, { backoff: fast });
  await room.connect();
  return room;
}

function userId(maria: Maria): string {
  return maria.user!.id;
}

describe("watching together", () => {
  test("one buffering member holds the play; everyone gets the same scheduled start", { timeout: 60_000 }, async () => {
    const [alice, bob, carol] = await Promise.all([member(server.url, "Alice"), member(server.url, "Bob"), member(server.url, "Carol")]);
    const id = await newRoom(alice);
    const rooms = [await joined(alice, id), await joined(bob, id), await joined(carol, id)];
    const [a, b, c] = rooms as [RoomClient, RoomClient, RoomClient];
    const players = rooms.map(() => new WallClockPlayer());
    const detach = rooms.map((room, i) => room.attach(players[i]!, { reportEveryMs: 200 }));
    const starts: number[][] = rooms.map(() => []);
    rooms.forEach((room, i) => room.on("playback", (frame) => frame.state === "playing" && starts[i]!.push(frame.at)));
    try {
      a.setReady("ready");
      b.setReady("buffering");
      c.setReady("ready");
      await until("everyone knows bob buffers", () => rooms.every((r) => r.state?.ready[userId(bob)] === "buffering"));

      a.play(0);
      await until("the room waits everywhere", () => rooms.every((r) => r.state?.playback.state === "waiting"));
      assert.ok(players.every((p) => p.paused), "nobody starts while the room waits");

      b.setReady("ready");
      await until("everyone plays", () => players.every((p) => !p.paused), 15_000);
      const ats = starts.map((seen) => seen.at(-1));
      assert.equal(new Set(ats).size, 1, `one scheduled start for everyone: ${ats.join(", ")}`);
      assert.deepEqual(players.map((p) => p.plays), [1, 1, 1]);

      // The server's own estimate of each client's clock came from its pings.
      await until("the server's clock estimates", () => rooms.every((r) => r.serverClock !== null));
      assert.ok(rooms.every((r) => r.serverClock!.rtt >= 0));

      // Bob's player jumps a second ahead: the server tells him, and he seeks back.
      const drifts: number[] = [];
      b.on("drift", (frame) => drifts.push(frame.delta));
      players[1]!.currentTime = players[1]!.currentTime + 1;
      await until("a large drift reported", () => drifts.some((d) => d >= 0.4));
      await until("bob back in step", () => Math.abs(players[1]!.currentTime - b.livePosition()) < 0.2);

      // A small drift is a rate nudge, then rate 1 again.
      players[2]!.currentTime = players[2]!.currentTime + 0.25;
      await until("carol nudged slower", () => players[2]!.rates.some((r) => r < 1 && r > 0.8));
      const rates = players[2]!.rates;
      const nudged = rates.findIndex((r) => r < 1);
      await until("carol at rate 1 again", () => rates.indexOf(1, nudged) > nudged, 10_000);
      // One nudge makes up the drift: it is not re-aimed at every report while it runs.
      assert.equal(rates.indexOf(1, nudged), nudged + 1, `rates: ${rates.join(", ")}`);
    } finally {
      for (const off of detach) off();
      for (const room of rooms) room.close();
    }
  });

  test("the queue advances identically everywhere; bad queue input is an error frame", { timeout: 60_000 }, async () => {
    const [alice, bob] = await Promise.all([member(server.url, "Alice"), member(server.url, "Bob")]);
    const id = await newRoom(alice);
    const a = await joined(alice, id);
    const b = await joined(bob, id);
    const errors = recorder(b).errors;
    const hostErrors = recorder(a).errors;
    try {
      a.queueAdd(301);
      a.queueAdd(302);
      a.queueAdd(303);
      await until("three entries everywhere", () => b.state?.queue.items.length === 3);
      a.queueMove(2, 0);
      a.queueNext();
      await until("bob sees the new media", () => b.state?.queue.movie_id === 303);
      assert.deepEqual(b.state!.queue, a.state!.queue);
      assert.equal(a.state!.queue.index, 0);
      // A media change: everyone present is loading the new film.
      assert.deepEqual(a.state!.ready, { [userId(alice)]: "buffering", [userId(bob)]: "buffering" });

      b.queueAdd(304); // a member, in a host-controlled room
      await until("bob refused", () => errors.includes("forbidden"));
      a.queueRemove(99);
      await until("a missing index", () => hostErrors.includes("not_found"));
      a.queueAddList("no-such-list");
      await until("a missing list", () => hostErrors.filter((e) => e === "not_found").length === 2);
      a.queueClear();
      await until("cleared everywhere", () => b.state?.queue.items.length === 0);
      assert.equal(a.status, "open");
      assert.equal(b.status, "open");
    } finally {
      a.close();
      b.close();
    }
  });

  test("roles, mute, lock, clear and kick, each seen by everyone", { timeout: 60_000 }, async () => {
    const [alice, bob, carol] = await Promise.all([member(server.url, "Alice"), member(server.url, "Bob"), member(server.url, "Carol")]);
    const id = await newRoom(alice);
    const a = await joined(alice, id);
    const b = await joined(bob, id);
    const c = await joined(carol, id);
    const seenC = recorder(c);
    const seenB = recorder(b);
    const moderated: string[] = [];
    b.on("moderated", (frame) => moderated.push(frame.action));
    try {
      assert.equal(b.canControl(), false);
      c.kick(userId(bob)); // a member may not moderate
      await until("carol refused", () => seenC.errors.includes("forbidden"));

      a.setRole(userId(bob), "cohost");
      await until("bob is a co-host", () => b.canControl() && b.canModerate());
      assert.ok(c.state!.roles.cohosts.includes(userId(bob)));

      b.mute(userId(carol), true);
      await until("carol muted", () => c.state?.roles.muted.includes(userId(carol)) === true);
      c.chat("can anyone hear me?");
      c.react("🔥", { position: 12 });
      await until("carol's chat and reaction refused", () => seenC.errors.filter((e) => e === "forbidden").length === 3);
      b.mute(userId(carol), false);
      b.lockChat(true);
      await until("chat locked", () => c.state?.roles.chat_locked === true && c.state.roles.muted.length === 0);
      c.chat("still nothing?");
      await until("carol refused while locked", () => seenC.errors.filter((e) => e === "forbidden").length === 4);
      b.chat("co-hosts may talk");
      await until("carol hears bob", () => seenC.chats.includes("co-hosts may talk"));
      b.clearChat();
      await until("the chat cleared everywhere", () => c.state?.messages.length === 0 && a.state?.messages.length === 0);

      b.kick(userId(carol));
      await until("carol is out", () => c.status === "closed" && seenC.codes.includes(4403), 10_000);
      await assert.rejects(c.connect(), (error: Error & { code?: string }) => error.code === "banned");
      assert.deepEqual(moderated, ["cohost", "mute", "unmute", "lock", "clear", "kick"]);
      assert.equal(seenB.errors.length, 0);
    } finally {
      a.close();
      b.close();
      c.close();
    }
  });

  test("reactions reach everyone and late joiners; unknown ones are refused", { timeout: 60_000 }, async () => {
    const [alice, bob, dave] = await Promise.all([member(server.url, "Alice"), member(server.url, "Bob"), member(server.url, "Dave")]);
    const id = await newRoom(alice);
    const a = await joined(alice, id);
    const b = await joined(bob, id);
    const errors = recorder(a).errors;
    try {
      a.chat("the opening scene!");
      await until("the message", () => b.state?.messages.length === 1);
      const message = b.state!.messages[0]!;
      b.react("😂", { messageId: message.id });
      await until("the first reaction", () => a.state?.reactions.length === 1);
      a.react(EMOJI[7]!, { position: 754.5 });
      await until("both reactions everywhere", () => a.state?.reactions.length === 2 && b.state?.reactions.length === 2);
      assert.equal(a.state!.reactions[0]!.message_id, message.id);
      assert.equal(b.state!.reactions[1]!.position, 754.5);

      a.react("🦄" as never, { position: 1 }); // outside the allowed set
      await until("an unknown emoji refused", () => errors.includes("validation_error"));
      assert.equal(a.status, "open");

      const d = await joined(dave, id);
      assert.deepEqual(d.state!.reactions.map((r) => r.emoji), ["😂", EMOJI[7]]);
      d.close();
    } finally {
      a.close();
      b.close();
    }
  });

  test("after a drop the client tells its ready state again", { timeout: 60_000 }, async () => {
    const [alice, bob] = await Promise.all([member(server.url, "Alice"), member(server.url, "Bob")]);
    const id = await newRoom(alice);
    const sockets: WebSocket[] = [];
    class Kept extends WebSocket {
      constructor(url: string | URL, protocols?: string | string[]) {
        super(url, protocols);
        sockets.push(this);
      }
    }
    const a = await joined(alice, id);
    const b = bob.room(id, { backoff: fast, WebSocket: Kept });
    await b.connect();
    const told: string[] = [];
    a.on("ready", (frame) => frame.user_id === userId(bob) && told.push(frame.state));
    try {
      b.setReady("buffering");
      await until("alice knows", () => told.includes("buffering"));
      sockets.at(-1)!.close(); // the socket drops; the server forgets bob's state with it
      await until("forgotten", () => told.includes("unknown"));
      await until("told again after the reconnect", () => told.at(-1) === "buffering" && b.status === "open");
      assert.equal(a.state!.ready[userId(bob)], "buffering");
    } finally {
      a.close();
      b.close();
    }
  });
});
