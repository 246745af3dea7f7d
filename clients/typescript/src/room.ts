/**
 * One watch-together room over its WebSocket: connect and authenticate in band, keep the
 * socket's authentication alive, come back after a drop without losing or repeating a chat
 * message, and keep a clock offset to place the shared playback in local time.
 *
 * - Authentication: the first frame is `{"type": "auth", "token"}` (no token in the URL,
 *   where logs keep it); before the token expires a fresh one is sent the same way, on the
 *   schedule the HTTP side renews tokens on (a quarter of the lifetime, at most a minute).
 * - Reconnect: after 1006 (the connection died), 1012 (server restart), 1013 (try later)
 *   and anything else but the final 4401/4403/4404/4409/4410, with exponential backoff and jitter.
 *   The welcome frame's `history` (the last 50) plus `GET /rooms/{id}/messages` pages
 *   before it fill the gap; `ChatLog` drops what was seen already. Frames that arrive while
 *   the gap is filled wait their turn, so `chat` events stay in the room's order.
 * - Clock: a burst of pings after every welcome and a few more every 30 s; `ClockSync`
 *   keeps the lowest-round-trip sample. The server measures its own estimate too: its
 *   `ping` is answered at once with `pong`, and its `clock` frames are `serverClock`.
 * - Everyone in step: the ready gate (`setReady`, re-sent after a reconnect), the shared
 *   queue, roles and moderation, reactions; `attach(player)` (player.ts) drives a media
 *   player from the room's playback and corrects its drift.
 */
import { backoffDelay, type BackoffOptions } from "./backoff.js";
import { ChatLog } from "./chatLog.js";
import { ClockSync, type ClockEstimate } from "./clock.js";
import { MariaError } from "./errors.js";
import { Emitter } from "./events.js";
import {
  FINAL_CLOSE_CODES,
  MAX_POSITION,
  type ClientFrame,
  type Emoji,
  type FrameMember,
  type FrameMessage,
  type FramePlayback,
  type FrameQueue,
  type FrameReaction,
  type FrameRoles,
  type FrameRoom,
  type ReadyState,
  type ServerFrame,
  type WelcomeFrame,
} from "./frames.js";
import { attachPlayer, type AttachOptions, type RoomPlayer } from "./player.js";
import { renewMarginMs, tokenTimes } from "./tokens.js";

export interface RoomOptions {
  /** Where Maria's WebSockets are, e.g. `wss://api.kinoway.example` (the path
   * `/api/v1/rooms/{id}/ws` is added). Default: the client's `baseUrl` (or the page's
   * origin) with `http` turned into `ws`. */
  wsUrl?: string;
  /** The WebSocket class (default: the global one; Node 20 needs `--experimental-websocket`
   * or a compatible class such as `ws`'s). */
  WebSocket?: typeof WebSocket;
  backoff?: BackoffOptions;
}

export type RoomStatus = "connecting" | "open" | "reconnecting" | "closed";

export interface RoomState {
  room: FrameRoom;
  members: FrameMember[];
  playback: FramePlayback;
  host_id: string | null;
  control: "host" | "everyone";
  /** Who this client is signed in as. */
  user_id: string;
  /** The chat, oldest first, each message once (the last 1,000 are kept). */
  messages: readonly FrameMessage[];
  /** The shared queue and the current media (`movie_id`, `media_seq`). */
  queue: FrameQueue;
  /** Ready states by user id; members who never reported (or left) are absent. */
  ready: Record<string, ReadyState>;
  /** Co-hosts, muted members, the chat lock. */
  roles: FrameRoles;
  /** The last 100 reactions, oldest first. */
  reactions: readonly FrameReaction[];
}

/** The server's estimate of this client's clock (its `clock` frames). */
export interface ServerClockEstimate {
  rtt: number;
  /** This client's clock minus the server's, ms. */
  offset: number;
}

/** What a reaction is on: a chat message or a moment of the film. */
export type ReactionTarget = { messageId: string } | { position: number };

export interface RoomStatusEvent {
  type: "status";
  status: RoomStatus;
  /** The close code that caused this status, if a close did. */
  code?: number;
  reason?: string;
}

export type RoomEvents = { [K in ServerFrame["type"]]: Extract<ServerFrame, { type: K }> } & {
  status: RoomStatusEvent;
};

/** What a room needs from its client. */
export interface RoomDeps {
  baseUrl: string;
  /** A current access token (renewed when due); null when signed out. */
  accessToken(): Promise<string | null>;
  /** An access token other than `stale` (renewing the pair if `stale` is still current). */
  freshToken(stale: string): Promise<string | null>;
  /** `GET /rooms/{id}/messages?before&limit`, oldest first. */
  messagesBefore(roomId: string, before: string, limit: number): Promise<FrameMessage[]>;
}

const PING_BURST = 5;
const PING_GAP_MS = 100;
const RESAMPLE_EVERY_MS = 30_000;
const RESAMPLE_BURST = 3;
const FILL_PAGE = 100;
const FILL_MAX_PAGES = 50; // 5,000 messages missed: beyond that the gap stays (and is rare)
const REAUTH_RETRY_MS = 5_000;
const KEEP_REACTIONS = 100;
/** Our own close code for "could not resynchronise; reconnect" (not final). */
const CLOSE_RESYNC = 4000;

export class RoomClient {
  status: RoomStatus = "closed";
  private roomState: (Omit<RoomState, "messages"> & { log: ChatLog }) | null = null;
  /** The server's estimate of our clock (from its `clock` frames), null before the first. */
  serverClock: ServerClockEstimate | null = null;
  /** What this client last reported for which media, re-sent after a reconnect. */
  private myReady: { state: ReadyState; media_seq: number } | null = null;
  private readonly clockSync = new ClockSync();
  private readonly emitters: { [K in keyof RoomEvents]?: Emitter<RoomEvents[K]> } = {};
  private readonly WS: typeof WebSocket;
  private ws: WebSocket | null = null;
  private welcomed = false; // this socket got its welcome
  private stopped = true;
  private attempt = 0;
  private sentToken: string | null = null;
  private queue: Promise<void> = Promise.resolve();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly pending = new Set<number>();
  private ready: Promise<void> | null = null;
  private settle: { resolve: () => void; reject: (error: unknown) => void } | null = null;

  constructor(
    private readonly deps: RoomDeps,
    readonly roomId: string,
    private readonly options: RoomOptions = {},
  ) {
    const WS = options.WebSocket ?? (globalThis as { WebSocket?: typeof WebSocket }).WebSocket;
    if (WS === undefined) throw new TypeError("No WebSocket here: pass RoomOptions.WebSocket");
    this.WS = WS;
  }

  get state(): RoomState | null {
    const s = this.roomState;
    if (s === null) return null;
    const { log, ...rest } = s;
    return { ...rest, ready: { ...rest.ready }, messages: log.messages };
  }

  get clock(): ClockEstimate | null {
    return this.clockSync.best();
  }

  /** Open the socket; resolves on the first welcome, rejects on a final close (4401,
   * 4403, 4404, 4409, 4410) or `close()` before it. Drops in between are retried. */
  connect(): Promise<void> {
    if (this.ready !== null) return this.ready;
    this.stopped = false;
    this.ready = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.ready.catch(() => undefined); // the caller may not wait; the rejection is not lost
    void this.open();
    return this.ready;
  }

  close(): void {
    this.stopped = true;
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    if (ws !== null && ws.readyState <= 1) ws.close(1000, "bye");
    this.rejectConnect(new MariaError(0, "closed", "The room was closed"));
    this.ready = null; // connect() may open it again
    this.setStatus("closed");
  }

  on<T extends keyof RoomEvents>(type: T, listener: (event: RoomEvents[T]) => void): () => void {
    const emitters = this.emitters as { [K in T]?: Emitter<RoomEvents[K]> };
    const emitter = (emitters[type] ??= new Emitter<RoomEvents[T]>());
    return emitter.on(listener);
  }

  chat(text: string): void {
    this.send({ type: "chat", text });
  }

  play(position?: number): void {
    this.send(position === undefined ? { type: "playback", action: "play" } : { type: "playback", action: "play", position });
  }

  pause(position?: number): void {
    this.send(position === undefined ? { type: "playback", action: "pause" } : { type: "playback", action: "pause", position });
  }

  seek(position: number): void {
    this.send({ type: "playback", action: "seek", position });
  }

  /** "Play anyway": start now even if members are still buffering (controllers only). */
  playAnyway(position?: number): void {
    this.send(
      position === undefined
        ? { type: "playback", action: "play", force: true }
        : { type: "playback", action: "play", position, force: true },
    );
  }

  setControl(mode: "host" | "everyone"): void {
    this.send({ type: "control", mode });
  }

  handOver(userId: string): void {
    this.send({ type: "host", user_id: userId });
  }

  // -- everyone in step -----------------------------------------------------------------

  /** Report whether this member's player has the current film loaded; a `play` waits
   * while anyone is buffering. Sent again after a reconnect while the media is the same. */
  setReady(state: ReadyState): void {
    const queue = this.requireState().queue;
    this.send({ type: "ready", state, movie_id: queue.movie_id });
    this.myReady = { state, media_seq: queue.media_seq };
  }

  /** Where this member's player stands now: the server answers `drift` if it is off. */
  reportPosition(position: number): void {
    this.send({ type: "position", position: clampPosition(position), at: this.serverNow() });
  }

  /** Drive a media player from the room (see player.ts); returns the detach function. */
  attach(player: RoomPlayer, options?: AttachOptions): () => void {
    return attachPlayer(this, player, options);
  }

  /** The server's clock now, unix ms, from the clock offset. */
  serverNow(): number {
    return Date.now() + this.clockSync.offsetMs();
  }

  /** Host, co-host, or everyone controls: may play, pause, seek and change the queue. */
  canControl(): boolean {
    const s = this.roomState;
    if (s === null) return false;
    return s.control === "everyone" || this.canModerate();
  }

  /** Host or co-host: may kick, mute, lock and clear. */
  canModerate(): boolean {
    const s = this.roomState;
    if (s === null) return false;
    return s.host_id === s.user_id || s.roles.cohosts.includes(s.user_id);
  }

  // -- the queue ------------------------------------------------------------------------

  queueAdd(movieId: number): void {
    this.send({ type: "queue", op: "add", movie_id: movieId });
  }

  /** Append the films of one of your lists, oldest first, as many as fit. */
  queueAddList(slug: string): void {
    this.send({ type: "queue", op: "add_list", slug });
  }

  queueRemove(index: number): void {
    this.send({ type: "queue", op: "remove", index });
  }

  queueMove(index: number, to: number): void {
    this.send({ type: "queue", op: "move", index, to });
  }

  queueNext(): void {
    this.send({ type: "queue", op: "next" });
  }

  queuePrevious(): void {
    this.send({ type: "queue", op: "previous" });
  }

  queuePlay(index: number): void {
    this.send({ type: "queue", op: "play", index });
  }

  /** Empty the queue; the current film plays on. */
  queueClear(): void {
    this.send({ type: "queue", op: "clear" });
  }

  // -- running the room -----------------------------------------------------------------

  /** Make someone a co-host or a member again (the host only). */
  setRole(userId: string, role: "cohost" | "member"): void {
    this.send({ type: "role", user_id: userId, role });
  }

  /** Close their sockets and keep them out for a while (host and co-hosts). */
  kick(userId: string): void {
    this.send({ type: "kick", user_id: userId });
  }

  mute(userId: string, muted: boolean): void {
    this.send({ type: "mute", user_id: userId, muted });
  }

  /** While locked, only the host and co-hosts chat. */
  lockChat(locked: boolean): void {
    this.send({ type: "lock", locked });
  }

  clearChat(): void {
    this.send({ type: "clear" });
  }

  react(emoji: Emoji, target: ReactionTarget): void {
    this.send(
      "messageId" in target
        ? { type: "react", emoji, message_id: target.messageId }
        : { type: "react", emoji, position: clampPosition(target.position) },
    );
  }

  /** Where the film is now, in seconds: the shared state `{position, at}` moved on by the
   * server time elapsed since `at` while playing (server time from the clock offset). */
  livePosition(): number {
    const playback = this.roomState?.playback;
    if (!playback) return 0;
    if (playback.state !== "playing") return playback.position;
    const serverNow = this.serverNow();
    // A start is scheduled a little ahead: until `at` the film stands at `position`.
    return Math.min(MAX_POSITION, playback.position + Math.max(0, serverNow - playback.at) / 1000);
  }

  // -- the socket ---------------------------------------------------------------------

  private async open(): Promise<void> {
    this.setStatus(this.roomState === null ? "connecting" : "reconnecting");
    let token: string | null;
    try {
      token = await this.deps.accessToken();
    } catch (error) {
      if (error instanceof MariaError && error.status === 401) this.finish(4401, `${error.code}: ${error.message}`);
      else this.retryLater(); // Maria is away (it may be the restart we are riding out)
      return;
    }
    if (this.stopped) return;
    if (token === null) {
      this.finish(4401, "not_authenticated: the client is not signed in");
      return;
    }
    let ws: WebSocket;
    try {
      ws = new this.WS(this.url());
    } catch (error) {
      this.finish(0, `bad_url: ${String(error)}`);
      return;
    }
    this.ws = ws;
    this.welcomed = false;
    this.sentToken = token;
    ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token }));
    ws.onmessage = (event: MessageEvent) => {
      if (ws !== this.ws || typeof event.data !== "string") return;
      const data = event.data;
      this.queue = this.queue.then(() => this.handle(ws, data)).catch((error: unknown) => this.resync(ws, error));
    };
    ws.onclose = (event: CloseEvent) => this.closed(ws, event.code, event.reason);
    // Browsers follow an error with a close (1006); some WebSocket implementations (Node
    // 20's undici on a refused connection) fire only the error. Either way it is a drop.
    ws.onerror = () => {
      setTimeout(() => {
        if (ws !== this.ws) return; // the close came and was handled
        try {
          ws.close();
        } catch {
          // not open: nothing to close
        }
        this.closed(ws, 1006, "");
      }, 50);
    };
  }

  private closed(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws) return;
    this.ws = null;
    this.clearTimers();
    if (this.stopped) return;
    if (FINAL_CLOSE_CODES.has(code)) this.finish(code, reason);
    else this.retryLater(code, reason);
  }

  private retryLater(code?: number, reason?: string): void {
    this.setStatus("reconnecting", code, reason);
    const delay = backoffDelay(this.attempt++, this.options.backoff);
    this.timer(() => void this.open(), delay);
  }

  private finish(code: number, reason: string): void {
    this.stopped = true;
    this.clearTimers();
    const [name, ...rest] = reason.split(": ");
    const known = rest.length > 0 && /^[a-z_]+$/.test(name ?? "");
    this.rejectConnect(
      new MariaError(0, known ? (name as string) : `closed_${code}`, known ? rest.join(": ") : reason || `closed ${code}`),
    );
    this.ready = null;
    this.setStatus("closed", code, reason);
  }

  private url(): string {
    const location = (globalThis as { location?: { origin?: string } }).location;
    const base = (this.options.wsUrl ?? (this.deps.baseUrl || location?.origin || "")).replace(/\/+$/, "");
    if (!base) throw new TypeError("No URL for the room socket: set baseUrl or RoomOptions.wsUrl");
    return `${base.replace(/^http/, "ws")}/api/v1/rooms/${encodeURIComponent(this.roomId)}/ws`;
  }

  private send(frame: ClientFrame): void {
    const ws = this.ws;
    if (ws === null || ws.readyState !== 1 || !this.welcomed) {
      throw new MariaError(0, "not_connected", "The room is not connected right now");
    }
    ws.send(JSON.stringify(frame));
  }

  // -- frames -------------------------------------------------------------------------

  private async handle(ws: WebSocket, data: string): Promise<void> {
    if (ws !== this.ws) return;
    let frame: ServerFrame;
    try {
      frame = JSON.parse(data) as ServerFrame;
    } catch {
      return; // the server sends JSON; anything else is not ours to act on
    }
    const s = this.roomState;
    switch (frame.type) {
      case "welcome":
        await this.welcome(ws, frame);
        return; // emitted by welcome()
      case "chat":
        if (s === null || !s.log.add(withoutType(frame))) return;
        break;
      case "presence":
        if (s !== null) {
          s.members = s.members.filter((m) => m.user_id !== frame.user_id);
          if (frame.event === "leave") delete s.ready[frame.user_id];
          if (frame.event === "join") {
            s.members.push({ user_id: frame.user_id, name: frame.name, since: Date.now() + this.clockSync.offsetMs() });
          }
        }
        break;
      case "playback":
        if (s !== null) {
          if (frame.seq < s.playback.seq) return; // an older state overtaken by a newer one
          s.playback = withoutType(frame);
        }
        break;
      case "control":
        if (s !== null) {
          s.control = frame.mode;
          s.host_id = frame.host_id;
        }
        break;
      case "pong":
        if (!this.pending.delete(frame.t0)) return;
        this.clockSync.add(frame.t0, frame.server_time, Date.now());
        break;
      case "authenticated":
        if (this.sentToken !== null) this.scheduleReauth(this.sentToken);
        break;
      case "error":
        break;
      case "ping":
        ws.send(JSON.stringify({ type: "pong", t0: frame.t0, t1: Date.now() }));
        break;
      case "clock":
        this.serverClock = { rtt: frame.rtt, offset: frame.offset };
        break;
      case "ready":
        if (s !== null) {
          if (frame.state === "unknown") delete s.ready[frame.user_id];
          else s.ready[frame.user_id] = frame.state;
        }
        break;
      case "queue":
        if (s !== null) {
          if (frame.seq < s.queue.seq) return;
          const { type, ...queue } = frame;
          void type;
          if (queue.media_seq !== s.queue.media_seq) {
            // A media change: everyone present is loading the new film.
            s.ready = Object.fromEntries(s.members.map((m) => [m.user_id, "buffering" as const]));
            this.myReady = null;
          }
          s.queue = queue;
        }
        break;
      case "roles":
        if (s !== null) {
          if (frame.seq < s.roles.seq) return;
          s.roles = withoutType(frame);
        }
        break;
      case "moderated":
        if (s !== null && frame.action === "clear") s.log = new ChatLog();
        break;
      case "reaction":
        if (s !== null) s.reactions = [...s.reactions, withoutType(frame)].slice(-KEEP_REACTIONS);
        break;
      case "drift":
        break;
      default:
        return; // a frame type this version does not know
    }
    this.emit(frame);
  }

  private async welcome(ws: WebSocket, frame: WelcomeFrame): Promise<void> {
    this.clockSync.roughly(frame.server_time, Date.now());
    const previous = this.roomState;
    const log = previous?.log ?? new ChatLog();
    const fresh: FrameMessage[] = [];
    if (previous === null) {
      for (const message of frame.history) log.add(message);
    } else {
      const known = log.lastSeq;
      const first = frame.history[0];
      const missed = known !== null && first !== undefined && first.seq > known + 1 ? await this.fill(first.id, known) : [];
      if (ws !== this.ws) return;
      for (const message of [...missed, ...frame.history].sort((a, b) => a.seq - b.seq)) {
        if (log.add(message)) fresh.push(message);
      }
    }
    this.roomState = {
      room: frame.room,
      members: [...frame.members],
      playback: frame.playback,
      host_id: frame.host_id,
      control: frame.control,
      user_id: frame.user_id,
      log,
      queue: frame.queue,
      ready: readyStates(frame.ready),
      roles: frame.roles,
      reactions: frame.reactions.slice(-KEEP_REACTIONS),
    };
    this.welcomed = true;
    // The server forgot our ready state if our last socket closed: tell it again.
    const mine = this.myReady;
    if (mine !== null && mine.media_seq === frame.queue.media_seq && frame.ready[frame.user_id] !== mine.state) {
      ws.send(JSON.stringify({ type: "ready", state: mine.state, movie_id: frame.queue.movie_id }));
      this.roomState.ready[frame.user_id] = mine.state;
    }
    this.attempt = 0;
    this.setStatus("open");
    this.emit(frame);
    for (const message of fresh) this.emit({ type: "chat", ...message });
    if (this.sentToken !== null) this.scheduleReauth(this.sentToken);
    this.pingBurst(PING_BURST);
    this.timer(() => this.resample(), RESAMPLE_EVERY_MS);
    this.settle?.resolve();
    this.settle = null;
  }

  /** The messages after `known` and before message `before`, oldest first. */
  private async fill(before: string, known: number): Promise<FrameMessage[]> {
    const pages: FrameMessage[][] = [];
    let cursor = before;
    for (let i = 0; i < FILL_MAX_PAGES; i++) {
      const page = await this.deps.messagesBefore(this.roomId, cursor, FILL_PAGE);
      const oldest = page[0];
      if (oldest === undefined) break;
      pages.unshift(page);
      if (oldest.seq <= known + 1 || page.length < FILL_PAGE) break;
      cursor = oldest.id;
    }
    return pages.flat().filter((m) => m.seq > known);
  }

  /** A frame could not be handled (the gap could not be fetched): start over with a new
   * socket rather than go on with a hole in the chat. */
  private resync(ws: WebSocket, error: unknown): void {
    if (ws !== this.ws) return;
    void error;
    ws.close(CLOSE_RESYNC, "resync");
  }

  // -- keeping the socket authenticated -------------------------------------------------

  private scheduleReauth(token: string): void {
    const times = tokenTimes(token);
    if (times === null) return;
    const serverNow = Date.now() + this.clockSync.offsetMs();
    const due = times.exp * 1000 - renewMarginMs(times.exp - times.iat) - serverNow;
    this.timer(() => void this.reauth(token), Math.max(0, due), "reauth");
  }

  private async reauth(stale: string): Promise<void> {
    const ws = this.ws;
    if (ws === null) return;
    let token: string | null;
    try {
      token = await this.deps.freshToken(stale);
    } catch (error) {
      // Signed out (401): the server closes the socket at expiry with 4401. Otherwise
      // Maria is briefly away: try again while the token still lives.
      if (!(error instanceof MariaError && error.status === 401)) this.timer(() => void this.reauth(stale), REAUTH_RETRY_MS, "reauth");
      return;
    }
    if (token === null || ws !== this.ws || ws.readyState !== 1) return;
    this.sentToken = token;
    ws.send(JSON.stringify({ type: "auth", token }));
  }

  // -- clock ----------------------------------------------------------------------------

  private pingBurst(count: number): void {
    for (let i = 0; i < count; i++) this.timer(() => this.ping(), i * PING_GAP_MS);
  }

  private resample(): void {
    this.pingBurst(RESAMPLE_BURST);
    this.timer(() => this.resample(), RESAMPLE_EVERY_MS);
  }

  private ping(): void {
    const ws = this.ws;
    if (ws === null || ws.readyState !== 1) return;
    const t0 = Date.now();
    this.pending.add(t0);
    ws.send(JSON.stringify({ type: "ping", t0 }));
  }

  // -- plumbing -------------------------------------------------------------------------

  private timer(fn: () => void, ms: number, kind?: "reauth"): void {
    if (kind === "reauth") this.clearReauth();
    const handle = setTimeout(() => {
      this.timers.delete(handle);
      if (kind === "reauth") this.reauthTimer = null;
      fn();
    }, ms);
    if (kind === "reauth") this.reauthTimer = handle;
    this.timers.add(handle);
  }

  private reauthTimer: ReturnType<typeof setTimeout> | null = null;

  private clearReauth(): void {
    if (this.reauthTimer === null) return;
    clearTimeout(this.reauthTimer);
    this.timers.delete(this.reauthTimer);
    this.reauthTimer = null;
  }

  private clearTimers(): void {
    for (const handle of this.timers) clearTimeout(handle);
    this.timers.clear();
    this.reauthTimer = null;
    this.pending.clear();
  }

  private setStatus(status: RoomStatus, code?: number, reason?: string): void {
    const changed = status !== this.status;
    this.status = status;
    if (changed || code !== undefined) {
      const event: RoomStatusEvent = { type: "status", status };
      if (code !== undefined) event.code = code;
      if (reason !== undefined && reason !== "") event.reason = reason;
      this.emit(event);
    }
  }

  private requireState(): NonNullable<RoomClient["roomState"]> {
    const s = this.roomState;
    if (s === null || !this.welcomed) throw new MariaError(0, "not_connected", "The room is not connected right now");
    return s;
  }

  private rejectConnect(error: MariaError): void {
    this.settle?.reject(error);
    this.settle = null;
  }

  private emit<E extends ServerFrame | RoomStatusEvent>(event: E): void {
    (this.emitters[event.type] as Emitter<E> | undefined)?.emit(event);
  }
}

function readyStates(given: WelcomeFrame["ready"]): Record<string, ReadyState> {
  const states: Record<string, ReadyState> = {};
  for (const [userId, state] of Object.entries(given)) if (state !== undefined) states[userId] = state;
  return states;
}

function clampPosition(position: number): number {
  return Math.min(MAX_POSITION, Math.max(0, position));
}

function withoutType<T extends { type: string }>(frame: T): Omit<T, "type"> {
  const { type, ...rest } = frame;
  void type;
  return rest;
}
