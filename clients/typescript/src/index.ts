/**
 * `@kinoway/maria`: a typed client for Maria. See README.md for usage and docs/nextjs.md
 * (in Maria's repository) for wiring it into a Next.js app.
 */
export { createMaria, must, CSRF_COOKIE, type Maria, type MariaApi, type MariaOptions } from "./client.js";
export { MariaError } from "./errors.js";
export { createServerApi, type ServerApiOptions } from "./server.js";
export {
  parseCookieHeader,
  refreshSessionCookies,
  withSetCookies,
  type SessionCookies,
  type SessionCookiesOptions,
  type SessionCookiesOutcome,
} from "./sessionCookies.js";
export {
  RoomClient,
  type ReactionTarget,
  type RoomEvents,
  type RoomOptions,
  type RoomState,
  type RoomStatus,
  type RoomStatusEvent,
  type ServerClockEstimate,
} from "./room.js";
export { DRIFT_SEEK_S, NUDGE_MS, REPORT_EVERY_MS, type AttachOptions, type RoomPlayer } from "./player.js";
export { backoffDelay, type BackoffOptions } from "./backoff.js";
export { ClockSync, type ClockEstimate } from "./clock.js";
export { IMPORTED_KEY, KINOWAY_KEYS, type ImportStorage } from "./importer.js";
export { DEFAULT_LOCK_TIMEOUT_MS } from "./crossTab.js";
export type * from "./frames.js";
export { EMOJI, FINAL_CLOSE_CODES, MAX_POSITION } from "./frames.js";
export type {
  DeviceSession,
  ImportResult,
  MariaEvent,
  Member,
  Message,
  Playback,
  Room,
  Session,
  StoredTokens,
  TokenStorage,
  User,
} from "./types.js";
export type { paths, components, operations } from "./generated/openapi.js";
