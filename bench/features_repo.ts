/**
 * The benchmark's feature repo (also a `--repo` module for the server subprocess):
 * `wide` (50 features, for online serving), `fv1`–`fv3` (3 features each, for
 * training sets) and `mat` (10 features, for materialisation), all over Parquet
 * written by bench/features_bench.ts. Env: MERCURY_FEATURES_BENCH_DIR, MERCURY_FEATURES_BENCH_PROJECT.
 *
 * @module
 */
import { entity, type FeatureRepo, featureService, featureView, fileSource } from "@mercury/features";

/** Feature names of the wide view. */
export const WIDE_FEATURES: string[] = Array.from({ length: 50 }, (_, i) => `f${i}`);

/** Feature names of fv1..fv3. */
export const PIT_FEATURES = (v: number): string[] => [0, 1, 2].map((i) => `fv${v}_f${i}`);

/** Feature names of the materialisation view. */
export const MAT_FEATURES: string[] = Array.from({ length: 10 }, (_, i) => `m${i}`);

const src = (dir: string, name: string) =>
  fileSource({
    name,
    format: "parquet",
    path: `${dir}/${name}.parquet`,
    timestampField: "event_timestamp",
    createdTimestampField: "created",
  });

/** The repo over `dir`. */
export function benchRepo(dir: string, project: string): FeatureRepo {
  const f = (names: string[]) => names.map((name) => ({ name, type: "float64" as const }));
  return {
    project,
    entities: [entity({ name: "thing", joinKey: "entity_id", valueType: "int64" })],
    views: [
      featureView({
        name: "wide",
        entities: ["thing"],
        ttlSeconds: 7 * 86_400,
        source: src(dir, "wide"),
        features: f(WIDE_FEATURES),
      }),
      ...[1, 2, 3].map((v) =>
        featureView({
          name: `fv${v}`,
          entities: ["thing"],
          ttlSeconds: 3 * 86_400,
          source: src(dir, `fv${v}`),
          features: f(PIT_FEATURES(v)),
        })
      ),
      featureView({
        name: "mat",
        entities: ["thing"],
        ttlSeconds: 60 * 86_400,
        source: src(dir, "mat"),
        features: f(MAT_FEATURES),
      }),
    ],
    services: [featureService({ name: "wide_service", features: ["wide:*"] })],
  };
}

/** The repo for `--repo bench/features_repo.ts`. */
export default benchRepo(
  Deno.env.get("MERCURY_FEATURES_BENCH_DIR") ?? "/nonexistent",
  Deno.env.get("MERCURY_FEATURES_BENCH_PROJECT") ?? "bench",
);
