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
 * Liquidations (`public.$contract_code.liquidation_orders`, no
 * authentication) are published on the notification endpoints
 * (`/swap-notification`, `/linear-swap-notification`), not the market ones,
 * so every symbol is followed by two connections: its family's market
 * connection (`swap`, `linear`) and its notification connection
 * (`swap-notify`, `linear-notify`), which keeps no books. Notification
 * endpoints speak `op` frames: `{"op":"sub","topic":…}` to subscribe, and
 * their pings are `{"op":"ping","ts":…}`, answered `{"op":"pong","ts":…}`.
 * Docs: https://www.htx.com/en-us/opend/newApiPages/?id=5d51592a-77b6-11ed-9966-0242ac110003
 * and https://www.htx.com/en-us/opend/newApiPages/?id=8cb7e25d-77b5-11ed-9966-0242ac110003
 *
 * @module
 */

import type { Instrument } from "../market/events.ts";
import type { Adapter } from "./adapter.ts";
import { huobiIsHeartbeat, huobiMetadata, huobiParser } from "./_huobi.ts";

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

/** Connection groups: market data per family, then notifications per family. */
const ENDPOINTS: Readonly<Record<string, string>> = {
  swap: `${WS}/swap-ws`,
  linear: `${WS}/linear-swap-ws`,
  "swap-notify": `${WS}/swap-notification`,
  "linear-notify": `${WS}/linear-swap-notification`,
};

/** The groups of a symbol: its family's market and notification connections. */
const GROUPS_OF = {
  swap: ["swap", "swap-notify"],
  linear: ["linear", "linear-notify"],
} as const;

function isNotify(group: string): boolean {
  return group.endsWith("-notify");
}

function bookTopic(symbol: string): string {
  return `market.${symbol}.depth.size_150.high_freq`;
}

/**
 * HTX swaps adapter: incremental 150-level books and `trade.detail` trades,
 * one market connection per margin family, and liquidations from one
 * notification connection per family.
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
  connectionGroup: (symbol) => GROUPS_OF[family(symbol)],
  booklessGroups: ["swap-notify", "linear-notify"],
  url(symbols: readonly string[], _endpoint?: string, group?: string): string {
    // Without a group: the market endpoint of the symbols' family.
    const g = group || family(symbols[0] ?? "");
    const url = ENDPOINTS[g];
    if (url === undefined) {
      throw new Error(
        `Unknown HTX swap connection group "${g}"; known: ${
          Object.keys(ENDPOINTS).join(", ")
        }`,
      );
    }
    const f = g.startsWith("swap") ? "swap" : "linear";
    for (const s of symbols) {
      if (family(s) !== f) {
        throw new Error(
          `Symbol ${s} is not served on the HTX ${g} endpoint ${url}`,
        );
      }
    }
    return url;
  },
  subscribe(symbols: readonly string[], group = ""): string[] {
    const out: string[] = [];
    if (isNotify(group)) {
      for (const s of symbols) {
        out.push(JSON.stringify({
          op: "sub",
          cid: `${s}.l`,
          topic: `public.${s}.liquidation_orders`,
        }));
      }
      return out;
    }
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
  // Server pings on market and notification endpoints; the parser answers them.
  isHeartbeat: huobiIsHeartbeat,
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
