// The shared queue: its films in order (the one playing marked), and for those who control
// the room: add by Kinopoisk id or a whole list of mine, play this one, move up / down,
// remove, previous / next, clear.

import type { RoomState } from "@kinoway/maria";
import { ok } from "../api";
import { button, field, h, refill } from "../dom";
import { actionForm } from "../errors";
import { whenChanged, type RoomCtx, type Section } from "./shared";

export function queueSection(room: RoomCtx): Section {
  const { client, ctx } = room;
  const list = h("ol", { class: "queue", "aria-label": "Queue" });
  const current = h("p", { class: "now-playing" });
  const empty = h("p", { class: "hint" }, "The queue is empty.");
  const note = h("p", { class: "hint" }, "Only the host and co-hosts change the queue in this room.");

  const movie = h("input", { type: "number", name: "queue_movie_id", min: 1, max: 2147483647, step: 1, required: true, inputmode: "numeric" });
  const addMovie = actionForm("Add a film to the queue", [field("Kinopoisk id", movie)], "Add to the queue", async () => {
    const id = Number(movie.value);
    if (!movie.value || !Number.isInteger(id) || id < 1) throw new Error("A Kinopoisk id is a whole number from 1 up.");
    client.queueAdd(id);
    movie.value = "";
    movie.focus();
  }, { class: "inline" });

  const myLists = h("select", { name: "queue_list" }, h("option", { value: "" }, "Loading your lists…"));
  const addList = actionForm("Add one of my lists to the queue", [field("One of my lists", myLists)], "Add the list", async () => {
    if (!myLists.value) throw new Error("Choose one of your lists.");
    client.queueAddList(myLists.value);
  }, { class: "inline" });
  ok(ctx.maria.api.GET("/api/v1/users/me/lists")).then(
    (lists) => refill(myLists, lists.map((one) => h("option", { value: one.slug }, `${one.title} (${one.count})`))),
    () => refill(myLists, h("option", { value: "" }, "Your lists could not be loaded")),
  );

  const previous = button("Previous", () => room.act(() => client.queuePrevious()));
  const next = button("Next", () => room.act(() => client.queueNext()));
  const clear = button("Clear the queue", () => room.act(() => client.queueClear()));
  const controls = h("div", { class: "controls" },
    h("div", { class: "actions", role: "group", "aria-label": "Queue" }, previous, next, clear),
    addMovie,
    addList,
  );

  const render = (state: RoomState, canControl: boolean): void => {
    const queue = state.queue;
    const items = queue.items;
    current.textContent = queue.index === null ? `Now: movie ${queue.movie_id} (not from the queue)` : `Now: movie ${queue.movie_id}, ${queue.index + 1} of ${items.length}`;
    empty.hidden = items.length > 0;
    list.hidden = items.length === 0;
    refill(
      list,
      items.map((entry, index) => {
        const playing = index === queue.index;
        const label = `movie ${entry.movie_id} (${index + 1})`;
        const key = (what: string): string => `${what}-${entry.id}`;
        return h("li", { class: playing ? "current" : null, "aria-current": playing ? "true" : null, "data-entry": entry.id },
          h("span", { class: "film" }, `Movie ${entry.movie_id}`),
          playing ? h("span", { class: "badge ok" }, "playing") : null,
          canControl
            ? h("span", { class: "entry-actions" },
                button("Play", () => room.act(() => client.queuePlay(index)), { "aria-label": `Play ${label}`, "data-key": key("play"), class: "small", disabled: playing }),
                button("Up", () => room.act(() => client.queueMove(index, index - 1)), { "aria-label": `Move ${label} up`, "data-key": key("up"), class: "small", disabled: index === 0 }),
                button("Down", () => room.act(() => client.queueMove(index, index + 1)), { "aria-label": `Move ${label} down`, "data-key": key("down"), class: "small", disabled: index === items.length - 1 }),
                button("Remove", () => room.act(() => client.queueRemove(index)), { "aria-label": `Remove ${label} from the queue`, "data-key": key("remove"), class: "small" }),
              )
            : null,
        );
      }),
    );
    controls.hidden = !canControl;
    note.hidden = canControl;
    previous.disabled = queue.index === null || queue.index === 0;
    next.disabled = items.length === 0 || queue.index === items.length - 1;
    clear.disabled = items.length === 0;
  };

  const show = whenChanged((state) => render(state, client.canControl()), (state) => [state.queue, client.canControl()]);
  return {
    element: h("section", { class: "card queue-card", "aria-labelledby": "h-queue" },
      h("h2", { id: "h-queue" }, "Queue"),
      current,
      list,
      empty,
      note,
      controls,
    ),
    render: show,
  };
}
