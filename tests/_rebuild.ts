/**
 * An independent Binance book rebuild for the scenario tests, written from
 * Binance's "how to manage a local order book" procedures and sharing no code
 * with coby's book or sync modules: plain Maps, string prices, the capture's
 * lines read directly.
 *
 * @module
 */

import { CAPTURES } from "./_replay.ts";

/** A rebuilt book: sorted `[price, size]` pairs, best first, and the last update id. */
export interface Rebuilt {
  bids: [number, number][];
  asks: [number, number][];
  lastSequence: number;
  gaps: number;
}

/**
 * Rebuilds every book of a Binance capture, as it stood at an instant.
 * @param prefix `BINANCE` or `BINANCE_FUTURES`.
 * @param futures true for the USD-M rule (first `U <= id <= u`, then `pu == prev u`).
 * @param until only the snapshots and frames received before this time
 *   (ms since epoch) count; by default all of them.
 */
export async function rebuildBinance(
  prefix: string,
  futures: boolean,
  until = Infinity,
): Promise<Map<string, Rebuilt>> {
  const snapshots = new Map<
    string,
    { id: number; bids: string[][]; asks: string[][] }
  >();
  for (
    const line of (await Deno.readTextFile(`${CAPTURES}/${prefix}.http.0.0`))
      .split("\n")
  ) {
    const m = line.match(/symbol=([A-Z0-9]+)&limit=\d+ -> ([\d.]+): (.*)$/);
    if (!m || +m[2] * 1000 >= until) continue;
    const s = JSON.parse(m[3]);
    snapshots.set(m[1], { id: s.lastUpdateId, bids: s.bids, asks: s.asks });
  }
  const books = new Map<
    string,
    {
      bids: Map<string, string>;
      asks: Map<string, string>;
      last: number;
      gaps: number;
    }
  >();
  for (const [sym, s] of snapshots) {
    books.set(sym, {
      bids: new Map(s.bids.map(([p, q]) => [p, q])),
      asks: new Map(s.asks.map(([p, q]) => [p, q])),
      last: -1,
      gaps: 0,
    });
  }
  for (
    const line of (await Deno.readTextFile(`${CAPTURES}/${prefix}.ws.1.0`))
      .split("\n")
  ) {
    const i = line.indexOf(": {");
    if (i < 0 || line.startsWith("wss://")) continue;
    if (+line.slice(0, i) * 1000 >= until) break;
    const d = JSON.parse(line.slice(i + 2)).data;
    if (d?.e !== "depthUpdate") continue;
    const b = books.get(d.s);
    const snap = snapshots.get(d.s);
    if (!b || !snap) continue;
    if (b.last < 0) {
      // Not yet started: drop events the snapshot already contains.
      if (futures ? d.u < snap.id : d.u <= snap.id) continue;
      const edge = futures ? snap.id : snap.id + 1;
      if (d.U > edge) {
        b.gaps++;
        continue;
      }
    } else if (futures ? d.pu !== b.last : d.U !== b.last + 1) {
      b.gaps++;
    }
    for (const [p, q] of d.b) +q === 0 ? b.bids.delete(p) : b.bids.set(p, q);
    for (const [p, q] of d.a) +q === 0 ? b.asks.delete(p) : b.asks.set(p, q);
    b.last = d.u;
  }
  const out = new Map<string, Rebuilt>();
  for (const [sym, b] of books) {
    const toPairs = (m: Map<string, string>, desc: boolean) =>
      [...m].map(([p, q]) => [+p, +q] as [number, number]).sort((x, y) =>
        desc ? y[0] - x[0] : x[0] - y[0]
      );
    out.set(sym, {
      bids: toPairs(b.bids, true),
      asks: toPairs(b.asks, false),
      lastSequence: b.last < 0 ? snapshots.get(sym)!.id : b.last,
      gaps: b.gaps,
    });
  }
  return out;
}
