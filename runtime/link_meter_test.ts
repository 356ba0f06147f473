/**
 * Link queue depth from both ends' counts: messages posted on a
 * MessageChannel and not yet dispatched to the receiver, and no depth while
 * an end still reports a port older than the link's wiring.
 */

import assert from "node:assert/strict";
import { linkDepth, linkKey, LinkMeter } from "./link_meter.ts";

/** Resolves after the port's pending messages had their turn. */
function turn(): Promise<void> {
  return new Promise((r) => setTimeout(r, 10));
}

Deno.test("link meter: the depth is what the sender posted and the receiver has not handled", async () => {
  const wiredAt = Date.now();
  const sender = new LinkMeter();
  const receiver = new LinkMeter();
  const ch = new MessageChannel();
  sender.watch("events", "aggregator", "out", ch.port1);
  receiver.watch("events", "conn:binance", "in", ch.port2);
  const got: number[] = [];
  ch.port2.onmessage = (ev) => got.push(ev.data as number);
  for (let i = 0; i < 5; i++) ch.port1.postMessage(i);
  const depth = () =>
    linkDepth(
      sender.snapshot()[linkKey("out", "events", "aggregator")],
      receiver.snapshot()[linkKey("in", "events", "conn:binance")],
      wiredAt,
    );
  // Posted, not delivered yet: all five wait.
  assert.equal(depth(), 5);
  await turn();
  assert.deepEqual(got, [0, 1, 2, 3, 4]);
  assert.equal(depth(), 0);
  ch.port1.close();
});

Deno.test("link meter: an end reporting an older port, or none, gives no depth", () => {
  const t = Date.now();
  const out = { role: "out" as const, count: 10, since: t - 5000 };
  const into = { role: "in" as const, count: 2, since: t };
  assert.equal(linkDepth(out, into, t), null);
  assert.equal(linkDepth(undefined, into, t), null);
  assert.equal(linkDepth({ ...out, since: t }, into, t), 8);
  // Counts of two ports never go negative.
  assert.equal(linkDepth({ ...out, since: t, count: 1 }, into, t), 0);
});
