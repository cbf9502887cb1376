/**
 * PostgreSQL: connect with npm `postgres`, check health with `select 1`, and
 * tell whether the TimescaleDB extension is available.
 *
 * @example
 * ```ts ignore
 * import { connectPostgres } from "@mercury/core/services/postgres";
 *
 * await using pg = await connectPostgres(); // closed at the end of the block
 * const [row] = await pg.sql`select 1 + 1 as two`;
 * ```
 *
 * @module
 */
import postgres from "postgres";
import { ENV_VARS, redact, resolveEndpoints } from "../config.ts";
import { type HealthReport, unreachable, withTimeout } from "./health.ts";

/** A `postgres` SQL tag function. */
export type Sql = postgres.Sql;

export { connectionLost, type Step, transaction, type Tx } from "./pg_transaction.ts";
export { type CopyColumn, type CopyOutOptions, copyQueryToCsv } from "./pg_copy.ts";

/** Options of {@linkcode connectPostgres}. */
export interface PostgresOptions {
  /** Connection URL (default: the resolved endpoint). */
  url?: string;
  /** Pool size (default 4). */
  max?: number;
  /** Connect timeout in milliseconds (default 5000). */
  timeoutMs?: number;
}

/** A connected PostgreSQL pool. */
/** A connected pool; `await using` closes it (`Symbol.asyncDispose` is {@linkcode PostgresConnection.close}). */
export interface PostgresConnection extends AsyncDisposable {
  sql: Sql;
  url: string;
  /** Runs `select 1` and reads the server version. */
  health(): Promise<HealthReport>;
  /** Whether `create extension timescaledb` would work on this server. */
  timescaleAvailable(): Promise<boolean>;
  /** Ends the pool, waiting for running queries. */
  close(): Promise<void>;
}

/** Connects to PostgreSQL; throws an `unavailable` MercuryError when it does not answer. */
export async function connectPostgres(options: PostgresOptions = {}): Promise<PostgresConnection> {
  const url = options.url ?? resolveEndpoints().postgres.url;
  const timeoutMs = options.timeoutMs ?? 5000;
  const sql = postgres(url, {
    max: options.max ?? 4,
    connect_timeout: Math.ceil(timeoutMs / 1000),
    onnotice: () => {},
  });
  const endpoint = redact(url);
  try {
    await withTimeout(sql`select 1`, timeoutMs, "PostgreSQL connect");
  } catch (err) {
    await sql.end({ timeout: 0 }).catch(() => {});
    throw unreachable("PostgreSQL", endpoint, ENV_VARS.postgres, err);
  }
  const close = () => sql.end({ timeout: 5 });
  return {
    sql,
    url,
    async health() {
      const t0 = performance.now();
      try {
        const [row] = await withTimeout(
          sql`select 1 as ok, current_setting('server_version') as v`,
          timeoutMs,
          "select 1",
        );
        return {
          service: "postgres",
          endpoint,
          ok: row?.ok === 1,
          latencyMs: performance.now() - t0,
          detail: `PostgreSQL ${row?.v}`,
        };
      } catch (err) {
        return { service: "postgres", endpoint, ok: false, latencyMs: performance.now() - t0, detail: String(err) };
      }
    },
    async timescaleAvailable() {
      const rows = await sql`select 1 from pg_available_extensions where name = 'timescaledb'`;
      return rows.length > 0;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
