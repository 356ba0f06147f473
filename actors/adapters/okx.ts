/**
 * OKX v5 public WebSocket, current order-book procedure (from 2026-06-23).
 * Docs: https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
 * Changelog: https://www.okx.com/docs-v5/log_en/ ("Delist initial snapshot and
 * checksum field in order book channels", and the 2026-05-21 notice that the
 * `checksum` of `books` is always 0 from 2026-06-23).
 *
 * OKX retired the `books` checksum (pushed as 0 since 2026-06-23) and delists
 * the initial in-stream snapshot; its "How to manage a local order book
 * correctly" now reads: buffer the `books` updates, ignore a `snapshot`
 * action, fetch `GET /api/v5/market/books`, drop updates with
 * `seqId <= snapshot seqId`, start at the update with
 * `prevSeqId <= snapshot seqId < seqId`, then require each `prevSeqId` to
 * equal the previous `seqId`. With `first = prevSeqId + 1` and `last = seqId`
 * that is the `rest` rule with `link: "prev"` and `align: 1`
 * (`first <= S + 1 <= last`). The in-stream snapshot, while OKX still sends
 * it, is ignored, so the adapter works before and after the delisting. A
 * maintenance reset of the numbering (`seqId < prevSeqId`) reconnects, which
 * resyncs every book.
 *
 * The earlier feed (in-stream snapshot, CRC32 checksum, `seqId` added along
 * the way) is `okx_checksum.ts`.
 *
 * @module
 */

import type { Adapter } from "./adapter.ts";
import {
  OKX_KEEPALIVE,
  OKX_METADATA_URLS,
  OKX_REST,
  OKX_WS,
  okxInstruments,
  okxParser,
  okxRestSnapshot,
  okxSubscribe,
} from "./_okx.ts";

/**
 * OKX adapter: `books` (400 levels, 100 ms) synced to the REST snapshot by
 * `seqId`/`prevSeqId`, `trades` and `liquidation-orders`; contract sizes
 * converted to base (inverse contracts divide by the price).
 */
export const okxAdapter: Adapter = {
  id: "okx",
  docs:
    "https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel",
  restOrigin: OKX_REST,
  metadataUrls: OKX_METADATA_URLS,
  instruments: okxInstruments,
  url: () => OKX_WS,
  subscribe: okxSubscribe,
  keepalive: OKX_KEEPALIVE,
  parser: (instruments) =>
    okxParser(instruments, {
      streamSnapshots: false,
      checksums: false,
      sequenced: true,
    }),
  book: {
    // First update: prevSeqId <= snapshot seqId < seqId; then
    // prevSeqId == previous seqId.
    sync: { kind: "rest", link: "prev", align: 1 },
    // 400 levels, the depth of the `books` channel (the REST default is 1).
    snapshotUrl: (symbol) =>
      `${OKX_REST}/api/v5/market/books?instId=${symbol}&sz=400`,
    parseSnapshot: okxRestSnapshot,
  },
};
