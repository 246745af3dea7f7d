// What every page gets from the app, and what it gives back to the router.

import type { Maria, User } from "@kinoway/maria";

export interface Ctx {
  readonly maria: Maria;
  /** Go to a console path ("/lists/favorites"), as a link would. */
  go(path: string, options?: { replace?: boolean }): void;
  /** A short success message, announced politely. */
  notice(text: string): void;
  /** The signed-in user changed (a new name, an avatar, a verified email). */
  setUser(user: User): void;
  /** Check now whether this browser is still signed in (e.g. a socket was closed). */
  recheck(): void;
  /** This browser is no longer signed in: show the sign-in page. */
  signedOut(message?: string): void;
}

export interface View {
  title: string;
  body: Node[];
  /** Called when the page is left (close sockets, stop timers). */
  dispose?: () => void;
}

export type Page = (ctx: Ctx, user: User, params: string[], query: URLSearchParams) => Promise<View>;
export type GuestPage = (ctx: Ctx, user: User | null, params: string[], query: URLSearchParams) => Promise<View>;
