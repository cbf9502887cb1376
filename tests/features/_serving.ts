/** A small repo served from the real Redis, for the serving tests (no registry, no offline data needed). */
import * as grpc from "@grpc/grpc-js";
import { connectRedis, type RedisConnection } from "@mercury/core/services/redis";
import {
  entity,
  type FeatureRepo,
  FeatureServer,
  type FeatureServerOptions,
  featureService,
  featureView,
  fileSource,
  type HttpFeatureServer,
  onDemandFeatureView,
  onlinePrefix,
  RedisOnlineStore,
  serveHttp,
  type ServeHttpOptions,
} from "@mercury/features";
import { featureServerClient, type GrpcFeatureServer, serveGrpc, type ServeGrpcOptions } from "@mercury/features/grpc";
import { uniqueName } from "../_helpers.ts";

/** What a serving test gets. */
export interface Serving extends AsyncDisposable {
  repo: FeatureRepo;
  redis: RedisConnection;
  store: RedisOnlineStore;
  server(options?: FeatureServerOptions): FeatureServer;
  close(): Promise<void>;
}

/**
 * Cards 1–5 (int64 key, view `card_v`: `limit` float64) and users "u1"–"u5" (string key, view `user_v`: `age` int64),
 * an on-demand view `od` over `card_v:limit` with request fields `amount` (float64) and `flag` (bool), and a service
 * `svc` of `card_v:*` and `od:*`.
 */
export async function servingFixture(): Promise<Serving> {
  const project = uniqueName("srv");
  const src = fileSource({ name: "s", format: "parquet", path: "/nonexistent/*.parquet", timestampField: "ts" });
  const repo: FeatureRepo = {
    project,
    entities: [
      entity({ name: "card", joinKey: "card_id", valueType: "int64" }),
      entity({ name: "user", joinKey: "user_id", valueType: "string" }),
    ],
    views: [
      featureView({
        name: "card_v",
        entities: ["card"],
        source: src,
        ttlSeconds: 0,
        features: [{ name: "limit", type: "float64" }],
      }),
      featureView({
        name: "user_v",
        entities: ["user"],
        source: src,
        ttlSeconds: 0,
        features: [{ name: "age", type: "int64" }],
      }),
    ],
    onDemandViews: [onDemandFeatureView({
      name: "od",
      inputs: ["card_v:limit"],
      request: [{ name: "amount", type: "float64" }, { name: "flag", type: "bool" }],
      features: [{ name: "ratio", type: "float64" }],
      transform: (r) => ({ ratio: r.flag ? Number(r.amount) / Number(r.limit) : null }),
    })],
    services: [featureService({ name: "svc", features: ["card_v:*", "od:*"] })],
  };
  const redis = await connectRedis();
  const store = new RedisOnlineStore(redis.client, onlinePrefix(project, "dev"));
  const now = Date.now();
  await store.write(
    "card_v",
    [1, 2, 3, 4, 5].map((k) => ({
      key: String(k),
      eventMs: now,
      createdMs: 0,
      payload: JSON.stringify({ limit: k * 100 }),
    })),
    0,
  );
  await store.write(
    "user_v",
    [1, 2, 3, 4, 5].map((k) => ({
      key: `u${k}`,
      eventMs: now,
      createdMs: 0,
      payload: JSON.stringify({ age: 20 + k }),
    })),
    0,
  );
  const close = async () => {
    await store.clear();
    await redis.close();
  };
  return {
    repo,
    redis,
    store,
    server: (options) => new FeatureServer(repo, store, options),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** One FeatureServer on HTTP and gRPC (free ports) with a gRPC client; `await using` closes all three. */
export interface ServedBoth extends AsyncDisposable {
  server: FeatureServer;
  http: HttpFeatureServer;
  grpc: GrpcFeatureServer;
  call(method: string, req: unknown): Promise<Record<string, unknown>>;
  client: grpc.Client & Record<string, unknown>;
}

/**
 * Serves `fx.server(options)` over HTTP and gRPC on free ports, with a gRPC client:
 * `await using s = await servedBoth(fx, { http: { maxBodyBytes: 2000 } })`.
 */
export async function servedBoth(
  fx: Serving,
  options: { server?: FeatureServerOptions; http?: ServeHttpOptions; grpc?: ServeGrpcOptions } = {},
): Promise<ServedBoth> {
  const server = fx.server(options.server);
  const http = serveHttp(server, { port: 0, ...options.http });
  const g = await serveGrpc(server, { port: 0, ...options.grpc });
  const { call, client } = grpcCaller(`127.0.0.1:${g.port}`);
  return {
    server,
    http,
    grpc: g,
    call,
    client,
    async [Symbol.asyncDispose]() {
      client.close();
      await http.close();
      await g.close();
    },
  };
}

/** A promise-returning unary call of the FeatureServer gRPC client. */
export function grpcCaller(address: string): {
  call(method: string, req: unknown): Promise<Record<string, unknown>>;
  client: grpc.Client & Record<string, unknown>;
} {
  const client = featureServerClient(address);
  return {
    client,
    call: (method, req) =>
      new Promise((resolve, reject) =>
        (client[method] as (r: unknown, cb: (e: grpc.ServiceError | null, v: unknown) => void) => void)
          .call(client, req, (e, v) => (e ? reject(e) : resolve(v as Record<string, unknown>)))
      ),
  };
}

/** The error of a call expected to fail. */
export async function grpcError(p: Promise<unknown>): Promise<grpc.ServiceError> {
  return await p.then(
    () => {
      throw new Error("the call succeeded");
    },
    (e: grpc.ServiceError) => e,
  );
}
