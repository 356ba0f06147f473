/**
 * Replay of the Coinbase capture (2021-04-17, the retired Pro feed): the
 * simulator serves COINBASE.0 (GET /products) and COINBASE.ws.28.0, the
 * connection actor speaks the Pro adapter picked by the recording date, and
 * every book is compared with an independent rebuild from the capture.
 */

import assert from "node:assert/strict";
import { Replay } from "../actors/system/capture_replay.ts";
import { assertCleanReplay, captureFiles, CAPTURES } from "./_replay.ts";

const FILES = captureFiles("COINBASE");

interface Rebuilt {
  bids: [number, number][];
  asks: [number, number][];
}

/**
 * Rebuilds every book of the capture from the Pro `level2` rules alone,
 * sharing no code with coby: plain Maps keyed by the price strings, a
 * `snapshot` replaces the book, each `l2update` change sets the level's new
 * size and a zero size removes it.
 */
async function rebuild(): Promise<Map<string, Rebuilt>> {
  const books = new Map<
    string,
    { bids: Map<string, string>; asks: Map<string, string> }
  >();
  const text = await Deno.readTextFile(`${CAPTURES}/COINBASE.ws.28.0`);
  for (const line of text.split("\n")) {
    const i = line.indexOf(": {");
    if (i < 0 || line.startsWith("wss://")) continue;
    const m = JSON.parse(line.slice(i + 2));
    if (m.type === "snapshot") {
      books.set(m.product_id, {
        bids: new Map(m.bids.map(([p, s]: string[]) => [p, s])),
        asks: new Map(m.asks.map(([p, s]: string[]) => [p, s])),
      });
    } else if (m.type === "l2update") {
      const b = books.get(m.product_id);
      if (!b) continue; // before its snapshot (none in this capture)
      for (const [side, p, s] of m.changes) {
        const levels = side === "buy" ? b.bids : b.asks;
        if (+s === 0) levels.delete(p);
        else levels.set(p, s);
      }
    }
  }
  const pairs = (m: Map<string, string>, desc: boolean) =>
    [...m].map(([p, s]) => [+p, +s] as [number, number]).sort((x, y) =>
      desc ? y[0] - x[0] : x[0] - y[0]
    );
  const out = new Map<string, Rebuilt>();
  for (const [sym, b] of books) {
    out.set(sym, { bids: pairs(b.bids, true), asks: pairs(b.asks, false) });
  }
  return out;
}

Deno.test("capture replay: COINBASE (2021 Pro level2 + matches) books are exact, uncrossed, with zero gaps", async () => {
  const replay = await Replay.start(FILES, {
    speed: "max",
    supervisor: { onLog: () => {} },
  });
  try {
    await replay.finished();
    const dump = await replay.dump(5000);
    const s = dump.stats.coinbase;
    // Every recorded frame but the open line reached the actor.
    assertCleanReplay(replay, dump, "coinbase");
    // cryptofeed (expected_callback_counts.json): L2_BOOK 9729 = one callback
    // per snapshot (10) and per l2update (9719); ours counts each applied
    // snapshot and delta, and every l2update follows its product's snapshot.
    assert.equal(s.bookUpdates, 9729);
    // cryptofeed's TRADES 107 = 97 `match` + 10 `last_match`. `last_match`
    // is each product's latest trade from before the subscription, re-sent on
    // every reconnect; we do not emit it (as tardis-node), so 107 - 10.
    assert.equal(s.trades, 97);
    const expected = await rebuild();
    const books = dump.books.coinbase;
    assert.deepEqual(Object.keys(books).sort(), [...expected.keys()].sort());
    assert.equal(expected.size, 10);
    for (const [sym, want] of expected) {
      const got = books[sym];
      assert.equal(got.state, "synced", sym);
      assert.ok(
        got.bids[0][0] < got.asks[0][0],
        `${sym} crossed: ${got.bids[0][0]} >= ${got.asks[0][0]}`,
      );
      assert.deepEqual(got.bids, want.bids, `${sym} bids`);
      assert.deepEqual(got.asks, want.asks, `${sym} asks`);
    }
  } finally {
    await replay.stop();
  }
});
