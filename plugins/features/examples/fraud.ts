/**
 * The worked example: card transactions and fraud labels. `fraudRepo`
 * defines the feature repo over the data `generateFraudData` writes
 * (`fraud_data.ts`, re-exported here) — transactions and labels as Parquet,
 * merchants as CSV, cards as a PostgreSQL table.
 *
 * @module
 */
import {
  entity,
  featureService,
  featureView,
  fileSource,
  kafkaSource,
  model,
  onDemandFeatureView,
  postgresSource,
} from "../definitions.ts";
import type { FeatureRepo } from "../definitions.ts";

export { type FraudData, type FraudDataOptions, generateFraudData, mulberry32 } from "./fraud_data.ts";

/** Options of {@linkcode fraudRepo}. */
export interface FraudRepoOptions {
  dir: string;
  project?: string;
  /** PostgreSQL table of cards (default `public.mf_fraud_cards`). */
  cardsTable?: string;
  /** Kafka topic of live card events (default `mf-card-events`). */
  topic?: string;
}

/**
 * The fraud feature repo over the generated data.
 *
 * @example
 * ```ts
 * import { fraudRepo } from "@mercury/features/examples/fraud";
 * import { validateRepo } from "@mercury/features";
 * const repo = fraudRepo({ dir: "/tmp/fraud" });
 * validateRepo(repo);
 * ```
 */
export function fraudRepo(options: FraudRepoOptions): FeatureRepo {
  const card = entity({ name: "card", joinKey: "card_id", valueType: "int64", description: "a payment card" });
  const merchant = entity({ name: "merchant", joinKey: "merchant_id", valueType: "int64" });
  const transactions = fileSource({
    name: "transactions",
    format: "parquet",
    path: `${options.dir}/transactions.parquet`,
    timestampField: "ts",
    description: "card transactions",
  });
  const labels = fileSource({
    name: "fraud_labels",
    format: "parquet",
    path: `${options.dir}/labels.parquet`,
    timestampField: "confirmed_at",
    description: "confirmed fraud labels (arrive 1–10 days after the transaction)",
  });
  const merchants = fileSource({
    name: "merchant_risk_csv",
    format: "csv",
    path: `${options.dir}/merchants.csv`,
    timestampField: "computed_at",
  });
  const cards = postgresSource({
    name: "cards",
    table: options.cardsTable ?? "public.mf_fraud_cards",
    timestampField: "updated_at",
    description: "card master data",
  });
  return {
    project: options.project ?? "fraud",
    entities: [card, merchant],
    views: [
      featureView({
        name: "card_tx_stats",
        entities: ["card"],
        source: transactions,
        ttlSeconds: 7 * 86_400,
        owner: "risk-team@example.com",
        tags: { domain: "payments" },
        description: "rolling spend of the card, as of each of its transactions",
        retentionDays: 365,
        sql: `select card_id, ts,
          count(*) over w1 as tx_count_24h,
          sum(amount) over w1 as amount_sum_24h,
          avg(amount) over w7 as amount_avg_7d,
          max(amount) over w7 as amount_max_7d,
          count(distinct country) over w7 as countries_7d
        from {source}
        window w1 as (partition by card_id order by ts range between interval 1 day preceding and current row),
               w7 as (partition by card_id order by ts range between interval 7 day preceding and current row)`,
        features: [
          { name: "tx_count_24h", type: "int64" },
          { name: "amount_sum_24h", type: "float64" },
          { name: "amount_avg_7d", type: "float64" },
          { name: "amount_max_7d", type: "float64" },
          { name: "countries_7d", type: "int64" },
        ],
      }),
      featureView({
        name: "card_fraud_history",
        entities: ["card"],
        source: labels,
        ttlSeconds: 90 * 86_400,
        owner: "risk-team@example.com",
        description: "confirmed frauds of the card so far (known only once confirmed)",
        transform: (rows) => {
          // TypeScript transform: running count of confirmed frauds per card, in confirmation order.
          const sorted = [...rows].sort((a, b) =>
            +new Date(a.confirmed_at as Date) - +new Date(b.confirmed_at as Date)
          );
          const counts = new Map<unknown, number>();
          return sorted.map((r) => {
            const n = (counts.get(r.card_id) ?? 0) + (r.is_fraud ? 1 : 0);
            counts.set(r.card_id, n);
            return { card_id: r.card_id, confirmed_at: r.confirmed_at, confirmed_frauds: n };
          });
        },
        features: [{ name: "confirmed_frauds", type: "int64" }],
      }),
      featureView({
        name: "card_profile",
        entities: ["card"],
        source: cards,
        ttlSeconds: 0,
        owner: "cards-platform@example.com",
        tags: { pii: "yes" },
        features: [
          { name: "credit_limit", type: "float64" },
          { name: "card_age_days", type: "int64" },
          { name: "country", type: "string" },
          { name: "holder_name", type: "string", pii: true },
        ],
      }),
      featureView({
        name: "merchant_risk",
        entities: ["merchant"],
        source: merchants,
        ttlSeconds: 2 * 86_400,
        owner: "risk-team@example.com",
        features: [{ name: "fraud_rate_30d", type: "float64" }, { name: "category", type: "string" }],
      }),
      featureView({
        name: "card_live",
        entities: ["card"],
        source: kafkaSource({
          name: "card_events",
          topic: options.topic ?? "mf-card-events",
          batchSource: transactions,
          timestampField: "ts",
        }),
        ttlSeconds: 86_400,
        owner: "risk-team@example.com",
        description: "the card's last transaction, streamed",
        sql: `select card_id, ts, amount as last_amount, country as last_country from {source}`,
        features: [{ name: "last_amount", type: "float64" }, { name: "last_country", type: "string" }],
      }),
    ],
    onDemandViews: [
      onDemandFeatureView({
        name: "amount_features",
        inputs: ["card_tx_stats:amount_avg_7d", "card_profile:credit_limit"],
        request: [{ name: "amount", type: "float64" }],
        features: [{ name: "amount_to_avg", type: "float64" }, { name: "amount_to_limit", type: "float64" }],
        transform: (r) => ({
          amount_to_avg: r.amount_avg_7d ? Number(r.amount) / Number(r.amount_avg_7d) : null,
          amount_to_limit: r.credit_limit ? Number(r.amount) / Number(r.credit_limit) : null,
        }),
      }),
    ],
    services: [
      featureService({
        name: "fraud_v1",
        owner: "risk-team@example.com",
        features: [
          "card_tx_stats:*",
          "card_fraud_history:confirmed_frauds",
          "card_profile:credit_limit",
          "card_profile:card_age_days",
          "merchant_risk:fraud_rate_30d",
          "amount_features:*",
        ],
      }),
    ],
    models: [model({ name: "fraud_gbm", featureService: "fraud_v1", owner: "risk-team@example.com" })],
  };
}
