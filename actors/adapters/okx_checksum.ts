/**
 * OKX v5 public WebSocket as served until 2026-06-22: `books` sends its
 * snapshot in the stream and every frame carries a CRC32 checksum of the top
 * 25 levels. Retired when OKX set that checksum to 0 (2026-06-23); the current
 * version is `okx.ts`.
 * Docs: https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel
 *
 * Sequence numbers: `seqId`/`prevSeqId` were added to `books` later in this
 * era; cryptofeed's OKX recording of 2022-05-13 has none. A
 * `link: "prev"` rule would call every such update a gap, and emitting
 * invented sequences would hide the real ones. So this version syncs on the
 * in-stream snapshot with `link: "none"` and lets the checksum, present on
 * every frame of the era, guard the book: any divergence in the top 25
 * levels fails it and resubscribes the instrument. `seqId`, when sent, is
 * still reported on the events.
 *
 * @module
 */

import type { Adapter } from "./adapter.ts";
import {
  OKX_KEEPALIVE,
  OKX_METADATA_URLS,
  OKX_REST,
  OKX_WS,
  okxChecksum,
  okxInstruments,
  okxParser,
  okxResubscribe,
  okxSubscribe,
} from "./_okx.ts";

/**
 * OKX adapter of the checksum era: `books` synced on the in-stream snapshot
 * and verified by its CRC32 checksum, `trades` and `liquidation-orders`.
 */
export const okxChecksumAdapter: Adapter = {
  id: "okx",
  docs:
    "https://www.okx.com/docs-v5/en/#order-book-trading-market-data-ws-order-book-channel",
  // Last day with checksums: 2026-06-22 (UTC), end of day.
  until: Date.UTC(2026, 5, 23) - 1,
  restOrigin: OKX_REST,
  metadataUrls: OKX_METADATA_URLS,
  instruments: okxInstruments,
  url: () => OKX_WS,
  subscribe: okxSubscribe,
  keepalive: OKX_KEEPALIVE,
  parser: (instruments) => okxParser(instruments),
  book: {
    sync: { kind: "stream", link: "none" },
    checksum: okxChecksum,
    // Unsubscribe + subscribe `books` makes OKX send a fresh snapshot.
    resubscribe: okxResubscribe,
  },
};
