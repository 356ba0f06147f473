/**
 * Replay sessions on the shared captures, through the replay actor as a
 * user drives them: pacing at 10×, pause and resume, seeks that rebuild the
 * books exactly, identical columns at any speed, and an end that is final.
 */

import assert from "node:assert/strict";
import type { Coby } from "../actors/system/start.ts";
import type { ReplayProgress, ReplaySpec } from "../actors/market/requests.ts";
import type { SessionNotice } from "../actors/system/sessions.ts";
import { rebuildBinance } from "./_rebuild.ts";
import { captureFiles, replayCoby, sessionEnded as ended } from "./_replay.ts";

/** Creates a session and collects its notices. */
async function session(
  coby: Coby,
  spec: Omit<ReplaySpec, "source">,
): Promise<{ id: string; first: ReplayProgress; notices: SessionNotice[] }> {
  const first = await coby.replay.create({ source: "files", ...spec }, null);
  const notices: SessionNotice[] = [];
  coby.replay.watch(first.id, (n) => notices.push(n));
  return { id: first.id, first, notices };
}

/** Every column a session's hub holds, as the SSE bytes viewers get, per symbol. */
function columns(coby: Coby, id: string): Map<string, string> {
  const hub = coby.replay.hub(id)!;
  const out = new Map<string, string>();
  const dec = new TextDecoder();
  for (const { symbol } of hub.symbols()) {
    const feed = hub.follow(symbol, null);
    let text = "";
    for (;;) {
      const { events } = feed.take({ maxColumns: 1000, budgetMs: 1000 });
      if (!events.length) break;
      for (const e of events) text += dec.decode(e);
    }
    feed.close();
    out.set(symbol, text);
  }
  return out;
}

/** How many columns the hub holds over every symbol. */
function columnCount(coby: Coby, id: string): number {
  return coby.replay.hub(id)!.symbols().reduce((n, s) => n + s.columns, 0);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("replay session: 10× takes a tenth of the capture's duration, within 30 %", async () => {
  const coby = await replayCoby();
  try {
    const t0 = performance.now();
    const { id, first } = await session(coby, {
      files: captureFiles("BINANCE"),
      speed: 10,
    });
    const end = await ended(coby, id);
    const wall = performance.now() - t0;
    const want = (first.to - first.from) / 10;
    assert.ok(want > 2500, `the capture spans ${first.to - first.from} ms`);
    // Stated tolerance: the pacing is anchored to the wall clock, so only a
    // starved machine makes it late; never early.
    assert.ok(
      wall >= want * 0.95 && wall <= want * 1.3,
      `10× took ${wall.toFixed(0)} ms for ${want.toFixed(0)} ms`,
    );
    assert.equal(end.state, "ended");
    assert.equal(end.percent, 100);
    assert.equal(end.position, first.to);
  } finally {
    await coby.supervisor.stop();
  }
});

Deno.test("replay session: pause holds the stream still, resume continues from the same event, and the end is final", async () => {
  const coby = await replayCoby();
  try {
    const files = captureFiles("BINANCE");
    const { id, notices } = await session(coby, { files, speed: 4 });
    await sleep(1500);
    const paused = await coby.replay.control(id, { action: "pause" });
    assert.equal(paused.state, "paused");
    assert.ok(paused.position > paused.from, "it played before the pause");
    const held = columnCount(coby, id);
    await sleep(1000);
    const still = await coby.replay.progress(id);
    assert.equal(still.position, paused.position);
    assert.equal(still.events, paused.events);
    assert.equal(still.expectedEnd, null);
    assert.equal(columnCount(coby, id), held);
    await coby.replay.control(id, { action: "resume", speed: "max" });
    const end = await ended(coby, id);
    // The same columns as a session that never paused: nothing skipped,
    // nothing repeated.
    const straight = await session(coby, { files, speed: "max" });
    await ended(coby, straight.id);
    assert.deepEqual(columns(coby, id), columns(coby, straight.id));
    // The end comes once and stays: no restart, no more columns.
    const count = columnCount(coby, id);
    await coby.replay.control(id, { action: "resume" });
    await sleep(700);
    assert.equal(notices.filter((n) => n.kind === "end").length, 1);
    assert.equal((await coby.replay.progress(id)).state, "ended");
    assert.equal((await coby.replay.progress(id)).position, end.position);
    assert.equal(columnCount(coby, id), count);
  } finally {
    await coby.supervisor.stop();
  }
});

Deno.test("replay session: after a seek the books equal an independent rebuild at that instant", async () => {
  const coby = await replayCoby();
  try {
    const { id, first } = await session(coby, {
      files: captureFiles("BINANCE"),
      speed: 1,
      paused: true,
    });
    // Forward, then back: a seek back plays from the start to get there.
    for (const offset of [21_000, 8_000, 26_500]) {
      const t = first.from + offset;
      const p = await coby.replay.control(id, { seek: t });
      assert.equal(p.position, t);
      const dump = await coby.replay.books(id, 5000);
      const want = await rebuildBinance("BINANCE", false, t);
      let synced = 0;
      for (const [sym, book] of Object.entries(dump.books.binance)) {
        if (book.state !== "synced") {
          assert.deepEqual([book.bids, book.asks], [[], []], sym);
          continue;
        }
        synced++;
        const w = want.get(sym);
        assert.ok(w, `${sym} is synced before its snapshot was taken`);
        assert.equal(w.gaps, 0);
        assert.equal(book.lastSequence, w.lastSequence, `${sym} at +${offset}`);
        assert.deepEqual(book.bids, w.bids, `${sym} bids at +${offset}`);
        assert.deepEqual(book.asks, w.asks, `${sym} asks at +${offset}`);
      }
      assert.ok(synced >= 2, `${synced} books synced at +${offset}`);
    }
  } finally {
    await coby.supervisor.stop();
  }
});

Deno.test("replay session: the columns of a 1×, a 10× and a max session are identical", async () => {
  const coby = await replayCoby();
  try {
    const files = captureFiles("KRAKEN");
    const probe = await session(coby, { files, speed: 1, paused: true });
    // Four seconds from the capture's fifth: the books at `from` come from
    // the frames before it.
    const from = probe.first.from + 5_000;
    const to = from + 4_000;
    await coby.replay.stop(probe.id);
    const runs = [];
    for (const speed of [1, 10, "max"] as const) {
      runs.push(await session(coby, { files, speed, from, to }));
    }
    for (const r of runs) await ended(coby, r.id, 30_000);
    const [one, ten, max] = runs.map((r) => columns(coby, r.id));
    assert.ok(one.size >= 5, `${one.size} symbols have columns`);
    let n = 0;
    for (const text of one.values()) {
      n += text.split("event: column").length - 1;
    }
    assert.ok(n >= 5 * 3, `${n} columns`);
    assert.deepEqual(ten, one);
    assert.deepEqual(max, one);
    // Stamped with the recording's time, inside the range.
    for (const text of one.values()) {
      for (const m of text.matchAll(/"ts":(\d+)/g)) {
        assert.ok(+m[1] > from && +m[1] <= to, `column at ${m[1]}`);
      }
    }
  } finally {
    await coby.supervisor.stop();
  }
});
