/**
 * Bybit capture replay (2021, the retired v2 API): the simulator serves the
 * recorded inverse (`/realtime`) and USDT (`/realtime_public`) connections,
 * the real actors run against it, and every book is compared with an
 * independent rebuild of the capture.
 */

import assert from "node:assert/strict";
import { connectionId } from "../actors/system/topology.ts";
import { Replay } from "../actors/system/capture_replay.ts";
import { assertCleanReplay, captureFiles } from "./_replay.ts";

const FILES = captureFiles("BYBIT");

/**
 * Rebuilds every book from the capture's lines, written from the v2 docs and
 * sharing no code with coby: levels keyed by the venue's level `id` (not by
 * price), a snapshot replaces the book, deltas delete/update/insert by id.
 * Inverse (USD-quoted) sizes are 1-USD contracts: base = contracts / price.
 */
async function rebuildBybit(): Promise<
  Map<string, { bids: [number, number][]; asks: [number, number][] }>
> {
  type Row = {
    id: number | string;
    price: string;
    side: string;
    size?: number;
  };
  const books = new Map<string, Map<string, Row>>();
  for (const f of FILES.slice(1)) {
    for (const line of (await Deno.readTextFile(f)).split("\n")) {
      const i = line.indexOf(": {");
      if (i < 0 || line.startsWith("wss://")) continue;
      const m = JSON.parse(line.slice(i + 2));
      if (!m.topic?.startsWith("orderBookL2_25.")) continue;
      const sym = m.topic.split(".")[1];
      if (m.type === "snapshot") {
        const rows: Row[] = Array.isArray(m.data) ? m.data : m.data.order_book;
        books.set(sym, new Map(rows.map((r) => [String(r.id), r])));
        continue;
      }
      const b = books.get(sym)!;
      for (const r of m.data.delete) b.delete(String(r.id));
      for (const r of [...m.data.update, ...m.data.insert]) {
        b.set(String(r.id), r);
      }
    }
  }
  const out = new Map<
    string,
    { bids: [number, number][]; asks: [number, number][] }
  >();
  for (const [sym, rows] of books) {
    const inverse = sym.endsWith("USD");
    const side = (s: string, desc: boolean) =>
      [...rows.values()].filter((r) => r.side === s).map((r) =>
        [+r.price, inverse ? r.size! / +r.price : r.size!] as [number, number]
      ).sort((x, y) => desc ? y[0] - x[0] : x[0] - y[0]);
    out.set(sym, { bids: side("Buy", true), asks: side("Sell", false) });
  }
  return out;
}

Deno.test("capture replay: BYBIT (v2) books are exact, with cryptofeed's update and trade counts", async () => {
  const replay = await Replay.start(FILES, {
    speed: "max",
    supervisor: { onLog: () => {} },
  });
  try {
    await replay.finished();
    const dump = await replay.dump(5000);
    const s = dump.stats.bybit;
    // Inverse and USDT contracts ran on their own connections, as recorded.
    const ids = replay.coby.supervisor.actors().map((a) => a.id);
    assert.ok(ids.includes(connectionId("bybit", "inverse")));
    assert.ok(ids.includes(connectionId("bybit", "linear")));
    // Every recorded frame reached the actors.
    assertCleanReplay(replay, dump, "bybit");
    // cryptofeed (expected_callback_counts.json): L2_BOOK 4278 is one
    // callback per orderBookL2_25 message (10 snapshots + 4268 deltas), ours
    // one per applied snapshot or delta: every message applies, so they
    // match. TRADES 251 is one per trade in the trade messages' arrays, as
    // ours.
    assert.equal(s.bookUpdates, 4278);
    assert.equal(s.trades, 251);
    assert.equal(s.liquidations, 0);

    const want = await rebuildBybit();
    const books = dump.books.bybit;
    assert.deepEqual(Object.keys(books).sort(), [...want.keys()].sort());
    assert.equal(want.size, 10);
    for (const [sym, w] of want) {
      const got = books[sym];
      assert.equal(got.state, "synced", sym);
      assert.equal(got.bids.length, 25, `${sym} bid levels`);
      assert.equal(got.asks.length, 25, `${sym} ask levels`);
      assert.ok(got.bids[0][0] < got.asks[0][0], `${sym} uncrossed`);
      assert.deepEqual(got.bids, w.bids, `${sym} bids`);
      assert.deepEqual(got.asks, w.asks, `${sym} asks`);
    }
  } finally {
    await replay.stop();
  }
});
