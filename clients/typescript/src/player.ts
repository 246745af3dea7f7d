/**
 * `RoomClient.attach(player)`: a media player that follows the room.
 *
 * - Playback: `paused`/`waiting` pause the player at the room's position; `playing` with a
 *   start scheduled ahead (`at` in the future) seeks to `position` and starts at exactly
 *   `at` (server time, placed in local time by the clock offset), so every member starts
 *   together; a start already past seeks to the live position and plays.
 * - Drift, as Jellyfin's SyncPlay corrects it: the player's position is reported every 2 s
 *   while playing; a `drift` of 0.4 s or more is a seek to the live position, a smaller one
 *   a rate nudge of `1 - delta / 2` for 2 s (which makes up exactly `delta`; nobody hears
 *   5 %), then rate 1 again and a fresh report. While a nudge runs, nothing is reported and
 *   smaller drifts are not acted on (they only say what the nudge is making up already):
 *   re-aiming it at every report would shrink it each time and never finish.
 * - Ready gate: a player that emits media events (an `HTMLMediaElement`) reports
 *   `buffering` on `waiting` and `ready` on `canplay`.
 */
import type { FramePlayback } from "./frames.js";
import type { RoomClient } from "./room.js";

/** What `attach` needs of a player; an `HTMLMediaElement` has it all. */
export interface RoomPlayer {
  currentTime: number;
  playbackRate: number;
  readonly paused: boolean;
  play(): unknown;
  pause(): unknown;
  addEventListener?(type: string, listener: () => void): void;
  removeEventListener?(type: string, listener: () => void): void;
}

export interface AttachOptions {
  /** How often the position is reported while playing, ms (default 2,000). */
  reportEveryMs?: number;
}

/** From this drift on (seconds) the player seeks; below, it is nudged. */
export const DRIFT_SEEK_S = 0.4;
/** How long a nudged rate holds, ms. */
export const NUDGE_MS = 2_000;
export const REPORT_EVERY_MS = 2_000;
/** A player off by less than this (seconds) is not moved when a state is applied. */
const SNAP_S = 0.05;

export function attachPlayer(room: RoomClient, player: RoomPlayer, options: AttachOptions = {}): () => void {
  let start: ReturnType<typeof setTimeout> | null = null;
  let nudge: ReturnType<typeof setTimeout> | null = null;

  const cancelStart = (): void => {
    if (start !== null) clearTimeout(start);
    start = null;
  };
  const endNudge = (): void => {
    if (nudge !== null) clearTimeout(nudge);
    nudge = null;
    player.playbackRate = 1;
  };
  const moveTo = (seconds: number): void => {
    if (Math.abs(player.currentTime - seconds) > SNAP_S) player.currentTime = seconds;
  };
  const report = (): void => {
    if (room.state?.playback.state !== "playing" || player.paused || start !== null || nudge !== null) return;
    try {
      room.reportPosition(player.currentTime);
    } catch {
      // not connected right now: the next report will do
    }
  };

  const apply = (playback: FramePlayback): void => {
    cancelStart();
    endNudge();
    if (playback.state !== "playing") {
      void player.pause();
      moveTo(playback.position);
      return;
    }
    const wait = playback.at - room.serverNow();
    if (wait > 0) {
      void player.pause();
      moveTo(playback.position);
      start = setTimeout(() => {
        start = null;
        moveTo(room.livePosition());
        void player.play();
      }, wait);
      return;
    }
    moveTo(room.livePosition());
    if (player.paused) void player.play();
  };

  const offs = [
    room.on("welcome", (frame) => apply(frame.playback)),
    room.on("playback", () => {
      const playback = room.state?.playback;
      if (playback) apply(playback);
    }),
    room.on("drift", (frame) => {
      if (room.state?.playback.state !== "playing" || start !== null) return;
      if (Math.abs(frame.delta) >= DRIFT_SEEK_S) {
        endNudge();
        player.currentTime = frame.position + (room.serverNow() - frame.at) / 1000;
        report();
        return;
      }
      if (nudge !== null) return; // being made up already
      player.playbackRate = 1 - frame.delta / 2;
      nudge = setTimeout(() => {
        nudge = null;
        player.playbackRate = 1;
        report();
      }, NUDGE_MS);
    }),
  ];
  const reporter = setInterval(report, options.reportEveryMs ?? REPORT_EVERY_MS);

  const setReady = (state: "ready" | "buffering") => () => {
    try {
      room.setReady(state);
    } catch {
      // not connected: the state is sent when it is asked for again
    }
  };
  const onWaiting = setReady("buffering");
  const onCanPlay = setReady("ready");
  player.addEventListener?.("waiting", onWaiting);
  player.addEventListener?.("canplay", onCanPlay);

  const current = room.state?.playback;
  if (current) apply(current);

  return () => {
    for (const off of offs) off();
    clearInterval(reporter);
    cancelStart();
    endNudge();
    player.removeEventListener?.("waiting", onWaiting);
    player.removeEventListener?.("canplay", onCanPlay);
  };
}
