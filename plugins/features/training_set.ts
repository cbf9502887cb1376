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
import { quoteIdent as ident, quoteLiteral as lit } from "@mercury/core/sql";
import { DUCK_TYPES, loadRows, rows as readRows } from "./_duck.ts";
import type { FeatureRepo, ValueType } from "./definitions.ts";
import { checkColumn } from "./online_request.ts";
import { type EntityInput, type FeatureRefs, type HistoricalOptions, historicalSql } from "./historical.ts";
import type { OfflineStore } from "./offline_store.ts";
import { authorizePii, type Caller, type PiiAccess, piiRefs } from "./pii.ts";
import { expandRefs } from "./validate.ts";

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
export async function entityFile(path: string): Promise<{ relation: string }> {
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
 * PII features among a training set's features (a service's, or a list) need the caller's scope, as online
 * (`AccessError` 401/403 otherwise); every such request, granted or not, is recorded in `record.log`.
 */
export function authorizeTrainingSet(
  repo: FeatureRepo,
  refs: FeatureRefs,
  caller: Caller | undefined,
  record: { log?: { record(access: PiiAccess): void }; transport: string; entities: number },
): void {
  const list = Array.isArray(refs)
    ? refs
    : (repo.services ?? []).find((s) => s.name === refs.featureService)?.features ?? [];
  const expanded = expandRefs(list, repo.views, repo.onDemandViews ?? [], "training set");
  authorizePii(piiRefs(repo, expanded), caller, record);
}

/** Whether any of a training set's features is PII (then the entity rows are counted for the access log). */
export function trainingSetHasPii(repo: FeatureRepo, refs: FeatureRefs): boolean {
  const list = Array.isArray(refs)
    ? refs
    : (repo.services ?? []).find((s) => s.name === refs.featureService)?.features ?? [];
  return piiRefs(repo, expandRefs(list, repo.views, repo.onDemandViews ?? [], "training set")).length > 0;
}

/**
 * Computes the training set and writes it to `path` (Parquet, or CSV for a
 * `.csv` path) with DuckDB's `COPY … TO`; the same rows as
 * {@linkcode getHistoricalFeatures} returns. The rows come in the joins' order
 * (like a plain ASOF join, or Feast's offline stores): every entity row once,
 * with its own columns (labels included), but not in the entity table's order
 * unless `keepOrder: true`, which costs a row numbering and a sort.
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
  const keepOrder = options.keepOrder ?? false;
  const plan = await historicalSql(store, entities, refs, { ...options, keepOrder });
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
    } from __train left join __odfv using (__row)${keepOrder ? " order by __train.__row" : ""}`;
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
  /** Rows in the entity columns' order (default false: the join's order). */
  keepOrder?: boolean;
  /** `parquet` (default) or `csv`. */
  format?: "parquet" | "csv";
}

/** A training set as file bytes and their content type. */
export interface TrainingSetFile {
  bytes: Uint8Array<ArrayBuffer>;
  contentType: string;
}

const TRAINING_SET_FIELDS = [
  "featureService",
  "features",
  "entities",
  "timestampField",
  "fullFeatureNames",
  "keepOrder",
  "format",
];
const TRAINING_SET_EXAMPLE =
  '{ "featureService": "fraud_v1", "entities": { "card_id": [1], "event_timestamp": ["2024-01-02T00:00:00Z"] } }';

function badBody(where: string, message: string, hint?: string): never {
  throw new MercuryError("input", message, { where, hint });
}

/**
 * Checks a `POST /training-set` body at the edge and returns it typed: no unknown fields; one of `featureService` (a
 * string) or `features` (a non-empty list of strings); `fullFeatureNames` a boolean, `format` `parquet` or `csv`,
 * `timestampField` a name; `entities` columns of one length (at least one row), each join key of the repo's
 * entities and each request field of its on-demand views holding values of the declared type, every other column
 * scalars. A bad field is a MercuryError (`input`, a 400 over HTTP) naming it and the row, before any work.
 *
 * @example
 * ```ts
 * import { checkTrainingSetRequest, entity, type FeatureRepo } from "@mercury/features";
 * import assert from "node:assert/strict";
 * const repo: FeatureRepo = {
 *   project: "p",
 *   entities: [entity({ name: "card", joinKey: "card_id", valueType: "int64" })],
 *   views: [],
 * };
 * const ok = { features: ["v:a"], entities: { card_id: [1], event_timestamp: ["2024-01-02T00:00:00Z"] } };
 * assert.equal(checkTrainingSetRequest(ok, repo).entities.card_id?.length, 1);
 * assert.throws(() => checkTrainingSetRequest({ ...ok, limit: 5 }, repo), /body\.limit is not a field/);
 * assert.throws(
 *   () => checkTrainingSetRequest({ ...ok, entities: { ...ok.entities, card_id: [[1]] } }, repo),
 *   /body\.entities\.card_id\[0\]: \[1\] is not an int64/,
 * );
 * ```
 */
export function checkTrainingSetRequest(body: Record<string, unknown>, repo: FeatureRepo): TrainingSetRequest {
  for (const k of Object.keys(body)) {
    if (!TRAINING_SET_FIELDS.includes(k)) {
      badBody(
        `body.${k}`,
        `body.${k} is not a field of a training-set request`,
        `the fields are ${TRAINING_SET_FIELDS.join(", ")}`,
      );
    }
  }
  const { featureService, features, fullFeatureNames, keepOrder, format, timestampField, entities } = body;
  if ((featureService === undefined) === (features === undefined)) {
    badBody("body", "give one of featureService or features", TRAINING_SET_EXAMPLE);
  }
  if (featureService !== undefined && (typeof featureService !== "string" || !featureService)) {
    badBody("body.featureService", "body.featureService is not a feature service name", TRAINING_SET_EXAMPLE);
  }
  if (features !== undefined) {
    if (!Array.isArray(features) || !features.length) {
      badBody("body.features", "body.features is not a non-empty list", 'send features: ["view:feature", "view:*"]');
    }
    for (const [i, f] of features.entries()) {
      if (typeof f !== "string") badBody(`body.features[${i}]`, `body.features[${i}] is not a string`);
    }
  }
  if (fullFeatureNames !== undefined && typeof fullFeatureNames !== "boolean") {
    badBody("body.fullFeatureNames", "body.fullFeatureNames is not a boolean", "send true or false");
  }
  if (keepOrder !== undefined && typeof keepOrder !== "boolean") {
    badBody("body.keepOrder", "body.keepOrder is not a boolean", "send true or false");
  }
  if (format !== undefined && format !== "parquet" && format !== "csv") {
    badBody("body.format", `body.format must be parquet or csv, got ${JSON.stringify(format)?.slice(0, 40)}`);
  }
  if (timestampField !== undefined && (typeof timestampField !== "string" || !timestampField)) {
    badBody("body.timestampField", "body.timestampField is not a column name", 'send "event_timestamp"');
  }
  if (!entities || typeof entities !== "object" || Array.isArray(entities) || !Object.keys(entities).length) {
    badBody(
      "body.entities",
      "entities must be an object of columns",
      '{ "card_id": [1, 2], "event_timestamp": ["2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"] }',
    );
  }
  const cols = entities as Record<string, unknown>;
  const names = Object.keys(cols);
  const n = Array.isArray(cols[names[0]!]) ? (cols[names[0]!] as unknown[]).length : -1;
  const keyTypes = new Map<string, ValueType>();
  for (const e of repo.entities) if (!keyTypes.has(e.joinKey)) keyTypes.set(e.joinKey, e.valueType);
  const requestTypes = new Map<string, ValueType>();
  for (const o of repo.onDemandViews ?? []) {
    for (const r of o.request ?? []) if (!requestTypes.has(r.name)) requestTypes.set(r.name, r.type);
  }
  const ts = (timestampField as string | undefined) ?? "event_timestamp";
  for (const k of names) {
    const field = `body.entities.${k}`;
    if (!k || k.startsWith("__")) {
      badBody(field, `entity column name ${JSON.stringify(k)} is empty or reserved (starts with "__")`);
    }
    const vals = cols[k];
    if (!Array.isArray(vals) || vals.length !== n) {
      badBody(
        field,
        `entity column "${k}" is not an array of ${n} values`,
        "every entity column needs one value per entity row",
      );
    }
    const declared = keyTypes.get(k);
    if (declared) checkColumn(field, vals, declared, false);
    else if (requestTypes.has(k)) checkColumn(field, vals, requestTypes.get(k)!, true);
    for (let i = 0; i < vals.length; i++) {
      const v = vals[i];
      const ok = v === null || typeof v === "string" || typeof v === "boolean" ||
        (typeof v === "number" && Number.isFinite(v));
      if (!ok || (k === ts && typeof v === "boolean")) {
        badBody(
          `${field}[${i}]`,
          `${field}[${i}] is not ${k === ts ? "a timestamp" : "a string, a finite number, a boolean or null"}`,
          k === ts ? "give an ISO string (an offset is honoured, none means UTC) or epoch milliseconds" : undefined,
        );
      }
    }
  }
  if (n === 0) badBody("body.entities", "the entity columns hold no rows", "send at least one entity row");
  return body as unknown as TrainingSetRequest;
}

/** Options of {@linkcode trainingSetHandler}. */
export interface TrainingSetHandlerOptions {
  /** Where requests for PII features are recorded (granted or refused); see `pii.ts`. */
  piiLog?: { record(access: PiiAccess): void };
  /**
   * Requests that may be running or waiting at once (default 4); one more is refused at once (`unavailable`, a 503
   * over HTTP) rather than queued, so a client sending many cannot grow the queue without bound.
   */
  maxPending?: number;
}

/**
 * The handler behind `POST /training-set`: the body is checked
 * ({@linkcode checkTrainingSetRequest}), the entity columns become a DuckDB
 * table, DuckDB writes the training set to a temporary file, whose bytes are
 * the answer. Requests are served one at a time (one DuckDB connection), at
 * most `maxPending` running or waiting.
 */
export function trainingSetHandler(
  store: OfflineStore,
  options: TrainingSetHandlerOptions = {},
): (body: Record<string, unknown>, caller?: Caller) => Promise<TrainingSetFile> {
  const maxPending = options.maxPending ?? 4;
  let queue: Promise<unknown> = Promise.resolve();
  let pending = 0;
  return (body, caller) => {
    if (pending >= maxPending) {
      return Promise.reject(
        new MercuryError("unavailable", `the training-set queue is full (${pending} requests running or waiting)`, {
          where: "POST /training-set",
          hint: "retry when the running training sets have finished, or send fewer at once",
        }),
      );
    }
    pending++;
    const run = async (): Promise<TrainingSetFile> => {
      const req = checkTrainingSetRequest(body, store.repo);
      const hasService = req.featureService !== undefined;
      // PII features in a training set need the caller's scope, as online.
      authorizeTrainingSet(store.repo, hasService ? { featureService: req.featureService! } : req.features!, caller, {
        log: options.piiLog,
        transport: "http-training-set",
        entities: Object.values(req.entities)[0]?.length ?? 0,
      });
      const cols = req.entities;
      const names = Object.keys(cols);
      const n = cols[names[0]!]!.length;
      const rows = Array.from({ length: n }, (_, i) => Object.fromEntries(names.map((k) => [k, cols[k]![i]])));
      const format = req.format ?? "parquet";
      const dir = await Deno.makeTempDir({ prefix: "mf-train-" });
      try {
        const path = `${dir}/train.${format}`;
        await writeTrainingSet(
          store,
          rows,
          hasService ? { featureService: req.featureService! } : req.features!,
          path,
          {
            timestampField: req.timestampField,
            fullFeatureNames: req.fullFeatureNames === true,
            keepOrder: req.keepOrder === true,
          },
        );
        return {
          bytes: await Deno.readFile(path),
          contentType: format === "csv" ? "text/csv" : "application/vnd.apache.parquet",
        };
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    };
    const p = queue.then(run, run).finally(() => pending--);
    queue = p.catch(() => {});
    return p;
  };
}
