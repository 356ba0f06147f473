/**
 * Assertions and readers the adapter tests share: sanity of events, the
 * shared captures and samples, and the doc-derived control frames under
 * `tests/fixtures/`. Test-only: nothing outside `*_test.ts` files imports it.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { MarketEvent } from "../market/events.ts";
import { type Parser, VenueError } from "./adapter.ts";

/** Options for {@link assertSane}. */
export interface AssertSaneOptions {
  /**
   * Also require every event's `exchangeTs` to be after the epoch, for
   * parsers fed real receive times: a venue time that could not be read (or
   * a placeholder such as Coinbase's `0001-01-01`) must not leak through.
   * @default false
   */
  readonly positiveTimes?: boolean;
}

/**
 * Asserts events hold no NaN or infinite number anywhere (fields, levels,
 * raw and nested values, walked to the leaves), so an unreadable price, size
 * or time (an invalid `Date` is NaN) never passes as an event.
 * @param events the parser's output.
 * @param options stricter checks.
 * @throws {assert.AssertionError} naming the path of the first bad number,
 *   e.g. `events[0].bids[3] is NaN`.
 * @example
 * ```ts
 * assertSane(parser.parse(frame, Date.now()));
 * assertSane(events, { positiveTimes: true });
 * ```
 */
export function assertSane(
  events: readonly MarketEvent[],
  options?: AssertSaneOptions,
): void {
  walk(events, "events");
  if (options?.positiveTimes) {
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      if (e.type !== "disconnect") {
        assert.ok(
          e.exchangeTs > 0,
          `events[${i}].exchangeTs is ${e.exchangeTs}`,
        );
      }
    }
  }
}

function walk(v: unknown, path: string): void {
  if (typeof v === "number") {
    assert.ok(Number.isFinite(v), `${path} is ${v}`);
  } else if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) walk(v[i], `${path}[${i}]`);
  } else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) walk(x, `${path}.${k}`);
  }
}

/** The shared cryptofeed captures, relative to the repo root. */
export const CAPTURES = "../shared/data/captures/cryptofeed";

/** tardis-node's exchange test inputs, one message a line. */
export const TARDIS_INPUTS = "../shared/data/samples/tardis-node-inputs";

/**
 * The text frames a capture file received, in order (`<ts>: <text>` lines;
 * binary frames, written as Python bytes literals, are left out: read those
 * with `parseCaptureText` from a test, which may climb to `actors/capture/`).
 * @param file a capture file name, e.g. `KRAKEN.ws.50.0`.
 * @returns the received text frames.
 * @example
 * ```ts
 * const frames = await capturedTexts("BITFINEX.ws.11.0");
 * ```
 */
export async function capturedTexts(file: string): Promise<string[]> {
  const out: string[] = [];
  for (
    const line of (await Deno.readTextFile(`${CAPTURES}/${file}`)).split("\n")
  ) {
    const m = /^\d+(?:\.\d+)?: /.exec(line);
    if (m === null) continue; // opened, sent, REST
    const text = line.slice(m[0].length);
    if (!/^b['"]/.test(text)) out.push(text);
  }
  return out;
}

/**
 * The messages of one tardis-node input file.
 * @param name the exchange's file, e.g. `kucoin` for `kucoin.ndjson`.
 * @returns one message text per line.
 * @example
 * ```ts
 * (await tardisInputs("kucoin"))[0]; // '{"id":"1545910590801","type":"pong"}'
 * ```
 */
export async function tardisInputs(name: string): Promise<string[]> {
  return (await Deno.readTextFile(`${TARDIS_INPUTS}/${name}.ndjson`)).trim()
    .split("\n");
}

/** A venue's error frame and what coby must report for it. */
export interface DocError {
  /** The frame as the venue sends it. */
  readonly frame: string;
  /** The {@link VenueError} message expected. */
  readonly message: string;
  /** The symbol expected, when the venue names one. */
  readonly symbol?: string;
}

/** Control frames of one adapter version, written after the venue's docs. */
export interface DocFrames {
  /** Frames that are only heartbeats (or pongs). */
  readonly heartbeats: readonly string[];
  /** Frames in which the venue reports an error. */
  readonly errors: readonly DocError[];
}

/**
 * Reads the doc-derived control frames of one adapter version from
 * `tests/fixtures/<venue>/docs_frames.json`: `{ "<version>": { "docs": [urls],
 * "heartbeats": [frame…], "errors": [{frame, message, symbol?}…] } }`. A frame
 * written as a JSON object is sent compact (`JSON.stringify`, keys in the
 * order written), as the venues send them; a string is sent as is.
 * @param venue the fixture folder, e.g. `kraken`.
 * @param version the section, e.g. `v2`.
 * @returns the frames.
 * @throws {Error} naming the section when the fixture has none.
 * @example
 * ```ts
 * const { heartbeats, errors } = await docFrames("kraken", "v2");
 * ```
 */
export async function docFrames(
  venue: string,
  version: string,
): Promise<DocFrames> {
  const all = JSON.parse(
    await Deno.readTextFile(`tests/fixtures/${venue}/docs_frames.json`),
  );
  const section = all[version];
  if (section === undefined) {
    throw new Error(`No section "${version}" in the ${venue} docs frames`);
  }
  const text = (f: unknown) => typeof f === "string" ? f : JSON.stringify(f);
  return {
    heartbeats: (section.heartbeats ?? []).map(text),
    errors: (section.errors ?? []).map((
      e: { frame: unknown; message: string; symbol?: string },
    ) => ({ ...e, frame: text(e.frame) })),
  };
}

/**
 * Asserts every error frame makes the parser throw a {@link VenueError}
 * carrying the expected message and symbol.
 * @param parser a parser of the venue.
 * @param errors the frames and the expected reports.
 * @throws {assert.AssertionError} naming the frame when it parses, throws
 *   something else, or reports another message or symbol.
 * @example
 * ```ts
 * assertVenueErrors(adapter.parser(table), (await docFrames("okx", "v5")).errors);
 * ```
 */
export function assertVenueErrors(
  parser: Parser,
  errors: readonly DocError[],
): void {
  assert.ok(errors.length > 0, "no error frames");
  for (const { frame, message, symbol } of errors) {
    let caught: unknown;
    try {
      parser.parse(frame, 1);
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof VenueError, `${frame}: threw ${caught}`);
    assert.equal(caught.message, message, frame);
    assert.equal(caught.symbol, symbol, frame);
  }
}
