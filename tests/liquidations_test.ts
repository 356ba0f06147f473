/**
 * Liquidations from the venue's frame to the heatmap column: real Binance
 * futures `forceOrder` frames (tardis-node's input, a forced BUY, and
 * nautilus_trader's, a forced SELL) go through the adapter and the book
 * keeper into a batch, the aggregator puts them into the tick's column by
 * bucket (longs against shorts), consolidation sums them over venues, and
 * the next tick starts without them.
 *
 * The captures hold no liquidations and these frames are years apart in
 * price, so the book each tick is sampled around is two levels set next to
 * the liquidation's price, sampled at the tick's end by the connection's
 * sampler.
 */

import assert from "node:assert/strict";
import { binanceFuturesAdapter } from "../actors/adapters/binance_futures.ts";
import { BookKeeper } from "../actors/connection/book_keeper.ts";
import { newCounters } from "../actors/connection/stats.ts";
import { Aggregator, AggregatorConfig } from "../actors/market/aggregate.ts";
import { BatchBuilder } from "../actors/market/batch.ts";
import { OrderBook } from "../actors/market/book.ts";
import { mergeColumns } from "../actors/market/consolidate.ts";
import type { Instrument, Liquidation } from "../actors/market/events.ts";
import { bucketOf, type ColumnInit } from "../actors/market/heatmap.ts";
import { BookSampler, BucketSizes } from "../actors/market/sampler.ts";

const btc: Instrument = {
  exchange: "binance-futures",
  exchangeSymbol: "BTCUSDT",
  symbol: "BTC-USDT",
  base: "BTC",
  quote: "USDT",
  market: "perpetual",
  contractSize: 1,
};

/** The forced BUY from tardis-node's inputs, the forced SELL from nautilus_trader's. */
async function forceOrders(): Promise<string[]> {
  const tardis = (await Deno.readTextFile(
    "../shared/data/samples/tardis-node-inputs/binance-futures.ndjson",
  )).split("\n").find((l) => l.includes("@forceOrder"))!;
  const nautilus = await Deno.readTextFile(
    "../shared/data/samples/nautilus_trader/crates/adapters/binance/test_data/futures/market_data_json/liquidation_stream.json",
  );
  return [tardis, nautilus];
}

Deno.test("liquidations: forced buys and sells reach the tick's column by bucket, longs against shorts, and consolidate", async () => {
  const parser = binanceFuturesAdapter.parser(new Map([["BTCUSDT", btc]]));
  const batch = new BatchBuilder(btc.exchange);
  const counters = newCounters();
  const keeper = new BookKeeper({
    exchange: btc.exchange,
    spec: binanceFuturesAdapter.book,
    books: false,
    batch,
    counters,
    hooks: {
      needSnapshot: () => {},
      send: () => true,
      reconnect: () => {},
      warn: (msg) => assert.fail(msg),
    },
  });
  keeper.follow([btc], 0);
  const columns: ColumnInit[][] = [];
  const cfg = AggregatorConfig.parse({ buckets: { BTC: 1 } });
  const agg = new Aggregator(cfg, {
    onTick: (_ts, cols) => columns.push(cols),
  });
  // The connection's book, sampled at each tick end as the connection does.
  const book = new OrderBook();
  const owned = [{ ref: btc, book }];
  const sampler = new BookSampler(btc.exchange, cfg, new BucketSizes(cfg));
  const send = () => {
    for (const s of sampler.take()) agg.onBooks(s, "conn:binance-futures");
    agg.onBatch(batch.take(), "conn:binance-futures");
  };
  const liquidations: Liquidation[] = [];
  // Tick k spans [k·1000, (k+1)·1000): its book is one level either side of
  // its liquidation, received in its middle.
  for (const [k, frame] of (await forceOrders()).entries()) {
    sampler.cross(k * 1000 + 500, owned);
    batch.clock = k * 1000 + 500;
    const [ev] = parser.parse(frame, batch.clock);
    assert.equal(ev.type, "liquidation");
    liquidations.push(ev as Liquidation);
    const p = (ev as Liquidation).price;
    book.clear();
    book.bids.set(p - 2, 1);
    book.asks.set(p + 2, 1);
    keeper.onEvent(ev);
    send();
  }
  sampler.cross(2000, owned);
  batch.clock = 2000;
  send();
  assert.equal(counters.liquidations, 2);
  assert.equal(columns.length, 2);

  const [buy, sell] = liquidations;
  assert.deepEqual([buy.side, sell.side], ["buy", "sell"]);
  const [[first], [second]] = columns;
  // A forced buy liquidates a short; the tick after it holds only its own.
  assert.deepEqual(first.liquidations, [
    { bucket: bucketOf(buy.price, 1), longs: 0, shorts: buy.size },
  ]);
  assert.deepEqual(second.liquidations, [
    { bucket: bucketOf(sell.price, 1), longs: sell.size, shorts: 0 },
  ]);
  // Inside the column's buckets.
  const l = second.liquidations![0];
  assert.ok(l.bucket >= second.lo && l.bucket < second.lo + second.n);

  // Consolidation sums a bucket over the venues it includes.
  const other: ColumnInit = { ...second, exchange: "bybit" };
  const merged = mergeColumns([second, other]);
  assert.deepEqual(merged.liquidations, [
    { bucket: l.bucket, longs: 2 * sell.size, shorts: 0 },
  ]);
  // A column without liquidations carries none.
  const quiet: ColumnInit = { ...second, liquidations: undefined };
  assert.equal(mergeColumns([quiet]).liquidations, undefined);
});
