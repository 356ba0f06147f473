/**
 * `deno task replay` as a user runs it: every shared capture at once, with
 * `--dump` and `--events`, checked for exact sync and a complete event log;
 * and how it fails: one line on stderr, never a stack trace.
 */

import assert from "node:assert/strict";
import { writeAll } from "../http/cli/replay.ts";
import { CAPTURES } from "./_replay.ts";
import { openDb } from "../actors/store/open.ts";
import { trades as queryTrades } from "../actors/store/queries.ts";

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
        "--store",
        `${dir}/store`,
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
    // The replay was imported into the store (PGlite in `--store`/pglite): every
    // trade and liquidation the connections applied, and answered in the
    // query API's shapes.
    const db = await openDb({ dataDir: `${dir}/store/pglite` });
    try {
      const count = async (table: string) =>
        new Map(
          (await db.query<{ exchange: string; n: number }>(
            `SELECT exchange, count(*)::int AS n FROM ${table} GROUP BY exchange`,
          )).map((r) => [r.exchange, r.n]),
        );
      const trades = await count("trades");
      const liquidations = await count("liquidations");
      for (const [ex, s] of Object.entries(dump.stats) as [string, any][]) {
        assert.equal(trades.get(ex) ?? 0, s.trades, `${ex} trades stored`);
        assert.equal(
          liquidations.get(ex) ?? 0,
          s.liquidations,
          `${ex} liquidations stored`,
        );
      }
      const [first] = await db.query<{ symbol: string; ts: Date }>(
        "SELECT symbol, ts FROM trades WHERE exchange = 'binance' ORDER BY ts LIMIT 1",
      );
      const from = first.ts.getTime();
      const got = await queryTrades(db, {
        exchanges: ["binance"],
        symbol: first.symbol,
        from,
        to: from + 60_000,
        limit: 5,
      });
      assert.ok(got.length > 0);
      assert.deepEqual(Object.keys(got[0]).sort(), [
        "exchange",
        "exchangeTs",
        "price",
        "rawSize",
        "side",
        "size",
        "symbol",
        "ts",
      ]);
      assert.equal(got[0].ts, from);
    } finally {
      await db.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Runs `deno task replay` with `args`; returns its exit code and output. */
async function replayCli(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "-q", "http/cli/replay.ts", "--store", "none", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    ms: performance.now() - t0,
  };
}

/** Asserts `stderr` is one line, no stack trace, matching `want`. */
function assertOneLine(stderr: string, want: RegExp): void {
  const lines = stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `not one line:\n${stderr}`);
  assert.doesNotMatch(stderr, /^\s+at /m, "stack trace");
  assert.match(lines[0], want);
}

/** Whether a path exists. */
async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

const BINANCE = ["0", "http.0.0", "ws.1.0"].map((s) =>
  `${CAPTURES}/BINANCE.${s}`
);

Deno.test("replay CLI: a bad value or an unknown option is one line and exit 2", async () => {
  const negative = await replayCli([...BINANCE, "--speed", "-2"]);
  assert.equal(negative.code, 2);
  assertOneLine(
    negative.stderr,
    /^replay: Invalid --speed "-2": not a number from 0.1 to 1000, or max \(usage: deno task replay /,
  );
  const unknown = await replayCli([...BINANCE, "--sped", "max"]);
  assert.equal(unknown.code, 2);
  assertOneLine(unknown.stderr, /^replay: Unknown option --sped \(usage: /);
  const none = await replayCli(["--speed", "max"]);
  assert.equal(none.code, 2);
  assertOneLine(none.stderr, /^replay: Give at least one capture file/);
});

Deno.test("replay CLI: a port in use is one line and exit 1, before any replay starts", async () => {
  const busy = Deno.listen({ hostname: "0.0.0.0", port: 0 });
  try {
    const port = (busy.addr as Deno.NetAddr).port;
    const r = await replayCli([...BINANCE, "--port", String(port)]);
    assert.equal(r.code, 1);
    assertOneLine(
      r.stderr,
      new RegExp(
        `^replay: Port ${port} is already in use; choose another with --port$`,
      ),
    );
    assert.equal(r.stdout, "");
  } finally {
    busy.close();
  }
});

Deno.test("replay CLI: a Gate.io futures capture is one line naming the host, exit 1, no dump", async () => {
  // The real GATEIO capture with only its WebSocket host changed to Gate.io
  // USDT futures (`fx-ws.gateio.ws`), which coby does not speak.
  const dir = await Deno.makeTempDir();
  try {
    const paths: string[] = [];
    for (const name of ["GATEIO.0", "GATEIO.http.0.0", "GATEIO.ws.1.0"]) {
      const text = await Deno.readTextFile(`${CAPTURES}/${name}`);
      await Deno.writeTextFile(
        `${dir}/${name}`,
        text.replaceAll(
          "wss://api.gateio.ws/ws/v4/",
          "wss://fx-ws.gateio.ws/v4/ws/usdt",
        ),
      );
      paths.push(`${dir}/${name}`);
    }
    const r = await replayCli([
      ...paths,
      "--speed",
      "max",
      "--dump",
      `${dir}/dump.json`,
      "--events",
      `${dir}/events.ndjson`,
    ]);
    assert.equal(r.code, 1);
    assertOneLine(
      r.stderr,
      /^replay: Unsupported exchange or market at fx-ws\.gateio\.ws\/v4\/ws\/usdt in /,
    );
    assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
    for (const f of ["dump.json", "events.ndjson"]) {
      assert.ok(!(await exists(`${dir}/${f}`)), `${f} written`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("replay CLI: writeAll writes every byte through short writes", async () => {
  const bytes = new TextEncoder().encode(
    await Deno.readTextFile(`${CAPTURES}/BINANCE.http.0.0`),
  );
  const got: number[] = [];
  let calls = 0;
  // A writer that takes at most 4096 bytes per call, as a pipe or a full
  // disk may.
  await writeAll({
    write(p) {
      calls++;
      const n = Math.min(p.length, 4096);
      for (let i = 0; i < n; i++) got.push(p[i]);
      return Promise.resolve(n);
    },
  }, bytes);
  assert.ok(calls > 1);
  assert.deepEqual(new Uint8Array(got), bytes);
  await assert.rejects(
    () => writeAll({ write: () => Promise.resolve(0) }, bytes),
    /Write stopped at byte 0 of /,
  );
});
