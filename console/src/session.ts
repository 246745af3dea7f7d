// Noticing that this browser was signed out elsewhere (an admin disabled the account, the
// user signed out everywhere from another device, the session expired): besides the
// client's `signedOut` event, a cheap GET /users/me every few seconds while the page is
// visible, and whenever it becomes visible or focused again.

export const CHECK_EVERY_MS = 10_000;
const AT_MOST_EVERY_MS = 2_000;

export interface Watch {
  /** Check now (throttled), e.g. when a room socket was closed. */
  now(): void;
  stop(): void;
}

export function watchSession(check: () => Promise<void>): Watch {
  let last = 0;
  const run = (): void => {
    const now = Date.now();
    if (now - last < AT_MOST_EVERY_MS) return;
    last = now;
    check().catch(() => undefined);
  };
  const whenVisible = (): void => {
    if (document.visibilityState === "visible") run();
  };
  const timer = window.setInterval(whenVisible, CHECK_EVERY_MS);
  window.addEventListener("focus", run);
  window.addEventListener("online", run);
  document.addEventListener("visibilitychange", whenVisible);
  return {
    now: run,
    stop: () => {
      window.clearInterval(timer);
      window.removeEventListener("focus", run);
      window.removeEventListener("online", run);
      document.removeEventListener("visibilitychange", whenVisible);
    },
  };
}
