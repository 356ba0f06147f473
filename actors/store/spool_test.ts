import assert from "node:assert/strict";
import { crc32, Spool } from "./spool.ts";

interface Item {
  id: string;
  text: string;
}

/** `n` items with ids `prefix:0…`, of some bulk. */
function items(prefix: string, n: number): Item[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}:${i}`,
    text: "x\t".repeat(10 + i),
  }));
}

/** Drains a spool, returning the ids in order. */
async function drain(spool: Spool<Item>): Promise<string[]> {
  const out: string[] = [];
  for (let it = await spool.peek(); it; it = await spool.peek()) {
    out.push(it.id);
    await spool.shift();
  }
  return out;
}

/** The segment files in a directory, sorted. */
function segments(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("crc32: the standard check value", () => {
  assert.equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
});

Deno.test("spool: order is kept across appends, segments and a reopen; drained segments are deleted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let spool = await Spool.open<Item>(dir, { segmentBytes: 100 });
    assert.equal(spool.bytes, 0);
    assert.equal(await spool.peek(), undefined);
    await spool.append(items("a", 3));
    await spool.append(items("b", 4));
    assert.ok(segments(dir).length >= 2, segments(dir).join());
    // Peek without shift returns the same record.
    assert.equal((await spool.peek())!.id, "a:0");
    assert.equal((await spool.peek())!.id, "a:0");
    await spool.shift();
    const left = spool.bytes;
    await spool.close();
    // A new process: the old segments come first, new appends after them.
    spool = await Spool.open<Item>(dir, { segmentBytes: 100 });
    // The drained record was not persisted as drained: it is read again
    // (the writer's batch ids make that harmless).
    assert.ok(spool.bytes > left);
    await spool.append(items("c", 2));
    const ids = await drain(spool);
    assert.deepEqual(ids, [
      ...items("a", 3).map((i) => i.id),
      ...items("b", 4).map((i) => i.id),
      "c:0",
      "c:1",
    ]);
    assert.equal(spool.bytes, 0);
    assert.equal(spool.corrupt, 0);
    assert.deepEqual(segments(dir), []);
    // Appending after a full drain starts a new segment.
    await spool.append(items("d", 1));
    assert.deepEqual(await drain(spool), ["d:0"]);
    await spool.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("spool: a torn tail (killed mid-write) is counted and skipped", async () => {
  const dir = await Deno.makeTempDir();
  const warnings: string[] = [];
  try {
    const spool = await Spool.open<Item>(dir);
    await spool.append(items("a", 3));
    await spool.close();
    const [name] = segments(dir);
    const path = `${dir}/${name}`;
    const size = (await Deno.stat(path)).size;
    await Deno.truncate(path, size - 5);
    const again = await Spool.open<Item>(dir, {
      warn: (m) => warnings.push(m),
    });
    assert.deepEqual(await drain(again), ["a:0", "a:1"]);
    assert.equal(again.corrupt, 1);
    assert.match(warnings[0], /torn or corrupt record at offset \d+/);
    assert.deepEqual(segments(dir), []);
    // A header cut short is torn too.
    await again.append(items("b", 2));
    await again.close();
    const [name2] = segments(dir);
    const bytes = await Deno.readFile(`${dir}/${name2}`);
    const first = new DataView(bytes.buffer).getUint32(0, true) + 8;
    await Deno.truncate(`${dir}/${name2}`, first + 3);
    const third = await Spool.open<Item>(dir, { warn: () => {} });
    assert.deepEqual(await drain(third), ["b:0"]);
    assert.equal(third.corrupt, 1);
    await third.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("spool: a flipped byte in a payload or in a length skips that record only", async () => {
  for (const where of ["payload", "length"] as const) {
    const dir = await Deno.makeTempDir();
    try {
      const spool = await Spool.open<Item>(dir);
      await spool.append(items("a", 4));
      await spool.close();
      const [name] = segments(dir);
      const path = `${dir}/${name}`;
      const bytes = await Deno.readFile(path);
      const len0 = new DataView(bytes.buffer).getUint32(0, true);
      // The second record starts after the first.
      const second = 8 + len0;
      const at = where === "payload" ? second + 8 + 10 : second + 1;
      bytes[at] ^= 0x20;
      await Deno.writeFile(path, bytes);
      const warnings: string[] = [];
      const again = await Spool.open<Item>(dir, {
        warn: (m) => warnings.push(m),
      });
      assert.deepEqual(await drain(again), ["a:0", "a:2", "a:3"], where);
      assert.equal(again.corrupt, 1);
      assert.match(warnings[0], /bad checksum/);
      await again.close();
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
});
