/**
 * `FeatureStore`: the front door wiring a repo to the registry (PostgreSQL),
 * the offline store (DuckDB + Parquet) and the online store (Redis) of one
 * environment — what a notebook or the CLI opens first, like Feast's
 * `FeatureStore(repo_path=…)`.
 *
 * @module
 */
import { type DuckDBHandle, openDuckDB } from "@mercury/core/services/duckdb";
import { connectPostgres, type PostgresConnection } from "@mercury/core/services/postgres";
import { connectRedis, type RedisConnection } from "@mercury/core/services/redis";
import type { FeatureRepo } from "./definitions.ts";
import { type EntityInput, type FeatureRefs, getHistoricalFeatures, type HistoricalOptions } from "./historical.ts";
import { type Lineage, lineageGraph } from "./lineage.ts";
import { materialize, type MaterializeOptions, type MaterializeReport } from "./materialize.ts";
import { OfflineStore } from "./offline_store.ts";
import { onlinePrefix, RedisOnlineStore } from "./online_store.ts";
import { FeatureServer, type ServingMetrics } from "./online_features.ts";
import { apply, type ApplyOptions, type Plan, plan, promote } from "./plan.ts";
import { type Environment, FeatureRegistry } from "./registry.ts";
import { validateRepo } from "./validate.ts";

/** Options of {@linkcode openFeatureStore}. */
export interface FeatureStoreOptions {
  repo: FeatureRepo;
  env?: Environment;
  /** Registry schema (default `mercury_features`). */
  schema?: string;
  /** Offline Parquet root (default `.mercury/features/offline`). */
  offlineRoot?: string;
  /** Redis key prefix (default `mf:<project>:<env>:`). */
  redisPrefix?: string;
  /** DuckDB settings, e.g. `{ threads: "2" }`. */
  duckdbConfig?: Record<string, string>;
}

/** An open feature store; `close()` it when done. */
export interface FeatureStore {
  repo: FeatureRepo;
  env: Environment;
  registry: FeatureRegistry;
  offline: OfflineStore;
  online: RedisOnlineStore;
  pg: PostgresConnection;
  redis: RedisConnection;
  duck: DuckDBHandle;
  plan(): Promise<Plan>;
  apply(options?: ApplyOptions): Promise<Plan>;
  promote(to: Environment, options?: ApplyOptions): Promise<Plan>;
  /** Materialises views (default all online views). */
  materialize(views?: string[], options?: MaterializeOptions): Promise<MaterializeReport[]>;
  getHistoricalFeatures(
    entities: EntityInput | undefined,
    refs: FeatureRefs,
    options?: HistoricalOptions,
  ): Promise<Record<string, unknown>[]>;
  /** A FeatureServer over this environment's online store. */
  server(options?: { metrics?: ServingMetrics }): FeatureServer;
  lineage(): Promise<Lineage>;
  close(): Promise<void>;
}

/**
 * Opens the stores of a repo in one environment (registry tables are created if missing).
 *
 * @example
 * ```ts ignore
 * const fs = await openFeatureStore({ repo, env: "dev" });
 * await fs.apply({ why: "first version" });
 * await fs.materialize();
 * await fs.close();
 * ```
 */
export async function openFeatureStore(options: FeatureStoreOptions): Promise<FeatureStore> {
  validateRepo(options.repo);
  const repo = options.repo;
  const env = options.env ?? "dev";
  const pg = await connectPostgres({ max: 4 });
  let redis: RedisConnection | undefined;
  let duck: DuckDBHandle | undefined;
  try {
    redis = await connectRedis();
    duck = await openDuckDB({ config: options.duckdbConfig });
    const registry = new FeatureRegistry(pg.sql, { project: repo.project, env, schema: options.schema });
    await registry.init();
    const offline = new OfflineStore({
      connection: duck.connection,
      repo,
      env,
      root: options.offlineRoot,
      sql: pg.sql,
    });
    const online = new RedisOnlineStore(redis.client, options.redisPrefix ?? onlinePrefix(repo.project, env));
    const r = redis, d = duck;
    return {
      repo,
      env,
      registry,
      offline,
      online,
      pg,
      redis: r,
      duck: d,
      plan: () => plan(repo, registry, { offline }),
      apply: (o) => apply(repo, registry, { offline, ...o }),
      promote: (to, o) => promote(registry, to, o),
      async materialize(views, o) {
        const names = views ?? repo.views.filter((v) => v.online !== false).map((v) => v.name);
        const out: MaterializeReport[] = [];
        for (const name of names) out.push(await materialize(registry, offline, online, name, o));
        return out;
      },
      getHistoricalFeatures: (entities, refs, o) => getHistoricalFeatures(offline, entities, refs, o),
      server: (o) => new FeatureServer(repo, online, o),
      async lineage() {
        return lineageGraph(await registry.current());
      },
      async close() {
        d.close();
        await r.close();
        await pg.close();
      },
    };
  } catch (err) {
    duck?.close();
    redis?.client.disconnect();
    await pg.close();
    throw err;
  }
}
