/**
 * `privacy analyze --epsilon 1.0 --data sensitive_data.csv`: a DP summary of
 * every column (counts, means, quartiles, histograms) with each answer's
 * error, charged to the PostgreSQL ledger before it runs.
 *
 * @module
 */
import { writeFileAtomic } from "@mercury/core/files";
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { MercuryError } from "@mercury/core/plugin";
import { quoteLiteral } from "@mercury/core/sql";
import { tableText } from "@mercury/core/display";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { basename } from "node:path";
import { analyzeTable, summaryRows, type TableSummary } from "../analyze.ts";
import { Ledger } from "../ledger.ts";

/** Parses `a=0:100,b=-1:1` (or a list of such items) into bounds. */
export function parseBounds(items: readonly string[]): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const item of items) {
    const m = /^([^=]+)=([^:]+):(.+)$/.exec(item.trim());
    const lo = m ? Number(m[2]) : NaN, hi = m ? Number(m[3]) : NaN;
    if (!m || !Number.isFinite(lo) || !Number.isFinite(hi) || !(lo < hi)) {
      throw new MercuryError("usage", `--bounds item '${item}' is not COLUMN=LOWER:UPPER with LOWER < UPPER`, {
        hint: "e.g. --bounds age=0:120,income=0:500000",
      });
    }
    out[m[1]!.trim()] = [lo, hi];
  }
  return out;
}

/** Runs `privacy analyze`. */
export async function analyze(args: CommandArgs, ctx: CommandContext): Promise<number> {
  const v = args.values;
  const data = v.data === undefined ? undefined : String(v.data);
  if (!data) throw new MercuryError("usage", "analyze needs --data FILE", { hint: "--data sensitive_data.csv" });
  try {
    const st = await Deno.stat(data);
    if (!st.isFile) throw new Error("not a file");
  } catch {
    throw new MercuryError("not_found", `cannot read --data ${data}: no such file`, {
      where: data,
      hint: "give a CSV (or Parquet) file",
    });
  }
  const epsilon = Number(v.epsilon), delta = Number(v.delta ?? 1e-6);
  const bounds = parseBounds((v.bounds as string[] | undefined) ?? []);
  using db = await openDuckDB();
  const conn = db.connection;
  const reader = /\.parquet$/i.test(data) ? "read_parquet" : "read_csv_auto";
  try {
    await conn.run(`create table sensitive as select * from ${reader}(${quoteLiteral(data)})`);
  } catch (err) {
    throw new MercuryError("input", `cannot read ${data}: ${String((err as Error).message).split("\n")[0]}`, {
      where: data,
      hint: "a CSV with a header row, or a Parquet file",
    });
  }
  const options = {
    epsilon,
    delta,
    privacyUnit: v.unit === undefined ? undefined : String(v.unit),
    maxRowsPerUnit: v["max-rows"] === undefined ? undefined : Number(v["max-rows"]),
    bounds,
  };
  let summary: TableSummary;
  let spent = "";
  if (v["no-ledger"]) {
    summary = await analyzeTable(conn, "sensitive", options);
    spent = "not recorded (--no-ledger)";
  } else {
    const dataset = String(v.dataset ?? basename(data).replace(/\.[^.]+$/, ""));
    const analyst = String(v.analyst ?? Deno.env.get("USER") ?? "analyst");
    await using ledger = await Ledger.open({ url: ctx.endpoints().postgres.url });
    if ((await ledger.budgets(dataset)).every((b) => b.analyst !== "*")) {
      const budget = { epsilon: Number(v.budget ?? 10), delta: 1e-5 };
      await ledger.setBudget(dataset, budget);
      ctx.print(`no budget was set for '${dataset}': set ε=${budget.epsilon}, δ=${budget.delta}`);
    }
    // ε/δ are checked by analyzeTable too, but the ledger must refuse bad ones before anything runs.
    const r = await ledger.spend({
      dataset,
      analyst,
      query: `privacy analyze --data ${data}`,
      mechanism: "laplace+exponential+partition-selection",
      epsilon,
      delta,
      detail: { data, bounds, privacyUnit: options.privacyUnit ?? null },
    }, () => analyzeTable(conn, "sensitive", options));
    summary = r.value;
    spent = `ε=${epsilon}, δ=${delta} charged to '${dataset}' for ${analyst} (ledger entry ${r.entry.id}); ` +
      `remaining ε=${+r.remaining.epsilon.toFixed(6)}, δ=${r.remaining.delta.toExponential(2)}`;
  }
  const json = JSON.stringify({ data, spent, ...summary }, null, 2);
  if (v.output) await writeFileAtomic(String(v.output), json + "\n", { mkdir: false });
  if (v.json) ctx.print(json);
  else {
    ctx.print(tableText(summaryRows(summary), { maxRows: 1000, title: `DP summary of ${data}` }));
    ctx.print(`budget: ${spent}`);
    ctx.print("± is the half-width of a 95% interval of the noise; quartiles are picked from 201 candidates.");
  }
  return 0;
}
