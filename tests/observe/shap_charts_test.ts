import assert from "node:assert/strict";
import { chartSvg } from "@mercury/core/display";
import { normal, seededRandom } from "@mercury/core/random";
import { kernelShap, shapBarSpec, shapBeeswarmSpec, shapWaterfallSpec } from "@mercury/observe/stats";

const r = seededRandom(3);
const features = ["age", "income", "tenure", "balance", "visits"];
const bg = Array.from({ length: 20 }, () => features.map(() => normal(r)));
const x = Array.from({ length: 60 }, () => features.map(() => normal(r)));
const f = (rows: number[][]) => rows.map(([a, b, c, d, e]) => 2 * a! - b! * c! + 0.5 * Math.tanh(d!) + 0.1 * e!);
const shap = kernelShap(f, bg, x);

Deno.test("SHAP charts render to SVG: bar, beeswarm and waterfall with the expected marks", async (t) => {
  const out = Deno.env.get("OBSERVE_CHART_DIR");
  for (
    const [name, spec, marks] of [
      ["bar", shapBarSpec(shap, features), features.length],
      ["beeswarm", shapBeeswarmSpec(shap, features), features.length * x.length],
      ["waterfall", shapWaterfallSpec(shap, features, 0), features.length],
    ] as const
  ) {
    await t.step(name, async () => {
      const svg = await chartSvg(spec);
      assert.match(svg, /^<svg/);
      const count = (svg.match(/<path[^>]*role-mark|class="mark-(rect|symbol)[^"]*"/g) ?? []).length;
      assert.ok(count >= 1, `${name}: no marks`);
      const items = (svg.match(/<path /g) ?? []).length;
      assert.ok(items >= marks, `${name}: ${items} paths for ${marks} marks`);
      if (out) await Deno.writeTextFile(`${out}/shap_${name}.svg`, svg);
    });
  }
  // the waterfall ends at the model's output for the row
  const w = shapWaterfallSpec(shap, features, 0) as { data: { values: { end: number }[] } };
  assert.ok(Math.abs(w.data.values.at(-1)!.end - f([x[0]!])[0]!) < 1e-9);
  assert.throws(() => shapWaterfallSpec(shap, features, 999), RangeError);
});
