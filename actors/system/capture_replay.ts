/**
 * Capture replay: serves recorded exchange traffic through the exchange
 * simulator and runs the same actors as live mode against it, with only the
 * endpoints pointing at the simulator and the event clock: the simulators
 * send the recorded receive times and the connections run on them
 * (`clock: "recorded"`), so the heatmap columns of a replay are stamped with
 * the recording's times and are the same at any speed. Used by
 * `deno task replay` and the scenario tests.
 *
 * @module
 */

import { type Capture, readCaptures } from "../capture/capture.ts";
import {
  captureAdapter,
  captureSymbols,
  recordedGroups,
} from "../capture/plan.ts";
import { type Coby, startCoby, type StartOptions } from "./start.ts";
import { parseConfig } from "./config.ts";
import { versionDate } from "../adapters/mod.ts";
import type { DumpBook, ReplayDump } from "../market/requests.ts";
import { isConnectionOf } from "./topology.ts";
import { ExchangeSimulator, type Injection } from "../capture/simulator.ts";

/** Options for {@link Replay.start}. */
export interface ReplayOptions extends StartOptions {
  /** Playback speed: a multiple of real time, or `max`. */
  speed: number | "max";
  /**
   * Heatmap tick, ms.
   * @default 1000
   */
  tickMs?: number;
  /** Quote currencies consolidated as one, e.g. `{USDT: "USD"}`. */
  quoteAliases?: Record<string, string>;
  /** Extra frames per exchange, for bad-input scenarios. */
  inject?: Record<string, Injection[]>;
  /**
   * Line up captures recorded at different times: each one's clock is
   * shifted so that every capture's first WebSocket open falls at the same
   * event time, the latest capture's (which keeps its recorded times). Off,
   * each capture plays at its recorded times, so captures of different
   * dates follow one another on the event clock (the heatmap ticks wait
   * for the earliest). On, the shifted captures' columns carry the shifted
   * times.
   * @default false
   */
  align?: boolean;
}

/** The recorded time of a capture's first WebSocket open, ms; -Infinity without one. */
function firstOpen(cap: Capture): number {
  for (const r of cap.records) if (r.kind === "open") return r.ts;
  return -Infinity;
}

/** A running replay. */
export class Replay {
  /** The actors, as in live mode. */
  readonly coby: Coby;
  /** One simulator per exchange. */
  readonly sims: ReadonlyMap<string, ExchangeSimulator>;

  private constructor(coby: Coby, sims: Map<string, ExchangeSimulator>) {
    this.coby = coby;
    this.sims = sims;
  }

  /**
   * Starts simulators for the captures and the actors against them.
   * @param paths capture files of one or more exchanges.
   * @param options speed, tick and event output.
   * @throws {Error} for unreadable captures or an exchange without an adapter.
   */
  static async start(
    paths: readonly string[],
    options: ReplayOptions,
  ): Promise<Replay> {
    // A file named twice (overlapping shell globs) would replay every frame twice.
    const caps = await readCaptures([...new Set(paths)]);
    // Everything that can be wrong with a capture fails here, before any
    // simulator or actor starts.
    const plans = caps.map((cap) => {
      const ad = captureAdapter(cap);
      return {
        cap,
        symbols: captureSymbols(cap, ad),
        apiDate: versionDate(ad),
      };
    });
    const sims = new Map<string, ExchangeSimulator>();
    const exchanges: Record<string, unknown> = {};
    const opens = new Map(caps.map((cap) => [cap, firstOpen(cap)]));
    const base = Math.max(...opens.values());
    try {
      for (const { cap, symbols, apiDate } of plans) {
        const open = opens.get(cap)!;
        const sim = await ExchangeSimulator.start(cap, {
          speed: options.speed,
          inject: options.inject?.[cap.exchange],
          log: () => {},
          clock: true,
          clockOffsetMs: options.align && open > -Infinity ? base - open : 0,
        });
        sims.set(cap.exchange, sim);
        const groups = recordedGroups(
          cap.exchange,
          symbols,
          apiDate,
          sim.wsPaths,
        );
        if (groups.length === 0) {
          throw new Error(
            `The capture of ${cap.exchange} (${
              cap.files.join(", ")
            }) has no recorded WebSocket connection coby can replay (recorded paths: ${
              sim.wsPaths.join(", ") || "none"
            })`,
          );
        }
        exchanges[cap.exchange] = {
          symbols,
          wsOrigin: sim.wsOrigin,
          restOrigin: sim.origin,
          // The version the recording speaks travels as a date at which
          // `adapterFor` picks it (see `versionDate`).
          ...(apiDate === undefined ? {} : { apiDate }),
          groups,
          // Every connection runs on the simulator's recorded clock.
          clock: "recorded",
        };
      }
      const cfg = parseConfig({
        exchanges,
        tickMs: options.tickMs ?? 1000,
        quoteAliases: options.quoteAliases ?? {},
      });
      // A replay stores nothing unless told where (`deno task replay` does).
      return new Replay(
        await startCoby(cfg, {
          ...options,
          store: options.store ?? { enabled: false },
        }),
        sims,
      );
    } catch (e) {
      for (const s of sims.values()) await s.close();
      throw e;
    }
  }

  /**
   * Resolves when every simulator has delivered its capture and every
   * connection actor has processed what it received (its frame count stopped
   * moving).
   * @param timeoutMs give up after this long.
   * @throws {Error} on timeout.
   */
  async finished(timeoutMs = 120_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`Replay did not finish in ${timeoutMs} ms`)),
        timeoutMs,
      )
    );
    await Promise.race([
      Promise.all([...this.sims.values()].map((s) => s.done)),
      timeout,
    ]);
    let last = "";
    let stable = 0;
    while (stable < 3) {
      if (Date.now() > end) {
        throw new Error(`Replay did not settle in ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 150));
      const counts = await Promise.all(
        this.#connections().map((id) =>
          this.coby.supervisor.request(id, "stats", {})
        ),
      );
      const now = JSON.stringify(counts);
      stable = now === last ? stable + 1 : 0;
      last = now;
    }
  }

  /**
   * Every followed book (top `depth` levels) and every exchange's counters.
   * @param depth levels per side.
   */
  async dump(depth = 50): Promise<ReplayDump> {
    const out: ReplayDump = { books: {}, stats: {} };
    const sup = this.coby.supervisor;
    for (const ex of this.sims.keys()) {
      out.books[ex] = {};
      const stats: Record<string, number> = {};
      for (const id of this.#connections(ex)) {
        await sup.request(id, "stats", {});
        const books = await sup.request(id, "books", { depth }) as (DumpBook & {
          exchangeSymbol: string;
        })[];
        for (const b of books) {
          out.books[ex][b.exchangeSymbol] = {
            state: b.state,
            bids: b.bids,
            asks: b.asks,
            lastSequence: b.lastSequence,
          };
        }
        const counters = sup.actors().find((a) =>
          a.id === id
        )?.stats.counters ?? {};
        for (const [k, v] of Object.entries(counters)) {
          stats[k] = (stats[k] ?? 0) + (v as number);
        }
      }
      out.stats[ex] = stats;
    }
    return out;
  }

  /** Connection actor ids, of one exchange or of every replayed exchange. */
  #connections(exchange?: string): string[] {
    const exchanges = exchange ? [exchange] : [...this.sims.keys()];
    return this.coby.supervisor.actors().map((a) => a.id)
      .filter((id) => exchanges.some((ex) => isConnectionOf(id, ex)));
  }

  /** Stops the actors (writers flush) and the simulators. */
  async stop(): Promise<void> {
    await this.coby.supervisor.stop();
    for (const s of this.sims.values()) await s.close();
  }
}
