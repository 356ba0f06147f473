import assert from "node:assert/strict";
import { buildUi, INDEX_HTML } from "./bundle.ts";

Deno.test("buildUi bundles the viewer and its stylesheet once", async () => {
  const first = await buildUi();
  assert.match(first.js, /\/api\/v1\/heatmap\/stream/);
  assert.doesNotMatch(
    first.js,
    /^import /m,
    "the bundle has no bare imports left",
  );
  assert.match(first.css, /\.uplot/);
  assert.match(first.css, /\.coby/);
  assert.equal(await buildUi(), first);
});

Deno.test("INDEX_HTML loads the bundle", () => {
  assert.match(INDEX_HTML, /<title>coby<\/title>/);
  assert.match(INDEX_HTML, /<div id="app"><\/div>/);
  assert.match(INDEX_HTML, /href="\/ui\/app\.css"/);
  assert.match(INDEX_HTML, /<script type="module" src="\/ui\/app\.js">/);
});
