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
  ClientReact,
  ClientReady,
  ClientPosition,
  ClientQueue,
  ClientRole,
  ClientKick,
  ClientMute,
  ClientLock,
  ClientClear,
  ClientPong,
  MemberOut,
  MessageOut,
  PlaybackOut,
  QueueOut,
  ReactionOut,
  RolesOut,
  RoomOut,
  ServerAuthenticated,
  ServerChat,
  ServerControl,
  ServerError,
  ServerPlayback,
  ServerPong,
  ServerPresence,
  ServerWelcome,
  ServerReady,
  ServerQueue,
  ServerPing,
  ServerClock,
  ServerDrift,
  ServerRoles,
  ServerModerated,
  ServerReaction,
} from "./generated/frames.js";

export type { ClientFrame, ServerFrame } from "./generated/frames.js";

export type FrameMessage = MessageOut;
export type FrameMember = MemberOut;
export type FramePlayback = PlaybackOut;
export type FrameRoom = RoomOut;
export type FrameQueue = QueueOut;
export type FrameRoles = RolesOut;
export type FrameReaction = ReactionOut;
export type Emoji = ClientReact["emoji"];
/** A member's report for the current film. */
export type ReadyState = ClientReady["state"];

// -- server → client ------------------------------------------------------------------
export type WelcomeFrame = ServerWelcome;
export type ChatFrame = ServerChat;
export type PresenceFrame = ServerPresence;
export type PlaybackFrame = ServerPlayback;
export type ControlFrame = ServerControl;
export type PongFrame = ServerPong;
export type AuthenticatedFrame = ServerAuthenticated;
export type ErrorFrame = ServerError;
export type ReadyFrame = ServerReady;
export type QueueFrame = ServerQueue;
export type PingFrame = ServerPing;
export type ClockFrame = ServerClock;
export type DriftFrame = ServerDrift;
export type RolesFrame = ServerRoles;
export type ModeratedFrame = ServerModerated;
export type ReactionFrame = ServerReaction;

// -- client → server ------------------------------------------------------------------
export type AuthCommand = ClientAuth;
export type ChatCommand = ClientChat;
export type PlaybackCommand = ClientPlayback;
export type ControlCommand = ClientControl;
export type HostCommand = ClientHost;
export type PingCommand = ClientPing;
export type ReadyCommand = ClientReady;
export type PositionCommand = ClientPosition;
export type PongCommand = ClientPong;
export type QueueCommand = ClientQueue;
export type RoleCommand = ClientRole;
export type KickCommand = ClientKick;
export type MuteCommand = ClientMute;
export type LockCommand = ClientLock;
export type ClearCommand = ClientClear;
export type ReactCommand = ClientReact;

/** Close codes after which reconnecting cannot help. */
export const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([4401, 4403, 4404, 4409, 4410]);
/** The reactions the server allows, in its order (anything else is refused). */
export const EMOJI: readonly Emoji[] = Object.keys({
  // A record over the generated union: the compiler refuses a missing or an unknown one.
  "👍": true, "👎": true, "😂": true, "😮": true, "😢": true, "😡": true,
  "❤️": true, "🔥": true, "👏": true, "🎉": true, "🍿": true, "💀": true,
} satisfies Record<Emoji, true>) as Emoji[];
/** The most a playback position can be (7 days, in seconds). */
export const MAX_POSITION = 604_800;
