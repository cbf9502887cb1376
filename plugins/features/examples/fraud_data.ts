/**
 * The fraud example's data: `generateFraudData` writes realistic synthetic
 * card transactions (seeded, so the same options give the same data) —
 * transactions and labels as Parquet, merchants as CSV, cards as a PostgreSQL
 * table.
 *
 * @module
 */
import type { DuckDBConnection } from "@duckdb/node-api";
import type { Sql } from "@mercury/core/services/postgres";
import { seededRandom } from "@mercury/core/random";
import { quoteLiteral as lit } from "@mercury/core/sql";
import { loadRows } from "../_duck.ts";

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
