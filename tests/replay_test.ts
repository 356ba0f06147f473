/**
 * Actor scenarios on real captures: the simulator serves the recorded
 * Binance spot and USD-M traffic, the real connection actors, aggregator and
 * consolidator run in workers, and the results are checked against an
 * independent rebuild of every book.
 */

import assert from "node:assert/strict";
import { connectionId } from "../actors/system/topology.ts";
import { Replay } from "../actors/system/capture_replay.ts";
import { bucketOf, type Column } from "../actors/market/heatmap.ts";
import { rebuildBinance } from "./_rebuild.ts";
import {
  assertCleanReplay,
  captureFiles as files,
  NKN_GAP_FRAME,
} from "./_replay.ts";
const quiet = { onLog: () => {} };

/** Asserts every dumped book equals the independent rebuild, level by level. */
async function assertBooksExact(
  replay: Replay,
  exchange: string,
  prefix: string,
  futures: boolean,
) {
  const dump = await replay.dump(5000);
  const expected = await rebuildBinance(prefix, futures);
  const books = dump.books[exchange];
  assert.deepEqual(Object.keys(books).sort(), [...expected.keys()].sort());
  for (const [sym, want] of expected) {
    assert.equal(want.gaps, 0, `${sym}: the rebuild itself saw a gap`);
    const got = books[sym];
    assert.equal(got.state, "synced", sym);
    assert.equal(got.lastSequence, want.lastSequence, `${sym} lastSequence`);
    assert.deepEqual(got.bids, want.bids, `${sym} bids`);
    assert.deepEqual(got.asks, want.asks, `${sym} asks`);
  }
  return dump;
}

Deno.test("capture replay: BINANCE and BINANCE_FUTURES books are exact with zero gaps", async () => {
  const replay = await Replay.start([
    ...files("BINANCE"),
    ...files("BINANCE_FUTURES"),
  ], {
    speed: "max",
    supervisor: quiet,
  });
  try {
    await replay.finished();
    const spot = await assertBooksExact(replay, "binance", "BINANCE", false);
    const fut = await assertBooksExact(
      replay,
      "binance-futures",
      "BINANCE_FUTURES",
      true,
    );
    // Zero gaps, resyncs, checksum failures and malformed frames; every
    // recorded frame but the open lines reached the actors.
    assertCleanReplay(replay, spot, "binance");
    assertCleanReplay(replay, fut, "binance-futures");
    // cryptofeed's own counts on the same captures (expected_callback_counts.json):
    // one L2 update per applied snapshot or delta, one trade per aggTrade.
    assert.equal(spot.stats.binance.bookUpdates, 176);
    assert.equal(spot.stats.binance.trades, 2);
    assert.equal(fut.stats["binance-futures"].bookUpdates, 756);
    assert.equal(fut.stats["binance-futures"].trades, 91);
  } finally {
    await replay.stop();
  }
});

Deno.test("column consistency: heatmap bucket sums equal the book sizes in each bucket", async () => {
  const replay = await Replay.start(files("BINANCE_FUTURES"), {
    speed: "max",
    supervisor: quiet,
  });
  try {
    await replay.finished();
    await new Promise((r) => setTimeout(r, 100)); // let the last batch reach the aggregator
    const sup = replay.coby.supervisor;
    const books = await sup.request(connectionId("binance-futures"), "books", {
      depth: 100_000,
    }) as {
      exchangeSymbol: string;
      bids: [number, number][];
      asks: [number, number][];
    }[];
    const cols = await sup.request("aggregator", "columns", {}) as Column[];
    assert.equal(cols.length, books.length);
    let nonEmpty = 0;
    for (const book of books) {
      const col = cols.find((c) => c.exchangeSymbol === book.exchangeSymbol)!;
      assert.ok(col, book.exchangeSymbol);
      assert.equal(col.bestBid, book.bids[0][0]);
      assert.equal(col.bestAsk, book.asks[0][0]);
      const want = (levels: [number, number][]) => {
        const sums = new Float64Array(col.n);
        for (const [p, s] of levels) {
          const k = bucketOf(p, col.bucketSize) - col.lo;
          if (k >= 0 && k < col.n) sums[k] += s;
        }
        return sums;
      };
      const wb = want(book.bids);
      const wa = want(book.asks);
      for (let k = 0; k < col.n; k++) {
        assert.ok(
          Math.abs(col.bids[k] - wb[k]) <= 1e-9 * Math.max(1, wb[k]),
          `${book.exchangeSymbol} bid bucket ${k}`,
        );
        assert.ok(
          Math.abs(col.asks[k] - wa[k]) <= 1e-9 * Math.max(1, wa[k]),
          `${book.exchangeSymbol} ask bucket ${k}`,
        );
        if (wb[k] > 0 || wa[k] > 0) nonEmpty++;
      }
    }
    assert.ok(nonEmpty > 100, `only ${nonEmpty} non-empty buckets`);
  } finally {
    await replay.stop();
  }
});

Deno.test("crash recovery: a connection actor killed mid-stream is restarted and its books resync", async () => {
  const replay = await Replay.start(files("BINANCE_FUTURES"), {
    speed: 20,
    supervisor: { ...quiet, backoffBaseMs: 50, backoffMaxMs: 100 },
  });
  try {
    const sim = replay.sims.get("binance-futures")!;
    while (sim.framesSent < 300) await new Promise((r) => setTimeout(r, 20));
    replay.coby.supervisor.kill(
      connectionId("binance-futures"),
      "killed by test",
    );
    await replay.coby.supervisor.ready(connectionId("binance-futures"));
    await replay.finished();
    const actor = replay.coby.supervisor.actors().find((a) =>
      a.id === connectionId("binance-futures")
    )!;
    assert.equal(actor.restarts, 1);
    assert.equal(actor.state, "running");
    // The simulator saw the reconnect as a new session and replayed it from its start.
    assert.equal(sim.runs, 2);
    await assertBooksExact(replay, "binance-futures", "BINANCE_FUTURES", true);
  } finally {
    await replay.stop();
  }
});

Deno.test("bad input: a malformed frame is counted, logged, and the actor survives with exact books", async () => {
  const logs: string[] = [];
  const replay = await Replay.start(files("BINANCE"), {
    speed: "max",
    inject: {
      binance: [{
        afterFrame: 20,
        text: `{"stream":"nknusdt@depth@100ms","data":{"e":"depthUpd`,
      }],
    },
    supervisor: { onLog: (_id, _level, msg) => logs.push(msg) },
  });
  try {
    await replay.finished();
    const dump = await assertBooksExact(replay, "binance", "BINANCE", false);
    assert.equal(dump.stats.binance.malformed, 1);
    assert.equal(dump.stats.binance.gaps, 0);
    assert.ok(
      logs.some((l) => /malformed frame/.test(l)),
      "the malformed frame was logged",
    );
    const actor = replay.coby.supervisor.actors().find((a) =>
      a.id === connectionId("binance")
    )!;
    assert.equal(actor.restarts, 0);
  } finally {
    await replay.stop();
  }
});

Deno.test("sequence gap: a skipped update id triggers a counted resync, and the book is never served wrong", async () => {
  const replay = await Replay.start(files("BINANCE"), {
    speed: "max",
    inject: { binance: [{ afterFrame: 30, text: NKN_GAP_FRAME }] },
    supervisor: quiet,
  });
  try {
    await replay.finished();
    const dump = await replay.dump(50);
    const s = dump.stats.binance;
    assert.equal(s.gaps, 1);
    assert.ok(s.resyncs >= 1, `resyncs ${s.resyncs}`);
    // The capture holds no snapshot newer than the gap: NKNUSDT cannot resync
    // and is reported as buffering with no levels, not as a stale book.
    const nkn = dump.books.binance.NKNUSDT;
    assert.equal(nkn.state, "buffering");
    assert.deepEqual([nkn.bids, nkn.asks], [[], []]);
    // The other books are untouched and exact.
    const expected = await rebuildBinance("BINANCE", false);
    for (const sym of ["BLZETH", "LRCBTC", "RUNEEUR"]) {
      assert.equal(dump.books.binance[sym].state, "synced");
      assert.deepEqual(
        dump.books.binance[sym].bids,
        expected.get(sym)!.bids.slice(0, 50),
      );
    }
  } finally {
    await replay.stop();
  }
});

Deno.test("bad input: a malformed last depth frame takes its book out of sync instead of leaving it stale", async () => {
  // LRCBTC's last recorded diff is U = u = 259345563; this one follows it
  // but carries a negative size (the recorded ask level, its size edited).
  const bad = JSON.stringify({
    stream: "lrcbtc@depth@100ms",
    data: {
      e: "depthUpdate",
      E: 1633998541081,
      s: "LRCBTC",
      U: 259345564,
      u: 259345564,
      b: [],
      a: [["0.00000639", "-5.00000000"]],
    },
  });
  const replay = await Replay.start(files("BINANCE"), {
    speed: "max",
    inject: { binance: [{ afterFrame: 264, text: bad }] },
    supervisor: quiet,
  });
  try {
    await replay.finished();
    const dump = await replay.dump(50);
    const s = dump.stats.binance;
    assert.equal(s.malformed, 1);
    // One resync for the lost diff, then one per refetch of the only
    // (older) snapshot the capture has.
    assert.ok(s.resyncs >= 1, `resyncs ${s.resyncs}`);
    // No newer snapshot exists in the capture: LRCBTC is reported unsynced.
    const lrc = dump.books.binance.LRCBTC;
    assert.equal(lrc.state, "buffering");
    assert.deepEqual([lrc.bids, lrc.asks], [[], []]);
    assert.equal(dump.books.binance.NKNUSDT.state, "synced");
  } finally {
    await replay.stop();
  }
});
