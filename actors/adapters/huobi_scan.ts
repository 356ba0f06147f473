/**
 * A schema-aware scanner for HTX (Huobi) `depth.step0` frames, spot and
 * swap: it reads an inflated frame's channel, times, version and its whole
 * 150-level image straight from the frame text into reusable typed arrays,
 * without the per-level arrays `JSON.parse` allocates. Frames it does not
 * recognise are left to the adapter's `JSON.parse` path (`_huobi.ts`).
 *
 * Recognised frames (any key order at each level, each key at most once):
 * spot `{"ch":"market.trioeth.depth.step0","ts":1618678069870,"tick":
 * {"bids":[[9.121E-7,92730.24],…],"asks":[…],"version":102311637870,
 * "ts":1618678069863}}`, swap `{"ch":"market.ATOM-USD.depth.step0",
 * "ts":1645289384843,"tick":{"mrid":74377472700,"id":1645289384,
 * "bids":[[26.5766,50],…],"asks":[…],"ts":1645289384841,
 * "version":1645289384,"ch":"market.ATOM-USD.depth.step0"}}`. Each level is
 * `[price, size]` as JSON numbers (prices often in exponent form,
 * `9.121E-7`); swap sizes are contracts.
 * Spot: https://huobiapi.github.io/docs/spot/v1/en/#market-depth
 * Coin-margined swaps: https://huobiapi.github.io/docs/coin_margined_swap/v1/en/#subscribe-market-depth-data
 * USDT-margined swaps: https://huobiapi.github.io/docs/usdt_swap/v1/en/#general-subscribe-market-depth-data
 *
 * @module
 */

import { sequenceValue } from "./_common.ts";
import {
  asciiBytes,
  bytesAt,
  growSide,
  isPrice,
  isSize,
  JsonCursor,
  newSide,
  reuseAscii,
  type ScannedSide,
} from "./_scan.ts";

/** Decodes a frame's bytes for the parse path. */
const decoder = new TextDecoder();

/** Bits of the frame's keys it has shown, to refuse duplicates. */
const KEY_CH = 1;
const KEY_TS = 2;
const KEY_TICK = 4;
/** Keys every recognised frame has. */
const REQUIRED = KEY_CH | KEY_TICK;

/** Bits of the `tick` object's keys. */
const KEY_BIDS = 1;
const KEY_ASKS = 2;
const KEY_VERSION = 4;
const KEY_TICK_TS = 8;
const KEY_MRID = 16;
const KEY_ID = 32;
const KEY_TICK_CH = 64;

/**
 * Each key's text after its opening quote, through `:` and, for string
 * values, the value's opening quote; for `tick`, its object's opening `{"`.
 */
const CH = asciiBytes('ch":"');
const TS = asciiBytes('ts":');
const TICK = asciiBytes('tick":{"');
const BIDS = asciiBytes('bids":');
const ASKS = asciiBytes('asks":');
const VERSION = asciiBytes('version":');
const MRID = asciiBytes('mrid":');
const ID = asciiBytes('id":');
/** The channel's prefix and suffix around the symbol. */
const MARKET = asciiBytes("market.");
const STEP0 = asciiBytes(".depth.step0");

/**
 * Reads HTX `depth.step0` frames (after inflating) in place. One instance
 * serves one connection: each {@link HuobiStep0Scanner.scan} overwrites the
 * fields and reuses the level arrays (they grow for bigger frames and are
 * never shrunk), so read them before the next call.
 *
 * It also keeps each channel symbol's last image, as text and values (for
 * the first {@link MAX_IMAGES} symbols it sees; never dropped): a level
 * whose text is the same as in the last image is taken over, not read
 * again (see {@link readImageLevels}). What it gives is what a full read
 * gives.
 *
 * A frame is recognised only when it is exactly JSON that `JSON.parse`
 * reads to the same values, and the adapter would give a `book_snapshot`
 * for it (given a known symbol; for contracts the caller still converts
 * sizes to base and checks them against `MAX_SIZE`, as `baseLevels` does):
 * - no whitespace, escapes, non-ASCII text, or keys beyond those above
 *   (`ch`, `ts`, `tick`; `bids`, `asks`, `version`, `ts`, `mrid`, `id`,
 *   `ch`): an old recording's `update` flag, a `ping`, an `op` are refused;
 * - `ch` is `market.<symbol>.depth.step0`, the symbol being everything
 *   between `market.` and the next dot (as the adapter cuts it);
 * - `tick` is an object with at least one key; `bids` and `asks`, each
 *   optional (absent: an empty side, as the adapter reads it), are arrays
 *   of two-number `[price, size]` levels with `0 < price < MAX_PRICE` and
 *   `0 ≤ size ≤ MAX_SIZE`, as `priceValue` and `sizeValue` accept them;
 *   each is the double `JSON.parse` gives, and a size `-0` is read as 0
 *   (as `sizeValue` does);
 * - `version`, when present, is a JSON number that is a safe non-negative
 *   integer (as `sequenceValue` reads it);
 * - both `ts`, and `mrid` and `id`, when present, are JSON numbers (the
 *   adapter reads no `mrid` or `id`); the tick's `ch` a string.
 * Anything else (trades, `mbp` and `high_freq` books, acks, pings, errors,
 * null or string values, a level the adapter refuses) returns false: parse
 * that frame with `JSON.parse` (the adapter).
 *
 * @example
 * ```ts
 * const s = new HuobiStep0Scanner();
 * if (s.scan(text)) {
 *   s.symbol; // "trioeth"
 *   s.bids.prices[0]; // 9.121e-7
 * } else {
 *   events = parser.parse(frame, recvTs);
 * }
 * ```
 */
export class HuobiStep0Scanner {
  /** The exchange symbol of the channel `market.<symbol>.depth.step0`. */
  symbol = "";
  /**
   * The frame's `ts`, ms since the epoch, as JSON.parse reads the number;
   * NaN when the frame has none.
   */
  frameTime: number = NaN;
  /** The tick's `ts`, ms, as {@link HuobiStep0Scanner.frameTime}. */
  tickTime: number = NaN;
  /** The tick's `version`, as `sequenceValue` reads it; -1 when absent. */
  version = -1;
  /** The bid levels, best first as HTX sends them. */
  readonly bids: ScannedSide = newSide();
  /** The ask levels, best first. */
  readonly asks: ScannedSide = newSide();
  readonly #c = new JsonCursor();
  /** Each channel symbol's last image, read against by the next one. */
  readonly #images: SymbolImage[] = [];
  /** The image of this frame's symbol; undefined until `ch` is read. */
  #image: SymbolImage | undefined;
  /** Where a side's new image is read into, then traded for the old one. */
  #spare: SideImage = newSideImage();

  /**
   * Reads one frame.
   * @param text an inflated frame's text.
   * @returns true when it is a `depth.step0` image as the class describes,
   *   its fields now set; false when it is anything else (the fields are
   *   then meaningless).
   * @throws {never} does not throw; odd input returns false.
   */
  scan(text: string): boolean {
    return this.#c.reset(text) && this.#scan();
  }

  /**
   * Reads one frame from its bytes, as {@link HuobiStep0Scanner.scan} reads
   * their text, without decoding them.
   * @param bytes an inflated frame (copied: the caller may reuse them).
   * @returns as `scan`.
   */
  scanBytes(bytes: Uint8Array): boolean {
    return this.#c.resetBytes(bytes) && this.#scan();
  }

  /**
   * The text of the frame last given to {@link HuobiStep0Scanner.scanBytes}
   * (or `scan`), whether or not it was recognised: for the parse path.
   * @returns the frame's text; undefined when it was not ASCII (the cursor
   *   kept nothing).
   */
  text(): string | undefined {
    const c = this.#c;
    if (c.end === 0) return undefined;
    return c.text !== "" ? c.text : decoder.decode(c.bytes.subarray(0, c.end));
  }

  /** Reads the frame the cursor was reset to. */
  #scan(): boolean {
    const c = this.#c;
    const t = c.bytes;
    if (t[0] !== 0x7b || t[1] !== 0x22) return false; // '{"'
    c.pos = 2;
    this.frameTime = NaN;
    this.#image = undefined;
    let seen = 0;
    for (;;) {
      // At the key's first character.
      const i = c.pos;
      const k0 = t[i];
      let key: number;
      if (k0 === 0x63 && bytesAt(t, i, CH)) { // "c"
        key = KEY_CH;
        c.pos = i + CH.length;
        if (!this.#channel(c)) return false;
      } else if (k0 === 0x74 && bytesAt(t, i, TS)) { // "t"
        key = KEY_TS;
        c.pos = i + TS.length;
        if ((this.frameTime = c.number()) !== this.frameTime) return false;
      } else if (k0 === 0x74 && bytesAt(t, i, TICK)) {
        key = KEY_TICK;
        c.pos = i + TICK.length;
        if (!this.#tick(c)) return false;
      } else {
        return false;
      }
      if ((seen & key) !== 0) return false;
      seen |= key;
      const sep = t[c.pos++];
      if (sep === 0x7d) break; // "}"
      if (sep !== 0x2c || t[c.pos++] !== 0x22) return false; // ',"'
    }
    return (seen & REQUIRED) === REQUIRED && c.pos === c.end;
  }

  /**
   * Reads the value of `ch` just past its opening quote: a plain string
   * `market.<symbol>.depth.step0`; sets `symbol`.
   */
  #channel(c: JsonCursor): boolean {
    const t = c.bytes;
    const from = c.pos;
    const end = c.stringBody();
    if (end < 0 || !bytesAt(t, from, MARKET)) return false;
    // The symbol runs to the first dot after `market.`, as the adapter's
    // `ch.indexOf(".", 7)`; the rest must be the channel's topic.
    const sym = from + MARKET.length;
    let dot = sym;
    while (dot < end && t[dot] !== 0x2e) dot++;
    if (end - dot !== STEP0.length || !bytesAt(t, dot, STEP0)) return false;
    // A symbol seen before: its image and string, without making a string.
    const images = this.#images;
    for (let k = 0; k < images.length; k++) {
      const m = images[k];
      if (m.symbol.length === dot - sym && holds(t, sym, m.symbol)) {
        this.symbol = m.symbol;
        this.#image = m;
        return true;
      }
    }
    this.symbol = reuseAscii(this.symbol, t, sym, dot);
    this.#image = undefined;
    if (images.length < MAX_IMAGES) {
      images.push(
        this.#image = {
          symbol: this.symbol,
          bids: newSideImage(),
          asks: newSideImage(),
        },
      );
    }
    return true;
  }

  /**
   * Reads a side's level array at the cursor into `out`: against the
   * symbol's last image of that side when `ch` came first (as HTX writes
   * it), which then becomes this one; else (or for a symbol past
   * {@link MAX_IMAGES}) in full.
   * @param asc true for asks (best first is lowest first).
   */
  #side(c: JsonCursor, out: ScannedSide, asc: boolean): boolean {
    const image = this.#image;
    const next = this.#spare;
    // Without a kept image, against an empty one: every level is read.
    if (image === undefined) {
      return readImageLevels(c, out, NO_IMAGE, next, asc);
    }
    const last = asc ? image.asks : image.bids;
    if (!readImageLevels(c, out, last, next, asc)) return false;
    this.#spare = last;
    if (asc) image.asks = next;
    else image.bids = next;
    return true;
  }

  /**
   * Reads the `tick` object's body at the cursor, just past its `{"`; false
   * when it is not a `depth.step0` tick as the class describes.
   */
  #tick(c: JsonCursor): boolean {
    const t = c.bytes;
    this.tickTime = NaN;
    this.version = -1;
    this.bids.count = 0;
    this.asks.count = 0;
    let seen = 0;
    for (;;) {
      const i = c.pos;
      const k0 = t[i];
      let key: number;
      if (k0 === 0x62 && bytesAt(t, i, BIDS)) { // "b"
        key = KEY_BIDS;
        c.pos = i + BIDS.length;
        if (!this.#side(c, this.bids, false)) return false;
      } else if (k0 === 0x61 && bytesAt(t, i, ASKS)) { // "a"
        key = KEY_ASKS;
        c.pos = i + ASKS.length;
        if (!this.#side(c, this.asks, true)) return false;
      } else if (k0 === 0x76 && bytesAt(t, i, VERSION)) { // "v"
        key = KEY_VERSION;
        c.pos = i + VERSION.length;
        if ((this.version = sequenceValue(c.number())) !== this.version) {
          return false;
        }
      } else if (k0 === 0x74 && bytesAt(t, i, TS)) { // "t"
        key = KEY_TICK_TS;
        c.pos = i + TS.length;
        if ((this.tickTime = c.number()) !== this.tickTime) return false;
      } else if (k0 === 0x6d && bytesAt(t, i, MRID)) { // "m"
        key = KEY_MRID;
        c.pos = i + MRID.length;
        if (!c.skipNumber()) return false;
      } else if (k0 === 0x69 && bytesAt(t, i, ID)) { // "i"
        key = KEY_ID;
        c.pos = i + ID.length;
        if (!c.skipNumber()) return false;
      } else if (k0 === 0x63 && bytesAt(t, i, CH)) { // "c"
        key = KEY_TICK_CH;
        c.pos = i + CH.length;
        if (c.stringBody() < 0) return false;
      } else {
        return false;
      }
      if ((seen & key) !== 0) return false;
      seen |= key;
      const sep = t[c.pos++];
      if (sep === 0x7d) return true; // "}"
      if (sep !== 0x2c || t[c.pos++] !== 0x22) return false; // ',"'
    }
  }
}

/**
 * Symbols whose last image a scanner keeps (a connection subscribes a few);
 * past this, new symbols are read in full.
 */
const MAX_IMAGES = 64;

/** Whether the bytes of `t` from `i` are the characters of `s`. */
function holds(t: Uint8Array, i: number, s: string): boolean {
  for (let k = 0; k < s.length; k++) {
    if (t[i + k] !== s.charCodeAt(k)) return false;
  }
  return true;
}

/**
 * One side of a symbol's last image, as text and as the values read from
 * it: what {@link readImageLevels} reads the next image against.
 */
interface SideImage {
  /** The side's level text: each level `[price,size]` and the `,` or `]` after it. */
  bytes: Uint8Array;
  /** A view of `bytes`' buffer. */
  view: DataView;
  /** Where each level starts in `bytes`; `starts[count]` is the text's length. */
  starts: Int32Array;
  /** The levels' prices as read. */
  prices: Float64Array;
  /** The levels' sizes as read (as sent: contracts on swaps). */
  sizes: Float64Array;
  /** Number of levels. */
  count: number;
}

/** The last image of both sides of a symbol. */
interface SymbolImage {
  /** The exchange symbol. */
  readonly symbol: string;
  bids: SideImage;
  asks: SideImage;
}

/** An empty {@link SideImage} with room for 64 levels. */
function newSideImage(): SideImage {
  const bytes = new Uint8Array(1024);
  return {
    bytes,
    view: new DataView(bytes.buffer),
    starts: new Int32Array(65),
    prices: new Float64Array(64),
    sizes: new Float64Array(64),
    count: 0,
  };
}

/** An image with no levels: what a side is read against when none is kept. */
const NO_IMAGE: SideImage = newSideImage();

/**
 * Doubles the level room of a {@link SideImage}, keeping its levels, and
 * grows `out` to at least as much.
 */
function growImage(m: SideImage, out: ScannedSide): void {
  const n = m.prices.length * 2;
  const starts = new Int32Array(n + 1);
  const prices = new Float64Array(n);
  const sizes = new Float64Array(n);
  starts.set(m.starts);
  prices.set(m.prices);
  sizes.set(m.sizes);
  m.starts = starts;
  m.prices = prices;
  m.sizes = sizes;
  while (out.prices.length < n) growSide(out);
}

/**
 * How many of the first `len` bytes of `a` from `i` equal those of `b` from
 * `j` before the first that differs (four at a time, then one by one).
 */
function sameLength(
  a: DataView,
  i: number,
  b: DataView,
  j: number,
  len: number,
): number {
  let k = 0;
  while (k + 4 <= len && a.getInt32(i + k) === b.getInt32(j + k)) k += 4;
  while (k < len && a.getUint8(i + k) === b.getUint8(j + k)) k++;
  return k;
}

/**
 * Reads a level array of two-number pairs, `[[price,size],…]`, at the
 * cursor into `out` (grown when needed), against the same side's last
 * image: a
 * level whose text (with the `,` or `]` after it) is byte for byte the next
 * unmatched one of the last image takes that level's values without being
 * read again. Images are 150 levels of which a few change from one to the
 * next, so most levels are compared, not read. Only byte-equal text is
 * taken over, so the values are those a full read gives, whatever changed;
 * which old level a new one is compared with follows the price order
 * (`asc` for asks), which only decides how many are taken over.
 * @param c the cursor, at the array's `[`.
 * @param out receives the levels (grown when needed).
 * @param last the side's last image (empty at first).
 * @param next receives this image's text and values (`last` is left as it was).
 * @param asc true when the side's best level is its lowest price (asks).
 * @returns false when it is not such an array or a level is out of range
 *   (see the class); `out` and `next` then hold nothing usable.
 */
function readImageLevels(
  c: JsonCursor,
  out: ScannedSide,
  last: SideImage,
  next: SideImage,
  asc: boolean,
): boolean {
  const t = c.bytes;
  let i = c.pos;
  if (t[i] !== 0x5b) return false; // "["
  if (t[i + 1] === 0x5d) { // "]": no levels
    c.pos = i + 2;
    out.count = 0;
    next.count = 0;
    next.starts[0] = 0;
    return true;
  }
  if (t[i + 1] !== 0x5b) return false; // "[["
  const base = ++i;
  // `out` takes each level as `next` does: room for as many.
  while (out.prices.length < next.prices.length) growSide(out);
  const view = c.view;
  const end = c.end;
  const oc = last.count;
  const os = last.starts;
  const op = last.prices;
  const oq = last.sizes;
  const ov = last.view;
  const olen = os[oc];
  let n = 0;
  let j = 0; // the last image's next level not yet matched or passed
  for (;;) {
    // At a level's "[": take over the run of whole levels whose text is the
    // last image's from its level j on.
    if (j < oc) {
      const from = os[j];
      const same = sameLength(
        view,
        i,
        ov,
        from,
        Math.min(olen - from, end - i),
      );
      let k = j;
      while (k < oc && os[k + 1] - from <= same) k++;
      if (k > j) {
        while (next.prices.length < n + k - j) growImage(next, out);
        const ns = next.starts;
        const np = next.prices;
        const nq = next.sizes;
        const xp = out.prices;
        const xq = out.sizes;
        const shift = i - base - from;
        for (; j < k; j++, n++) {
          ns[n] = os[j] + shift;
          xp[n] = np[n] = op[j];
          xq[n] = nq[n] = oq[j];
        }
        i = base + os[k] + shift;
        if (t[i - 1] === 0x5d) break; // the run closed the array, as before
      }
    }
    if (n === next.prices.length) growImage(next, out);
    if (t[i] !== 0x5b) return false; // "["
    c.pos = i + 1;
    let price = NaN;
    let size = NaN;
    // One call site of `decimal` for both numbers keeps it inlined here; an
    // exponent form (`9.121E-7`) goes on to `number`.
    for (;;) {
      const x = c.decimal();
      const k = c.pos;
      if (price !== price) {
        if (!isPrice(x) || t[k] !== 0x2c) return false; // ","
        price = x;
        c.pos = k + 1;
        continue;
      }
      size = x + 0; // -0 + 0 is 0, as `sizeValue` gives
      if (!isSize(size) || t[k] !== 0x5d) return false; // "]"
      break;
    }
    next.starts[n] = i - base;
    out.prices[n] = next.prices[n] = price;
    out.sizes[n] = next.sizes[n] = size;
    n++;
    const sep = t[c.pos + 1];
    i = c.pos + 2;
    // Old levels better than this one are gone; one at its price changed.
    if (asc) { while (j < oc && op[j] < price) j++; }
    else while (j < oc && op[j] > price) j++;
    if (j < oc && op[j] === price) j++;
    if (sep === 0x5d) break; // "]"
    if (sep !== 0x2c) return false; // ","
  }
  const len = i - base;
  next.starts[n] = len;
  next.count = n;
  if (next.bytes.length < len) {
    next.bytes = new Uint8Array(len + (len >> 1));
    next.view = new DataView(next.bytes.buffer);
  }
  next.bytes.set(t.subarray(base, i));
  out.count = n;
  c.pos = i;
  return true;
}
