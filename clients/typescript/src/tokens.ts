/**
 * The credentials one client holds, and nothing else: which access token to send, when it
 * is due for renewal, and (bearer mode) writing every change through the app's storage.
 *
 * `generation` grows with every change of the pair. A request remembers the generation it
 * was sent with; when it comes back 401, a newer generation means someone (this tab or
 * another) already renewed the pair, so it only needs to be sent again.
 */
import type { Session, StoredTokens, TokenStorage } from "./types.js";

export type Mode = "bearer" | "cookie";

/** How long before its expiry a token is renewed: a quarter of its lifetime, at most a
 * minute (15-minute tokens renew in their last minute; 30-second test tokens in their
 * last 7.5 s). The room socket re-authenticates on the same schedule. */
export function renewMarginMs(lifetimeS: number): number {
  return Math.min(60_000, Math.max(1_000, (lifetimeS * 1000) / 4));
}

/** `iat` and `exp` of a JWT, read without verifying it (the server verifies; the client
 * only needs to know when to renew). */
export function tokenTimes(token: string): { iat: number; exp: number } | null {
  const payload = token.split(".")[1];
  if (payload === undefined) return null;
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const claims: unknown = JSON.parse(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "=")));
    if (typeof claims !== "object" || claims === null) return null;
    const { iat, exp } = claims as { iat?: unknown; exp?: unknown };
    if (typeof exp !== "number") return null;
    return { iat: typeof iat === "number" ? iat : exp - 900, exp };
  } catch {
    return null;
  }
}

export class TokenStore {
  /** Grows with every change of the pair (sign-in, refresh, another tab's pair, sign-out). */
  generation = 0;
  private tokens: StoredTokens | null = null;
  private lifetimeS = 900;
  /** The server's clock minus ours, learned from `expires_in` beside `expires_at`: a
   * client whose clock is off still renews on time and never loops on "expired". */
  private skewMs = 0;
  private device: string | null = null;
  private loaded: Promise<unknown> | null = null;

  constructor(
    readonly mode: Mode,
    private readonly storage: TokenStorage | null,
  ) {}

  get current(): StoredTokens | null {
    return this.tokens;
  }

  get accessToken(): string | null {
    return this.tokens?.access_token || null;
  }

  get refreshToken(): string | null {
    return this.tokens?.refresh_token || null;
  }

  /** The device token to send with a password login (bearer mode). */
  async deviceToken(): Promise<string | null> {
    if (this.device === null && this.storage?.loadDevice) {
      this.device = (await this.storage.loadDevice()) ?? null;
    }
    return this.device;
  }

  /** Whether the access token is unknown, expired, or in its renewal margin. */
  dueForRenewal(): boolean {
    const tokens = this.tokens;
    if (tokens === null || !tokens.access_token) return true;
    const serverNow = Date.now() + this.skewMs;
    return tokens.expires_at * 1000 - serverNow <= renewMarginMs(this.lifetimeS);
  }

  /** The stored pair, read before the first request (so calls work without `restore()`). */
  ensureLoaded(): Promise<unknown> {
    if (this.loaded === null) this.loaded = this.reload();
    return this.loaded;
  }

  /** Read the pair the storage holds (bearer mode). True when it differs from ours: then
   * someone else (another tab) renewed it, and ours is stale. */
  async reload(): Promise<boolean> {
    if (this.storage === null) return false;
    const stored = (await this.storage.load()) ?? null;
    if (stored === null || !stored.refresh_token) return false;
    if (stored.refresh_token === this.tokens?.refresh_token) return false;
    this.use(stored);
    return true;
  }

  /** A pair Maria just answered (sign-in, registration, code, refresh). */
  async accept(session: Session): Promise<StoredTokens> {
    const localExpiry = Date.now() + session.expires_in * 1000;
    this.skewMs = session.expires_at * 1000 - localExpiry;
    if (session.device_token) this.device = session.device_token;
    const tokens: StoredTokens = {
      access_token: session.access_token,
      // Cookie mode keeps no refresh token in JavaScript: the HttpOnly cookie is the one copy.
      refresh_token: this.mode === "bearer" ? session.refresh_token : "",
      expires_at: session.expires_at,
      device_token: this.device,
    };
    this.use(tokens);
    await this.persist();
    if (session.device_token && this.storage?.saveDevice) {
      await this.storage.saveDevice(session.device_token);
    }
    return tokens;
  }

  /** A pair another tab obtained: used at once, and written to this tab's storage too
   * (which may not be shared), so no copy of the old refresh token is left to reuse. */
  async adopt(tokens: StoredTokens): Promise<void> {
    if (tokens.refresh_token === this.tokens?.refresh_token && tokens.access_token === this.tokens?.access_token) return;
    this.use({ ...tokens, device_token: tokens.device_token ?? this.device });
    await this.persist();
  }

  /** Signed out: forget the pair (the device token stays, in memory and `saveDevice`). */
  async clear(): Promise<void> {
    if (this.tokens === null) return;
    this.tokens = null;
    this.generation += 1;
    await this.persist();
  }

  private use(tokens: StoredTokens): void {
    const times = tokenTimes(tokens.access_token);
    if (times !== null && times.exp > times.iat) this.lifetimeS = times.exp - times.iat;
    if (tokens.device_token) this.device = tokens.device_token;
    this.tokens = tokens;
    this.generation += 1;
  }

  private async persist(): Promise<void> {
    if (this.mode === "bearer" && this.storage !== null) await this.storage.save(this.tokens);
  }
}
