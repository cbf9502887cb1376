/**
 * `validate(source, suite, options)`: runs a suite over a source and returns
 * a GX-shaped {@linkcode ValidationRun}. One aggregate scan answers the row
 * count, every column-map expectation's counts and every aggregate; only
 * the failing map expectations are queried again for their unexpected
 * values, and (when asked) every failing row is written to Parquet with the
 * expectations it failed, atomically (temp file + rename).
 *
 * @example
 * ```ts
 * import { validate } from "@mercury/quality";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "id,email\n1,a@x.org\n2,\n3,c@x.org\n");
 * const run = await validate(path, {
 *   name: "people",
 *   expectations: [{ type: "expect_column_values_to_not_be_null", kwargs: { column: "email" } }],
 * });
 * assert.equal(run.success, false);
 * assert.equal(run.results[0]!.result.unexpected_count, 1);
 * ```
 *
 * @module
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { MercuryError } from "@mercury/core/plugin";
import { quoteLiteral } from "@mercury/core/sql";
import { dirname } from "node:path";
import { typeVerdict } from "./expectations/catalog.ts";
import type { MapDefinition, QueryDefinition, TableDefinition, Verdict } from "./expectations/definition.ts";
import {
  considered,
  failingRowsQuery,
  inMainScan,
  mainScan,
  plan,
  type Planned,
  unexpectedRelation,
  windowScan,
} from "./engine/compile.ts";
import { type OpenedSource, openSource } from "./sources/open_source.ts";
import { checkSuite, loadSuite } from "./suite/load_suite.ts";
import type {
  ExpectationResult,
  ExpectationResultDetail,
  ExpectationSuite,
  ResultFormat,
  ResultFormatName,
  SourceRef,
  ValidateOptions,
  ValidationRun,
} from "./types.ts";

function jsValue(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (v === null || v === undefined) return null;
  if (typeof v === "object") {
    const o = v as { toDouble?: () => number; toString(): string; items?: unknown[] };
    if (typeof o.toDouble === "function") return o.toDouble();
    if (Array.isArray(o.items)) return o.items.map(jsValue);
    if (Array.isArray(v)) return v.map(jsValue);
    return o.toString();
  }
  return v;
}

async function rows(conn: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  const r = await conn.runAndReadAll(sql);
  return r.getRowObjects().map((o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, jsValue(v)])));
}

function formatOf(f: ResultFormat | undefined): { name: ResultFormatName; partial: number } {
  if (!f) return { name: "SUMMARY", partial: 20 };
  if (typeof f === "string") return { name: f, partial: 20 };
  return { name: f.result_format, partial: f.partial_unexpected_count ?? 20 };
}

const NO_EXCEPTION = { raised_exception: false, exception_message: null, exception_traceback: null };

/** Options of {@linkcode validateOpened} beyond {@linkcode ValidateOptions}. */
export interface RunInternals {
  /** Called with each SQL statement as it runs (for `--explain`). */
  onSql?: (sql: string) => void;
  /** The relation failing rows are read from, when it carries extra columns (a record index) beside the source's. */
  failingRelation?: string;
}

/**
 * Validates an opened source (the caller closes it). Use {@linkcode validate}
 * unless the source is already open (hooks, other plugins).
 */
export async function validateOpened(
  src: OpenedSource,
  suiteIn: ExpectationSuite,
  options: ValidateOptions & RunInternals = {},
): Promise<ValidationRun> {
  const started = new Date();
  const suite = checkSuite(suiteIn);
  const conn = src.conn;
  const sqlLog: string[] = [];
  const exec = async (sql: string) => {
    options.signal?.throwIfAborted();
    sqlLog.push(sql);
    options.onSql?.(sql);
    try {
      return await rows(conn, sql);
    } catch (err) {
      throw new MercuryError("input", `query failed on ${src.uri}: ${(err as Error).message.split("\n")[0]}`, {
        where: src.uri,
        hint: "a custom SQL expectation or row_condition may be wrong; --explain prints the SQL",
        cause: err,
      });
    }
  };
  const planned = plan(src.relation, src.columns, suite.expectations);

  // Map expectations that prepare state (e.g. JSON schema) run their pre-pass now.
  for (const p of planned) {
    const m = p.def as MapDefinition;
    if (p.def.kind === "map" && m.prepare && options.explain) {
      p.predicate = m.predicate(p.config.kwargs, p.ctx);
    } else if (p.def.kind === "map" && m.prepare) {
      await m.prepare(p.config.kwargs, {
        ...p.ctx,
        id: String(p.index),
        run: (sql) => exec(sql),
        exec: async (sql) => void await exec(sql),
        async *stream(sql) {
          sqlLog.push(sql);
          const result = await conn.stream(sql);
          for (;;) {
            const chunk = await result.fetchChunk();
            if (!chunk || chunk.rowCount === 0) break;
            yield chunk.getRowObjects(result.deduplicatedColumnNames()) as Record<string, unknown>[];
          }
        },
      });
      p.predicate = m.predicate(p.config.kwargs, p.ctx);
    }
  }
  const scanSql = mainScan(src.relation, planned);
  if (options.explain) {
    sqlLog.push(scanSql);
    options.onSql?.(scanSql);
    for (const p of planned) {
      if (p.def.kind === "map" && p.window) {
        const s = windowScan(src.relation, p);
        sqlLog.push(s);
        options.onSql?.(s);
      } else if (p.def.kind === "query" && !(p.def as QueryDefinition).run) {
        const s = (p.def as QueryDefinition).query(p.config.kwargs, p.ctx);
        sqlLog.push(s);
        options.onSql?.(s);
      }
    }
    return finish(suite, src, started, [], sqlLog, options, 0);
  }
  const scan = (await exec(scanSql))[0]!;
  const rowCount = Number(scan.__n);
  const results: ExpectationResult[] = [];
  const failingMaps: Planned[] = [];
  const pending: Pending[] = [];
  for (const p of planned) {
    const cfg = p.config;
    const fmt = formatOf(cfg.kwargs.result_format ?? options.result_format ?? suite.result_format);
    const base = { expectation_config: stripPrivate(cfg), exception_info: NO_EXCEPTION, meta: {} };
    if (cfg.type === "expect_column_values_to_be_of_type" || cfg.type === "expect_column_values_to_be_in_type_list") {
      const v = typeVerdict(cfg.kwargs, p.ctx.typeOf(String(cfg.kwargs.column)));
      results.push({
        ...base,
        success: v.success,
        result: fmt.name === "BOOLEAN_ONLY" ? {} : { observed_value: v.observed_value },
      });
      continue;
    }
    if (p.def.kind === "map") {
      let element = rowCount, nonnull: number, unexpected: number;
      if (inMainScan(p)) {
        if (p.rowCondition) element = Number(scan[`e${p.index}`]);
        nonnull = Number(scan[`n${p.index}`]);
        unexpected = Number(scan[`u${p.index}`]);
      } else {
        const r = (await exec(windowScan(src.relation, p)))[0]!;
        if (p.rowCondition) {
          element = Number((await exec(`select count(*) as n from ${src.relation} where ${p.rowCondition}`))[0]!.n);
        }
        nonnull = Number(r.n);
        unexpected = Number(r.u);
      }
      const tracksMissing = p.filter !== null;
      const considered_ = tracksMissing ? nonnull : element;
      const mostly = typeof cfg.kwargs.mostly === "number" ? cfg.kwargs.mostly : 1;
      const success = element === 0 || considered_ === 0 ? true : (considered_ - unexpected) / considered_ >= mostly;
      const result: ExpectationResultDetail = {};
      if (fmt.name !== "BOOLEAN_ONLY") {
        result.element_count = element;
        result.unexpected_count = unexpected;
        if (tracksMissing) {
          const missing = element - nonnull;
          result.unexpected_percent = nonnull > 0 ? (unexpected / nonnull) * 100 : null as unknown as number;
          result.missing_count = missing;
          result.missing_percent = element > 0 ? (missing / element) * 100 : null as unknown as number;
          result.unexpected_percent_total = element > 0 ? (unexpected / element) * 100 : null as unknown as number;
          result.unexpected_percent_nonmissing = result.unexpected_percent;
        } else {
          result.unexpected_percent = element > 0 ? (unexpected / element) * 100 : null as unknown as number;
        }
        result.partial_unexpected_list = [];
        if (fmt.name === "SUMMARY" || fmt.name === "COMPLETE") result.partial_unexpected_counts = [];
        if (fmt.name === "COMPLETE") result.unexpected_list = [];
        if (unexpected > 0) {
          pending.push({
            p,
            result,
            partial: fmt.partial,
            want: Math.min(unexpected, fmt.partial),
            complete: fmt.name === "COMPLETE",
            summary: fmt.name !== "BASIC",
          });
        }
      }
      if (unexpected > 0) failingMaps.push(p);
      results.push({ ...base, success, result });
      continue;
    }
    let verdict: Verdict;
    if (p.def.kind === "aggregate") {
      const vals: Record<string, unknown> = {};
      for (const k of Object.keys(p.aggregates ?? {})) vals[k] = scan[`a${p.index}_${k}`];
      verdict = p.def.evaluate(vals, cfg.kwargs);
    } else if (p.def.kind === "table") {
      verdict = await (p.def as TableDefinition).evaluate(cfg.kwargs, { columns: src.columns, row_count: rowCount });
    } else {
      const q = p.def as QueryDefinition;
      verdict = q.run
        ? await q.run(cfg.kwargs, { ...p.ctx, run: (sql) => exec(sql) })
        : q.evaluate(await exec(q.query(cfg.kwargs, p.ctx)), cfg.kwargs);
    }
    const result: ExpectationResultDetail = {};
    if (fmt.name !== "BOOLEAN_ONLY") {
      if (verdict.observed_value !== undefined) result.observed_value = verdict.observed_value;
      Object.assign(result, verdict.fields ?? {});
      if (verdict.details) result.details = verdict.details;
    }
    results.push({ ...base, success: verdict.success, result });
  }
  await fillUnexpected(conn, src.relation, pending, exec, (sql) => {
    sqlLog.push(sql);
    options.onSql?.(sql);
  });
  let failingRows = 0;
  if (options.failing_rows_path && failingMaps.length) {
    failingRows = await writeFailingRows(
      conn,
      options.failingRelation ?? src.relation,
      failingMaps,
      options.failing_rows_path,
      (s) => {
        sqlLog.push(s);
        options.onSql?.(s);
      },
    );
  }
  return finish(suite, src, started, results, sqlLog, options, rowCount, failingRows);
}

/** A failing map expectation whose unexpected values are still to be fetched. */
interface Pending {
  p: Planned;
  result: ExpectationResultDetail;
  partial: number;
  want: number;
  complete: boolean;
  summary: boolean;
}

/** GX's partial_unexpected_counts: counts over the partial list, most common first. */
function countsOf(values: unknown[], limit: number): { value: unknown; count: number }[] {
  const m = new Map<string, { value: unknown; count: number }>();
  for (const v of values) {
    const k = JSON.stringify(v) ?? "null";
    const e = m.get(k);
    if (e) e.count++;
    else m.set(k, { value: v, count: 1 });
  }
  return [...m.values()].sort((a, b) => b.count - a.count || (String(a.value) < String(b.value) ? -1 : 1)).slice(
    0,
    limit,
  );
}

/**
 * The first unexpected values of every failing map expectation, in row
 * order: one streamed query for all of them, stopped as soon as each has
 * its `partial_unexpected_count` values (windowed ones get their own).
 */
async function fillUnexpected(
  conn: DuckDBConnection,
  rel: string,
  pending: Pending[],
  exec: (sql: string) => Promise<Record<string, unknown>[]>,
  log: (sql: string) => void,
): Promise<void> {
  const plain = pending.filter((x) => !x.p.window);
  for (const x of pending.filter((x) => x.p.window)) {
    const r = unexpectedRelation(rel, x.p);
    x.result.partial_unexpected_list = (await exec(`select v from ${r} limit ${x.partial}`)).map((o) => o.v);
  }
  if (plain.length) {
    const conds = plain.map((x) => `(${considered(x.p)} and (${x.p.predicate}))`);
    const sql = `select ${
      plain.map((x, i) => `${conds[i]} as f${i}, ${x.p.value} as v${i}`).join(", ")
    }\nfrom ${rel}\nwhere ${conds.join(" or ")}`;
    log(sql);
    const lists: unknown[][] = plain.map(() => []);
    const result = await conn.stream(sql);
    let open = plain.length;
    while (open > 0) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const rows = chunk.getRowObjects(result.deduplicatedColumnNames());
      for (const row of rows) {
        for (let i = 0; i < plain.length; i++) {
          const list = lists[i]!;
          if (row[`f${i}`] === true && list.length < plain[i]!.partial) {
            list.push(jsValue(row[`v${i}`]));
            if (list.length === plain[i]!.want) open--;
          }
        }
        if (open === 0) break;
      }
    }
    plain.forEach((x, i) => (x.result.partial_unexpected_list = lists[i]!));
  }
  for (const x of pending) {
    if (x.summary) x.result.partial_unexpected_counts = countsOf(x.result.partial_unexpected_list ?? [], x.partial);
    if (x.complete) {
      x.result.unexpected_list = (await exec(`select v from ${unexpectedRelation(rel, x.p)}`)).map((o) => o.v);
    }
  }
}

function stripPrivate(cfg: ExpectationSuite["expectations"][number]) {
  const kwargs = Object.fromEntries(Object.entries(cfg.kwargs).filter(([k]) => !k.startsWith("__")));
  const { where: _w, ...rest } = cfg;
  return { ...rest, kwargs };
}

/** Writes every failing row with `__failed_expectations` to `path` through a temp file and a rename. */
async function writeFailingRows(
  conn: DuckDBConnection,
  rel: string,
  failing: Planned[],
  path: string,
  log: (sql: string) => void,
): Promise<number> {
  await Deno.mkdir(dirname(path) || ".", { recursive: true });
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  const sql = `copy (${failingRowsQuery(rel, failing)}) to ${quoteLiteral(tmp)} (format parquet, compression zstd)`;
  log(sql);
  try {
    const r = await conn.runAndReadAll(sql);
    const n = Number(jsValue(r.getRows()[0]?.[0] ?? 0));
    await Deno.rename(tmp, path);
    return n;
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw new MercuryError(
      "conflict",
      `cannot write failing rows to ${path}: ${(err as Error).message.split("\n")[0]}`,
      {
        where: path,
        hint: "check that the folder is writable",
        cause: err,
      },
    );
  }
}

async function finish(
  suite: ExpectationSuite,
  src: OpenedSource,
  started: Date,
  results: ExpectationResult[],
  sql: string[],
  options: ValidateOptions,
  rowCount: number,
  failingRows = 0,
): Promise<ValidationRun> {
  const ok = results.filter((r) => r.success).length;
  const run: ValidationRun = {
    run_id: options.run_id ?? crypto.randomUUID(),
    success: ok === results.length,
    suite_name: suite.name,
    ...(suite.version !== undefined ? { suite_version: suite.version } : {}),
    fingerprint: await src.fingerprint(options.explain ? 0 : rowCount),
    started_at: started.toISOString(),
    ended_at: new Date().toISOString(),
    results,
    statistics: {
      evaluated_expectations: results.length,
      successful_expectations: ok,
      unsuccessful_expectations: results.length - ok,
      success_percent: results.length ? (ok / results.length) * 100 : 100,
    },
    sql,
    ...(options.meta ? { meta: options.meta } : {}),
  };
  if (failingRows > 0 && options.failing_rows_path) {
    run.failing_rows_path = options.failing_rows_path;
    run.failing_rows_count = failingRows;
  }
  return run;
}

/**
 * Validates `source` (a URI or `{uri}`) against `suite` (a suite object or
 * the path of a YAML/JSON suite file).
 */
export async function validate(
  source: SourceRef,
  suite: ExpectationSuite | string,
  options: ValidateOptions & RunInternals = {},
): Promise<ValidationRun> {
  const s = typeof suite === "string" ? await loadSuite(suite) : suite;
  await using src = await openSource(source);
  return await validateOpened(src, s, options);
}
