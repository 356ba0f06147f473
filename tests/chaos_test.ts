/**
 * Chaos on a real replay: the aggregator and the consolidator are each
 * terminated mid-stream (the connection actor's own crash is in
 * replay_test.ts). Each comes back, the books downstream are exact again,
 * and every frame the simulator sent is counted by the connection.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ColumnBatch } from "../actors/market/heatmap.ts";
import { bucketOf, type Column } from "../actors/market/heatmap.ts";
import { Replay } from "../actors/system/capture_replay.ts";
import { connectionId } from "../actors/system/topology.ts";
import { captureFiles } from "./_replay.ts";

const CONN = connectionId("binance-futures");

/** Starts the USD-M capture at 20× with fast restarts and 100 ms ticks. */
function start(): Promise<Replay> {
  return Replay.start(captureFiles("BINANCE_FUTURES"), {
    speed: 20,
    tickMs: 100,
    supervisor: { onLog: () => {}, backoffBaseMs: 20, backoffMaxMs: 40 },
  });
}

/** Waits until the simulator has sent `n` frames. */
async function framesSent(replay: Replay, n: number): Promise<void> {
  const sim = replay.sims.get("binance-futures")!;
  while (sim.framesSent < n) await new Promise((r) => setTimeout(r, 10));
}

/** Restarts of one actor, and of every other actor. */
function restarts(replay: Replay, id: string): [number, number] {
  let mine = 0;
  let others = 0;
  for (const a of replay.coby.supervisor.actors()) {
    if (a.id === id) mine = a.restarts;
    else others += a.restarts;
  }
  return [mine, others];
}

/**
 * Asserts the aggregator's mirror of every book equals the connection's
 * book: best prices, and the resting size in every bucket of the column.
 */
async function assertMirrorsExact(replay: Replay): Promise<void> {
  const sup = replay.coby.supervisor;
  const books = await sup.request(CONN, "books", { depth: 100_000 });
  const cols = await sup.request("aggregator", "columns", {}) as Column[];
  assert.equal(cols.length, books.length);
  for (const book of books) {
    assert.equal(book.state, "synced", book.exchangeSymbol);
    const col = cols.find((c) => c.exchangeSymbol === book.exchangeSymbol)!;
    assert.ok(col, `${book.exchangeSymbol} has a column`);
    assert.equal(col.bestBid, book.bids[0][0]);
    assert.equal(col.bestAsk, book.asks[0][0]);
    for (
      const [side, levels] of [["bids", book.bids], [
        "asks",
        book.asks,
      ]] as const
    ) {
      const want = new Float64Array(col.n);
      for (const [p, s] of levels) {
        const k = bucketOf(p, col.bucketSize) - col.lo;
        if (k >= 0 && k < col.n) want[k] += s;
      }
      for (let k = 0; k < col.n; k++) {
        assert.ok(
          Math.abs(col[side][k] - want[k]) <= 1e-9 * Math.max(1, want[k]),
          `${book.exchangeSymbol} ${side} bucket ${k}: ${col[side][k]} != ${
            want[k]
          }`,
        );
      }
    }
  }
}

/** Asserts the connection counted every frame the simulator sent. */
async function assertEveryFrame(replay: Replay): Promise<void> {
  const counters = await replay.coby.supervisor.request(CONN, "stats", {});
  assert.equal(
    counters.frames,
    replay.sims.get("binance-futures")!.framesSent,
    "frames counted = frames sent",
  );
  assert.equal(counters.gaps, 0);
  assert.equal(counters.malformed, 0);
}

Deno.test("chaos: the aggregator killed mid-replay comes back and its mirrors are resent exact", async () => {
  const replay = await start();
  try {
    await framesSent(replay, 300);
    replay.coby.supervisor.kill("aggregator", "killed by chaos test");
    await replay.coby.supervisor.ready("aggregator");
    await replay.finished();
    await new Promise((r) => setTimeout(r, 100)); // the last batch
    assert.deepEqual(restarts(replay, "aggregator"), [1, 0]);
    await assertMirrorsExact(replay);
    await assertEveryFrame(replay);
  } finally {
    await replay.stop();
  }
});

Deno.test("chaos: the consolidator killed mid-replay comes back and ticks flow to the hub again", async () => {
  const replay = await start();
  const hub = replay.coby.hub;
  const push = hub.push.bind(hub);
  let ticks = 0;
  hub.push = (b: ColumnBatch) => {
    ticks++;
    push(b);
  };
  try {
    await framesSent(replay, 300);
    replay.coby.supervisor.kill("consolidator", "killed by chaos test");
    await replay.coby.supervisor.ready("consolidator");
    const before = ticks;
    const end = Date.now() + 5000;
    while (ticks < before + 3 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(ticks >= before + 3, `${ticks - before} ticks after the restart`);
    await replay.finished();
    assert.deepEqual(restarts(replay, "consolidator"), [1, 0]);
    assert.ok(hub.symbols().length > 0);
    await assertMirrorsExact(replay);
    await assertEveryFrame(replay);
  } finally {
    await replay.stop();
  }
});
