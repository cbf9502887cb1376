/**
 * A stream feature repo: `card_tx_10m`, each card's transaction count and amount over the last 10 minutes, fed from
 * a Kafka topic by `features stream` (or `startStreamFeatures`) and read back from its Parquet history for training
 * sets. As a `--repo` module it takes its place from the environment: `MERCURY_FEATURES_DATA` (the history is
 * `<dir>/stream_history/*.parquet`; default `.mercury/features/data/stream`) and `MERCURY_FEATURES_PROJECT` (default
 * `card_stream`).
 *
 * ```sh
 * deno task mercury features stream --repo plugins/features/examples/card_stream.ts --view card_tx_10m --topic tx
 * ```
 *
 * @module
 */
import { stateDir } from "@mercury/core";
import { entity, type FeatureRepo, featureView, fileSource } from "../definitions.ts";

/** The stream feature repo over `dir`. */
export function cardStreamRepo(dir: string, project = "card_stream"): FeatureRepo {
  return {
    project,
    entities: [entity({ name: "card", joinKey: "card_id", valueType: "int64" })],
    views: [featureView({
      name: "card_tx_10m",
      entities: ["card"],
      ttlSeconds: 600,
      source: fileSource({
        name: "card_tx_10m_history",
        format: "parquet",
        path: `${dir}/stream_history/*.parquet`,
        timestampField: "event_timestamp",
        createdTimestampField: "created",
      }),
      features: [{ name: "tx_count_10m", type: "int64" }, { name: "amount_sum_10m", type: "float64" }],
    })],
  };
}

const env = (k: string) => Deno.env.get(k) || undefined;

/** The repo for `--repo`. */
export default cardStreamRepo(
  env("MERCURY_FEATURES_DATA") ?? `${stateDir()}/features/data/stream`,
  env("MERCURY_FEATURES_PROJECT"),
);
