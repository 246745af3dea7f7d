// The console has no video: this stands in for one. It keeps a position that runs on the
// page's clock while playing (at its playback rate), which is all the room client's
// attach() drives and reads, and the range input shows it.

import type { RoomClient } from "@kinoway/maria";

/** What attach() drives (an HTMLMediaElement fits too). */
type RoomPlayer = Parameters<RoomClient["attach"]>[0];

export class RangePlayer implements RoomPlayer {
  paused = true;
  private base = 0; // the position at `since` (performance.now(), ms)
  private since = performance.now();
  private rate = 1;

  get currentTime(): number {
    if (this.paused) return this.base;
    return Math.max(0, this.base + ((performance.now() - this.since) / 1000) * this.rate);
  }

  set currentTime(seconds: number) {
    this.base = seconds;
    this.since = performance.now();
  }

  get playbackRate(): number {
    return this.rate;
  }

  set playbackRate(rate: number) {
    this.currentTime = this.currentTime; // the time so far ran at the old rate
    this.rate = rate;
  }

  play(): void {
    if (!this.paused) return;
    this.since = performance.now();
    this.paused = false;
  }

  pause(): void {
    if (this.paused) return;
    this.base = this.currentTime;
    this.paused = true;
  }
}
