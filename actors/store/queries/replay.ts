/**
 * Replay from the store: every stored book change, keyframe, trade and
 * liquidation of chosen exchanges and symbols over a time range, in
 * event-time order, as columnar pages of records (the `EventBatch` layout,
 * one `ArrayBuffer` a page), and the exact books at the range's start
 * (rebuilt by `rebuildBook`, book.ts). The replay actor's store source
 * (`actors/replay/store.ts`) reads them page by page through the writer.
 *
 * Order: by event time `ts` (the receive time, stored at whole ms); within
 * one millisecond, book rows (keyframes and changes of one book by their
 * `seq`), then trades, then liquidations, each series in request order.
 * What the store does not keep is lost: the sub-millisecond receive time
 * and, within one millisecond of one symbol, the order between its book
 * rows and its trades; trades of one series within a millisecond keep
 * their insertion order (the heap order of the partition) on PostgreSQL
 * and PGlite, and come by venue time, price, size and side on TimescaleDB
 * (compression rewrites the heap).
 *
 * The page is built in SQL as one row: per stored row, its times, code and
 * sizes as `float8send` bytes and its level arrays as `array_send` bytes,
 * hex-encoded, so no per-row object is ever built on either side.
 *
 * @module
 */

import { Kind, type SymbolRef } from "../../market/batch.ts";
import type { Instrument, Market } from "../../market/events.ts";
import { resolveSymbols } from "../../market/symbols.ts";
import type { Db } from "../db.ts";
import { checkTime, historyError, iso, msSql } from "./_common.ts";
import { MAX_DEPTH, rebuildBook } from "./book.ts";

/** The most stored rows one {@link replayEvents} page reads. */
export const MAX_REPLAY_LIMIT = 200_000;

/** The first page's time window when no cursor gives one, ms. */
const FIRST_SPAN_MS = 10_000;

/**
 * Where the next page starts: every record before `ts` has been returned.
 * Opaque to callers: pass the `next` of one page as the `after` of the next.
 */
export interface ReplayCursor {
  /** Event time, ms: the next page holds the records from it on. */
  ts: number;
  /** The next page's time window, ms (adapted to the rows found). */
  span: number;
}

/** Parameters of {@link replayEvents}. */
export interface ReplayEventsParams {
  /** Exchange ids. */
  exchanges: string[];
  /**
   * The venues' symbols (`BTCUSDT`); each exchange's series are its pairs
   * with every symbol (a pair with nothing stored gives nothing). Series
   * index `e × symbols.length + s` names exchange `e` with symbol `s`.
   */
  symbols: string[];
  /** Start of the range, inclusive, ms (event time). */
  from: number;
  /** End of the range, exclusive, ms. */
  to: number;
  /** The previous page's `next`; absent for the first page. */
  after?: ReplayCursor;
  /** Most stored rows read for the page, 1 … {@link MAX_REPLAY_LIMIT}. */
  limit: number;
}

/**
 * Records in the `EventBatch` layout: `buf` holds `n` Float64 values of
 * each column in turn, `price[n] size[n] ts[n] local[n] code[n]`, with
 * `ts` the venue's time, `local` the event time (ms since epoch) and
 * `code = series × 8 + Kind`. Prices in quote currency, sizes in base
 * currency; a `Bid`/`Ask` of size 0 removes the level; a `Clear` starts a
 * keyframe (the whole book follows at the same `local`; a `Clear` alone: the
 * book was not synced).
 */
export interface ReplayColumns {
  /** Records. */
  n: number;
  /** The columns; transferred with the reply. */
  buf: ArrayBuffer;
}

/** One page of {@link replayEvents}. */
export interface ReplayPage {
  /** The page's records, in event-time order. */
  events: ReplayColumns;
  /** Stored rows the records come from. */
  rows: number;
  /**
   * The books at `from` (first page only): per series with a keyframe at or
   * before `from − 1`, a `Clear` then every level of the book after every
   * stored row before `from` (up to `MAX_DEPTH`, 5000, a side: what
   * `rebuildBook` gives), all at `local = ts = from`; a series without any
   * keyframe then has no record.
   */
  books?: ReplayColumns;
  /** The cursor of the next page; null when the range is done. */
  next: ReplayCursor | null;
}

/** Parameters of {@link replayRange}. */
export interface ReplayRangeParams {
  /** Exchange ids. */
  exchanges: string[];
  /**
   * Symbols: the venue's names (`BTCUSDT`), or selectors (`BTC-USDT`,
   * `BTC-USD-PERP`) matched against the names the heatmap columns recorded
   * (futures by expiry are not: the store keeps no expiry).
   */
  symbols: string[];
  /** Start of the range, ms; default the first stored event. */
  from?: number;
  /** End of the range (exclusive), ms; default after the last one. */
  to?: number;
}

/** One replayed series: an exchange and its symbol as the batches name it. */
export interface ReplaySeries {
  /** Exchange id. */
  exchange: string;
  /**
   * The symbol: `symbol` and `market` from the heatmap columns recorded
   * near the range's first event (the venue's name and `spot` without
   * any); `contractSize` and `inverse` from the stored trades' raw sizes
   * (absent when 1 or when there is no trade to tell).
   */
  ref: SymbolRef;
}

/** What {@link replayRange} answers. */
export interface ReplayRangeResult {
  /** The series found, in request order (exchange, then symbol). */
  series: ReplaySeries[];
  /** Time of the first stored event of the series in the range, ms. */
  start: number;
  /** Time of the last one, ms. */
  end: number;
}

/**
 * The series and time span of a replay: resolves the symbols per exchange
 * and finds the first and last stored event (book row, trade or
 * liquidation) of the series in `[from, to)`.
 * @param db the database.
 * @param p exchanges, symbols and an optional range.
 * @returns the series with their `SymbolRef`s, and the first and last event
 * times.
 * @throws {RequestError} `bad_request` for empty lists or a bad range;
 * `not_found` when no symbol has anything stored in the range.
 * @example
 * ```ts
 * const r = await replayRange(db, { exchanges: ["okx"], symbols: ["BTC-USDT"] });
 * r.series[0].ref; // { exchangeSymbol: "BTC-USDT", symbol: "BTC-USDT", market: "spot" }
 * ```
 */
export async function replayRange(
  db: Db,
  p: ReplayRangeParams,
): Promise<ReplayRangeResult> {
  checkLists(p.exchanges, p.symbols);
  if (p.from !== undefined) checkTime("from", p.from);
  if (p.to !== undefined) checkTime("to", p.to);
  if (p.from !== undefined && p.to !== undefined && !(p.from < p.to)) {
    throw historyError(
      "bad_request",
      `from ${iso(p.from)} must be before to ${iso(p.to)}`,
    );
  }
  const from = p.from === undefined ? "-infinity" : iso(p.from);
  const to = p.to === undefined ? "infinity" : iso(p.to);
  const series: ReplaySeries[] = [];
  let start = Infinity;
  let end = -Infinity;
  for (const exchange of unique(p.exchanges)) {
    const venue: string[] = [];
    for (const w of unique(p.symbols)) {
      for (const s of await resolveSymbol(db, exchange, w, from, to)) {
        if (!venue.includes(s)) venue.push(s);
      }
    }
    for (const symbol of venue) {
      const span = await spanOf(db, exchange, symbol, from, to);
      if (!span) continue;
      start = Math.min(start, span.first);
      end = Math.max(end, span.last);
      series.push({ exchange, ref: await refOf(db, exchange, symbol, span) });
    }
  }
  if (series.length === 0) {
    throw historyError(
      "not_found",
      `Nothing of ${p.symbols.join(", ")} on ${
        p.exchanges.join(", ")
      } was recorded from ${from} to ${to}`,
    );
  }
  return { series, start, end };
}

/**
 * One page of a replay from the store: the next stored rows of the series
 * in `[from, to)` after the cursor, in event-time order (see the module
 * doc), as records; the first page (no `after`) also carries the books at
 * `from`. A page ends on a whole millisecond (a millisecond holding more
 * than `limit` rows comes whole, in a page of its own) and covers a time
 * window the cursor adapts to hold about `limit` rows, so a page may be
 * empty while `next` is not null.
 * @param db the database.
 * @param p exchanges, venue symbols, range, cursor and row limit.
 * @returns the page; its buffers are meant to be transferred.
 * @throws {RequestError} `bad_request` for empty lists, a bad range, a
 * cursor outside it or a bad limit.
 * @example
 * ```ts
 * let page = await replayEvents(db, { exchanges: ["okx"], symbols: ["BTC-USDT"], from, to, limit: 50_000 });
 * while (page.next) page = await replayEvents(db, { ...params, after: page.next });
 * ```
 */
export async function replayEvents(
  db: Db,
  p: ReplayEventsParams,
): Promise<ReplayPage> {
  checkLists(p.exchanges, p.symbols);
  checkTime("from", p.from);
  checkTime("to", p.to);
  if (!(p.from < p.to)) {
    throw historyError(
      "bad_request",
      `from ${iso(p.from)} must be before to ${iso(p.to)}`,
    );
  }
  if (
    !Number.isInteger(p.limit) || p.limit < 1 || p.limit > MAX_REPLAY_LIMIT
  ) {
    throw historyError(
      "bad_request",
      `limit ${p.limit} must be an integer from 1 to ${MAX_REPLAY_LIMIT}`,
    );
  }
  const at = p.after?.ts ?? p.from;
  const span = p.after?.span ?? FIRST_SPAN_MS;
  checkTime("after.ts", at);
  if (at < p.from || at >= p.to || !(span >= 1)) {
    throw historyError(
      "bad_request",
      `after ${JSON.stringify(p.after)} is outside ${iso(p.from)} … ${
        iso(p.to)
      }`,
    );
  }
  const books = p.after ? undefined : await booksAt(db, p);
  const end = Math.min(p.to, at + span);
  const got = await pageRows(db, p, at, end, p.limit);
  let next: number;
  let nextSpan: number;
  let hex = got.data;
  let rows = got.kept;
  if (got.n < p.limit) {
    next = end;
    // Aim the next window at 80 % of the limit at this density (8× wider
    // at most).
    nextSpan = got.n === 0 ? span * 8 : Math.max(
      1,
      Math.min(span * 8, Math.floor(span * 0.8 * p.limit / got.n)),
    );
  } else if (got.kept > 0) {
    // Full: the rows of its last millisecond come with the next page.
    next = got.last;
    nextSpan = Math.max(1, Math.floor((got.last - at) * 0.8));
  } else {
    // One millisecond holds more rows than the limit: that ms, whole.
    const all = await pageRows(db, p, got.last, got.last + 1, 2 ** 31 - 1);
    hex = all.data;
    rows = all.kept;
    next = got.last + 1;
    nextSpan = 1;
  }
  return {
    events: decodeRows(hex, rows),
    rows,
    books,
    next: next < p.to ? { ts: next, span: nextSpan } : null,
  };
}

/** Checks the exchange and symbol lists. */
function checkLists(exchanges: string[], symbols: string[]): void {
  if (!Array.isArray(exchanges) || exchanges.length === 0) {
    throw historyError("bad_request", "exchanges must name at least one");
  }
  if (!Array.isArray(symbols) || symbols.length === 0) {
    throw historyError("bad_request", "symbols must name at least one");
  }
}

/** The distinct values, first occurrence first. */
function unique(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

/**
 * The venue symbols `w` means on `exchange` in `[from, to)` (timestamptz
 * text: `-infinity` and `infinity` for no bound): `w` itself when rows are
 * stored under it, else the symbols the heatmap columns in the range name
 * for the selector (`resolveSymbols`' rules); none when neither.
 */
async function resolveSymbol(
  db: Db,
  exchange: string,
  w: string,
  from: string,
  to: string,
): Promise<string[]> {
  const [own] = await db.query<{ x: number }>(
    `SELECT 1 AS x WHERE EXISTS (SELECT 1 FROM book_snapshots
       WHERE exchange = $1 AND symbol = $2 AND ts < $4::text::timestamptz)
     OR EXISTS (SELECT 1 FROM trades
       WHERE exchange = $1 AND symbol = $2
         AND ts >= $3::text::timestamptz AND ts < $4::text::timestamptz)
     OR EXISTS (SELECT 1 FROM liquidations
       WHERE exchange = $1 AND symbol = $2
         AND ts >= $3::text::timestamptz AND ts < $4::text::timestamptz)`,
    [exchange, w, from, to],
  );
  if (own) return [w];
  const pair = w.replace(/-(PERP|\d{6})$/, "");
  const named = await db.query<
    { exchange_symbol: string; market: Market }
  >(
    `SELECT exchange_symbol, market FROM heatmap
     WHERE exchange = $1 AND symbol = $2
       AND ts >= $3::text::timestamptz AND ts < $4::text::timestamptz
       AND exchange_symbol IS NOT NULL
     GROUP BY exchange_symbol, market`,
    [exchange, pair, from, to],
  );
  const [base, quote] = pair.split("-");
  const instruments: Instrument[] = named.map((r) => ({
    exchange,
    exchangeSymbol: r.exchange_symbol,
    symbol: pair,
    base,
    quote,
    market: r.market,
    contractSize: 1,
  }));
  return resolveSymbols([w], instruments).found.map((i) => i.exchangeSymbol);
}

/**
 * First and last event time of one series in `[from, to)`, over its book
 * rows, trades and liquidations; null when it has none.
 */
async function spanOf(
  db: Db,
  exchange: string,
  symbol: string,
  from: string,
  to: string,
): Promise<{ first: number; last: number } | null> {
  const edge = (table: string, dir: string) =>
    `(SELECT ${msSql("ts")} FROM ${table}
      WHERE exchange = $1 AND symbol = $2
        AND ts >= $3::text::timestamptz AND ts < $4::text::timestamptz
      ORDER BY ts ${dir} LIMIT 1)`;
  const tables = ["book_snapshots", "book_changes", "trades", "liquidations"];
  const [row] = await db.query<{ first: number | null; last: number | null }>(
    `SELECT LEAST(${tables.map((t) => edge(t, "ASC")).join(", ")}) AS first,
       GREATEST(${tables.map((t) => edge(t, "DESC")).join(", ")}) AS last`,
    [exchange, symbol, from, to],
  );
  return row.first === null || row.last === null
    ? null
    : { first: row.first, last: row.last };
}

/**
 * The `SymbolRef` of one series: naming from the heatmap column recorded
 * first from its first event (within two minutes), contract size and
 * inverse from its first 100 trades in its span: the ratio `size / raw_size` constant means a linear
 * contract of that size, `size × price / raw_size` constant an inverse one.
 */
async function refOf(
  db: Db,
  exchange: string,
  symbol: string,
  span: { first: number; last: number },
): Promise<SymbolRef> {
  const [name] = await db.query<{ symbol: string; market: Market }>(
    `SELECT symbol, market FROM heatmap
     WHERE exchange = $1 AND exchange_symbol = $2
       AND ts >= $3::timestamptz AND ts < $4::timestamptz
     ORDER BY ts LIMIT 1`,
    [exchange, symbol, iso(span.first), iso(span.first + 120_000)],
  );
  const [k] = await db.query<
    { lo: number; hi: number; ilo: number; ihi: number }
  >(
    `SELECT min(size / raw_size) AS lo, max(size / raw_size) AS hi,
       min(size * price / raw_size) AS ilo, max(size * price / raw_size) AS ihi
     FROM (SELECT size, price, raw_size FROM trades
       WHERE exchange = $1 AND symbol = $2
         AND ts >= $3::timestamptz AND ts <= $4::timestamptz AND raw_size > 0
       ORDER BY ts LIMIT 100) t`,
    [exchange, symbol, iso(span.first), iso(span.last)],
  );
  const ref: {
    exchangeSymbol: string;
    symbol: string;
    market: Market;
    contractSize?: number;
    inverse?: boolean;
  } = {
    exchangeSymbol: symbol,
    symbol: name?.symbol ?? symbol,
    market: name?.market ?? "spot",
  };
  const same = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.abs(b);
  if (k && k.lo !== null) {
    if (same(k.lo, k.hi)) {
      const cs = Number(k.hi.toPrecision(12));
      if (cs !== 1) ref.contractSize = cs;
    } else if (same(k.ilo, k.ihi)) {
      ref.contractSize = Number(k.ihi.toPrecision(12));
      ref.inverse = true;
    }
  }
  return ref;
}

/**
 * The books at `p.from` as records: each series' book after every stored
 * row before `from` (`rebuildBook` at `from − 1`, every level up to
 * `MAX_DEPTH` a side).
 */
async function booksAt(db: Db, p: ReplayEventsParams): Promise<ReplayColumns> {
  const recs: number[] = [];
  const ns = p.symbols.length;
  const push = (price: number, size: number, code: number) =>
    recs.push(price, size, code);
  for (let e = 0; e < p.exchanges.length; e++) {
    for (let s = 0; s < ns; s++) {
      let book;
      try {
        book = await rebuildBook(db, {
          exchange: p.exchanges[e],
          symbol: p.symbols[s],
          at: p.from - 1,
          depth: MAX_DEPTH,
        });
      } catch (err) {
        if ((err as { code?: string }).code === "not_found") continue;
        throw err;
      }
      const i = (e * ns + s) * 8;
      push(0, 0, i + Kind.Clear);
      for (const [price, size] of book.view.bids) push(price, size, i);
      for (const [price, size] of book.view.asks) {
        push(price, size, i + Kind.Ask);
      }
    }
  }
  const n = recs.length / 3;
  const out = new Float64Array(n * 5);
  for (let r = 0; r < n; r++) {
    out[r] = recs[3 * r];
    out[n + r] = recs[3 * r + 1];
    out[2 * n + r] = p.from;
    out[3 * n + r] = p.from;
    out[4 * n + r] = recs[3 * r + 2];
  }
  return { n, buf: out.buffer };
}

/** The rows of a page query, before decoding. */
interface PageRows {
  /** Rows the query found, at most the limit. */
  n: number;
  /** Event time of the last one, ms. */
  last: number;
  /** Rows encoded in `data`: all `n` unless the limit was reached. */
  kept: number;
  /** The kept rows' bytes, hex. */
  data: string;
}

/**
 * The stored rows of the series in `[from, end)`, at most `limit`, encoded
 * in one hex string: per row (in replay order) five big-endian float8s
 * `local, venue ts, code, a, b` and, for a book row, `array_send` of its
 * bids then its asks. For a book row `code = series × 8 + Bid` (a change)
 * or `+ Clear` (a keyframe) and `a`, `b` are its bid and ask element
 * counts; for a trade, `code` has the trade's kind and `a`, `b` are price
 * and size. When `limit` rows were found, the rows of the last millisecond
 * are left out of `data`.
 */
async function pageRows(
  db: Db,
  p: ReplayEventsParams,
  from: number,
  end: number,
  limit: number,
): Promise<PageRows> {
  // Heap order keeps a millisecond's trades as inserted; TimescaleDB's
  // compressed chunks have no such order: there they come by venue time,
  // price, size and side (a stable order, not the received one).
  const tid = db.timescale ? "'(0,0)'::tid" : "t.ctid";
  const range = `t.exchange = k.exchange AND t.symbol = k.symbol
        AND t.ts >= $1::timestamptz AND t.ts < $2::timestamptz`;
  const book = (table: string, kind: number) =>
    `SELECT x.* FROM k CROSS JOIN LATERAL (
      SELECT t.ts, 0 AS src, k.i, t.seq, '(0,0)'::tid AS tid,
        k.i * 8 + ${kind} AS code, t.exchange_ts,
        coalesce(array_length(t.bids, 1), 0)::float8 AS a,
        coalesce(array_length(t.asks, 1), 0)::float8 AS b,
        array_send(t.bids) || array_send(t.asks) AS levels
      FROM ${table} t WHERE ${range}
      ORDER BY t.ts, t.seq LIMIT $3) x`;
  const trade = (table: string, src: number, buy: number, sell: number) =>
    `SELECT x.* FROM k CROSS JOIN LATERAL (
      SELECT t.ts, ${src} AS src, k.i, 0 AS seq, ${tid} AS tid,
        k.i * 8 + CASE WHEN t.side = 'buy' THEN ${buy} ELSE ${sell} END AS code,
        t.exchange_ts, t.price AS a, t.size AS b, NULL::bytea AS levels
      FROM ${table} t WHERE ${range}
      ORDER BY t.ts LIMIT $3) x`;
  // The series as VALUES lists (exact row estimates: the planner keeps to
  // index scans, and PostgreSQL to no JIT), exchange × symbol.
  const ne = p.exchanges.length;
  const ns = p.symbols.length;
  const values = (n: number, at: number) =>
    Array.from({ length: n }, (_, j) => `($${at + j}::text, ${j})`).join(", ");
  const [row] = await db.query<
    { n: number; last: number | null; kept: number; data: string | null }
  >(
    `WITH k AS (
       SELECT e.exchange, s.symbol, e.o * ${ns} + s.o AS i
       FROM (VALUES ${values(ne, 4)}) e(exchange, o)
       CROSS JOIN (VALUES ${values(ns, 4 + ne)}) s(symbol, o)
     ),
     r AS (
       ${book("book_snapshots", Kind.Clear)}
       UNION ALL ${book("book_changes", Kind.Bid)}
       UNION ALL ${trade("trades", 1, Kind.Buy, Kind.Sell)}
       UNION ALL ${
      trade("liquidations", 2, Kind.LiquidationBuy, Kind.LiquidationSell)
    }
     ),
     p AS (
       SELECT * FROM r
       ORDER BY ts, src, i, seq, tid, exchange_ts, a, b, code LIMIT $3
     ),
     c AS (SELECT count(*)::int AS n, max(ts) AS last FROM p)
     -- A plain aggregate over the materialized, sorted CTE takes its rows
     -- in that order (checked again by decodeRows).
     SELECT (SELECT n FROM c) AS n, (SELECT ${msSql("last")} FROM c) AS last,
       count(*)::int AS kept,
       encode(string_agg(
         float8send(${msSql("p.ts")}) ||
         float8send(${msSql("coalesce(p.exchange_ts, p.ts)")}) ||
         float8send(p.code::float8) || float8send(p.a) || float8send(p.b) ||
         coalesce(p.levels, ''::bytea), ''::bytea), 'hex') AS data
     FROM p WHERE (SELECT n FROM c) < $3 OR p.ts < (SELECT last FROM c)`,
    [iso(from), iso(end), limit, ...p.exchanges, ...p.symbols],
  );
  return {
    n: row.n,
    last: row.last ?? from,
    kept: row.kept,
    data: row.data ?? "",
  };
}

/**
 * Decodes {@link pageRows}' bytes into records: a trade is one record, a
 * change one per level (bids, then asks), a keyframe a `Clear` then one per
 * level.
 */
function decodeRows(hex: string, rows: number): ReplayColumns {
  const bytes = Uint8Array.fromHex(hex);
  const dv = new DataView(bytes.buffer);
  // Pass 1: count the records.
  let n = 0;
  let at = 0;
  let last = -Infinity;
  for (let r = 0; r < rows; r++) {
    const t = dv.getFloat64(at);
    if (t < last) throw new Error(`Replay page out of order at ${t}`);
    last = t;
    const kind = dv.getFloat64(at + 16) % 8;
    const a = dv.getFloat64(at + 24);
    const b = dv.getFloat64(at + 32);
    at += 40;
    if (kind >= Kind.Buy) {
      n++;
      continue;
    }
    n += (a + b) / 2 + (kind === Kind.Clear ? 1 : 0);
    at += arrayBytes(a) + arrayBytes(b);
  }
  if (at !== bytes.length) {
    throw new Error(`Replay page of ${bytes.length} bytes decoded ${at}`);
  }
  // Pass 2: fill the columns.
  const out = new Float64Array(n * 5);
  const price = out.subarray(0, n);
  const size = out.subarray(n, 2 * n);
  const ts = out.subarray(2 * n, 3 * n);
  const local = out.subarray(3 * n, 4 * n);
  const code = out.subarray(4 * n, 5 * n);
  let k = 0;
  at = 0;
  for (let r = 0; r < rows; r++) {
    const t = dv.getFloat64(at);
    const x = dv.getFloat64(at + 8);
    const c = dv.getFloat64(at + 16);
    const a = dv.getFloat64(at + 24);
    const b = dv.getFloat64(at + 32);
    at += 40;
    const kind = c % 8;
    if (kind >= Kind.Buy) {
      price[k] = a;
      size[k] = b;
      ts[k] = x;
      local[k] = t;
      code[k++] = c;
      continue;
    }
    const base = c - kind;
    if (kind === Kind.Clear) {
      price[k] = 0;
      size[k] = 0;
      ts[k] = x;
      local[k] = t;
      code[k++] = c;
    }
    for (let side = 0; side < 2; side++) {
      const len = side === 0 ? a : b;
      const sc = base + (side === 0 ? Kind.Bid : Kind.Ask);
      if (len === 0) {
        at += 12;
        continue;
      }
      at += 20;
      for (let j = 0; j < len; j += 2) {
        price[k] = dv.getFloat64(at + 4);
        size[k] = dv.getFloat64(at + 16);
        ts[k] = x;
        local[k] = t;
        code[k++] = sc;
        at += 24;
      }
    }
  }
  return { n, buf: out.buffer };
}

/**
 * Bytes of `array_send` of a one-dimensional float8 array of `len`
 * elements: a 12-byte header (dimensions, null flag, element type), 8 more
 * per dimension, and a 4-byte length before each element; 12 when empty.
 */
function arrayBytes(len: number): number {
  return len === 0 ? 12 : 20 + 12 * len;
}
