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
