/**
 * Kraken capture replay: the simulator serves the 2021 cryptofeed capture
 * (AssetPairs, then three WebSocket v1 connections for trades, tickers and
 * `book-1000` that share the path `/`, merged into one stream), the real
 * actors run against it with the v1 adapter picked by the recording date,
 * and the books are compared with an independent rebuild.
 */

import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import { Replay } from "../actors/system/capture_replay.ts";
import type { ReplayDump } from "../actors/market/requests.ts";
import { assertCleanReplay, captureFiles, CAPTURES } from "./_replay.ts";

const FILES = captureFiles("KRAKEN");
const quiet = { onLog: () => {} };

interface Rebuilt {
  bids: [number, number][];
  asks: [number, number][];
}

/**
 * Rebuilds every book of the capture's `book-1000` connection from Kraken's
 * v1 book guide, sharing no code with coby: string Maps, the venue's own
 * checksum recomputed with node:zlib on every update.
 * @returns the books by pair, and how many update checksums matched.
 */
async function rebuildKraken(): Promise<
  { books: Map<string, Rebuilt>; checked: number; deepest: number }
> {
  const books = new Map<
    string,
    { bids: Map<string, string>; asks: Map<string, string> }
  >();
  let checked = 0;
  let deepest = 0;
  const digits = (s: string) => s.replace(".", "").replace(/^0+/, "");
  const top = (m: Map<string, string>, desc: boolean) =>
    [...m].sort((x, y) => desc ? +y[0] - +x[0] : +x[0] - +y[0]).slice(0, 10)
      .map(([p, q]) => digits(p) + digits(q)).join("");
  for (
    const line of (await Deno.readTextFile(`${CAPTURES}/KRAKEN.ws.50.0`))
      .split("\n")
  ) {
    const i = line.indexOf(": [");
    if (i < 0 || line.startsWith("wss://")) continue;
    const msg = JSON.parse(line.slice(i + 2));
    const pair = msg[msg.length - 1];
    if (msg[1].as) {
      books.set(pair, {
        bids: new Map(msg[1].bs.map((l: string[]) => [l[0], l[1]])),
        asks: new Map(msg[1].as.map((l: string[]) => [l[0], l[1]])),
      });
      continue;
    }
    const b = books.get(pair)!;
    let c: string | undefined;
    for (const o of msg.slice(1, -2)) {
      for (const [side, levels] of [["a", o.a], ["b", o.b]]) {
        const m = side === "a" ? b.asks : b.bids;
        for (const [p, q] of levels ?? []) +q === 0 ? m.delete(p) : m.set(p, q);
      }
      c = o.c ?? c;
    }
    deepest = Math.max(deepest, b.bids.size, b.asks.size);
    assert.equal(
      crc32(top(b.asks, false) + top(b.bids, true)),
      Number(c),
      `${pair} checksum at ${line.slice(0, 20)}`,
    );
    checked++;
  }
  const out = new Map<string, Rebuilt>();
  const pairs = (m: Map<string, string>, desc: boolean) =>
    [...m].map(([p, q]) => [+p, +q] as [number, number]).sort((x, y) =>
      desc ? y[0] - x[0] : x[0] - y[0]
    );
  for (const [pair, b] of books) {
    out.set(pair, { bids: pairs(b.bids, true), asks: pairs(b.asks, false) });
  }
  return { books: out, checked, deepest };
}

/** Asserts the dumped books of `pairs` equal the rebuild and are uncrossed. */
function assertBooks(
  dump: ReplayDump,
  rebuilt: Map<string, Rebuilt>,
  pairs: Iterable<string>,
): void {
  for (const pair of pairs) {
    const got = dump.books.kraken[pair];
    const want = rebuilt.get(pair)!;
    assert.equal(got.state, "synced", pair);
    assert.ok(got.bids[0][0] < got.asks[0][0], `${pair} is crossed`);
    assert.deepEqual(got.bids, want.bids, `${pair} bids`);
    assert.deepEqual(got.asks, want.asks, `${pair} asks`);
  }
}

Deno.test("capture replay: KRAKEN v1 books are exact, every checksum validates, counts match cryptofeed", async () => {
  const rebuilt = await rebuildKraken();
  // Every update frame carries a checksum and the rebuild validates them all.
  assert.equal(rebuilt.checked, 4269);
  // No side ever reaches the subscribed 1000 levels in this capture, so
  // dropping levels pushed out of scope (Kraken sends no delete for them)
  // never comes into play here.
  assert.ok(rebuilt.deepest < 1000, `a side reached ${rebuilt.deepest}`);
  const replay = await Replay.start(FILES, { speed: "max", supervisor: quiet });
  try {
    await replay.finished();
    const dump = await replay.dump(5000);
    const s = dump.stats.kraken;
    assert.equal(s.reconnects, 0, "reconnects");
    // The trade, ticker and book connections all reached the one client.
    assertCleanReplay(replay, dump, "kraken");
    assert.equal(s.frames, 4430);
    assert.equal(Object.keys(dump.books.kraken).length, 10);
    assertBooks(dump, rebuilt.books, rebuilt.books.keys());
    // cryptofeed's counts on the same capture (expected_callback_counts.json):
    // one L2_BOOK callback per book message, snapshot or update (10 + 4269),
    // and one TRADES callback per trade of a trade frame. The semantics match
    // ours: one applied event per book message (both sides of a frame in one
    // delta), one trade event per trade.
    assert.equal(s.bookUpdates, 4279);
    assert.equal(s.trades, 10);
  } finally {
    await replay.stop();
  }
});

Deno.test("bad checksum: a corrupted Kraken update is caught, only that book resyncs, the others stay exact", async () => {
  const rebuilt = await rebuildKraken();
  const logs: string[] = [];
  const replay = await Replay.start(FILES, {
    speed: "max",
    inject: {
      kraken: [{
        afterFrame: 2000, // well after every snapshot
        text:
          `[4528,{"b":[["0.00083000","1.00000000","1618678140.000000"]],"c":"1"},"book-1000","GRT/ETH"]`,
      }],
    },
    supervisor: { onLog: (_id, _level, msg) => logs.push(msg) },
  });
  try {
    await replay.finished();
    const dump = await replay.dump(5000);
    const s = dump.stats.kraken;
    assert.equal(s.checksumFailures, 1);
    assert.equal(s.resyncs, 1);
    assert.equal(s.malformed, 0);
    assert.ok(
      logs.some((l) => /GRT\/ETH: resync \(checksum/.test(l)),
      "logged",
    );
    // The resubscribe frames reach the simulator, which answers no client
    // frame: no fresh snapshot comes, so GRT/ETH is reported unsynced
    // rather than as a book.
    const grt = dump.books.kraken["GRT/ETH"];
    assert.equal(grt.state, "buffering");
    assert.deepEqual([grt.bids, grt.asks], [[], []]);
    assertBooks(
      dump,
      rebuilt.books,
      [...rebuilt.books.keys()].filter((p) => p !== "GRT/ETH"),
    );
  } finally {
    await replay.stop();
  }
});

Deno.test("depth: levels an insert pushes past Kraken's 1000 are dropped (synthetic capture)", async () => {
  // The real capture never fills 1000 levels, so this one does: a full
  // XBT/USD snapshot, then a bid and an ask inserted inside the range.
  const dir = await Deno.makeTempDir();
  try {
    const lvl = (
      p: number,
    ) => [p.toFixed(1), "1.00000000", "1700000000.200000"];
    const bids = Array.from({ length: 1000 }, (_, i) => lvl(49999 - i));
    const asks = Array.from({ length: 1000 }, (_, i) => lvl(50001 + i));
    const d = (s: string) => s.replace(".", "").replace(/^0+/, "");
    const c = crc32(
      [...asks.slice(0, 10), ...bids.slice(0, 10)].map(([p, q]) => d(p) + d(q))
        .join(""),
    );
    await Deno.writeTextFile(
      `${dir}/KRAKEN.0`,
      `configuration: {"l2_book":["BTC-USD"]}\n` +
        `https://api.kraken.com/0/public/AssetPairs -> 1700000000.0: {"error":[],"result":{"XXBTZUSD":{"wsname":"XBT/USD","base":"XXBT","quote":"ZUSD"}}}\n`,
    );
    await Deno.writeTextFile(
      `${dir}/KRAKEN.ws.1.0`,
      [
        `wss://ws.kraken.com <-> 1700000000.1`,
        `1700000000.2: ${
          JSON.stringify([1, { as: asks, bs: bids }, "book-1000", "XBT/USD"])
        }`,
        `1700000000.3: [1,{"b":[["49000.5","2.00000000","1700000000.300000"]],"c":"${c}"},"book-1000","XBT/USD"]`,
        `1700000000.4: [1,{"a":[["50500.5","2.00000000","1700000000.400000"]],"c":"${c}"},"book-1000","XBT/USD"]`,
        "",
      ].join("\n"),
    );
    const replay = await Replay.start(
      [`${dir}/KRAKEN.0`, `${dir}/KRAKEN.ws.1.0`],
      { speed: "max", supervisor: quiet },
    );
    try {
      await replay.finished();
      const dump = await replay.dump(5000);
      assert.equal(dump.stats.kraken.checksumFailures, 0);
      assert.equal(dump.stats.kraken.bookUpdates, 3);
      const book = dump.books.kraken["XBT/USD"];
      assert.equal(book.state, "synced");
      assert.equal(book.bids.length, 1000);
      assert.equal(book.asks.length, 1000);
      // 49000 and 51000 fell out of scope.
      assert.deepEqual(book.bids[999], [49000.5, 2]);
      assert.deepEqual(book.asks[999], [50999, 1]);
    } finally {
      await replay.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
