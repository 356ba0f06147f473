/**
 * The replay bar's pure logic: which session the page follows (from its URL,
 * the API key remembered in `localStorage`), the bar's state as a reducer
 * over the session stream's `progress`, `reset` and `end` events and the
 * replies to `PATCH /api/v1/replay/{id}`, and the labels it shows.
 *
 * @module
 */

import type { ReplayProgress } from "../actors/market/requests.ts";

/** A replay speed: a multiple of real time, or `max`. */
export type ReplaySpeed = number | "max";

/** The speeds the bar offers. */
export const SPEEDS: readonly ReplaySpeed[] = [
  0.1,
  0.5,
  1,
  2,
  5,
  10,
  100,
  "max",
];

/** `localStorage` key of the remembered API key. */
export const API_KEY_STORAGE = "coby.apiKey";

/** The session a page follows, and the key its controls send. */
export interface ReplayTarget {
  /** Session id (`?session=`). */
  id: string;
  /** API key for `X-API-Key` (`?key=`, else the remembered one), or null. */
  key: string | null;
}

/** What the bar shows. */
export interface ReplayView {
  /** The session's latest progress, null before the first. */
  progress: ReplayProgress | null;
  /** The session reached its end (an `end` event, or state `ended`). */
  ended: boolean;
  /** Seeks seen (`reset` events). */
  resets: number;
  /** The last failed request's message, null once a control succeeds. */
  error: string | null;
}

/**
 * What changes the bar: a stream event (`progress`, `reset`, `end`), a
 * control's reply (`control`, also the first `GET`) or a failed request.
 */
export type ReplayNotice =
  | { kind: "progress"; progress: ReplayProgress }
  | { kind: "control"; progress: ReplayProgress }
  | { kind: "reset"; at: number }
  | { kind: "end"; progress: ReplayProgress }
  | { kind: "error"; message: string };

/** What the play/pause button shows and does. */
export interface PlayButton {
  /** Its text. */
  label: "play" | "pause" | "ended" | "loading" | "stopped" | "failed";
  /** The `action` a click sends, null when disabled. */
  action: "pause" | "resume" | null;
}

/** The bar before anything is known. */
export const INITIAL_REPLAY_VIEW: ReplayView = {
  progress: null,
  ended: false,
  resets: 0,
  error: null,
};

/**
 * The session a page follows: `?session=<id>`, with `?key=` remembered in
 * `storage` for later visits (a page without `key` uses the remembered one).
 * @param url the page's URL.
 * @param storage where the key is remembered (`localStorage`).
 * @returns the target, or null for the live view (no `session`).
 * @example A session with a key
 * ```ts
 * replayTarget(new URL("http://h/?session=r1&key=k"), localStorage); // {id: "r1", key: "k"}
 * ```
 */
export function replayTarget(
  url: URL,
  storage: Pick<Storage, "getItem" | "setItem">,
): ReplayTarget | null {
  const id = url.searchParams.get("session");
  if (!id) return null;
  const key = url.searchParams.get("key");
  if (key) {
    storage.setItem(API_KEY_STORAGE, key);
    return { id, key };
  }
  return { id, key: storage.getItem(API_KEY_STORAGE) || null };
}

/**
 * The bar's next state.
 *
 * An ended session stays ended until a `reset` (a seek, or a looping
 * session starting over): a `playing` progress that was on its way before
 * the `end` (a control's reply racing the stream) does not revive it.
 * @param view the current state.
 * @param notice what happened.
 * @returns the new state.
 * @example A seek
 * ```ts
 * replayReducer(view, { kind: "reset", at: 1633996800000 }).progress?.position; // 1633996800000
 * ```
 */
export function replayReducer(
  view: ReplayView,
  notice: ReplayNotice,
): ReplayView {
  switch (notice.kind) {
    case "progress":
    case "control": {
      const p = notice.progress;
      const error = notice.kind === "control" ? null : view.error;
      if (view.ended && !isFinal(p)) return { ...view, error };
      return { ...view, progress: p, ended: p.state === "ended", error };
    }
    case "end":
      return { ...view, progress: notice.progress, ended: true };
    case "reset": {
      const p = view.progress;
      return {
        ...view,
        ended: false,
        resets: view.resets + 1,
        progress: p
          ? {
            ...p,
            position: notice.at,
            percent: percentOf(p, notice.at),
          }
          : null,
      };
    }
    case "error":
      return { ...view, error: notice.message };
  }
}

/** Whether a progress leaves the session for good or at its end. */
function isFinal(p: ReplayProgress): boolean {
  return p.state === "ended" || p.state === "stopped" || p.state === "failed";
}

/**
 * Where a time lies in a session's range.
 * @param range the session's `from` and `to`.
 * @param at event time, ms.
 * @returns a percentage clamped to 0–100 (0 for an empty range).
 * @example Halfway
 * ```ts
 * percentOf({ from: 0, to: 200 }, 100); // 50
 * ```
 */
export function percentOf(
  range: Pick<ReplayProgress, "from" | "to">,
  at: number,
): number {
  const span = range.to - range.from;
  if (!(span > 0)) return 0;
  const p = (at - range.from) / span * 100;
  return p < 0 ? 0 : p > 100 ? 100 : p;
}

/**
 * The play/pause button for a state.
 * @param view the bar's state.
 * @returns its label and the action a click sends.
 * @example A playing session
 * ```ts
 * playButton({ ...view, progress: { ...p, state: "playing" } }); // {label: "pause", action: "pause"}
 * ```
 */
export function playButton(view: ReplayView): PlayButton {
  if (view.ended) return { label: "ended", action: null };
  const state = view.progress?.state ?? "loading";
  switch (state) {
    case "playing":
      return { label: "pause", action: "pause" };
    case "paused":
      return { label: "play", action: "resume" };
    case "ended":
      return { label: "ended", action: null };
    default:
      return { label: state, action: null };
  }
}

/**
 * The speeds to offer: {@linkcode SPEEDS}, plus the session's own speed
 * when it is another (a session created at 4×), in ascending order with
 * `max` last.
 * @param current the session's speed.
 * @returns the options.
 * @example A speed not in the list
 * ```ts
 * speedOptions(4); // [0.1, 0.5, 1, 2, 4, 5, 10, 100, "max"]
 * ```
 */
export function speedOptions(current: ReplaySpeed | null): ReplaySpeed[] {
  const out = [...SPEEDS];
  if (typeof current === "number" && !out.includes(current)) {
    let i = 0;
    while (typeof out[i] === "number" && (out[i] as number) < current) i++;
    out.splice(i, 0, current);
  }
  return out;
}

/**
 * Parses a speed option's value.
 * @param text `max` or a positive number.
 * @returns the speed.
 * @throws {RangeError} if `text` is neither.
 * @example
 * ```ts
 * parseSpeed("0.5"); // 0.5
 * ```
 */
export function parseSpeed(text: string): ReplaySpeed {
  if (text === "max") return "max";
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n <= 0) {
    throw new RangeError(
      `Speed must be a positive number or max, got ${JSON.stringify(text)}`,
    );
  }
  return n;
}

/**
 * A speed as the bar labels it.
 * @param speed the speed.
 * @returns `max` or `N×`.
 * @example
 * ```ts
 * speedLabel(0.5); // "0.5×"
 * ```
 */
export function speedLabel(speed: ReplaySpeed): string {
  return speed === "max" ? "max" : `${speed}×`;
}

/**
 * An event rate as the bar shows it.
 * @param perSecond events per second.
 * @returns e.g. `850 ev/s`, `12.3k ev/s`, `1.20M ev/s`; `–` when unknown.
 * @example
 * ```ts
 * formatRate(12_345); // "12.3k ev/s"
 * ```
 */
export function formatRate(perSecond: number): string {
  if (!(perSecond >= 0)) return "–";
  if (perSecond < 1_000) return `${Math.round(perSecond)} ev/s`;
  if (perSecond < 1_000_000) return `${(perSecond / 1_000).toFixed(1)}k ev/s`;
  return `${(perSecond / 1_000_000).toFixed(2)}M ev/s`;
}

/**
 * A progress percentage as the bar shows it.
 * @param percent 0–100.
 * @returns one decimal and `%`, `–` when unknown.
 * @example
 * ```ts
 * formatPercent(42.04); // "42.0%"
 * ```
 */
export function formatPercent(percent: number): string {
  return Number.isFinite(percent) ? `${percent.toFixed(1)}%` : "–";
}
