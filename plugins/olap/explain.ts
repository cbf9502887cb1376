/**
 * Cost analysis: the physical plan with estimated cardinalities (`EXPLAIN`),
 * and with `analyze` the real profile DuckDB records while running the query —
 * per operator time, rows out, rows scanned — plus bytes read and the files
 * (Hive partitions) a scan kept out of the total. As JSON and as a readable
 * tree.
 *
 * @example
 * ```ts
 * import { explainQuery } from "@mercury/olap";
 * import { DuckDBInstance } from "@duckdb/node-api";
 * import assert from "node:assert/strict";
 *
 * const c = await (await DuckDBInstance.create()).connect();
 * const plan = await explainQuery(c, "select range % 3 as k, count(*) from range(1000) group by k", { analyze: true });
 * assert.ok(plan.text.includes("RANGE"));
 * assert.equal(plan.profile!.rowsReturned, 3);
 * c.closeSync();
 * ```
 *
 * @module
 */
import type { DuckDBConnection, DuckDBValue } from "@duckdb/node-api";

/** One operator of a plan or profile. */
export interface PlanNode {
  operator: string;
  /** Optimizer's estimate (plan) — from "Estimated Cardinality". */
  estimatedRows?: number;
  /** Rows the operator produced (analyze). */
  rows?: number;
  /** Rows read from storage (scans, analyze). */
  rowsScanned?: number;
  /** Time spent in the operator, ms (analyze). */
  timeMs?: number;
  /** Files kept / total, for Parquet scans over Hive partitions ("1/7"). */
  files?: { scanned: number; total: number };
  details: Record<string, unknown>;
  children: PlanNode[];
}

/** What {@linkcode explainQuery} returns. */
export interface Explanation {
  plan: PlanNode[];
  /** The plan (or profile) as an indented tree. */
  text: string;
  profile?: {
    latencyMs: number;
    cpuMs: number;
    rowsReturned: number;
    bytesRead: number;
    /** Rows the scans produced, after the filters pushed into them (sum over scan operators). */
    rowsScanned: number;
    /** DuckDB's own rows-scanned counter (for Parquet it counts more than the table's rows; kept raw). */
    rowsScannedCounter: number;
    /** Hive partitions (files) pruned across all scans. */
    filesPruned: number;
    filesTotal: number;
    /** Parquet row groups of the table read (single-table queries): total and an estimate of those pruned. */
    rowGroups?: { total: number; scannedEstimate: number; prunedEstimate: number };
    /** The raw DuckDB profiling JSON. */
    raw: unknown;
  };
}

// deno-lint-ignore no-explicit-any
type Raw = any;

function num(v: unknown): number | undefined {
  const n = Number(v);
  return v === undefined || v === null || v === "" || Number.isNaN(n) ? undefined : n;
}

function files(extra: Record<string, unknown>): PlanNode["files"] {
  const s = extra["Scanning Files"];
  if (typeof s !== "string") return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(s);
  return m ? { scanned: Number(m[1]), total: Number(m[2]) } : undefined;
}

function fromPlan(n: Raw): PlanNode {
  const extra = (n.extra_info ?? {}) as Record<string, unknown>;
  return {
    operator: n.name,
    estimatedRows: num(extra["Estimated Cardinality"]),
    files: files(extra),
    details: extra,
    children: (n.children ?? []).map(fromPlan),
  };
}

function fromProfile(n: Raw): PlanNode {
  const extra = (n.extra_info ?? {}) as Record<string, unknown>;
  return {
    operator: n.operator_name ?? n.operator_type,
    estimatedRows: num(extra["Estimated Cardinality"]),
    rows: num(n.operator_cardinality),
    rowsScanned: num(n.operator_rows_scanned) || undefined,
    timeMs: (num(n.operator_timing) ?? 0) * 1000,
    files: files(extra),
    details: extra,
    children: (n.children ?? []).map(fromProfile),
  };
}

/** Renders plan nodes as an indented tree, one operator a line. */
export function renderTree(nodes: PlanNode[]): string {
  const lines: string[] = [];
  const walk = (n: PlanNode, prefix: string, last: boolean, root: boolean) => {
    const facts: string[] = [];
    if (n.timeMs !== undefined) facts.push(`${n.timeMs.toFixed(2)} ms`);
    if (n.rows !== undefined) facts.push(`${n.rows.toLocaleString("en")} rows`);
    if (n.estimatedRows !== undefined) facts.push(`~${n.estimatedRows.toLocaleString("en")} est`);
    if (n.files) facts.push(`files ${n.files.scanned}/${n.files.total}`);
    const filt = n.details["Filters"] ?? n.details["File Filters"];
    if (filt) facts.push(`filter ${Array.isArray(filt) ? filt.join(" AND ") : String(filt)}`);
    lines.push(
      `${prefix}${root ? "" : last ? "└─ " : "├─ "}${n.operator}${facts.length ? `  [${facts.join(", ")}]` : ""}`,
    );
    const next = root ? prefix : prefix + (last ? "   " : "│  ");
    n.children.forEach((c, i) => walk(c, next, i === n.children.length - 1, false));
  };
  nodes.forEach((n) => walk(n, "", true, true));
  return lines.join("\n");
}

/**
 * Explains `sql` on `conn`: the plan, or with `analyze` runs it under DuckDB's
 * profiler (result rows are read and dropped) and returns the profile.
 */
export async function explainQuery(
  conn: DuckDBConnection,
  sql: string,
  options: { analyze?: boolean; params?: DuckDBValue[] | Record<string, DuckDBValue>; dir?: string } = {},
): Promise<Explanation> {
  if (!options.analyze) {
    const r = await conn.runAndReadAll(`explain (format json) ${sql}`, options.params);
    const row = r.getRowObjectsJson().find((x) => x.explain_key === "physical_plan");
    const plan = (JSON.parse(String(row?.explain_value ?? "[]")) as Raw[]).map(fromPlan);
    return { plan, text: renderTree(plan) };
  }
  const file = await Deno.makeTempFile({ prefix: "olap-profile-", suffix: ".json", dir: options.dir });
  try {
    await conn.run(`pragma enable_profiling = 'json'`);
    await conn.run(`pragma profiling_output = '${file}'`);
    await conn.run(`set profiling_mode = 'detailed'`);
    try {
      const res = await conn.stream(sql, options.params);
      while (true) {
        const ch = await res.fetchChunk();
        if (!ch || ch.rowCount === 0) break;
      }
    } finally {
      await conn.run(`pragma disable_profiling`);
      await conn.run(`set profiling_mode = 'standard'`);
    }
    const raw = JSON.parse(await Deno.readTextFile(file));
    const plan = (raw.children ?? []).map(fromProfile) as PlanNode[];
    let pruned = 0, total = 0, scanned = 0, counter = 0;
    const walk = (n: PlanNode) => {
      if (/SCAN|READ_/.test(n.operator)) scanned += n.rows ?? 0;
      counter += n.rowsScanned ?? 0;
      if (n.files) {
        pruned += n.files.total - n.files.scanned;
        total += n.files.total;
      }
      n.children.forEach(walk);
    };
    plan.forEach(walk);
    const profile = {
      latencyMs: (num(raw.latency) ?? 0) * 1000,
      cpuMs: (num(raw.cpu_time) ?? 0) * 1000,
      rowsReturned: num(raw.rows_returned) ?? 0,
      bytesRead: num(raw.total_bytes_read) ?? 0,
      rowsScanned: scanned,
      rowsScannedCounter: counter,
      filesPruned: pruned,
      filesTotal: total,
      raw,
    };
    const head =
      `total ${profile.latencyMs.toFixed(2)} ms, ${profile.rowsReturned} rows returned, ${
        profile.rowsScanned.toLocaleString("en")
      } rows out of scans, ${profile.bytesRead.toLocaleString("en")} bytes read` +
      (total ? `, ${pruned}/${total} files pruned` : "");
    return { plan, text: `${head}\n${renderTree(plan)}`, profile };
  } finally {
    await Deno.remove(file).catch(() => {});
  }
}
