/**
 * OKX capture replay (cryptofeed's recording of 2022-05-13: BTC-USD-220527,
 * UNI-USD-SWAP, BTC-USDT): the simulator serves the recorded metadata and
 * WebSocket traffic, the real actors run against it (the checksum-era
 * adapter, picked by the recording date), and the books are compared with an
 * independent rebuild.
 */

import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import { Replay } from "../actors/system/capture_replay.ts";
import { assertCleanReplay, captureFiles } from "./_replay.ts";

const FILES = captureFiles("OKX");

interface Rebuilt {
  bids: [number, number][];
  asks: [number, number][];
  checksumFailures: number;
}

/**
 * Rebuilds every OKX book of the capture from OKX's docs alone, sharing no
 * code with coby's adapter, book or sync modules: plain Maps keyed by the
 * price strings, the venue checksum recomputed over levels sorted by number,
 * sizes converted with the contract values read from the recorded metadata.
 */
async function rebuildOkx(): Promise<Map<string, Rebuilt>> {
  // Contract value and type per instrument from the recorded metadata.
  const contract = new Map<string, { ctVal: number; inverse: boolean }>();
  for (const line of (await Deno.readTextFile(FILES[0])).split("\n")) {
    if (!line.includes(" -> ")) continue;
    const body = JSON.parse(line.slice(line.indexOf(": ") + 2));
    for (const d of body.data) {
      contract.set(d.instId, {
        ctVal: d.instType === "SPOT" ? 1 : +d.ctVal,
        inverse: d.ctType === "inverse",
      });
    }
  }
  const books = new Map<
    string,
    { bids: Map<string, string>; asks: Map<string, string>; failures: number }
  >();
  const sorted = (m: Map<string, string>, desc: boolean) =>
    [...m].sort((x, y) => desc ? +y[0] - +x[0] : +x[0] - +y[0]);
  for (const line of (await Deno.readTextFile(FILES[1])).split("\n")) {
    const i = line.indexOf(": {");
    if (i < 0 || line.startsWith("wss://")) continue;
    const msg = JSON.parse(line.slice(i + 2));
    if (msg.arg?.channel !== "books" || !msg.data) continue;
    const d = msg.data[0];
    let b = books.get(msg.arg.instId);
    if (msg.action === "snapshot" || !b) {
      b = { bids: new Map(), asks: new Map(), failures: b?.failures ?? 0 };
      books.set(msg.arg.instId, b);
    }
    for (const [p, q] of d.bids) +q === 0 ? b.bids.delete(p) : b.bids.set(p, q);
    for (const [p, q] of d.asks) +q === 0 ? b.asks.delete(p) : b.asks.set(p, q);
    const bids = sorted(b.bids, true);
    const asks = sorted(b.asks, false);
    const parts: string[] = [];
    for (let k = 0; k < 25; k++) {
      if (bids[k]) parts.push(`${bids[k][0]}:${bids[k][1]}`);
      if (asks[k]) parts.push(`${asks[k][0]}:${asks[k][1]}`);
    }
    if ((crc32(parts.join(":")) | 0) !== d.checksum) b.failures++;
  }
  const out = new Map<string, Rebuilt>();
  for (const [sym, b] of books) {
    const { ctVal, inverse } = contract.get(sym)!;
    const base = ([p, q]: [string, string]): [number, number] => [
      +p,
      inverse ? +q * ctVal / +p : +q * ctVal,
    ];
    out.set(sym, {
      bids: sorted(b.bids, true).map(base),
      asks: sorted(b.asks, false).map(base),
      checksumFailures: b.failures,
    });
  }
  return out;
}

Deno.test("capture replay: OKX books pass every checksum and equal an independent rebuild", async () => {
  const replay = await Replay.start(FILES, {
    speed: "max",
    supervisor: { onLog: () => {} },
  });
  try {
    await replay.finished();
    const dump = await replay.dump(5000);
    const stats = dump.stats.okx;
    // Zero checksum failures, gaps, resyncs, and malformed frames (the
    // keepalive pong included).
    assertCleanReplay(replay, dump, "okx");

    const expected = await rebuildOkx();
    const books = dump.books.okx;
    // cryptofeed's BTC-USD-22K27 / UNI-USD-PERP / BTC-USDT, resolved against
    // the recorded instruments.
    assert.deepEqual(Object.keys(books).sort(), [
      "BTC-USD-220527",
      "BTC-USDT",
      "UNI-USD-SWAP",
    ]);
    assert.deepEqual([...expected.keys()].sort(), Object.keys(books).sort());
    for (const [sym, want] of expected) {
      assert.equal(want.checksumFailures, 0, `${sym}: the rebuild's checksums`);
      const got = books[sym];
      assert.equal(got.state, "synced", sym);
      // 2022 frames carry no seqId: the checksum-era adapter reports none.
      assert.equal(got.lastSequence, -1, sym);
      assert.ok(got.bids[0][0] < got.asks[0][0], `${sym} is crossed`);
      assert.deepEqual(got.bids, want.bids, `${sym} bids`);
      assert.deepEqual(got.asks, want.asks, `${sym} asks`);
    }
    // cryptofeed (expected_callback_counts.json, OKX): L2_BOOK 290 = one
    // callback per books message, the 3 snapshots and 287 updates; ours
    // counts each applied snapshot or delta, the same thing here. TRADES 74:
    // one per trade, as ours (every `trades` frame of 2022 holds one trade).
    assert.equal(stats.bookUpdates, 290);
    assert.equal(stats.trades, 74);
    // cryptofeed subscribed no liquidation-orders in this capture.
    assert.equal(stats.liquidations, 0);
  } finally {
    await replay.stop();
  }
});
