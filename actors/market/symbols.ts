/**
 * Symbol selection: which of a venue's instruments a configured symbol means.
 *
 * @module
 */

import type { Instrument } from "./events.ts";

/**
 * Resolves configured symbols against a venue's instruments. A configured
 * symbol is, in order of precedence:
 * - the exchange's own name (`BTCUSDT`, `tBTCUSD`, `XBT/USD`);
 * - `BASE-QUOTE-PERP`: the perpetual of that pair;
 * - `BASE-QUOTE-YYMMDD`: the future of that pair expiring that UTC day;
 * - `BASE-QUOTE`: the spot or perpetual of that pair (spot first), else its
 *   nearest future.
 * @param wanted configured symbols.
 * @param instruments the venue's instruments.
 * @returns the matched instruments (deduplicated) and the names that matched nothing.
 * @example
 * ```ts
 * resolveSymbols(["BTC-USDT"], insts).found[0].exchangeSymbol; // "BTCUSDT"
 * ```
 */
export function resolveSymbols(
  wanted: readonly string[],
  instruments: readonly Instrument[],
): { found: Instrument[]; missing: string[] } {
  const byExchange = new Map(instruments.map((i) => [i.exchangeSymbol, i]));
  const found = new Map<string, Instrument>();
  const missing: string[] = [];
  const rank = (
    i: Instrument,
  ) => (i.market === "spot" ? 0 : i.market === "perpetual" ? 1 : 2);
  for (const w of wanted) {
    let hit = byExchange.get(w);
    if (!hit) {
      const m = w.match(/^(.+?)-(PERP|\d{6})$/);
      const pair = m && m[1].includes("-") ? m[1] : w;
      const suffix = m && m[1].includes("-") ? m[2] : null;
      const candidates = instruments.filter((i) => i.symbol === pair);
      if (suffix === "PERP") {
        hit = candidates.find((i) => i.market === "perpetual");
      } else if (suffix) {
        hit = candidates.find((i) =>
          i.market === "future" && yymmdd(i.expiry) === suffix
        );
      } else {
        hit = candidates.sort((a, b) =>
          rank(a) - rank(b) || (a.expiry ?? 0) - (b.expiry ?? 0)
        )[0];
      }
    }
    if (hit) found.set(hit.exchangeSymbol, hit);
    else missing.push(w);
  }
  return { found: [...found.values()], missing };
}

function yymmdd(ts: number | undefined): string {
  if (ts === undefined) return "";
  const d = new Date(ts);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${
    p(d.getUTCDate())
  }`;
}
