/**
 * Level and trade validation, written once in `_common.ts` and used by every
 * venue: the number readers' edge cases, then real frames from the shared
 * captures with ONE value mutated (a level's price or size, a trade's price
 * and quantity), which every venue must reject with a `MalformedFrameError`
 * naming the bad value and the field, carrying the symbol for book frames.
 */

import assert from "node:assert/strict";
import type { Instrument, MarketEvent } from "../market/events.ts";
import { type Adapter, MalformedFrameError, type Parser } from "./adapter.ts";
import {
  amountError,
  baseLevels,
  checksumValue,
  decimalValue,
  MAX_PRICE,
  MAX_SIZE,
  priceValue,
  sequenceValue,
  sizeValue,
  timeValue,
} from "./_common.ts";
import { binanceAdapter } from "./binance.ts";
import { binanceFuturesAdapter } from "./binance_futures.ts";
import { bitfinexAdapter } from "./bitfinex.ts";
import { bybitV2Adapter } from "./bybit_v2.ts";
import { coinbaseProAdapter } from "./coinbase_pro.ts";
import { gateioAdapter } from "./gateio.ts";
import { huobiStep0Adapter } from "./huobi_step0.ts";
import { huobiSwapAdapter } from "./huobi_swap.ts";
import { krakenV1Adapter } from "./kraken_v1.ts";
import { kucoinAdapter } from "./kucoin.ts";
import { okxChecksumAdapter } from "./okx_checksum.ts";
import { krakenAdapter } from "./kraken.ts";
import { mexcAdapter } from "./mexc.ts";
import { capturedTexts, CAPTURES, tardisInputs } from "./_testing.ts";

Deno.test("validation: decimalValue reads JSON numbers and decimal strings only", () => {
  const good: [unknown, number][] = [
    ["1", 1],
    ["0", 0],
    ["-0", -0],
    ["0.5", 0.5],
    ["0.00001305", 0.00001305],
    ["-3.25", -3.25],
    ["1e-8", 1e-8],
    ["1E5", 1e5],
    ["2.5e+3", 2500],
    ["0e3", 0],
    ["0.10000000", 0.1], // Kraken v2 source text keeps trailing zeros
    [42, 42],
    [-0, -0],
    [1e308, 1e308],
  ];
  for (const [v, n] of good) {
    assert.ok(Object.is(decimalValue(v), n), `${JSON.stringify(v)} → ${n}`);
  }
  const bad: unknown[] = [
    "", // `+""` is 0: the empty-size fault
    " ",
    " 1",
    "1 ",
    "\t1",
    "1\n",
    "\u00a01",
    "0x10", // `+"0x10"` is 16
    "0X10",
    "0b1",
    "0o7",
    "01",
    "-01",
    "00.5",
    "+1",
    ".5",
    "5.",
    "-",
    "1e",
    "1e400", // `+"1e400"` is Infinity
    "-1e400",
    "9".repeat(400), // a huge digit string is Infinity too
    "Infinity",
    "-Infinity",
    "NaN",
    "1_000",
    "1,5",
    "١",
    Infinity, // JSON.parse("1e400")
    -Infinity,
    NaN,
    null,
    undefined,
    true,
    [],
    [1],
    {},
  ];
  for (const v of bad) {
    assert.ok(
      Number.isNaN(decimalValue(v)),
      `${typeof v === "string" ? JSON.stringify(v) : String(v)} is no number`,
    );
  }
});

Deno.test("validation: prices are in (0, MAX_PRICE), sizes in [0, MAX_SIZE], -0 reads as 0", () => {
  assert.equal(priceValue("100.5"), 100.5);
  assert.equal(priceValue(1e-12), 1e-12);
  assert.equal(priceValue(MAX_PRICE - 1), MAX_PRICE - 1);
  for (const v of [0, -0, "0", "-0", -1, "-1", MAX_PRICE, 1e308, "1e308"]) {
    assert.ok(Number.isNaN(priceValue(v)), `price ${String(v)}`);
  }
  assert.equal(sizeValue("2.5"), 2.5);
  assert.equal(sizeValue("0"), 0);
  assert.ok(Object.is(sizeValue("-0"), 0), "-0 reads as +0");
  assert.ok(Object.is(sizeValue(-0), 0), "-0 reads as +0");
  assert.equal(sizeValue(MAX_SIZE), MAX_SIZE);
  for (const v of [-1e-9, "-5", MAX_SIZE * 10, 1e308, "1e400", ""]) {
    assert.ok(Number.isNaN(sizeValue(v)), `size ${String(v)}`);
  }
});

Deno.test("validation: sequences are non-negative safe integers, checksums 32-bit integers, bad times fall back", () => {
  assert.equal(sequenceValue(600859600917), 600859600917);
  assert.equal(sequenceValue("1613277183874"), 1613277183874);
  assert.equal(sequenceValue(0), 0);
  for (const v of [-1, 1.5, 2 ** 53, Infinity, "", "0x10", null]) {
    assert.ok(Number.isNaN(sequenceValue(v)), `sequence ${String(v)}`);
  }
  assert.equal(checksumValue(3310070434), 3310070434); // Kraken, unsigned
  assert.equal(checksumValue(-914047754), -914047754); // OKX, signed
  assert.equal(checksumValue("176333288"), 176333288); // Kraken v1, a string
  for (const v of [2 ** 32, -(2 ** 31) - 1, 1.5, Infinity, ""]) {
    assert.ok(Number.isNaN(checksumValue(v)), `checksum ${String(v)}`);
  }
  assert.equal(timeValue(1568014460893, 7), 1568014460893);
  assert.equal(timeValue("1652459225464", 7), 1652459225464);
  for (const v of ["", "x", -1, 0, Infinity, 1e300, undefined, null]) {
    assert.equal(timeValue(v, 7), 7, `time ${String(v)}`);
  }
});

Deno.test("validation: amountError names the first bad field and its value; baseLevels checks the size in base", () => {
  const inv: Instrument = {
    exchange: "x",
    exchangeSymbol: "BTCUSD",
    symbol: "BTC-USD",
    base: "BTC",
    quote: "USD",
    market: "perpetual",
    contractSize: 100,
    inverse: true,
  };
  const e = amountError("level", "-1", "", {
    symbol: "BTCUSD",
    book: true,
    at: 2,
  });
  assert.equal(e.message, 'Bad level price "-1" at index 2 of BTCUSD');
  assert.equal(e.symbol, "BTCUSD");
  const t = amountError("trade", "5", 1e400, { symbol: "BTCUSD" });
  assert.equal(t.message, "Bad trade size Infinity of BTCUSD");
  assert.equal(t.symbol, undefined, "a trade frame costs no book");
  // 10^19 contracts of 100 USD at a price of 10^-6: 10^27 BTC.
  assert.throws(
    () => baseLevels([["0.000001", "1e19"]], inv),
    (err: unknown) =>
      err instanceof MalformedFrameError && err.symbol === "BTCUSD" &&
      /size "1e19" at price "0\.000001" at index 0 of BTCUSD: .* out of range/
        .test(err.message),
  );
  assert.deepEqual(baseLevels([["40000", "4"], [50000, 0]], inv), [
    40000,
    0.01,
    50000,
    0,
  ]);
});

// ---- real frames, one value mutated ----

/** A key path into a parsed frame. */
type Path = readonly (string | number)[];

/** One venue's capture and where its frames hold a level and a trade. */
interface VenueCase {
  readonly name: string;
  readonly adapter: Adapter;
  readonly inst: Instrument;
  /** Capture file under the shared captures (text frames). */
  readonly file: string;
  /** Price and size of the first level of a book update. */
  readonly level: { readonly price: Path; readonly size: Path };
  /** Price and quantity of a trade, when the capture has trades of `inst`. */
  readonly trade?: { readonly price: Path; readonly size: Path };
}

function spot(
  exchange: string,
  exchangeSymbol: string,
  base: string,
  quote: string,
): Instrument {
  return {
    exchange,
    exchangeSymbol,
    symbol: `${base}-${quote}`,
    base,
    quote,
    market: "spot",
    contractSize: 1,
  };
}

const VENUES: readonly VenueCase[] = [
  {
    name: "binance",
    adapter: binanceAdapter,
    inst: spot("binance", "NKNUSDT", "NKN", "USDT"),
    file: "BINANCE.ws.1.0",
    level: { price: ["data", "b", 0, 0], size: ["data", "b", 0, 1] },
    trade: { price: ["data", "p"], size: ["data", "q"] },
  },
  {
    name: "binance-futures",
    adapter: binanceFuturesAdapter,
    inst: { ...spot("binance-futures", "SUSHIUSDT", "SUSHI", "USDT") },
    file: "BINANCE_FUTURES.ws.1.0",
    level: { price: ["data", "a", 0, 0], size: ["data", "a", 0, 1] },
    trade: { price: ["data", "p"], size: ["data", "q"] },
  },
  {
    name: "coinbase-pro",
    adapter: coinbaseProAdapter,
    inst: spot("coinbase", "SKL-BTC", "SKL", "BTC"),
    file: "COINBASE.ws.28.0",
    level: { price: ["changes", 0, 1], size: ["changes", 0, 2] },
    trade: { price: ["price"], size: ["size"] },
  },
  {
    name: "kraken v1",
    adapter: krakenV1Adapter,
    inst: spot("kraken", "WAVES/EUR", "WAVES", "EUR"),
    file: "KRAKEN.ws.50.0",
    level: { price: [1, "a", 0, 0], size: [1, "a", 0, 1] },
  },
  {
    name: "bybit v2",
    adapter: bybitV2Adapter,
    inst: { ...spot("bybit", "BCHUSDT", "BCH", "USDT"), market: "perpetual" },
    file: "BYBIT.ws.25.0",
    level: {
      price: ["data", "update", 0, "price"],
      size: ["data", "update", 0, "size"],
    },
    trade: { price: ["data", 0, "price"], size: ["data", 0, "size"] },
  },
  {
    name: "okx (checksum era)",
    adapter: okxChecksumAdapter,
    inst: spot("okx", "BTC-USDT", "BTC", "USDT"),
    file: "OKX.ws.1.0",
    level: {
      price: ["data", 0, "bids", 0, 0],
      size: ["data", 0, "bids", 0, 1],
    },
    trade: { price: ["data", 0, "px"], size: ["data", 0, "sz"] },
  },
  {
    name: "gateio",
    adapter: gateioAdapter,
    inst: spot("gateio", "HAI_ETH", "HAI", "ETH"),
    file: "GATEIO.ws.1.0",
    level: { price: ["result", "b", 0, 0], size: ["result", "b", 0, 1] },
  },
  {
    name: "kucoin",
    adapter: kucoinAdapter,
    inst: spot("kucoin", "DAPPT-BTC", "DAPPT", "BTC"),
    file: "KUCOIN.ws.1.0",
    level: {
      price: ["data", "changes", "bids", 0, 0],
      size: ["data", "changes", "bids", 0, 1],
    },
    trade: { price: ["data", "price"], size: ["data", "size"] },
  },
  {
    name: "bitfinex",
    adapter: bitfinexAdapter,
    inst: spot("bitfinex", "tDOGUSD", "DOG", "USD"),
    file: "BITFINEX.ws.11.0",
    // An update `[chanId, [price, count, amount], seq]`.
    level: { price: [1, 0], size: [1, 2] },
  },
  {
    name: "huobi (depth.step0)",
    adapter: huobiStep0Adapter,
    inst: spot("huobi", "trioeth", "TRIO", "ETH"),
    file: "decoded/HUOBI.ws.44.0",
    level: { price: ["tick", "bids", 0, 0], size: ["tick", "bids", 0, 1] },
  },
  {
    name: "huobi-swap",
    adapter: huobiSwapAdapter,
    inst: {
      ...spot("huobi-swap", "ATOM-USD", "ATOM", "USD"),
      market: "perpetual",
      contractSize: 10,
      inverse: true,
    },
    file: "decoded/HUOBI_SWAP.ws.1.0",
    level: { price: ["tick", "asks", 0, 0], size: ["tick", "asks", 0, 1] },
    trade: {
      price: ["tick", "data", 0, "price"],
      size: ["tick", "data", 0, "amount"],
    },
  },
];

/** A fault: one value replaced, written as the venue writes that field. */
interface Fault {
  readonly name: string;
  readonly field: "price" | "size";
  /** The value as a JSON string, for fields sent as strings. */
  readonly text: string;
  /** The value as a JSON number (or string) literal, for fields sent as numbers. */
  readonly number: string;
}

/** The faults of the brief, each on a level of a book update. */
const LEVEL_FAULTS: readonly Fault[] = [
  { name: "negative size", field: "size", text: '"-5"', number: "-5" },
  {
    name: "size beyond the float range",
    field: "size",
    text: '"1e400"',
    number: "1e400",
  },
  { name: "absurd price", field: "price", text: '"1e308"', number: "1e308" },
  { name: "negative price", field: "price", text: '"-1"', number: "-1" },
  { name: "empty size", field: "size", text: '""', number: '""' },
  { name: "hex size", field: "size", text: '"0x10"', number: '"0x10"' },
  { name: "size with a space", field: "size", text: '" 5"', number: '" 5"' },
  { name: "price 0", field: "price", text: '"0"', number: "0" },
];

function get(v: unknown, path: Path): unknown {
  let x = v;
  for (const k of path) x = (x as Record<string | number, unknown>)?.[k];
  return x;
}

/**
 * `frame` with the values at `paths` replaced by JSON literals, spliced in as
 * text so that `1e400` and `-0` reach the parser as written.
 */
function mutate(frame: string, edits: readonly [Path, string][]): string {
  const msg = JSON.parse(frame);
  edits.forEach(([path, _], i) => {
    const parent = get(msg, path.slice(0, -1)) as Record<
      string | number,
      unknown
    >;
    parent[path[path.length - 1]] = `@@BAD${i}@@`;
  });
  let out = JSON.stringify(msg);
  edits.forEach(([_, literal], i) => {
    out = out.replace(`"@@BAD${i}@@"`, literal);
  });
  return out;
}

/** How a literal reads in an error message (`1e400` as `Infinity`). */
function shown(literal: string): string {
  const v = JSON.parse(literal);
  return typeof v === "string" ? literal : String(v);
}

/**
 * The index of the first frame of `file` whose value at `path` exists and
 * whose parse yields an event of `type` for the venue's instrument.
 */
function target(
  c: VenueCase,
  frames: readonly string[],
  path: Path,
  type: (e: MarketEvent) => boolean,
): number {
  const p = c.adapter.parser(new Map([[c.inst.exchangeSymbol, c.inst]]));
  for (let i = 0; i < frames.length; i++) {
    let events: MarketEvent[];
    try {
      events = p.parse(frames[i], 1);
    } catch {
      continue;
    }
    if (!frames[i].startsWith("[") && !frames[i].startsWith("{")) continue;
    const v = get(JSON.parse(frames[i]), path);
    if (
      (typeof v === "string" || typeof v === "number" ||
        typeof v === "boolean") &&
      events.some((e) =>
        type(e) && e.type !== "disconnect" &&
        e.exchangeSymbol === c.inst.exchangeSymbol
      )
    ) return i;
  }
  throw new Error(`${c.name}: no frame of ${c.inst.exchangeSymbol} at ${path}`);
}

/** A parser that has read `frames[0..i)` (venues with per-connection state). */
function parserAt(c: VenueCase, frames: readonly string[], i: number): Parser {
  const p = c.adapter.parser(new Map([[c.inst.exchangeSymbol, c.inst]]));
  for (let k = 0; k < i; k++) {
    try {
      p.parse(frames[k], 1);
    } catch {
      // not this test's business
    }
  }
  return p;
}

const isBook = (e: MarketEvent) =>
  e.type === "book_delta" || e.type === "book_snapshot";
const isTrade = (e: MarketEvent) => e.type === "trade";

for (const c of VENUES) {
  Deno.test(`validation: ${c.name}: a captured book update with one level value mutated throws MalformedFrameError with the symbol`, async () => {
    const frames = await capturedTexts(c.file);
    const at = target(c, frames, c.level.size, isBook);
    const original = JSON.parse(frames[at]);
    for (const f of LEVEL_FAULTS) {
      const path = c.level[f.field];
      // Bitfinex amounts are signed: a negative one is an ask, not a fault.
      if (c.name === "bitfinex" && f.name === "negative size") continue;
      // KuCoin's price "0" is its placeholder for "no change on this side".
      if (c.name === "kucoin" && f.name === "price 0") continue;
      const literal = typeof get(original, path) === "string"
        ? f.text
        : f.number;
      const frame = mutate(frames[at], [[path, literal]]);
      const p = parserAt(c, frames, at);
      assert.throws(
        () => p.parse(frame, 1),
        (e: unknown) => {
          assert.ok(e instanceof MalformedFrameError, `${f.name}: ${e}`);
          assert.equal(e.symbol, c.inst.exchangeSymbol, `${f.name}: symbol`);
          assert.ok(
            e.message.includes(`${f.field} ${shown(literal)}`) &&
              e.message.includes(c.inst.exchangeSymbol),
            `${f.name}: "${e.message}" names ${f.field} ${shown(literal)}`,
          );
          return true;
        },
        `${c.name}: ${f.name} (${literal}) accepted`,
      );
    }
    // The frame as captured still parses.
    const clean = parserAt(c, frames, at).parse(frames[at], 1);
    assert.ok(clean.some(isBook));
  });

  if (c.trade === undefined) continue;
  const trade = c.trade;
  Deno.test(`validation: ${c.name}: a captured trade with price -1 and quantity -1e400 throws MalformedFrameError naming the price`, async () => {
    const frames = await capturedTexts(c.file);
    const at = target(c, frames, trade.price, isTrade);
    const original = JSON.parse(frames[at]);
    const str = typeof get(original, trade.price) === "string";
    const cases: [string, string, string][] = [
      // [price, size, the field named]
      [str ? '"-1"' : "-1", str ? '"-1e400"' : "-1e400", "price"],
      [str ? '"1e308"' : "1e308", str ? '"1"' : "1", "price"],
      [
        JSON.stringify(get(original, trade.price)),
        str ? '"-1e400"' : "-1e400",
        "size",
      ],
      [JSON.stringify(get(original, trade.price)), '""', "size"],
    ];
    for (const [price, size, field] of cases) {
      const frame = mutate(frames[at], [[trade.price, price], [
        trade.size,
        size,
      ]]);
      const bad = field === "price" ? price : size;
      assert.throws(
        () => parserAt(c, frames, at).parse(frame, 1),
        (e: unknown) =>
          e instanceof MalformedFrameError &&
          e.message.includes(`${field} ${shown(bad)}`) &&
          e.message.includes(c.inst.exchangeSymbol) &&
          // A trade frame loses no book update.
          e.symbol === undefined,
        `${c.name}: trade ${price} x ${size}`,
      );
    }
  });
}

Deno.test("validation: binance: a REST snapshot with a negative size is malformed for its symbol", async () => {
  const line = (await Deno.readTextFile(`${CAPTURES}/BINANCE.http.0.0`))
    .split("\n").find((l) => l.includes("depth?symbol=NKNUSDT"))!;
  const body = line.slice(line.indexOf(": ") + 2);
  const inst = VENUES[0].inst;
  const parse = binanceAdapter.book.parseSnapshot!;
  assert.ok(parse(body, 1, inst).bids.length > 0);
  const bad = mutate(body, [[["bids", 3, 1], '"-5"']]);
  assert.throws(
    () => parse(bad, 1, inst),
    (e: unknown) =>
      e instanceof MalformedFrameError && e.symbol === "NKNUSDT" &&
      e.message === 'Bad level size "-5" at index 3 of NKNUSDT',
  );
});

Deno.test("validation: fields that pick a trade's side or a book's snapshot/update are read strictly, not guessed", async () => {
  // [venue, event type, path in the frame, value, message]; each a real
  // frame of the capture with that one value mutated.
  const cases: [string, (e: MarketEvent) => boolean, Path, string, RegExp][] = [
    ["binance", isTrade, ["data", "m"], "1", /^Bad aggTrade m 1 of NKNUSDT$/],
    [
      "bybit v2",
      isTrade,
      ["data", 0, "side"],
      '"buy"',
      /^Bad trade side "buy" of BCHUSDT$/,
    ],
    [
      "bybit v2",
      isBook,
      ["data", "update", 0, "side"],
      '""',
      /^Bad level side "" at index 0 of BCHUSDT$/,
    ],
    [
      "okx (checksum era)",
      isBook,
      ["action"],
      '"partial"',
      /^Bad books action "partial" of BTC-USDT$/,
    ],
    [
      "coinbase-pro",
      isTrade,
      ["side"],
      '"Sell"',
      /^Bad trade side "Sell"$/,
    ],
  ];
  for (const [name, type, path, literal, message] of cases) {
    const c = VENUES.find((v) => v.name === name)!;
    const frames = await capturedTexts(c.file);
    const at = target(c, frames, path, type);
    const frame = mutate(frames[at], [[path, literal]]);
    assert.throws(
      () => parserAt(c, frames, at).parse(frame, 1),
      (e: unknown) =>
        e instanceof MalformedFrameError && message.test(e.message) &&
        e.symbol === (type === isBook ? c.inst.exchangeSymbol : undefined),
      `${name}: ${path.join(".")} = ${literal}`,
    );
  }
});

Deno.test("validation: what `deno task fuzz` found stays fixed (each a real sample with one value mutated)", async () => {
  const one = (exchange: string, symbol: string) =>
    new Map([[symbol, spot(exchange, symbol, symbol, "X")]]);
  const throwsFor = (p: Parser, frame: string, symbol: string | undefined) =>
    assert.throws(
      () => p.parse(frame, 1),
      (e: unknown) => e instanceof MalformedFrameError && e.symbol === symbol,
      frame,
    );
  // HTX: an old `depth.step0` partial update whose `update` flag is not a
  // boolean was read as a full image, wiping the book's other levels.
  const htx = (await tardisInputs("huobi"))[4];
  assert.match(htx, /"update":true/);
  throwsFor(
    huobiStep0Adapter.parser(one("huobi", "BCH_CQ")),
    htx.replace('"update":true', '"update":1e400'),
    "BCH_CQ",
  );
  // Kraken v2: a book frame whose `type` is neither snapshot nor update was
  // read as an update (a snapshot would then leave the levels it replaces).
  const kraken = (await tardisInputs("kraken"))[3];
  assert.match(kraken, /"channel":"book","type":"update"/);
  throwsFor(
    krakenAdapter.parser(one("kraken", "BTC/USD")),
    kraken.replace('"type":"update"', '"type":1e400'),
    "BTC/USD",
  );
  // Kraken v1: an unreadable channel name of a followed pair's book frame
  // now names the pair's book.
  const v1 = VENUES.find((v) => v.name === "kraken v1")!;
  const frames = await capturedTexts(v1.file);
  const at = target(v1, frames, v1.level.size, isBook);
  throwsFor(
    parserAt(v1, frames, at),
    mutate(frames[at], [[[2], "1e400"]]),
    "WAVES/EUR",
  );
  // MEXC: a JSON-form push whose symbol is empty and channel not a string
  // crashed reading the channel (a TypeError); now it is simply unfollowed.
  const mexc = (await tardisInputs("mexc"))[4];
  const m = JSON.parse(mexc);
  assert.equal(m.symbol, "BTCUSDT");
  const p = mexcAdapter.parser(one("mexc", "BTCUSDT"));
  assert.ok(p.parse(mexc, 1).length === 1);
  assert.deepEqual(
    p.parse(JSON.stringify({ ...m, symbol: "", channel: {} }), 1),
    [],
  );
});
