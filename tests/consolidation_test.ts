/**
 * Consolidation around a consensus mid, on real books.
 *
 * The aggregator-level scenarios take the final full-depth books of a replay
 * of the OKX and Gate.io captures (OKX BTC-USDT spot and BTC-USD-220527
 * futures, recorded together; Gate.io BTC_USDC, recorded another year) and
 * feed them to an `Aggregator` as book columns sampled from those books by
 * the connections' sampler (`tests/_owner.ts`), plus venues injected from the same real
 * books: OKX spot with every price × 1.5 (a stale or wrong venue), Gate.io
 * with its asks below 10 000 000 pulled (a venue whose best ask is an
 * outlier, like Coinbase's full-depth asks at 1e8), and OKX futures × 1.0005
 * (a genuine small cross against OKX spot).
 *
 * The actor-level scenario replays OKX with the Bybit capture, whose
 * BTCUSD book is real but from 2021 (BTC ≈ 60 600 against OKX's ≈ 30 200 of
 * 2022): a real stale venue, excluded in the column metadata, in
 * `/api/v1/exchanges` and in the heatmap stream. The two recordings are a
 * year apart: the replay lines them up (`align`), so both play side by side
 * on OKX's clock, until the later of their ends.
 */

import assert from "node:assert/strict";
import { Aggregator, AggregatorConfig } from "../actors/market/aggregate.ts";
import { consolidate } from "../actors/market/consolidate.ts";
import { Kind } from "../actors/market/batch.ts";
import {
  bucketOf,
  type Column,
  type ColumnInit,
  decodeColumns,
  encodeColumns,
  MAX_MID_BUCKETS,
  midPrice,
} from "../actors/market/heatmap.ts";
import type { BookView } from "../actors/market/requests.ts";
import { readCapture } from "../actors/capture/capture.ts";
import { Replay } from "../actors/system/capture_replay.ts";
import type { ColumnPayload } from "../actors/system/hub.ts";
import { connectionId } from "../actors/system/topology.ts";
import { createApp } from "../http/app.ts";
import { BookOwner } from "./_owner.ts";
import { captureFiles as files } from "./_replay.ts";

const quiet = { onLog: () => {} };
const aliases = { USDT: "USD", USDC: "USD" };
const RANGE = 0.05;
const THRESHOLD = 0.02;
const BTC_BUCKET = 10;

let realBooks: Promise<Map<string, BookView>> | undefined;

/**
 * The final full-depth books of the OKX and Gate.io captures, by
 * `exchange:exchangeSymbol` (one replay, shared by the tests of this file).
 */
function books(): Promise<Map<string, BookView>> {
  return realBooks ??= (async () => {
    const replay = await Replay.start([...files("OKX"), ...files("GATEIO")], {
      speed: "max",
      supervisor: quiet,
    });
    try {
      await replay.finished();
      const out = new Map<string, BookView>();
      for (const ex of ["okx", "gateio"]) {
        const list = await replay.coby.supervisor.request(
          connectionId(ex),
          "books",
          { depth: 1_000_000 },
        );
        for (const b of list) out.set(`${ex}:${b.exchangeSymbol}`, b);
      }
      return out;
    } finally {
      await replay.stop();
    }
  })();
}

/** Options for {@link feed}. */
interface FeedOptions {
  /** Every price is multiplied by this. */
  factor?: number;
  /** Levels kept; all by default. */
  keep?: (side: "bid" | "ask", price: number) => boolean;
}

/**
 * The tick each aggregator-level scenario closes, ms since epoch; its books
 * are received just before it.
 */
const TICK = 1_650_000_000_000;

/**
 * An aggregator, the ticks it closed and the connections that fed it: each
 * holds its books and samples them for the aggregator, as a connection
 * actor does.
 */
interface Venues {
  agg: Aggregator;
  ticks: { ts: number; cols: ColumnInit[] }[];
  conns: Map<string, BookOwner>;
}

const CFG = AggregatorConfig.parse({ range: RANGE, quoteAliases: aliases });

/** A fresh aggregator with the scenarios' range and aliases. */
function venues(): Venues {
  const ticks: Venues["ticks"] = [];
  const agg = new Aggregator(CFG, {
    onTick: (ts, cols) => ticks.push({ ts, cols }),
  });
  return { agg, ticks, conns: new Map() };
}

/**
 * Loads one book into connection `conn:<exchange>`'s books, as a snapshot
 * would, received just before {@link TICK}.
 */
function feed(
  v: Venues,
  exchange: string,
  book: BookView,
  options: FeedOptions = {},
): void {
  const f = options.factor ?? 1;
  const keep = options.keep ?? (() => true);
  const conn = `conn:${exchange}`;
  let o = v.conns.get(conn);
  if (!o) v.conns.set(conn, o = new BookOwner(exchange, CFG));
  const ref = {
    exchangeSymbol: book.exchangeSymbol,
    symbol: book.symbol,
    market: book.market,
  };
  o.record(ref, Kind.Clear, 0, 0, TICK - 1);
  for (const [p, q] of book.bids) {
    if (keep("bid", p)) o.record(ref, Kind.Bid, p * f, q, TICK - 1);
  }
  for (const [p, q] of book.asks) {
    if (keep("ask", p)) o.record(ref, Kind.Ask, p * f, q, TICK - 1);
  }
  // Linked, with its clock: the tick waits for it.
  o.send(v.agg, conn, TICK - 1);
}

/**
 * Moves every feeding connection's clock to {@link TICK} (each samples its
 * books there), which closes the tick; returns its columns through the
 * consolidator, decoded.
 */
function tick(v: Venues): Column[] {
  for (const [conn, o] of v.conns) o.send(v.agg, conn, TICK);
  assert.deepEqual(v.ticks.map((t) => t.ts), [TICK], "one tick closed");
  const batch = encodeColumns(TICK, v.ticks[0].cols, { range: RANGE });
  return decodeColumns(consolidate(batch, { outlierThreshold: THRESHOLD }));
}

/** Asserts a column spans at most `range` around `mid`, give or take a bucket. */
function assertWithin(c: Column, mid: number, what: string): void {
  const bs = c.bucketSize;
  assert.ok(
    c.lo >= bucketOf(mid * (1 - RANGE), bs) &&
      c.lo + c.n - 1 <= bucketOf(mid * (1 + RANGE), bs),
    `${what}: buckets ${c.lo}..${c.lo + c.n - 1} outside ±${RANGE} of ${mid}`,
  );
}

Deno.test("consolidation: an outlier venue is excluded and the column stays within range of the consensus mid", async () => {
  const real = await books();
  const spot = real.get("okx:BTC-USDT")!;
  const fut = real.get("okx:BTC-USD-220527")!;
  const gate = real.get("gateio:BTC_USDC")!;
  assert.ok(spot && fut && gate, "the captures hold the BTC books");
  // A full-depth book with absurd far asks, as the test's premise says.
  assert.ok(
    gate.asks.at(-1)![0] > 1e7,
    `Gate.io's worst ask ${gate.asks.at(-1)}`,
  );

  const agg = venues();
  feed(agg, "okx", spot);
  feed(agg, "okx", fut);
  feed(agg, "gateio", gate);
  // Injected: OKX spot's real book with every price × 1.5 (50 % off).
  feed(agg, "stale", spot, { factor: 1.5 });
  // Injected: Gate.io's real book with its asks below 1e7 pulled, so its best
  // ask is ≈ 28 855 000 and its own mid ≈ 14.5 M.
  feed(agg, "pulled", gate, { keep: (side, p) => side === "bid" || p > 1e7 });

  const cols = tick(agg);
  const parts = cols.filter((c) => c.exchange !== "consolidated");
  assert.equal(parts.length, 5);

  // Every per-exchange column: within range of its own mid and bounded.
  for (const c of parts) {
    const mid = midPrice(c.bestBid, c.bestAsk);
    assertWithin(c, mid, `${c.exchange} ${c.exchangeSymbol}`);
    assert.ok(
      c.n <= 2 * RANGE * MAX_MID_BUCKETS + 1,
      `${c.exchange} ${c.exchangeSymbol}: ${c.n} buckets`,
    );
  }
  const pulled = parts.find((c) => c.exchange === "pulled")!;
  const farAsk = gate.asks.find(([p]) => p > 1e7)![0];
  assert.ok(farAsk > 2.8e7 && farAsk < 2.9e7, `${farAsk}`);
  assert.equal(pulled.bestAsk, farAsk);
  // 145 000 buckets (4.6 MB) around its 14.5 M mid before the cap.
  assert.ok(pulled.n * 32 <= 330_000, `${pulled.n} buckets`);

  const total = cols.find((c) => c.exchange === "consolidated")!;
  const info = total.consolidation!;
  assert.ok(info, "the consolidated column carries its consolidation metadata");
  // The consensus is OKX spot's own mid: weights (BTC within ±2 % of each
  // venue's mid) put half of the total at or below it.
  const spotMid = (spot.bids[0][0] + spot.asks[0][0]) / 2;
  assert.equal(info.mid, spotMid);
  assert.deepEqual(total.parts, ["okx", "okx"]);
  // Bounded: at most 2 · range · consensus / bucket + 1 buckets (≈ 10 KB),
  // not the union reaching the pulled venue's 15 M (1.5 M buckets, 46 MiB).
  assertWithin(total, info.mid, "consolidated");
  assert.ok(
    total.n <= 2 * RANGE * info.mid / BTC_BUCKET + 1,
    `${total.n} buckets`,
  );
  assert.ok(total.n * 4 * 8 <= 10_000, `${total.n * 32} bytes`);

  // Excluded and flagged, with their mids and deviations.
  const ex = new Map(info.excluded.map((x) => [x.exchange, x]));
  assert.deepEqual([...ex.keys()].sort(), ["gateio", "pulled", "stale"]);
  const stale = ex.get("stale")!;
  assert.equal(stale.exchangeSymbol, "BTC-USDT");
  assert.ok(Math.abs(stale.mid - 1.5 * spotMid) < 1e-6, `${stale.mid}`);
  assert.ok(Math.abs(stale.deviation - 0.5) < 1e-9, `${stale.deviation}`);
  assert.match(stale.reason, /50\.00% above the consensus mid 30236\.15/);
  const gx = ex.get("gateio")!;
  assert.equal(gx.mid, (gate.bids[0][0] + gate.asks[0][0]) / 2);
  assert.ok(gx.deviation > 0.8 && gx.deviation < 0.81, `${gx.deviation}`);
  assert.ok(ex.get("pulled")!.deviation > 400);
  assert.equal(ex.get("pulled")!.weight, 0);

  // The BBO is OKX spot's, not crossed by the stale venue's bid 50 % above.
  assert.equal(total.bestBid, spot.bids[0][0]);
  assert.equal(total.bestAsk, spot.asks[0][0]);
  assert.equal(info.crossed, false);
  assert.equal(info.cross, null);

  // Conservation: inside its range, the column is exactly OKX spot plus
  // futures; nothing of an excluded venue.
  const okx = parts.filter((c) => c.exchange === "okx");
  let bids = 0;
  for (let i = 0; i < total.n; i++) {
    let want = 0;
    for (const c of okx) {
      const k = total.lo + i - c.lo;
      if (k >= 0 && k < c.n) want += c.bids[k];
    }
    assert.ok(Math.abs(total.bids[i] - want) <= 1e-9 * Math.max(1, want));
    bids += total.bids[i];
  }
  assert.ok(bids > 10, `${bids} BTC bid in the consolidated column`);
});

Deno.test("consolidation: a genuine small cross between two venues is reported, not fixed", async () => {
  const real = await books();
  const spot = real.get("okx:BTC-USDT")!;
  const fut = real.get("okx:BTC-USD-220527")!;
  const agg = venues();
  feed(agg, "okx", spot);
  // Injected: OKX futures' real book with every price × 1.0005 (+0.05 %):
  // its best bid 30244.5 is above OKX spot's best ask 30236.2.
  feed(agg, "okx-plus", fut, { factor: 1.0005 });
  const cols = tick(agg);
  const total = cols.find((c) => c.exchange === "consolidated")!;
  const info = total.consolidation!;
  assert.ok(info, "the consolidated column carries its consolidation metadata");
  assert.deepEqual(info.excluded, [], "both venues agree with the consensus");
  assert.deepEqual(total.parts, ["okx", "okx-plus"]);
  const bid = fut.bids[0][0] * 1.0005;
  const ask = spot.asks[0][0];
  assert.ok(bid > ask);
  assert.equal(info.crossed, true);
  assert.deepEqual(info.cross, {
    bid: {
      exchange: "okx-plus",
      exchangeSymbol: fut.exchangeSymbol,
      price: bid,
    },
    ask: { exchange: "okx", exchangeSymbol: spot.exchangeSymbol, price: ask },
  });
  // The BBO stays crossed: bid above ask, as the venues quote it.
  assert.equal(total.bestBid, bid);
  assert.equal(total.bestAsk, ask);
});

/** Reads SSE `column` events until `done` says so or the deadline passes. */
async function readColumns(
  res: Response,
  done: (c: ColumnPayload) => boolean,
  ms: number,
): Promise<ColumnPayload[]> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const out: ColumnPayload[] = [];
  let text = "";
  const deadline = Date.now() + ms;
  try {
    while (Date.now() < deadline && !(out.length && done(out.at(-1)!))) {
      const r = await Promise.race([
        reader.read(),
        new Promise<null>((ok) => setTimeout(() => ok(null), 500)),
      ]);
      if (r === null) continue;
      if (r.done) break;
      text += r.value;
      let end;
      while ((end = text.indexOf("\n\n")) >= 0) {
        const m = text.slice(0, end).match(/^event: column\ndata: (.*)$/m);
        if (m) out.push(JSON.parse(m[1]));
        text = text.slice(end + 2);
      }
    }
  } finally {
    await reader.cancel();
  }
  return out;
}

Deno.test("consolidation: a stale venue is flagged in /api/v1/exchanges and the heatmap stream of a replay", async () => {
  const replay = await Replay.start([...files("OKX"), ...files("BYBIT")], {
    speed: "max",
    tickMs: 100,
    quoteAliases: aliases,
    supervisor: quiet,
    align: true,
  });
  const app = createApp(replay.coby);
  // The last tick ends at or before the later of the two recordings' ends,
  // Bybit's shifted to start with OKX's.
  const caps = await Promise.all(
    ["OKX", "BYBIT"].map((p) => readCapture(files(p))),
  );
  const opens = caps.map((c) => c.records.find((r) => r.kind === "open")!.ts);
  const base = Math.max(...opens);
  const end = Math.max(
    ...caps.map((c, i) => c.records.at(-1)!.ts + base - opens[i]),
  );
  const lastTick = Math.floor(end / 100) * 100;
  try {
    await replay.finished();

    // Exchanges: Bybit excluded now (BTC-USD and UNI-USD), since a tick of
    // the replay; OKX, the consensus, not.
    type Status = {
      exchange: string;
      consolidation: {
        excluded: boolean;
        since: number | null;
        symbols: {
          symbol: string;
          exchangeSymbol: string;
          since: number;
          ts: number;
          mid: number;
          consensusMid: number;
          deviation: number;
          reason: string;
        }[];
      };
    };
    let exchanges: Status[] = [];
    // The recording that ends first holds the last ticks back for the
    // aggregator's stall limit (5 s).
    const deadline = Date.now() + 20_000;
    for (;;) {
      const res = await app.request("/api/v1/exchanges");
      assert.equal(res.status, 200);
      exchanges = (await res.json()).exchanges;
      const bybit = exchanges.find((e) => e.exchange === "bybit");
      const btc = bybit?.consolidation?.symbols.find((s) =>
        s.symbol === "BTC-USD"
      );
      if (btc && btc.ts === lastTick) break;
      assert.ok(Date.now() < deadline, JSON.stringify(exchanges));
      await new Promise((r) => setTimeout(r, 100));
    }
    const bybit = exchanges.find((e) => e.exchange === "bybit")!;
    const okx = exchanges.find((e) => e.exchange === "okx")!;
    assert.equal(okx.consolidation.excluded, false);
    assert.deepEqual(okx.consolidation.symbols, []);
    assert.equal(bybit.consolidation.excluded, true);
    assert.deepEqual(
      bybit.consolidation.symbols.map((s) => `${s.symbol} ${s.exchangeSymbol}`),
      ["BTC-USD BTCUSD", "UNI-USD UNIUSDT"],
    );
    const btc = bybit.consolidation.symbols[0];
    assert.ok(btc.since <= btc.ts, `${btc.since}`);
    assert.equal(
      bybit.consolidation.since,
      Math.min(...bybit.consolidation.symbols.map((s) => s.since)),
    );
    assert.equal(btc.mid, (60622.5 + 60623) / 2);
    assert.equal(btc.consensusMid, (30236.1 + 30236.2) / 2);
    assert.ok(
      Math.abs(btc.deviation - (btc.mid / btc.consensusMid - 1)) < 1e-12,
    );
    assert.match(btc.reason, /above the consensus mid 30236\.15/);

    // The heatmap stream: the column of the last tick carries the exclusion, spans only the range around the consensus, and its BBO is
    // OKX spot's (Bybit's bid 60622.5 used to cross it by 100 %).
    const res = await app.request("/api/v1/heatmap/stream?symbol=BTC-USD");
    assert.equal(res.status, 200);
    const cols = await readColumns(res, (c) => c.ts === lastTick, 10_000);
    const col = cols.at(-1)!;
    assert.ok(col && col.ts === lastTick, "no column of the last tick");
    const info = col.consolidation!;
    assert.equal(info.mid, (30236.1 + 30236.2) / 2);
    assert.deepEqual(info.excluded.map((x) => x.exchange), ["bybit"]);
    assert.equal(info.excluded[0].exchangeSymbol, "BTCUSD");
    assert.ok(info.excluded[0].deviation > 1, `${info.excluded[0].deviation}`);
    assert.equal(info.crossed, false);
    assert.deepEqual(col.exchanges, ["okx", "okx"]);
    assert.equal(col.bestBid, 30236.1);
    assert.equal(col.bestAsk, 30236.2);
    assert.ok(
      col.bids.length <= 2 * RANGE * info.mid / BTC_BUCKET + 1,
      `${col.bids.length} buckets`,
    );
    assert.ok(col.lo * BTC_BUCKET >= info.mid * (1 - RANGE) - BTC_BUCKET);
    assert.ok(
      (col.lo + col.bids.length) * BTC_BUCKET <=
        info.mid * (1 + RANGE) + BTC_BUCKET,
    );
  } finally {
    await replay.stop();
  }
});
