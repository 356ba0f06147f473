import assert from "node:assert/strict";
import { gunzipSync, gzipSync } from "node:zlib";
import { readCaptures } from "../capture/capture.ts";
import { GzipInflater } from "./_gzip.ts";

const DIR = "../shared/data/captures/cryptofeed";

Deno.test("gzip: the reused inflater yields gunzipSync's bytes for every gzip frame of the HTX captures", async () => {
  const caps = await readCaptures([
    `${DIR}/HUOBI.ws.44.0`,
    `${DIR}/HUOBI_SWAP.ws.1.0`,
    `${DIR}/HUOBI_SWAP.ws.2.0`,
  ]);
  const gz = new GzipInflater();
  let n = 0;
  for (const c of caps) {
    for (const r of c.records) {
      if (r.kind !== "recv" || !r.binary) continue;
      assert.deepEqual(
        gz.inflate(r.binary),
        new Uint8Array(gunzipSync(r.binary)),
      );
      n++;
    }
  }
  assert.ok(n > 3000, `${n} frames`);
});

Deno.test("gzip: a frame bigger than the output buffer, then a small one", async () => {
  const text = (await Deno.readTextFile(`${DIR}/decoded/HUOBI.ws.44.0`)).slice(
    0,
    300_000,
  );
  const gz = new GzipInflater();
  const big = gzipSync(text);
  assert.equal(new TextDecoder().decode(gz.inflate(big)), text);
  assert.equal(
    new TextDecoder().decode(gz.inflate(gzipSync('{"ping":1618678073643}'))),
    '{"ping":1618678073643}',
  );
});

Deno.test("gzip: not gzip, corrupt, truncated or with a wrong length: an error naming the fault, and the inflater still works after", () => {
  const gz = new GzipInflater();
  const good = new Uint8Array(gzipSync('{"ping":1618678073643}'));
  assert.throws(
    () => gz.inflate(new TextEncoder().encode('{"ping":1618678073643}')),
    /Incorrect header check/,
  );
  assert.throws(
    () => gz.inflate(good.subarray(0, 12)),
    /Incorrect header check/,
  );
  assert.throws(() => gz.inflate(good.subarray(0, good.length - 9)), Error);
  const corrupt = good.slice();
  corrupt[10] ^= 0xff;
  assert.throws(() => gz.inflate(corrupt), Error);
  const wrongLength = good.slice();
  wrongLength[good.length - 4]++;
  assert.throws(() => gz.inflate(wrongLength), /trailer says/);
  assert.equal(
    new TextDecoder().decode(gz.inflate(good)),
    '{"ping":1618678073643}',
  );
});
