/**
 * HTX (Huobi) perpetual swaps: coin-margined (`/swap-ws`, inverse, contracts
 * of `contract_size` USD) and USDT-margined (`/linear-swap-ws`, linear,
 * contracts of `contract_size` base).
 * Docs: https://www.htx.com/en-us/opend/newApiPages/ (formerly
 * https://huobiapi.github.io/docs/coin_margined_swap/v1/en/#subscribe-incremental-market-depth-data
 * and https://huobiapi.github.io/docs/usdt_swap/v1/en/#general-subscribe-incremental-market-depth-data)
 *
 * Books follow `market.$contract_code.depth.size_150.high_freq` with
 * `data_type: "incremental"`: a snapshot on subscribing, then updates whose
 * `version` goes up by 1. The parser also reads `depth.step0` full images,
 * the channel cryptofeed's recordings subscribe.
 *
 * Liquidations (`public.$contract_code.liquidation_orders`) are published on
 * the notification endpoints (`/swap-notification`,
 * `/linear-swap-notification`), not the market ones; the parser reads them,
 * but following them needs a second connection per symbol, which connection
 * groups cannot express yet.
 *
 * @module
 */

import type { Instrument } from "../../runtime/events.ts";
import type { Adapter } from "./adapter.ts";
import { huobiMetadata, huobiParser } from "./_huobi.ts";

const REST = "https://api.hbdm.com";
const WS = "wss://api.hbdm.com";

/**
 * The margin family of a symbol: `swap` for coin-margined (quote USD),
 * `linear` for USDT-margined. Takes contract codes (`BTC-USD`) and selectors
 * (`BTC-USDT`, `BTC-USDT-PERP`).
 */
function family(symbol: string): "swap" | "linear" {
  const parts = symbol.split("-");
  return parts[1] === "USD" ? "swap" : "linear";
}

function bookTopic(symbol: string): string {
  return `market.${symbol}.depth.size_150.high_freq`;
}

/**
 * HTX swaps adapter: incremental 150-level books and `trade.detail` trades,
 * one connection per margin family.
 */
export const huobiSwapAdapter: Adapter = {
  id: "huobi-swap",
  docs: "https://www.htx.com/en-us/opend/newApiPages/",
  restOrigin: REST,
  metadataUrls: [
    `${REST}/swap-api/v1/swap_contract_info`,
    `${REST}/linear-swap-api/v1/swap_contract_info`,
  ],
  instruments(bodies: readonly string[]): Instrument[] {
    const out: Instrument[] = [];
    for (let b = 0; b < bodies.length; b++) {
      const info = huobiMetadata<ContractInfo>(bodies[b], "swap_contract_info");
      for (const c of info.data) {
        // The USDT-margined list also holds dated futures when asked for
        // `business_type=all`; only perpetuals are followed here.
        if (c.business_type !== undefined && c.business_type !== "swap") {
          continue;
        }
        const [base, quote, extra] = c.contract_code.split("-");
        if (extra !== undefined || quote === undefined) continue;
        const inverse = quote === "USD";
        out.push({
          exchange: "huobi-swap",
          exchangeSymbol: c.contract_code,
          symbol: `${base}-${quote}`,
          base,
          quote,
          market: "perpetual",
          // Coin-margined: USD per contract; USDT-margined: base per contract.
          contractSize: +c.contract_size,
          ...(inverse ? { inverse: true } : {}),
        });
      }
    }
    return out;
  },
  connectionGroup: family,
  url(symbols: readonly string[]): string {
    const f = family(symbols[0] ?? "");
    for (const s of symbols) {
      if (family(s) !== f) {
        throw new Error(
          `Symbols ${
            symbols[0]
          } and ${s} are served on different HTX endpoints`,
        );
      }
    }
    return f === "swap" ? `${WS}/swap-ws` : `${WS}/linear-swap-ws`;
  },
  subscribe(symbols: readonly string[]): string[] {
    const out: string[] = [];
    for (const s of symbols) {
      out.push(JSON.stringify({
        sub: bookTopic(s),
        data_type: "incremental",
        id: `${s}.b`,
      }));
      out.push(
        JSON.stringify({ sub: `market.${s}.trade.detail`, id: `${s}.t` }),
      );
    }
    return out;
  },
  parser: (instruments) => huobiParser("huobi-swap", instruments),
  book: {
    // Snapshot in the stream, then each update's version is the last + 1.
    sync: { kind: "stream", link: "next" },
    // Subscribing again sends a fresh snapshot.
    resubscribe: (symbol) => [
      JSON.stringify({
        unsub: bookTopic(symbol),
        data_type: "incremental",
        id: `${symbol}.u`,
      }),
      JSON.stringify({
        sub: bookTopic(symbol),
        data_type: "incremental",
        id: `${symbol}.b`,
      }),
    ],
  },
};

// ---- raw frame types ----

interface ContractInfo {
  data: {
    contract_code: string;
    contract_size: number;
    /** USDT-margined only: `swap` or `futures`. */
    business_type?: string;
  }[];
}
