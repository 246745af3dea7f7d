/**
 * Tabs of one app sharing one session: a lock so that only one tab refreshes at a time,
 * and a channel on which the tab that got a new pair hands it to the others.
 *
 * Why: refresh tokens are single use. Two tabs refreshing with the same token race (Maria's
 * reuse grace answers the loser with the same pair for `MARIA_REFRESH_REUSE_GRACE` s), and a
 * tab that keeps the old token and uses it later trips reuse detection, which ends the
 * session everywhere. The lock removes the race; the channel removes the stale copies.
 *
 * Every wait is bounded by `lockTimeoutMs` (default 5 s, under the server's 10 s grace):
 * a tab that died or hangs while holding the lock costs the others that long, never a
 * deadlock (the failure Supabase's clients shipped). After the wait a tab proceeds
 * without the lock; the reuse grace covers a duplicate refresh within the grace.
 *
 * The lock is the Web Locks API when the platform has it; otherwise a claim protocol on
 * the BroadcastChannel itself: a tab posts a claim, listens `CLAIM_WINDOW_MS` for earlier
 * claims still on their way, then waits while a claim ranked before its own (older, or
 * equally old with a smaller id) is unreleased.
 */
import type { StoredTokens, User } from "./types.js";

export const DEFAULT_LOCK_TIMEOUT_MS = 5_000;
const CLAIM_WINDOW_MS = 30;

export type TabMessage =
  | { type: "tokens"; tokens: StoredTokens; user: User | null }
  | { type: "signedOut"; reason: "logout" | "refresh_failed" | "revoked" }
  | { type: "claim"; key: string; id: string; at: number }
  | { type: "release"; key: string; id: string };

type SharedMessage = Extract<TabMessage, { type: "tokens" | "signedOut" }>;

interface Claim {
  id: string;
  at: number;
}

export class CrossTab {
  private readonly channel: BroadcastChannel;
  private readonly tabId = randomId();
  private serial = 0;
  /** Unreleased claims of other tabs, by lock key. */
  private readonly claims = new Map<string, Map<string, Claim>>();
  private readonly own = new Map<string, Claim>();
  private readonly changed = new Set<() => void>();
  private readonly listeners = new Set<(message: SharedMessage) => void>();
  /** One exclusive section per key at a time within this tab, too. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly name: string,
    private readonly lockTimeoutMs = DEFAULT_LOCK_TIMEOUT_MS,
  ) {
    this.channel = new BroadcastChannel(name);
    // Node's BroadcastChannel would otherwise keep a finished script alive.
    (this.channel as { unref?: () => void }).unref?.();
    this.channel.onmessage = (event: MessageEvent) => this.receive(event.data as TabMessage);
  }

  /** Tell the other tabs (a new pair, a sign-out). */
  post(message: SharedMessage): void {
    this.channel.postMessage(message);
  }

  onMessage(listener: (message: SharedMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Run `fn` while no other tab of this app runs its own `fn` for `key`; wait at most
   * `lockTimeoutMs` for them, then run anyway. `fn` must itself be bounded in time. */
  exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.locked(key, fn));
    this.queues.set(key, run);
    return run;
  }

  close(): void {
    for (const [key, claim] of this.own) this.channel.postMessage({ type: "release", key, id: claim.id });
    this.own.clear();
    this.channel.close();
    for (const wake of this.changed) wake();
  }

  private async locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const locks = webLocks();
    if (locks !== null) {
      let granted = false;
      try {
        return await locks.request(
          `${this.name}:${key}`,
          { signal: timeoutSignal(this.lockTimeoutMs) },
          () => {
            granted = true;
            return fn();
          },
        );
      } catch (error) {
        if (granted) throw error; // fn's own failure
        return fn(); // the holder did not let go in time (or no lock here): go on without it
      }
    }
    return this.claimed(key, fn);
  }

  private async claimed<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const claim: Claim = { id: `${this.tabId}:${++this.serial}`, at: Date.now() };
    this.own.set(key, claim);
    this.channel.postMessage({ type: "claim", key, ...claim });
    try {
      await sleep(CLAIM_WINDOW_MS);
      const deadline = Date.now() + this.lockTimeoutMs;
      while (this.blocker(key, claim) !== null && Date.now() < deadline) {
        await this.nextChange(deadline - Date.now());
      }
      // Claims still ranked before ours now are of tabs that died or hang: forget them.
      for (;;) {
        const stale = this.blocker(key, claim);
        if (stale === null) break;
        this.claims.get(key)?.delete(stale.id);
      }
      return await fn();
    } finally {
      this.own.delete(key);
      this.channel.postMessage({ type: "release", key, id: claim.id });
    }
  }

  /** An unreleased claim of another tab ranked before `mine`, if any. */
  private blocker(key: string, mine: Claim): Claim | null {
    const horizon = Date.now() - 2 * this.lockTimeoutMs; // older claims are of dead tabs
    for (const [id, other] of this.claims.get(key) ?? []) {
      if (other.at < horizon) {
        this.claims.get(key)?.delete(id);
        continue;
      }
      if (other.at < mine.at || (other.at === mine.at && other.id < mine.id)) return other;
    }
    return null;
  }

  private nextChange(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.changed.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      this.changed.add(done);
    });
  }

  private receive(message: TabMessage): void {
    if (typeof message !== "object" || message === null) return;
    if (message.type === "claim") {
      let byId = this.claims.get(message.key);
      if (byId === undefined) this.claims.set(message.key, (byId = new Map()));
      byId.set(message.id, { id: message.id, at: message.at });
    } else if (message.type === "release") {
      this.claims.get(message.key)?.delete(message.id);
    } else {
      for (const listener of [...this.listeners]) listener(message);
    }
    for (const wake of [...this.changed]) wake();
  }
}

interface LockRequester {
  request<T>(name: string, options: { signal: AbortSignal }, fn: () => Promise<T>): Promise<T>;
}

function webLocks(): LockRequester | null {
  const nav = (globalThis as { navigator?: { locks?: LockRequester } }).navigator;
  return nav?.locks && typeof nav.locks.request === "function" ? nav.locks : null;
}

function timeoutSignal(ms: number): AbortSignal {
  if (typeof AbortSignal.timeout === "function") return AbortSignal.timeout(ms);
  const controller = new AbortController();
  setTimeout(() => controller.abort(new DOMException("lock wait timed out", "TimeoutError")), ms);
  return controller.signal;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function randomId(): string {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
