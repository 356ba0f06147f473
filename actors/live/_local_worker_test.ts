/**
 * Test worker (no tests of its own) for `local_test.ts`: plays a writer
 * worker on a {@link LocalBus}. Told `{prefix, n}`, it follows stream `down`
 * and says `ready`; once it has `n` entries from the main thread it
 * publishes `n` entries to stream `up`, sets key `k` to `from worker`,
 * closes its bus and answers `{type: "done", down}` with the entries it got.
 *
 * @module
 */

import { LocalBus } from "./local.ts";

if ((globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope) {
  const port = self as unknown as Worker;
  port.onmessage = (e: MessageEvent<{ prefix: string; n: number }>) => {
    const { prefix, n } = e.data;
    const bus = new LocalBus({ prefix });
    const down: number[][] = [];
    const stop = bus.follow("down", async (data) => {
      down.push([...data]);
      if (down.length < n) return;
      stop();
      for (let i = 0; i < n; i++) {
        bus.publish("up", new Uint8Array([i, 0, 0xff, 0xfe]), 100);
      }
      bus.set("k", "from worker");
      await bus.close();
      port.postMessage({ type: "done", down });
    });
    port.postMessage({ type: "ready" });
  };
}
