/**
 * The fuzz driver: fast-check draws mutation plans for a corpus and runs each
 * through the harness until the frame budget is spent. A broken property
 * fails the run with fast-check's report: the seed, the path to replay it,
 * and the plan shrunk to the fewest frames and mutations that still fail.
 *
 * @module
 */

import fc from "fast-check";
import type { Corpus } from "./corpus.ts";
import { addStats, newStats, type RunStats, runStream } from "./harness.ts";
import { applyPlan, planArbitrary } from "./mutate.ts";

/** Options for {@link fuzzCorpus}. */
export interface FuzzOptions {
  /** Frames to feed in all, over as many runs as it takes. */
  readonly frames: number;
  /**
   * fast-check seed of the first batch of runs (each batch takes the next).
   * @default 1
   */
  readonly seed?: number;
  /**
   * Longest run, in frames; the corpus length by default.
   * @default undefined
   */
  readonly maxLength?: number;
  /**
   * Told of every book frame, still JSON after one value was spliced in,
   * rejected without naming its book.
   * @default undefined
   */
  readonly onUnattributed?: (what: string) => void;
}

/** What fuzzing one corpus fed and saw. */
export interface FuzzReport {
  /** The corpus name. */
  readonly name: string;
  /** Runs (mutated streams) fed. */
  readonly runs: number;
  /** Everything the runs fed and saw, summed. */
  readonly stats: RunStats;
  /** Wall time, ms. */
  readonly ms: number;
}

/**
 * Fuzzes one adapter version with mutated streams of its corpus until
 * `options.frames` frames have been fed.
 * @param corpus the corpus.
 * @param options the frame budget, seed and run length.
 * @returns what was fed and seen.
 * @throws {Error} fast-check's report of the shrunk counterexample when a
 *   property breaks.
 * @example
 * ```ts
 * const r = fuzzCorpus(corpus, { frames: 1_000_000 });
 * console.log(r.stats.frames, r.stats.malformed);
 * ```
 */
export function fuzzCorpus(corpus: Corpus, options: FuzzOptions): FuzzReport {
  const t0 = performance.now();
  const total = newStats();
  const arb = planArbitrary(corpus, { maxLength: options.maxLength });
  const n = Math.min(
    corpus.frames.length,
    options.maxLength ?? corpus.frames.length,
  );
  let seed = options.seed ?? 1;
  let runs = 0;
  while (total.frames < options.frames) {
    // Runs average (n + 1) / 2 frames, minus drops, plus duplicates.
    const numRuns = Math.max(
      1,
      Math.min(200, Math.ceil((options.frames - total.frames) / ((n + 1) / 2))),
    );
    let shrinking = false;
    fc.assert(
      fc.property(arb, (plan) => {
        try {
          const s = runStream(corpus, applyPlan(corpus, plan), {
            snapshotDelay: plan.snapshotDelay,
            staleSnapshots: plan.staleSnapshots,
            unattributed: options.onUnattributed,
          });
          if (!shrinking) {
            addStats(total, s);
            runs++;
          }
        } catch (e) {
          shrinking = true;
          throw e;
        }
      }),
      { numRuns, seed: seed++ },
    );
  }
  return { name: corpus.name, runs, stats: total, ms: performance.now() - t0 };
}
