/**
 * What a capture replays: the adapter version its connections speak, the
 * symbols it followed and the connection groups it has recordings for. Read
 * from the recording alone (cryptofeed's `configuration:` line, the URLs and
 * the frames the client sent, the recorded metadata), shared by the replay
 * sessions and the exchange simulator path.
 *
 * @module
 */

import type { Capture } from "./capture.ts";
import { recordedConnections } from "./capture.ts";
import type { Adapter } from "../adapters/adapter.ts";
import {
  adapterFor,
  adapterForRecording,
  connectionGroups,
} from "../adapters/mod.ts";

/** cryptofeed's channels whose symbols coby follows (books, trades, liquidations). */
const FOLLOWED_CHANNELS = ["l2_book", "trades", "liquidations"] as const;

/** cryptofeed's futures month codes: F = January … Z = December. */
const MONTH_CODES = "FGHJKMNQUVXZ";

/**
 * The adapter version a capture speaks: chosen from what its connections
 * subscribed to (URL paths, channel and topic names in the frames the client
 * sent), by the recording date only where the recording cannot tell (see
 * `adapterForRecording`).
 * @param cap the capture.
 * @returns the adapter version.
 * @throws {Error} naming the recorded URL when no version speaks it.
 * @example
 * ```ts
 * captureAdapter(await readCapture(files)).until; // undefined: the current version
 * ```
 */
export function captureAdapter(cap: Capture): Adapter {
  return adapterForRecording(
    cap.exchange,
    recordedConnections(cap),
    cap.records[0]?.ts,
  );
}

/**
 * The symbols cryptofeed followed in a capture. From its `configuration:`
 * line: the symbols of its `l2_book`, `trades` and `liquidations` channels,
 * in that order, as normalized `BASE-QUOTE` (its `-PERP` suffix
 * dropped: the exchange's market type decides), or `BASE-QUOTE-YYMMDD`
 * selectors for its dated futures (`BTC-USD-22K27`, year, month code, day →
 * `BTC-USD-220527`). Without that line: the exchange's own names of the
 * instruments the recorded subscriptions name (URLs and sent frames).
 * @param cap the capture.
 * @param adapter the version the capture speaks; {@link captureAdapter} by default.
 * @returns symbols for the exchange's config.
 * @throws {Error} naming what is missing when neither the configuration nor
 *   the recorded subscriptions name a symbol.
 * @example
 * ```ts
 * captureSymbols(await readCapture(files)); // ["NKN-USDT", "BLZ-ETH", …]
 * ```
 */
export function captureSymbols(
  cap: Capture,
  adapter: Adapter = captureAdapter(cap),
): string[] {
  const named = new Set<string>();
  for (const channel of FOLLOWED_CHANNELS) {
    const list = cap.config?.[channel];
    if (!Array.isArray(list)) continue;
    for (const s of list) named.add(String(s));
  }
  if (named.size) {
    return [
      ...new Set([...named].map((s) =>
        s.replace(/-PERP$/, "").replace(
          /-(\d{2})([FGHJKMNQUVXZ])(\d{2})$/,
          (_, yy, m, dd) =>
            `-${yy}${String(MONTH_CODES.indexOf(m) + 1).padStart(2, "0")}${dd}`,
        )
      )),
    ];
  }
  const why = cap.config
    ? `configuration line names no ${FOLLOWED_CHANNELS.join(", ")} symbols`
    : "has no cryptofeed configuration line";
  return subscribedSymbols(cap, adapter, why);
}

/** Path and query of a URL: how the simulator matches recorded REST calls. */
function pathAndQuery(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

/** Characters that join the parts of an exchange symbol (`BTC-USDT`, `XBT/USD`, `tBTCF0:USTF0`). */
const JOINERS = "-_/:";

/**
 * The instruments the recorded subscriptions name, for a capture without a
 * configuration line: the capture's recorded metadata is read with the
 * adapter, and every WebSocket URL and every sent frame is scanned for
 * those instruments' exchange symbols (case-insensitive, whole words; runs of
 * letters and digits joined by `-`, `_`, `/` or `:`, longest match first).
 * @param cap the capture.
 * @param adapter the version the capture speaks.
 * @param why what the capture lacks, for error messages.
 * @returns exchange symbols, in order of first mention.
 * @throws {Error} naming the missing metadata URL, or saying that no
 *   subscription names a listed symbol.
 */
function subscribedSymbols(
  cap: Capture,
  adapter: Adapter,
  why: string,
): string[] {
  const what = `The capture of ${cap.exchange} (${cap.files.join(", ")})`;
  const bodies = new Map<string, string>();
  for (const r of cap.records) {
    if (r.kind === "http") bodies.set(pathAndQuery(r.url), r.body);
  }
  const meta: string[] = [];
  for (let i = 0; i < adapter.metadataUrls.length; i++) {
    const url = adapter.metadataUrls[i];
    const body = adapter.metadataBodies?.[i] == null
      ? bodies.get(pathAndQuery(url))
      : undefined; // a POST is never recorded
    if (body === undefined) {
      throw new Error(
        `${what} ${why}, and lacks the metadata ${url} to read the symbols of its subscriptions from`,
      );
    }
    meta.push(body);
  }
  const byName = new Map<string, string>();
  for (const inst of adapter.instruments(meta)) {
    byName.set(inst.exchangeSymbol.toUpperCase(), inst.exchangeSymbol);
  }
  const found = new Set<string>();
  for (const c of recordedConnections(cap)) {
    for (const text of [c.url, ...c.sent]) scanSymbols(text, byName, found);
  }
  if (found.size === 0) {
    throw new Error(
      `${what} ${why}, and its recorded subscriptions name no ${cap.exchange} symbol`,
    );
  }
  return [...found];
}

/** Adds to `found` every symbol of `byName` (upper-cased name → name) that `text` names. */
function scanSymbols(
  text: string,
  byName: ReadonlyMap<string, string>,
  found: Set<string>,
): void {
  // Word runs: [start, end) of each maximal run of letters and digits.
  const runs: [number, number][] = [];
  for (const m of text.matchAll(/[A-Za-z0-9]+/g)) {
    runs.push([m.index, m.index + m[0].length]);
  }
  for (let i = 0; i < runs.length;) {
    let best = 0;
    let bestName = "";
    // Up to 4 runs joined by single joiner characters: BTC-USD-SWAP-X at most.
    for (let k = 1; k <= 4 && i + k <= runs.length; k++) {
      if (k > 1) {
        const gap = text.slice(runs[i + k - 2][1], runs[i + k - 1][0]);
        if (gap.length !== 1 || !JOINERS.includes(gap)) break;
      }
      const name = byName.get(
        text.slice(runs[i][0], runs[i + k - 1][1]).toUpperCase(),
      );
      if (name !== undefined) {
        best = k;
        bestName = name;
      }
    }
    if (best) found.add(bestName);
    i += best || 1;
  }
}

/**
 * The connection groups a capture has recordings for: a group whose
 * WebSocket path the capture never opened (HTX's liquidation notification
 * endpoint, say) would only fail to connect, so the replay leaves it out.
 * Groups whose URL needs a REST handshake first are kept.
 * @param exchange exchange id.
 * @param symbols the capture's symbol selectors.
 * @param apiDate a date picking the capture's adapter version (see `versionDate`).
 * @param paths WebSocket paths the simulator serves.
 * @returns the groups to run.
 */
export function recordedGroups(
  exchange: string,
  symbols: readonly string[],
  apiDate: number | undefined,
  paths: readonly string[],
): string[] {
  const ad = adapterFor(exchange, apiDate);
  const groups: string[] = [];
  for (
    const [group, selectors] of connectionGroups(exchange, symbols, apiDate)
  ) {
    let path: string | null = null;
    try {
      path = new URL(ad.url(selectors, undefined, group)).pathname;
    } catch {
      // The URL depends on a REST handshake (KuCoin's bullet token): keep it.
    }
    if (path === null || paths.includes(path)) groups.push(group);
  }
  return groups;
}
