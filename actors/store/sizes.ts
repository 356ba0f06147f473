/**
 * The stored form of a heatmap column's sizes (the `sizes` column of the
 * heatmap tables): bids, asks, buys and sells per bucket in one compact
 * `bytea`, each size rounded to 6 significant digits as the live stream
 * rounds it. Layout and precision: docs/history.md.
 *
 * @module
 */

/** First byte of {@link encodeSizes}' output: the format. */
const SIZES_FORMAT = 1;

/** Exponent bias of a size code: the code's exponent field is `e + 64`. */
const EXP_BIAS = 64;

/** Exponent field of the codes that are not a decimal (NaN, ±Infinity). */
const EXP_SPECIAL = 127;

/** 10^k for k = 0 … 22: the powers of ten a double holds exactly. */
const POW10 = (() => {
  const p = [1];
  for (let k = 1; k <= 22; k++) p.push(p[k - 1] * 10);
  return p;
})();

/**
 * The 32-bit code of one size: `sign · 2^31 + (e + 64) · 2^20 + m` for the
 * size rounded to 6 significant digits, `m · 10^e` with `m` from 100 000 to
 * 999 999, exactly as `Number.prototype.toPrecision(6)` rounds it (ties
 * away from zero). 0 for zero and for sizes under 1e-59 once rounded; the
 * exponent field 127 for the sizes that are not a decimal: `m` 0 is NaN,
 * `m` 1 is Infinity (with the sign; also for sizes over 9.99999e67).
 * @param x the size.
 * @returns the code, an unsigned 32-bit integer.
 */
function sizeCode(x: number): number {
  if (x === 0) return 0;
  if (x !== x) return EXP_SPECIAL * 0x100000;
  const sign = x < 0 ? 0x80000000 : 0;
  const a = x < 0 ? -x : x;
  if (a === Infinity) return sign + EXP_SPECIAL * 0x100000 + 1;
  // Fast path: a scaled to 6 integer digits by one exact power of ten (one
  // rounding, error ≤ 1.2e-10), unless that lands within 1e-7 of a tie or
  // log10 was off by one (y < 100 000, or m past 999 999 but for the carry
  // of 999 999.5 up to 1 000 000).
  let p = Math.floor(Math.log10(a));
  let m = 0;
  const j = p - 5;
  if (j >= -22 && j <= 22) {
    const y = j < 0 ? a * POW10[-j] : a / POW10[j];
    const f = y - Math.floor(y);
    if (y >= 100_000 && Math.abs(f - 0.5) > 1e-7) m = Math.round(y);
    if (m === 1_000_000) {
      m = 100_000;
      p++;
    }
  }
  if (m < 100_000 || m > 999_999) {
    // Exact: the digits of the decimal expansion, "d.ddddde±x".
    const s = a.toExponential(5);
    const at = s.indexOf("e");
    m = Number(s[0] + s.slice(2, at));
    p = Number(s.slice(at + 1));
  }
  const field = p - 5 + EXP_BIAS;
  if (field < 0) return 0;
  if (field >= EXP_SPECIAL) return sign + EXP_SPECIAL * 0x100000 + 1;
  return sign + field * 0x100000 + m;
}

/**
 * The size a {@link sizeCode} stands for: the double nearest to `m · 10^e`,
 * that is `+x.toPrecision(6)` of the size `x` that was coded.
 * @param u the code.
 * @returns the size.
 */
function sizeOf(u: number): number {
  // Sign and exponent field: 42 … 86 is a positive size with |e| ≤ 22,
  // which one exact power of ten and one rounding turn into the double.
  const f = u >>> 20;
  if (f >= EXP_BIAS - 22 && f < EXP_BIAS) {
    return (u & 0xfffff) / POW10[EXP_BIAS - f];
  }
  if (f >= EXP_BIAS && f <= EXP_BIAS + 22) {
    return (u & 0xfffff) * POW10[f - EXP_BIAS];
  }
  const m = u & 0xfffff;
  const field = f & 0x7f;
  const x = field === EXP_SPECIAL
    ? (m === 0 ? NaN : Infinity)
    : Number(`${m}e${field - EXP_BIAS}`);
  return u >= 0x80000000 ? -x : x;
}

/** Scratch for the codes of one side, grown as needed. */
let codes = new Uint32Array(1024);
/** Scratch for the encoded bytes, grown as needed. */
let out = new Uint8Array(1 << 16);

/** The `base` byte of a side whose codes are written whole, 4 bytes each. */
const WHOLE = 255;

/** The `first` of a side whose sized buckets are not one run: a bitmap follows. */
const SCATTERED = 0xffffffff;

/**
 * Encodes a heatmap column's sizes as stored in `sizes bytea` of `heatmap`
 * and its rollups. All numbers little-endian:
 *
 * - `u8` format, 1; `u32` n, the number of buckets;
 * - then bids, asks, buys and sells, each: `u32` count, the buckets whose
 *   size is not 0 once rounded; when `count > 0`: `u8` base; `u32` first,
 *   the first of those buckets when they are one run (all `n` included),
 *   else 0xffffffff followed by a bitmap of `⌈n / 8⌉` bytes (bit `i % 8` of
 *   byte `⌊i / 8⌋` set for each such bucket `i`); then `count` size codes
 *   in bucket order: 3 bytes each, `m + (exponent field − base) · 2^20`,
 *   when the side's sizes are positive decimals whose exponent fields lie
 *   within 16 consecutive values (base the least), else 4 bytes each, the
 *   whole code (base 255).
 *
 * A size code holds the size rounded to 6 significant digits (the live
 * stream's `toPrecision(6)`): sign bit, 7-bit exponent field `e + 64` and
 * 20-bit mantissa `m` (100 000 … 999 999) for `m · 10^e`; the exponent field
 * 127 codes NaN (`m` 0) and ±Infinity (`m` 1). Sizes that round below 1e-59
 * are stored as 0, above 9.99999e67 as Infinity. So a side costs 9 bytes
 * and 3 a sized bucket (sizes within 16 decades of each other), ⌈n / 8⌉
 * more when its sized buckets have gaps; an empty side 4 bytes.
 *
 * @param sides bids, asks, buys and sells, one size per bucket each (base
 *   currency).
 * @returns the bytes, a fresh array.
 * @throws {RangeError} when there are not four sides of one length.
 * @example
 * ```ts
 * const sizes = encodeSizes([col.bids, col.asks, col.buys, col.sells]);
 * decodeSizes(sizes).bids; // col.bids, each rounded to 6 significant digits
 * ```
 */
export function encodeSizes(sides: readonly ArrayLike<number>[]): Uint8Array {
  if (sides.length !== 4) {
    throw new RangeError(`Heatmap sizes need 4 sides, got ${sides.length}`);
  }
  const n = sides[0].length;
  for (const s of sides) {
    if (s.length !== n) {
      throw new RangeError(
        `Heatmap sides differ in length: ${s.length} buckets, not ${n}`,
      );
    }
  }
  const mapBytes = (n + 7) >> 3;
  const max = 5 + 4 * (9 + mapBytes + 4 * n);
  if (out.length < max) out = new Uint8Array(Math.max(max, 2 * out.length));
  if (codes.length < n) codes = new Uint32Array(Math.max(n, 2 * codes.length));
  const buf = out;
  const dv = new DataView(buf.buffer);
  buf[0] = SIZES_FORMAT;
  dv.setUint32(1, n, true);
  let at = 5;
  for (let s = 0; s < 4; s++) {
    const side = sides[s];
    let count = 0;
    // Sign and exponent field (code >>> 20) over the side's sizes: a
    // negative size or NaN/Infinity has one past EXP_SPECIAL - 1.
    let lo = 0xfff;
    let hi = 0;
    let first = -1;
    let last = -1;
    for (let i = 0; i < n; i++) {
      const c = sizeCode(side[i]);
      codes[i] = c;
      if (c === 0) continue;
      count++;
      if (first < 0) first = i;
      last = i;
      const f = c >>> 20;
      if (f < lo) lo = f;
      if (f > hi) hi = f;
    }
    dv.setUint32(at, count, true);
    at += 4;
    if (count === 0) continue;
    const packed = hi < EXP_SPECIAL && hi - lo <= 15;
    buf[at++] = packed ? lo : WHOLE;
    const run = last - first + 1 === count;
    dv.setUint32(at, run ? first : SCATTERED, true);
    at += 4;
    if (!run) {
      buf.fill(0, at, at + mapBytes);
      for (let i = 0; i < n; i++) {
        if (codes[i] !== 0) buf[at + (i >> 3)] |= 1 << (i & 7);
      }
      at += mapBytes;
    }
    if (packed) {
      const base = lo * 0x100000;
      for (let i = 0; i < n; i++) {
        const c = codes[i];
        if (c === 0) continue;
        const u = c - base;
        buf[at] = u & 0xff;
        buf[at + 1] = (u >>> 8) & 0xff;
        buf[at + 2] = u >>> 16;
        at += 3;
      }
    } else {
      for (let i = 0; i < n; i++) {
        if (codes[i] === 0) continue;
        dv.setUint32(at, codes[i], true);
        at += 4;
      }
    }
  }
  return buf.slice(0, at);
}

/** A heatmap column's sizes as {@link decodeSizes} reads them. */
export interface HeatmapSizes {
  /** Resting bid size per bucket, base currency. */
  bids: number[];
  /** Resting ask size per bucket, base currency. */
  asks: number[];
  /** Taker buy volume per bucket, base currency. */
  buys: number[];
  /** Taker sell volume per bucket, base currency. */
  sells: number[];
}

/**
 * Decodes the sizes {@link encodeSizes} stored.
 * @param b the bytes (a `sizes` field).
 * @returns the four sides, `n` sizes each: every size the double nearest
 *   to its 6 significant digits (`+x.toPrecision(6)` of the size `x` that
 *   was encoded), 0 for the buckets not stored.
 * @throws {RangeError} when the format is not 1 or the bytes end early or
 *   disagree with their counts.
 * @example
 * ```ts
 * const { bids, asks, buys, sells } = decodeSizes(row.sizes);
 * ```
 */
export function decodeSizes(b: Uint8Array): HeatmapSizes {
  if (b.length < 5 || b[0] !== SIZES_FORMAT) {
    throw new RangeError(
      `Not heatmap sizes of format ${SIZES_FORMAT}: ${b.length} bytes, format ${
        b[0]
      }`,
    );
  }
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = dv.getUint32(1, true);
  const mapBytes = (n + 7) >> 3;
  const sides: number[][] = [];
  let at = 5;
  for (let s = 0; s < 4; s++) {
    const side = new Array<number>(n).fill(0);
    sides.push(side);
    if (at + 4 > b.length) {
      throw new RangeError(`Heatmap sizes end early: no count of side ${s}`);
    }
    const count = dv.getUint32(at, true);
    at += 4;
    if (count === 0) continue;
    const base = b[at++];
    const width = base === WHOLE ? 4 : 3;
    const whole = base === WHOLE;
    const add = base * 0x100000;
    if (at + 4 > b.length) {
      throw new RangeError(`Heatmap sizes end early: no first of side ${s}`);
    }
    const first = dv.getUint32(at, true);
    at += 4;
    const run = first !== SCATTERED;
    const need = (run ? 0 : mapBytes) + width * count;
    if ((run ? first + count : count) > n || at + need > b.length) {
      throw new RangeError(
        `Heatmap sizes end early: side ${s} has ${count} of ${n} buckets, ${
          b.length - at
        } bytes left`,
      );
    }
    if (run) {
      for (let i = first, end = first + count; i < end; i++, at += width) {
        side[i] = sizeOf(
          whole
            ? dv.getUint32(at, true)
            : (b[at] | b[at + 1] << 8 | b[at + 2] << 16) + add,
        );
      }
      continue;
    }
    const map = at;
    at += mapBytes;
    let seen = 0;
    for (let k = 0; k < mapBytes; k++) {
      let bits = b[map + k];
      while (bits !== 0) {
        const low = bits & -bits;
        const i = 8 * k + 31 - Math.clz32(low);
        if (++seen > count || i >= n) {
          throw new RangeError(
            `Heatmap sizes: side ${s} marks bucket ${i} past its ${count} of ${n}`,
          );
        }
        side[i] = sizeOf(
          whole
            ? dv.getUint32(at, true)
            : (b[at] | b[at + 1] << 8 | b[at + 2] << 16) + add,
        );
        at += width;
        bits ^= low;
      }
    }
    if (seen !== count) {
      throw new RangeError(
        `Heatmap sizes: side ${s} marks ${seen} buckets, its count is ${count}`,
      );
    }
  }
  if (at !== b.length) {
    throw new RangeError(
      `Heatmap sizes: ${b.length} bytes, the sides end at ${at}`,
    );
  }
  return { bids: sides[0], asks: sides[1], buys: sides[2], sells: sides[3] };
}
