/**
 * Gate.io capture replay (cryptofeed's recording of 2021-04-22, ten spot
 * pairs): the simulator serves the recorded metadata, REST snapshots and
 * WebSocket traffic, the real actors run against it, and every book is
 * compared with an independent rebuild.
 */

import assert from "node:assert/strict";
import { Replay } from "../actors/system/capture_replay.ts";
import { assertCleanReplay, captureFiles } from "./_replay.ts";

const FILES = captureFiles("GATEIO");

interface Rebuilt {
  bids: [number, number][];
  asks: [number, number][];
  lastSequence: number;
  applied: number;
  gaps: number;
}

/**
 * Rebuilds every Gate.io book of the capture following Gate's "how to
 * maintain local order book" steps, sharing no code with coby's book or sync
 * modules: plain Maps keyed by price strings, the capture's lines read
 * directly. The snapshot is the one recorded for the pair; notifications with
 * `u < id + 1` are dropped, the first applied one has `U <= id + 1 <= u`, and
 * each later `U` must be the previous `u + 1`.
 */
async function rebuildGateio(): Promise<Map<string, Rebuilt>> {
  const books = new Map<
    string,
    {
      id: number;
      last: number;
      bids: Map<string, string>;
      asks: Map<string, string>;
      applied: number;
      gaps: number;
    }
  >();
  for (const line of (await Deno.readTextFile(FILES[1])).split("\n")) {
    const m = line.match(
      /currency_pair=(\w+)&limit=100&with_id=true -> [\d.]+: (.*)$/,
    );
    if (!m) continue;
    const s = JSON.parse(m[2]);
    books.set(m[1], {
      id: s.id,
      last: -1,
      bids: new Map(s.bids.map(([p, q]: string[]) => [p, q])),
      asks: new Map(s.asks.map(([p, q]: string[]) => [p, q])),
      applied: 0,
      gaps: 0,
    });
  }
  for (const line of (await Deno.readTextFile(FILES[2])).split("\n")) {
    const i = line.indexOf(": {");
    if (i < 0 || line.startsWith("wss://")) continue;
    const msg = JSON.parse(line.slice(i + 2));
    if (msg.channel !== "spot.order_book_update" || msg.event !== "update") {
      continue;
    }
    const r = msg.result;
    const b = books.get(r.s)!;
    if (b.last < 0) {
      if (r.u < b.id + 1) continue;
      if (r.U > b.id + 1) {
        b.gaps++;
        continue;
      }
    } else if (r.U !== b.last + 1) b.gaps++;
    for (const [p, q] of r.b) +q === 0 ? b.bids.delete(p) : b.bids.set(p, q);
    for (const [p, q] of r.a) +q === 0 ? b.asks.delete(p) : b.asks.set(p, q);
    b.last = r.u;
    b.applied++;
  }
  const out = new Map<string, Rebuilt>();
  const pairs = (m: Map<string, string>, desc: boolean) =>
    [...m].map(([p, q]) => [+p, +q] as [number, number]).sort((x, y) =>
      desc ? y[0] - x[0] : x[0] - y[0]
    );
  for (const [sym, b] of books) {
    out.set(sym, {
      bids: pairs(b.bids, true),
      asks: pairs(b.asks, false),
      lastSequence: b.last < 0 ? b.id : b.last,
      applied: b.applied,
      gaps: b.gaps,
    });
  }
  return out;
}

Deno.test("capture replay: GATEIO books sync to the REST snapshots with zero gaps and equal an independent rebuild", async () => {
  const replay = await Replay.start(FILES, {
    speed: "max",
    supervisor: { onLog: () => {} },
  });
  try {
    await replay.finished();
    const dump = await replay.dump(5000);
    const stats = dump.stats.gateio;
    assertCleanReplay(replay, dump, "gateio");

    const expected = await rebuildGateio();
    const books = dump.books.gateio;
    assert.equal(expected.size, 10);
    assert.deepEqual(Object.keys(books).sort(), [...expected.keys()].sort());
    for (const [sym, want] of expected) {
      assert.equal(want.gaps, 0, `${sym}: the rebuild itself saw a gap`);
      const got = books[sym];
      assert.equal(got.state, "synced", sym);
      assert.equal(got.lastSequence, want.lastSequence, `${sym} lastSequence`);
      assert.ok(got.bids[0][0] < got.asks[0][0], `${sym} is crossed`);
      assert.deepEqual(got.bids, want.bids, `${sym} bids`);
      assert.deepEqual(got.asks, want.asks, `${sym} asks`);
    }
    // INK_USDT and BTC_USDC receive no update newer than their snapshot (the
    // data README): their books are the snapshots, at the snapshot's id.
    assert.equal(expected.get("INK_USDT")!.applied, 0);
    assert.equal(expected.get("BTC_USDC")!.applied, 0);
    assert.equal(books.INK_USDT.lastSequence, 2509482);
    assert.equal(books.BTC_USDC.lastSequence, 13035634);
    // cryptofeed (expected_callback_counts.json, GATEIO): L2_BOOK 169 = one
    // callback per applied REST snapshot (10) and per applied update (159);
    // ours counts the same. TRADES 9, one per `spot.trades` update.
    let applied = 0;
    for (const b of expected.values()) applied += b.applied;
    assert.equal(applied, 159);
    assert.equal(stats.bookUpdates, 10 + 159);
    assert.equal(stats.bookUpdates, 169);
    assert.equal(stats.trades, 9);
  } finally {
    await replay.stop();
  }
});
