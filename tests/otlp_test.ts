/**
 * OTLP export: a coby replay process (`deno task replay --via-simulator`,
 * the connection actors against the exchange simulator) with
 * `OTEL_EXPORTER_OTLP_ENDPOINT` set sends its metrics to a local OTLP/HTTP
 * receiver (this test, JSON bodies), under the resource `service.name=coby`
 * with a `service.instance.id`; with Deno's own telemetry on
 * (`OTEL_DENO=true`) alongside, `/metrics` still renders and the export
 * still arrives.
 */

import assert from "node:assert/strict";
import { LATENCY_BOUNDS_MS } from "../runtime/latency.ts";
import { captureFiles } from "./_replay.ts";

/** An OTLP attribute as JSON: `{key, value: {stringValue|intValue|…}}`. */
interface KeyValue {
  key: string;
  value: Record<string, unknown>;
}

/** What the test reads of an `ExportMetricsServiceRequest` (OTLP JSON). */
interface ExportRequest {
  resourceMetrics: {
    resource: { attributes: KeyValue[] };
    scopeMetrics: {
      scope: { name: string };
      metrics: {
        name: string;
        sum?: { dataPoints: { asDouble?: number; asInt?: number | string }[] };
        histogram?: {
          dataPoints: {
            count: number | string;
            bucketCounts: (number | string)[];
            explicitBounds: number[];
          }[];
        };
      }[];
    }[];
  }[];
}

/** A metric's data of coby's scope in an export, if any. */
function metric(req: ExportRequest, name: string) {
  for (const rm of req.resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      if (sm.scope.name !== "coby") continue;
      const m = sm.metrics.find((x) => x.name === name);
      if (m) return { resource: rm.resource, m };
    }
  }
  return undefined;
}

/**
 * Runs a replay process exporting to a local receiver until an export shows
 * frames and a filled latency histogram.
 * @param env extra environment.
 * @param whileRunning called with the viewer's URL once an export arrived.
 * @returns that export.
 */
async function exportFromReplay(
  env: Record<string, string>,
  whileRunning: (url: string) => Promise<void>,
): Promise<ExportRequest> {
  const got = Promise.withResolvers<ExportRequest>();
  const paths: string[] = [];
  let last: ExportRequest | undefined;
  const receiver = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      paths.push(new URL(req.url).pathname);
      // Deno's own telemetry (OTEL_DENO) may send protobuf; coby's exporter
      // sends JSON.
      if (!req.headers.get("content-type")?.includes("json")) {
        await req.body?.cancel();
        return new Response(null, { status: 200 });
      }
      const body = await req.json() as ExportRequest;
      last = body;
      const frames = metric(body, "coby_frames")?.m.sum?.dataPoints ?? [];
      const hist = metric(body, "coby_latency_receive_to_book_ms")?.m
        .histogram?.dataPoints ?? [];
      if (
        frames.some((p) => Number(p.asDouble ?? p.asInt) > 0) &&
        hist.some((p) => Number(p.count) > 0)
      ) got.resolve(body);
      return Response.json({});
    },
  );
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "http/cli/replay.ts",
      ...captureFiles("BINANCE"),
      "--speed",
      "1",
      "--port",
      "0",
      "--store",
      "none",
      // The connection actors against the exchange simulator, as live.
      "--via-simulator",
    ],
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.addr.port}`,
      OTEL_METRIC_EXPORT_INTERVAL: "500",
      ...env,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const errText = new Response(child.stderr).text();
  try {
    let url: string | undefined;
    while (!url) {
      const { value, done } = await out.read();
      if (done) throw new Error(`replay exited: ${text}${await errText}`);
      text += value;
      url = text.match(/viewer on (http:\/\/[^\s?]+)/)?.[1];
    }
    const timer = setTimeout(
      () =>
        got.reject(
          new Error(
            `No export with frames and latencies in 20 s (${paths.length} requests); last: ${
              JSON.stringify(last).slice(0, 2000)
            }`,
          ),
        ),
      20_000,
    );
    const req = await got.promise.finally(() => clearTimeout(timer));
    await whileRunning(url);
    return req;
  } finally {
    child.kill("SIGTERM");
    await out.cancel();
    await child.status;
    await errText;
    await receiver.shutdown();
  }
}

/** A string attribute of an OTLP resource. */
function attr(res: { attributes: KeyValue[] }, key: string): string {
  return String(res.attributes.find((a) => a.key === key)?.value.stringValue);
}

Deno.test("otlp: a replay process sends its metrics to a local OTLP/HTTP receiver as service coby", async () => {
  const req = await exportFromReplay({}, () => Promise.resolve());
  const frames = metric(req, "coby_frames")!;
  assert.equal(attr(frames.resource, "service.name"), "coby");
  assert.match(attr(frames.resource, "service.instance.id"), /-\d+-/);
  // The worker-side latency histograms arrive as real histograms, in ms.
  const hist = metric(req, "coby_latency_receive_to_book_ms")!.m.histogram!;
  assert.deepEqual(hist.dataPoints[0].explicitBounds, LATENCY_BOUNDS_MS);
  assert.equal(
    hist.dataPoints[0].bucketCounts.reduce<number>((s, c) => s + Number(c), 0),
    Number(hist.dataPoints[0].count),
  );
});

Deno.test("otlp: with Deno's own telemetry on (OTEL_DENO=true), /metrics renders and the export still arrives", async () => {
  let scraped = "";
  const req = await exportFromReplay({ OTEL_DENO: "true" }, async (url) => {
    const res = await fetch(new URL("/metrics", url));
    assert.equal(res.status, 200);
    scraped = await res.text();
  });
  assert.equal(
    attr(metric(req, "coby_frames")!.resource, "service.name"),
    "coby",
  );
  assert.match(scraped, /^coby_frames_total\{[^}]*exchange="binance"/m);
  assert.match(scraped, /^target_info\{[^}]*service_name="coby"/m);
});
