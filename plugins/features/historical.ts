/**
 * Point-in-time correct training sets with Feast's semantics: for each entity
 * row, the latest feature row with `event_timestamp ≤ entity time` and
 * `≥ entity time − ttl`, ties broken by the later `created_timestamp`;
 * computed with DuckDB `ASOF LEFT JOIN`s.
 *
 * Entity times are compared as instants (see `instant.ts`): a string's offset
 * is honoured, a string without one is UTC, a `Date` or epoch milliseconds is
 * its instant, a `TIMESTAMPTZ` column is converted to UTC; the machine's `TZ`
 * plays no part.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { type FeatureView, type OnDemandFeatureView, parseRef } from "./definitions.ts";
import type { OfflineStore } from "./offline_store.ts";
import { expandRefs, groupRefsByView } from "./validate.ts";
import { quoteIdent as ident } from "@mercury/core/sql";
import { loadRows, rows as readRows } from "./_duck.ts";
import { instantLiteral, instantSql, toInstantString, useUtc } from "./instant.ts";

/** The entity table: rows (objects) or a DuckDB relation (`read_parquet('…')`, a table name). */
export type EntityInput = Record<string, unknown>[] | { relation: string };

/** Options of {@linkcode historicalSql} and {@linkcode getHistoricalFeatures}. */
export interface HistoricalOptions {
  /** Name of the entity table's time column (default `event_timestamp`). */
  timestampField?: string;
  /** Name output columns `view__feature` (default: the feature name, an error on clashes). */
  fullFeatureNames?: boolean;
  /** Without an entity table: only feature rows in [start, end]. */
  start?: Date;
  end?: Date;
  /**
   * Keep the entity table's row order (default true). `false` leaves the rows in the order the joins produce them —
   * like a plain ASOF join or Feast's offline stores — and saves the row numbering and the final sort (about a tenth
   * of the join's CPU time in `bench:features`); {@linkcode writeTrainingSet} defaults to `false`.
   */
  keepOrder?: boolean;
}

interface Plan {
  sql: string;
  /** The same query with the entity row's position first, as `__row` (1-based, the entity table's order). */
  sqlWithRow: string;
  columns: string[];
  odfvs: OnDemandFeatureView[];
}

/** Feature references, or a feature service whose features are wanted (like Feast's `features=feature_service`). */
export type FeatureRefs = string[] | { featureService: string };

function serviceRefs(store: OfflineStore, refs: FeatureRefs): string[] {
  if (Array.isArray(refs)) return refs;
  const s = (store.repo.services ?? []).find((x) => x.name === refs.featureService);
  if (!s) {
    throw new MercuryError("not_found", `no feature service "${refs.featureService}"`, {
      where: "featureService",
      hint: `services: ${(store.repo.services ?? []).map((x) => x.name).join(", ") || "none"}`,
    });
  }
  return s.features;
}

function groupRefs(
  store: OfflineStore,
  refs: string[],
): { views: Map<FeatureView, string[]>; odfvs: OnDemandFeatureView[] } {
  const odfvAll = store.repo.onDemandViews ?? [];
  const expanded = expandRefs(refs, store.repo.views, odfvAll, "getHistoricalFeatures");
  const { views, odfvs } = groupRefsByView(expanded, store.repo.views, odfvAll);
  return { views, odfvs: [...odfvs.keys()] };
}

async function entityRelation(
  store: OfflineStore,
  entities: EntityInput | undefined,
  views: FeatureView[],
  tsField: string,
  options: HistoricalOptions,
): Promise<string> {
  const c = store.connection;
  if (entities === undefined) {
    // No entity table: every (keys, event time) of the referenced views' own rows.
    const keys = store.joinKeys(views[0]!);
    for (const v of views) {
      if (store.joinKeys(v).join(",") !== keys.join(",")) {
        throw new MercuryError(
          "input",
          `a training set without an entity table needs views with one set of join keys`,
          {
            where: `feature view "${v.name}".entities`,
            hint: `"${views[0]!.name}" joins on ${keys.join(", ")}, "${v.name}" on ${store.joinKeys(v).join(", ")}`,
          },
        );
      }
    }
    const where = [
      options.start ? `event_timestamp >= ${instantLiteral(options.start)}` : "true",
      options.end ? `event_timestamp <= ${instantLiteral(options.end)}` : "true",
    ].join(" and ");
    const parts = await Promise.all(
      views.map(async (v) =>
        `select ${keys.map(ident).join(", ")}, event_timestamp as ${ident(tsField)} from ${await store.relation(
          v.name,
        )} where ${where}`
      ),
    );
    await c.run(`create or replace temp table __entities as select distinct * from (${parts.join(" union all ")})`);
    return "__entities";
  }
  if (Array.isArray(entities)) {
    if (entities.length === 0) throw new MercuryError("input", "the entity table is empty", { where: "entity rows" });
    const first = entities[0]!;
    if (!(tsField in first)) {
      throw new MercuryError("input", `the entity table has no "${tsField}" column`, {
        where: "entity rows[0]",
        hint: "each entity row needs the time at which its features are wanted",
      });
    }
    const columns: Record<string, string> = {};
    for (const [k, v] of Object.entries(first)) {
      const e = store.repo.entities.find((x) => x.joinKey === k);
      columns[k] = k === tsField
        ? "VARCHAR" // read as an instant below
        : e
        ? (e.valueType === "int64" ? "BIGINT" : "VARCHAR")
        : typeof v === "number"
        ? "DOUBLE"
        : typeof v === "boolean"
        ? "BOOLEAN"
        : "VARCHAR";
    }
    const texts = entities.map((r, i) => toInstantString(r[tsField], `entity rows[${i}].${tsField}`));
    try {
      await loadRows(
        c,
        "__entities",
        entities.map((r, i) => ({ ...r, [tsField]: texts[i] })),
        columns,
        { [tsField]: instantSql(ident(tsField), "VARCHAR") },
      );
    } catch (err) {
      const msg = (err as Error).message;
      const bad = /timestamp field format: "(.*?)"/.exec(msg)?.[1];
      if (bad === undefined && !/Conversion Error/i.test(msg)) throw err;
      const i = bad === undefined ? -1 : texts.indexOf(bad);
      const row = i >= 0 ? `entity row ${i}` : "an entity row";
      throw new MercuryError(
        "input",
        `${row}'s "${tsField}" is not a timestamp${bad ? `: ${JSON.stringify(bad)}` : ""}`,
        {
          where: `entity rows${i >= 0 ? `[${i}]` : ""}.${tsField}`,
          hint: "give an ISO string (an offset is honoured, none means UTC), a Date or epoch milliseconds",
          cause: err,
        },
      );
    }
    const nulls = await readRows(c, `select count(*) as n from __entities where ${ident(tsField)} is null`);
    if (Number(nulls[0]!.n) > 0) {
      throw new MercuryError("input", `${nulls[0]!.n} entity rows have no "${tsField}"`, {
        where: `entity rows.${tsField}`,
        hint: "give every row a timestamp (ISO string, Date or epoch ms)",
      });
    }
    return "__entities";
  }
  return entities.relation;
}

/**
 * Builds the point-in-time SQL (without running it); `getHistoricalFeatures`
 * runs it. Exposed for benchmarks that write the result straight to Parquet.
 */
export async function historicalSql(
  store: OfflineStore,
  entities: EntityInput | undefined,
  featureRefs: FeatureRefs,
  options: HistoricalOptions = {},
): Promise<Plan> {
  const tsField = options.timestampField ?? "event_timestamp";
  await useUtc(store.connection);
  const { views, odfvs } = groupRefs(store, serviceRefs(store, featureRefs));
  const viewList = [...views.keys()];
  const entity = await entityRelation(store, entities, viewList, tsField, options);
  const desc = await store.connection.runAndReadAll(`describe select * from ${entity}`);
  const entityTypes = new Map(desc.getRowObjectsJS().map((r) => [String(r.column_name), String(r.column_type)]));
  const entityCols = [...entityTypes.keys()];
  if (!entityCols.includes(tsField)) {
    throw new MercuryError("input", `the entity table has no "${tsField}" column`, {
      where: `entity table ${entity}`,
      hint: "each entity row needs the time at which its features are wanted",
    });
  }
  // __at: the entity time as an instant (a UTC TIMESTAMP), whatever the column's type; the column itself is kept.
  const at = instantSql(ident(tsField), entityTypes.get(tsField)!);
  // The entity times' range, as literals: the views are read only within it (a Parquet scan skips row groups outside
  // it), and the entity relation is read once by the join instead of again by a subquery per view.
  const range = (await store.connection.runAndReadAll(
    `select strftime(min(${at}), '%Y-%m-%d %H:%M:%S.%f') as lo, strftime(max(${at}), '%Y-%m-%d %H:%M:%S.%f') as hi from ${entity}`,
  )).getRowObjectsJS()[0] ?? {};
  const lo = range.lo == null ? "NULL::TIMESTAMP" : `TIMESTAMP '${range.lo}'`;
  const hi = range.hi == null ? "NULL::TIMESTAMP" : `TIMESTAMP '${range.hi}'`;
  const keepOrder = options.keepOrder ?? true;
  const e = (withRow: boolean) =>
    `__e as (select *, ${at} as __at${withRow ? ", row_number() over () as __row" : ""} from ${entity})`;
  const ctes: string[] = [];
  const joins: string[] = [];
  const selects: string[] = ["__e.* exclude (__at)"];
  const columns = [...entityCols];
  const seen = new Set(entityCols);
  for (const [i, [view, feats]] of viewList.map((v) => [v, views.get(v)!] as const).entries()) {
    const keys = store.joinKeys(view);
    for (const k of keys) {
      if (!entityCols.includes(k)) {
        throw new MercuryError("input", `the entity table has no join key "${k}" for feature view "${view.name}"`, {
          where: `entity table column ${k}`,
          hint: `columns: ${entityCols.join(", ")}`,
        });
      }
    }
    const a = `__v${i}`;
    const rel = await store.relation(view.name);
    const featCols = feats.map(ident).join(", ");
    // The offline store keeps one row per (keys, event time) — the latest created — so ASOF has no ties to break.
    const bounds = view.ttlSeconds > 0
      ? `where event_timestamp >= ${lo} - interval ${view.ttlSeconds} seconds and event_timestamp <= ${hi}`
      : `where event_timestamp <= ${hi}`;
    ctes.push(
      `${a} as (select ${keys.map(ident).join(", ")}, event_timestamp as __ts, ${featCols} from ${rel} ${bounds})`,
    );
    joins.push(
      `asof left join ${a} on ${
        keys.map((k) => `__e.${ident(k)} = ${a}.${ident(k)}`).join(" and ")
      } and __e.__at >= ${a}.__ts`,
    );
    for (const f of feats) {
      const out = options.fullFeatureNames ? `${view.name}__${f}` : f;
      if (seen.has(out)) {
        throw new MercuryError("input", `two features would be named "${out}" in the training set`, {
          where: `feature view "${view.name}".${f}`,
          hint: "pass fullFeatureNames: true to name columns view__feature",
        });
      }
      seen.add(out);
      columns.push(out);
      const fresh = view.ttlSeconds > 0
        ? `${a}.__ts >= __e.__at - interval ${view.ttlSeconds} seconds`
        : `${a}.__ts is not null`;
      selects.push(`case when ${fresh} then ${a}.${ident(f)} end as ${ident(out)}`);
    }
  }
  const query = (sel: string[], withRow: boolean) =>
    `with ${[e(withRow), ...ctes].join(",\n")}\nselect ${sel.join(", ")} from __e\n${joins.join("\n")}${
      withRow ? "\norder by __e.__row" : ""
    }`;
  const rowSelects = ["__e.__row", "__e.* exclude (__at, __row)", ...selects.slice(1)];
  return {
    sql: keepOrder ? query(["__e.* exclude (__at, __row)", ...selects.slice(1)], true) : query(selects, false),
    sqlWithRow: query(rowSelects, true),
    columns,
    odfvs,
  };
}

/**
 * Returns the training set as row objects: the entity rows plus one column per
 * feature (point-in-time correct), plus the on-demand features asked for.
 *
 * @example
 * ```ts ignore
 * const rows = await getHistoricalFeatures(store, [{ card_id: 1, event_timestamp: "2024-01-02" }], ["card_stats:*"]);
 * ```
 */
export async function getHistoricalFeatures(
  store: OfflineStore,
  entities: EntityInput | undefined,
  featureRefs: FeatureRefs,
  options: HistoricalOptions = {},
): Promise<Record<string, unknown>[]> {
  const plan = await historicalSql(store, entities, featureRefs, options);
  const out = await readRows(store.connection, plan.sql);
  for (const o of plan.odfvs) {
    for (const row of out) {
      const input: Record<string, unknown> = { ...row };
      for (const ref of o.inputs) {
        const { view, feature } = parseRef(ref);
        input[feature] = row[options.fullFeatureNames ? `${view}__${feature}` : feature];
      }
      const res = o.transform(input);
      for (const f of o.features) row[options.fullFeatureNames ? `${o.name}__${f.name}` : f.name] = res[f.name] ?? null;
    }
  }
  return out;
}
