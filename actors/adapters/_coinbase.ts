/**
 * Frame helpers shared by the two Coinbase adapters: Advanced Trade
 * (`coinbase.ts`, https://docs.cdp.coinbase.com/advanced-trade/docs/ws-channels)
 * and the retired Pro feed (`coinbase_pro.ts`, documented today as the
 * Exchange feed: https://docs.cdp.coinbase.com/exchange/websocket-feed/channels).
 *
 * @module
 */

import { MalformedFrameError } from "./adapter.ts";
import { parseObject } from "./_common.ts";

/**
 * Reads an RFC 3339 time as ms since the epoch, microseconds and nanoseconds
 * truncated.
 * @param time the venue's time string, e.g. `2021-04-17T16:43:37.075687Z`.
 * @param fallback returned when `time` is absent or not a usable time.
 * @returns ms since the epoch, or `fallback` (never throws).
 * @example Unusable times fall back to the receive time
 * ```ts
 * isoMs("2021-04-17T16:43:37.075687Z", 0); // 1618677817075
 * isoMs("0001-01-01T00:00:00.000000Z", 42); // 42
 * ```
 */
export function isoMs(time: unknown, fallback: number): number {
  if (typeof time !== "string") return fallback;
  const t = Date.parse(time);
  // Coinbase has sent "0001-01-01T00:00:00.000000Z" on valid Pro l2updates
  // (tardis-node works around it) and "1970-01-01T00:00:00Z" as the
  // event_time of Advanced Trade snapshot levels: neither is an event time.
  return t > 0 ? t : fallback;
}

/**
 * Parses a text frame as a JSON object.
 * @param frame the received frame; Coinbase only sends text.
 * @returns the parsed object.
 * @throws {MalformedFrameError} for binary frames, invalid JSON or non-objects.
 * @example
 * ```ts
 * jsonFrame<{ type: string }>(`{"type":"heartbeat"}`).type; // "heartbeat"
 * ```
 */
export function jsonFrame<T>(frame: string | Uint8Array): T {
  if (typeof frame !== "string") {
    throw new MalformedFrameError(
      `Binary frame of ${frame.byteLength} bytes; Coinbase sends text`,
    );
  }
  const msg = parseObject<T>(frame);
  if (Array.isArray(msg)) {
    throw new MalformedFrameError(
      `Frame is not an object: ${frame.slice(0, 80)}`,
    );
  }
  return msg;
}

/**
 * The taker side of a public Coinbase trade. Both feeds report the side of
 * the maker order (the resting one): a `sell` maker was lifted by a buying
 * taker (an up-tick), a `buy` maker was hit by a selling taker.
 * @param makerSide `buy`/`sell` (Pro `match`) or `BUY`/`SELL` (Advanced
 *   Trade `market_trades`).
 * @returns the opposite side, the taker's.
 * @throws {MalformedFrameError} for any other value.
 * @example
 * ```ts
 * takerSide("sell"); // "buy"
 * ```
 */
export function takerSide(makerSide: unknown): "buy" | "sell" {
  switch (makerSide) {
    case "sell":
    case "SELL":
      return "buy";
    case "buy":
    case "BUY":
      return "sell";
    default:
      throw new MalformedFrameError(
        `Bad trade side ${JSON.stringify(makerSide)}`,
      );
  }
}
