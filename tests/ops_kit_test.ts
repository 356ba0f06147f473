/**
 * The operations kit in docs/ is valid for the tools that read it:
 * - `promtool` (Debian's `prometheus` package; `.ci/run` unpacks it) checks
 *   the alert rules and the Prometheus configuration, runs the alerts' unit
 *   tests (docs/prometheus/alerts_test.yml) and parses every query of the
 *   dashboard;
 * - the Grafana dashboard matches a zod schema of the fields Grafana reads,
 *   typed against `@grafana/schema`'s `Dashboard` (npm has no JSON schema of
 *   the dashboard: Grafana generates only TypeScript from its CUE kinds), at
 *   the `schemaVersion` of that package, the Grafana that docker-compose.yml
 *   runs;
 * - every metric and label the dashboard and the rules read is in the
 *   contract ({@link METRICS}), and the contract is what coby renders at
 *   `/metrics` during a capture replay (names and labels);
 * - every alert has a severity, a summary, a description, a unit test and a
 *   runbook section;
 * - docker-compose.yml parses, its Prometheus and Grafana mounts exist, and
 *   the processes Prometheus scrapes answer its `Host` header.
 *
 * @module
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Dashboard,
  defaultDashboard,
  FieldColorModeId,
  MappingType,
  ThresholdsMode,
} from "@grafana/schema";
import grafanaSchemaPackage from "@grafana/schema/package.json" with {
  type: "json",
};
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { Replay } from "../actors/system/capture_replay.ts";
import { parseConfig } from "../actors/system/config.ts";
import { createApp } from "../http/app.ts";
import { captureFiles } from "./_replay.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const PROM_DIR = join(ROOT, "docs/prometheus");
const RULES = join(PROM_DIR, "alerts.yml");
const RULE_TESTS = join(PROM_DIR, "alerts_test.yml");
const PROM_CONFIG = join(PROM_DIR, "prometheus.yml");
const DASHBOARD = join(ROOT, "docs/grafana/coby.json");
const RUNBOOK = join(ROOT, "docs/runbook.md");
const COMPOSE = join(ROOT, "docker-compose.yml");

/** A metric family as Prometheus sees it: its type and its labels. */
export interface MetricSpec {
  /** Prometheus type; a histogram is read as `_bucket`, `_sum`, `_count`. */
  readonly type: "counter" | "gauge" | "histogram";
  /** Its own labels (the exporter's and the scrape's come on top). */
  readonly labels: readonly string[];
}

const CONNECTION = ["exchange", "connection"] as const;
const HTTP = ["route", "method", "status"] as const;

/**
 * The metric-name contract of issue 11 as coby renders it at `/metrics`
 * (counters with the exporter's `_total` suffix; histograms by their base
 * name), with each family's labels, plus Prometheus's own `up`. The
 * dashboard and the alert rules may read only these.
 */
export const METRICS: Readonly<Record<string, MetricSpec>> = {
  up: { type: "gauge", labels: [] },
  coby_frames_total: { type: "counter", labels: CONNECTION },
  coby_book_updates_total: { type: "counter", labels: CONNECTION },
  coby_trades_total: { type: "counter", labels: CONNECTION },
  coby_liquidations_total: { type: "counter", labels: CONNECTION },
  coby_sequence_gaps_total: { type: "counter", labels: CONNECTION },
  coby_resyncs_total: { type: "counter", labels: [...CONNECTION, "cause"] },
  coby_checksum_failures_total: { type: "counter", labels: CONNECTION },
  coby_crossed_books_total: { type: "counter", labels: CONNECTION },
  coby_malformed_frames_total: {
    type: "counter",
    labels: [...CONNECTION, "reason"],
  },
  coby_reconnects_total: { type: "counter", labels: CONNECTION },
  coby_heartbeats_total: { type: "counter", labels: CONNECTION },
  coby_venue_errors_total: { type: "counter", labels: CONNECTION },
  coby_circuit_state: { type: "gauge", labels: CONNECTION },
  coby_feed_silence_ms: { type: "gauge", labels: CONNECTION },
  coby_books_unsynced: { type: "gauge", labels: CONNECTION },
  coby_actor_restarts_total: { type: "counter", labels: ["actor"] },
  coby_actor_up: { type: "gauge", labels: ["actor"] },
  coby_link_queue_depth: { type: "gauge", labels: ["link"] },
  coby_link_backpressure_total: { type: "counter", labels: ["link"] },
  coby_store_batches_total: { type: "counter", labels: [] },
  coby_store_rows_total: { type: "counter", labels: [] },
  coby_store_lost_batches_total: { type: "counter", labels: [] },
  coby_store_write_errors_total: { type: "counter", labels: [] },
  coby_store_spool_bytes: { type: "gauge", labels: [] },
  coby_store_lag_ms: { type: "gauge", labels: [] },
  coby_store_queue_rows: { type: "gauge", labels: [] },
  coby_store_db_up: { type: "gauge", labels: [] },
  coby_bus_up: { type: "gauge", labels: [] },
  coby_sse_clients: { type: "gauge", labels: [] },
  coby_sse_dropped_columns_total: { type: "counter", labels: [] },
  coby_sse_bytes_total: { type: "counter", labels: [] },
  coby_http_requests_total: { type: "counter", labels: HTTP },
  coby_http_request_duration_ms: { type: "histogram", labels: HTTP },
  coby_latency_exchange_to_receive_ms: {
    type: "histogram",
    labels: ["exchange"],
  },
  coby_latency_receive_to_book_ms: { type: "histogram", labels: ["exchange"] },
  coby_latency_book_to_column_ms: { type: "histogram", labels: [] },
  coby_latency_column_to_sse_ms: { type: "histogram", labels: [] },
  coby_latency_batch_to_commit_ms: { type: "histogram", labels: [] },
};

/**
 * Labels every series may carry: the scrape's (`job`, `instance`, and
 * `process` from docs/prometheus/prometheus.yml) and the exporter's scope.
 */
const COMMON_LABELS = ["job", "instance", "process", "otel_scope_name"];

// ---------------------------------------------------------------- promtool

/** Runs promtool; fails with how to install it when it is missing. */
async function promtool(
  ...args: string[]
): Promise<{ code: number; out: string }> {
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command("promtool", { args, cwd: ROOT }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(
        "promtool is not installed. It comes in Debian's prometheus package; " +
          "take the binary alone (installing the package starts a Prometheus " +
          "daemon): apt-get update && cd $(mktemp -d) && apt-get download " +
          "prometheus && dpkg-deb --fsys-tarfile prometheus_*.deb | tar -xO " +
          "./usr/bin/promtool > /usr/local/bin/promtool && chmod +x " +
          "/usr/local/bin/promtool (.ci/run does this)",
      );
    }
    throw e;
  }
  const dec = new TextDecoder();
  return {
    code: result.code,
    out: dec.decode(result.stdout) + dec.decode(result.stderr),
  };
}

// ------------------------------------------------------------- the sources

/** The alert rules file, as much of it as the tests read. */
const RuleFile = z.object({
  groups: z.array(
    z.object({
      name: z.string(),
      rules: z.array(
        z.object({
          alert: z.string().regex(/^Coby[A-Za-z]+$/),
          expr: z.string(),
          for: z.string().optional(),
          labels: z.object({
            severity: z.enum(["critical", "warning", "info"]),
          })
            .strict(),
          annotations: z.object({
            summary: z.string().min(1),
            description: z.string().min(1),
            runbook_url: z.string().regex(/^docs\/runbook\.md#[a-z0-9-]+$/),
          }).strict(),
        }).strict(),
      ).min(1),
    }).strict(),
  ),
}).strict();

/** The alert rules. */
async function rules(): Promise<z.infer<typeof RuleFile>> {
  return RuleFile.parse(parseYaml(await Deno.readTextFile(RULES)));
}

/** The dashboard file, parsed. */
async function dashboardJson(): Promise<unknown> {
  return JSON.parse(await Deno.readTextFile(DASHBOARD));
}

// ----------------------------------------------------------- the dashboard

/** Every panel reads the dashboard's `datasource` variable. */
const DataSourceVar = z.object({
  type: z.literal("prometheus"),
  uid: z.literal("${datasource}"),
}).strict();

const int = z.number().int();

/** A grid position on Grafana's 24-column grid. */
const GridPos = z.object({
  x: int.min(0).max(23),
  y: int.min(0),
  w: int.min(1).max(24),
  h: int.min(1),
}).strict().refine((g) => g.x + g.w <= 24, "panel past the 24-column grid");

/** A Prometheus query of a panel. */
const Target = z.object({
  refId: z.string().regex(/^[A-Z]$/),
  datasource: DataSourceVar,
  expr: z.string().min(1),
  legendFormat: z.string(),
  range: z.literal(true),
}).strict();

/** A threshold step; the first is the base (`null`, or left out). */
const Thresholds = z.object({
  mode: z.enum(ThresholdsMode),
  steps: z.array(
    z.object({
      color: z.string().min(1),
      value: z.number().nullable(),
    }).strict(),
  ).min(1),
}).strict();

/** Value → text and colour, as Grafana's `value` mapping. */
const ValueMapping = z.object({
  type: z.literal(MappingType.ValueToText),
  options: z.record(
    z.string(),
    z.object({ text: z.string(), color: z.string(), index: int }).strict(),
  ),
}).strict();

/** The panel types the dashboard uses (Grafana's core panel plugins). */
const Panel = z.object({
  type: z.enum(["timeseries", "stat", "state-timeline"]),
  id: int.positive(),
  title: z.string().min(1),
  description: z.string().min(1),
  datasource: DataSourceVar,
  gridPos: GridPos,
  fieldConfig: z.object({
    defaults: z.object({
      unit: z.string().min(1).optional(),
      min: z.number().optional(),
      thresholds: Thresholds.optional(),
      mappings: z.array(ValueMapping).optional(),
      color: z.object({ mode: z.enum(FieldColorModeId) })
        .strict().optional(),
      custom: z.record(z.string(), z.unknown()).optional(),
    }).strict(),
    overrides: z.array(z.never()),
  }).strict(),
  options: z.record(z.string(), z.unknown()),
  targets: z.array(Target).min(1),
}).strict();

/** A row header; its panels follow it at the top level (expanded). */
const Row = z.object({
  type: z.literal("row"),
  id: int.positive(),
  title: z.string().min(1),
  collapsed: z.literal(false),
  gridPos: GridPos,
  panels: z.array(Panel).length(0),
}).strict();

/** The dashboard's variables: the data source, and the exchanges. */
const Variable = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("datasource"),
    name: z.literal("datasource"),
    label: z.string(),
    query: z.literal("prometheus"),
    refresh: int,
    hide: int,
    includeAll: z.literal(false),
    multi: z.literal(false),
    options: z.array(z.never()),
    regex: z.string(),
  }).strict(),
  z.object({
    type: z.literal("query"),
    name: z.string().regex(/^[a-z]+$/),
    label: z.string(),
    datasource: DataSourceVar,
    query: z.object({ query: z.string(), refId: z.string() }).strict(),
    refresh: int,
    includeAll: z.boolean(),
    allValue: z.string(),
    multi: z.boolean(),
    current: z.object({
      text: z.array(z.string()),
      value: z.array(z.string()),
    }).strict(),
    options: z.array(z.never()),
    sort: int,
    hide: int,
    regex: z.string(),
  }).strict(),
]);

/**
 * The fields of a Grafana dashboard that coby's uses, at the schema version
 * of `@grafana/schema` (the Grafana release docker-compose.yml runs).
 */
const DashboardSchema = z.object({
  uid: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/),
  title: z.string().min(1),
  description: z.string(),
  tags: z.array(z.string()),
  editable: z.boolean(),
  graphTooltip: int.min(0).max(2),
  timezone: z.string(),
  refresh: z.string().regex(/^\d+[smhd]$/),
  time: z.object({ from: z.string(), to: z.string() }).strict(),
  fiscalYearStartMonth: int.min(0).max(11),
  liveNow: z.boolean(),
  links: z.array(z.never()),
  annotations: z.object({
    list: z.array(
      z.object({
        builtIn: int,
        datasource: z.object({ type: z.string(), uid: z.string() }).strict(),
        enable: z.boolean(),
        hide: z.boolean(),
        iconColor: z.string(),
        name: z.string(),
        type: z.string(),
      }).strict(),
    ),
  }).strict(),
  templating: z.object({ list: z.array(Variable) }).strict(),
  panels: z.array(z.union([Row, Panel])).min(1),
  schemaVersion: z.literal(defaultDashboard.schemaVersion),
  version: int.positive(),
}).strict();

type ParsedDashboard = z.infer<typeof DashboardSchema>;

/**
 * The parsed dashboard as Grafana's own type: this only compiles while the
 * zod schema describes a `Dashboard` of `@grafana/schema`.
 */
function asGrafana(d: ParsedDashboard): Dashboard {
  return d;
}

/** Every query panel of the dashboard (rows left out). */
function queryPanels(d: Dashboard): z.infer<typeof Panel>[] {
  return (d.panels ?? []).filter((p) => p.type !== "row") as z.infer<
    typeof Panel
  >[];
}

// ---------------------------------------------------------------- PromQL

/** A selector found in a query: a metric name and its matchers' labels. */
interface Selector {
  readonly name: string;
  readonly labels: string[];
}

/**
 * The metric selectors (`coby_*` and `up`) of a query, with the labels
 * their matchers name.
 */
function selectors(expr: string): Selector[] {
  const out: Selector[] = [];
  for (const m of expr.matchAll(/\b(coby_\w+|up)\b(\{[^}]*\})?/g)) {
    const labels = [...(m[2] ?? "").matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)]
      .map((l) => l[1]);
    out.push({ name: m[1], labels });
  }
  return out;
}

/** The labels named in a query's `by`, `without`, `on` and `ignoring`. */
function groupingLabels(expr: string): string[] {
  return [
    ...expr.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g),
  ].flatMap((m) =>
    m[1].split(",").map((s) => s.trim()).filter((s) => s.length > 0)
  );
}

/**
 * The contract entry a series name reads, with the labels it may carry:
 * a counter or gauge by name, a histogram's `_bucket` (with `le`),
 * `_sum` and `_count` by its base name.
 * @returns undefined for a name outside the contract.
 */
function seriesLabels(name: string): string[] | undefined {
  const spec = METRICS[name];
  if (spec && spec.type !== "histogram") {
    return [...spec.labels, ...COMMON_LABELS];
  }
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  const base = m ? METRICS[m[1]] : undefined;
  if (!m || base?.type !== "histogram") return undefined;
  return [
    ...base.labels,
    ...COMMON_LABELS,
    ...(m[2] === "bucket" ? ["le"] : []),
  ];
}

/**
 * What is wrong with a query's metrics: names outside the contract, matcher
 * or grouping labels that none of its series carries.
 */
function contractErrors(where: string, expr: string): string[] {
  const errors: string[] = [];
  const found = selectors(expr);
  if (found.length === 0) errors.push(`${where}: reads no coby metric`);
  const all = new Set<string>();
  for (const s of found) {
    const labels = seriesLabels(s.name);
    if (!labels) {
      errors.push(`${where}: ${s.name} is not in the metric contract`);
      continue;
    }
    labels.forEach((l) => all.add(l));
    for (const l of s.labels) {
      if (!labels.includes(l)) {
        errors.push(`${where}: ${s.name} has no label ${l}`);
      }
    }
  }
  for (const l of groupingLabels(expr)) {
    if (!all.has(l)) {
      errors.push(`${where}: groups by ${l}, which no series has`);
    }
  }
  return errors;
}

/** A dashboard query with Grafana's variables replaced, for promtool. */
function expandVariables(expr: string): string {
  return expr.replaceAll("$__rate_interval", "1m").replaceAll(
    "$exchange",
    ".*",
  );
}

// ------------------------------------------------------------------- tests

Deno.test("promtool accepts the alert rules and the Prometheus configuration", async () => {
  const rulesCheck = await promtool("check", "rules", RULES);
  assert.equal(rulesCheck.code, 0, rulesCheck.out);
  const { groups } = await rules();
  const count = groups.reduce((n, g) => n + g.rules.length, 0);
  assert.match(rulesCheck.out, new RegExp(`SUCCESS: ${count} rules found`));
  const configCheck = await promtool("check", "config", PROM_CONFIG);
  assert.equal(configCheck.code, 0, configCheck.out);
  // The configuration loads the rule file that was checked above.
  assert.match(configCheck.out, /SUCCESS: 1 rule files found/);
  assert.match(configCheck.out, /Checking .*alerts\.yml/);
});

Deno.test("every alert fires in its unit test, and the tests pass", async () => {
  const run = await promtool("test", "rules", RULE_TESTS);
  assert.equal(run.code, 0, run.out);
  assert.match(run.out, /SUCCESS/);
  const tests = z.object({
    tests: z.array(
      z.object({
        alert_rule_test: z.array(
          z.object({
            alertname: z.string(),
            exp_alerts: z.array(z.unknown()).optional(),
          }).loose(),
        ),
      }).loose(),
    ),
  }).loose().parse(parseYaml(await Deno.readTextFile(RULE_TESTS)));
  const firing = new Set(
    tests.tests.flatMap((t) => t.alert_rule_test)
      .filter((a) => (a.exp_alerts ?? []).length > 0)
      .map((a) => a.alertname),
  );
  const quiet = new Set(
    tests.tests.flatMap((t) => t.alert_rule_test)
      .filter((a) => (a.exp_alerts ?? []).length === 0)
      .map((a) => a.alertname),
  );
  const alerts = (await rules()).groups.flatMap((g) => g.rules).map((r) =>
    r.alert
  );
  assert.deepEqual(alerts.filter((a) => !firing.has(a)), [], "never fired");
  // And a moment where each must stay quiet: below its threshold, or
  // before its `for` has passed.
  assert.deepEqual(alerts.filter((a) => !quiet.has(a)), [], "never quiet");
});

Deno.test("the alerts cover what issue 11 asks, with runbook sections", async () => {
  const all = (await rules()).groups.flatMap((g) => g.rules);
  const names = all.map((r) => r.alert);
  assert.equal(new Set(names).size, names.length, "duplicate alert names");
  const expected = [
    "CobyFeedSilent",
    "CobyBookUnsynced",
    "CobyChecksumFailuresRising",
    "CobyWriterLag",
    "CobySpoolGrowing",
    "CobyCircuitOpen",
    "CobyActorDown",
    "CobyActorRestarting",
    "CobyDatabaseDown",
    "CobyBusDown",
  ];
  assert.deepEqual(expected.filter((n) => !names.includes(n)), []);
  const unsynced = all.find((r) => r.alert === "CobyBookUnsynced");
  assert.match(unsynced?.for ?? "", /^\d+[ms]$/, "unsynced needs a `for`");

  const runbook = await Deno.readTextFile(RUNBOOK);
  const anchors = new Set(
    [...runbook.matchAll(/^#{1,6} (.+)$/gm)].map((m) => githubSlug(m[1])),
  );
  for (const r of all) {
    const anchor = r.annotations.runbook_url.split("#")[1];
    assert.equal(anchor, r.alert.toLowerCase(), `${r.alert}: runbook_url`);
    assert.ok(anchors.has(anchor), `${r.alert}: no runbook heading ${anchor}`);
  }
  // Its own links lead to its headings.
  const links = [...runbook.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
  assert.ok(links.length > 0);
  assert.deepEqual(links.filter((l) => !anchors.has(l)), [], "dead links");
  // Every alert section of the runbook names an alert that exists.
  const sections = [...runbook.matchAll(/^### (Coby\w+)$/gm)].map((m) => m[1]);
  assert.deepEqual(sections.filter((s) => !names.includes(s)), []);
  assert.deepEqual(names.filter((n) => !sections.includes(n)), []);
});

Deno.test("the alert rules read only the metrics coby renders, with their labels", async () => {
  const errors = (await rules()).groups.flatMap((g) => g.rules).flatMap((r) =>
    contractErrors(r.alert, r.expr)
  );
  assert.deepEqual(errors, []);
});

Deno.test("the dashboard is a Grafana dashboard at the current schema version", async () => {
  const parsed = DashboardSchema.safeParse(await dashboardJson());
  assert.ok(parsed.success, parsed.error?.message);
  const d = asGrafana(parsed.data);
  // The Grafana that docker-compose.yml runs is the release whose schema
  // the dashboard was checked against.
  const compose = parseYaml(await Deno.readTextFile(COMPOSE));
  assert.equal(
    compose.services.grafana.image,
    `grafana/grafana:${grafanaSchemaPackage.version}`,
  );
  const panels = d.panels ?? [];
  const ids = panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, "panel ids must be unique");
  // No two panels share a grid cell.
  const cells = new Map<string, string>();
  for (const p of panels) {
    const g = p.gridPos!;
    for (let x = g.x; x < g.x + g.w; x++) {
      for (let y = g.y; y < g.y + g.h; y++) {
        const other = cells.get(`${x},${y}`);
        assert.equal(other, undefined, `${p.title} overlaps ${other}`);
        cells.set(`${x},${y}`, p.title ?? "");
      }
    }
  }
  for (const p of queryPanels(d)) {
    const refIds = p.targets.map((t) => t.refId);
    assert.equal(new Set(refIds).size, refIds.length, `${p.title}: refIds`);
  }
  const variables = d.templating?.list ?? [];
  assert.deepEqual(variables.map((v) => v.type), ["datasource", "query"]);
});

Deno.test("every dashboard query parses in promtool and reads the metric contract", async () => {
  const parsed = DashboardSchema.parse(await dashboardJson());
  const d = asGrafana(parsed);
  const records: { record: string; expr: string }[] = [];
  const errors: string[] = [];
  for (const p of queryPanels(d)) {
    for (const t of p.targets) {
      const where = `panel "${p.title}" ${t.refId}`;
      records.push({
        record: `coby_dashboard:panel_${p.id}_${t.refId}`,
        expr: expandVariables(t.expr),
      });
      errors.push(...contractErrors(where, t.expr));
      // A legend names only labels the query keeps.
      const kept = new Set(groupingLabels(t.expr));
      for (const m of t.legendFormat.matchAll(/\{\{\s*(\w+)\s*\}\}/g)) {
        if (!kept.has(m[1])) errors.push(`${where}: legend ${m[1]} is dropped`);
      }
    }
  }
  assert.ok(records.length > 20, `${records.length} dashboard queries`);
  for (const v of parsed.templating.list) {
    if (v.type === "query") {
      errors.push(...contractErrors(`variable ${v.name}`, v.query.query));
    }
  }
  assert.deepEqual(errors, []);
  const file = await Deno.makeTempFile({ suffix: ".yml" });
  try {
    await Deno.writeTextFile(
      file,
      JSON.stringify({ groups: [{ name: "dashboard", rules: records }] }),
    );
    const check = await promtool("check", "rules", file);
    assert.equal(check.code, 0, check.out);
    assert.match(check.out, new RegExp(`SUCCESS: ${records.length} rules`));
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("the dashboard shows what issue 11 asks", async () => {
  const d = asGrafana(DashboardSchema.parse(await dashboardJson()));
  const exprs = queryPanels(d).flatMap((p) => p.targets.map((t) => t.expr));
  const reads = (re: RegExp) => exprs.some((e) => re.test(e));
  const wanted: [string, RegExp][] = [
    [
      "ingest rate per exchange",
      /sum by \(exchange\) \(rate\(coby_frames_total/,
    ],
    ["gaps", /coby_sequence_gaps_total/],
    ["resyncs by cause", /by \([^)]*cause[^)]*\) \(rate\(coby_resyncs_total/],
    ["checksum failures", /coby_checksum_failures_total/],
    ["unsynced books", /coby_books_unsynced/],
    ["feed silence", /coby_feed_silence_ms/],
    ["writer lag", /coby_store_lag_ms/],
    ["spool bytes", /coby_store_spool_bytes/],
    ["SSE clients", /coby_sse_clients/],
    ["HTTP 5xx", /coby_http_requests_total\{status=~"5\.\."\}/],
    ["HTTP 4xx", /coby_http_requests_total\{status=~"4\.\."\}/],
  ];
  for (const name of Object.keys(METRICS)) {
    if (!/_ms$/.test(name) || METRICS[name].type !== "histogram") continue;
    for (const q of ["0.5", "0.99"]) {
      wanted.push([
        `${name} p${q.slice(2)}`,
        new RegExp(
          `histogram_quantile\\(${q}, sum by \\([^)]*le\\) \\(rate\\(${name}_bucket`,
        ),
      ]);
    }
  }
  assert.deepEqual(wanted.filter(([, re]) => !reads(re)).map(([n]) => n), []);
});

Deno.test("docker-compose.yml runs Prometheus and Grafana on the kit's files", async () => {
  const Mount = z.string().regex(/^[^:]+:[^:]+(:ro)?$/);
  const Service = z.object({
    image: z.string().optional(),
    volumes: z.array(Mount).optional(),
    environment: z.record(z.string(), z.string()).optional(),
    configs: z.array(z.object({ source: z.string(), target: z.string() }))
      .optional(),
  }).loose();
  const compose = z.object({
    services: z.record(z.string(), Service),
    configs: z.record(z.string(), z.object({ content: z.string() })),
    volumes: z.record(z.string(), z.null()),
  }).strict().parse(parseYaml(await Deno.readTextFile(COMPOSE)));
  const { prometheus, grafana } = compose.services;
  assert.ok(prometheus && grafana, "prometheus and grafana services");

  /** Bind mounts of a service: host path (checked to exist) → container path. */
  function binds(service: z.infer<typeof Service>): Map<string, string> {
    const out = new Map<string, string>();
    for (const v of service.volumes ?? []) {
      const [from, to] = v.split(":");
      if (!from.startsWith("./")) continue;
      assert.ok(existsSync(join(ROOT, from)), `${from} does not exist`);
      out.set(to, from.slice(2));
    }
    return out;
  }
  const promBinds = binds(prometheus);
  assert.equal(
    promBinds.get("/etc/prometheus/prometheus.yml"),
    "docs/prometheus/prometheus.yml",
  );
  assert.equal(
    promBinds.get("/etc/prometheus/alerts.yml"),
    "docs/prometheus/alerts.yml",
  );

  // Grafana: the provisioned data source is the prometheus service, and
  // the dashboard provider's folder holds the mounted dashboard.
  const grafanaBinds = binds(grafana);
  const provisioning = (dir: string) => {
    const host = grafanaBinds.get(`/etc/grafana/provisioning/${dir}`);
    assert.ok(host, `no provisioning/${dir} mount`);
    return [...Deno.readDirSync(join(ROOT, host))].map((e) =>
      parseYaml(Deno.readTextFileSync(join(ROOT, host, e.name)))
    );
  };
  const [datasources] = provisioning("datasources");
  assert.equal(datasources.datasources[0].type, "prometheus");
  assert.equal(
    new URL(datasources.datasources[0].url).hostname,
    "prometheus",
  );
  const [dashboards] = provisioning("dashboards");
  const folder = dashboards.providers[0].options.path;
  const dashboardMount = [...grafanaBinds].find(([to]) =>
    to.startsWith(`${folder}/`)
  );
  assert.equal(dashboardMount?.[1], "docs/grafana/coby.json");
  assert.equal(
    grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH,
    dashboardMount?.[0],
  );

  // Prometheus scrapes compose services that answer its Host header.
  const config = parseYaml(await Deno.readTextFile(PROM_CONFIG));
  const targets: string[] = config.scrape_configs.flatMap((
    s: { static_configs: { targets: string[] }[] },
  ) => s.static_configs.flatMap((c) => c.targets));
  assert.ok(targets.length > 0);
  for (const target of targets) {
    const host = target.split(":")[0];
    const service = compose.services[host];
    assert.ok(service, `scrape target ${target} is no compose service`);
    const configFile = service.environment?.COBY_CONFIG;
    const mounted = service.configs?.find((c) => c.target === configFile);
    assert.ok(mounted, `${host}: COBY_CONFIG is not a mounted config`);
    // coby would refuse to start on a configuration it does not accept.
    const cobyConfig = parseConfig(
      JSON.parse(compose.configs[mounted.source].content),
    );
    assert.ok(
      cobyConfig.http.allowedHosts.includes(host),
      `${host} refuses Host: ${target} (http.allowedHosts)`,
    );
  }
});

Deno.test("coby renders every metric of the contract at /metrics, with its labels", async () => {
  const dir = await Deno.makeTempDir();
  const replay = await Replay.start(captureFiles("BITFINEX"), {
    speed: "max",
    supervisor: { onLog: () => {} },
    store: { enabled: true, dataDir: dir },
  });
  try {
    const app = createApp(replay.coby);
    const wanted = Object.keys(METRICS).filter((m) => m !== "up");
    let families = new Map<string, Set<string>>();
    // The actors report their stats once a second: wait for every family.
    for (let i = 0; i < 100; i++) {
      families = renderedFamilies(await (await app.request("/metrics")).text());
      const series = (m: string) =>
        METRICS[m].type === "histogram" ? `${m}_bucket` : m;
      if (wanted.every((m) => families.has(series(m)))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const errors: string[] = [];
    for (const name of wanted) {
      const spec = METRICS[name];
      const series = spec.type === "histogram" ? `${name}_bucket` : name;
      const labels = families.get(series);
      if (!labels) {
        errors.push(`${series} is not rendered`);
        continue;
      }
      const expected = [
        ...spec.labels,
        "otel_scope_name",
        ...(spec.type === "histogram" ? ["le"] : []),
      ].sort();
      if ([...labels].sort().join() !== expected.join()) {
        errors.push(`${series} has labels ${[...labels].sort()}`);
      }
    }
    assert.deepEqual(errors, []);
  } finally {
    await replay.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * The series names of a Prometheus text exposition with the labels their
 * samples carry (a histogram's `_bucket`, `_sum` and `_count` apart).
 */
function renderedFamilies(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? /.exec(line);
    if (!m) continue;
    const labels = out.get(m[1]) ?? new Set<string>();
    out.set(m[1], labels);
    for (const l of (m[2] ?? "").matchAll(/(\w+)="/g)) labels.add(l[1]);
  }
  return out;
}

/** GitHub's anchor of a Markdown heading. */
function githubSlug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}
