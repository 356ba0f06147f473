/**
 * The volume pane under the heatmap: buy volume up (green) and sell volume
 * down (red) per column, from the columns' `buys` / `sells`, on the same
 * time range as the heatmap (its view, zoomed and panned; else the columns
 * it holds, the newest tick included) so each bar sits under its column.
 *
 * For browser tests the pane's root (`.uplot`) carries `data-x-min` /
 * `data-x-max` (s) of its view and `data-buy` / `data-sell` (the volume of
 * the columns held).
 *
 * @module
 */

import uPlot from "uplot";
import { ColumnRing, type HeatColumn } from "../columns.ts";
import { columnVolume } from "./bars.ts";
import { compact, PANE_PADDING, paneAxes } from "./_axes.ts";

/** Options of {@linkcode createVolumePane}. */
export interface VolumePaneOptions {
  /**
   * Columns kept: the heatmap's capacity, so both span the same time.
   * @default {600}
   */
  capacity?: number;
  /**
   * Tick width, ms (the heatmap's).
   * @default {1000}
   */
  tickMs?: number;
  /**
   * The heatmap's time view, s, or null to span the columns held; read on
   * each layout and {@linkcode VolumePane.sync}.
   */
  view?: () => [number, number] | null;
}

/** A running volume pane. */
export interface VolumePane {
  /**
   * Adds a column; the pane redraws on the next animation frame.
   * @param col the column the heatmap got.
   */
  push(col: HeatColumn): void;
  /** Drops every column (with the heatmap). */
  clear(): void;
  /** Follows the heatmap's time view again (after it zoomed or panned). */
  sync(): void;
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
 * Creates the volume pane inside an element.
 * @param el the element; the pane fills it.
 * @param options capacity, tick width and a draw callback.
 * @returns the pane.
 * @example
 * ```ts
 * const volume = createVolumePane(document.getElementById("volume")!);
 * source.addEventListener("column", (e) => volume.push(JSON.parse(e.data)));
 * ```
 */
export function createVolumePane(
  el: HTMLElement,
  options: VolumePaneOptions = {},
): VolumePane {
  const tickMs = options.tickMs ?? 1000;
  const ring = new ColumnRing(options.capacity ?? 600);
  let frame = 0;
  const bars = uPlot.paths.bars!({ size: [0.8, Infinity], align: 1 });
  const u = new uPlot(
    {
      width: Math.max(100, el.clientWidth),
      height: Math.max(40, el.clientHeight),
      legend: { show: false },
      padding: PANE_PADDING,
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      // Both scales are set by hand (see `applyView`): uPlot's own ranging
      // would fit the time axis to the bars, not to the heatmap's view.
      scales: {
        x: { time: true, auto: false },
        y: { auto: false },
      },
      axes: paneAxes((v) => compact(Math.abs(v)), null),
      series: [
        {},
        {
          label: "buys",
          fill: "rgba(46,204,113,0.8)",
          stroke: "#2ecc71",
          paths: bars,
          points: { show: false },
        },
        {
          label: "sells",
          fill: "rgba(255,77,77,0.8)",
          stroke: "#ff4d4d",
          paths: bars,
          points: { show: false },
        },
      ],
      hooks: {
        setScale: [(u, key) => {
          if (key !== "x") return;
          u.root.dataset.xMin = String(u.scales.x.min);
          u.root.dataset.xMax = String(u.scales.x.max);
        }],
      },
    },
    [[], [], []],
    el,
  );

  function flush(): void {
    frame = 0;
    const n = ring.length;
    const xs = new Array<number>(n);
    const buys = new Array<number>(n);
    const sells = new Array<number>(n);
    let buy = 0, sell = 0;
    for (let i = 0; i < n; i++) {
      const v = columnVolume(ring.at(i));
      xs[i] = v.ts / 1000;
      buys[i] = v.buy;
      sells[i] = -v.sell;
      buy += v.buy;
      sell += v.sell;
    }
    u.setData([xs, buys, sells], false);
    u.root.dataset.buy = String(buy);
    u.root.dataset.sell = String(sell);
    let m = 0;
    for (let i = 0; i < n; i++) {
      if (buys[i] > m) m = buys[i];
      if (-sells[i] > m) m = -sells[i];
    }
    u.setScale("y", { min: -(m || 1), max: m || 1 });
    applyView();
  }

  /** Sets the time axis to the heatmap's view, else the columns held. */
  function applyView(): void {
    const v = options.view?.();
    if (v) {
      u.setScale("x", { min: v[0], max: v[1] });
      return;
    }
    const n = ring.length;
    if (n === 0) return;
    u.setScale("x", {
      min: ring.at(0).ts / 1000,
      max: ring.at(n - 1).ts / 1000 + tickMs / 1000,
    });
  }

  function schedule(): void {
    if (frame === 0) frame = requestAnimationFrame(flush);
  }

  return {
    push(col) {
      if (ring.push(col)) schedule();
    },
    clear() {
      ring.clear();
      schedule();
    },
    sync() {
      applyView();
    },
    resize(width, height) {
      u.setSize({ width: Math.max(100, width), height: Math.max(40, height) });
    },
    destroy() {
      if (frame !== 0) cancelAnimationFrame(frame);
      frame = 0;
      u.destroy();
    },
  };
}
