/**
 * A replay session over a range of the store gives the same heatmap columns
 * as the capture replay that filled the store: the import (what
 * `deno task replay` on files does) stores the events, then a `store`
 * session reads them back through the writer's `history` link.
 */

import assert from "node:assert/strict";
import { parseConfig } from "../actors/system/config.ts";
import { type Coby, startCoby } from "../actors/system/start.ts";
import { WRITER_ID } from "../actors/system/topology.ts";
import { captureFiles, sessionEnded as ended } from "./_replay.ts";

/** Every column of a session, per symbol and exchange, as `ts → JSON`. */
function columns(coby: Coby, id: string): Map<string, string[]> {
  const hub = coby.replay.hub(id)!;
  const out = new Map<string, string[]>();
  const dec = new TextDecoder();
  for (const { symbol } of hub.symbols()) {
    const feed = hub.follow(symbol, null);
    const lines: string[] = [];
    for (;;) {
      const { events } = feed.take({ maxColumns: 1000, budgetMs: 1000 });
      if (!events.length) break;
      for (const e of events) {
        for (const m of dec.decode(e).matchAll(/^data: (.*)$/gm)) {
          lines.push(m[1]);
        }
      }
    }
    feed.close();
    out.set(symbol, lines);
  }
  return out;
}

Deno.test("replay session from the store: the same columns as the capture replay that filled it", async () => {
  const dir = await Deno.makeTempDir();
  const coby = await startCoby(parseConfig({ exchanges: {} }), {
    store: { enabled: true, dataDir: dir },
    importReplay: true,
    supervisor: { onLog: () => {} },
  });
  try {
    // The import: a capture session whose events also go to the store.
    const files = [...captureFiles("KRAKEN"), ...captureFiles("BINANCE")];
    const imp = await coby.replay.create({
      source: "files",
      files,
      speed: "max",
      store: true,
    }, null);
    const end = await ended(coby, imp.id);
    const want = columns(coby, imp.id);
    await coby.request(WRITER_ID, "flush", {});
    const symbols = Object.entries(
      (await coby.replay.books(imp.id, 1)).books,
    ).flatMap(([, books]) => Object.keys(books));
    const fromStore = await coby.replay.create({
      source: "store",
      exchanges: end.exchanges,
      symbols,
      from: end.from,
      to: end.to,
      speed: "max",
    }, null);
    await ended(coby, fromStore.id);
    const got = columns(coby, fromStore.id);
    assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
    let n = 0;
    for (const [symbol, lines] of want) {
      n += lines.length;
      assert.deepEqual(got.get(symbol), lines, symbol);
    }
    assert.ok(n >= 200, `${n} columns compared`);
  } finally {
    await coby.supervisor.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
