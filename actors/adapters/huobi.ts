/**
 * HTX (Huobi) spot.
 * Docs: https://www.htx.com/en-us/opend/newApiPages/ (market WebSocket; MBP:
 * https://www.htx.com/en-us/opend/newApiPages/?id=7ec5362b-7773-11ed-9966-0242ac110003)
 *
 * Books follow `market.$symbol.mbp.150`: the changes between two 150-level
 * images taken 100 ms apart, each numbered `seqNum` and linked to the one
 * before by `prevSeqNum`. The venue serves no REST snapshot on that
 * numbering: the full image comes from a `req` for the same topic on the
 * same connection, and its `seqNum` equals the `prevSeqNum` of an increment
 * (HTX: subscribe, cache the increments, request the refresh, align them).
 * Levels 5 and 20 are tick by tick but only for some symbols; 400 is served
 * but has no `req` refresh; 150 is served for every symbol with one.
 *
 * The MBP channel and its `req` are served only on `/feed`, and `/feed`
 * serves nothing else, so trades come over a second connection to `/ws`.
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

/** Levels of the MBP book followed. */
const LEVELS = 150;

/** The connection carrying books (`/feed`) and the one carrying trades (`/ws`). */
const GROUPS = ["books", "trades"] as const;

function mbpTopic(symbol: string): string {
  return `market.${symbol}.mbp.${LEVELS}`;
}

function checkGroup(group: string | undefined): "books" | "trades" {
  if (group === "books" || group === "trades") return group;
  throw new Error(
    `Unknown HTX spot connection group "${group}"; known: ${GROUPS.join(", ")}`,
  );
}

/**
 * HTX spot adapter: `mbp.150` incremental books synced with `req` refreshes
 * on `/feed`, and `trade.detail` trades on `/ws`.
 */
export const huobiAdapter: Adapter = {
  id: "huobi",
  docs: "https://www.htx.com/en-us/opend/newApiPages/",
  restOrigin: HUOBI_SPOT_REST,
  metadataUrls: [`${HUOBI_SPOT_REST}/v1/common/symbols`],
  instruments: (bodies) => huobiSpotInstruments(bodies[0]),
  // Every symbol has its book on `/feed` and its trades on `/ws`.
  connectionGroup: () => GROUPS,
  booklessGroups: ["trades"],
  // MBP books live on /feed; a /ws connection of this version carries only
  // trades (a /ws connection subscribing depth is huobi_step0.ts).
  speaks: (url, sent) => {
    const path = new URL(url).pathname;
    return path === "/feed" ||
      (path === "/ws" && !sent.some((f) => f.includes(".depth.")));
  },
  url(_symbols: readonly string[], _endpoint?: string, group?: string) {
    return checkGroup(group) === "books"
      ? "wss://api.huobi.pro/feed"
      : "wss://api.huobi.pro/ws";
  },
  subscribe(symbols: readonly string[], group?: string): string[] {
    const books = checkGroup(group) === "books";
    const out: string[] = [];
    for (const s of symbols) {
      out.push(
        books
          ? JSON.stringify({ sub: mbpTopic(s), id: `${s}.b` })
          : JSON.stringify({ sub: `market.${s}.trade.detail`, id: `${s}.t` }),
      );
    }
    return out;
  },
  // Server pings every 5 s; the parser answers them.
  isHeartbeat: huobiIsHeartbeat,
  parser: (instruments) => huobiParser("huobi", instruments),
  book: {
    // An increment covers (prevSeqNum, seqNum] and links by prevSeqNum; the
    // first one applied after a refresh at S has prevSeqNum == S, i.e.
    // covers S + 1.
    sync: { kind: "rest", link: "prev", align: 1 },
    // The refresh: `{"req": "market.$symbol.mbp.150"}` on the book
    // connection, answered with `{"rep": …, "data": {seqNum, bids, asks}}`.
    requestSnapshot: (symbol) => [
      JSON.stringify({ req: mbpTopic(symbol), id: `${symbol}.r` }),
    ],
    // The increments are differences between two 150-level images, so a
    // level leaving the top 150 should come as a delete; trimming to 150
    // after each update guards against one that does not.
    maxDepth: LEVELS,
  },
};
