import assert from "node:assert/strict";
import { buildPalette, colorIndex } from "./heatmap.ts";

Deno.test("buildPalette runs from dark blue to white", () => {
  const p = buildPalette(32);
  assert.equal(p.length, 32);
  assert.equal(p[0], "rgb(13,27,76)");
  assert.equal(p[31], "rgb(255,255,255)");
  assert.equal(new Set(p).size, 32);
  assert.throws(() => buildPalette(1), /got 1/);
});

Deno.test("colorIndex maps log sizes over the configured decades", () => {
  const cfg = {
    scale: "log" as const,
    maxSize: 1000,
    paletteSize: 32,
    logDecades: 3,
  };
  assert.equal(colorIndex(1000, cfg), 31);
  assert.equal(colorIndex(1, cfg), 0);
  assert.equal(colorIndex(0.001, cfg), 0);
  assert.equal(colorIndex(10 ** 1.5, cfg), 16); // halfway up the 3 decades
  assert.equal(colorIndex(100, cfg), 21);
});

Deno.test("colorIndex maps linear sizes proportionally", () => {
  const cfg = {
    scale: "linear" as const,
    maxSize: 10,
    paletteSize: 32,
    logDecades: 3,
  };
  assert.equal(colorIndex(10, cfg), 31);
  assert.equal(colorIndex(5, cfg), 16);
  assert.equal(colorIndex(0.01, cfg), 0);
});
