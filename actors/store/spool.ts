/**
 * The writer's spool: an append-only log of write batches kept on disk while
 * the database cannot take them, drained in order when it can.
 *
 * Files `spool-000001.log`, `spool-000002.log`, … in one directory (the
 * segments, oldest first). Each holds records `[length u32][crc32 u32]
 * [payload]` (little-endian; the CRC-32 (IEEE) of the payload; the payload
 * the JSON of one item, a `Uint8Array` in it (binary COPY data) written as
 * `{"$bytes": "<base64>"}` and read back as a `Uint8Array`). Every append group is made durable with
 * `syncData()` before `append` resolves. A process appends only to segments
 * it created, so what a killed process left is read, never extended. A
 * segment is deleted once every record in it has been drained.
 *
 * A record whose checksum fails, or that a kill cut short (a torn tail), is
 * counted in {@link Spool.corrupt}, logged and skipped: reading resumes at
 * the next intact record, found by its length, payload and checksum.
 *
 * @module
 */

import { processLog } from "../../runtime/log.ts";

/** Options for {@link Spool.open}. */
export interface SpoolOptions {
  /**
   * Size past which appends go to a new segment, bytes.
   * @default 67108864 (64 MiB)
   */
  segmentBytes?: number;
  /**
   * Receives what the spool skipped (and why).
   * @default a warning from the process's logger (`runtime/log.ts`)
   */
  warn?: (msg: string) => void;
}

/** Header bytes of a record: length and CRC. */
const HEADER = 8;
/** A length above this is no record's (a garbled header). */
const MAX_PAYLOAD = 1 << 30;
/** The first byte of every payload: `{` (items are JSON objects). */
const BRACE = 0x7b;
const SEGMENT = /^spool-(\d{6,})\.log$/;

/** One segment file. */
interface Segment {
  readonly path: string;
  /** Number in the file name. */
  readonly n: number;
  /** Bytes in the file (as appended, or as found at open). */
  size: number;
}

/** A record read and not yet drained. */
interface Head<T> {
  readonly value: T;
  /** Offset just past it in the first segment. */
  readonly end: number;
}

/**
 * An append-only, checksummed, segmented log of JSON objects.
 *
 * @example
 * ```ts
 * const spool = await Spool.open<{ id: string }>("data/coby/spool");
 * await spool.append([{ id: "a:1" }, { id: "a:2" }]); // fsynced
 * for (let b = await spool.peek(); b; b = await spool.peek()) {
 *   await write(b);
 *   await spool.shift(); // drained: never read again
 * }
 * await spool.close();
 * ```
 */
export class Spool<T extends object> {
  readonly #dir: string;
  readonly #segmentBytes: number;
  readonly #warn: (msg: string) => void;
  readonly #segments: Segment[];
  /** Read offset in the first segment. */
  #pos = 0;
  #head: Head<T> | undefined;
  /** Open handle of the segment being read (the first). */
  #reader: { seg: Segment; file: Deno.FsFile } | undefined;
  /** Open handle of the segment this process appends to (the last). */
  #writer: { seg: Segment; file: Deno.FsFile } | undefined;
  #corrupt = 0;
  #closed = false;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(
    dir: string,
    segments: Segment[],
    options: SpoolOptions,
  ) {
    this.#dir = dir;
    this.#segments = segments;
    this.#segmentBytes = options.segmentBytes ?? 64 * 2 ** 20;
    this.#warn = options.warn ??
      ((m) => processLog().warn(m, { actor: "spool" }));
  }

  /**
   * Opens (creating it if needed) the spool in `dir`, with what an earlier
   * process left there first in line.
   * @param dir the spool directory.
   * @param options segment size and where warnings go.
   * @returns the spool.
   * @throws {Deno.errors.PermissionDenied} and other I/O errors of `dir`.
   */
  static async open<T extends object>(
    dir: string,
    options: SpoolOptions = {},
  ): Promise<Spool<T>> {
    await Deno.mkdir(dir, { recursive: true });
    const segments: Segment[] = [];
    for await (const e of Deno.readDir(dir)) {
      const m = e.isFile ? SEGMENT.exec(e.name) : null;
      if (!m) continue;
      const path = `${dir}/${e.name}`;
      segments.push({
        path,
        n: Number(m[1]),
        size: (await Deno.stat(path)).size,
      });
    }
    segments.sort((a, b) => a.n - b.n);
    return new Spool<T>(dir, segments, options);
  }

  /** Bytes of records not drained yet, headers included (0: empty). */
  get bytes(): number {
    let n = 0;
    for (const s of this.#segments) n += s.size;
    return n - this.#pos;
  }

  /** Records skipped since open: bad checksums and torn tails. */
  get corrupt(): number {
    return this.#corrupt;
  }

  /**
   * Appends items, in order, and makes them durable (`syncData`).
   * @param items JSON-serializable objects (`Uint8Array`s in them too).
   * @returns when the items are on disk.
   * @throws {Error} when the spool is closed.
   * @throws I/O errors (disk full): the segment is then left, and the next
   *   append starts a new one; a partly written record is skipped as corrupt
   *   when read.
   */
  append(items: readonly T[]): Promise<void> {
    return this.#serial(async () => {
      if (this.#closed) throw new Error(`Spool ${this.#dir} is closed`);
      if (items.length === 0) return;
      const enc = new TextEncoder();
      const payloads = items.map((it) =>
        enc.encode(JSON.stringify(it, bytesToJson))
      );
      let total = 0;
      for (const p of payloads) total += HEADER + p.length;
      const buf = new Uint8Array(total);
      const view = new DataView(buf.buffer);
      let off = 0;
      for (const p of payloads) {
        view.setUint32(off, p.length, true);
        view.setUint32(off + 4, crc32(p), true);
        buf.set(p, off + HEADER);
        off += HEADER + p.length;
      }
      const w = await this.#writable();
      try {
        await writeAll(w.file, buf);
        await w.file.syncData();
        w.seg.size += total;
      } catch (e) {
        this.#writer = undefined;
        w.file.close();
        w.seg.size = (await Deno.stat(w.seg.path)).size;
        throw e;
      }
    });
  }

  /**
   * The oldest record not drained, skipping (and counting) corrupt ones.
   * @returns it, or undefined when the spool is empty (or closed).
   * @throws I/O errors reading a segment.
   */
  peek(): Promise<T | undefined> {
    return this.#serial(async () =>
      this.#closed ? undefined : (await this.#read())?.value
    );
  }

  /**
   * Drains the record {@link peek} returned: it is never read again, and a
   * segment whose records are all drained is deleted.
   * @returns when done.
   * @throws {Error} when no record was peeked.
   */
  shift(): Promise<void> {
    return this.#serial(async () => {
      const h = this.#head;
      if (!h) throw new Error("Spool shift without a peeked record");
      this.#head = undefined;
      this.#pos = h.end;
      await this.#dropDrained();
    });
  }

  /**
   * Closes the files; the records not drained stay for the next open. Later
   * calls find the spool empty, and appends fail.
   * @returns when closed.
   */
  close(): Promise<void> {
    return this.#serial(() => {
      this.#closed = true;
      this.#reader?.file.close();
      this.#writer?.file.close();
      this.#reader = this.#writer = undefined;
      return Promise.resolve();
    });
  }

  /** Runs `fn` after every earlier operation. */
  #serial<R>(fn: () => Promise<R>): Promise<R> {
    const p = this.#queue.then(fn);
    this.#queue = p.catch(() => {});
    return p;
  }

  /** The segment to append to, created when there is none or it is full. */
  async #writable(): Promise<{ seg: Segment; file: Deno.FsFile }> {
    const w = this.#writer;
    if (w && w.seg.size < this.#segmentBytes) return w;
    w?.file.close();
    const n = (this.#segments.at(-1)?.n ?? 0) + 1;
    const seg: Segment = {
      path: `${this.#dir}/spool-${String(n).padStart(6, "0")}.log`,
      n,
      size: 0,
    };
    const file = await Deno.open(seg.path, {
      write: true,
      createNew: true,
    });
    this.#segments.push(seg);
    return this.#writer = { seg, file };
  }

  /** Reads the next intact record into `#head`. */
  async #read(): Promise<Head<T> | undefined> {
    if (this.#head) return this.#head;
    while (this.#segments.length) {
      const seg = this.#segments[0];
      if (this.#pos >= seg.size) {
        if (this.#writer?.seg === seg) return undefined;
        await this.#dropDrained();
        continue;
      }
      const file = await this.#readerOf(seg);
      const header = await readAt(file, this.#pos, HEADER);
      if (header.length === HEADER) {
        const dv = new DataView(header.buffer, header.byteOffset);
        const len = dv.getUint32(0, true);
        if (this.#pos + HEADER + len <= seg.size && len <= MAX_PAYLOAD) {
          const payload = await readAt(file, this.#pos + HEADER, len);
          const value = payload.length === len && payload[0] === BRACE &&
              crc32(payload) === dv.getUint32(4, true)
            ? parseJson<T>(payload)
            : undefined;
          if (value !== undefined) {
            return this.#head = { value, end: this.#pos + HEADER + len };
          }
        }
      }
      await this.#skipCorrupt(seg, file);
    }
    return undefined;
  }

  /**
   * Skips a corrupt record at `#pos`: on to the next offset that holds an
   * intact record, else to the segment's end (a torn tail).
   */
  async #skipCorrupt(seg: Segment, file: Deno.FsFile): Promise<void> {
    const from = this.#pos;
    const rest = await readAt(file, from, seg.size - from);
    const dv = new DataView(rest.buffer, rest.byteOffset, rest.length);
    let next = rest.length;
    for (let i = 1; i + HEADER < rest.length; i++) {
      if (rest[i + HEADER] !== BRACE) continue;
      const len = dv.getUint32(i, true);
      if (len < 2 || i + HEADER + len > rest.length) continue;
      const payload = rest.subarray(i + HEADER, i + HEADER + len);
      if (crc32(payload) === dv.getUint32(i + 4, true)) {
        next = i;
        break;
      }
    }
    this.#corrupt++;
    this.#pos = from + next;
    const name = seg.path.slice(seg.path.lastIndexOf("/") + 1);
    this.#warn(
      next === rest.length
        ? `Spool ${name}: torn or corrupt record at offset ${from}, skipped ${next} bytes to the end of the segment`
        : `Spool ${name}: corrupt record at offset ${from} (bad checksum), skipped ${next} bytes to the next intact record`,
    );
  }

  /** The read handle of `seg`, opened when needed. */
  async #readerOf(seg: Segment): Promise<Deno.FsFile> {
    if (this.#reader?.seg === seg) return this.#reader.file;
    this.#reader?.file.close();
    const file = await Deno.open(seg.path, { read: true });
    this.#reader = { seg, file };
    return file;
  }

  /** Deletes the first segment while all of it is drained. */
  async #dropDrained(): Promise<void> {
    while (this.#segments.length && this.#pos >= this.#segments[0].size) {
      const seg = this.#segments[0];
      if (this.#reader?.seg === seg) {
        this.#reader.file.close();
        this.#reader = undefined;
      }
      if (this.#writer?.seg === seg) {
        this.#writer.file.close();
        this.#writer = undefined;
      }
      await Deno.remove(seg.path);
      this.#segments.shift();
      this.#pos = 0;
    }
  }
}

/** JSON.stringify replacer: a `Uint8Array` as `{"$bytes": base64}`. */
function bytesToJson(_key: string, value: unknown): unknown {
  if (!(value instanceof Uint8Array)) return value;
  let bin = "";
  for (let i = 0; i < value.length; i += 0x8000) {
    bin += String.fromCharCode(...value.subarray(i, i + 0x8000));
  }
  return { $bytes: btoa(bin) };
}

/** JSON.parse reviver: `{"$bytes": base64}` back to a `Uint8Array`. */
function jsonToBytes(_key: string, value: unknown): unknown {
  const b64 = (value as { $bytes?: unknown } | null)?.$bytes;
  if (typeof b64 !== "string" || Object.keys(value as object).length !== 1) {
    return value;
  }
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The JSON object in `bytes`, or undefined when it does not parse. */
function parseJson<T>(bytes: Uint8Array): T | undefined {
  try {
    return JSON.parse(new TextDecoder().decode(bytes), jsonToBytes) as T;
  } catch {
    return undefined;
  }
}

/** Reads up to `n` bytes at `pos` (fewer at the end of the file). */
async function readAt(
  file: Deno.FsFile,
  pos: number,
  n: number,
): Promise<Uint8Array> {
  const buf = new Uint8Array(n);
  await file.seek(pos, Deno.SeekMode.Start);
  let got = 0;
  while (got < n) {
    const r = await file.read(buf.subarray(got));
    if (r === null) break;
    got += r;
  }
  return buf.subarray(0, got);
}

/** Writes every byte of `buf`. */
async function writeAll(file: Deno.FsFile, buf: Uint8Array): Promise<void> {
  for (let off = 0; off < buf.length;) {
    off += await file.write(buf.subarray(off));
  }
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * CRC-32 (IEEE 802.3, the zlib and PNG one) of some bytes.
 * @param bytes the data.
 * @returns the checksum, an unsigned 32-bit integer.
 * @example
 * ```ts
 * crc32(new TextEncoder().encode("123456789")); // 0xcbf43926
 * ```
 */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}
