import assert from "node:assert/strict";
import type { ActorContext } from "../../runtime/actor.ts";
import { readCapture } from "../capture/capture.ts";
import { ExchangeSimulator } from "../capture/simulator.ts";
import { columns, type EventBatch, Kind } from "../market/batch.ts";
import { bucketOf } from "../market/heatmap.ts";
import { type BookColumns, bookColumns } from "../market/sampler.ts";
import type { HealthEvent } from "../market/events.ts";
import { Connection, ConnectionConfig } from "./mod.ts";

const DIR = "../shared/data/captures/cryptofeed";
const FILES = ["BINANCE.0", "BINANCE.http.0.0", "BINANCE.ws.1.0"].map((f) =>
  `${DIR}/${f}`
);
const SYMBOLS = ["NKNUSDT", "BLZETH", "LRCBTC", "RUNEEUR"];

const ctx: ActorContext = {
  status: () => {},
  stats: () => {},
  log: () => {},
  output: () => {},
  exit: () => {},
};

/** Messages arriving on a port, in order. */
function collect(port: MessagePort): unknown[] {
  const got: unknown[] = [];
  port.onmessage = (ev) => got.push(ev.data);
  return got;
}

/** One record of a batch, decoded. */
interface Rec {
  sym: string;
  kind: number;
  price: number;
  size: number;
  local: number;
}

function records(b: EventBatch): Rec[] {
  const c = columns(b);
  const out: Rec[] = [];
  for (let i = 0; i < b.n; i++) {
    const kind = c.code[i] % 8;
    out.push({
      sym: b.symbols[(c.code[i] - kind) / 8].exchangeSymbol,
      kind,
      price: c.price[i],
      size: c.size[i],
      local: c.local[i],
    });
  }
  return out;
}

Deno.test("connection on the recorded clock: stamped with recorded times, every record to the store and the trades to the aggregator, books sampled at each tick end, health to the store, keyframes", async () => {
  const cap = await readCapture(FILES);
  const open = cap.records.find((r) => r.kind === "open")!.ts;
  const end = cap.records.at(-1)!.ts;
  const snapshotAt = new Map<string, number>();
  for (const r of cap.records) {
    const m = r.kind === "http" && r.url.match(/depth\?symbol=(\w+)/);
    if (m) snapshotAt.set(m[1], r.ts);
  }
  const sim = await ExchangeSimulator.start(cap, {
    speed: "max",
    clock: true,
    log: () => {},
  });
  const conn = new Connection(
    ConnectionConfig.parse({
      exchange: "binance",
      symbols: SYMBOLS,
      wsOrigin: sim.wsOrigin,
      restOrigin: sim.origin,
      clock: "recorded",
      flushMs: 5,
      id: "conn:binance",
    }),
    ctx,
  );
  const events = new MessageChannel();
  const store = new MessageChannel();
  const toEvents = collect(events.port2);
  const toStore = collect(store.port2);
  conn.attach("events", events.port1);
  conn.attach("store", store.port1);
  try {
    conn.start();
    await sim.done;
    const deadline = Date.now() + 5000;
    while ((toStore.at(-1) as EventBatch | undefined)?.clock !== end) {
      assert.ok(Date.now() < deadline, "the capture's last time never came");
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    conn.stop();
    await new Promise((r) => setTimeout(r, 20));
    events.port2.close();
    store.port2.close();
    await sim.close();
  }
  const batches = toEvents.filter((m) =>
    (m as EventBatch).type === "batch"
  ) as EventBatch[];
  const samples = toEvents.filter((m) =>
    (m as BookColumns).type === "books"
  ) as BookColumns[];
  const health = toStore.filter((m) =>
    (m as HealthEvent).type === "health"
  ) as HealthEvent[];
  const stored = toStore.filter((m) =>
    (m as EventBatch).type === "batch"
  ) as EventBatch[];

  // Every batch went to the store in full, and its trades and liquidations
  // (no book-level record) to the aggregator, with the same clock.
  assert.equal(stored.length, batches.length);
  for (let i = 0; i < batches.length; i++) {
    assert.equal(stored[i].clock, batches[i].clock);
    assert.deepEqual(
      records(batches[i]),
      records(stored[i]).filter((r) => r.kind >= Kind.Buy),
    );
  }
  assert.ok(batches.some((b) => b.n > 0), "trades went to the aggregator");

  // On the recorded clock: batches in clock order, every record within its
  // batch's window and the recording's span.
  let prev = 0;
  const all: Rec[] = [];
  for (const b of stored) {
    assert.ok(b.clock >= prev, `clock ${b.clock} after ${prev}`);
    for (const r of records(b)) {
      assert.ok(r.local >= prev && r.local <= b.clock, `local ${r.local}`);
      assert.ok(r.local >= open && r.local <= end);
      all.push(r);
    }
    prev = b.clock;
  }

  // Each REST snapshot is applied at its recorded receive time.
  for (const sym of SYMBOLS) {
    const first = all.find((r) => r.sym === sym && r.kind === Kind.Clear)!;
    assert.equal(first.local, snapshotAt.get(sym), sym);
  }

  // Crossing a minute of event time pushes every book in full again.
  const minute = Math.ceil(open / 60_000) * 60_000;
  assert.ok(minute < end, "the recording crosses a minute");
  const keyframes = all.filter((r) =>
    r.kind === Kind.Clear && r.local >= minute
  );
  assert.deepEqual(keyframes.map((r) => r.sym).sort(), [...SYMBOLS].sort());
  assert.equal(new Set(keyframes.map((r) => r.local)).size, 1);

  // A mirror rebuilt from the stored batches equals the connection's books;
  // at each tick end, the aggregator got the books' columns as they stood
  // after every record received before it, ahead of the batch whose clock
  // passed it.
  const mirror = new Map<
    string,
    { bids: Map<number, number>; asks: Map<number, number> }
  >();
  assert.ok(samples.length > 10, `${samples.length} samples`);
  let next = 0;
  const check = (until: number) => {
    for (; next < samples.length && samples[next].ts <= until; next++) {
      const s = samples[next];
      assert.equal(s.ts % 1000, 0);
      const at = toEvents.indexOf(s);
      const carrier = toEvents.findIndex((m) =>
        (m as EventBatch).type === "batch" && (m as EventBatch).clock >= s.ts
      );
      assert.ok(at < carrier, `the sample of ${s.ts} came after its clock`);
      const cols = bookColumns(s);
      for (const [sym, m] of mirror) {
        const c = cols.find((x) => x.exchangeSymbol === sym);
        if (m.bids.size + m.asks.size === 0) {
          assert.equal(c, undefined, sym);
          continue;
        }
        assert.ok(c, `${sym} at ${s.ts}`);
        const want = (side: Map<number, number>) => {
          const out = new Float64Array(c.n);
          for (const [p, q] of side) {
            const k = bucketOf(p, c.bucketSize) - c.lo;
            if (k >= 0 && k < c.n) out[k] += q;
          }
          return out;
        };
        const wb = want(m.bids);
        const wa = want(m.asks);
        for (let k = 0; k < c.n; k++) {
          assert.ok(Math.abs(c.bids[k] - wb[k]) <= 1e-9 * Math.max(1, wb[k]));
          assert.ok(Math.abs(c.asks[k] - wa[k]) <= 1e-9 * Math.max(1, wa[k]));
        }
        assert.equal(c.bestBid, Math.max(...m.bids.keys()), sym);
        assert.equal(c.bestAsk, Math.min(...m.asks.keys()), sym);
      }
    }
  };
  for (const r of all) {
    check(r.local);
    let m = mirror.get(r.sym);
    if (!m) mirror.set(r.sym, m = { bids: new Map(), asks: new Map() });
    if (r.kind === Kind.Clear) {
      m.bids.clear();
      m.asks.clear();
    } else if (r.kind === Kind.Bid || r.kind === Kind.Ask) {
      const side = r.kind === Kind.Bid ? m.bids : m.asks;
      if (r.size === 0) side.delete(r.price);
      else side.set(r.price, r.size);
    }
  }
  check(Infinity);
  assert.equal(next, samples.length);
  for (const book of conn.books(Infinity)) {
    assert.equal(book.state, "synced", book.exchangeSymbol);
    const m = mirror.get(book.exchangeSymbol)!;
    assert.deepEqual(
      [...m.bids].sort((a, b) => b[0] - a[0]),
      book.bids,
      `${book.exchangeSymbol} bids`,
    );
    assert.deepEqual(
      [...m.asks].sort((a, b) => a[0] - b[0]),
      book.asks,
      `${book.exchangeSymbol} asks`,
    );
  }

  // Health goes to the store only: the session opened at the recorded open.
  assert.ok(toEvents.every((m) => (m as HealthEvent).type !== "health"));
  assert.deepEqual(health[0], {
    type: "health",
    ts: open,
    exchange: "binance",
    connection: "conn:binance",
    kind: "connect",
    detail: "socket open",
  });
  // A clean replay: no resync, checksum failure or disconnect.
  assert.equal(health.length, 1);
});

Deno.test("connection on the wall clock: a silent connection still sends its clock every flush, and samples at each tick end", async () => {
  const conn = new Connection(
    ConnectionConfig.parse({
      exchange: "binance",
      symbols: SYMBOLS,
      // Nothing listens: the instruments never load, no frame ever comes.
      restOrigin: "http://127.0.0.1:9",
      wsOrigin: "ws://127.0.0.1:9",
      flushMs: 10,
      sampling: { tickMs: 50 },
    }),
    ctx,
  );
  const events = new MessageChannel();
  const messages = collect(events.port2);
  conn.attach("events", events.port1);
  const before = Date.now();
  try {
    conn.start();
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    conn.stop();
    await new Promise((r) => setTimeout(r, 20));
    events.port2.close();
  }
  const after = Date.now();
  const got = messages.filter((m) =>
    (m as EventBatch).type === "batch"
  ) as EventBatch[];
  assert.ok(got.length >= 5, `${got.length} batches`);
  // The idle clock crosses tick ends too: a sample of no book at each,
  // ahead of the batch whose clock passed it.
  const samples = messages.filter((m) =>
    (m as BookColumns).type === "books"
  ) as BookColumns[];
  assert.ok(samples.length >= 2, `${samples.length} samples`);
  for (const s of samples) {
    assert.equal(s.ts % 50, 0);
    assert.ok(s.ts > before - 50 && s.ts <= after);
    assert.deepEqual(s.columns, []);
    const carrier = messages.findIndex((m) =>
      (m as EventBatch).type === "batch" && (m as EventBatch).clock >= s.ts
    );
    assert.ok(messages.indexOf(s) < carrier);
  }
  for (let i = 0; i < got.length; i++) {
    assert.equal(got[i].n, 0);
    assert.ok(got[i].clock >= before && got[i].clock <= after);
    if (i) assert.ok(got[i].clock > got[i - 1].clock);
  }
});
