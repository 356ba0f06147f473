import assert from "node:assert/strict";
import { BatchBuilder, columns, Kind } from "../market/batch.ts";
import { decodeColumns, encodeColumns } from "../market/heatmap.ts";
import { decodeBatch, encodeBatch } from "./codec.ts";

Deno.test("codec: an event batch round-trips with its records, symbols and clock", () => {
  const b = new BatchBuilder("binance-futures");
  const s = b.symbol({
    exchangeSymbol: "BTCUSDT",
    symbol: "BTC-USDT",
    market: "perpetual",
    contractSize: 1,
  });
  b.clock = 1_767_614_400_123;
  b.push(s, Kind.Clear, 0, 0, 1_767_614_400_100);
  b.push(s, Kind.Bid, 60_000.5, 1.25, 1_767_614_400_100);
  b.push(s, Kind.Sell, 60_001, 0.003, NaN);
  const batch = b.take();
  const bytes = encodeBatch(batch);
  // Any byte offset: Redis hands out views into larger buffers.
  const shifted = new Uint8Array(bytes.length + 3);
  shifted.set(bytes, 3);
  const got = decodeBatch(shifted.subarray(3));
  assert.equal(got.type, "batch");
  if (got.type !== "batch") return;
  assert.equal(got.exchange, "binance-futures");
  assert.deepEqual(got.symbols, batch.symbols);
  assert.equal(got.clock, batch.clock);
  assert.equal(got.n, 3);
  const a = columns(batch);
  const c = columns(got);
  for (const k of ["price", "size", "ts", "local", "code"] as const) {
    assert.deepEqual([...c[k]], [...a[k]], k);
  }
});

Deno.test("codec: a column batch keeps NaN best prices and its arrays", () => {
  const col = (exchange: string, bestBid: number) => ({
    exchange,
    exchangeSymbol: "BTCUSDT",
    symbol: "BTC-USDT",
    market: "spot" as const,
    ts: 1_767_614_401_000,
    bucketSize: 10,
    lo: 6000,
    n: 3,
    bestBid,
    bestAsk: 60_015,
    bids: new Float64Array([1, 2, 0]),
    asks: new Float64Array([0, 0.5, 3]),
    buys: new Float64Array([0, 0.1, 0]),
    sells: new Float64Array([0.2, 0, 0]),
  });
  const batch = encodeColumns(
    1_767_614_401_000,
    [col("binance", 60_005), col("okx", NaN)],
    { range: 0.05 },
  );
  const got = decodeBatch(encodeBatch(batch));
  assert.equal(got.type, "columns");
  if (got.type !== "columns") return;
  assert.equal(got.range, 0.05);
  const [x, y] = decodeColumns(got);
  assert.equal(x.bestBid, 60_005);
  assert.ok(Number.isNaN(y.bestBid));
  assert.deepEqual([...y.asks], [0, 0.5, 3]);
  assert.deepEqual([...x.sells], [0.2, 0, 0]);
});

Deno.test("codec: truncated or foreign bytes fail with a clear error", () => {
  assert.throws(() => decodeBatch(new Uint8Array(2)), /has no header/);
  const bytes = encodeBatch(encodeColumns(0, []));
  const bad = new Uint8Array(bytes.length);
  bad.set(bytes);
  new DataView(bad.buffer).setUint32(0, 1 << 20, true);
  assert.throws(() => decodeBatch(bad), /does not fit its 1048576-byte header/);
});
