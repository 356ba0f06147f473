import assert from "node:assert/strict";
import { ADAPTERS } from "../adapters/mod.ts";
import { ConfigError, loadConfig, parseConfig } from "./config.ts";

Deno.test("config: defaults follow BTC and ETH against USDT/USD on every exchange", () => {
  const cfg = parseConfig({});
  assert.deepEqual(
    Object.keys(cfg.exchanges).sort(),
    [...ADAPTERS.keys()].sort(),
  );
  assert.ok(Object.keys(cfg.exchanges).length >= 14);
  assert.deepEqual(cfg.exchanges.kraken.symbols, [
    "BTC-USDT",
    "ETH-USDT",
    "BTC-USD",
    "ETH-USD",
  ]);
  assert.deepEqual(cfg.exchanges.hyperliquid.symbols, ["BTC-USDC", "ETH-USDC"]);
  assert.equal(cfg.tickMs, 1000);
  assert.deepEqual(cfg.buckets, { BTC: 10, ETH: 1 });
});

Deno.test("config: a bad value fails with an error naming the key", () => {
  assert.throws(
    () => parseConfig({ tickMs: -5 }),
    (e) => e instanceof ConfigError && /at tickMs:/.test(e.message),
  );
  assert.throws(
    () => parseConfig({ http: { port: "x" } }),
    /Invalid config at http\.port/,
  );
  assert.throws(() => parseConfig({ tickms: 5 }), /tickms/);
  assert.throws(
    () => parseConfig({ exchanges: { nowhere: { symbols: ["BTC-USD"] } } }),
    /Invalid config at exchanges\.nowhere: unknown exchange/,
  );
});

Deno.test("config: file then environment override the defaults", async () => {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(
      file,
      JSON.stringify({ tickMs: 500, quoteAliases: { USDT: "USD" } }),
    );
    const env: Record<string, string> = {
      COBY_CONFIG: file,
      PORT: "9000",
      COBY_EXCHANGES: "binance",
      COBY_SYMBOLS: "SOL-USDT",
    };
    const cfg = await loadConfig((k) => env[k]);
    assert.equal(cfg.tickMs, 500);
    assert.equal(cfg.http.port, 9000);
    assert.deepEqual(cfg.quoteAliases, { USDT: "USD" });
    assert.deepEqual(cfg.exchanges, { binance: { symbols: ["SOL-USDT"] } });
    await assert.rejects(
      loadConfig((k) => ({ PORT: "eighty" })[k]),
      /Invalid PORT: "eighty"/,
    );
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("config: a COBY_SYMBOLS entry that is no selector is followed but warned about, naming it", async () => {
  const warnings: string[] = [];
  const cfg = await loadConfig(
    (k) =>
      ({ COBY_EXCHANGES: "binance,kraken", COBY_SYMBOLS: "NOPE,BTC-USDT" })[k],
    { warn: (m) => warnings.push(m) },
  );
  assert.deepEqual(cfg.exchanges.kraken.symbols, ["NOPE", "BTC-USDT"]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /^COBY_SYMBOLS "NOPE" is not a selector/);
  assert.match(warnings[0], /binance, kraken/);
  assert.doesNotMatch(warnings[0], /BTC-USDT/);
  // Selectors of every form pass without a word.
  warnings.length = 0;
  await loadConfig(
    (k) =>
      ({
        COBY_EXCHANGES: "bybit",
        COBY_SYMBOLS: "BTC-USDT,BTC-USD-PERP,BTC-USD-250627",
      })[k],
    { warn: (m) => warnings.push(m) },
  );
  assert.deepEqual(warnings, []);
  await assert.rejects(
    loadConfig((k) =>
      ({ COBY_EXCHANGES: "binance", COBY_SYMBOLS: "BTC-USDT," })[k]
    ),
    /Invalid COBY_SYMBOLS: "BTC-USDT," has an empty entry/,
  );
});

Deno.test("config: COBY_SYMBOLS alone applies to every exchange; the file's endpoints survive COBY_EXCHANGES", async () => {
  const warnings: string[] = [];
  const alone = await loadConfig(
    (k) => ({ COBY_SYMBOLS: "SOL-USDT" })[k],
    { warn: (m) => warnings.push(m) },
  );
  assert.deepEqual(
    Object.keys(alone.exchanges).sort(),
    [...ADAPTERS.keys()].sort(),
  );
  for (const ex of Object.values(alone.exchanges)) {
    assert.deepEqual(ex.symbols, ["SOL-USDT"]);
  }
  assert.deepEqual(warnings, []);
  const file = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        exchanges: {
          kraken: { symbols: ["XBT/USD"], wsOrigin: "ws://127.0.0.1:9" },
        },
      }),
    );
    const cfg = await loadConfig(
      (k) => ({ COBY_CONFIG: file, COBY_EXCHANGES: "kraken,hyperliquid" })[k],
    );
    assert.deepEqual(cfg.exchanges, {
      kraken: { symbols: ["XBT/USD"], wsOrigin: "ws://127.0.0.1:9" },
      hyperliquid: { symbols: ["BTC-USDC", "ETH-USDC"] },
    });
    await Deno.writeTextFile(file, "[1]");
    await assert.rejects(
      loadConfig((k) => ({ COBY_CONFIG: file })[k]),
      /Invalid COBY_CONFIG .*: not a JSON object/,
    );
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("config: outlierThreshold defaults to 2 % of the consensus mid and must be a fraction", () => {
  assert.equal(parseConfig({}).outlierThreshold, 0.02);
  assert.equal(parseConfig({ outlierThreshold: 0.1 }).outlierThreshold, 0.1);
  for (const bad of [0, -0.01, 1.5, "0.02"]) {
    assert.throws(
      () => parseConfig({ outlierThreshold: bad }),
      (e) => e instanceof ConfigError && /at outlierThreshold:/.test(e.message),
      String(bad),
    );
  }
});

Deno.test("config: the store defaults to PGlite in data/coby; DATABASE_URL and COBY_DATA_DIR set it", async () => {
  const cfg = parseConfig({});
  assert.deepEqual(cfg.store, {
    enabled: true,
    dataDir: "data/coby",
    retentionMs: 30 * 86_400_000,
  });
  const env: Record<string, string> = {
    DATABASE_URL: "postgres://coby:secret@db:5432/coby",
    COBY_DATA_DIR: "/var/lib/coby",
  };
  const fromEnv = await loadConfig((k) => env[k]);
  assert.equal(fromEnv.store.url, "postgres://coby:secret@db:5432/coby");
  assert.equal(fromEnv.store.dataDir, "/var/lib/coby");
  // An empty variable counts as unset.
  const empty = await loadConfig((k) => ({ DATABASE_URL: "" })[k]);
  assert.equal(empty.store.url, undefined);
  assert.equal(parseConfig({ store: { enabled: false } }).store.enabled, false);
});

Deno.test("config: a store URL that is not postgres:// fails without echoing it", () => {
  assert.throws(
    () => parseConfig({ store: { url: "mysql://root:hunter2@db/coby" } }),
    (e) =>
      e instanceof ConfigError &&
      /at store\.url: must be a postgres/.test(e.message) &&
      !e.message.includes("hunter2"),
  );
  assert.throws(() => parseConfig({ store: { retention: 5 } }), /store/);
});
