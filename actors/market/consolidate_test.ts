import assert from "node:assert/strict";
import { weightedMedian } from "./consolidate.ts";

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
