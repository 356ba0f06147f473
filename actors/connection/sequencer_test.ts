import assert from "node:assert/strict";
import { StreamSequencer } from "./sequencer.ts";

const KEY = "/api/v3/depth?symbol=NKNUSDT&limit=1000";

/** A request whose response the test releases. */
function request() {
  const { promise, resolve, reject } = Promise.withResolvers<string>();
  return { get: () => promise, resolve, reject };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("sequencer: a response that arrives late is applied at its clock frame; frames after it wait", async () => {
  const seq = new StreamSequencer();
  const log: string[] = [];
  const req = request();
  const done = seq.fetch(KEY, req.get, (body) => {
    log.push(`snapshot ${body}`);
    return body.length;
  });
  seq.run(() => log.push("frame 1"));
  seq.marker(KEY, () => log.push("clock 2"));
  seq.run(() => log.push("frame 2"));
  assert.deepEqual(log, ["frame 1", "clock 2"]);
  req.resolve("{}");
  assert.equal(await done, 2);
  assert.deepEqual(log, ["frame 1", "clock 2", "snapshot {}", "frame 2"]);
});

Deno.test("sequencer: a response that arrives first waits for its clock frame", async () => {
  const seq = new StreamSequencer();
  const log: string[] = [];
  const req = request();
  const done = seq.fetch(KEY, req.get, (body) => log.push(`snapshot ${body}`));
  req.resolve("{}");
  await tick();
  seq.run(() => log.push("frame 1"));
  assert.deepEqual(log, ["frame 1"]);
  seq.marker("/other", () => log.push("clock 2")); // no request of that key
  seq.marker(KEY, () => log.push("clock 3"));
  seq.run(() => log.push("frame 3"));
  await done;
  assert.deepEqual(log, [
    "frame 1",
    "clock 2",
    "clock 3",
    "snapshot {}",
    "frame 3",
  ]);
  seq.close();
});

Deno.test("sequencer: a failed request releases the stream; waits are bounded; close rejects what is in flight", async () => {
  const seq = new StreamSequencer({ markerWaitMs: 20, responseWaitMs: 20 });
  const log: string[] = [];
  const failing = request();
  const failed = seq.fetch(KEY, failing.get, () => log.push("never"));
  seq.marker(KEY, () => log.push("clock 1"));
  seq.run(() => log.push("frame 1"));
  failing.reject(new Error("HTTP 503"));
  await assert.rejects(failed, /HTTP 503/);
  assert.deepEqual(log, ["clock 1", "frame 1"]);

  // No clock frame ever names it: applied where the stream is after the wait.
  const unmarked = request();
  const applied = seq.fetch(KEY, unmarked.get, () => log.push("unmarked"));
  unmarked.resolve("{}");
  await applied;
  assert.deepEqual(log.slice(2), ["unmarked"]);

  // Its response never comes: the stream goes on after the wait.
  const slow = request();
  const late = seq.fetch(KEY, slow.get, (b) => log.push(`late ${b}`));
  seq.marker(KEY, () => log.push("clock 2"));
  seq.run(() => log.push("frame 2"));
  await new Promise((r) => setTimeout(r, 40));
  assert.deepEqual(log.slice(3), ["clock 2", "frame 2"]);
  slow.resolve("{}");
  await late;
  assert.deepEqual(log.slice(5), ["late {}"]);

  const hung = seq.fetch(KEY, () => new Promise(() => {}), () => 0);
  seq.close();
  await assert.rejects(hung, /Sequencer closed/);
});
