import assert from "node:assert/strict";
import { parseConfig } from "./config.ts";
import { isConnectionOf, topology, WRITER_ID } from "./topology.ts";

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

Deno.test("topology: the writer starts first and takes every connection's store link and the consolidator's columns", () => {
  const cfg = parseConfig({
    exchanges: {
      binance: { symbols: ["BTC-USDT"] },
      kraken: { symbols: ["BTC-USD"] },
    },
    quoteAliases: { USDT: "USD" },
    store: { url: "postgres://db/coby", retentionMs: 86_400_000 },
  });
  const { specs, links } = topology(cfg);
  assert.equal(specs[0].id, WRITER_ID);
  assert.equal(
    new URL(specs[0].module).pathname.endsWith("/actors/writer.ts"),
    true,
  );
  assert.deepEqual(specs[0].config, {
    url: "postgres://db/coby",
    dataDir: "data/coby",
    retentionMs: 86_400_000,
    flushMs: undefined,
    batchRows: undefined,
    queueRows: undefined,
    quoteAliases: { USDT: "USD" },
    // In-process fan-out (no REDIS_URL); columns kept: 6 × history.
    bus: {
      url: undefined,
      prefix: "coby:",
      eventsMaxLen: 100_000,
      columnsMaxLen: 3600,
    },
  });
  assert.ok((specs[0].shutdownMs ?? 0) > 10_000);
  assert.deepEqual(
    links.filter((l) => l.to === WRITER_ID).map((l) => [l.name, l.from]),
    [
      ["columns", "consolidator"],
      // The replay actor reads the store through the writer (not an input).
      ["history", "replay"],
      ["store", "conn:binance"],
      ["store", "conn:kraken"],
    ],
  );
});

Deno.test("topology: store.enabled false runs no writer", () => {
  const cfg = parseConfig({
    exchanges: { binance: { symbols: ["BTC-USDT"] } },
    store: { enabled: false },
  });
  const { specs, links } = topology(cfg);
  assert.ok(!specs.some((s) => s.id === WRITER_ID));
  assert.ok(!links.some((l) => l.to === WRITER_ID));
});
