/**
 * Reads a DP SQL query with DuckDB's own parser (`json_serialize_sql`) and
 * checks it is in the supported subset:
 *
 *     select [g1, g2, …,] agg, … from <table> [where <row predicate>] [group by g1, g2, …]
 *
 * with aggregates `count(*)`, `count(x)`, `sum(x)`, `avg(x)`/`mean(x)`,
 * `quantile(x, q)`/`quantile_cont(x, q)`/`median(x)` over plain columns.
 * Anything else (joins, subqueries, HAVING, ORDER BY, LIMIT, DISTINCT,
 * window functions, expressions inside aggregates) is refused with the
 * place it was found and the supported form as the hint. The WHERE clause
 * is kept as DuckDB prints it back (`json_deserialize_sql`).
 *
 * @module
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { MercuryError } from "@mercury/core/plugin";
import { quoteLiteral } from "@mercury/core/sql";

/** One aggregate of the query. */
export interface Aggregate {
  kind: "count" | "sum" | "avg" | "quantile";
  /** The column (absent for count(*)). */
  column?: string;
  /** The quantile's q. */
  q?: number;
  /** The output column's name: the alias, or the aggregate as written (`sum(x)`). */
  label: string;
}

/** A checked query. */
export interface Plan {
  table: string;
  /** `SELECT * FROM <table> [WHERE …]` as DuckDB prints it. */
  filtered: string;
  groupBy: string[];
  /** The output columns in order: a group column or an aggregate's index. */
  outputs: ({ group: string; label: string } | { aggregate: number; label: string })[];
  aggregates: Aggregate[];
}

const HINT = "supported: select [g, …,] count(*) | count(x) | sum(x) | avg(x) | quantile(x, q) | median(x) " +
  "from t [where …] [group by g, …]";

function unsupported(what: string, where = "query"): MercuryError {
  return new MercuryError("usage", `DP SQL does not support ${what}`, { where, hint: HINT });
}

// deno-lint-ignore no-explicit-any
type Node = any;

function columnName(n: Node, where: string): string {
  if (n?.class !== "COLUMN_REF" || !Array.isArray(n.column_names)) {
    throw unsupported(`the expression ${describe(n)} (aggregate over a plain column only)`, where);
  }
  return n.column_names[n.column_names.length - 1];
}

function describe(n: Node): string {
  if (!n) return "?";
  if (n.class === "FUNCTION") return `${n.function_name}(…)`;
  if (n.class === "COLUMN_REF") return n.column_names.join(".");
  if (n.class === "CONSTANT") return "a constant";
  return String(n.type ?? n.class).toLowerCase();
}

function constantNumber(n: Node): number | undefined {
  if (n?.class !== "CONSTANT" || n.value?.is_null) return undefined;
  const v = n.value;
  const t = v.type?.id;
  if (t === "DECIMAL") return Number(v.value) / 10 ** Number(v.type.type_info.scale);
  if (t === "DOUBLE" || t === "FLOAT" || t === "INTEGER" || t === "BIGINT" || t === "HUGEINT") return Number(v.value);
  return undefined;
}

function hasSubquery(n: Node): boolean {
  if (Array.isArray(n)) return n.some(hasSubquery);
  if (n === null || typeof n !== "object") return false;
  if (n.class === "SUBQUERY" || n.class === "WINDOW") return true;
  return Object.values(n).some(hasSubquery);
}

async function serialize(conn: DuckDBConnection, sql: string): Promise<Node> {
  const r = await conn.runAndReadAll(`select json_serialize_sql(${quoteLiteral(sql)}) as j`);
  return JSON.parse(String(r.getRows()[0]![0]));
}

/** Parses and checks `sql`; throws a usage MercuryError naming what is not supported. */
export async function planQuery(conn: DuckDBConnection, sql: string): Promise<Plan> {
  if (typeof sql !== "string" || sql.trim() === "") {
    throw new MercuryError("usage", "the DP SQL query is empty", { hint: HINT });
  }
  const j = await serialize(conn, sql);
  if (j.error) {
    throw new MercuryError("usage", `cannot parse the DP SQL query: ${j.error_message}`, {
      where: "query",
      hint: HINT,
    });
  }
  if (j.statements.length !== 1) throw unsupported(`${j.statements.length} statements (send one)`);
  const node = j.statements[0].node;
  if (node.type !== "SELECT_NODE") throw unsupported(`a ${String(node.type).toLowerCase()} (UNION, VALUES…)`);
  if (node.cte_map?.map?.length) throw unsupported("WITH (common table expressions)");
  if (node.modifiers?.length) throw unsupported("ORDER BY, LIMIT or DISTINCT");
  if (node.having) throw unsupported("HAVING");
  if (node.qualify) throw unsupported("QUALIFY");
  if (node.sample) throw unsupported("TABLESAMPLE");
  const from = node.from_table;
  if (from?.type !== "BASE_TABLE") {
    throw unsupported(from?.type === "JOIN" ? "joins" : `FROM ${describe(from)} (one base table only)`, "FROM");
  }
  if (node.where_clause && hasSubquery(node.where_clause)) throw unsupported("subqueries in WHERE", "WHERE");
  const groupBy: string[] = (node.group_expressions ?? []).map((g: Node, i: number) =>
    columnName(g, `GROUP BY item ${i + 1}`)
  );
  const aggregates: Aggregate[] = [];
  const outputs: Plan["outputs"] = [];
  (node.select_list as Node[]).forEach((e, i) => {
    const where = `SELECT item ${i + 1}`;
    if (e.class === "COLUMN_REF") {
      const name = columnName(e, where);
      if (!groupBy.includes(name)) {
        throw new MercuryError("usage", `column '${name}' must be aggregated or appear in GROUP BY`, {
          where,
          hint: HINT,
        });
      }
      outputs.push({ group: name, label: e.alias || name });
      return;
    }
    if (e.class !== "FUNCTION") throw unsupported(describe(e), where);
    if (e.distinct) throw unsupported("DISTINCT inside an aggregate", where);
    if (e.filter) throw unsupported("FILTER on an aggregate", where);
    const f = String(e.function_name).toLowerCase();
    const args: Node[] = e.children ?? [];
    let agg: Aggregate;
    if (f === "count_star" || (f === "count" && args.length === 0)) {
      agg = { kind: "count", label: e.alias || "count" };
    } else if (f === "count" && args.length === 1) {
      const c = columnName(args[0], where);
      agg = { kind: "count", column: c, label: e.alias || `count(${c})` };
    } else if (f === "sum" && args.length === 1) {
      const c = columnName(args[0], where);
      agg = { kind: "sum", column: c, label: e.alias || `sum(${c})` };
    } else if ((f === "avg" || f === "mean") && args.length === 1) {
      const c = columnName(args[0], where);
      agg = { kind: "avg", column: c, label: e.alias || `avg(${c})` };
    } else if (f === "median" && args.length === 1) {
      const c = columnName(args[0], where);
      agg = { kind: "quantile", column: c, q: 0.5, label: e.alias || `median(${c})` };
    } else if ((f === "quantile" || f === "quantile_cont" || f === "quantile_disc") && args.length === 2) {
      const c = columnName(args[0], where);
      const q = constantNumber(args[1]);
      if (q === undefined || !(q >= 0 && q <= 1)) {
        throw new MercuryError("usage", `the quantile's q must be a number in [0, 1]`, { where, hint: HINT });
      }
      agg = { kind: "quantile", column: c, q, label: e.alias || `quantile(${c}, ${q})` };
    } else {
      throw unsupported(`the function ${f}() with ${args.length} argument(s)`, where);
    }
    outputs.push({ aggregate: aggregates.length, label: agg.label });
    aggregates.push(agg);
  });
  if (aggregates.length === 0) {
    throw new MercuryError("usage", "a DP SQL query needs at least one aggregate", { hint: HINT });
  }
  // The filtered relation: the same statement with SELECT * and no grouping, printed back by DuckDB.
  const star = (await serialize(conn, "select * from t")).statements[0].node.select_list;
  node.select_list = star;
  node.group_expressions = [];
  node.group_sets = [];
  const r = await conn.runAndReadAll(`select json_deserialize_sql(${quoteLiteral(JSON.stringify(j))}) as s`);
  const filtered = String(r.getRows()[0]![0]);
  return { table: from.table_name, filtered, groupBy, outputs, aggregates };
}
