/**
 * The candle pane: OHLC bars at the chosen timeframe, drawn in a uPlot draw
 * hook (green up, red down) with the same axes widths as the heatmap.
 *
 * @module
 */

import uPlot from "uplot";
import type { Candle } from "./bars.ts";
import { PANE_PADDING, paneAxes } from "./_axes.ts";
import { timeAxisLabels } from "../time.ts";

/** Options of {@linkcode createCandlePane}. */
export interface CandlePaneOptions {
  /**
   * Label times in UTC with the date (a replay: the recording's time),
   * rather than in local time of day.
   * @default {false}
   */
  utc?: boolean;
}

/** A running candle pane. */
export interface CandlePane {
  /**
   * Shows these bars (replacing the previous ones).
   * @param candles bars, oldest first.
   * @param timeframeMs their length, ms.
   * @param decimals price decimals of the axis.
   */
  set(candles: readonly Candle[], timeframeMs: number, decimals: number): void;
  /**
   * Resizes the pane.
   * @param width CSS px.
   * @param height CSS px.
   */
  resize(width: number, height: number): void;
  /** Removes the pane. */
  destroy(): void;
}

/**
 * Creates the candle pane inside an element.
 * @param el the element; the pane fills it.
 * @param options the time zone of its labels.
 * @returns the pane.
 * @example
 * ```ts
 * const pane = createCandlePane(document.getElementById("candles")!);
 * pane.set(bars, 60_000, 2);
 * ```
 */
export function createCandlePane(
  el: HTMLElement,
  options: CandlePaneOptions = {},
): CandlePane {
  let bars: readonly Candle[] = [];
  let tf = 60_000;
  let decimals = 2;

  function draw(u: uPlot): void {
    const ctx = u.ctx;
    const n = bars.length;
    if (n === 0) return;
    const w = Math.max(
      1,
      (u.valToPos(tf / 1000, "x", true) - u.valToPos(0, "x", true)) * 0.7,
    );
    ctx.save();
    ctx.beginPath();
    ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
    ctx.clip();
    for (let i = 0; i < n; i++) {
      const b = bars[i];
      const x = u.valToPos((b.ts + tf / 2) / 1000, "x", true);
      const yo = u.valToPos(b.open, "y", true);
      const yc = u.valToPos(b.close, "y", true);
      const color = b.close >= b.open ? "#2ecc71" : "#ff4d4d";
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.beginPath();
      ctx.moveTo(Math.round(x) + 0.5, u.valToPos(b.high, "y", true));
      ctx.lineTo(Math.round(x) + 0.5, u.valToPos(b.low, "y", true));
      ctx.stroke();
      ctx.fillRect(
        x - w / 2,
        Math.min(yo, yc),
        w,
        Math.max(1, Math.abs(yc - yo)),
      );
    }
    ctx.restore();
  }

  const u = new uPlot(
    {
      width: Math.max(100, el.clientWidth),
      height: Math.max(40, el.clientHeight),
      legend: { show: false },
      padding: PANE_PADDING,
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      scales: {
        x: {
          time: true,
          range: () => {
            const n = bars.length;
            if (n === 0) return [0, 1];
            return [bars[0].ts / 1000, (bars[n - 1].ts + tf) / 1000];
          },
        },
        y: {
          range: () => {
            let lo = Infinity, hi = -Infinity;
            for (const b of bars) {
              if (b.low < lo) lo = b.low;
              if (b.high > hi) hi = b.high;
            }
            if (!(lo <= hi)) return [0, 1];
            const pad = (hi - lo) * 0.08 || hi * 0.0005 || 1;
            return [lo - pad, hi + pad];
          },
        },
      },
      axes: paneAxes(
        (v) => v.toFixed(decimals),
        (splits, incr) =>
          timeAxisLabels(splits.map((s) => s * 1000), {
            utc: options.utc ?? false,
            seconds: incr < 60,
          }),
      ),
      // An invisible close series gives uPlot the bars' times.
      series: [{}, { label: "close", show: false }],
      hooks: { draw: [draw] },
    },
    [[], []],
    el,
  );

  return {
    set(candles, timeframeMs, priceDecimals) {
      bars = candles;
      tf = timeframeMs;
      decimals = priceDecimals;
      u.setData([
        candles.map((b) => b.ts / 1000),
        candles.map((b) => b.close),
      ]);
    },
    resize(width, height) {
      u.setSize({ width: Math.max(100, width), height: Math.max(40, height) });
    },
    destroy() {
      u.destroy();
    },
  };
}
