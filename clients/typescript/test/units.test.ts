/** The pure parts: the clock estimate and the reconnect delays. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { backoffDelay, ClockSync } from "@kinoway/maria";

describe("ClockSync", () => {
  test("keeps the offset of the lowest-round-trip sample", () => {
    const clock = new ClockSync();
    assert.equal(clock.best(), null);
    // The server is 1000 ms ahead. A slow sample whose way back took 90 of its 100 ms
    // misplaces the server by 40 ms; the fast symmetric one does not.
    clock.add(0, 1000 + 10, 100); // out 10 ms, back 90 ms
    clock.add(500, 1000 + 515, 530); // out 15 ms, back 15 ms
    clock.add(900, 1000 + 960, 1000); // out 60 ms, back 40 ms
    assert.deepEqual(clock.best(), { offsetMs: 1000, rttMs: 30 });
    assert.equal(clock.offsetMs(), 1000);
  });

  test("old samples age out of the window, so a drifted clock is followed", () => {
    const clock = new ClockSync(3);
    clock.add(0, 5, 10); // offset 0, rtt 10: the best, until it ages out
    for (let i = 1; i <= 3; i++) clock.add(i * 100, i * 100 + 220, i * 100 + 40); // offset 200, rtt 40
    assert.deepEqual(clock.best(), { offsetMs: 200, rttMs: 40 });
  });

  test("a rough offset from the welcome until the first pong; nonsense samples are ignored", () => {
    const clock = new ClockSync();
    assert.equal(clock.offsetMs(), 0);
    clock.roughly(10_000, 9_000);
    assert.equal(clock.offsetMs(), 1_000);
    clock.add(100, 50, 90); // answered before it was sent
    clock.add(100, Number.NaN, 120);
    assert.equal(clock.best(), null);
    clock.add(100, 2_110, 120);
    assert.equal(clock.offsetMs(), 2_000);
  });
});

describe("backoffDelay", () => {
  test("grows exponentially from initialMs, is capped at maxMs, and is never below half its ceiling", () => {
    const options = { initialMs: 100, maxMs: 1_000 };
    const ceilings = [100, 200, 400, 800, 1_000, 1_000];
    ceilings.forEach((ceiling, attempt) => {
      assert.equal(backoffDelay(attempt, options, () => 0), ceiling / 2);
      assert.equal(backoffDelay(attempt, options, () => 1), ceiling);
    });
    assert.equal(backoffDelay(10_000, options, () => 0.5), 750);
  });
});
