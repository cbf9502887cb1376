/** A custom expectation type from a TypeScript module: values must be even. */
import { registerExpectation } from "@mercury/quality";

registerExpectation({
  kind: "map",
  type: "expect_column_values_to_be_even",
  description: "integers divisible by two",
  args: { column: { type: "string", required: true }, mostly: { type: "number" } },
  predicate: (kw, ctx) => `${ctx.col(kw.column)} % 2 <> 0`,
});
