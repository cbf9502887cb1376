/**
 * Opens the model registry for a command: PostgreSQL at the resolved endpoint (MERCURY_PG_URL, the services file or
 * the default), its schema created on first use.
 *
 * @module
 */
import { connectPostgres } from "@mercury/core/services/postgres";
import { ModelRegistry } from "../registry.ts";

/** Runs `fn` with the registry open; the connection is closed afterwards. */
export async function withRegistry<T>(fn: (reg: ModelRegistry) => Promise<T>): Promise<T> {
  await using pg = await connectPostgres({ max: 2, timeoutMs: 3000 });
  const reg = new ModelRegistry(pg.sql);
  await reg.migrate();
  return await fn(reg);
}
