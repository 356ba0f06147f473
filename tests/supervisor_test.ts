/**
 * The supervisor with real workers (`fixtures/flaky_actor.ts`): typed
 * requests and errors as values, requests rejected the moment their actor
 * fails, a start that fails with the failing actor's error, restart types,
 * the monotonic clock, backoff, circuit and heartbeats; and the worker side
 * (`runActor`) over a MessageChannel.
 */

import assert from "node:assert/strict";
import { runActor } from "../runtime/actor.ts";
import {
  ActorDownError,
  FromActor,
  RequestError,
  StartError,
} from "../runtime/protocol.ts";
import { type ChildSpec, Supervisor } from "../runtime/supervisor.ts";
import type { FlakyRequests } from "./fixtures/flaky_actor.ts";

const FLAKY = new URL("./fixtures/flaky_actor.ts", import.meta.url);
const quiet = { onLog: () => {} };
const fast = { ...quiet, backoffBaseMs: 10, backoffMaxMs: 40 };

function flaky(id: string, mode: string, more: Partial<ChildSpec> = {}) {
  return { id, module: FLAKY, config: { mode }, ...more };
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) {
      throw new Error("Timed out waiting for condition");
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `p`, or a rejection naming `what` when it has not settled within `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(
      () => reject(new Error(`${what} did not settle in ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(t);
  }
}

/** The rejection of `p` (fails when it resolves or hangs). */
async function rejection(p: Promise<unknown>, what: string): Promise<Error> {
  try {
    await within(p, 5000, what);
  } catch (e) {
    if (e instanceof Error && / did not settle in /.test(e.message)) throw e;
    return e as Error;
  }
  throw new Error(`${what} resolved`);
}

Deno.test("supervisor: typed requests reach the actor and errors come back as values with their code", async () => {
  const sup = new Supervisor<FlakyRequests>([flaky("echo", "ok")], [], quiet);
  await sup.start();
  try {
    assert.deepEqual(await sup.request("echo", "echo", { a: 1 }), { a: 1 });
    const failed = await rejection(
      sup.request("echo", "fail", {
        code: "not_followed",
        message: "Symbol X is not followed",
      }),
      "fail",
    );
    assert.ok(failed instanceof RequestError);
    assert.equal(failed.code, "not_followed");
    assert.equal(failed.message, "Symbol X is not followed");
    const unknown = await rejection(
      (sup as Supervisor).request("echo", "nope", {}),
      "nope",
    );
    assert.ok(unknown instanceof RequestError);
    assert.equal(unknown.code, "unknown_method");
    assert.match(unknown.message, /Unknown request method "nope"/);
    const nobody = await rejection(sup.request("ghost", "wait", {}), "ghost");
    assert.ok(nobody instanceof RequestError);
    assert.equal(nobody.code, "unknown_actor");
    assert.match(nobody.message, /Unknown actor ghost/);
    assert.equal(sup.actors()[0].state, "running");
    assert.equal(sup.actors()[0].restart, "permanent");
  } finally {
    await sup.stop();
  }
  assert.equal(sup.actors()[0].state, "stopped");
});

Deno.test("supervisor: a request pending on an actor that crashes is rejected at once with ActorDownError", async () => {
  const sup = new Supervisor<FlakyRequests>([flaky("crash", "ok")], [], {
    ...fast,
    backoffBaseMs: 5000,
    backoffMaxMs: 5000,
  });
  await sup.start();
  try {
    const e = await rejection(sup.request("crash", "crash", {}), "crash");
    assert.ok(e instanceof ActorDownError, String(e));
    assert.equal(e.code, "actor_down");
    assert.equal(e.actorId, "crash");
    assert.match(
      e.message,
      /Actor crash is down: .*crashed with a request pending/,
    );
    // While it waits for its restart, a new request fails at once too.
    assert.equal(sup.actors()[0].state, "restarting");
    const again = await rejection(
      sup.request("crash", "echo", { a: 1 }),
      "again",
    );
    assert.ok(again instanceof ActorDownError);
    assert.match(again.message, /restarting \(last error: .*crashed/);
  } finally {
    await sup.stop();
  }
});

Deno.test("supervisor: a request pending on a hung actor is rejected when its heartbeat times out", async () => {
  const sup = new Supervisor<FlakyRequests>([flaky("hung", "ok")], [], {
    ...fast,
    heartbeatMs: 50,
    heartbeatTimeoutMs: 300,
  });
  await sup.start();
  try {
    const e = await rejection(sup.request("hung", "hang", {}), "hang");
    assert.ok(e instanceof ActorDownError, String(e));
    assert.match(e.message, /No heartbeat for \d+ ms/);
  } finally {
    await sup.stop();
  }
});

Deno.test("supervisor: kill and stop reject pending requests", async () => {
  const sup = new Supervisor<FlakyRequests>([flaky("victim", "ok")], [], fast);
  await sup.start();
  try {
    const pending = sup.request("victim", "wait", {});
    sup.kill("victim", "killed by test");
    const e = await rejection(pending, "killed");
    assert.ok(e instanceof ActorDownError);
    assert.match(e.message, /killed by test/);
    await within(sup.ready("victim"), 5000, "restart");
    const atStop = sup.request("victim", "wait", {});
    await sup.stop();
    const s = await rejection(atStop, "stopped");
    assert.ok(s instanceof ActorDownError);
    assert.match(s.message, /supervisor stopped/);
  } finally {
    await sup.stop();
  }
});

for (
  const [mode, message, code] of [
    [
      "init_throw",
      /Actor bad failed to start: Config mode init_throw is refused/,
      "internal",
    ],
    [
      "init_reject",
      /Actor bad failed to start: Config mode init_reject is rejected/,
      "bad_config",
    ],
    [
      "die_before_ready",
      /Actor bad failed to start: Uncaught: .*died before ready/,
      undefined,
    ],
  ] as const
) {
  Deno.test(`supervisor: an actor whose init fails (${mode}) fails the start and the others are stopped`, async () => {
    const sup = new Supervisor(
      [flaky("good", "ok"), flaky("bad", mode), flaky("after", "ok")],
      [],
      fast,
    );
    const e = await rejection(sup.start(), "start");
    assert.ok(e instanceof StartError, String(e));
    assert.equal(e.actorId, "bad");
    assert.match(e.message, message);
    if (code) assert.equal((e.cause as RequestError).code, code);
    for (const a of sup.actors()) {
      assert.equal(a.state, "stopped", a.id);
      assert.equal(a.restarts, 0, a.id);
    }
    assert.match(sup.actors()[1].lastError!, /init_|died before ready/);
    await sup.stop();
  });
}

Deno.test("supervisor: an actor that is never ready fails the start after initTimeoutMs", async () => {
  const sup = new Supervisor([flaky("slow", "init_hang")], [], {
    ...fast,
    heartbeatMs: 50,
    initTimeoutMs: 500,
  });
  const e = await rejection(sup.start(), "start");
  assert.ok(e instanceof StartError, String(e));
  assert.match(
    e.message,
    /Actor slow failed to start: Not ready within 500 ms/,
  );
  assert.equal(sup.actors()[0].state, "stopped");
});

Deno.test("supervisor: restart types decide what comes back", async () => {
  const sup = new Supervisor(
    [
      flaky("temp", "throw", { restart: "temporary" }),
      flaky("trans-exit", "exit", { restart: "transient" }),
      flaky("trans-crash", "throw", { restart: "transient" }),
      flaky("perm-exit", "exit"),
    ],
    [],
    { ...fast, intensity: 100 },
  );
  await within(sup.start(), 10_000, "start");
  try {
    const by = (id: string) => sup.actors().find((a) => a.id === id)!;
    await until(() =>
      by("temp").state === "stopped" &&
      by("trans-exit").state === "exited" &&
      by("trans-crash").restarts >= 1 &&
      by("perm-exit").restarts >= 1
    );
    assert.equal(by("temp").restarts, 0);
    assert.match(by("temp").lastError!, /boom/);
    assert.equal(by("temp").restart, "temporary");
    assert.equal(by("trans-exit").restarts, 0);
    assert.equal(by("trans-exit").lastError, null);
    // Neither comes back: ready() says so instead of waiting forever.
    const gone = await rejection(sup.ready("temp"), "ready temp");
    assert.ok(gone instanceof ActorDownError);
    const exited = await rejection(sup.ready("trans-exit"), "ready exited");
    assert.ok(exited instanceof ActorDownError);
    assert.match(exited.message, /Actor trans-exit is down: exited/);
  } finally {
    await sup.stop();
  }
});

Deno.test("supervisor: restart windows and heartbeats use the monotonic clock, not Date.now", async () => {
  const realNow = Date.now;
  let jumps = 0;
  // The wall clock leaps an hour forward every time it is read.
  Date.now = () => realNow() + 3_600_000 * ++jumps;
  try {
    const sup = new Supervisor(
      [flaky("steady", "ok"), flaky("crash", "throw")],
      [],
      {
        ...fast,
        intensity: 3,
        periodMs: 60_000,
        heartbeatMs: 20,
        heartbeatTimeoutMs: 2_000,
      },
    );
    await within(sup.start(), 10_000, "start");
    try {
      const by = (id: string) => sup.actors().find((a) => a.id === id)!;
      await until(() => by("crash").circuit === "open");
      assert.equal(by("crash").restarts, 3);
      assert.equal(by("steady").restarts, 0, by("steady").lastError ?? "");
      assert.equal(by("steady").state, "running");
    } finally {
      await sup.stop();
    }
  } finally {
    Date.now = realNow;
  }
});

Deno.test("supervisor: a crashing actor is restarted with backoff until its circuit opens", async () => {
  const sup = new Supervisor([flaky("crash", "throw")], [], {
    ...fast,
    intensity: 3,
    periodMs: 60_000,
  });
  await sup.start();
  try {
    await until(() => sup.actors()[0].circuit === "open");
    const a = sup.actors()[0];
    assert.equal(a.state, "stopped");
    assert.equal(a.restarts, 3);
    assert.match(a.lastError!, /boom/);
    // Counters survive restarts: one init per incarnation.
    assert.equal((a.stats.counters as Record<string, number>).inits, 4);
    const e = await rejection(sup.request("crash", "echo", {}), "open");
    assert.match(e.message, /stopped, circuit open/);
  } finally {
    await sup.stop();
  }
});

Deno.test("supervisor: a hung actor is detected by missed heartbeats and restarted", async () => {
  const sup = new Supervisor([flaky("hang", "hang")], [], {
    ...fast,
    heartbeatMs: 50,
    heartbeatTimeoutMs: 300,
    backoffMaxMs: 20,
  });
  await sup.start();
  try {
    await until(() => sup.actors()[0].restarts >= 1);
    assert.match(sup.actors()[0].lastError!, /No heartbeat/);
  } finally {
    await sup.stop();
  }
});

Deno.test("runActor: typed handlers, unknown methods as values, requests wait for init, and a failed init is a value", async () => {
  const ch = new MessageChannel();
  const got: FromActor[] = [];
  ch.port2.onmessage = (ev) => got.push(FromActor.parse(ev.data));
  const init = Promise.withResolvers<void>();
  runActor<{ twice: { params: { n: number }; result: number } }>({
    init: () => init.promise,
    requests: { twice: ({ n }) => 2 * n },
  }, ch.port1);
  const next = (type: string) =>
    until(() => got.some((m) => m.type === type), 2000);
  ch.port2.postMessage({ type: "init", id: "a", config: {} });
  ch.port2.postMessage({
    type: "request",
    id: 1,
    method: "twice",
    params: { n: 21 },
  });
  ch.port2.postMessage({ type: "request", id: 2, method: "old", params: {} });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(got.length, 0, "answered before init finished");
  init.resolve();
  await next("ready");
  await until(() => got.filter((m) => m.type === "response").length === 2);
  const responses = got.filter((m) => m.type === "response");
  responses.sort((a, b) => a.id - b.id);
  assert.deepEqual(responses, [
    { type: "response", id: 1, ok: true, value: 42 },
    {
      type: "response",
      id: 2,
      ok: false,
      code: "unknown_method",
      error: 'Unknown request method "old"',
    },
  ]);
  ch.port1.close();
  ch.port2.close();

  const ch2 = new MessageChannel();
  const got2: FromActor[] = [];
  ch2.port2.onmessage = (ev) => got2.push(FromActor.parse(ev.data));
  runActor({
    init() {
      throw new RequestError("bad_config", "Config x is bad");
    },
  }, ch2.port1);
  ch2.port2.postMessage({ type: "init", id: "b", config: {} });
  await until(() => got2.length > 0, 2000);
  assert.deepEqual(got2, [{
    type: "init_failed",
    code: "bad_config",
    error: "Config x is bad",
  }]);
  ch2.port1.close();
  ch2.port2.close();
});
