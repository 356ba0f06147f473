import assert from "node:assert/strict";
import type uPlot from "uplot";
import { ColumnRing, type HeatColumn } from "./columns.ts";
import {
  columnAt,
  columnSpan,
  midOf,
  OVERLAY_COLORS,
  overlayPlugin,
  tradeRadius,
} from "./overlays.ts";

/** A Path2D that records its commands (Deno has no canvas). */
class RecPath {
  ops: [string, ...number[]][] = [];
  moveTo(x: number, y: number) {
    this.ops.push(["moveTo", x, y]);
  }
  lineTo(x: number, y: number) {
    this.ops.push(["lineTo", x, y]);
  }
  arc(x: number, y: number, r: number) {
    this.ops.push(["arc", x, y, r]);
  }
  rect(x: number, y: number, w: number, h: number) {
    this.ops.push(["rect", x, y, w, h]);
  }
  closePath() {}
}
const g = globalThis as unknown as Record<string, unknown>;
g.Path2D = RecPath;
g.devicePixelRatio = 1;

/** A column of 4 buckets of 1.0 from price 100, BBO 101 / 102. */
function col(
  ts: number,
  buys = [0, 0, 0, 0],
  sells = [0, 0, 0, 0],
): HeatColumn {
  return {
    ts,
    symbol: "BTC-USDT",
    bucketSize: 1,
    lo: 100,
    bids: [1, 2, 0, 0],
    asks: [0, 0, 3, 4],
    buys,
    sells,
    bestBid: 101,
    bestAsk: 102,
    mid: 101.5,
    exchanges: ["binance"],
    consolidation: null,
    liquidations: [],
  };
}

/** A stub uPlot over a ring: x spans its columns, y 100–104. */
function stub(ring: ColumnRing) {
  const drawn: { style: string; op: "stroke" | "fill"; path: RecPath }[] = [];
  const bbox = { left: 0, top: 0, width: 400, height: 400 };
  const scales = {
    x: {
      min: ring.at(0).ts / 1000,
      max: ring.at(ring.length - 1).ts / 1000 + 1,
    },
    y: { min: 100, max: 104 },
  };
  const ctx = {
    strokeStyle: "",
    fillStyle: "",
    lineWidth: 1,
    lineJoin: "",
    font: "",
    textBaseline: "",
    save() {},
    restore() {},
    beginPath() {},
    rect() {},
    clip() {},
    setLineDash() {},
    moveTo() {},
    lineTo() {},
    closePath() {},
    fill(p?: RecPath) {
      if (p) drawn.push({ style: ctx.fillStyle, op: "fill", path: p });
    },
    fillRect() {},
    fillText() {},
    stroke(p: RecPath) {
      drawn.push({ style: ctx.strokeStyle, op: "stroke", path: p });
    },
  };
  const u = {
    bbox,
    scales,
    ctx,
    valToPos(v: number, key: string) {
      const s = key === "x" ? scales.x : scales.y;
      const f = (v - s.min) / (s.max - s.min);
      return key === "x" ? f * bbox.width : (1 - f) * bbox.height;
    },
  } as unknown as uPlot;
  return { u, drawn };
}

Deno.test("tradeRadius: bubble area proportional to volume", () => {
  const r1 = tradeRadius(1, 16, 8), r4 = tradeRadius(4, 16, 8);
  assert.equal(tradeRadius(16, 16, 8), 8);
  assert.ok(Math.abs((r4 * r4) / (r1 * r1) - 4) < 1e-12);
  assert.equal(tradeRadius(0, 16, 8), 0);
});

Deno.test("columnSpan, columnAt and midOf follow the heatmap's columns", () => {
  const ring = new ColumnRing(8);
  for (const ts of [1000, 2000, 10_000]) ring.push(col(ts));
  assert.deepEqual(columnSpan(ring, 0, 1), [1, 2]);
  // Across a gap the column spans one tick.
  assert.deepEqual(columnSpan(ring, 1, 1), [2, 3]);
  assert.deepEqual(columnSpan(ring, 2, 1), [10, 11]);
  assert.equal(columnAt(ring, 0.5), -1);
  assert.equal(columnAt(ring, 1.5), 0);
  assert.equal(columnAt(ring, 9.9), 1);
  assert.equal(columnAt(ring, 99), 2);
  assert.equal(midOf(col(1)), 101.5);
  assert.equal(midOf({ ...col(1), mid: null }), 101.5);
  assert.equal(midOf({ ...col(1), mid: null, bestAsk: null }), 101);
});

Deno.test("overlays: BBO lines reach the right edge; trades below the minimum are not drawn", () => {
  const ring = new ColumnRing(8);
  ring.push(col(1000, [0, 2, 0, 0], [0, 0, 0.5, 0]));
  ring.push(col(2000, [0, 0, 0, 8], [0, 0, 0, 0]));
  const { u, drawn } = stub(ring);
  let min = 0;
  const plugin = overlayPlugin({
    columns: () => ring,
    minTradeSize: () => min,
  });
  const draw = plugin.hooks.draw as (u: uPlot) => void;
  draw(u);
  const ask = drawn.find((d) =>
    d.op === "stroke" && d.style === OVERLAY_COLORS.ask
  )!;
  const xs = ask.path.ops.map((o) => o[1]);
  // From the left edge of the first column to the right edge of the newest.
  assert.equal(Math.min(...xs), 0);
  assert.equal(Math.max(...xs), 400);
  // The ask at 102: y = (1 - 2/4) · 400.
  assert.ok(ask.path.ops.every((o) => o[2] === 200));
  const bubbles = (style: string) =>
    drawn.filter((d) => d.op === "fill" && d.style === style)
      .flatMap((d) => d.path.ops.filter((o) => o[0] === "arc"));
  const buys = bubbles(OVERLAY_COLORS.buy);
  const sells = bubbles(OVERLAY_COLORS.sell);
  assert.equal(buys.length, 2);
  assert.equal(sells.length, 1);
  // The largest volume gets the largest radius; areas ∝ volume.
  const r8 = Math.max(...buys.map((o) => o[3]));
  const r2 = Math.min(...buys.map((o) => o[3]));
  assert.equal(r8, 9);
  assert.ok(Math.abs((r8 * r8) / (r2 * r2) - 4) < 1e-9);
  // Bubbles sit at their bucket's middle: bucket 1 (101–102) of column 0.
  const first = buys.find((o) => o[3] === r2)!;
  assert.equal(first[1], 100);
  assert.equal(first[2], 250);
  // A minimum of 1 drops the 0.5 sell.
  drawn.length = 0;
  min = 1;
  draw(u);
  assert.equal(bubbles(OVERLAY_COLORS.sell).length, 0);
  assert.equal(bubbles(OVERLAY_COLORS.buy).length, 2);
  // The depth profile: the newest column's four buckets.
  const depth = drawn.filter((d) =>
    d.op === "fill" &&
    (d.style === OVERLAY_COLORS.depthBid || d.style === OVERLAY_COLORS.depthAsk)
  ).flatMap((d) => d.path.ops);
  assert.equal(depth.length, 4);
  // The largest (asks 4) is the full width, ending at the right edge.
  const widest = depth.reduce((a, b) => b[3] > a[3] ? b : a);
  assert.equal(widest[1] + widest[3], 400);
  assert.equal(widest[3], 90);
});

Deno.test("overlays: liquidations are triangles apart from trades, long down and short up, sized by volume", () => {
  const ring = new ColumnRing(8);
  ring.push({
    ...col(1000, [0, 3, 0, 0]),
    liquidations: [
      { bucket: 101, longs: 4, shorts: 0 },
      { bucket: 102, longs: 0, shorts: 1 },
    ],
  });
  ring.push(col(2000));
  const { u, drawn } = stub(ring);
  // A trade minimum above every volume hides the trades, not liquidations.
  const plugin = overlayPlugin({ columns: () => ring, minTradeSize: () => 10 });
  (plugin.hooks.draw as (u: uPlot) => void)(u);
  const marks = (style: string) =>
    drawn.filter((d) => d.op === "fill" && d.style === style)
      .flatMap((d) => d.path.ops);
  assert.equal(marks(OVERLAY_COLORS.buy).length, 0);
  const longs = marks(OVERLAY_COLORS.longLiquidation);
  const shorts = marks(OVERLAY_COLORS.shortLiquidation);
  assert.deepEqual(longs.map((o) => o[0]), ["moveTo", "lineTo", "lineTo"]);
  assert.deepEqual(shorts.map((o) => o[0]), ["moveTo", "lineTo", "lineTo"]);
  // Centred on the column (x 0–200) and the bucket's middle: 101.5 → y 250.
  const [, lx0, ly0] = longs[0], [, lx1] = longs[1], [, lax, lay] = longs[2];
  assert.equal((lx0 + lx1) / 2, 100);
  assert.equal(lax, 100);
  // Longs point down (apex below the base), the largest at 11 px.
  assert.equal(ly0, 250 - 11);
  assert.equal(lay, 250 + 11);
  // Shorts point up, a quarter of the volume at half the size.
  const [, , sy0] = shorts[0], [, , say] = shorts[2];
  assert.equal(sy0, 150 + 5.5);
  assert.equal(say, 150 - 5.5);
});
