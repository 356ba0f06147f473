import assert from "node:assert/strict";
import { runSocket } from "./socket.ts";

/** A local WebSocket server that sends `frame` every `everyMs`. */
function feed(frame: string, everyMs: number) {
  const server = Deno.serve({ port: 0, onListen: () => {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    let t: ReturnType<typeof setInterval>;
    socket.onopen = () => t = setInterval(() => socket.send(frame), everyMs);
    socket.onclose = () => clearInterval(t);
    return response;
  });
  return { url: `ws://127.0.0.1:${server.addr.port}/`, server };
}

Deno.test("socket: a feed that sends only heartbeats is found silent and closed", async () => {
  const { url, server } = feed('{"event":"heartbeat"}', 20);
  const seen: boolean[] = [];
  try {
    const why = await runSocket({
      url,
      subscribe: [],
      silenceMs: 300,
      isHeartbeat: (f) => f === '{"event":"heartbeat"}',
      onFrame: (_f, _ts, hb) => seen.push(hb),
      signal: new AbortController().signal,
    });
    assert.equal(why, "no data for 300 ms");
    assert.ok(seen.length >= 5, `${seen.length} frames`);
    assert.ok(seen.every((hb) => hb));
  } finally {
    await server.shutdown();
  }
});

Deno.test("socket: data frames keep the session alive until it is stopped", async () => {
  const { url, server } = feed('{"channel":"book","data":[]}', 20);
  const stop = new AbortController();
  let frames = 0;
  try {
    setTimeout(() => stop.abort(), 700);
    const why = await runSocket({
      url,
      subscribe: [],
      silenceMs: 300,
      isHeartbeat: (f) => f === '{"event":"heartbeat"}',
      onFrame: (_f, _ts, hb) => {
        assert.equal(hb, false);
        frames++;
      },
      signal: stop.signal,
    });
    assert.equal(why, "stopped");
    assert.ok(frames >= 10, `${frames} frames`);
  } finally {
    await server.shutdown();
  }
});

Deno.test("socket: on the recorded clock, clock frames set the receive time and are not frames", async () => {
  const sent = [
    "\u0000coby-clock 1633998512063.357",
    '{"a":1}',
    '{"a":2}',
    "\u0000coby-clock 1633998512564 /api/v3/depth?symbol=X",
    '{"a":3}',
  ];
  const server = Deno.serve({ port: 0, onListen: () => {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onopen = () => {
      for (const f of sent) socket.send(f);
      setTimeout(() => socket.close(1000, "done"), 50);
    };
    return response;
  });
  const frames: [string, number][] = [];
  const clocks: [number, string | undefined][] = [];
  try {
    await runSocket({
      url: `ws://127.0.0.1:${server.addr.port}/`,
      subscribe: [],
      clock: "recorded",
      onFrame: (f, ts) => frames.push([f as string, ts]),
      onClock: (ts, rest) => clocks.push([ts, rest]),
      signal: new AbortController().signal,
    });
    assert.deepEqual(frames, [
      ['{"a":1}', 1633998512063.357],
      ['{"a":2}', 1633998512063.357],
      ['{"a":3}', 1633998512564],
    ]);
    assert.deepEqual(clocks, [
      [1633998512063.357, undefined],
      [1633998512564, "/api/v3/depth?symbol=X"],
    ]);
  } finally {
    await server.shutdown();
  }
});
