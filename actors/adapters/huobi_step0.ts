/**
 * HTX (Huobi) spot with `depth.step0` books: the feed of the April 2021
 * cryptofeed capture (cryptofeed still subscribes it).
 * Docs: https://www.htx.com/en-us/opend/newApiPages/ (market WebSocket, formerly
 * https://huobiapi.github.io/docs/spot/v1/en/#market-depth)
 *
 * `market.$symbol.depth.step0` pushes a full 150-level image, so there is
 * nothing to sequence, and it is served with `trade.detail` on one
 * connection (`/ws`). HTX still serves it, but names it the "normal latency"
 * depth and `mbp` the low-latency one; `huobi.ts` follows `mbp.150`.
 *
 * @module
 */

import type { Adapter } from "./adapter.ts";
import {
  HUOBI_SPOT_REST,
  huobiIsHeartbeat,
  huobiParser,
  huobiSpotInstruments,
} from "./_huobi.ts";

/**
 * HTX spot adapter for captures recorded with `depth.step0` full books and
 * `trade.detail` trades on one connection.
 */
export const huobiStep0Adapter: Adapter = {
  id: "huobi",
  docs: "https://www.htx.com/en-us/opend/newApiPages/",
  // Not a venue cutover (depth.step0 is still served): coby's own. The
  // seqNum-aligned `mbp.150` feed exists since mid-2020, but the cryptofeed
  // capture (HUOBI.ws.44.0, recorded 2021-04-17) subscribes depth.step0 and
  // replays with this version; from 2022 on coby speaks `mbp.150` (huobi.ts).
  until: Date.UTC(2021, 11, 31, 23, 59, 59, 999),
  restOrigin: HUOBI_SPOT_REST,
  metadataUrls: [`${HUOBI_SPOT_REST}/v1/common/symbols`],
  instruments: (bodies) => huobiSpotInstruments(bodies[0]),
  // One /ws connection that subscribes no `mbp` book (those are huobi.ts).
  speaks: (url, sent) =>
    new URL(url).pathname === "/ws" && !sent.some((f) => f.includes(".mbp.")),
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
  // Server pings every 5 s; the parser answers them.
  isHeartbeat: huobiIsHeartbeat,
  parser: (instruments) => huobiParser("huobi", instruments),
  book: {
    // Every depth.step0 push is the whole book.
    sync: { kind: "snapshots" },
  },
};
