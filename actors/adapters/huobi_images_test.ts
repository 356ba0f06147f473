/**
 * HTX `depth.step0` pushes a whole 150-level image every time. The book
 * keeper applies an image on a synced book as the changes against the book
 * (`OrderBook.replace`) and sends only those on. Over the real spot and swap
 * captures, after every frame: the keeper's book equals a full rebuild from
 * the image, and a mirror fed only the keeper's batch records (as the
 * aggregator is) equals it too.
 */

import assert from "node:assert/strict";
import { readCaptures } from "../capture/capture.ts";
import { captureAdapter, captureSymbols } from "../capture/plan.ts";
import { BookKeeper } from "../connection/book_keeper.ts";
import { newCounters } from "../connection/stats.ts";
import { BatchBuilder, columns, Kind } from "../market/batch.ts";
import { type BookSide, OrderBook } from "../market/book.ts";
import { resolveSymbols } from "../market/symbols.ts";

const DIR = "../shared/data/captures/cryptofeed";

function sameSide(got: BookSide, want: BookSide, what: string): void {
  assert.equal(got.length, want.length, `${what} depth`);
  for (let i = 0; i < want.length; i++) {
    assert.equal(got.prices[i], want.prices[i], `${what}[${i}] price`);
    assert.equal(got.sizes[i], want.sizes[i], `${what}[${i}] size`);
  }
}

/** Path and query of a URL, how the capture's REST bodies are keyed. */
function key(url: string): string {
  const u = new URL(url);
  return u.pathname + u.search;
}

for (
  const files of [
    ["HUOBI.0", "HUOBI.ws.44.0"],
    ["HUOBI_SWAP.0", "HUOBI_SWAP.ws.1.0", "HUOBI_SWAP.ws.2.0"],
  ]
) {
  Deno.test(`huobi images: ${files[0]}: the keeper's diffed books and its batch's mirror equal full rebuilds after every frame`, async () => {
    const [cap] = await readCaptures(files.map((f) => `${DIR}/${f}`));
    const ad = captureAdapter(cap);
    const bodies = new Map<string, string>();
    for (const r of cap.records) {
      if (r.kind === "http") bodies.set(key(r.url), r.body);
    }
    const meta = ad.metadataUrls.map((u) => bodies.get(key(u))!);
    const { found } = resolveSymbols(captureSymbols(cap), ad.instruments(meta));
    const batch = new BatchBuilder(ad.id);
    const warnings: string[] = [];
    const keeper = new BookKeeper({
      exchange: ad.id,
      spec: ad.book,
      batch,
      counters: newCounters(),
      hooks: {
        needSnapshot: () => {},
        send: () => true,
        reconnect: () => {},
        warn: (m) => warnings.push(m),
      },
    });
    keeper.follow(found, 0);
    const parser = ad.parser(new Map(found.map((i) => [i.exchangeSymbol, i])));
    const rebuilt = new Map<string, OrderBook>();
    const mirror = new Map<string, OrderBook>();
    let images = 0;
    let imageLevels = 0;
    let records = 0;
    for (const r of cap.records) {
      if (r.kind !== "recv") continue;
      const events = parser.parse(r.binary ?? r.text!, r.ts);
      const touched = new Set<string>();
      for (const ev of events) {
        keeper.onEvent(ev);
        if (ev.type === "book_delta") {
          assert.fail("depth.step0 sends only images");
        }
        if (ev.type !== "book_snapshot") continue;
        let b = rebuilt.get(ev.exchangeSymbol);
        if (!b) rebuilt.set(ev.exchangeSymbol, b = new OrderBook());
        b.clear();
        b.apply(ev.bids, ev.asks);
        touched.add(ev.exchangeSymbol);
        images++;
        imageLevels += (ev.bids.length + ev.asks.length) / 2;
      }
      const b = batch.take();
      const c = columns(b);
      for (let i = 0; i < b.n; i++) {
        const kind = c.code[i] % 8;
        if (kind !== Kind.Clear && kind !== Kind.Bid && kind !== Kind.Ask) {
          continue;
        }
        const sym = b.symbols[(c.code[i] - kind) / 8].exchangeSymbol;
        let m = mirror.get(sym);
        if (!m) mirror.set(sym, m = new OrderBook());
        if (kind === Kind.Clear) m.clear();
        else {
          (kind === Kind.Bid ? m.bids : m.asks).set(c.price[i], c.size[i]);
          records++;
        }
      }
      for (const sym of touched) {
        const f = keeper.followed.get(sym)!;
        assert.equal(f.sync.state, "synced", sym);
        const want = rebuilt.get(sym)!;
        sameSide(f.book.bids, want.bids, `${sym} bids`);
        sameSide(f.book.asks, want.asks, `${sym} asks`);
        sameSide(mirror.get(sym)!.bids, want.bids, `${sym} mirror bids`);
        sameSide(mirror.get(sym)!.asks, want.asks, `${sym} mirror asks`);
      }
    }
    assert.deepEqual(warnings, []);
    assert.ok(images > 250, `${images} images`);
    // Only the changes travel: far fewer records than the images hold.
    assert.ok(
      records < imageLevels / 2,
      `${records} records for ${imageLevels} image levels`,
    );
  });
}
