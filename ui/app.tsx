/**
 * The coby viewer: a Preact island with a symbol picker, an exchange filter,
 * exchange health badges and the live order-book heatmap.
 *
 * Data: `GET /api/v1/symbols` (on load and every 10 s),
 * `GET /api/v1/exchanges` (every 2 s) and the SSE stream
 * `GET /api/v1/heatmap/stream?symbol=&exchanges=` (event `column`).
 *
 * A venue left out of consolidation (its mid too far from the consensus
 * mid) is marked twice: its badge turns amber with `excluded` (from
 * `/api/v1/exchanges`, `data-excluded` on the badge), and its exchange toggle
 * gets an `excluded` flag from the newest column's metadata. A consolidated
 * BBO crossed between venues is named in the status bar.
 *
 * Replay: with `?session=<id>` (and optionally `&key=<apiKey>`, remembered
 * in `localStorage` and then dropped from the address bar) the viewer follows
 * that replay session instead of live data:
 * `GET /api/v1/symbols?session=` and
 * `GET /api/v1/heatmap/stream?symbol=&session=` (events `column`,
 * `progress`, `reset`: drop every column, they restart at `at`; `end`), with
 * the replay bar (`replay.tsx`) above the chart. Times are then labelled in
 * UTC with the date: the recording's time, as the columns' `ts` carry it.
 *
 * For browser tests it sets `globalThis.__cobyColumns` (columns received
 * since the page loaded), `globalThis.__cobyCellsDrawn` (non-empty cells
 * painted by the last draw), `globalThis.__cobyTimeLabels` (the time axis
 * labels last laid out) and `globalThis.__cobyResets` (the `at` of every
 * `reset` received), and marks the chart with `data-testid="heatmap"`.
 *
 * @module
 */

import { type ClientResponse, hc, type InferResponseType } from "hono/client";
import { render } from "preact";
import { useEffect, useReducer, useRef, useState } from "preact/hooks";
import {
  type ChartUpdate,
  createHeatmapChart,
  type HeatmapChart,
  priceDecimals,
} from "./chart.ts";
import type { HeatColumn } from "./columns.ts";
import { crossText, excludedVenues, exclusionTitle } from "./consolidation.ts";
import type { HeatScale } from "./plugins/heatmap.ts";
import { controlReplay, fetchReplayProgress, ReplayBar } from "./replay.tsx";
import {
  INITIAL_REPLAY_VIEW,
  replayReducer,
  replayTarget,
} from "./replay_state.ts";
import { formatClock } from "./time.ts";
import type {
  ReplayControl,
  ReplayProgress,
} from "../actors/market/requests.ts";
import type { AppType } from "../http/app.ts";

/** The typed API client: routes and response shapes come from the server's app. */
const api = hc<AppType>("/");

/** One entry of `GET /api/v1/symbols`. */
type SymbolInfo = InferResponseType<
  typeof api.api.v1.symbols.$get,
  200
>["symbols"][number];

/** One entry of `GET /api/v1/exchanges`. */
type ExchangeStatus = InferResponseType<
  typeof api.api.v1.exchanges.$get,
  200
>["exchanges"][number];

/** What the last heatmap draw did. */
interface DrawInfo {
  cells: number;
  rects: number;
  ms: number;
}

type StreamState = "idle" | "connecting" | "open" | "reconnecting";

/** Hooks for browser tests. */
interface CobyGlobals {
  __cobyColumns: number;
  __cobyCellsDrawn: number;
  __cobyTimeLabels: string[];
  __cobyResets: number[];
}

const EXCHANGE_POLL_MS = 2_000;
const SYMBOL_POLL_MS = 10_000;
const ZOOMS: readonly { label: string; value: number }[] = [
  { label: "±0.25%", value: 0.0025 },
  { label: "±0.5%", value: 0.005 },
  { label: "±1%", value: 0.01 },
  { label: "±2%", value: 0.02 },
  { label: "±5%", value: 0.05 },
  { label: "all", value: Infinity },
];

const NONE: ReadonlySet<string> = new Set();

const hooks = globalThis as unknown as CobyGlobals;
hooks.__cobyColumns = 0;
hooks.__cobyCellsDrawn = 0;
hooks.__cobyTimeLabels = [];
hooks.__cobyResets = [];

/** The replay session this page follows, null for the live view. */
const target = replayTarget(new URL(location.href), localStorage);

/** The JSON body of a successful response; throws naming the status otherwise. */
async function okJson<T>(res: ClientResponse<T>): Promise<T> {
  if (!res.ok) {
    throw new Error(`GET ${res.url} failed with status ${res.status}`);
  }
  return await res.json() as T;
}

/** `GET` a JSON body; throws naming the status on failure. */
async function getJson<T>(url: string, signal: AbortSignal): Promise<T> {
  const res = await fetch(url, { signal });
  if (!res.ok) throw new Error(`GET ${url} failed with status ${res.status}`);
  return await res.json() as T;
}

/** Parses an SSE event's JSON data; null when it is not JSON. */
function parseJson<T>(text: string): T | null {
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function formatAge(ms: number): string {
  if (!(ms >= 0)) return "–";
  if (ms < 1_000) return "now";
  if (ms < 60_000) return `${Math.round(ms / 1_000)}s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)}m`;
  return `${Math.round(ms / 3_600_000)}h`;
}

/** Runs `task` now and then every `ms` until unmounted. */
function usePoll(
  task: (signal: AbortSignal) => Promise<void>,
  ms: number,
): void {
  useEffect(() => {
    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      await task(ac.signal);
      if (!ac.signal.aborted) timer = setTimeout(run, ms);
    };
    run();
    return () => {
      ac.abort();
      clearTimeout(timer);
    };
  }, []);
}

function Badges(props: { statuses: ExchangeStatus[] }) {
  const now = Date.now();
  return (
    <div class="badges">
      {props.statuses.map((s) => {
        // The server sends null before the first message.
        const age = s.lastMessageTs !== null
          ? formatAge(now - s.lastMessageTs)
          : "–";
        const counters = Object.entries(s.counters ?? {})
          .map(([k, v]) => `${k}: ${v}`)
          .join("\n");
        const excluded = s.consolidation?.excluded ?? false;
        const why = excluded
          ? `\n${exclusionTitle(s.consolidation.symbols, now)}`
          : "";
        return (
          <span
            key={s.exchange}
            class={`badge ${s.connection}${excluded ? " excluded" : ""}`}
            data-excluded={excluded ? "true" : undefined}
            title={`${s.exchange} ${s.connection} (${s.state})\nlast message ${age} ago${why}\n${counters}`}
          >
            <i class="dot" />
            {s.exchange}
            <small>{age}</small>
            {excluded ? <em class="flag">excluded</em> : null}
          </span>
        );
      })}
    </div>
  );
}

function Status(
  props: {
    stream: StreamState;
    info: ChartUpdate | null;
    drawn: DrawInfo | null;
    note: string | null;
    /** Label the newest column's time in UTC with its date (a replay). */
    utc: boolean;
  },
) {
  const { stream, info, drawn, note, utc } = props;
  const last = info?.last ?? null;
  const d = last ? priceDecimals(last.bucketSize) : 2;
  const px = (v: number | null | undefined) => (v == null ? "–" : v.toFixed(d));
  const spread = last?.bestBid != null && last.bestAsk != null
    ? (last.bestAsk - last.bestBid).toFixed(d)
    : "–";
  const consensus = last?.consolidation?.mid;
  const crossed = crossText(last);
  return (
    <div class="status">
      <span class={`stream ${stream}`}>
        <i class="dot" />
        {stream}
      </span>
      {note ? <span class="note">{note}</span> : null}
      <span>{info?.columns ?? 0} columns</span>
      {last
        ? (
          <>
            <span>bucket {px(last.bucketSize)}</span>
            <span class="bid">bid {px(last.bestBid)}</span>
            <span class="ask">ask {px(last.bestAsk)}</span>
            <span>spread {spread}</span>
            {crossed
              ? (
                <span class="crossed" data-testid="crossed">
                  {crossed}
                </span>
              )
              : null}
            {consensus != null && last.consolidation!.venues.length > 1
              ? <span>consensus {px(consensus)}</span>
              : null}
            <span>
              {utc
                ? formatClock(last.ts)
                : new Date(last.ts).toLocaleTimeString()}
            </span>
          </>
        )
        : null}
      {drawn
        ? (
          <span class="perf">
            {drawn.cells.toLocaleString()} cells ·{" "}
            {drawn.rects.toLocaleString()} rects · {drawn.ms.toFixed(1)} ms
          </span>
        )
        : null}
    </div>
  );
}

function App() {
  const [symbols, setSymbols] = useState<SymbolInfo[] | null>(null);
  const [symbol, setSymbol] = useState(
    new URLSearchParams(location.search).get("symbol") ?? "",
  );
  // Exchanges switched off, per symbol: a new symbol starts with all on.
  const [off, setOff] = useState<{ symbol: string; set: ReadonlySet<string> }>({
    symbol: "",
    set: new Set(),
  });
  const [statuses, setStatuses] = useState<ExchangeStatus[]>([]);
  const [scale, setScale] = useState<HeatScale>("log");
  const [trades, setTrades] = useState(true);
  const [zoom, setZoom] = useState(0.01);
  const [stream, setStream] = useState<StreamState>("idle");
  const [info, setInfo] = useState<ChartUpdate | null>(null);
  const [drawn, setDrawn] = useState<DrawInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [replay, dispatch] = useReducer(replayReducer, INITIAL_REPLAY_VIEW);
  const chartEl = useRef<HTMLDivElement>(null);
  const chart = useRef<HeatmapChart | null>(null);

  usePoll(async (signal) => {
    try {
      const r = target
        ? await getJson<{ symbols: SymbolInfo[] }>(
          `/api/v1/symbols?${new URLSearchParams({ session: target.id })}`,
          signal,
        )
        : await okJson(
          await api.api.v1.symbols.$get({ query: {} }, { init: { signal } }),
        );
      setSymbols(r.symbols);
      setError(null);
    } catch (e) {
      if (!signal.aborted) setError(message(e));
    }
  }, SYMBOL_POLL_MS);

  usePoll(async (signal) => {
    try {
      const r = await okJson(
        await api.api.v1.exchanges.$get(undefined, { init: { signal } }),
      );
      setStatuses(r.exchanges);
    } catch {
      // Badges keep their last state; the symbols poll reports errors.
    }
  }, EXCHANGE_POLL_MS);

  // The session's progress before its stream's first event.
  useEffect(() => {
    if (!target) return;
    const ac = new AbortController();
    fetchReplayProgress(target, ac.signal).then(
      (progress) => {
        chart.current?.setTime(progress.position);
        dispatch({ kind: "control", progress });
      },
      (e) => {
        if (!ac.signal.aborted) {
          dispatch({ kind: "error", message: message(e) });
        }
      },
    );
    return () => ac.abort();
  }, []);

  // Fall back to the first symbol when none (or, live, an unknown one) is
  // chosen. A session's symbol is kept: its first columns may be on the way.
  useEffect(() => {
    if (
      symbols && symbols.length > 0 &&
      !(target ? symbol : symbols.some((s) => s.symbol === symbol))
    ) {
      setSymbol(symbols[0].symbol);
    }
  }, [symbols, symbol]);

  useEffect(() => {
    if (!symbol) return;
    const url = new URL(location.href);
    url.searchParams.set("symbol", symbol);
    // The key is remembered in localStorage, not left in the address bar.
    url.searchParams.delete("key");
    history.replaceState(null, "", url);
  }, [symbol]);

  // The chart lives as long as the page; it follows its element's size.
  useEffect(() => {
    const el = chartEl.current!;
    const c = createHeatmapChart(el, {
      utc: target !== null,
      wallClock: target === null,
      onTimeLabels: (labels) => {
        hooks.__cobyTimeLabels = labels;
      },
      onUpdate: setInfo,
      onDraw: (s) => {
        hooks.__cobyCellsDrawn = s.cells;
        setDrawn({ cells: s.cells, rects: s.rects, ms: s.ms });
      },
    });
    chart.current = c;
    const ro = new ResizeObserver(() =>
      c.resize(el.clientWidth, el.clientHeight)
    );
    ro.observe(el);
    return () => {
      ro.disconnect();
      c.destroy();
      chart.current = null;
    };
  }, []);

  useEffect(() => {
    chart.current?.configure({ scale, trades, zoom });
  }, [scale, trades, zoom]);

  const known = symbols?.find((s) => s.symbol === symbol) ?? null;
  const venues = known ? known.exchanges : [];
  const offSet = off.symbol === symbol ? off.set : NONE;
  const selected = venues.filter((e) => !offSet.has(e));
  const selectedKey = selected.join(",");
  const nothingSelected = venues.length > 0 && selected.length === 0;
  const excluded = excludedVenues(info?.last ?? null);
  // What the stream is opened for: live, a known symbol and its selected
  // venues; a session, the page's symbol (before the session lists it) and
  // the selected venues only once one is switched off.
  const ready = target ? symbol !== "" : known !== null;
  const streamExchanges = target && offSet.size === 0 ? "" : selectedKey;

  // One EventSource per (symbol, exchanges); re-opened when either changes.
  useEffect(() => {
    const c = chart.current;
    c?.clear();
    if (!ready || nothingSelected) {
      setStream("idle");
      return;
    }
    const params = new URLSearchParams({ symbol });
    if (streamExchanges) params.set("exchanges", streamExchanges);
    if (target) params.set("session", target.id);
    const es = new EventSource(`/api/v1/heatmap/stream?${params}`);
    setStream("connecting");
    es.onopen = () => setStream("open");
    es.onerror = () =>
      setStream(es.readyState === EventSource.CLOSED ? "idle" : "reconnecting");
    if (target) {
      es.addEventListener("progress", (ev: MessageEvent<string>) => {
        const progress = parseJson<ReplayProgress>(ev.data);
        if (!progress) return;
        c?.setTime(progress.position);
        dispatch({ kind: "progress", progress });
      });
      es.addEventListener("reset", (ev: MessageEvent<string>) => {
        const reset = parseJson<{ at: number }>(ev.data);
        if (!reset) return;
        hooks.__cobyResets.push(reset.at);
        c?.clear(reset.at);
        dispatch({ kind: "reset", at: reset.at });
      });
      es.addEventListener("end", (ev: MessageEvent<string>) => {
        const progress = parseJson<ReplayProgress>(ev.data);
        if (progress) dispatch({ kind: "end", progress });
      });
    }
    es.addEventListener("column", (ev: MessageEvent<string>) => {
      const col = parseJson<HeatColumn>(ev.data);
      if (!col || col.symbol !== symbol) return;
      hooks.__cobyColumns++;
      c?.push(col);
    });
    return () => es.close();
  }, [symbol, streamExchanges, ready, nothingSelected]);

  const control = async (change: ReplayControl) => {
    try {
      dispatch({
        kind: "control",
        progress: await controlReplay(target!, change),
      });
    } catch (e) {
      dispatch({ kind: "error", message: message(e) });
    }
  };

  const toggle = (exchange: string) => {
    const next = new Set(offSet);
    if (next.has(exchange)) next.delete(exchange);
    else next.add(exchange);
    setOff({ symbol, set: next });
  };

  const note = error ??
    (symbols && symbols.length === 0 && !(target && symbol)
      ? "no symbols yet"
      : null) ??
    (nothingSelected ? "select at least one exchange" : null);

  return (
    <div class="coby">
      <header>
        <span class="brand">coby</span>
        <label>
          symbol
          <select
            value={symbol}
            onChange={(e) =>
              setSymbol((e.currentTarget as HTMLSelectElement).value)}
          >
            {(symbols ?? []).map((s) => (
              <option key={s.symbol} value={s.symbol}>{s.symbol}</option>
            ))}
            {
              // A session's symbol before the list names it.
              target && symbol && !known
                ? <option key={symbol} value={symbol}>{symbol}</option>
                : null
            }
          </select>
        </label>
        <span class="exchanges">
          {venues.map((e) => (
            // The flag sits beside the label, so the checkbox keeps the
            // exchange id as its whole accessible name.
            <span key={e} class={`venue${excluded.has(e) ? " excluded" : ""}`}>
              <label class="check">
                <input
                  type="checkbox"
                  checked={!offSet.has(e)}
                  onChange={() => toggle(e)}
                />
                {e}
              </label>
              {excluded.has(e)
                ? (
                  <em
                    class="flag"
                    data-excluded={e}
                    title={`left out of the consolidated column\n${
                      excluded.get(e)
                    }`}
                  >
                    excluded
                  </em>
                )
                : null}
            </span>
          ))}
        </span>
        <span class="group">
          <button
            type="button"
            class={scale === "log" ? "on" : ""}
            onClick={() => setScale("log")}
          >
            log
          </button>
          <button
            type="button"
            class={scale === "linear" ? "on" : ""}
            onClick={() => setScale("linear")}
          >
            linear
          </button>
        </span>
        <label>
          range
          <select
            value={String(zoom)}
            onChange={(e) =>
              setZoom(Number((e.currentTarget as HTMLSelectElement).value))}
          >
            {ZOOMS.map((z) => (
              <option key={z.label} value={String(z.value)}>{z.label}</option>
            ))}
          </select>
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={trades}
            onChange={(e) =>
              setTrades((e.currentTarget as HTMLInputElement).checked)}
          />
          trades
        </label>
        <Badges statuses={statuses} />
      </header>
      {target
        ? <ReplayBar target={target} view={replay} onControl={control} />
        : null}
      <div class="chart" data-testid="heatmap" ref={chartEl} />
      <Status
        stream={stream}
        info={info}
        drawn={drawn}
        note={note}
        utc={target !== null}
      />
    </div>
  );
}

render(<App />, document.getElementById("app")!);
