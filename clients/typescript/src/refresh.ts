/**
 * Single-flight refresh: however many requests meet an expired token at once, one
 * `POST /auth/refresh` renews the pair and all of them retry with it.
 *
 * A caller passes the token generation its request was sent with. If the pair changed
 * since (this tab refreshed, or another tab handed over its new pair), there is nothing to
 * do; if a refresh is under way, the caller joins it; otherwise this caller's refresh
 * becomes the one. With tabs, the refresh runs inside the cross-tab lock and first looks
 * whether another tab renewed the pair while this one waited, so the tabs never race.
 */
import type { CrossTab } from "./crossTab.js";
import { MariaError } from "./errors.js";
import type { TokenStore } from "./tokens.js";
import type { Session } from "./types.js";

export type EndReason = "refresh_failed" | "revoked";

export interface RefreshDeps {
  tokens: TokenStore;
  crossTab: CrossTab | null;
  /** `POST /auth/refresh` as this client's mode sends it (bounded in time). */
  send(): Promise<Response>;
  /** A new pair: keep it, hand it to the other tabs, tell the app. */
  renewed(session: Session): Promise<void>;
  /** Maria refused the refresh: the session is over here. */
  ended(reason: EndReason): Promise<void>;
}

export class Refresher {
  private inflight: Promise<void> | null = null;

  constructor(private readonly deps: RefreshDeps) {}

  /**
   * Renew the pair unless it changed since generation `seen` (default: now). Rejects with
   * the refresh's `MariaError`; a 401 from Maria also ends the session (`reason`), while a
   * network failure or a 5xx leaves it as it is, to be tried again.
   */
  refresh(seen = this.deps.tokens.generation, reason: EndReason = "refresh_failed"): Promise<void> {
    if (this.deps.tokens.generation !== seen) return Promise.resolve();
    if (this.inflight === null) {
      const run = this.deps.crossTab
        ? this.deps.crossTab.exclusive("refresh", () => this.once(seen, reason))
        : this.once(seen, reason);
      this.inflight = run.finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  private async once(seen: number, reason: EndReason): Promise<void> {
    await this.deps.tokens.reload(); // a tab that refreshed while we waited saved its pair
    if (this.deps.tokens.generation !== seen) return;
    let response: Response;
    try {
      response = await this.deps.send();
    } catch (error) {
      throw error instanceof MariaError ? error : MariaError.network(error);
    }
    if (!response.ok) {
      const error = await MariaError.fromResponse(response);
      if (response.status === 401) await this.deps.ended(reason);
      throw error;
    }
    await this.deps.renewed((await response.json()) as Session);
  }
}
