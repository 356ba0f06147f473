/**
 * Ticks of the heatmap's colour legend: sizes in base units between the
 * palette's cold end (`bottom`) and the size that saturates it (`top`),
 * placed as the heatmap plugin maps sizes to colours (log or linear).
 *
 * @module
 */

import type { HeatScale } from "./plugins/heatmap.ts";

/** One legend tick. */
export interface LegendTick {
  /** The size, base units. */
  value: number;
  /** Where it sits along the bar, 0 (cold end) to 1 (saturated end). */
  pos: number;
  /** The size formatted compactly ({@linkcode formatSize}). */
  label: string;
}

/** Width of a label character at the legend's 11 px font, CSS pixels (a digit is about 6.1). */
export const LABEL_CHAR_PX = 6.5;

/** Space kept between two labels, CSS pixels. */
const LABEL_PAD_PX = 6;

/** Options for {@linkcode legendTicks}. */
export interface LegendTickOptions {
  /**
   * Most ticks between the two ends (which are always ticks).
   * @default {4}
   */
  inner?: number;
  /**
   * Width of the bar, CSS pixels: labels that would overlap on it (each
   * about {@linkcode LABEL_CHAR_PX} a character, the ends anchored inside
   * the bar, inner labels centred) are left out.
   * @default {160}
   */
  widthPx?: number;
}

/**
 * Formats a size compactly: three significant digits below 1 000 (two below
 * 1), then `k`, `M`, `G` with two significant digits below 10 of the unit
 * and whole units above.
 * @param v the size, `≥ 0`.
 * @returns the label.
 * @example Compact sizes
 * ```ts
 * formatSize(0.5); // "0.5"
 * formatSize(12.34); // "12.3"
 * formatSize(1234); // "1.2k"
 * formatSize(56_700_000); // "57M"
 * ```
 */
export function formatSize(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const units: [number, string][] = [[1e9, "G"], [1e6, "M"], [1e3, "k"]];
  for (const [size, unit] of units) {
    if (Math.abs(v) >= size * 0.9995) {
      const x = v / size;
      return `${
        Math.abs(x) < 9.95 ? trim(x.toFixed(1)) : Math.round(x)
      }${unit}`;
    }
  }
  return trim(v.toPrecision(Math.abs(v) < 1 ? 2 : 3));
}

/** Drops a fraction's trailing zeros (and a trailing point). */
function trim(s: string): string {
  if (!s.includes(".") || s.includes("e")) return s;
  return s.replace(/0+$/, "").replace(/\.$/, "");
}

/**
 * The ticks of a colour bar running from `bottom` to `top`: both ends, and
 * between them round sizes (powers of ten on the log scale when two or
 * more fit, else 1, 2, 5 × 10ⁿ; even round steps on the linear scale),
 * at most `inner` of them, none whose label would overlap another's on a
 * bar `widthPx` wide.
 * @param bottom the size at the cold end (`> 0` for the log scale).
 * @param top the size that saturates the palette.
 * @param scale how sizes map to colours.
 * @param options how many inner ticks, how wide the bar is.
 * @returns the ticks, cold end first; empty when `top ≤ bottom` (nothing
 *   drawn yet), or when the log scale has no positive bottom.
 * @example Three decades, log
 * ```ts
 * legendTicks(0.5, 500, "log").map((t) => t.label); // ["0.5", "10", "100", "500"]
 * ```
 */
export function legendTicks(
  bottom: number,
  top: number,
  scale: HeatScale,
  options: LegendTickOptions = {},
): LegendTick[] {
  const inner = options.inner ?? 4;
  const widthPx = options.widthPx ?? 160;
  if (!(top > bottom) || !Number.isFinite(top)) return [];
  if (scale === "log" && !(bottom > 0)) return [];
  const pos = scale === "log"
    ? (v: number) => Math.log(v / bottom) / Math.log(top / bottom)
    : (v: number) => (v - bottom) / (top - bottom);
  // Label extents along the bar, CSS pixels: the ends sit inside it.
  const half = (v: number) => formatSize(v).length * LABEL_CHAR_PX / 2;
  const bottomEnd = 2 * half(bottom);
  const topStart = widthPx - 2 * half(top);
  /** The values whose centred labels overlap neither an end's nor the previous kept one's. */
  function keep(vs: number[]): number[] {
    const out: number[] = [];
    let right = bottomEnd;
    for (const v of vs) {
      const x = pos(v) * widthPx, h = half(v);
      if (x - h < right + LABEL_PAD_PX || x + h > topStart - LABEL_PAD_PX) {
        continue;
      }
      out.push(v);
      right = x + h;
    }
    return out;
  }
  let candidates: number[];
  if (scale === "log") {
    const all: number[] = [], decades: number[] = [];
    const d0 = Math.floor(Math.log10(bottom)), d1 = Math.ceil(Math.log10(top));
    for (let d = d0; d <= d1; d++) {
      const p = 10 ** d;
      decades.push(p);
      for (const m of [1, 2, 5]) all.push(+(m * p).toPrecision(12));
    }
    const within = (vs: number[]) => vs.filter((v) => v > bottom && v < top);
    // Decades when two or more fit between the ends, else 1-2-5 steps.
    candidates = keep(within(decades)).length >= 2
      ? within(decades)
      : within(all);
  } else {
    const raw = (top - bottom) / (inner + 1);
    const p = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
    candidates = [];
    for (let v = Math.ceil(bottom / step) * step; v < top; v += step) {
      const r = +v.toPrecision(12);
      if (r > bottom) candidates.push(r);
    }
  }
  let mids = keep(candidates);
  // Too many still (a short log range of 1-2-5 steps): every other one.
  while (mids.length > inner) mids = mids.filter((_, i) => i % 2 === 0);
  // A bar too narrow for both ends keeps the saturating one.
  const ticks = bottomEnd + LABEL_PAD_PX > topStart
    ? [top]
    : [bottom, ...mids, top];
  return ticks.map((value) => ({
    value,
    pos: pos(value),
    label: formatSize(value),
  }));
}
