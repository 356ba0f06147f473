import assert from "node:assert/strict";
import type uPlot from "uplot";
import { ColumnRing, type HeatColumn } from "../columns.ts";
import {
  buildPalette,
  buildPalettes,
  colorIndex,
  type HeatmapDrawStats,
  heatmapPlugin,
  type HeatmapPluginOptions,
  mergeColumn,
  scaleBottom,
  sizePercentile,
} from "./heatmap.ts";

// ---- pure helpers ----------------------------------------------------------

Deno.test("buildPalette runs from dark blue to white", () => {
  const p = buildPalette(32);
  assert.equal(p.length, 32);
  assert.equal(p[0], "rgb(13,27,76)");
  assert.equal(p[31], "rgb(255,255,255)");
  assert.equal(new Set(p).size, 32);
  assert.throws(() => buildPalette(1), /got 1/);
});

/** Relative luminance (WCAG) of `rgb(r,g,b)`. */
function luminance(css: string): number {
  const [r, g, b] = css.match(/\d+/g)!.map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

Deno.test("buildPalettes: separate is greens for bids and reds for asks, each brightening and visible on the page", () => {
  const combined = buildPalettes("combined", 32);
  assert.deepEqual(combined.map((p) => p.name), ["combined"]);
  assert.deepEqual(combined[0].css, buildPalette(32));
  const [bids, asks] = buildPalettes("separate", 32);
  assert.equal(bids.name, "bids");
  assert.equal(asks.name, "asks");
  const bg = luminance("rgb(7,10,18)"); // --bg of ui/style.css
  for (const p of [bids, asks]) {
    assert.equal(p.rgb.length, 3 * 32);
    assert.equal(new Set(p.css).size, 32);
    for (let k = 1; k < 32; k++) {
      assert.ok(
        luminance(p.css[k]) >= luminance(p.css[k - 1]),
        `${p.name} ${k}: ${p.css[k - 1]} → ${p.css[k]}`,
      );
    }
    // The coldest colour still stands out from the background (contrast ≥ 1.25).
    const contrast = (luminance(p.css[0]) + 0.05) / (bg + 0.05);
    assert.ok(contrast >= 1.25, `${p.name} coldest contrast ${contrast}`);
  }
  // Hue families: mid-palette bids are green-dominant, asks red-dominant.
  for (const k of [8, 16, 24]) {
    const [br, bg2, bb] = bids.rgb.subarray(3 * k, 3 * k + 3);
    const [ar, ag, ab] = asks.rgb.subarray(3 * k, 3 * k + 3);
    assert.ok(bg2 > br && bg2 > bb, `bids ${k}: ${bids.css[k]}`);
    assert.ok(ar > ag && ar > ab, `asks ${k}: ${asks.css[k]}`);
  }
});

Deno.test("colorIndex spreads [bottom, top] over the palette", () => {
  const log = { scale: "log" as const, top: 1000, bottom: 1, paletteSize: 32 };
  assert.equal(colorIndex(1000, log), 31);
  assert.equal(colorIndex(5000, log), 31);
  assert.equal(colorIndex(1, log), 0);
  assert.equal(colorIndex(0.001, log), 0);
  assert.equal(colorIndex(10 ** 1.5, log), 16); // halfway up the 3 decades
  assert.equal(colorIndex(100, log), 21);
  const lin = { scale: "linear" as const, top: 10, bottom: 0, paletteSize: 32 };
  assert.equal(colorIndex(10, lin), 31);
  assert.equal(colorIndex(5, lin), 16);
  assert.equal(colorIndex(0.01, lin), 0);
  assert.equal(scaleBottom(500, { scale: "log", logDecades: 3 }), 0.5);
  assert.equal(scaleBottom(500, { scale: "linear", logDecades: 3 }), 0);
});

/** Nearest-rank percentile by sorting, the reference for the selection. */
function sortedPercentile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.max(1, Math.ceil(q * s.length)) - 1];
}

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("sizePercentile matches a sort of the positive sizes, over ranges", () => {
  const rand = rng(7);
  for (const n of [1, 2, 3, 10, 101, 1000, 4097, 70_000]) {
    const skewed = Array.from(
      { length: n },
      () => rand() < 0.2 ? 0 : Math.exp(rand() * 12),
    );
    const ties = Array.from({ length: n }, () => Math.floor(rand() * 5));
    for (const vals of [skewed, ties]) {
      const arr = Float64Array.from(vals);
      const before = arr.slice();
      const positive = vals.filter((v) => v > 0);
      for (const q of [0, 0.5, 0.9, 0.99, 1]) {
        const r = sizePercentile(arr, q);
        assert.equal(r.count, positive.length);
        assert.equal(r.max, positive.length ? Math.max(...positive) : 0);
        assert.equal(
          r.value,
          positive.length ? sortedPercentile(positive, q) : 0,
          `n ${n} q ${q}`,
        );
      }
      assert.deepEqual(arr, before, "the sizes are left as they were");
      // Two ranges (a wrapped ring): the values in them only.
      const cut = Math.floor(n / 3);
      const inRanges = vals.slice(0, cut).concat(vals.slice(2 * cut))
        .filter((v) => v > 0);
      const r = sizePercentile(arr, 0.99, {
        ranges: [[2 * cut, n], [0, cut]],
      });
      assert.equal(r.count, inRanges.length);
      if (inRanges.length) {
        assert.equal(r.value, sortedPercentile(inRanges, 0.99));
      }
    }
  }
  // Empty, negative and NaN sizes are not cells.
  const odd = Float64Array.from([0, -5, NaN, 3, 1, 2]);
  assert.deepEqual(sizePercentile(odd, 0.5), { count: 3, max: 3, value: 2 });
  assert.deepEqual(sizePercentile(new Float64Array(4), 0.99), {
    count: 0,
    max: 0,
    value: 0,
  });
  assert.throws(() => sizePercentile(odd, 1.5), /got 1.5/);
  assert.throws(
    () => sizePercentile(odd, 0.5, { ranges: [[2, 9]] }),
    /Range \[2, 9\)/,
  );
});

function column(
  ts: number,
  lo: number,
  bids: number[],
  asks: number[],
  bucketSize = 1,
): HeatColumn {
  const zeros = bids.map(() => 0);
  return {
    ts,
    symbol: "BTC-USDT",
    bucketSize,
    lo,
    bids,
    asks,
    buys: zeros,
    sells: zeros,
    bestBid: null,
    bestAsk: null,
    mid: null,
    exchanges: ["binance"],
    consolidation: null,
    liquidations: [],
  };
}

Deno.test("mergeColumn sums buckets on the absolute grid and marks the larger side", () => {
  // Buckets 101…106 (lo = 101): cells of 2 are [100,101] [102,103] [104,105] [106,107].
  const col = column(0, 101, [1, 2, 0, 0, 0, 0], [0, 0, 3, 4, 0, 0.5]);
  const out = {
    total: new Float64Array(6),
    side: new Uint8Array(6),
    offset: 0,
    stride: 1,
  };
  const n = mergeColumn(col, { bucketMultiple: 2, rowLow: 49, rows: 6 }, out);
  // Rows 49 … 54 = buckets 98-99, 100-101, 102-103, 104-105, 106-107, 108-109.
  assert.deepEqual([...out.total], [0, 1, 2 + 3, 4, 0.5, 0]);
  assert.deepEqual([...out.side.subarray(1, 5)], [1, 0, 0, 0]);
  assert.equal(n, 4);
  // Top-down layout (negative stride), one bucket per cell.
  const down = {
    total: new Float64Array(3),
    side: new Uint8Array(3),
    offset: 2,
    stride: -1,
  };
  mergeColumn(col, { bucketMultiple: 1, rowLow: 102, rows: 3 }, down);
  assert.deepEqual([...down.total], [4, 3, 2]);
});

// ---- the plugin against a stub chart ----------------------------------------

/** A recorded putImageData call: the dirty rect's slots (texel rows). */
interface Put {
  slot: number;
  slots: number;
}

/** Installs ImageData and OffscreenCanvas stand-ins recording the puts. */
function installCanvasStubs(): { puts: Put[]; images: ImageData[] } {
  const puts: Put[] = [];
  const images: ImageData[] = [];
  class StubImageData {
    data: Uint8ClampedArray;
    constructor(readonly width: number, readonly height: number) {
      this.data = new Uint8ClampedArray(width * height * 4);
      images.push(this as unknown as ImageData);
    }
  }
  class StubCanvas {
    constructor(public width: number, public height: number) {}
    getContext() {
      return {
        putImageData: (
          img: ImageData,
          _dx: number,
          _dy: number,
          _x = 0,
          y = 0,
          _w = img.width,
          h = img.height,
        ) => puts.push({ slot: y, slots: h }),
        clearRect: () => {},
      };
    }
  }
  const g = globalThis as Record<string, unknown>;
  g.ImageData = StubImageData;
  g.OffscreenCanvas = StubCanvas;
  return { puts, images };
}

/**
 * A drawImage call in the plot's axes: first slot and slot count, cell
 * count; destination rect in canvas pixels.
 */
interface Blit {
  sx: number;
  sw: number;
  sh: number;
  dx: number;
  dw: number;
  dy: number;
  dh: number;
}

/** A stub uPlot: scales, bbox, valToPos and a recording context. */
function stubChart(
  ring: ColumnRing,
  tickMs: number,
  y: [number, number],
): { u: uPlot; blits: Blit[]; view: () => void } {
  const blits: Blit[] = [];
  let e = 0, f = 0;
  const bbox = { left: 10, top: 5, width: 600, height: 400 };
  const scales = { x: { min: 0, max: 1 }, y: { min: y[0], max: y[1] } };
  const u = {
    bbox,
    scales,
    ctx: {
      save() {},
      restore() {},
      beginPath() {},
      rect() {},
      clip() {},
      imageSmoothingEnabled: true,
      setTransform(
        a: number,
        b: number,
        c: number,
        d: number,
        x: number,
        y: number,
      ) {
        // The plugin draws its transposed layer under a transposing transform.
        assert.deepEqual([a, b, c, d], [0, 1, 1, 0]);
        e = x;
        f = y;
      },
      drawImage(
        _c: unknown,
        sx: number,
        sy: number,
        sw: number,
        sh: number,
        dx: number,
        dy: number,
        dw: number,
        dh: number,
      ) {
        // Back to the plot's axes: texel y is the slot, texel x the cell.
        assert.equal(sx, 0);
        assert.equal(dx, 0);
        assert.equal(dy, 0);
        blits.push({ sx: sy, sw: sh, sh: sw, dx: e, dw: dh, dy: f, dh: dw });
      },
    },
    valToPos(v: number, key: string) {
      const s = key === "x" ? scales.x : scales.y;
      const f = (v - s.min) / (s.max - s.min);
      return key === "x"
        ? bbox.left + f * bbox.width
        : bbox.top + (1 - f) * bbox.height;
    },
  } as unknown as uPlot;
  // The chart's x range: the ring's columns, the newest one tick wide.
  const view = () => {
    scales.x.min = ring.at(0).ts / 1000;
    scales.x.max = (ring.at(ring.length - 1).ts + tickMs) / 1000;
  };
  return { u, blits, view };
}

/** Resting sizes of bucket `i` at tick `t`: a skewed spread with walls. */
function sizes(t: number, rand: () => number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => {
    if (rand() < 0.2) return 0;
    const wall = (i * 7 + t) % 97 === 0 ? 500 : 1;
    return +(wall * Math.exp(rand() * 5) / 10).toPrecision(6);
  });
}

/** The reference: every non-empty cell (one bucket each) of the columns held. */
function visibleCells(ring: ColumnRing, lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < ring.length; c++) {
    const col = ring.at(c);
    for (let b = lo; b <= hi; b++) {
      const i = b - col.lo;
      if (i < 0 || i >= col.bids.length) continue;
      const v = col.bids[i] + col.asks[i];
      if (v > 0) out.push(v);
    }
  }
  return out;
}

function plugin(
  ring: ColumnRing,
  opts: Partial<HeatmapPluginOptions>,
  last: { stats: HeatmapDrawStats | null },
) {
  return heatmapPlugin({
    columns: () => ring,
    tickMs: 1000,
    ...opts,
    onDraw: (s) => void (last.stats = structuredClone(s)),
  }).hooks.drawClear as (u: uPlot) => void;
}

Deno.test("heatmapPlugin: a full draw, then one column per append, a rebuild on a scale change", () => {
  const { puts, images } = installCanvasStubs();
  const rand = rng(3);
  const ring = new ColumnRing(200);
  // 200 columns of 120 buckets from 1000, one a second.
  for (let t = 0; t < 200; t++) {
    const bids = sizes(t, rand, 60).concat(new Array(60).fill(0));
    const asks = new Array(60).fill(0).concat(sizes(t + 1, rand, 60));
    ring.push(column(1_000_000 + t * 1000, 1000, bids, asks));
  }
  const { u, blits, view } = stubChart(ring, 1000, [1000, 1120]);
  view();
  let scale: "log" | "linear" = "log";
  const last: { stats: HeatmapDrawStats | null } = { stats: null };
  const draw = plugin(ring, { scale: () => scale }, last);

  draw(u);
  let s = last.stats!;
  assert.equal(s.full, true);
  assert.equal(s.columns, 200);
  const cells = visibleCells(ring, 1000, 1119);
  assert.equal(s.cells, cells.length);
  assert.equal(s.top, sortedPercentile(cells, 0.99));
  assert.equal(s.maxSize, Math.max(...cells));
  assert.ok(s.top < s.maxSize, "the walls are clipped");
  assert.equal(s.bottom, s.top / 1000);
  assert.deepEqual(s.view, {
    from: 1_000_000,
    to: 1_199_000,
    bucketSize: 1,
    bucketMultiple: 1,
    rowLow: 1000,
    rowHigh: 1119,
  });
  // One blit covers the plot: 200 texels wide, stretched over 600 px.
  assert.equal(s.rects, 1);
  assert.equal(blits.length, 1);
  assert.equal(blits[0].sw, 200);
  assert.equal(blits[0].sh, 120);
  assert.ok(Math.abs(blits[0].dx - 10) < 1e-9);
  assert.ok(Math.abs(blits[0].dw - 600) < 1e-9);
  assert.ok(Math.abs(blits[0].dy - 5) < 1e-9);
  assert.ok(Math.abs(blits[0].dh - 400) < 1e-9);

  // The layer's colours: a wall saturates, an empty bucket is transparent.
  const img = images.at(-1)!;
  const W = img.width;
  // The layer is transposed: one texel row per slot, highest price first.
  const texel = (c: number, b: number) =>
    img.data.subarray(
      ((blits[0].sx + c) * W + 1119 - b) * 4,
      ((blits[0].sx + c) * W + 1119 - b) * 4 + 4,
    );
  const top = buildPalette(32)[31].match(/\d+/g)!.map(Number);
  let checked = 0;
  for (let c = 0; c < 200; c++) {
    const col = ring.at(c);
    for (let i = 0; i < 120; i++) {
      const v = col.bids[i] + col.asks[i];
      const px = [...texel(c, 1000 + i)];
      if (v === 0) assert.equal(px[3], 0);
      else {
        const k = colorIndex(v, {
          scale: "log",
          top: s.top,
          bottom: s.bottom,
          paletteSize: 32,
        });
        const want = buildPalette(32)[k].match(/\d+/g)!.map(Number);
        assert.deepEqual(px, [...want, 255], `column ${c} bucket ${i}`);
        if (v >= s.top) assert.deepEqual(px.slice(0, 3), top);
        checked++;
      }
    }
  }
  assert.equal(checked, cells.length);

  // Append: the ring slides by one; one texel column is drawn and put.
  for (let k = 0; k < 5; k++) {
    puts.length = 0;
    blits.length = 0;
    const t = 200 + k;
    const bids = sizes(t, rand, 60).concat(new Array(60).fill(0));
    const asks = new Array(60).fill(0).concat(sizes(t + 1, rand, 60));
    ring.push(column(1_000_000 + t * 1000, 1000, bids, asks));
    view();
    draw(u);
    s = last.stats!;
    assert.equal(s.full, false, `append ${k} redrew the layer`);
    assert.deepEqual(puts.map((p) => p.slots), [1]);
    assert.ok(s.appendMs >= 0 && s.appendMs < s.ms + 1e-9);
    assert.equal(s.columns, 200);
    const now = visibleCells(ring, 1000, 1119);
    assert.equal(s.cells, now.length);
    // The kept top still ranks within a quarter of the clipped tail.
    const above = now.filter((v) => v > s.top).length;
    assert.ok(
      Math.abs(above - 0.01 * now.length) <= 0.25 * 0.01 * now.length + 1,
    );
    // The slot ring wraps: blits together still cover the plot.
    const width = blits.reduce((a, b) => a + b.dw, 0);
    assert.ok(Math.abs(width - 600) < 1e-6, `blits cover ${width}`);
  }

  // The newest column replaced in place (same ts): one column again.
  puts.length = 0;
  const newest = ring.at(ring.length - 1);
  ring.push({ ...newest, bids: newest.bids.map((v) => v * 2) });
  draw(u);
  assert.equal(last.stats!.full, false);
  assert.deepEqual(puts.map((p) => p.slots), [1]);
  assert.equal(last.stats!.cells, visibleCells(ring, 1000, 1119).length);

  // Linear: a full pass with the exact percentile again.
  puts.length = 0;
  scale = "linear";
  draw(u);
  s = last.stats!;
  assert.equal(s.full, true);
  assert.equal(s.top, sortedPercentile(visibleCells(ring, 1000, 1119), 0.99));
  assert.equal(s.bottom, 0);
  assert.equal(puts.at(-1)!.slots, images.at(-1)!.height);
});

Deno.test("heatmapPlugin: clip, bucket multiple and separate palettes", () => {
  const { images } = installCanvasStubs();
  const ring = new ColumnRing(10);
  // Bids at buckets 100-101 (sizes 1, 2), asks at 102-103 (3, 40).
  for (let t = 0; t < 10; t++) {
    ring.push(column(t * 1000, 100, [1, 2, 0, 0], [0, 0, 3, 40]));
  }
  const { u, view } = stubChart(ring, 1000, [100, 104]);
  view();
  let clip = 1;
  let multiple = 1;
  let palettes: "combined" | "separate" = "combined";
  const last: { stats: HeatmapDrawStats | null } = { stats: null };
  const draw = plugin(ring, {
    clip: () => clip,
    bucketMultiple: () => multiple,
    palettes: () => palettes,
    scale: () => "linear",
  }, last);

  draw(u);
  assert.equal(last.stats!.top, 40);
  clip = 0.5; // nearest rank: the 20th of 40 cells, sorted 1…, 2…, 3…, 40…
  draw(u);
  assert.equal(last.stats!.full, true);
  assert.equal(last.stats!.top, 2);
  clip = 0.1; // clamped to 0.5
  draw(u);
  assert.equal(last.stats!.top, 2);

  clip = 1;
  multiple = 2;
  draw(u);
  let s = last.stats!;
  assert.equal(s.view!.bucketMultiple, 2);
  assert.equal(s.view!.rowLow, 50);
  assert.equal(s.view!.rowHigh, 51);
  assert.equal(s.cells, 20);
  assert.equal(s.top, 43);

  multiple = 1;
  palettes = "separate";
  draw(u);
  s = last.stats!;
  const img = images.at(-1)!;
  const [bids, asks] = buildPalettes("separate", 32);
  const at = (b: number) => {
    const o = (103 - b) * 4; // column 0 sits in slot 0, the first texel row
    return [...img.data.subarray(o, o + 3)];
  };
  const k = (v: number) =>
    colorIndex(v, { scale: "linear", top: 40, bottom: 0, paletteSize: 32 });
  assert.deepEqual(at(100), [...bids.rgb.subarray(3 * k(1), 3 * k(1) + 3)]);
  assert.deepEqual(at(101), [...bids.rgb.subarray(3 * k(2), 3 * k(2) + 3)]);
  assert.deepEqual(at(102), [...asks.rgb.subarray(3 * k(3), 3 * k(3) + 3)]);
  assert.deepEqual(at(103), [...asks.rgb.subarray(93, 96)]);
});

Deno.test("heatmapPlugin: new columns after a clear rebuild the layer; an empty ring draws nothing", () => {
  installCanvasStubs();
  const ring = new ColumnRing(10);
  for (let t = 0; t < 5; t++) ring.push(column(t * 1000, 10, [1, 2], [0, 0]));
  const { u, view, blits } = stubChart(ring, 1000, [10, 12]);
  view();
  const last: { stats: HeatmapDrawStats | null } = { stats: null };
  const draw = plugin(ring, {}, last);
  draw(u);
  assert.equal(last.stats!.cells, 10);
  // Refilled with other columns of the same times (a seek back): rebuilt.
  ring.clear();
  for (let t = 0; t < 5; t++) ring.push(column(t * 1000, 10, [7, 0], [0, 0]));
  draw(u);
  assert.equal(last.stats!.full, true);
  assert.equal(last.stats!.cells, 5);
  assert.equal(last.stats!.top, 7);
  ring.clear();
  for (let t = 0; t < 5; t++) {
    ring.push(column(900_000 + t * 1000, 10, [5, 0], [0, 0]));
  }
  view();
  draw(u);
  assert.equal(last.stats!.full, true);
  assert.equal(last.stats!.cells, 5);
  assert.equal(last.stats!.top, 5);
  // A gap of 10 ticks splits the blits, and leaves the gap empty.
  ring.push(column(915_000, 10, [5, 0], [0, 0]));
  view();
  blits.length = 0;
  draw(u);
  assert.equal(last.stats!.rects, 2);
  assert.equal(blits[1].sw, 1);
  const pxPerMs = 600 / (916_000 - 900_000);
  assert.ok(Math.abs(blits[0].dw - 5000 * pxPerMs) < 1e-6);
  assert.ok(Math.abs(blits[1].dw - 1000 * pxPerMs) < 1e-6);
  ring.clear();
  blits.length = 0;
  draw(u);
  assert.equal(last.stats!.cells, 0);
  assert.equal(last.stats!.view, null);
  assert.equal(blits.length, 0);
});

Deno.test("heatmapPlugin: a layer built by appends matches one drawn in a single pass", () => {
  const { images } = installCanvasStubs();
  const rand = rng(11);
  const make = (t: number) => {
    const bids = sizes(t, rand, 40);
    bids[3] = 1e6; // the same largest cell in every column: top stays put
    return column(5_000 + t * 1000, 500, bids, new Array(40).fill(0));
  };
  const ring = new ColumnRing(50);
  for (let t = 0; t < 50; t++) ring.push(make(t));
  const a = stubChart(ring, 1000, [500, 540]);
  a.view();
  const last: { stats: HeatmapDrawStats | null } = { stats: null };
  const opts = { clip: () => 1, palettes: () => "separate" as const };
  const drawA = plugin(ring, opts, last);
  drawA(a.u);
  const layerA = images.at(-1)!;
  // 70 appends: the ring slides past its capacity and the slots wrap.
  for (let t = 50; t < 120; t++) {
    ring.push(make(t));
    a.view();
    drawA(a.u);
    assert.equal(last.stats!.full, false, `append ${t}`);
  }
  const statsA = last.stats!;
  // A fresh plugin draws the same ring in one pass.
  const b = stubChart(ring, 1000, [500, 540]);
  b.view();
  plugin(ring, opts, last)(b.u);
  const layerB = images.at(-1)!;
  assert.equal(last.stats!.full, true);
  assert.equal(last.stats!.top, statsA.top);
  assert.equal(last.stats!.cells, statsA.cells);
  // Texel rows (one per column) in ring order: the same colours.
  const rows = (img: ImageData, blits: Blit[]) => {
    const out: string[] = [];
    for (const bl of blits) {
      for (let s = bl.sx; s < bl.sx + bl.sw; s++) {
        out.push(
          [...img.data.subarray(s * img.width * 4, (s + 1) * img.width * 4)]
            .join(),
        );
      }
    }
    return out;
  };
  const lastBlitsA = a.blits.slice(-statsA.rects);
  assert.deepEqual(rows(layerA, lastBlitsA), rows(layerB, b.blits));
});
