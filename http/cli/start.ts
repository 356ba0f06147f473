/**
 * `deno task start`: loads the configuration, starts the actors and serves
 * the HTTP API and viewer until SIGINT/SIGTERM, then shuts down in order.
 *
 * The port is bound before any actor starts, so a busy port fails at once.
 * The app answers only the hosts and origins the configuration allows
 * (`http.allowedHosts`, `http.corsOrigins`).
 * Every failure ends with one line on stderr and a non-zero exit: 2 for a
 * bad configuration, 1 for anything else. Configuration warnings go to
 * stderr, one line each.
 *
 * @module
 */

import { createApp } from "../app.ts";
import { startCoby } from "../../actors/system/start.ts";
import { ConfigError, loadConfig } from "../../actors/system/config.ts";
import { listen, oneLine, onSignal } from "./_listen.ts";
import { processLog } from "../../runtime/log.ts";

if (import.meta.main) {
  try {
    const cfg = await loadConfig((k) => Deno.env.get(k), {
      warn: (m) => console.error(`coby: warning: ${m}`),
    });
    const server = listen(cfg.http.host, cfg.http.port);
    const coby = await startCoby(cfg);
    server.ready(createApp(coby).fetch);
    processLog().info(`coby listening on ${server.url}`, { actor: "coby" });
    onSignal("coby", async () => {
      // The last OTLP export, while the actors' counters are still there.
      await coby.metrics.shutdown?.();
      await coby.supervisor.stop();
      await server.shutdown();
    });
  } catch (e) {
    console.error(`coby: ${oneLine(e)}`);
    Deno.exit(e instanceof ConfigError ? 2 : 1);
  }
}
