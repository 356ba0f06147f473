/**
 * The heatmap's colour legend: one bar per palette (one for `combined`,
 * bids and asks for `separate`) with size ticks in base units from the
 * palette's cold end (`bottom`) to the size that saturates it (`top`, the
 * clip percentile of the cells in view), marked log or linear.
 *
 * The root carries the figures it shows for tests and tools:
 * `data-testid="legend"`, `data-top`, `data-bottom`, `data-scale`,
 * `data-palettes` and `data-view` (the JSON of the draw's
 * {@linkcode HeatmapView}). Styled inline, so it needs no stylesheet.
 *
 * @module
 */

import type { JSX } from "preact";
import { useMemo } from "preact/hooks";
import { formatSize, legendTicks } from "./legend_ticks.ts";
import {
  buildPalettes,
  type HeatmapDrawStats,
  type HeatScale,
  type PaletteMode,
} from "./plugins/heatmap.ts";

/** Props of {@linkcode Legend}. */
export interface LegendProps {
  /** The last heatmap draw's stats (`onDraw`); null before the first. */
  stats: HeatmapDrawStats | null;
  /** The colour scale the heatmap uses. */
  scale: HeatScale;
  /** The palettes the heatmap uses. */
  palettes: PaletteMode;
  /**
   * Colours per palette, as given to the heatmap plugin.
   * @default {32}
   */
  paletteSize?: number;
}

const LABELS = { combined: "size", bids: "bids", asks: "asks" } as const;

const ROOT: JSX.CSSProperties = {
  display: "inline-flex",
  alignItems: "flex-start",
  gap: "10px",
  font: "11px/1.2 system-ui, sans-serif",
  color: "#8b95a7",
};
const ROW: JSX.CSSProperties = {
  display: "flex",
  alignItems: "flex-start",
  gap: "6px",
};
/** Width of a colour bar, CSS pixels. */
const BAR_PX = 160;
const BAR: JSX.CSSProperties = {
  position: "relative",
  width: `${BAR_PX}px`,
  height: "8px",
  borderRadius: "2px",
  marginBottom: "14px",
};
const TICK: JSX.CSSProperties = {
  position: "absolute",
  top: "9px",
  whiteSpace: "nowrap",
  color: "#d6dbe4",
};

/**
 * The colour legend of the heatmap.
 * @param props the last draw's stats, the scale and the palettes in use.
 * @returns the legend element.
 * @example Beside the chart, fed from the chart's `onDraw`
 * ```tsx
 * <Legend stats={stats} scale={scale} palettes={palettes} />
 * ```
 */
export function Legend(props: LegendProps): JSX.Element {
  const { stats, scale, palettes } = props;
  const size = props.paletteSize ?? 32;
  const bars = useMemo(() => buildPalettes(palettes, size), [palettes, size]);
  const top = stats?.top ?? 0;
  const bottom = stats?.bottom ?? 0;
  const ticks = legendTicks(bottom, top, scale, { widthPx: BAR_PX });
  return (
    <div
      class="coby-legend"
      data-testid="legend"
      data-top={String(top)}
      data-bottom={String(bottom)}
      data-scale={scale}
      data-palettes={palettes}
      data-view={JSON.stringify(stats?.view ?? null)}
      style={ROOT}
      title={`colour: resting size per cell, base units, ${scale} scale; cells of ${
        formatSize(top)
      } and more (the clip percentile of the cells in view) saturate it`}
    >
      <span style={{ color: "#d6dbe4" }}>{scale}</span>
      {bars.map((p) => (
        <span key={p.name} style={ROW}>
          <span>{LABELS[p.name]}</span>
          <span
            class="bar"
            data-palette={p.name}
            style={{
              ...BAR,
              background: `linear-gradient(to right, ${p.css.join(", ")})`,
            }}
          >
            {ticks.length === 0
              ? <span style={{ ...TICK, left: 0 }}>–</span>
              : ticks.map((t, i) => (
                <span
                  key={i}
                  class="tick"
                  style={{
                    ...TICK,
                    left: `${(t.pos * 100).toFixed(2)}%`,
                    // The ends sit inside the bar.
                    transform: t.pos === 0
                      ? "none"
                      : t.pos === 1
                      ? "translateX(-100%)"
                      : "translateX(-50%)",
                  }}
                >
                  {t.label}
                </span>
              ))}
          </span>
        </span>
      ))}
    </div>
  );
}
