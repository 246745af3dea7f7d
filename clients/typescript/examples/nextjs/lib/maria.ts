// lib/maria.ts: the one client of the browser side (client components import it).
import { createMaria } from "@kinoway/maria";

/**
 * Cookie mode: the session lives in Maria's HttpOnly cookies, so no token is ever written
 * where scripts can read it. `baseUrl` "" is the page's own origin (next.config.mjs
 * forwards /api/v1 to Maria); NEXT_PUBLIC_MARIA_URL is only for calling Maria directly.
 */
export const maria = createMaria({
  mode: "cookie",
  baseUrl: process.env.NEXT_PUBLIC_MARIA_URL ?? "",
});

/** A room's socket goes to Maria directly (authenticated in band, so no cookie or CORS
 * rule is involved): the rewrite above carries HTTP only. */
export function joinRoom(roomId: string) {
  return maria.room(roomId, { wsUrl: process.env.NEXT_PUBLIC_MARIA_WS_URL ?? "ws://localhost:8000" });
}
