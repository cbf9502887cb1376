/**
 * Column analysis and anonymity measures of a CSV or Parquet file, in
 * DuckDB: each column is matched against {@linkcode RULES} by name and by a
 * sample of its values; k-anonymity is the size of the smallest equivalence
 * class of the quasi-identifiers (Sweeney 2002), measured as they are and
 * after Safe Harbor's generalisations (ZIP to 3 digits, dates to the year,
 * ages to decades with 90+ together); l-diversity is the fewest distinct
 * values of the sensitive attribute in any class (Machanavajjhala et al.
 * 2007).
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { quoteIdent, quoteLiteral } from "@mercury/core/sql";
import { withDuckDB } from "@mercury/core/services/duckdb";
import { type ColumnRole, type IdentifierRule, matchRule, RULES } from "./rules.ts";

/** One column and what it was found to be. */
export interface ColumnFinding {
  name: string;
  type: string;
  distinct: number;
  role?: ColumnRole;
  rule?: Pick<IdentifierRule, "id" | "label" | "hipaa" | "gdpr">;
  by?: "name" | "values";
}

/** k-anonymity and l-diversity of a set of quasi-identifiers. */
export interface Anonymity {
  quasi: string[];
  classes: number;
  k: number;
  /** Rows in classes smaller than the target k. */
  rowsBelowK: number;
  sensitive?: string;
  l?: number;
  /** Classes with fewer than 2 distinct sensitive values. */
  classesBelowL2?: number;
}

/** Everything column analysis found. */
export interface DatasetAnalysis {
  path: string;
  rows: number;
  columns: ColumnFinding[];
  targetK: number;
  raw: Anonymity;
  /** The same after Safe Harbor generalisation of the quasi-identifiers. */
  generalised: Anonymity & { expressions: Record<string, string> };
}

/** Options of {@linkcode analyzeDataset}. */
export interface AnalyzeOptions {
  /** Quasi-identifiers (default: the columns found to be ones). */
  quasi?: string[];
  /** The sensitive attribute for l-diversity (default: the first found). */
  sensitive?: string;
  /** Target k (default 5). */
  k?: number;
}

/** Analyses the file at `path` (CSV or Parquet). */
export async function analyzeDataset(path: string, options: AnalyzeOptions = {}): Promise<DatasetAnalysis> {
  try {
    await Deno.stat(path);
  } catch {
    throw new MercuryError("not_found", `no data file ${path}`, {
      where: "--data",
      hint: "give a CSV or Parquet file",
    });
  }
  const targetK = options.k ?? 5;
  const source = path.endsWith(".parquet") ? `read_parquet(${quoteLiteral(path)})` : `read_csv(${quoteLiteral(path)})`;
  return await withDuckDB(async (c) => {
    await c.run(`CREATE TABLE t AS SELECT * FROM ${source}`);
    const rows = Number((await c.runAndReadAll("SELECT count(*) FROM t")).getRows()[0]![0]);
    const schema = (await c.runAndReadAll("DESCRIBE t")).getRowObjects();
    const columns: ColumnFinding[] = [];
    for (const col of schema) {
      const name = String(col.column_name), type = String(col.column_type), q = quoteIdent(name);
      const samples = (await c.runAndReadAll(
        `SELECT CAST(${q} AS VARCHAR) FROM t WHERE ${q} IS NOT NULL USING SAMPLE 200 ROWS`,
      )).getRows().map((r) => String(r[0]));
      const distinct = Number((await c.runAndReadAll(`SELECT count(DISTINCT ${q}) FROM t`)).getRows()[0]![0]);
      const m = matchRule(name, samples);
      columns.push({
        name,
        type,
        distinct,
        ...(m
          ? {
            role: m.rule.role,
            rule: { id: m.rule.id, label: m.rule.label, hipaa: m.rule.hipaa, gdpr: m.rule.gdpr },
            by: m.by,
          }
          : {}),
      });
    }
    const names = new Set(columns.map((x) => x.name));
    for (const x of [...(options.quasi ?? []), ...(options.sensitive ? [options.sensitive] : [])]) {
      if (!names.has(x)) {
        throw new MercuryError("usage", `no column "${x}" in ${path}`, {
          where: "--quasi/--sensitive",
          hint: `columns: ${[...names].join(", ")}`,
        });
      }
    }
    const quasi = options.quasi ?? columns.filter((x) => x.role === "quasi-identifier").map((x) => x.name);
    const sensitive = options.sensitive ?? columns.find((x) => x.role === "sensitive attribute")?.name;
    const measure = async (exprs: Record<string, string>): Promise<Anonymity> => {
      if (quasi.length === 0) return { quasi, classes: rows > 0 ? 1 : 0, k: rows, rowsBelowK: 0 };
      const keys = quasi.map((qi) => exprs[qi] ?? quoteIdent(qi));
      const l = sensitive ? `, count(DISTINCT ${quoteIdent(sensitive)}) AS l` : "";
      const r = (await c.runAndReadAll(
        `SELECT count(*), min(n), coalesce(sum(CASE WHEN n < ${targetK} THEN n ELSE 0 END), 0)` +
          (sensitive ? ", min(l), count(*) FILTER (WHERE l < 2)" : "") +
          ` FROM (SELECT count(*) AS n${l} FROM t GROUP BY ${keys.join(", ")})`,
      )).getRows()[0]!;
      return {
        quasi,
        classes: Number(r[0]),
        k: Number(r[1]),
        rowsBelowK: Number(r[2]),
        ...(sensitive ? { sensitive, l: Number(r[3]), classesBelowL2: Number(r[4]) } : {}),
      };
    };
    const expressions: Record<string, string> = {};
    for (const qi of quasi) {
      const id = columns.find((x) => x.name === qi)?.rule?.id;
      const gen = RULES.find((r) => r.id === id)?.generalise;
      if (gen) expressions[qi] = gen(quoteIdent(qi));
    }
    return {
      path,
      rows,
      columns,
      targetK,
      raw: await measure({}),
      generalised: { ...(await measure(expressions)), expressions },
    };
  });
}
