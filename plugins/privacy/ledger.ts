/**
 * The privacy budget ledger in PostgreSQL (schema `privacy` by default):
 * a budget per dataset (analyst `*`) and optionally per analyst, and one
 * row per answered query with the (ε, δ) it cost. Costs compose by basic
 * composition (ε's and δ's add up).
 *
 * {@link Ledger.spend} takes the budget rows `FOR UPDATE` (the dataset's row
 * and the analyst's, always in the same order, so two spends never
 * deadlock), refuses before running anything if the cost would pass either
 * budget, then runs the query inside the same transaction and records its
 * cost only if it succeeds. Two concurrent queries on one dataset therefore
 * run one after the other and can never overspend together; a query that
 * fails leaves no ledger entry and no charge.
 *
 * @example
 * ```ts ignore
 * import { Ledger } from "@mercury/privacy/ledger";
 *
 * await using ledger = await Ledger.open();
 * await ledger.setBudget("patients", { epsilon: 3, delta: 1e-6 });
 * const answer = await ledger.spend(
 *   { dataset: "patients", analyst: "ada", query: "count(*)", mechanism: "laplace", epsilon: 0.5, delta: 0 },
 *   async () => 1234,
 * );
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core/plugin";
import { quoteIdent } from "@mercury/core/sql";
import { connectPostgres, type PostgresConnection, type Sql } from "@mercury/core/services/postgres";

/** A budget: the most (ε, δ) that may be spent. */
export interface Budget {
  epsilon: number;
  delta: number;
}

/** A budget with what has been spent from it. */
export interface BudgetState extends Budget {
  dataset: string;
  analyst: string;
  spentEpsilon: number;
  spentDelta: number;
}

/** What one query costs and who asks it. */
export interface Charge {
  dataset: string;
  analyst: string;
  /** The query text (or a description), kept in the ledger. */
  query: string;
  /** Mechanism(s) used, e.g. "laplace", "gaussian+partition-selection". */
  mechanism: string;
  epsilon: number;
  delta: number;
  /** Anything else worth keeping (noise scales, columns). */
  detail?: Record<string, unknown>;
}

/** One recorded query. */
export interface LedgerEntry extends Charge {
  id: number;
  at: Date;
}

const TOLERANCE = 1e-9;

function checkCost(c: { epsilon: number; delta: number }, what: string): void {
  if (!(Number.isFinite(c.epsilon) && c.epsilon > 0)) {
    throw new MercuryError("usage", `${what}: epsilon must be a finite number > 0, got ${c.epsilon}`, {
      hint: "give a positive ε, e.g. --epsilon 1.0",
    });
  }
  if (!(Number.isFinite(c.delta) && c.delta >= 0 && c.delta < 1)) {
    throw new MercuryError("usage", `${what}: delta must lie in [0, 1), got ${c.delta}`, {
      hint: "δ is a probability, typically far below 1/n (e.g. 1e-6)",
    });
  }
}

/** The budget ledger; see the module doc. */
export class Ledger implements AsyncDisposable {
  readonly schema: string;
  #pg: PostgresConnection;
  #owned: boolean;

  private constructor(pg: PostgresConnection, schema: string, owned: boolean) {
    this.#pg = pg;
    this.schema = schema;
    this.#owned = owned;
  }

  /** Connects (or uses `pg`) and creates the schema and tables if missing. */
  static async open(o: { url?: string; schema?: string; pg?: PostgresConnection; max?: number } = {}) {
    const pg = o.pg ?? await connectPostgres({ url: o.url, max: o.max ?? 4 });
    const ledger = new Ledger(pg, o.schema ?? "privacy", !o.pg);
    await ledger.#ensureSchema();
    return ledger;
  }

  get #sql(): Sql {
    return this.#pg.sql;
  }

  #t(name: string): string {
    return `${quoteIdent(this.schema)}.${quoteIdent(name)}`;
  }

  async #ensureSchema(): Promise<void> {
    const sql = this.#sql;
    // Concurrent first uses race on CREATE … IF NOT EXISTS; an advisory lock makes them take turns.
    await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(hashtext(${"mercury-privacy-ledger:" + this.schema}))`;
      await tx.unsafe(`create schema if not exists ${quoteIdent(this.schema)}`);
      await tx.unsafe(`create table if not exists ${this.#t("budgets")} (
        dataset text not null,
        analyst text not null,
        epsilon double precision not null check (epsilon > 0),
        delta double precision not null check (delta >= 0 and delta < 1),
        spent_epsilon double precision not null default 0,
        spent_delta double precision not null default 0,
        updated_at timestamptz not null default now(),
        primary key (dataset, analyst))`);
      await tx.unsafe(`create table if not exists ${this.#t("ledger")} (
        id bigserial primary key,
        dataset text not null,
        analyst text not null,
        query text not null,
        mechanism text not null,
        epsilon double precision not null check (epsilon > 0),
        delta double precision not null check (delta >= 0 and delta < 1),
        detail jsonb not null default '{}'::jsonb,
        at timestamptz not null default now())`);
      await tx.unsafe(`create index if not exists ledger_dataset_idx on ${this.#t("ledger")} (dataset, at)`);
    });
  }

  /**
   * Sets the budget of a dataset (analyst omitted or `*`) or of one analyst
   * on it; what was already spent is kept.
   */
  async setBudget(dataset: string, budget: Budget, analyst = "*"): Promise<void> {
    checkCost(budget, `budget of ${dataset}`);
    await this.#sql.unsafe(
      `insert into ${this.#t("budgets")} (dataset, analyst, epsilon, delta) values ($1, $2, $3, $4)
       on conflict (dataset, analyst) do update set epsilon = excluded.epsilon, delta = excluded.delta,
         updated_at = now()`,
      [dataset, analyst, budget.epsilon, budget.delta],
    );
  }

  /** The dataset's budget and, when it has one, the analyst's. */
  async budgets(dataset: string): Promise<BudgetState[]> {
    const rows = await this.#sql.unsafe(
      `select dataset, analyst, epsilon, delta, spent_epsilon, spent_delta from ${this.#t("budgets")}
       where dataset = $1 order by analyst`,
      [dataset],
    );
    return rows.map((r) => ({
      dataset: r.dataset,
      analyst: r.analyst,
      epsilon: r.epsilon,
      delta: r.delta,
      spentEpsilon: r.spent_epsilon,
      spentDelta: r.spent_delta,
    }));
  }

  /** What may still be spent by `analyst` on `dataset` (the tighter of the two budgets). */
  async remaining(dataset: string, analyst = "*"): Promise<Budget> {
    const rows = (await this.budgets(dataset)).filter((b) => b.analyst === "*" || b.analyst === analyst);
    if (!rows.some((b) => b.analyst === "*")) return { epsilon: 0, delta: 0 };
    return {
      epsilon: Math.max(0, Math.min(...rows.map((b) => b.epsilon - b.spentEpsilon))),
      delta: Math.max(0, Math.min(...rows.map((b) => b.delta - b.spentDelta))),
    };
  }

  /**
   * Charges `charge` and runs `run` in one transaction: refused (a
   * `conflict` MercuryError, `run` not called) if it would pass the
   * dataset's or the analyst's budget; nothing recorded if `run` throws.
   */
  async spend<T>(charge: Charge, run: () => Promise<T>): Promise<{ value: T; entry: LedgerEntry; remaining: Budget }> {
    checkCost(charge, `query on ${charge.dataset}`);
    if (charge.analyst === "*") {
      throw new MercuryError("usage", "the analyst '*' is reserved for the dataset's own budget", {
        hint: "name the analyst, e.g. --analyst ada",
      });
    }
    return await this.#sql.begin(async (tx) => {
      const rows = await tx.unsafe(
        `select analyst, epsilon, delta, spent_epsilon, spent_delta from ${this.#t("budgets")}
         where dataset = $1 and analyst in ('*', $2) order by analyst for update`,
        [charge.dataset, charge.analyst],
      );
      if (!rows.some((r) => r.analyst === "*")) {
        throw new MercuryError("not_found", `no privacy budget is set for dataset '${charge.dataset}'`, {
          where: `${this.schema}.budgets`,
          hint: `set one first: deno task mercury privacy budget ${charge.dataset} --epsilon 3 --delta 1e-6`,
        });
      }
      for (const r of rows) {
        const eps = r.spent_epsilon + charge.epsilon, del = r.spent_delta + charge.delta;
        if (eps > r.epsilon * (1 + TOLERANCE) || del > r.delta * (1 + TOLERANCE) + 1e-300) {
          const who = r.analyst === "*"
            ? `dataset '${charge.dataset}'`
            : `analyst '${r.analyst}' on '${charge.dataset}'`;
          throw new MercuryError(
            "conflict",
            `privacy budget exhausted for ${who}: this query needs ε=${charge.epsilon}, δ=${charge.delta} but only ε=${
              Math.max(0, r.epsilon - r.spent_epsilon)
            }, δ=${Math.max(0, r.delta - r.spent_delta)} remain`,
            { where: `${this.schema}.budgets`, hint: "ask for less (smaller ε or fewer columns) or raise the budget" },
          );
        }
      }
      const value = await run();
      await tx.unsafe(
        `update ${this.#t("budgets")} set spent_epsilon = spent_epsilon + $3, spent_delta = spent_delta + $4,
           updated_at = now() where dataset = $1 and analyst in ('*', $2)`,
        [charge.dataset, charge.analyst, charge.epsilon, charge.delta],
      );
      const [e] = await tx.unsafe(
        `insert into ${this.#t("ledger")} (dataset, analyst, query, mechanism, epsilon, delta, detail)
         values ($1, $2, $3, $4, $5, $6, $7::jsonb) returning id, at`,
        [
          charge.dataset,
          charge.analyst,
          charge.query,
          charge.mechanism,
          charge.epsilon,
          charge.delta,
          JSON.stringify(charge.detail ?? {}),
        ],
      );
      const left = rows.map((r) => ({
        epsilon: r.epsilon - r.spent_epsilon - charge.epsilon,
        delta: r.delta - r.spent_delta - charge.delta,
      }));
      return {
        value,
        entry: { ...charge, id: Number(e!.id), at: e!.at },
        remaining: {
          epsilon: Math.max(0, Math.min(...left.map((l) => l.epsilon))),
          delta: Math.max(0, Math.min(...left.map((l) => l.delta))),
        },
      };
    }) as { value: T; entry: LedgerEntry; remaining: Budget };
  }

  /** The ledger's entries for a dataset, oldest first. */
  async entries(dataset: string): Promise<LedgerEntry[]> {
    const rows = await this.#sql.unsafe(
      `select id, dataset, analyst, query, mechanism, epsilon, delta, detail, at from ${this.#t("ledger")}
       where dataset = $1 order by id`,
      [dataset],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      dataset: r.dataset,
      analyst: r.analyst,
      query: r.query,
      mechanism: r.mechanism,
      epsilon: r.epsilon,
      delta: r.delta,
      detail: r.detail,
      at: r.at,
    }));
  }

  /** Deletes a dataset's budgets and entries, in one transaction (demos and tests that start over). */
  async forget(dataset: string): Promise<void> {
    await this.#sql.begin(async (tx) => {
      await tx.unsafe(`delete from ${this.#t("ledger")} where dataset = $1`, [dataset]);
      await tx.unsafe(`delete from ${this.#t("budgets")} where dataset = $1`, [dataset]);
    });
  }

  /** Removes the schema (tests and demos that made their own). */
  async dropSchema(): Promise<void> {
    await this.#sql.unsafe(`drop schema if exists ${quoteIdent(this.schema)} cascade`);
  }

  /** Closes the connection if the ledger opened it. */
  async close(): Promise<void> {
    if (this.#owned) await this.#pg.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
