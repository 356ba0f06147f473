import assert from "node:assert/strict";
import fc from "fast-check";
import { BookSide, OrderBook } from "./book.ts";
import type { Levels } from "./events.ts";

/**
 * The reference: a side as a Map from price to size and strings, sorted on
 * demand best last, as {@link BookSide} stores it.
 */
class RefSide {
  readonly m = new Map<number, [number, string, string]>();
  constructor(readonly isBid: boolean) {}

  set(price: number, size: number, rawPrice = "", rawSize = ""): void {
    // An existing level keeps its price string and takes the size's.
    const had = this.m.get(price);
    if (size === 0) this.m.delete(price);
    else this.m.set(price, [size, had ? had[1] : rawPrice, rawSize]);
  }

  /** Prices best last: ascending bids, descending asks. */
  sorted(): number[] {
    return [...this.m.keys()].sort((a, b) => this.isBid ? a - b : b - a);
  }

  truncate(depth: number, dropped: Levels): number {
    const s = this.sorted();
    const excess = s.length - depth;
    for (let i = 0; i < excess; i++) {
      dropped.push(s[i], 0);
      this.m.delete(s[i]);
    }
    return Math.max(0, excess);
  }
}

function assertSame(got: BookSide, want: RefSide, what: string): void {
  const prices = want.sorted();
  assert.equal(got.length, prices.length, `${what} depth`);
  assert.deepEqual(
    Array.from(got.prices.subarray(0, got.length)),
    prices,
    `${what} prices`,
  );
  assert.deepEqual(
    Array.from(got.sizes.subarray(0, got.length)),
    prices.map((p) => want.m.get(p)![0]),
    `${what} sizes`,
  );
  if (got.rawPrices !== null) {
    assert.deepEqual(got.rawPrices, prices.map((p) => want.m.get(p)![1]));
    assert.deepEqual(got.rawSizes, prices.map((p) => want.m.get(p)![2]));
  }
  assert.ok(
    Number.isNaN(got.best()) === (prices.length === 0) &&
      (prices.length === 0 || got.best() === prices[prices.length - 1]),
    `${what} best`,
  );
}

/** Tick size of the generated books. */
const TICK = 0.01;
const price = (tick: number) => Math.round(tick) / 100;

/**
 * One frame's change to one side, read against the current book:
 * `level` sets (size > 0) or deletes (size 0) the level `offset` ticks
 * below the best (negative: a new best); `sweep` deletes the best `count`
 * levels (a trade through the top) and opens `count` levels on the other
 * side at the old best's prices.
 */
type Op =
  | { kind: "level"; bid: boolean; offset: number; size: number }
  | { kind: "sweep"; bid: boolean; count: number };

const sizeArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0) },
  {
    weight: 3,
    arbitrary: fc.integer({ min: 1, max: 1e8 }).map((n) => n / 1e6),
  },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 20,
    arbitrary: fc.record({
      kind: fc.constant("level" as const),
      bid: fc.boolean(),
      // Mostly near the top, some anywhere in a 5,000-level book.
      offset: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: -3, max: 30 }) },
        { weight: 1, arbitrary: fc.integer({ min: -50, max: 6000 }) },
      ),
      size: sizeArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("sweep" as const),
      bid: fc.boolean(),
      count: fc.integer({ min: 1, max: 12 }),
    }),
  },
);
/** A frame: ops, listed best first per side (as venues send) or shuffled. */
const frameArb = fc.record({
  ops: fc.array(opArb, { minLength: 1, maxLength: 60 }),
  bestFirst: fc.boolean(),
});

/**
 * Turns ops into the flat levels of one frame against the reference book,
 * keeping the book uncrossed: a level is placed relative to its side's
 * best, and never at or through the other side's best.
 */
function frameLevels(
  ref: { bids: RefSide; asks: RefSide },
  ops: Op[],
  bestFirst: boolean,
): { bids: Levels; asks: Levels } {
  const out = {
    bids: new Map<number, number>(),
    asks: new Map<number, number>(),
  };
  const best = (s: RefSide) => {
    const k = s.sorted();
    return k.length ? k[k.length - 1] : NaN;
  };
  let bb = best(ref.bids);
  let ba = best(ref.asks);
  if (bb !== bb) bb = 100;
  if (ba !== ba) ba = bb + TICK;
  for (const op of ops) {
    if (op.kind === "sweep") {
      const side = op.bid ? ref.bids : ref.asks;
      const s = side.sorted();
      const gone = s.slice(Math.max(0, s.length - op.count));
      for (const p of gone) (op.bid ? out.bids : out.asks).set(p, 0);
      // The other side opens where the swept levels were.
      for (const p of gone) {
        (op.bid ? out.asks : out.bids).set(p, 1 + (p * 100) % 7);
      }
      continue;
    }
    const ticks = Math.round((op.bid ? bb : ba) * 100);
    const t = op.bid ? ticks - op.offset : ticks + op.offset;
    const p = price(t);
    // Never cross the other side's best.
    if (op.bid ? p >= ba : p <= bb) continue;
    (op.bid ? out.bids : out.asks).set(p, op.size);
  }
  const flat = (m: Map<number, number>, bid: boolean): Levels => {
    const keys = [...m.keys()];
    if (bestFirst) keys.sort((a, b) => bid ? b - a : a - b);
    const l: Levels = [];
    for (const k of keys) l.push(k, m.get(k)!);
    return l;
  };
  // Sweeps can leave both sides at one price: drop such levels.
  for (const [p, s] of out.bids) {
    if (s > 0 && out.asks.get(p)! > 0) out.bids.delete(p);
  }
  return { bids: flat(out.bids, true), asks: flat(out.asks, false) };
}

/**
 * Strings as a venue would send them, for the checksum venues' raw arrays;
 * `digits` varies the price strings, to tell which string a level keeps.
 */
function rawOf(l: Levels, digits = 2): string[] {
  const r: string[] = [];
  for (let i = 0; i < l.length; i += 2) {
    r.push(l[i].toFixed(digits), String(l[i + 1]));
  }
  return r;
}

function deepBook(levels: number, keepRaw: boolean): {
  book: OrderBook;
  ref: { bids: RefSide; asks: RefSide };
} {
  const book = new OrderBook(keepRaw);
  const ref = { bids: new RefSide(true), asks: new RefSide(false) };
  const bids: Levels = [];
  const asks: Levels = [];
  for (let i = 0; i < levels; i++) {
    // Every third tick left empty, so inserts land between levels too.
    const t = i + (i >> 1);
    bids.push(price(6_000_000 - t), 1 + (i % 13) / 4);
    asks.push(price(6_000_001 + t), 1 + (i % 11) / 4);
  }
  const raw = { bids: rawOf(bids, 4), asks: rawOf(asks, 4) };
  book.apply(bids, asks, keepRaw ? raw : undefined);
  for (let i = 0; i < bids.length; i += 2) {
    ref.bids.set(bids[i], bids[i + 1], raw.bids[i], raw.bids[i + 1]);
    ref.asks.set(asks[i], asks[i + 1], raw.asks[i], raw.asks[i + 1]);
  }
  return { book, ref };
}

Deno.test("book: a 5,000-level book under random frames (near-top changes, trade-through sweeps, raw strings) equals a Map + sort reference", () => {
  fc.assert(
    fc.property(
      fc.array(frameArb, { minLength: 1, maxLength: 15 }),
      fc.boolean(),
      (frames, keepRaw) => {
        const { book, ref } = deepBook(5000, keepRaw);
        for (const f of frames) {
          const { bids, asks } = frameLevels(ref, f.ops, f.bestFirst);
          const raw = { bids: rawOf(bids), asks: rawOf(asks) };
          book.apply(bids, asks, keepRaw ? raw : undefined);
          for (let i = 0; i < bids.length; i += 2) {
            ref.bids.set(bids[i], bids[i + 1], raw.bids[i], raw.bids[i + 1]);
          }
          for (let i = 0; i < asks.length; i += 2) {
            ref.asks.set(asks[i], asks[i + 1], raw.asks[i], raw.asks[i + 1]);
          }
          assertSame(book.bids, ref.bids, "bids");
          assertSame(book.asks, ref.asks, "asks");
          const bb = ref.bids.sorted().at(-1);
          const ba = ref.asks.sorted().at(-1);
          assert.equal(
            book.crossed(),
            bb !== undefined && ba !== undefined && bb >= ba,
          );
        }
      },
    ),
    { numRuns: 25 },
  );
});

Deno.test("book: trade-through deletes of the top levels, one at a time and all at once, leave the next level best", () => {
  const { book, ref } = deepBook(6000, true);
  for (let round = 0; round < 100; round++) {
    const s = ref.asks.sorted();
    // Sweep 1–5 best asks, alternately best first and worst first.
    const gone = s.slice(s.length - 1 - (round % 5));
    if (round % 2) gone.reverse();
    const asks: Levels = [];
    for (const p of gone) asks.push(p, 0);
    const raw = { bids: [], asks: rawOf(asks) };
    book.apply([], asks, raw);
    for (let i = 0; i < asks.length; i += 2) ref.asks.set(asks[i], 0);
    assert.equal(book.asks.best(), s[s.length - gone.length - 1]);
    assertSame(book.asks, ref.asks, `asks after round ${round}`);
  }
  assert.equal(book.asks.length, 6000 - 300);
});

Deno.test("book: random single-side changes mixed with truncate, clear and top equal the reference", () => {
  type SideOp =
    | { kind: "set"; tick: number; size: number }
    | { kind: "truncate"; depth: number }
    | { kind: "clear" }
    | { kind: "top"; depth: number };
  const sideOp: fc.Arbitrary<SideOp> = fc.oneof(
    {
      weight: 30,
      arbitrary: fc.record({
        kind: fc.constant("set" as const),
        tick: fc.integer({ min: 0, max: 400 }),
        size: sizeArb,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("truncate" as const),
        depth: fc.integer({ min: 0, max: 300 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant("clear" as const) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("top" as const),
        depth: fc.integer({ min: 0, max: 50 }),
      }),
    },
  );
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.boolean(),
      fc.array(sideOp, { maxLength: 600 }),
      (isBid, keepRaw, ops) => {
        const side = new BookSide(isBid, keepRaw);
        const ref = new RefSide(isBid);
        for (const op of ops) {
          switch (op.kind) {
            case "set": {
              const p = price(op.tick);
              const rp = keepRaw ? p.toFixed(2) : "";
              const rs = keepRaw ? String(op.size) : "";
              side.set(p, op.size, rp, rs);
              ref.set(p, op.size, rp, rs);
              break;
            }
            case "truncate": {
              const got: Levels = [];
              const want: Levels = [];
              assert.equal(
                side.truncate(op.depth, got),
                ref.truncate(op.depth, want),
              );
              assert.deepEqual(got, want);
              break;
            }
            case "clear":
              side.clear();
              ref.m.clear();
              break;
            case "top": {
              const s = ref.sorted().reverse().slice(0, op.depth);
              assert.deepEqual(
                side.top(op.depth),
                s.map((p) => [p, ref.m.get(p)![0]]),
              );
              break;
            }
          }
        }
        assertSame(side, ref, isBid ? "bids" : "asks");
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("book: replace gives the book clear + apply gives, for images best first, best last or shuffled with repeats and zeros; its changes turn the old book into the new", () => {
  const level = fc.tuple(
    fc.integer({ min: 0, max: 120 }),
    fc.oneof(
      { weight: 1, arbitrary: fc.constant(0) },
      { weight: 6, arbitrary: fc.integer({ min: 1, max: 9 }) },
    ),
  );
  const image = fc.record({
    levels: fc.array(level, { maxLength: 80 }),
    order: fc.constantFrom("best first", "best last", "as drawn"),
  });
  const flatten = (
    img: { levels: [number, number][]; order: string },
    bid: boolean,
  ): Levels => {
    let ls = img.levels;
    if (img.order !== "as drawn") {
      // One level per price, sorted, sizes above 0: the fast path.
      const m = new Map(ls.filter(([, s]) => s > 0));
      const best = (a: number, b: number) => bid ? b - a : a - b;
      ls = [...m].sort((a, b) =>
        img.order === "best first" ? best(a[0], b[0]) : best(b[0], a[0])
      );
    }
    return ls.flatMap(([t, s]) => [price(t), s / 4]);
  };
  fc.assert(
    fc.property(
      fc.array(fc.tuple(image, image), { minLength: 1, maxLength: 6 }),
      fc.boolean(),
      (images, keepRaw) => {
        const diffed = new OrderBook(keepRaw);
        const rebuilt = new OrderBook(keepRaw);
        for (const [ib, ia] of images) {
          const bids = flatten(ib, true);
          const asks = flatten(ia, false);
          const raw = keepRaw
            ? { bids: rawOf(bids), asks: rawOf(asks) }
            : undefined;
          const before = new OrderBook();
          before.apply(
            Array.from(diffed.bids.prices.subarray(0, diffed.bids.length))
              .flatMap((p, i) => [p, diffed.bids.sizes[i]]),
            Array.from(diffed.asks.prices.subarray(0, diffed.asks.length))
              .flatMap((p, i) => [p, diffed.asks.sizes[i]]),
          );
          const changes = { bids: [] as Levels, asks: [] as Levels };
          diffed.replace(bids, asks, raw, changes);
          rebuilt.clear();
          rebuilt.apply(bids, asks, raw);
          for (const side of ["bids", "asks"] as const) {
            const d = diffed[side];
            const r = rebuilt[side];
            assert.equal(d.length, r.length);
            assert.deepEqual(
              d.prices.subarray(0, d.length),
              r.prices.subarray(0, r.length),
            );
            assert.deepEqual(
              d.sizes.subarray(0, d.length),
              r.sizes.subarray(0, r.length),
            );
            assert.deepEqual(d.rawPrices, r.rawPrices);
            assert.deepEqual(d.rawSizes, r.rawSizes);
          }
          // The changes alone take the old book to the new one.
          before.apply(changes.bids, changes.asks);
          for (const side of ["bids", "asks"] as const) {
            assert.deepEqual(
              before[side].top(Infinity),
              rebuilt[side].top(Infinity),
            );
          }
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("top: NaN, negative, fractional and infinite depths on empty and filled sides, on a ladder and on sorted arrays", () => {
  for (const ladder of [true, false]) {
    const book = new OrderBook(false, ladder);
    for (const side of [book.bids, book.asks]) {
      for (const depth of [NaN, -1, 0, 2.5, Infinity]) {
        assert.deepEqual(side.top(depth), [], `${ladder} empty ${depth}`);
      }
    }
    book.apply([99, 1, 98, 2, 97, 3], [101, 4, 102, 5, 103, 6]);
    assert.equal(book.bids.laddered, ladder);
    assert.deepEqual(book.bids.top(NaN), []);
    assert.deepEqual(book.bids.top(-1), []);
    assert.deepEqual(book.bids.top(2.5), [[99, 1], [98, 2]]);
    assert.deepEqual(book.asks.top(Infinity), [[101, 4], [102, 5], [103, 6]]);
    assert.deepEqual(book.asks.top(1), [[101, 4]]);
  }
});
