/**
 * Reader of tardis.dev's raw data format: one message per line,
 * `<local timestamp> <message>`, the timestamp ISO 8601 UTC with fractional
 * seconds of any length (`2019-07-01T00:00:00.0418338Z`: when the message
 * was received), the message as the venue sent it, the file gzipped or not.
 * It is what tardis's HTTP API serves
 * (`https://api.tardis.dev/v1/data-feeds/<exchange>`, documented at
 * https://docs.tardis.dev/api/http) and tardis-node caches as `.json.gz`
 * slices (tardis-node `src/worker.ts`, `src/replay.ts`).
 *
 * Besides the venue's messages, tardis writes messages it generated itself,
 * marked `"generated":true`: for the Binance family (`binance`,
 * `binance-us`, `binance-futures`, `binance-delivery`) the REST depth
 * snapshots it fetched, as
 * `{"stream":"btcusdt@depthSnapshot","generated":true,"data":<REST body>}`
 * (tardis-node `src/realtimefeeds/binance.ts`, `manualSnapshotsBuffer`).
 * Those are read as `http` records of the snapshot URL coby's adapter
 * fetches (`adapter.book.snapshotUrl`), so a replay applies them where
 * tardis recorded them. Other generated messages are skipped: the venue did
 * not send them.
 *
 * coby's recorder writes the same format (`tardisLine` in
 * `actors/connection/recorder.ts`: the connection layer cannot import the
 * capture layer, so the writer lives there and this module reads), and
 * makes its recordings self-contained with envelopes of its own, lines whose
 * message is a JSON object with `"generated":true` and a `"coby"` field:
 * - `{"generated":true,"coby":"open","url":U}`: a WebSocket connection to
 *   `U` opened; the received messages after it are of that connection;
 * - `{"generated":true,"coby":"sent","url":U,"text":T}`: a frame sent on it;
 * - `{"generated":true,"coby":"http","url":U,"body":B}`: a REST GET of `U`
 *   (instrument metadata, a book snapshot) and its response body;
 * - `{"generated":true,"coby":"binary","base64":B}`: a binary frame received
 *   (HTX gzip, MEXC protobuf), its bytes in base64;
 * - `{"generated":true,"coby":"text","text":T}`: a text frame received that
 *   a raw line cannot hold (it has a line break, or could be read as a
 *   generated message);
 * - `{"generated":true,"coby":"conn","url":U}`: the messages after it were
 *   received on the connection to `U` opened in an earlier file (the first
 *   line of a rotated recording file); no record of its own.
 *
 * A plain tardis file carries no instrument list: it replays together with
 * a metadata file of the same exchange, cryptofeed's `X.0` (its REST
 * metadata lines) or a coby recording (which records the metadata responses
 * it fetched).
 *
 * @module
 */

import { adapterFor } from "../adapters/mod.ts";
import type { BookSpec } from "../adapters/adapter.ts";
import type { TimedRecord } from "./capture.ts";

/**
 * tardis.dev exchange ids (https://docs.tardis.dev/historical-data-details,
 * the leading part of its file names) → coby's exchange ids; coby's own ids
 * name themselves. HTX delivery futures (`huobi-dm`) and the venues' other
 * markets are not coby's.
 */
export const TARDIS_IDS: ReadonlyMap<string, string> = new Map([
  ["okex", "okx"],
  ["huobi-dm-swap", "huobi-swap"],
  ["huobi-dm-linear-swap", "huobi-swap"],
  ["gate-io", "gateio"],
  ...[
    "binance",
    "binance-futures",
    "binance-delivery",
    "binance-us",
    "coinbase",
    "kraken",
    "bybit",
    "bybit-spot",
    "okx",
    "huobi",
    "huobi-swap",
    "kucoin",
    "gateio",
    "bitfinex",
    "mexc",
    "mexc-futures",
    "hyperliquid",
  ].map((id): [string, string] => [id, id]),
]);

/** A tardis line's timestamp: `YYYY-MM-DDTHH:MM:SS[.fraction]Z`. */
const TS = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/;

/** What tells a tardis file from a cryptofeed one: its lines start with an ISO time. */
const TARDIS_LINE = /^\d{4}-\d\d-\d\dT\S+Z /;

/** The suffix of tardis's generated Binance-family REST snapshot streams. */
const DEPTH_SNAPSHOT = "@depthSnapshot";

/**
 * Whether a file's text is in tardis.dev's format: its first non-empty line
 * starts with an ISO 8601 UTC timestamp and a space.
 * @param text the file's text (or its beginning).
 * @returns true for a tardis file, false otherwise (a cryptofeed capture).
 * @example
 * ```ts
 * isTardisText('2019-07-01T00:00:00.0418338Z {"stream":"x"}'); // true
 * isTardisText("1633998512.0633569: {}"); // false
 * ```
 */
export function isTardisText(text: string): boolean {
  let i = 0;
  while (i < text.length && (text[i] === "\n" || text[i] === "\r")) i++;
  return TARDIS_LINE.test(text.slice(i, i + 64));
}

/**
 * Parses a tardis timestamp.
 * @param s e.g. `2019-07-01T00:00:00.0418338Z` (any number of fractional
 *   digits, or none).
 * @returns ms since epoch with the sub-ms fraction (precise to about 0.25 µs
 *   today), or `NaN` when `s` is not such a timestamp.
 * @example
 * ```ts
 * parseTardisTime("2019-07-01T00:00:00.0418338Z"); // 1561939200041.8338
 * ```
 */
export function parseTardisTime(s: string): number {
  const m = TS.exec(s);
  if (!m) return NaN;
  const base = Date.parse(`${m[1]}Z`);
  const f = m[2] ?? "";
  // Whole ms and the fraction apart: the sum stays within float precision.
  return f.length <= 3
    ? base + Number(f.padEnd(3, "0"))
    : base + Number(f.slice(0, 3)) + Number(`0.${f.slice(3)}`);
}

/**
 * The coby exchange id a tardis file name starts with: a tardis exchange id
 * (`binance-futures_…`, `okex-2021-…`, `huobi-dm-swap.…`) or a coby one,
 * followed by the end, a character other than a letter, digit or `-`, or
 * `-` and a digit (a date). The longest such id wins.
 * @param name a file name or path (only its last component is looked at).
 * @returns the coby id (`okex` → `okx`, `gate-io` → `gateio`,
 *   `huobi-dm-swap` and `huobi-dm-linear-swap` → `huobi-swap`), or
 *   `undefined` when the name starts with no known id.
 * @example
 * ```ts
 * exchangeOfTardisName("data/gate-io_2021-10-12.json.gz"); // "gateio"
 * exchangeOfTardisName("huobi-dm_2021-10-12.json.gz"); // undefined: HTX futures
 * ```
 */
export function exchangeOfTardisName(name: string): string | undefined {
  const base = name.slice(name.lastIndexOf("/") + 1).toLowerCase();
  let best: string | undefined;
  let bestLen = 0;
  for (const [id, coby] of TARDIS_IDS) {
    if (id.length <= bestLen || !base.startsWith(id)) continue;
    const rest = base.slice(id.length);
    if (rest === "" || /^([^a-z0-9-]|-\d)/.test(rest)) {
      best = coby;
      bestLen = id.length;
    }
  }
  return best;
}

/** A coby envelope's URL, where the recorder writes it: first after `coby`. */
const ENVELOPE_URL =
  /^\S+Z \{"generated":true,"coby":"(?:open|sent|http|conn)","url":("(?:[^"\\]|\\.)*")/m;

/**
 * The URL of a tardis-format file's first coby envelope that has one
 * (`open`, `sent`, `http` or `conn`, as coby's recorder writes them), from
 * which a reader recognises the file's exchange.
 * @param text the file's text.
 * @returns the URL, or `undefined` for a file without coby envelopes (plain
 *   tardis.dev data).
 * @example
 * ```ts
 * firstEnvelopeUrl('2021-10-12T00:28:31.13Z {"generated":true,"coby":"open","url":"wss://x/ws"}'); // "wss://x/ws"
 * ```
 */
export function firstEnvelopeUrl(text: string): string | undefined {
  const m = ENVELOPE_URL.exec(text);
  return m ? JSON.parse(m[1]) as string : undefined;
}

/** First characters of a long string, for error messages. */
function preview(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

/** A coby envelope or tardis generated message, as parsed. */
interface Generated {
  readonly generated: true;
  readonly coby?: unknown;
  readonly url?: unknown;
  readonly text?: unknown;
  readonly body?: unknown;
  readonly base64?: unknown;
  readonly stream?: unknown;
  readonly data?: unknown;
}

/** The message as a generated one, or `null` for a venue's message. */
function generatedOf(msg: string): Generated | null {
  if (msg.charCodeAt(0) !== 0x7b || !msg.includes('"generated":true')) {
    return null;
  }
  let v: unknown;
  try {
    v = JSON.parse(msg);
  } catch {
    return null; // not JSON: the venue's text
  }
  return typeof v === "object" && v !== null &&
      (v as { generated?: unknown }).generated === true
    ? v as Generated
    : null;
}

/**
 * Parses the text of one tardis-format file (tardis.dev's raw data, or a
 * coby recording).
 * @param text the whole file, gunzipped.
 * @param file the file's name, used in `file` fields and error messages.
 * @param exchange the file's coby exchange id: whose adapter's
 *   `book.snapshotUrl` names the `@depthSnapshot` messages.
 * @returns the records in line order: the venue's messages as `recv`
 *   records (`conn` the URL of the latest `open` or `conn` envelope, ""
 *   before any), `@depthSnapshot` messages as `http` records, coby's
 *   envelopes as their kinds.
 * @throws {Error} naming the file and line for a line without a timestamp,
 *   an unknown or incomplete coby envelope, or a `@depthSnapshot` message of
 *   an exchange that takes no REST snapshots.
 * @example
 * ```ts
 * const records = parseTardisText(text, "binance_2021-10-12.gz", "binance");
 * ```
 */
export function parseTardisText(
  text: string,
  file: string,
  exchange: string,
): TimedRecord[] {
  const lines = text.split("\n");
  const out: TimedRecord[] = [];
  let conn = "";
  let book: BookSpec | undefined;
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line === "") continue;
    const fail = (why: string): Error =>
      new Error(
        `Unreadable line ${i + 1} of ${file} (${why}): ${preview(line)}`,
      );
    const sp = line.indexOf(" ");
    const ts = sp < 0 ? NaN : parseTardisTime(line.slice(0, sp));
    if (Number.isNaN(ts)) throw fail("bad timestamp");
    const msg = line.slice(sp + 1);
    const g = generatedOf(msg);
    if (g === null) {
      out.push({ kind: "recv", conn, ts, text: msg, file });
      continue;
    }
    if (g.coby === undefined) {
      const stream = g.stream;
      if (typeof stream !== "string" || !stream.endsWith(DEPTH_SNAPSHOT)) {
        continue; // another generated message: the venue did not send it
      }
      book ??= adapterFor(exchange).book;
      if (!book.snapshotUrl) {
        throw fail(`a REST snapshot, but ${exchange} takes none`);
      }
      const symbol = stream.slice(0, -DEPTH_SNAPSHOT.length).toUpperCase();
      out.push({
        kind: "http",
        url: book.snapshotUrl(symbol),
        ts,
        body: JSON.stringify(g.data),
        file,
      });
      continue;
    }
    const str = (key: "url" | "text" | "body" | "base64"): string => {
      const v = g[key];
      if (typeof v !== "string") throw fail(`envelope without ${key}`);
      return v;
    };
    switch (g.coby) {
      case "open":
        conn = str("url");
        out.push({ kind: "open", url: conn, ts, file });
        break;
      case "conn":
        conn = str("url");
        break;
      case "sent":
        out.push({
          kind: "sent",
          url: str("url"),
          ts,
          text: str("text"),
          file,
        });
        break;
      case "http":
        out.push({
          kind: "http",
          url: str("url"),
          ts,
          body: str("body"),
          file,
        });
        break;
      case "text":
        out.push({ kind: "recv", conn, ts, text: str("text"), file });
        break;
      case "binary": {
        let binary: Uint8Array;
        try {
          binary = Uint8Array.fromBase64(str("base64"));
        } catch (e) {
          if (e instanceof SyntaxError) throw fail("bad base64");
          throw e;
        }
        out.push({ kind: "recv", conn, ts, binary, file });
        break;
      }
      default:
        throw fail(`unknown coby envelope ${JSON.stringify(g.coby)}`);
    }
  }
  return out;
}
