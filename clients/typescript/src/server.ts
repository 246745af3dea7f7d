/**
 * `createServerApi`: the typed client for one request on a server (Next.js server
 * components, route handlers, scripts) that already holds an access token, e.g. the
 * `maria_access` cookie the browser sent (or that `refreshSessionCookies` renewed for this
 * request). It never refreshes and keeps no state: a server component cannot hand a new
 * pair to the browser, which would then present a rotated refresh token (reuse: the session
 * ends). Renewing is middleware's job (`refreshSessionCookies`).
 */
import createClient from "openapi-fetch";

import type { MariaApi } from "./client.js";
import { MariaError } from "./errors.js";
import type { paths } from "./generated/openapi.js";

export interface ServerApiOptions {
  baseUrl: string;
  /** Sent as `Authorization: Bearer`; without one the calls are anonymous. */
  accessToken?: string | null;
  fetch?: typeof fetch;
}

export function createServerApi(options: ServerApiOptions): MariaApi {
  const inner = options.fetch ?? globalThis.fetch;
  return createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    credentials: "omit",
    headers: options.accessToken ? { Authorization: `Bearer ${options.accessToken}` } : {},
    fetch: async (request: Request) => {
      let response: Response;
      try {
        response = await inner(request);
      } catch (error) {
        if (error instanceof Error && error.name === "AbortError") throw error; // the caller's own abort
        throw MariaError.network(error);
      }
      if (!response.ok && response.status !== 304) throw await MariaError.fromResponse(response);
      return response;
    },
  });
}
