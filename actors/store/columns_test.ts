import assert from "node:assert/strict";
import { ColumnRows } from "./columns.ts";
import { decodeSizes, type HeatmapSizes } from "./sizes.ts";
import { openCapture } from "./_capture_feed_test.ts";
import {
  type CopyRow,
  readCopyPart,
  readNumber,
  readTime,
} from "./_copytext.ts";
import type { OrderBook } from "../market/book.ts";
import { consolidationKey, mergeColumns } from "../market/consolidate.ts";
import type { Trade } from "../market/events.ts";
import {
  bucketOf,
  type ColumnBatch,
  type ColumnInit,
  type ConsolidationInfo,
  defaultBucketSize,
  encodeColumns,
  midPrice,
  sampleBook,
} from "../market/heatmap.ts";
import { eachField, readTimeAt } from "./copy.ts";
import type { CopyPart } from "./db.ts";

const ALIASES = { USDT: "USD" };
const DEPTH = 0.001;
const RANGE = 0.05;
const DAY = 86_400_000;
const INTERVALS = {
  heatmap_1m: 60_000,
  heatmap_5m: 300_000,
  heatmap_1h: 3_600_000,
  heatmap_1d: DAY,
} as const;

/** Bid and ask size near the mid, as the test computes it. */
interface Near {
  bid: number;
  ask: number;
}

/** One tick of the replay: its columns, packed, and the imbalance inputs per column. */
interface Tick {
  readonly cols: ColumnInit[];
  readonly batch: ColumnBatch;
  /** Per `exchange \t exchangeSymbol`: size within DEPTH of the column's mid, summed over book levels. */
  readonly near: Map<string, Near>;
}

/**
 * Size of the book levels whose bucket lies in `[from, to]` (bucket indices
 * of `bs`), one side.
 */
function levelsIn(
  prices: Float64Array,
  sizes: Float64Array,
  n: number,
  bs: number,
  from: number,
  to: number,
): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const k = Math.floor(prices[i] / bs + 1e-9);
    if (k >= from && k <= to) s += sizes[i];
  }
  return s;
}

/**
 * Bid size in the buckets from DEPTH below `mid` up to the mid's bucket,
 * ask size from the mid's bucket up to DEPTH above, straight from books'
 * levels, within buckets `[lo, hi]`.
 */
function nearMid(
  books: readonly OrderBook[],
  mid: number,
  bs: number,
  lo: number,
  hi: number,
): Near {
  const m = bucketOf(mid, bs);
  let bid = 0;
  let ask = 0;
  for (const b of books) {
    bid += levelsIn(
      b.bids.prices,
      b.bids.sizes,
      b.bids.length,
      bs,
      Math.max(lo, bucketOf(mid * (1 - DEPTH), bs)),
      Math.min(hi, m),
    );
    ask += levelsIn(
      b.asks.prices,
      b.asks.sizes,
      b.asks.length,
      bs,
      Math.max(lo, m),
      Math.min(hi, bucketOf(mid * (1 + DEPTH), bs)),
    );
  }
  return { bid, ask };
}

/**
 * Replays a capture through its adapter and the book keeper and builds a
 * column per synced book every 1 000 ms of receive time (trades of the tick
 * bucketed into buys and sells), plus a consolidated column per key.
 */
async function ticksOf(prefix: string): Promise<Tick[]> {
  const feed = await openCapture(prefix);
  const bucketSizes = new Map<string, number>();
  const trades: Trade[] = [];
  const ticks: Tick[] = [];
  let next = NaN;
  const sample = (ts: number) => {
    const cols: ColumnInit[] = [];
    const books = new Map<ColumnInit, OrderBook>();
    const near = new Map<string, Near>();
    for (const f of feed.keeper.followed.values()) {
      if (f.sync.state !== "synced") continue;
      const mid = midPrice(f.book.bids.best(), f.book.asks.best());
      if (!(mid > 0)) continue;
      const key = consolidationKey(f.inst.symbol, ALIASES);
      let bs = bucketSizes.get(key);
      if (bs === undefined) bucketSizes.set(key, bs = defaultBucketSize(mid));
      const s = sampleBook(f.book, { bucketSize: bs, range: RANGE })!;
      const buys = new Float64Array(s.bids.length);
      const sells = new Float64Array(s.bids.length);
      for (const t of trades) {
        const k = bucketOf(t.price, bs) - s.lo;
        if (t.exchangeSymbol !== f.inst.exchangeSymbol) continue;
        if (k < 0 || k >= buys.length) continue;
        (t.side === "buy" ? buys : sells)[k] += t.size;
      }
      const col: ColumnInit = {
        exchange: feed.exchange,
        exchangeSymbol: f.inst.exchangeSymbol,
        symbol: key,
        market: f.inst.market,
        ts,
        bucketSize: bs,
        n: s.bids.length,
        ...s,
        buys,
        sells,
      };
      cols.push(col);
      books.set(col, f.book);
      near.set(
        `${col.exchange}\t${col.exchangeSymbol}`,
        nearMid([f.book], mid, bs, s.lo, s.lo + col.n - 1),
      );
    }
    trades.length = 0;
    const keys = new Map<string, ColumnInit[]>();
    for (const c of cols) keys.set(c.symbol, [...keys.get(c.symbol) ?? [], c]);
    for (const [key, group] of keys) {
      const merged = mergeColumns(group, { range: RANGE });
      const out = new Set(
        merged.consolidation!.excluded.map((e) => e.exchangeSymbol),
      );
      near.set(
        `consolidated\t${key}`,
        nearMid(
          group.filter((c) => !out.has(c.exchangeSymbol)).map((c) =>
            books.get(c)!
          ),
          midPrice(merged.bestBid, merged.bestAsk),
          merged.bucketSize,
          merged.lo,
          merged.lo + merged.n - 1,
        ),
      );
      cols.push(merged);
    }
    if (cols.length) {
      ticks.push({
        cols,
        batch: encodeColumns(ts, cols, { range: RANGE }),
        near,
      });
    }
  };
  feed.run(
    (_ts, events) => {
      for (const ev of events) if (ev.type === "trade") trades.push(ev);
    },
    (ts) => {
      if (next !== next) next = Math.ceil(ts / 1000) * 1000;
      for (; ts >= next; next += 1000) sample(next);
    },
  );
  return ticks;
}

/** The text columns of the heatmap tables. */
const TEXT = new Set(["exchange", "exchange_symbol", "symbol", "market"]);

/**
 * The rows of a binary heatmap-shaped part, each field as COPY text shows
 * it (as `readCopyPart` shows the other tables'): `ts` ISO-8601, names as
 * they are, numbers `String(x)`, NULL as null, `sizes` `\x` and hex.
 */
function heatRows(p: CopyPart): CopyRow[] {
  const rows: CopyRow[] = [];
  p.columns.forEach((c, k) => {
    let i = 0;
    eachField(p.data!, k, (dv, at, len) => {
      const row = rows[i++] ??= {};
      const bytes = new Uint8Array(
        dv.buffer,
        dv.byteOffset + at,
        len < 0 ? 0 : len,
      );
      row[c] = len < 0
        ? null
        : c === "ts"
        ? new Date(readTimeAt(dv, at)).toISOString()
        : c === "lo"
        ? String(dv.getInt32(at) * 2 ** 32 + dv.getUint32(at + 4))
        : c === "sizes"
        ? "\\x" + bytes.toHex()
        : TEXT.has(c)
        ? new TextDecoder().decode(bytes)
        : String(dv.getFloat64(at));
    });
  });
  assert.equal(rows.length, p.rows);
  return rows;
}

/** Every row of `parts`, by table. */
function rowsByTable(parts: readonly CopyPart[]): Map<string, CopyRow[]> {
  const out = new Map<string, CopyRow[]>();
  for (const p of parts) {
    const rows = p.table.startsWith("heatmap") ? heatRows(p) : readCopyPart(p);
    out.set(p.table, [...out.get(p.table) ?? [], ...rows]);
  }
  return out;
}

/** A price field as a number, NaN for NULL. */
function price(f: string | null): number {
  return f === null ? NaN : readNumber(f)!;
}

/** Sizes as stored and as the stream sends them: 6 significant digits. */
function round6(a: ArrayLike<number>): number[] {
  return Array.from(a, (x) => +x.toPrecision(6));
}

/** A `sizes` field (`\x` and hex, as COPY text shows bytea), decoded. */
function sizesOf(f: string | null): HeatmapSizes {
  assert.ok(f !== null && f.startsWith("\\x"), `sizes field ${f}`);
  return decodeSizes(Uint8Array.fromHex(f.slice(2)));
}

/** `a` and `b` agree to 1e-9 of their size. */
function close(a: number, b: number, what: string): void {
  assert.ok(
    Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b), 1e-12),
    `${what}: ${a} vs ${b}`,
  );
}

/**
 * The rollup rows computed here from the columns: per exchange × symbol and
 * interval, sums per bucket index in plain Maps, divided by the column count,
 * rounded to the stored 6 significant digits.
 */
function rollupsOf(cols: readonly ColumnInit[], ms: number) {
  const acc = new Map<
    string,
    {
      last: ColumnInit;
      ticks: number;
      sides: Map<number, number>[];
    }
  >();
  for (const c of cols) {
    const k = `${c.exchange}\t${c.exchangeSymbol}\t${
      Math.floor(c.ts / ms) * ms
    }`;
    let a = acc.get(k);
    if (!a) {
      acc.set(
        k,
        a = {
          last: c,
          ticks: 0,
          sides: [0, 1, 2, 3].map(() => new Map()),
        },
      );
    }
    a.ticks++;
    a.last = c;
    [c.bids, c.asks, c.buys, c.sells].forEach((arr, s) => {
      for (let i = 0; i < c.n; i++) {
        const m = a!.sides[s];
        m.set(c.lo + i, (m.get(c.lo + i) ?? 0) + arr[i]);
      }
    });
  }
  const out = new Map<string, unknown>();
  for (const [k, a] of acc) {
    const idx = [...a.sides[0].keys()];
    const lo = Math.min(...idx);
    const hi = Math.max(...idx) + 1;
    const arr = (s: number, div: number) =>
      round6(Array.from(
        { length: hi - lo },
        (_, i) => (a.sides[s].get(lo + i) ?? 0) / div,
      ));
    out.set(k, {
      lo,
      bucketSize: a.last.bucketSize,
      bestBid: a.last.bestBid,
      bestAsk: a.last.bestAsk,
      bids: arr(0, a.ticks),
      asks: arr(1, a.ticks),
      buys: arr(2, 1),
      sells: arr(3, 1),
    });
  }
  return out;
}

/** A heatmap-shaped row's values, keyed like {@link rollupsOf}. */
function rollupRow(r: CopyRow): [string, unknown] {
  return [`${r.exchange}\t${r.exchange_symbol}\t${readTime(r.ts)}`, {
    lo: readNumber(r.lo),
    bucketSize: readNumber(r.bucket_size),
    bestBid: price(r.best_bid),
    bestAsk: price(r.best_ask),
    ...sizesOf(r.sizes),
  }];
}

for (const prefix of ["OKX", "KRAKEN"]) {
  Deno.test(`columns: ${prefix} capture, heatmap rows carry the columns, imbalance matches the books, rollups are interval means`, async () => {
    const ticks = await ticksOf(prefix);
    assert.ok(ticks.length >= 9, `${ticks.length} ticks`);
    const rows = new ColumnRows({ imbalanceDepth: DEPTH });
    const parts: CopyPart[] = [];
    for (const t of ticks) parts.push(...rows.onColumns(t.batch));
    // A column of every key a day later closes every interval still open.
    const lastOf = new Map<string, ColumnInit>();
    for (const t of ticks) {
      for (const c of t.cols) {
        lastOf.set(`${c.exchange}\t${c.exchangeSymbol}`, c);
      }
    }
    const end = ticks.at(-1)!.batch.ts + DAY;
    const closing = rows.onColumns(
      encodeColumns(end, [...lastOf.values()].map((c) => ({ ...c, ts: end }))),
    );
    assert.deepEqual(
      closing.map((p) => p.table),
      ["heatmap", "imbalances", ...Object.keys(INTERVALS)],
    );
    parts.push(...closing);
    const byTable = rowsByTable(parts);
    const cols = ticks.flatMap((t) => t.cols);
    assert.ok(cols.some((c) => c.exchange === "consolidated"));
    if (prefix === "OKX") {
      // BTC-USD-220527 and BTC-USDT merge into BTC-USD.
      assert.ok(
        cols.some((c) =>
          c.exchange === "consolidated" && c.parts?.length === 2
        ),
      );
    }

    // heatmap: one row per column, the column's own arrays to 6 digits.
    const heat = byTable.get("heatmap")!;
    assert.equal(heat.length, cols.length + lastOf.size);
    cols.forEach((c, i) => {
      const r = heat[i];
      assert.equal(readTime(r.ts), c.ts);
      assert.deepEqual(
        [r.exchange, r.exchange_symbol, r.symbol, r.market],
        [c.exchange, c.exchangeSymbol, c.symbol, c.market],
      );
      assert.equal(readNumber(r.bucket_size), c.bucketSize);
      assert.equal(readNumber(r.lo), c.lo);
      assert.equal(price(r.best_bid), c.bestBid);
      assert.equal(price(r.best_ask), c.bestAsk);
      assert.deepEqual(sizesOf(r.sizes), {
        bids: round6(c.bids),
        asks: round6(c.asks),
        buys: round6(c.buys),
        sells: round6(c.sells),
      });
    });
    assert.ok(
      cols.some((c) => c.buys.some((x) => x > 0) || c.sells.some((x) => x > 0)),
    );

    // imbalances: the book's own levels near the mid.
    const imb = byTable.get("imbalances")!;
    let i = 0;
    let oneSided = 0;
    for (const t of ticks) {
      for (const c of t.cols) {
        const r = imb[i++];
        const want = t.near.get(`${c.exchange}\t${c.exchangeSymbol}`)!;
        assert.equal(readTime(r.ts), c.ts);
        assert.equal(r.symbol, c.exchangeSymbol);
        assert.equal(readNumber(r.depth), DEPTH);
        const bid = readNumber(r.bid_size)!;
        const ask = readNumber(r.ask_size)!;
        close(bid, want.bid, `${r.symbol} bid size`);
        close(ask, want.ask, `${r.symbol} ask size`);
        if (want.bid + want.ask === 0) assert.equal(r.imbalance, null);
        else {
          close(
            readNumber(r.imbalance)!,
            (want.bid - want.ask) / (want.bid + want.ask),
            "imbalance",
          );
        }
        if (bid === 0 || ask === 0) oneSided++;
      }
    }
    assert.ok(oneSided < cols.length / 2, `${oneSided} one-sided`);

    // Rollups: the interval means and sums computed here, for closed intervals.
    for (const [table, ms] of Object.entries(INTERVALS)) {
      const got = new Map(byTable.get(table)!.map(rollupRow));
      assert.equal(
        got.size,
        byTable.get(table)!.length,
        `${table} unique rows`,
      );
      assert.deepEqual(got, rollupsOf(cols, ms), table);
    }
    if (prefix === "KRAKEN") {
      // The capture spans a minute boundary: its first minute closed on real data.
      const first = new Set(byTable.get("heatmap_1m")!.map((r) => r.ts));
      assert.equal(first.size, 2);
    }
  });
}

/** A real consolidated column of the OKX capture, to dress up. */
async function okxConsolidated(): Promise<ColumnInit> {
  const ticks = await ticksOf("OKX");
  return ticks.at(-1)!.cols.find((c) =>
    c.exchange === "consolidated" && c.parts?.length === 2
  )!;
}

Deno.test("columns: a venue entering exclusion gives one health event per entry, per key", async () => {
  const real = await okxConsolidated();
  const info = real.consolidation!;
  const [future, spot] = info.venues;
  const excl = (v: typeof future, reason: string) => ({ ...v, reason });
  const col = (
    k: number,
    key: string,
    excluded: ConsolidationInfo["excluded"],
  ): ColumnInit => ({
    ...real,
    exchangeSymbol: key,
    ts: real.ts + k * 1000,
    consolidation: { ...info, excluded },
  });
  const odd = "mid 1\tis \\ odd\nreally";
  const seq: ColumnInit[][] = [
    [col(0, "BTC-USD", [excl(spot, "a")])],
    [
      col(1, "BTC-USD", [excl(spot, "a")]),
      col(1, "BTC-EUR", [excl(spot, "b")]),
    ],
    [col(2, "BTC-USD", [])],
    [col(3, "BTC-USD", [excl(spot, "c"), excl(future, odd)])],
    [col(4, "BTC-USD", [excl(future, "d")])],
    [col(5, "BTC-USD", [excl(spot, "e")])],
  ];
  const rows = new ColumnRows();
  const events: CopyRow[] = [];
  for (const cols of seq) {
    for (const p of rows.onColumns(encodeColumns(cols[0].ts, cols))) {
      if (p.table === "health_events") events.push(...readCopyPart(p));
    }
  }
  assert.deepEqual(
    events.map((
      r,
    ) => [
      readTime(r.ts) - real.ts,
      r.exchange,
      r.connection,
      r.kind,
      r.symbol,
      r.detail,
    ]),
    [
      [0, "okx", "", "excluded", spot.exchangeSymbol, "a"],
      [1000, "okx", "", "excluded", spot.exchangeSymbol, "b"],
      [3000, "okx", "", "excluded", spot.exchangeSymbol, "c"],
      [3000, "okx", "", "excluded", future.exchangeSymbol, odd],
      [5000, "okx", "", "excluded", spot.exchangeSymbol, "e"],
    ],
  );
});

Deno.test("columns: a column with no BBO writes NULLs; a bucket size change closes the rollup interval", async () => {
  const real = await okxConsolidated();
  const minute = Math.floor(real.ts / 60_000) * 60_000;
  const empty: ColumnInit = {
    ...real,
    ts: minute + 1000,
    lo: 0,
    n: 0,
    bestBid: NaN,
    bestAsk: NaN,
    bids: new Float64Array(0),
    asks: new Float64Array(0),
    buys: new Float64Array(0),
    sells: new Float64Array(0),
  };
  const rows = new ColumnRows();
  const a = rowsByTable(rows.onColumns(encodeColumns(empty.ts, [empty])));
  const h = a.get("heatmap")![0];
  assert.deepEqual([h.best_bid, h.best_ask, h.lo], [null, null, "0"]);
  assert.deepEqual(sizesOf(h.sizes), {
    bids: [],
    asks: [],
    buys: [],
    sells: [],
  });
  assert.deepEqual(
    [a.get("imbalances")![0].bid_size, a.get("imbalances")![0].imbalance],
    ["0", null],
  );
  const first = { ...real, ts: minute + 2000 };
  assert.deepEqual(
    rows.onColumns(encodeColumns(first.ts, [first])).map((p) => p.table),
    ["heatmap", "imbalances"],
  );
  // Twice the bucket size: the minute so far (the empty column and `first`) is emitted.
  const coarse = {
    ...real,
    ts: minute + 3000,
    bucketSize: real.bucketSize * 2,
  };
  const b = rowsByTable(rows.onColumns(encodeColumns(coarse.ts, [coarse])));
  const [k, v] = rollupRow(b.get("heatmap_1m")![0]);
  assert.equal(k, `consolidated\t${real.exchangeSymbol}\t${minute}`);
  assert.deepEqual(v, {
    lo: real.lo,
    bucketSize: real.bucketSize,
    bestBid: real.bestBid,
    bestAsk: real.bestAsk,
    bids: round6(Array.from(real.bids, (x) => x / 2)),
    asks: round6(Array.from(real.asks, (x) => x / 2)),
    buys: round6(real.buys),
    sells: round6(real.sells),
  });
  assert.deepEqual([...b.keys()], [
    "heatmap",
    "imbalances",
    "heatmap_1m",
    "heatmap_5m",
    "heatmap_1h",
    "heatmap_1d",
  ]);
  // The next minute closes the coarse interval: a second row with the same ts.
  const later = { ...coarse, ts: minute + 60_000 };
  const c = rowsByTable(rows.onColumns(encodeColumns(later.ts, [later])));
  const r = c.get("heatmap_1m")![0];
  assert.equal(readTime(r.ts), minute);
  assert.equal(readNumber(r.bucket_size), real.bucketSize * 2);
  assert.deepEqual(sizesOf(r.sizes).bids, round6(real.bids));
  assert.equal(c.get("heatmap_5m"), undefined);
});

Deno.test("columns: a rollup spans the union of columns that drift apart", async () => {
  const real = await okxConsolidated();
  const minute = Math.floor(real.ts / 60_000) * 60_000;
  const drift = [0, 2 * real.n, -real.n, real.n >> 1].map((d, k) => ({
    ...real,
    ts: minute + 1000 * (k + 1),
    lo: real.lo + d,
  }));
  const rows = new ColumnRows();
  const parts: CopyPart[] = [];
  for (const c of drift) {
    parts.push(...rows.onColumns(encodeColumns(c.ts, [c])));
  }
  const next = { ...real, ts: minute + 60_000 };
  parts.push(...rows.onColumns(encodeColumns(next.ts, [next])));
  const got = new Map(rowsByTable(parts).get("heatmap_1m")!.map(rollupRow));
  assert.deepEqual(got, rollupsOf(drift, 60_000));
  const [row] = got.values() as Iterable<{ lo: number; bids: number[] }>;
  assert.equal(row.lo, real.lo - real.n);
  assert.equal(row.bids.length, 4 * real.n);
});
