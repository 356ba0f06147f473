/**
 * Reader for capture files, the recordings replayed by the exchange
 * simulator: cryptofeed raw-data captures (`X.0`, `X.http.0.0`,
 * `X.ws.N.0`), described below, and tardis.dev raw data and coby's own
 * recordings (`./tardis.ts`). Each file is read by its content: a file whose
 * first non-empty line starts with an ISO 8601 UTC time and a space
 * (`2019-07-01T00:00:00.0418338Z `) is tardis format, any other cryptofeed;
 * a file starting with the gzip magic number (1f 8b) is gunzipped first.
 *
 * cryptofeed's line format (one record per line, `ts` in epoch seconds as a
 * float):
 * - `<url> <-> <ts>`: a WebSocket connection was opened to `<url>`;
 * - `<url> <- <ts>: <text>`: a frame the client sent;
 * - `<ts>: <text>`: a frame received on the file's connection; binary frames
 *   are written as Python bytes literals (`b'\x1f\x8b...'`);
 * - `<url> -> <ts>: <body>`: a REST GET of `<url>` and its response body;
 * - `configuration: {...}`: cryptofeed's feed configuration (JSON).
 *
 * The exchange of a file is recognised from the hosts of its URLs, never from
 * the file name (`BINANCE_FUTURES.*` and `BINANCE.*` prefixes are not
 * reliable); a URL of a host or market coby does not speak (a venue's futures
 * next to its spot) fails the file, naming the host. A tardis-format file
 * is of the exchange of its coby envelopes' URLs; plain tardis.dev data has
 * none, and is of the exchange its file name starts with (tardis ids:
 * `binance-futures_…`, `gate-io…`, `huobi-dm-swap…`), else of the one
 * exchange of the other files read with it (its metadata file, say).
 * {@link readCapture} takes the files of one exchange and throws if they
 * mix; {@link readCaptures} and {@link groupByExchange} split a mixed list.
 * {@link recordedConnections} lists what the recording client subscribed
 * to, from which a replay picks the adapter version.
 *
 * @module
 */

import type { RecordedConnection } from "../adapters/mod.ts";
import {
  exchangeOfTardisName,
  firstEnvelopeUrl,
  isTardisText,
  parseTardisText,
  TARDIS_IDS,
} from "./tardis.ts";

/** A WebSocket connection opened by the recording client. */
export interface OpenRecord {
  /** Discriminant. */
  readonly kind: "open";
  /** The WebSocket URL. */
  readonly url: string;
  /** Local time of the event, ms since epoch (fractional). */
  readonly ts: number;
  /** Capture file the record comes from. */
  readonly file: string;
}

/** A frame the recording client sent (subscription, ping). */
export interface SentRecord {
  /** Discriminant. */
  readonly kind: "sent";
  /** URL of the connection the frame was sent on. */
  readonly url: string;
  /** Local time of the event, ms since epoch (fractional). */
  readonly ts: number;
  /** The frame's text. */
  readonly text: string;
  /** Capture file the record comes from. */
  readonly file: string;
}

/**
 * A frame received from the exchange. Exactly one of `text` and `binary` is
 * set.
 */
export interface RecvRecord {
  /** Discriminant. */
  readonly kind: "recv";
  /** URL of the connection: the last `open` line of the same file. */
  readonly conn: string;
  /** Local receive time, ms since epoch (fractional). */
  readonly ts: number;
  /** The frame's text, for a text frame. */
  readonly text?: string;
  /** The frame's bytes, for a binary frame (e.g. Huobi's gzip). */
  readonly binary?: Uint8Array;
  /** Capture file the record comes from. */
  readonly file: string;
}

/** A REST GET made by the recording client and the body it received. */
export interface HttpRecord {
  /** Discriminant. */
  readonly kind: "http";
  /** The full URL requested, query included. */
  readonly url: string;
  /** Local receive time of the response, ms since epoch (fractional). */
  readonly ts: number;
  /** The response body. */
  readonly body: string;
  /** Capture file the record comes from. */
  readonly file: string;
}

/** cryptofeed's feed configuration line (`configuration: {...}`). */
export interface ConfigRecord {
  /** Discriminant. */
  readonly kind: "config";
  /** The parsed configuration object. */
  readonly config: Record<string, unknown>;
  /** Capture file the record comes from. */
  readonly file: string;
}

/** One line of a capture file, discriminated on `kind`. */
export type CaptureRecord =
  | OpenRecord
  | SentRecord
  | RecvRecord
  | HttpRecord
  | ConfigRecord;

/** A record that happened at a point in time (every kind but `config`). */
export type TimedRecord = Exclude<CaptureRecord, ConfigRecord>;

/** The merged recording of one exchange. */
export interface Capture {
  /** Exchange id recognised from the URLs, e.g. `binance-futures`. */
  readonly exchange: string;
  /** The files read, in the order given. */
  readonly files: readonly string[];
  /**
   * Records of all files merged and stable-sorted by `ts` (ties keep the order
   * of `files`, then of lines). `config` lines are not included.
   */
  readonly records: readonly TimedRecord[];
  /** The first `configuration:` line found, if any. */
  readonly config?: Record<string, unknown>;
}

/**
 * A recognition rule: hosts of one venue and, where those hosts serve
 * markets coby does not speak too, which of their URLs belong to it.
 */
interface HostRule {
  /** The host name (port excluded), lower case. */
  readonly host: RegExp;
  /** The exchange id. */
  readonly id: string;
  /** Whether a URL on the host is of this exchange; absent: every URL. */
  readonly market?: (url: URL) => boolean;
}

/** Bybit's v5 market REST calls name their market in `category`. */
function bybitCategoryOf(u: URL): string | null {
  return u.pathname.startsWith("/v5/market/")
    ? u.searchParams.get("category")
    : null;
}

/**
 * Host rules: the first whose host pattern (and market test) matches names
 * the exchange. Hosts are exact, so a venue's other markets (Gate.io
 * futures on `fx-ws.gateio.ws`, Kraken Futures on `futures.kraken.com`,
 * Binance options, KuCoin futures, HTX delivery futures on
 * `api.hbdm.com/ws`, Bybit options) are not recognised: their captures fail
 * with the host named instead of being replayed as the spot venue.
 */
const HOST_RULES: readonly HostRule[] = [
  { host: /^(stream|api)\.binance\.us$/, id: "binance-us" },
  { host: /^(fstream|fapi)\.binance\.com$/, id: "binance-futures" },
  { host: /^(dstream|dapi)\.binance\.com$/, id: "binance-delivery" },
  {
    host:
      /^(stream|api\d?)\.binance\.com$|^data-(stream|api)\.binance\.vision$/,
    id: "binance",
  },
  {
    host:
      /^(ws-feed\.(pro|exchange)|advanced-trade-ws|api(\.pro|\.exchange)?)\.coinbase\.com$/,
    id: "coinbase",
  },
  { host: /^(ws|ws-auth|beta-ws|api)\.kraken\.com$/, id: "kraken" },
  {
    host: /^(stream|api)\.(bybit|bytick)\.com$/,
    id: "bybit-spot",
    market: (u) =>
      /^\/v5\/public\/spot\/?$/.test(u.pathname) ||
      bybitCategoryOf(u) === "spot",
  },
  {
    // v5 linear and inverse, and the retired v2 (`/realtime`, `/v2/public`).
    host: /^(stream|api)\.(bybit|bytick)\.com$/,
    id: "bybit",
    market: (u) =>
      /^\/(v5\/public\/(linear|inverse)|realtime(_public)?)\/?$/.test(
        u.pathname,
      ) || u.pathname.startsWith("/v2/public/") ||
      /^(linear|inverse)$/.test(bybitCategoryOf(u) ?? ""),
  },
  { host: /^(ws|wsaws|www|aws)\.(okx|okex)\.com$/, id: "okx" },
  {
    // Coin- and USDT-margined swaps; the same host serves delivery futures
    // (`/ws`, `/api/v1/contract_…`).
    host: /^api\.(hbdm\.com|hbdm\.vn|btcgateway\.pro)$/,
    id: "huobi-swap",
    market: (u) =>
      /^\/(linear-)?swap-(ws|notification|api|ex)(\/|$)/.test(u.pathname),
  },
  { host: /^api(-aws)?\.huobi\.pro$/, id: "huobi" },
  // KuCoin hands out push hosts (`push-private`, `ws-api-spot`, …); its
  // futures hosts all name `futures`.
  { host: /^(?![a-z0-9-]*futures)[a-z0-9-]+\.kucoin\.com$/, id: "kucoin" },
  {
    // Spot v4; the same REST host serves futures and options.
    host: /^api\.gateio\.ws$/,
    id: "gateio",
    market: (u) => /^\/(ws\/v4\/?$|api\/v4\/spot\/)/.test(u.pathname),
  },
  { host: /^api(-pub)?\.bitfinex\.com$/, id: "bitfinex" },
  { host: /^contract\.mexc\.com$/, id: "mexc-futures" },
  { host: /^(wbs|wbs-api|api)\.mexc\.com$/, id: "mexc" },
  { host: /^api\.hyperliquid\.xyz$/, id: "hyperliquid" },
];

/** Exchange ids a capture can be recognised as, for error messages. */
const RECOGNISED = [...new Set(HOST_RULES.map((r) => r.id))].sort();

/**
 * Recognises the exchange of a recorded URL from its host (and, for hosts
 * serving several markets, its path and query).
 * @param url an absolute URL (`wss://…` or `https://…`).
 * @returns the exchange id (e.g. `binance`, `huobi-swap`), or `undefined` for
 *   a host or market coby does not speak, or an unparsable URL.
 * @example
 * ```ts
 * exchangeOfUrl("wss://fstream.binance.com/stream?streams=x"); // "binance-futures"
 * exchangeOfUrl("wss://fx-ws.gateio.ws/v4/ws/usdt"); // undefined: Gate.io futures
 * ```
 */
export function exchangeOfUrl(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const host = u.hostname.toLowerCase();
  for (const rule of HOST_RULES) {
    if (rule.host.test(host) && (!rule.market || rule.market(u))) {
      return rule.id;
    }
  }
  return undefined;
}

/** Byte values of Python's single-letter escapes. */
const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  "\\": 0x5c,
  "'": 0x27,
  '"': 0x22,
  "n": 0x0a,
  "r": 0x0d,
  "t": 0x09,
  "a": 0x07,
  "b": 0x08,
  "f": 0x0c,
  "v": 0x0b,
};

/**
 * Decodes a Python bytes literal as written by `repr(bytes)` (`b'…'` or
 * `b"…"`): printable ASCII stands for itself; `\xNN`, `\n`, `\r`, `\t`, `\\`,
 * `\'`, `\"` (and the rarer `\a \b \f \v` and octal `\NNN`) are escapes.
 * @param literal the literal, prefix and quotes included.
 * @returns the bytes.
 * @throws {SyntaxError} when `literal` is not a well-formed bytes literal.
 * @example
 * ```ts
 * decodeBytesLiteral("b'\\x1f\\x8b\\n'"); // Uint8Array [31, 139, 10]
 * ```
 */
export function decodeBytesLiteral(literal: string): Uint8Array {
  const n = literal.length;
  const quote = literal[1];
  if (
    n < 3 || literal[0] !== "b" || (quote !== "'" && quote !== '"') ||
    literal[n - 1] !== quote
  ) {
    throw new SyntaxError(`Not a bytes literal: ${preview(literal)}`);
  }
  const out = new Uint8Array(n - 3); // never longer than the literal's body
  let len = 0;
  const end = n - 1;
  for (let i = 2; i < end; i++) {
    const c = literal.charCodeAt(i);
    if (c !== 0x5c) {
      if (c < 0x20 || c > 0x7e || c === quote.charCodeAt(0)) {
        throw new SyntaxError(
          `Bad character code ${c} at offset ${i} of bytes literal ${
            preview(literal)
          }`,
        );
      }
      out[len++] = c;
      continue;
    }
    if (i + 1 >= end) {
      throw new SyntaxError(
        `Dangling backslash in bytes literal ${preview(literal)}`,
      );
    }
    const e = literal[++i];
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      out[len++] = simple;
    } else if (e === "x") {
      const hex = literal.slice(i + 1, i + 3);
      if (i + 2 >= end || !/^[0-9a-fA-F]{2}$/.test(hex)) {
        throw new SyntaxError(
          `Bad \\x escape at offset ${i - 1} of bytes literal ${
            preview(literal)
          }`,
        );
      }
      out[len++] = parseInt(hex, 16);
      i += 2;
    } else if (e >= "0" && e <= "7") {
      let v = 0;
      let k = 0;
      for (; k < 3 && i + k < end; k++) {
        const d = literal.charCodeAt(i + k) - 0x30;
        if (d < 0 || d > 7) break;
        v = v * 8 + d;
      }
      out[len++] = v & 0xff;
      i += k - 1;
    } else {
      throw new SyntaxError(
        `Unknown escape \\${e} at offset ${i - 1} of bytes literal ${
          preview(literal)
        }`,
      );
    }
  }
  return out.slice(0, len);
}

/** First characters of a long string, for error messages. */
function preview(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

/** Parses `<seconds>` into ms since epoch, or `NaN` when it is not a number. */
function parseTs(s: string): number {
  return /^\d+(\.\d+)?$/.test(s) ? Number(s) * 1000 : NaN;
}

/** Whether a received frame's text is a Python bytes literal. */
function isBytesLiteral(s: string): boolean {
  const q = s[1];
  return s.length >= 3 && s[0] === "b" && (q === "'" || q === '"') &&
    s[s.length - 1] === q;
}

/**
 * Parses the text of one capture file.
 *
 * A received frame whose text has the shape of a Python bytes literal
 * (`b'…'`/`b"…"`) is decoded as binary; no exchange sends text frames of that
 * shape.
 * @param text the whole file.
 * @param file the file's name, used in `file` fields and error messages.
 * @returns the records in line order, `config` lines included.
 * @throws {Error} naming the file and line when a line is unreadable, or when
 *   a frame is received before any `open` line.
 * @example
 * ```ts
 * const records = parseCaptureText(await Deno.readTextFile(path), path);
 * ```
 */
export function parseCaptureText(text: string, file: string): CaptureRecord[] {
  const lines = text.split("\n");
  const out: CaptureRecord[] = [];
  let conn: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === "") continue;
    const fail = (why: string): Error =>
      new Error(
        `Unreadable line ${i + 1} of ${file} (${why}): ${preview(line)}`,
      );
    if (line.startsWith("configuration: ")) {
      let config: unknown;
      try {
        config = JSON.parse(line.slice(15));
      } catch {
        throw fail("configuration is not JSON");
      }
      if (
        typeof config !== "object" || config === null || Array.isArray(config)
      ) {
        throw fail("configuration is not an object");
      }
      out.push({
        kind: "config",
        config: config as Record<string, unknown>,
        file,
      });
      continue;
    }
    const c0 = line.charCodeAt(0);
    if (c0 >= 0x30 && c0 <= 0x39) {
      // `<ts>: <text>`: a received frame.
      const colon = line.indexOf(": ");
      const ts = colon < 0 ? NaN : parseTs(line.slice(0, colon));
      if (Number.isNaN(ts)) throw fail("bad timestamp");
      if (conn === undefined) throw fail("frame received before any open line");
      const body = line.slice(colon + 2);
      if (isBytesLiteral(body)) {
        let binary: Uint8Array;
        try {
          binary = decodeBytesLiteral(body);
        } catch (e) {
          throw fail((e as Error).message);
        }
        out.push({ kind: "recv", conn, ts, binary, file });
      } else {
        out.push({ kind: "recv", conn, ts, text: body, file });
      }
      continue;
    }
    const sp = line.indexOf(" ");
    const url = sp < 0 ? "" : line.slice(0, sp);
    if (!url.includes("://")) throw fail("no URL");
    const rest = line.slice(sp + 1);
    if (rest.startsWith("<-> ")) {
      const ts = parseTs(rest.slice(4));
      if (Number.isNaN(ts)) throw fail("bad timestamp");
      conn = url;
      out.push({ kind: "open", url, ts, file });
      continue;
    }
    const arrow = rest.startsWith("<- ")
      ? "sent"
      : rest.startsWith("-> ")
      ? "http"
      : undefined;
    if (arrow === undefined) throw fail("unknown record type");
    const colon = rest.indexOf(": ", 3);
    const ts = colon < 0 ? NaN : parseTs(rest.slice(3, colon));
    if (Number.isNaN(ts)) throw fail("bad timestamp");
    const payload = rest.slice(colon + 2);
    if (arrow === "sent") {
      out.push({ kind: "sent", url, ts, text: payload, file });
    } else out.push({ kind: "http", url, ts, body: payload, file });
  }
  return out;
}

/** One parsed file and its exchange. */
interface ParsedFile {
  readonly path: string;
  readonly exchange: string;
  readonly records: CaptureRecord[];
}

/** A tardis-format file whose exchange only the other files can tell. */
interface PendingFile {
  readonly path: string;
  readonly text: string;
}

/** Whether bytes start with the gzip magic number 1f 8b. */
function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** A file's text, gunzipped when it is gzip. */
async function readText(path: string): Promise<string> {
  const bytes = await Deno.readFile(path);
  if (!isGzip(bytes)) return new TextDecoder().decode(bytes);
  try {
    const stream = new Blob([bytes]).stream()
      .pipeThrough(new DecompressionStream("gzip"));
    return await new Response(stream).text();
  } catch (e) {
    throw new Error(`Cannot gunzip ${path}: ${(e as Error).message}`);
  }
}

/**
 * Reads one file, cryptofeed or tardis format by its content, and recognises
 * its exchange; a tardis file that neither its coby envelopes' URLs nor its
 * name tell the exchange of is left pending.
 */
async function readFile(path: string): Promise<ParsedFile | PendingFile> {
  const text = await readText(path);
  if (!isTardisText(text)) {
    return checked(path, parseCaptureText(text, path), undefined);
  }
  const url = firstEnvelopeUrl(text);
  const exchange = (url === undefined ? undefined : exchangeOfUrl(url)) ??
    exchangeOfTardisName(path);
  return exchange === undefined
    ? { path, text }
    : checked(path, parseTardisText(text, path, exchange), exchange);
}

/**
 * Checks that the URLs of a file's records are of one exchange coby speaks
 * and returns the parsed file. A tardis file without URLs is of `known`.
 */
function checked(
  path: string,
  records: CaptureRecord[],
  known: string | undefined,
): ParsedFile {
  const found = new Set<string>();
  const unknown = new Set<string>();
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    // A received frame's connection was checked at its open line.
    if (r.kind === "recv" || r.kind === "config") continue;
    const ex = exchangeOfUrl(r.url);
    if (ex !== undefined) found.add(ex);
    else if (URL.canParse(r.url)) {
      const u = new URL(r.url);
      unknown.add(u.host + u.pathname);
    } else unknown.add(r.url);
  }
  if (unknown.size) {
    throw new Error(
      `Unsupported exchange or market at ${
        [...unknown].join(", ")
      } in ${path}; coby replays ${RECOGNISED.join(", ")}`,
    );
  }
  if (known !== undefined) found.add(known);
  if (found.size === 0) {
    throw new Error(`Cannot recognise the exchange of ${path}: no URL`);
  }
  if (found.size > 1) {
    throw new Error(
      `Capture file ${path} mixes exchanges: ${[...found].join(", ")}`,
    );
  }
  return { path, exchange: [...found][0], records };
}

/**
 * Reads files of any format and resolves the exchange of the tardis files
 * that do not tell it: the one exchange of the other files.
 */
async function readFiles(paths: readonly string[]): Promise<ParsedFile[]> {
  const read = await Promise.all(paths.map(readFile));
  const exchanges = new Set<string>();
  for (const f of read) if ("exchange" in f) exchanges.add(f.exchange);
  return read.map((f) => {
    if ("exchange" in f) return f;
    if (exchanges.size !== 1) {
      const others = exchanges.size
        ? `the files read with it are of several exchanges (${
          [...exchanges].join(", ")
        })`
        : "no file read with it tells it";
      throw new Error(
        `Cannot recognise the exchange of ${f.path}: a tardis file without coby envelopes whose name starts with no exchange id (${
          [...TARDIS_IDS.keys()].join(", ")
        }), and ${others}`,
      );
    }
    const [exchange] = exchanges;
    return checked(f.path, parseTardisText(f.text, f.path, exchange), exchange);
  });
}

/** Merges parsed files of one exchange into a capture. */
function merge(files: readonly ParsedFile[]): Capture {
  const records: TimedRecord[] = [];
  let config: Record<string, unknown> | undefined;
  for (const f of files) {
    for (let i = 0; i < f.records.length; i++) {
      const r = f.records[i];
      if (r.kind === "config") config ??= r.config;
      else records.push(r);
    }
  }
  records.sort((a, b) => a.ts - b.ts); // Array.prototype.sort is stable
  return {
    exchange: files[0].exchange,
    files: files.map((f) => f.path),
    records,
    ...(config ? { config } : {}),
  };
}

/**
 * Reads the capture files of ONE exchange and merges them.
 * @param paths capture files (`X.0`, `X.http.0.0`, `X.ws.N.0`), tardis-format
 *   files and coby recordings, gzipped or not.
 * @returns the merged capture, records stable-sorted by `ts`.
 * @throws {Error} when `paths` is empty, a file cannot be read, a line is
 *   unreadable, a URL's host or market is not one coby speaks (naming it), or
 *   the files belong to several exchanges (use {@link readCaptures} for a
 *   mixed list).
 * @example
 * ```ts
 * const dir = "../shared/data/captures/cryptofeed";
 * const cap = await readCapture([`${dir}/BINANCE.0`, `${dir}/BINANCE.ws.1.0`]);
 * cap.exchange; // "binance"
 * ```
 */
export async function readCapture(paths: readonly string[]): Promise<Capture> {
  const caps = await readCaptures(paths);
  if (caps.length > 1) {
    const list = caps.map((c) => `${c.exchange} (${c.files.join(", ")})`).join(
      "; ",
    );
    throw new Error(
      `Capture files of several exchanges given to readCapture: ${list}`,
    );
  }
  return caps[0];
}

/**
 * Reads capture files of possibly several exchanges and returns one capture
 * per exchange, grouped by the URLs' hosts (not the file names).
 * @param paths capture files in any order: cryptofeed, tardis-format and
 *   coby recordings, gzipped or not.
 * @returns one capture per exchange, in order of each exchange's first file.
 * @throws {Error} when `paths` is empty, a file cannot be read or gunzipped,
 *   a line is unreadable, a URL's host or market is not one coby speaks
 *   (naming it), or a tardis file's exchange cannot be told (naming the
 *   file).
 * @example
 * ```ts
 * for (const cap of await readCaptures(Deno.args)) console.log(cap.exchange, cap.records.length);
 * ```
 */
export async function readCaptures(
  paths: readonly string[],
): Promise<Capture[]> {
  if (paths.length === 0) throw new Error("No capture files given");
  const parsed = await readFiles(paths);
  const groups = new Map<string, ParsedFile[]>();
  for (const p of parsed) {
    const g = groups.get(p.exchange);
    if (g) g.push(p);
    else groups.set(p.exchange, [p]);
  }
  return [...groups.values()].map(merge);
}

/**
 * Groups capture files by exchange, recognised from the URLs inside them.
 * Reads and parses every file; prefer {@link readCaptures} when the records
 * are needed too.
 * @param paths capture files in any order.
 * @returns exchange id → its files, in the order given.
 * @throws {Error} when a file cannot be read, a line is unreadable or a URL's
 *   host or market is not one coby speaks (naming it).
 * @example
 * ```ts
 * const groups = await groupByExchange(["BINANCE.0", "KRAKEN.ws.48.0"]);
 * groups.get("kraken"); // ["KRAKEN.ws.48.0"]
 * ```
 */
export async function groupByExchange(
  paths: readonly string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const p of await readFiles(paths)) {
    const g = out.get(p.exchange);
    if (g) g.push(p.path);
    else out.set(p.exchange, [p.path]);
  }
  return out;
}

/**
 * The WebSocket connections of a capture, one per URL opened (connections
 * to the same URL merged), with the frames the client sent on each: what
 * the recording client subscribed to.
 * @param cap the capture.
 * @returns the connections in order of first opening.
 * @example
 * ```ts
 * const [c] = recordedConnections(await readCapture(files));
 * c.url; // "wss://api.huobi.pro/ws"
 * c.sent[0]; // '{"sub":"market.trioeth.depth.step0","id":1}'
 * ```
 */
export function recordedConnections(cap: Capture): RecordedConnection[] {
  const byUrl = new Map<string, { url: string; sent: string[] }>();
  for (let i = 0; i < cap.records.length; i++) {
    const r = cap.records[i];
    if (r.kind === "open" && !byUrl.has(r.url)) {
      byUrl.set(r.url, { url: r.url, sent: [] });
    } else if (r.kind === "sent") {
      let c = byUrl.get(r.url);
      if (!c) byUrl.set(r.url, c = { url: r.url, sent: [] });
      c.sent.push(r.text);
    }
  }
  return [...byUrl.values()];
}
