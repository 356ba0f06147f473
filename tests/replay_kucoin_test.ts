/**
 * KuCoin capture replay: the simulator serves the recorded 2021 session
 * (symbols, REST level-2 snapshots, one WebSocket connection) and synthesizes
 * the bullet-public token call the recording lacks; the real connection
 * actor syncs every book and the result is compared with an independent
 * rebuild from the capture's lines.
 */

import assert from "node:assert/strict";
import { Replay } from "../actors/system/capture_replay.ts";
import { assertCleanReplay, captureFiles } from "./_replay.ts";

const FILES = captureFiles("KUCOIN");

interface Rebuilt {
  bids: [number, number][];
  asks: [number, number][];
  lastSequence: number;
  applied: number;
  gaps: number;
}

/**
 * Rebuilds every book of the capture with plain Maps keyed by price string,
 * following KuCoin's calibration procedure as documented: drop updates with
 * sequenceEnd <= snapshot.sequence, the first applied one must have
 * sequenceStart <= snapshot.sequence + 1, then sequenceStart == previous
 * sequenceEnd + 1; a change with price "0" changes nothing, size "0" removes.
 */
async function rebuildKucoin(): Promise<Map<string, Rebuilt>> {
  const snaps = new Map<
    string,
    { seq: number; bids: string[][]; asks: string[][] }
  >();
  for (
    const line of (await Deno.readTextFile(FILES[1])).split("\n")
  ) {
    const m = line.match(/symbol=([A-Z0-9-]+) -> [\d.]+: (.*)$/);
    if (!m) continue;
    const d = JSON.parse(m[2]).data;
    snaps.set(m[1], { seq: Number(d.sequence), bids: d.bids, asks: d.asks });
  }
  const books = new Map<
    string,
    {
      bids: Map<string, string>;
      asks: Map<string, string>;
      last: number;
      applied: number;
      gaps: number;
    }
  >();
  for (const [sym, s] of snaps) {
    books.set(sym, {
      bids: new Map(s.bids.map(([p, q]) => [p, q])),
      asks: new Map(s.asks.map(([p, q]) => [p, q])),
      last: -1,
      applied: 0,
      gaps: 0,
    });
  }
  for (const line of (await Deno.readTextFile(FILES[2])).split("\n")) {
    const i = line.indexOf(": {");
    if (i < 0 || line.startsWith("wss://")) continue;
    const msg = JSON.parse(line.slice(i + 2));
    if (msg.subject !== "trade.l2update") continue;
    const d = msg.data;
    const b = books.get(d.symbol);
    if (!b) continue;
    const S = snaps.get(d.symbol)!.seq;
    if (d.sequenceEnd <= S) continue;
    if (b.last < 0 ? d.sequenceStart > S + 1 : d.sequenceStart !== b.last + 1) {
      b.gaps++;
    }
    for (const [side, map] of [["bids", b.bids], ["asks", b.asks]] as const) {
      for (const [p, q] of d.changes[side] as string[][]) {
        if (p === "0") continue;
        if (+q === 0) map.delete(p);
        else map.set(p, q);
      }
    }
    b.last = d.sequenceEnd;
    b.applied++;
  }
  const out = new Map<string, Rebuilt>();
  for (const [sym, b] of books) {
    const pairs = (m: Map<string, string>, desc: boolean) =>
      [...m].map(([p, q]) => [+p, +q] as [number, number]).sort((x, y) =>
        desc ? y[0] - x[0] : x[0] - y[0]
      );
    out.set(sym, {
      bids: pairs(b.bids, true),
      asks: pairs(b.asks, false),
      lastSequence: b.last < 0 ? snaps.get(sym)!.seq : b.last,
      applied: b.applied,
      gaps: b.gaps,
    });
  }
  return out;
}

Deno.test("capture replay: KUCOIN books equal the independent rebuild with zero gaps", async () => {
  const replay = await Replay.start(FILES, {
    speed: "max",
    supervisor: { onLog: () => {} },
  });
  try {
    await replay.finished();
    const dump = await replay.dump(5000);
    const books = dump.books.kucoin;
    const stats = dump.stats.kucoin;
    const expected = await rebuildKucoin();

    // The ten symbols of the capture's configuration, BSV-USDT included
    // (exchange symbol BCHSV-USDT, baseCurrency BSV).
    assert.deepEqual(Object.keys(books).sort(), [
      "ANKR-BTC",
      "BCHSV-USDT",
      "CAPP-BTC",
      "COV-BTC",
      "DAPPT-BTC",
      "EQZ-BTC",
      "FET-BTC",
      "LTX-USDT",
      "NRG-BTC",
      "SNX-BTC",
    ]);
    // LTX-USDT: the capture holds neither an l2update nor a snapshot for it,
    // so its book cannot sync and must be reported as not synced.
    assert.equal(books["LTX-USDT"].state, "buffering");
    assert.deepEqual(books["LTX-USDT"].bids, []);
    assert.equal(expected.has("LTX-USDT"), false);

    let applied = 0;
    for (const [sym, want] of expected) {
      assert.equal(want.gaps, 0, `${sym}: the rebuild itself saw a gap`);
      const got = books[sym];
      assert.equal(got.state, "synced", sym);
      assert.equal(got.lastSequence, want.lastSequence, `${sym} lastSequence`);
      assert.ok(got.bids.length < 5000 && got.asks.length < 5000, sym);
      assert.deepEqual(got.bids, want.bids, `${sym} bids`);
      assert.deepEqual(got.asks, want.asks, `${sym} asks`);
      assert.ok(
        got.bids[0][0] < got.asks[0][0],
        `${sym} crossed: ${got.bids[0][0]} >= ${got.asks[0][0]}`,
      );
      applied += want.applied;
    }

    assert.equal(stats.reconnects, 0, "reconnects");
    // Every recorded frame reached the actor.
    assertCleanReplay(replay, dump, "kucoin");

    // Ours: one update per applied snapshot (9) plus one per applied delta
    // (3805, the rebuild's count). cryptofeed counts 3823: it keeps deltas
    // whose sequenceStart >= snapshot.sequence, so for each of the 9 books it
    // also applies the delta numbered exactly snapshot.sequence, which the
    // snapshot already contains (KuCoin: apply from sequence + 1).
    assert.equal(applied, 3805);
    assert.equal(stats.bookUpdates, expected.size + applied);
    assert.equal(stats.bookUpdates, 3823 - expected.size);
    // One trade per `trade.l3match`, as cryptofeed counts (TRADES 18).
    assert.equal(stats.trades, 18);
  } finally {
    await replay.stop();
  }
});
