import assert from "node:assert/strict";
import fc from "fast-check";
import { BookSide } from "./book.ts";
import { Ladder, MAX_SLOTS } from "./ladder.ts";

/** Both layouts of one side: the ladder (default) and sorted arrays alone. */
function pair(bid: boolean): [BookSide, BookSide] {
  return [new BookSide(bid), new BookSide(bid, false, false)];
}

/** The two sides hold the same levels, in the same order, as the same doubles. */
function assertSame(lad: BookSide, ref: BookSide, at: string): void {
  assertBestLevels(lad, ref, at);
  assert.equal(lad.length, ref.length, at);
  assert.equal(lad.best(), ref.best(), at);
  assert.deepEqual(
    lad.prices.slice(0, lad.length),
    ref.prices.slice(0, ref.length),
    at,
  );
  assert.deepEqual(
    lad.sizes.slice(0, lad.length),
    ref.sizes.slice(0, ref.length),
    at,
  );
}

/**
 * Prices as venues send them: decimal strings on a grid of 10^-d, parsed
 * with `parseFloat` (the scanners and adapters give the same doubles).
 */
const priceText = (decimals: number, mid: number, spread: number) =>
  fc.integer({ min: -spread, max: spread }).map((t) =>
    ((mid + t) / 10 ** decimals).toFixed(decimals)
  );

/** One change: a price and a size (about a quarter of them deletions). */
const change = (decimals: number, mid: number, spread: number) =>
  fc.tuple(
    priceText(decimals, mid, spread),
    fc.oneof(
      fc.constant("0"),
      fc.integer({ min: 1, max: 1e8 }).map((q) => (q / 1e4).toFixed(4)),
      fc.integer({ min: 1, max: 1e8 }).map((q) => (q / 1e4).toFixed(4)),
      fc.integer({ min: 1, max: 1e8 }).map((q) => (q / 1e4).toFixed(4)),
    ),
  );

/**
 * `bestLevels` on both layouts (the ladder's read before its sorted copy is
 * written) gives the sorted arrays' levels best first: all of them, as many
 * as the arrays hold, and down to a bound.
 */
function assertBestLevels(lad: BookSide, ref: BookSide, at: string): void {
  const n = ref.length;
  const want = (k: number) => {
    const p: number[] = [];
    const q: number[] = [];
    for (let i = n - 1; i >= n - k; i--) {
      p.push(ref.prices[i]);
      q.push(ref.sizes[i]);
    }
    return [p, q];
  };
  const bound = n ? ref.prices[n >> 1] : NaN;
  const within = n ? n - (n >> 1) : 0; // the middle level and all better
  const cases = [
    [n + 2, NaN, n],
    [n >> 2, NaN, n >> 2],
    [n + 2, bound, within],
    [within >> 1, bound, within >> 1],
  ];
  const m = n >> 1;
  const ps = ref.prices;
  // Between the middle level and the next worse one: the same levels;
  // between it and the next better one: one fewer.
  if (m >= 1) cases.push([n, (ps[m] + ps[m - 1]) / 2, within]);
  if (m + 1 < n) cases.push([n, (ps[m] + ps[m + 1]) / 2, within - 1]);
  if (n >= 2) {
    // Bids rise to the best: beyond it no level, past the worst all.
    const bid = ps[0] < ps[n - 1];
    cases.push([n, bid ? Infinity : -Infinity, 0]);
    cases.push([n, bid ? -Infinity : Infinity, n]);
  }
  for (const [room, b, k] of cases) {
    for (const side of [lad, ref]) {
      const p = new Float64Array(room);
      const q = new Float64Array(room);
      assert.equal(side.bestLevels(p, q, b), k, `${at}: ${room} ${b}`);
      assert.deepEqual(
        [[...p.slice(0, k)], [...q.slice(0, k)]],
        want(k),
        `${at}: best levels, room ${room}, bound ${b}`,
      );
    }
  }
}

Deno.test("Ladder: a side on a price grid holds exactly what sorted arrays hold, after every change, column frame, truncation and clear", () => {
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.integer({ min: 0, max: 8 }),
      fc.array(
        // Up to 150 levels: frames of 64 or more make room at once.
        fc.array(change(2, 6_000_000, 3000), { minLength: 1, maxLength: 150 }),
        { minLength: 1, maxLength: 30 },
      ),
      fc.integer({ min: 1, max: 400 }),
      (bid, extraDecimals, frames, depth) => {
        const [lad, ref] = pair(bid);
        for (let f = 0; f < frames.length; f++) {
          const prices = new Float64Array(frames[f].length);
          const sizes = new Float64Array(frames[f].length);
          frames[f].forEach(([p, q], i) => {
            // Some frames move to a finer grid part way: the ladder rescales.
            prices[i] = f === 3 && extraDecimals > 0
              ? Number(p) + 10 ** -(2 + extraDecimals)
              : Number(p);
            sizes[i] = Number(q);
            ref.set(prices[i], sizes[i]);
          });
          // Even frames as a scanner's columns, odd ones level by level.
          if (f % 2 === 0) {
            lad.applyColumns({ prices, sizes, count: prices.length });
          } else {
            for (let i = 0; i < prices.length; i++) {
              lad.set(prices[i], sizes[i]);
            }
          }
          if (f % 5 === 4) {
            const a: number[] = [];
            const b: number[] = [];
            assert.equal(lad.truncate(depth, a), ref.truncate(depth, b));
            assert.deepEqual(a, b);
          }
          assertSame(lad, ref, `frame ${f}`);
          assert.deepEqual(lad.top(10), ref.top(10));
          if (f === 20) {
            lad.clear();
            ref.clear();
            assertSame(lad, ref, "after clear");
          }
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("Ladder: prices off every grid, or a span too wide or too sparse, leave the ladder for sorted arrays with nothing lost", () => {
  const cases: [string, number[]][] = [
    // An irrational-looking double no 10^-15 grid takes.
    ["off grid", [100.5, 100.4, Math.PI * 10, 100.3]],
    // Two levels 10^7 ticks apart: too sparse a span.
    ["sparse", [100.01, 100.02, 100_100.01, 100.03]],
    // A span wider than the ladder.
    ["wide", [1, 1 + (MAX_SLOTS + 10) / 100]],
  ];
  for (const [name, prices] of cases) {
    for (const bid of [true, false]) {
      const [lad, ref] = pair(bid);
      assert.equal(lad.laddered, true);
      for (let i = 0; i < prices.length; i++) {
        lad.set(prices[i], i + 1);
        ref.set(prices[i], i + 1);
        assertSame(lad, ref, `${name} ${bid} ${i}`);
      }
      assert.equal(lad.laddered, false, name);
      // The same levels as one column frame: the refused one and the rest
      // go on sorted arrays.
      const [cols, colsRef] = pair(bid);
      cols.applyColumns({
        prices: Float64Array.from(prices),
        sizes: Float64Array.from(prices, (_, i) => i + 1),
        count: prices.length,
      });
      prices.forEach((p, i) => colsRef.set(p, i + 1));
      assertSame(cols, colsRef, `${name} ${bid} columns`);
      assert.equal(cols.laddered, false, name);
      // Deleting the far level and clearing lets the side try a ladder again.
      lad.clear();
      ref.clear();
      assert.equal(lad.laddered, true, name);
      lad.set(100.5, 1);
      ref.set(100.5, 1);
      assertSame(lad, ref, `${name} ${bid} again`);
    }
  }
});

Deno.test("Ladder: a snapshot too sparse for a ladder goes to sorted arrays at once, exactly", () => {
  for (const bid of [true, false]) {
    const [lad, ref] = pair(bid);
    // 100 levels a dollar apart on a cent grid: 9,901 ticks, too sparse.
    // As a venue's text parses: `(100.01 + i).toFixed(2)`.
    const prices = Float64Array.from(
      { length: 100 },
      (_, i) => Number((100.01 + i).toFixed(2)),
    );
    const sizes = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    lad.applyColumns({ prices, sizes, count: 100 });
    prices.forEach((p, i) => ref.set(p, sizes[i]));
    assertSame(lad, ref, `sparse ${bid}`);
    assert.equal(lad.laddered, false);
    // Ten cents apart (991 ticks) fits: it stays a ladder.
    const [dense, denseRef] = pair(bid);
    const near = Float64Array.from(
      prices,
      (_, i) => Number((100.01 + i / 10).toFixed(2)),
    );
    dense.applyColumns({ prices: near, sizes, count: 100 });
    near.forEach((p, i) => denseRef.set(p, sizes[i]));
    assertSame(dense, denseRef, `dense ${bid}`);
    assert.equal(dense.laddered, true);
  }
});

Deno.test("Ladder: deleting the best finds the next best across bitmap words, and absent or off-grid deletes change nothing", () => {
  for (const bid of [true, false]) {
    const l = new Ladder(bid);
    // Ticks of 0.01 far enough apart to sit in different 32-slot words.
    const prices = [50.01, 50.32, 50.33, 51.64, 52.95, 52.96];
    for (const p of prices) assert.equal(l.set(p, 1), true);
    const order = bid ? [...prices].reverse() : prices;
    for (let i = 0; i < order.length; i++) {
      assert.equal(l.best(), order[i]);
      assert.equal(l.set(50.005, 0), true); // off the grid: absent
      assert.equal(l.set(1e9, 0), true); // out of the window: absent
      assert.equal(l.set(order[i], 0), true);
      assert.equal(l.count, order.length - i - 1);
    }
    assert.ok(Number.isNaN(l.best()));
  }
});

Deno.test("Ladder: prices of every shared capture's grids come back as the very doubles parsed from their text", () => {
  // Decimal places the venues use, on prices from 1e-8 to 1e6.
  const texts = [
    "0.00001234",
    "0.5",
    "14.8024",
    "1.23456789",
    "60000.01000000",
    "60000.01",
    "2999.9",
    "123456.5",
    "0.000000015",
  ];
  for (const t of texts) {
    const l = new Ladder(true);
    const p = Number(t);
    assert.equal(l.set(p, 2), true, t);
    assert.equal(l.best(), p, t);
    const prices = new Float64Array(1);
    const sizes = new Float64Array(1);
    l.write(prices, sizes);
    assert.equal(prices[0], p, t);
    assert.equal(sizes[0], 2, t);
  }
});

Deno.test("Ladder: a side nearly as wide as the ladder is refused whole, never written past its end", () => {
  for (const bid of [true, false]) {
    const [lad, ref] = pair(bid);
    // 8,200 whole-number levels from 5 to 262,148: dense enough, and
    // MAX_SLOTS ticks wide, where centring the window would round it past
    // its end.
    const n = 8200;
    const prices = Float64Array.from(
      { length: n },
      (_, i) => Math.round(5 + i * (MAX_SLOTS - 1) / (n - 1)),
    );
    const sizes = Float64Array.from({ length: n }, (_, i) => i + 1);
    lad.applyColumns({ prices, sizes, count: n });
    prices.forEach((p, i) => ref.set(p, sizes[i]));
    assertSame(lad, ref, `wide ${bid}`);
    assert.equal(lad.prices[lad.length - 1], ref.prices[ref.length - 1]);
  }
});

Deno.test("Ladder: truncating to no depth, a negative one or NaN drops every level on both layouts", () => {
  for (const depth of [0, -1, NaN]) {
    for (const bid of [true, false]) {
      const [lad, ref] = pair(bid);
      for (const p of [100.01, 100.02, 100.03]) {
        lad.set(p, 1);
        ref.set(p, 1);
      }
      const a: number[] = [];
      const b: number[] = [];
      assert.equal(lad.truncate(depth, a), 3);
      assert.equal(ref.truncate(depth, b), 3);
      assert.deepEqual(a, b);
      assertSame(lad, ref, `depth ${depth}`);
      assert.equal(lad.length, 0);
    }
  }
});
