import assert from "node:assert/strict";
import { closePort, portRequest, servePort } from "./port_request.ts";
import { RequestError } from "./protocol.ts";

type Sums = {
  sum: {
    params: { xs: number[] };
    result: { total: number; buf: ArrayBuffer };
  };
  slow: { params: { ms: number }; result: number };
  fail: { params: { code: string }; result: never };
};

/** The last buffer `sum` answered with, on the serving side. */
let served: ArrayBuffer | undefined;

/** A linked pair of ports serving {@link Sums}, closed after `fn`. */
async function withPair(
  fn: (client: MessagePort, stop: () => void) => Promise<void>,
): Promise<void> {
  const ch = new MessageChannel();
  const stop = servePort<Sums>(ch.port2, {
    sum: ({ xs }) => {
      const a = Float64Array.from(xs);
      served = a.buffer;
      return { total: xs.reduce((s, x) => s + x, 0), buf: a.buffer };
    },
    slow: async ({ ms }) => {
      await new Promise((r) => setTimeout(r, ms));
      return ms;
    },
    fail: ({ code }) => {
      if (code === "plain") throw new Error("Plain failure");
      throw new RequestError(code, `Failed with ${code}`);
    },
  });
  try {
    await fn(ch.port1, stop);
  } finally {
    ch.port1.close();
    ch.port2.close();
  }
}

Deno.test("portRequest: a reply with its buffer transferred", () =>
  withPair(async (port) => {
    const r = await portRequest<Sums, "sum">(port, "sum", { xs: [1, 2.5, 4] });
    assert.equal(r.total, 7.5);
    assert.deepEqual([...new Float64Array(r.buf)], [1, 2.5, 4]);
    // Moved, not copied: the serving side's buffer is detached.
    assert.equal(served?.byteLength, 0);
  }));

Deno.test("portRequest: overlapping requests get their own replies", () =>
  withPair(async (port) => {
    const order: number[] = [];
    const got = await Promise.all(
      [30, 1, 15].map((ms) =>
        portRequest<Sums, "slow">(port, "slow", { ms }).then((v) => {
          order.push(v);
          return v;
        })
      ),
    );
    assert.deepEqual(got, [30, 1, 15]);
    assert.deepEqual(order, [1, 15, 30]);
  }));

Deno.test("portRequest: errors travel as values with their code", () =>
  withPair(async (port) => {
    await assert.rejects(
      portRequest<Sums, "fail">(port, "fail", { code: "not_found" }),
      (e) =>
        e instanceof RequestError && e.code === "not_found" &&
        e.message === "Failed with not_found",
    );
    await assert.rejects(
      portRequest<Sums, "fail">(port, "fail", { code: "plain" }),
      (e) => e instanceof RequestError && e.code === "internal",
    );
    await assert.rejects(
      portRequest(port, "nope", {}),
      (e) => e instanceof RequestError && e.code === "unknown_method",
    );
  }));

Deno.test("servePort: stopped, it answers no more", () =>
  withPair(async (port, stop) => {
    assert.equal(await portRequest<Sums, "slow">(port, "slow", { ms: 0 }), 0);
    stop();
    const late = portRequest<Sums, "slow">(port, "slow", { ms: 0 });
    const timeout = new Promise((r) => setTimeout(() => r("none"), 50));
    assert.equal(await Promise.race([late, timeout]), "none");
  }));

Deno.test("port request: closing a replaced link rejects what waits on it", async () => {
  const ch = new MessageChannel();
  // The serving side never answers: its peer is gone.
  ch.port2.start();
  const waiting = portRequest<Sums, "slow">(ch.port1, "slow", { ms: 1 });
  closePort(ch.port1, "the writer restarted");
  await assert.rejects(
    waiting,
    (e: unknown) =>
      e instanceof RequestError && e.code === "link_closed" &&
      /the writer restarted/.test(e.message),
  );
  ch.port2.close();
});
