// Watch-together rooms: the rooms I host or was in, make one for a movie, or join one by
// its id.

import { ok } from "../api";
import type { Ctx, Page } from "../context";
import { field, h, table } from "../dom";
import { actionForm } from "../errors";
import { when } from "../format";

const ROLE_TEXT = { host: "Host", cohost: "Co-host", member: "Member" } as const;

async function myRooms(ctx: Ctx): Promise<HTMLElement> {
  const all = await ok(ctx.maria.api.GET("/api/v1/rooms"));
  if (all.length === 0) return h("p", { class: "hint" }, "No rooms yet: create one, or join one with its id or an invite link.");
  return table(
    "Rooms I host or was in",
    ["Room", "Movie", "My role", "Access", "Last joined"],
    all.map((room) =>
      h("tr", null,
        h("td", null, h("a", { href: `/console/rooms/${encodeURIComponent(room.id)}` }, room.title ?? `Room for movie ${room.movie_id}`)),
        h("td", null, String(room.movie_id)),
        h("td", null, ROLE_TEXT[room.my_role]),
        h("td", null, room.visibility === "private" ? "Private" : "Public"),
        h("td", null, room.last_joined_at ? when(room.last_joined_at) : "—"),
      ),
    ),
  );
}

/** The console path a room id or an invite link (the console's or MARIA_PUBLIC_URL's
 * `…/rooms/{id}?invite=…`) leads to, or null. */
export function joinTarget(typed: string): string | null {
  const text = typed.trim();
  if (!text) return null;
  if (!text.includes("/")) return `/rooms/${encodeURIComponent(text)}`;
  let url: URL;
  try {
    url = new URL(text, location.origin);
  } catch {
    return null;
  }
  const found = /\/rooms\/([^/]+)\/?$/.exec(url.pathname);
  if (!found?.[1]) return null;
  const invite = url.searchParams.get("invite");
  return `/rooms/${found[1]}${invite ? `?invite=${encodeURIComponent(invite)}` : ""}`;
}

export const rooms: Page = async (ctx) => {
  const mine = await myRooms(ctx);
  const movie = h("input", { type: "number", name: "movie_id", min: 1, max: 2147483647, step: 1, required: true, inputmode: "numeric" });
  const title = h("input", { name: "title", maxlength: 200 });
  const isPrivate = h("input", { type: "checkbox", name: "private" });
  const create = actionForm(
    "Create a room",
    [field("Kinopoisk id of the movie", movie), field("Title (optional)", title), field("Private (joined with an invite link)", isPrivate)],
    "Create the room",
    async () => {
      const id = Number(movie.value);
      if (!Number.isInteger(id) || id < 1) throw new Error("A Kinopoisk id is a whole number from 1 up.");
      const body = { movie_id: id, visibility: isPrivate.checked ? ("private" as const) : ("public" as const), ...(title.value.trim() ? { title: title.value } : {}) };
      const room = await ok(ctx.maria.api.POST("/api/v1/rooms", { body }));
      ctx.go(`/rooms/${encodeURIComponent(room.id)}`);
    },
  );
  const roomId = h("input", { name: "room_id", required: true, autocomplete: "off", spellcheck: "false" });
  const join = actionForm("Join a room", [field("Room id or invite link", roomId, "The host can copy either from the room's page.")], "Join", async () => {
    const target = joinTarget(roomId.value);
    if (!target) throw new Error("Enter the room's id, or paste an invite link.");
    ctx.go(target);
  });
  return {
    title: "Rooms",
    body: [
      h("section", { "aria-labelledby": "h-my-rooms" }, h("h2", { id: "h-my-rooms" }, "Rooms I host or was in"), mine),
      h("div", { class: "grid" },
        h("section", { class: "card", "aria-labelledby": "h-create-room" }, h("h2", { id: "h-create-room" }, "New room"), create),
        h("section", { class: "card", "aria-labelledby": "h-join-room" }, h("h2", { id: "h-join-room" }, "Join a room"), join),
      ),
    ],
  };
};
