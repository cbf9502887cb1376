/** The DuckDB internals olap's Arrow path relies on, checked against the installed library. */
import assert from "node:assert/strict";
import type { DuckDBType, DuckDBVector } from "@duckdb/node-api";
import { decimalShape, nativeShapeProblems, vectorItems, vectorValidity } from "../../plugins/olap/_duckdb_native.ts";

Deno.test("_duckdb_native: the installed @duckdb/node-api and node-bindings have every internal arrow.ts reads", async () => {
  assert.deepEqual(await nativeShapeProblems(), []);
});

Deno.test("_duckdb_native: a vector without the expected internals is a TypeError naming what changed", () => {
  const changed = { type: { toString: () => "DOUBLE" } } as unknown as DuckDBVector;
  assert.throws(() => vectorItems(changed), { name: "TypeError", message: /DOUBLE vector has no typed 'items'/ });
  assert.throws(() => vectorValidity(changed), { name: "TypeError", message: /no 'validity.itemValid'/ });
  const dec = { toString: () => "DECIMAL(9,2)" } as unknown as DuckDBType;
  assert.throws(() => decimalShape(dec), { name: "TypeError", message: /DECIMAL\(9,2\) has no numeric width\/scale/ });
});
