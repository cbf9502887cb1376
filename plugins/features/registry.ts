/**
 * The feature registry in PostgreSQL (its own schema): versioned objects per
 * project and environment with who/when/why, materialisation runs and their
 * watermarks, per-feature quality statistics.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { type Sql, transaction } from "@mercury/core/services/postgres";
import type { ObjectKind, StoredObject } from "./spec.ts";

/** The environments, in promotion order. */
export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
/** One environment. */
export type Environment = (typeof ENVIRONMENTS)[number];

/**
 * Checks an environment name.
 *
 * @example
 * ```ts
 * import { parseEnvironment } from "@mercury/features";
 * import assert from "node:assert/strict";
 * assert.equal(parseEnvironment("prod"), "prod");
 * assert.throws(() => parseEnvironment("qa"), /environment "qa"/);
 * ```
 */
export function parseEnvironment(env: string): Environment {
  if (!(ENVIRONMENTS as readonly string[]).includes(env)) {
    throw new MercuryError("usage", `environment "${env}" is not one of ${ENVIRONMENTS.join(", ")}`, {
      hint: "pass --env dev|staging|prod",
    });
  }
  return env as Environment;
}

/** A stored version of an object. */
export interface RegistryObject extends StoredObject {
  version: number;
  createdBy: string;
  createdAt: Date;
  reason: string;
  deleted: boolean;
}

/** One release of an environment: the object versions it serves. */
export interface Release {
  release: number;
  objects: { kind: ObjectKind; name: string; version: number }[];
  createdBy: string;
  createdAt: Date;
  reason: string;
}

/** A materialisation run. */
export interface MaterializationRun {
  id: number;
  view: string;
  start: Date;
  end: Date;
  state: "running" | "done" | "failed";
  rowsDone: number;
  rowsTotal: number;
  error: string | null;
}

/** Statistics of one feature in one run. */
export interface FeatureStats {
  nullRate: number;
  count: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  stddev: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  distinct: number;
}

/** A stored statistics row. */
export interface StatsRow {
  runId: number;
  view: string;
  feature: string;
  stats: FeatureStats;
  drift: boolean;
  driftReason: string | null;
  createdAt: Date;
}

/**
 * The registry of one project and environment. All writes of one apply run in
 * one transaction.
 *
 * @example
 * ```ts ignore
 * const reg = new Registry(pg.sql, { project: "fraud", env: "dev" });
 * await reg.init();
 * const current = await reg.current();
 * ```
 */
export class FeatureRegistry {
  readonly sql: Sql;
  readonly project: string;
  readonly env: Environment;
  readonly schema: string;

  constructor(sql: Sql, options: { project: string; env: Environment; schema?: string }) {
    this.sql = sql;
    this.project = options.project;
    this.env = options.env;
    this.schema = options.schema ?? "mercury_features";
    if (!/^[a-z_][a-z0-9_]*$/.test(this.schema)) {
      throw new MercuryError("usage", `registry schema "${this.schema}" is not a lower-case identifier`);
    }
  }

  /** The same registry in another environment. */
  forEnv(env: Environment): FeatureRegistry {
    return new FeatureRegistry(this.sql, { project: this.project, env, schema: this.schema });
  }

  /** Creates the schema and tables if missing. */
  async init(): Promise<void> {
    const s = this.schema;
    await transaction(this.sql, async (tx, step) => {
      await step(tx.unsafe(`select pg_advisory_xact_lock(hashtext('${s}.init'))`));
      await step(tx.unsafe(`create schema if not exists ${s}`));
      await step(tx.unsafe(`create table if not exists ${s}.objects (
        project text not null, env text not null, kind text not null, name text not null, version int not null,
        spec jsonb not null, hash text not null, deleted boolean not null default false,
        created_by text not null, created_at timestamptz not null default now(), reason text not null default '',
        primary key (project, env, kind, name, version))`));
      await step(tx.unsafe(`create table if not exists ${s}.materializations (
        id bigserial primary key, project text not null, env text not null, view text not null,
        start_ts timestamptz not null, end_ts timestamptz not null, state text not null,
        rows_done bigint not null default 0, rows_total bigint not null default 0, keys_written bigint not null default 0,
        error text, started_at timestamptz not null default now(), finished_at timestamptz)`));
      await step(tx.unsafe(`create table if not exists ${s}.releases (
        project text not null, env text not null, release int not null, objects jsonb not null,
        created_by text not null, created_at timestamptz not null default now(), reason text not null default '',
        primary key (project, env, release))`));
      await step(tx.unsafe(`create table if not exists ${s}.feature_stats (
        run_id bigint not null, project text not null, env text not null, view text not null, feature text not null,
        stats jsonb not null, drift boolean not null, drift_reason text, created_at timestamptz not null default now(),
        primary key (run_id, feature))`));
      // Every request for PII features, granted or refused (pii.ts).
      await step(tx.unsafe(`create table if not exists ${s}.pii_access (
        id bigserial primary key, project text not null, env text not null, who text not null,
        features text[] not null, entities int not null, transport text not null, granted boolean not null,
        at timestamptz not null default now())`));
      await step(tx.unsafe(`create index if not exists pii_access_by_time on ${s}.pii_access (project, env, at)`));
    });
  }

  /** The current (latest, not deleted) version of every object. */
  async current(): Promise<RegistryObject[]> {
    const rows = await this.sql.unsafe(
      `select distinct on (kind, name) kind, name, version, spec, hash, deleted, created_by, created_at, reason
       from ${this.schema}.objects where project = $1 and env = $2 order by kind, name, version desc`,
      [this.project, this.env],
    );
    return rows.map(toObject).filter((o) => !o.deleted);
  }

  /** Every version of one object, newest first. */
  async history(kind: ObjectKind, name: string): Promise<RegistryObject[]> {
    const rows = await this.sql.unsafe(
      `select kind, name, version, spec, hash, deleted, created_by, created_at, reason from ${this.schema}.objects
       where project = $1 and env = $2 and kind = $3 and name = $4 order by version desc`,
      [this.project, this.env, kind, name],
    );
    return rows.map(toObject);
  }

  /**
   * Writes new versions (and tombstones) in one transaction: `decide` gets the
   * current objects read under an advisory lock and returns what to write; it
   * may throw to abort with nothing written.
   */
  async write(
    meta: { who: string; why: string },
    decide: (current: RegistryObject[]) => { changed: StoredObject[]; removed: { kind: ObjectKind; name: string }[] },
  ): Promise<number> {
    const s = this.schema;
    return await transaction(this.sql, async (tx, step) => {
      await step(tx.unsafe(`select pg_advisory_xact_lock(hashtext($1))`, [`${s}:${this.project}:${this.env}`]));
      const rows = await step(tx.unsafe(
        `select distinct on (kind, name) kind, name, version, spec, hash, deleted, created_by, created_at, reason
         from ${s}.objects where project = $1 and env = $2 order by kind, name, version desc`,
        [this.project, this.env],
      ));
      const { changed, removed } = decide(rows.map(toObject).filter((o) => !o.deleted));
      let n = 0;
      const put = async (o: { kind: string; name: string; spec: unknown; hash: string }, deleted: boolean) => {
        await step(tx.unsafe(
          `insert into ${s}.objects (project, env, kind, name, version, spec, hash, deleted, created_by, reason)
           select $1, $2, $3, $4, coalesce(max(version), 0) + 1, $5::text::jsonb, $6, $7, $8, $9
           from ${s}.objects where project = $1 and env = $2 and kind = $3 and name = $4`,
          [this.project, this.env, o.kind, o.name, JSON.stringify(o.spec), o.hash, deleted, meta.who, meta.why],
        ));
        n++;
      };
      for (const o of changed) await put(o, false);
      for (const r of removed) await put({ ...r, spec: {}, hash: "" }, true);
      if (n > 0) {
        // A release: the environment's object versions after this write (what it serves from now on).
        await step(tx.unsafe(
          `insert into ${s}.releases (project, env, release, objects, created_by, reason)
           select $1, $2, coalesce((select max(release) from ${s}.releases where project = $1 and env = $2), 0) + 1,
             coalesce((select jsonb_agg(jsonb_build_object('kind', kind, 'name', name, 'version', version)
                         order by kind, name)
                       from (select distinct on (kind, name) kind, name, version, deleted from ${s}.objects
                             where project = $1 and env = $2 order by kind, name, version desc) t
                       where not deleted), '[]'::jsonb), $3, $4`,
          [this.project, this.env, meta.who, meta.why],
        ));
      }
      return n;
    });
  }

  /** The releases of the environment, newest first: each apply, promote or rollback that changed something. */
  async releases(limit = 50): Promise<Release[]> {
    const rows = await this.sql.unsafe(
      `select release, objects, created_by, created_at, reason from ${this.schema}.releases
       where project = $1 and env = $2 order by release desc limit $3`,
      [this.project, this.env, limit],
    );
    return rows.map((r) => ({
      release: Number(r.release),
      objects: r.objects,
      createdBy: r.created_by,
      createdAt: new Date(r.created_at),
      reason: r.reason,
    }));
  }

  /** The objects (at their versions) of one release of the environment. */
  async atRelease(release: number): Promise<RegistryObject[]> {
    const s = this.schema;
    const rows = await this.sql.unsafe(
      `select o.kind, o.name, o.version, o.spec, o.hash, o.deleted, o.created_by, o.created_at, o.reason
       from ${s}.releases r cross join lateral jsonb_to_recordset(r.objects) as x(kind text, name text, version int)
       join ${s}.objects o on o.kind = x.kind and o.name = x.name and o.version = x.version
       where r.project = $1 and r.env = $2 and r.release = $3 and o.project = $1 and o.env = $2
       order by o.kind, o.name`,
      [this.project, this.env, release],
    );
    if (rows.length === 0) {
      const have = (await this.releases(10)).map((r) => r.release);
      throw new MercuryError("not_found", `${this.project}/${this.env} has no release ${release}`, {
        where: `registry ${this.schema}.releases`,
        hint: have.length ? `releases: ${have.join(", ")}` : "apply or promote into this environment first",
      });
    }
    return rows.map(toObject);
  }

  /**
   * Starts a materialisation run, or resumes the unfinished one of the view
   * that starts at the same time (keeping its end, so its progress stays valid).
   */
  async startRun(view: string, start: Date, end: Date): Promise<MaterializationRun> {
    const s = this.schema;
    const open = await this.sql.unsafe(
      `select * from ${s}.materializations where project = $1 and env = $2 and view = $3 and state <> 'done'
       and start_ts = $4 order by id desc limit 1`,
      [this.project, this.env, view, start],
    );
    if (open[0]) {
      await this.sql.unsafe(`update ${s}.materializations set state = 'running', error = null where id = $1`, [
        open[0].id,
      ]);
      return toRun({ ...open[0], state: "running" });
    }
    const [row] = await this.sql.unsafe(
      `insert into ${s}.materializations (project, env, view, start_ts, end_ts, state)
       values ($1, $2, $3, $4, $5, 'running') returning *`,
      [this.project, this.env, view, start, end],
    );
    return toRun(row!);
  }

  /** Records progress: the rows done so far (the resume point). */
  async progress(runId: number, rowsDone: number, rowsTotal: number, keysWritten: number): Promise<void> {
    await this.sql.unsafe(
      `update ${this.schema}.materializations set rows_done = $2, rows_total = $3, keys_written = $4 where id = $1`,
      [runId, rowsDone, rowsTotal, keysWritten],
    );
  }

  /** Marks a run done or failed. */
  async finishRun(runId: number, error?: string): Promise<void> {
    await this.sql.unsafe(
      `update ${this.schema}.materializations set state = $2, error = $3, finished_at = now() where id = $1`,
      [runId, error ? "failed" : "done", error ?? null],
    );
  }

  /** The end of the latest finished run of a view: where an incremental run starts. */
  async watermark(view: string): Promise<Date | undefined> {
    const [row] = await this.sql.unsafe(
      `select max(end_ts) as w from ${this.schema}.materializations
       where project = $1 and env = $2 and view = $3 and state = 'done'`,
      [this.project, this.env, view],
    );
    return row?.w ? new Date(row.w) : undefined;
  }

  /** Recent runs, newest first. */
  async runs(view?: string, limit = 20): Promise<MaterializationRun[]> {
    const rows = await this.sql.unsafe(
      `select * from ${this.schema}.materializations where project = $1 and env = $2 and ($3::text is null or view = $3)
       order by id desc limit $4`,
      [this.project, this.env, view ?? null, limit],
    );
    return rows.map(toRun);
  }

  /** Stores the statistics of a run. */
  async saveStats(runId: number, view: string, rows: Omit<StatsRow, "runId" | "view" | "createdAt">[]): Promise<void> {
    await transaction(this.sql, async (tx, step) => {
      for (const r of rows) {
        await step(tx.unsafe(
          `insert into ${this.schema}.feature_stats (run_id, project, env, view, feature, stats, drift, drift_reason)
           values ($1, $2, $3, $4, $5, $6::text::jsonb, $7, $8) on conflict (run_id, feature) do update
           set stats = excluded.stats, drift = excluded.drift, drift_reason = excluded.drift_reason`,
          [runId, this.project, this.env, view, r.feature, JSON.stringify(r.stats), r.drift, r.driftReason],
        ));
      }
    });
  }

  /** Statistics of a view's latest run before `beforeRunId` (or the latest). */
  async stats(view: string, beforeRunId?: number): Promise<StatsRow[]> {
    const rows = await this.sql.unsafe(
      `select * from ${this.schema}.feature_stats where project = $1 and env = $2 and view = $3 and run_id = (
         select max(run_id) from ${this.schema}.feature_stats where project = $1 and env = $2 and view = $3
         and ($4::bigint is null or run_id < $4))`,
      [this.project, this.env, view, beforeRunId ?? null],
    );
    return rows.map(statsRow);
  }

  /** The latest statistics of every feature of the environment (for metrics). */
  async latestStats(): Promise<StatsRow[]> {
    const rows = await this.sql.unsafe(
      `select distinct on (view, feature) * from ${this.schema}.feature_stats where project = $1 and env = $2
       order by view, feature, run_id desc`,
      [this.project, this.env],
    );
    return rows.map(statsRow);
  }
}

// deno-lint-ignore no-explicit-any
function toObject(r: any): RegistryObject {
  return {
    kind: r.kind,
    name: r.name,
    version: Number(r.version),
    spec: r.spec,
    hash: r.hash,
    deleted: r.deleted,
    createdBy: r.created_by,
    createdAt: new Date(r.created_at),
    reason: r.reason,
  };
}

// deno-lint-ignore no-explicit-any
function toRun(r: any): MaterializationRun {
  return {
    id: Number(r.id),
    view: r.view,
    start: new Date(r.start_ts),
    end: new Date(r.end_ts),
    state: r.state,
    rowsDone: Number(r.rows_done),
    rowsTotal: Number(r.rows_total),
    error: r.error ?? null,
  };
}

/** A `feature_stats` row as a {@linkcode StatsRow}. */
// deno-lint-ignore no-explicit-any
function statsRow(r: any): StatsRow {
  return {
    runId: Number(r.run_id),
    view: r.view,
    feature: r.feature,
    stats: r.stats,
    drift: r.drift,
    driftReason: r.drift_reason,
    createdAt: new Date(r.created_at),
  };
}
