/**
 * Helpers every adapter shares: reading JSON bodies and frames, and sizing
 * contracts in base currency.
 *
 * @module
 */

import type { Instrument } from "../market/events.ts";
import { MalformedFrameError } from "./adapter.ts";

/**
 * Parses JSON text.
 * @param text a frame or REST body.
 * @param what what the text is, for the error message (e.g. `Frame`, `exchangeInfo`).
 * @returns the parsed value.
 * @throws {MalformedFrameError} naming `what` when `text` is not JSON.
 * @example
 * ```ts
 * parseJson<{ id: number }>('{"id":1}', "Frame").id; // 1
 * ```
 */
export function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new MalformedFrameError(`${what} is not JSON: ${text.slice(0, 80)}`);
  }
}

/**
 * Size in base currency of `raw` venue units at `price`: linear contracts
 * `raw × contractSize`, inverse contracts `raw × contractSize / price`
 * (contract value in quote currency); spot has contract size 1.
 * @param raw the venue's size (contracts or base units).
 * @param price price in quote currency.
 * @param inst the instrument.
 * @returns the size in base currency.
 * @example
 * ```ts
 * toBase(100, 50_000, inverseBtcUsd); // 0.002 BTC for 100 × 1 USD contracts
 * ```
 */
export function toBase(raw: number, price: number, inst: Instrument): number {
  return inst.inverse
    ? raw * inst.contractSize / price
    : raw * inst.contractSize;
}

/**
 * The text of a frame; binary frames are decoded as UTF-8.
 * @param frame a received frame.
 * @returns its text.
 */
export function frameText(frame: string | Uint8Array): string {
  return typeof frame === "string" ? frame : new TextDecoder().decode(frame);
}

/**
 * Parses a frame that must be a JSON object (or array).
 * @param text the frame's text.
 * @returns the parsed value.
 * @throws {MalformedFrameError} when `text` is not JSON or not an object.
 * @example
 * ```ts
 * parseObject<{ e: string }>('{"e":"trade"}').e; // "trade"
 * ```
 */
export function parseObject<T>(text: string): T {
  const msg = parseJson<T>(text, "Frame");
  if (msg === null || typeof msg !== "object") {
    throw new MalformedFrameError(
      `Frame is not an object: ${text.slice(0, 80)}`,
    );
  }
  return msg;
}
