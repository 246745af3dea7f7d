// The chat: the live log (each message once, with its reactions and a small "React"
// picker), moderation announced as notices in the log ("Anna muted Bob"), the message box
// (disabled, saying why, while I am muted or the chat is locked to me), and for the host
// and co-hosts: lock / unlock and clear the chat.

import type { RoomEvents, RoomState } from "@kinoway/maria";
import { button, field, h, fill } from "../dom";
import { actionForm } from "../errors";
import { emojiButtons, emojiText } from "./reactions";
import { isModerator, type RoomCtx, type Section } from "./shared";

type Moderated = RoomEvents["moderated"];

/** What a moderation frame says, in words ("Anna muted Bob"). */
export function moderationText(frame: Moderated, nameOf: (id: string | undefined) => string): string {
  const by = nameOf(frame.by);
  const whom = nameOf(frame.user_id);
  switch (frame.action) {
    case "kick": return `${by} removed ${whom} from the room`;
    case "mute": return `${by} muted ${whom}`;
    case "unmute": return `${by} unmuted ${whom}`;
    case "lock": return `${by} locked the chat`;
    case "unlock": return `${by} unlocked the chat`;
    case "clear": return `${by} cleared the chat`;
    case "cohost": return `${by} made ${whom} a co-host`;
    case "member": return `${by} made ${whom} a member`;
  }
}

/** Why I may not write now, or null if I may. */
export function chatClosedReason(state: RoomState, me: string): string | null {
  if (state.roles.muted.includes(me)) return "You are muted in this room: you cannot chat or react.";
  if (state.roles.chat_locked && !isModerator(state, me)) return "The chat is locked: only the host and co-hosts can write.";
  return null;
}

export interface ChatSection extends Section {
  notice(text: string): void;
}

export function chatSection(room: RoomCtx): ChatSection {
  const { client } = room;
  const log = h("ol", { class: "chat", role: "log", "aria-live": "polite", "aria-label": "Chat messages" });
  const shown = new Map<string, HTMLElement>(); // message id → its reactions' place

  const text = h("input", { name: "text", maxlength: 1000, autocomplete: "off", required: true });
  const send = actionForm("Send a chat message", [field("Message", text)], "Send", async () => {
    if (!text.value.trim()) throw new Error("Write a message first.");
    client.chat(text.value);
    text.value = "";
    text.focus();
  });
  const sendButton = send.querySelector("button[type=submit]") as HTMLButtonElement;
  const closedReason = h("p", { class: "chat-closed", id: `chat-closed-${room.roomId}` });
  text.setAttribute("aria-describedby", closedReason.id);

  const lock = button("Lock the chat", () => room.act(() => client.lockChat(!client.state?.roles.chat_locked)));
  const clear = button("Clear the chat", () => {
    clear.hidden = true;
    confirm.hidden = false;
    (confirm.querySelector("button") as HTMLButtonElement).focus();
  });
  const confirm = h("span", { class: "confirm", hidden: true },
    "Delete every message for everyone?",
    button("Yes, clear the chat", () => {
      confirm.hidden = true;
      clear.hidden = false;
      room.act(() => client.clearChat());
      clear.focus();
    }, { class: "danger" }),
    button("Cancel", () => {
      confirm.hidden = true;
      clear.hidden = false;
      clear.focus();
    }),
  );
  const moderation = h("div", { class: "actions", role: "group", "aria-label": "Chat moderation" }, lock, clear, confirm);

  const reactionsOf = (state: RoomState, messageId: string): Node[] => {
    const counts = new Map<string, number>();
    for (const reaction of state.reactions) if (reaction.message_id === messageId) counts.set(reaction.emoji, (counts.get(reaction.emoji) ?? 0) + 1);
    return [...counts].map(([emoji, count]) => h("span", { class: "chip" }, emojiText(emoji), ` ${count}`));
  };

  const messageItem = (message: RoomState["messages"][number]): HTMLLIElement => {
    const chips = h("span", { class: "chips" });
    const about = `to ${message.name}'s message`;
    let picker: HTMLDivElement | null = null; // made when first opened: not 12 buttons a message
    const toggle = button("React", () => {
      if (picker === null) {
        picker = emojiButtons(about, (emoji) => {
          if (picker) picker.hidden = true;
          toggle.setAttribute("aria-expanded", "false");
          room.act(() => client.react(emoji, { messageId: message.id }));
          toggle.focus();
        });
        picker.hidden = true;
        toggle.after(picker);
      }
      picker.hidden = !picker.hidden;
      toggle.setAttribute("aria-expanded", String(!picker.hidden));
    }, { class: "small", "aria-label": `React ${about}`, "aria-expanded": "false" });
    shown.set(message.id, chips);
    return h("li", { "data-id": message.id },
      h("span", { class: "who" }, message.name), ": ",
      h("span", { class: "text" }, message.text), " ",
      h("time", { datetime: new Date(message.timestamp).toISOString() }, new Date(message.timestamp).toLocaleTimeString()), " ",
      chips, toggle,
    );
  };

  const render = (state: RoomState): void => {
    if (shown.size > 0 && state.messages.length === 0) {
      // cleared: the messages go, the notices stay
      for (const item of log.querySelectorAll("li[data-id]")) item.remove();
      shown.clear();
    }
    for (const message of state.messages) {
      if (shown.has(message.id)) continue;
      log.append(messageItem(message));
      log.scrollTop = log.scrollHeight;
    }
    for (const [id, chips] of shown) fill(chips, reactionsOf(state, id));

    const reason = chatClosedReason(state, room.me.id);
    text.disabled = reason !== null;
    sendButton.disabled = reason !== null;
    closedReason.textContent = reason ?? "";
    for (const toggle of log.querySelectorAll<HTMLButtonElement>("li[data-id] > button")) toggle.disabled = state.roles.muted.includes(room.me.id);
    moderation.hidden = !client.canModerate();
    lock.textContent = state.roles.chat_locked ? "Unlock the chat" : "Lock the chat";
  };

  return {
    element: h("section", { class: "card chat-card", "aria-labelledby": "h-chat" },
      h("h2", { id: "h-chat" }, "Chat"),
      log,
      closedReason,
      send,
      moderation,
    ),
    render,
    notice: (line) => {
      log.append(h("li", { class: "notice-line" }, line));
      log.scrollTop = log.scrollHeight;
    },
  };
}
