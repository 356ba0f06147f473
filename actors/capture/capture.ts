/**
 * Reader for cryptofeed raw-data capture files (`X.0`, `X.http.0.0`,
 * `X.ws.N.0`), the recordings replayed by the exchange simulator.
 *
 * Line format (one record per line, `ts` in epoch seconds as a float):
 * - `<url> <-> <ts>`: a WebSocket connection was opened to `<url>`;
 * - `<url> <- <ts>: <text>`: a frame the client sent;
 * - `<ts>: <text>`: a frame received on the file's connection; binary frames
 *   are written as Python bytes literals (`b'\x1f\x8b...'`);
 * - `<url> -> <ts>: <body>`: a REST GET of `<url>` and its response body;
 * - `configuration: {...}`: cryptofeed's feed configuration (JSON).
 *
 * The exchange of a file is recognised from the hosts of its URLs, never from
 * the file name (`BINANCE_FUTURES.*` and `BINANCE.*` prefixes are not
 * reliable). {@link readCapture} takes the files of one exchange and throws if
 * they mix; {@link readCaptures} and {@link groupByExchange} split a mixed list.
 *
 * @module
 */

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
 * Host rules, checked in order: the first whose pattern matches the URL's
 * host names the exchange. More specific Binance hosts come before the
 * generic `binance.com` rule.
 */
const HOST_RULES: readonly (readonly [RegExp, string])[] = [
  [/(^|\.)binance\.us$/, "binance-us"],
  [/(^|\.)(fstream|fapi)\.binance\.com$/, "binance-futures"],
  [/(^|\.)(dstream|dapi)\.binance\.com$/, "binance-delivery"],
  [/(^|\.)binance\.com$/, "binance"],
  [/coinbase/, "coinbase"],
  [/kraken/, "kraken"],
  [/bybit/, "bybit"],
  [/(^|\.)(okx|okex)\./, "okx"],
  [/(^|\.)hbdm\.com$/, "huobi-swap"],
  [/(^|\.)huobi\.pro$/, "huobi"],
  [/kucoin/, "kucoin"],
  [/gateio/, "gateio"],
  [/bitfinex/, "bitfinex"],
  [/(^|\.)contract\.mexc\.com$/, "mexc-futures"],
  [/(^|\.)mexc\.com$/, "mexc"],
];

/**
 * Recognises the exchange of a recorded URL from its host.
 * @param url an absolute URL (`wss://…` or `https://…`).
 * @returns the exchange id (e.g. `binance`, `huobi-swap`), or `undefined` for
 *   an unknown host or an unparsable URL.
 * @example
 * ```ts
 * exchangeOfUrl("wss://fstream.binance.com/stream?streams=x"); // "binance-futures"
 * ```
 */
export function exchangeOfUrl(url: string): string | undefined {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
  for (const [re, id] of HOST_RULES) if (re.test(host)) return id;
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

/** Reads, parses and recognises the exchange of one file. */
async function readFile(path: string): Promise<ParsedFile> {
  const records = parseCaptureText(await Deno.readTextFile(path), path);
  const found = new Set<string>();
  const unknown = new Set<string>();
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    const url = r.kind === "recv"
      ? r.conn
      : r.kind === "config"
      ? undefined
      : r.url;
    if (url === undefined) continue;
    const ex = exchangeOfUrl(url);
    if (ex !== undefined) found.add(ex);
    else unknown.add(URL.canParse(url) ? new URL(url).host : url);
  }
  if (found.size === 0) {
    const hosts = unknown.size
      ? `unknown hosts ${[...unknown].join(", ")}`
      : "no URL";
    throw new Error(`Cannot recognise the exchange of ${path}: ${hosts}`);
  }
  if (found.size > 1) {
    throw new Error(
      `Capture file ${path} mixes exchanges: ${[...found].join(", ")}`,
    );
  }
  return { path, exchange: [...found][0], records };
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
 * @param paths capture files (`X.0`, `X.http.0.0`, `X.ws.N.0`).
 * @returns the merged capture, records stable-sorted by `ts`.
 * @throws {Error} when `paths` is empty, a file cannot be read, a line is
 *   unreadable, a file's exchange is unknown, or the files belong to several
 *   exchanges (use {@link readCaptures} for a mixed list).
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
 * @param paths capture files in any order.
 * @returns one capture per exchange, in order of each exchange's first file.
 * @throws {Error} when `paths` is empty, a file cannot be read, a line is
 *   unreadable or a file's exchange is unknown.
 * @example
 * ```ts
 * for (const cap of await readCaptures(Deno.args)) console.log(cap.exchange, cap.records.length);
 * ```
 */
export async function readCaptures(
  paths: readonly string[],
): Promise<Capture[]> {
  if (paths.length === 0) throw new Error("No capture files given");
  const parsed = await Promise.all(paths.map(readFile));
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
 * @throws {Error} when a file cannot be read, a line is unreadable or a file's
 *   exchange is unknown.
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
  for (const p of await Promise.all(paths.map(readFile))) {
    const g = out.get(p.exchange);
    if (g) g.push(p.path);
    else out.set(p.exchange, [p.path]);
  }
  return out;
}
