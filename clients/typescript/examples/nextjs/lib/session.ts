// lib/session.ts: what the server side (middleware, server components) knows of a session.
import { createServerApi, MariaError, parseCookieHeader, type User } from "@kinoway/maria";

/** What Next.js's `cookies()` and `request.cookies` offer, reduced to what is used here. */
export interface CookieReader {
  get(name: string): { value: string } | undefined;
}

/** The same over a `Cookie` header (the one middleware hands on to the server components). */
export function headerCookies(header: string): CookieReader {
  const cookies = parseCookieHeader(header);
  return { get: (name) => (cookies.has(name) ? { value: cookies.get(name)! } : undefined) };
}

/**
 * - "signed-in": the request carries the access cookie (it lives exactly as long as its
 *   token, so it is there only while the token is);
 * - "stale": no access cookie, but the CSRF cookie (which lives as long as the session)
 *   says there is a session that could not be renewed here: the browser renews it;
 * - "signed-out": neither.
 */
export type SessionState = "signed-in" | "stale" | "signed-out";

export function sessionState(cookies: CookieReader): SessionState {
  if (cookies.get("maria_access")) return "signed-in";
  return cookies.get("maria_csrf") ? "stale" : "signed-out";
}

/** The signed-in user of this request, or null. Server components call it with
 * `await cookies()`, which middleware renewed if needed; it only reads, never refreshes. */
export async function currentUser(cookies: CookieReader): Promise<User | null> {
  const accessToken = cookies.get("maria_access")?.value;
  if (!accessToken) return null;
  const api = createServerApi({ baseUrl: process.env.MARIA_URL ?? "http://localhost:8000", accessToken });
  try {
    const { data } = await api.GET("/api/v1/users/me");
    return data ?? null;
  } catch (error) {
    if (error instanceof MariaError && error.status === 401) return null; // revoked, or expired in flight
    throw error;
  }
}

/** For middleware: where to send a request for a private page that has no session at all
 * (null: let it through; a "stale" session is left to the browser to renew). */
export function signInRedirect(url: URL, cookies: CookieReader): URL | null {
  if (sessionState(cookies) !== "signed-out") return null;
  const target = new URL("/sign-in", url);
  target.searchParams.set("next", url.pathname + url.search);
  return target;
}
