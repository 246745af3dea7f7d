/**
 * `createMaria`: the generated client with the parts apps get wrong by hand put together
 * (tokens, single-flight refresh, tabs, import, rooms). Each part is its own module; this
 * one only wires them and holds who is signed in.
 */
import createClient from "openapi-fetch";

import { CrossTab, DEFAULT_LOCK_TIMEOUT_MS, type TabMessage } from "./crossTab.js";
import { MariaError } from "./errors.js";
import { Emitter } from "./events.js";
import type { paths } from "./generated/openapi.js";
import { importLocalStorage, type ImportStorage } from "./importer.js";
import { Refresher, type EndReason } from "./refresh.js";
import { RoomClient, type RoomOptions } from "./room.js";
import { TokenStore, type Mode } from "./tokens.js";
import { transport } from "./transport.js";
import type { ImportResult, MariaEvent, Session, TokenStorage, User } from "./types.js";

export const CSRF_COOKIE = "maria_csrf";
const REFRESH_TIMEOUT_MS = 10_000;
const USER_PATHS = new Set(["/api/v1/users/me", "/api/v1/users/me/avatar"]);

export interface MariaOptions {
  /** Maria's origin, e.g. `http://localhost:8000`; `""` (the default) is the page's own. */
  baseUrl?: string;
  /**
   * `cookie`: a browser app on Maria's site. Requests carry the HttpOnly session cookies
   * (`credentials: "include"`) and `X-CSRF-Token` from the `maria_csrf` cookie on unsafe
   * methods; the client persists nothing and keeps no refresh token in JavaScript.
   * `bearer`: other origins, native apps, servers. `Authorization: Bearer`; the pair lives
   * in memory and goes through `storage`; no cookies are sent or kept.
   */
  mode: Mode;
  /** Bearer mode only: where the pair is kept between runs (default: memory only). */
  storage?: TokenStorage;
  fetch?: typeof fetch;
  /** Share refreshes and sign-outs with the app's other tabs (default: on where
   * BroadcastChannel exists; `name` defaults to one per `baseUrl`). */
  crossTab?: false | { name?: string; lockTimeoutMs?: number };
  /** Cookie mode: the CSRF cookie's value (default: `maria_csrf` from `document.cookie`). */
  csrfToken?: () => string | null | undefined;
}

export type MariaApi = ReturnType<typeof createClient<paths>>;

export interface Maria {
  /** Typed calls (`maria.api.GET("/api/v1/users/me")`). Credentials, one refresh and one
   * retry on an expired token are built in; a call that does not get a 2xx (or 304)
   * rejects with a `MariaError`, so a resolved call always has its `data`. */
  readonly api: MariaApi;
  readonly user: User | null;
  on(listener: (event: MariaEvent) => void): () => void;
  /** Pick up the session of an earlier run: bearer loads `storage`, cookie asks
   * `GET /users/me` (refreshing once if the access cookie expired). */
  restore(): Promise<User | null>;
  register(body: { email: string; password: string; display_name: string }): Promise<User>;
  login(body: { email: string; password: string }): Promise<User>;
  requestEmailCode(email: string): Promise<void>;
  verifyEmailCode(email: string, code: string): Promise<User>;
  logout(scope?: "local" | "others" | "global"): Promise<void>;
  /** Renew the pair now (single-flight; shared with the other tabs). */
  refresh(): Promise<void>;
  /** A current access token (for the room socket's in-band auth), renewed when due; null
   * when signed out. */
  accessToken(): Promise<string | null>;
  importLocalStorage(storage?: ImportStorage): Promise<ImportResult | null>;
  room(roomId: string, options?: RoomOptions): RoomClient;
  /** Stop listening to the other tabs (the client stays usable on its own). */
  close(): void;
}

export function createMaria(options: MariaOptions): Maria {
  return new MariaClient(options);
}

class MariaClient implements Maria {
  readonly api: MariaApi;
  private currentUser: User | null = null;
  private readonly events = new Emitter<MariaEvent>();
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;
  private readonly tokens: TokenStore;
  private readonly crossTab: CrossTab | null;
  private readonly refresher: Refresher;
  private readonly csrf: () => string | null;

  constructor(options: MariaOptions) {
    if (options.mode !== "bearer" && options.mode !== "cookie") {
      throw new TypeError('MariaOptions.mode must be "bearer" or "cookie"');
    }
    if (options.mode === "cookie" && options.storage) {
      throw new TypeError("Cookie mode keeps the session in HttpOnly cookies: it takes no storage");
    }
    this.baseUrl = (options.baseUrl ?? "").replace(/\/+$/, "");
    const fetcher = options.fetch ?? globalThis.fetch;
    this.fetch = (input, init) => fetcher(input, init); // never called as a method of this object
    this.tokens = new TokenStore(options.mode, options.storage ?? null);
    const read = options.csrfToken ?? documentCookie(CSRF_COOKIE);
    this.csrf = () => read() || null;
    this.crossTab = makeCrossTab(options, this.baseUrl);
    this.refresher = new Refresher({
      tokens: this.tokens,
      crossTab: this.crossTab,
      send: () => this.sendRefresh(),
      renewed: (session) => this.renewed(session),
      ended: (reason) => this.signOut(reason),
    });
    this.api = createClient<paths>({
      baseUrl: this.baseUrl,
      credentials: options.mode === "cookie" ? "include" : "omit",
      fetch: transport({
        fetch: this.fetch,
        tokens: this.tokens,
        refresher: this.refresher,
        csrfToken: this.csrf,
        maybeSignedIn: () => this.currentUser !== null || this.tokens.accessToken !== null || this.csrf() !== null,
        observe: (request, response) => this.observe(request, response),
      }),
    });
    this.crossTab?.onMessage((message) => void this.fromOtherTab(message));
  }

  get user(): User | null {
    return this.currentUser;
  }

  on(listener: (event: MariaEvent) => void): () => void {
    return this.events.on(listener);
  }

  async restore(): Promise<User | null> {
    if (this.tokens.mode === "bearer") {
      await this.tokens.ensureLoaded();
      await this.tokens.reload(); // restore() again later picks up what another tab stored
      if (this.tokens.refreshToken === null) return null;
    } else if (this.csrf() === null && this.currentUser === null) {
      return null; // no CSRF cookie: this browser has no session with Maria
    }
    try {
      const { data } = await this.api.GET("/api/v1/users/me");
      const user = must(data);
      const before = this.currentUser;
      this.currentUser = user;
      this.events.emit(before === null ? { type: "signedIn", user } : { type: "user", user });
      return user;
    } catch (error) {
      if (error instanceof MariaError && error.status === 401) {
        await this.signOut("refresh_failed");
        return null;
      }
      throw error;
    }
  }

  async register(body: { email: string; password: string; display_name: string }): Promise<User> {
    const { email, password, display_name } = body;
    const { data } = await this.api.POST("/api/v1/auth/register", { body: { email, password, display_name } });
    return this.signedIn(must(data));
  }

  async login(body: { email: string; password: string }): Promise<User> {
    const device = this.tokens.mode === "bearer" ? await this.tokens.deviceToken() : null;
    // Only the fields the server takes (it refuses unknown ones), whatever object was given.
    const credentials = { email: body.email, password: body.password };
    const { data } = await this.api.POST("/api/v1/auth/login", {
      body: device === null ? credentials : { ...credentials, device_token: device },
    });
    return this.signedIn(must(data));
  }

  async requestEmailCode(email: string): Promise<void> {
    await this.api.POST("/api/v1/auth/email-code", { body: { email } });
  }

  async verifyEmailCode(email: string, code: string): Promise<User> {
    const { data } = await this.api.POST("/api/v1/auth/email-code/verify", { body: { email, code } });
    return this.signedIn(must(data));
  }

  async logout(scope: "local" | "others" | "global" = "local"): Promise<void> {
    try {
      await this.api.POST("/api/v1/auth/logout", { body: { scope } });
    } catch (error) {
      // Already signed out on the server (revoked, expired beyond refresh): the local
      // sign-out below is all that is left to do.
      if (!(error instanceof MariaError && error.status === 401)) throw error;
    }
    if (scope !== "others") await this.signOut("logout");
  }

  refresh(): Promise<void> {
    return this.refresher.refresh();
  }

  async accessToken(): Promise<string | null> {
    await this.tokens.ensureLoaded();
    const signedIn = this.tokens.mode === "bearer" ? this.tokens.refreshToken !== null : this.csrf() !== null || this.currentUser !== null;
    if (!signedIn) return null;
    if (this.tokens.dueForRenewal()) await this.refresher.refresh();
    return this.tokens.accessToken;
  }

  importLocalStorage(storage?: ImportStorage): Promise<ImportResult | null> {
    const store = storage ?? (globalThis as { localStorage?: ImportStorage }).localStorage;
    if (store === undefined) throw new TypeError("No localStorage here: pass the storage to import from");
    return importLocalStorage(
      async (body) => must((await this.api.POST("/api/v1/users/me/lists/import", { body })).data),
      store,
      this.crossTab,
    );
  }

  room(roomId: string, options?: RoomOptions): RoomClient {
    return new RoomClient(
      {
        baseUrl: this.baseUrl,
        accessToken: () => this.accessToken(),
        freshToken: async (stale) => {
          const token = await this.accessToken();
          if (token !== stale) return token;
          await this.refresher.refresh();
          return this.tokens.accessToken;
        },
        messagesBefore: async (id, before, limit) => {
          const { data } = await this.api.GET("/api/v1/rooms/{room_id}/messages", {
            params: { path: { room_id: id }, query: { before, limit } },
          });
          return must(data);
        },
      },
      roomId,
      options,
    );
  }

  close(): void {
    this.crossTab?.close();
  }

  // -- session life cycle ---------------------------------------------------------------

  private async signedIn(session: Session): Promise<User> {
    const tokens = await this.tokens.accept(session);
    this.currentUser = session.user;
    this.crossTab?.post({ type: "tokens", tokens, user: session.user });
    this.events.emit({ type: "signedIn", user: session.user });
    return session.user;
  }

  private async renewed(session: Session): Promise<void> {
    const tokens = await this.tokens.accept(session);
    const before = this.currentUser;
    this.currentUser = session.user;
    this.crossTab?.post({ type: "tokens", tokens, user: session.user });
    this.events.emit(before === null ? { type: "signedIn", user: session.user } : { type: "refreshed" });
  }

  private async signOut(reason: "logout" | EndReason, fromOtherTab = false): Promise<void> {
    const wasSignedIn = this.currentUser !== null || this.tokens.current !== null;
    await this.tokens.clear();
    this.currentUser = null;
    if (!wasSignedIn) return;
    if (!fromOtherTab) this.crossTab?.post({ type: "signedOut", reason });
    this.events.emit({ type: "signedOut", reason });
  }

  private async fromOtherTab(message: Extract<TabMessage, { type: "tokens" | "signedOut" }>): Promise<void> {
    if (message.type === "signedOut") {
      await this.signOut(message.reason, true);
      return;
    }
    const before = this.currentUser;
    await this.tokens.adopt(message.tokens);
    if (message.user !== null) this.currentUser = message.user;
    // Another tab signed in (perhaps as someone else: tabs of one app share one session).
    if (message.user !== null && before?.id !== message.user.id) this.events.emit({ type: "signedIn", user: message.user });
    else this.events.emit({ type: "refreshed" });
  }

  private sendRefresh(): Promise<Response> {
    const url = `${this.baseUrl}/api/v1/auth/refresh`;
    const signal = AbortSignal.timeout(REFRESH_TIMEOUT_MS);
    if (this.tokens.mode === "bearer") {
      const refreshToken = this.tokens.refreshToken;
      if (refreshToken === null) {
        return Promise.resolve(jsonError(401, "not_authenticated", "Not signed in"));
      }
      return this.fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: refreshToken }),
        credentials: "omit",
        signal,
      });
    }
    const headers: Record<string, string> = {};
    const csrf = this.csrf();
    if (csrf !== null) headers["X-CSRF-Token"] = csrf;
    return this.fetch(url, { method: "POST", headers, credentials: "include", signal });
  }

  /** Keep `user` current from the answers that carry the signed-in user. (A deleted
   * account is the app's to announce: it calls `logout()` after `DELETE /users/me`.) */
  private async observe(request: Request, response: Response): Promise<void> {
    const path = new URL(request.url).pathname;
    if (response.status !== 200 || !USER_PATHS.has(path)) return;
    if (request.method === "GET" && this.currentUser === null) return; // restore() reports it
    const user = (await response.clone().json()) as User;
    if (this.currentUser !== null && JSON.stringify(user) === JSON.stringify(this.currentUser)) return;
    this.currentUser = user;
    this.events.emit({ type: "user", user });
  }
}

function makeCrossTab(options: MariaOptions, baseUrl: string): CrossTab | null {
  if (options.crossTab === false || typeof BroadcastChannel === "undefined") return null;
  const name = options.crossTab?.name ?? `maria:${options.mode}:${baseUrl || "same-origin"}`;
  return new CrossTab(name, options.crossTab?.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS);
}

/** Reads one cookie from `document.cookie` (null outside a browser). */
function documentCookie(name: string): () => string | null {
  return () => {
    const doc = (globalThis as { document?: { cookie?: string } }).document;
    for (const part of (doc?.cookie ?? "").split(";")) {
      const [key, ...value] = part.trim().split("=");
      if (key === name) return decodeURIComponent(value.join("="));
    }
    return null;
  };
}

function jsonError(status: number, code: string, message: string): Response {
  return new Response(JSON.stringify({ error: { code, message } }), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

/** The data of a call that resolved (the transport turns every other answer into a
 * `MariaError`, so a resolved call has it). */
export function must<T>(data: T | undefined): T {
  if (data === undefined) throw new MariaError(0, "empty_answer", "Maria's answer had no body");
  return data;
}
