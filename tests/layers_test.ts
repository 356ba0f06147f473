/**
 * The layer rule: a file imports only from its own layer or the layers below
 * it. The order, lowest first, as the README states it:
 *
 *     runtime/ → actors/market/ → actors/adapters/ → actors/connection/ | actors/capture/ | actors/store/
 *       → actors/live/ → actors/replay/ → actors/*.ts → actors/system/ → http/ → ui/ | http/cli/
 *
 * Layers on one rank (`a | b`) are siblings and must not import each other.
 * `tests/` and `bench/` sit above everything and nothing imports them.
 * Unit tests beside the code (`*_test.ts`) may read their fixtures through
 * higher layers (a book-sync test decodes real frames with an adapter); the
 * code they test may not.
 * Worker modules named by URL (`new URL("connection/mod.ts", …)`) and the
 * files the bundler reads are data, not imports, and are not walked.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** One layer: a name and whether a repo-relative path belongs to it. */
interface Layer {
  readonly name: string;
  readonly rank: number;
  readonly has: (path: string) => boolean;
}

/** A layer matching every path under `prefix`. */
function under(prefix: string, rank: number): Layer {
  return { name: prefix, rank, has: (p) => p.startsWith(prefix) };
}

/** The layers; the first match wins, so subfolders come before their parent. */
const LAYERS: readonly Layer[] = [
  under("runtime/", 0),
  under("actors/market/", 1),
  under("actors/adapters/", 2),
  under("actors/connection/", 3),
  under("actors/capture/", 3),
  under("actors/store/", 3),
  // The bus and the live cache build on the store's row shapes.
  under("actors/live/", 3.5),
  // Replay sessions: capture files and the store through the book keeper.
  under("actors/replay/", 3.7),
  under("actors/system/", 5),
  { name: "actors/*.ts", rank: 4, has: (p) => /^actors\/[^/]+$/.test(p) },
  under("http/cli/", 8),
  under("http/", 6),
  under("ui/", 8),
  {
    name: "tests/, bench/",
    rank: 9,
    has: (p) => p.startsWith("tests/") || p.startsWith("bench/"),
  },
];

function layerOf(path: string): Layer | undefined {
  return LAYERS.find((l) => l.has(path));
}

/** Relative module specifiers of static and dynamic imports and re-exports. */
function importsOf(source: string): string[] {
  const out: string[] = [];
  const re =
    /(?:^|[\s;])(?:import|export)\s[^"';]*?from\s*["']([^"']+)["']|(?:^|[\s;])import\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
  for (const m of source.matchAll(re)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (spec.startsWith(".")) out.push(spec);
  }
  return out;
}

/**
 * Every import that climbs a layer or crosses to a sibling.
 * @param files repo-relative path → source text.
 * @returns one line per violation: `from → to (layer → layer)`.
 */
function violations(files: ReadonlyMap<string, string>): string[] {
  const bad: string[] = [];
  for (const [path, source] of files) {
    if (path.endsWith("_test.ts") && !path.startsWith("tests/")) continue;
    const from = layerOf(path);
    if (!from) {
      bad.push(`${path} belongs to no layer`);
      continue;
    }
    for (const spec of importsOf(source)) {
      const target = join(dirname(path), spec);
      const to = layerOf(target);
      if (!to) {
        bad.push(`${path} → ${target} (outside every layer)`);
      } else if (
        to.rank > from.rank || (to.rank === from.rank && to !== from)
      ) {
        bad.push(`${path} → ${target} (${from.name} → ${to.name})`);
      }
    }
  }
  return bad;
}

const ROOT = resolve(fileURLToPath(new URL("../", import.meta.url)));

async function repoSources(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for await (const e of Deno.readDir(dir)) {
      if (e.name.startsWith(".") || e.name === "node_modules") continue;
      const p = join(dir, e.name);
      if (e.isDirectory) await walk(p);
      else if (/\.tsx?$/.test(e.name)) {
        files.set(relative(ROOT, p), await Deno.readTextFile(p));
      }
    }
  };
  for (const top of ["runtime", "actors", "http", "ui", "tests", "bench"]) {
    await walk(join(ROOT, top));
  }
  return files;
}

Deno.test("layers: no file imports from a layer above its own", async () => {
  const files = await repoSources();
  assert.ok(files.size > 100, `only ${files.size} sources found`);
  assert.ok(files.has("runtime/supervisor.ts"));
  assert.deepEqual(violations(files), []);
});

Deno.test("layers: runtime/ imports nothing outside itself", async () => {
  const files = await repoSources();
  const climbs: string[] = [];
  for (const [path, source] of files) {
    if (!path.startsWith("runtime/")) continue;
    for (const spec of importsOf(source)) {
      const target = join(dirname(path), spec);
      if (!target.startsWith("runtime/")) climbs.push(`${path} → ${target}`);
    }
  }
  assert.deepEqual(climbs, []);
});

Deno.test("layers: the check names a file that climbs or crosses to a sibling", () => {
  const files = new Map([
    ["runtime/actor.ts", 'import { Kind } from "../actors/market/batch.ts";'],
    [
      "actors/market/book.ts",
      'import type { Levels } from "./events.ts";\nimport { x } from "../../runtime/backoff.ts";',
    ],
    ["actors/capture/sim.ts", 'export { y } from "../connection/socket.ts";'],
    ["http/app.ts", 'const m = await import("./cli/start.ts");'],
    ["ui/app.tsx", 'import type { AppType } from "../http/app.ts";'],
    ["actors/market/book_test.ts", 'import { a } from "../adapters/okx.ts";'],
  ]);
  assert.deepEqual(violations(files), [
    "runtime/actor.ts → actors/market/batch.ts (runtime/ → actors/market/)",
    "actors/capture/sim.ts → actors/connection/socket.ts (actors/capture/ → actors/connection/)",
    "http/app.ts → http/cli/start.ts (http/ → http/cli/)",
  ]);
});
