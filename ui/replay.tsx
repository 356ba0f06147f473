/**
 * The replay bar: shown above the heatmap when the viewer follows a replay
 * session (`?session=<id>`). Play/pause, speed, a seek slider over the
 * session's range (seeking on release), progress, the replay clock (the
 * session's position, UTC event time), events per second and a clear
 * `ended` state. Controls go to `PATCH /api/v1/replay/{id}` with the
 * `X-API-Key` header when the page has a key.
 *
 * For browser tests the bar carries `data-testid="replay"` with
 * `data-state`, `data-position` (ms) and `data-resets`; the clock is
 * `data-testid="replay-clock"`.
 *
 * The "Replay…" dialog ({@linkcode ReplayDialog}) starts a session over a
 * stored range (`POST /api/v1/replay` with `source: "store"`) and opens the
 * page on it (`?session=`).
 *
 * @module
 */

import type { JSX } from "preact";
import { useState } from "preact/hooks";
import type {
  ReplayControl,
  ReplayProgress,
} from "../actors/market/requests.ts";
import {
  API_KEY_STORAGE,
  formatPercent,
  formatRate,
  parseSpeed,
  playButton,
  type ReplayTarget,
  type ReplayView,
  speedLabel,
  speedOptions,
  SPEEDS,
} from "./replay_state.ts";
import { formatClock } from "./time.ts";

/** Props of {@linkcode ReplayBar}. */
export interface ReplayBarProps {
  /** The session followed. */
  target: ReplayTarget;
  /** The bar's state (`replayReducer` over the session's events). */
  view: ReplayView;
  /** Sends a change to the session; settles once it is answered. */
  onControl: (control: ReplayControl) => Promise<void>;
}

/** A request to `/api/v1/replay/{id}`. */
interface ReplayRequestInit {
  /** `GET` reads the progress, `PATCH` sends a change. */
  method: "GET" | "PATCH";
  /** The change, for `PATCH`. */
  body?: ReplayControl;
  /** Aborts the request. */
  signal?: AbortSignal;
}

/**
 * Sends a request to `/api/v1/replay/{id}` and reads the session's progress.
 * @param target the session and its key.
 * @param init the method, the change and an abort signal.
 * @returns the session's progress.
 * @throws {Error} naming the status and the server's message on failure.
 */
async function replayRequest(
  target: ReplayTarget,
  init: ReplayRequestInit,
): Promise<ReplayProgress> {
  const { method, body, signal } = init;
  const headers: Record<string, string> = {};
  if (target.key) headers["X-API-Key"] = target.key;
  if (body) headers["Content-Type"] = "application/json";
  const path = `/api/v1/replay/${encodeURIComponent(target.id)}`;
  const res = await fetch(path, {
    method,
    headers,
    body: body ? JSON.stringify(body) : undefined,
    signal,
  });
  if (!res.ok) {
    const why = await res.json().then(
      (b: { error?: string }) => b.error ? `: ${b.error}` : "",
      () => "",
    );
    throw new Error(`${method} ${path} failed with status ${res.status}${why}`);
  }
  return await res.json() as ReplayProgress;
}

/**
 * Reads a session's progress (`GET /api/v1/replay/{id}`).
 * @param target the session and its key.
 * @param signal aborts the request.
 * @returns its progress.
 * @throws {Error} naming the status, e.g. 404 for an unknown session.
 * @example
 * ```ts
 * const p = await fetchReplayProgress({ id: "r1", key: null });
 * ```
 */
export function fetchReplayProgress(
  target: ReplayTarget,
  signal?: AbortSignal,
): Promise<ReplayProgress> {
  return replayRequest(target, { method: "GET", signal });
}

/**
 * Changes a session (`PATCH /api/v1/replay/{id}`).
 * @param target the session and its key.
 * @param control the change: `action`, `seek`, `speed` or `loop`.
 * @returns its progress after the change.
 * @throws {Error} naming the status, e.g. 401 without a valid key.
 * @example Pause
 * ```ts
 * await controlReplay({ id: "r1", key: "k" }, { action: "pause" });
 * ```
 */
export function controlReplay(
  target: ReplayTarget,
  control: ReplayControl,
): Promise<ReplayProgress> {
  return replayRequest(target, { method: "PATCH", body: control });
}

/**
 * The replay bar.
 * @param props the session, its state and where controls go.
 * @returns the bar.
 * @example
 * ```tsx
 * <ReplayBar target={target} view={view} onControl={async (c) => void await controlReplay(target, c)} />
 * ```
 */
export function ReplayBar(props: ReplayBarProps): JSX.Element {
  const { target, view, onControl } = props;
  const p = view.progress;
  // The slider's value while it is held, and after release until the seek
  // is answered: the position would pull it back meanwhile.
  const [seekTo, setSeekTo] = useState<number | null>(null);

  const button = playButton(view);
  const state = view.ended ? "ended" : p?.state ?? "loading";
  const speeds = speedOptions(p?.speed ?? null);
  return (
    <div
      class={`replay ${state}`}
      data-testid="replay"
      data-state={state}
      data-position={p ? String(p.position) : undefined}
      data-resets={String(view.resets)}
    >
      <span class="title" title={p ? p.exchanges.join(", ") : undefined}>
        replay <b>{target.id}</b>
      </span>
      <button
        type="button"
        class="play"
        data-testid="replay-play"
        disabled={button.action === null}
        onClick={() => {
          if (button.action) onControl({ action: button.action });
        }}
      >
        {button.label}
      </button>
      <label>
        speed
        <select
          value={p ? String(p.speed) : ""}
          disabled={p === null}
          onChange={(e) =>
            onControl({
              speed: parseSpeed((e.currentTarget as HTMLSelectElement).value),
            })}
        >
          {speeds.map((s) => (
            <option key={String(s)} value={String(s)}>{speedLabel(s)}</option>
          ))}
        </select>
      </label>
      <input
        type="range"
        class="seek"
        aria-label="seek"
        // Whole ms: the range's ends may be fractional, a seek may not.
        min={p ? String(Math.ceil(p.from)) : "0"}
        max={p ? String(Math.floor(p.to)) : "0"}
        step="1"
        value={String(seekTo ?? p?.position ?? 0)}
        disabled={p === null || state === "failed" || state === "stopped"}
        onInput={(e) =>
          setSeekTo(Number((e.currentTarget as HTMLInputElement).value))}
        onChange={(e) => {
          const at = Math.round(
            Number((e.currentTarget as HTMLInputElement).value),
          );
          setSeekTo(at);
          onControl({ seek: at }).finally(() => setSeekTo(null));
        }}
      />
      {seekTo !== null
        ? <span class="seek-to">→ {formatClock(seekTo)}</span>
        : null}
      <span class="percent">{p ? formatPercent(p.percent) : "–"}</span>
      <span class="clock" data-testid="replay-clock">
        {p ? formatClock(p.position) : "–"}
      </span>
      <span class="rate">
        {p && state === "playing" ? formatRate(p.eventsPerSecond) : "–"}
      </span>
      <span class={`state ${state}`} data-testid="replay-state">{state}</span>
      {view.error ? <span class="note">{view.error}</span> : null}
    </div>
  );
}

/** What {@linkcode startStoreReplay} asks the store to replay. */
export interface StoreReplaySpec {
  /** Exchanges replayed. */
  exchanges: string[];
  /** Symbols replayed. */
  symbols: string[];
  /** Range start, ms since epoch (inclusive). */
  from: number;
  /** Range end, ms since epoch (exclusive). */
  to: number;
  /** Speed: a multiple of real time, or `max`. */
  speed: number | "max";
}

/**
 * Starts a replay session over a stored range (`POST /api/v1/replay`,
 * `source: "store"`), with the remembered API key when there is one.
 * @param spec exchanges, symbols, range and speed.
 * @param key the API key, or null.
 * @returns the new session's progress (its `id`).
 * @throws {Error} naming the status and the server's message on failure.
 * @example Replay the last ten minutes of BTC-USDT on two venues
 * ```ts
 * const p = await startStoreReplay({ exchanges: ["binance", "okx"], symbols: ["BTC-USDT"],
 *   from: Date.now() - 600_000, to: Date.now(), speed: 1 }, null);
 * location.search = `?symbol=BTC-USDT&session=${p.id}`;
 * ```
 */
export async function startStoreReplay(
  spec: StoreReplaySpec,
  key: string | null,
): Promise<ReplayProgress> {
  const headers: Record<string, string> = {
    "Content-Type": "application/json",
  };
  if (key) headers["X-API-Key"] = key;
  const res = await fetch("/api/v1/replay", {
    method: "POST",
    headers,
    body: JSON.stringify({ source: "store", ...spec }),
  });
  if (!res.ok) {
    const why = await res.json().then(
      (b: { error?: string }) => b.error ? `: ${b.error}` : "",
      () => "",
    );
    throw new Error(
      `POST /api/v1/replay failed with status ${res.status}${why}`,
    );
  }
  return await res.json() as ReplayProgress;
}

/** Props of {@linkcode ReplayDialog}. */
export interface ReplayDialogProps {
  /** The symbol the dialog starts with. */
  symbol: string;
  /** Symbols offered. */
  symbols: readonly string[];
  /** Exchanges offered (the symbol's), all selected at first. */
  exchanges: readonly string[];
  /** Called with the new session's id once it runs. */
  onStarted: (id: string, symbol: string) => void;
  /** Closes the dialog. */
  onClose: () => void;
}

/** A `datetime-local` value (UTC) for an instant. */
function toInput(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/**
 * The "Replay…" dialog: symbol, exchanges, a UTC range (the last 10 minutes
 * at first) and a speed; Start creates the session and hands its id on.
 * @param props the choices offered and where the session goes.
 * @returns the dialog.
 * @example
 * ```tsx
 * <ReplayDialog symbol="BTC-USDT" symbols={["BTC-USDT"]} exchanges={["okx"]}
 *   onStarted={(id) => open(id)} onClose={() => setOpen(false)} />
 * ```
 */
export function ReplayDialog(props: ReplayDialogProps): JSX.Element {
  const [symbol, setSymbol] = useState(props.symbol);
  const [picked, setPicked] = useState<ReadonlySet<string>>(
    new Set(props.exchanges),
  );
  const [now] = useState(() => Date.now());
  const [from, setFrom] = useState(toInput(now - 600_000));
  const [to, setTo] = useState(toInput(now));
  const [speed, setSpeed] = useState("1");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      const p = await startStoreReplay({
        exchanges: props.exchanges.filter((e) => picked.has(e)),
        symbols: [symbol],
        from: Date.parse(`${from}Z`),
        to: Date.parse(`${to}Z`),
        speed: speed === "max" ? "max" : Number(speed),
      }, localStorage.getItem(API_KEY_STORAGE));
      props.onStarted(p.id, symbol);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div
      class="dialog"
      role="dialog"
      aria-label="replay a stored range"
      data-testid="replay-dialog"
    >
      <b>Replay from the store</b>
      <label>
        symbol
        <select
          value={symbol}
          onChange={(e) =>
            setSymbol((e.currentTarget as HTMLSelectElement).value)}
        >
          {props.symbols.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </label>
      <span class="exchanges">
        {props.exchanges.map((e) => (
          <label key={e} class="check">
            <input
              type="checkbox"
              checked={picked.has(e)}
              onChange={() => {
                const next = new Set(picked);
                if (!next.delete(e)) next.add(e);
                setPicked(next);
              }}
            />
            {e}
          </label>
        ))}
      </span>
      <label>
        from (UTC)
        <input
          type="datetime-local"
          step="1"
          value={from}
          onInput={(e) => setFrom((e.currentTarget as HTMLInputElement).value)}
        />
      </label>
      <label>
        to (UTC)
        <input
          type="datetime-local"
          step="1"
          value={to}
          onInput={(e) => setTo((e.currentTarget as HTMLInputElement).value)}
        />
      </label>
      <label>
        speed
        <select
          value={speed}
          onChange={(e) =>
            setSpeed((e.currentTarget as HTMLSelectElement).value)}
        >
          {SPEEDS.map((s) => (
            <option key={String(s)} value={String(s)}>{speedLabel(s)}</option>
          ))}
        </select>
      </label>
      <span class="actions">
        <button
          type="button"
          class="primary"
          disabled={busy || picked.size === 0 || !symbol}
          onClick={start}
        >
          start
        </button>
        <button type="button" onClick={props.onClose}>cancel</button>
      </span>
      {error ? <span class="note">{error}</span> : null}
    </div>
  );
}
