/**
 * The heatmap's crosshair tooltip: the time and price bucket under the
 * cursor, the consolidated resting size, the trades and the liquidations in
 * that cell, and the resting size of each exchange there.
 *
 * The consolidated stream does not carry per-exchange sizes, so the tooltip
 * asks `GET /api/v1/heatmap/column?symbol=&ts=[&session=]` for the
 * exchanges' own columns of the hovered tick, once the cursor has rested
 * {@linkcode TooltipOptions.debounceMs}, and caches the answer by `ts`
 * (a tick's columns never change).
 *
 * @module
 */

import type { ColumnPayload } from "../actors/system/hub.ts";
import type { ColumnSource, HeatColumn } from "./columns.ts";
import { columnAt } from "./overlays.ts";
import { formatDate, formatTime } from "./time.ts";

/** The cell under the cursor: a column and a run of its buckets. */
export interface Cell {
  /** Position of the column in its source. */
  column: number;
  /** The column's time, ms since epoch. */
  ts: number;
  /** Lowest price of the cell (inclusive), quote currency. */
  priceLow: number;
  /** Highest price of the cell (exclusive), quote currency. */
  priceHigh: number;
  /** Resting bid size in the cell, base currency. */
  bid: number;
  /** Resting ask size in the cell, base currency. */
  ask: number;
  /** Taker buy volume in the cell during the tick, base currency. */
  buy: number;
  /** Taker sell volume in the cell during the tick, base currency. */
  sell: number;
  /** Longs liquidated (forced sells) in the cell during the tick, base currency. */
  longs: number;
  /** Shorts liquidated (forced buys) in the cell during the tick, base currency. */
  shorts: number;
}

/** One exchange's resting size in a cell. */
export interface ExchangeSize {
  /** Exchange id. */
  exchange: string;
  /** Resting bid size, base currency. */
  bid: number;
  /** Resting ask size, base currency. */
  ask: number;
}

/**
 * Sums a column's sizes over the buckets inside a price range.
 * @param col the column.
 * @param priceLow lowest price, inclusive.
 * @param priceHigh highest price, exclusive.
 * @returns bid, ask, buy and sell sums.
 * @example The sizes of one bucket
 * ```ts
 * bucketSums(col, 60000, 60010); // {bid: 1.5, ask: 0, buy: 0.5, sell: 0}
 * ```
 */
export function bucketSums(
  col: Pick<
    HeatColumn,
    "lo" | "bucketSize" | "bids" | "asks" | "buys" | "sells"
  >,
  priceLow: number,
  priceHigh: number,
): { bid: number; ask: number; buy: number; sell: number } {
  const bs = col.bucketSize;
  // A bucket belongs to the range when its middle does (bucket grids of
  // different columns of a symbol coincide, so this is exact).
  let i0 = Math.ceil(priceLow / bs - 0.5) - col.lo;
  let i1 = Math.ceil(priceHigh / bs - 0.5) - col.lo;
  if (i0 < 0) i0 = 0;
  if (i1 > col.bids.length) i1 = col.bids.length;
  let bid = 0, ask = 0, buy = 0, sell = 0;
  for (let i = i0; i < i1; i++) {
    bid += col.bids[i];
    ask += col.asks[i];
    buy += col.buys[i] ?? 0;
    sell += col.sells[i] ?? 0;
  }
  return { bid, ask, buy, sell };
}

/**
 * The cell under a time and price: the column starting at or before the
 * time and the group of `multiple` buckets holding the price (groups start
 * at bucket indexes that are multiples of `multiple`, as the heatmap draws
 * them).
 * @param src the columns, oldest first.
 * @param t seconds since epoch.
 * @param price quote currency.
 * @param multiple buckets per drawn cell.
 * @returns the cell, or null before the first column or after the newest
 *   column's tick (`tickMs` past its start) or across a gap.
 * @example The cell under the cursor
 * ```ts
 * cellAt(ring, u.posToVal(left, "x"), u.posToVal(top, "y"), 1, 1000);
 * ```
 */
export function cellAt(
  src: ColumnSource,
  t: number,
  price: number,
  multiple: number,
  tickMs: number,
): Cell | null {
  const c = columnAt(src, t);
  if (c < 0 || !Number.isFinite(price)) return null;
  const col = src.at(c);
  let end = c + 1 < src.length ? src.at(c + 1).ts : col.ts + tickMs;
  if (end - col.ts > 2 * tickMs) end = col.ts + tickMs;
  if (t * 1000 >= end) return null;
  const m = multiple >= 1 ? Math.floor(multiple) : 1;
  const bs = col.bucketSize;
  const k = Math.floor(Math.floor(price / bs) / m) * m;
  const priceLow = k * bs, priceHigh = (k + m) * bs;
  let longs = 0, shorts = 0;
  for (const l of col.liquidations ?? []) {
    if (l.bucket >= k && l.bucket < k + m) {
      longs += l.longs;
      shorts += l.shorts;
    }
  }
  return {
    column: c,
    ts: col.ts,
    priceLow,
    priceHigh,
    ...bucketSums(col, priceLow, priceHigh),
    longs,
    shorts,
  };
}

/**
 * Each exchange's resting size in a price range, from the exchanges' own
 * columns of a tick (`GET /api/v1/heatmap/column`).
 * @param columns one column per exchange.
 * @param priceLow lowest price, inclusive.
 * @param priceHigh highest price, exclusive.
 * @returns one entry per exchange, in the columns' order.
 * @example Sizes per exchange
 * ```ts
 * exchangeSizes(answer.columns, 60000, 60010); // [{exchange: "binance", bid: 1.5, ask: 0}, …]
 * ```
 */
export function exchangeSizes(
  columns: readonly ColumnPayload[],
  priceLow: number,
  priceHigh: number,
): ExchangeSize[] {
  return columns.map((c) => {
    const { bid, ask } = bucketSums(c, priceLow, priceHigh);
    return { exchange: c.exchanges[0], bid, ask };
  });
}

/**
 * Prints a size compactly at up to 4 significant digits.
 * @param v base currency.
 * @returns the text; `0` for none.
 * @example
 * ```ts
 * formatSize(1.23456); // "1.235"
 * ```
 */
export function formatSize(v: number): string {
  if (v === 0) return "0";
  return v >= 1e4 ? v.toFixed(0) : String(+v.toPrecision(4));
}

/** Options for {@linkcode createTooltip}. */
export interface TooltipOptions {
  /** The columns the chart draws. */
  columns: () => ColumnSource;
  /** Digits after the point of prices. */
  decimals: () => number;
  /** Buckets per drawn cell. */
  bucketMultiple: () => number;
  /** Tick width, ms. */
  tickMs: number;
  /** Label times in UTC with the date (a replay). */
  utc: boolean;
  /** The replay session whose hub answers; null for live data. */
  session: string | null;
  /**
   * Whether the server's hub may still keep a tick (columns loaded from the
   * history store are older than what it keeps: they are not asked for).
   */
  kept: (ts: number) => boolean;
  /**
   * Rest of the cursor before the exchanges' sizes are fetched, ms.
   * @default {150}
   */
  debounceMs?: number;
}

/** A tooltip inside a chart's plot area. */
export interface Tooltip {
  /**
   * Shows the cell under a cursor position, or hides the tooltip.
   * @param at the cursor's time (s) and price and its CSS position in the
   *   plot, or null when the cursor left the plot.
   */
  show(
    at: { t: number; price: number; left: number; top: number } | null,
  ): void;
  /** Stops pending fetches and removes the element. */
  destroy(): void;
}

/** The answer of `GET /api/v1/heatmap/column`. */
interface ColumnAnswer {
  ts: number;
  columns: ColumnPayload[];
}

/**
 * Creates the tooltip element in a chart's plot overlay (`u.over`). The
 * element is `data-testid="tooltip"` with `data-ts`, `data-price-low` and
 * `data-price-high`; each exchange row is `data-exchange` with `data-bid`
 * and `data-ask` (for tests).
 * @param over the element it is placed in.
 * @param options where the columns come from and how to label them.
 * @returns the tooltip.
 * @example Follow the cursor
 * ```ts
 * const tip = createTooltip(u.over, { columns: () => ring, decimals: () => 2, bucketMultiple: () => 1, tickMs: 1000, utc: false, session: null, kept: () => true });
 * tip.show({ t, price, left, top });
 * ```
 */
export function createTooltip(
  over: HTMLElement,
  options: TooltipOptions,
): Tooltip {
  const debounceMs = options.debounceMs ?? 150;
  const el = document.createElement("div");
  el.className = "coby-tooltip";
  el.setAttribute("data-testid", "tooltip");
  Object.assign(el.style, {
    position: "absolute",
    pointerEvents: "none",
    display: "none",
    background: "rgba(12,16,24,0.92)",
    color: "#e6e9ef",
    font: "11px/1.35 ui-monospace, monospace",
    padding: "6px 8px",
    border: "1px solid rgba(255,255,255,0.18)",
    borderRadius: "4px",
    whiteSpace: "pre",
    zIndex: "10",
  });
  over.appendChild(el);
  const cache = new Map<number, ColumnAnswer | null>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let ac: AbortController | null = null;
  let current: Cell | null = null;
  let symbol = "";

  function line(text: string, cls?: string): HTMLDivElement {
    const d = document.createElement("div");
    d.textContent = text;
    if (cls) d.className = cls;
    return d;
  }

  function render(): void {
    const cell = current;
    if (!cell) return;
    const d = options.decimals();
    const time = formatTime(cell.ts, { utc: options.utc, seconds: true });
    el.replaceChildren(
      line(
        options.utc ? `${formatDate(cell.ts, true)} ${time} UTC` : time,
      ),
      line(
        `price ${cell.priceLow.toFixed(d)} – ${cell.priceHigh.toFixed(d)}`,
      ),
      line(`resting bid ${formatSize(cell.bid)}  ask ${formatSize(cell.ask)}`),
      line(
        `trades buy ${formatSize(cell.buy)}  sell ${formatSize(cell.sell)}`,
      ),
    );
    if (cell.longs > 0 || cell.shorts > 0) {
      el.appendChild(
        line(
          `liquidated longs ${formatSize(cell.longs)}  shorts ${
            formatSize(cell.shorts)
          }`,
          "liquidations",
        ),
      );
    }
    el.dataset.ts = String(cell.ts);
    el.dataset.priceLow = String(cell.priceLow);
    el.dataset.priceHigh = String(cell.priceHigh);
    const answer = cache.get(cell.ts);
    if (answer === undefined) {
      el.appendChild(line("exchanges …", "pending"));
      return;
    }
    if (answer === null) {
      el.appendChild(line("exchanges: no longer kept", "missing"));
      return;
    }
    for (
      const s of exchangeSizes(answer.columns, cell.priceLow, cell.priceHigh)
    ) {
      const row = line(
        `${s.exchange.padEnd(16)} bid ${formatSize(s.bid)}  ask ${
          formatSize(s.ask)
        }`,
        "exchange",
      );
      row.dataset.exchange = s.exchange;
      row.dataset.bid = String(s.bid);
      row.dataset.ask = String(s.ask);
      el.appendChild(row);
    }
  }

  async function load(ts: number): Promise<void> {
    ac?.abort();
    const mine = ac = new AbortController();
    const params = new URLSearchParams({ symbol, ts: String(ts) });
    if (options.session) params.set("session", options.session);
    try {
      const res = await fetch(`/api/v1/heatmap/column?${params}`, {
        signal: mine.signal,
      });
      // 404: the hub keeps this tick no more.
      cache.set(ts, res.ok ? await res.json() as ColumnAnswer : null);
    } catch {
      // Aborted for a newer cell, or offline: asked again on the next hover.
      return;
    }
    if (current?.ts === ts) render();
  }

  return {
    show(at) {
      const src = options.columns();
      const cell = at
        ? cellAt(src, at.t, at.price, options.bucketMultiple(), options.tickMs)
        : null;
      if (!at || !cell) {
        current = null;
        el.style.display = "none";
        clearTimeout(timer);
        return;
      }
      current = cell;
      symbol = src.at(cell.column).symbol;
      render();
      el.style.display = "block";
      // Beside the cursor, flipped to stay inside the plot.
      const w = el.offsetWidth, h = el.offsetHeight;
      const left = at.left + 14 + w > over.clientWidth
        ? at.left - 14 - w
        : at.left + 14;
      const top = at.top + 14 + h > over.clientHeight
        ? Math.max(0, at.top - 14 - h)
        : at.top + 14;
      el.style.transform = `translate(${left}px, ${top}px)`;
      el.style.left = "0";
      el.style.top = "0";
      clearTimeout(timer);
      if (!cache.has(cell.ts) && !options.kept(cell.ts)) {
        cache.set(cell.ts, null);
        render();
      } else if (!cache.has(cell.ts)) {
        timer = setTimeout(() => load(cell.ts), debounceMs);
      }
    },
    destroy() {
      clearTimeout(timer);
      ac?.abort();
      el.remove();
    },
  };
}
