/**
 * The offline store: DuckDB over the sources (Parquet, CSV, PostgreSQL) and
 * over each feature view's computed rows, kept as date-partitioned Parquet
 * under `<root>/<project>/<env>/<view>/date=YYYY-MM-DD/`.
 *
 * Every time it reads becomes an instant (see `instant.ts`): `event_timestamp`,
 * `created_timestamp` and timestamp features are `TIMESTAMP`s in UTC, whatever
 * the source's column type (naive, `TIMESTAMPTZ`, offset text) and whatever
 * the machine's `TZ`; the store sets its DuckDB session's `TimeZone` to UTC.
 *
 * @module
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import { MercuryError, stateDir } from "@mercury/core";
import { copyQueryToCsv, type Sql } from "@mercury/core/services/postgres";
import type { DataSource, FeatureRepo, FeatureView } from "./definitions.ts";
import type { Environment } from "./registry.ts";
import { quoteIdent as ident, quoteLiteral as lit } from "@mercury/core/sql";
import { DUCK_TYPES, loadRows } from "./_duck.ts";
import { instantSql, toInstantString, useUtc } from "./instant.ts";
import { typeCompatible } from "./schema_check.ts";

/** Options of {@linkcode OfflineStore}. */
export interface OfflineStoreOptions {
  connection: DuckDBConnection;
  repo: FeatureRepo;
  env: Environment;
  /** Root folder (default `.mercury/features/offline`). */
  root?: string;
  /** PostgreSQL, for `postgres_source`s. */
  sql?: Sql;
}

/**
 * Computes feature views into Parquet and reads them back as DuckDB relations.
 *
 * @example
 * ```ts ignore
 * const store = new OfflineStore({ connection: db.connection, repo, env: "dev" });
 * await store.compute("card_stats");
 * const rel = await store.relation("card_stats"); // read_parquet(…)
 * ```
 */
export class OfflineStore {
  readonly connection: DuckDBConnection;
  readonly repo: FeatureRepo;
  readonly env: Environment;
  readonly root: string;
  readonly sql: Sql | undefined;
  #loaded = new Set<string>();

  constructor(options: OfflineStoreOptions) {
    this.connection = options.connection;
    this.repo = options.repo;
    this.env = options.env;
    this.root = options.root ?? `${stateDir()}/features/offline`;
    this.sql = options.sql;
  }

  /** The view definition, or a `not_found` error naming it. */
  view(name: string): FeatureView {
    const v = this.repo.views.find((x) => x.name === name);
    if (!v) {
      throw new MercuryError("not_found", `no feature view "${name}" in repo ${this.repo.project}`, {
        hint: `views: ${this.repo.views.map((x) => x.name).join(", ")}`,
      });
    }
    return v;
  }

  /** The join keys of a view, in entity order. */
  joinKeys(view: FeatureView): string[] {
    return view.entities.map((e) => this.repo.entities.find((x) => x.name === e)!.joinKey);
  }

  /** The folder holding a view's Parquet partitions. */
  dir(view: string): string {
    return `${this.root}/${this.repo.project}/${this.env}/${view}`;
  }

  /** A SQL relation reading a source. PostgreSQL tables are copied into a DuckDB temp table first. */
  async sourceRelation(source: DataSource): Promise<string> {
    switch (source.kind) {
      case "file_source":
        return source.format === "parquet"
          ? `read_parquet(${lit(source.path)}, hive_partitioning = true)`
          : `read_csv(${lit(source.path)}, header = true, auto_detect = true)`;
      case "kafka_source":
        return await this.sourceRelation(source.batchSource);
      case "postgres_source": {
        const table = `pg_${source.name}`;
        if (!this.#loaded.has(table)) {
          if (!this.sql) {
            throw new MercuryError(
              "config",
              `source "${source.name}" is a PostgreSQL table but no connection was given`,
              {
                hint: "pass sql to the OfflineStore",
              },
            );
          }
          await this.#copyFromPostgres(source.table, table);
          this.#loaded.add(table);
        }
        return ident(table);
      }
    }
  }

  /** Copies a PostgreSQL table into DuckDB through a temporary CSV file (a cursor read, {@linkcode copyQueryToCsv}). */
  async #copyFromPostgres(pgTable: string, duckTable: string): Promise<void> {
    const sql = this.sql!;
    const quoted = pgTable.split(".").map(ident).join(".");
    let cols: { column_name: string; data_type: string }[];
    try {
      const [schema, name] = pgTable.includes(".") ? pgTable.split(".") : ["public", pgTable];
      cols = await sql`select column_name, data_type from information_schema.columns
        where table_schema = ${schema!} and table_name = ${name!} order by ordinal_position` as unknown as typeof cols;
    } catch (err) {
      throw new MercuryError("unavailable", `cannot read ${pgTable}: ${(err as Error).message}`, { cause: err });
    }
    if (cols.length === 0) {
      throw new MercuryError("not_found", `PostgreSQL table ${pgTable} does not exist`, { where: pgTable });
    }
    const pgToDuck = (t: string) =>
      ({
        bigint: "BIGINT",
        integer: "INTEGER",
        smallint: "SMALLINT",
        "double precision": "DOUBLE",
        real: "FLOAT",
        numeric: "DOUBLE",
        boolean: "BOOLEAN",
        "timestamp with time zone": "TIMESTAMPTZ",
        "timestamp without time zone": "TIMESTAMP",
        date: "DATE",
      })[t] ?? "VARCHAR";
    const tmp = await Deno.makeTempFile({ suffix: ".csv" });
    try {
      // Not `COPY … TO STDOUT`: postgres.js 3.4.9's COPY readable can leave the pooled connection's socket paused
      // (porsager/postgres#499) and the pool's next query never answers (tests/features/pg_copy_hazard_test.ts).
      await copyQueryToCsv(sql, `select * from ${quoted}`, tmp);
      const spec = cols.map((c) => `${lit(c.column_name)}: ${lit(pgToDuck(c.data_type))}`).join(", ");
      await this.connection.run(
        `create or replace temp table ${ident(duckTable)} as select * from read_csv(${
          lit(tmp)
        }, header = true, columns = {${spec}})`,
      );
    } finally {
      await Deno.remove(tmp).catch(() => {});
    }
  }

  /**
   * The SQL computing a view's rows in the normal form: join keys, event_timestamp, created_timestamp, features;
   * times as instants (UTC `TIMESTAMP`s).
   */
  async viewSql(view: FeatureView): Promise<string> {
    await useUtc(this.connection);
    const src = await this.sourceRelation(view.source);
    const ts = view.source.timestampField;
    const created = view.source.kind !== "kafka_source" ? view.source.createdTimestampField : undefined;
    let base: string;
    if (view.sql) base = `(${view.sql.replaceAll("{source}", src)})`;
    else if (view.transform) base = ident(await this.#runTransform(view, src));
    else base = src;
    const types = await this.#checkColumns(view, base);
    const keys = this.joinKeys(view);
    const instant = (col: string) => instantSql(ident(col), types.get(col) ?? "TIMESTAMP");
    const cols = [
      ...keys.map(ident),
      `${instant(ts)} as event_timestamp`,
      created ? `${instant(created)} as created_timestamp` : `cast(null as TIMESTAMP) as created_timestamp`,
      ...view.features.map((f) =>
        `${f.type === "timestamp" ? instant(f.name) : `cast(${ident(f.name)} as ${DUCK_TYPES[f.type]})`} as ${
          ident(f.name)
        }`
      ),
    ];
    return `select ${cols.join(", ")} from ${base} where ${ident(ts)} is not null`;
  }

  async #runTransform(view: FeatureView, src: string): Promise<string> {
    const r = await this.connection.runAndReadAll(`select * from ${src}`);
    const input = r.getRowObjectsJS() as Record<string, unknown>[];
    let output: Record<string, unknown>[];
    try {
      output = view.transform!(input);
    } catch (err) {
      throw new MercuryError("input", `transform of feature view "${view.name}" failed: ${(err as Error).message}`, {
        where: `feature view "${view.name}".transform`,
        cause: err,
      });
    }
    const columns: Record<string, string> = {};
    for (const k of this.joinKeys(view)) {
      const e = this.repo.entities.find((x) => x.joinKey === k)!;
      columns[k] = e.valueType === "int64" ? "BIGINT" : "VARCHAR";
    }
    for (const f of view.features) columns[f.name] = DUCK_TYPES[f.type];
    // Times the transform returns (Date, epoch ms, text with or without an offset) are loaded as text and read as
    // instants, like entity rows.
    const created = view.source.kind !== "kafka_source" ? view.source.createdTimestampField : undefined;
    const times = [
      view.source.timestampField,
      ...(created ? [created] : []),
      ...view.features.filter((f) => f.type === "timestamp").map((f) => f.name),
    ];
    const replace: Record<string, string> = {};
    for (const k of times) {
      columns[k] = "VARCHAR";
      replace[k] = instantSql(ident(k), "VARCHAR");
    }
    const rows = output.map((r, i) => {
      const o = { ...r };
      for (const k of times) o[k] = toInstantString(r[k], `feature view "${view.name}".transform row ${i}.${k}`);
      return o;
    });
    const table = `tf_${view.name}`;
    try {
      await loadRows(this.connection, table, rows, columns, replace);
    } catch (err) {
      if (!/Conversion Error/i.test((err as Error).message)) throw err;
      throw new MercuryError(
        "input",
        `transform of feature view "${view.name}" returned a time that is not a timestamp: ${
          (err as Error).message.split("\n")[0]
        }`,
        {
          where: `feature view "${view.name}".transform`,
          hint: "return ISO strings (an offset is honoured, none means UTC), Dates or epoch milliseconds",
          cause: err,
        },
      );
    }
    return table;
  }

  /**
   * Checks that the computed relation has every join key, the timestamp and each feature with a compatible type;
   * returns the column types.
   */
  async #checkColumns(view: FeatureView, base: string): Promise<Map<string, string>> {
    const r = await this.connection.runAndReadAll(`describe select * from ${base}`);
    const types = new Map(r.getRowObjectsJS().map((x) => [String(x.column_name), String(x.column_type)]));
    const obj = `feature view "${view.name}"`;
    for (const k of [...this.joinKeys(view), view.source.timestampField]) {
      if (!types.has(k)) {
        throw new MercuryError("input", `${obj}: column "${k}" is missing from its source`, {
          where: `${obj}.source`,
          hint: `columns: ${[...types.keys()].join(", ")}`,
        });
      }
    }
    for (const f of view.features) {
      const actual = types.get(f.name);
      if (!actual) {
        throw new MercuryError("input", `${obj}: feature "${f.name}" is not a column of its source`, {
          where: `${obj}.features.${f.name}`,
          hint: `columns: ${[...types.keys()].join(", ")}`,
        });
      }
      if (!typeCompatible(f.type, actual)) {
        throw new MercuryError(
          "input",
          `${obj}: feature "${f.name}" is declared ${f.type} but the source has ${actual}`,
          {
            where: `${obj}.features.${f.name}.type`,
            hint: "fix the declared type or cast in the view's sql",
          },
        );
      }
    }
    return types;
  }

  /**
   * Computes a view and writes it as date-partitioned Parquet; the new files
   * replace the old ones only once complete (temp folder + rename).
   */
  async compute(name: string): Promise<{ rows: number; dir: string }> {
    const view = this.view(name);
    const select = await this.viewSql(view);
    const keys = this.joinKeys(view).map(ident).join(", ");
    const dir = this.dir(name);
    const tmp = `${dir}.tmp-${crypto.randomUUID().slice(0, 8)}`;
    await Deno.mkdir(tmp, { recursive: true });
    try {
      const r = await this.connection.runAndReadAll(
        // One row per (keys, event time): the later created_timestamp wins, as in Feast; training sets and
        // materialisation then read rows that are already unique.
        `copy (select *, strftime(event_timestamp, '%Y-%m-%d') as date from (${select})
           qualify row_number() over (partition by ${keys}, event_timestamp order by created_timestamp desc nulls last) = 1)
         to ${lit(tmp)} (format parquet, partition_by (date), overwrite_or_ignore true)`,
      );
      const rows = Number(r.getRows()[0]?.[0] ?? 0);
      const old = `${dir}.old-${crypto.randomUUID().slice(0, 8)}`;
      const had = await Deno.stat(dir).then(() => true, () => false);
      if (had) await Deno.rename(dir, old);
      await Deno.rename(tmp, dir);
      if (had) await Deno.remove(old, { recursive: true });
      return { rows, dir };
    } catch (err) {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
      throw err;
    }
  }

  /** A relation over a view's computed rows, computing it first if needed. */
  async relation(name: string): Promise<string> {
    const exists = await Deno.stat(this.dir(name)).then(() => true, () => false);
    if (!exists) await this.compute(name);
    return `read_parquet(${lit(`${this.dir(name)}/*/*.parquet`)}, hive_partitioning = true, union_by_name = true)`;
  }

  /** Deletes date partitions older than the view's `retentionDays`; returns the pruned partitions. */
  async prune(name: string, now = new Date()): Promise<string[]> {
    const view = this.view(name);
    if (!view.retentionDays) return [];
    const cutoff = new Date(now.getTime() - view.retentionDays * 86_400_000).toISOString().slice(0, 10);
    const pruned: string[] = [];
    try {
      for await (const e of Deno.readDir(this.dir(name))) {
        const m = /^date=(\d{4}-\d{2}-\d{2})$/.exec(e.name);
        if (e.isDirectory && m && m[1]! < cutoff) {
          await Deno.remove(`${this.dir(name)}/${e.name}`, { recursive: true });
          pruned.push(m[1]!);
        }
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return pruned.sort();
  }
}
