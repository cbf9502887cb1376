/**
 * A PostgreSQL transaction that stays dead once its connection is lost.
 *
 * postgres.js (3.4.9) rejects `sql.begin` as soon as the transaction's
 * connection closes (a server crash, a network cut), but the callback runs on,
 * and its `tx` still sends statements to the same connection object — which
 * the pool reconnects and hands to the next caller, typically the retry of
 * that very transaction. Worse, a COPY whose data was sent but whose
 * completion never arrived leaves its completion callback armed on the
 * connection object: it fires on the reconnected connection's next completed
 * statement, and the dead callback resumes there. That is how a checkpoint's
 * rollup increment once landed in its own retry's transaction and was counted
 * twice (tests/stream/rollup_connection_loss_test.ts). Even the callback's
 * failure is unsafe: postgres.js then sends ROLLBACK on the reused connection,
 * which can end someone else's transaction half-way.
 *
 * {@linkcode transaction} gives the callback a `step` to await every statement
 * through: once the transaction is over, or a statement failed because the
 * connection was lost, the callback never resumes — it sends nothing more and
 * never settles, so postgres.js sends neither COMMIT nor ROLLBACK for it. The
 * caller still gets the connection error (postgres.js rejects `begin` when the
 * connection closes) and may retry.
 *
 * @module
 */
import type postgres from "postgres";
import type { Sql } from "./postgres.ts";

/** The transaction-scoped `sql` a {@linkcode transaction} callback gets. */
export type Tx = postgres.TransactionSql;

/** Awaits a statement (or anything) inside a {@linkcode transaction}; never resumes a dead transaction. */
export type Step = <U>(p: PromiseLike<U>) => Promise<U>;

/** postgres.js's codes for a lost connection, and SQLSTATE classes 08 (connection) and 57P (shutdown, crash). */
const LOST = /^(CONNECTION_(CLOSED|DESTROYED|ENDED)|CONNECT_TIMEOUT|ECONNRESET|EPIPE|ECONNREFUSED|08...|57P0[1-3])$/;

/** Whether `err` means the connection was lost (rather than the statement failing on a live connection). */
export function connectionLost(err: unknown): boolean {
  return LOST.test(String((err as { code?: unknown } | null)?.code ?? ""));
}

/**
 * Runs `fn` in a transaction (`sql.begin`); `fn` must await every statement
 * (and every other promise) through `step`.
 *
 * @example
 * ```ts ignore
 * import { transaction } from "@mercury/core/services/postgres";
 *
 * await transaction(sql, async (tx, step) => {
 *   await step(tx`update t set n = n + 1 where id = 1`);
 *   await step(tx`insert into log values (1)`); // never sent once the connection was lost above
 * });
 * ```
 */
export async function transaction<T>(sql: Sql, fn: (tx: Tx, step: Step) => Promise<T>): Promise<T> {
  let over = false;
  const never = new Promise<never>(() => {});
  const step: Step = async (p) => {
    // postgres.js sends a statement when it is first awaited: a dead transaction awaits nothing more.
    if (over) return never;
    let value;
    try {
      value = await p;
    } catch (err) {
      if (over || connectionLost(err)) return never;
      throw err;
    }
    return over ? never : value;
  };
  try {
    return await sql.begin((tx) => fn(tx, step)) as T;
  } finally {
    over = true;
  }
}
