/**
 * Capture replay: serves recorded exchange traffic through the exchange
 * simulator and runs the same actors as live mode against it, with only the
 * endpoints pointing at the simulator. Used by `deno task replay` and the
 * scenario tests.
 *
 * @module
 */

import { type Capture, readCaptures } from "../capture/capture.ts";
import { type Coby, startCoby, type StartOptions } from "./start.ts";
import { parseConfig } from "./config.ts";
import { adapterFor } from "../adapters/mod.ts";
import { connectionGroups, isConnectionOf } from "./topology.ts";
import { ExchangeSimulator, type Injection } from "../capture/simulator.ts";

/** Options for {@link startReplay}. */
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
}

/** Books and counters at the end of a replay (the `--dump` JSON). */
export interface ReplayDump {
  books: Record<string, Record<string, DumpBook>>;
  stats: Record<string, Record<string, number>>;
}

/** One book of a dump: best prices first. */
export interface DumpBook {
  state: string;
  bids: [number, number][];
  asks: [number, number][];
  lastSequence: number;
}

/** cryptofeed's futures month codes: F = January … Z = December. */
const MONTH_CODES = "FGHJKMNQUVXZ";

/**
 * The symbols cryptofeed followed in a capture, as normalized `BASE-QUOTE`
 * (its `-PERP` suffix dropped: the exchange's market type decides), or
 * `BASE-QUOTE-YYMMDD` selectors for its dated futures (`BTC-USD-22K27`, year,
 * month code, day → `BTC-USD-220527`).
 * @param cap the capture.
 * @throws {Error} when the capture has no configuration line with `l2_book`.
 */
export function captureSymbols(cap: Capture): string[] {
  const books = (cap.config as { l2_book?: string[] } | undefined)?.l2_book;
  if (!books?.length) {
    throw new Error(`Capture of ${cap.exchange} names no l2_book symbols`);
  }
  return books.map((s) =>
    s.replace(/-PERP$/, "").replace(
      /-(\d{2})([FGHJKMNQUVXZ])(\d{2})$/,
      (_, yy, m, dd) =>
        `-${yy}${String(MONTH_CODES.indexOf(m) + 1).padStart(2, "0")}${dd}`,
    )
  );
}

/**
 * The connection groups a capture has recordings for: a group whose
 * WebSocket path the capture never opened (HTX's liquidation notification
 * endpoint, say) would only fail to connect, so the replay leaves it out.
 * Groups whose URL needs a REST handshake first are kept.
 * @param exchange exchange id.
 * @param symbols the capture's symbol selectors.
 * @param apiDate the capture's recording date.
 * @param paths WebSocket paths the simulator serves.
 * @returns the groups to run.
 */
export function recordedGroups(
  exchange: string,
  symbols: readonly string[],
  apiDate: number | undefined,
  paths: readonly string[],
): string[] {
  const ad = adapterFor(exchange, apiDate);
  const groups: string[] = [];
  for (
    const [group, selectors] of connectionGroups(exchange, symbols, apiDate)
  ) {
    let path: string | null = null;
    try {
      path = new URL(ad.url(selectors, undefined, group)).pathname;
    } catch {
      // The URL depends on a REST handshake (KuCoin's bullet token): keep it.
    }
    if (path === null || paths.includes(path)) groups.push(group);
  }
  return groups;
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
    const sims = new Map<string, ExchangeSimulator>();
    const exchanges: Record<string, unknown> = {};
    try {
      for (const cap of caps) {
        const sim = await ExchangeSimulator.start(cap, {
          speed: options.speed,
          inject: options.inject?.[cap.exchange],
          log: () => {},
        });
        sims.set(cap.exchange, sim);
        const symbols = captureSymbols(cap);
        const apiDate = cap.records[0]?.ts;
        exchanges[cap.exchange] = {
          symbols,
          wsOrigin: sim.wsOrigin,
          restOrigin: sim.origin,
          apiDate,
          groups: recordedGroups(cap.exchange, symbols, apiDate, sim.wsPaths),
        };
      }
      const cfg = parseConfig({
        exchanges,
        tickMs: options.tickMs ?? 1000,
        quoteAliases: options.quoteAliases ?? {},
      });
      return new Replay(await startCoby(cfg, options), sims);
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
