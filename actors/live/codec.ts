/**
 * The bytes of a bus entry for the batches that carry a Float64 buffer
 * (event batches and column batches), so they cross Redis or a
 * BroadcastChannel without an object graph or a text form of the numbers.
 *
 * Layout: `[u32 LE header length][header JSON, UTF-8][zero padding to a
 * multiple of 8][the batch's Float64 buffer, little-endian]`. The header is
 * the batch without its buffer (`type` included), so a reader tells the two
 * kinds apart; a number that JSON cannot hold (a column's NaN best bid when
 * it has none) travels as the string `"NaN"`, `"Infinity"` or
 * `"-Infinity"`.
 *
 * @module
 */

import type { EventBatch } from "../market/batch.ts";
import type { ColumnBatch } from "../market/heatmap.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Keeps NaN and ±Infinity through JSON as strings. */
function replacer(_key: string, v: unknown): unknown {
  return typeof v === "number" && !Number.isFinite(v) ? String(v) : v;
}

/** Undoes {@link replacer}. */
function reviver(_key: string, v: unknown): unknown {
  return v === "NaN" || v === "Infinity" || v === "-Infinity" ? Number(v) : v;
}

/**
 * Encodes an event or column batch as one bus entry.
 * @param b the batch (its buffer is copied, not transferred).
 * @returns the entry's bytes.
 * @example
 * ```ts
 * bus.publish(STREAMS.events, encodeBatch(batch), 100_000);
 * ```
 */
export function encodeBatch(b: EventBatch | ColumnBatch): Uint8Array {
  const { buf, ...header } = b;
  const head = enc.encode(JSON.stringify(header, replacer));
  const start = Math.ceil((4 + head.length) / 8) * 8;
  const out = new Uint8Array(start + buf.byteLength);
  new DataView(out.buffer).setUint32(0, head.length, true);
  out.set(head, 4);
  out.set(new Uint8Array(buf), start);
  return out;
}

/**
 * Decodes a bus entry made by {@link encodeBatch}.
 * @param bytes the entry (any byte offset; copied into a fresh buffer).
 * @returns the batch with its own buffer.
 * @throws {RangeError} when the bytes are too short for their header or
 * buffer; {@link SyntaxError} when the header is not JSON.
 * @example
 * ```ts
 * const b = decodeBatch(entry);
 * if (b.type === "columns") hub.push(b);
 * ```
 */
export function decodeBatch(bytes: Uint8Array): EventBatch | ColumnBatch {
  if (bytes.length < 4) {
    throw new RangeError(`Bus entry of ${bytes.length} bytes has no header`);
  }
  const len = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(
    0,
    true,
  );
  const start = Math.ceil((4 + len) / 8) * 8;
  if (start > bytes.length || (bytes.length - start) % 8 !== 0) {
    throw new RangeError(
      `Bus entry of ${bytes.length} bytes does not fit its ${len}-byte header`,
    );
  }
  const header = JSON.parse(
    dec.decode(bytes.subarray(4, 4 + len)),
    reviver,
  );
  const buf = bytes.slice(start).buffer;
  return { ...header, buf };
}
