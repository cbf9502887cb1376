/**
 * A one-view repo for the type-check tests, as a `--repo` module: the view reads `$MF_TYPED_DIR/src.parquet`
 * (columns k BIGINT, ts TIMESTAMP, s VARCHAR, x DOUBLE) and declares its feature `a` as `$MF_TYPED_TYPE` (default
 * int64), computed by `select k, ts, $MF_TYPED_COLUMN as a` (default `s`, a VARCHAR).
 *
 * @module
 */
import { entity, type FeatureRepo, featureView, fileSource, type ValueType } from "@mercury/features";

/** The repo for a data folder, a project name, a declared type and the column the feature is computed from. */
export function typedRepo(dir: string, project: string, type: ValueType = "int64", column = "s"): FeatureRepo {
  return {
    project,
    entities: [entity({ name: "thing", joinKey: "k", valueType: "int64" })],
    views: [featureView({
      name: "v",
      entities: ["thing"],
      ttlSeconds: 0,
      source: fileSource({ name: "src", format: "parquet", path: `${dir}/src.parquet`, timestampField: "ts" }),
      sql: `select k, ts, ${column} as a from {source}`,
      features: [{ name: "a", type }],
    })],
  };
}

const env = (k: string) => Deno.env.get(k) || undefined;

/** The repo the CLI loads. */
export default typedRepo(
  env("MF_TYPED_DIR") ?? "/nonexistent",
  env("MF_TYPED_PROJECT") ?? "typed",
  (env("MF_TYPED_TYPE") ?? "int64") as ValueType,
  env("MF_TYPED_COLUMN") ?? "s",
);
