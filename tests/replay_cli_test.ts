/**
 * `deno task replay` as a user runs it: every shared capture at once, with
 * `--dump` and `--events`, checked for exact sync and a complete event log.
 */

import assert from "node:assert/strict";
import { CAPTURES } from "./_replay.ts";

Deno.test("replay CLI: all captures at once dump synced books and log every applied event", async () => {
  const files: string[] = [];
  for await (const e of Deno.readDir(CAPTURES)) {
    if (e.isFile && e.name.endsWith(".0")) files.push(`${CAPTURES}/${e.name}`);
  }
  const dir = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "http/cli/replay.ts",
        ...files,
        "--speed",
        "max",
        "--dump",
        `${dir}/dump.json`,
        "--events",
        `${dir}/events.ndjson`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const dump = JSON.parse(await Deno.readTextFile(`${dir}/dump.json`));
    assert.equal(Object.keys(dump.stats).length, 11);
    let applied = 0;
    for (
      const [ex, s] of Object.entries(dump.stats) as [
        string,
        Record<string, number>,
      ][]
    ) {
      assert.equal(s.gaps, 0, `${ex} gaps`);
      assert.equal(s.checksumFailures, 0, `${ex} checksum failures`);
      assert.equal(s.malformed, 0, `${ex} malformed`);
      assert.equal(s.crossedBooks, 0, `${ex} crossed books`);
      assert.equal(s.resyncs, 0, `${ex} resyncs`);
      assert.ok(s.bookUpdates > 0, `${ex} applied no book update`);
      applied += s.bookUpdates + s.trades + s.liquidations;
    }
    let books = 0;
    for (
      const [ex, bySymbol] of Object.entries(dump.books) as [
        string,
        Record<string, any>,
      ][]
    ) {
      for (const [sym, b] of Object.entries(bySymbol)) {
        if (b.state !== "synced") {
          // Only KuCoin LTX-USDT: the capture has neither a snapshot nor a delta for it.
          assert.equal(`${ex} ${sym}`, "kucoin LTX-USDT");
          assert.deepEqual([b.bids, b.asks], [[], []]);
          continue;
        }
        books++;
        assert.ok(b.bids.length <= 50 && b.asks.length <= 50);
        for (let i = 1; i < b.bids.length; i++) {
          assert.ok(b.bids[i][0] < b.bids[i - 1][0], "bids best first");
        }
        for (let i = 1; i < b.asks.length; i++) {
          assert.ok(b.asks[i][0] > b.asks[i - 1][0], "asks best first");
        }
        if (b.bids.length && b.asks.length) {
          assert.ok(b.bids[0][0] < b.asks[0][0], `${ex} ${sym} crossed`);
        }
      }
    }
    assert.ok(books >= 80, `${books} synced books`);
    // One NDJSON line per applied snapshot, delta, trade and liquidation, in emission order.
    const lines = (await Deno.readTextFile(`${dir}/events.ndjson`)).trim()
      .split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.length, applied);
    for (const e of lines.slice(0, 2000)) {
      assert.ok(
        ["book_snapshot", "book_delta", "trade", "liquidation"].includes(
          e.type,
        ),
        e.type,
      );
      for (
        const k of [
          "exchange",
          "exchangeSymbol",
          "symbol",
          "exchangeTs",
          "localTs",
        ]
      ) assert.ok(k in e, k);
      if (e.type === "book_delta") {
        assert.equal(e.bids.every((l: number[]) => l.length === 3), true);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
