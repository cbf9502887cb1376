/**
 * The worked example: card transactions and fraud labels. `generateFraudData`
 * writes realistic synthetic data (seeded PRNG) — transactions and labels as
 * Parquet, merchants as CSV, cards as a PostgreSQL table — and `fraudRepo`
 * defines the feature repo over it.
 *
 * @module
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import type { Sql } from "@mercury/core/services/postgres";
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
import { seededRandom } from "@mercury/core/random";
import { lit, loadRows } from "../_duck.ts";

/** A seeded PRNG (mulberry32) returning floats in [0, 1): core's `seededRandom`, under the name the tests use. */
export const mulberry32: (seed: number) => () => number = seededRandom;

/** Options of {@linkcode generateFraudData}. */
export interface FraudDataOptions {
  dir: string;
  cards?: number;
  merchants?: number;
  days?: number;
  /** Mean transactions per card per day (default 1.5). */
  txPerCardDay?: number;
  seed?: number;
  /** Last moment of data (default now). */
  end?: Date;
  /** PostgreSQL table to (re)create with the cards (skipped without `sql`). */
  cardsTable?: string;
  sql?: Sql;
}

/** What was generated. */
export interface FraudData {
  transactions: number;
  frauds: number;
  cards: number;
  merchants: number;
  start: Date;
  end: Date;
}

/**
 * Generates the data set. Fraud is likelier for large amounts relative to the
 * card's usual spend, at risky merchants and abroad; frauds come in bursts
 * on compromised cards, and each is confirmed (labelled) 1–10 days later.
 */
export async function generateFraudData(c: DuckDBConnection, options: FraudDataOptions): Promise<FraudData> {
  const rnd = mulberry32(options.seed ?? 42);
  const nCards = options.cards ?? 1000;
  const nMerchants = options.merchants ?? 200;
  const days = options.days ?? 60;
  const end = options.end ?? new Date();
  const start = new Date(end.getTime() - days * 86_400_000);
  const normal = () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd());
  const countries = ["DE", "FR", "US", "GB", "NL", "ES", "IT", "PL"];
  const categories = ["grocery", "travel", "electronics", "fuel", "restaurant", "online"];
  const merchants = Array.from({ length: nMerchants }, (_, i) => ({
    merchant_id: i + 1,
    category: categories[Math.floor(rnd() * categories.length)]!,
    risk: rnd() < 0.08 ? 0.25 + rnd() * 0.3 : rnd() * 0.03,
  }));
  const cards = Array.from({ length: nCards }, (_, i) => ({
    card_id: i + 1,
    holder_name: `holder-${(i * 7919) % 100000}`,
    country: countries[Math.floor(rnd() * countries.length)]!,
    credit_limit: Math.round(500 + rnd() * 9500),
    card_age_days: Math.floor(30 + rnd() * 3000),
    spend: Math.exp(3 + normal() * 0.6),
    compromisedAt: rnd() < 0.06 ? start.getTime() + rnd() * days * 86_400_000 : Infinity,
    updated_at: new Date(start.getTime() - rnd() * 86_400_000 * 30).toISOString(),
  }));
  const tx: Record<string, unknown>[] = [];
  const labels: Record<string, unknown>[] = [];
  let id = 0;
  for (const card of cards) {
    const n = Math.max(1, Math.round(days * (options.txPerCardDay ?? 1.5) * (0.5 + rnd())));
    const times = Array.from({ length: n }, () => start.getTime() + rnd() * days * 86_400_000).sort((a, b) => a - b);
    for (const t of times) {
      const m = merchants[Math.floor(rnd() * nMerchants)]!;
      const compromised = t >= card.compromisedAt && t < card.compromisedAt + 3 * 86_400_000;
      const abroad = rnd() < (compromised ? 0.5 : 0.05);
      let amount = card.spend * Math.exp(normal() * 0.5);
      let p = m.risk * 0.1 + (abroad ? 0.01 : 0) + (compromised ? 0.6 : 0);
      if (compromised && rnd() < 0.6) amount *= 3 + rnd() * 6;
      if (amount > card.spend * 4) p += 0.05;
      const fraud = rnd() < Math.min(p, 0.95);
      const ts = new Date(t);
      tx.push({
        tx_id: ++id,
        card_id: card.card_id,
        merchant_id: m.merchant_id,
        amount: Math.round(amount * 100) / 100,
        country: abroad ? countries[(countries.indexOf(card.country) + 1) % countries.length] : card.country,
        ts: ts.toISOString(),
      });
      labels.push({
        tx_id: id,
        card_id: card.card_id,
        tx_ts: ts.toISOString(),
        is_fraud: fraud,
        // Confirmation arrives later: what a model may know at time t is only what was confirmed before t.
        confirmed_at: new Date(t + (1 + rnd() * 9) * 86_400_000).toISOString(),
      });
    }
  }
  await Deno.mkdir(options.dir, { recursive: true });
  await loadRows(c, "__gen_tx", tx, {
    tx_id: "BIGINT",
    card_id: "BIGINT",
    merchant_id: "BIGINT",
    amount: "DOUBLE",
    country: "VARCHAR",
    ts: "TIMESTAMP",
  });
  await c.run(
    `copy (select * from __gen_tx order by ts) to ${lit(`${options.dir}/transactions.parquet`)} (format parquet)`,
  );
  await loadRows(c, "__gen_labels", labels, {
    tx_id: "BIGINT",
    card_id: "BIGINT",
    tx_ts: "TIMESTAMP",
    is_fraud: "BOOLEAN",
    confirmed_at: "TIMESTAMP",
  });
  await c.run(
    `copy (select * from __gen_labels order by tx_ts) to ${lit(`${options.dir}/labels.parquet`)} (format parquet)`,
  );
  // Merchant risk, recomputed daily from confirmed frauds of the previous 30 days (a CSV export).
  await loadRows(c, "__gen_m", merchants, { merchant_id: "BIGINT", category: "VARCHAR" });
  await c.run(`copy (
      with days as (select unnest(generate_series(${lit(start.toISOString())}::TIMESTAMP, ${
    lit(end.toISOString())
  }::TIMESTAMP, interval 1 day)) as day),
      confirmed as (select t.merchant_id, l.confirmed_at, case when l.is_fraud then 1.0 else 0.0 end as f
        from __gen_labels l join __gen_tx t using (tx_id))
      select m.merchant_id, m.category, d.day as computed_at, coalesce(avg(c.f), 0) as fraud_rate_30d
      from __gen_m m cross join days d
      left join confirmed c on c.merchant_id = m.merchant_id and c.confirmed_at <= d.day and c.confirmed_at > d.day - interval 30 day
      group by all order by computed_at, merchant_id
    ) to ${lit(`${options.dir}/merchants.csv`)} (header true)`);
  await c.run(`drop table __gen_tx; drop table __gen_labels; drop table __gen_m`);
  if (options.sql && options.cardsTable) {
    const sql = options.sql;
    const t = options.cardsTable;
    await sql.begin(async (tx) => {
      await tx.unsafe(`drop table if exists ${t}`);
      await tx.unsafe(`create table ${t} (card_id bigint primary key, holder_name text, country text,
        credit_limit double precision, card_age_days integer, updated_at timestamptz)`);
      for (let i = 0; i < cards.length; i += 500) {
        const chunk = cards.slice(i, i + 500).map((x) => ({
          card_id: x.card_id,
          holder_name: x.holder_name,
          country: x.country,
          credit_limit: x.credit_limit,
          card_age_days: x.card_age_days,
          updated_at: x.updated_at,
        }));
        const params = chunk.flatMap((
          r,
        ) => [r.card_id, r.holder_name, r.country, r.credit_limit, r.card_age_days, r.updated_at]);
        const values = chunk.map((_, j) => `(${[1, 2, 3, 4, 5, 6].map((k) => `$${j * 6 + k}`).join(", ")})`).join(", ");
        await tx.unsafe(`insert into ${t} values ${values}`, params);
      }
    });
  }
  return {
    transactions: tx.length,
    frauds: labels.filter((l) => l.is_fraud).length,
    cards: nCards,
    merchants: nMerchants,
    start,
    end,
  };
}

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
