/**
 * Bitfinex capture replay: the simulator serves the recorded 2021 session
 * (pair lists, one WebSocket v2 connection with SEQ_ALL on), the real
 * connection actor follows every book from its in-stream snapshot, and the
 * result is compared with an independent rebuild from the capture's lines.
 */

import assert from "node:assert/strict";
import { Replay } from "../actors/system/capture_replay.ts";
import { assertCleanReplay, captureFiles } from "./_replay.ts";

const FILES = captureFiles("BITFINEX");

interface Rebuilt {
  bids: [number, number][];
  asks: [number, number][];
  messages: number;
}

/**
 * Rebuilds every P0 book with plain Maps, straight from Bitfinex's book
 * docs: a snapshot `[[price, count, amount], …]` replaces the book, an update
 * `[price, count, amount]` sets `|amount|` on the side of amount's sign, or
 * removes the price when count is 0. Also checks the connection-wide
 * sequence (the last element of every array message) and counts gaps.
 */
async function rebuildBitfinex(): Promise<
  { books: Map<string, Rebuilt>; gaps: number; tradeSnapshots: number }
> {
  const channels = new Map<number, { channel: string; symbol: string }>();
  const books = new Map<
    string,
    { bids: Map<number, number>; asks: Map<number, number>; messages: number }
  >();
  let seq = -1;
  let gaps = 0;
  let tradeSnapshots = 0;
  for (const line of (await Deno.readTextFile(FILES[1])).split("\n")) {
    const i = line.indexOf(": ");
    if (i < 0 || line.startsWith("wss://")) continue;
    const msg = JSON.parse(line.slice(i + 2));
    if (!Array.isArray(msg)) {
      if (msg.event === "subscribed") {
        channels.set(msg.chanId, { channel: msg.channel, symbol: msg.symbol });
      }
      continue;
    }
    const s = msg[msg.length - 1];
    if (seq >= 0 && s !== seq + 1) gaps++;
    seq = s;
    const ch = channels.get(msg[0]);
    if (!ch || msg[1] === "hb") continue;
    if (ch.channel === "trades" && Array.isArray(msg[1])) {
      tradeSnapshots += msg[1].length;
    }
    if (ch.channel !== "book") continue;
    const snapshot = msg[1].length === 0 || Array.isArray(msg[1][0]);
    const rows: number[][] = snapshot ? msg[1] : [msg[1]];
    if (snapshot) {
      const before = books.get(ch.symbol)?.messages ?? 0;
      books.set(ch.symbol, {
        bids: new Map(),
        asks: new Map(),
        messages: before,
      });
    }
    const b = books.get(ch.symbol)!;
    for (const [price, count, amount] of rows) {
      const side = amount > 0 ? b.bids : b.asks;
      if (count === 0) side.delete(price);
      else side.set(price, Math.abs(amount));
    }
    b.messages++;
  }
  const out = new Map<string, Rebuilt>();
  for (const [sym, b] of books) {
    const pairs = (m: Map<number, number>, desc: boolean) =>
      [...m].sort((x, y) => desc ? y[0] - x[0] : x[0] - y[0]);
    out.set(sym, {
      bids: pairs(b.bids, true),
      asks: pairs(b.asks, false),
      messages: b.messages,
    });
  }
  return { books: out, gaps, tradeSnapshots };
}

Deno.test("capture replay: BITFINEX books equal the independent rebuild, zero gaps and checksum failures", async () => {
  const replay = await Replay.start(FILES, {
    speed: "max",
    supervisor: { onLog: () => {} },
  });
  try {
    await replay.finished();
    const dump = await replay.dump(5000);
    const books = dump.books.bitfinex;
    const stats = dump.stats.bitfinex;
    const { books: expected, gaps, tradeSnapshots } = await rebuildBitfinex();

    assert.equal(gaps, 0, "the capture's own sequence has a gap");
    // The seven symbols of the capture's configuration, TESTBTC:TESTUSD
    // (colon-joined long codes) included.
    assert.deepEqual(Object.keys(books).sort(), [
      "tBFTUSD",
      "tDOGUSD",
      "tIOTETH",
      "tMNABTC",
      "tODEUSD",
      "tSNGUSD",
      "tTESTBTC:TESTUSD",
    ]);
    assert.deepEqual(Object.keys(books).sort(), [...expected.keys()].sort());
    let messages = 0;
    for (const [sym, want] of expected) {
      const got = books[sym];
      assert.equal(got.state, "synced", sym);
      assert.deepEqual(got.bids, want.bids, `${sym} bids`);
      assert.deepEqual(got.asks, want.asks, `${sym} asks`);
      assert.ok(
        got.bids[0][0] < got.asks[0][0],
        `${sym} crossed: ${got.bids[0][0]} >= ${got.asks[0][0]}`,
      );
      messages += want.messages;
    }

    assert.equal(stats.reconnects, 0, "reconnects");
    // Zero gaps (connection-wide sequence), resyncs and malformed frames. The
    // capture ran with SEQ_ALL only (flags 65536), so it holds no `cs` frames:
    // no checksum can fail here; the checksum is tested in bitfinex_test.ts.
    assertCleanReplay(replay, dump, "bitfinex");

    // cryptofeed counts one L2 callback per book message: 7 snapshots and
    // 1593 updates = 1600, as ours (one per applied snapshot or delta).
    assert.equal(messages, 1600);
    assert.equal(stats.bookUpdates, 1600);
    // cryptofeed's 210 trades are the 7 subscription snapshots of the 30
    // latest trades (up to hours old); the capture has no `te` execution at
    // all. We count executions only (as tardis-node does), so 0.
    assert.equal(tradeSnapshots, 210);
    assert.equal(stats.trades, 0);
  } finally {
    await replay.stop();
  }
});
