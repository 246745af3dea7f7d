// Watch-together rooms: make one for a movie, or join one by its id.

import { ok } from "../api";
import type { Page } from "../context";
import { field, h } from "../dom";
import { actionForm } from "../errors";

export const rooms: Page = async (ctx) => {
  const movie = h("input", { type: "number", name: "movie_id", min: 1, max: 2147483647, step: 1, required: true, inputmode: "numeric" });
  const title = h("input", { name: "title", maxlength: 200 });
  const create = actionForm(
    "Create a room",
    [field("Kinopoisk id of the movie", movie), field("Title (optional)", title)],
    "Create the room",
    async () => {
      const id = Number(movie.value);
      if (!Number.isInteger(id) || id < 1) throw new Error("A Kinopoisk id is a whole number from 1 up.");
      const room = await ok(ctx.maria.api.POST("/api/v1/rooms", { body: title.value.trim() ? { movie_id: id, title: title.value } : { movie_id: id } }));
      ctx.go(`/rooms/${encodeURIComponent(room.id)}`);
    },
  );
  const roomId = h("input", { name: "room_id", required: true, autocomplete: "off", spellcheck: "false" });
  const join = actionForm("Join a room", [field("Room id", roomId, "The host can copy it from the room's page.")], "Join", async () => {
    const id = roomId.value.trim();
    if (!id) throw new Error("Enter the room's id.");
    ctx.go(`/rooms/${encodeURIComponent(id)}`);
  });
  return {
    title: "Rooms",
    body: [
      h("div", { class: "grid" },
        h("section", { class: "card", "aria-labelledby": "h-create-room" }, h("h2", { id: "h-create-room" }, "New room"), create),
        h("section", { class: "card", "aria-labelledby": "h-join-room" }, h("h2", { id: "h-join-room" }, "Join a room"), join),
      ),
    ],
  };
};
