/**
 * Incremental CRC-32 (IEEE 802.3, the zlib/PNG polynomial 0xEDB88320) over
 * text fed one UTF-16 code unit at a time, encoded as UTF-8 on the way (lone
 * surrogates as U+FFFD, as `TextEncoder` and `node:zlib`'s `crc32(string)`
 * do). It lets a book checksum (Kraken, Bitfinex) run over the venue's level
 * strings in place, without building and encoding the concatenated text.
 * Algorithm: https://www.w3.org/TR/png-3/#D-CRCAppendix
 *
 * @module
 */

/** The byte-wise CRC-32 table of the reflected polynomial 0xEDB88320. */
const TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/**
 * A running CRC-32 of UTF-8 text: {@link reset}, feed with {@link text} or
 * {@link unit}, read with {@link value}. Reusable; allocates nothing per use.
 * @example
 * ```ts
 * const crc = new Crc32();
 * crc.reset();
 * crc.text("45285");
 * crc.text("2");
 * crc.value(); // === crc32("452852") from node:zlib
 * ```
 */
export class Crc32 {
  /** The register, inverted (starts at ~0). */
  #crc = -1;
  /** A high surrogate waiting for its low half, or 0. */
  #high = 0;

  /** Starts a new checksum. */
  reset(): void {
    this.#crc = -1;
    this.#high = 0;
  }

  /**
   * The running state after whole characters, to go on from later with
   * {@link Crc32.resume}.
   * @returns the state (what `resume` takes).
   */
  state(): number {
    return this.#crc;
  }

  /**
   * Goes on from a state {@link Crc32.state} gave (after whole characters):
   * as if the text fed before that state had just been fed again.
   * @param state the state; the initial state of `reset` is -1.
   */
  resume(state: number): void {
    this.#crc = state;
    this.#high = 0;
  }

  /**
   * Feeds the code units of `s` from `start` on, leaving out every one equal
   * to `skip` (ASCII in a tight loop, the rest through {@link unit}).
   * @param s the text.
   * @param start the first index fed (default 0).
   * @param skip a code unit to leave out (default -1: none).
   */
  text(s: string, start = 0, skip = -1): void {
    let i = start;
    if (this.#high === 0) {
      let crc = this.#crc;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c === skip) continue;
        if (c >= 0x80) break;
        crc = TABLE[(crc ^ c) & 0xff] ^ (crc >>> 8);
      }
      this.#crc = crc;
    }
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c !== skip) this.unit(c);
    }
  }

  /**
   * Feeds one UTF-16 code unit (0..0xFFFF); a surrogate pair may be split
   * across calls.
   * @param c the code unit.
   */
  unit(c: number): void {
    if (this.#high !== 0) {
      const h = this.#high;
      this.#high = 0;
      if (c >= 0xdc00 && c <= 0xdfff) {
        const cp = 0x10000 + ((h - 0xd800) << 10) + (c - 0xdc00);
        this.#byte(0xf0 | (cp >> 18));
        this.#byte(0x80 | ((cp >> 12) & 0x3f));
        this.#byte(0x80 | ((cp >> 6) & 0x3f));
        this.#byte(0x80 | (cp & 0x3f));
        return;
      }
      this.#replacement();
    }
    if (c < 0x80) {
      this.#crc = TABLE[(this.#crc ^ c) & 0xff] ^ (this.#crc >>> 8);
    } else if (c < 0x800) {
      this.#byte(0xc0 | (c >> 6));
      this.#byte(0x80 | (c & 0x3f));
    } else if (c >= 0xd800 && c <= 0xdbff) {
      this.#high = c;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      this.#replacement();
    } else {
      this.#byte(0xe0 | (c >> 12));
      this.#byte(0x80 | ((c >> 6) & 0x3f));
      this.#byte(0x80 | (c & 0x3f));
    }
  }

  /**
   * The checksum of everything fed since {@link reset} (a trailing lone high
   * surrogate counts as U+FFFD).
   * @returns the CRC-32, unsigned (0..2^32-1).
   */
  value(): number {
    if (this.#high !== 0) {
      this.#high = 0;
      this.#replacement();
    }
    return ~this.#crc >>> 0;
  }

  /** Feeds one byte. */
  #byte(b: number): void {
    this.#crc = TABLE[(this.#crc ^ b) & 0xff] ^ (this.#crc >>> 8);
  }

  /** Feeds U+FFFD, the UTF-8 encoder's stand-in for a lone surrogate. */
  #replacement(): void {
    this.#byte(0xef);
    this.#byte(0xbf);
    this.#byte(0xbd);
  }
}
