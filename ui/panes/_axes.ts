/**
 * The axes every lower pane shares with the heatmap: time at the bottom and
 * values on the right, the same widths and padding as the heatmap chart, so
 * the panes' plot areas line up with its own.
 *
 * @module
 */

import type uPlot from "uplot";

/** Width of the value axis on the right, CSS px (the heatmap's price axis). */
export const VALUE_AXIS_PX = 80;

/** Plot padding: top, right, bottom, left (the heatmap's). */
export const PANE_PADDING: uPlot.Padding = [6, null, null, 36];

/** Time axis steps, s: whole seconds, as the labels show at most seconds. */
const TIME_INCRS = [
  1,
  2,
  5,
  10,
  15,
  30,
  60,
  120,
  300,
  600,
  900,
  1800,
  3600,
  7200,
  14400,
  43200,
  86400,
  604800,
  2592000,
];

/** Grid and tick strokes of the dark theme. */
const GRID = { stroke: "rgba(255,255,255,0.06)", width: 1 };
const TICKS = { stroke: "rgba(255,255,255,0.15)", width: 1 };

/**
 * The time and value axes of a pane.
 * @param values formats the value axis's labels.
 * @param times labels the time axis (splits in seconds, the step between
 *   them in seconds), or null to show none (the volume pane sits right under
 *   the heatmap and shares its labels).
 * @returns uPlot axes.
 */
export function paneAxes(
  values: (v: number) => string,
  times: ((splits: number[], incr: number) => string[]) | null,
): uPlot.Axis[] {
  return [
    {
      stroke: "#8b95a7",
      grid: GRID,
      ticks: TICKS,
      space: 70,
      incrs: TIME_INCRS,
      size: times ? 44 : 4,
      values: (_u, splits, _axis, _space, incr) =>
        times ? times(splits, incr) : splits.map(() => ""),
    },
    {
      side: 1,
      size: VALUE_AXIS_PX,
      stroke: "#8b95a7",
      grid: GRID,
      ticks: TICKS,
      values: (_u, splits) => splits.map(values),
    },
  ];
}

/**
 * A compact volume: `1.2k`, `3.4M`.
 * @param v a volume.
 * @returns its label.
 */
export function compact(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return String(+v.toPrecision(3));
}
