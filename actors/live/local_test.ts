import assert from "node:assert/strict";
import { LocalBus } from "./local.ts";

/** A prefix of this test's own. */
function prefix(): string {
  return `test:${crypto.randomUUID().slice(0, 8)}:`;
}

/** Polls until `ok()` holds, or fails naming `what`. */
async function waitFor(
  ok: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!await ok()) {
    if (performance.now() > end) {
      throw new Error(`Timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Lets queued channel messages arrive. */
const settle = () => new Promise((r) => setTimeout(r, 30));

const dec = new TextDecoder();

Deno.test("LocalBus delivers entries in order, byte for byte, to every bus", async () => {
  const p = prefix();
  const a = new LocalBus({ prefix: p });
  const b = new LocalBus({ prefix: p });
  const own: Uint8Array[] = [];
  const other: Uint8Array[] = [];
  const stopOwn = a.follow("s", (d) => own.push(d));
  const stopOther = b.follow("s", (d) => other.push(d));
  const big = new Uint8Array(100_000).map((_, i) => i % 251);
  const sent: (Uint8Array | string)[] = [
    new Uint8Array([0, 0, 0xff, 0xfe, 0xc3, 0x28, 0x80, 0]),
    "héllo ✓",
    new Uint8Array(0),
    big,
    big.subarray(10, 20),
  ];
  for (const d of sent) a.publish("s", d, 1000);
  await waitFor(
    () => own.length === sent.length && other.length === sent.length,
    "the entries",
  );
  const want = sent.map((d) =>
    typeof d === "string" ? new TextEncoder().encode(d) : d
  );
  assert.deepEqual(own, want);
  assert.deepEqual(other, want);
  // Only the view's bytes travelled.
  assert.equal(own[4].buffer.byteLength, 10);
  assert.deepEqual(a.stats(), {
    published: 5,
    failed: 0,
    delivered: 5,
    up: true,
  });
  assert.equal(b.stats().delivered, 5);
  stopOwn();
  stopOther();
  await a.close();
  await b.close();
});

Deno.test("LocalBus backfill delivers nothing, then live entries", async () => {
  const p = prefix();
  const bus = new LocalBus({ prefix: p });
  bus.publish("s", "old", 10);
  await settle();
  const got: string[] = [];
  const stop = bus.follow("s", (d) => got.push(dec.decode(d)), {
    backfill: 10,
  });
  bus.publish("s", "new", 10);
  await waitFor(() => got.length === 1, "the new entry");
  await settle();
  assert.deepEqual(got, ["new"]);
  stop();
  await bus.close();
});

Deno.test("LocalBus keys reach every bus of the process", async () => {
  const p = prefix();
  const a = new LocalBus({ prefix: p });
  const b = new LocalBus({ prefix: p });
  const elsewhere = new LocalBus({ prefix: prefix() });
  assert.equal(await a.get("k"), null);
  a.set("k", "v1");
  a.set("k", "v2");
  assert.equal(await a.get("k"), "v2");
  await waitFor(async () => await b.get("k") === "v2", "the key on b");
  assert.equal(await elsewhere.get("k"), null);
  assert.equal(a.stats().published, 2);
  await Promise.all([a.close(), b.close(), elsewhere.close()]);
});

Deno.test("LocalBus follower that stopped receives nothing more", async () => {
  const bus = new LocalBus({ prefix: prefix() });
  const stopped: string[] = [];
  const kept: string[] = [];
  const stop = bus.follow("s", (d) => stopped.push(dec.decode(d)));
  const stop2 = bus.follow("s", (d) => kept.push(dec.decode(d)));
  bus.publish("s", "a", 10);
  await waitFor(() => stopped.length === 1 && kept.length === 1, "a");
  bus.publish("s", "b", 10);
  stop(); // Before "b" arrived: it is not delivered.
  stop();
  bus.publish("s", "c", 10);
  await waitFor(() => kept.length === 3, "b and c");
  await settle();
  assert.deepEqual(stopped, ["a"]);
  stop2();
  await bus.close();
});

Deno.test("LocalBus close is idempotent; writes after it are counted failed", async () => {
  const bus = new LocalBus({ prefix: prefix() });
  const got: string[] = [];
  bus.follow("s", (d) => got.push(dec.decode(d)));
  bus.publish("s", "a", 10);
  bus.set("k", "v");
  await Promise.all([bus.close(), bus.close()]);
  await bus.close();
  bus.publish("s", "late", 10);
  bus.set("k", "late");
  await settle();
  assert.deepEqual(got, []);
  assert.deepEqual(bus.stats(), {
    published: 2,
    failed: 2,
    delivered: 0,
    up: true,
  });
  await assert.rejects(bus.get("k"), /^Error: Cannot get k: /);
  // Following a closed bus does nothing.
  bus.follow("s", () => {})();
});

Deno.test("LocalBus carries entries and keys between a worker and the main thread", async () => {
  const p = prefix();
  const n = 50;
  const bus = new LocalBus({ prefix: p });
  const up: Uint8Array[] = [];
  const stop = bus.follow("up", (d) => up.push(d));
  const worker = new Worker(
    new URL("./_local_worker_test.ts", import.meta.url),
    { type: "module" },
  );
  const done = Promise.withResolvers<number[][]>();
  worker.onmessage = (e) => {
    if (e.data.type === "ready") {
      for (let i = 0; i < n; i++) {
        bus.publish("down", new Uint8Array([i, 0x00, 0xc3]), 100);
      }
    } else done.resolve(e.data.down);
  };
  worker.onerror = (e) => done.reject(e.error ?? e.message);
  try {
    worker.postMessage({ prefix: p, n });
    const down = await done.promise;
    assert.deepEqual(down, Array.from({ length: n }, (_, i) => [i, 0, 0xc3]));
    await waitFor(() => up.length === n, "the worker's entries");
    assert.deepEqual(
      up,
      Array.from({ length: n }, (_, i) => new Uint8Array([i, 0, 0xff, 0xfe])),
    );
    await waitFor(
      async () => await bus.get("k") === "from worker",
      "the worker's key",
    );
  } finally {
    worker.terminate();
    stop();
    await bus.close();
  }
});
