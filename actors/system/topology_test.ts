import assert from "node:assert/strict";
import { parseConfig } from "./config.ts";
import { isConnectionOf, topology } from "./topology.ts";

Deno.test("topology: symbols beyond a venue's per-connection limit get further connections", () => {
  const symbols = Array.from({ length: 20 }, (_, i) => `C${i}-USDT`);
  const cfg = parseConfig({
    exchanges: { mexc: { symbols }, binance: { symbols } },
  });
  const conns = topology(cfg).specs.filter((s) => s.id.startsWith("conn:"));
  assert.deepEqual(conns.map((s) => s.id), [
    "conn:mexc",
    "conn:mexc#2",
    "conn:binance",
  ]);
  const chunks = conns.map((s) => (s.config as { symbols: string[] }).symbols);
  assert.deepEqual(chunks[0], symbols.slice(0, 15));
  assert.deepEqual(chunks[1], symbols.slice(15));
  assert.deepEqual(chunks[2], symbols);
  assert.ok(
    isConnectionOf("conn:mexc#2", "mexc") &&
      !isConnectionOf("conn:mexc-futures", "mexc"),
  );
});

Deno.test("topology: a venue without a limit keeps one connection per group", () => {
  const cfg = parseConfig({
    exchanges: { kraken: { symbols: ["BTC-USD", "ETH-USD"] } },
  });
  const conns = topology(cfg).specs.filter((s) => s.id.startsWith("conn:"));
  assert.deepEqual(
    conns.map((s) => [s.id, (s.config as { symbols: string[] }).symbols]),
    [
      ["conn:kraken", ["BTC-USD", "ETH-USD"]],
    ],
  );
});

Deno.test("topology: the consolidator gets the configured outlier threshold", () => {
  const cfg = parseConfig({
    exchanges: { binance: { symbols: ["BTC-USDT"] } },
    outlierThreshold: 0.005,
  });
  const spec = topology(cfg).specs.find((s) => s.id === "consolidator")!;
  assert.deepEqual(spec.config, { outlierThreshold: 0.005 });
});
