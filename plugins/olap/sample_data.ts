/**
 * Sample data for `olap setup`, the notebook and the tests: a day-spread
 * stream of product events (users, sessions, regions, amounts), generated in
 * DuckDB with `range()` so millions of rows take a second.
 *
 * @example
 * ```ts
 * import { generateEvents } from "@mercury/olap";
 * import assert from "node:assert/strict";
 *
 * const file = await generateEvents(1000, { days: 3 });
 * assert.ok(file.endsWith(".parquet"));
 * await Deno.remove(file);
 * ```
 *
 * @module
 */
import { DuckDBInstance } from "@duckdb/node-api";

/** Writes `rows` generated events to a temporary Parquet file and returns its path. */
export async function generateEvents(
  rows: number,
  options: { days?: number; users?: number; seed?: number } = {},
): Promise<string> {
  const days = options.days ?? 14;
  const users = options.users ?? 2000;
  const file = await Deno.makeTempFile({ prefix: "olap-events-", suffix: ".parquet" });
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  try {
    await c.run(`select setseed(${((options.seed ?? 42) % 1000) / 1000})`);
    await c.run(`copy (
      select
        timestamp '2024-03-01' + to_seconds(cast(floor(i * ${days} * 86400.0 / ${rows}) as bigint)) as ts,
        'u' || cast(hash(i * 7919) % ${users} as varchar) as user_id,
        ['eu', 'us', 'apac', 'latam'][1 + cast(hash(i) % 4 as int)] as region,
        ['view', 'view', 'view', 'cart', 'checkout', 'purchase'][1 + cast(hash(i + 1) % 6 as int)] as event,
        ['web', 'ios', 'android'][1 + cast(hash(i + 2) % 3 as int)] as device,
        cast(round(random() * 200, 2) as decimal(10, 2)) as amount,
        cast(hash(i + 3) % 5 as integer) as quantity
      from range(${rows}) t(i)
    ) to '${file}' (format parquet)`);
  } finally {
    c.closeSync();
    db.closeSync();
  }
  return file;
}
