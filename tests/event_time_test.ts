/**
 * Event time first: heatmap ticks follow the event clock, never the wall
 * clock. A capture replayed at 1×, 10× and full speed gives the same columns
 * with the same timestamps (the recording's own times), and the aggregator's
 * watermark closes a tick only when every input has passed it.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  Aggregator,
  AggregatorConfig,
  MAX_TICKS_PER_JUMP,
} from "../actors/market/aggregate.ts";
import { Kind } from "../actors/market/batch.ts";
import { type ColumnInit, decodeColumns } from "../actors/market/heatmap.ts";
import { readCapture } from "../actors/capture/capture.ts";
import { Replay } from "../actors/system/capture_replay.ts";
import { BookOwner } from "./_owner.ts";
import { captureFiles } from "./_replay.ts";

const TICK_MS = 250;
/** Recorded time compared after the capture's WebSocket opens, ms. */
const WINDOW_MS = 8000;

/** A column as compared between runs: plain numbers and arrays. */
interface Seen {
  ts: number;
  exchange: string;
  exchangeSymbol: string;
  symbol: string;
  bucketSize: number;
  lo: number;
  bestBid: number;
  bestAsk: number;
  bids: number[];
  asks: number[];
  buys: number[];
  sells: number[];
  consolidation: unknown;
}

/**
 * Replays the BINANCE capture at `speed` with {@link TICK_MS} ticks and
 * returns every column (per exchange and consolidated) of the ticks up to
 * `end`, sorted; stops once a later tick arrives.
 */
async function columnsOf(speed: number | "max", end: number): Promise<Seen[]> {
  const replay = await Replay.start(captureFiles("BINANCE"), {
    speed,
    tickMs: TICK_MS,
    supervisor: { onLog: () => {} },
  });
  const seen: Seen[] = [];
  const past = Promise.withResolvers<void>();
  const hub = replay.coby.hub;
  const push = hub.push.bind(hub);
  hub.push = (b) => {
    if (b.ts > end) past.resolve();
    else {
      for (const c of decodeColumns(b)) {
        seen.push({
          ts: c.ts,
          exchange: c.exchange,
          exchangeSymbol: c.exchangeSymbol,
          symbol: c.symbol,
          bucketSize: c.bucketSize,
          lo: c.lo,
          bestBid: c.bestBid,
          bestAsk: c.bestAsk,
          bids: Array.from(c.bids),
          asks: Array.from(c.asks),
          buys: Array.from(c.buys),
          sells: Array.from(c.sells),
          consolidation: c.consolidation ?? null,
        });
      }
    }
    push(b);
  };
  try {
    await Promise.race([past.promise, replay.finished()]);
  } finally {
    await replay.stop();
  }
  return seen.sort((a, b) =>
    a.ts - b.ts || a.exchange.localeCompare(b.exchange) ||
    a.exchangeSymbol.localeCompare(b.exchangeSymbol)
  );
}

Deno.test("event time: a capture replayed at 1×, 10× and max gives the same columns at the recorded times", async () => {
  const cap = await readCapture(captureFiles("BINANCE"));
  const first = cap.records[0].ts;
  const last = cap.records.at(-1)!.ts;
  const open = cap.records.find((r) => r.kind === "open")!.ts;
  const end = open + WINDOW_MS;

  const max = await columnsOf("max", end);
  const x10 = await columnsOf(10, end);
  const x1 = await columnsOf(1, end);

  // Something to compare: several books over many ticks, with trades.
  const books = new Set(
    max.filter((c) => c.exchange === "binance").map((c) => c.exchangeSymbol),
  );
  assert.ok(books.size >= 3, `books with columns: ${[...books]}`);
  const ticks = new Set(max.map((c) => c.ts));
  assert.ok(ticks.size >= 10, `${ticks.size} ticks with columns`);
  assert.ok(
    max.some((c) => c.exchange === "consolidated"),
    "consolidated columns",
  );

  // Stamped on the recording's clock, on the tick grid, never today's time.
  for (const c of max) {
    assert.ok(c.ts > first && c.ts <= last + TICK_MS, `${c.ts} outside`);
    assert.equal(c.ts % TICK_MS, 0);
  }
  assert.ok(Math.max(...max.map((c) => c.ts)) <= end);

  assert.deepEqual(x10, max, "10× and max differ");
  assert.deepEqual(x1, max, "1× and max differ");
});

/** The one symbol of the watermark scenarios. */
const REF = {
  exchangeSymbol: "BTCUSDT",
  symbol: "BTC-USDT",
  market: "spot",
} as const;

/**
 * An aggregator with 1 s ticks, a fake wall clock and its closed ticks, and
 * `send(exchange, clock, records)`: what connection `conn:<exchange>` sends
 * it after applying the records (one symbol's, each at its receive time) to
 * its books: the samples of the tick ends crossed, then its trades with the
 * clock. `restart(exchange)` gives that connection fresh books.
 */
function aggregator(stallMs = 5000, inputs: string[] = []) {
  const ticks: { ts: number; cols: ColumnInit[] }[] = [];
  const wall = { now: 0 };
  const cfg = AggregatorConfig.parse({ tickMs: 1000, stallMs, inputs });
  const agg = new Aggregator(cfg, {
    onTick: (ts, cols) => ticks.push({ ts, cols }),
    now: () => wall.now,
  });
  const owners = new Map<string, BookOwner>();
  const owner = (exchange: string) => {
    let o = owners.get(exchange);
    if (!o) owners.set(exchange, o = new BookOwner(exchange, cfg));
    return o;
  };
  const send = (
    exchange: string,
    clock: number,
    records: [kind: number, price: number, size: number, local: number][] = [],
  ) => {
    const o = owner(exchange);
    for (const [kind, price, size, local] of records) {
      o.record(REF, kind, price, size, local);
    }
    o.send(agg, `conn:${exchange}`, clock);
  };
  const restart = (exchange: string) => owner(exchange).restart();
  return { agg, ticks, wall, send, restart };
}

const T = 1_700_000_000_000;

Deno.test("watermark: no tick closes until every input has passed it; records past the tick wait", () => {
  const { agg, ticks, send } = aggregator();
  agg.link("conn:a");
  agg.link("conn:b");
  // a: a book at T + 100, then a better bid at T + 1500 (the next tick).
  send("a", T + 1600, [
    [Kind.Bid, 100, 1, T + 100],
    [Kind.Ask, 101, 2, T + 100],
    [Kind.Bid, 100.5, 3, T + 1500],
  ]);
  assert.equal(ticks.length, 0, "b has not reported");
  send("b", T + 900);
  assert.equal(ticks.length, 0, "b is before the tick's end");
  send("b", T + 1000);
  assert.deepEqual(ticks.map((t) => t.ts), [T + 1000]);
  // The book at T + 1000: the bid of T + 1500 is not in it.
  const [col] = ticks[0].cols;
  assert.equal(col.bestBid, 100);
  assert.equal(col.bestAsk, 101);
  assert.equal(col.ts, T + 1000);
  // b moves past two more ticks; a holds the second (its clock is T + 1600).
  send("b", T + 3500);
  assert.deepEqual(ticks.map((t) => t.ts), [T + 1000]);
  send("a", T + 3000);
  assert.deepEqual(ticks.map((t) => t.ts), [T + 1000, T + 2000, T + 3000]);
  assert.equal(ticks[1].cols[0].bestBid, 100.5);
  assert.equal(agg.counters.late, 0);
});

Deno.test("watermark: empty batches advance the clock; trades count in the tick they were received in", () => {
  const { ticks, send } = aggregator();
  send("a", T + 10, [[Kind.Bid, 100, 1, T + 10], [
    Kind.Ask,
    101,
    1,
    T + 10,
  ]]);
  send("a", T + 1000); // silent feed, clock only
  assert.deepEqual(ticks.map((t) => t.ts), [T + 1000]);
  // The bucket size is fixed at the first sample: trades count from then on.
  send("a", T + 2300, [
    [Kind.Buy, 100.5, 0.25, T + 1200],
    [Kind.Sell, 100.5, 0.5, T + 2200],
  ]);
  assert.deepEqual(ticks.map((t) => t.ts), [T + 1000, T + 2000]);
  const sum = (a: Float64Array) => a.reduce((s, x) => s + x, 0);
  assert.equal(sum(ticks[1].cols[0].buys), 0.25);
  assert.equal(sum(ticks[1].cols[0].sells), 0);
  send("a", T + 3000);
  assert.equal(sum(ticks[2].cols[0].buys), 0);
  assert.equal(sum(ticks[2].cols[0].sells), 0.5);
});

Deno.test("watermark: an input behind for the stall limit stops holding ticks; its records then come late", () => {
  const { agg, ticks, wall, send } = aggregator(5000);
  agg.link("conn:a");
  agg.link("conn:slow");
  agg.link("conn:silent"); // never reports
  send("a", T + 500);
  send("slow", T + 500);
  agg.check();
  assert.equal(ticks.length, 0, "silent holds the first tick within its limit");
  wall.now = 5001;
  agg.check();
  send("a", T + 2500);
  assert.equal(ticks.length, 0, "slow holds the ticks");
  agg.check(); // blocked from now
  wall.now = 10_000;
  agg.check();
  assert.equal(ticks.length, 0, "within the stall limit");
  wall.now = 10_002;
  agg.check();
  assert.deepEqual(ticks.map((t) => t.ts), [T + 1000, T + 2000]);
  // slow's book of T + 600, sampled at T + 1000 for a closed tick, stands
  // for its books in the open one.
  send("slow", T + 1100, [[Kind.Bid, 50, 1, T + 600], [
    Kind.Ask,
    51,
    1,
    T + 600,
  ]]);
  assert.equal(agg.counters.late, 1);
  send("a", T + 3000);
  assert.deepEqual(ticks.map((t) => t.ts), [T + 1000, T + 2000, T + 3000]);
  assert.equal(ticks[2].cols[0].bestBid, 50);
  // Caught up with the open tick, slow holds ticks again.
  send("slow", T + 4000);
  send("a", T + 5500);
  assert.deepEqual(ticks.map((t) => t.ts).slice(3), [T + 4000]);
  send("slow", T + 5000);
  assert.deepEqual(ticks.map((t) => t.ts).slice(3), [T + 4000, T + 5000]);
});

Deno.test("watermark: a jump of the clock emits each tick up to the cap and skips the older ones", () => {
  const { agg, ticks, send } = aggregator();
  send("a", T + 10, [[Kind.Bid, 100, 1, T + 10], [
    Kind.Ask,
    101,
    1,
    T + 10,
  ]]);
  send("a", T + 5000);
  assert.deepEqual(ticks.map((t) => t.ts), [
    T + 1000,
    T + 2000,
    T + 3000,
    T + 4000,
    T + 5000,
  ]);
  const far = T + 5000 + 3000 * 1000;
  send("a", far);
  assert.equal(ticks.length, 5 + MAX_TICKS_PER_JUMP + 1);
  assert.equal(agg.counters.skippedTicks, 3000 - MAX_TICKS_PER_JUMP - 1);
  assert.equal(ticks.at(-1)!.ts, far);
  assert.equal(ticks[5].ts, far - MAX_TICKS_PER_JUMP * 1000);
  assert.equal(ticks.at(-1)!.cols[0].bestBid, 100);
});

Deno.test("watermark: a relinked input starts over: its book columns are forgotten and it holds ticks until it reports", () => {
  const { agg, ticks, send, restart } = aggregator();
  agg.link("conn:a");
  agg.link("conn:b");
  send("a", T + 10, [[Kind.Bid, 100, 1, T + 10], [
    Kind.Ask,
    101,
    1,
    T + 10,
  ]]);
  send("b", T + 1000);
  send("a", T + 1000);
  assert.equal(ticks.length, 1);
  assert.equal(ticks[0].cols.length, 1);
  restart("a");
  agg.link("conn:a"); // restarted
  send("b", T + 2000);
  assert.equal(ticks.length, 1, "the new a has not reported");
  send("a", T + 2000);
  assert.deepEqual(ticks.map((t) => t.ts), [T + 1000, T + 2000]);
  assert.deepEqual(
    ticks[1].cols,
    [],
    "its book is gone until it sends it again",
  );
});

Deno.test("watermark: an expected input that links late still sets the first tick", () => {
  const { agg, ticks, wall, send } = aggregator(5000, [
    "conn:late",
    "conn:early",
  ]);
  agg.link("conn:early");
  // early runs a year ahead before late has even linked.
  send("early", T + 365 * 86_400_000, [[Kind.Bid, 100, 1, T + 500]]);
  assert.equal(ticks.length, 0);
  wall.now = 1000;
  agg.link("conn:late");
  send("late", T + 1000, [[Kind.Bid, 50, 1, T + 200], [
    Kind.Ask,
    51,
    1,
    T + 200,
  ]]);
  assert.deepEqual(ticks.map((t) => t.ts), [T + 1000]);
  assert.deepEqual(
    ticks[0].cols.map((c) => [c.exchange, c.bestBid]),
    [["early", 100], ["late", 50]],
  );
  assert.equal(agg.counters.late, 0);
});
