import assert from "node:assert/strict";
import fc from "fast-check";
import type { BookDelta, Instrument } from "../market/events.ts";
import type { InstrumentTable } from "./adapter.ts";
import { bybitV2Adapter } from "./bybit_v2.ts";
import { BybitV2BookScanner } from "./bybit_v2_scan.ts";
import { sequenceValue } from "./_common.ts";
import {
  assertDeltaIs,
  assertScannedSide,
  checkMutants,
  levelsInRange,
  levelToken,
  readJson,
  scanSources,
} from "./_scan_testing.ts";
import { capturedTexts, CAPTURES, tardisInputs } from "./_testing.ts";

/** USDT perpetuals on /realtime_public: numbers written as strings. */
const USDT = "BYBIT.ws.25.0";
/** Inverse contracts on /realtime: numbers as numbers, `transactTimeE6`. */
const INVERSE = "BYBIT.ws.26.0";
const RECV = 1_700_000_000_000;

/** The capture's instruments, from its recorded /v2/public/symbols. */
const META = Deno.readTextFileSync(`${CAPTURES}/BYBIT.0`);
const TABLE: InstrumentTable = new Map(
  bybitV2Adapter.instruments([
    META.slice(META.indexOf(": ") + 2, META.indexOf("\n")),
  ]).map((i) => [i.exchangeSymbol, i]),
);

/**
 * A table that knows every symbol, as a linear instrument of contract size
 * 1, or as an inverse one of `contractSize` USD.
 */
function everySymbol(inverse: boolean, contractSize = 1): InstrumentTable {
  return {
    get: (s: string): Instrument => ({
      exchange: "bybit",
      exchangeSymbol: s,
      symbol: s,
      base: "B",
      quote: inverse ? "USD" : "USDT",
      market: "perpetual",
      contractSize,
      ...(inverse ? { inverse: true } : {}),
    }),
  } as unknown as InstrumentTable;
}

/** Every Bybit v2 frame the shared data holds, by source. */
async function bybitFrames(): Promise<Map<string, string[]>> {
  return new Map([
    [USDT, await capturedTexts(USDT)],
    [INVERSE, await capturedTexts(INVERSE)],
    // tardis-node's recording: 2019–2022 inverse and USDT frames, and a
    // USDC BTCPERP delta of another API (`crossSeq`, `timestampE6`).
    ["tardis bybit", await tardisInputs("bybit")],
  ]);
}

/** The keys a recognised frame may have, at each level. */
const FRAME_KEYS = new Set([
  "topic",
  "type",
  "data",
  "cross_seq",
  "timestamp_e6",
]);
const DATA_KEYS = new Set(["delete", "update", "insert", "transactTimeE6"]);

/**
 * The frame as JSON.parse reads it when it is an `orderBookL2_25` delta,
 * or undefined.
 */
function v2Delta(frame: string): Record<string, any> | undefined {
  const msg = readJson(frame);
  return msg?.type === "delta" && typeof msg.topic === "string" &&
      msg.topic.startsWith("orderBookL2_25.")
    ? msg
    : undefined;
}

/** The frame's rows as `[price, size]` strings of `side`, as parse lays them. */
function rowsOf(msg: Record<string, any>, side: string): string[][] {
  const d = msg.data;
  const out: string[][] = [];
  for (const r of d.delete ?? []) if (r.side === side) out.push([r.price, "0"]);
  for (const name of ["update", "insert"]) {
    for (const r of d[name] ?? []) {
      if (r.side === side) out.push([r.price, String(r.size)]);
    }
  }
  return out;
}

/**
 * Asserts the scanner's fields equal JSON.parse's reading of `msg`: its
 * symbol, cross_seq, time, and each side's rows (deleted ones with size 0),
 * in order.
 */
function assertSame(
  s: BybitV2BookScanner,
  msg: Record<string, any>,
  what = "",
): void {
  const topic = msg.topic as string;
  assert.equal(s.symbol, topic.slice(topic.lastIndexOf(".") + 1), what);
  const seq = msg.cross_seq === undefined ? -1 : sequenceValue(msg.cross_seq);
  assert.equal(s.crossSeq, seq, `${what} cross_seq`);
  const time = msg.timestamp_e6 === undefined
    ? NaN
    : typeof msg.timestamp_e6 === "string"
    ? parseFloat(msg.timestamp_e6)
    : msg.timestamp_e6;
  assert.ok(Object.is(s.timeE6, time), `${what} time ${time}: ${s.timeE6}`);
  assertScannedSide(s.bids, rowsOf(msg, "Buy"), `${what} bids`);
  assertScannedSide(s.asks, rowsOf(msg, "Sell"), `${what} asks`);
}

/**
 * Asserts `scanBook` gives what `parse` gives for a frame: one `book_delta`
 * with the same instrument, times, sequences and levels (sizes in base),
 * or, when `parse` throws, null.
 */
function assertSameDelta(
  frame: string,
  table: InstrumentTable,
  recvTs = RECV,
  what = frame.slice(0, 160),
): void {
  const parser = bybitV2Adapter.parser(table);
  let ev: BookDelta;
  try {
    const events = parser.parse(frame, recvTs);
    assert.equal(events.length, 1, what);
    ev = events[0] as BookDelta;
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    assert.equal(parser.scanBook!(frame, recvTs), null, `${what}: ${e}`);
    return;
  }
  const d = parser.scanBook!(frame, recvTs);
  assert.ok(d !== null, what);
  assert.equal(d.inst.inverse, ev.inverse);
  assert.equal(d.inst.contractSize, ev.contractSize);
  assertDeltaIs(d, ev, what);
}

Deno.test("bybit v2 scan: every orderBookL2_25 delta of the shared frames equals parseFloat and the adapter's delta", async () => {
  const s = new BybitV2BookScanner();
  const read = new Map<string, number>();
  let deletes = 0;
  let inverse = 0;
  const levels = scanSources(s, await bybitFrames(), (frame, ok, source) => {
    const msg = v2Delta(frame);
    // Every real delta is recognised but the USDC one (other keys);
    // nothing else is (snapshots, trades, acks).
    const known = msg !== undefined &&
      Object.keys(msg).every((k) => FRAME_KEYS.has(k)) &&
      Object.keys(msg.data).every((k) => DATA_KEYS.has(k));
    assert.equal(ok, known, `${source}: ${frame.slice(0, 160)}`);
    if (!ok) return;
    read.set(source, (read.get(source) ?? 0) + 1);
    assertSame(s, msg!, source);
    deletes += msg!.data.delete?.length ?? 0;
    // The capture's instruments: USD contracts are inverse.
    const inst = TABLE.get(s.symbol);
    if (inst?.inverse) inverse++;
    if (source !== "tardis bybit") {
      assert.ok(inst !== undefined, s.symbol);
      assertSameDelta(frame, TABLE);
    } else {
      assertSameDelta(frame, everySymbol(s.symbol.endsWith("USD")));
    }
  });
  assert.deepEqual(Object.fromEntries(read), {
    [USDT]: 3_252,
    [INVERSE]: 1_016,
    "tardis bybit": 8,
  });
  assert.ok(levels > 20_000, `only ${levels} levels checked`);
  assert.ok(deletes > 4_000, `only ${deletes} deleted rows`);
  assert.ok(inverse > 1_000, `only ${inverse} inverse deltas`);
});

Deno.test("bybit v2 scan: snapshots, trades and acks go to parse; an unknown symbol gives nothing", async () => {
  const parser = bybitV2Adapter.parser(TABLE);
  let snapshots = 0;
  let trades = 0;
  for (const file of [USDT, INVERSE]) {
    for (const frame of await capturedTexts(file)) {
      if (v2Delta(frame) !== undefined) continue;
      assert.equal(parser.scanBook!(frame, RECV), null, frame.slice(0, 120));
      for (const ev of parser.parse(frame, RECV)) {
        if (ev.type === "book_snapshot") snapshots++;
        if (ev.type === "trade") trades++;
      }
    }
  }
  assert.equal(snapshots, 10);
  assert.ok(trades > 100, `${trades} trades`);
  const frame = (await capturedTexts(USDT)).find((f) => v2Delta(f))!;
  assert.ok(new BybitV2BookScanner().scan(frame));
  const none = bybitV2Adapter.parser(new Map());
  assert.equal(none.scanBook!(frame, RECV), null);
  assert.deepEqual(none.parse(frame, RECV), []);
  // Bytes are parse's (frameText decodes them).
  assert.equal(parser.scanBook!(new TextEncoder().encode(frame), RECV), null);
});

Deno.test("bybit v2 scan: any key order but the rows', absent optional keys, numbers and strings, big frames", async () => {
  const s = new BybitV2BookScanner();
  /** The orders of `keys`. */
  const orders = (keys: string[]): string[][] =>
    keys.length <= 1
      ? [keys]
      : keys.flatMap((k, i) =>
        orders([...keys.slice(0, i), ...keys.slice(i + 1)]).map((
          o,
        ) => [k, ...o])
      );
  const pick = (o: Record<string, any>, keys: string[]) =>
    Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]]));
  const outer = orders([...FRAME_KEYS]);
  const rowKeys = orders(["price", "symbol", "id", "side", "size"]);
  assert.equal(outer.length, 120);
  for (const file of [USDT, INVERSE]) {
    const frames = (await capturedTexts(file)).filter((f) => v2Delta(f));
    for (const frame of frames.slice(0, 120)) {
      const msg = v2Delta(frame)!;
      for (let k = 0; k < 120; k += 7) {
        // transactTimeE6 anywhere among the row arrays, kept in order.
        const rows = (name: string) =>
          (msg.data[name] ?? []).map((r: Record<string, unknown>) =>
            pick(r, rowKeys[k])
          );
        const data = k % 2
          ? {
            transactTimeE6: 0,
            delete: rows("delete"),
            update: rows("update"),
          }
          : { delete: rows("delete"), update: rows("update") };
        const m = pick(
          { ...msg, data: { ...data, insert: rows("insert") } },
          outer[k],
        );
        const f = JSON.stringify(m);
        assert.ok(s.scan(f), f);
        assertSame(s, m, f);
        assertSameDelta(f, TABLE);
      }
      // Without cross_seq, timestamp_e6, delete, insert or transactTimeE6;
      // numbers and strings the other way round.
      const swap = (v: unknown) => typeof v === "string" ? +v : String(v);
      const { cross_seq: _, ...unsequenced } = msg;
      const { timestamp_e6: __, ...untimed } = msg;
      const { delete: _d, insert: _i, transactTimeE6: _t, ...updates } =
        msg.data;
      const variants = [
        unsequenced,
        untimed,
        { ...msg, data: updates },
        {
          ...msg,
          cross_seq: swap(msg.cross_seq),
          timestamp_e6: swap(msg.timestamp_e6),
          data: {
            ...msg.data,
            update: msg.data.update.map((r: Record<string, unknown>) => ({
              ...r,
              id: swap(r.id),
            })),
          },
        },
      ];
      for (const m of variants) {
        const f = JSON.stringify(m);
        assert.ok(s.scan(f), f);
        assertSame(s, m, f);
        assertSameDelta(f, TABLE);
      }
    }
  }
  // A deleted row may carry a size: not read.
  const f0 = (await capturedTexts(USDT)).find((f) =>
    v2Delta(f)?.data.delete.length > 0
  )!;
  const sized = f0.replace(/("delete":\[\{[^}]*)\}/, '$1,"size":1e400}');
  assert.notEqual(sized, f0);
  assert.ok(s.scan(sized));
  assertSameDelta(sized, TABLE);
  // 1,000 rows an array: the level arrays grow.
  const row = (i: number, size?: number) => ({
    price: `${1000 + i}.5`,
    symbol: "BTCUSD",
    id: i,
    side: i % 3 ? "Buy" : "Sell",
    ...(size === undefined ? {} : { size }),
  });
  const big = {
    topic: "orderBookL2_25.BTCUSD",
    type: "delta",
    data: {
      delete: Array.from({ length: 1000 }, (_, i) => row(i)),
      update: Array.from({ length: 1000 }, (_, i) => row(i + 1, i)),
      insert: Array.from({ length: 1000 }, (_, i) => row(i + 2, i + 0.25)),
      transactTimeE6: 0,
    },
    cross_seq: 1,
    timestamp_e6: 1573044650028026,
  };
  const bigFrame = JSON.stringify(big);
  assert.ok(s.scan(bigFrame));
  assertSame(s, big);
  assert.equal(s.bids.count, 2000);
  assertSameDelta(bigFrame, TABLE);
});

Deno.test("bybit v2 scan: time and cross_seq as parse reads them", () => {
  const good =
    '{"topic":"orderBookL2_25.BTCUSD","type":"delta","data":{"delete":[],"update":[{"price":"9367.00","symbol":"BTCUSD","id":93670000,"side":"Sell","size":674462}],"insert":[],"transactTimeE6":0},"cross_seq":794201917,"timestamp_e6":1573044650028026}';
  const parser = bybitV2Adapter.parser(TABLE);
  const d = parser.scanBook!(good, 42)!;
  assert.equal(d.exchangeTs, 1573044650028);
  assert.equal(d.first, 794201917);
  assert.equal(d.prev, -1);
  // 674462 USD contracts at 9367: BTC.
  assert.deepEqual([d.asks.prices[0], d.asks.sizes[0]], [9367, 674462 / 9367]);
  // Times the adapter's rule refuses fall back to the receive time.
  for (
    const t of ["0", "-5", "1e400", "253402300800000000", "1.5", "-0", '"7"']
  ) {
    const f = good.replace("1573044650028026", t);
    assertSameDelta(f, TABLE, 42);
    if (t !== '"7"') assert.equal(parser.scanBook!(f, 42)!.exchangeTs, 42, t);
  }
  for (const seq of ['"794201917"', "0", '"0"', "9007199254740991"]) {
    const f = good.replace("794201917", seq);
    assertSameDelta(f, TABLE, 42);
    assert.equal(parser.scanBook!(f, 42)!.first, JSON.parse(seq) * 1);
  }
  const bare = good.replace(
    ',"cross_seq":794201917,"timestamp_e6":1573044650028026',
    "",
  );
  assert.equal(parser.scanBook!(bare, 42)!.exchangeTs, 42);
  assert.equal(parser.scanBook!(bare, 42)!.first, -1);
  assertSameDelta(bare, TABLE, 42);
});

Deno.test("bybit v2 scan: odd frames are left to JSON.parse", () => {
  const s = new BybitV2BookScanner();
  const good =
    '{"topic":"orderBookL2_25.BCHUSDT","type":"delta","data":{"delete":[{"price":"1054.30","symbol":"BCHUSDT","id":"10543000","side":"Buy"}],"update":[{"price":"1053.75","symbol":"BCHUSDT","id":"10537500","side":"Sell","size":17.46}],"insert":[{"price":"1053.70","symbol":"BCHUSDT","id":"10537000","side":"Buy","size":2}]},"cross_seq":"5503960397","timestamp_e6":"1618677786985830"}';
  assert.ok(s.scan(good));
  const odd: [string, string][] = [
    ["whitespace", good.replace('"data":', '"data": ')],
    ["trailing newline", good + "\n"],
    ["escape in symbol", good.replace('"BCHUSDT"', '"BCH\\u0055SDT"')],
    ["escape in topic", good.replace("L2_25.", "L2_25\\u002e")],
    ["escape in id", good.replace('"10543000"', '"1054\\u0033000"')],
    ["escape in side", good.replace('"Sell"', '"S\\u0065ll"')],
    ["not ASCII", good.replace("BCHUSDT", "BCH€")],
    ["extra key", good.replace('"cross_seq"', '"x":1,"cross_seq"')],
    ["extra data key", good.replace('"update"', '"x":[],"update"')],
    ["extra row key", good.replace('"size":17.46', '"size":17.46,"x":1')],
    [
      "duplicate key",
      good.replace('"cross_seq"', '"type":"delta","cross_seq"'),
    ],
    ["duplicate data key", good.replace('"insert"', '"update":[],"insert"')],
    ["duplicate row key", good.replace('"size":2', '"size":2,"price":"1"')],
    ["duplicate side", good.replace('"size":2', '"size":2,"side":"Sell"')],
    [
      "update after insert",
      good.replace(
        /"update":(.*),"insert":(.*)\]\}/,
        '"insert":$2],"update":$1}',
      ),
    ],
    [
      "delete after update",
      good.replace(
        /"delete":(\[.*?\]),"update":(\[.*?\])/,
        '"update":$2,"delete":$1',
      ),
    ],
    ["missing update", good.replace(/"update":\[.*?\],/, "")],
    ["update null", good.replace(/"update":\[.*?\]/, '"update":null')],
    ["delete null", good.replace(/"delete":\[.*?\]/, '"delete":null')],
    ["rows not an array", good.replace(/"insert":\[(.*?)\]/, '"insert":$1')],
    ["row not an object", good.replace(/"insert":\[.*?\]/, '"insert":[1]')],
    ["snapshot", good.replace('"delta"', '"snapshot"')],
    ["type prefix", good.replace('"delta"', '"deltas"')],
    ["other channel", good.replace("orderBookL2_25", "orderBook_200")],
    ["channel prefix", good.replace("orderBookL2_25.", "orderBookL2_250.")],
    ["missing topic", good.replace('"topic":"orderBookL2_25.BCHUSDT",', "")],
    ["missing type", good.replace('"type":"delta",', "")],
    ["missing data", good.replace(/"data":\{.*\},"cross_seq"/, '"cross_seq"')],
    [
      "data not an object",
      good.replace(/"data":\{.*\},"cross_seq"/, '"data":[],"cross_seq"'),
    ],
    ["missing price", good.replace('"price":"1053.75",', "")],
    ["missing side", good.replace('"side":"Sell",', "")],
    ["missing size", good.replace(',"size":17.46', "")],
    ["other side", good.replace('"Sell"', '"sell"')],
    ["price as number", good.replace('"1053.75"', "1053.75")],
    ["size as string", good.replace("17.46", '"17.46"')],
    ["id as null", good.replace('"10543000"', "null")],
    [
      "symbol as number",
      good.replace(
        '"symbol":"BCHUSDT","id":"10537500"',
        '"symbol":1,"id":"10537500"',
      ),
    ],
    [
      "deleted size as string",
      good.replace('"side":"Buy"}', '"side":"Buy","size":"1"}'),
    ],
    ["negative price", good.replace('"1053.75"', '"-1053.75"')],
    ["zero price", good.replace('"1053.75"', '"0"')],
    ["price beyond MAX_PRICE", good.replace('"1053.75"', '"1e12"')],
    ["deleted row's bad price", good.replace('"1054.30"', '"x"')],
    ["negative size", good.replace("17.46", "-17.46")],
    ["negative zero size", good.replace("17.46", "-0")],
    ["size beyond MAX_SIZE", good.replace("17.46", "1e21")],
    ["leading zero", good.replace('"1053.75"', '"01053.75"')],
    ["empty price", good.replace('"1053.75"', '""')],
    ["cross_seq fractional", good.replace('"5503960397"', '"5503960397.5"')],
    ["cross_seq negative", good.replace('"5503960397"', "-1")],
    ["cross_seq unsafe", good.replace('"5503960397"', "9007199254740992")],
    ["cross_seq empty", good.replace('"5503960397"', '""')],
    ["cross_seq null", good.replace('"5503960397"', "null")],
    ["time not a number", good.replace('"1618677786985830"', '"soon"')],
    ["time null", good.replace('"1618677786985830"', "null")],
    [
      "transactTimeE6 as string",
      good.replace('"insert"', '"transactTimeE6":"0","insert"'),
    ],
    ["truncated", good.slice(0, -1)],
    ["array", `[${good}]`],
    [
      "ack",
      '{"success":true,"ret_msg":"","conn_id":"x","request":{"op":"subscribe","args":["orderBookL2_25.BCHUSDT"]}}',
    ],
    [
      "pong",
      '{"success":true,"ret_msg":"pong","conn_id":"x","request":{"op":"ping","args":null}}',
    ],
    ["not JSON", "orderBookL2_25"],
    ["empty", ""],
  ];
  const linear = everySymbol(false);
  for (const [what, frame] of odd) {
    assert.notEqual(frame, good, `${what}: the edit applies`);
    assert.equal(s.scan(frame), false, what);
    // What parse makes of it, scanBook leaves to parse.
    assert.equal(
      bybitV2Adapter.parser(linear).scanBook!(frame, RECV),
      null,
      what,
    );
  }
  // The topic's symbol is the text after its last dot, as parse takes it.
  const dotted = good.replace("L2_25.BCHUSDT", "L2_25.X.BCHUSDT");
  assert.ok(s.scan(dotted));
  assert.equal(s.symbol, "BCHUSDT");
  assertSameDelta(dotted, TABLE);
  // And the scanner is not left in a state that breaks the next frame.
  assert.ok(s.scan(good));
  assert.equal(s.symbol, "BCHUSDT");
  assert.deepEqual([...s.bids.prices.subarray(0, s.bids.count)], [
    1054.3,
    1053.7,
  ]);
  assert.deepEqual([...s.bids.sizes.subarray(0, s.bids.count)], [0, 2]);
  assert.equal(s.asks.count, 1);
  assert.equal(s.asks.sizes[0], 17.46);
});

Deno.test("bybit v2 scan: fuzzed rows equal parseFloat and parse's levels, linear and inverse, or the frame is refused", () => {
  const s = new BybitV2BookScanner();
  const row = fc.tuple(levelToken, levelToken, fc.boolean());
  const tables = [
    everySymbol(false),
    everySymbol(true),
    everySymbol(true, 1e6),
  ];
  fc.assert(
    fc.property(
      fc.array(row, { maxLength: 8 }),
      fc.array(row, { maxLength: 8 }),
      fc.array(row, { maxLength: 8 }),
      fc.boolean(),
      (deleted, updated, inserted, sizedDeletes) => {
        // Sizes as raw JSON number tokens, as Bybit writes them.
        const rows = (rs: [string, string, boolean][], sized: boolean) =>
          `[${
            rs.map(([p, q, buy]) =>
              `{"price":"${p}","symbol":"BTCUSD","id":1,"side":"${
                buy ? "Buy" : "Sell"
              }"${sized ? `,"size":${q}` : ""}}`
            ).join(",")
          }]`;
        const frame =
          `{"topic":"orderBookL2_25.BTCUSD","type":"delta","data":{"delete":${
            rows(deleted, sizedDeletes)
          },"update":${rows(updated, true)},"insert":${
            rows(inserted, true)
          }},"cross_seq":7,"timestamp_e6":1573044650028026}`;
        const ok = levelsInRange([
          ...deleted.map(([p]) => [p, "0"]),
          ...[...updated, ...inserted].map(([p, q]) => [p, q]),
        ]);
        assert.equal(s.scan(frame), ok, frame);
        if (!ok) return;
        assertSame(s, JSON.parse(frame), frame);
        for (const table of tables) assertSameDelta(frame, table);
      },
    ),
    { numRuns: 3_000 },
  );
});

Deno.test("bybit v2 scan: a mutated real delta is refused, or read exactly as JSON.parse reads it", async () => {
  const s = new BybitV2BookScanner();
  const alphabet = [...'0123456789.-+eE"[]{},:\\ BSabdeiloprstuyz_'];
  for (const [file, inverse] of [[USDT, false], [INVERSE, true]] as const) {
    const frames = (await capturedTexts(file)).filter((f) => v2Delta(f));
    const table = everySymbol(inverse);
    const recognised = checkMutants(s, frames, {
      alphabet,
      numRuns: 5_000,
      check: (f) => {
        const msg = v2Delta(f);
        assert.ok(msg !== undefined, `recognised a non-delta frame: ${f}`);
        assertSame(s, msg, f);
        assertSameDelta(f, table);
      },
    });
    // Edits within a price, a size, an id or a time leave a frame readable.
    assert.ok(recognised > 200, `${file}: only ${recognised} mutants read`);
  }
});
