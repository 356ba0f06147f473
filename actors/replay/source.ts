/**
 * What a replay session reads: a source of normalized events in event-time
 * order, as the columnar batches the connection actors send (`EventBatch`),
 * one builder per exchange. Capture files (`files.ts`) and the history store
 * (`store.ts`) implement it; the session (`session.ts`) paces it. A source
 * owns its books, so it also buckets them on the ticks (`sampleBooks`).
 *
 * @module
 */

import type { EventBatch } from "../market/batch.ts";
import type { ReplayDump } from "../market/requests.ts";
import type {
  BookColumns,
  BucketSizes,
  SamplingConfig,
} from "../market/sampler.ts";

/**
 * A time-ordered event source. Call order: {@link ReplaySource.seek} once
 * (to the range's start) before the first {@link ReplaySource.advance}.
 */
export interface ReplaySource {
  /** Exchange ids it feeds; each is one input of the session's aggregation. */
  readonly exchanges: readonly string[];
  /** Time of its first event, ms since epoch (event time). */
  readonly start: number;
  /** Time of its last event, ms since epoch (event time). */
  readonly end: number;
  /**
   * Positions the source at instant `t`: every book exact at `t`, pushed in
   * full (a `Clear`, then every level) into the next {@link take}; the
   * events from `t` on follow. A file source may play from its beginning to
   * get there (without keeping what it applies on the way).
   * @param t event time, ms.
   */
  seek(t: number): Promise<void>;
  /**
   * Time of the next event not applied yet, ms; Infinity when none is left.
   */
  next(): number;
  /**
   * Time of the last event applied since the last {@link seek}, ms;
   * -Infinity before any.
   */
  last(): number;
  /**
   * Applies the events before `until`, at most about `budget` of them, into
   * the batches.
   * @param until event time, ms (exclusive).
   * @param budget events to stop after (the session yields between calls).
   * @returns events applied.
   */
  advance(until: number, budget: number): number | Promise<number>;
  /**
   * Takes what was applied since the last take: one batch per exchange
   * (empty ones included), each stamped with `clock` (no later event is
   * before it).
   * @param clock the event clock, ms.
   */
  take(clock: number): EventBatch[];
  /**
   * From the next {@link seek} on, samples its books into book columns at
   * every tick end an exchange's event clock crosses (one `BookSampler` per
   * exchange, the bucket sizes of `sizes`), as a connection actor does for
   * the aggregator; a seek starts the samplers over at its instant.
   * @param cfg tick, range, buckets and aliases.
   * @param sizes the bucket sizes (share the aggregation's).
   */
  sampleBooks(cfg: SamplingConfig, sizes: BucketSizes): void;
  /**
   * Takes the book samples made since the last call (each exchange's in
   * clock order); call it after {@link take}, which samples the tick ends
   * its clock crosses, and hand them over before the batches.
   */
  takeBooks(): BookColumns[];
  /**
   * The books now (top `depth` levels) and the counters (frames,
   * malformed, gaps, resyncs, checksum failures, …) per exchange.
   * @param depth levels per side.
   */
  dump(depth: number): ReplayDump;
  /**
   * NDJSON of every event applied since the last call (when the session
   * emits events), else "".
   */
  events?(): string;
  /** Frees what it holds (open pages, files). */
  close(): void;
}
