/**
 * The supervisor shares the main thread with HTTP and the viewers' streams:
 * when that thread is blocked for longer than `heartbeatTimeoutMs`, the
 * actors' pongs wait unread in its queue. That stall is the supervisor's own
 * and must not restart healthy actors; a hung actor is still found.
 */

import assert from "node:assert/strict";
import { Supervisor } from "../runtime/supervisor.ts";

const FLAKY = new URL("./fixtures/flaky_actor.ts", import.meta.url);
const options = {
  onLog: () => {},
  backoffBaseMs: 10,
  backoffMaxMs: 40,
  heartbeatMs: 50,
  heartbeatTimeoutMs: 300,
};

/** Holds the calling thread, as a burst of synchronous work would. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) { /* the main thread is busy */ }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

Deno.test("supervisor lag: a main thread blocked past heartbeatTimeoutMs does not kill healthy actors", async () => {
  const sup = new Supervisor(
    [
      { id: "a", module: FLAKY, config: { mode: "ok" } },
      { id: "b", module: FLAKY, config: { mode: "ok" } },
    ],
    [],
    options,
  );
  await sup.start();
  try {
    await sleep(200);
    // Three times over: once and again right after the first recovery.
    for (const ms of [1000, 1500, 700]) {
      block(ms);
      await sleep(400);
    }
    for (const a of sup.actors()) {
      assert.equal(a.restarts, 0, `${a.id}: ${a.lastError}`);
      assert.equal(a.state, "running", a.id);
    }
    assert.ok(sup.lagMs() >= 3000, `lag discounted: ${sup.lagMs()} ms`);
  } finally {
    await sup.stop();
  }
});

Deno.test("supervisor lag: a hung actor is still restarted after the main thread stalled", async () => {
  const sup = new Supervisor(
    [
      { id: "ok", module: FLAKY, config: { mode: "ok" } },
      { id: "hang", module: FLAKY, config: { mode: "hang" } },
    ],
    [],
    options,
  );
  await sup.start();
  try {
    block(800);
    const end = performance.now() + 10_000;
    const by = (id: string) => sup.actors().find((a) => a.id === id)!;
    while (by("hang").restarts < 1 && performance.now() < end) await sleep(20);
    assert.ok(by("hang").restarts >= 1, "the hung actor was not restarted");
    assert.match(by("hang").lastError ?? "", /No heartbeat/);
    assert.equal(by("ok").restarts, 0, by("ok").lastError ?? "");
  } finally {
    await sup.stop();
  }
});
