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

import {
  type Capture,
  readCaptures,
  recordedConnections,
} from "../capture/capture.ts";
import { type Coby, startCoby, type StartOptions } from "./start.ts";
import { parseConfig } from "./config.ts";
import type { Adapter } from "../adapters/adapter.ts";
import {
  adapterFor,
  adapterForRecording,
  versionDate,
} from "../adapters/mod.ts";
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

/** Books and counters at the end of a replay (the `--dump` JSON). */
export interface ReplayDump {
  /** Exchange id → exchange symbol → its book. */
  books: Record<string, Record<string, DumpBook>>;
  /** Exchange id → its connections' counters, summed. */
  stats: Record<string, Record<string, number>>;
}

/** One book of a dump: best prices first. */
export interface DumpBook {
  /** Sync state, `synced` when the book is exact. */
  state: string;
  /** `[price, size]` levels, best (highest) first. */
  bids: [number, number][];
  /** `[price, size]` levels, best (lowest) first. */
  asks: [number, number][];
  /** The venue's sequence number of the last applied update. */
  lastSequence: number;
}

/** cryptofeed's channels whose symbols coby follows (books, trades, liquidations). */
const FOLLOWED_CHANNELS = ["l2_book", "trades", "liquidations"] as const;

/** cryptofeed's futures month codes: F = January … Z = December. */
const MONTH_CODES = "FGHJKMNQUVXZ";

/**
 * The adapter version a capture speaks: chosen from what its connections
 * subscribed to (URL paths, channel and topic names in the frames the client
 * sent), by the recording date only where the recording cannot tell (see
 * `adapterForRecording`).
 * @param cap the capture.
 * @returns the adapter version.
 * @throws {Error} naming the recorded URL when no version speaks it.
 * @example
 * ```ts
 * captureAdapter(await readCapture(files)).until; // undefined: the current version
 * ```
 */
export function captureAdapter(cap: Capture): Adapter {
  return adapterForRecording(
    cap.exchange,
    recordedConnections(cap),
    cap.records[0]?.ts,
  );
}

/**
 * The symbols cryptofeed followed in a capture. From its `configuration:`
 * line: the symbols of its `l2_book`, `trades` and `liquidations` channels,
 * in that order, as normalized `BASE-QUOTE` (its `-PERP` suffix
 * dropped: the exchange's market type decides), or `BASE-QUOTE-YYMMDD`
 * selectors for its dated futures (`BTC-USD-22K27`, year, month code, day →
 * `BTC-USD-220527`). Without that line: the exchange's own names of the
 * instruments the recorded subscriptions name (URLs and sent frames).
 * @param cap the capture.
 * @param adapter the version the capture speaks; {@link captureAdapter} by default.
 * @returns symbols for the exchange's config.
 * @throws {Error} naming what is missing when neither the configuration nor
 *   the recorded subscriptions name a symbol.
 * @example
 * ```ts
 * captureSymbols(await readCapture(files)); // ["NKN-USDT", "BLZ-ETH", …]
 * ```
 */
export function captureSymbols(
  cap: Capture,
  adapter: Adapter = captureAdapter(cap),
): string[] {
  const named = new Set<string>();
  for (const channel of FOLLOWED_CHANNELS) {
    const list = cap.config?.[channel];
    if (!Array.isArray(list)) continue;
    for (const s of list) named.add(String(s));
  }
  if (named.size) {
    return [
      ...new Set([...named].map((s) =>
        s.replace(/-PERP$/, "").replace(
          /-(\d{2})([FGHJKMNQUVXZ])(\d{2})$/,
          (_, yy, m, dd) =>
            `-${yy}${String(MONTH_CODES.indexOf(m) + 1).padStart(2, "0")}${dd}`,
        )
      )),
    ];
  }
  const why = cap.config
    ? `configuration line names no ${FOLLOWED_CHANNELS.join(", ")} symbols`
    : "has no cryptofeed configuration line";
  return subscribedSymbols(cap, adapter, why);
}

/** Path and query of a URL: how the simulator matches recorded REST calls. */
function pathAndQuery(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

/** Characters that join the parts of an exchange symbol (`BTC-USDT`, `XBT/USD`, `tBTCF0:USTF0`). */
const JOINERS = "-_/:";

/**
 * The instruments the recorded subscriptions name, for a capture without a
 * configuration line: the capture's recorded metadata is read with the
 * adapter, and every WebSocket URL and every sent frame is scanned for
 * those instruments' exchange symbols (case-insensitive, whole words; runs of
 * letters and digits joined by `-`, `_`, `/` or `:`, longest match first).
 * @param cap the capture.
 * @param adapter the version the capture speaks.
 * @param why what the capture lacks, for error messages.
 * @returns exchange symbols, in order of first mention.
 * @throws {Error} naming the missing metadata URL, or saying that no
 *   subscription names a listed symbol.
 */
function subscribedSymbols(
  cap: Capture,
  adapter: Adapter,
  why: string,
): string[] {
  const what = `The capture of ${cap.exchange} (${cap.files.join(", ")})`;
  const bodies = new Map<string, string>();
  for (const r of cap.records) {
    if (r.kind === "http") bodies.set(pathAndQuery(r.url), r.body);
  }
  const meta: string[] = [];
  for (let i = 0; i < adapter.metadataUrls.length; i++) {
    const url = adapter.metadataUrls[i];
    const body = adapter.metadataBodies?.[i] == null
      ? bodies.get(pathAndQuery(url))
      : undefined; // a POST is never recorded
    if (body === undefined) {
      throw new Error(
        `${what} ${why}, and lacks the metadata ${url} to read the symbols of its subscriptions from`,
      );
    }
    meta.push(body);
  }
  const byName = new Map<string, string>();
  for (const inst of adapter.instruments(meta)) {
    byName.set(inst.exchangeSymbol.toUpperCase(), inst.exchangeSymbol);
  }
  const found = new Set<string>();
  for (const c of recordedConnections(cap)) {
    for (const text of [c.url, ...c.sent]) scanSymbols(text, byName, found);
  }
  if (found.size === 0) {
    throw new Error(
      `${what} ${why}, and its recorded subscriptions name no ${cap.exchange} symbol`,
    );
  }
  return [...found];
}

/** Adds to `found` every symbol of `byName` (upper-cased name → name) that `text` names. */
function scanSymbols(
  text: string,
  byName: ReadonlyMap<string, string>,
  found: Set<string>,
): void {
  // Word runs: [start, end) of each maximal run of letters and digits.
  const runs: [number, number][] = [];
  for (const m of text.matchAll(/[A-Za-z0-9]+/g)) {
    runs.push([m.index, m.index + m[0].length]);
  }
  for (let i = 0; i < runs.length;) {
    let best = 0;
    let bestName = "";
    // Up to 4 runs joined by single joiner characters: BTC-USD-SWAP-X at most.
    for (let k = 1; k <= 4 && i + k <= runs.length; k++) {
      if (k > 1) {
        const gap = text.slice(runs[i + k - 2][1], runs[i + k - 1][0]);
        if (gap.length !== 1 || !JOINERS.includes(gap)) break;
      }
      const name = byName.get(
        text.slice(runs[i][0], runs[i + k - 1][1]).toUpperCase(),
      );
      if (name !== undefined) {
        best = k;
        bestName = name;
      }
    }
    if (best) found.add(bestName);
    i += best || 1;
  }
}

/**
 * The connection groups a capture has recordings for: a group whose
 * WebSocket path the capture never opened (HTX's liquidation notification
 * endpoint, say) would only fail to connect, so the replay leaves it out.
 * Groups whose URL needs a REST handshake first are kept.
 * @param exchange exchange id.
 * @param symbols the capture's symbol selectors.
 * @param apiDate a date picking the capture's adapter version (see `versionDate`).
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
