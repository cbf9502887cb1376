/**
 * Training sets written by DuckDB straight to a file: the point-in-time join
 * of {@linkcode historicalSql} goes through `COPY (…) TO` into Parquet (or
 * CSV), so no JavaScript row is built for the entity rows or the view
 * features. On-demand features (TypeScript transforms) are the exception:
 * only their input columns are read into JavaScript, a page at a time, and
 * their outputs are joined back in DuckDB before the file is written.
 *
 * The file appears whole or not at all: DuckDB writes a temporary file in
 * the output's directory, which is renamed over the output at the end.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { parseRef } from "./definitions.ts";
import { DUCK_TYPES, ident, lit, loadRows, rows as readRows } from "./_duck.ts";
import { type EntityInput, type FeatureRefs, type HistoricalOptions, historicalSql } from "./historical.ts";
import type { OfflineStore } from "./offline_store.ts";

/** What {@linkcode writeTrainingSet} wrote. */
export interface TrainingSetReport {
  path: string;
  rows: number;
  columns: string[];
  format: "parquet" | "csv";
  seconds: number;
}

/** Rows of on-demand inputs read into JavaScript at a time. */
const ODFV_PAGE = 50_000;

/** The output format of a path: `.csv` is CSV, `.parquet` (or `.pq`) Parquet. */
export function trainingSetFormat(path: string): "parquet" | "csv" {
  if (/\.csv$/i.test(path)) return "csv";
  if (/\.(parquet|pq)$/i.test(path)) return "parquet";
  throw new MercuryError("usage", `output "${path}" is neither .parquet nor .csv`, {
    where: "--output",
    hint: "name the training set file train.parquet (or train.csv)",
  });
}

/**
 * The DuckDB relation of an entity file (Parquet or CSV), checked readable.
 *
 * @example
 * ```ts ignore
 * await writeTrainingSet(store, await entityFile("entities.parquet"), { featureService: "fraud_v1" }, "train.parquet");
 * ```
 */
export async function entityFile(path: string): Promise<EntityInput> {
  try {
    const st = await Deno.stat(path);
    if (!st.isFile) throw new Error("not a file");
    (await Deno.open(path)).close();
  } catch (err) {
    throw new MercuryError("input", `cannot read the entity file "${path}": ${(err as Error).message}`, {
      where: "--entities",
      hint: "give a readable Parquet or CSV file with the join keys and an event_timestamp column",
    });
  }
  if (/\.csv$/i.test(path)) return { relation: `read_csv(${lit(path)}, header = true)` };
  return { relation: `read_parquet(${lit(path)})` };
}

/**
 * Computes the training set and writes it to `path` (Parquet, or CSV for a
 * `.csv` path) with DuckDB's `COPY … TO`; the same rows, in the same order,
 * as {@linkcode getHistoricalFeatures} returns.
 */
export async function writeTrainingSet(
  store: OfflineStore,
  entities: EntityInput | undefined,
  refs: FeatureRefs,
  path: string,
  options: HistoricalOptions = {},
): Promise<TrainingSetReport> {
  const t0 = performance.now();
  const format = trainingSetFormat(path);
  const c = store.connection;
  const plan = await historicalSql(store, entities, refs, options);
  let query = plan.sql;
  const columns = [...plan.columns];
  if (plan.odfvs.length) {
    await c.run(`create or replace temp table __train as ${plan.sqlWithRow}`);
    const have = new Set(
      (await c.runAndReadAll(`describe __train`)).getRowObjectsJS().map((r) => String(r.column_name)),
    );
    const name = (view: string, f: string) => options.fullFeatureNames ? `${view}__${f}` : f;
    const inputs = new Map<string, string>(); // column of __train → name the transform reads
    const outTypes: Record<string, string> = { __row: "BIGINT" };
    for (const o of plan.odfvs) {
      for (const r of o.request ?? []) {
        if (!have.has(r.name)) {
          throw new MercuryError("input", `the entity table has no "${r.name}" column for on-demand view "${o.name}"`, {
            where: `entity table column ${r.name}`,
            hint: `on-demand view "${o.name}" needs request data ${(o.request ?? []).map((x) => x.name).join(", ")}`,
          });
        }
        inputs.set(r.name, r.name);
      }
      for (const ref of o.inputs) {
        const { view, feature } = parseRef(ref);
        const col = name(view, feature);
        if (have.has(col)) inputs.set(col, feature);
      }
      for (const f of o.features) outTypes[name(o.name, f.name)] = DUCK_TYPES[f.type] ?? "VARCHAR";
    }
    const total = Number((await readRows(c, `select count(*) as n from __train`))[0]!.n);
    const out: Record<string, unknown>[] = [];
    const sel = ["__row", ...inputs.keys()].map(ident).join(", ");
    for (let from = 1; from <= total; from += ODFV_PAGE) {
      const page = await readRows(
        c,
        `select ${sel} from __train where __row >= ${from} and __row < ${from + ODFV_PAGE} order by __row`,
      );
      for (const row of page) {
        const res: Record<string, unknown> = { __row: row.__row };
        for (const o of plan.odfvs) {
          const input: Record<string, unknown> = {};
          for (const [col, as] of inputs) input[as] = row[col];
          const r = o.transform(input);
          for (const f of o.features) res[name(o.name, f.name)] = r[f.name] ?? null;
        }
        out.push(res);
      }
    }
    await loadRows(c, "__odfv", out, outTypes);
    const odfvCols = Object.keys(outTypes).filter((k) => k !== "__row");
    columns.push(...odfvCols.filter((k) => !columns.includes(k)));
    query = `select __train.* exclude (__row), ${
      odfvCols.map((k) => `__odfv.${ident(k)}`).join(", ")
    } from __train left join __odfv using (__row) order by __train.__row`;
  }
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) || "/" : ".";
  const tmp = `${dir}/.${path.slice(path.lastIndexOf("/") + 1)}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    await c.run(
      `copy (${query}) to ${lit(tmp)} (format ${format === "csv" ? "csv, header true" : "parquet"})`,
    );
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    if (err instanceof MercuryError) throw err;
    if (/No such file or directory|cannot open file|Permission denied/i.test((err as Error).message)) {
      throw new MercuryError("input", `cannot write the training set "${path}": ${(err as Error).message}`, {
        where: "--output",
        hint: "give a path in an existing, writable directory",
        cause: err,
      });
    }
    throw err;
  } finally {
    if (plan.odfvs.length) await c.run(`drop table if exists __train; drop table if exists __odfv`).catch(() => {});
  }
  const n = Number(
    (await readRows(
      c,
      `select count(*) as n from ${format === "csv" ? "read_csv" : "read_parquet"}(${lit(path)})`,
    ))[0]!.n,
  );
  return { path, rows: n, columns, format, seconds: (performance.now() - t0) / 1000 };
}

/** The JSON body of `POST /training-set`: entities columnar, like `/get-online-features`. */
export interface TrainingSetRequest {
  featureService?: string;
  features?: string[];
  /** Column name → values (join keys, the time column, request data). */
  entities: Record<string, unknown[]>;
  timestampField?: string;
  fullFeatureNames?: boolean;
  /** `parquet` (default) or `csv`. */
  format?: "parquet" | "csv";
}

/** A training set as file bytes and their content type. */
export interface TrainingSetFile {
  bytes: Uint8Array<ArrayBuffer>;
  contentType: string;
}

/**
 * The handler behind `POST /training-set`: the entity columns become a DuckDB
 * table, DuckDB writes the training set to a temporary file, whose bytes are
 * the answer. Requests are served one at a time (one DuckDB connection).
 */
export function trainingSetHandler(store: OfflineStore): (body: Record<string, unknown>) => Promise<TrainingSetFile> {
  let queue: Promise<unknown> = Promise.resolve();
  return (body) => {
    const run = async (): Promise<TrainingSetFile> => {
      const req = body as unknown as TrainingSetRequest;
      const hasService = typeof req.featureService === "string";
      const hasFeatures = Array.isArray(req.features);
      if (hasService === hasFeatures) {
        throw new MercuryError("input", "give one of featureService or features", {
          where: "body",
          hint:
            '{ "featureService": "fraud_v1", "entities": { "card_id": [1], "event_timestamp": ["2024-01-02T00:00:00Z"] } }',
        });
      }
      const cols = req.entities;
      if (!cols || typeof cols !== "object" || Array.isArray(cols) || !Object.keys(cols).length) {
        throw new MercuryError("input", "entities must be an object of columns", {
          where: "body.entities",
          hint: '{ "card_id": [1, 2], "event_timestamp": ["2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"] }',
        });
      }
      const names = Object.keys(cols);
      const n = Array.isArray(cols[names[0]!]) ? cols[names[0]!]!.length : -1;
      for (const k of names) {
        if (!Array.isArray(cols[k]) || cols[k]!.length !== n) {
          throw new MercuryError("input", `entity column "${k}" is not an array of ${n} values`, {
            where: `body.entities.${k}`,
            hint: "every entity column needs one value per entity row",
          });
        }
      }
      const rows = Array.from({ length: n }, (_, i) => Object.fromEntries(names.map((k) => [k, cols[k]![i]])));
      const format = req.format === "csv" ? "csv" : "parquet";
      const dir = await Deno.makeTempDir({ prefix: "mf-train-" });
      try {
        const path = `${dir}/train.${format}`;
        await writeTrainingSet(
          store,
          rows,
          hasService ? { featureService: req.featureService! } : req.features!.map(String),
          path,
          { timestampField: req.timestampField, fullFeatureNames: req.fullFeatureNames === true },
        );
        return {
          bytes: await Deno.readFile(path),
          contentType: format === "csv" ? "text/csv" : "application/vnd.apache.parquet",
        };
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    };
    const p = queue.then(run, run);
    queue = p.catch(() => {});
    return p;
  };
}
