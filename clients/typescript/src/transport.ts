/**
 * The `fetch` the generated client sends every request through: it adds the credentials
 * of the client's mode, renews an expired pair once (single-flight) and sends the request
 * again, and turns every answer that is not 2xx (or 304) into a `MariaError`, so that a
 * resolved call always carries its data.
 */
import { MariaError } from "./errors.js";
import type { EndReason, Refresher } from "./refresh.js";
import type { TokenStore } from "./tokens.js";

export const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const AUTH_PREFIX = "/api/v1/auth/";

export interface TransportDeps {
  fetch: typeof fetch;
  tokens: TokenStore;
  refresher: Refresher;
  /** Cookie mode: the `maria_csrf` cookie's value, echoed in `X-CSRF-Token`. */
  csrfToken(): string | null;
  /** Cookie mode: whether a 401 may just be an expired access cookie (a session exists). */
  maybeSignedIn(): boolean;
  /** Every successful answer, after the caller's request (to keep `user` current). */
  observe(request: Request, response: Response): Promise<void>;
}

export function transport(deps: TransportDeps): (request: Request) => Promise<Response> {
  const { tokens, refresher } = deps;

  async function send(request: Request): Promise<{ response: Response; generation: number; withToken: boolean }> {
    const path = new URL(request.url).pathname;
    await tokens.ensureLoaded();
    if (tokens.mode === "bearer" && tokens.refreshToken && tokens.dueForRenewal() && !path.startsWith(AUTH_PREFIX)) {
      // Known to be (nearly) expired: renew first rather than spend a round trip on a 401.
      // A failure here is not this request's: it goes out and gets its own answer.
      await refresher.refresh().catch(() => undefined);
    }
    const generation = tokens.generation;
    const access = tokens.accessToken;
    const withToken = tokens.mode === "bearer" && access !== null;
    if (withToken) {
      request.headers.set("Authorization", `Bearer ${access}`);
    } else if (tokens.mode === "cookie" && !SAFE_METHODS.has(request.method)) {
      const csrf = deps.csrfToken();
      if (csrf) request.headers.set("X-CSRF-Token", csrf);
    }
    try {
      return { response: await deps.fetch(request), generation, withToken };
    } catch (error) {
      if (error instanceof Error && error.name === "AbortError") throw error; // the caller's own abort
      throw MariaError.network(error);
    }
  }

  /** The refresh a 401 calls for, if any, and how the session ends if it fails. */
  function renewal(path: string, code: string, withToken: boolean): EndReason | null {
    // Signing out of a session that is already over: nothing to renew (an expired token
    // still is renewed, so that the logout reaches the live session).
    if (path === `${AUTH_PREFIX}logout` && code !== "token_expired" && code !== "not_authenticated") return null;
    if (tokens.mode === "bearer") {
      if (!withToken || !tokens.refreshToken) return null;
      if (code === "token_expired") return "refresh_failed";
      // A refused token of a live-looking session: revoked, or signed by a key Maria no
      // longer accepts (a changed MARIA_JWT_ALG). One refresh tells which.
      if (code === "invalid_token") return "revoked";
      return null;
    }
    if (!deps.maybeSignedIn()) return null;
    // The access cookie lives exactly as long as its token, so an expired one is simply
    // not sent: `not_authenticated`, not `token_expired`.
    if (code === "token_expired" || code === "not_authenticated") return "refresh_failed";
    if (code === "invalid_token") return "revoked";
    return null;
  }

  return async (request: Request): Promise<Response> => {
    const again = request.clone(); // the body can be read once: keep a copy for the retry
    let { response, generation, withToken } = await send(request);
    const path = new URL(request.url).pathname;
    if (response.status === 401 && !path.startsWith(`${AUTH_PREFIX}refresh`)) {
      const error = await MariaError.fromResponse(response.clone());
      const reason = renewal(path, error.code, withToken);
      if (reason !== null) {
        await refresher.refresh(generation, reason);
        ({ response } = await send(again));
      }
    }
    if (!response.ok && response.status !== 304) throw await MariaError.fromResponse(response);
    await deps.observe(request, response);
    return response;
  };
}
