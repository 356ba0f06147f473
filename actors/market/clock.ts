/**
 * The replay clock protocol: how the exchange simulator tells a connection
 * the recorded receive time of what it sends, so a capture replay runs on
 * the recorded event clock at any speed.
 *
 * A clock frame is a text frame `"\u0000coby-clock <ms>"`: every data frame
 * after it, until the next clock frame, was received at `<ms>` (ms since the
 * Unix epoch, UTC, possibly fractional) in the recording. The simulator sends
 * one before a data frame whose recorded time differs from the last one it
 * sent, one when a run starts (the recorded open) and one when it ends (the
 * capture's last recorded time).
 *
 * `"\u0000coby-clock <ms> <path+query>"` also says that the response to the
 * held REST request `GET <path+query>` is sent right after it: a connection
 * on the recorded clock applies that response at this point of the stream,
 * whichever of the two arrives first.
 *
 * Clock frames are not data: a connection consumes them before its parser
 * and does not count them as frames.
 *
 * @module
 */

/** What every clock frame starts with. */
export const CLOCK_PREFIX = "\u0000coby-clock ";

/** A parsed clock frame. */
export interface ClockFrame {
  /** The recorded receive time of the data frames after it, ms since epoch. */
  readonly ts: number;
  /**
   * Path and query of the REST request whose response is sent right after
   * this frame (see {@link restKey}); absent on a plain clock frame.
   */
  readonly rest?: string;
}

/**
 * Builds a clock frame.
 * @param ts recorded receive time, ms since epoch.
 * @param rest path and query of the REST response sent right after it.
 * @returns the frame's text.
 * @throws {RangeError} when `ts` is not a finite number, or `rest` holds
 * whitespace.
 * @example
 * ```ts
 * socket.send(clockFrame(1633998512063.357)); // "\u0000coby-clock 1633998512063.357"
 * socket.send(clockFrame(ts, "/api/v3/depth?symbol=BTCUSDT&limit=1000"));
 * ```
 */
export function clockFrame(ts: number, rest?: string): string {
  if (!Number.isFinite(ts)) {
    throw new RangeError(`Clock time must be a finite number: ${ts}`);
  }
  if (rest === undefined) return CLOCK_PREFIX + ts;
  if (rest === "" || /\s/.test(rest)) {
    throw new RangeError(
      `REST key must be non-empty without whitespace: ${
        JSON.stringify(rest.slice(0, 40))
      }`,
    );
  }
  return `${CLOCK_PREFIX}${ts} ${rest}`;
}

/**
 * Reads a clock frame.
 * @param frame a received frame (binary frames are never clock frames).
 * @returns the clock, or null when `frame` is not a well-formed clock frame.
 * @example
 * ```ts
 * parseClockFrame("\u0000coby-clock 1633998512063.357"); // { ts: 1633998512063.357 }
 * parseClockFrame('{"stream":"x"}'); // null
 * ```
 */
export function parseClockFrame(
  frame: string | Uint8Array,
): ClockFrame | null {
  if (typeof frame !== "string" || !frame.startsWith(CLOCK_PREFIX)) {
    return null;
  }
  const body = frame.slice(CLOCK_PREFIX.length);
  const space = body.indexOf(" ");
  const num = space < 0 ? body : body.slice(0, space);
  // Plain decimal only: `Number` would also take "", "0x10" and "Infinity".
  if (!/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(num)) return null;
  const ts = Number(num);
  if (!Number.isFinite(ts)) return null;
  if (space < 0) return { ts };
  const rest = body.slice(space + 1);
  return rest === "" || /\s/.test(rest) ? null : { ts, rest };
}

/**
 * The key a clock frame names a REST request by: the URL's path and query,
 * as the simulator matches recorded requests (the origin is replaced in a
 * replay, the path and query are not).
 * @param url an absolute URL.
 * @returns e.g. `/api/v3/depth?symbol=BTCUSDT&limit=1000`.
 * @throws {TypeError} when `url` is not an absolute URL.
 * @example
 * ```ts
 * restKey("https://api.binance.com/api/v3/depth?symbol=BTCUSDT&limit=1000");
 * // "/api/v3/depth?symbol=BTCUSDT&limit=1000"
 * ```
 */
export function restKey(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}
