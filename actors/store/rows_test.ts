import assert from "node:assert/strict";
import type { Adapter } from "../adapters/adapter.ts";
import { binanceFuturesAdapter } from "../adapters/binance_futures.ts";
import { krakenV1Adapter } from "../adapters/kraken_v1.ts";
import { readCapture } from "../capture/capture.ts";
import { BookKeeper } from "../connection/book_keeper.ts";
import { newCounters } from "../connection/stats.ts";
import {
  BatchBuilder,
  type EventBatch,
  Kind,
  type SymbolRef,
} from "../market/batch.ts";
import { OrderBook } from "../market/book.ts";
import { readBinaryCopy } from "./_copytext.ts";
import type { CopyPart } from "./db.ts";
import { EventRows } from "./rows.ts";
import { BOOK_COLUMNS } from "./tables.ts";

const CAPTURES = "../shared/data/captures/cryptofeed";

/** The fields of every row of a (binary) part, as COPY text shows them, `\N` for NULL. */
function lines(part: CopyPart | undefined): string[][] {
  if (!part) return [];
  assert.ok(part.data, `${part.table}: not a binary part`);
  const out = readBinaryCopy(part.data, part.columns).map((r) =>
    r.map((f) => f ?? "\\N")
  );
  assert.equal(out.length, part.rows);
  for (const l of out) assert.equal(l.length, part.columns.length);
  return out;
}

/** A `float8[]` field as numbers. */
function floats(field: string): number[] {
  return field === "{}" ? [] : field.slice(1, -1).split(",").map(Number);
}

/** One stored book row, decoded. */
interface BookRow {
  keyframe: boolean;
  ts: number;
  seq: number;
  symbol: string;
  bids: number[];
  asks: number[];
}

/** Runs a capture through the venue's parser and book keeper, as a connection does. */
async function throughKeeper(
  files: string[],
  adapter: Adapter,
  follow: (symbol: string) => boolean,
) {
  const cap = await readCapture(files.map((f) => `${CAPTURES}/${f}`));
  const batch = new BatchBuilder(cap.exchange);
  const counters = newCounters();
  const keeper = new BookKeeper({
    exchange: cap.exchange,
    spec: adapter.book,
    batch,
    counters,
    hooks: {
      needSnapshot: () => {},
      send: () => true,
      reconnect: () => {},
      warn: () => {},
    },
  });
  const rows = new EventRows();
  const parts: CopyPart[] = [];
  const batches: EventBatch[] = [];
  let parser: ReturnType<Adapter["parser"]> | undefined;
  let records = 0;
  const flush = () => {
    const b = batch.take();
    batches.push({ ...b, buf: b.buf.slice(0) });
    rows.onBatch(b);
    // Several takes, so groups and book clocks span them.
    if (++records % 3 === 0) parts.push(...rows.take());
  };
  for (const r of cap.records) {
    if (r.kind === "http" && adapter.metadataUrls.includes(r.url)) {
      const insts = adapter.instruments([r.body]).filter((i) =>
        follow(i.exchangeSymbol)
      );
      keeper.follow(insts, r.ts);
      parser = adapter.parser(
        new Map([...keeper.followed].map(([s, f]) => [s, f.inst])),
      );
    } else if (r.kind === "http" && adapter.book.parseSnapshot) {
      const f = [...keeper.followed.values()].find((f) =>
        r.url.includes(`symbol=${f.inst.exchangeSymbol}&`)
      );
      if (!f || f.sync.state === "synced") continue;
      batch.clock = r.ts;
      keeper.offerSnapshot(f, adapter.book.parseSnapshot(r.body, r.ts, f.inst));
    } else if (r.kind === "recv" && parser && r.text !== undefined) {
      batch.clock = r.ts;
      for (const ev of parser.parse(r.text, r.ts)) keeper.onEvent(ev);
      if (batch.length > 500) flush();
    }
  }
  flush();
  parts.push(...rows.take());
  return { cap, keeper, counters, rows, parts, batches };
}

/** Every book row of the parts, in `(ts, seq)` order per book. */
function bookRows(parts: CopyPart[]): BookRow[] {
  const out: BookRow[] = [];
  for (const p of parts) {
    if (p.table !== "book_snapshots" && p.table !== "book_changes") continue;
    assert.deepEqual(p.columns, BOOK_COLUMNS);
    for (const [ts, ets, _ex, symbol, seq, bids, asks] of lines(p)) {
      assert.ok(Number.isFinite(Date.parse(ets)));
      out.push({
        keyframe: p.table === "book_snapshots",
        ts: Date.parse(ts),
        seq: Number(seq),
        symbol,
        bids: floats(bids),
        asks: floats(asks),
      });
    }
  }
  return out.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
}

/** The books the rows rebuild: the last keyframe, then every later change. */
function rebuild(rows: BookRow[]): Map<string, OrderBook> {
  const books = new Map<string, OrderBook>();
  for (const r of rows) {
    let b = books.get(r.symbol);
    if (!b) books.set(r.symbol, b = new OrderBook());
    if (r.keyframe) b.clear();
    b.apply(r.bids, r.asks);
  }
  return books;
}

/** Asserts `(ts, seq)` is unique per book and `seq` counts from 0 per ms. */
function assertSeqs(rows: BookRow[]): void {
  const last = new Map<string, BookRow>();
  for (const r of rows) {
    const prev = last.get(r.symbol);
    if (prev && prev.ts === r.ts) assert.equal(r.seq, prev.seq + 1);
    else assert.equal(r.seq, 0);
    last.set(r.symbol, r);
  }
}

Deno.test("event rows: Binance USD-M capture: trade rows are the capture's trades; the book rows rebuild the keeper's books", async () => {
  const { cap, keeper, counters, rows, parts, batches } = await throughKeeper(
    ["BINANCE_FUTURES.0", "BINANCE_FUTURES.http.0.0", "BINANCE_FUTURES.ws.1.0"],
    binanceFuturesAdapter,
    (s) => ["SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT"].includes(s),
  );
  assert.equal(counters.gaps, 0);
  assert.equal(rows.rejections.total.size, 0);
  // The capture's aggTrades, read straight from the frames.
  const expected: string[][] = [];
  for (const r of cap.records) {
    if (r.kind !== "recv" || !r.text?.includes("@aggTrade")) continue;
    const d = JSON.parse(r.text).data;
    expected.push([
      new Date(r.ts).toISOString(),
      new Date(d.T).toISOString(),
      "binance-futures",
      d.s,
      String(Number(d.p)),
      String(Number(d.q)),
      String(Number(d.q)),
      d.m ? "sell" : "buy",
    ]);
  }
  assert.ok(expected.length > 50, `${expected.length} trades`);
  const trades = parts.filter((p) => p.table === "trades").flatMap(lines);
  assert.deepEqual(trades, expected);
  assert.equal(parts.filter((p) => p.table === "liquidations").length, 0);
  // Books: a keyframe per snapshot, then every update.
  const books = bookRows(parts);
  assertSeqs(books);
  const keyframes = books.filter((r) => r.keyframe);
  assert.equal(keyframes.length, 4);
  assert.ok(keyframes.every((k) => k.bids.length > 0 && k.asks.length > 0));
  assert.ok(books.length - keyframes.length > 100);
  const rebuilt = rebuild(books);
  for (const [sym, f] of keeper.followed) {
    assert.equal(f.sync.state, "synced", sym);
    assert.deepEqual(
      rebuilt.get(sym)!.bids.top(Infinity),
      f.book.bids.top(Infinity),
      sym,
    );
    assert.deepEqual(
      rebuilt.get(sym)!.asks.top(Infinity),
      f.book.asks.top(Infinity),
      sym,
    );
  }
  // Every record of every batch is in some row.
  let levels = 0;
  for (const b of batches) levels += b.n;
  const stored = books.reduce(
    (n, r) => n + (r.bids.length + r.asks.length) / 2 + (r.keyframe ? 1 : 0),
    trades.length,
  );
  assert.equal(stored, levels);
});

Deno.test("event rows: Kraken v1 capture: checksummed, depth-truncated books rebuild from their rows", async () => {
  const { keeper, counters, rows, parts } = await throughKeeper(
    ["KRAKEN.0", "KRAKEN.ws.50.0"],
    krakenV1Adapter,
    () => true,
  );
  assert.equal(counters.checksumFailures, 0);
  assert.equal(counters.resyncs, 0);
  assert.equal(rows.rejections.total.size, 0);
  const books = bookRows(parts);
  assertSeqs(books);
  const rebuilt = rebuild(books);
  let synced = 0;
  for (const [sym, f] of keeper.followed) {
    if (f.sync.state !== "synced") continue;
    synced++;
    assert.deepEqual(
      rebuilt.get(sym)!.bids.top(Infinity),
      f.book.bids.top(Infinity),
      sym,
    );
    assert.deepEqual(
      rebuilt.get(sym)!.asks.top(Infinity),
      f.book.asks.top(Infinity),
      sym,
    );
  }
  assert.ok(synced >= 5, `${synced} synced books`);
});

/** A batch builder over one symbol, with its index. */
function builder(contract: { contractSize?: number; inverse?: boolean } = {}) {
  const b = new BatchBuilder("bybit");
  const ref: SymbolRef = {
    exchangeSymbol: "BTCUSD",
    symbol: "BTC-USD",
    market: "perpetual",
    ...contract,
  };
  return { b, s: b.symbol(ref), ref };
}

const T0 = Date.UTC(2023, 4, 1, 12);

Deno.test("event rows: a lone Clear is an empty keyframe; rows sharing a millisecond are numbered", () => {
  const { b, s, ref } = builder();
  const rows = new EventRows();
  b.clock = T0;
  b.push(s, Kind.Clear, 0, 0, T0 - 5);
  b.push(s, Kind.Bid, 100, 1, T0 - 5);
  b.push(s, Kind.Bid, 99, 2, T0 - 5);
  b.push(s, Kind.Bid, 99, 0, T0 - 5); // the keyframe's levels fold
  b.push(s, Kind.Ask, 101, 3, T0 - 5);
  b.push(s, Kind.Bid, 100, 4, T0 - 4); // another frame, same receive time
  b.push(s, Kind.Ask, 101, 0, T0 - 4);
  b.clock = T0 + 0.5; // the same stored millisecond
  b.push(s, Kind.Ask, 102, 1, T0 - 3);
  b.clock = T0 + 1;
  b.push(s, Kind.Clear, 0, 0, T0 + 1); // a resync: unsynced
  rows.onBatch(b.take());
  assert.equal(rows.rows, 4);
  assert.deepEqual([...rows.days], [Date.UTC(2023, 4, 1)]);
  const parts = rows.take();
  assert.deepEqual(parts.map((p) => p.table), [
    "book_snapshots",
    "book_changes",
  ]);
  assert.equal(rows.days.size, 0);
  const iso = (t: number) => new Date(t).toISOString();
  assert.deepEqual(lines(parts[0]), [
    [iso(T0), iso(T0 - 5), "bybit", "BTCUSD", "0", "{100,1}", "{101,3}"],
    [iso(T0 + 1), iso(T0 + 1), "bybit", "BTCUSD", "0", "{}", "{}"],
  ]);
  assert.deepEqual(lines(parts[1]), [
    [iso(T0), iso(T0 - 4), "bybit", "BTCUSD", "1", "{100,4}", "{101,0}"],
    [iso(T0), iso(T0 - 3), "bybit", "BTCUSD", "2", "{}", "{102,1}"],
  ]);
  // The book's clock carries over to the next batch.
  b.clock = T0 + 1;
  b.push(b.symbol(ref), Kind.Bid, 100, 1, T0 + 1);
  rows.onBatch(b.take());
  assert.equal(lines(rows.take()[0])[0][4], "1");
  assert.deepEqual(rows.take(), []);
});

Deno.test("event rows: trades and liquidations, raw sizes of inverse contracts, and rejections by reason", () => {
  const { b, s } = builder({ contractSize: 1, inverse: true });
  const rows = new EventRows();
  b.clock = T0;
  b.push(s, Kind.Buy, 20000, 0.5, T0 - 1);
  b.push(s, Kind.LiquidationSell, 19000, 1, T0 - 1);
  b.push(s, Kind.Sell, 0, 1, T0 - 1); // bad price
  b.push(s, Kind.Sell, 20000, -1, T0 - 1); // bad size
  b.push(s, Kind.Sell, 20000, 1, T0 / 1000); // venue time in seconds
  b.push(s, Kind.Clear, 0, 0, T0); // a crossed keyframe
  b.push(s, Kind.Bid, 101, 1, T0);
  b.push(s, Kind.Ask, 100, 1, T0);
  b.push(s, Kind.Bid, NaN, 1, T0 + 1); // a bad update
  rows.onBatch(b.take());
  rows.onHealth({
    type: "health",
    ts: T0 + 2,
    exchange: "bybit",
    connection: "conn:bybit:inverse",
    kind: "resync",
    symbol: "BTCUSD",
    detail: "gap: 5\tthen 7",
  });
  rows.onHealth({
    type: "health",
    ts: NaN,
    exchange: "bybit",
    connection: "conn:bybit:inverse",
    kind: "connect",
    detail: "",
  });
  const parts = rows.take();
  assert.deepEqual(parts.map((p) => p.table), [
    "trades",
    "liquidations",
    "health_events",
  ]);
  assert.deepEqual(lines(parts[0])[0].slice(4), [
    "20000",
    "0.5",
    "10000",
    "buy",
  ]);
  assert.deepEqual(lines(parts[1])[0].slice(4), [
    "19000",
    "1",
    "19000",
    "sell",
  ]);
  assert.deepEqual(lines(parts[2]), [[
    new Date(T0 + 2).toISOString(),
    "bybit",
    "conn:bybit:inverse",
    "resync",
    "BTCUSD",
    "gap: 5\tthen 7",
  ]]);
  assert.deepEqual(Object.fromEntries(rows.rejections.total), {
    "bad price": 2,
    "bad size": 1,
    "bad time": 2,
    "crossed book": 1,
  });
  const log = rows.rejections.take();
  assert.equal(log.length, 4);
  assert.match(
    log.join("\n"),
    /1 row rejected \(crossed book\), e\.g\. bybit BTCUSD keyframe .*best bid 101 >= best ask 100/,
  );
  assert.deepEqual(rows.rejections.take(), []);
});

Deno.test("event rows: a wide update then a narrow one keep only their own levels; each book numbers its own rows", () => {
  const { b, s } = builder();
  const eth = b.symbol({
    exchangeSymbol: "ETHUSD",
    symbol: "ETH-USD",
    market: "perpetual",
  });
  const rows = new EventRows();
  b.clock = T0;
  const wideBids: string[] = [];
  const wideAsks: string[] = [];
  for (let k = 0; k < 300; k++) {
    const bid = k % 3 !== 0;
    const price = bid ? 1000 - k : 2000 + k;
    b.push(s, bid ? Kind.Bid : Kind.Ask, price, k / 4, T0 - 9);
    (bid ? wideBids : wideAsks).push(String(price), String(k / 4));
  }
  b.push(eth, Kind.Ask, 3001, 2, T0 - 9); // another book, same ms
  b.push(s, Kind.Ask, 2500, 1.5, T0 - 8); // a narrow update, same ms
  b.push(eth, Kind.Bid, 2999, 1, T0 - 8);
  rows.onBatch(b.take());
  const [changes] = rows.take();
  const iso = new Date(T0).toISOString();
  assert.deepEqual(lines(changes), [
    [
      iso,
      new Date(T0 - 9).toISOString(),
      "bybit",
      "BTCUSD",
      "0",
      `{${wideBids}}`,
      `{${wideAsks}}`,
    ],
    [
      iso,
      new Date(T0 - 9).toISOString(),
      "bybit",
      "ETHUSD",
      "0",
      "{}",
      "{3001,2}",
    ],
    [
      iso,
      new Date(T0 - 8).toISOString(),
      "bybit",
      "BTCUSD",
      "1",
      "{}",
      "{2500,1.5}",
    ],
    [
      iso,
      new Date(T0 - 8).toISOString(),
      "bybit",
      "ETHUSD",
      "1",
      "{2999,1}",
      "{}",
    ],
  ]);
});
