import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import fc from "fast-check";
import { type BookSide, OrderBook } from "../market/book.ts";
import type { Instrument, MarketEvent } from "../market/events.ts";
import { bitfinexAdapter } from "./bitfinex.ts";
import { krakenV1Adapter } from "./kraken_v1.ts";
import { krakenChecksum } from "./_kraken.ts";
import { Crc32 } from "./_crc32.ts";
import { capturedTexts } from "./_testing.ts";

const CAPTURES = "../shared/data/captures/cryptofeed";

/** The body of a REST line of a capture's `.0` file. */
async function restBody(file: string, url: string): Promise<string> {
  const line = (await Deno.readTextFile(`${CAPTURES}/${file}`)).split("\n")
    .find((l) => l.includes(url + " -> "))!;
  return line.slice(line.indexOf(": ") + 2);
}

/** Reference, the former implementation: Kraken's text built, then CRC-32. */
function krakenReference(book: OrderBook): number {
  return crc32(appendSide(appendSide("", book.asks), book.bids));
}

/** Appends the best 10 levels of a side, best first (former code). */
function appendSide(acc: string, side: BookSide): string {
  const prices = side.rawPrices!;
  const sizes = side.rawSizes!;
  const end = Math.max(0, side.length - 10);
  for (let i = side.length - 1; i >= end; i--) {
    acc = appendDigits(appendDigits(acc, prices[i]), sizes[i]);
  }
  return acc;
}

/** Appends a level string, `.` removed, leading zeros stripped (former code). */
function appendDigits(acc: string, s: string): string {
  let lead = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) continue; // "."
    if (lead && c === 0x30) continue; // leading "0"
    lead = false;
    acc += s[i];
  }
  return acc;
}

/** Reference, the former implementation: Bitfinex's `:`-joined text, CRC-32. */
function bitfinexReference(b: OrderBook): number {
  const parts: string[] = [];
  for (let k = 0; k < 25; k++) {
    const bi = b.bids.length - 1 - k; // best level is last
    const ai = b.asks.length - 1 - k;
    if (bi >= 0) {
      parts.push(
        b.bids.rawPrices?.[bi] ?? String(b.bids.prices[bi]),
        b.bids.rawSizes?.[bi] ?? String(b.bids.sizes[bi]),
      );
    }
    if (ai >= 0) {
      parts.push(
        b.asks.rawPrices?.[ai] ?? String(b.asks.prices[ai]),
        b.asks.rawSizes?.[ai] ?? String(-b.asks.sizes[ai]),
      );
    }
  }
  return crc32(parts.join(":")) | 0;
}

/** A side's levels as flat `[price, size, …]`. */
function flatLevels(side: BookSide): number[] {
  const out: number[] = [];
  for (let i = 0; i < side.length; i++) out.push(side.prices[i], side.sizes[i]);
  return out;
}

/** Applies a book event as the connection does; false for other events. */
function applyTo(book: OrderBook, e: MarketEvent): boolean {
  if (e.type !== "book_snapshot" && e.type !== "book_delta") return false;
  if (e.type === "book_snapshot") book.clear();
  book.apply(e.bids, e.asks, e.raw);
  return true;
}

Deno.test("Crc32: equals zlib's crc32 of the UTF-8 text for any code units, lone surrogates and pairs split across calls included", () => {
  const units = fc.array(
    fc.oneof(
      fc.integer({ min: 0x20, max: 0x7f }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0xd800, max: 0xdfff }),
    ),
    { maxLength: 40 },
  );
  const crc = new Crc32();
  fc.assert(
    fc.property(units, fc.nat(40), (us, cut) => {
      const s = String.fromCharCode(...us);
      crc.reset();
      crc.text(s.slice(0, cut));
      crc.text(s.slice(cut));
      assert.equal(crc.value(), crc32(s));
    }),
    { numRuns: 2000 },
  );
  crc.reset();
  assert.equal(crc.value(), crc32(""));
});

Deno.test("krakenChecksum: equals the string-built reference on every book state of the Kraken capture (all symbols)", async () => {
  const body = await restBody("KRAKEN.0", "/0/public/AssetPairs");
  const insts = krakenV1Adapter.instruments([body]);
  const parser = krakenV1Adapter.parser(
    new Map<string, Instrument>(insts.map((i) => [i.exchangeSymbol, i])),
  );
  const books = new Map<string, OrderBook>();
  let checked = 0;
  let venue = 0;
  for (const text of await capturedTexts("KRAKEN.ws.50.0")) {
    for (const e of parser.parse(text, 0)) {
      if (!("exchangeSymbol" in e)) continue;
      let book = books.get(e.exchangeSymbol);
      if (book === undefined) {
        books.set(e.exchangeSymbol, book = new OrderBook(true));
      }
      if (!applyTo(book, e)) continue;
      const got = krakenChecksum(book);
      assert.equal(got, krakenReference(book));
      checked++;
      if (e.type === "book_delta" && e.checksum !== undefined) {
        assert.equal(got, e.checksum);
        venue++;
      }
    }
  }
  assert.ok(books.size > 1, `${books.size} books`);
  assert.ok(
    venue > 0 && checked >= venue,
    `${checked} states, ${venue} venue checksums`,
  );
});

Deno.test("krakenChecksum: equals the string-built reference on random level strings (leading zeros, dots, short books)", () => {
  const num = fc.tuple(
    fc.stringMatching(/^0{0,3}[0-9]{0,6}$/),
    fc.stringMatching(/^[0-9]{0,8}$/),
  ).map(([w, f]) => f === "" ? (w === "" ? "0" : w) : `${w}.${f}`);
  const levels = fc.array(fc.tuple(num, num), { maxLength: 14 });
  fc.assert(
    fc.property(levels, levels, (bids, asks) => {
      const book = new OrderBook(true);
      // Distinct float prices keep every string level: index as the price.
      const flat = (ls: [string, string][], base: number) =>
        ls.flatMap((_, i) => [base + i, 1]);
      book.apply(flat(bids, 1), flat(asks, 1000), {
        bids: bids.flat(),
        asks: asks.flat(),
      });
      assert.equal(krakenChecksum(book), krakenReference(book));
    }),
    { numRuns: 500 },
  );
});

Deno.test("krakenChecksum: one book changed over and over equals the reference after every change (each checksum goes on from the last one's state at the first level that differs)", () => {
  const digits = fc.stringMatching(/^[1-9][0-9]{0,5}$/);
  // A change: side, price index (the price is the index; 0..29 spans the
  // top 10 and below it), a size string ("" deletes the level) drawn from
  // a few texts, so a level is often set to the text it had, and a price
  // text.
  const change = fc.tuple(
    fc.boolean(),
    fc.integer({ min: 0, max: 29 }),
    fc.constantFrom("", "1.5", "0.00100", "2", "1.50"),
    digits,
  );
  fc.assert(
    fc.property(fc.array(change, { maxLength: 60 }), (changes) => {
      const book = new OrderBook(true);
      for (const [bid, at, size, text] of changes) {
        // Bids count down from 100 (best highest), asks up from 200.
        const price = bid ? 100 - at : 200 + at;
        const raw = [`${price}.${text}`, size === "" ? "0" : size];
        const level = [price, size === "" ? 0 : Number(size)];
        if (bid) book.apply(level, [], { bids: raw, asks: [] });
        else book.apply([], level, { bids: [], asks: raw });
        assert.equal(krakenChecksum(book), krakenReference(book));
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("Crc32: resuming from a state equals feeding the text before it again", () => {
  fc.assert(
    fc.property(fc.string(), fc.string(), (a, b) => {
      const crc = new Crc32();
      crc.reset();
      crc.text(a);
      const mid = crc.state();
      crc.text(b);
      const whole = crc.value();
      crc.reset();
      crc.text("something else entirely");
      crc.resume(mid);
      crc.text(b);
      assert.equal(crc.value(), whole);
      assert.equal(whole, crc32(a + b));
    }),
    { numRuns: 500 },
  );
});

Deno.test("bitfinex checksum: equals the joined-string reference on every book state of the Bitfinex capture, and on books without strings", async () => {
  const urls = bitfinexAdapter.metadataUrls;
  const bodies = await Promise.all(
    urls.map((u) => restBody("BITFINEX.0", u)),
  );
  const insts = bitfinexAdapter.instruments(bodies);
  const parser = bitfinexAdapter.parser(
    new Map<string, Instrument>(insts.map((i) => [i.exchangeSymbol, i])),
  );
  const checksum = bitfinexAdapter.book.checksum!;
  const books = new Map<string, OrderBook>();
  let checked = 0;
  for (const text of await capturedTexts("BITFINEX.ws.11.0")) {
    for (const e of parser.parse(text, 1)) {
      if (!("exchangeSymbol" in e)) continue;
      let book = books.get(e.exchangeSymbol);
      if (book === undefined) {
        books.set(e.exchangeSymbol, book = new OrderBook(true));
      }
      if (!applyTo(book, e)) continue;
      const got = checksum(book);
      assert.equal(got, bitfinexReference(book));
      checked++;
      // The same levels without the venue's strings: the printed floats.
      const bare = new OrderBook(false);
      bare.apply(flatLevels(book.bids), flatLevels(book.asks));
      assert.equal(checksum(bare), bitfinexReference(bare));
    }
  }
  assert.ok(books.size > 1, `${books.size} books`);
  // The capture predates `cs` messages: every book event is a state.
  assert.equal(checked, 1600);
});
