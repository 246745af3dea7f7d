/**
 * A room's chat as this client has seen it: in the room's one order (`seq`), each message
 * once. Messages arrive from the welcome's history, live frames and, after a reconnect,
 * `GET /rooms/{id}/messages` pages that fill the gap; overlaps between them are expected
 * and dropped here.
 */
import type { Message } from "./types.js";

const KEPT = 1_000; // what `messages` keeps in memory; older ones stay on the server

export class ChatLog {
  readonly messages: Message[] = [];
  private readonly ids = new Set<string>();
  /** The highest `seq` seen: everything at or below it was delivered (or deleted). */
  lastSeq: number | null = null;

  /** Add a message; false when it was seen already (by id, or by its place in the order). */
  add(message: Message): boolean {
    if (this.ids.has(message.id) || (this.lastSeq !== null && message.seq <= this.lastSeq)) return false;
    this.messages.push(message);
    this.ids.add(message.id);
    this.lastSeq = message.seq;
    if (this.messages.length > KEPT) {
      const dropped = this.messages.shift();
      if (dropped) this.ids.delete(dropped.id);
    }
    return true;
  }
}
