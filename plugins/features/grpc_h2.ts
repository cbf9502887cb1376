/**
 * gRPC's unary wire protocol over `node:http2`, without a gRPC library on the
 * server: each call is one HTTP/2 stream (`POST /<package>.<Service>/<Method>`,
 * `content-type: application/grpc`), its body one length-prefixed protobuf
 * message (1 byte compressed flag, 4 bytes big-endian length), the answer the
 * same framing followed by the `grpc-status` / `grpc-message` trailers; an
 * error with no message is a Trailers-Only response. Messages are decoded and
 * encoded with protobufjs from the published `.proto`.
 *
 * It exists because it is faster: `@grpc/grpc-js`'s server (its call objects,
 * filters and stream plumbing on top of Deno's `node:http2` layer) cost more
 * than the feature lookup it serves (see the features README, "gRPC").
 *
 * @example
 * ```ts ignore
 * const server = await serveUnary({ "/pkg.Svc/Echo": { decode, encode, handle: async (req) => req } }, { port: 0 });
 * await server.close();
 * ```
 *
 * @module
 */
import http2 from "node:http2";
import { Buffer } from "node:buffer";

/** gRPC status codes used here (`grpc/status.h`). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

/** A failed call: its gRPC status and message. */
export class GrpcCallError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** One unary method: how to read its request, answer it, and write the answer. */
export interface UnaryMethod<Req, Res> {
  decode(bytes: Uint8Array): Req;
  encode(res: Res): Uint8Array;
  /** `headers` are the call's metadata (lower-case names). A thrown {@linkcode GrpcCallError} is its status. */
  handle(req: Req, headers: Record<string, string | string[] | undefined>): Promise<Res> | Res;
}

/** Options of {@linkcode serveUnary}. */
export interface ServeUnaryOptions {
  port: number;
  host: string;
  /** Largest request message in bytes; a larger one is RESOURCE_EXHAUSTED, refused before it is read whole. */
  maxMessageBytes: number;
  /**
   * A call whose request has not fully arrived this long after its last bytes is answered CANCELLED and closed
   * (default 30 s); a connection with no calls for ten times this is closed (a client reconnects when it needs to).
   */
  idleMs?: number;
}

/** Milliseconds of a `grpc-timeout` header (`1-8 digits` + `H M S m u n`), or undefined when absent or malformed. */
export function grpcTimeoutMs(value: unknown): number | undefined {
  const m = typeof value === "string" ? /^(\d{1,8})([HMSmun])$/.exec(value) : null;
  if (!m) return undefined;
  const unit = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 }[m[2] as "H"]!;
  return Number(m[1]) * unit;
}

/** A running server. */
export interface UnaryServer {
  port: number;
  close(): Promise<void>;
}

// grpc-message is percent-encoded (the spec: bytes outside 0x20–0x7E and '%').
const encodeMessage = (m: string): string =>
  m.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => encodeURIComponent(c)).replace(/[^\x20-\x7e]/g, "");

/**
 * Serves unary gRPC methods, keyed by path (`/<package>.<Service>/<Method>`), over cleartext HTTP/2.
 * Errors that do not bind (port in use) reject.
 */
export function serveUnary(
  // deno-lint-ignore no-explicit-any
  methods: Record<string, UnaryMethod<any, any>>,
  options: ServeUnaryOptions,
): Promise<UnaryServer> {
  const server = http2.createServer({ settings: { maxConcurrentStreams: 1000 } });
  const sessions = new Set<http2.ServerHttp2Session>();
  const idleMs = options.idleMs ?? 30_000;
  server.on("session", (s: http2.ServerHttp2Session) => {
    sessions.add(s);
    s.setTimeout(10 * idleMs, () => s.close());
    s.on("close", () => sessions.delete(s));
    s.on("error", () => {}); // a client that goes away mid-call is its own problem
  });
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    stream.on("error", () => {});
    let deadline: ReturnType<typeof setTimeout> | undefined;
    const fail = (code: number, message: string) => {
      clearTimeout(deadline);
      if (stream.destroyed || stream.closed) return;
      if (stream.headersSent) {
        stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
        return;
      }
      stream.respond({
        ":status": 200,
        "content-type": "application/grpc+proto",
        "grpc-status": String(code),
        "grpc-message": encodeMessage(message),
      }, { endStream: true });
    };
    const path = headers[":path"] ?? "";
    const type = String(headers["content-type"] ?? "");
    if (headers[":method"] !== "POST" || !type.startsWith("application/grpc")) {
      // Not a gRPC call at all: an HTTP error, as the gRPC-over-HTTP/2 spec asks.
      stream.respond({ ":status": 415, "content-type": "text/plain" });
      stream.end("this is a gRPC server (POST, content-type application/grpc)\n");
      return;
    }
    const method = methods[path];
    if (!method) {
      stream.resume();
      fail(GrpcStatus.UNIMPLEMENTED, `unknown method ${path}`);
      return;
    }
    // The client's deadline (`grpc-timeout`): past it the call is DEADLINE_EXCEEDED, whatever it is waiting for.
    const timeoutMs = grpcTimeoutMs(headers["grpc-timeout"]);
    if (timeoutMs !== undefined) {
      deadline = setTimeout(() => fail(GrpcStatus.DEADLINE_EXCEEDED, "Deadline Exceeded"), Math.max(1, timeoutMs));
    }
    // A sender that stops part-way through its request is cut off, not waited for (a timer restarted by each
    // chunk: Deno's node:http2 streams do not fire `setTimeout`).
    let idle: ReturnType<typeof setTimeout> | undefined;
    const waitForMore = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        fail(GrpcStatus.CANCELLED, `the request did not arrive within ${idleMs / 1000} s of its last bytes`);
        stream.close(http2.constants.NGHTTP2_CANCEL);
      }, idleMs);
    };
    waitForMore();
    stream.on("close", () => clearTimeout(idle));
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    let checked = false;
    stream.on("data", (c: Buffer) => {
      waitForMore();
      if (refused) return;
      size += c.length;
      chunks.push(c);
      // The first five bytes say how long the message is: refuse a message over the limit before reading it.
      if (!checked && size >= 5) {
        checked = true;
        const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
        const length = head.readUInt32BE(1);
        if (length > options.maxMessageBytes) {
          refused = true;
          fail(
            GrpcStatus.RESOURCE_EXHAUSTED,
            `Received message larger than max (${length} vs. ${options.maxMessageBytes})`,
          );
        }
      }
    });
    stream.on("end", () => {
      clearTimeout(idle);
      if (refused) return;
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      if (body.length < 5 || body.length !== 5 + body.readUInt32BE(1)) {
        fail(GrpcStatus.INTERNAL, "a unary call's body must be one length-prefixed message");
        return;
      }
      if (body[0] !== 0) {
        fail(GrpcStatus.UNIMPLEMENTED, "compressed messages are not supported; send them uncompressed");
        return;
      }
      let req: unknown;
      try {
        req = method.decode(body.subarray(5));
      } catch {
        fail(GrpcStatus.INTERNAL, "Error deserializing request");
        return;
      }
      Promise.resolve().then(() => method.handle(req, headers)).then((res) => {
        clearTimeout(deadline);
        if (stream.destroyed || stream.closed) return;
        const bytes = method.encode(res);
        const frame = new Uint8Array(5 + bytes.length);
        new DataView(frame.buffer).setUint32(1, bytes.length);
        frame.set(bytes, 5);
        stream.respond({ ":status": 200, "content-type": "application/grpc+proto" }, { waitForTrailers: true });
        stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
        stream.end(frame);
      }, (err) => {
        if (err instanceof GrpcCallError) fail(err.code, err.message);
        else fail(GrpcStatus.INTERNAL, String((err as Error)?.message ?? err));
      });
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      const address = server.address();
      resolve({
        port: typeof address === "object" && address ? address.port : options.port,
        close: () =>
          new Promise<void>((done) => {
            const timer = setTimeout(() => {
              for (const s of sessions) s.destroy();
              done();
            }, 2000);
            for (const s of sessions) s.close();
            server.close(() => {
              clearTimeout(timer);
              done();
            });
          }),
      });
    });
  });
}

/** A unary gRPC client over one cleartext HTTP/2 connection ({@linkcode unaryClient}). */
export interface UnaryClient {
  /**
   * Calls `path` (`/<package>.<Service>/<Method>`) with one encoded request message and resolves to the encoded
   * answer; a non-OK status rejects with a {@linkcode GrpcCallError}.
   */
  call(path: string, message: Uint8Array, metadata?: Record<string, string>): Promise<Uint8Array>;
  close(): void;
}

/**
 * A unary gRPC client on `node:http2`: the same framing as {@linkcode serveUnary}, one connection, calls
 * multiplexed as streams. Lighter than `@grpc/grpc-js`'s client (no channel, resolver or filter stack) — the
 * bench's "lean client" (features README, "gRPC").
 *
 * @example
 * ```ts ignore
 * const c = unaryClient("127.0.0.1:50051");
 * const answer = await c.call("/pkg.Svc/Echo", request);
 * c.close();
 * ```
 */
export function unaryClient(address: string): UnaryClient {
  let session: http2.ClientHttp2Session | undefined;
  const connect = () => {
    if (session && !session.closed && !session.destroyed) return session;
    const s = http2.connect(`http://${address}`);
    s.on("error", () => {});
    s.on("close", () => {
      if (session === s) session = undefined;
    });
    return (session = s);
  };
  return {
    call(path, message, metadata = {}) {
      return new Promise((resolve, reject) => {
        const frame = Buffer.alloc(5 + message.length);
        frame.writeUInt32BE(message.length, 1);
        frame.set(message, 5);
        let req: http2.ClientHttp2Stream;
        try {
          req = connect().request({
            ":method": "POST",
            ":path": path,
            "content-type": "application/grpc+proto",
            te: "trailers",
            ...metadata,
          });
        } catch (err) {
          reject(new GrpcCallError(GrpcStatus.UNAVAILABLE, String((err as Error).message)));
          return;
        }
        const chunks: Buffer[] = [];
        let status: string | undefined;
        let detail = "";
        const take = (h: http2.IncomingHttpHeaders) => {
          if (h["grpc-status"] !== undefined) {
            status = String(h["grpc-status"]);
            detail = decodeURIComponent(String(h["grpc-message"] ?? ""));
          }
        };
        req.on("response", (h) => {
          if (h[":status"] !== 200) {
            status = String(GrpcStatus.UNKNOWN);
            detail = `HTTP ${h[":status"]}`;
          }
          take(h);
        });
        req.on("trailers", take);
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("error", (err) => reject(new GrpcCallError(GrpcStatus.UNAVAILABLE, err.message)));
        req.on("end", () => {
          if (status !== "0") {
            reject(new GrpcCallError(Number(status ?? GrpcStatus.UNKNOWN), detail || "no grpc-status"));
            return;
          }
          const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
          if (body.length < 5 || body.length !== 5 + body.readUInt32BE(1)) {
            reject(new GrpcCallError(GrpcStatus.INTERNAL, "an answer must be one length-prefixed message"));
            return;
          }
          resolve(body.subarray(5));
        });
        req.end(frame);
      });
    },
    close() {
      session?.close();
      session = undefined;
    },
  };
}
