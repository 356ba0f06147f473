/**
 * HTX (Huobi) spot.
 * Docs: https://www.htx.com/en-us/opend/newApiPages/ (market WebSocket, formerly
 * https://huobiapi.github.io/docs/spot/v1/en/#websocket-market-data)
 *
 * Books follow `market.$symbol.depth.step0`: a full 150-level image on every
 * push, so there is nothing to sequence. The incremental `mbp.$levels` feed is
 * not used: its snapshot only comes from a `req` on the same WebSocket
 * (no REST snapshot shares its `seqNum`), and deltas must be buffered until
 * that reply arrives, which the core's sync rules do not offer yet. The
 * parser already reads `mbp` frames and `req` replies.
 *
 * @module
 */

import type { Instrument } from "../../runtime/events.ts";
import type { Adapter } from "./adapter.ts";
import { huobiMetadata, huobiParser } from "./_huobi.ts";

const REST = "https://api.huobi.pro";

/** HTX spot adapter: `depth.step0` full books and `trade.detail` trades. */
export const huobiAdapter: Adapter = {
  id: "huobi",
  docs: "https://www.htx.com/en-us/opend/newApiPages/",
  restOrigin: REST,
  metadataUrls: [`${REST}/v1/common/symbols`],
  instruments(bodies: readonly string[]): Instrument[] {
    const info = huobiMetadata<SymbolsResponse>(bodies[0], "v1/common/symbols");
    const out: Instrument[] = [];
    for (const s of info.data) {
      // Delisted pairs stay in the list as `offline`.
      if (s.state === "offline") continue;
      const base = s["base-currency"].toUpperCase();
      const quote = s["quote-currency"].toUpperCase();
      out.push({
        exchange: "huobi",
        exchangeSymbol: s.symbol,
        symbol: `${base}-${quote}`,
        base,
        quote,
        market: "spot",
        contractSize: 1,
      });
    }
    return out;
  },
  url: () => "wss://api.huobi.pro/ws",
  subscribe(symbols: readonly string[]): string[] {
    const out: string[] = [];
    for (const s of symbols) {
      out.push(
        JSON.stringify({ sub: `market.${s}.depth.step0`, id: `${s}.b` }),
      );
      out.push(
        JSON.stringify({ sub: `market.${s}.trade.detail`, id: `${s}.t` }),
      );
    }
    return out;
  },
  parser: (instruments) => huobiParser("huobi", instruments),
  book: {
    // Every depth.step0 push is the whole book.
    sync: { kind: "snapshots" },
  },
};

// ---- raw frame types ----

interface SymbolsResponse {
  data: {
    symbol: string;
    "base-currency": string;
    "quote-currency": string;
    state: string;
  }[];
}
