/**
 * An Apache Spark 4 standalone cluster from the `pyspark` wheel on PyPI
 * (`services/spark/requirements.txt`, a venv under `.mercury/spark/venv`) and
 * the system's Java 17: one master (`spark://127.0.0.1:57077`, web UI 58080),
 * two workers (1 core and 1.5 GB each, web UIs 58081/58082) and a Spark
 * Connect server (`sc://127.0.0.1:55002`; its driver's web UI and REST API on
 * 54040) whose application runs on the two workers. Delta Lake, the Iceberg
 * runtime and the OpenLineage listener come from Maven Central
 * (`services/spark/pom.xml`); Spark Connect's `.proto` files are extracted
 * from the wheel's `spark-connect` jar into `.mercury/spark/proto` for the
 * Deno client. Health is a real query (`SELECT 1`) through that client. The
 * OpenLineage listener posts each job's events over HTTP to the `spark lineage`
 * collector on `DEFAULT_PORTS.sparkLineage`.
 *
 * @module
 */
import { DEFAULT_PORTS, MercuryError, resolveEndpoints } from "@mercury/core";
import { alive, ensureJava, runOk, spawnDetached, stopPid, writeAtomic } from "./_process.ts";
import { fetchJars } from "./_maven.ts";
import { type NativeService, servicePaths } from "./native.ts";
import { ensureVenv } from "../python.ts";
import type { HealthReport } from "@mercury/core";

/** Loopback ports of the native Spark cluster. */
export const SPARK_PORTS = {
  connect: DEFAULT_PORTS.spark,
  driverUi: DEFAULT_PORTS.sparkDriverUi,
  master: DEFAULT_PORTS.sparkMaster,
  masterUi: DEFAULT_PORTS.sparkMasterUi,
  workerUi: DEFAULT_PORTS.sparkWorkerUi,
} as const;

/** What services.json records for Spark. */
export interface SparkEndpoints {
  remote: string;
  master: string;
  masterUi: string;
  ui: string;
  rest: string;
  eventLogDir: string;
}

/** Endpoints of the native cluster under `state`. */
export function sparkEndpoints(state: string): SparkEndpoints {
  return {
    remote: `sc://127.0.0.1:${SPARK_PORTS.connect}`,
    master: `spark://127.0.0.1:${SPARK_PORTS.master}`,
    masterUi: `http://127.0.0.1:${SPARK_PORTS.masterUi}`,
    ui: `http://127.0.0.1:${SPARK_PORTS.driverUi}`,
    rest: `http://127.0.0.1:${SPARK_PORTS.driverUi}/api/v1`,
    eventLogDir: `${state}/spark/events`,
  };
}

const WORKERS = 2;
const WORKER_CORES = 1;
const WORKER_MEMORY = "1536m";
const WORKER_MEMORY_MB = 1536;

/**
 * The Connect application's executor memory: `MERCURY_SPARK_EXECUTOR_MEMORY` (e.g. `512m`, `1g`; at most a
 * worker's 1536m), default 1g. It is fixed when the application starts, so `bench:spark-memory` restarts the
 * service with each setting.
 */
export function executorMemory(value = Deno.env.get("MERCURY_SPARK_EXECUTOR_MEMORY")): string {
  if (value === undefined || value === "") return "1g";
  const m = /^(\d+)([mg])$/i.exec(value.trim());
  const mb = m ? Number(m[1]) * (m[2]!.toLowerCase() === "g" ? 1024 : 1) : NaN;
  if (!m || mb < 450 || mb > WORKER_MEMORY_MB) {
    throw new MercuryError("usage", `MERCURY_SPARK_EXECUTOR_MEMORY=${value}: not a memory size Spark can use here`, {
      hint: `a size like 512m or 1g, from 450m (Spark's floor) to ${WORKER_MEMORY} (what a worker offers)`,
    });
  }
  return value.trim().toLowerCase();
}

/** Where the Connect server runs: what differs between the native cluster and compose's containers. */
export interface ConnectPlace {
  master: string;
  /** Address the Connect server and the driver bind to. */
  bindAddress: string;
  /** Address executors reach the driver at. */
  driverHost: string;
  connectPort: number;
  uiPort: number;
  /** Folder of the warehouse, Iceberg `lake` catalog and event logs. */
  dir: string;
  python: string;
  /** Extra jars on the class path (native: fetched from Maven; compose: `--packages` instead). */
  jars: string[];
  s3Url: string;
  lineageUrl: string;
  executorMemory: string;
}

// The AWS SDK's default integrity checksums (trailing CRCs in aws-chunked bodies) are what S3 itself supports;
// S3-compatible stores need them only when an operation requires one.
const SDK_CHECKSUMS = "-Daws.requestChecksumCalculation=when_required -Daws.responseChecksumValidation=when_required";

/**
 * The Spark Connect server's settings, for the native cluster and (checked by a test) `services/compose.yml`'s
 * `spark` service: Delta and Iceberg (the `lake` catalog), S3A path-style on the S3-compatible store, the OpenLineage
 * listener posting to `spark lineage`, event logs for `spark analyze`.
 */
export function connectConf(o: ConnectPlace): Record<string, string> {
  return {
    "spark.master": o.master,
    "spark.app.name": "mercury-connect",
    "spark.connect.grpc.binding.address": o.bindAddress,
    "spark.connect.grpc.binding.port": String(o.connectPort),
    "spark.connect.grpc.maxInboundMessageSize": String(256 * 1024 * 1024),
    "spark.driver.host": o.driverHost,
    "spark.driver.bindAddress": o.bindAddress,
    "spark.driver.memory": "1g",
    "spark.ui.port": String(o.uiPort),
    "spark.ui.retainedJobs": "2000",
    "spark.ui.retainedStages": "4000",
    "spark.sql.ui.retainedExecutions": "2000",
    "spark.executor.cores": String(WORKER_CORES),
    "spark.executor.memory": o.executorMemory,
    "spark.cores.max": String(WORKERS * WORKER_CORES),
    "spark.scheduler.minRegisteredResourcesRatio": "0.5",
    "spark.scheduler.maxRegisteredResourcesWaitingTime": "30s",
    "spark.sql.shuffle.partitions": "8",
    // Connect sessions share the cluster fairly: a notebook is not queued behind a benchmark's jobs.
    "spark.scheduler.mode": "FAIR",
    "spark.sql.adaptive.enabled": "true",
    // File listing (Delta VACUUM, partition discovery) in 8 tasks, not 10,000, on a 2-core cluster.
    "spark.sql.sources.parallelPartitionDiscovery.parallelism": "8",
    "spark.sql.catalogImplementation": "in-memory",
    "spark.sql.warehouse.dir": `${o.dir}/warehouse`,
    "spark.sql.extensions":
      "io.delta.sql.DeltaSparkSessionExtension,org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    "spark.sql.catalog.lake": "org.apache.iceberg.spark.SparkCatalog",
    "spark.sql.catalog.lake.type": "hadoop",
    "spark.sql.catalog.lake.warehouse": `${o.dir}/iceberg`,
    "spark.databricks.delta.retentionDurationCheck.enabled": "false",
    // Delta rebuilds a table's state from its log in 50 partitions by default: 2 on this 2-core cluster.
    "spark.databricks.delta.snapshotPartitions": "2",
    "spark.eventLog.enabled": "true",
    "spark.eventLog.dir": `file://${o.dir}/events`,
    "spark.pyspark.python": o.python,
    ...(o.jars.length ? { "spark.jars": o.jars.join(",") } : {}),
    "spark.driver.extraJavaOptions": SDK_CHECKSUMS,
    "spark.executor.extraJavaOptions": SDK_CHECKSUMS,
    // s3a:// is the S3-compatible store (`services up s3`, or MERCURY_S3_URL and its keys), path-style.
    "spark.hadoop.fs.s3a.endpoint": o.s3Url,
    "spark.hadoop.fs.s3a.endpoint.region": "us-east-1",
    "spark.hadoop.fs.s3a.path.style.access": "true",
    // S3Proxy answers 501 to the CRC32 checksum this AWS SDK puts on bulk deletes: one DELETE per object.
    "spark.hadoop.fs.s3a.multiobjectdelete.enable": "false",
    "spark.hadoop.fs.s3a.connection.ssl.enabled": String(o.s3Url.startsWith("https:")),
    "spark.hadoop.fs.s3a.aws.credentials.provider": "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",

    // OpenLineage: every job's START/COMPLETE events go to `spark lineage` (plugins/spark/lineage/); while no
    // collector listens the listener logs a refused connection and the job is unaffected.
    "spark.extraListeners": "io.openlineage.spark.agent.OpenLineageSparkListener",
    "spark.openlineage.namespace": "mercury",
    "spark.openlineage.transport.type": "http",
    "spark.openlineage.transport.url": o.lineageUrl,
    "spark.openlineage.transport.endpoint": "/api/v1/lineage",
    "spark.openlineage.transport.timeoutInMillis": "2000",
  };
}

/** The native Spark service (master, workers, Connect server). */
export function sparkService(root: string, state: string): NativeService {
  const paths = servicePaths(state, "spark");
  const dir = paths.dir;
  const venv = `${dir}/venv`;
  const jars = `${dir}/jars`;
  const s3aJars = `${dir}/jars-s3a`;
  const proto = `${dir}/proto`;
  const pidsFile = `${dir}/pids.json`;
  const eps = sparkEndpoints(state);
  let sparkHome = "";

  const env = (): string[] => [
    `SPARK_HOME=${sparkHome}`,
    `SPARK_CONF_DIR=${root}/services/spark/conf`,
    `SPARK_LOCAL_DIRS=${dir}/tmp`,
    `SPARK_WORKER_DIR=${dir}/work`,
    `PYSPARK_PYTHON=${venv}/bin/python`,
    `SPARK_LOCAL_IP=127.0.0.1`,
  ];

  async function stopAll(): Promise<void> {
    let pids: number[] = [];
    try {
      pids = JSON.parse(await Deno.readTextFile(pidsFile));
    } catch { /* none recorded */ }
    // Connect server first (it ends the application), then workers, then the master.
    for (const pid of [...pids].reverse()) {
      if (alive(pid, "org.apache.spark")) await stopPid(pid, "SIGTERM", 20_000);
    }
    await Deno.remove(pidsFile).catch(() => {});
  }

  async function waitPort(port: number, pid: number, what: string, log: string, ms = 60_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (!alive(pid)) {
        throw new MercuryError("unavailable", `the Spark ${what} exited while starting`, {
          where: log,
          hint: `read ${log}`,
        });
      }
      try {
        const c = await Deno.connect({ hostname: "127.0.0.1", port });
        c.close();
        return;
      } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new MercuryError("timeout", `the Spark ${what} did not open port ${port} within ${ms / 1000}s`, {
      where: log,
      hint: `read ${log}`,
    });
  }

  return {
    name: "spark",
    ports: [
      SPARK_PORTS.connect,
      SPARK_PORTS.driverUi,
      SPARK_PORTS.master,
      SPARK_PORTS.masterUi,
      ...SPARK_PORTS.workerUi,
    ],
    paths,
    marker: "SparkConnectServer",
    // Four JVMs and a first query: 119 s measured on a busy 2-core machine, so more than the default 90 s.
    minStartSec: 300,
    endpoint: eps.remote,
    async install() {
      await ensureJava("Spark");
      await Deno.mkdir(dir, { recursive: true });
      const python = await ensureVenv(venv, `${root}/services/spark/requirements.txt`, "PySpark (Spark's jars)");
      sparkHome =
        (await runOk(python, ["-c", "import pyspark, os; print(os.path.dirname(pyspark.__file__))"], "find pyspark"))
          .trim();
      await fetchJars(`${root}/services/spark/pom.xml`, jars, "Delta, Iceberg and OpenLineage jars", paths.log);
      await fetchJars(`${root}/services/spark/s3a/pom.xml`, s3aJars, "Hadoop's S3A connector", paths.log);
      // Spark Connect's protocol, exactly as this server speaks it, for the Deno client.
      try {
        Deno.statSync(`${proto}/spark/connect/base.proto`);
      } catch {
        const tmp = `${proto}.tmp-${Deno.pid}`;
        await runOk(python, [
          "-c",
          "import glob, sys, zipfile\n" +
          "jar = glob.glob(sys.argv[1] + '/jars/spark-connect_2.13-*.jar')[0]\n" +
          "z = zipfile.ZipFile(jar)\n" +
          "z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith('spark/connect/') and n.endswith('.proto')])",
          sparkHome,
          tmp,
        ], "extract Spark Connect's .proto files");
        await Deno.remove(proto, { recursive: true }).catch(() => {});
        await Deno.rename(tmp, proto);
      }
    },
    async start() {
      await stopAll();
      for (const d of ["tmp", "work", "events", "warehouse", "iceberg", "data"]) {
        await Deno.mkdir(`${dir}/${d}`, { recursive: true });
      }
      const sparkClass = `${sparkHome}/bin/spark-class`;
      const pids: number[] = [];
      const save = () => writeAtomic(pidsFile, JSON.stringify(pids) + "\n");

      const masterLog = `${dir}/master.log`;
      const master = await spawnDetached("env", [
        ...env(),
        "SPARK_DAEMON_MEMORY=384m",
        sparkClass,
        "org.apache.spark.deploy.master.Master",
        "--host",
        "127.0.0.1",
        "--port",
        String(SPARK_PORTS.master),
        "--webui-port",
        String(SPARK_PORTS.masterUi),
      ], masterLog);
      pids.push(master);
      await save();
      await waitPort(SPARK_PORTS.master, master, "master", masterLog);

      for (let i = 0; i < WORKERS; i++) {
        const log = `${dir}/worker-${i + 1}.log`;
        const pid = await spawnDetached("env", [
          ...env(),
          "SPARK_DAEMON_MEMORY=384m",
          sparkClass,
          "org.apache.spark.deploy.worker.Worker",
          "--host",
          "127.0.0.1",
          "--cores",
          String(WORKER_CORES),
          "--memory",
          WORKER_MEMORY,
          "--webui-port",
          String(SPARK_PORTS.workerUi[i]),
          "--work-dir",
          `${dir}/work/worker-${i + 1}`,
          eps.master,
        ], log);
        pids.push(pid);
        await save();
      }

      const extra = [jars, s3aJars].flatMap((d) =>
        [...Deno.readDirSync(d)].filter((e) => e.name.endsWith(".jar")).map((e) => `${d}/${e.name}`).sort()
      );
      const s3 = resolveEndpoints().s3;
      const conf = connectConf({
        master: eps.master,
        bindAddress: "127.0.0.1",
        driverHost: "127.0.0.1",
        connectPort: SPARK_PORTS.connect,
        uiPort: SPARK_PORTS.driverUi,
        dir,
        python: `${venv}/bin/python`,
        jars: extra,
        s3Url: s3.url,
        lineageUrl: `http://127.0.0.1:${DEFAULT_PORTS.sparkLineage}`,
        executorMemory: executorMemory(),
      });
      // The store's keys go in a properties file only this user reads, not on a command line `ps` shows.
      const secrets = `${dir}/s3a.properties`;
      await Deno.remove(secrets).catch(() => {});
      await Deno.writeTextFile(
        secrets,
        `spark.hadoop.fs.s3a.access.key=${s3.accessKey}\nspark.hadoop.fs.s3a.secret.key=${s3.secretKey}\n`,
        { mode: 0o600 },
      );
      const connect = await spawnDetached("env", [
        ...env(),
        `${sparkHome}/bin/spark-submit`,
        "--class",
        "org.apache.spark.sql.connect.service.SparkConnectServer",
        "--driver-memory",
        "1g",
        "--properties-file",
        secrets,
        ...Object.entries(conf).flatMap(([k, v]) => ["--conf", `${k}=${v}`]),
        "--name",
        "mercury-connect",
        "spark-internal",
      ], paths.log);
      pids.push(connect);
      await save();
      return connect;
    },
    async stop(_pid: number) {
      await stopAll();
    },
    health: (timeoutMs = 3000) => sparkHealth(eps.remote, timeoutMs),
    prepare: async () => void await import("../../plugins/spark/connect/session.ts"),
    async notes() {
      try {
        const r = await fetch(`${eps.masterUi}/json/`, { signal: AbortSignal.timeout(2000) });
        const j = await r.json() as { aliveworkers?: number; cores?: number; memory?: number };
        return `${j.aliveworkers} workers, ${j.cores} cores, ${j.memory} MB; UI ${eps.masterUi}; REST ${eps.rest}`;
      } catch {
        return `UI ${eps.masterUi}; REST ${eps.rest}`;
      }
    },
  };
}

/** One real query through the Deno client: `SELECT 1`, then the server's Spark version. */
export async function sparkHealth(remote: string, timeoutMs = 3000): Promise<HealthReport> {
  const t0 = performance.now();
  try {
    const { SparkSession } = await import("../../plugins/spark/connect/session.ts");
    const spark = await SparkSession.connect({ remote, connectTimeoutMs: timeoutMs, timeoutMs: 30_000 });
    try {
      const t = await (await spark.sql("SELECT 1 AS one")).toArrow();
      const ok = Number(t.getChild("one")?.get(0)) === 1;
      return {
        service: "spark",
        endpoint: remote,
        ok,
        latencyMs: Math.round(performance.now() - t0),
        detail: ok ? `Spark ${await spark.version()}` : "SELECT 1 returned something else",
      };
    } finally {
      await spark.close();
    }
  } catch (err) {
    return { service: "spark", endpoint: remote, ok: false, latencyMs: 0, detail: (err as Error).message };
  }
}
