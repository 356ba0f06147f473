/**
 * A process that serves without ingesting (`deno task serve`) follows the
 * writers' streams on the bus: columns into its heatmap hub, and every
 * stream into its live cache. A malformed entry is counted and logged and
 * never stops the following.
 *
 * @module
 */

import type { EventBatch } from "../market/batch.ts";
import type { HealthEvent } from "../market/events.ts";
import type { ColumnBatch } from "../market/heatmap.ts";
import type { Bar } from "../store/queries/ohlcv.ts";
import { type Bus, STREAMS } from "./bus.ts";
import { decodeBatch } from "./codec.ts";
import { processLog } from "../../runtime/log.ts";
import type { LiveState } from "./state.ts";

const dec = new TextDecoder();

/** Options for {@link followLive}. */
export interface FollowLiveOptions {
  /** Receives each tick's columns (the heatmap hub's `push`). */
  onColumns?: (c: ColumnBatch) => void;
  /**
   * Column batches to take from the stream's recent past first (the hub's
   * history).
   * @default 0
   */
  backfill?: number;
  /**
   * Log lines (malformed entries).
   * @default a warning from the process's logger (`runtime/log.ts`)
   */
  log?: (msg: string) => void;
}

/** What {@link followLive} returns. */
export interface Following {
  /** Entries that could not be decoded (cumulative). */
  readonly malformed: number;
  /** Stops following every stream. */
  stop(): void;
}

/**
 * Follows the columns, events, bars and health streams of a bus into a
 * live cache (and columns to `onColumns`).
 * @param bus the bus the writers publish on.
 * @param live the cache to fill.
 * @param options the columns' receiver, backfill, log.
 * @returns the following; stop it before closing the bus.
 * @example
 * ```ts
 * const f = followLive(bus, live, { onColumns: (c) => hub.push(c), backfill: 600 });
 * ```
 */
export function followLive(
  bus: Bus,
  live: LiveState,
  options: FollowLiveOptions = {},
): Following {
  const log = options.log ??
    ((m) => processLog().warn(m, { actor: "follow" }));
  let malformed = 0;
  const guard = (stream: string, f: (data: Uint8Array) => void) =>
    bus.follow(stream, (data) => {
      try {
        f(data);
      } catch (e) {
        if (malformed++ % 1000 === 0) {
          log(
            `Malformed ${stream} entry of ${data.length} bytes (${malformed} so far): ${
              e instanceof Error ? e.message : e
            }`,
          );
        }
      }
    }, stream === STREAMS.columns ? { backfill: options.backfill ?? 0 } : {});
  const stops = [
    guard(STREAMS.events, (d) => live.onBatch(decodeBatch(d) as EventBatch)),
    guard(STREAMS.bars, (d) => live.onBars(JSON.parse(dec.decode(d)) as Bar[])),
    guard(
      STREAMS.health,
      (d) => live.onHealth(JSON.parse(dec.decode(d)) as HealthEvent),
    ),
    guard(STREAMS.columns, (d) => {
      const c = decodeBatch(d) as ColumnBatch;
      if (c.type !== "columns") throw new TypeError(`Not columns: ${c.type}`);
      live.onColumns(c);
      options.onColumns?.(c);
    }),
  ];
  return {
    get malformed() {
      return malformed;
    },
    stop: () => stops.forEach((s) => s()),
  };
}
