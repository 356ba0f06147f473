/**
 * The fuzz corpora: for every registered adapter version, real frames to
 * mutate, the instruments they are about and the REST snapshots recorded with
 * them. Versions spoken by a cryptofeed capture read the capture (its
 * metadata, WebSocket frames and REST snapshots); the others read the real
 * messages of `../shared/data/samples` (tardis-node inputs, nautilus_trader
 * test data, a Bybit daily file), with instruments taken from the symbols
 * those frames name.
 *
 * @module
 */

import { gunzipSync, gzipSync, inflateRawSync } from "node:zlib";
import protobuf from "protobufjs";
import type {
  Adapter,
  InstrumentTable,
} from "../../actors/adapters/adapter.ts";
import { ADAPTERS } from "../../actors/adapters/mod.ts";
import { MEXC_PUSH_DESCRIPTOR } from "../../actors/adapters/mexc_proto/descriptor.ts";
import { bybitCategory } from "../../actors/adapters/_bybit.ts";
import type { Instrument, MarketEvent } from "../../actors/market/events.ts";
import { resolveSymbols } from "../../actors/market/symbols.ts";
import { type Capture, readCaptures } from "../../actors/capture/capture.ts";
import { captureAdapter, captureSymbols } from "../../actors/capture/plan.ts";

/** The shared data, relative to the repo root. */
const DATA = "../shared/data";
const CAPTURES = `${DATA}/captures/cryptofeed`;
const TARDIS = `${DATA}/samples/tardis-node-inputs`;
const NAUTILUS = `${DATA}/samples/nautilus_trader/crates/adapters`;

/** One received frame of a corpus. */
export interface Frame {
  /** The frame as the venue sent it: text, or bytes. */
  readonly data: string | Uint8Array;
  /**
   * For a binary frame, its JSON text (gunzipped HTX frame, MEXC protobuf in
   * its JSON form), which number mutations edit before encoding again.
   */
  readonly text?: string;
  /** How a binary frame encodes `text`. */
  readonly encoding?: "gzip" | "protobuf";
  /** Local receive time, ms since epoch. */
  readonly ts: number;
}

/** A REST snapshot the recording fetched, and where it came in the stream. */
export interface RecordedSnapshot {
  /** Exchange symbol. */
  readonly symbol: string;
  /** The response body, as `book.parseSnapshot` reads it. */
  readonly body: string;
  /** How many frames of the corpus had arrived when it was answered. */
  readonly at: number;
}

/** The real traffic one adapter version is fuzzed with. */
export interface Corpus {
  /** Adapter id and where the frames come from, e.g. `binance (BINANCE capture)`. */
  readonly name: string;
  /** The adapter version. */
  readonly adapter: Adapter;
  /** The followed instruments. */
  readonly instruments: readonly Instrument[];
  /** The received frames, in order. */
  readonly frames: readonly Frame[];
  /** REST snapshots recorded with the frames (`rest` venues). */
  readonly snapshots: readonly RecordedSnapshot[];
  /**
   * True when the parser keeps per-connection state that changes what a
   * frame yields (Bitfinex channel ids and sequence, Coinbase Advanced
   * `sequence_num`, Hyperliquid's skipped backlog): a frame's events then
   * depend on the frames before it.
   */
  readonly stateful: boolean;
  /**
   * Frames a fresh parser must see again after a reconnect for the frames
   * that follow to mean anything (Bitfinex `conf` and `subscribed` events,
   * which map channel ids to symbols): the venue would send them again on
   * the new connection.
   */
  readonly replayOnReconnect?: (text: string) => boolean;
  /**
   * Coinbase Pro drops a snapshot level whose size is unreadable instead of
   * rejecting the snapshot (a documented quirk of its recorded snapshots).
   */
  readonly dropsBadSnapshotLevels?: boolean;
}

/** Path and query of a URL: how recorded REST calls are matched. */
function key(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

/** The single registered version of `id` that satisfies `pick`. */
function version(id: string, pick: (a: Adapter) => boolean): Adapter {
  const list = ADAPTERS.get(id)?.filter(pick) ?? [];
  if (list.length !== 1) {
    throw new Error(`Expected one ${id} adapter version, found ${list.length}`);
  }
  return list[0];
}

/** The current (no `until`) version of `id`. */
function current(id: string): Adapter {
  return version(id, (a) => a.until === undefined);
}

/** A corpus from one capture, read with `adapter` (its own version by default). */
function fromCapture(
  cap: Capture,
  adapter: Adapter,
  label: string,
): Corpus {
  const bodies = new Map<string, string>();
  for (const r of cap.records) {
    if (r.kind === "http") bodies.set(key(r.url), r.body);
  }
  const meta = adapter.metadataUrls.map((u) => {
    const b = bodies.get(key(u));
    if (b === undefined) throw new Error(`${label} lacks ${u}`);
    return b;
  });
  const { found } = resolveSymbols(
    captureSymbols(cap, captureAdapter(cap)),
    adapter.instruments(meta),
  );
  const wanted = new Map<string, string>();
  for (const i of found) {
    const url = adapter.book.snapshotUrl?.(i.exchangeSymbol);
    if (url !== undefined) wanted.set(key(url), i.exchangeSymbol);
  }
  const frames: Frame[] = [];
  const snapshots: RecordedSnapshot[] = [];
  for (const r of cap.records) {
    if (r.kind === "recv") {
      if (r.binary !== undefined) {
        const gzip = r.binary[0] === 0x1f && r.binary[1] === 0x8b;
        frames.push({
          data: r.binary,
          ts: r.ts,
          ...(gzip
            ? {
              encoding: "gzip" as const,
              text: new TextDecoder().decode(gunzipSync(r.binary)),
            }
            : {}),
        });
      } else frames.push({ data: r.text!, ts: r.ts });
    } else if (r.kind === "http") {
      const symbol = wanted.get(key(r.url));
      if (symbol !== undefined) {
        snapshots.push({ symbol, body: r.body, at: frames.length });
      }
    }
  }
  return {
    name: `${adapter.id} (${label})`,
    adapter,
    instruments: found,
    frames,
    snapshots,
    stateful: adapter.id === "bitfinex",
    ...(adapter.id === "bitfinex"
      ? { replayOnReconnect: (t: string) => t.startsWith('{"event":') }
      : {}),
    ...(adapter.id === "coinbase" && adapter.until !== undefined
      ? { dropsBadSnapshotLevels: true }
      : {}),
  };
}

/** The corpora of every capture, grouped by file prefix (`BINANCE.*`). */
async function captureCorpora(): Promise<Corpus[]> {
  const groups = new Map<string, string[]>();
  for await (const e of Deno.readDir(CAPTURES)) {
    if (!e.isFile || !/\.(0|ws\.\d+\.0|http\.0\.0)$/.test(e.name)) continue;
    const prefix = e.name.split(".")[0];
    groups.set(prefix, [
      ...(groups.get(prefix) ?? []),
      `${CAPTURES}/${e.name}`,
    ]);
  }
  const out: Corpus[] = [];
  for (const prefix of [...groups.keys()].sort()) {
    const files = groups.get(prefix)!.sort();
    const [cap] = await readCaptures(files);
    const adapter = captureAdapter(cap);
    out.push(fromCapture(cap, adapter, `${prefix} capture`));
    // Binance.US speaks Binance spot's protocol on its own hosts.
    if (prefix === "BINANCE") {
      out.push(fromCapture(cap, current("binance-us"), `${prefix} capture`));
    }
  }
  return out;
}

/** Lines of a tardis-node input file. */
async function tardis(name: string): Promise<string[]> {
  return (await Deno.readTextFile(`${TARDIS}/${name}.ndjson`)).trim().split(
    "\n",
  );
}

/** A pretty-printed JSON file as one compact frame, number text kept as written. */
async function compact(path: string): Promise<string> {
  return (await Deno.readTextFile(path)).replace(
    /("(?:[^"\\]|\\.)*")|\s+/g,
    (_, s) => s ?? "",
  );
}

/** The first file of a zip archive (stored or deflated). */
async function unzipFirst(path: string): Promise<string> {
  const z = await Deno.readFile(path);
  const v = new DataView(z.buffer, z.byteOffset, z.byteLength);
  if (v.getUint32(0, true) !== 0x04034b50) throw new Error(`${path}: no zip`);
  const method = v.getUint16(8, true);
  const size = v.getUint32(18, true);
  const start = 30 + v.getUint16(26, true) + v.getUint16(28, true);
  const data = z.subarray(start, start + size);
  return new TextDecoder().decode(method === 0 ? data : inflateRawSync(data));
}

/**
 * A table that follows every symbol it is asked for, to find which symbols
 * a sample's frames are about.
 */
class FollowAll extends Map<string, Instrument> {
  constructor(readonly exchange: string) {
    super();
  }
  override get(k: string): Instrument | undefined {
    if (typeof k !== "string" || k === "") return undefined;
    let i = super.get(k);
    if (i === undefined) {
      i = {
        exchange: this.exchange,
        exchangeSymbol: k,
        symbol: `${k}-X`,
        base: k,
        quote: "X",
        market: "spot",
        contractSize: 1,
      };
      super.set(k, i);
    }
    return i;
  }
}

/** Options of a sample corpus. */
interface SampleOptions {
  /** Makes the instrument of a discovered symbol (spot, contract size 1 by default). */
  readonly instrument?: (symbol: string, exchange: string) => Instrument;
  /** Symbols to follow besides those the frames' events name. */
  readonly symbols?: readonly string[];
  readonly snapshots?: readonly RecordedSnapshot[];
  readonly stateful?: boolean;
}

/** A plain instrument for a sample symbol. */
function plain(symbol: string, exchange: string): Instrument {
  return {
    exchange,
    exchangeSymbol: symbol,
    symbol: `${symbol}-X`,
    base: symbol,
    quote: "X",
    market: "spot",
    contractSize: 1,
  };
}

/** A corpus of sample frames; the followed symbols are those their events name. */
function fromSamples(
  adapter: Adapter,
  label: string,
  frames: readonly Frame[],
  options: SampleOptions = {},
): Corpus {
  const all = new FollowAll(adapter.id);
  const parser = adapter.parser(all as InstrumentTable);
  const named = new Set(options.symbols ?? []);
  for (const f of frames) {
    let events: MarketEvent[] = [];
    try {
      events = parser.parse(f.data, f.ts);
    } catch {
      // a sample this version does not read
    }
    for (const e of events) {
      if (e.type !== "disconnect") named.add(e.exchangeSymbol);
    }
  }
  const make = options.instrument ?? plain;
  return {
    name: `${adapter.id} (${label})`,
    adapter,
    instruments: [...named].sort().map((s) => make(s, adapter.id)),
    frames,
    snapshots: options.snapshots ?? [],
    stateful: options.stateful ?? false,
  };
}

/** Text frames, 1 ms apart. */
function texts(lines: readonly string[]): Frame[] {
  return lines.filter((l) => l.trim() !== "").map((data, i) => ({
    data,
    ts: 1_700_000_000_000 + i,
  }));
}

/** Corpora of the versions no capture speaks, from the samples. */
async function sampleCorpora(): Promise<Corpus[]> {
  const out: Corpus[] = [];

  // Binance COIN-M: tardis' recorded stream; its `depthSnapshot` lines are
  // the REST snapshots tardis fetched, written into the stream.
  {
    const frames: Frame[] = [];
    const snapshots: RecordedSnapshot[] = [];
    for (const l of await tardis("binance-delivery")) {
      const m = JSON.parse(l);
      if (m.generated) {
        snapshots.push({
          symbol: m.data.symbol,
          body: JSON.stringify(m.data),
          at: frames.length,
        });
      } else frames.push({ data: l, ts: 1_600_000_000_000 + frames.length });
    }
    out.push(fromSamples(current("binance-delivery"), "tardis inputs", frames, {
      snapshots,
      instrument: (s, ex) => ({
        ...plain(s, ex),
        market: "future",
        contractSize: 100,
        inverse: true,
      }),
    }));
  }

  // MEXC futures: likewise, `push.depth.snapshot` lines are REST snapshots.
  {
    const frames: Frame[] = [];
    const snapshots: RecordedSnapshot[] = [];
    for (const l of await tardis("mexc-futures")) {
      const m = JSON.parse(l);
      if (m.generated) {
        snapshots.push({ symbol: m.symbol, body: l, at: frames.length });
      } else frames.push({ data: l, ts: 1_600_000_000_000 + frames.length });
    }
    out.push(fromSamples(current("mexc-futures"), "tardis inputs", frames, {
      snapshots,
      instrument: (s, ex) => ({
        ...plain(s, ex),
        market: "perpetual",
        contractSize: 0.0001,
      }),
    }));
  }

  // MEXC spot: tardis' messages in protobuf's JSON form, and each encoded
  // as the binary frame the venue sends.
  {
    const W = protobuf.Root.fromJSON(MEXC_PUSH_DESCRIPTOR).lookupType(
      "PushDataV3ApiWrapper",
    );
    const frames: Frame[] = [];
    for (const l of await tardis("mexc")) {
      const ts = 1_700_000_000_000 + frames.length;
      frames.push({ data: l, ts });
      const m = JSON.parse(l);
      if (m.channel !== undefined) {
        frames.push({
          data: new Uint8Array(W.encode(W.fromObject(m)).finish()),
          text: l,
          encoding: "protobuf",
          ts,
        });
      }
    }
    out.push(fromSamples(current("mexc"), "tardis inputs", frames));
  }

  // Coinbase Advanced Trade: nautilus' l2_data and market_trades messages.
  {
    const names = [
      "ws_l2_data_snapshot",
      "ws_l2_data_update",
      "ws_market_trades",
    ];
    const lines: string[] = [];
    for (const n of names) {
      lines.push(await compact(`${NAUTILUS}/coinbase/test_data/${n}.json`));
    }
    const products = new Set<string>();
    for (const l of lines) {
      for (const m of l.matchAll(/"product_id":"([^"]+)"/g)) products.add(m[1]);
    }
    out.push(
      fromSamples(current("coinbase"), "nautilus samples", texts(lines), {
        symbols: [...products],
        stateful: true,
      }),
    );
  }

  // Kraken v2: tardis' v2 messages and nautilus' spot book and trade messages.
  {
    const lines = (await tardis("kraken")).filter((l) => l.startsWith("{"));
    for (const n of ["ws_book_snapshot", "ws_book_update", "ws_trade_update"]) {
      lines.push(await compact(`${NAUTILUS}/kraken/test_data/${n}.json`));
    }
    out.push(
      fromSamples(
        current("kraken"),
        "tardis and nautilus samples",
        texts(lines),
      ),
    );
  }

  // Bybit v5 (derivatives and spot): a real daily 500-level file of XRPUSDT
  // (1 snapshot, 49 deltas), nautilus' messages and tardis' inputs.
  {
    const lines = (await unzipFirst(
      `${DATA}/samples/nautilus_trader/tests/test_data/bybit/xrpusdt-ob500.data.zip`,
    )).split("\n").filter((l) => l);
    for (
      const n of [
        "ws_orderbook_snapshot",
        "ws_orderbook_delta",
        "ws_public_trade",
      ]
    ) {
      lines.push(await compact(`${NAUTILUS}/bybit/test_data/${n}.json`));
    }
    const bybitInst = (s: string, ex: string): Instrument => ({
      ...plain(s, ex),
      market: ex === "bybit-spot" ? "spot" : "perpetual",
      ...(ex === "bybit" && bybitCategory(s) === "inverse"
        ? { inverse: true }
        : {}),
    });
    out.push(fromSamples(
      current("bybit"),
      "Bybit daily file, nautilus and tardis samples",
      texts([...lines, ...await tardis("bybit")]),
      { instrument: bybitInst },
    ));
    out.push(fromSamples(
      current("bybit-spot"),
      "Bybit daily file, nautilus and tardis samples",
      texts([...lines, ...await tardis("bybit-spot")]),
      { instrument: bybitInst },
    ));
  }

  // OKX (REST snapshot + seqId version): nautilus' v5 books and trades.
  {
    const lines: string[] = [];
    for (const n of ["ws_books_snapshot", "ws_books_update", "ws_trades"]) {
      lines.push(await compact(`${NAUTILUS}/okx/test_data/${n}.json`));
    }
    lines.push(...await tardis("okex"), ...await tardis("okex-swap"));
    out.push(
      fromSamples(current("okx"), "nautilus and tardis samples", texts(lines)),
    );
  }

  // HTX spot (mbp increments): tardis' inputs, gzipped as HTX sends them.
  {
    const frames: Frame[] = [];
    for (const l of await tardis("huobi")) {
      const ts = 1_600_000_000_000 + frames.length;
      frames.push({
        data: new Uint8Array(gzipSync(l)),
        text: l,
        encoding: "gzip",
        ts,
      });
    }
    out.push(fromSamples(current("huobi"), "tardis inputs", frames));
  }

  // Hyperliquid: tardis' inputs and nautilus' l2Book message.
  {
    const lines = await tardis("hyperliquid");
    const book = await compact(
      `${NAUTILUS}/hyperliquid/test_data/ws_book_data.json`,
    );
    lines.push(`{"channel":"l2Book","data":${book}}`);
    out.push(fromSamples(
      current("hyperliquid"),
      "tardis and nautilus samples",
      texts(lines),
      {
        stateful: true,
        instrument: (s, ex) => ({ ...plain(s, ex), market: "perpetual" }),
      },
    ));
  }
  return out;
}

/**
 * Every corpus: one per registered adapter version.
 * @returns the corpora, capture-backed first.
 * @throws {Error} when a registered version has no corpus, naming it.
 * @example
 * ```ts
 * for (const c of await loadCorpora()) console.log(c.name, c.frames.length);
 * ```
 */
export async function loadCorpora(): Promise<Corpus[]> {
  const all = [...await captureCorpora(), ...await sampleCorpora()];
  for (const versions of ADAPTERS.values()) {
    for (const v of versions) {
      if (!all.some((c) => c.adapter === v)) {
        throw new Error(
          `No fuzz corpus for adapter ${v.id} (until ${v.until})`,
        );
      }
    }
  }
  return all;
}
