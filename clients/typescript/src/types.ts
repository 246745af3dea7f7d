/**
 * The public data types, taken from the generated OpenAPI types through the paths that
 * answer them (not through component names), so that a renamed schema component changes
 * nothing here.
 */
import type { paths } from "./generated/openapi.js";

type JsonOf<R> = R extends { content: { "application/json": infer B } } ? B : never;

export type User = JsonOf<paths["/api/v1/users/me"]["get"]["responses"][200]>;
/** What a sign-in, registration or refresh answers (the contract's `Session`). */
export type Session = JsonOf<paths["/api/v1/auth/login"]["post"]["responses"][200]>;
/** One sign-in session of the user (`GET /auth/sessions`). */
export type DeviceSession = JsonOf<
  paths["/api/v1/auth/sessions"]["get"]["responses"][200]
>[number];
export type ImportResult = JsonOf<
  paths["/api/v1/users/me/lists/import"]["post"]["responses"][200]
>;
export type Room = JsonOf<paths["/api/v1/rooms/{room_id}"]["get"]["responses"][200]>;
export type Message = JsonOf<
  paths["/api/v1/rooms/{room_id}/messages"]["get"]["responses"][200]
>[number];
export type Member = Room["members"][number];
export type Playback = Room["playback"];

/** Bearer mode: what the app's storage keeps between page loads or app starts. */
export interface StoredTokens {
  access_token: string;
  refresh_token: string;
  /** Unix seconds at which the access token expires. */
  expires_at: number;
  /** From the last sign-in: sent back at the next login so this client stays a known
   * device of the account (see the contract's login limits). */
  device_token?: string | null;
}

/** Supplied by the app in bearer mode; the client keeps the tokens in memory and writes
 * every new pair through `save` (`null` when signed out). */
export interface TokenStorage {
  load(): StoredTokens | null | Promise<StoredTokens | null>;
  save(tokens: StoredTokens | null): void | Promise<void>;
  /** Optional: keep the device token across sign-outs (`save(null)` forgets the rest). */
  loadDevice?(): string | null | Promise<string | null>;
  saveDevice?(deviceToken: string): void | Promise<void>;
}

export type MariaEvent =
  | { type: "signedIn"; user: User }
  | { type: "signedOut"; reason: "logout" | "refresh_failed" | "revoked" }
  | { type: "refreshed" }
  | { type: "user"; user: User };
