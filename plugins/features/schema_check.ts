/**
 * Declared feature types checked against what each view's source yields,
 * before anything is written: `plan` lists a mismatch, `apply` refuses it;
 * which DuckDB column types hold which declared type.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import type { FeatureRepo, FeatureView } from "./definitions.ts";

/** A declared type (or column) the view's source does not match; apply refuses the repo while there is one. */
export interface SchemaProblem {
  view: string;
  /** E.g. `feature view "v": feature "a" is declared int64 but the source has VARCHAR`. */
  message: string;
  /** E.g. `feature view "v".features.a.type`. */
  where?: string;
}

/** A view whose source could not be read (no files yet, table missing, database down): its types were not checked. */
export interface SchemaUnchecked {
  view: string;
  reason: string;
}

/**
 * What checks a view's declared types against its source: the offline store, whose `viewSql` describes the view's
 * relation and throws a MercuryError (`input`) naming the view and feature on a mismatch.
 */
export interface ViewSchemaSource {
  viewSql(view: FeatureView): Promise<string>;
}

/**
 * Checks the declared types of the named views against what their sources yield, through `offline.viewSql` (the same
 * check materialisation makes). A view computed by a TypeScript transform is not run here: its rows are loaded with
 * the declared types when it is materialised. A source that cannot be read (no files yet, a missing table, a database
 * down) leaves the view unchecked rather than refused; a mismatch, a missing column or SQL that does not bind on the
 * source is a problem.
 *
 * @example
 * ```ts
 * import { checkViewSchemas, featureView, fileSource } from "@mercury/features";
 * import { MercuryError } from "@mercury/core";
 * import assert from "node:assert/strict";
 * const v = featureView({ name: "v", entities: ["e"], ttlSeconds: 0,
 *   source: fileSource({ name: "s", format: "csv", path: "x.csv", timestampField: "ts" }),
 *   features: [{ name: "a", type: "int64" }] });
 * const offline = {
 *   viewSql(): Promise<string> {
 *     throw new MercuryError("input", 'feature view "v": feature "a" is declared int64 but the source has VARCHAR');
 *   },
 * };
 * const { problems } = await checkViewSchemas({ project: "p", entities: [], views: [v] }, ["v"], offline);
 * assert.match(problems[0]!.message, /declared int64 but the source has VARCHAR/);
 * ```
 */
export async function checkViewSchemas(
  repo: FeatureRepo,
  views: string[],
  offline: ViewSchemaSource,
): Promise<{ problems: SchemaProblem[]; unchecked: SchemaUnchecked[] }> {
  const problems: SchemaProblem[] = [];
  const unchecked: SchemaUnchecked[] = [];
  for (const name of views) {
    const view = repo.views.find((v) => v.name === name);
    if (!view || (view.transform && !view.sql)) continue;
    try {
      await offline.viewSql(view);
    } catch (err) {
      const message = (err as Error)?.message ?? String(err);
      if (err instanceof MercuryError && err.code === "input") {
        problems.push({ view: name, message, where: err.where });
      } else if (err instanceof MercuryError || /^IO Error/.test(message)) {
        unchecked.push({ view: name, reason: message.split("\n")[0]! });
      } else {
        problems.push({
          view: name,
          message: `feature view "${name}": its ${view.sql ? "sql" : "source"} does not run: ${message.split("\n")[0]}`,
          where: `feature view "${name}".${view.sql ? "sql" : "source"}`,
        });
      }
    }
  }
  return { problems, unchecked };
}

const INTEGER_TYPES = new Set([
  "TINYINT",
  "SMALLINT",
  "INTEGER",
  "BIGINT",
  "HUGEINT",
  "UTINYINT",
  "USMALLINT",
  "UINTEGER",
  "UBIGINT",
]);
const FLOAT_TYPES = new Set(["FLOAT", "DOUBLE", "REAL"]);

/**
 * Whether a DuckDB column type can hold a declared value type: int64 any integer type, float64 any integer, float or
 * decimal type, string VARCHAR, bool BOOLEAN, timestamp any TIMESTAMP type or DATE.
 *
 * @example
 * ```ts
 * import { typeCompatible } from "@mercury/features";
 * import assert from "node:assert/strict";
 *
 * assert.ok(typeCompatible("float64", "DECIMAL(18,3)"));
 * assert.ok(!typeCompatible("int64", "VARCHAR"));
 * ```
 */
export function typeCompatible(declared: string, actual: string): boolean {
  const a = actual.replace(/\(.*\)$/, "").toUpperCase();
  switch (declared) {
    case "int64":
      return INTEGER_TYPES.has(a);
    case "float64":
      return INTEGER_TYPES.has(a) || FLOAT_TYPES.has(a) || a === "DECIMAL";
    case "string":
      return a === "VARCHAR";
    case "bool":
      return a === "BOOLEAN";
    case "timestamp":
      return a.startsWith("TIMESTAMP") || a === "DATE";
  }
  return false;
}
