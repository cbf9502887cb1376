/**
 * An S3-compatible object store for the lake: S3Proxy (`org.gaul:s3proxy`,
 * Apache-2.0; the S3 REST API over an Apache jclouds blob store), jars from
 * Maven Central (`services/s3/pom.xml`, fetched into `.mercury/s3/libs`), on
 * loopback at `http://127.0.0.1:59900`, requests signed (AWS Signature V2 or
 * V4) with the access key pair `mercury` / `mercury-secret`; every start makes
 * the bucket `lake`. Spark's executors reach it through Hadoop's S3A
 * connector (`s3a://lake/…`, see `tasks/services/spark.ts`); Deno code
 * through `@mercury/core/services/s3`. Health is a signed ListBuckets.
 *
 * The blob store is jclouds' `transient` one: a flat key space in the JVM's
 * memory (heap up to 1 GB), so objects last until the store stops. S3Proxy's
 * file-system stores map keys to folders, and refuse to delete a directory
 * marker (`dir/`) before the keys under it (`DirectoryNotEmptyException`, a
 * 500): S3A deletes markers in key order, so every Spark job commit failed on
 * them. A store that keeps objects across restarts is `MERCURY_S3_URL`'s job.
 *
 * @module
 */
import { DEFAULT_PORTS, type HealthReport, S3_DEV_CREDENTIALS } from "@mercury/core";
import { fetchJars } from "./_maven.ts";
import { ensureJava, spawnDetached, stopPid, writeAtomic } from "./_process.ts";
import { type NativeService, servicePaths } from "./native.ts";

/** The bucket every start makes sure of. */
export const LAKE_BUCKET = "lake";

/** A signed ListBuckets against `url`: ok with the bucket names, or the failure. */
export async function s3Health(
  url: string,
  credentials: { accessKey: string; secretKey: string } = S3_DEV_CREDENTIALS,
  timeoutMs = 3000,
): Promise<HealthReport> {
  const { s3Health } = await import("@mercury/core/services/s3");
  return await s3Health({ url, ...credentials, timeoutMs });
}

/** The native S3 store. */
export function s3Service(root: string, state: string, port: number = DEFAULT_PORTS.s3): NativeService {
  const paths = servicePaths(state, "s3");
  const libs = `${paths.dir}/libs`;
  const endpoint = `http://127.0.0.1:${port}`;
  const marker = `-Dmercury.s3.dir=${paths.dir}`;
  return {
    name: "s3",
    ports: [port],
    paths,
    marker,
    endpoint,
    nativeOnly: true,
    // One small JVM: 5 s on a quiet machine; room for a busy one.
    minStartSec: 120,
    async install() {
      await ensureJava("S3Proxy");
      await fetchJars(`${root}/services/s3/pom.xml`, libs, "the S3Proxy jars", paths.log);
    },
    async start() {
      const conf = `${paths.dir}/s3proxy.properties`;
      await writeAtomic(
        conf,
        [
          `s3proxy.endpoint=${endpoint}`,
          "s3proxy.authorization=aws-v2-or-v4",
          `s3proxy.identity=${S3_DEV_CREDENTIALS.accessKey}`,
          `s3proxy.credential=${S3_DEV_CREDENTIALS.secretKey}`,
          "jclouds.provider=transient",
          `jclouds.identity=${S3_DEV_CREDENTIALS.accessKey}`,
          `jclouds.credential=${S3_DEV_CREDENTIALS.secretKey}`,
          "",
        ].join("\n"),
      );
      const pid = await spawnDetached(
        "java",
        [
          "-Xmx1g",
          marker,
          `-Dlogback.configurationFile=${root}/services/s3/logback.xml`,
          "-cp",
          `${libs}/*`,
          "org.gaul.s3proxy.Main",
          "--properties",
          conf,
        ],
        paths.log,
        { cwd: paths.dir },
      );
      // The in-memory store starts empty: make the lake's bucket as soon as it answers.
      const { connectS3 } = await import("@mercury/core/services/s3");
      for (const until = Date.now() + 60_000;;) {
        try {
          await (await connectS3({ url: endpoint, ...S3_DEV_CREDENTIALS, timeoutMs: 2000 })).createBucket(LAKE_BUCKET);
          return pid;
        } catch (err) {
          if (Date.now() > until) throw err;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    },
    stop: (pid) => stopPid(pid, "SIGTERM"),
    health: (timeoutMs = 3000) => s3Health(endpoint, S3_DEV_CREDENTIALS, timeoutMs),
    prepare: async () => void await import("@mercury/core/services/s3"),
    notes: () =>
      Promise.resolve(`bucket ${LAKE_BUCKET}; key ${S3_DEV_CREDENTIALS.accessKey}; objects in memory until it stops`),
  };
}
