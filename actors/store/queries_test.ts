import assert from "node:assert/strict";
import type { MarketEvent, Trade } from "../market/events.ts";
import { RequestError } from "../../runtime/protocol.ts";
import { openCapture } from "./_capture_feed_test.ts";
import { withPgliteDb, withPostgresDb, withTimescaleDb } from "./_testing.ts";
import { encodeSizes } from "./sizes.ts";
import {
  byteaField,
  CopyWriter,
  floatArrayField,
  NULL,
  textField,
  timeField,
} from "./copy.ts";
import type { CopyPart, Db } from "./db.ts";
import { ensurePartitions, rollup } from "./maintain.ts";
import {
  type Bar,
  bookAt,
  frame,
  heatmap,
  type HistoryColumn,
  imbalances,
  liquidations,
  ohlcv,
  type Timeframe,
  TIMEFRAME_MS,
  trades,
} from "./queries.ts";
import { EventRows } from "./rows.ts";
import {
  BOOK_COLUMNS,
  HEALTH_COLUMNS,
  HEATMAP_COLUMNS,
  IMBALANCE_COLUMNS,
  OHLCV_COLUMNS,
  TRADE_COLUMNS,
} from "./tables.ts";

/** The day of the hand-written rows: 2026-01-05 UTC. */
const D = Date.UTC(2026, 0, 5);
const SECOND = 1000;
const MINUTE = 60_000;

// ---------------------------------------------------------------------------
// The OKX capture: its books and trades through the writer's rows.

/** The book of the OKX capture's BTC-USDT as the book keeper held it. */
interface Truth {
  at: number;
  bids: [number, number][];
  asks: [number, number][];
}

/** The OKX capture as rows, its parsed BTC-USDT trades and book truths. */
interface OkxData {
  parts: CopyPart[];
  from: number;
  to: number;
  trades: Trade[];
  truths: Truth[];
}

let okxData: Promise<OkxData> | null = null;

/**
 * Replays the OKX capture through the book keeper into `EventRows`, noting
 * the keeper's BTC-USDT book after every 40th frame whose successor is at a
 * later millisecond (so the book at that ms is the one noted).
 */
function okx(): Promise<OkxData> {
  return okxData ??= (async () => {
    const feed = await openCapture("OKX");
    const rows = new EventRows();
    const tradesSeen: Trade[] = [];
    const pending: { at: number; truth: Truth }[] = [];
    const truths: Truth[] = [];
    let from = Infinity;
    let to = -Infinity;
    let frames = 0;
    feed.run(
      (ts, events: readonly MarketEvent[]) => {
        for (const ev of events) {
          if (ev.type === "trade" && ev.exchangeSymbol === "BTC-USDT") {
            tradesSeen.push(ev);
          }
        }
        rows.onBatch(feed.batch.take());
        from = Math.min(from, ts);
        to = Math.max(to, ts);
        const f = feed.keeper.find("BTC-USDT");
        if (++frames % 40 === 0 && f) {
          const v = feed.keeper.view(f, Infinity);
          if (v.state === "synced") {
            pending.push({
              at: Math.floor(ts),
              truth: { at: Math.floor(ts), bids: v.bids, asks: v.asks },
            });
          }
        }
      },
      (ts) => {
        // The noted book holds at its ms only if no frame shares that ms.
        const p = pending.pop();
        if (p && Math.floor(ts) > p.at) truths.push(p.truth);
      },
    );
    const last = pending.pop();
    if (last) truths.push(last.truth);
    assert.equal(rows.rejections.total.size, 0);
    return { parts: rows.take(), from, to, trades: tradesSeen, truths };
  })();
}

// ---------------------------------------------------------------------------
// Hand-written rows on day D, from real OKX trade prices.

/** A 1 s bar as written. */
interface Second {
  ts: number;
  exchange: string;
  symbol: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  buy: number;
  sell: number;
  trades: number;
}

/** One imbalance tick as written. */
interface Tick {
  ts: number;
  bid: number;
  ask: number;
  imbalance: number | null;
}

/** A heatmap row as written. */
interface HeatRow {
  table: string;
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
}

/** A book row of binance BTCUSDT as written. */
interface BookRow {
  table: "book_snapshots" | "book_changes";
  ts: number;
  seq: number;
  bids: number[];
  asks: number[];
}

/** Every hand-written row. */
interface Hand {
  parts: CopyPart[];
  seconds: Second[];
  ticks: Tick[];
  heat: HeatRow[];
  book: BookRow[];
  trades: { ts: number; price: number; size: number; side: string }[];
}

/** Sizes that are multiples of 1/8: sums are exact in any order. */
function eighths(i: number, mod: number): number {
  return ((i * 7919) % mod) / 8;
}

function hand(prices: readonly number[]): Hand {
  // 1 s bars over two hours, for binance BTCUSDT and consolidated BTC-USDT;
  // every 7th second has no trade, so no bar.
  const seconds: Second[] = [];
  for (
    const [exchange, symbol, shift] of [
      ["binance", "BTCUSDT", 0],
      ["consolidated", "BTC-USDT", 3],
    ] as const
  ) {
    for (let s = 0; s < 7200; s++) {
      if (s % 7 === 6) continue;
      const p = (k: number) => prices[(s * 4 + k + shift) % prices.length];
      const o = p(0);
      const c = p(1);
      const buy = eighths(s, 40) + 0.125;
      const sell = eighths(s + 1, 24);
      seconds.push({
        ts: D + s * SECOND,
        exchange,
        symbol,
        open: o,
        high: Math.max(o, c, p(2)),
        low: Math.min(o, c, p(3)),
        close: c,
        volume: buy + sell,
        buy,
        sell,
        trades: 1 + (s % 5),
      });
    }
  }
  const bars = new CopyWriter("ohlcv_1s", OHLCV_COLUMNS);
  for (const b of seconds) {
    bars.row([
      timeField(b.ts),
      textField(b.exchange),
      textField(b.symbol),
      String(b.open),
      String(b.high),
      String(b.low),
      String(b.close),
      String(b.volume),
      String(b.buy),
      String(b.sell),
      String(b.trades),
    ]);
  }

  // Imbalance ticks every 250 ms over three minutes, binance BTCUSDT.
  const ticks: Tick[] = [];
  for (let i = 0; i < 720; i++) {
    ticks.push({
      ts: D + i * 250,
      bid: eighths(i, 80),
      ask: eighths(i + 3, 64),
      imbalance: i % 11 === 0 ? null : (i % 17 - 8) / 8,
    });
  }
  const imb = new CopyWriter("imbalances", IMBALANCE_COLUMNS);
  for (const t of ticks) {
    imb.row([
      timeField(t.ts),
      "binance",
      "BTCUSDT",
      "0.001",
      String(t.bid),
      String(t.ask),
      t.imbalance === null ? NULL : String(t.imbalance),
    ]);
  }

  // Heatmap: a column a second for ten minutes (binance and consolidated),
  // and the 1 m and 5 m rollups of those minutes.
  const heat: HeatRow[] = [];
  const column = (
    table: string,
    ts: number,
    exchange: string,
    i: number,
  ): HeatRow => ({
    table,
    ts,
    exchange,
    exchangeSymbol: exchange === "binance" ? "BTCUSDT" : "BTC-USDT",
    symbol: "BTC-USDT",
    bucketSize: 10,
    lo: 9000 + (i % 3),
    // Some columns have no bid: the stream's mid is then the ask.
    bestBid: i % 13 === 0 ? NaN : prices[i % prices.length],
    bestAsk: prices[i % prices.length] + 0.1,
    bids: [1.23456789 * i, 0, 2.5],
    asks: [0.5, 1e-9 * i, 3],
    // One length for the four arrays: they share the bucket range.
    buys: [0, 0.1, 0],
    sells: [0, 0, 0],
  });
  for (let s = 0; s < 600; s++) {
    heat.push(column("heatmap", D + s * SECOND, "binance", s));
    heat.push(column("heatmap", D + s * SECOND, "consolidated", s));
  }
  for (let m = 0; m < 10; m++) {
    heat.push(column("heatmap_1m", D + m * MINUTE, "binance", m));
    heat.push(column("heatmap_1m", D + m * MINUTE, "consolidated", m));
  }
  for (let m = 0; m < 10; m += 5) {
    heat.push(column("heatmap_5m", D + m * MINUTE, "binance", m));
    heat.push(column("heatmap_5m", D + m * MINUTE, "consolidated", m));
  }
  const heatParts = new Map<string, CopyWriter>();
  for (const h of heat) {
    let w = heatParts.get(h.table);
    if (!w) {
      w = new CopyWriter(h.table, HEATMAP_COLUMNS);
      heatParts.set(h.table, w);
    }
    w.row([
      timeField(h.ts),
      h.exchange,
      h.exchangeSymbol,
      h.symbol,
      h.exchange === "binance" ? "spot" : "mixed",
      String(h.bucketSize),
      String(h.lo),
      h.bestBid === h.bestBid ? String(h.bestBid) : NULL,
      String(h.bestAsk),
      byteaField(encodeSizes([h.bids, h.asks, h.buys, h.sells])),
    ]);
  }

  // The book of binance BTCUSDT: a change before any keyframe, a keyframe,
  // changes sharing its ms and each other's, an empty keyframe (unsynced),
  // and a keyframe that syncs it again.
  const book: BookRow[] = [
    { table: "book_changes", ts: D + 5000, seq: 0, bids: [1, 1], asks: [] },
    {
      table: "book_snapshots",
      ts: D + 10_000,
      seq: 0,
      bids: [100, 1, 99, 2],
      asks: [101, 1, 102, 3],
    },
    {
      table: "book_changes",
      ts: D + 10_000,
      seq: 1,
      bids: [100, 0],
      asks: [101, 5],
    },
    {
      table: "book_changes",
      ts: D + 10_500,
      seq: 0,
      bids: [99.5, 4],
      asks: [],
    },
    {
      table: "book_changes",
      ts: D + 10_500,
      seq: 1,
      bids: [],
      asks: [100.5, 1],
    },
    {
      table: "book_changes",
      ts: D + 10_500,
      seq: 2,
      bids: [99.5, 0.25],
      asks: [],
    },
    {
      table: "book_changes",
      ts: D + 11_000,
      seq: 0,
      bids: [],
      asks: [100.5, 0, 104, 2],
    },
    { table: "book_snapshots", ts: D + 20_000, seq: 0, bids: [], asks: [] },
    {
      table: "book_snapshots",
      ts: D + 25_000,
      seq: 0,
      bids: [98, 1, 97, 1],
      asks: [103, 1],
    },
    {
      table: "book_changes",
      ts: D + 25_000,
      seq: 1,
      bids: [98.5, 2],
      asks: [],
    },
    {
      table: "book_changes",
      ts: D + 61_000,
      seq: 0,
      bids: [98.5, 0],
      asks: [],
    },
  ];
  const snaps = new CopyWriter("book_snapshots", BOOK_COLUMNS);
  const changes = new CopyWriter("book_changes", snaps.columns);
  for (const r of book) {
    (r.table === "book_snapshots" ? snaps : changes).row([
      timeField(r.ts),
      timeField(r.ts - 3),
      "binance",
      "BTCUSDT",
      String(r.seq),
      floatArrayField(r.bids),
      floatArrayField(r.asks),
    ]);
  }

  // Trades of binance BTCUSDT around the frame's instant (D + 60.5 s).
  const tradeList = [
    { ts: D + 29_000, price: prices[0], size: 0.5, side: "buy" },
    { ts: D + 30_500, price: prices[1], size: 0.25, side: "sell" },
    { ts: D + 45_000, price: prices[2], size: 1, side: "buy" },
    { ts: D + 60_500, price: prices[3], size: 2, side: "sell" },
    { ts: D + 60_501, price: prices[4], size: 3, side: "buy" },
  ];
  const tr = new CopyWriter("trades", TRADE_COLUMNS);
  for (const t of tradeList) {
    tr.row([
      timeField(t.ts),
      NULL,
      "binance",
      "BTCUSDT",
      String(t.price),
      String(t.size),
      NULL,
      t.side,
    ]);
  }
  const liq = new CopyWriter("liquidations", tr.columns);
  liq.row([
    timeField(D + 50_000),
    timeField(D + 49_990),
    "binance",
    "BTCUSDT",
    String(prices[5]),
    "0.75",
    "0.75",
    "sell",
  ]);
  // A forced buy (a short liquidated) inside the heatmap columns' buckets.
  liq.row([
    timeField(D + HEAT_LIQUIDATION.ts),
    NULL,
    "binance",
    "BTCUSDT",
    String(HEAT_LIQUIDATION.price),
    String(HEAT_LIQUIDATION.size),
    NULL,
    "buy",
  ]);

  const health = new CopyWriter("health_events", HEALTH_COLUMNS);
  for (
    const [ms, exchange, kind, symbol, detail] of [
      [0, "binance", "connect", null, ""],
      [
        45_000,
        "binance",
        "resync",
        "BTCUSDT",
        "gap: first 1002 > last 1000 + 1",
      ],
      [46_000, "kraken", "resync", "XBT/USD", "checksum"],
      [47_000, "binance", "resync", "ETHUSDT", "gap"],
      [50_000, "binance", "excluded", "BTCUSDT", "mid 90000 is 50.00% above"],
      [52_000, "binance", "disconnect", null, "closed 1006"],
    ] as const
  ) {
    health.row([
      timeField(D + ms),
      exchange,
      `conn:${exchange}`,
      kind,
      symbol === null ? NULL : symbol,
      textField(detail),
    ]);
  }

  const parts = [
    bars.take(),
    imb.take(),
    ...[...heatParts.values()].map((w) => w.take()),
    snaps.take(),
    changes.take(),
    tr.take(),
    liq.take(),
    health.take(),
  ];
  return { parts, seconds, ticks, heat, book, trades: tradeList };
}

// ---------------------------------------------------------------------------
// Independent answers.

/** Bars of `step` from 1 s bars, those closed by `cut` only. */
function aggregate(
  seconds: readonly Second[],
  step: number,
  from: number,
  to: number,
  cut = Infinity,
): Bar[] {
  const out = new Map<string, Bar>();
  const sorted = seconds
    .filter((s) => s.ts + SECOND <= cut)
    .sort((a, b) => a.ts - b.ts);
  for (const s of sorted) {
    const ts = Math.floor(s.ts / step) * step;
    if (ts < from || ts >= to) continue;
    const k = `${ts}\t${s.exchange}`;
    const b = out.get(k);
    if (!b) {
      out.set(k, {
        ts,
        exchange: s.exchange,
        symbol: s.symbol,
        open: s.open,
        high: s.high,
        low: s.low,
        close: s.close,
        volume: s.volume,
        buyVolume: s.buy,
        sellVolume: s.sell,
        trades: s.trades,
      });
      continue;
    }
    b.high = Math.max(b.high, s.high);
    b.low = Math.min(b.low, s.low);
    b.close = s.close;
    b.volume += s.volume;
    b.buyVolume += s.buy;
    b.sellVolume += s.sell;
    b.trades += s.trades;
  }
  return [...out.values()].sort((a, b) =>
    a.ts - b.ts || (a.exchange < b.exchange ? -1 : 1)
  );
}

/** The book at `at` from the rows, applied one level at a time in maps. */
function rebuild(rows: readonly BookRow[], at: number, depth: number) {
  const sorted = rows
    .filter((r) => r.ts <= at)
    .sort((a, b) =>
      a.ts - b.ts || a.seq - b.seq ||
      (a.table === "book_snapshots" ? -1 : 1)
    );
  let bids: Map<number, number> | null = null;
  let asks = new Map<number, number>();
  let synced = false;
  let seq = -1;
  for (const r of sorted) {
    if (r.table === "book_snapshots") {
      bids = new Map();
      asks = new Map();
      synced = r.bids.length > 0 || r.asks.length > 0;
    } else if (!bids) continue;
    for (let i = 0; i < r.bids.length; i += 2) {
      if (r.bids[i + 1] === 0) bids.delete(r.bids[i]);
      else bids.set(r.bids[i], r.bids[i + 1]);
    }
    for (let i = 0; i < r.asks.length; i += 2) {
      if (r.asks[i + 1] === 0) asks.delete(r.asks[i]);
      else asks.set(r.asks[i], r.asks[i + 1]);
    }
    seq = r.seq;
  }
  if (!bids) return null;
  const side = (m: Map<number, number>, desc: boolean) =>
    [...m].sort((a, b) => desc ? b[0] - a[0] : a[0] - b[0]).slice(0, depth);
  return synced
    ? { state: "synced", seq, bids: side(bids, true), asks: side(asks, false) }
    : { state: "unsynced", seq, bids: [], asks: [] };
}

/** A stored column in the stream's shape, computed here. */
/**
 * The liquidation inside the hand-written heatmap's buckets: 2.5 s into the
 * day, in bucket 9001 (every column's `lo` is 9000–9002, bucket size 10).
 */
const HEAT_LIQUIDATION = { ts: 2500, price: 90_015, size: 1.5 };

/** Length of each hand-written heatmap table's interval, ms. */
const HEAT_INTERVAL: Record<string, number> = {
  heatmap: SECOND,
  heatmap_1m: MINUTE,
  heatmap_5m: 5 * MINUTE,
};

function payload(h: HeatRow): HistoryColumn {
  const r = (a: number[]) => a.map((v) => Number(v.toPrecision(6)));
  const bid = h.bestBid === h.bestBid ? h.bestBid : null;
  // A tick column is stamped at its tick's end, a rollup at its start.
  const span = HEAT_INTERVAL[h.table];
  const t0 = h.table === "heatmap" ? h.ts - span : h.ts;
  const at = D + HEAT_LIQUIDATION.ts;
  const bucket = Math.floor(HEAT_LIQUIDATION.price / h.bucketSize);
  const holds = at >= t0 && at < t0 + span && bucket >= h.lo &&
    bucket < h.lo + h.bids.length;
  return {
    ts: h.ts,
    symbol: h.symbol,
    bucketSize: h.bucketSize,
    lo: h.lo,
    bids: r(h.bids),
    asks: r(h.asks),
    buys: r(h.buys),
    sells: r(h.sells),
    bestBid: bid,
    bestAsk: h.bestAsk,
    mid: bid === null ? h.bestAsk : (bid + h.bestAsk) / 2,
    exchanges: [h.exchange],
    consolidation: null,
    liquidations: holds
      ? [{ bucket, longs: 0, shorts: HEAT_LIQUIDATION.size }]
      : [],
  };
}

/** Rejects with a `RequestError` of `code`. */
async function rejectsWith(p: Promise<unknown>, code: string, re?: RegExp) {
  await assert.rejects(p, (e) => {
    assert.ok(e instanceof RequestError, String(e));
    assert.equal(e.code, code);
    if (re) assert.match(e.message, re);
    return true;
  });
}

// ---------------------------------------------------------------------------
// The suite, on each engine.

/** Loads both data sets into a fresh database. */
async function load(db: Db): Promise<{ data: OkxData; h: Hand }> {
  const data = await okx();
  const h = hand(data.trades.map((t) => t.price));
  await ensurePartitions(db, data.from, data.to);
  await ensurePartitions(db, D, D + 86_399_999);
  assert.ok(await db.writeBatch("okx", data.parts));
  assert.ok(await db.writeBatch("hand", h.parts));
  return { data, h };
}

const ENGINES = [
  ["pglite", withPgliteDb],
  ["postgres", withPostgresDb],
  ["timescale", withTimescaleDb],
] as const;

for (const [name, withDb] of ENGINES) {
  Deno.test(`queries on ${name}`, (t) =>
    withDb(async (db) => {
      const { data, h } = await load(db);

      await t.step(
        "trades: the capture's parsed trades, by receive time",
        async () => {
          const got = await trades(db, {
            exchanges: ["okx", "binance"],
            symbol: "BTC-USDT",
            from: Math.floor(data.from),
            to: Math.floor(data.to) + 1,
            limit: 100_000,
          });
          assert.ok(data.trades.length > 10);
          const want = data.trades
            .map((t) => ({
              ts: Math.floor(t.localTs),
              exchangeTs: Math.floor(t.exchangeTs),
              exchange: "okx",
              symbol: "BTC-USDT",
              price: t.price,
              size: t.size,
              rawSize: t.rawSize,
              side: t.side,
            }))
            .sort((a, b) => a.ts - b.ts);
          assert.deepEqual(
            got.map((r) => r.ts),
            want.map((r) => r.ts),
          );
          // Rows sharing a ts may come in any order: compare as sets per ts.
          const key = (r: object) => JSON.stringify(r);
          assert.deepEqual(got.map(key).sort(), want.map(key).sort());
          // The range is [from, to) and the limit keeps the earliest.
          const first = await trades(db, {
            exchanges: ["okx"],
            symbol: "BTC-USDT",
            from: want[0].ts,
            to: want.at(-1)!.ts,
            limit: 3,
          });
          assert.deepEqual(
            first.map((r) => r.ts),
            want.slice(0, 3).map((r) => r.ts),
          );
          const none = await trades(db, {
            exchanges: ["okx"],
            symbol: "BTC-USDT",
            from: want.at(-1)!.ts + 1,
            to: want.at(-1)!.ts + 10_000,
          });
          assert.deepEqual(none, []);
        },
      );

      await t.step(
        "trades and liquidations: NULL times and raw sizes are null",
        async () => {
          const got = await trades(db, {
            exchanges: ["binance"],
            symbol: "BTCUSDT",
            from: D,
            to: D + 60_501,
          });
          assert.deepEqual(
            got,
            h.trades.slice(0, 4).map((t) => ({
              ts: t.ts,
              exchangeTs: null,
              exchange: "binance",
              symbol: "BTCUSDT",
              price: t.price,
              size: t.size,
              rawSize: null,
              side: t.side,
            })),
          );
          assert.deepEqual(
            await liquidations(db, {
              exchanges: ["binance"],
              symbol: "BTCUSDT",
              from: D,
              to: D + MINUTE,
            }),
            [{
              ts: D + HEAT_LIQUIDATION.ts,
              exchangeTs: null,
              exchange: "binance",
              symbol: "BTCUSDT",
              price: HEAT_LIQUIDATION.price,
              size: HEAT_LIQUIDATION.size,
              rawSize: null,
              side: "buy",
            }, {
              ts: D + 50_000,
              exchangeTs: D + 49_990,
              exchange: "binance",
              symbol: "BTCUSDT",
              price: data.trades[5].price,
              size: 0.75,
              rawSize: 0.75,
              side: "sell",
            }],
          );
        },
      );

      await t.step(
        "bookAt: the capture's book equals the book keeper's at several instants",
        async () => {
          assert.ok(data.truths.length >= 3, `${data.truths.length} instants`);
          for (const truth of data.truths) {
            const got = await bookAt(db, {
              exchange: "okx",
              symbol: "BTC-USDT",
              at: truth.at,
              depth: 5000,
            });
            assert.equal(got.state, "synced");
            assert.equal(got.exchange, "okx");
            assert.equal(got.exchangeSymbol, "BTC-USDT");
            assert.deepEqual(got.bids, truth.bids, `bids at ${truth.at}`);
            assert.deepEqual(got.asks, truth.asks, `asks at ${truth.at}`);
          }
        },
      );

      await t.step(
        "bookAt: keyframes, same-ms changes in seq order, unsynced, not found",
        async () => {
          await rejectsWith(
            bookAt(db, {
              exchange: "binance",
              symbol: "BTCUSDT",
              at: D + 9_999,
            }),
            "not_found",
            /No book of BTCUSDT on binance/,
          );
          for (
            const ms of [
              10_000,
              10_499,
              10_500,
              10_999,
              11_000,
              19_999,
              20_000,
              24_999,
              25_000,
              60_999,
              61_000,
            ]
          ) {
            const want = rebuild(h.book, D + ms, 2)!;
            const got = await bookAt(db, {
              exchange: "binance",
              symbol: "BTCUSDT",
              at: D + ms,
              depth: 2,
            });
            assert.deepEqual(got, {
              exchange: "binance",
              exchangeSymbol: "BTCUSDT",
              symbol: "BTC-USDT",
              market: "spot",
              state: want.state,
              lastSequence: -1,
              bids: want.bids,
              asks: want.asks,
            }, `at +${ms}`);
          }
          await rejectsWith(
            bookAt(db, {
              exchange: "binance",
              symbol: "BTCUSDT",
              at: D,
              depth: 0,
            }),
            "bad_request",
            /depth 0/,
          );
        },
      );

      await t.step(
        "ohlcv: 1 s bars as written, and every timeframe built from them",
        async () => {
          const p = {
            exchanges: ["binance", "consolidated"],
            from: D,
            to: D + 7200 * SECOND,
            limit: 100_000,
          };
          const ones = await ohlcv(db, {
            ...p,
            symbol: "BTCUSDT",
            timeframe: "1s",
          });
          assert.deepEqual(
            ones,
            aggregate(
              h.seconds.filter((s) => s.exchange === "binance"),
              SECOND,
              p.from,
              p.to,
            ),
          );
          for (
            const tf of ["1m", "5m", "15m", "1h", "4h", "1d"] as Timeframe[]
          ) {
            const step = TIMEFRAME_MS[tf];
            const got = await ohlcv(db, {
              ...p,
              symbol: "BTC-USDT",
              timeframe: tf,
            });
            assert.deepEqual(
              got,
              aggregate(
                h.seconds.filter((s) => s.exchange === "consolidated"),
                step,
                p.from,
                p.to,
              ),
              tf,
            );
          }
          // Bars open in [from, to): an unaligned from skips the bar it cuts.
          const cut = await ohlcv(db, {
            ...p,
            symbol: "BTCUSDT",
            from: D + 90 * SECOND,
            to: D + 5 * MINUTE + 1,
            timeframe: "1m",
          });
          assert.deepEqual(
            cut.map((b) => b.ts),
            [2, 3, 4, 5].map((m) => D + m * MINUTE),
          );
          assert.equal(
            cut[0].open,
            h.seconds.find((s) => s.ts === D + 2 * MINUTE)!.open,
          );
        },
      );

      await t.step(
        "ohlcv: rolled-up bars equal the bars built from 1 s",
        async () => {
          if (db.timescale) {
            await db.exec(
              `CALL refresh_continuous_aggregate('ohlcv_1m', NULL, '${
                new Date(D + 90 * MINUTE).toISOString()
              }')`,
            );
          } else {
            assert.ok(await rollup(db, D + 90 * MINUTE) > 0);
            const [r] = await db.query<{ n: number }>(
              "SELECT count(*)::float8 AS n FROM ohlcv_1m WHERE exchange = 'binance'",
            );
            assert.equal(r.n, 90);
          }
          const p = {
            exchanges: ["consolidated", "binance"],
            symbol: "BTCUSDT",
            from: D,
            to: D + 7200 * SECOND,
            limit: 100_000,
          };
          const binance = h.seconds.filter((s) => s.exchange === "binance");
          for (
            const tf of ["1m", "5m", "15m", "1h", "4h", "1d"] as Timeframe[]
          ) {
            const got = await ohlcv(db, { ...p, timeframe: tf });
            assert.deepEqual(
              got,
              aggregate(binance, TIMEFRAME_MS[tf], p.from, p.to),
              tf,
            );
          }
          if (!db.timescale) {
            // The rolled-up bar is what is served, not a rebuild from 1 s.
            const at = new Date(D + MINUTE).toISOString();
            await db.query(
              `UPDATE ohlcv_1m SET volume = volume + 1000
               WHERE exchange = 'binance' AND ts = $1::timestamptz`,
              [at],
            );
            const [, second] = await ohlcv(db, { ...p, timeframe: "1m" });
            const want = aggregate(binance, MINUTE, D, D + 2 * MINUTE)[1];
            assert.equal(second.volume, want.volume + 1000);
            await db.query(
              `UPDATE ohlcv_1m SET volume = volume - 1000
               WHERE exchange = 'binance' AND ts = $1::timestamptz`,
              [at],
            );
          }
          const limited = await ohlcv(db, {
            ...p,
            timeframe: "1m",
            limit: 100,
          });
          assert.deepEqual(
            limited,
            aggregate(binance, MINUTE, p.from, p.to).slice(0, 100),
          );
        },
      );

      await t.step(
        "imbalances: means over window-aligned buckets",
        async () => {
          for (const window of [1000, 5000, 15000, 60000] as const) {
            const got = await imbalances(db, {
              exchanges: ["binance"],
              symbol: "BTCUSDT",
              from: D + 2000,
              to: D + 3 * MINUTE,
              window,
            });
            const groups = new Map<number, Tick[]>();
            for (const t of h.ticks) {
              const ts = Math.floor(t.ts / window) * window;
              if (ts < D + 2000 || ts >= D + 3 * MINUTE) continue;
              groups.set(ts, [...groups.get(ts) ?? [], t]);
            }
            const mean = (a: number[]) =>
              a.reduce((x, y) => x + y, 0) / a.length;
            const want = [...groups].map(([ts, g]) => {
              const imb = g.flatMap((t) =>
                t.imbalance === null ? [] : [t.imbalance]
              );
              return {
                ts,
                exchange: "binance",
                symbol: "BTCUSDT",
                depth: 0.001,
                bidSize: mean(g.map((t) => t.bid)),
                askSize: mean(g.map((t) => t.ask)),
                imbalance: imb.length ? mean(imb) : null,
              };
            });
            assert.deepEqual(got, want, `window ${window}`);
          }
          await rejectsWith(
            imbalances(db, {
              exchanges: ["binance"],
              symbol: "BTCUSDT",
              from: D,
              to: D + 1,
              window: 2000 as 1000,
            }),
            "bad_request",
            /window 2000/,
          );
        },
      );

      await t.step(
        "heatmap: columns in the stream's shape, per resolution and auto",
        async () => {
          const p = {
            exchanges: ["binance", "consolidated"],
            symbol: "BTC-USDT",
            from: D,
            to: D + 10 * MINUTE,
          };
          const want = (table: string, exchanges: string[]) =>
            h.heat
              .filter((c) =>
                c.table === table && exchanges.includes(c.exchange)
              )
              .sort((a, b) => a.ts - b.ts || (a.exchange < b.exchange ? -1 : 1))
              .map(payload);
          const tick = await heatmap(db, {
            ...p,
            resolution: "tick",
            limit: 2000,
          });
          assert.equal(tick.resolution, "tick");
          assert.deepEqual(tick.columns, want("heatmap", p.exchanges));
          // The liquidation lands in the tick that holds it, on each series.
          assert.deepEqual(
            tick.columns.filter((c) => c.liquidations.length).map((c) => [
              c.ts - D,
              c.exchanges[0],
              c.liquidations,
            ]),
            ["binance", "consolidated"].map((x) => [3000, x, [{
              bucket: 9001,
              longs: 0,
              shorts: HEAT_LIQUIDATION.size,
            }]]),
          );
          assert.equal(tick.columns.length, 1200);
          assert.deepEqual(tick.columns[0].bids, [0, 0, 2.5]);
          assert.deepEqual(tick.columns[2].bids, [1.23457, 0, 2.5]);
          assert.equal(tick.columns[0].bestBid, null);
          assert.equal(tick.columns[0].mid, tick.columns[0].bestAsk);
          const minute = await heatmap(db, { ...p, resolution: "1m" });
          assert.deepEqual(minute, {
            resolution: "1m",
            columns: want("heatmap_1m", p.exchanges),
          });
          // auto: 1 200 tick columns are over 1 000, the 20 of 1 m are not.
          assert.deepEqual(await heatmap(db, p), minute);
          const one = await heatmap(db, { ...p, exchanges: ["binance"] });
          assert.equal(one.resolution, "tick");
          assert.deepEqual(one.columns, want("heatmap", ["binance"]));
          // Every resolution over the limit: the coarsest with columns, limited.
          const coarse = await heatmap(db, { ...p, limit: 1 });
          assert.deepEqual(coarse, {
            resolution: "5m",
            columns: want("heatmap_5m", p.exchanges).slice(0, 1),
          });
          assert.deepEqual(await heatmap(db, { ...p, resolution: "1h" }), {
            resolution: "1h",
            columns: [],
          });
          await rejectsWith(
            heatmap(db, { ...p, limit: 2001 }),
            "bad_request",
            /limit 2001 must be at most 2000/,
          );
          await rejectsWith(
            heatmap(db, { ...p, resolution: "2m" as "1m" }),
            "bad_request",
            /resolution 2m/,
          );
        },
      );

      await t.step(
        "frame: every part at the instant, nothing after it",
        async () => {
          const at = D + 60_500;
          const f = await frame(db, {
            symbol: "BTC-USDT",
            at,
            windowMs: 30_000,
            depth: 2,
          });
          assert.equal(f.symbol, "BTC-USDT");
          assert.equal(f.from, D + 30_500);
          assert.deepEqual(f.series, [
            { exchange: "binance", symbol: "BTCUSDT" },
            { exchange: "consolidated", symbol: "BTC-USDT" },
          ]);
          for (const tf of ["1s", "1m", "5m", "15m", "1h"] as const) {
            const step = TIMEFRAME_MS[tf];
            assert.deepEqual(
              f.ohlcv[tf],
              aggregate(
                h.seconds,
                step,
                Math.floor((D + 30_500) / step) * step,
                at + 1,
                at,
              ),
              tf,
            );
          }
          assert.equal(f.ohlcv["1s"].at(-1)!.ts, D + 59_000);
          assert.equal(f.ohlcv["1m"].length, 2);
          const book = rebuild(h.book, at, 2)!;
          assert.deepEqual(
            f.books.map((b) => [b.exchange, b.state, b.bids, b.asks]),
            [
              ["binance", "synced", book.bids, book.asks],
            ],
          );
          assert.deepEqual(f.trades.map((t) => t.ts), [
            D + 30_500,
            D + 45_000,
            D + 60_500,
          ]);
          assert.deepEqual(f.liquidations.map((t) => t.ts), [D + 50_000]);
          // 1 s imbalance windows from 30 s; the last holds the ticks to 60.5 s.
          assert.equal(f.imbalances[0].ts, D + 30_000);
          assert.equal(f.imbalances.at(-1)!.ts, D + 60_000);
          const last = h.ticks.filter((t) => t.ts >= D + 60_000 && t.ts <= at);
          assert.equal(
            f.imbalances.at(-1)!.bidSize,
            last.reduce((s, t) => s + t.bid, 0) / last.length,
          );
          assert.deepEqual(
            f.quality.health.map((
              e,
            ) => [e.ts - D, e.exchange, e.kind, e.symbol]),
            [
              [45_000, "binance", "resync", "BTCUSDT"],
              [50_000, "binance", "excluded", "BTCUSDT"],
              [52_000, "binance", "disconnect", null],
            ],
          );
          assert.deepEqual(f.quality.counts, {
            resync: 1,
            excluded: 1,
            disconnect: 1,
          });
          assert.deepEqual(f.quality.exchanges, ["binance"]);
          assert.deepEqual(f.quality.missing, []);
          assert.deepEqual(f.quality.unsynced, []);
        },
      );

      await t.step(
        "frame: a venue symbol, asked exchanges, an unsynced book, nothing found",
        async () => {
          const f = await frame(db, {
            symbol: "BTCUSDT",
            at: D + 22_000,
            windowMs: 5_000,
            exchanges: ["binance", "okx"],
          });
          assert.equal(f.symbol, "BTC-USDT");
          assert.deepEqual(f.series, [
            { exchange: "binance", symbol: "BTCUSDT" },
            { exchange: "okx", symbol: "BTCUSDT" },
          ]);
          assert.deepEqual(f.books.map((b) => b.state), ["unsynced"]);
          assert.deepEqual(f.quality.exchanges, ["binance"]);
          assert.deepEqual(f.quality.missing, ["okx"]);
          assert.deepEqual(f.quality.unsynced, ["binance", "okx"]);
          await rejectsWith(
            frame(db, { symbol: "NOPE-USD", at: D + 22_000, windowMs: 5_000 }),
            "not_found",
            /NOPE-USD/,
          );
          await rejectsWith(
            frame(db, { symbol: "BTC-USDT", at: D, windowMs: 0 }),
            "bad_request",
            /window 0/,
          );
        },
      );

      await t.step("range checks: bad_request naming the value", async () => {
        const p = {
          exchanges: ["binance"],
          symbol: "BTCUSDT",
          from: D,
          to: D + 1,
        };
        await rejectsWith(
          trades(db, { ...p, to: D }),
          "bad_request",
          /must be before/,
        );
        await rejectsWith(
          trades(db, { ...p, limit: 100_001 }),
          "bad_request",
          /limit 100001/,
        );
        await rejectsWith(
          trades(db, { ...p, exchanges: [] }),
          "bad_request",
          /exchanges/,
        );
        await rejectsWith(
          ohlcv(db, { ...p, timeframe: "2m" as "1m" }),
          "bad_request",
          /timeframe 2m/,
        );
      });
    }));
}
