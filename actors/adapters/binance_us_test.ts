import assert from "node:assert/strict";
import { BookSync } from "../market/book_sync.ts";
import type { BookDelta, Instrument, MarketEvent } from "../market/events.ts";
import { binanceAdapter } from "./binance.ts";
import { binanceUsAdapter } from "./binance_us.ts";
import { assertSane } from "./_testing.ts";

// Binance.US serves Binance spot's stream and REST formats (tardis-node maps
// `binance-us` with its Binance spot mappers): the Binance spot samples are
// Binance.US frames too.
const SAMPLES = "../shared/data/samples/tardis-node-inputs/binance.ndjson";
const CAPTURES = "../shared/data/captures/cryptofeed";
const lines = (await Deno.readTextFile(SAMPLES)).trim().split("\n");
const objs = lines.map((l) => JSON.parse(l));

const inst = (sym: string, b: string, q: string): Instrument => ({
  exchange: "binance-us",
  exchangeSymbol: sym,
  symbol: `${b}-${q}`,
  base: b,
  quote: q,
  market: "spot",
  contractSize: 1,
});
const table = new Map([
  ["BNBBTC", inst("BNBBTC", "BNB", "BTC")],
  ["BTCUSDC", inst("BTCUSDC", "BTC", "USDC")],
]);

function parse(i: number): MarketEvent[] {
  const ev = binanceUsAdapter.parser(table).parse(lines[i], 1000 + i);
  assertSane(ev);
  return ev;
}

Deno.test("binance-us: Binance.US hosts, spot streams and the spot sync rule", () => {
  assert.equal(binanceUsAdapter.id, "binance-us");
  assert.equal(binanceUsAdapter.restOrigin, "https://api.binance.us");
  assert.deepEqual(binanceUsAdapter.metadataUrls, [
    "https://api.binance.us/api/v3/exchangeInfo",
  ]);
  assert.equal(
    binanceUsAdapter.url(["BTCUSD", "ETHUSD"]),
    "wss://stream.binance.us:9443/stream?streams=btcusd@depth@100ms/btcusd@aggTrade/ethusd@depth@100ms/ethusd@aggTrade",
  );
  assert.deepEqual(binanceUsAdapter.subscribe(["BTCUSD"]), []);
  assert.equal(
    binanceUsAdapter.book.snapshotUrl!("BTCUSD"),
    "https://api.binance.us/api/v3/depth?symbol=BTCUSD&limit=1000",
  );
  // First diff: U <= lastUpdateId + 1 <= u; then U == previous u + 1.
  assert.deepEqual(binanceUsAdapter.book.sync, {
    kind: "rest",
    link: "next",
    align: 1,
  });
  // Binance spot built by the same factory keeps its own hosts.
  assert.equal(binanceAdapter.restOrigin, "https://api.binance.com");
  assert.equal(
    binanceAdapter.url(["BTCUSDT"]),
    "wss://stream.binance.com:9443/stream?streams=btcusdt@depth@100ms/btcusdt@aggTrade",
  );
});

Deno.test("binance-us: exchangeInfo (Binance's /api/v3 shape) → instruments stamped binance-us", async () => {
  const line =
    (await Deno.readTextFile(`${CAPTURES}/BINANCE.0`)).split("\n")[0];
  const insts = binanceUsAdapter.instruments([
    line.slice(line.indexOf(": ") + 2),
  ]);
  assert.deepEqual(insts.find((i) => i.exchangeSymbol === "NKNUSDT"), {
    ...inst("NKNUSDT", "NKN", "USDT"),
  });
  assert.ok(insts.every((i) => i.exchange === "binance-us"));
});

Deno.test("binance-us: trade samples → trades; m=true means the taker sold", () => {
  assert.deepEqual(parse(0), [{
    type: "trade",
    exchange: "binance-us",
    exchangeSymbol: "BNBBTC",
    symbol: "BNB-BTC",
    market: "spot",
    exchangeTs: 1554076800940, // T, the trade time
    localTs: 1000,
    id: "40756030",
    price: 0.0042699,
    size: 33.82,
    rawSize: 33.82,
    side: "buy",
  }]);
  const [t] = parse(1);
  assert.ok(t.type === "trade" && t.side === "sell" && t.size === 6.48);
});

Deno.test("binance-us: snapshot then depthUpdate sync under the spot rule", () => {
  const snap = binanceUsAdapter.book.parseSnapshot!(
    JSON.stringify(objs[4].data),
    5,
    table.get("BTCUSDC")!,
  );
  assert.deepEqual(snap, {
    type: "book_snapshot",
    exchange: "binance-us",
    exchangeSymbol: "BTCUSDC",
    symbol: "BTC-USDC",
    market: "spot",
    exchangeTs: 5, // the REST body has no time: the receive time
    localTs: 5,
    sequence: 16084251,
    bids: [4091.92, 0.009765, 4089.09, 0.763931],
    asks: [4095.99, 2.31652, 4096, 1.425419],
    contractSize: 1,
  });
  const [d] = parse(5) as BookDelta[];
  assert.deepEqual(d, {
    type: "book_delta",
    exchange: "binance-us",
    exchangeSymbol: "BTCUSDC",
    symbol: "BTC-USDC",
    market: "spot",
    exchangeTs: 1554076801699,
    localTs: 1005,
    first: 16084252,
    last: 16084253,
    prev: -1,
    bids: [4084.88, 0],
    asks: [4111.84, 0],
    contractSize: 1,
  });
  const sync = new BookSync(binanceUsAdapter.book.sync);
  assert.equal(sync.snapshot(snap).result, "synced");
  assert.equal(sync.delta(d), "apply"); // U = lastUpdateId + 1
});

Deno.test("binance-us: book tickers, tickers and unfollowed symbols yield nothing", () => {
  for (const i of [2, 3, 4, 6]) assert.deepEqual(parse(i), [], `line ${i}`);
});
