import assert from "node:assert/strict";
import { MercuryError } from "@mercury/core";
import { defineSchema, parseSuite, validate } from "@mercury/quality";
import "./testdata/custom_even.ts";

async function csv(text: string): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".csv" });
  await Deno.writeTextFile(path, text);
  return path;
}

const usage = (re: RegExp, where?: RegExp) => (e: MercuryError) => {
  assert.ok(e instanceof MercuryError, String(e));
  assert.equal(e.exitCode, 64);
  assert.match(e.message, re);
  if (where) assert.match(e.where ?? "", where);
  return true;
};

Deno.test("parseSuite reports malformed YAML with its line and column", () => {
  assert.throws(
    () => parseSuite("name: x\nexpectations:\n  - expect_column_values_to_not_be_null: {column: id\n", "s.yaml"),
    usage(/cannot parse s\.yaml/, /^s\.yaml:\d+:\d+$/),
  );
});

Deno.test("parseSuite suggests the nearest type for an unknown one", () => {
  assert.throws(
    () => parseSuite("expectations:\n  - expect_column_values_to_not_be_nul: {column: id}\n", "s.yaml"),
    (e: MercuryError) =>
      usage(/unknown expectation type "expect_column_values_to_not_be_nul"/, /^s\.yaml:2:5$/)(e) &&
      /did you mean "expect_column_values_to_not_be_null"/.test(e.hint ?? ""),
  );
});

Deno.test("parseSuite names the expectation and argument of a wrong argument type", () => {
  assert.throws(
    () => parseSuite("expectations:\n  - expect_column_values_to_be_in_set: {column: s, value_set: abc}\n", "s.yaml"),
    usage(/expect_column_values_to_be_in_set: argument value_set must be a list, got "abc"/),
  );
  assert.throws(
    () => parseSuite("expectations:\n  - expect_column_values_to_be_between: {column: s}\n"),
    usage(/needs min_value or max_value/),
  );
  assert.throws(
    () => parseSuite("expectations:\n  - expect_column_values_to_be_unique: {column: s, mostly: 2}\n"),
    usage(/mostly must be a number from 0 to 1/),
  );
  assert.throws(
    () => parseSuite("expectations:\n  - expect_column_values_to_be_unique: {colum: s}\n"),
    usage(/needs the argument column/),
  );
});

Deno.test("parseSuite accepts GX's JSON shape, GX 0.x names and SodaCL-like checks", () => {
  const gx = parseSuite(JSON.stringify({
    expectation_suite_name: "legacy",
    expectations: [{
      expectation_type: "expect_column_values_to_not_be_null",
      kwargs: { column: "id" },
      meta: { dimension: "completeness" },
    }],
  }));
  assert.equal(gx.name, "legacy");
  assert.equal(gx.expectations[0]!.type, "expect_column_values_to_not_be_null");
  const soda = parseSuite(`checks:
  - row_count between 10 and 100
  - missing_count(email) = 0
  - duplicate_count(id) = 0
  - avg(amount) > 5
  - missing_percent(phone) < 10
  - invalid_count(status) = 0:
      valid values: [new, paid]
`);
  assert.deepEqual(soda.expectations.map((e) => e.type), [
    "expect_table_row_count_to_be_between",
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_unique",
    "expect_sql_aggregate_to_be_between",
    "expect_sql_aggregate_to_be_between",
    "expect_column_values_to_be_in_set",
  ]);
  assert.deepEqual(soda.expectations[3]!.kwargs.min_value, 5);
  assert.equal(soda.expectations[3]!.kwargs.strict_min, true);
  assert.throws(() => parseSuite("checks:\n  - frobnicate(x) = 1\n"), usage(/unknown check metric frobnicate/));
});

Deno.test("validate: a missing column is one input error naming the expectation (exit 65)", async () => {
  const path = await csv("id,email\n1,a\n");
  await assert.rejects(
    validate(path, {
      name: "s",
      expectations: [{ type: "expect_column_values_to_not_be_null", kwargs: { column: "emial" } }],
    }),
    (e: MercuryError) =>
      e.exitCode === 65 && /column "emial" does not exist \(expect_column_values_to_not_be_null/.test(e.message) &&
      /did you mean "email"/.test(e.hint ?? ""),
  );
});

Deno.test("validate: mostly and the four result formats", async (t) => {
  const path = await csv("v\n1\n2\n3\n-1\n\n-2\n5\n6\n7\n8\n9\n");
  const between = (extra: Record<string, unknown>) => ({
    type: "expect_column_values_to_be_between",
    kwargs: { column: "v", min_value: 0, ...extra },
  });
  await t.step("mostly counts over the non-null values", async () => {
    const run = await validate(path, {
      name: "m",
      expectations: [between({ mostly: 0.8 }), between({ mostly: 0.81 })],
    });
    // 10 non-null, 2 unexpected: 80 % expected.
    assert.deepEqual(run.results.map((r) => r.success), [true, false]);
    const r = run.results[0]!.result;
    assert.equal(r.element_count, 11);
    assert.equal(r.missing_count, 1);
    assert.equal(r.unexpected_percent, 20);
    assert.equal(r.unexpected_percent_total, (2 / 11) * 100);
  });
  await t.step("BOOLEAN_ONLY, BASIC, SUMMARY, COMPLETE", async () => {
    const fmt = async (f: string) =>
      (await validate(path, { name: "f", result_format: f as "BASIC", expectations: [between({})] })).results[0]!
        .result;
    assert.deepEqual(await fmt("BOOLEAN_ONLY"), {});
    const basic = await fmt("BASIC");
    assert.deepEqual(basic.partial_unexpected_list, [-1, -2]);
    assert.equal(basic.partial_unexpected_counts, undefined);
    const summary = await fmt("SUMMARY");
    assert.deepEqual(summary.partial_unexpected_counts, [{ value: -1, count: 1 }, { value: -2, count: 1 }]);
    assert.equal(summary.unexpected_list, undefined);
    assert.deepEqual((await fmt("COMPLETE")).unexpected_list, [-1, -2]);
  });
});

Deno.test("custom expectations: SQL predicate, SQL aggregate, GX UnexpectedRowsExpectation, a TypeScript module", async () => {
  const path = await csv("id,amount\n1,10\n2,-5\n3,7\n4,8\n");
  const suite = parseSuite(`name: custom
expectations:
  - sql: "amount >= 0"
    name: non_negative
  - sql_aggregate: "sum(amount)"
    min_value: 0
    max_value: 100
  - unexpected_rows_expectation: {unexpected_rows_query: "select * from {batch} where amount > 9"}
  - expect_column_values_to_be_even: {column: id}
`);
  const run = await validate(path, suite);
  assert.deepEqual(run.results.map((r) => r.success), [false, true, false, false]);
  assert.equal(run.results[0]!.result.unexpected_count, 1);
  assert.equal(run.results[1]!.result.observed_value, 20);
  assert.equal(run.results[2]!.result.observed_value, 1);
  assert.equal(run.results[3]!.result.unexpected_count, 2);
  assert.deepEqual(run.results[3]!.result.partial_unexpected_list, [1, 3]);
});

Deno.test("row schemas parse rows for pipelines and check tables as suites", async () => {
  const Order = defineSchema("order", {
    id: { type: "integer", min: 1, unique: true },
    status: { type: "string", oneOf: ["new", "paid"] },
    note: { type: "string", nullable: true, maxLength: 5 },
  });
  assert.deepEqual(Order.parse({ id: "3", status: "new", note: "" }), { id: 3, status: "new", note: null });
  assert.throws(() => Order.parse({ id: 1, status: "gone" }), /order\.status: "gone" is not one of new, paid/);
  assert.throws(() => Order.parse({ id: null, status: "new" }), /order\.id: is missing/);
  assert.deepEqual(Order.check({ id: 0, status: "x", note: "toolong" }).length, 3);
  const path = await csv("id,status,note\n1,new,\n1,paid,ok\n2,gone,much too long\n");
  const run = await validate(path, Order.toSuite());
  const failed = run.results.filter((r) => !r.success).map((r) =>
    `${r.expectation_config.type}(${r.expectation_config.kwargs.column})`
  );
  assert.deepEqual(failed.sort(), [
    "expect_column_value_lengths_to_be_between(note)",
    "expect_column_values_to_be_in_set(status)",
    "expect_column_values_to_be_unique(id)",
  ]);
});

Deno.test("JSON schema, LIKE patterns, dateutil and KL divergence expectations", async () => {
  const path = await csv(
    'p,code,d,c\n"{""a"": 1}",AB-1,2024-01-05,x\n"{""a"": ""no""}",AB-2,Jan 5 2024,x\nnot json,XY-3,soon,y\n"{""a"": 3}",AB-4,,x\n',
  );
  const run = await validate(path, {
    name: "misc",
    expectations: [
      {
        type: "expect_column_values_to_match_json_schema",
        kwargs: {
          column: "p",
          json_schema: { type: "object", properties: { a: { type: "integer" } }, required: ["a"] },
        },
      },
      { type: "expect_column_values_to_match_like_pattern", kwargs: { column: "code", like_pattern: "AB-%" } },
      { type: "expect_column_values_to_be_dateutil_parseable", kwargs: { column: "d" } },
      {
        type: "expect_column_kl_divergence_to_be_less_than",
        kwargs: { column: "c", partition_object: { values: ["x", "y"], weights: [0.75, 0.25] }, threshold: 0.01 },
      },
    ],
  });
  assert.equal(run.results[0]!.result.unexpected_count, 2);
  assert.deepEqual(run.results[0]!.result.partial_unexpected_list, ['{"a": "no"}', "not json"]);
  assert.deepEqual(run.results[1]!.result.partial_unexpected_list, ["XY-3"]);
  assert.deepEqual(run.results[2]!.result.partial_unexpected_list, ["soon"]);
  assert.equal(run.results[3]!.success, true);
  assert.equal(run.results[3]!.result.observed_value, 0);
});
