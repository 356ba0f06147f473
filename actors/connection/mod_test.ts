import assert from "node:assert/strict";
import type { ActorContext } from "../../runtime/actor.ts";
import { readCapture } from "../capture/capture.ts";
import { ExchangeSimulator } from "../capture/simulator.ts";
import { columns, type EventBatch, Kind } from "../market/batch.ts";
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

Deno.test("connection on the recorded clock: stamped with recorded times, same batches to every link, health to the store, keyframes", async () => {
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
    while ((toEvents.at(-1) as EventBatch | undefined)?.clock !== end) {
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
  const batches = toEvents as EventBatch[];
  const health = toStore.filter((m) =>
    (m as HealthEvent).type === "health"
  ) as HealthEvent[];
  const stored = toStore.filter((m) =>
    (m as EventBatch).type === "batch"
  ) as EventBatch[];

  // Every batch went to both links, as copies with the same content.
  assert.ok(batches.every((b) => b.type === "batch"));
  assert.equal(stored.length, batches.length);
  for (let i = 0; i < batches.length; i++) {
    assert.equal(stored[i].clock, batches[i].clock);
    assert.deepEqual(records(stored[i]), records(batches[i]));
  }

  // On the recorded clock: batches in clock order, every record within its
  // batch's window and the recording's span.
  let prev = 0;
  const all: Rec[] = [];
  for (const b of batches) {
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

  // A mirror rebuilt from the batches equals the connection's books.
  const mirror = new Map<
    string,
    { bids: Map<number, number>; asks: Map<number, number> }
  >();
  for (const r of all) {
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

Deno.test("connection on the wall clock: a silent connection still sends its clock every flush", async () => {
  const conn = new Connection(
    ConnectionConfig.parse({
      exchange: "binance",
      symbols: SYMBOLS,
      // Nothing listens: the instruments never load, no frame ever comes.
      restOrigin: "http://127.0.0.1:9",
      wsOrigin: "ws://127.0.0.1:9",
      flushMs: 10,
    }),
    ctx,
  );
  const events = new MessageChannel();
  const got = collect(events.port2) as EventBatch[];
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
  assert.ok(got.length >= 5, `${got.length} batches`);
  for (let i = 0; i < got.length; i++) {
    assert.equal(got[i].n, 0);
    assert.ok(got[i].clock >= before && got[i].clock <= after);
    if (i) assert.ok(got[i].clock > got[i - 1].clock);
  }
});
