// One room, live: members, chat, and play/pause/seek on a timeline (a range input, no real
// player) that follows the room's one playback state through livePosition().

import { ok } from "../api";
import type { Page } from "../context";
import { button, field, fill, h } from "../dom";
import { actionForm, errorBox } from "../errors";
import { clock, when } from "../format";

const HOURS = 3600;
const TICK_MS = 250;

export const room: Page = async (ctx, user, [encodedId]) => {
  const id = decodeURIComponent(encodedId ?? "");
  const info = await ok(ctx.maria.api.GET("/api/v1/rooms/{room_id}", { params: { path: { room_id: id } } }));
  const client = ctx.maria.room(id);

  const status = h("p", { class: "status", role: "status" }, "Connecting…");
  const frameError = errorBox();
  const members = h("ul", { class: "members" });
  const chat = h("ol", { class: "chat", role: "log", "aria-live": "polite", "aria-label": "Chat messages" });
  const shown = new Set<string>();

  // -- playback --------------------------------------------------------------------------
  const timeline = h("input", { type: "range", name: "position", min: 0, max: 4 * HOURS, step: 1, value: 0 });
  // The range announces the time itself (aria-valuetext); this is the same for the eye.
  const position = h("span", { class: "position", "aria-hidden": "true" }, "0:00");
  const playPause = button("Play", () => {
    const state = client.state?.playback.state;
    if (state === "playing") client.pause(client.livePosition());
    else client.play(client.livePosition());
  });
  const back = button("Back 10 s", () => client.seek(Math.max(0, client.livePosition() - 10)));
  const forward = button("Forward 30 s", () => client.seek(client.livePosition() + 30));
  let dragging = false;
  timeline.addEventListener("pointerdown", () => (dragging = true));
  timeline.addEventListener("input", () => {
    dragging = true;
    position.textContent = clock(Number(timeline.value));
  });
  timeline.addEventListener("change", () => {
    dragging = false;
    client.seek(Number(timeline.value));
  });
  timeline.addEventListener("blur", () => (dragging = false));

  const controlMode = h("select", { name: "control" },
    h("option", { value: "host" }, "Only the host"),
    h("option", { value: "everyone" }, "Everyone"),
  );
  controlMode.addEventListener("change", () => client.setControl(controlMode.value === "everyone" ? "everyone" : "host"));
  const controlRow = field("Who controls playback", controlMode);
  const controlNote = h("p", { class: "hint" });

  const tick = (): void => {
    const seconds = client.livePosition();
    if (seconds > Number(timeline.max)) timeline.max = String(Math.ceil(seconds / HOURS + 1) * HOURS);
    if (!dragging) {
      timeline.value = String(Math.floor(seconds));
      position.textContent = clock(seconds);
      timeline.setAttribute("aria-valuetext", clock(seconds));
    }
  };

  const renderState = (): void => {
    const state = client.state;
    if (!state) return;
    const isHost = state.host_id === user.id;
    const canControl = isHost || state.control === "everyone";
    for (const control of [playPause, back, forward, timeline]) control.disabled = !canControl;
    playPause.textContent = state.playback.state === "playing" ? "Pause" : "Play";
    controlRow.hidden = !isHost;
    controlMode.value = state.control;
    controlNote.textContent = canControl ? "" : "Only the host controls playback in this room.";
    fill(
      members,
      state.members.map((member) =>
        h("li", null, member.name,
          member.user_id === state.host_id ? h("span", { class: "badge" }, "host") : null,
          member.user_id === user.id ? h("span", { class: "badge ok" }, "you") : null,
        ),
      ),
    );
    for (const message of state.messages) {
      if (shown.has(message.id)) continue;
      shown.add(message.id);
      chat.append(
        h("li", null,
          h("span", { class: "who" }, message.name), ": ",
          h("span", { class: "text" }, message.text), " ",
          h("time", { datetime: new Date(message.timestamp).toISOString() }, new Date(message.timestamp).toLocaleTimeString()),
        ),
      );
      chat.scrollTop = chat.scrollHeight;
    }
    tick();
  };

  const offs = [
    client.on("welcome", renderState),
    client.on("presence", renderState),
    client.on("control", renderState),
    client.on("playback", renderState),
    client.on("chat", renderState),
    client.on("error", (frame) => {
      frameError.textContent = frame.message;
    }),
    client.on("status", ({ status: now }) => {
      status.textContent = { connecting: "Connecting…", open: "Connected", reconnecting: "Reconnecting…", closed: "Disconnected" }[now];
      if (now === "closed") ctx.recheck();
    }),
  ];
  const timer = window.setInterval(tick, TICK_MS);

  const text = h("input", { name: "text", maxlength: 1000, autocomplete: "off", required: true });
  const send = actionForm("Send a chat message", [field("Message", text)], "Send", async () => {
    if (!text.value.trim()) throw new Error("Write a message first.");
    frameError.textContent = "";
    client.chat(text.value);
    text.value = "";
    text.focus();
  });

  const roomIdField = h("input", { readonly: true, name: "room_id", value: id });
  const copyId = button("Copy the room id", () => {
    roomIdField.select();
    void navigator.clipboard?.writeText(id).then(() => ctx.notice("Room id copied."), () => undefined);
  });

  client.connect().then(renderState, () => {
    status.textContent = "Could not join the room.";
  });

  return {
    title: info.title ?? `Room for movie ${info.movie_id}`,
    body: [
      h("p", null, `Movie ${info.movie_id} · created ${when(info.created_at)}`),
      h("div", { class: "toolbar" }, field("Room id", roomIdField), h("div", { class: "actions" }, copyId)),
      status,
      h("div", { class: "room" },
        h("section", { class: "card player", "aria-labelledby": "h-playback" },
          h("h2", { id: "h-playback" }, "Playback"),
          field("Position", timeline),
          position,
          h("div", { class: "actions" }, back, playPause, forward),
          controlRow,
          controlNote,
        ),
        h("section", { class: "card", "aria-labelledby": "h-members" }, h("h2", { id: "h-members" }, "Members"), members),
        h("section", { class: "card chat-card", "aria-labelledby": "h-chat" }, h("h2", { id: "h-chat" }, "Chat"), chat, send, frameError),
      ),
    ],
    dispose: () => {
      window.clearInterval(timer);
      for (const off of offs) off();
      client.close();
    },
  };
};
