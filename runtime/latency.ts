/**
 * A fixed-boundary latency histogram for worker threads: OpenTelemetry's
 * histograms live on the main thread's MeterProvider, so an actor counts
 * its latencies here and ships the cumulative snapshot in its stats
 * (`ctx.stats({latency: {hop: snapshot}})`); the main thread exports it as
 * an OTel histogram (`actors/system/metrics.ts`). Pure: the caller measures.
 *
 * @module
 */

/**
 * Bucket upper bounds, ms (inclusive, as OpenTelemetry's explicit buckets):
 * 0.1 ms to 10 s; a last bucket takes everything above.
 */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  25,
  50,
  100,
  250,
  500,
  1000,
  2500,
  5000,
  10000,
];

/**
 * A histogram's cumulative state, structured-clone safe: `counts[i]` counts
 * values in `(bounds[i-1], bounds[i]]`, and `counts[bounds.length]` those
 * above the last bound (OpenTelemetry's `Histogram` layout, not cumulative
 * per bucket as Prometheus renders it).
 */
export interface LatencySnapshot {
  /** Bucket upper bounds, ms. */
  readonly bounds: readonly number[];
  /** Values per bucket; one more than `bounds`. */
  readonly counts: number[];
  /** Sum of the values, ms. */
  readonly sum: number;
  /** Number of values. */
  readonly count: number;
  /** Smallest value, ms; Infinity while empty. */
  readonly min: number;
  /** Largest value, ms; -Infinity while empty. */
  readonly max: number;
}

/**
 * Counts latencies into {@link LATENCY_BOUNDS_MS}.
 *
 * @example Time a hop and publish it
 * ```ts
 * const h = new LatencyHistogram();
 * const t0 = performance.now();
 * work();
 * h.record(performance.now() - t0);
 * ctx.stats({ latency: { receive_to_book: h.snapshot() } });
 * ```
 */
export class LatencyHistogram {
  readonly #bounds: readonly number[];
  readonly #counts: number[];
  #sum = 0;
  #count = 0;
  #min = Infinity;
  #max = -Infinity;

  /**
   * @param bounds ascending bucket upper bounds, ms.
   * @throws {RangeError} when `bounds` is empty, not ascending or not finite.
   */
  constructor(bounds: readonly number[] = LATENCY_BOUNDS_MS) {
    for (let i = 0; i < bounds.length; i++) {
      if (
        !Number.isFinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])
      ) {
        throw new RangeError(
          `Histogram bounds must be finite and ascending, got ${
            JSON.stringify(bounds)
          }`,
        );
      }
    }
    if (bounds.length === 0) {
      throw new RangeError("Histogram bounds must not be empty");
    }
    this.#bounds = bounds;
    this.#counts = new Array(bounds.length + 1).fill(0);
  }

  /** Values recorded so far. */
  get count(): number {
    return this.#count;
  }

  /**
   * Counts one latency. A negative value (clocks of two hosts, say the
   * exchange's and ours, disagree) goes to the first bucket and is summed
   * as it is, so the mean still shows the skew; NaN is ignored.
   * @param ms the latency, ms.
   */
  record(ms: number): void {
    if (Number.isNaN(ms)) return;
    const b = this.#bounds;
    // Few buckets: a linear scan beats a binary search here.
    let i = 0;
    while (i < b.length && ms > b[i]) i++;
    this.#counts[i]++;
    this.#sum += ms;
    this.#count++;
    if (ms < this.#min) this.#min = ms;
    if (ms > this.#max) this.#max = ms;
  }

  /**
   * The cumulative state, a copy.
   * @returns bounds, counts, sum, count, min and max.
   */
  snapshot(): LatencySnapshot {
    return {
      bounds: this.#bounds,
      counts: this.#counts.slice(),
      sum: this.#sum,
      count: this.#count,
      min: this.#min,
      max: this.#max,
    };
  }
}

/**
 * Adds histograms of the same bounds, e.g. the connections of one exchange.
 * @param a a snapshot.
 * @param b another, with the same bounds.
 * @returns their sum.
 * @throws {RangeError} when the bounds differ.
 * @example
 * ```ts
 * const total = mergeLatency(spot.snapshot(), swap.snapshot());
 * ```
 */
export function mergeLatency(
  a: LatencySnapshot,
  b: LatencySnapshot,
): LatencySnapshot {
  if (
    a.bounds.length !== b.bounds.length ||
    a.bounds.some((v, i) => v !== b.bounds[i])
  ) {
    throw new RangeError(
      `Cannot merge histograms of bounds ${JSON.stringify(a.bounds)} and ${
        JSON.stringify(b.bounds)
      }`,
    );
  }
  return {
    bounds: a.bounds,
    counts: a.counts.map((c, i) => c + b.counts[i]),
    sum: a.sum + b.sum,
    count: a.count + b.count,
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
  };
}
