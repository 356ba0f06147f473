/**
 * Test actor (no tests of its own): plays a connection actor for the writer
 * actor's test. Once its `store` link is up it sends a capture's event
 * batches (as `actors/store/_capture_feed_test.ts` replays them) and one
 * health event, and answers `sent` with how much it sent.
 *
 * @module
 */

import { runActor } from "../runtime/actor.ts";
import type { EventBatch } from "./market/batch.ts";
import type { HealthEvent } from "./market/events.ts";
import { openCapture } from "./store/_capture_feed_test.ts";

if ((globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope) {
  let batches: EventBatch[] = [];
  let exchange = "";
  const sent = { batches: 0, records: 0, health: 0 };
  runActor({
    async init(config) {
      const { prefix } = config as { prefix: string };
      const feed = await openCapture(prefix);
      exchange = feed.exchange;
      let frames = 0;
      feed.run(() => {
        if (++frames % 40 === 0) batches.push(feed.batch.take());
      });
      batches.push(feed.batch.take());
    },
    link(_name, peer, role, port) {
      if (role !== "out") return;
      const h: HealthEvent = {
        type: "health",
        ts: batches[0].clock,
        exchange,
        connection: `feed:${exchange}`,
        kind: "connect",
        detail: `linked to ${peer}`,
      };
      port.postMessage(h);
      sent.health++;
      for (const b of batches) {
        sent.records += b.n;
        port.postMessage(b, [b.buf]);
        sent.batches++;
      }
      batches = [];
    },
    requests: { sent: () => sent },
  });
}
