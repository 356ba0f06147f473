import assert from "node:assert/strict";
import { priceDecimals, priceLabels, priceSteps } from "./price_axis.ts";

Deno.test("priceDecimals are the decimals of the grid step", () => {
  const cases: [number, number][] = [
    [10, 0],
    [1, 0],
    [2.5, 1],
    [0.5, 1],
    [0.01, 2],
    [0.05, 2],
    [0.0001, 4],
    [1e-8, 8],
  ];
  for (const [tick, d] of cases) {
    assert.equal(priceDecimals(tick), d, `${tick}`);
  }
  assert.equal(priceDecimals(0), 2);
  assert.equal(priceDecimals(NaN), 2);
});

Deno.test("price labels never repeat, at any zoom, on the grid's steps", () => {
  for (const tick of [0.01, 0.5, 2.5, 10, 0.0001]) {
    const d = priceDecimals(tick);
    const steps = priceSteps(tick);
    assert.equal(steps[0], tick);
    for (let i = 1; i < steps.length; i++) assert.ok(steps[i] > steps[i - 1]);
    // Any run of splits a step apart, from a grid price, prints distinct labels.
    for (const step of steps.slice(0, 9)) {
      const start = Math.round(60_000 / tick) * tick;
      const splits = Array.from({ length: 12 }, (_, i) => start + i * step);
      const labels = priceLabels(splits, d);
      assert.equal(new Set(labels).size, labels.length, labels.join(" "));
      // Each label reads the split's price on the grid.
      for (let i = 0; i < splits.length; i++) {
        assert.ok(Math.abs(Number(labels[i]) - splits[i]) < tick / 2);
      }
    }
  }
  assert.throws(() => priceSteps(0), RangeError);
});
