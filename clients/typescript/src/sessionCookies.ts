/**
 * `refreshSessionCookies`: a cookie-mode session renewed on the app's own server (Next.js
 * middleware, any code that sees a page request before the server components read it).
 *
 * It needs Maria's refresh cookie on page requests, i.e. `MARIA_REFRESH_COOKIE_PATH=/`. It
 * renews only when the access cookie is gone or about to expire, at most once per call, and
 * through the very request the browser makes (the refresh cookie and `X-CSRF-Token` from
 * `maria_csrf`), so Maria writes every `Set-Cookie` itself (path, `Secure`, lifetimes) and the
 * helper knows none of its settings. A browser that refreshes with the same cookie at the same
 * moment gets the same new pair (Maria's reuse grace), so the two never race.
 *
 * Framework-free: a `Cookie` header in, `Set-Cookie` headers and the next `Cookie` header out.
 * It never throws for what a request carries or for Maria's answer; the tokens stay in the
 * cookies (the result holds no token).
 */
import { MariaError } from "./errors.js";
import { renewMarginMs, tokenTimes } from "./tokens.js";
import type { Session, User } from "./types.js";

const ACCESS = "maria_access";
const REFRESH = "maria_refresh";
const CSRF = "maria_csrf";
/** RFC 6265's cookie-octets: anything else cannot be a value Maria set. */
const COOKIE_VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]+$/;
const PRINTABLE = /^[\x20-\x7E]+$/;

export interface SessionCookiesOptions {
  /** Maria's URL as the server reaches it, e.g. `http://maria:8000`. */
  baseUrl: string;
  /** The incoming request's `Cookie` header. */
  cookieHeader: string | null | undefined;
  /** The browser's address (e.g. the incoming `X-Forwarded-For`), sent as
   * `X-Forwarded-For`. Maria believes it only from `MARIA_TRUSTED_PROXIES`; without it every
   * user shares the app server's address in the refresh limit (120 per minute). */
  forwardedFor?: string | null;
  fetch?: typeof fetch;
  /** How long the refresh may take before the request goes on without it (default 5 s). */
  timeoutMs?: number;
}

/**
 * - `current`: the access cookie is live: nothing was sent;
 * - `renewed`: Maria renewed the session: `setCookie` holds the new cookies, `user` the user;
 * - `ended`: Maria refused the refresh (revoked, expired, garbled): `setCookie` removes the
 *   session cookies;
 * - `none`: no refresh cookie (signed out, or Maria keeps it on `/api/v1/auth`): nothing to do;
 * - `unavailable`: Maria could not renew it now (unreachable, 5xx, 429): nothing changed,
 *   `error` says why; the browser client tries again on its own.
 */
export type SessionCookiesOutcome = "current" | "renewed" | "ended" | "none" | "unavailable";

export interface SessionCookies {
  outcome: SessionCookiesOutcome;
  /** The session's user when `renewed` (Maria's refresh answers it), else null. */
  user: User | null;
  /** `Set-Cookie` headers for the browser's response, as Maria wrote them. */
  setCookie: string[];
  /** The `Cookie` header for the rest of this request (server components, route handlers):
   * the incoming one with the renewed cookies, or without the removed ones. */
  cookieHeader: string;
  error?: MariaError;
}

export async function refreshSessionCookies(options: SessionCookiesOptions): Promise<SessionCookies> {
  const cookieHeader = options.cookieHeader ?? "";
  const cookies = parseCookieHeader(cookieHeader);
  const unchanged = (outcome: SessionCookiesOutcome, error?: MariaError): SessionCookies => ({
    outcome,
    user: null,
    setCookie: [],
    cookieHeader,
    ...(error ? { error } : {}),
  });
  const refresh = cookies.get(REFRESH);
  const csrf = cookies.get(CSRF);
  if (!refresh || !csrf || !COOKIE_VALUE.test(refresh) || !COOKIE_VALUE.test(csrf)) return unchanged("none");
  const access = cookies.get(ACCESS);
  if (access && live(access)) return unchanged("current");

  const headers = new Headers({ Accept: "application/json", Cookie: `${REFRESH}=${refresh}; ${CSRF}=${csrf}`, "X-CSRF-Token": csrf });
  const forwardedFor = options.forwardedFor?.trim();
  if (forwardedFor && PRINTABLE.test(forwardedFor)) headers.set("X-Forwarded-For", forwardedFor);
  let response: Response;
  try {
    response = await (options.fetch ?? globalThis.fetch)(`${options.baseUrl.replace(/\/+$/, "")}/api/v1/auth/refresh`, {
      method: "POST",
      headers,
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
    });
  } catch (error) {
    return unchanged("unavailable", MariaError.network(error));
  }
  if (response.status !== 200 && response.status !== 401) {
    return unchanged("unavailable", await MariaError.fromResponse(response));
  }
  const setCookie = response.headers.getSetCookie();
  const next = { setCookie, cookieHeader: withSetCookies(cookieHeader, setCookie) };
  if (response.status === 401) {
    return { outcome: "ended", user: null, ...next, error: await MariaError.fromResponse(response) };
  }
  let user: User | null = null;
  try {
    user = ((await response.json()) as Session).user;
  } catch {
    // The cookies are what counts: a body that does not parse costs the user, not them.
  }
  return { outcome: "renewed", user, ...next };
}

/** Whether an access token is still good for this request: not expired nor in the margin
 * in which the browser client would renew it (what is not a JWT is renewed). */
function live(accessToken: string): boolean {
  const times = tokenTimes(accessToken);
  if (times === null) return false;
  return times.exp * 1000 - Date.now() > renewMarginMs(times.exp - times.iat);
}

/** A `Cookie` header's pairs; of two with one name, the later (as Maria reads them). */
export function parseCookieHeader(header: string): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of header.split(";")) {
    const at = part.indexOf("=");
    if (at <= 0) continue;
    const name = part.slice(0, at).trim();
    if (name) cookies.set(name, part.slice(at + 1).trim());
  }
  return cookies;
}

/**
 * `header` after the browser applied `setCookie`: the cookies it sets replace their pairs
 * (or join), the ones it removes leave, every other pair stays as it was. A value set wins
 * over a removal of the same name in one answer (Maria removes a copy at another path
 * beside the cookie it sets).
 */
export function withSetCookies(header: string, setCookie: string[]): string {
  const set = new Map<string, string>();
  const touched = new Set<string>();
  for (const line of setCookie) {
    const [pair = "", ...attributes] = line.split(";");
    const at = pair.indexOf("=");
    if (at <= 0) continue;
    const name = pair.slice(0, at).trim();
    touched.add(name);
    if (!gone(attributes)) set.set(name, pair.slice(at + 1).trim().replace(/^"(.*)"$/, "$1"));
  }
  const kept = header
    .split(";")
    .map((part) => part.trim())
    .filter((part) => part !== "" && !touched.has(part.split("=", 1)[0]!.trim()));
  return [...kept, ...[...set].map(([name, value]) => `${name}=${value}`)].join("; ");
}

function gone(attributes: string[]): boolean {
  for (const attribute of attributes) {
    const [key = "", value = ""] = attribute.split("=").map((part) => part.trim());
    if (key.toLowerCase() === "max-age") return Number(value) <= 0;
  }
  for (const attribute of attributes) {
    const at = attribute.indexOf("=");
    if (attribute.slice(0, at).trim().toLowerCase() === "expires") return Date.parse(attribute.slice(at + 1)) <= Date.now();
  }
  return false;
}
