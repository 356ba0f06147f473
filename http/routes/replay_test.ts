/**
 * The replay routes and a session's heatmap stream over a real
 * `ReplaySessions`, whose replay actor is a fake that keeps each session's
 * progress, answers the control requests as the actor does and sends
 * `session` output (real `ColumnBatch`es) when the test says so. Covers the
 * API-key protection: 401 without or with a wrong key, 403 on another key's
 * session, 429 past `api.sessionsPerKey`, and no header needed without keys.
 */

import assert from "node:assert/strict";
import type { ReplayProgress } from "../../actors/market/requests.ts";
import { parseConfig } from "../../actors/system/config.ts";
import type { ReplaySessions } from "../../actors/system/sessions.ts";
import { HeatmapHub } from "../../actors/system/hub.ts";
import { createApp } from "../app.ts";
import type { AppDeps } from "../deps.ts";
import { CAPTURE, fakeReplay, FROM, tick, TO } from "./_fake_replay_test.ts";

/** App services with the replay sessions and API settings given. */
function depsOf(
  replay: ReplaySessions | undefined,
  api?: { keys: string[]; sessionsPerKey?: number },
): AppDeps {
  return {
    actors: () => [],
    request: () => Promise.reject(new Error("No actors in this test")),
    hub: new HeatmapHub(10),
    replay,
    metrics: { render: () => Promise.resolve("") },
    exchanges: ["binance"],
    config: parseConfig({
      exchanges: { binance: { symbols: ["BTC-USDT"] } },
      replay: { dirs: ["../shared/data"] },
      ...(api ? { api } : {}),
    }),
  };
}

/** A JSON request to the app. */
function send(
  app: ReturnType<typeof createApp>,
  method: string,
  path: string,
  body?: unknown,
  key?: string,
): Promise<Response> {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
  };
  if (key) headers["X-API-Key"] = key;
  return Promise.resolve(app.request(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  }));
}

/** Reads SSE events off a stream until `until` holds or it ends. */
async function readEvents(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  events: { event: string; data: string }[],
  until: () => boolean,
): Promise<boolean> {
  const dec = new TextDecoder();
  let text = "";
  while (!until()) {
    const { value, done } = await reader.read();
    if (done) return false;
    text += dec.decode(value, { stream: true });
    let end;
    while ((end = text.indexOf("\n\n")) >= 0) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      const [head, data] = block.split("\n");
      events.push({ event: head.slice(7), data: data.slice(6) });
    }
  }
  return true;
}

const KEY_A = "key-a-0123456789";
const KEY_B = "key-b-0123456789";

Deno.test("replay routes: create, read, list, control and stop a session", async () => {
  const { sessions, specs } = fakeReplay();
  const app = createApp(depsOf(sessions));
  const res = await send(app, "POST", "/api/v1/replay", {
    source: "files",
    files: [CAPTURE],
    from: "2026-01-05T12:00:00Z",
    to: TO,
    loop: true,
  });
  assert.equal(res.status, 201);
  const created = await res.json() as ReplayProgress;
  assert.equal(res.headers.get("Location"), `/api/v1/replay/${created.id}`);
  assert.equal(created.state, "playing");
  // ISO and epoch times both reach the actor as ms; speed defaults to 1.
  assert.deepEqual(specs.get(created.id), {
    source: "files",
    files: [CAPTURE],
    from: FROM,
    to: TO,
    speed: 1,
    loop: true,
  });

  const got = await send(app, "GET", `/api/v1/replay/${created.id}`);
  assert.equal(got.status, 200);
  assert.deepEqual(await got.json(), created);

  const paused = await send(app, "PATCH", `/api/v1/replay/${created.id}`, {
    action: "pause",
    seek: String(FROM + 60_000),
    speed: "max",
  });
  assert.equal(paused.status, 200);
  const p = await paused.json() as ReplayProgress;
  assert.equal(p.state, "paused");
  assert.equal(p.position, FROM + 60_000);
  assert.equal(p.speed, "max");

  const list = await send(app, "GET", "/api/v1/replay");
  assert.deepEqual(
    (await list.json() as ReplayProgress[]).map((x) => [x.id, x.state]),
    [[created.id, "paused"]],
  );

  const stopped = await send(app, "DELETE", `/api/v1/replay/${created.id}`);
  assert.equal(stopped.status, 200);
  assert.equal((await stopped.json() as ReplayProgress).state, "stopped");
  const gone = await send(app, "GET", `/api/v1/replay/${created.id}`);
  assert.equal(gone.status, 404);
  assert.equal((await gone.json()).code, "not_found");
  const gone2 = await send(app, "DELETE", `/api/v1/replay/${created.id}`);
  assert.equal(gone2.status, 404);
  const put = await send(app, "PUT", `/api/v1/replay/${created.id}`, {});
  assert.equal(put.status, 405);
  assert.equal(put.headers.get("Allow"), "GET, HEAD, PATCH, DELETE");
});

Deno.test("replay routes: bad bodies get 400 with the zod message", async () => {
  const { sessions, state } = fakeReplay();
  const app = createApp(depsOf(sessions));
  const bad: [unknown, RegExp][] = [
    [{ source: "files", files: [CAPTURE], store: true }, /store/],
    [{ source: "files", files: [CAPTURE], emitEvents: true }, /emitEvents/],
    [{ source: "files" }, /files is required with source files/],
    [{ source: "store", symbols: ["BTC-USDT"] }, /exchanges and symbols/],
    [{ source: "files", files: [CAPTURE], speed: 2000 }, /speed 2000 must be/],
    [{ source: "files", files: [CAPTURE], speed: "fast" }, /speed/],
    [
      { source: "files", files: [CAPTURE], from: "yesterday" },
      /from "yesterday"/,
    ],
    [{ source: "files", files: [CAPTURE], from: TO, to: FROM }, /from must be/],
    [{ source: "nowhere" }, /source/],
  ];
  for (const [body, message] of bad) {
    const res = await send(app, "POST", "/api/v1/replay", body);
    assert.equal(res.status, 400, JSON.stringify(body));
    const err = await res.json();
    assert.equal(err.code, "bad_request");
    assert.match(err.error, message);
  }
  const huge = await send(app, "POST", "/api/v1/replay", {
    source: "files",
    files: Array.from({ length: 400 }, () => "x".repeat(4000)),
  });
  assert.equal(huge.status, 413);
  assert.equal((await huge.json()).code, "payload_too_large");
  assert.equal(state.size, 0, "a bad body reached the actor");

  const id = (await (await send(app, "POST", "/api/v1/replay", {
    source: "files",
    files: [CAPTURE],
  })).json()).id;
  const empty = await send(app, "PATCH", `/api/v1/replay/${id}`, {});
  assert.equal(empty.status, 400);
  assert.match((await empty.json()).error, /at least one of/);
  const action = await send(app, "PATCH", `/api/v1/replay/${id}`, {
    action: "rewind",
  });
  assert.equal(action.status, 400);
  // The actor's own refusals: unreadable files, a seek outside the range.
  const unreadable = await send(app, "POST", "/api/v1/replay", {
    source: "files",
    files: ["../shared/data/README.md"],
  });
  assert.equal(unreadable.status, 400);
  assert.match((await unreadable.json()).error, /README/);
  // Files outside replay.dirs are never opened.
  const outsideDirs = await send(app, "POST", "/api/v1/replay", {
    source: "files",
    files: ["/etc/passwd"],
  });
  assert.equal(outsideDirs.status, 403);
  assert.equal((await outsideDirs.json()).code, "forbidden_path");
  const missing = await send(app, "POST", "/api/v1/replay", {
    source: "files",
    files: ["../shared/data/nothing.0"],
  });
  assert.equal(missing.status, 400);
  const outside = await send(app, "PATCH", `/api/v1/replay/${id}`, {
    seek: TO + 1,
  });
  assert.equal(outside.status, 400);
  assert.equal((await outside.json()).code, "bad_request");
});

Deno.test("replay routes: the actor's limit is 429, a missing actor 503", async () => {
  const { sessions } = fakeReplay(1);
  const app = createApp(depsOf(sessions));
  const spec = { source: "files", files: [CAPTURE] };
  assert.equal((await send(app, "POST", "/api/v1/replay", spec)).status, 201);
  const over = await send(app, "POST", "/api/v1/replay", spec);
  assert.equal(over.status, 429);
  assert.ok(Number(over.headers.get("Retry-After")) > 0);
  assert.equal((await over.json()).code, "too_many_sessions");

  const none = createApp(depsOf(undefined));
  for (
    const [method, path] of [
      ["POST", "/api/v1/replay"],
      ["GET", "/api/v1/replay"],
      ["GET", "/api/v1/replay/r1"],
      ["GET", "/api/v1/heatmap/stream?symbol=BTC-USDT&session=r1"],
    ]
  ) {
    const res = await send(
      none,
      method,
      path,
      method === "POST" ? spec : undefined,
    );
    assert.equal(res.status, 503, `${method} ${path}`);
    assert.equal((await res.json()).code, "no_replay");
  }

  const down = createApp(depsOf(fakeReplay(16, true).sessions));
  const res = await send(down, "POST", "/api/v1/replay", spec);
  assert.equal(res.status, 503);
  assert.equal((await res.json()).code, "actor_down");
});

Deno.test("replay protection: keys, ownership and the per-key limit", async () => {
  const { sessions, state } = fakeReplay();
  const app = createApp(
    depsOf(sessions, { keys: [KEY_A, KEY_B], sessionsPerKey: 2 }),
  );
  const spec = { source: "files", files: [CAPTURE] };

  for (const key of [undefined, "wrong-key-0123456", KEY_A.slice(0, -1)]) {
    const res = await send(app, "POST", "/api/v1/replay", spec, key);
    assert.equal(res.status, 401, `key ${key}`);
    assert.equal(res.headers.get("WWW-Authenticate"), "ApiKey");
    assert.equal((await res.json()).code, "unauthorized");
  }
  assert.equal(state.size, 0);

  const a1 = await send(app, "POST", "/api/v1/replay", spec, KEY_A);
  assert.equal(a1.status, 201);
  const id = (await a1.json()).id;
  assert.equal(sessions.owner(id), KEY_A);
  assert.equal(
    (await send(app, "POST", "/api/v1/replay", spec, KEY_A)).status,
    201,
  );
  const over = await send(app, "POST", "/api/v1/replay", spec, KEY_A);
  assert.equal(over.status, 429);
  assert.ok(Number(over.headers.get("Retry-After")) > 0);
  assert.equal((await over.json()).code, "too_many_sessions");
  assert.equal(state.size, 2, "the third session reached the actor");
  // Another key has its own allowance.
  assert.equal(
    (await send(app, "POST", "/api/v1/replay", spec, KEY_B)).status,
    201,
  );

  // Unauthenticated control is 401; another key's session is 403.
  for (const method of ["PATCH", "DELETE"]) {
    const body = method === "PATCH" ? { action: "pause" } : undefined;
    const anon = await send(app, method, `/api/v1/replay/${id}`, body);
    assert.equal(anon.status, 401, method);
    const other = await send(app, method, `/api/v1/replay/${id}`, body, KEY_B);
    assert.equal(other.status, 403, method);
    assert.equal((await other.json()).code, "forbidden");
  }
  assert.equal(state.get(id)?.state, "playing", "a refused change applied");
  // GETs stay open.
  assert.equal((await send(app, "GET", `/api/v1/replay/${id}`)).status, 200);
  assert.equal((await send(app, "GET", "/api/v1/replay")).status, 200);
  // The owner may; stopping frees its allowance.
  const paused = await send(app, "PATCH", `/api/v1/replay/${id}`, {
    action: "pause",
  }, KEY_A);
  assert.equal(paused.status, 200);
  assert.equal(
    (await send(app, "DELETE", `/api/v1/replay/${id}`, undefined, KEY_A))
      .status,
    200,
  );
  assert.equal(
    (await send(app, "POST", "/api/v1/replay", spec, KEY_A)).status,
    201,
  );
});

Deno.test("replay protection: CORS lets allowed origins send control methods with X-API-Key", async () => {
  const { sessions } = fakeReplay();
  const deps = depsOf(sessions);
  const app = createApp(deps, { corsOrigins: ["https://desk.example"] });
  const res = await app.request("/api/v1/replay/r1", {
    method: "OPTIONS",
    headers: {
      Origin: "https://desk.example",
      "Access-Control-Request-Method": "PATCH",
      "Access-Control-Request-Headers": "x-api-key, content-type",
    },
  });
  assert.equal(res.status, 204);
  assert.match(res.headers.get("Access-Control-Allow-Methods") ?? "", /PATCH/);
  assert.match(res.headers.get("Access-Control-Allow-Methods") ?? "", /DELETE/);
  assert.match(
    res.headers.get("Access-Control-Allow-Headers") ?? "",
    /X-API-Key/i,
  );
});

Deno.test("session stream: progress, columns, reset after a seek, end once, closed by a stop", async () => {
  const { sessions } = fakeReplay();
  const app = createApp(depsOf(sessions));
  const created = await sessions.create(
    { source: "files", files: [CAPTURE], speed: 1 },
    null,
  );
  const id = created.id;
  assert.equal(
    (await app.request(`/api/v1/heatmap/stream?symbol=BTC-USDT&session=r99`))
      .status,
    404,
  );
  // ETH-USDT has no columns in the session: the stream opens and waits.
  const eth = await app.request(
    `/api/v1/heatmap/stream?symbol=ETH-USDT&session=${id}`,
  );
  assert.equal(eth.status, 200);

  const res = await app.request(
    `/api/v1/heatmap/stream?symbol=BTC-USDT&session=${id}`,
  );
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("Content-Type"), "text/event-stream");
  const reader = res.body!.getReader();
  const events: { event: string; data: string }[] = [];
  const columns = () =>
    events.filter((e) => e.event === "column").map((e) =>
      JSON.parse(e.data) as { ts: number; bids: number[] }
    );

  sessions.onOutput({ id, kind: "columns", batch: tick(FROM + 1000, 1.5) });
  sessions.onOutput({ id, kind: "columns", batch: tick(FROM + 2000, 2.5) });
  await readEvents(reader, events, () => columns().length === 2);
  assert.equal(events[0].event, "progress");
  assert.equal(JSON.parse(events[0].data).id, id);
  assert.deepEqual(columns().map((c) => [c.ts, c.bids[0]]), [
    [FROM + 1000, 1.5],
    [FROM + 2000, 2.5],
  ]);

  // A seek: reset, then the columns restart at `at` from the new hub.
  const at = FROM + 500;
  await sessions.control(id, { seek: at });
  sessions.onOutput({ id, kind: "columns", batch: tick(at, 9) });
  await readEvents(reader, events, () => columns().length === 3);
  const afterSeek = events.slice(events.findIndex((e) => e.event === "reset"));
  assert.deepEqual(JSON.parse(afterSeek[0].data), { at });
  assert.deepEqual(columns()[2], { ...columns()[2], ts: at, bids: [9, 0] });

  // The end comes once even when the actor says it twice.
  const ended = { ...created, state: "ended" as const, position: TO };
  sessions.onOutput({ id, kind: "end", progress: ended });
  sessions.onOutput({ id, kind: "end", progress: ended });
  sessions.onOutput({ id, kind: "columns", batch: tick(at + 1000, 4) });
  await readEvents(reader, events, () => columns().length === 4);
  assert.equal(events.filter((e) => e.event === "end").length, 1);
  assert.equal(
    JSON.parse(events.find((e) => e.event === "end")!.data).state,
    "ended",
  );

  // A stop: the last progress says stopped and the stream ends.
  await sessions.stop(id);
  const open = await readEvents(reader, events, () => false);
  assert.equal(open, false, "the stream stayed open after the stop");
  const last = events.at(-1)!;
  assert.equal(last.event, "progress");
  assert.equal(JSON.parse(last.data).state, "stopped");
  const ethEvents: { event: string; data: string }[] = [];
  assert.equal(
    await readEvents(eth.body!.getReader(), ethEvents, () => false),
    false,
  );
  assert.ok(!ethEvents.some((e) => e.event === "column"));
});

Deno.test("session stream: progress at most every 250 ms, state changes at once", async () => {
  const { sessions } = fakeReplay();
  const app = createApp(depsOf(sessions));
  const created = await sessions.create(
    { source: "files", files: [CAPTURE], speed: 1 },
    null,
  );
  const id = created.id;
  const res = await app.request(
    `/api/v1/heatmap/stream?symbol=BTC-USDT&session=${id}`,
  );
  const reader = res.body!.getReader();
  const events: { event: string; data: string }[] = [];
  const progress = () =>
    events.filter((e) => e.event === "progress").map((e) =>
      JSON.parse(e.data) as ReplayProgress
    );
  await readEvents(reader, events, () => progress().length === 1);
  const t0 = performance.now();
  for (let i = 1; i <= 20; i++) {
    sessions.onOutput({
      id,
      kind: "progress",
      progress: { ...created, position: FROM + i },
    });
  }
  // The first is due at once, the rest wait and only the newest is sent.
  await readEvents(
    reader,
    events,
    () => progress().at(-1)?.position === FROM + 20,
  );
  const positions = progress().map((p) => p.position);
  assert.ok(performance.now() - t0 >= 240, "the newest was not held back");
  assert.ok(positions.length <= 3, `sent ${positions.join(", ")}`);
  // A state change is not held back.
  const t1 = performance.now();
  await sessions.control(id, { action: "pause" });
  await readEvents(reader, events, () => progress().at(-1)?.state === "paused");
  assert.ok(performance.now() - t1 < 200, "the pause was held back");
  await reader.cancel();
});
