/**
 * The server's clock as seen from here, from `ping {t0}` / `pong {t0, server_time}`.
 *
 * One sample's offset is `server_time - (t0 + t1) / 2`, exact when the way out and the way
 * back took equally long; its error is at most half the round trip. So, as NTP and
 * Jellyfin's SyncPlay do, keep several recent samples and trust the one with the smallest
 * round trip: the one a queue or a retransmit delayed least.
 */
export interface ClockEstimate {
  /** Server time minus local time, in ms. */
  offsetMs: number;
  /** Round trip of the sample the offset comes from, in ms. */
  rttMs: number;
}

export class ClockSync {
  private readonly samples: ClockEstimate[] = [];
  private rough: number | null = null;

  /** `window`: how many recent samples to choose from (old ones age out, so a drifting
   * local clock is followed). */
  constructor(private readonly window = 16) {}

  /** One answered ping: sent at local `t0`, answered at `serverTime`, back at local `t1`. */
  add(t0: number, serverTime: number, t1: number): void {
    const rttMs = t1 - t0;
    if (!(rttMs >= 0) || !Number.isFinite(serverTime)) return;
    this.samples.push({ offsetMs: serverTime - (t0 + t1) / 2, rttMs });
    if (this.samples.length > this.window) this.samples.shift();
  }

  /** A server time received at local `t1` with no known send time (the welcome frame):
   * used only until the first ping is answered. */
  roughly(serverTime: number, t1: number): void {
    this.rough = serverTime - t1;
  }

  /** The lowest-round-trip sample, or null before any ping was answered. */
  best(): ClockEstimate | null {
    let best: ClockEstimate | null = null;
    for (const sample of this.samples) if (best === null || sample.rttMs < best.rttMs) best = sample;
    return best === null ? null : { ...best };
  }

  /** The best offset known (0 before anything was heard). */
  offsetMs(): number {
    return this.best()?.offsetMs ?? this.rough ?? 0;
  }
}
