/**
 * `privacy sql "<query>" --data FILE --epsilon E [--unit COL] [--bounds …]`:
 * one DP SQL query over a CSV/Parquet file (its table is named after the
 * file, or `--table`), charged to the ledger, printed with its errors.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { MercuryError } from "@mercury/core/plugin";
import { quoteIdent, quoteLiteral } from "@mercury/core/sql";
import { tableText } from "@mercury/core/display";
import { openDuckDB } from "@mercury/core/services/duckdb";
import { basename } from "node:path";
import { dpQuery } from "../dpsql/query.ts";
import { Ledger } from "../ledger.ts";
import { parseBounds } from "./analyze.ts";

/** Parses `region=north|south` items into public group keys (undefined when none). */
export function parseKeys(items: readonly string[]): Record<string, string[]> | undefined {
  if (items.length === 0) return undefined;
  const out: Record<string, string[]> = {};
  for (const item of items) {
    const m = /^([^=]+)=(.+)$/.exec(item.trim());
    if (!m) {
      throw new MercuryError("usage", `--keys item '${item}' is not COLUMN=V1|V2|…`, {
        hint: "e.g. --keys region=north|south|east",
      });
    }
    out[m[1]!.trim()] = m[2]!.split("|");
  }
  return out;
}

/** Runs `privacy sql`. */
export async function sql(args: CommandArgs, ctx: CommandContext): Promise<number> {
  const query = args.positionals.join(" ").trim();
  const v = args.values;
  if (!query) throw new MercuryError("usage", "sql needs a query", { hint: `privacy sql "select count(*) from t"` });
  const data = v.data === undefined ? "" : String(v.data);
  if (!data) throw new MercuryError("usage", "sql needs --data FILE", { hint: "--data sensitive_data.csv" });
  try {
    await Deno.stat(data);
  } catch {
    throw new MercuryError("not_found", `cannot read --data ${data}: no such file`, { where: data });
  }
  const table = String(v.table ?? basename(data).replace(/\.[^.]+$/, "").replace(/[^A-Za-z0-9_]/g, "_"));
  using db = await openDuckDB();
  const reader = /\.parquet$/i.test(data) ? "read_parquet" : "read_csv_auto";
  try {
    await db.connection.run(`create table ${quoteIdent(table)} as select * from ${reader}(${quoteLiteral(data)})`);
  } catch (err) {
    throw new MercuryError("input", `cannot read ${data}: ${String((err as Error).message).split("\n")[0]}`, {
      where: data,
    });
  }
  const options = {
    epsilon: Number(v.epsilon),
    delta: v.delta === undefined ? undefined : Number(v.delta),
    privacyUnit: v.unit === undefined ? undefined : String(v.unit),
    bounds: parseBounds((v.bounds as string[] | undefined) ?? []),
    maxRowsPerUnit: v["max-rows"] === undefined ? undefined : Number(v["max-rows"]),
    maxGroupsPerUnit: v["max-groups"] === undefined ? undefined : Number(v["max-groups"]),
    keys: parseKeys((v.keys as string[] | undefined) ?? []),
  };
  let ledger: Ledger | undefined;
  try {
    if (!v["no-ledger"]) ledger = await Ledger.open({ url: ctx.endpoints().postgres.url });
    const a = await dpQuery(db.connection, query, {
      ...options,
      ledger: ledger
        ? {
          ledger,
          dataset: String(v.dataset ?? table),
          analyst: String(v.analyst ?? Deno.env.get("USER") ?? "analyst"),
        }
        : undefined,
    });
    if (v.json) {
      ctx.print(JSON.stringify(a, null, 2));
      return 0;
    }
    const fmt = (x: unknown) => {
      if (x && typeof x === "object" && "value" in x) {
        const d = x as { value: number; ci: [number, number] };
        const h = (d.ci[1] - d.ci[0]) / 2;
        return h > 0 ? `${+d.value.toFixed(3)} ± ${+h.toPrecision(3)}` : String(+d.value.toFixed(3));
      }
      return String(x);
    };
    ctx.print(
      tableText(a.rows.map((r) => Object.fromEntries(a.columns.map((c) => [c, fmt(r[c])]))), { maxRows: 1000 }),
    );
    ctx.print(
      `cost: ε=${a.epsilon}, δ=${a.delta}${ledger ? " (recorded in the ledger)" : ""}; ± is a ${
        a.confidence * 100
      }% interval`,
    );
    return 0;
  } finally {
    await ledger?.close();
  }
}
