/**
 * The observe plugin's PostgreSQL tables, in schema `observe`: every
 * prediction (id, model, version, timestamp, features, output, latency,
 * segment), labels that arrive later by id, rejected input, alert events and
 * the steps of each retraining. Plain tables with indexes on (model, version,
 * ts); no TimescaleDB hypertable (the prediction id is the primary key, which
 * a hypertable would have to widen with the time column).
 *
 * @module
 */
import type { Sql } from "@mercury/core/services/postgres";

/** The DDL `observe setup` runs (idempotent). */
export const SCHEMA_SQL = `
create schema if not exists observe;
create table if not exists observe.predictions (
  id text primary key,
  model text not null,
  version text not null,
  ts timestamptz not null,
  features jsonb not null,
  output double precision not null,
  latency_ms real not null,
  segment text not null default ''
);
create index if not exists predictions_model_ts on observe.predictions (model, version, ts);
create table if not exists observe.labels (
  id text primary key,
  label double precision not null,
  ts timestamptz not null default now()
);
create table if not exists observe.rejections (
  ts timestamptz not null default now(),
  kind text not null,
  reason text not null,
  detail text not null default ''
);
create table if not exists observe.alerts (
  ts timestamptz not null default now(),
  rule text not null,
  model text not null,
  state text not null,
  value double precision,
  detail text not null default ''
);
create table if not exists observe.retrain_steps (
  ts timestamptz not null default now(),
  model text not null,
  step text not null,
  detail jsonb not null default '{}'
);
`;

/** Creates the schema and tables when missing. */
export async function setupSchema(sql: Sql): Promise<void> {
  await sql.unsafe(SCHEMA_SQL);
}
