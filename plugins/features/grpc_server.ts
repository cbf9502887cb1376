/**
 * The gRPC feature server, serving `proto/feature_server.proto` on port 50051
 * by default, on one of two engines: `h2` (the default) is Mercury's own
 * unary layer on `node:http2` with protobufjs codecs (`grpc_h2.ts`), `grpc-js`
 * is npm `@grpc/grpc-js`'s server (kept for comparison and as a fallback;
 * `features serve --grpc-engine grpc-js`). Both give the same answers and
 * statuses: bad input answers INVALID_ARGUMENT (NOT_FOUND for an unknown
 * service, UNAVAILABLE when the online store is down or misses its deadline)
 * with the same message the HTTP server gives, naming the field and row; a
 * message over `maxMessageBytes` (default 1 MiB, as the HTTP body limit) is
 * refused with RESOURCE_EXHAUSTED before it is read or decoded, and one that
 * does not decode answers INTERNAL ("Error deserializing request", as gRPC
 * specifies). Clients (`featureServerClient`) use `@grpc/grpc-js`.
 *
 * @module
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import protobuf from "protobufjs";
import { GrpcCallError, GrpcStatus, serveUnary, unaryClient } from "./grpc_h2.ts";
import { encodeOnlineResponse } from "./grpc_codec.ts";
export { GrpcCallError, GrpcStatus } from "./grpc_h2.ts";
import { AccessError, type TokenAuth } from "./pii.ts";
import { MercuryError } from "@mercury/core";
import { DEFAULT_MAX_BODY_BYTES } from "@mercury/core/http_body";
import type { FeatureServer, OnlineRequest } from "./online_features.ts";

/** Path of the published proto file. */
export const PROTO_PATH: string = new URL("./proto/feature_server.proto", import.meta.url).pathname;

/** A proto `Value` as proto-loader gives it (`oneofs: true`). */
export interface ProtoValue {
  int64_val?: number;
  double_val?: number;
  string_val?: string;
  bool_val?: boolean;
  val?: string;
}

/**
 * Converts a JS value to a proto `Value`.
 *
 * @example
 * ```ts
 * import { fromProtoValue, toProtoValue } from "@mercury/features/grpc";
 * import assert from "node:assert/strict";
 * assert.deepEqual(toProtoValue(2.5), { double_val: 2.5 });
 * assert.equal(fromProtoValue({ int64_val: 7, val: "int64_val" }), 7);
 * ```
 */
export function toProtoValue(v: unknown): ProtoValue {
  if (v === null || v === undefined) return {};
  if (typeof v === "number") return Number.isInteger(v) ? { int64_val: v } : { double_val: v };
  if (typeof v === "boolean") return { bool_val: v };
  return { string_val: String(v) };
}

/** Converts a proto `Value` to a JS value. */
export function fromProtoValue(v: ProtoValue | undefined): string | number | boolean | null {
  if (!v) return null;
  const which = v.val;
  if (which) return (v as Record<string, unknown>)[which] as string | number | boolean;
  return v.int64_val ?? v.double_val ?? v.string_val ?? v.bool_val ?? null;
}

const STATUS_CODES = { PRESENT: 1, NULL_VALUE: 2, NOT_FOUND: 3, OUTSIDE_MAX_AGE: 4 } as const;

/** Loads the proto's package definition (for servers and clients). */
export function loadFeatureServerProto(): grpc.GrpcObject {
  const def = protoLoader.loadSync(PROTO_PATH, { keepCase: true, longs: Number, enums: String, oneofs: true });
  return grpc.loadPackageDefinition(def);
}

/** The client constructor of the FeatureServer service. */
export function featureServerClient(address: string): grpc.Client & Record<string, unknown> {
  // deno-lint-ignore no-explicit-any
  const pkg = loadFeatureServerProto() as any;
  return new pkg.mercury.features.v1.FeatureServer(address, grpc.credentials.createInsecure());
}

/** A running gRPC server. */
export interface GrpcFeatureServer {
  port: number;
  close(): Promise<void>;
}

/** Options of {@linkcode serveGrpc}. */
export interface ServeGrpcOptions {
  /** Port (default 50051; 0 picks a free one). */
  port?: number;
  host?: string;
  /** The environment named by `Health`. */
  env?: string;
  /** The largest request message accepted, in bytes (default 1 MiB); a larger one is RESOURCE_EXHAUSTED. */
  maxMessageBytes?: number;
  /** Bearer tokens from the `authorization` metadata: PII features need a token with their scope (see `pii.ts`). */
  auth?: TokenAuth;
  /**
   * `h2` (default): Mercury's own unary gRPC layer over `node:http2` (`grpc_h2.ts`); `grpc-js`: `@grpc/grpc-js`'s
   * server. Same contract, statuses and messages; `h2` is the faster (features README, "gRPC").
   */
  engine?: "h2" | "grpc-js";
  /** `h2`: a call whose request stops arriving for this long is CANCELLED (default 30 s; see `grpc_h2.ts`). */
  idleMs?: number;
}

/**
 * Serves a FeatureServer over gRPC.
 *
 * @example
 * ```ts ignore
 * const g = await serveGrpc(server, { port: 50051 });
 * await g.close();
 * ```
 */
export async function serveGrpc(
  server: FeatureServer,
  options: ServeGrpcOptions = {},
): Promise<GrpcFeatureServer> {
  return options.engine === "grpc-js" ? await serveGrpcJs(server, options) : await serveGrpcH2(server, options);
}

/** The proto's request as decoded with `oneofs: true`, `longs: Number`. */
// deno-lint-ignore no-explicit-any
type DecodedRequest = any;

/** The FeatureServer request of a decoded proto message. */
function onlineRequest(r: DecodedRequest): OnlineRequest {
  const entities: Record<string, (string | number)[]> = {};
  for (const [k, rv] of Object.entries(r.entities ?? {})) {
    entities[k] = ((rv as { val?: ProtoValue[] }).val ?? []).map((v) => fromProtoValue(v) as string | number);
  }
  const requestData: Record<string, unknown[]> = {};
  for (const [k, rv] of Object.entries(r.request_data ?? {})) {
    requestData[k] = ((rv as { val?: ProtoValue[] }).val ?? []).map(fromProtoValue);
  }
  return {
    entities,
    requestData,
    fullFeatureNames: r.full_feature_names === true,
    ...(r.feature_service ? { featureService: r.feature_service } : { features: r.features ?? [] }),
  };
}

/** Answers `req` as the proto's response message (plain object). */
async function lookup(server: FeatureServer, options: ServeGrpcOptions, req: OnlineRequest, authorization: unknown) {
  const caller = await options.auth?.authenticate(typeof authorization === "string" ? authorization : undefined);
  return await server.getOnlineFeatures(req, "grpc", caller);
}

/** The answer as proto-loader's message object (the grpc-js engine; `h2` writes bytes with `grpc_codec.ts`). */
async function answer(server: FeatureServer, options: ServeGrpcOptions, req: OnlineRequest, authorization: unknown) {
  const res = await lookup(server, options, req, authorization);
  return {
    feature_names: res.metadata.featureNames,
    results: res.results.map((c) => ({
      values: c.values.map(toProtoValue),
      statuses: c.statuses.map((s) => STATUS_CODES[s]),
      event_timestamps_ms: c.eventTimestamps.map((t) => t ?? 0),
    })),
  };
}

/** The gRPC status and message of a failed lookup. */
function statusOf(err: unknown): { code: number; details: string } {
  const code = err instanceof AccessError
    ? (err.status === 401 ? GrpcStatus.UNAUTHENTICATED : GrpcStatus.PERMISSION_DENIED)
    : err instanceof MercuryError
    ? (err.code === "input" || err.code === "usage"
      ? GrpcStatus.INVALID_ARGUMENT
      : err.code === "not_found"
      ? GrpcStatus.NOT_FOUND
      : err.code === "unavailable" || err.code === "timeout"
      ? GrpcStatus.UNAVAILABLE
      : GrpcStatus.INTERNAL)
    : GrpcStatus.INTERNAL;
  return { code, details: err instanceof MercuryError ? err.format() : String(err) };
}

const bindError = (host: string, port: number | undefined, err: Error) =>
  new MercuryError("unavailable", `cannot bind gRPC on ${host}:${port ?? 50051}: ${err.message}`, {
    hint: "pick another --grpc-port",
  });

/** The proto's messages as protobufjs types (field names as in the `.proto`). */
function protoTypes() {
  const root = new protobuf.Root().loadSync(PROTO_PATH, { keepCase: true });
  const type = (name: string) => root.lookupType(`mercury.features.v1.${name}`);
  return {
    Req: type("GetOnlineFeaturesRequest"),
    Res: type("GetOnlineFeaturesResponse"),
    HealthReq: type("HealthRequest"),
    HealthRes: type("HealthResponse"),
  };
}

const SERVICE = "/mercury.features.v1.FeatureServer";

/** A FeatureServer client on {@linkcode unaryClient} (one HTTP/2 connection, no gRPC library). */
export interface LeanFeatureClient {
  /** A `GetOnlineFeaturesRequest` as a plain object (proto-loader's shape); the answer likewise. */
  getOnlineFeatures(request: Record<string, unknown>, metadata?: Record<string, string>): Promise<unknown>;
  /** The same call, answering the encoded `GetOnlineFeaturesResponse` undecoded (a proxy, a load client). */
  getOnlineFeaturesBytes(request: Record<string, unknown>, metadata?: Record<string, string>): Promise<Uint8Array>;
  close(): void;
}

/**
 * A light FeatureServer client: protobufjs codecs over Mercury's own unary HTTP/2 client, for callers that make
 * many small calls (the bench's load client). Errors reject with `GrpcCallError` (`code`, message).
 *
 * @example
 * ```ts ignore
 * const c = leanFeatureClient("127.0.0.1:50051");
 * const res = await c.getOnlineFeatures({ features: ["v:f"], entities: { id: { val: [{ int64_val: 1 }] } } });
 * c.close();
 * ```
 */
export function leanFeatureClient(address: string): LeanFeatureClient {
  const { Req, Res } = protoTypes();
  const client = unaryClient(address);
  const bytesOf = (request: Record<string, unknown>, metadata?: Record<string, string>) =>
    client.call(`${SERVICE}/GetOnlineFeatures`, Req.encode(Req.fromObject(request)).finish(), metadata);
  return {
    async getOnlineFeatures(request, metadata) {
      const bytes = await bytesOf(request, metadata);
      return Res.toObject(Res.decode(bytes), { longs: Number, enums: String, oneofs: true });
    },
    getOnlineFeaturesBytes: bytesOf,
    close: () => client.close(),
  };
}

/** The FeatureServer on Mercury's own unary gRPC layer (`grpc_h2.ts`). */
async function serveGrpcH2(server: FeatureServer, options: ServeGrpcOptions): Promise<GrpcFeatureServer> {
  const { Req, HealthReq, HealthRes } = protoTypes();
  const host = options.host ?? "127.0.0.1";
  try {
    return await serveUnary({
      [`${SERVICE}/GetOnlineFeatures`]: {
        decode: (b) => Req.toObject(Req.decode(b), { longs: Number, enums: String, oneofs: true }),
        encode: encodeOnlineResponse,
        handle: (r: DecodedRequest, headers) =>
          lookup(server, options, onlineRequest(r), headers["authorization"]).catch((err) => {
            const { code, details } = statusOf(err);
            throw new GrpcCallError(code, details);
          }),
      },
      [`${SERVICE}/Health`]: {
        decode: (b) => HealthReq.decode(b),
        encode: (m) => HealthRes.encode(m).finish(),
        handle: () => ({ status: "ok", project: server.repo.project, env: options.env ?? "" }),
      },
    }, {
      host,
      port: options.port ?? 50051,
      maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_BODY_BYTES,
      idleMs: options.idleMs,
    });
  } catch (err) {
    throw bindError(host, options.port, err as Error);
  }
}

/** The FeatureServer on `@grpc/grpc-js`'s server. */
async function serveGrpcJs(server: FeatureServer, options: ServeGrpcOptions): Promise<GrpcFeatureServer> {
  // deno-lint-ignore no-explicit-any
  const pkg = loadFeatureServerProto() as any;
  const g = new grpc.Server({
    "grpc.max_receive_message_length": options.maxMessageBytes ?? DEFAULT_MAX_BODY_BYTES,
  });
  g.addService(pkg.mercury.features.v1.FeatureServer.service, {
    GetOnlineFeatures: (
      // deno-lint-ignore no-explicit-any
      call: grpc.ServerUnaryCall<any, unknown>,
      cb: grpc.sendUnaryData<unknown>,
    ) => {
      answer(server, options, onlineRequest(call.request), call.metadata.get("authorization")[0]).then(
        (res) => cb(null, res),
        (err) => {
          const { code, details } = statusOf(err);
          cb({ code, details, message: details } as grpc.ServiceError, null);
        },
      );
    },
    Health: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => {
      cb(null, { status: "ok", project: server.repo.project, env: options.env ?? "" });
    },
  });
  const host = options.host ?? "127.0.0.1";
  const port = await new Promise<number>((resolve, reject) =>
    g.bindAsync(`${host}:${options.port ?? 50051}`, grpc.ServerCredentials.createInsecure(), (err, p) => {
      if (err) reject(bindError(host, options.port, err));
      else resolve(p);
    })
  );
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        g.tryShutdown(() => resolve());
        setTimeout(() => {
          g.forceShutdown();
          resolve();
        }, 2000);
      }),
  };
}
