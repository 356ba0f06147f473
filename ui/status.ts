/**
 * What the status bar and the exchange badges say: an exchange's health
 * (green, amber, red) from `/api/v1/exchanges`, prices at the book's own
 * precision, and the stream's reconnect schedule. Pure, tested without a
 * browser.
 *
 * @module
 */

/** A feed with no message for longer than this is stale, ms. */
export const STALE_MS = 5_000;

/** An exchange's health as its badge shows it. */
export type HealthLevel = "green" | "amber" | "red";

/** The parts of an `/api/v1/exchanges` entry health is judged on. */
export interface ExchangeHealthInput {
  /** Actor state (`running`, `degraded`, `restarting`, `stopped`, …). */
  state: string;
  /** WebSocket state over its connections: `connected`, `connecting`, `disconnected`. */
  connection: string;
  /** Age of its last data frame, ms; null before the first. */
  lastMessageAgeMs: number | null;
  /** Sync state by the venue's symbol. */
  books: Record<string, { state: string }>;
}

/** An exchange's health and why. */
export interface ExchangeHealth {
  /** Green: up and fresh; amber: stale or resyncing; red: down. */
  level: HealthLevel;
  /** Short reason, e.g. `stale 12s`, `resyncing BTCUSDT`, `disconnected`. */
  reason: string;
}

/**
 * Judges an exchange's health: red when it is disconnected or its actor is
 * not running; amber while it connects, when no message came for more than
 * {@linkcode STALE_MS} (or none yet), or when one of its books is not
 * synced; green otherwise.
 * @param s the exchange's entry of `/api/v1/exchanges`.
 * @returns the level and its reason.
 * @example
 * ```ts
 * exchangeHealth({ state: "running", connection: "connected", lastMessageAgeMs: 9000, books: {} }); // {level: "amber", reason: "stale 9s"}
 * ```
 */
export function exchangeHealth(s: ExchangeHealthInput): ExchangeHealth {
  if (
    s.connection === "disconnected" ||
    !(s.state === "running" || s.state === "degraded")
  ) {
    return { level: "red", reason: `${s.connection} (${s.state})` };
  }
  if (s.connection !== "connected") {
    return { level: "amber", reason: "connecting" };
  }
  if (s.lastMessageAgeMs === null) {
    return { level: "amber", reason: "no message yet" };
  }
  if (s.lastMessageAgeMs > STALE_MS) {
    return {
      level: "amber",
      reason: `stale ${Math.round(s.lastMessageAgeMs / 1000)}s`,
    };
  }
  const unsynced = Object.entries(s.books)
    .filter(([, b]) => b.state !== "synced")
    .map(([symbol]) => symbol);
  if (unsynced.length > 0) {
    return { level: "amber", reason: `resyncing ${unsynced.join(", ")}` };
  }
  return { level: "green", reason: "live" };
}

/**
 * Decimals a price is written with (float noise ignored: at most 10).
 * @param price a price, or null.
 * @returns its decimals; 0 for null or a whole number.
 * @example
 * ```ts
 * decimalsOf(3000.05); // 2
 * decimalsOf(0.1 + 0.2); // 1
 * ```
 */
export function decimalsOf(price: number | null | undefined): number {
  if (price == null || !Number.isFinite(price)) return 0;
  const text = String(+price.toPrecision(12));
  const e = text.indexOf("e-");
  if (e >= 0) {
    const mantissa = text.slice(0, e).split(".")[1]?.length ?? 0;
    return Math.min(10, mantissa + Number(text.slice(e + 2)));
  }
  const dot = text.indexOf(".");
  return dot < 0 ? 0 : Math.min(10, text.length - dot - 1);
}

/** Best bid, best ask and spread as the status bar shows them. */
export interface BboText {
  /** Best bid, or `–`. */
  bid: string;
  /** Best ask, or `–`. */
  ask: string;
  /** Ask minus bid, or `–`. */
  spread: string;
}

/**
 * Formats the BBO and its spread at the book's precision (not the heatmap's
 * bucket), so a 0.05 spread reads 0.05.
 * @param bid best bid, or null.
 * @param ask best ask, or null.
 * @param decimals the book's decimals (the most seen in its prices).
 * @returns the three texts.
 * @example
 * ```ts
 * formatBbo(3000.1, 3000.15, 2); // {bid: "3000.10", ask: "3000.15", spread: "0.05"}
 * ```
 */
export function formatBbo(
  bid: number | null,
  ask: number | null,
  decimals: number,
): BboText {
  const px = (v: number | null) => v == null ? "–" : v.toFixed(decimals);
  return {
    bid: px(bid),
    ask: px(ask),
    spread: bid != null && ask != null ? (ask - bid).toFixed(decimals) : "–",
  };
}

/**
 * Delay before reconnect attempt `attempt` of a dropped stream: 1 s, doubling,
 * at most 30 s.
 * @param attempt attempts already failed in a row, from 0.
 * @returns ms.
 * @example
 * ```ts
 * retryDelayMs(0); // 1000
 * retryDelayMs(10); // 30000
 * ```
 */
export function retryDelayMs(attempt: number): number {
  return Math.min(30_000, 1_000 * 2 ** Math.max(0, attempt));
}

/**
 * The countdown to the next reconnect.
 * @param at when the next attempt runs, ms since epoch.
 * @param now the current time, ms since epoch.
 * @returns e.g. `reconnecting in 4 s`; `reconnecting…` once due.
 * @example
 * ```ts
 * reconnectText(5_000, 1_200); // "reconnecting in 4 s"
 * ```
 */
export function reconnectText(at: number, now: number): string {
  const s = Math.ceil((at - now) / 1000);
  return s > 0 ? `reconnecting in ${s} s` : "reconnecting…";
}
