/**
 * The viewer's settings and the symbol it opens on: every display setting
 * kept in `localStorage` and in the page's URL (so a view can be shared),
 * the URL winning over what was stored, and the most liquid symbol (BTC
 * consolidated across the most exchanges) when the URL names none. Pure
 * functions, tested without a browser.
 *
 * @module
 */

/** Candle timeframes the candle pane offers (a subset of `/api/v1/ohlcv`'s). */
export const TIMEFRAMES = ["1s", "1m", "5m", "15m", "1h"] as const;

/** A candle timeframe. */
export type Timeframe = (typeof TIMEFRAMES)[number];

/** Length of each timeframe, ms. */
export const TIMEFRAME_MS: Readonly<Record<Timeframe, number>> = {
  "1s": 1_000,
  "1m": 60_000,
  "5m": 300_000,
  "15m": 900_000,
  "1h": 3_600_000,
};

/** Bucket multiples offered (the heatmap merges this many buckets a cell). */
export const BUCKET_MULTIPLES: readonly number[] = [1, 2, 5, 10, 20, 50];

/** Clip percentiles offered: the palette saturates at this quantile of size. */
export const CLIPS: readonly number[] = [0.5, 0.9, 0.95, 0.98, 0.99, 0.995, 1];

/** Price axis half-widths offered, fraction of mid; `Infinity`: all. */
export const ZOOMS: readonly { label: string; value: number }[] = [
  { label: "±0.25%", value: 0.0025 },
  { label: "±0.5%", value: 0.005 },
  { label: "±1%", value: 0.01 },
  { label: "±2%", value: 0.02 },
  { label: "±5%", value: 0.05 },
  { label: "all", value: Infinity },
];

/** Everything the viewer lets a user set, besides symbol and exchanges. */
export interface ViewSettings {
  /** Colour scale of resting size. */
  scale: "log" | "linear";
  /** Price axis half-width around mid, fraction; `Infinity`: every bucket. */
  zoom: number;
  /** Palette saturation percentile, 0.5–1. */
  clip: number;
  /** One palette for bids and asks, or one each. */
  palettes: "combined" | "separate";
  /** Buckets merged per heatmap cell. */
  bucketMultiple: number;
  /** Whether trades are drawn. */
  trades: boolean;
  /** Smallest trade drawn, base units. */
  minTradeSize: number;
  /** The candle pane's timeframe. */
  timeframe: Timeframe;
}

/** The settings of a first visit. */
export const DEFAULT_SETTINGS: Readonly<ViewSettings> = {
  scale: "log",
  zoom: 0.01,
  clip: 0.99,
  palettes: "combined",
  bucketMultiple: 1,
  trades: true,
  minTradeSize: 0,
  timeframe: "1m",
};

/** `localStorage` key of the remembered settings (JSON). */
export const SETTINGS_STORAGE = "coby.settings";

/** URL parameter of each setting. */
const PARAM: Readonly<Record<keyof ViewSettings, string>> = {
  scale: "scale",
  zoom: "zoom",
  clip: "clip",
  palettes: "palettes",
  bucketMultiple: "bucket",
  trades: "trades",
  minTradeSize: "minTrade",
  timeframe: "tf",
};

/**
 * A setting's value from text (a URL parameter, or stored JSON's value made
 * text); undefined when the text is not a valid value, so a bad or stale
 * value falls back rather than breaking the page.
 */
function parseValue<K extends keyof ViewSettings>(
  key: K,
  text: string,
): ViewSettings[K] | undefined {
  const n = Number(text);
  let v: unknown;
  switch (key) {
    case "scale":
      v = text === "log" || text === "linear" ? text : undefined;
      break;
    case "palettes":
      v = text === "combined" || text === "separate" ? text : undefined;
      break;
    case "timeframe":
      v = (TIMEFRAMES as readonly string[]).includes(text) ? text : undefined;
      break;
    case "trades":
      v = text === "1" || text === "true"
        ? true
        : text === "0" || text === "false"
        ? false
        : undefined;
      break;
    case "zoom":
      v = text === "all" || text === "Infinity"
        ? Infinity
        : n > 0 && n <= 1
        ? n
        : undefined;
      break;
    case "clip":
      v = text !== "" && n >= 0.5 && n <= 1 ? n : undefined;
      break;
    case "bucketMultiple":
      v = Number.isInteger(n) && n >= 1 && n <= 1000 ? n : undefined;
      break;
    case "minTradeSize":
      v = text !== "" && Number.isFinite(n) && n >= 0 ? n : undefined;
      break;
  }
  return v as ViewSettings[K] | undefined;
}

/** A setting's value as URL text. */
function formatValue(key: keyof ViewSettings, value: unknown): string {
  if (key === "trades") return value ? "1" : "0";
  if (key === "zoom" && value === Infinity) return "all";
  return String(value);
}

/**
 * The settings a page opens with: defaults, overridden by what
 * `localStorage` remembers, overridden by the URL's parameters (a shared
 * link reproduces its view). Invalid values are ignored.
 * @param url the page's URL.
 * @param storage where settings are remembered (`localStorage`).
 * @returns the settings.
 * @example A shared link
 * ```ts
 * readSettings(new URL("http://h/?scale=linear&zoom=all"), localStorage).scale; // "linear"
 * ```
 */
export function readSettings(
  url: URL,
  storage: Pick<Storage, "getItem">,
): ViewSettings {
  const out: ViewSettings = { ...DEFAULT_SETTINGS };
  let stored: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(storage.getItem(SETTINGS_STORAGE) ?? "{}");
    if (parsed && typeof parsed === "object") stored = parsed;
  } catch {
    // A corrupt entry is forgotten: the defaults stand.
  }
  const set = out as unknown as Record<string, unknown>;
  for (const key of Object.keys(PARAM) as (keyof ViewSettings)[]) {
    const fromStore = key in stored
      ? parseValue(key, formatValue(key, stored[key]))
      : undefined;
    if (fromStore !== undefined) set[key] = fromStore;
    const text = url.searchParams.get(PARAM[key]);
    const fromUrl = text === null ? undefined : parseValue(key, text);
    if (fromUrl !== undefined) set[key] = fromUrl;
  }
  return out;
}

/**
 * Remembers settings in `localStorage`.
 * @param storage where to keep them.
 * @param settings the settings.
 * @example
 * ```ts
 * saveSettings(localStorage, { ...DEFAULT_SETTINGS, scale: "linear" });
 * ```
 */
export function saveSettings(
  storage: Pick<Storage, "setItem">,
  settings: ViewSettings,
): void {
  // JSON has no Infinity: keep the URL's spelling.
  storage.setItem(
    SETTINGS_STORAGE,
    JSON.stringify({
      ...settings,
      zoom: formatValue("zoom", settings.zoom),
    }),
  );
}

/** What the page's URL says besides the settings. */
export interface ViewTarget {
  /** Symbol shown; empty for none yet. */
  symbol: string;
  /** Exchanges selected for the consolidated view; null: every one. */
  exchanges: string[] | null;
}

/**
 * The URL of a view: symbol, selected exchanges and every setting (so the
 * link shows the same view wherever it is opened); other parameters
 * (`session`) are kept, `key` is dropped (it is remembered, not shared).
 * @param url the page's current URL.
 * @param view symbol and exchanges.
 * @param settings the settings.
 * @returns a new URL.
 * @example
 * ```ts
 * viewUrl(new URL(location.href), { symbol: "BTC-USD", exchanges: null }, settings);
 * ```
 */
export function viewUrl(
  url: URL,
  view: ViewTarget,
  settings: ViewSettings,
): URL {
  const out = new URL(url);
  out.searchParams.delete("key");
  if (view.symbol) out.searchParams.set("symbol", view.symbol);
  if (view.exchanges) {
    out.searchParams.set("exchanges", view.exchanges.join(","));
  } else out.searchParams.delete("exchanges");
  for (const key of Object.keys(PARAM) as (keyof ViewSettings)[]) {
    out.searchParams.set(PARAM[key], formatValue(key, settings[key]));
  }
  return out;
}

/**
 * The symbol and exchange selection a URL names.
 * @param url the page's URL.
 * @returns symbol (empty when none) and exchanges (null when not limited).
 * @example
 * ```ts
 * readTarget(new URL("http://h/?symbol=BTC-USD&exchanges=okx,kraken")); // {symbol: "BTC-USD", exchanges: ["okx", "kraken"]}
 * ```
 */
export function readTarget(url: URL): ViewTarget {
  const list = url.searchParams.get("exchanges");
  return {
    symbol: url.searchParams.get("symbol") ?? "",
    exchanges: list ? list.split(",").filter((e) => e !== "") : null,
  };
}

/** A symbol as `/api/v1/symbols` lists it. */
export interface SymbolLiquidity {
  /** Consolidation key, e.g. `BTC-USDT`. */
  symbol: string;
  /** Exchanges with columns for it. */
  exchanges: readonly string[];
  /** Columns kept. */
  columns: number;
}

/** Quotes a user expects BTC to be shown against first. */
const DOLLARS = new Set(["USD", "USDT"]);

/**
 * The symbol a page opens on: the one it asks for when it is listed, else
 * the most liquid: BTC (or XBT) first, quoted in USD or USDT first, then
 * the most exchanges consolidated, then the most columns, never merely the
 * alphabetically first.
 * @param symbols what `/api/v1/symbols` lists.
 * @param wanted the symbol asked for (the URL's), or empty.
 * @returns the symbol, or null when none is listed.
 * @example
 * ```ts
 * pickSymbol([{symbol: "AAVE-USD", exchanges: ["a"], columns: 9}, {symbol: "BTC-USDT", exchanges: ["a"], columns: 1}], ""); // "BTC-USDT"
 * ```
 */
export function pickSymbol(
  symbols: readonly SymbolLiquidity[],
  wanted: string,
): string | null {
  if (wanted && symbols.some((s) => s.symbol === wanted)) return wanted;
  let best: SymbolLiquidity | null = null;
  let bestRank: number[] = [];
  for (const s of symbols) {
    const [base, quote] = s.symbol.toUpperCase().split("-");
    const rank = [
      base === "BTC" || base === "XBT" ? 1 : 0,
      DOLLARS.has(quote) ? 1 : 0,
      s.exchanges.length,
      s.columns,
    ];
    if (best === null || compareRanks(rank, bestRank) > 0) {
      best = s;
      bestRank = rank;
    }
  }
  return best?.symbol ?? null;
}

/** Lexicographic comparison of two equally long rank vectors. */
function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return 0;
}

/**
 * Symbols matching what a user typed: every whitespace-separated word must
 * occur in the symbol, case-insensitive (`btc usd` finds `BTC-USDT`).
 * @param symbols the symbols.
 * @param query what was typed.
 * @returns the matching symbols, in their order.
 * @example
 * ```ts
 * filterSymbols(["BTC-USD", "ETH-USD"], "eth"); // ["ETH-USD"]
 * ```
 */
export function filterSymbols(
  symbols: readonly string[],
  query: string,
): string[] {
  const words = query.toUpperCase().split(/\s+/).filter((w) => w !== "");
  return symbols.filter((s) => {
    const u = s.toUpperCase();
    return words.every((w) => u.includes(w));
  });
}
