/**
 * HDFS for the lake: Hadoop's own `MiniDFSCluster` (a NameNode and one
 * DataNode in one JVM, `org.apache.hadoop.test.MiniDFSClusterManager` from
 * the hadoop-hdfs tests jar), jars from Maven Central (`services/hdfs/pom.xml`,
 * fetched into `.mercury/hdfs/libs`), data under `.mercury/hdfs/data`, on
 * loopback: RPC `hdfs://127.0.0.1:59820`, NameNode web UI and JMX `:59870`.
 * A real HDFS (the same NameNode and DataNode code as a production cluster),
 * started by `deno task services up hdfs`; Spark's executors reach it with
 * the Hadoop client in the pyspark wheel. Health is the NameNode's own
 * report: out of safe mode with at least one live DataNode.
 *
 * @module
 */
import { DEFAULT_PORTS, type HealthReport } from "@mercury/core";
import { fetchJars } from "./_maven.ts";
import { ensureJava, spawnDetached, stopPid } from "./_process.ts";
import { type NativeService, servicePaths } from "./native.ts";

/** The NameNode's health from its JMX servlet: out of safe mode, with a live DataNode. */
export async function hdfsHealth(endpoint: string, httpBase: string, timeoutMs = 3000): Promise<HealthReport> {
  const t0 = performance.now();
  const report = (ok: boolean, detail: string): HealthReport => ({
    service: "hdfs",
    endpoint,
    ok,
    latencyMs: performance.now() - t0,
    detail,
  });
  try {
    const r = await fetch(`${httpBase}/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!r.ok) {
      await r.body?.cancel();
      return report(false, `NameNode JMX answered ${r.status}`);
    }
    const bean = ((await r.json()) as { beans?: Record<string, unknown>[] }).beans?.[0];
    if (!bean) return report(false, "NameNode JMX has no NameNodeInfo yet");
    const live = Object.keys(JSON.parse(String(bean.LiveNodes ?? "{}"))).length;
    const safemode = String(bean.Safemode ?? "");
    if (safemode !== "") return report(false, `in safe mode: ${safemode.split("\n")[0]}`);
    if (live < 1) return report(false, "no live DataNode yet");
    return report(true, `Hadoop ${String(bean.Version ?? "?").split(",")[0]}, ${live} live DataNode(s)`);
  } catch (err) {
    return report(false, (err as Error).message);
  }
}

/** The native HDFS mini cluster. */
export function hdfsService(
  root: string,
  state: string,
  port: number = DEFAULT_PORTS.hdfs,
  httpPort: number = DEFAULT_PORTS.hdfsHttp,
): NativeService {
  const paths = servicePaths(state, "hdfs");
  const libs = `${paths.dir}/libs`;
  const endpoint = `hdfs://127.0.0.1:${port}`;
  const httpBase = `http://127.0.0.1:${httpPort}`;
  const marker = `-Dmercury.hdfs.dir=${paths.dir}`;
  return {
    name: "hdfs",
    ports: [port, httpPort],
    paths,
    marker,
    endpoint,
    nativeOnly: true,
    // One JVM formatting and starting two daemons: 32 s measured at a load average of 20.
    minStartSec: 180,
    async install() {
      await ensureJava("HDFS");
      await fetchJars(`${root}/services/hdfs/pom.xml`, libs, "the HDFS mini cluster jars (Hadoop 3.4.1)", paths.log);
    },
    async start() {
      await Deno.mkdir(paths.data, { recursive: true });
      const base = `${paths.data}/dfs`;
      // Format once; a restart keeps the namespace and blocks.
      const formatted = await Deno.stat(`${base}/name-0-1`).then(() => true, () => false);
      return await spawnDetached(
        "java",
        [
          "-Xmx384m",
          marker,
          `-Dlog4j.configuration=file:${root}/services/hdfs/log4j.properties`,
          `-Dtest.build.data=${paths.data}`,
          "-cp",
          `${libs}/*`,
          "org.apache.hadoop.test.MiniDFSClusterManager",
          ...(formatted ? [] : ["-format"]),
          "-nnport",
          String(port),
          "-httpport",
          String(httpPort),
          "-datanodes",
          "1",
          "-D",
          `hdfs.minidfs.basedir=${base}`,
          "-D",
          "dfs.permissions.enabled=false",
          "-D",
          "dfs.datanode.address=127.0.0.1:0",
          "-D",
          "dfs.datanode.http.address=127.0.0.1:0",
          "-D",
          "dfs.datanode.ipc.address=127.0.0.1:0",
        ],
        paths.log,
        { cwd: paths.dir },
      );
    },
    stop: (pid) => stopPid(pid, "SIGTERM"),
    health: (timeoutMs = 3000) => hdfsHealth(endpoint, httpBase, timeoutMs),
    notes: () => Promise.resolve(`web UI ${httpBase}`),
  };
}
