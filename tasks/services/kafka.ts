/**
 * Apache Kafka 4 in KRaft mode from its Maven Central jars: `services/kafka/pom.xml`
 * names the broker, `mvn dependency:copy-dependencies` fills
 * `.mercury/kafka/libs`, `kafka.tools.StorageTool` formats the storage, and the
 * broker runs as `java -cp 'libs/*' kafka.Kafka server.properties` on loopback
 * port 59092 (controller 59093).
 *
 * @module
 */
import { DEFAULT_PORTS, type HealthReport } from "@mercury/core";
import { connectKafka } from "@mercury/core/services/kafka";
import { ensureJava, runOk, spawnDetached, stopPid, writeAtomic } from "./_process.ts";
import { fetchJars } from "./_maven.ts";
import { type NativeService, servicePaths } from "./native.ts";

/**
 * A Kafka cluster id: 16 random bytes, base64url without padding (as StorageTool makes).
 * Never starting with "-", as Kafka's own `Uuid.randomUuid()` ensures: StorageTool's
 * argument parser would take `-t -abc…` for a flag (1 format in 64 failed that way).
 *
 * @example
 * ```ts
 * import { newClusterId } from "./kafka.ts";
 * import assert from "node:assert/strict";
 *
 * for (let i = 0; i < 2000; i++) assert.match(newClusterId(), /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
 * ```
 */
export function newClusterId(): string {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const id = btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    if (!id.startsWith("-")) return id;
  }
}

/** Where the broker jars are (filled by the `kafka` service's install, shared by every broker of the project). */
export function kafkaLibs(state: string): string {
  return `${servicePaths(state, "kafka").dir}/libs`;
}

/**
 * Formats a broker's storage (`kafka.tools.StorageTool format`) unless `data`
 * already holds a `meta.properties`; `extra` adds arguments such as
 * `--add-scram`.
 */
export async function formatStorage(
  libs: string,
  props: string,
  data: string,
  clusterId: string,
  log: string,
  extra: string[] = [],
): Promise<void> {
  await Deno.mkdir(data, { recursive: true });
  try {
    Deno.statSync(`${data}/meta.properties`);
    return;
  } catch { /* not formatted yet */ }
  await runOk(
    "java",
    ["-cp", `${libs}/*`, "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", props, ...extra],
    "Kafka storage format",
    { logFile: log },
  );
}

/** Starts `kafka.Kafka props` detached (stdout and stderr to `log`); returns its pid. */
export async function startBroker(
  root: string,
  libs: string,
  props: string,
  log: string,
  heap = "1g",
): Promise<number> {
  return await spawnDetached("java", [
    "-Xms256m",
    `-Xmx${heap}`,
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-Djava.awt.headless=true",
    `-Dlog4j2.configurationFile=${root}/services/kafka/log4j2.yaml`,
    "-cp",
    `${libs}/*`,
    "kafka.Kafka",
    props,
  ], log);
}

/** The native Kafka service. */
export function kafkaService(
  root: string,
  state: string,
  port: number = DEFAULT_PORTS.kafka,
  controllerPort: number = DEFAULT_PORTS.kafkaController,
): NativeService {
  const paths = servicePaths(state, "kafka");
  const libs = `${paths.dir}/libs`;
  const pom = `${root}/services/kafka/pom.xml`;
  const props = `${paths.dir}/server.properties`;
  const broker = `127.0.0.1:${port}`;

  return {
    name: "kafka",
    ports: [port, controllerPort],
    paths,
    marker: "kafka.Kafka",
    endpoint: broker,
    async install() {
      await ensureJava("the Kafka broker");
      await Deno.mkdir(paths.dir, { recursive: true });
      await fetchJars(pom, libs, "the Kafka broker jars", paths.log);
    },
    async start() {
      const template = await Deno.readTextFile(`${root}/services/kafka/server.properties`);
      const text = template
        .replaceAll("${PORT}", String(port))
        .replaceAll("${CONTROLLER_PORT}", String(controllerPort))
        .replaceAll("${LOG_DIRS}", paths.data);
      await writeAtomic(props, text);
      await formatStorage(libs, props, paths.data, newClusterId(), paths.log);
      return await startBroker(root, libs, props, paths.log);
    },
    stop: (pid) => stopPid(pid, "SIGTERM", 30_000),
    async health(timeoutMs = 3000): Promise<HealthReport> {
      try {
        const k = await connectKafka({ brokers: [broker], timeoutMs });
        try {
          return await k.health();
        } finally {
          await k.close();
        }
      } catch (err) {
        return { service: "kafka", endpoint: broker, ok: false, latencyMs: 0, detail: (err as Error).message };
      }
    },
  };
}
