/** A throwaway store schema per test file, dropped at the end. */
import { connectPostgres, type PostgresConnection } from "@mercury/core/services/postgres";
import { QualityStore } from "../../plugins/quality/store/store.ts";

export interface TestStore extends AsyncDisposable {
  store: QualityStore;
  pg: PostgresConnection;
  schema: string;
}

/** Opens a store in a fresh schema `quality_test_<random>`; disposing drops the schema. */
export async function testStore(): Promise<TestStore> {
  const pg = await connectPostgres();
  const schema = `quality_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const store = new QualityStore(pg.sql, schema);
  await store.migrate();
  return {
    store,
    pg,
    schema,
    async [Symbol.asyncDispose]() {
      await pg.sql.unsafe(`drop schema if exists ${schema} cascade`);
      await pg.close();
    },
  };
}
