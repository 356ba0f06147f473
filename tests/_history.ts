/**
 * Independent readings of a Binance capture for the history scenario
 * (`tests/history_test.ts`): the capture's lines parsed directly (no
 * adapter, no book or bar module of coby), the book at an instant rebuilt
 * by Binance's "how to manage a local order book" procedure (the one
 * `tests/_rebuild.ts` follows, stopped at a receive time), 1 s and 1 m
 * OHLCV bars aggregated from the recorded aggTrades by receive time, and a
 * reader of the heatmap SSE stream.
 *
 * Times are the recorded receive times in ms (`<epoch seconds> × 1000`, as
 * the capture reader reads them); a stored row keeps its whole millisecond.
 *
 * @module
 */

import { CAPTURES } from "./_replay.ts";

/** A REST depth snapshot of one symbol as recorded. */
export interface RecordedSnapshot {
  /** `lastUpdateId`. */
  id: number;
  bids: string[][];
  asks: string[][];
  /** Receive time of the response, ms. */
  recv: number;
}

/** A `depthUpdate` as recorded. */
export interface RecordedDepth {
  recv: number;
  s: string;
  U: number;
  u: number;
  /** Previous `u` (USD-M only). */
  pu?: number;
  b: string[][];
  a: string[][];
}

/** An `aggTrade` as recorded. */
export interface RecordedTrade {
  recv: number;
  s: string;
  p: string;
  q: string;
  /** The buyer is the maker: the taker sold. */
  m: boolean;
  /** Trade time. */
  T: number;
}

/** What the history test reads from a Binance capture. */
export interface BinanceCapture {
  /** Snapshots by the venue's symbol. */
  snapshots: Map<string, RecordedSnapshot>;
  /** Every depthUpdate, in file order. */
  depth: RecordedDepth[];
  /** Every aggTrade, in file order. */
  trades: RecordedTrade[];
  /** The venue's symbol → `BASE-QUOTE` from the configuration line. */
  names: Map<string, string>;
  /** First and last receive time of the WebSocket file, ms. */
  first: number;
  last: number;
}

/** Seconds as the capture writes them → ms, as the capture reader does. */
function ms(s: string): number {
  return Number(s) * 1000;
}

/**
 * Reads a Binance capture (`<prefix>.0`, `.http.0.0`, `.ws.1.0`).
 * @param prefix `BINANCE` or `BINANCE_FUTURES`.
 * @returns snapshots, depth updates, trades and symbol names.
 */
export async function readBinanceCapture(
  prefix: string,
): Promise<BinanceCapture> {
  const snapshots = new Map<string, RecordedSnapshot>();
  for (
    const line of (await Deno.readTextFile(`${CAPTURES}/${prefix}.http.0.0`))
      .split("\n")
  ) {
    const m = line.match(
      /symbol=([A-Z0-9]+)&limit=\d+ -> ([\d.]+): (.*)$/,
    );
    if (!m) continue;
    const s = JSON.parse(m[3]);
    snapshots.set(m[1], {
      id: s.lastUpdateId,
      bids: s.bids,
      asks: s.asks,
      recv: ms(m[2]),
    });
  }
  const names = new Map<string, string>();
  for (
    const line of (await Deno.readTextFile(`${CAPTURES}/${prefix}.0`))
      .split("\n")
  ) {
    if (!line.startsWith("configuration: ")) continue;
    const cfg = JSON.parse(line.slice("configuration: ".length));
    for (const s of cfg.l2_book as string[]) {
      const [base, quote] = s.split("-");
      names.set(base + quote, `${base}-${quote}`);
    }
  }
  const depth: RecordedDepth[] = [];
  const trades: RecordedTrade[] = [];
  let first = Infinity;
  let last = -Infinity;
  for (
    const line of (await Deno.readTextFile(`${CAPTURES}/${prefix}.ws.1.0`))
      .split("\n")
  ) {
    const i = line.indexOf(": {");
    if (i < 0 || line.startsWith("wss://")) continue;
    const recv = ms(line.slice(0, i));
    first = Math.min(first, recv);
    last = Math.max(last, recv);
    const d = JSON.parse(line.slice(i + 2)).data;
    if (d?.e === "depthUpdate") {
      depth.push({ recv, s: d.s, U: d.U, u: d.u, pu: d.pu, b: d.b, a: d.a });
    } else if (d?.e === "aggTrade") {
      trades.push({ recv, s: d.s, p: d.p, q: d.q, m: d.m, T: d.T });
    }
  }
  return { snapshots, depth, trades, names, first, last };
}

/** A book rebuilt at an instant. */
export interface BookAt {
  /** `synced` once the snapshot was applied by then, else `unsynced`. */
  state: "synced" | "unsynced";
  /** `[price, size]` best first. */
  bids: [number, number][];
  asks: [number, number][];
  /** `u` of the last update applied (the snapshot's id before any). */
  lastUpdateId: number;
  /** Receive time of the last update applied (the snapshot's if none), ms. */
  lastRecv: number;
  /** Updates that broke the sequence rule (0 on a clean capture). */
  gaps: number;
}

/**
 * The book of one symbol as it was at instant `at` (receive time, whole ms:
 * every frame received within or before that millisecond counts): the REST
 * snapshot once it had arrived, then every depthUpdate received by then that
 * the sequence rule keeps (spot: drop `u <= id`, the first has
 * `U <= id + 1`, then `U = prev u + 1`; USD-M: drop `u < id`, the first has
 * `U <= id <= u`, then `pu = prev u`). Updates received before the snapshot
 * and newer than it count too: a local book applies them right after it.
 * @param cap the capture.
 * @param symbol the venue's symbol.
 * @param at the instant, ms.
 * @param futures the USD-M rule.
 * @returns the book; `unsynced` with no levels before the snapshot arrived.
 */
export function binanceBookAt(
  cap: BinanceCapture,
  symbol: string,
  at: number,
  futures: boolean,
): BookAt {
  const snap = cap.snapshots.get(symbol);
  if (!snap || Math.floor(snap.recv) > at) {
    return {
      state: "unsynced",
      bids: [],
      asks: [],
      lastUpdateId: -1,
      lastRecv: NaN,
      gaps: 0,
    };
  }
  const bids = new Map(snap.bids.map(([p, q]) => [p, q]));
  const asks = new Map(snap.asks.map(([p, q]) => [p, q]));
  let last = -1;
  let lastRecv = snap.recv;
  let gaps = 0;
  for (const d of cap.depth) {
    if (d.s !== symbol || Math.floor(d.recv) > at) continue;
    if (last < 0) {
      if (futures ? d.u < snap.id : d.u <= snap.id) continue;
      if (d.U > (futures ? snap.id : snap.id + 1)) {
        gaps++;
        continue;
      }
    } else if (futures ? d.pu !== last : d.U !== last + 1) gaps++;
    for (const [p, q] of d.b) +q === 0 ? bids.delete(p) : bids.set(p, q);
    for (const [p, q] of d.a) +q === 0 ? asks.delete(p) : asks.set(p, q);
    last = d.u;
    lastRecv = Math.max(lastRecv, d.recv);
  }
  const pairs = (m: Map<string, string>, desc: boolean) =>
    [...m].map(([p, q]) => [+p, +q] as [number, number])
      .sort((x, y) => desc ? y[0] - x[0] : x[0] - y[0]);
  return {
    state: "synced",
    bids: pairs(bids, true),
    asks: pairs(asks, false),
    lastUpdateId: last < 0 ? snap.id : last,
    lastRecv,
    gaps,
  };
}

/** An OHLCV bar as `/api/v1/ohlcv` answers it. */
export interface BarJson {
  ts: number;
  exchange: string;
  symbol: string;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  buyVolume: number;
  sellVolume: number;
  trades: number;
}

/**
 * OHLCV bars of recorded trades: a trade belongs to the bar of its receive
 * time, `floor(recv / step) · step`; open is the first trade received in
 * the bar, close the last, the volumes summed in receive order (base
 * currency: Binance spot and USD-M quantities are base units), buys and
 * sells by the taker's side (`m`: the buyer was the maker, so the taker
 * sold).
 * @param trades the trades, in receive order.
 * @param step bar length, ms.
 * @param series exchange and symbol to stamp each bar with.
 * @returns the bars, by open time.
 */
export function barsOf(
  trades: readonly RecordedTrade[],
  step: number,
  series: { exchange: string; symbol: string },
): BarJson[] {
  const bars = new Map<number, BarJson>();
  for (const t of trades) {
    const ts = Math.floor(t.recv / step) * step;
    const p = +t.p;
    const q = +t.q;
    let b = bars.get(ts);
    if (!b) {
      b = {
        ts,
        ...series,
        open: p,
        high: p,
        low: p,
        close: p,
        volume: 0,
        buyVolume: 0,
        sellVolume: 0,
        trades: 0,
      };
      bars.set(ts, b);
    }
    b.high = Math.max(b.high, p);
    b.low = Math.min(b.low, p);
    b.close = p;
    b.volume += q;
    if (t.m) b.sellVolume += q;
    else b.buyVolume += q;
    b.trades++;
  }
  return [...bars.values()].sort((x, y) => x.ts - y.ts);
}

/**
 * Reads `event: column` events from an SSE response until `count` arrived
 * (or five seconds passed), then cancels the stream.
 * @param res the `/api/v1/heatmap/stream` response.
 * @param count columns to read.
 * @returns the columns' JSON, in order.
 */
export async function readColumns(
  res: Response,
  count: number,
): Promise<Record<string, unknown>[]> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const out: Record<string, unknown>[] = [];
  let text = "";
  const deadline = Date.now() + 5000;
  try {
    while (out.length < count && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      let end;
      while ((end = text.indexOf("\n\n")) >= 0) {
        const m = text.slice(0, end).match(/^event: column\ndata: (.*)$/m);
        if (m) out.push(JSON.parse(m[1]));
        text = text.slice(end + 2);
      }
    }
  } finally {
    await reader.cancel();
  }
  return out;
}
