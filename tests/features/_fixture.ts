/** A small fraud data set and an open FeatureStore over it, unique per test run. */
import { openDuckDB } from "@mercury/core/services/duckdb";
import { connectPostgres } from "@mercury/core/services/postgres";
import { type FeatureRepo, type FeatureStore, openFeatureStore } from "@mercury/features";
import { fraudRepo, generateFraudData } from "@mercury/features/examples/fraud";
import { uniqueName } from "../_helpers.ts";

/**
 * Data ends at today's midnight (UTC): Redis expires keys by its own clock, so
 * the data must be recent; it is the same all day (seeded).
 */
export const END = new Date(Math.floor(Date.now() / 86_400_000) * 86_400_000);

/** What a test gets. */
export interface Fixture {
  dir: string;
  project: string;
  cardsTable: string;
  repo: FeatureRepo;
  fs: FeatureStore;
  cleanup(): Promise<void>;
}

/** Generates data (100 cards × 20 days), opens a store in `dev` under a unique project. */
export async function fraudFixture(options: { cards?: number; days?: number } = {}): Promise<Fixture> {
  const project = uniqueName("t");
  const dir = await Deno.makeTempDir({ prefix: "mf-" });
  const cardsTable = `public.${project}_cards`;
  const pg = await connectPostgres({ max: 1 });
  const db = await openDuckDB();
  try {
    await generateFraudData(db.connection, {
      dir,
      cards: options.cards ?? 100,
      days: options.days ?? 20,
      end: END,
      sql: pg.sql,
      cardsTable,
      seed: 7,
    });
  } finally {
    db.close();
    await pg.close();
  }
  const repo = fraudRepo({ dir, project, cardsTable, topic: `${project}-events` });
  const fs = await openFeatureStore({ repo, env: "dev", offlineRoot: `${dir}/offline` });
  return {
    dir,
    project,
    cardsTable,
    repo,
    fs,
    async cleanup() {
      await fs.online.clear();
      for (const env of ["staging", "prod"]) {
        await fs.redis.client.eval(
          "local k = redis.call('KEYS', ARGV[1]) for i = 1, #k do redis.call('DEL', k[i]) end return #k",
          0,
          `mf:${project}:${env}:*`,
        );
      }
      const s = fs.registry.schema;
      await fs.pg.sql.unsafe(`delete from ${s}.objects where project = $1`, [project]);
      await fs.pg.sql.unsafe(`delete from ${s}.materializations where project = $1`, [project]);
      await fs.pg.sql.unsafe(`delete from ${s}.feature_stats where project = $1`, [project]);
      await fs.pg.sql.unsafe(`delete from ${s}.releases where project = $1`, [project]);
      await fs.pg.sql.unsafe(`drop table if exists ${cardsTable}`);
      await fs.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
