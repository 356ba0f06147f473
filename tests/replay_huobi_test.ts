/**
 * Capture replay for HTX spot (HUOBI.*, April 2021) and HTX swaps
 * (HUOBI_SWAP.*, February 2022: `/swap-ws` coin-margined and
 * `/linear-swap-ws` USDT-margined, one connection actor each). The simulator
 * serves the recorded gzip frames as binary WebSocket frames; the real
 * connection actors gunzip, parse, sync and answer the recorded pings.
 *
 * Both captures subscribe `depth.step0`, a full book on every push, so each
 * final book must equal the last recorded image of its symbol. That image is
 * read here straight from the decoded captures and the metadata, sharing no
 * code with the adapters. The spot capture's date (2021-04-17) picks the
 * `depth.step0` spot version (huobi_step0.ts), one connection on `/ws`.
 *
 * The swaps adapter also opens a notification connection per margin family
 * (`/swap-notification`, `/linear-swap-notification`) for liquidations.
 * cryptofeed recorded none, so the simulator answers those upgrades with 404
 * and the two bookless actors keep retrying with backoff; they receive no
 * frame and report no book, and `finished()` settles once their retries are
 * further apart than its quiet window.
 */

import assert from "node:assert/strict";
import type { DumpBook } from "../actors/market/requests.ts";
import { Replay } from "../actors/system/capture_replay.ts";
import { assertCleanReplay } from "./_replay.ts";

const DIR = "../shared/data/captures/cryptofeed";
const quiet = { onLog: () => {} };

interface Expected {
  bids: [number, number][];
  asks: [number, number][];
}

/**
 * The last `depth.step0` image per symbol of decoded capture files, sizes in
 * base: spot as sent; USDT-margined contracts × contract_size; coin-margined
 * contracts × contract_size (USD) / price.
 */
async function lastImages(
  files: string[],
  contractSizes: Map<string, { cs: number; inverse: boolean }>,
): Promise<Map<string, Expected>> {
  const out = new Map<string, Expected>();
  for (const f of files) {
    for (const line of (await Deno.readTextFile(f)).split("\n")) {
      const m = line.match(
        /^[\d.]+: (\{"ch":"market\.([^.]+)\.depth\.step0".*)$/,
      );
      if (!m) continue;
      const tick = JSON.parse(m[1]).tick;
      const k = contractSizes.get(m[2]) ?? { cs: 1, inverse: false };
      const conv = (l: [number, number]): [number, number] => [
        l[0],
        k.inverse ? l[1] * k.cs / l[0] : l[1] * k.cs,
      ];
      // HTX sends bids best (highest) first and asks best (lowest) first, as
      // the dump lists them.
      out.set(m[2], { bids: tick.bids.map(conv), asks: tick.asks.map(conv) });
    }
  }
  return out;
}

/** contract_code → contract size and kind, from the recorded swap_contract_info bodies. */
async function swapContracts(): Promise<
  Map<string, { cs: number; inverse: boolean }>
> {
  const out = new Map<string, { cs: number; inverse: boolean }>();
  for (
    const line of (await Deno.readTextFile(`${DIR}/HUOBI_SWAP.0`)).split("\n")
  ) {
    const i = line.indexOf(": {");
    if (i < 0 || !line.includes("swap_contract_info -> ")) continue;
    for (const c of JSON.parse(line.slice(i + 2)).data) {
      out.set(c.contract_code, {
        cs: c.contract_size,
        inverse: c.contract_code.endsWith("-USD"),
      });
    }
  }
  return out;
}

function assertClose(got: number, want: number, what: string): void {
  assert.ok(
    Math.abs(got - want) <= 1e-12 * Math.max(1, Math.abs(want)),
    `${what}: ${got} != ${want}`,
  );
}

function assertBooks(
  books: Record<string, DumpBook>,
  expected: Map<string, Expected>,
): void {
  assert.deepEqual(Object.keys(books).sort(), [...expected.keys()].sort());
  for (const [sym, want] of expected) {
    const got = books[sym];
    assert.equal(got.state, "synced", sym);
    assert.ok(got.bids.length > 0 && got.asks.length > 0, `${sym} is empty`);
    assert.ok(got.bids[0][0] < got.asks[0][0], `${sym} is crossed`);
    for (
      const [side, g, w] of [["bids", got.bids, want.bids], [
        "asks",
        got.asks,
        want.asks,
      ]] as const
    ) {
      assert.equal(g.length, w.length, `${sym} ${side} depth`);
      for (let i = 0; i < w.length; i++) {
        assert.equal(g[i][0], w[i][0], `${sym} ${side}[${i}] price`);
        assertClose(g[i][1], w[i][1], `${sym} ${side}[${i}] size`);
        assert.ok(Number.isFinite(g[i][1]), `${sym} ${side}[${i}] NaN`);
      }
    }
  }
}

Deno.test("capture replay: HUOBI spot and HUOBI_SWAP books equal the last recorded images, counts match cryptofeed", async () => {
  const replay = await Replay.start([
    `${DIR}/HUOBI.0`,
    `${DIR}/HUOBI.ws.44.0`,
    `${DIR}/HUOBI_SWAP.0`,
    `${DIR}/HUOBI_SWAP.ws.1.0`,
    `${DIR}/HUOBI_SWAP.ws.2.0`,
  ], { speed: "max", supervisor: quiet });
  try {
    await replay.finished();
    const dump = await replay.dump(5000);
    assertBooks(
      dump.books.huobi,
      await lastImages([`${DIR}/decoded/HUOBI.ws.44.0`], new Map()),
    );
    assertBooks(
      dump.books["huobi-swap"],
      await lastImages([
        `${DIR}/decoded/HUOBI_SWAP.ws.1.0`,
        `${DIR}/decoded/HUOBI_SWAP.ws.2.0`,
      ], await swapContracts()),
    );
    for (const ex of ["huobi", "huobi-swap"]) {
      // Every recorded frame (gzip binary) reached a connection actor.
      assertCleanReplay(replay, dump, ex);
    }
    // cryptofeed's counts on the same captures (expected_callback_counts.json)
    // have the same meaning as ours here: one L2 update per depth.step0 image
    // (each is applied as a snapshot) and one trade per element of a
    // trade.detail frame's data array.
    assert.equal(dump.stats.huobi.bookUpdates, 292);
    assert.equal(dump.stats.huobi.trades, 73);
    assert.equal(dump.stats["huobi-swap"].bookUpdates, 2862);
    assert.equal(dump.stats["huobi-swap"].trades, 25);
    // The swaps ran on two market connections, one per endpoint. The capture
    // has no recording of the liquidation notification endpoints, so the
    // replay starts no connection for those groups.
    const conns = replay.coby.supervisor.actors().filter((a) =>
      a.id.startsWith("conn:huobi-swap")
    );
    assert.deepEqual(conns.map((a) => a.id).sort(), [
      "conn:huobi-swap:linear",
      "conn:huobi-swap:swap",
    ]);
    for (const a of conns) {
      const counters = a.stats.counters as Record<string, number>;
      assert.equal(counters.reconnects, 0, `${a.id} reconnects`);
    }
  } finally {
    await replay.stop();
  }
});
