import assert from "node:assert/strict";
import { BookSide, type LevelColumns } from "./book.ts";

/** Deterministic PRNG (LCG), so a failure replays. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

/** What `set` of each level in order gives: a map, sorted on demand. */
class Reference {
  readonly levels = new Map<number, [number, string, string]>();
  constructor(readonly bid: boolean) {}
  set(p: number, s: number, rp: string, rs: string): void {
    const had = this.levels.get(p);
    if (s === 0) this.levels.delete(p);
    // An existing level keeps its price string, as `BookSide.set` does.
    else if (had) this.levels.set(p, [s, had[1], rs]);
    else this.levels.set(p, [s, rp, rs]);
  }
  /** Best last, as the side stores them. */
  sorted(): [number, number, string, string][] {
    return [...this.levels].map(([p, [s, rp, rs]]) =>
      [p, s, rp, rs] as [number, number, string, string]
    ).sort((a, b) => this.bid ? a[0] - b[0] : b[0] - a[0]);
  }
}

function assertSame(side: BookSide, ref: Reference, keepRaw: boolean): void {
  const want = ref.sorted();
  assert.equal(side.length, want.length);
  for (let i = 0; i < want.length; i++) {
    assert.equal(side.prices[i], want[i][0], `price at ${i}`);
    assert.equal(side.sizes[i], want[i][1], `size at ${i}`);
    if (keepRaw) {
      assert.equal(side.rawPrices![i], want[i][2], `price string at ${i}`);
      assert.equal(side.rawSizes![i], want[i][3], `size string at ${i}`);
    }
  }
}

/**
 * Frames shaped like a busy venue's: 1–40 levels listed best first, spread
 * from the top to the bottom of a 1,000-level side (most near the top),
 * deletes of live levels and of absent ones, inserts and updates.
 */
function frame(
  r: () => number,
  ref: Reference,
  bid: boolean,
): { prices: number[]; sizes: number[] } {
  const live = ref.sorted().map((l) => l[0]).reverse(); // best first
  const want = 1 + Math.floor(r() * 40);
  const ch = new Map<number, number>();
  while (ch.size < want) {
    const x = r();
    const d = Math.floor(r() ** 1.5 * 2400); // ticks from the best
    const tick = bid ? 1_000_000 - d : 1_000_000 + d;
    if (x < 0.25 && live.length) {
      ch.set(live[Math.floor(r() ** 2 * live.length)], 0);
    } else if (x < 0.3) ch.set(tick / 100, 0); // absent, most likely
    else if (x < 0.65) ch.set(tick / 100, 1 + Math.floor(r() * 1e6) / 1e4);
    else if (live.length) {
      ch.set(
        live[Math.floor(r() ** 3 * live.length)],
        Math.floor(r() * 99) + 1,
      );
    }
  }
  const prices = [...ch.keys()].sort((a, b) => bid ? b - a : a - b);
  return { prices, sizes: prices.map((p) => ch.get(p)!) };
}

for (const keepRaw of [false, true]) {
  Deno.test(
    `book side: applyColumns and apply of frames listed best first, from the top to 1,000 levels deep, equal set of each level${
      keepRaw ? " (with strings)" : ""
    }`,
    () => {
      for (const bid of [true, false]) {
        const r = rng(bid ? 11 : 12);
        const columns = new BookSide(bid, keepRaw);
        const flat = new BookSide(bid, keepRaw);
        const ref = new Reference(bid);
        // A 1,000-level side, every other tick.
        const prices = new Float64Array(1000);
        const sizes = new Float64Array(1000);
        const text: string[] = [];
        const sizeText: string[] = [];
        for (let i = 0; i < 1000; i++) {
          const tick = bid ? 1_000_000 - 2 * i : 1_000_000 + 2 * i;
          prices[i] = tick / 100;
          sizes[i] = 1 + (i % 7);
          text.push(prices[i].toFixed(2));
          sizeText.push(String(sizes[i]));
          ref.set(prices[i], sizes[i], text[i], sizeText[i]);
        }
        const all: LevelColumns = {
          prices,
          sizes,
          count: 1000,
          ...(keepRaw ? { priceText: text, sizeText } : {}),
        };
        columns.applyColumns(all);
        flat.applyColumns(all);
        for (let f = 0; f < 400; f++) {
          const l = frame(r, ref, bid);
          // Strings with one more digit: which string a level keeps shows.
          const pt = l.prices.map((p) => p.toFixed(3));
          const st = l.sizes.map((s) => String(s));
          const n = l.prices.length;
          // Columns with room to spare: entries past `count` are not read.
          const cp = new Float64Array(n + 3).fill(7);
          const cs = new Float64Array(n + 3).fill(7);
          cp.set(l.prices);
          cs.set(l.sizes);
          columns.applyColumns({
            prices: cp,
            sizes: cs,
            count: n,
            ...(keepRaw ? { priceText: pt, sizeText: st } : {}),
          });
          const levels: number[] = [];
          const raw: string[] = [];
          for (let i = 0; i < n; i++) {
            levels.push(l.prices[i], l.sizes[i]);
            raw.push(pt[i], st[i]);
          }
          flat.apply(levels, keepRaw ? raw : undefined);
          for (let i = 0; i < n; i++) {
            ref.set(l.prices[i], l.sizes[i], pt[i], st[i]);
          }
          assertSame(columns, ref, keepRaw);
          assertSame(flat, ref, keepRaw);
        }
      }
    },
  );
}
