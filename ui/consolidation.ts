/**
 * What the viewer says about consolidation: which venues a column left out
 * and why, whether its venues cross, and an exchange's exclusions as
 * `/api/v1/exchanges` reports them. Pure text helpers, so they are tested
 * without a browser.
 *
 * @module
 */

import type { HeatColumn } from "./columns.ts";

/** One excluded symbol of an exchange, as `/api/v1/exchanges` reports it. */
export interface ExcludedSymbolView {
  /** Consolidation key, e.g. `BTC-USD`. */
  symbol: string;
  /** The venue's symbol. */
  exchangeSymbol: string;
  /** Excluded since, ms since epoch. */
  since: number;
  /** The venue's mid, quote currency. */
  mid: number | null;
  /** The consensus mid, quote currency. */
  consensusMid: number | null;
  /** `mid / consensusMid - 1`, signed fraction. */
  deviation: number | null;
}

/**
 * A signed percentage with two decimals.
 * @param fraction e.g. `0.5`.
 * @returns e.g. `+50.00%`; `–` when unknown.
 * @example
 * ```ts
 * percent(-0.0312); // "-3.12%"
 * ```
 */
export function percent(fraction: number | null | undefined): string {
  if (fraction == null || !Number.isFinite(fraction)) return "–";
  return `${fraction >= 0 ? "+" : ""}${(fraction * 100).toFixed(2)}%`;
}

/** A price with at most 8 significant digits, `–` when unknown. */
function price(v: number | null | undefined): string {
  return v == null || !Number.isFinite(v) ? "–" : String(+v.toPrecision(8));
}

/**
 * The venues a column left out of consolidation, by exchange, each with a
 * tooltip line per excluded symbol (its mid, deviation and the reason).
 * @param col the newest column, or null.
 * @returns exchange id → tooltip text; empty when nothing was excluded.
 * @example
 * ```ts
 * excludedVenues(col).get("bybit"); // "BTCUSD: mid 60622.75 is 100.49% above …"
 * ```
 */
export function excludedVenues(col: HeatColumn | null): Map<string, string> {
  const out = new Map<string, string>();
  for (const x of col?.consolidation?.excluded ?? []) {
    const line = `${x.exchangeSymbol}: ${x.reason}`;
    const prev = out.get(x.exchange);
    out.set(x.exchange, prev ? `${prev}\n${line}` : line);
  }
  return out;
}

/**
 * Describes a cross between venues in a consolidated column.
 * @param col the newest column, or null.
 * @returns e.g. `crossed: bid 30244.5 okx-b > ask 30236.2 okx`, or null when
 *   the column is not crossed.
 * @example
 * ```ts
 * crossText(col); // "crossed: bid 30244.5 binance > ask 30236.2 okx"
 * ```
 */
export function crossText(col: HeatColumn | null): string | null {
  const c = col?.consolidation;
  if (!c?.crossed || !c.cross) return null;
  const { bid, ask } = c.cross;
  return `crossed: bid ${price(bid.price)} ${bid.exchange} > ask ${
    price(ask.price)
  } ${ask.exchange}`;
}

/**
 * The tooltip of an exchange badge excluded from consolidation: one line
 * per symbol with since when, its mid and its deviation from the consensus.
 * @param symbols the exchange's excluded symbols.
 * @param now the current time, ms since epoch.
 * @returns the text; empty when none.
 * @example
 * ```ts
 * exclusionTitle([{ symbol: "BTC-USD", exchangeSymbol: "BTCUSD", since, mid: 60622.75,
 *   consensusMid: 30236.15, deviation: 1.005 }], Date.now());
 * // "excluded from BTC-USD (BTCUSD) for 12s: mid 60622.75, +100.50% vs consensus 30236.15"
 * ```
 */
export function exclusionTitle(
  symbols: readonly ExcludedSymbolView[],
  now: number,
): string {
  return symbols.map((s) =>
    `excluded from ${s.symbol} (${s.exchangeSymbol}) for ${
      Math.max(0, Math.round((now - s.since) / 1000))
    }s: mid ${price(s.mid)}, ${percent(s.deviation)} vs consensus ${
      price(s.consensusMid)
    }`
  ).join("\n");
}
