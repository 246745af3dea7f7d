// lib/resume.ts: what the <SessionGate> client component runs when the server rendered a
// "stale" session: the browser renews it (once, shared by every tab), then the server
// components render again with the fresh access cookie.
import type { Maria, User } from "@kinoway/maria";

export async function resumeSession(maria: Maria, rerender: () => void): Promise<User | null> {
  const user = await maria.restore(); // GET /users/me; its 401 makes the one refresh
  if (user !== null) rerender(); // next/navigation's router.refresh()
  return user;
}
