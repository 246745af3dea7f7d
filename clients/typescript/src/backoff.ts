/**
 * Reconnect delays: exponential, capped, with "equal jitter" (half fixed, half random), so
 * that the members a server restart dropped all at once do not all come back at once, and
 * no retry is ever immediate.
 */
export interface BackoffOptions {
  /** The first delay's ceiling (default 500 ms). */
  initialMs?: number;
  /** The largest delay (default 30 s). */
  maxMs?: number;
}

export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialMs ?? 500;
  const max = options.maxMs ?? 30_000;
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + (random() * ceiling) / 2;
}
