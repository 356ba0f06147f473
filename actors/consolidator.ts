/**
 * Consolidator actor: merges each tick's columns of every exchange for the
 * same consolidation key into one consolidated column around the venues'
 * consensus mid (see `mergeColumns`), keeping the per-exchange columns, and
 * hands the tick to the supervisor (channel `columns`) for fan-out to
 * viewers, and to its out link when it has one (the writer, which stores
 * the columns).
 *
 * Every tick it publishes stats (`ctx.stats`, read by the HTTP layer as
 * `ActorInfo.stats`): which venues are excluded from consolidation now and
 * since when, and which keys are crossed between venues
 * ({@link ConsolidatorStats}).
 *
 * @module
 */

import { z } from "zod";
import { type ActorContext, runActor } from "../runtime/actor.ts";
import { consolidate } from "./market/consolidate.ts";
import type { ColumnBatch, Cross } from "./market/heatmap.ts";

/** Config of the consolidator. */
export const ConsolidatorConfig = z.object({
  /**
   * A venue whose mid deviates from the consensus mid by more than this
   * fraction of it is excluded from that tick's consolidated column.
   */
  outlierThreshold: z.number().positive().max(1).default(0.02),
  /**
   * Half-width of the consolidated column around the consensus mid,
   * fraction of it; by default the range the aggregator sampled with (the
   * batch's `range`), else 0.05.
   */
  range: z.number().positive().max(1).optional(),
});
/** Parsed consolidator config. */
export type ConsolidatorConfig = z.infer<typeof ConsolidatorConfig>;

/** A venue excluded from a key's consolidation now, as published in stats. */
export interface ExcludedVenue {
  /** Exchange id. */
  exchange: string;
  /** The venue's symbol. */
  exchangeSymbol: string;
  /** Consolidation key, e.g. `BTC-USD`. */
  symbol: string;
  /** First tick of the current run of exclusions, ms since epoch. */
  since: number;
  /** Last tick it was excluded (the latest tick), ms since epoch. */
  ts: number;
  /** Its mid at that tick, quote currency (null when it had none). */
  mid: number | null;
  /** The consensus mid at that tick, quote currency. */
  consensusMid: number | null;
  /** `mid / consensusMid - 1`, signed fraction (null when it had no mid). */
  deviation: number | null;
  /** Why, in words. */
  reason: string;
}

/** A key whose consolidated BBO is crossed between venues now. */
export interface CrossedKey {
  /** Consolidation key. */
  symbol: string;
  /** First tick of the current run of crossed ticks, ms since epoch. */
  since: number;
  /** Latest tick, ms since epoch. */
  ts: number;
  /** The venue bidding above another's ask, and that ask. */
  cross: Cross;
}

/** What the consolidator publishes with `ctx.stats` every tick. */
export interface ConsolidatorStats {
  /** Cumulative counts (summed over restarts by the supervisor). */
  counters: {
    /** Ticks consolidated. */
    ticks: number;
    /** Venue columns left out, over every tick and key. */
    exclusions: number;
    /** Consolidated columns whose BBO was crossed between venues. */
    crossedColumns: number;
  };
  /** The latest tick, ms since epoch; null before the first. */
  ts: number | null;
  /** The outlier threshold in force, fraction of the consensus mid. */
  outlierThreshold: number;
  /** Venues excluded at the latest tick, by key then exchange. */
  excluded: ExcludedVenue[];
  /** Keys crossed between venues at the latest tick. */
  crossed: CrossedKey[];
}

/** JSON-safe number: NaN and infinities become null. */
function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/**
 * Follows consolidated ticks and keeps, for each excluded venue and each
 * crossed key, since when it has been so without interruption; a venue that
 * comes back within the threshold, or stops sending columns, drops out.
 */
export class ConsolidationTracker {
  readonly #threshold: number;
  #excluded = new Map<string, ExcludedVenue>();
  #crossed = new Map<string, CrossedKey>();
  #ts: number | null = null;
  #ticks = 0;
  #exclusions = 0;
  #crossedColumns = 0;

  /**
   * Makes an empty tracker.
   * @param outlierThreshold the threshold in force, reported in stats.
   */
  constructor(outlierThreshold: number) {
    this.#threshold = outlierThreshold;
  }

  /**
   * Takes one consolidated tick (the output of {@link consolidate}).
   * @param b the batch; only its consolidated columns' metadata is read.
   */
  observe(b: ColumnBatch): void {
    const excluded = new Map<string, ExcludedVenue>();
    const crossed = new Map<string, CrossedKey>();
    for (const c of b.columns) {
      const info = c.consolidation;
      if (c.exchange !== "consolidated" || !info) continue;
      for (const x of info.excluded) {
        const key = `${c.symbol}\u0000${x.exchange}\u0000${x.exchangeSymbol}`;
        excluded.set(key, {
          exchange: x.exchange,
          exchangeSymbol: x.exchangeSymbol,
          symbol: c.symbol,
          since: this.#excluded.get(key)?.since ?? b.ts,
          ts: b.ts,
          mid: finite(x.mid),
          consensusMid: finite(info.mid),
          deviation: finite(x.deviation),
          reason: x.reason,
        });
        this.#exclusions++;
      }
      if (info.cross) {
        crossed.set(c.symbol, {
          symbol: c.symbol,
          since: this.#crossed.get(c.symbol)?.since ?? b.ts,
          ts: b.ts,
          cross: info.cross,
        });
        this.#crossedColumns++;
      }
    }
    this.#excluded = excluded;
    this.#crossed = crossed;
    this.#ts = b.ts;
    this.#ticks++;
  }

  /**
   * The stats to publish.
   * @returns counters, the venues excluded now and the keys crossed now.
   */
  stats(): ConsolidatorStats {
    const byKey = (a: { symbol: string }, b: { symbol: string }) =>
      a.symbol.localeCompare(b.symbol);
    return {
      counters: {
        ticks: this.#ticks,
        exclusions: this.#exclusions,
        crossedColumns: this.#crossedColumns,
      },
      ts: this.#ts,
      outlierThreshold: this.#threshold,
      excluded: [...this.#excluded.values()].sort((a, b) =>
        byKey(a, b) || a.exchange.localeCompare(b.exchange) ||
        a.exchangeSymbol.localeCompare(b.exchangeSymbol)
      ),
      crossed: [...this.#crossed.values()].sort(byKey),
    };
  }
}

if ((globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope) {
  let ctx: ActorContext;
  let cfg: ConsolidatorConfig;
  let tracker: ConsolidationTracker;
  /** The writer's link (`columns`), when there is one. */
  let store: MessagePort | null = null;
  runActor({
    init(config, c) {
      ctx = c;
      cfg = ConsolidatorConfig.parse(config ?? {});
      tracker = new ConsolidationTracker(cfg.outlierThreshold);
      ctx.stats({ ...tracker.stats() });
    },
    link(_name, _peer, role, port) {
      if (role === "out") {
        store?.close();
        store = port;
        return;
      }
      port.onmessage = (ev) => {
        const out = consolidate(ev.data as ColumnBatch, cfg);
        tracker.observe(out);
        ctx.stats({ ...tracker.stats() });
        if (store) {
          // The supervisor gets `out.buf` itself: the writer gets a copy.
          const copy = { ...out, buf: out.buf.slice(0) };
          store.postMessage(copy, [copy.buf]);
        }
        ctx.output("columns", out, [out.buf]);
      };
    },
  });
}
