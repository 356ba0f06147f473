/**
 * The heatmap SSE stream under load, over a real capture replay: a burst of
 * viewers neither blocks the main thread (HTTP, the supervisor's heartbeats)
 * nor costs a serialization per viewer; a paused viewer is capped (it
 * resumes near live after a `gap` event) instead of queueing every column;
 * streams past `http.maxStreams` get 503 with `Retry-After`; an unknown
 * symbol gets 404 instead of a stream held open forever; a HEAD holds no
 * stream.
 */

import assert from "node:assert/strict";
import { createApp } from "../http/app.ts";
import { Replay } from "../actors/system/capture_replay.ts";
import type { ColumnBatch } from "../actors/market/heatmap.ts";
import { captureFiles } from "./_replay.ts";

const SYMBOL = "NKN-USDT";
const STREAM = `/api/v1/heatmap/stream?symbol=${SYMBOL}`;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Starts the Binance replay and waits until `SYMBOL` has `ticks` columns. At
 * `max` the ticks come in bursts (the event clock runs as fast as the frames
 * go); at 1× they come steadily, one per `tickMs`, as live.
 */
async function replayWithHistory(
  tickMs: number,
  ticks: number,
  speed: number | "max" = "max",
) {
  const replay = await Replay.start(captureFiles("BINANCE"), {
    speed,
    tickMs,
    supervisor: { onLog: () => {} },
  });
  const end = performance.now() + 60_000;
  // Ticks of SYMBOL pushed to the hub (its ring keeps up to 600 of them).
  let pushed = 0;
  const hub = replay.coby.hub;
  const push = hub.push.bind(hub);
  hub.push = (b: ColumnBatch) => {
    if (
      b.columns.some((c) =>
        c.exchange === "consolidated" && c.symbol === SYMBOL
      )
    ) pushed++;
    push(b);
  };
  while (pushed < ticks) {
    if (performance.now() > end) throw new Error("The history did not fill");
    await sleep(100);
  }
  return replay;
}

/** Event names of a stream's raw chunks (`event: column\n…`). */
function eventName(chunk: Uint8Array): string {
  const head = new TextDecoder().decode(chunk.subarray(0, 24));
  return head.match(/^event: (\w+)/)?.[1] ?? "?";
}

Deno.test("sse: 60 viewers connecting at once to a long history keep the main thread responsive and restart nothing", async () => {
  const replay = await replayWithHistory(10, 600);
  // The recording has ended: on the event clock no tick comes after it, so
  // what is measured is the viewers' burst alone.
  await replay.finished();
  const app = createApp(replay.coby);
  // The main thread's lag, as a timer sees it.
  let maxLag = 0;
  let last = performance.now();
  const lagTimer = setInterval(() => {
    const now = performance.now();
    maxLag = Math.max(maxLag, now - last - 10);
    last = now;
  }, 10);
  // /healthz latency while the viewers connect.
  let probing = true;
  const health: number[] = [];
  const probe = (async () => {
    while (probing) {
      const t0 = performance.now();
      const res = await app.request("/healthz");
      await res.body?.cancel();
      health.push(performance.now() - t0);
      await sleep(20);
    }
  })();
  try {
    // (stats() is this hub's; the test measures the stall first without it)
    const before = replay.coby.hub.stats?.().bytes;
    const counts = await Promise.all(
      Array.from({ length: 60 }, async () => {
        const res = await app.request(STREAM);
        assert.equal(res.status, 200);
        const reader = res.body!.getReader();
        let columns = 0;
        // The whole kept history, one shared event per chunk.
        while (columns < 600) {
          const { value, done } = await reader.read();
          if (done) break;
          if (eventName(value) === "column") columns++;
        }
        await reader.cancel();
        return columns;
      }),
    );
    probing = false;
    await probe;
    assert.ok(counts.every((n) => n >= 600), `columns: ${counts}`);
    health.sort((a, b) => a - b);
    const p99 = health[Math.floor(health.length * 0.99)];
    assert.ok(maxLag < 250, `the main thread stalled ${maxLag.toFixed(0)} ms`);
    assert.ok(p99 < 250, `/healthz p99 ${p99.toFixed(0)} ms`);
    for (const a of replay.coby.actors()) {
      assert.equal(a.restarts, 0, `${a.id}: ${a.lastError}`);
    }
    // Serialized once for all 60: the kept bytes grew by one copy at most
    // (the columns' events, and their blocks).
    const grew = replay.coby.hub.stats().bytes - before!;
    assert.ok(grew < 2 * before!, `kept bytes grew by ${grew} from ${before}`);
  } finally {
    probing = false;
    clearInterval(lagTimer);
    await replay.stop();
  }
});

Deno.test("sse: a paused viewer is capped at http.streamQueue columns and told of the gap; streams are capped; unknown symbols are 404", async (t) => {
  // Live-like pacing: a column every 20 ms while the viewer is paused.
  const replay = await replayWithHistory(20, 20, 1);
  const app = createApp(replay.coby, { streamQueue: 5, maxStreams: 3 });
  const hub = replay.coby.hub;
  try {
    await t.step(
      "a paused viewer resumes near live after a gap event",
      async () => {
        const res = await app.request(STREAM);
        assert.equal(res.status, 200);
        const reader = res.body!.pipeThrough(new TextDecoderStream())
          .getReader();
        let text = "";
        const events: { event: string; data: string }[] = [];
        const readUntil = async (done: () => boolean) => {
          const end = performance.now() + 10_000;
          while (!done() && performance.now() < end) {
            text += (await reader.read()).value ?? "";
            let at;
            while ((at = text.indexOf("\n\n")) >= 0) {
              const m = text.slice(0, at).match(/^event: (\w+)\ndata: (.*)$/m);
              if (m) events.push({ event: m[1], data: m[2] });
              text = text.slice(at + 2);
            }
          }
        };
        // Catch up with live: the history, then one fresh column.
        const kept = hub.symbols().find((s) => s.symbol === SYMBOL)?.columns ??
          20;
        await readUntil(() => events.length > kept);
        const caughtUp = events.length;
        // Paused for ~50 ticks of 20 ms.
        await sleep(1000);
        events.length = 0;
        await readUntil(() => events.some((e) => e.event === "gap"));
        const gap = events.find((e) => e.event === "gap");
        assert.ok(gap, `no gap event after ${caughtUp} columns and a pause`);
        const { skipped } = JSON.parse(gap.data);
        assert.ok(skipped >= 20, `skipped ${skipped}`);
        // What arrived before the gap was in flight already (the stream's own
        // buffers hold a column or two), never a backlog.
        const before = events.indexOf(gap);
        assert.ok(before <= 3, `${before} columns queued before the gap`);
        await reader.cancel();
      },
    );

    await t.step(
      "streams past http.maxStreams get 503 with Retry-After",
      async () => {
        const open = await Promise.all(
          [1, 2, 3].map(() => app.request(STREAM)),
        );
        assert.deepEqual(open.map((r) => r.status), [200, 200, 200]);
        const refused = await app.request(STREAM);
        assert.equal(refused.status, 503);
        assert.equal(refused.headers.get("Retry-After"), "5");
        assert.deepEqual(await refused.json(), {
          error: "Too many heatmap streams: 3 of 3 open",
          code: "too_many_streams",
        });
        await open[0].body!.cancel();
        await sleep(50);
        const again = await app.request(STREAM);
        assert.equal(again.status, 200);
        for (const r of [...open.slice(1), again]) await r.body!.cancel();
        await sleep(50);
        assert.equal(hub.stats().followers, 0, "a stream was not released");
      },
    );

    await t.step(
      "an unknown well-formed symbol is 404, not a stream held open",
      async () => {
        const res = await app.request(
          "/api/v1/heatmap/stream?symbol=ZZZ-QQQ",
        );
        assert.equal(res.status, 404);
        assert.deepEqual(await res.json(), {
          error:
            "Symbol ZZZ-QQQ has no heatmap and is not followed (see /api/v1/symbols)",
          code: "unknown_symbol",
        });
        assert.equal(hub.stats().followers, 0);
      },
    );

    await t.step("a HEAD answers the headers and holds no stream", async () => {
      const res = await app.request(STREAM, { method: "HEAD" });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "text/event-stream");
      await sleep(20);
      assert.equal(hub.stats().followers, 0);
    });
  } finally {
    await replay.stop();
  }
});
