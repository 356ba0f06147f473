/**
 * Builds the browser viewer: bundles `ui/app.tsx` (Preact, uPlot and our
 * modules) into one ES module and joins uPlot's stylesheet with ours. Works
 * offline: packages come from the local `node_modules`.
 *
 * Served as `GET /` → {@linkcode INDEX_HTML}, `GET /ui/app.js` → `js`
 * (`text/javascript`) and `GET /ui/app.css` → `css` (`text/css`).
 *
 * @module
 */

/** The built viewer assets. */
export interface UiBuild {
  /** The bundled viewer, an ES module for the browser. */
  js: string;
  /** uPlot's stylesheet followed by the viewer's own. */
  css: string;
}

/** The page that loads the viewer. */
export const INDEX_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>coby</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/app.css">
<script type="module" src="/ui/app.js"></script>
</head>
<body>
<div id="app"></div>
</body>
</html>
`;

const ENTRY = new URL("../ui/app.tsx", import.meta.url);
const OWN_CSS = new URL("../ui/style.css", import.meta.url);
const ROOT = new URL("../", import.meta.url);
const CONFIG = new URL("../deno.json", import.meta.url);
const UPLOT_CSS = new URL(
  "../node_modules/uplot/dist/uPlot.min.css",
  import.meta.url,
);

let cached: Promise<UiBuild> | undefined;

/**
 * Builds the viewer once per process and returns the cached result after
 * that. A failed build is not cached, so the next call tries again.
 *
 * Runs `deno bundle --platform browser --format esm` in a child process
 * (which needs `--allow-run`) writing to a temporary directory.
 *
 * @returns the bundled script and the stylesheet.
 * @throws {Error} if bundling fails or uPlot's stylesheet is missing from
 *   `node_modules` (run `deno install`).
 * @example Serve the assets
 * ```ts
 * const { js, css } = await buildUi();
 * ```
 */
export async function buildUi(): Promise<UiBuild> {
  cached ??= build().catch((e) => {
    cached = undefined;
    throw e;
  });
  return await cached;
}

async function build(): Promise<UiBuild> {
  const [js, css] = await Promise.all([bundleModule(ENTRY), readCss()]);
  return { js, css };
}

async function readCss(): Promise<string> {
  let uplot: string;
  try {
    uplot = await Deno.readTextFile(UPLOT_CSS);
  } catch (e) {
    throw new Error(
      `Cannot read uPlot stylesheet at ${UPLOT_CSS.pathname}: run \`deno install\``,
      { cause: e },
    );
  }
  const own = await Deno.readTextFile(OWN_CSS);
  return `${uplot}\n${own}`;
}

/**
 * Bundles one browser entry module (and everything it imports, packages
 * from the local `node_modules`) into a minified ES module.
 * @param entry the entry module.
 * @returns the bundled script.
 * @throws {Error} naming the entry and the bundler's message when it fails.
 * @example
 * ```ts
 * const js = await bundleModule(new URL("../ui/app.tsx", import.meta.url));
 * ```
 */
export async function bundleModule(entry: URL): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "coby-ui-" });
  try {
    const outFile = `${dir}/app.js`;
    const res = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--config",
        CONFIG.pathname,
        "--platform",
        "browser",
        "--format",
        "esm",
        "--minify",
        "--output",
        outFile,
        entry.pathname,
      ],
      cwd: ROOT.pathname,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!res.success) {
      const why = new TextDecoder().decode(res.stderr).trim() ||
        `exit code ${res.code}`;
      throw new Error(`Cannot bundle ${entry.pathname}: ${why}`);
    }
    return await Deno.readTextFile(outFile);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}
