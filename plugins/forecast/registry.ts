/**
 * The model registry in PostgreSQL (schema `forecast_registry`): every model
 * `train` writes is recorded under a name with a version bumped on each
 * retrain, its data fingerprint, backtest metrics, parent version, the file
 * it was written to and the whole model document (so `predict --model NAME`
 * works without the file). A version can be promoted to a stage
 * (`production`, `staging`); `rollback` puts the production version before the
 * current one back, and every stage change is kept in a history.
 *
 * @example
 * ```ts ignore
 * import { connectPostgres } from "@mercury/core/services/postgres";
 * import { ModelRegistry } from "@mercury/forecast/registry";
 * await using pg = await connectPostgres();
 * const reg = new ModelRegistry(pg.sql);
 * await reg.migrate();
 * const v = await reg.register("demand", "model.pkl", modelFile); // → { version: 1, parent: null, … }
 * await reg.promote("demand", v.version, "production");
 * const prod = await reg.get("demand", { stage: "production" });
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { type Sql, transaction } from "@mercury/core/services/postgres";
import type { ModelFile } from "./model_file.ts";

/** The stages a version can be promoted to. */
export const STAGES = ["production", "staging"] as const;
/** A stage. */
export type Stage = (typeof STAGES)[number];

/** One registered version. */
export interface RegistryEntry {
  name: string;
  version: number;
  parent: number | null;
  stage: string | null;
  path: string;
  algorithm: string;
  description: string;
  fingerprint: string;
  metrics: Record<string, number | undefined>;
  createdAt: string;
}

const DDL = `
create schema if not exists forecast_registry;
create table if not exists forecast_registry.models (
  name text not null,
  version int not null,
  parent int,
  stage text,
  path text not null,
  algorithm text not null,
  description text not null,
  fingerprint text not null,
  metrics jsonb not null,
  document jsonb not null,
  created_at timestamptz not null default now(),
  primary key (name, version)
);
create table if not exists forecast_registry.stage_history (
  seq bigserial primary key,
  name text not null,
  version int not null,
  stage text not null,
  action text not null,
  at timestamptz not null default now()
);`;

/** A model name: letters, digits, `_`, `-`, `.`; 1–100 characters. */
export function checkName(name: string, where = "--name"): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/.test(name)) {
    throw new MercuryError("usage", `model name '${name}' is not valid`, {
      where,
      hint: "use letters, digits, _, - or . (up to 100 characters), e.g. demand-hourly",
    });
  }
  return name;
}

/** Parses `NAME` or `NAME@VERSION` (also `NAME@production`). */
export function parseRef(ref: string, where: string): { name: string; version?: number; stage?: Stage } {
  const at = ref.lastIndexOf("@");
  const name = checkName(at >= 0 ? ref.slice(0, at) : ref, where);
  if (at < 0) return { name };
  const tail = ref.slice(at + 1);
  if ((STAGES as readonly string[]).includes(tail)) return { name, stage: tail as Stage };
  if (!/^[1-9]\d{0,8}$/.test(tail)) {
    throw new MercuryError("usage", `'${ref}' names no version: '${tail}' is not a version number or stage`, {
      where,
      hint: `write NAME@3 for version 3, or NAME@production / NAME@staging`,
    });
  }
  return { name, version: Number(tail) };
}

const entry = (r: Record<string, unknown>): RegistryEntry => ({
  name: String(r.name),
  version: Number(r.version),
  parent: r.parent === null ? null : Number(r.parent),
  stage: (r.stage as string | null) ?? null,
  path: String(r.path),
  algorithm: String(r.algorithm),
  description: String(r.description),
  fingerprint: String(r.fingerprint),
  metrics: r.metrics as Record<string, number | undefined>,
  createdAt: new Date(r.created_at as string).toISOString(),
});

/** The registry over one PostgreSQL pool. */
export class ModelRegistry {
  #sql: Sql;
  constructor(sql: Sql) {
    this.#sql = sql;
  }

  /** Creates the schema and tables when missing (idempotent; serialised by an advisory lock). */
  async migrate(): Promise<void> {
    await transaction(this.#sql, async (tx, step) => {
      await step(tx`select pg_advisory_xact_lock(hashtext('forecast_registry.migrate'))`);
      const [have] = await step(tx`select to_regclass('forecast_registry.stage_history') is not null as ok`);
      if (!have?.ok) await step(tx.unsafe(DDL));
    });
  }

  /** Records a model file as the next version of `name`; its parent is the latest version before it. */
  async register(name: string, path: string, file: ModelFile): Promise<RegistryEntry> {
    checkName(name);
    return await transaction(this.#sql, async (tx, step) => {
      await step(tx`select pg_advisory_xact_lock(hashtext(${"forecast_registry:" + name}))`);
      const [last] = await step(tx`select max(version) as v from forecast_registry.models where name = ${name}`);
      const parent = last?.v === null || last?.v === undefined ? null : Number(last.v);
      const [row] = await step(tx`insert into forecast_registry.models
        (name, version, parent, stage, path, algorithm, description, fingerprint, metrics, document)
        values (${name}, ${(parent ?? 0) + 1}, ${parent}, ${null}, ${path}, ${file.algorithm}, ${file.description},
          ${file.fingerprint}, ${tx.json(file.metrics as never)}, ${tx.json(file as never)})
        returning name, version, parent, stage, path, algorithm, description, fingerprint, metrics, created_at`);
      return entry(row!);
    });
  }

  /** Every version (of one name, or of all), newest first. */
  async list(name?: string): Promise<RegistryEntry[]> {
    const rows = name
      ? await this.#sql`select name, version, parent, stage, path, algorithm, description, fingerprint, metrics,
          created_at from forecast_registry.models where name = ${name} order by version desc`
      : await this.#sql`select name, version, parent, stage, path, algorithm, description, fingerprint, metrics,
          created_at from forecast_registry.models order by name, version desc`;
    return rows.map(entry);
  }

  /** One version with its model document: by number, by stage, or the latest. */
  async get(
    name: string,
    which: { version?: number; stage?: Stage } = {},
    where = name,
  ): Promise<RegistryEntry & { document: ModelFile }> {
    const rows = which.version !== undefined
      ? await this.#sql`select * from forecast_registry.models where name = ${name} and version = ${which.version}`
      : which.stage
      ? await this.#sql`select * from forecast_registry.models where name = ${name} and stage = ${which.stage}`
      : await this.#sql`select * from forecast_registry.models where name = ${name} order by version desc limit 1`;
    const r = rows[0];
    if (!r) {
      const versions = await this.list(name);
      const what = which.version !== undefined
        ? `version ${which.version}`
        : which.stage
        ? `${which.stage} version`
        : "versions";
      throw new MercuryError("not_found", `model '${name}' has no ${what}`, {
        where,
        hint: versions.length
          ? `its versions: ${versions.map((v) => `${v.version}${v.stage ? ` (${v.stage})` : ""}`).join(", ")}; ` +
            `promote one with: forecast models promote ${name}@${versions[0]!.version}`
          : "train one with: forecast train --data FILE --name " + name,
      });
    }
    return { ...entry(r), document: r.document as ModelFile };
  }

  /** Puts `version` in `stage`; the version that held the stage is archived (stage cleared). */
  async promote(name: string, version: number, stage: Stage = "production", action = "promote"): Promise<{
    previous: number | null;
  }> {
    await this.get(name, { version }, `${name}@${version}`);
    return await transaction(this.#sql, async (tx, step) => {
      await step(tx`select pg_advisory_xact_lock(hashtext(${"forecast_registry:" + name}))`);
      const [prev] = await step(
        tx`select version from forecast_registry.models where name = ${name} and stage = ${stage}`,
      );
      await step(tx`update forecast_registry.models set stage = null where name = ${name} and stage = ${stage}`);
      await step(
        tx`update forecast_registry.models set stage = ${stage} where name = ${name} and version = ${version}`,
      );
      await step(tx`insert into forecast_registry.stage_history (name, version, stage, action)
        values (${name}, ${version}, ${stage}, ${action})`);
      return { previous: prev ? Number(prev.version) : null };
    });
  }

  /**
   * Puts back the version that held `stage` before the current one; returns both. The stage history works as a
   * stack: a promotion pushes its version, a rollback pops one, so rolling back twice goes two versions back.
   * Refused when the stage was never held by an earlier version.
   */
  async rollback(name: string, stage: Stage = "production"): Promise<{ from: number; to: number }> {
    const current = await this.get(name, { stage }, name);
    const history = await this.#sql`select version, action from forecast_registry.stage_history
      where name = ${name} and stage = ${stage} order by seq`;
    const stack: number[] = [];
    for (const h of history) {
      if (h.action === "rollback") stack.pop();
      else stack.push(Number(h.version));
    }
    const before = stack.length >= 2 ? stack[stack.length - 2]! : undefined;
    if (before === undefined) {
      throw new MercuryError("conflict", `model '${name}' has no ${stage} version before ${current.version}`, {
        where: name,
        hint: `promote another version instead: forecast models promote ${name}@VERSION`,
      });
    }
    await this.promote(name, before, stage, "rollback");
    return { from: current.version, to: before };
  }

  /** The stage history of `name`, oldest first. */
  async history(name: string): Promise<{ version: number; stage: string; action: string; at: string }[]> {
    const rows = await this.#sql`select version, stage, action, at from forecast_registry.stage_history
      where name = ${name} order by seq`;
    return rows.map((r) => ({
      version: Number(r.version),
      stage: String(r.stage),
      action: String(r.action),
      at: new Date(r.at as string).toISOString(),
    }));
  }
}
