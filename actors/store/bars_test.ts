import assert from "node:assert/strict";
import { BarBuilder } from "./bars.ts";
import { openCapture } from "./_capture_feed_test.ts";
import {
  type CopyRow,
  readCopyPart,
  readNumber,
  readTime,
} from "./_copytext.ts";
import { BatchBuilder, type EventBatch, Kind } from "../market/batch.ts";
import type { MarketEvent, Trade } from "../market/events.ts";
import type { CopyPart } from "./db.ts";

const ALIASES = { USDT: "USD" };

/** A bar as the test aggregates it, straight from trade events. */
interface Expected {
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  buy: number;
  sell: number;
  trades: number;
}

/** The consolidation key, written out here: the quote through the aliases. */
function keyOf(symbol: string): string {
  const [base, quote] = symbol.split("-");
  return `${base}-${ALIASES[quote as keyof typeof ALIASES] ?? quote}`;
}

/**
 * Independent 1 s bars from trade events in the order the parser returned
 * them, per exchange × exchange symbol and per consolidated key.
 */
function aggregate(trades: readonly Trade[]): Map<string, Expected> {
  const out = new Map<string, Expected>();
  const put = (k: string, t: Trade) => {
    const b = out.get(k);
    if (!b) {
      out.set(k, {
        open: t.price,
        high: t.price,
        low: t.price,
        close: t.price,
        volume: t.size,
        buy: t.side === "buy" ? t.size : 0,
        sell: t.side === "sell" ? t.size : 0,
        trades: 1,
      });
      return;
    }
    b.high = Math.max(b.high, t.price);
    b.low = Math.min(b.low, t.price);
    b.close = t.price;
    b.volume += t.size;
    if (t.side === "buy") b.buy += t.size;
    else b.sell += t.size;
    b.trades++;
  };
  for (const t of trades) {
    const sec = Math.floor(t.localTs / 1000) * 1000;
    put(`${t.exchange}\t${t.exchangeSymbol}\t${sec}`, t);
    put(`consolidated\t${keyOf(t.symbol)}\t${sec}`, t);
  }
  return out;
}

/** The bars of `ohlcv_1s` parts, keyed like {@link aggregate}. */
function barsOf(parts: readonly CopyPart[]): Map<string, Expected> {
  const out = new Map<string, Expected>();
  for (const part of parts) {
    assert.equal(part.table, "ohlcv_1s");
    for (const r of readCopyPart(part)) {
      const k = `${r.exchange}\t${r.symbol}\t${readTime(r.ts)}`;
      assert.ok(!out.has(k), `bar written twice: ${k}`);
      out.set(k, bar(r));
    }
  }
  return out;
}

/** A parsed `ohlcv_1s` row's values. */
function bar(r: CopyRow): Expected {
  const n = (f: string | null) => readNumber(f)!;
  return {
    open: n(r.open),
    high: n(r.high),
    low: n(r.low),
    close: n(r.close),
    volume: n(r.volume),
    buy: n(r.buy_volume),
    sell: n(r.sell_volume),
    trades: n(r.trades),
  };
}

/**
 * Replays a capture into batches (one per `every` frames), with the trades
 * its parser returned for followed symbols: all, and per batch.
 */
async function replay(prefix: string, every: number) {
  const feed = await openCapture(prefix);
  const followed = new Set(feed.instruments.map((i) => i.exchangeSymbol));
  const batches: EventBatch[] = [];
  const perBatch: Trade[][] = [[]];
  let frames = 0;
  feed.run((_ts, events: readonly MarketEvent[]) => {
    for (const ev of events) {
      if (ev.type === "trade" && followed.has(ev.exchangeSymbol)) {
        perBatch.at(-1)!.push(ev);
      }
    }
    if (++frames % every === 0) {
      batches.push(feed.batch.take());
      perBatch.push([]);
    }
  });
  batches.push(feed.batch.take());
  return { batches, perBatch, trades: perBatch.flat() };
}

for (const prefix of ["OKX", "BYBIT", "COINBASE", "BINANCE_FUTURES"]) {
  Deno.test(`bars: ${prefix} capture, 1 s OHLCV per symbol and consolidated equals an aggregation of the parsed trades`, async () => {
    const { batches, trades } = await replay(prefix, 25);
    assert.ok(trades.length > 30, `${trades.length} trades`);
    const bars = new BarBuilder({ quoteAliases: ALIASES });
    const parts: CopyPart[] = [];
    for (const b of batches) {
      bars.onBatch(b);
      const part = bars.take(b.clock);
      if (part) parts.push(part);
    }
    const last = bars.take(batches.at(-1)!.clock + 1000);
    if (last) parts.push(last);
    assert.equal(bars.take(Infinity), null);
    assert.ok(
      parts.length > 3,
      `${parts.length} parts: bars leave as seconds close`,
    );
    assert.equal(bars.late, 0);
    assert.equal(bars.rejected.size, 0);
    const expected = aggregate(trades);
    assert.deepEqual(barsOf(parts), expected);
    if (prefix === "OKX") {
      // BTC-USD-220527 (future) and BTC-USDT (spot) are one key with USDT=USD.
      let merged = 0;
      let parts = 0;
      for (const [k, b] of expected) {
        if (k.startsWith("consolidated\tBTC-USD\t")) merged += b.trades;
        else if (/^okx\tBTC-USD(T|-220527)\t/.test(k)) parts += b.trades;
      }
      assert.equal(merged, parts);
      assert.ok(merged > 70);
    }
  });
}

Deno.test("bars: a trade whose second was already taken is late and lands in the earliest open second", async () => {
  const { batches, perBatch, trades } = await replay("BYBIT", 1);
  // Hold back the first batch with trades; take past its second; then send it.
  const held = perBatch.findIndex((t) => t.length > 0);
  const heldTrades = perBatch[held];
  assert.ok(heldTrades.length > 0);
  const bars = new BarBuilder({ quoteAliases: ALIASES });
  const parts: CopyPart[] = [];
  let i = 0;
  const watermark = batches[held].clock + 2500;
  for (; i < batches.length && batches[i].clock <= watermark; i++) {
    if (i !== held) bars.onBatch(batches[i]);
  }
  parts.push(bars.take(watermark)!);
  bars.onBatch(batches[held]);
  assert.equal(bars.late, heldTrades.length);
  for (; i < batches.length; i++) bars.onBatch(batches[i]);
  parts.push(bars.take(Infinity)!);
  const got = barsOf(parts);
  const open = Math.floor(watermark / 1000) * 1000;
  for (const t of heldTrades) {
    assert.ok(got.has(`${t.exchange}\t${t.exchangeSymbol}\t${open}`));
  }
  // Every traded size and count is stored once, per symbol and consolidated.
  const totals = (m: Map<string, Expected>) => {
    const out = new Map<string, [number, number]>();
    for (const [k, b] of m) {
      const s = k.slice(0, k.lastIndexOf("\t"));
      const [v, n] = out.get(s) ?? [0, 0];
      out.set(s, [v + b.volume, n + b.trades]);
    }
    return out;
  };
  const want = totals(aggregate(trades));
  for (const [s, [v, n]] of totals(got)) {
    assert.equal(n, want.get(s)![1], s);
    assert.ok(Math.abs(v - want.get(s)![0]) <= 1e-9 * v, s);
  }
});

Deno.test("bars: liquidations make no bars; an inconsistent bar is counted by reason and not written", () => {
  const b = new BatchBuilder("bybit");
  const ref = {
    exchangeSymbol: "BTCUSD",
    symbol: "BTC-USD",
    market: "perpetual",
  } as const;
  b.clock = 1_618_677_787_100;
  b.push(b.symbol(ref), Kind.LiquidationSell, 61_000, 0.5, 1_618_677_787_000);
  const bars = new BarBuilder();
  bars.onBatch(b.take());
  assert.equal(bars.take(1_618_677_790_000), null);
  b.clock = 1_618_677_791_200;
  b.push(b.symbol(ref), Kind.Buy, 61_000, -0.5, 1_618_677_791_000);
  bars.onBatch(b.take());
  assert.equal(bars.take(1_618_677_792_000), null);
  assert.deepEqual([...bars.rejected], [["bad volume", 2]]);
});
