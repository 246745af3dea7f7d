// What the room page's sections share: the room's client, who I am, the names of the
// people seen in the room, and one place where a failed command says why.

import type { RoomClient, RoomState, User } from "@kinoway/maria";
import type { Ctx } from "../context";

export interface RoomCtx {
  readonly ctx: Ctx;
  readonly client: RoomClient;
  readonly me: User;
  readonly roomId: string;
  /** Runs a command (a socket frame or an API call); a failure's message is shown. */
  act(command: () => unknown): void;
  /** The display name of a user seen in this room ("someone" if never seen). */
  nameOf(userId: string | null | undefined): string;
}

/** A part of the room page: its element, and how it shows a new room state. */
export interface Section {
  element: HTMLElement;
  render(state: RoomState): void;
}

/** The names of everyone this page has seen: members, authors, reactors. */
export class NameBook {
  private readonly names = new Map<string, string>();

  learn(state: RoomState): void {
    for (const member of state.members) this.names.set(member.user_id, member.name);
    for (const message of state.messages) if (!this.names.has(message.user_id)) this.names.set(message.user_id, message.name);
    for (const reaction of state.reactions) if (!this.names.has(reaction.user_id)) this.names.set(reaction.user_id, reaction.name);
  }

  nameOf(userId: string | null | undefined): string {
    return (userId && this.names.get(userId)) || "someone";
  }
}

/** Renders only when what a section shows changed (so focus and clicks are not lost to
 * re-rendering on every frame). */
export function whenChanged(render: (state: RoomState) => void, key: (state: RoomState) => unknown): (state: RoomState) => void {
  let last = "";
  return (state) => {
    const now = JSON.stringify(key(state));
    if (now === last) return;
    last = now;
    render(state);
  };
}

/** Is this user the host or a co-host? */
export function isModerator(state: RoomState, userId: string): boolean {
  return state.host_id === userId || state.roles.cohosts.includes(userId);
}
