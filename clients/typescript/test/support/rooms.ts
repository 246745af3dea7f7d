/** Rooms for the tests: signed-in clients, a room, and a WebSocket class the test controls. */
import { createMaria, type Maria, type RoomClient, type RoomOptions } from "@kinoway/maria";

import { MemoryStorage, newAccount } from "./helpers.js";

export async function member(url: string, name: string, storage = new MemoryStorage()): Promise<Maria> {
  const maria = createMaria({ mode: "bearer", baseUrl: url, storage, crossTab: false });
  await maria.register(newAccount(name));
  return maria;
}

export async function newRoom(host: Maria): Promise<string> {
  const { data } = await host.api.POST("/api/v1/rooms", { body: { movie_id: 326, title: "Test night" } });
  return data!.id;
}

/** Real WebSockets, counted; while `gate.open` is false they are aimed at a closed port, so
 * the client meets real failed connections (1006) and backs off, as when a network is down. */
export function gatedWebSocket(): { WebSocket: typeof WebSocket; gate: { open: boolean }; made: () => number } {
  const gate = { open: true };
  let made = 0;
  class Gated extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      made += 1;
      super(gate.open ? url : "ws://127.0.0.1:9/closed", protocols);
    }
  }
  return { WebSocket: Gated, gate, made: () => made };
}

/** Everything a room client tells: chat texts in arrival order, statuses, errors. */
export function recorder(room: RoomClient): { chats: string[]; statuses: string[]; errors: string[]; codes: number[] } {
  const seen = { chats: [] as string[], statuses: [] as string[], errors: [] as string[], codes: [] as number[] };
  room.on("chat", (message) => seen.chats.push(message.text));
  room.on("status", (event) => {
    seen.statuses.push(event.status);
    if (event.code !== undefined) seen.codes.push(event.code);
  });
  room.on("error", (error) => seen.errors.push(error.code));
  return seen;
}

export const fast: RoomOptions["backoff"] = { initialMs: 50, maxMs: 200 };
