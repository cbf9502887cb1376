/**
 * The quality store in PostgreSQL (schema `quality`): suites with a version
 * per change (who, when, why, the diff against the previous version), runs
 * (suite version, data fingerprint, results, score), the metrics of every run
 * (the history anomaly checks read), and an append-only, hash-chained audit
 * log.
 *
 * The audit log: entry `seq` holds `hash = sha256(prev_hash | seq | at | actor
 * | action | subject | body)` with `prev_hash` the hash of entry `seq − 1`;
 * `quality.audit_head` keeps the last `seq` and hash. A trigger refuses UPDATE
 * and DELETE on `quality.audit`, so changing history takes a superuser who
 * turns triggers off — and `verifyAudit()` then finds the changed, deleted
 * or re-ordered entry (a recomputed hash, a broken link, a gap in `seq`, a
 * head that no longer matches), and any run whose stored results no longer
 * hash to what its audit entry recorded.
 *
 * @module
 */
import {
  connectPostgres,
  type PostgresConnection,
  type Sql,
  type Step,
  transaction,
  type Tx,
} from "@mercury/core/services/postgres";

import type { CommandContext } from "@mercury/core/plugin";
import type { ExpectationSuite, ValidationRun } from "../types.ts";
import { type Change, diffSuites, stable } from "../diff.ts";
import type { QualityScore } from "../score.ts";

/** One stored version of a suite. */
export interface SuiteVersion {
  name: string;
  version: number;
  suite: ExpectationSuite;
  author: string;
  reason: string;
  created_at: string;
  /** Changes against the previous version (empty for version 1). */
  diff: Change[];
}

/** A stored run, as `history` lists it. */
export interface RunRow {
  run_id: string;
  suite: string;
  suite_version: number | null;
  source: string;
  started_at: string;
  success: boolean;
  evaluated: number;
  successful: number;
  score: number | null;
}

/** One entry of the audit log. */
export interface AuditEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  body: string;
  prev_hash: string;
  hash: string;
}

/** What `verifyAudit()` found. */
export interface AuditVerdict {
  ok: boolean;
  entries: number;
  problems: string[];
}

const GENESIS = "0".repeat(64);

/** sha256 of a text, hex. */
export async function sha256Hex(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function entryHash(e: Omit<AuditEntry, "hash">): Promise<string> {
  return sha256Hex([e.prev_hash, e.seq, e.at, e.actor, e.action, e.subject, e.body].join("|"));
}

const DDL = `
create schema if not exists quality;
create table if not exists quality.suite_versions (
  name text not null, version int not null, suite jsonb not null, author text not null, reason text not null,
  created_at timestamptz not null default now(), diff jsonb not null, suite_sha256 text not null,
  primary key (name, version));
create table if not exists quality.runs (
  run_id uuid primary key, suite text not null, suite_version int, source text not null,
  started_at timestamptz not null, ended_at timestamptz not null, success boolean not null,
  fingerprint jsonb not null, statistics jsonb not null, score jsonb, results jsonb not null, meta jsonb);
create index if not exists runs_suite_started on quality.runs (suite, started_at);
create table if not exists quality.metrics (
  run_id uuid not null, suite text not null, source text not null, metric text not null,
  value double precision, at timestamptz not null, primary key (run_id, metric));
create index if not exists metrics_suite_metric_at on quality.metrics (suite, metric, at);
create table if not exists quality.audit (
  seq bigint primary key, at text not null, actor text not null, action text not null, subject text not null,
  body text not null, prev_hash text not null, hash text not null);
create table if not exists quality.audit_head (id int primary key check (id = 1), seq bigint not null, hash text not null);
create or replace function quality.audit_append_only() returns trigger language plpgsql as $$
begin raise exception 'quality.audit is append-only (% refused)', tg_op; end $$;
drop trigger if exists audit_append_only on quality.audit;
create trigger audit_append_only before update or delete on quality.audit
  for each row execute function quality.audit_append_only();
`;

/** The store over one PostgreSQL pool. */
export class QualityStore {
  #sql: Sql;
  /** The schema's name (default `quality`; tests use their own). */
  readonly schema: string;
  constructor(sql: Sql, schema = "quality") {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) {
      throw new TypeError(`Cannot use schema name "${schema}": use [a-z_][a-z0-9_]*`);
    }
    this.#sql = sql;
    this.schema = schema;
  }

  /** A table of the store's schema, as an identifier for the `sql` tag. */
  #id(name: string) {
    return this.#sql(`${this.schema}.${name}`);
  }

  /** The `postgres` SQL tag (tests use it to tamper with the log). */
  get sql(): Sql {
    return this.#sql;
  }

  /** Creates the schema and tables when missing (idempotent; serialised by an advisory lock). */
  async migrate(): Promise<void> {
    await transaction(this.#sql, async (tx, step) => {
      await step(tx`select pg_advisory_xact_lock(hashtext('quality.migrate'))`);
      const [have] = await step(tx`select to_regclass(${this.schema + ".audit_head"}) is not null as ok`);
      if (!have?.ok) {
        await step(tx.unsafe(
          DDL.replaceAll("quality.", `${this.schema}.`).replace(
            "schema if not exists quality",
            `schema if not exists ${this.schema}`,
          ),
        ));
      }
    });
  }

  async #append(
    tx: Tx,
    step: Step,
    actor: string,
    action: string,
    subject: string,
    body: unknown,
  ): Promise<AuditEntry> {
    await step(tx`select pg_advisory_xact_lock(hashtext('quality.audit'))`);
    const [head] = await step(tx`select seq, hash from ${this.#id("audit_head")} where id = 1`);
    const seq = head ? Number(head.seq) + 1 : 1;
    const e = {
      seq,
      at: new Date().toISOString(),
      actor,
      action,
      subject,
      body: stable(body),
      prev_hash: head ? String(head.hash) : GENESIS,
    };
    const hash = await entryHash(e);
    await step(tx`insert into ${this.#id("audit")} ${tx({ ...e, hash })}`);
    await step(tx`insert into ${this.#id("audit_head")} (id, seq, hash) values (1, ${seq}, ${hash})
      on conflict (id) do update set seq = excluded.seq, hash = excluded.hash`);
    return { ...e, hash };
  }

  /** Appends an audit entry of its own (e.g. a report written). */
  async audit(actor: string, action: string, subject: string, body: unknown): Promise<AuditEntry> {
    return await transaction(this.#sql, (tx, step) => this.#append(tx, step, actor, action, subject, body));
  }

  /**
   * Stores a suite as a new version when it differs from the latest one (else
   * returns the latest); records who, why and the diff, and an audit entry.
   */
  async saveSuite(suite: ExpectationSuite, who: { author: string; reason: string }): Promise<SuiteVersion> {
    const clean: ExpectationSuite = { ...suite };
    delete clean.version;
    const text = stable(clean);
    const digest = await sha256Hex(text);
    return await transaction(this.#sql, async (tx, step) => {
      await step(tx`select pg_advisory_xact_lock(hashtext(${"quality.suite:" + suite.name}))`);
      const [last] = await step(tx`select version, suite, suite_sha256 from ${this.#id("suite_versions")}
        where name = ${suite.name} order by version desc limit 1`);
      if (last && last.suite_sha256 === digest) {
        const [row] = await step(
          tx`select * from ${this.#id("suite_versions")} where name = ${suite.name} and version = ${last.version}`,
        );
        return toVersion(row!);
      }
      const version = last ? Number(last.version) + 1 : 1;
      const diff = last ? diffSuites(last.suite as ExpectationSuite, clean) : [];
      const [row] = await step(tx`insert into ${this.#id("suite_versions")}
        (name, version, suite, author, reason, diff, suite_sha256)
        values (${suite.name}, ${version}, ${tx.json(JSON.parse(text))}, ${who.author}, ${who.reason},
          ${tx.json(JSON.parse(JSON.stringify(diff)))}, ${digest})
        returning *`);
      await this.#append(tx, step, who.author, "suite.save", `${suite.name}@${version}`, {
        reason: who.reason,
        suite_sha256: digest,
        changes: diff.length,
      });
      return toVersion(row!);
    });
  }

  /** Every version of a suite, oldest first. */
  async suiteVersions(name: string): Promise<SuiteVersion[]> {
    const rows = await this.#sql`select * from ${this.#id("suite_versions")} where name = ${name} order by version`;
    return rows.map(toVersion);
  }

  /** The names of stored suites with their latest version. */
  async suites(): Promise<{ name: string; version: number; created_at: string; author: string }[]> {
    const rows = await this.#sql`select distinct on (name) name, version, created_at, author
      from ${this.#id("suite_versions")} order by name, version desc`;
    return rows.map((r) => ({
      name: r.name,
      version: Number(r.version),
      created_at: iso(r.created_at),
      author: r.author,
    }));
  }

  /**
   * Stores a run, its metrics and an audit entry holding the sha256 of its
   * results, in one transaction; a run already stored is left as it is.
   */
  async recordRun(run: ValidationRun, score: QualityScore | null, actor = "dq-validate"): Promise<void> {
    const metrics = runMetrics(run);
    await transaction(this.#sql, async (tx, step) => {
      await step(tx`select pg_advisory_xact_lock(hashtext(${"quality.run:" + run.run_id}))`);
      const [seen] = await step(tx`select 1 from ${this.#id("runs")} where run_id = ${run.run_id}`);
      if (seen) return; // recorded before: a run is stored once
      const [row] = await step(tx`insert into ${this.#id("runs")} ${
        tx({
          run_id: run.run_id,
          suite: run.suite_name,
          suite_version: run.suite_version ?? null,
          source: run.fingerprint.source,
          started_at: run.started_at,
          ended_at: run.ended_at,
          success: run.success,
          fingerprint: tx.json(JSON.parse(JSON.stringify(run.fingerprint))),
          statistics: tx.json(JSON.parse(JSON.stringify(run.statistics))),
          score: score ? tx.json(JSON.parse(JSON.stringify(score))) : null,
          results: tx.json(JSON.parse(JSON.stringify(run.results))),
          meta: tx.json(JSON.parse(JSON.stringify(run.meta ?? {}))),
        })
      } returning results`);
      for (const [metric, value] of metrics) {
        await step(
          tx`insert into ${this.#id("metrics")} values (${run.run_id}, ${run.suite_name}, ${run.fingerprint.source},
          ${metric}, ${value}, ${run.started_at})`,
        );
      }
      await this.#append(tx, step, actor, "run.record", `${run.suite_name}@${run.suite_version ?? "file"}`, {
        run_id: run.run_id,
        fingerprint: run.fingerprint,
        success: run.success,
        statistics: run.statistics,
        score: score?.overall ?? null,
        results_sha256: await sha256Hex(stable(row!.results)),
      });
    });
  }

  /** Runs of a suite (all suites when omitted), newest first. */
  async runs(suite?: string, limit = 50): Promise<RunRow[]> {
    const rows = suite
      ? await this.#sql`select * from ${
        this.#id("runs")
      } where suite = ${suite} order by started_at desc limit ${limit}`
      : await this.#sql`select * from ${this.#id("runs")} order by started_at desc limit ${limit}`;
    return rows.map((r) => ({
      run_id: r.run_id,
      suite: r.suite,
      suite_version: r.suite_version,
      source: r.source,
      started_at: iso(r.started_at),
      success: r.success,
      evaluated: Number(r.statistics?.evaluated_expectations ?? 0),
      successful: Number(r.statistics?.successful_expectations ?? 0),
      score: r.score?.overall ?? null,
    }));
  }

  /** One stored run as a {@linkcode ValidationRun} with its score; the latest when `runId` is omitted. */
  async run(runId?: string, suite?: string): Promise<{ run: ValidationRun; score: QualityScore | null } | null> {
    const rows = runId
      ? await this.#sql`select * from ${this.#id("runs")} where run_id::text = ${runId}`
      : suite
      ? await this.#sql`select * from ${this.#id("runs")} where suite = ${suite} order by started_at desc limit 1`
      : await this.#sql`select * from ${this.#id("runs")} order by started_at desc limit 1`;
    const r = rows[0];
    if (!r) return null;
    return {
      run: {
        run_id: r.run_id,
        success: r.success,
        suite_name: r.suite,
        suite_version: r.suite_version ?? undefined,
        fingerprint: r.fingerprint,
        started_at: iso(r.started_at),
        ended_at: iso(r.ended_at),
        results: r.results,
        statistics: r.statistics,
        meta: r.meta ?? undefined,
      },
      score: r.score ?? null,
    };
  }

  /** The history of one metric of a suite, oldest first (optionally of one source). */
  async metricHistory(
    suite: string,
    metric: string,
    source?: string,
  ): Promise<{ at: string; value: number; run_id: string }[]> {
    const rows = source
      ? await this.#sql`select at, value, run_id from ${this.#id("metrics")}
          where suite = ${suite} and metric = ${metric} and source = ${source} order by at`
      : await this
        .#sql`select at, value, run_id from ${
        this.#id("metrics")
      } where suite = ${suite} and metric = ${metric} order by at`;
    return rows.map((r) => ({ at: iso(r.at), value: Number(r.value), run_id: r.run_id }));
  }

  /** Metric names stored for a suite. */
  async metricNames(suite: string): Promise<string[]> {
    const rows = await this.#sql`select distinct metric from ${
      this.#id("metrics")
    } where suite = ${suite} order by metric`;
    return rows.map((r) => String(r.metric));
  }

  /** The audit log, oldest first. */
  async auditLog(limit?: number): Promise<AuditEntry[]> {
    const rows = limit
      ? await this.#sql`select * from (select * from ${
        this.#id("audit")
      } order by seq desc limit ${limit}) t order by seq`
      : await this.#sql`select * from ${this.#id("audit")} order by seq`;
    return rows.map((r) => ({ ...(r as unknown as AuditEntry), seq: Number(r.seq) }));
  }

  /** Walks the audit chain and the runs it vouches for; see the module doc. */
  async verifyAudit(): Promise<AuditVerdict> {
    const entries = await this.auditLog();
    const problems: string[] = [];
    let prev = GENESIS;
    let expectSeq = 1;
    for (const e of entries) {
      if (e.seq !== expectSeq) {
        problems.push(`entry ${expectSeq}${e.seq > expectSeq + 1 ? `…${e.seq - 1}` : ""} is missing (deleted)`);
      }
      if (e.prev_hash !== prev) problems.push(`entry ${e.seq}: its link to the previous entry is broken`);
      if ((await entryHash(e)) !== e.hash) {
        problems.push(`entry ${e.seq} (${e.action} ${e.subject}) was changed: its hash does not match`);
      }
      prev = e.hash;
      expectSeq = e.seq + 1;
    }
    const [head] = await this.#sql`select seq, hash from ${this.#id("audit_head")} where id = 1`;
    const last = entries.at(-1);
    if (head && (!last || Number(head.seq) !== last.seq || head.hash !== last.hash)) {
      problems.push(
        `the log ends at entry ${last?.seq ?? 0} but its head says ${head.seq}: entries were deleted at the end`,
      );
    }
    const runs = await this.#sql`select run_id::text as id, results from ${this.#id("runs")}`;
    const byRun = new Map(runs.map((r) => [String(r.id), r.results]));
    for (const e of entries.filter((x) => x.action === "run.record")) {
      const body = JSON.parse(e.body) as { run_id: string; results_sha256: string };
      const results = byRun.get(body.run_id);
      if (results === undefined) problems.push(`run ${body.run_id} (audit entry ${e.seq}) was deleted`);
      else if ((await sha256Hex(stable(results))) !== body.results_sha256) {
        problems.push(`run ${body.run_id}: its stored results were changed after audit entry ${e.seq}`);
      }
    }
    return { ok: problems.length === 0, entries: entries.length, problems };
  }
}

function iso(v: unknown): string {
  return v instanceof Date ? v.toISOString() : String(v);
}

function toVersion(r: Record<string, unknown>): SuiteVersion {
  return {
    name: String(r.name),
    version: Number(r.version),
    suite: { ...(r.suite as ExpectationSuite), version: Number(r.version) },
    author: String(r.author),
    reason: String(r.reason),
    created_at: iso(r.created_at),
    diff: r.diff as Change[],
  };
}

/**
 * The metrics a run yields: `row_count`, per column `<col>.null_share` (from
 * column expectations' missing counts) and each aggregate expectation's
 * numeric observed value (`<col>.mean`, `<col>.max`, …), and per expectation
 * `<type>(<col>).unexpected_percent`.
 */
export function runMetrics(run: ValidationRun): Map<string, number> {
  const m = new Map<string, number>();
  m.set("row_count", run.fingerprint.row_count);
  const stat: Record<string, string> = {
    expect_column_mean_to_be_between: "mean",
    expect_column_median_to_be_between: "median",
    expect_column_stdev_to_be_between: "stdev",
    expect_column_min_to_be_between: "min",
    expect_column_max_to_be_between: "max",
    expect_column_sum_to_be_between: "sum",
    expect_column_unique_value_count_to_be_between: "distinct",
    expect_column_proportion_of_unique_values_to_be_between: "unique_share",
  };
  for (const r of run.results) {
    const k = r.expectation_config.kwargs;
    const col = typeof k.column === "string" ? k.column : undefined;
    const res = r.result ?? {};
    if (col && typeof res.element_count === "number" && res.element_count > 0) {
      // GX counts nulls as unexpected for not_be_null and as missing for the other column map expectations.
      const nulls = r.expectation_config.type === "expect_column_values_to_not_be_null"
        ? res.unexpected_count
        : res.missing_count;
      if (typeof nulls === "number") m.set(`${col}.null_share`, nulls / res.element_count);
    }
    const name = stat[r.expectation_config.type];
    if (col && name && typeof res.observed_value === "number") m.set(`${col}.${name}`, res.observed_value);
    if (typeof res.unexpected_percent === "number") {
      m.set(`${r.expectation_config.type}(${col ?? ""}).unexpected_percent`, res.unexpected_percent);
    }
  }
  return m;
}

/**
 * Opens the store at the context's PostgreSQL endpoint (migrated), runs `fn`,
 * closes it. The schema is `quality`, or `MERCURY_QUALITY_SCHEMA` when set
 * (tests keep theirs apart with it).
 */
export async function withStore<T>(
  ctx: Pick<CommandContext, "endpoints"> | { url: string; schema?: string },
  fn: (s: QualityStore) => Promise<T>,
): Promise<T> {
  const url = "url" in ctx ? ctx.url : ctx.endpoints().postgres.url;
  const schema = ("schema" in ctx ? ctx.schema : undefined) ?? Deno.env.get("MERCURY_QUALITY_SCHEMA") ?? "quality";
  await using pg: PostgresConnection = await connectPostgres({ url });
  const store = new QualityStore(pg.sql, schema);
  await store.migrate();
  return await fn(store);
}
