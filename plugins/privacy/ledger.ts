/**
 * The privacy budget ledger in PostgreSQL (schema `privacy` by default):
 * a budget per dataset (analyst `*`) and optionally per analyst, and one
 * row per answered query with the (ε, δ) it cost.
 *
 * Each budget composes its queries one of two ways, chosen when it is set:
 *
 * - `basic` (the default): the declared ε's and δ's add up.
 * - `zcdp`: every query is charged its zero-concentrated DP cost (Bun &
 *   Steinke 2016): ρ = Δ²/(2σ²) for a Gaussian answer, ε²/2 for any ε-DP
 *   answer (Laplace, exponential mechanism…), and an (ε, δ) answer (e.g.
 *   partition selection) as δ-approximate ε²/2-zCDP. The budget (ε, δ) is
 *   split once, when it is set, into δ_a for the δ's of the answers
 *   (`approxDelta`, default δ/2) and ρ_B, the largest ρ that converts to ε
 *   at δ − δ_a (Canonne et al. 2020, Cor. 13). A query is refused when
 *   Σρ would pass ρ_B or Σδ would pass δ_a. Because ρ_B and the split are
 *   fixed before any query, this is a privacy filter at fixed RDP orders,
 *   valid when the analyst picks each query (and its noise) adaptively
 *   (Feldman & Zrnic 2021; Haney et al. 2023 for concurrent analysts). Many
 *   Gaussian answers, or many small Laplace ones, fit where basic
 *   composition would refuse them; a few large Laplace answers fit better
 *   under `basic` (ε²/2 is loose for them), hence the choice per budget.
 *
 * A charge describes its mechanisms in `parts` ({@link CostPart}); without
 * parts a charge of δ = 0 counts as one ε-DP answer and one of δ > 0 as an
 * (ε, δ) answer.
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
import { connectPostgres, type PostgresConnection, type Sql, transaction } from "@mercury/core/services/postgres";
import { rhoForEpsilon, zcdpToEpsilon } from "./accounting/zcdp.ts";

/** How a budget composes its queries; see the module doc. */
export type Composition = "basic" | "zcdp";

/** A budget: the most (ε, δ) that may be spent. */
export interface Budget {
  epsilon: number;
  delta: number;
  /** How queries compose against this budget (default `basic`). */
  composition?: Composition;
  /** `zcdp` only: the part of δ kept for the δ's of (ε, δ) answers (default δ/2). */
  approxDelta?: number;
}

/** A budget with what has been spent from it. */
export interface BudgetState extends Budget {
  dataset: string;
  analyst: string;
  composition: Composition;
  /** The (ε, δ) spent: basic sums, or for `zcdp` Σρ converted at δ − δ_a plus Σδ. */
  spentEpsilon: number;
  spentDelta: number;
  /** `zcdp` only: the ρ the budget allows and the ρ spent. */
  rhoBudget?: number;
  spentRho?: number;
}

/**
 * One mechanism inside a query, for the `zcdp` composition: a Gaussian
 * answer with noise multiplier σ/Δ₂, an ε-DP answer, or an answer with only
 * an (ε, δ) guarantee; `count` identical ones (default 1).
 */
export type CostPart =
  | { kind: "gaussian"; sigma: number; count?: number }
  | { kind: "pure"; epsilon: number; count?: number }
  | { kind: "approx"; epsilon: number; delta: number; count?: number };

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
  /** The mechanisms, for budgets that compose by zCDP (default: one ε-DP or (ε, δ) answer). */
  parts?: CostPart[];
}

/** One recorded query. */
export interface LedgerEntry extends Charge {
  id: number;
  at: Date;
  /** The query's zCDP cost ρ and the δ it adds under `zcdp` composition. */
  rho: number;
  approxDelta: number;
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

function badPart(i: number, what: string): never {
  throw new MercuryError("usage", `cost part ${i}: ${what}`, {
    hint: 'parts are {kind:"gaussian",sigma}, {kind:"pure",epsilon} or {kind:"approx",epsilon,delta}',
  });
}

/**
 * The zCDP cost of a charge: ρ summed over its parts (Δ²/(2σ²) per Gaussian
 * answer, ε²/2 per ε-DP or (ε, δ) answer) and the δ's of its (ε, δ) parts.
 *
 * @example
 * ```ts
 * import { chargeCost } from "@mercury/privacy/ledger";
 * import assert from "node:assert/strict";
 *
 * const c = chargeCost({ epsilon: 0.3, delta: 0, parts: [{ kind: "gaussian", sigma: 10, count: 2 }] });
 * assert.ok(Math.abs(c.rho - 0.01) < 1e-15);
 * assert.equal(c.delta, 0);
 * ```
 */
export function chargeCost(c: Pick<Charge, "epsilon" | "delta" | "parts">): { rho: number; delta: number } {
  const parts: CostPart[] = c.parts ??
    [c.delta === 0 ? { kind: "pure", epsilon: c.epsilon } : { kind: "approx", epsilon: c.epsilon, delta: c.delta }];
  if (parts.length === 0) badPart(0, "a charge needs at least one part");
  let rho = 0, delta = 0;
  parts.forEach((p, i) => {
    const n = p.count ?? 1;
    if (!(Number.isInteger(n) && n >= 1)) badPart(i, `count must be a whole number ≥ 1, got ${n}`);
    if (p.kind === "gaussian") {
      if (!(Number.isFinite(p.sigma) && p.sigma > 0)) badPart(i, `sigma must be a finite number > 0, got ${p.sigma}`);
      rho += n / (2 * p.sigma * p.sigma);
    } else if (p.kind === "pure" || p.kind === "approx") {
      if (!(Number.isFinite(p.epsilon) && p.epsilon > 0)) {
        badPart(i, `epsilon must be a finite number > 0, got ${p.epsilon}`);
      }
      rho += (n * p.epsilon * p.epsilon) / 2;
      if (p.kind === "approx") {
        if (!(p.delta >= 0 && p.delta < 1)) badPart(i, `delta must lie in [0, 1), got ${p.delta}`);
        delta += n * p.delta;
      }
    } else badPart(i, `unknown kind ${(p as { kind: unknown }).kind}`);
  });
  return { rho, delta };
}

interface BudgetRow {
  analyst: string;
  epsilon: number;
  delta: number;
  composition: Composition;
  approx_delta: number;
  rho_budget: number | null;
  spent_epsilon: number;
  spent_delta: number;
  spent_rho: number;
  spent_approx_delta: number;
}

/** What a row would hold after a charge, or why it is refused. */
function afterCharge(
  r: BudgetRow,
  charge: Charge,
  cost: { rho: number; delta: number },
): { spentEpsilon: number; spentDelta: number; spentRho: number; spentApprox: number } | { refused: string } {
  if (r.composition === "zcdp") {
    const rho = r.spent_rho + cost.rho, da = r.spent_approx_delta + cost.delta;
    if (rho > r.rho_budget! * (1 + TOLERANCE) || da > r.approx_delta * (1 + TOLERANCE) + 1e-300) {
      return {
        refused: `this query needs ρ=${cost.rho.toPrecision(4)}, δ=${cost.delta} (zCDP) but only ρ=${
          Math.max(0, r.rho_budget! - r.spent_rho).toPrecision(4)
        }, δ=${Math.max(0, r.approx_delta - r.spent_approx_delta)} remain of ρ=${
          r.rho_budget!.toPrecision(4)
        } (ε=${r.epsilon}, δ=${r.delta})`,
      };
    }
    const dConv = r.delta - r.approx_delta;
    return {
      spentEpsilon: rho > 0 ? zcdpToEpsilon(rho, dConv).epsilon : 0,
      spentDelta: (rho > 0 ? dConv : 0) + da,
      spentRho: rho,
      spentApprox: da,
    };
  }
  const eps = r.spent_epsilon + charge.epsilon, del = r.spent_delta + charge.delta;
  if (eps > r.epsilon * (1 + TOLERANCE) || del > r.delta * (1 + TOLERANCE) + 1e-300) {
    return {
      refused: `this query needs ε=${charge.epsilon}, δ=${charge.delta} but only ε=${
        Math.max(0, r.epsilon - r.spent_epsilon)
      }, δ=${Math.max(0, r.delta - r.spent_delta)} remain`,
    };
  }
  return { spentEpsilon: eps, spentDelta: del, spentRho: r.spent_rho, spentApprox: r.spent_approx_delta };
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
    await transaction(sql, async (tx, step) => {
      await step(tx`select pg_advisory_xact_lock(hashtext(${"mercury-privacy-ledger:" + this.schema}))`);
      await step(tx.unsafe(`create schema if not exists ${quoteIdent(this.schema)}`));
      await step(tx.unsafe(`create table if not exists ${this.#t("budgets")} (
        dataset text not null,
        analyst text not null,
        epsilon double precision not null check (epsilon > 0),
        delta double precision not null check (delta >= 0 and delta < 1),
        spent_epsilon double precision not null default 0,
        spent_delta double precision not null default 0,
        updated_at timestamptz not null default now(),
        primary key (dataset, analyst))`));
      await step(tx.unsafe(`create table if not exists ${this.#t("ledger")} (
        id bigserial primary key,
        dataset text not null,
        analyst text not null,
        query text not null,
        mechanism text not null,
        epsilon double precision not null check (epsilon > 0),
        delta double precision not null check (delta >= 0 and delta < 1),
        detail jsonb not null default '{}'::jsonb,
        at timestamptz not null default now())`));
      await step(tx.unsafe(`create index if not exists ledger_dataset_idx on ${this.#t("ledger")} (dataset, at)`));
      // Columns of the zCDP composition, added to ledgers made before it.
      await step(tx.unsafe(`alter table ${this.#t("budgets")}
        add column if not exists composition text not null default 'basic' check (composition in ('basic', 'zcdp')),
        add column if not exists approx_delta double precision not null default 0,
        add column if not exists rho_budget double precision,
        add column if not exists spent_rho double precision not null default 0,
        add column if not exists spent_approx_delta double precision not null default 0`));
      await step(tx.unsafe(`alter table ${this.#t("ledger")}
        add column if not exists rho double precision not null default 0,
        add column if not exists approx_delta double precision not null default 0,
        add column if not exists parts jsonb`));
    });
  }

  /**
   * Sets the budget of a dataset (analyst omitted or `*`) or of one analyst
   * on it; what was already spent is kept. The composition of a budget from
   * which something was spent cannot be changed (its past costs were counted
   * the other way).
   */
  async setBudget(dataset: string, budget: Budget, analyst = "*"): Promise<void> {
    checkCost(budget, `budget of ${dataset}`);
    const composition = budget.composition ?? "basic";
    if (composition !== "basic" && composition !== "zcdp") {
      throw new MercuryError("usage", `budget of ${dataset}: unknown composition '${composition}'`, {
        hint: "use basic or zcdp",
      });
    }
    let approx = 0, rhoBudget: number | null = null;
    if (composition === "zcdp") {
      approx = budget.approxDelta ?? budget.delta / 2;
      if (!(budget.delta > 0 && approx >= 0 && approx < budget.delta)) {
        throw new MercuryError(
          "usage",
          `budget of ${dataset}: zCDP composition needs δ > 0 and 0 ≤ approxDelta < δ, got δ=${budget.delta}, approxDelta=${approx}`,
          { hint: "e.g. --delta 1e-6 (half of it is kept for partition selection unless --approx-delta)" },
        );
      }
      rhoBudget = rhoForEpsilon(budget.epsilon, budget.delta - approx);
    }
    await transaction(this.#sql, async (tx, step) => {
      const [old] = await step(tx.unsafe(
        `select composition, spent_epsilon from ${this.#t("budgets")} where dataset = $1 and analyst = $2 for update`,
        [dataset, analyst],
      ));
      if (old && old.composition !== composition && old.spent_epsilon > 0) {
        throw new MercuryError(
          "conflict",
          `the budget of ${
            analyst === "*" ? `dataset '${dataset}'` : `analyst '${analyst}' on '${dataset}'`
          } composes by ${old.composition} and has spending; it cannot switch to ${composition}`,
          { where: `${this.schema}.budgets`, hint: "keep its composition, or start a new data set name" },
        );
      }
      await step(tx.unsafe(
        `insert into ${this.#t("budgets")} (dataset, analyst, epsilon, delta, composition, approx_delta, rho_budget)
         values ($1, $2, $3, $4, $5, $6, $7)
         on conflict (dataset, analyst) do update set epsilon = excluded.epsilon, delta = excluded.delta,
           composition = excluded.composition, approx_delta = excluded.approx_delta,
           rho_budget = excluded.rho_budget, updated_at = now()`,
        [dataset, analyst, budget.epsilon, budget.delta, composition, approx, rhoBudget],
      ));
    });
  }

  /** The dataset's budget and, when it has one, the analyst's. */
  async budgets(dataset: string): Promise<BudgetState[]> {
    const rows = await this.#sql.unsafe(
      `select dataset, analyst, epsilon, delta, composition, approx_delta, rho_budget, spent_epsilon, spent_delta,
         spent_rho from ${this.#t("budgets")} where dataset = $1 order by analyst`,
      [dataset],
    );
    return rows.map((r) => ({
      dataset: r.dataset,
      analyst: r.analyst,
      epsilon: r.epsilon,
      delta: r.delta,
      composition: r.composition,
      spentEpsilon: r.spent_epsilon,
      spentDelta: r.spent_delta,
      ...(r.composition === "zcdp"
        ? { approxDelta: r.approx_delta, rhoBudget: r.rho_budget, spentRho: r.spent_rho }
        : {}),
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
    const cost = chargeCost(charge);
    return await transaction(this.#sql, async (tx, step) => {
      const rows = await step(tx.unsafe(
        `select analyst, epsilon, delta, composition, approx_delta, rho_budget, spent_epsilon, spent_delta, spent_rho,
           spent_approx_delta from ${this.#t("budgets")}
         where dataset = $1 and analyst in ('*', $2) order by analyst for update`,
        [charge.dataset, charge.analyst],
      )) as unknown as BudgetRow[];
      if (!rows.some((r) => r.analyst === "*")) {
        throw new MercuryError("not_found", `no privacy budget is set for dataset '${charge.dataset}'`, {
          where: `${this.schema}.budgets`,
          hint: `set one first: deno task mercury privacy budget ${charge.dataset} --epsilon 3 --delta 1e-6`,
        });
      }
      const next = rows.map((r) => {
        const n = afterCharge(r, charge, cost);
        if ("refused" in n) {
          const who = r.analyst === "*"
            ? `dataset '${charge.dataset}'`
            : `analyst '${r.analyst}' on '${charge.dataset}'`;
          throw new MercuryError("conflict", `privacy budget exhausted for ${who}: ${n.refused}`, {
            where: `${this.schema}.budgets`,
            hint: "ask for less (smaller ε or fewer columns) or raise the budget",
          });
        }
        return { row: r, ...n };
      });
      const value = await step(run());
      for (const n of next) {
        await step(tx.unsafe(
          `update ${this.#t("budgets")} set spent_epsilon = $3, spent_delta = $4, spent_rho = $5,
             spent_approx_delta = $6, updated_at = now() where dataset = $1 and analyst = $2`,
          [charge.dataset, n.row.analyst, n.spentEpsilon, n.spentDelta, n.spentRho, n.spentApprox],
        ));
      }
      const [e] = await step(tx.unsafe(
        `insert into ${
          this.#t("ledger")
        } (dataset, analyst, query, mechanism, epsilon, delta, detail, rho, approx_delta,
           parts) values ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10::jsonb) returning id, at`,
        [
          charge.dataset,
          charge.analyst,
          charge.query,
          charge.mechanism,
          charge.epsilon,
          charge.delta,
          JSON.stringify(charge.detail ?? {}),
          cost.rho,
          cost.delta,
          charge.parts ? JSON.stringify(charge.parts) : null,
        ],
      ));
      const left = next.map((n) => ({
        epsilon: n.row.epsilon - n.spentEpsilon,
        delta: n.row.delta - n.spentDelta,
      }));
      return {
        value,
        entry: { ...charge, id: Number(e!.id), at: e!.at, rho: cost.rho, approxDelta: cost.delta },
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
      `select id, dataset, analyst, query, mechanism, epsilon, delta, detail, at, rho, approx_delta, parts
       from ${this.#t("ledger")}
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
      rho: r.rho,
      approxDelta: r.approx_delta,
      ...(r.parts ? { parts: r.parts } : {}),
    }));
  }

  /** Deletes a dataset's budgets and entries, in one transaction (demos and tests that start over). */
  async forget(dataset: string): Promise<void> {
    await transaction(this.#sql, async (tx, step) => {
      await step(tx.unsafe(`delete from ${this.#t("ledger")} where dataset = $1`, [dataset]));
      await step(tx.unsafe(`delete from ${this.#t("budgets")} where dataset = $1`, [dataset]));
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
