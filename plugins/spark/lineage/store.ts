/**
 * OpenLineage events in PostgreSQL, in their own schema (`spark_lineage` by
 * default): one row per event with the run, the job, the event type and time,
 * the input and output dataset names (for queries) and the whole event as
 * `jsonb`. Each insert is one statement, so a half-stored event cannot exist.
 *
 * @example
 * ```ts ignore
 * import { connectPostgres } from "@mercury/core/services/postgres";
 * import { LineageStore } from "@mercury/spark/lineage";
 * await using pg = await connectPostgres();
 * const store = new LineageStore(pg.sql);
 * await store.init();
 * console.log((await store.events({ limit: 10 })).length);
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import type { Sql } from "@mercury/core/services/postgres";
import { datasetId, type OlEvent } from "./graph.ts";

/** Stored events, newest runs first. */
export class LineageStore {
  readonly sql: Sql;
  readonly schema: string;

  constructor(sql: Sql, options: { schema?: string } = {}) {
    this.sql = sql;
    this.schema = options.schema ?? "spark_lineage";
    if (!/^[a-z_][a-z0-9_]*$/.test(this.schema)) {
      throw new MercuryError("usage", `lineage schema "${this.schema}" is not a lower-case identifier`, {
        where: "schema",
        hint: "e.g. spark_lineage",
      });
    }
  }

  /** Creates the schema and table if missing. */
  async init(): Promise<void> {
    const s = this.schema;
    await this.sql.unsafe(`select pg_advisory_lock(hashtext('${s}.init'))`);
    try {
      await this.sql.unsafe(`create schema if not exists ${s}`);
      await this.sql.unsafe(`create table if not exists ${s}.events (
        id bigserial primary key, received_at timestamptz not null default now(),
        event_time timestamptz not null, event_type text not null, run_id text not null,
        job_namespace text not null, job_name text not null,
        inputs text[] not null, outputs text[] not null, event jsonb not null)`);
      await this.sql.unsafe(`create index if not exists events_run on ${s}.events (run_id)`);
    } finally {
      await this.sql.unsafe(`select pg_advisory_unlock(hashtext('${s}.init'))`);
    }
  }

  /** Stores one event. */
  async add(e: OlEvent): Promise<void> {
    const sql = this.sql;
    await sql`insert into ${sql(this.schema)}.events
      (event_time, event_type, run_id, job_namespace, job_name, inputs, outputs, event)
      values (${e.eventTime}, ${e.eventType}, ${e.run.runId}, ${e.job.namespace}, ${e.job.name},
              ${(e.inputs ?? []).map(datasetId)}, ${(e.outputs ?? []).map(datasetId)}, ${sql.json(e as never)})`;
  }

  /** Events of the newest `limit` runs (or of the runs naming `dataset`), oldest first. */
  async events(options: { limit?: number; dataset?: string; since?: Date } = {}): Promise<OlEvent[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (options.dataset) {
      params.push(options.dataset);
      where.push(`($${params.length} = any(inputs) or $${params.length} = any(outputs))`);
    }
    if (options.since) {
      params.push(options.since);
      where.push(`received_at >= $${params.length}`);
    }
    params.push(options.limit ?? 200);
    const rows = await this.sql.unsafe(
      `with runs as (select run_id, max(event_time) t from ${this.schema}.events
         ${where.length ? `where ${where.join(" and ")}` : ""}
         group by run_id order by t desc limit $${params.length})
       select e.event from ${this.schema}.events e join runs using (run_id) order by e.event_time, e.id`,
      params as never[],
    );
    return rows.map((r) => r.event as OlEvent);
  }
}
