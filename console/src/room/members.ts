// The members present: each one's role, ready state and mute, and for the host and
// co-hosts the moderation buttons (make co-host / member: the host only; mute / unmute;
// remove). Nobody moderates the host, and only the host moderates co-hosts.

import type { RoomState } from "@kinoway/maria";
import { button, h, refill } from "../dom";
import { isModerator, whenChanged, type RoomCtx, type Section } from "./shared";

const READY_TEXT = { ready: "ready", buffering: "buffering" } as const;

export function membersSection(room: RoomCtx): Section {
  const { client, me } = room;
  const list = h("ul", { class: "members" });

  const actionsFor = (state: RoomState, userId: string, name: string): Node | null => {
    const amHost = state.host_id === me.id;
    const theyHost = state.host_id === userId;
    const theyCohost = state.roles.cohosts.includes(userId);
    if (userId === me.id || theyHost || !isModerator(state, me.id) || (theyCohost && !amHost)) return null;
    const muted = state.roles.muted.includes(userId);
    const key = (what: string): string => `${what}-${userId}`;
    return h("span", { class: "member-actions", role: "group", "aria-label": `Moderate ${name}` },
      amHost
        ? button(theyCohost ? "Make member" : "Make co-host", () => room.act(() => client.setRole(userId, theyCohost ? "member" : "cohost")), {
            "aria-label": theyCohost ? `Make ${name} a member` : `Make ${name} a co-host`,
            "data-key": key("role"),
            class: "small",
          })
        : null,
      button(muted ? "Unmute" : "Mute", () => room.act(() => client.mute(userId, !muted)), {
        "aria-label": `${muted ? "Unmute" : "Mute"} ${name}`,
        "data-key": key("mute"),
        class: "small",
      }),
      button("Remove", () => room.act(() => client.kick(userId)), {
        "aria-label": `Remove ${name} from the room`,
        "data-key": key("kick"),
        class: "small danger",
      }),
    );
  };

  const render = (state: RoomState): void => {
    refill(
      list,
      state.members.map((member) => {
        const ready = state.ready[member.user_id];
        return h("li", { "data-user": member.user_id },
          h("span", { class: "name" }, member.name),
          member.user_id === state.host_id ? h("span", { class: "badge" }, "host") : null,
          state.roles.cohosts.includes(member.user_id) ? h("span", { class: "badge" }, "co-host") : null,
          member.user_id === me.id ? h("span", { class: "badge ok" }, "you") : null,
          state.roles.muted.includes(member.user_id) ? h("span", { class: "badge warn" }, "muted") : null,
          h("span", { class: `badge ready-state ${ready ?? "unknown"}` }, ready ? READY_TEXT[ready] : "not reported"),
          actionsFor(state, member.user_id, member.name),
        );
      }),
    );
  };

  return {
    element: h("section", { class: "card", "aria-labelledby": "h-members" }, h("h2", { id: "h-members" }, "Members"), list),
    render: whenChanged(render, (state) => [state.members, state.ready, state.roles, state.host_id]),
  };
}
