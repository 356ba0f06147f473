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

import type { BookDelta, BookSnapshot, Instrument } from "../market/events.ts";
import type { Adapter } from "./adapter.ts";
import { baseLevels } from "./_common.ts";
import {
  OKX_KEEPALIVE,
  OKX_METADATA_URLS,
  OKX_REST,
  OKX_WS,
  type OkxBook,
  okxBook,
  okxBookFields,
  okxChecksum,
  okxInstruments,
  okxIsHeartbeat,
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
  isHeartbeat: okxIsHeartbeat,
  parser: (instruments) => okxParser(instruments, checksummedBook),
  book: {
    sync: { kind: "stream", link: "none" },
    checksum: okxChecksum,
    // Unsubscribe + subscribe `books` makes OKX send a fresh snapshot.
    resubscribe: okxResubscribe,
  },
};

/**
 * A `books` item of this era: the in-stream snapshot and the updates, each
 * with the venue's `checksum` and the level strings it is computed over.
 * `seqId`/`prevSeqId`, where sent, are reported (-1 otherwise) but not
 * relied on.
 * @throws {MalformedFrameError} for an unreadable item.
 */
function checksummedBook(
  inst: Instrument,
  item: OkxBook,
  action: "snapshot" | "update",
  recvTs: number,
): BookSnapshot | BookDelta {
  const d = okxBook(item);
  const rawBids = new Array<string>(d.bids?.length ?? 0);
  const rawAsks = new Array<string>(d.asks?.length ?? 0);
  const fields = okxBookFields(inst, d, recvTs, {
    bids: baseLevels(d.bids, inst, { text: rawBids }),
    asks: baseLevels(d.asks, inst, { text: rawAsks }),
  });
  const check = typeof d.checksum === "number"
    ? { checksum: d.checksum, raw: { bids: rawBids, asks: rawAsks } }
    : {};
  const hasSeq = typeof d.seqId === "number";
  if (action === "snapshot") {
    return {
      type: "book_snapshot",
      ...fields,
      ...check,
      sequence: hasSeq ? d.seqId! : -1,
    };
  }
  const prev = hasSeq && typeof d.prevSeqId === "number" ? d.prevSeqId : -1;
  return {
    type: "book_delta",
    ...fields,
    ...check,
    first: hasSeq ? prev + 1 : -1,
    last: hasSeq ? d.seqId! : -1,
    prev,
  };
}
