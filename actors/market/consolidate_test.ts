import assert from "node:assert/strict";
import fc from "fast-check";
import { consolidate, mergeColumns, weightedMedian } from "./consolidate.ts";
import { type ColumnInit, decodeColumns, encodeColumns } from "./heatmap.ts";

Deno.test("weightedMedian: the lowest value at or below which half the weight lies", () => {
  // 9 of 12 at or below 101, 5 of 12 at or below 100.
  assert.equal(weightedMedian([100, 101, 150], [5, 4, 3]), 101);
  // Order of the input does not matter.
  assert.equal(weightedMedian([150, 100, 101], [3, 5, 4]), 101);
  // One heavy venue is the consensus however many light ones disagree.
  assert.equal(weightedMedian([100, 101, 150], [1, 1, 10]), 150);
  assert.equal(weightedMedian([42], [7]), 42);
});

Deno.test("weightedMedian: an exact half picks the lower value, never an average", () => {
  // Two venues of equal weight: the consensus is one of them, so at least
  // one venue agrees with it (an average would sit between and exclude both).
  assert.equal(weightedMedian([100, 200], [1, 1]), 100);
  assert.equal(weightedMedian([1, 2, 3, 4], [1, 1, 1, 1]), 2);
  assert.equal(weightedMedian([1, 2, 3, 4], [1, 1, 1, 1.0001]), 3);
});

Deno.test("weightedMedian: zero weights are never chosen; all zero counts equally", () => {
  assert.equal(weightedMedian([100, 150, 200], [2, 0, 2]), 100);
  assert.equal(weightedMedian([10, 150, 200], [0, 3, 1]), 150);
  // No weight anywhere: the plain lower median.
  assert.equal(weightedMedian([300, 100, 200], [0, 0, 0]), 200);
  // Bad weights count as zero.
  assert.equal(weightedMedian([100, 200, 300], [-5, NaN, 1]), 300);
});

Deno.test("weightedMedian: values that are not finite are ignored", () => {
  assert.equal(
    weightedMedian([NaN, 100, 200, Infinity], [100, 1, 2, 100]),
    200,
  );
  assert.ok(Number.isNaN(weightedMedian([NaN], [1])));
  assert.ok(Number.isNaN(weightedMedian([], [])));
  assert.throws(
    () => weightedMedian([1, 2], [1]),
    (e) => e instanceof RangeError && /2 vs 1/.test(e.message),
  );
});

/**
 * A tick's columns: symbols quoted by one to four venues around a mid each,
 * some venues off by a few percent (excluded as outliers), with sizes,
 * trades and spans drawn at random.
 */
const tickColumns = fc.array(
  fc.record({
    mid: fc.integer({ min: 1000, max: 100_000 }),
    venues: fc.array(
      fc.record({
        off: fc.oneof(fc.constant(0), fc.integer({ min: -80, max: 80 })),
        lo: fc.integer({ min: -60, max: 0 }),
        n: fc.integer({ min: 0, max: 120 }),
        seed: fc.integer({ min: 1, max: 1e6 }),
      }),
      { minLength: 1, maxLength: 4 },
    ),
  }),
  { minLength: 1, maxLength: 5 },
).map((symbols) => {
  const cols: ColumnInit[] = [];
  symbols.forEach(({ mid, venues }, s) => {
    venues.forEach(({ off, lo, n, seed }, v) => {
      let x = seed;
      const next = () => (x = (x * 48271) % 2147483647) / 2147483647;
      const fill = () => Float64Array.from({ length: n }, () => next() * 10);
      const m = mid + off * mid / 1000; // up to 8 % away: some are outliers
      cols.push({
        exchange: `venue${v}`,
        exchangeSymbol: `S${s}`,
        symbol: `S${s}-USD`,
        market: "spot",
        ts: 1_700_000_000_000,
        bucketSize: 1,
        lo: Math.floor(m) + lo,
        n,
        bestBid: m - 0.5,
        bestAsk: m + 0.5,
        bids: fill(),
        asks: fill(),
        buys: fill(),
        sells: fill(),
      });
    });
  });
  return cols;
});

Deno.test("consolidate: one buffer holds the exchanges' columns as given, then each key's mergeColumns, exactly", () => {
  fc.assert(
    fc.property(tickColumns, (cols) => {
      const opts = { outlierThreshold: 0.02, range: 0.05 };
      const out = decodeColumns(consolidate(encodeColumns(0, cols), opts));
      const keys = [...new Set(cols.map((c) => c.symbol))];
      const want = [
        ...cols,
        ...keys.map((k) =>
          mergeColumns(cols.filter((c) => c.symbol === k), opts)
        ),
      ];
      assert.equal(out.length, want.length);
      for (let i = 0; i < want.length; i++) {
        const { offset: _, ...got } = out[i];
        assert.deepEqual(got, want[i]);
      }
    }),
    { numRuns: 200 },
  );
});

Deno.test("encodeColumns: columns packed in one buffer as a batch lays them out are taken without a copy; any other layout is copied", () => {
  fc.assert(
    fc.property(tickColumns, (cols) => {
      const total = cols.reduce((a, c) => a + 4 * c.n, 0);
      const all = new Float64Array(total);
      let off = 0;
      const packed = cols.map((c) => {
        const view = (k: number, a: Float64Array) => {
          const v = all.subarray(off + k * c.n, off + (k + 1) * c.n);
          v.set(a);
          return v;
        };
        const p = {
          ...c,
          bids: view(0, c.bids),
          asks: view(1, c.asks),
          buys: view(2, c.buys),
          sells: view(3, c.sells),
        };
        off += 4 * c.n;
        return p;
      });
      const copied = encodeColumns(7, cols, { range: 0.05 });
      const taken = encodeColumns(7, packed, { range: 0.05 });
      assert.equal(taken.buf, all.buffer);
      assert.notEqual(copied.buf, all.buffer);
      assert.deepEqual(decodeColumns(taken), decodeColumns(copied));
      assert.deepEqual(taken.columns, copied.columns);
      // The same views in another order are not a batch's layout: copied.
      if (packed.length > 1 && packed[0].n > 0) {
        const swapped = encodeColumns(7, [...packed].reverse());
        assert.notEqual(swapped.buf, all.buffer);
        assert.deepEqual(
          decodeColumns(swapped).map(({ offset: _, ...c }) => c),
          decodeColumns(encodeColumns(7, [...cols].reverse())).map((
            { offset: _, ...c },
          ) => c),
        );
      }
    }),
    { numRuns: 200 },
  );
});

Deno.test("consolidate: a key quoted by one venue points at that venue's column; a batch of such keys keeps its buffer", () => {
  fc.assert(
    fc.property(tickColumns, (cols) => {
      // One venue a key, quoting at its own mid: its column is the key's.
      const solo = cols.filter((c, i) =>
        cols.findIndex((d) => d.symbol === c.symbol) === i
      ).map((c) => {
        const a = () => Float64Array.from({ length: 20 }, (_, j) => j + 1);
        return {
          ...c,
          lo: Math.floor(c.bestBid) - 10,
          n: 20,
          bids: a(),
          asks: a(),
          buys: a(),
          sells: a(),
        };
      });
      const input = encodeColumns(0, solo, { range: 0.05 });
      const buf = input.buf;
      const out = consolidate(input);
      assert.equal(out.buf, buf);
      const k = solo.length;
      assert.equal(out.columns.length, 2 * k);
      for (let i = 0; i < k; i++) {
        assert.equal(out.columns[k + i].offset, out.columns[i].offset);
        assert.equal(out.columns[k + i].exchange, "consolidated");
      }
    }),
    { numRuns: 100 },
  );
});
