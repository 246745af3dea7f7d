/**
 * The room WebSocket's frames: the types generated from Maria's `/asyncapi.json`
 * (src/generated/frames.ts, from the pydantic models the server validates with), under the
 * names this package has always exported, plus the constants a client needs.
 */
import type {
  ClientAuth,
  ClientChat,
  ClientControl,
  ClientHost,
  ClientPing,
  ClientPlayback,
  MemberOut,
  MessageOut,
  PlaybackOut,
  RoomOut,
  ServerAuthenticated,
  ServerChat,
  ServerControl,
  ServerError,
  ServerPlayback,
  ServerPong,
  ServerPresence,
  ServerWelcome,
} from "./generated/frames.js";

export type { ClientFrame, ServerFrame } from "./generated/frames.js";

export type FrameMessage = MessageOut;
export type FrameMember = MemberOut;
export type FramePlayback = PlaybackOut;
export type FrameRoom = RoomOut;

// -- server → client ------------------------------------------------------------------
export type WelcomeFrame = ServerWelcome;
export type ChatFrame = ServerChat;
export type PresenceFrame = ServerPresence;
export type PlaybackFrame = ServerPlayback;
export type ControlFrame = ServerControl;
export type PongFrame = ServerPong;
export type AuthenticatedFrame = ServerAuthenticated;
export type ErrorFrame = ServerError;

// -- client → server ------------------------------------------------------------------
export type AuthCommand = ClientAuth;
export type ChatCommand = ClientChat;
export type PlaybackCommand = ClientPlayback;
export type ControlCommand = ClientControl;
export type HostCommand = ClientHost;
export type PingCommand = ClientPing;

/** Close codes after which reconnecting cannot help. */
export const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([4401, 4403, 4404, 4409, 4410]);
/** The most a playback position can be (7 days, in seconds). */
export const MAX_POSITION = 604_800;
