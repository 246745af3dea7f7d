// Reactions: the allowed emoji (the client's EMOJI, the server's set) as buttons that react
// at the current position, the room's recent reactions (late joiners get them from the
// welcome), and the small per-message picker the chat uses. Every emoji has a name for
// screen readers.

import { EMOJI, type RoomState } from "@kinoway/maria";
import { button, h, refill } from "../dom";
import { clock } from "../format";
import { whenChanged, type RoomCtx, type Section } from "./shared";

const NAMES: Record<string, string> = {
  "👍": "thumbs up",
  "👎": "thumbs down",
  "😂": "laughing",
  "😮": "surprised",
  "😢": "sad",
  "😡": "angry",
  "❤️": "heart",
  "🔥": "fire",
  "👏": "applause",
  "🎉": "party",
  "🍿": "popcorn",
  "💀": "skull",
};
const RECENT = 12;

export type Emoji = (typeof EMOJI)[number];

/** An emoji's spoken name. */
export function emojiName(emoji: string): string {
  return NAMES[emoji] ?? emoji;
}

/** An emoji shown to the eye, named for the ear. */
export function emojiText(emoji: string): HTMLSpanElement {
  return h("span", { role: "img", "aria-label": emojiName(emoji) }, emoji);
}

/** A row of emoji buttons: ``onPick`` gets the chosen one. ``about`` ends each label
 * ("React with popcorn <about>"). */
export function emojiButtons(about: string, onPick: (emoji: Emoji) => void): HTMLDivElement {
  return h("div", { class: "emoji", role: "group", "aria-label": `Reactions ${about}` },
    EMOJI.map((emoji) =>
      button(emoji, () => onPick(emoji), { "aria-label": `React with ${emojiName(emoji)} ${about}`, class: "emoji-button" }),
    ),
  );
}

export function reactionsSection(room: RoomCtx): Section {
  const { client } = room;
  const picker = emojiButtons("at the current position", (emoji) =>
    room.act(() => client.react(emoji, { position: Math.floor(client.livePosition() * 10) / 10 })),
  );
  const recent = h("ul", { class: "reactions", "aria-live": "polite", "aria-label": "Recent reactions" });
  const muted = h("p", { class: "hint" });

  const showRecent = whenChanged(
    (state: RoomState) => {
      const last = state.reactions.slice(-RECENT).reverse();
      refill(recent,
        last.length === 0 ? h("li", { class: "hint" }, "No reactions yet.") : null,
        last.map((reaction) =>
          h("li", null,
            emojiText(reaction.emoji), " ",
            h("span", { class: "who" }, reaction.name), " ",
            reaction.position !== undefined ? `at ${clock(reaction.position)}` : "on a message",
          ),
        ),
      );
    },
    (state) => state.reactions.map((reaction) => reaction.id),
  );

  return {
    element: h("section", { class: "card", "aria-labelledby": "h-reactions" },
      h("h2", { id: "h-reactions" }, "Reactions"),
      picker,
      muted,
      recent,
    ),
    render: (state) => {
      const isMuted = state.roles.muted.includes(room.me.id);
      for (const pick of picker.querySelectorAll("button")) pick.disabled = isMuted;
      muted.textContent = isMuted ? "You are muted in this room: you cannot react." : "";
      showRecent(state);
    },
  };
}
