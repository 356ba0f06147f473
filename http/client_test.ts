/**
 * The typed client against a real `Deno.serve` of `createApp(deps)`, with a
 * real `ReplaySessions` whose replay actor is a fake (it keeps each
 * session's progress and answers control requests; the test sends the
 * actor's `session` output: real `ColumnBatch`es, `end`). The server can
 * drop every open stream, as a restart or a proxy would.
 */

import assert from "node:assert/strict";
import type { ReplayProgress } from "../actors/market/requests.ts";
import type { ColumnPayload } from "../actors/system/hub.ts";
import { createApp } from "./app.ts";
import { fakeDeps } from "./_fake_deps_test.ts";
import {
  CAPTURE,
  fakeReplay,
  FROM,
  tick,
  TO,
} from "./routes/_fake_replay_test.ts";
import { cobyClient, CobyError, type StreamHandlers } from "./client.ts";

const KEY = "client-test-key-0123";

/**
 * Serves the app on a free loopback port. `drop()` ends every open SSE
 * response as a broken connection would; `streams` counts SSE responses.
 */
function serve(keys: string[] = []) {
  const { sessions } = fakeReplay();
  const deps = fakeDeps(sessions, { keys }, { hubSize: 100 });
  const app = createApp(deps);
  const drops = new Set<() => void>();
  const counts = { streams: 0 };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const res = await app.fetch(req);
      if (res.headers.get("Content-Type") !== "text/event-stream") return res;
      counts.streams++;
      const reader = res.body!.getReader();
      let dropped = false;
      let ctl!: ReadableStreamDefaultController<Uint8Array>;
      const drop = () => {
        if (dropped) return;
        dropped = true;
        drops.delete(drop);
        ctl.close();
        reader.cancel();
      };
      drops.add(drop);
      const body = new ReadableStream<Uint8Array>({
        start: (c) => {
          ctl = c;
        },
        pull: async (c) => {
          const { value, done } = await reader.read();
          if (dropped) return;
          if (done) {
            drops.delete(drop);
            c.close();
          } else c.enqueue(value);
        },
        cancel: (r) => {
          drops.delete(drop);
          return reader.cancel(r);
        },
      }, { highWaterMark: 0 });
      return new Response(body, { status: res.status, headers: res.headers });
    },
  );
  return {
    deps,
    sessions,
    counts,
    base: `http://127.0.0.1:${server.addr.port}`,
    drop: () => [...drops].forEach((d) => d()),
    close: async () => {
      for (const d of [...drops]) d();
      await server.shutdown();
    },
  };
}

/** Waits until `cond` holds, polling every 10 ms. */
async function until(cond: () => boolean, what: string, ms = 5000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Handlers that record everything. */
function recorder() {
  const got = {
    columns: [] as ColumnPayload[],
    progress: [] as ReplayProgress[],
    resets: [] as { at: number }[],
    ends: [] as ReplayProgress[],
    errors: [] as CobyError[],
  };
  const handlers: StreamHandlers = {
    column: (c) => got.columns.push(c),
    progress: (p) => got.progress.push(p),
    reset: (r) => got.resets.push(r),
    end: (p) => got.ends.push(p),
    error: (e) => got.errors.push(e),
  };
  return { got, handlers };
}

Deno.test("client: create, subscribe, columns, pause and resume, end once, stop", async () => {
  const srv = serve();
  try {
    const coby = cobyClient(srv.base);
    const p = await coby.replay.create({
      source: "files",
      files: [CAPTURE],
      speed: 10,
    });
    assert.equal(p.state, "playing");
    assert.equal(p.speed, 10);
    const { got, handlers } = recorder();
    const sub = coby.subscribe({ symbol: "BTC-USDT", session: p.id }, handlers);
    await until(() => got.progress.length > 0, "the first progress");
    srv.sessions.onOutput({ id: p.id, kind: "columns", batch: tick(FROM, 1) });
    srv.sessions.onOutput({
      id: p.id,
      kind: "columns",
      batch: tick(FROM + 1000, 2),
    });
    await until(() => got.columns.length === 2, "two columns");
    assert.deepEqual(got.columns.map((c) => [c.ts, c.bids[0]]), [
      [FROM, 1],
      [FROM + 1000, 2],
    ]);

    const paused = await coby.replay.control(p.id, { action: "pause" });
    assert.equal(paused.state, "paused");
    await until(() => got.progress.at(-1)?.state === "paused", "paused");
    assert.equal((await coby.replay.get(p.id)).state, "paused");
    await coby.replay.control(p.id, { action: "resume" });
    await until(() => got.progress.at(-1)?.state === "playing", "resumed");
    assert.deepEqual(
      (await coby.replay.list()).map((x) => [x.id, x.state]),
      [[p.id, "playing"]],
    );

    const ended = { ...p, state: "ended" as const, position: TO };
    srv.sessions.onOutput({ id: p.id, kind: "end", progress: ended });
    srv.sessions.onOutput({ id: p.id, kind: "end", progress: ended });
    srv.sessions.onOutput({
      id: p.id,
      kind: "columns",
      batch: tick(FROM + 2000, 3),
    });
    await until(() => got.columns.length === 3, "the column after the end");
    assert.equal(got.ends.length, 1);
    assert.equal(got.ends[0].state, "ended");

    const stopped = await coby.replay.stop(p.id);
    assert.equal(stopped.state, "stopped");
    assert.equal(await sub.done, "stopped");
    assert.equal(got.progress.at(-1)?.state, "stopped");
    assert.equal(srv.counts.streams, 1, "it reconnected after the stop");
    await assert.rejects(
      () => coby.replay.get(p.id),
      (e) =>
        e instanceof CobyError && e.status === 404 &&
        e.code === "not_found",
    );
  } finally {
    await srv.close();
  }
});

Deno.test("client: reconnects after the server drops the stream, no column twice", async () => {
  const srv = serve();
  try {
    const coby = cobyClient(srv.base);
    const { got, handlers } = recorder();
    const ctl = new AbortController();
    const sub = coby.subscribe({ symbol: "BTC-USDT" }, handlers, {
      signal: ctl.signal,
      backoff: { baseMs: 20, maxMs: 100 },
    });
    srv.deps.hub.push(tick(FROM, 1));
    srv.deps.hub.push(tick(FROM + 1000, 2));
    await until(() => got.columns.length === 2, "two live columns");
    srv.drop();
    // The server sends its kept history again; only the new column is new.
    await until(() => srv.counts.streams === 2, "the reconnection");
    srv.deps.hub.push(tick(FROM + 2000, 3));
    await until(() => got.columns.length >= 3, "the column after it");
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(got.columns.map((c) => c.ts), [
      FROM,
      FROM + 1000,
      FROM + 2000,
    ]);
    ctl.abort();
    assert.equal(await sub.done, "aborted");

    // After a session's end a dropped stream is not reopened.
    const p = await coby.replay.create({ source: "files", files: [CAPTURE] });
    const s = recorder();
    const sub2 = coby.subscribe(
      { symbol: "BTC-USDT", session: p.id },
      s.handlers,
      { backoff: { baseMs: 20, maxMs: 100 } },
    );
    srv.sessions.onOutput({
      id: p.id,
      kind: "end",
      progress: { ...p, state: "ended" },
    });
    await until(() => s.got.ends.length === 1, "the end");
    const streams = srv.counts.streams;
    srv.drop();
    assert.equal(await sub2.done, "ended");
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(srv.counts.streams, streams, "it reconnected after the end");
    await coby.replay.stop(p.id);

    // Stopped while the connection was down: the reconnection finds it gone.
    const q = await coby.replay.create({ source: "files", files: [CAPTURE] });
    const t = recorder();
    const sub3 = coby.subscribe(
      { symbol: "BTC-USDT", session: q.id },
      t.handlers,
      { backoff: { baseMs: 20, maxMs: 100 } },
    );
    await until(() => t.got.progress.length === 1, "the session's progress");
    srv.drop();
    await coby.replay.stop(q.id);
    assert.equal(await sub3.done, "stopped");
    assert.equal(t.got.errors.length, 0);
  } finally {
    await srv.close();
  }
});

Deno.test("client: switches a subscription from live to a session and back", async () => {
  const srv = serve();
  try {
    const coby = cobyClient(srv.base);
    srv.deps.hub.push(tick(FROM + 5000, 1));
    const { got, handlers } = recorder();
    const sub = coby.subscribe({ symbol: "BTC-USDT" }, handlers);
    await until(() => got.columns.length === 1, "the live column");
    assert.equal(got.progress.length, 0, "live data has no progress");

    const p = await coby.replay.create({ source: "files", files: [CAPTURE] });
    // An older time than live: the session's columns are not deduplicated away.
    srv.sessions.onOutput({ id: p.id, kind: "columns", batch: tick(FROM, 7) });
    sub.switchTo({ session: p.id });
    assert.deepEqual(sub.target, { symbol: "BTC-USDT", session: p.id });
    await until(() => got.columns.length === 2, "the session's column");
    assert.deepEqual(got.columns.map((c) => [c.ts, c.bids[0]]), [
      [FROM + 5000, 1],
      [FROM, 7],
    ]);
    assert.equal(got.progress[0].id, p.id);

    sub.switchTo({ session: undefined });
    await until(() => got.columns.length === 3, "live again");
    assert.deepEqual(got.columns[2].bids, [1, 0]);
    // The session goes on without this viewer; stopping it ends nothing here.
    await coby.replay.stop(p.id);
    srv.deps.hub.push(tick(FROM + 6000, 4));
    await until(() => got.columns.length === 4, "live after the stop");
    sub.close();
    assert.equal(await sub.done, "aborted");
    assert.throws(() => sub.switchTo({ symbol: "ETH-USDT" }), /ended/);
  } finally {
    await srv.close();
  }
});

Deno.test("client: a refused stream ends the subscription; the API key is sent", async () => {
  const srv = serve([KEY]);
  try {
    const anon = cobyClient(srv.base);
    await assert.rejects(
      () => anon.replay.create({ source: "files", files: [CAPTURE] }),
      (e) =>
        e instanceof CobyError && e.status === 401 &&
        e.code === "unauthorized",
    );
    const coby = cobyClient(srv.base, { apiKey: KEY });
    const p = await coby.replay.create({ source: "files", files: [CAPTURE] });
    assert.equal(srv.sessions.owner(p.id), KEY);
    // Streams are open without a key.
    const { got, handlers } = recorder();
    const sub = anon.subscribe(
      { symbol: "BTC-USDT", session: "r404" },
      handlers,
    );
    assert.equal(await sub.done, "refused");
    assert.equal(got.errors.length, 1);
    assert.equal(got.errors[0].status, 404);
    assert.equal(got.errors[0].code, "not_found");
    const ok = recorder();
    const sub2 = anon.subscribe(
      { symbol: "BTC-USDT", session: p.id },
      ok.handlers,
    );
    await until(() => ok.got.progress.length === 1, "the open stream");
    await coby.replay.stop(p.id);
    assert.equal(await sub2.done, "stopped");
  } finally {
    await srv.close();
  }
});
