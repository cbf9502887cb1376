import assert from "node:assert/strict";
import { validate } from "../../plugins/quality/validate.ts";
import { dimensionOf, scoreRun } from "../../plugins/quality/score.ts";
import type { ExpectationSuite } from "../../plugins/quality/types.ts";

Deno.test("scoreRun() scores each dimension by pass rate and weighs them per suite", async () => {
  const dir = await Deno.makeTempDir();
  const csv = `${dir}/t.csv`;
  // 10 rows: 2 null e-mails (completeness 80), id 3 twice (uniqueness: 8 of 9 non-missing… GX counts 2 of 10
  // rows unexpected), 1 age out of range (validity 90), amounts fine (accuracy 100).
  const lines = ["id,email,age,amount"];
  for (let i = 0; i < 10; i++) lines.push(`${i === 4 ? 3 : i},${i < 2 ? "" : `u${i}@x.io`},${i === 9 ? 150 : 30},${i}`);
  await Deno.writeTextFile(csv, lines.join("\n") + "\n");
  const suite: ExpectationSuite = {
    name: "scored",
    weights: { completeness: 2, validity: 1, uniqueness: 1, accuracy: 1 },
    expectations: [
      { type: "expect_column_values_to_not_be_null", kwargs: { column: "email" } },
      { type: "expect_column_values_to_be_unique", kwargs: { column: "id" } },
      { type: "expect_column_values_to_be_between", kwargs: { column: "age", min_value: 0, max_value: 120 } },
      {
        type: "expect_column_sum_to_be_between",
        kwargs: { column: "amount", min_value: 40, max_value: 50 },
        meta: { dimension: "accuracy" },
      },
    ],
  };
  const run = await validate(csv, suite);
  const s = scoreRun(run, suite);
  const d = Object.fromEntries(s.dimensions.map((x) => [x.dimension, x.score]));
  assert.equal(d.completeness, 80);
  assert.equal(d.uniqueness, 80);
  assert.equal(d.validity, 90);
  assert.equal(d.accuracy, 100);
  assert.equal(s.overall, (2 * 80 + 80 + 90 + 100) / 5);
  assert.equal(scoreRun(run).overall, (80 + 80 + 90 + 100) / 4, "equal weights without the suite's");
  assert.match(s.formula, /overall = Σ W_d·D_d/);
  assert.equal(dimensionOf(suite.expectations[3]!), "accuracy");
  assert.equal(dimensionOf({ type: "expect_column_pair_values_a_to_be_greater_than_b", kwargs: {} }), "consistency");
  await Deno.remove(dir, { recursive: true });
});
