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
