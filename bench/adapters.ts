/**
 * Per-adapter ingest throughput on the shared cryptofeed captures: every
 * received frame of a capture, looped, goes through the venue adapter's
 * parser and into L2 books (parse → book). One core, one adapter at a time.
 * Run by `deno task bench` after the synthetic Binance figure.
 *
 * @module
 */

import { ADAPTERS } from "../actors/adapters/mod.ts";
import { resolveSymbols } from "../actors/market/symbols.ts";
import { OrderBook } from "../actors/market/book.ts";
import { type Capture, readCaptures } from "../actors/capture/capture.ts";
import { captureAdapter, captureSymbols } from "../actors/capture/plan.ts";

const DIR = new URL("../../shared/data/captures/cryptofeed/", import.meta.url);
const MIN_SECONDS = 1;

/** Path and query of a URL, the key the simulator also answers by. */
function key(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

/**
 * Measures one capture.
 * @param cap the capture.
 * @returns frames per second, frames per pass and events per pass.
 */
function measure(
  cap: Capture,
): { fps: number; frames: number; events: number; errors: number } {
  const ad = captureAdapter(cap);
  const bodies = new Map<string, string>();
  const frames: (string | Uint8Array)[] = [];
  for (const r of cap.records) {
    if (r.kind === "http") bodies.set(key(r.url), r.body);
    else if (r.kind === "recv") frames.push(r.binary ?? r.text!);
  }
  const meta = ad.metadataUrls.map((u) => {
    const b = bodies.get(key(u));
    if (b === undefined) {
      throw new Error(`Capture of ${cap.exchange} lacks ${u}`);
    }
    return b;
  });
  const { found } = resolveSymbols(captureSymbols(cap), ad.instruments(meta));
  const table = new Map(found.map((i) => [i.exchangeSymbol, i]));
  const keepRaw = ad.book.checksum !== undefined;
  let passes = 0;
  let events = 0;
  let errors = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < MIN_SECONDS * 1000) {
    // A fresh parser and books per pass: parsers keep per-connection state.
    const parser = ad.parser(table);
    const books = new Map<string, OrderBook>();
    for (let i = 0; i < frames.length; i++) {
      let evs;
      try {
        evs = parser.parse(frames[i], 0);
      } catch {
        errors++;
        continue;
      }
      for (let j = 0; j < evs.length; j++) {
        const e = evs[j];
        if (e.type !== "book_snapshot" && e.type !== "book_delta") continue;
        let b = books.get(e.exchangeSymbol);
        if (!b) books.set(e.exchangeSymbol, b = new OrderBook(keepRaw));
        if (e.type === "book_snapshot") b.clear();
        b.apply(e.bids, e.asks, e.raw);
      }
      events += evs.length;
    }
    if (parser.outbox) parser.outbox.length = 0;
    passes++;
  }
  const secs = (performance.now() - t0) / 1000;
  return {
    fps: (passes * frames.length) / secs,
    frames: frames.length,
    events: events / passes,
    errors: errors / passes,
  };
}

if (import.meta.main) {
  const groups = new Map<string, string[]>();
  for await (const e of Deno.readDir(DIR)) {
    if (!e.isFile || !/\.(0|ws\.\d+\.0|http\.0\.0)$/.test(e.name)) continue;
    const prefix = e.name.split(".")[0];
    groups.set(prefix, [
      ...(groups.get(prefix) ?? []),
      new URL(e.name, DIR).pathname,
    ]);
  }
  console.log(
    "deno task bench  (deno run -A bench/adapters.ts: per adapter, parse → book on each capture, looped ≥1 s, one core)",
  );
  for (const prefix of [...groups.keys()].sort()) {
    const [cap] = await readCaptures(groups.get(prefix)!);
    if (!ADAPTERS.has(cap.exchange)) {
      console.log(`${prefix.padEnd(16)} no adapter for ${cap.exchange}`);
      continue;
    }
    const r = measure(cap);
    console.log(
      `${prefix.padEnd(16)} ${cap.exchange.padEnd(16)} ${
        Math.round(r.fps).toLocaleString("en").padStart(9)
      } frames/s  (${r.frames} frames, ${Math.round(r.events)} events${
        r.errors ? `, ${r.errors} unreadable` : ""
      } per pass)`,
    );
  }
}
