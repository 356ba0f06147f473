import assert from "node:assert/strict";
import { Supervisor } from "../runtime/supervisor.ts";

const FLAKY = new URL("./fixtures/flaky_actor.ts", import.meta.url);
const quiet = { onLog: () => {} };

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("Timed out waiting for condition");
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("supervisor: requests reach the actor and errors come back as values", async () => {
  const sup = new Supervisor(
    [{ id: "echo", module: FLAKY, config: { mode: "ok" } }],
    [],
    quiet,
  );
  await sup.start();
  assert.deepEqual(await sup.request("echo", "echo", { a: 1 }), { a: 1 });
  await assert.rejects(sup.request("echo", "nope", {}), /Unknown request nope/);
  assert.equal(sup.actors()[0].state, "running");
  await sup.stop();
  assert.equal(sup.actors()[0].state, "stopped");
});

Deno.test("supervisor: a crashing actor is restarted with backoff until its circuit opens", async () => {
  const sup = new Supervisor(
    [{ id: "crash", module: FLAKY, config: { mode: "throw" } }],
    [],
    {
      ...quiet,
      intensity: 3,
      periodMs: 60_000,
      backoffBaseMs: 10,
      backoffMaxMs: 40,
    },
  );
  await sup.start();
  await until(() => sup.actors()[0].circuit === "open");
  const a = sup.actors()[0];
  assert.equal(a.state, "stopped");
  assert.equal(a.restarts, 3);
  assert.match(a.lastError!, /boom/);
  // Counters survive restarts: one init per incarnation.
  assert.equal((a.stats.counters as Record<string, number>).inits, 4);
  await sup.stop();
});

Deno.test("supervisor: a hung actor is detected by missed heartbeats and restarted", async () => {
  const sup = new Supervisor(
    [{ id: "hang", module: FLAKY, config: { mode: "hang" } }],
    [],
    {
      ...quiet,
      heartbeatMs: 50,
      heartbeatTimeoutMs: 300,
      backoffBaseMs: 10,
      backoffMaxMs: 20,
    },
  );
  await sup.start();
  await until(() => sup.actors()[0].restarts >= 1);
  assert.match(sup.actors()[0].lastError!, /No heartbeat/);
  await sup.stop();
});
