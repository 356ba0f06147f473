/**
 * The coby viewer: a Preact island around the live order-book heatmap, with
 * a volume pane and a candle pane under it, a searchable symbol picker,
 * exchange health badges that are also the consolidation toggles, display
 * controls, and a replay bar and dialog.
 *
 * Data: `GET /api/v1/symbols` (on load and every 10 s),
 * `GET /api/v1/exchanges` (every 2 s), the SSE stream
 * `GET /api/v1/heatmap/stream?symbol=&exchanges=` (event `column`), and
 * `GET /api/v1/ohlcv` for the candle pane (the consolidated bars of every
 * venue; with a subset of venues, a replay session or no store, candles are
 * built from the columns' trades instead).
 *
 * Everyday use: with no `?symbol=` the page opens on the most liquid symbol
 * (BTC in USD or USDT consolidated over the most exchanges, see
 * `settings.ts`). Every display setting is remembered in `localStorage` and
 * written into the URL with the symbol, the selected exchanges and the
 * session, so a link shows the same view; the URL wins over what was
 * remembered. When the stream drops, the page counts down to its next
 * attempt (`reconnecting in N s`, backing off from 1 s to 30 s).
 *
 * Badges: one per venue of the symbol, green (live), amber (stale for more
 * than 5 s, connecting, or a book resyncing) or red (down), from
 * `/api/v1/exchanges`; clicking one switches the venue in or out of the
 * consolidated view (its checkbox is named by the exchange id). A venue left
 * out of consolidation (its mid too far from the consensus mid) is marked
 * twice: the badge gets `excluded` from `/api/v1/exchanges`
 * (`data-excluded="true"`), and a flag `data-excluded="<exchange>"` from the
 * newest column's metadata. A consolidated BBO crossed between venues is
 * named in the status bar. The status bar shows the BBO and spread at the
 * book's precision (the most decimals its prices were seen with), not the
 * heatmap's bucket.
 *
 * Replay: with `?session=<id>` (and optionally `&key=<apiKey>`, remembered
 * in `localStorage` and then dropped from the address bar) the viewer follows
 * that replay session instead of live data:
 * `GET /api/v1/symbols?session=` and
 * `GET /api/v1/heatmap/stream?symbol=&session=` (events `column`,
 * `progress`, `reset`: drop every column, they restart at `at`; `end`), with
 * the replay bar (`replay.tsx`) above the chart. Times are then labelled in
 * UTC with the date: the recording's time, as the columns' `ts` carry it.
 * "Replay…" starts a session over a stored range and opens the page on it.
 *
 * For browser tests it sets `globalThis.__cobyColumns` (columns received
 * since the page loaded), `globalThis.__cobyLastColumn` (the newest column
 * received), `globalThis.__cobyCellsDrawn` (non-empty cells painted by the
 * last draw), `globalThis.__cobyTimeLabels` (the time axis labels last laid
 * out) and `globalThis.__cobyResets` (the `at` of every `reset` received),
 * and marks the chart with `data-testid="heatmap"`.
 *
 * @module
 */

import { type ClientResponse, hc, type InferResponseType } from "hono/client";
import type { Success } from "../http/client.ts";
import { render } from "preact";
import { useEffect, useReducer, useRef, useState } from "preact/hooks";
import {
  type ChartUpdate,
  createHeatmapChart,
  type HeatmapChart,
  priceDecimals,
} from "./chart.ts";
import type { HeatmapDrawStats } from "./plugins/heatmap.ts";
import type { HeatColumn } from "./columns.ts";
import { ColumnRing } from "./columns.ts";
import { crossText, excludedVenues, exclusionTitle } from "./consolidation.ts";
import { Legend } from "./legend.tsx";
import { type Candle, candlesFromColumns } from "./panes/bars.ts";
import { type CandlePane, createCandlePane } from "./panes/candles.ts";
import { createVolumePane, type VolumePane } from "./panes/volume.ts";
import { SymbolPicker } from "./picker.tsx";
import {
  controlReplay,
  fetchReplayProgress,
  ReplayBar,
  ReplayDialog,
} from "./replay.tsx";
import {
  INITIAL_REPLAY_VIEW,
  replayReducer,
  replayTarget,
} from "./replay_state.ts";
import {
  BUCKET_MULTIPLES,
  CLIPS,
  pickSymbol,
  readSettings,
  readTarget,
  saveSettings,
  TIMEFRAME_MS,
  TIMEFRAMES,
  type ViewSettings,
  viewUrl,
  ZOOMS,
} from "./settings.ts";
import {
  decimalsOf,
  exchangeHealth,
  formatBbo,
  reconnectText,
  retryDelayMs,
} from "./status.ts";
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

/** The stream's state; `retryAt` is when a dropped stream tries again. */
type StreamState =
  | { kind: "idle" | "connecting" | "open" }
  | { kind: "reconnecting"; retryAt: number };

/** Where the candle pane's bars come from. */
type CandleSource = "store" | "columns";

/** Hooks for browser tests. */
interface CobyGlobals {
  __cobyColumns: number;
  __cobyLastColumn: HeatColumn | null;
  __cobyCellsDrawn: number;
  __cobyTimeLabels: string[];
  __cobyResets: number[];
}

const EXCHANGE_POLL_MS = 2_000;
const SYMBOL_POLL_MS = 10_000;
const CANDLE_POLL_MS = 2_000;
/** Candles shown. */
const CANDLES = 120;
/** Columns kept for candles built from the stream (an hour of 1 s ticks). */
const CANDLE_COLUMNS = 3_600;

const NONE: ReadonlySet<string> = new Set();

const hooks = globalThis as unknown as CobyGlobals;
hooks.__cobyColumns = 0;
hooks.__cobyLastColumn = null;
hooks.__cobyCellsDrawn = 0;
hooks.__cobyTimeLabels = [];
hooks.__cobyResets = [];

/** The replay session this page follows, null for the live view. */
const target = replayTarget(new URL(location.href), localStorage);
/** The symbol and exchanges the page was opened with. */
const opened = readTarget(new URL(location.href));

/** The JSON body of a successful response; throws naming the status otherwise. */
async function okJson<R extends ClientResponse<unknown, number>>(
  res: R,
): Promise<Success<R>> {
  if (!res.ok) {
    throw new Error(`GET ${res.url} failed with status ${res.status}`);
  }
  return await res.json() as Success<R>;
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

/** An error's message, whatever was thrown. */
function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A compact age: `now`, `12s`, `3m`, `2h`; `–` when unknown. */
function formatAge(ms: number): string {
  if (!(ms >= 0)) return "–";
  if (ms < 1_000) return "now";
  if (ms < 60_000) return `${Math.round(ms / 1_000)}s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)}m`;
  return `${Math.round(ms / 3_600_000)}h`;
}

/** Runs `task` now and then every `ms` until unmounted or `deps` change. */
function usePoll(
  task: (signal: AbortSignal) => Promise<void>,
  ms: number,
  deps: unknown[] = [],
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
  }, deps);
}

/** Calls `resize` with the element's size now and whenever it changes. */
function observeSize(
  el: HTMLElement,
  resize: (w: number, h: number) => void,
): () => void {
  const ro = new ResizeObserver(() => resize(el.clientWidth, el.clientHeight));
  ro.observe(el);
  return () => ro.disconnect();
}

/** Props of {@linkcode Badges}. */
interface BadgesProps {
  /** The symbol's venues: these badges are toggles. */
  venues: readonly string[];
  /** Health of every exchange this process follows. */
  statuses: readonly ExchangeStatus[];
  /** Venues switched off. */
  off: ReadonlySet<string>;
  /** Venues the newest column left out of consolidation, with why. */
  excluded: ReadonlyMap<string, string>;
  /** Switches a venue in or out. */
  onToggle: (exchange: string) => void;
}

/**
 * One badge per exchange: its health, and for the symbol's venues a toggle
 * of the consolidated view. Other exchanges follow (health only).
 */
function Badges(props: BadgesProps) {
  const { venues, statuses, off, excluded, onToggle } = props;
  const now = Date.now();
  const byName = new Map(statuses.map((s) => [s.exchange, s]));
  const others = statuses.filter((s) => !venues.includes(s.exchange));
  const badge = (exchange: string, toggle: boolean) => {
    const s = byName.get(exchange);
    const health = s ? exchangeHealth(s) : null;
    const level = health?.level ?? "none";
    // The server sends null before the first message.
    const age = s?.lastMessageTs != null
      ? formatAge(now - s.lastMessageTs)
      : "";
    const counters = Object.entries(s?.counters ?? {})
      .map(([k, v]) => `${k}: ${v}`)
      .join("\n");
    const apiExcluded = s?.consolidation?.excluded ?? false;
    const why = apiExcluded
      ? `\n${exclusionTitle(s!.consolidation.symbols, now)}`
      : "";
    const title = s
      ? `${exchange}: ${
        health!.reason
      } — ${s.connection} (${s.state})\nlast message ${
        age || "–"
      } ago${why}\n${counters}`
      : `${exchange}: ${target ? "replayed" : "no live feed here"}`;
    const colWhy = excluded.get(exchange);
    const on = !off.has(exchange);
    const flag = colWhy !== undefined
      ? (
        <em
          class="flag"
          data-excluded={exchange}
          title={`left out of the consolidated column\n${colWhy}`}
        >
          excluded
        </em>
      )
      : apiExcluded
      ? <em class="flag">excluded</em>
      : null;
    const body = (
      <>
        <i class="dot" />
        {exchange}
        {age ? <small>{age}</small> : null}
        {flag}
      </>
    );
    const cls = `badge ${level}${apiExcluded ? " excluded" : ""}${
      on ? "" : " off"
    }`;
    return toggle
      ? (
        <label
          key={exchange}
          class={`${cls} toggle`}
          data-exchange={exchange}
          data-health={level}
          data-excluded={apiExcluded ? "true" : undefined}
          title={`${title}\nclick: ${
            on ? "leave out of" : "add to"
          } the consolidated view`}
        >
          {
            // The checkbox keeps the exchange id as its whole accessible name.
          }
          <input
            type="checkbox"
            aria-label={exchange}
            checked={on}
            onChange={() => onToggle(exchange)}
          />
          {body}
        </label>
      )
      : (
        <span
          key={exchange}
          class={`${cls} other`}
          data-exchange={exchange}
          data-health={level}
          data-excluded={apiExcluded ? "true" : undefined}
          title={title}
        >
          {body}
        </span>
      );
  };
  return (
    <div class="badges" data-testid="badges">
      {venues.map((e) => badge(e, true))}
      {others.map((s) => badge(s.exchange, false))}
    </div>
  );
}

/** Props of {@linkcode Status}. */
interface StatusProps {
  stream: StreamState;
  now: number;
  info: ChartUpdate | null;
  /** Decimals of the book's prices. */
  decimals: number;
  drawn: HeatmapDrawStats | null;
  note: string | null;
  /** Label the newest column's time in UTC with its date (a replay). */
  utc: boolean;
}

/** The status bar: stream state, BBO and spread, consensus, time, draw cost. */
function Status(props: StatusProps) {
  const { stream, now, info, decimals, drawn, note, utc } = props;
  const last = info?.last ?? null;
  const bbo = formatBbo(last?.bestBid ?? null, last?.bestAsk ?? null, decimals);
  const bucket = last
    ? last.bucketSize.toFixed(priceDecimals(last.bucketSize))
    : "–";
  const consensus = last?.consolidation?.mid;
  const crossed = crossText(last);
  const label = stream.kind === "reconnecting"
    ? reconnectText(stream.retryAt, now)
    : stream.kind;
  return (
    <div class="status">
      <span class={`stream ${stream.kind}`} data-testid="stream">
        <i class="dot" />
        {label}
      </span>
      {note ? <span class="note">{note}</span> : null}
      <span>{info?.columns ?? 0} columns</span>
      {last
        ? (
          <>
            <span class="bid" data-testid="bid">bid {bbo.bid}</span>
            <span class="ask" data-testid="ask">ask {bbo.ask}</span>
            <span data-testid="spread">spread {bbo.spread}</span>
            <span>bucket {bucket}</span>
            {crossed
              ? (
                <span class="crossed" data-testid="crossed">
                  {crossed}
                </span>
              )
              : null}
            {consensus != null && last.consolidation!.venues.length > 1
              ? <span>consensus {consensus.toFixed(decimals)}</span>
              : null}
            <span data-testid="column-time">
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

/** Props of {@linkcode Controls}. */
interface ControlsProps {
  settings: ViewSettings;
  onChange: (change: Partial<ViewSettings>) => void;
}

/** A select over fixed options, labelled. */
function Choice<T extends string | number>(
  props: {
    label: string;
    value: T;
    options: readonly { label: string; value: T }[];
    onChange: (v: T) => void;
  },
) {
  return (
    <label>
      {props.label}
      <select
        value={String(props.value)}
        onChange={(e) => {
          const text = (e.currentTarget as HTMLSelectElement).value;
          const o = props.options.find((o) => String(o.value) === text);
          if (o) props.onChange(o.value);
        }}
      >
        {props.options.map((o) => (
          <option key={String(o.value)} value={String(o.value)}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Every display setting: scale, range, clip, palettes, bucket, trades, timeframe. */
function Controls(props: ControlsProps) {
  const { settings: s, onChange } = props;
  // The minimum trade size as typed, until the field is left: the page
  // re-renders at every draw and would otherwise reset a half-typed number.
  const [draft, setDraft] = useState<string | null>(null);
  return (
    <div class="controls" data-testid="controls">
      <span class="group" role="group" aria-label="scale">
        {(["log", "linear"] as const).map((v) => (
          <button
            key={v}
            type="button"
            class={s.scale === v ? "on" : ""}
            aria-pressed={s.scale === v}
            onClick={() => onChange({ scale: v })}
          >
            {v}
          </button>
        ))}
      </span>
      <Choice
        label="range"
        value={s.zoom}
        options={ZOOMS}
        onChange={(zoom) => onChange({ zoom })}
      />
      <Choice
        label="clip"
        value={s.clip}
        options={CLIPS.map((c) => ({
          label: c === 1 ? "max" : `p${+(c * 100).toFixed(1)}`,
          value: c,
        }))}
        onChange={(clip) => onChange({ clip })}
      />
      <Choice
        label="palettes"
        value={s.palettes}
        options={[
          { label: "combined", value: "combined" as const },
          { label: "bid / ask", value: "separate" as const },
        ]}
        onChange={(palettes) => onChange({ palettes })}
      />
      <Choice
        label="bucket"
        value={s.bucketMultiple}
        options={BUCKET_MULTIPLES.map((m) => ({ label: `×${m}`, value: m }))}
        onChange={(bucketMultiple) => onChange({ bucketMultiple })}
      />
      <label class="check">
        <input
          type="checkbox"
          checked={s.trades}
          onChange={(e) =>
            onChange({ trades: (e.currentTarget as HTMLInputElement).checked })}
        />
        trades
      </label>
      <label>
        min size
        <input
          type="number"
          class="num"
          min="0"
          step="any"
          value={draft ?? String(s.minTradeSize)}
          disabled={!s.trades}
          onInput={(e) => {
            const text = (e.currentTarget as HTMLInputElement).value;
            setDraft(text);
            const v = Number(text);
            if (text !== "" && Number.isFinite(v) && v >= 0) {
              onChange({ minTradeSize: v });
            }
          }}
          onBlur={() => setDraft(null)}
        />
      </label>
      <Choice
        label="candles"
        value={s.timeframe}
        options={TIMEFRAMES.map((t) => ({ label: t, value: t }))}
        onChange={(timeframe) => onChange({ timeframe })}
      />
    </div>
  );
}

/**
 * The viewer: symbol and exchange selection, settings, the stream and the
 * panes it feeds.
 */
function App() {
  const [symbols, setSymbols] = useState<SymbolInfo[] | null>(null);
  const [symbol, setSymbol] = useState(opened.symbol);
  // Exchanges switched off, per symbol: a new symbol starts with all on.
  const [off, setOff] = useState<{ symbol: string; set: ReadonlySet<string> }>({
    symbol: "",
    set: new Set(),
  });
  // The URL's exchange selection, until the symbol's venues are known.
  const [pending, setPending] = useState<string[] | null>(opened.exchanges);
  const [settings, setSettings] = useState<ViewSettings>(() =>
    readSettings(new URL(location.href), localStorage)
  );
  const [statuses, setStatuses] = useState<ExchangeStatus[]>([]);
  const [stream, setStream] = useState<StreamState>({ kind: "idle" });
  const [now, setNow] = useState(Date.now());
  const [info, setInfo] = useState<ChartUpdate | null>(null);
  const [decimals, setDecimals] = useState(0);
  const [drawn, setDrawn] = useState<HeatmapDrawStats | null>(null);
  const [following, setFollowing] = useState(true);
  const [candleSource, setCandleSource] = useState<CandleSource>("columns");
  const [candleCount, setCandleCount] = useState(0);
  const [dialog, setDialog] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [replay, dispatch] = useReducer(replayReducer, INITIAL_REPLAY_VIEW);
  const chartEl = useRef<HTMLDivElement>(null);
  const volumeEl = useRef<HTMLDivElement>(null);
  const candlesEl = useRef<HTMLDivElement>(null);
  const chart = useRef<HeatmapChart | null>(null);
  const volume = useRef<VolumePane | null>(null);
  const candles = useRef<CandlePane | null>(null);
  const recent = useRef(new ColumnRing(CANDLE_COLUMNS));
  const decimalsRef = useRef(0);
  /**
   * Whether this coby may keep a store: unknown (null) until `/healthz`
   * says; false once it runs actors but no writer, or `/api/v1/ohlcv`
   * answered `no_history` (so the page does not ask for what cannot be).
   */
  const storeKnown = useRef<boolean | null>(null);
  const mayHaveStore = async (signal: AbortSignal): Promise<boolean> => {
    if (storeKnown.current === null) {
      try {
        const h = await getJson<{ actors: { id: string }[] }>(
          "/healthz",
          signal,
        );
        // No actors at all: `deno task serve`, history from PostgreSQL.
        storeKnown.current = h.actors.length === 0 ||
          h.actors.some((a) => a.id === "writer");
      } catch {
        return false;
      }
    }
    return storeKnown.current;
  };

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

  // Open on the most liquid symbol when none (or, live, an unknown one) is
  // chosen. A session's symbol is kept: its first columns may be on the way.
  useEffect(() => {
    if (!symbols || symbols.length === 0) return;
    if (target ? symbol : symbols.some((s) => s.symbol === symbol)) return;
    const best = pickSymbol(symbols, symbol);
    if (best) setSymbol(best);
  }, [symbols, symbol]);

  const known = symbols?.find((s) => s.symbol === symbol) ?? null;
  const venues = known ? known.exchanges : [];
  const offSet = off.symbol === symbol ? off.set : NONE;
  const selected = venues.filter((e) => !offSet.has(e));
  const selectedKey = selected.join(",");
  const nothingSelected = venues.length > 0 && selected.length === 0;

  // The URL's selection, once the symbol's venues are known.
  useEffect(() => {
    if (!pending || venues.length === 0) return;
    const wanted = new Set(pending);
    if (venues.some((v) => wanted.has(v))) {
      setOff({ symbol, set: new Set(venues.filter((v) => !wanted.has(v))) });
    }
    setPending(null);
  }, [pending, venues.join(",")]);

  // Settings are remembered, and the URL always describes the view.
  useEffect(() => {
    saveSettings(localStorage, settings);
    const exchanges = pending ?? (offSet.size > 0 ? selected : null);
    history.replaceState(
      null,
      "",
      viewUrl(new URL(location.href), { symbol, exchanges }, settings),
    );
  }, [settings, symbol, selectedKey, pending]);

  // The chart and the panes live as long as the page; they follow their
  // elements' sizes.
  useEffect(() => {
    const el = chartEl.current!;
    const c = createHeatmapChart(el, {
      utc: target !== null,
      wallClock: target === null,
      settings,
      onTimeLabels: (labels) => {
        hooks.__cobyTimeLabels = labels;
      },
      onUpdate: setInfo,
      onFollow: setFollowing,
      onDraw: (s) => {
        hooks.__cobyCellsDrawn = s.cells;
        setDrawn(s);
      },
    });
    // The volume pane follows the heatmap's time view, which the chart
    // publishes on its root (`data-x-min` / `data-x-max`, seconds).
    const heatView = (): [number, number] | null => {
      const d = el.querySelector<HTMLElement>(".uplot")?.dataset;
      const lo = Number(d?.xMin), hi = Number(d?.xMax);
      return d?.xMin && d?.xMax && lo < hi ? [lo, hi] : null;
    };
    const v = createVolumePane(volumeEl.current!, { view: heatView });
    const mo = new MutationObserver(() => v.sync());
    mo.observe(el, {
      subtree: true,
      attributes: true,
      attributeFilter: ["data-x-min", "data-x-max"],
    });
    const k = createCandlePane(candlesEl.current!, { utc: target !== null });
    chart.current = c;
    volume.current = v;
    candles.current = k;
    const unobserve = [
      observeSize(el, (w, h) => c.resize(w, h)),
      observeSize(volumeEl.current!, (w, h) => v.resize(w, h)),
      observeSize(candlesEl.current!, (w, h) => k.resize(w, h)),
    ];
    return () => {
      mo.disconnect();
      for (const u of unobserve) u();
      c.destroy();
      v.destroy();
      k.destroy();
      chart.current = null;
      volume.current = null;
      candles.current = null;
    };
  }, []);

  useEffect(() => {
    const { timeframe: _candles, ...chartSettings } = settings;
    chart.current?.configure(chartSettings);
  }, [settings]);

  // What the stream is opened for: live, a known symbol and its selected
  // venues; a session, the page's symbol (before the session lists it) and
  // the selected venues only once one is switched off.
  const ready = target ? symbol !== "" : known !== null;
  const streamExchanges = target && offSet.size === 0 ? "" : selectedKey;

  // One stream per (symbol, exchanges), re-opened when either changes. A
  // dropped stream is re-opened here rather than by EventSource, so the page
  // can count down to the next attempt.
  useEffect(() => {
    const c = chart.current;
    const clearAll = (at?: number) => {
      c?.clear(at);
      volume.current?.clear();
      recent.current.clear();
    };
    decimalsRef.current = 0;
    setDecimals(0);
    clearAll();
    if (!ready || nothingSelected) {
      setStream({ kind: "idle" });
      return;
    }
    const params = new URLSearchParams({ symbol });
    if (streamExchanges) params.set("exchanges", streamExchanges);
    if (target) params.set("session", target.id);
    let es: EventSource | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    const open = () => {
      // The stream sends its kept history again: start from nothing.
      clearAll();
      const source = new EventSource(`/api/v1/heatmap/stream?${params}`);
      es = source;
      setStream({ kind: "connecting" });
      source.onopen = () => {
        attempt = 0;
        setStream({ kind: "open" });
      };
      source.onerror = () => {
        source.close();
        const retryAt = Date.now() + retryDelayMs(attempt++);
        setStream({ kind: "reconnecting", retryAt });
        timer = setTimeout(open, retryAt - Date.now());
      };
      if (target) {
        source.addEventListener("progress", (ev: MessageEvent<string>) => {
          const progress = parseJson<ReplayProgress>(ev.data);
          if (!progress) return;
          c?.setTime(progress.position);
          dispatch({ kind: "progress", progress });
        });
        source.addEventListener("reset", (ev: MessageEvent<string>) => {
          const reset = parseJson<{ at: number }>(ev.data);
          if (!reset) return;
          hooks.__cobyResets.push(reset.at);
          clearAll(reset.at);
          dispatch({ kind: "reset", at: reset.at });
        });
        source.addEventListener("end", (ev: MessageEvent<string>) => {
          const progress = parseJson<ReplayProgress>(ev.data);
          if (progress) dispatch({ kind: "end", progress });
        });
      }
      source.addEventListener("column", (ev: MessageEvent<string>) => {
        const col = parseJson<HeatColumn>(ev.data);
        if (!col || col.symbol !== symbol) return;
        hooks.__cobyColumns++;
        hooks.__cobyLastColumn = col;
        const d = Math.max(decimalsOf(col.bestBid), decimalsOf(col.bestAsk));
        if (d > decimalsRef.current) {
          decimalsRef.current = d;
          setDecimals(d);
        }
        c?.push(col);
        volume.current?.push(col);
        recent.current.push(col);
      });
    };
    open();
    return () => {
      clearTimeout(timer);
      es?.close();
    };
  }, [symbol, streamExchanges, ready, nothingSelected]);

  // The countdown ticks while the stream waits to reconnect.
  useEffect(() => {
    if (stream.kind !== "reconnecting") return;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(t);
  }, [stream]);

  // Candles: the store's consolidated bars when every venue is shown live;
  // else (a subset, a session, no store) bars from the columns' trades.
  const storeCandles = !target && offSet.size === 0 && known !== null;
  usePoll(
    async (signal) => {
      const tf = TIMEFRAME_MS[settings.timeframe];
      let bars: Candle[] | null = null;
      if (storeCandles && await mayHaveStore(signal)) {
        const q = new URLSearchParams({
          symbol,
          timeframe: settings.timeframe,
          from: String(Date.now() - CANDLES * tf),
        });
        try {
          const res = await fetch(`/api/v1/ohlcv?${q}`, { signal });
          // 503 `no_history`: no store after all; ask no more.
          if (res.status === 503) {
            const why = await res.json().catch(() => null);
            if (why?.code === "no_history") storeKnown.current = false;
          } else if (res.ok) {
            const rows = await res.json() as Candle[];
            if (rows.length > 0) bars = rows;
          }
        } catch {
          // The server is unreachable: build from the columns meanwhile.
        }
      }
      if (signal.aborted) return;
      setCandleSource(bars ? "store" : "columns");
      bars ??= candlesFromColumns(
        iterate(recent.current),
        tf,
      ).slice(-CANDLES);
      setCandleCount(bars.length);
      candles.current?.set(bars, tf, decimalsRef.current);
    },
    CANDLE_POLL_MS,
    [symbol, settings.timeframe, storeCandles],
  );

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
    setPending(null);
    setOff({ symbol, set: next });
  };

  const change = (next: Partial<ViewSettings>) =>
    setSettings((s) => ({ ...s, ...next }));

  const pickSymbolNow = (s: string) => {
    setPending(null);
    setSymbol(s);
  };

  const openSession = (id: string, sym: string) => {
    const url = viewUrl(
      new URL(location.href),
      { symbol: sym, exchanges: null },
      settings,
    );
    url.searchParams.set("session", id);
    location.assign(url);
  };

  const note = error ??
    (symbols && symbols.length === 0 && !(target && symbol)
      ? "no symbols yet"
      : null) ??
    (nothingSelected ? "select at least one exchange" : null);

  const listed = symbols ?? [];
  const pickerSymbols = target && symbol && !known
    ? [...listed, { symbol, exchanges: [], columns: 0 }]
    : listed;

  return (
    <div class="coby">
      <header>
        <span class="brand">coby</span>
        <SymbolPicker
          symbols={pickerSymbols}
          value={symbol}
          onPick={pickSymbolNow}
        />
        <Badges
          venues={venues}
          statuses={statuses}
          off={offSet}
          excluded={excludedVenues(info?.last ?? null)}
          onToggle={toggle}
        />
        <span class="actions">
          {target
            ? (
              <a
                class="button"
                href={`/?${new URLSearchParams({ symbol })}`}
                title="leave the replay for live data"
              >
                live
              </a>
            )
            : null}
          <button
            type="button"
            data-testid="replay-open"
            onClick={() => setDialog(!dialog)}
          >
            Replay…
          </button>
        </span>
      </header>
      <Controls settings={settings} onChange={change} />
      {dialog
        ? (
          <ReplayDialog
            symbol={symbol}
            symbols={listed.map((s) => s.symbol)}
            exchanges={venues}
            onStarted={openSession}
            onClose={() => setDialog(false)}
          />
        )
        : null}
      {target
        ? <ReplayBar target={target} view={replay} onControl={control} />
        : null}
      <main class="panes">
        <aside class="legend-box">
          <Legend
            stats={drawn}
            scale={settings.scale}
            palettes={settings.palettes}
          />
        </aside>
        <div class="chart" data-testid="heatmap" ref={chartEl}>
          {following ? null : (
            <button
              type="button"
              class="live-back"
              data-testid="back-to-live"
              onClick={() => chart.current?.resetView()}
            >
              paused — back to live
            </button>
          )}
        </div>
        <div class="pane volume" data-testid="volume" ref={volumeEl} />
        <div
          class="pane candles"
          data-testid="candles"
          data-source={candleSource}
          data-bars={String(candleCount)}
        >
          <span class="pane-title">
            candles {settings.timeframe} · {candleSource === "store"
              ? "stored bars"
              : "from the stream's trades (bucket prices)"}
            {candleCount === 0 ? " · no trades yet" : ""}
          </span>
          <div class="pane-plot" ref={candlesEl} />
        </div>
      </main>
      <Status
        stream={stream}
        now={now}
        info={info}
        decimals={decimals}
        drawn={drawn}
        note={note}
        utc={target !== null}
      />
    </div>
  );
}

/** A ring's columns, oldest first. */
function* iterate(ring: ColumnRing): Generator<HeatColumn> {
  for (let i = 0; i < ring.length; i++) yield ring.at(i);
}

render(<App />, document.getElementById("app")!);
