/**
 * The room WebSocket's frames (docs/api.md, "The room WebSocket").
 *
 * Hand-written for now and kept in this one file on purpose: they are to be generated from
 * Maria's `/asyncapi.json`, which will replace this file whole. Nothing here imports the
 * OpenAPI types, so the swap touches no other file.
 */

export interface FrameMessage {
  id: string;
  user_id: string;
  name: string;
  text: string;
  /** Unix ms, the same for every receiver. */
  timestamp: number;
  /** Place in the room's one order. */
  seq: number;
}

export interface FrameMember {
  user_id: string;
  name: string;
  /** Unix ms since when the member is in the room. */
  since: number;
}

export interface FramePlayback {
  state: "playing" | "paused";
  /** Seconds into the film at server time `at`. */
  position: number;
  /** Server time, unix ms. */
  at: number;
  by: string | null;
  seq: number;
}

export interface FrameRoom {
  id: string;
  movie_id: number;
  title: string | null;
  host_id: string | null;
  control: "host" | "everyone";
  created_at: string;
  playback: FramePlayback;
}

// -- server → client ------------------------------------------------------------------

export interface WelcomeFrame {
  type: "welcome";
  room: FrameRoom;
  members: FrameMember[];
  playback: FramePlayback;
  /** The last 50 messages, oldest first. */
  history: FrameMessage[];
  host_id: string | null;
  control: "host" | "everyone";
  /** The user this socket is signed in as. */
  user_id: string;
  server_time: number;
}

export interface ChatFrame extends FrameMessage {
  type: "chat";
}

export interface PresenceFrame {
  type: "presence";
  event: "join" | "leave";
  user_id: string;
  name: string;
}

export interface PlaybackFrame extends FramePlayback {
  type: "playback";
}

export interface ControlFrame {
  type: "control";
  mode: "host" | "everyone";
  host_id: string | null;
}

export interface PongFrame {
  type: "pong";
  t0: number;
  server_time: number;
}

export interface AuthenticatedFrame {
  type: "authenticated";
  user_id: string;
  expires_at: number;
}

export interface ErrorFrame {
  type: "error";
  code: string;
  message: string;
  /** Seconds, on `rate_limited`. */
  retry_after?: number;
}

export type ServerFrame =
  | WelcomeFrame
  | ChatFrame
  | PresenceFrame
  | PlaybackFrame
  | ControlFrame
  | PongFrame
  | AuthenticatedFrame
  | ErrorFrame;

// -- client → server ------------------------------------------------------------------

export interface AuthCommand {
  type: "auth";
  token: string;
}

export interface ChatCommand {
  type: "chat";
  text: string;
}

export interface PlaybackCommand {
  type: "playback";
  action: "play" | "pause" | "seek";
  position?: number;
}

export interface ControlCommand {
  type: "control";
  mode: "host" | "everyone";
}

export interface HostCommand {
  type: "host";
  user_id: string;
}

export interface PingCommand {
  type: "ping";
  t0: number;
}

export type ClientFrame = AuthCommand | ChatCommand | PlaybackCommand | ControlCommand | HostCommand | PingCommand;

/** Close codes after which reconnecting cannot help. */
export const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([4401, 4404, 4410]);
/** The most a playback position can be (7 days, in seconds). */
export const MAX_POSITION = 604_800;
