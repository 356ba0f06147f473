/**
 * Connection-level behaviour seen from outside: with several connections
 * per exchange (Bybit linear and inverse), a restart of one makes the
 * aggregator forget only the book columns it sampled; a venue's error and its heartbeats show in
 * `/api/v1/exchanges`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createApp } from "../http/app.ts";
import { connectionId } from "../actors/system/topology.ts";
import { Replay } from "../actors/system/capture_replay.ts";
import { captureFiles } from "./_replay.ts";

/** Exchange symbols with a column in the aggregator's sample of now. */
async function columnSymbols(replay: Replay): Promise<string[]> {
  const cols = await replay.coby.supervisor.request(
    "aggregator",
    "columns",
    {},
  ) as { exchange: string; exchangeSymbol: string }[];
  return cols.filter((c) => c.exchange === "bybit").map((c) => c.exchangeSymbol)
    .sort();
}

Deno.test("aggregator: a restart of one Bybit connection keeps the books of its sibling", async () => {
  const replay = await Replay.start(captureFiles("BYBIT"), {
    speed: "max",
    supervisor: { onLog: () => {}, backoffBaseMs: 10, backoffMaxMs: 20 },
  });
  try {
    await replay.finished();
    const dump = await replay.dump(1);
    const inverse = connectionId("bybit", "inverse");
    const linear = connectionId("bybit", "linear");
    const inverseBooks = Object.keys(dump.books.bybit).filter((s) =>
      s.endsWith("USD")
    ).sort();
    assert.ok(inverseBooks.length > 0, "the capture has inverse books");
    const before = await columnSymbols(replay);
    assert.ok(before.length > inverseBooks.length, `columns: ${before}`);
    for (const s of inverseBooks) assert.ok(before.includes(s), s);

    replay.coby.supervisor.kill(linear, "test restart");
    await replay.coby.supervisor.ready(linear);
    // The new link forgets the linear connection's columns only; the
    // inverse connection's books must still be there.
    await new Promise((r) => setTimeout(r, 100));
    const after = await columnSymbols(replay);
    for (const s of inverseBooks) {
      assert.ok(after.includes(s), `${s} column kept after ${linear} restart`);
    }
    const inv = replay.coby.supervisor.actors().find((a) => a.id === inverse)!;
    assert.equal(inv.restarts, 0);
  } finally {
    await replay.stop();
  }
});

Deno.test("venue error: Kraken's rejected subscription shows with its own message in /api/v1/exchanges", async () => {
  const message = "Currency pair not supported XBT/NOPE";
  const replay = await Replay.start(captureFiles("KRAKEN"), {
    speed: "max",
    inject: {
      kraken: [{
        afterFrame: 5,
        text: JSON.stringify({
          channelName: "book",
          errorMessage: message,
          event: "subscriptionStatus",
          pair: "XBT/NOPE",
          status: "error",
          subscription: { depth: 1000, name: "book" },
        }),
      }],
    },
    supervisor: { onLog: () => {} },
  });
  try {
    await replay.finished();
    const res = await createApp(replay.coby).request("/api/v1/exchanges");
    const { exchanges } = await res.json() as {
      exchanges: {
        exchange: string;
        venueError: { message: string; symbol?: string } | null;
        counters: Record<string, number>;
      }[];
    };
    const kraken = exchanges.find((e) => e.exchange === "kraken")!;
    assert.equal(kraken.venueError?.message, message);
    assert.equal(kraken.venueError?.symbol, "XBT/NOPE");
    assert.ok(kraken.counters.venueErrors >= 1);
    assert.equal(kraken.counters.malformed, 0);
    // Kraken's heartbeats are counted, apart from the data frames.
    assert.ok(kraken.counters.heartbeats > 0, "heartbeats counted");
    assert.ok(kraken.counters.heartbeats < kraken.counters.frames);
  } finally {
    await replay.stop();
  }
});
