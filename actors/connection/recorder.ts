/**
 * Raw recording of a connection's traffic, in tardis.dev's raw format with
 * coby's envelopes (read by `actors/capture/tardis.ts`, which describes
 * them; written here by {@link tardisLine}), so a recording is
 * self-contained and replays like any capture (`readCaptures`): the
 * WebSocket opens (URL), the frames sent, every frame received (text raw,
 * binary as a base64 envelope), the REST metadata responses and the REST
 * snapshot responses, each at its local receive time (ms since epoch UTC).
 * Not recorded: the socket's own keepalive pings, the REST handshake that
 * names a WebSocket endpoint (KuCoin's bullet token: the opened URL is
 * recorded), and metadata fetched by POST (Hyperliquid's `/info`: a replay
 * finds REST responses by path and query alone, so a Hyperliquid recording
 * replays with a metadata file beside it).
 *
 * Files: `<dir>/<exchange>/<connection>_<start>.ndjson.gz`, where
 * `<connection>` is the connection actor's id without `conn:` and with any
 * character other than a letter, digit, `.`, `_` or `-` made a `.`
 * (`conn:huobi-swap:linear` → `huobi-swap.linear`), and `<start>` the wall
 * time the file was started, ISO 8601 UTC with `:` made `-`
 * (`2026-12-03T07-44-39.123Z`); names sort in time order. Each file is one
 * gzip stream (CompressionStream). A file is closed and the next one started
 * at the first record once it holds `maxBytes` (uncompressed) or is
 * `maxAgeMs` old; a rotated file starts with a `conn` envelope naming the
 * connection its frames belong to.
 *
 * Recording never blocks the actor or stops it: lines are queued to the
 * gzip stream without waiting (past `maxQueuedBytes` waiting, a stalled disk,
 * records are dropped and counted in {@link Recorder.dropped} rather than
 * held in memory), and an I/O error (the directory cannot be made, the disk
 * is full) is logged once, counted in {@link Recorder.errors}, and the file
 * dropped; records are then dropped for `retryMs` before a new file is
 * tried.
 *
 * @module
 */

import { errorText } from "./rest.ts";

/**
 * A record the recorder writes: the shape of the capture reader's
 * `TimedRecord` (`actors/capture/capture.ts`) without its `file`. A `recv`
 * record's `conn` is not written (the file's latest `open` names it), so it
 * is optional here.
 */
export type RawRecord =
  | { readonly kind: "open"; readonly url: string; readonly ts: number }
  | {
    readonly kind: "sent";
    readonly url: string;
    readonly ts: number;
    readonly text: string;
  }
  | {
    readonly kind: "recv";
    readonly conn?: string;
    readonly ts: number;
    readonly text?: string;
    readonly binary?: Uint8Array;
  }
  | {
    readonly kind: "http";
    readonly url: string;
    readonly ts: number;
    readonly body: string;
  };

/**
 * Formats a time as a tardis timestamp, to 0.1 µs (7 fractional digits at
 * most, trailing zeros dropped), so `parseTardisTime` (`actors/capture/tardis.ts`) gives it back
 * within 1 µs (a float holds today's times in ms to about 0.24 µs, so the
 * last digit is the float's, not necessarily the one a tardis file had).
 * @param ts ms since epoch, fractional.
 * @returns e.g. `2021-10-12T00:28:32.0633569Z`.
 * @throws {RangeError} when `ts` is not a finite time.
 * @example
 * ```ts
 * tardisTime(1561939200041.5); // "2019-07-01T00:00:00.0415Z"
 * ```
 */
export function tardisTime(ts: number): string {
  if (!Number.isFinite(ts)) throw new RangeError(`Bad time: ${ts}`);
  let ms = Math.floor(ts);
  let sub = Math.round((ts - ms) * 10_000); // units of 0.1 µs
  if (sub === 10_000) {
    ms++;
    sub = 0;
  }
  const iso = new Date(ms).toISOString();
  if (sub === 0) return iso;
  const digits = String(sub).padStart(4, "0").replace(/0+$/, "");
  return `${iso.slice(0, -1)}${digits}Z`;
}

/**
 * One tardis-format line for a record (no line break): a received text
 * frame raw, as tardis writes the venue's messages; every other record as a
 * coby envelope (see `actors/capture/tardis.ts`). The inverse of
 * `parseTardisText`, which gives a `recv` record the `conn` of the latest
 * `open` before it.
 * @param record the record (its `file`, if any, is not written).
 * @returns `<ISO time> <message>`, the time to 0.1 µs.
 * @throws {RangeError} when the record's time is not finite.
 * @example
 * ```ts
 * tardisLine({ kind: "open", url: "wss://api.huobi.pro/ws", ts: 1618678069699.58 });
 * // '2021-04-17T16:47:49.6995801Z {"generated":true,"coby":"open","url":"wss://api.huobi.pro/ws"}'
 * ```
 */
export function tardisLine(record: RawRecord): string {
  const time = tardisTime(record.ts);
  switch (record.kind) {
    case "recv": {
      if (record.binary) {
        return `${time} ${
          JSON.stringify({
            generated: true,
            coby: "binary",
            base64: record.binary.toBase64(),
          })
        }`;
      }
      const text = record.text ?? "";
      return /[\r\n]/.test(text) || text.includes('"generated":true')
        ? `${time} ${JSON.stringify({ generated: true, coby: "text", text })}`
        : `${time} ${text}`;
    }
    case "open":
      return `${time} ${
        JSON.stringify({ generated: true, coby: "open", url: record.url })
      }`;
    case "sent":
      return `${time} ${
        JSON.stringify({
          generated: true,
          coby: "sent",
          url: record.url,
          text: record.text,
        })
      }`;
    case "http":
      return `${time} ${
        JSON.stringify({
          generated: true,
          coby: "http",
          url: record.url,
          body: record.body,
        })
      }`;
  }
}

/**
 * The line that starts a rotated recording file: the messages after it were
 * received on the connection to `url`, opened in an earlier file.
 * @param url the connection's WebSocket URL.
 * @param ts ms since epoch: when the file was started.
 * @returns `<ISO time> {"generated":true,"coby":"conn","url":…}`.
 * @throws {RangeError} when `ts` is not finite.
 * @example
 * ```ts
 * tardisConnLine("wss://stream.binance.com:9443/stream?streams=x", Date.now());
 * ```
 */
export function tardisConnLine(url: string, ts: number): string {
  return `${tardisTime(ts)} ${
    JSON.stringify({ generated: true, coby: "conn", url })
  }`;
}

/** Options for {@link Recorder}. */
export interface RecorderOptions {
  /** Recordings directory; files go in `<dir>/<exchange>/`. */
  dir: string;
  /** Exchange id, e.g. `binance`. */
  exchange: string;
  /** The connection actor's id, e.g. `conn:huobi-swap:linear`; names the files. */
  connection: string;
  /**
   * Start a new file once one holds this many bytes, uncompressed.
   * @default 268435456 (256 MiB)
   */
  maxBytes?: number;
  /**
   * Start a new file once one is this old (wall clock), ms.
   * @default 3600000
   */
  maxAgeMs?: number;
  /**
   * Wall time recording pauses after an I/O error before a new file is
   * tried, ms.
   * @default 5000
   */
  retryMs?: number;
  /**
   * Bytes of lines that may wait for the gzip stream and the disk; records
   * past it are dropped.
   * @default 67108864 (64 MiB)
   */
  maxQueuedBytes?: number;
  /** Logs the first I/O error. */
  warn(msg: string): void;
}

/** One recording file being written. */
interface OpenFile {
  readonly path: string;
  readonly writer: WritableStreamDefaultWriter<BufferSource>;
  /** The gzip output, piped to the file once it is open. */
  readonly gzip: ReadableStream<Uint8Array>;
  /** Wall time it was started, `performance.now()` ms. */
  readonly started: number;
  /** Bytes written, uncompressed. */
  bytes: number;
  /** Its I/O failed; it takes no more records. */
  failed: boolean;
  /** Settles when the file is written out (or failed). */
  done: Promise<void>;
}

/**
 * Records one connection's traffic into rotating gzip files.
 *
 * @example
 * ```ts
 * const rec = new Recorder({ dir: "data/record", exchange: "binance", connection: "conn:binance", warn: console.warn });
 * rec.write({ kind: "open", url: "wss://stream.binance.com:9443/stream?streams=btcusdt@depth@100ms", ts: Date.now() });
 * rec.write({ kind: "recv", conn: "", text: '{"stream":"btcusdt@depth@100ms","data":{}}', ts: Date.now() });
 * await rec.close(); // the last file is complete
 * ```
 */
export class Recorder {
  readonly #o: RecorderOptions;
  readonly #maxBytes: number;
  readonly #maxAgeMs: number;
  readonly #retryMs: number;
  readonly #maxQueued: number;
  readonly #base: string;
  readonly #enc = new TextEncoder();
  #file: OpenFile | null = null;
  /** Files being closed or written out. */
  readonly #pending = new Set<Promise<void>>();
  /** Records waiting for a time (see {@link write}). */
  #untimed: RawRecord[] = [];
  /** URL of the connection's latest open, for a rotated file's first line. */
  #conn: string | null = null;
  /** The name time of the last file started, ms since epoch. */
  #lastStamp = 0;
  #retryAt = -Infinity;
  #warned = false;
  #closed = false;
  #errors = 0;
  #dropped = 0;
  #bytes = 0;
  /** Bytes handed to the gzip stream and not taken by it yet. */
  #queued = 0;
  readonly #files: string[] = [];

  /** @param options where and how to record, and where the first error goes. */
  constructor(options: RecorderOptions) {
    this.#o = options;
    this.#maxBytes = options.maxBytes ?? 256 * 2 ** 20;
    this.#maxAgeMs = options.maxAgeMs ?? 3_600_000;
    this.#retryMs = options.retryMs ?? 5_000;
    this.#maxQueued = options.maxQueuedBytes ?? 64 * 2 ** 20;
    this.#base = options.connection.replace(/^conn:/, "").replace(
      /[^A-Za-z0-9._-]/g,
      ".",
    );
  }

  /** I/O errors so far (failed file opens and writes). */
  get errors(): number {
    return this.#errors;
  }

  /** Records dropped because too much waited for the disk (`maxQueuedBytes`). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Bytes of lines written so far, uncompressed. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Paths of the files started, oldest first. */
  get files(): readonly string[] {
    return this.#files;
  }

  /**
   * Records one record. A record whose time is not a positive finite
   * number is not known yet (0: a replay's recorded clock before its first
   * clock frame): it waits and is written just before the next record that
   * has a time (1 µs apart from the other waiting ones, in order).
   * Never throws and never waits; after {@link close} it does nothing.
   * @param record the record (ms since epoch UTC in `ts`; a `recv` record's
   *   `conn` is not written: the file's latest open names it).
   */
  write(record: RawRecord): void {
    if (this.#closed) return;
    if (!(record.ts > 0 && record.ts < Infinity)) {
      this.#untimed.push(record);
      return;
    }
    this.#writeUntimed(record.ts);
    this.#write(record);
  }

  /**
   * Writes the records waiting for a time just before `ts`, 1 µs apart in
   * their order, so that a reader sorting by time keeps them first and in
   * order (a replay's metadata before its open, as a live recording has it).
   */
  #writeUntimed(ts: number): void {
    const waiting = this.#untimed;
    if (!waiting.length) return;
    this.#untimed = [];
    const n = waiting.length;
    for (let i = 0; i < n; i++) {
      this.#write({ ...waiting[i], ts: ts - (n - i) * 0.001 });
    }
  }

  #write(record: RawRecord): void {
    if (record.kind === "open") this.#conn = record.url;
    if (this.#queued > this.#maxQueued) {
      this.#dropped++;
      return;
    }
    const f = this.#current(record);
    if (!f) return;
    this.#append(f, tardisLine(record));
  }

  #append(f: OpenFile, line: string): void {
    const bytes = this.#enc.encode(line + "\n");
    const n = bytes.length;
    f.bytes += n;
    this.#bytes += n;
    this.#queued += n;
    f.writer.write(bytes).then(
      () => this.#queued -= n,
      (e) => {
        this.#queued -= n;
        this.#fail(f, e);
      },
    );
  }

  /** The file to write `record` to: rotated when due, started when none. */
  #current(record: RawRecord): OpenFile | null {
    const now = performance.now();
    let f = this.#file;
    if (
      f && (f.bytes >= this.#maxBytes || now - f.started >= this.#maxAgeMs)
    ) {
      this.#finish(f);
      f = this.#file = null;
    }
    if (f || now < this.#retryAt) return f;
    f = this.#file = this.#start(now);
    // A rotated file names the connection its frames were received on.
    if (this.#conn !== null && record.kind !== "open") {
      this.#append(f, tardisConnLine(this.#conn, record.ts));
    }
    return f;
  }

  /** Starts a file: the gzip stream takes lines at once, the file opens behind it. */
  #start(now: number): OpenFile {
    const stamp = Math.max(Date.now(), this.#lastStamp + 1);
    this.#lastStamp = stamp;
    const dir = `${this.#o.dir}/${this.#o.exchange}`;
    const name = `${this.#base}_${
      new Date(stamp).toISOString().replaceAll(":", "-")
    }.ndjson.gz`;
    const path = `${dir}/${name}`;
    const gzip = new CompressionStream("gzip");
    const f: OpenFile = {
      path,
      writer: gzip.writable.getWriter(),
      gzip: gzip.readable,
      started: now,
      bytes: 0,
      failed: false,
      done: Promise.resolve(),
    };
    f.done = (async () => {
      await Deno.mkdir(dir, { recursive: true });
      const file = await Deno.open(path, { write: true, createNew: true });
      await gzip.readable.pipeTo(file.writable);
    })().catch((e) => this.#fail(f, e));
    this.#track(f.done);
    this.#files.push(path);
    return f;
  }

  /** Closes a file's gzip stream; its data is written out behind it. */
  #finish(f: OpenFile): void {
    if (f.failed) return;
    this.#track(f.writer.close().catch((e) => this.#fail(f, e)));
  }

  #track(p: Promise<void>): void {
    this.#pending.add(p);
    p.finally(() => this.#pending.delete(p));
  }

  /** An I/O error: counted once per file, logged once; the file is dropped. */
  #fail(f: OpenFile, e: unknown): void {
    if (f.failed) return;
    f.failed = true;
    this.#errors++;
    if (!this.#warned) {
      this.#warned = true;
      this.#o.warn(
        `${this.#o.exchange}: recording to ${f.path} failed (${
          errorText(e)
        }); records are dropped for ${this.#retryMs} ms, then a new file is tried`,
      );
    }
    if (this.#file === f) {
      this.#file = null;
      this.#retryAt = performance.now() + this.#retryMs;
    }
    // Unblock the gzip stream: a file that never opened has no reader, so
    // its queued lines would hold the writer (and `close`) for ever. Once
    // piped, the failed pipe has cancelled it already.
    if (!f.gzip.locked) f.gzip.cancel(e).catch(() => {/* already errored */});
    f.writer.abort(e).catch(() => {/* already errored */});
  }

  /**
   * Writes out what is queued and closes the last file, so it is complete;
   * records still waiting for a time are written just before the wall time now.
   * @returns when every file is written out (I/O errors are counted, never thrown).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#writeUntimed(Date.now());
    this.#closed = true;
    if (this.#file) this.#finish(this.#file);
    this.#file = null;
    while (this.#pending.size) await Promise.all([...this.#pending]);
  }
}
