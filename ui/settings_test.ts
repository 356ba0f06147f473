import assert from "node:assert/strict";
import {
  DEFAULT_SETTINGS,
  filterSymbols,
  pickSymbol,
  readSettings,
  readTarget,
  saveSettings,
  SETTINGS_STORAGE,
  type ViewSettings,
  viewUrl,
} from "./settings.ts";

/** An in-memory `localStorage`. */
function memory(): Storage {
  const m = new Map<string, string>();
  return {
    getItem: (k: string) => m.get(k) ?? null,
    setItem: (k: string, v: string) => void m.set(k, v),
  } as Storage;
}

const CUSTOM: ViewSettings = {
  scale: "linear",
  zoom: Infinity,
  clip: 0.95,
  palettes: "separate",
  bucketMultiple: 5,
  trades: false,
  minTradeSize: 0.25,
  timeframe: "15m",
};

Deno.test("settings: a first visit gets the defaults", () => {
  assert.deepEqual(
    readSettings(new URL("http://h/"), memory()),
    DEFAULT_SETTINGS,
  );
});

Deno.test("settings: what is saved comes back, Infinity included", () => {
  const store = memory();
  saveSettings(store, CUSTOM);
  assert.deepEqual(readSettings(new URL("http://h/"), store), CUSTOM);
});

Deno.test("settings: a URL written for a view reproduces it anywhere", () => {
  const url = viewUrl(
    new URL("http://h/?session=r1&key=secret"),
    { symbol: "ETH-USD", exchanges: ["okx", "kraken"] },
    CUSTOM,
  );
  assert.equal(url.searchParams.get("key"), null);
  assert.equal(url.searchParams.get("session"), "r1");
  // Another browser, with other settings remembered: the URL wins.
  const other = memory();
  saveSettings(other, { ...DEFAULT_SETTINGS, scale: "log", clip: 0.5 });
  assert.deepEqual(readSettings(url, other), CUSTOM);
  assert.deepEqual(readTarget(url), {
    symbol: "ETH-USD",
    exchanges: ["okx", "kraken"],
  });
});

Deno.test("settings: the URL wins key by key, bad values fall back", () => {
  const store = memory();
  saveSettings(store, CUSTOM);
  const s = readSettings(
    new URL("http://h/?scale=log&clip=0.2&bucket=1.5&tf=2h&zoom=0.02"),
    store,
  );
  assert.equal(s.scale, "log");
  assert.equal(s.zoom, 0.02);
  // Out of range: the stored values stand.
  assert.equal(s.clip, CUSTOM.clip);
  assert.equal(s.bucketMultiple, CUSTOM.bucketMultiple);
  assert.equal(s.timeframe, CUSTOM.timeframe);
});

Deno.test("settings: a corrupt stored entry is ignored", () => {
  const store = memory();
  store.setItem(SETTINGS_STORAGE, "{not json");
  assert.deepEqual(readSettings(new URL("http://h/"), store), DEFAULT_SETTINGS);
});

Deno.test("pickSymbol: BTC in dollars over the most exchanges, not the first name", () => {
  const symbols = [
    { symbol: "AAVE-USD", exchanges: ["a", "b", "c", "d"], columns: 600 },
    { symbol: "BTC-EUR", exchanges: ["a", "b", "c"], columns: 600 },
    { symbol: "BTC-USD", exchanges: ["a", "b"], columns: 10 },
    { symbol: "BTC-USDT", exchanges: ["a", "b", "c"], columns: 5 },
    { symbol: "ETH-USDT", exchanges: ["a", "b", "c", "d"], columns: 600 },
  ];
  assert.equal(pickSymbol(symbols, ""), "BTC-USDT");
  // Ties on exchanges go to the one with more columns.
  assert.equal(
    pickSymbol([
      { symbol: "BTC-USD", exchanges: ["a"], columns: 9 },
      { symbol: "BTC-USDT", exchanges: ["b"], columns: 3 },
    ], ""),
    "BTC-USD",
  );
  assert.equal(pickSymbol(symbols, "ETH-USDT"), "ETH-USDT");
  assert.equal(pickSymbol(symbols, "DOGE-USD"), "BTC-USDT");
  assert.equal(
    pickSymbol([
      { symbol: "ADA-USD", exchanges: ["a"], columns: 1 },
      { symbol: "SOL-USD", exchanges: ["a", "b"], columns: 1 },
    ], ""),
    "SOL-USD",
  );
  assert.equal(pickSymbol([], ""), null);
});

Deno.test("filterSymbols: every typed word, any case", () => {
  const all = ["BTC-USD", "BTC-USDT", "ETH-USD", "ETH-BTC"];
  assert.deepEqual(filterSymbols(all, "eth"), ["ETH-USD", "ETH-BTC"]);
  assert.deepEqual(filterSymbols(all, "btc usdt"), ["BTC-USDT"]);
  assert.deepEqual(filterSymbols(all, "  "), all);
  assert.deepEqual(filterSymbols(all, "xrp"), []);
});
