/**
 * `deno run -A bench/render.ts`: the heatmap render core in Chromium
 * (Debian's, headless, driven by playwright-core; software raster, no GPU).
 * The page is `bench/render_page.ts`, bundled here like the viewer: a uPlot
 * chart of 1600 × 800 CSS px with the heatmap plugin over synthetic book-like
 * columns (bids below a random-walk mid, asks above, a few walls).
 *
 * 1. cold draw: 3 600 columns × 400 buckets drawn from an empty layer;
 *    goal < 50 ms. Each figure is the time from `setData` to the pixels
 *    rasterized (a 1-pixel read flushes Chromium's canvas), with the
 *    plugin's own share beside it; the best of 5 cold draws.
 * 2. append: one column per frame onto the 3 600 held, 300 times; the
 *    incremental column draw (merge, colour, `putImageData` of one texel
 *    column), median and p95; goal < 1 ms. The whole frame (the layer's
 *    blits and uPlot's axes and lines, raster flushed) is printed beside it.
 * 3. streaming: 1 000 trades/s into the newest column (a new column every
 *    second) for 10 s, at most one `setData` per frame as the viewer does.
 *    Frame time is measured with the frame rate unlimited
 *    (`--disable-frame-rate-limit --disable-gpu-vsync`), so a frame lasts
 *    as long as its work (script, layout, paint, raster, compositing), not
 *    until the next vsync: the delta from each frame that drew to the next,
 *    p50 / p95 / max, and the frames over 16.7 ms (dropped at 60 Hz); goal
 *    p95 ≤ 16 ms (anchor: 16.9 ms for the best open WASM/WebGL2 heatmap).
 *    The same stream at 60 Hz vsync reports its rAF deltas (16.7 ms at
 *    best) and the frames that missed a vsync.
 *
 * Marks `cold-start`/`cold-end` and `append-start`/`append-end` are left in
 * the page's performance timeline.
 *
 * @module
 */

import { bundleModule } from "../http/bundle.ts";
import { launchChromium } from "../tests/_browser.ts";
import type { Browser, Page } from "playwright-core";
import type { BenchApi, DrawTiming } from "./render_page.ts";

const CMD = "deno run -A bench/render.ts";
/** Chromium switches that let frames run as fast as their work allows. */
const UNCAPPED = ["--disable-frame-rate-limit", "--disable-gpu-vsync"];
const ENTRY = new URL("./render_page.ts", import.meta.url);
const UPLOT_CSS = new URL(
  "../node_modules/uplot/dist/uPlot.min.css",
  import.meta.url,
);

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>coby render bench</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/uplot.css">
<style>body{margin:0;background:#070a12}</style>
<script type="module" src="/page.js"></script>
</head><body><div id="chart"></div></body></html>`;

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

const ms = (v: number) => `${v.toFixed(2)} ms`;
const verdict = (ok: boolean) => (ok ? "met" : "missed");

const js = await bundleModule(ENTRY);
const css = await Deno.readTextFile(UPLOT_CSS);
const server = Deno.serve(
  { port: 0, hostname: "127.0.0.1", onListen() {} },
  (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/page.js") {
      return new Response(js, {
        headers: { "content-type": "text/javascript" },
      });
    }
    if (path === "/uplot.css") {
      return new Response(css, { headers: { "content-type": "text/css" } });
    }
    return new Response(PAGE, { headers: { "content-type": "text/html" } });
  },
);
/** The page's bench API, once loaded in a new page of `browser`. */
async function openBench(browser: Browser, errors: string[]) {
  const page = await browser.newPage({
    viewport: { width: 1700, height: 900 },
  });
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.goto(`http://127.0.0.1:${server.addr.port}/`);
  await page.waitForFunction(() => "__bench" in globalThis);
  return page;
}
type G = { __bench: BenchApi };

/** Streams 1 000 trades/s for 10 s onto 3 600 columns. */
async function streamOn(page: Page) {
  await page.evaluate(() =>
    (globalThis as unknown as G).__bench.cold(3600, 400)
  );
  return await page.evaluate(() =>
    (globalThis as unknown as G).__bench.stream(10, 1000)
  );
}

const errors: string[] = [];
const browser = await launchChromium();
// Frames paced by nothing but their own work: rAF deltas are frame times.
const uncapped = await launchChromium(UNCAPPED);
try {
  const page = await openBench(browser, errors);
  const colds: DrawTiming[] = [];
  for (let i = 0; i < 5; i++) {
    colds.push(
      await page.evaluate(() =>
        (globalThis as unknown as G).__bench.cold(3600, 400)
      ),
    );
  }
  const coldFlushed = colds.map((c) => c.flushed);
  const coldMedian = quantile(coldFlushed, 0.5);

  const appends = await page.evaluate(() =>
    (globalThis as unknown as G).__bench.append(300)
  );
  const inc = appends.filter((a) => !a.full).map((a) => a.append);
  const frames = appends.map((a) => a.flushed);
  const fulls = appends.length - inc.length;

  const stream = await streamOn(page);
  const d = stream.deltas;
  // A frame that missed the next vsync reads about 33 ms.
  const missed = d.filter((x) => x >= 25).length;

  const free = await streamOn(await openBench(uncapped, errors));
  const f = free.drawn;
  const p95 = quantile(f, 0.95);
  const over = f.filter((x) => x > 16.7).length;

  const appendMedian = quantile(inc, 0.5), appendP95 = quantile(inc, 0.95);
  const lines = [
    `\n${CMD}  (Chromium headless, software raster, 1600×800 CSS px chart)`,
    `  cold draw 3600 columns × 400 buckets  median ${
      ms(coldMedian)
    } of 5 to pixels (plugin ${ms(quantile(colds.map((c) => c.hook), 0.5))}, ${
      colds[0].cells
    } cells; first with a cold JIT ${ms(colds[0].flushed)}, best ${
      ms(Math.min(...coldFlushed))
    }) — goal < 50 ms: ${verdict(coldMedian < 50)}`,
    `  append one column  median ${ms(appendMedian)}, p95 ${
      ms(appendP95)
    } (${inc.length} appends; ${fulls} recoloured the layer as top moved) — goal < 1 ms: ${
      verdict(appendP95 < 1)
    }`,
    `    whole frame per append (blits + uPlot axes and lines, flushed)  median ${
      ms(quantile(frames, 0.5))
    }, p95 ${ms(quantile(frames, 0.95))}`,
    `  streaming 1000 trades/s for 10 s, frame rate unlimited (${
      UNCAPPED.join(" ")
    }): frame time of the ${f.length} frames that drew  p50 ${
      ms(quantile(f, 0.5))
    }, p95 ${ms(p95)}, max ${
      ms(Math.max(...f))
    }; ${over} over 16.7 ms (dropped at 60 Hz); per frame: heatmap draw p95 ${
      ms(quantile(free.hooks, 0.95))
    }, chart work (setData to drawn) p95 ${
      ms(quantile(free.work, 0.95))
    }; ${free.trades} trades, ${free.draws} draws (${free.full} redrew the whole layer)`,
    `    goal p95 ≤ 16 ms: ${
      verdict(p95 <= 16)
    }; anchor 16.9 ms (best open WASM/WebGL2 tool): ${verdict(p95 <= 16.9)}`,
    `  the same at 60 Hz vsync: rAF deltas p50 ${ms(quantile(d, 0.5))}, p95 ${
      ms(quantile(d, 0.95))
    } (a 60 Hz frame is 16.7 ms at best), max ${
      ms(Math.max(...d))
    }; ${missed} of ${d.length} frames missed a vsync (≥ 25 ms)`,
  ];
  for (const line of lines) console.log(line);
  if (errors.length > 0) {
    console.log(`  page errors: ${errors.join(" | ")}`);
  }
} finally {
  await browser.close();
  await uncapped.close();
  await server.shutdown();
}
