/**
 * The heatmap's price axis: steps on the symbol's price grid and labels at
 * its precision, so no two labels read the same however far it is zoomed.
 *
 * @module
 */

/**
 * Decimals needed to print prices on a grid of `tick` (a bucket size, times
 * the bucket multiple drawn): the decimals of the tick itself.
 * @param tick the grid step, quote currency.
 * @returns a digit count in `[0, 10]`; 2 for a tick that is not positive.
 * @example Decimals of a few grids
 * ```ts
 * priceDecimals(0.0001); // 4
 * priceDecimals(2.5); // 1
 * priceDecimals(10); // 0
 * ```
 */
export function priceDecimals(tick: number): number {
  if (!(tick > 0) || !Number.isFinite(tick)) return 2;
  for (let d = 0; d < 10; d++) {
    const v = tick * 10 ** d;
    if (Math.abs(v - Math.round(v)) <= 1e-9 * v) return d;
  }
  return 10;
}

/**
 * The steps the price axis may take between labels: the grid step times
 * 1, 2 and 5 and their powers of ten, so every label sits on the grid and
 * never between two of its prices (which would print the same text).
 * @param tick the grid step, quote currency.
 * @param decades powers of ten covered above the tick.
 * @returns steps, ascending.
 * @throws {RangeError} if `tick` is not a positive finite number.
 * @example The steps of a 0.5 grid
 * ```ts
 * priceSteps(0.5, 1); // [0.5, 1, 2.5, 5, 10, 25]
 * ```
 */
export function priceSteps(tick: number, decades = 12): number[] {
  if (!(tick > 0) || !Number.isFinite(tick)) {
    throw new RangeError(`Price tick must be positive, got ${tick}`);
  }
  const out: number[] = [];
  for (let k = 0; k <= decades; k++) {
    for (const m of [1, 2, 5]) out.push(+(tick * m * 10 ** k).toPrecision(12));
  }
  return out;
}

/**
 * Labels of the price axis, at a fixed number of decimals.
 * @param splits prices of the axis ticks.
 * @param decimals digits after the point (see {@linkcode priceDecimals}).
 * @returns one label per split.
 * @example Two labels on a 0.5 grid
 * ```ts
 * priceLabels([60000, 60000.5], 1); // ["60000.0", "60000.5"]
 * ```
 */
export function priceLabels(
  splits: readonly number[],
  decimals: number,
): string[] {
  const out = new Array<string>(splits.length);
  for (let i = 0; i < splits.length; i++) out[i] = splits[i].toFixed(decimals);
  return out;
}
