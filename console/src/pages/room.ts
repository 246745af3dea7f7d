// One room, live: playback with the ready gate, the shared queue, reactions, members with
// their moderation, the chat, and (for the host and co-hosts) access and invites. Opened
// with `?invite=<token>`, the page first redeems the invite (POST /rooms/{id}/join), then
// joins; a close that ends the visit (removed, the room full or deleted) is said in words.

import type { RoomState } from "@kinoway/maria";
import { ok } from "../api";
import type { Page, View } from "../context";
import { button, field, h } from "../dom";
import { errorBox, messageOf } from "../errors";
import { when } from "../format";
import { accessSection, accessSummary, type RoomInfo } from "../room/access";
import { chatSection, moderationText } from "../room/chat";
import { membersSection } from "../room/members";
import { playbackSection } from "../room/playback";
import { queueSection } from "../room/queue";
import { reactionsSection } from "../room/reactions";
import { NameBook, type RoomCtx } from "../room/shared";

/** Why the socket closed for good, in words (close codes and reasons of docs/api.md). */
export function closedText(code: number | undefined, reason: string | undefined): string | null {
  const why = reason ?? "";
  if (code === 4403) {
    if (why.startsWith("banned")) {
      const wait = /back in (\d+) s/.exec(why)?.[1];
      return `You were removed from this room: you may come back ${wait ? `in ${wait} s` : "later"}.`;
    }
    if (why.startsWith("kicked")) return "You were removed from this room.";
    return "This room is private: you need an invite to join it.";
  }
  if (code === 4404) return "There is no such room.";
  if (code === 4409) return "The room is full: try again later.";
  if (code === 4410) return "The room was deleted.";
  if (code === 4401) return "You are signed out of the room.";
  return null;
}

function refused(title: string, failure: unknown): View {
  return {
    title,
    body: [
      h("p", { class: "error", role: "alert" }, messageOf(failure)),
      h("p", null, h("a", { href: "/console/rooms" }, "Back to your rooms")),
    ],
  };
}

export const room: Page = async (ctx, user, [encodedId], query) => {
  const id = decodeURIComponent(encodedId ?? "");
  const path = { room_id: id };
  const invite = query.get("invite");
  if (invite) {
    try {
      await ok(ctx.maria.api.POST("/api/v1/rooms/{room_id}/join", { params: { path }, body: { invite } }));
    } catch (failure) {
      return refused("Could not join the room", failure);
    }
    history.replaceState(null, "", `/console/rooms/${encodeURIComponent(id)}`); // redeemed: a reload needs no token
  }
  let info: RoomInfo & { title?: string | null };
  try {
    info = await ok(ctx.maria.api.GET("/api/v1/rooms/{room_id}", { params: { path } }));
  } catch (failure) {
    return refused("Could not open the room", failure);
  }

  const client = ctx.maria.room(id);
  const names = new NameBook();
  const alert = errorBox();
  const removed = h("p", { class: "removed", role: "alert" });
  const room: RoomCtx = {
    ctx,
    client,
    me: user,
    roomId: id,
    nameOf: (userId) => names.nameOf(userId),
    act: (command) => {
      alert.textContent = "";
      try {
        const result = command();
        if (result instanceof Promise) result.catch((failure: unknown) => (alert.textContent = messageOf(failure)));
      } catch (failure) {
        alert.textContent = messageOf(failure);
      }
    },
  };

  const status = h("p", { class: "status", role: "status" }, "Connecting…");
  const summary = h("span", null, accessSummary(info));
  const playback = playbackSection(room);
  const queue = queueSection(room);
  const reactions = reactionsSection(room);
  const members = membersSection(room);
  const chat = chatSection(room);
  const access = accessSection(room, info, (updated) => (summary.textContent = accessSummary(updated)));
  const sections = [playback, queue, reactions, members, chat];

  const render = (): void => {
    const state: RoomState | null = client.state;
    if (!state) return;
    names.learn(state);
    for (const section of sections) section.render(state);
    access.setAllowed(client.canModerate());
  };

  let mediaSeq: number | null = null;
  const offs = [
    client.on("welcome", () => {
      mediaSeq = client.state?.queue.media_seq ?? null;
      playback.reportReady(); // after every (re)join: no real player, so ready unless I said otherwise
      render();
    }),
    client.on("queue", () => {
      const now = client.state?.queue.media_seq ?? null;
      if (now !== mediaSeq) {
        mediaSeq = now;
        playback.reportReady(); // a new film sets everyone buffering: "load" it at once
      }
      render();
    }),
    ...(["presence", "control", "playback", "chat", "ready", "roles", "reaction"] as const).map((type) => client.on(type, render)),
    client.on("moderated", (frame) => {
      if (client.state) names.learn(client.state);
      chat.notice(moderationText(frame, (userId) => names.nameOf(userId)));
      render();
    }),
    client.on("error", (frame) => {
      alert.textContent = frame.message;
    }),
    client.on("status", ({ status: now, code, reason }) => {
      status.textContent = { connecting: "Connecting…", open: "Connected", reconnecting: "Reconnecting…", closed: "Disconnected" }[now];
      if (now !== "closed") return;
      const why = closedText(code, reason);
      if (why) {
        removed.textContent = why;
        grid.inert = true;
        grid.classList.add("ended");
      }
      ctx.recheck();
    }),
  ];

  const roomIdField = h("input", { readonly: true, name: "room_id", value: id });
  const copyId = button("Copy the room id", () => {
    roomIdField.select();
    void navigator.clipboard?.writeText(id).then(() => ctx.notice("Room id copied."), () => undefined);
  });

  const grid = h("div", { class: "room" },
    playback.element,
    members.element,
    queue.element,
    reactions.element,
    chat.element,
    access.element,
  );

  client.connect().then(render, (failure: unknown) => {
    if (!removed.textContent) status.textContent = `Could not join the room: ${messageOf(failure)}`;
  });

  return {
    title: info.title ?? `Room for movie ${info.movie_id}`,
    body: [
      h("p", null, `Movie ${info.movie_id} · created ${when(info.created_at)} · `, summary),
      h("div", { class: "toolbar" }, field("Room id", roomIdField), h("div", { class: "actions" }, copyId)),
      status,
      removed,
      alert,
      grid,
    ],
    dispose: () => {
      for (const off of offs) off();
      playback.dispose();
      client.close();
    },
  };
};
