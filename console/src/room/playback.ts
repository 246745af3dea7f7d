// Playback: the timeline (a range input over a stand-in player that the room client drives
// with attach(), so a scheduled start begins at its `at` and drift is corrected), play /
// pause / seek for those who control the room, the ready gate ("Waiting for 1 to be
// ready…", "Play anyway"), my own Ready / Buffering, and who controls playback.

import type { RoomState } from "@kinoway/maria";
import { button, field, h } from "../dom";
import { clock } from "../format";
import { RangePlayer } from "./player";
import type { RoomCtx, Section } from "./shared";

const HOURS = 3600;
const TICK_MS = 250;

export type ReadyState = "ready" | "buffering";

export interface PlaybackSection extends Section {
  /** Report my ready state again (after joining, after a media change). */
  reportReady(): void;
  dispose(): void;
}

/** Who holds the room's start: the members present who are buffering. */
export function buffering(state: RoomState): string[] {
  return state.members.filter((member) => state.ready[member.user_id] === "buffering").map((member) => member.user_id);
}

export function playbackSection(room: RoomCtx): PlaybackSection {
  const { client } = room;
  const player = new RangePlayer();
  let mine: ReadyState = "ready"; // no real player: ready as soon as joined, unless I say otherwise

  const timeline = h("input", { type: "range", name: "position", min: 0, max: 4 * HOURS, step: 1, value: 0 });
  // The range announces the time itself (aria-valuetext); this is the same for the eye.
  const position = h("span", { class: "position", "aria-hidden": "true" }, "0:00");
  const roomState = h("p", { class: "room-state", role: "status" });
  const playPause = button("Play", () =>
    room.act(() => {
      const state = client.state?.playback.state;
      if (state === "playing" || state === "waiting") client.pause(client.livePosition());
      else client.play(client.livePosition());
    }),
  );
  const playAnyway = button("Play anyway", () => room.act(() => client.playAnyway(client.livePosition())), { hidden: true });
  const back = button("Back 10 s", () => room.act(() => client.seek(Math.max(0, client.livePosition() - 10))));
  const forward = button("Forward 30 s", () => room.act(() => client.seek(client.livePosition() + 30)));

  let dragging = false;
  timeline.addEventListener("pointerdown", () => (dragging = true));
  timeline.addEventListener("input", () => {
    dragging = true;
    position.textContent = clock(Number(timeline.value));
  });
  timeline.addEventListener("change", () => {
    dragging = false;
    room.act(() => client.seek(Number(timeline.value)));
  });
  timeline.addEventListener("blur", () => (dragging = false));

  // My player's state, as the ready gate counts it.
  const readyName = `ready-${room.roomId}`;
  const readyRadio = (value: ReadyState, label: string): HTMLLabelElement => {
    const input = h("input", { type: "radio", name: readyName, value, checked: value === mine });
    input.addEventListener("change", () => {
      if (!input.checked) return;
      mine = value;
      room.act(() => client.setReady(mine));
    });
    return h("label", { class: "choice" }, input, label);
  };
  const readyChoice = h("fieldset", { class: "ready-choice" },
    h("legend", null, "My player"),
    readyRadio("ready", "Ready"),
    readyRadio("buffering", "Buffering"),
    h("small", { class: "hint" }, "No film plays here: say “Buffering” to see the room wait for you."),
  );

  const controlMode = h("select", { name: "control" },
    h("option", { value: "host" }, "Only the host and co-hosts"),
    h("option", { value: "everyone" }, "Everyone"),
  );
  controlMode.addEventListener("change", () => room.act(() => client.setControl(controlMode.value === "everyone" ? "everyone" : "host")));
  const controlRow = field("Who controls playback", controlMode);
  const controlNote = h("p", { class: "hint" });


  const describe = (state: RoomState): string => {
    const playback = state.playback;
    if (playback.state === "waiting") {
      const held = buffering(state);
      const who = held.map((id) => room.nameOf(id)).join(", ");
      return held.length ? `Waiting for ${held.length} to be ready… (${who})` : "Waiting for everyone to be ready…";
    }
    if (playback.state === "playing") {
      const wait = playback.at - client.serverNow();
      return wait > 0 ? "Starting in a moment…" : "Playing"; // a scheduled start: everyone at `at`
    }
    return `Paused at ${clock(playback.position)}`;
  };

  const tick = (): void => {
    const state = client.state;
    if (state) {
      const text = describe(state); // a scheduled start counts down
      if (roomState.textContent !== text) roomState.textContent = text;
    }
    const seconds = player.currentTime;
    if (seconds > Number(timeline.max)) timeline.max = String(Math.ceil(seconds / HOURS + 1) * HOURS);
    if (dragging) return;
    timeline.value = String(Math.floor(seconds));
    position.textContent = clock(seconds);
    timeline.setAttribute("aria-valuetext", clock(seconds));
  };

  const render = (state: RoomState): void => {
    const canControl = client.canControl();
    const isHost = state.host_id === room.me.id;
    for (const control of [playPause, back, forward, timeline]) control.disabled = !canControl;
    const running = state.playback.state === "playing" || state.playback.state === "waiting";
    playPause.textContent = running ? "Pause" : "Play";
    playAnyway.hidden = !(canControl && state.playback.state === "waiting");
    roomState.textContent = describe(state);
    roomState.dataset.state = state.playback.state;
    controlRow.hidden = !isHost;
    controlMode.value = state.control;
    controlNote.textContent = canControl ? "" : "Only the host and co-hosts control playback in this room.";
    tick();
  };

  const timer = window.setInterval(tick, TICK_MS);
  const detach = client.attach(player);

  return {
    element: h("section", { class: "card player", "aria-labelledby": "h-playback" },
      h("h2", { id: "h-playback" }, "Playback"),
      roomState,
      field("Position", timeline),
      position,
      h("div", { class: "actions" }, back, playPause, forward, playAnyway),
      readyChoice,
      controlRow,
      controlNote,
    ),
    render,
    reportReady: () => room.act(() => client.setReady(mine)),
    dispose: () => {
      window.clearInterval(timer);
      detach();
    },
  };
}
