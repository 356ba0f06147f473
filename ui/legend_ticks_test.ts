import assert from "node:assert/strict";
import { formatSize, LABEL_CHAR_PX, legendTicks } from "./legend_ticks.ts";
import { colorIndex } from "./plugins/heatmap.ts";

Deno.test("formatSize is compact", () => {
  const cases: [number, string][] = [
    [0, "0"],
    [0.5, "0.5"],
    [0.0123, "0.012"],
    [1, "1"],
    [2.5, "2.5"],
    [12.34, "12.3"],
    [123.4, "123"],
    [999.4, "999"],
    [1000, "1k"],
    [1234, "1.2k"],
    [12_345, "12k"],
    [999_999, "1M"],
    [56_700_000, "57M"],
    [3.2e9, "3.2G"],
  ];
  for (const [v, want] of cases) assert.equal(formatSize(v), want, `${v}`);
});

Deno.test("legendTicks on the log scale: ends and round decades in between", () => {
  const t = legendTicks(0.5, 500, "log");
  assert.deepEqual(t.map((x) => x.label), ["0.5", "10", "100", "500"]);
  assert.equal(t[0].pos, 0);
  assert.equal(t.at(-1)!.pos, 1);
  for (let i = 1; i < t.length; i++) assert.ok(t[i].pos > t[i - 1].pos);
  // 1 is too close to the 0.5 end (a tenth of the bar). A tick sits where
  // the plugin colours that size: 10 of [0.5, 500] is
  // log(20) / log(1000) of the way, the palette index it gets.
  const ten = t.find((x) => x.value === 10)!;
  assert.ok(Math.abs(ten.pos - Math.log10(20) / 3) < 1e-12);
  assert.equal(
    Math.floor(ten.pos * 32),
    colorIndex(10, { scale: "log", top: 500, bottom: 0.5, paletteSize: 32 }),
  );
  // A short range gets 1-2-5 steps, never more than `inner`.
  const short = legendTicks(3, 70, "log");
  assert.deepEqual(short.map((x) => x.label), ["3", "5", "10", "20", "70"]);
  const many = legendTicks(1e-3, 1e6, "log", { inner: 3 });
  assert.ok(many.length <= 5, many.map((x) => x.label).join());
});

Deno.test("legendTicks on the linear scale: even round steps from zero", () => {
  const t = legendTicks(0, 1234, "linear");
  // 1k would overlap the 1.2k at the end of a 160 px bar.
  assert.deepEqual(t.map((x) => x.label), ["0", "500", "1.2k"]);
  assert.ok(Math.abs(t[1].pos - 500 / 1234) < 1e-12);
  const small = legendTicks(0, 0.87, "linear");
  assert.deepEqual(small.map((x) => x.label), [
    "0",
    "0.2",
    "0.4",
    "0.6",
    "0.87",
  ]);
  for (const x of small) assert.ok(x.pos >= 0 && x.pos <= 1);
});

Deno.test("legendTicks: no two labels overlap, however narrow the bar", () => {
  for (const widthPx of [60, 100, 160, 400]) {
    for (
      const [bottom, top, scale] of [
        [0.0012, 0.051, "log"],
        [3, 70, "log"],
        [1e-3, 1e6, "log"],
        [0, 1234, "linear"],
        [0, 0.87, "linear"],
      ] as const
    ) {
      const t = legendTicks(bottom, top, scale, { widthPx });
      const what = `${widthPx}px ${t.map((x) => x.label)}`;
      const spans = t.map((x) => {
        const w = x.label.length * LABEL_CHAR_PX;
        const at = x.pos * widthPx;
        // The ends sit inside the bar, the others centred on their tick.
        return x.pos === 0
          ? [at, at + w]
          : x.pos === 1
          ? [at - w, at]
          : [at - w / 2, at + w / 2];
      });
      for (let i = 1; i < spans.length; i++) {
        assert.ok(spans[i][0] > spans[i - 1][1], what);
      }
      // The saturating size is always labelled; a 160 px bar has both ends.
      assert.equal(t.at(-1)!.value, top, what);
      if (widthPx >= 160) assert.equal(t[0].value, bottom, what);
    }
  }
});

Deno.test("legendTicks is empty before anything is drawn", () => {
  assert.deepEqual(legendTicks(0, 0, "log"), []);
  assert.deepEqual(legendTicks(0, 5, "log"), []);
  assert.deepEqual(legendTicks(0, 0, "linear"), []);
});
