/**
 * An S3-compatible object store: the native one (`deno task services up s3`,
 * S3Proxy on local disk) or any S3 endpoint named by `MERCURY_S3_URL` with
 * `MERCURY_S3_ACCESS_KEY` / `MERCURY_S3_SECRET_KEY`. Requests are signed with
 * AWS Signature V4 by `aws4fetch`; buckets are addressed path-style
 * (`<url>/<bucket>/<key>`), as S3-compatible stores expect. Spark reaches the
 * same store through Hadoop's S3A connector as `s3a://<bucket>/<key>`.
 *
 * @example
 * ```ts ignore
 * import { connectS3 } from "@mercury/core/services/s3";
 *
 * await using s3 = await connectS3();
 * await s3.put("lake", "notes/hello.txt", "hello");
 * console.log(await s3.list("lake", "notes/")); // [{ key: "notes/hello.txt", size: 5, … }]
 * ```
 *
 * @module
 */
import { AwsClient } from "aws4fetch";
import { ENV_VARS, resolveEndpoints } from "../config.ts";
import { MercuryError } from "../errors.ts";
import { type HealthReport, unreachable } from "./health.ts";

/** Options of {@linkcode connectS3}; each defaults to the resolved endpoint. */
export interface S3Options {
  /** `http(s)://host:port` of the store. */
  url?: string;
  accessKey?: string;
  secretKey?: string;
  /** Signing region (default `us-east-1`, what S3-compatible stores accept). */
  region?: string;
  /** Deadline of each request in ms (default 10 s). */
  timeoutMs?: number;
}

/** One object of a listing. */
export interface S3Object {
  key: string;
  size: number;
  lastModified: string;
}

/** A client of one store; `await using` is allowed (it holds no connection open). */
export interface S3Store extends AsyncDisposable {
  readonly url: string;
  /** Names of the buckets the access key sees. */
  listBuckets(): Promise<string[]>;
  /** Creates `bucket` (no-op when the key already owns it). */
  createBucket(bucket: string): Promise<void>;
  /** Every object under `prefix`, in key order (all pages of ListObjectsV2). */
  list(bucket: string, prefix?: string): Promise<S3Object[]>;
  put(bucket: string, key: string, body: string | Uint8Array): Promise<void>;
  /** The object's bytes; a `not_found` MercuryError when it is not there. */
  get(bucket: string, key: string): Promise<Uint8Array>;
  /** Copies one object inside the store (CopyObject, server-side: the bytes do not come through here). */
  copy(bucket: string, fromKey: string, toKey: string): Promise<void>;
  /** Deletes one object (no error when it is not there). */
  delete(bucket: string, key: string): Promise<void>;
  /** Deletes every object under `prefix`; returns how many. */
  deletePrefix(bucket: string, prefix: string): Promise<number>;
  /** ListBuckets as one real request. */
  health(): Promise<HealthReport>;
}

const xmlText = (s: string) =>
  s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, "&");
const tag = (xml: string, name: string) => {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return m ? xmlText(m[1]!) : undefined;
};
const tags = (xml: string, name: string) =>
  [...xml.matchAll(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`, "g"))].map((m) => m[1]!);

const failedHealth = (url: string, t0: number, err: unknown): HealthReport => ({
  service: "s3",
  endpoint: url,
  ok: false,
  latencyMs: performance.now() - t0,
  detail: (err as Error).message,
});

/** A signed ListBuckets at the store `options` name (default: the resolved one); never throws. */
export async function s3Health(options: S3Options = {}): Promise<HealthReport> {
  const t0 = performance.now();
  try {
    return await (await connectS3(options)).health();
  } catch (err) {
    return failedHealth(options.url ?? resolveEndpoints().s3.url, t0, err);
  }
}

/**
 * A client of the store at the resolved endpoint (or `options`); checks it answers (ListBuckets) and refuses
 * with an `unavailable` or `auth` MercuryError naming the endpoint when it does not.
 */
export async function connectS3(options: S3Options = {}): Promise<S3Store> {
  const eps = resolveEndpoints().s3;
  const url = (options.url ?? eps.url).replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 10_000;
  const aws = new AwsClient({
    accessKeyId: options.accessKey ?? eps.accessKey,
    secretAccessKey: options.secretKey ?? eps.secretKey,
    region: options.region ?? "us-east-1",
    service: "s3",
    retries: 0,
  });
  const path = (bucket: string, key = "") =>
    `${url}/${encodeURIComponent(bucket)}${key ? "/" + key.split("/").map(encodeURIComponent).join("/") : ""}`;

  async function call(
    method: string,
    target: string,
    what: string,
    body?: string | Uint8Array,
    headers?: Record<string, string>,
  ): Promise<Response> {
    let r: Response;
    try {
      r = await aws.fetch(target, {
        method,
        headers,
        body: body as BodyInit | undefined,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw unreachable("S3", url, ENV_VARS.s3, err);
    }
    if (r.ok) return r;
    const text = await r.text();
    const code = tag(text, "Code") ?? String(r.status);
    const message = tag(text, "Message") ?? r.statusText;
    const kind = r.status === 404 ? "not_found" : r.status === 403 ? "config" : "unavailable";
    throw new MercuryError(kind, `S3 ${what}: ${code}: ${message}`, {
      where: target.replace(/\?.*$/, ""),
      hint: r.status === 403
        ? "check MERCURY_S3_ACCESS_KEY and MERCURY_S3_SECRET_KEY (the native store's are mercury / mercury-secret)"
        : r.status === 404
        ? "is the bucket or key spelled right? `deno task services up s3` creates the bucket `lake`"
        : undefined,
    });
  }

  const store: S3Store = {
    url,
    async listBuckets() {
      const xml = await (await call("GET", `${url}/`, "ListBuckets")).text();
      return tags(xml, "Bucket").map((b) => tag(b, "Name") ?? "");
    },
    async createBucket(bucket) {
      if ((await store.listBuckets()).includes(bucket)) return;
      await (await call("PUT", path(bucket), `CreateBucket ${bucket}`)).body?.cancel();
    },
    async list(bucket, prefix = "") {
      const out: S3Object[] = [];
      let token: string | undefined;
      do {
        const q = new URLSearchParams({ "list-type": "2", prefix });
        if (token) q.set("continuation-token", token);
        const xml = await (await call("GET", `${path(bucket)}?${q}`, `ListObjectsV2 ${bucket}/${prefix}`)).text();
        for (const c of tags(xml, "Contents")) {
          out.push({
            key: tag(c, "Key")!,
            size: Number(tag(c, "Size") ?? 0),
            lastModified: tag(c, "LastModified") ?? "",
          });
        }
        token = tag(xml, "IsTruncated") === "true" ? tag(xml, "NextContinuationToken") : undefined;
      } while (token);
      return out;
    },
    async put(bucket, key, body) {
      await (await call("PUT", path(bucket, key), `PutObject ${bucket}/${key}`, body)).body?.cancel();
    },
    async get(bucket, key) {
      return new Uint8Array(await (await call("GET", path(bucket, key), `GetObject ${bucket}/${key}`)).arrayBuffer());
    },
    async copy(bucket, fromKey, toKey) {
      const source = `/${encodeURIComponent(bucket)}/${fromKey.split("/").map(encodeURIComponent).join("/")}`;
      const r = await call("PUT", path(bucket, toKey), `CopyObject ${bucket}/${fromKey} → ${toKey}`, undefined, {
        "x-amz-copy-source": source,
      });
      // S3 can answer 200 with an <Error> body when a copy fails part-way.
      const xml = await r.text();
      if (xml.includes("<Error>")) {
        throw new MercuryError("unavailable", `S3 CopyObject ${bucket}/${fromKey}: ${tag(xml, "Message") ?? xml}`, {
          where: path(bucket, toKey),
        });
      }
    },
    async delete(bucket, key) {
      await (await call("DELETE", path(bucket, key), `DeleteObject ${bucket}/${key}`)).body?.cancel();
    },
    async deletePrefix(bucket, prefix) {
      const objects = await store.list(bucket, prefix);
      for (const o of objects) await store.delete(bucket, o.key);
      return objects.length;
    },
    async health() {
      const t0 = performance.now();
      try {
        const buckets = await store.listBuckets();
        return {
          service: "s3",
          endpoint: url,
          ok: true,
          latencyMs: performance.now() - t0,
          detail: `${buckets.length} bucket(s): ${buckets.join(", ") || "none"}`,
        };
      } catch (err) {
        return failedHealth(url, t0, err);
      }
    },
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
  await store.listBuckets();
  return store;
}
