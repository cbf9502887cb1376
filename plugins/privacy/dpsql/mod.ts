/**
 * DP SQL: a SQL subset over DuckDB answered with differential privacy.
 *
 * @example
 * ```ts
 * import { dpQuery } from "@mercury/privacy/dpsql";
 * import { openDuckDB } from "@mercury/core/services/duckdb";
 * import assert from "node:assert/strict";
 *
 * using db = await openDuckDB();
 * await db.connection.run("create table t as select i as id, i % 50 as x from range(10000) r(i)");
 * const a = await dpQuery(db.connection, "select count(*), avg(x) from t", { epsilon: 1, bounds: { x: [0, 50] } });
 * assert.ok(Math.abs((a.rows[0]!.count as { value: number }).value - 10000) < 50);
 * ```
 *
 * @module
 */
export { checkOptions, dpQuery } from "./query.ts";
export type { DpAnswer, DpQueryOptions, DpValue } from "./query.ts";
export { planQuery } from "./plan.ts";
export type { Aggregate, Plan } from "./plan.ts";
