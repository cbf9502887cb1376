/**
 * The Apache Flink peer of `deno task bench:stream`: fetches the jars of
 * `pom.xml` beside this file (Flink 1.20.3, its Kafka connector, DataSketches,
 * DDSketch for Java) into `.mercury/peers/flink/libs`, compiles
 * `FlinkPeer.java` once per process and runs it over a topic: Mercury's default
 * pipeline as a DataStream job in a local MiniCluster, parallelism 2, exactly-once
 * to `<topic>.flink-windows`. The same shape as the bench's `kafkaStreams(topic,
 * events)`.
 *
 * @example
 * ```ts ignore
 * import { flink } from "./run.ts";
 * const r = await flink("bench_x_live", 2_000_000);
 * console.log(r.eventsPerSec, r.windows, r.outputTopic);
 * ```
 *
 * @module
 */
import { projectRoot, resolveEndpoints } from "@mercury/core";
import { aptInstall, onPath } from "../../../tasks/services/_process.ts";
import { fetchJars } from "../../../tasks/services/_maven.ts";

/** What the Flink peer prints (one JSON line) when its job has finished. */
export interface FlinkPeerResult {
  /** Records read from the topic. */
  events: number;
  /** Events in the windows it wrote (all of them: the end of input fires every window). */
  aggregated: number;
  /** Window results written. */
  windows: number;
  /** From the job RUNNING to the job FINISHED (its last transaction committed). */
  seconds: number;
  eventsPerSec: number;
  /** From submitting the job (MiniCluster start included). */
  secondsWithStart: number;
  parallelism: number;
  stateBackend: string;
  flink: string;
  /** Where the results went (read them with `readCommitted`). */
  outputTopic: string;
}

// Flink 1.20 on Java 17 reflects into these JDK packages (its own launch scripts open the same ones).
const OPENS = [
  "java.base/java.lang",
  "java.base/java.lang.reflect",
  "java.base/java.io",
  "java.base/java.net",
  "java.base/java.nio",
  "java.base/sun.nio.ch",
  "java.base/java.text",
  "java.base/java.time",
  "java.base/java.util",
  "java.base/java.util.concurrent",
  "java.base/java.util.concurrent.atomic",
  "java.base/java.util.concurrent.locks",
].map((p) => `--add-opens=${p}=ALL-UNNAMED`);

let classes: string | undefined;

/** Compiles the peer once per process (after fetching its jars); returns the classes folder. */
async function compile(root: string, libs: string): Promise<string> {
  if (classes) return classes;
  await fetchJars(`${root}/bench/peers/flink/pom.xml`, libs, "Apache Flink (the peer)");
  if (!(await onPath("javac"))) await aptInstall(["openjdk-17-jdk-headless"], "javac (compiles the Flink peer)");
  const dir = await Deno.makeTempDir({ prefix: "mercury-flink-peer-" });
  const javac = await new Deno.Command("javac", {
    args: ["-nowarn", "-cp", `${libs}/*`, "-d", dir, `${root}/bench/peers/flink/FlinkPeer.java`],
    stderr: "piped",
  }).output();
  if (!javac.success) throw new Error(`compiling FlinkPeer.java failed:\n${new TextDecoder().decode(javac.stderr)}`);
  classes = dir;
  return dir;
}

/**
 * Runs the Flink peer over `topic` (which holds `events` records) and checks it
 * read and aggregated all of them; throws with the tail of its log otherwise,
 * or after `timeoutMs` (default 30 min).
 */
export async function flink(
  topic: string,
  events: number,
  options: { brokers?: string[]; parallelism?: number; timeoutMs?: number } = {},
): Promise<FlinkPeerResult> {
  const root = projectRoot();
  const libs = `${root}/.mercury/peers/flink/libs`;
  const dir = await compile(root, libs);
  const brokers = options.brokers ?? resolveEndpoints().kafka.brokers;
  const checkpoints = await Deno.makeTempDir({ prefix: "mercury-flink-peer-checkpoints-" });
  try {
    const out = await new Deno.Command("java", {
      args: [
        "-Xmx2g",
        ...OPENS,
        `-Dlog4j2.configurationFile=${root}/bench/peers/flink/log4j2.properties`,
        "-cp",
        `${libs}/*:${dir}`,
        "FlinkPeer",
        brokers.join(","),
        topic,
        `${topic}-flink`,
        checkpoints,
        String(options.parallelism ?? 2),
      ],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(options.timeoutMs ?? 30 * 60_000),
    }).output();
    const line = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
    if (!out.success || !line.startsWith("{")) {
      throw new Error(`Flink peer failed over ${topic}: ${new TextDecoder().decode(out.stderr).slice(-2000)}`);
    }
    const r = JSON.parse(line) as FlinkPeerResult;
    if (r.events !== events || r.aggregated !== events) {
      throw new Error(`Flink peer read ${r.events} events and aggregated ${r.aggregated}, expected ${events}`);
    }
    return r;
  } finally {
    await Deno.remove(checkpoints, { recursive: true }).catch(() => {});
  }
}

/** Removes the compiled classes (at the end of a bench). */
export async function cleanFlinkPeer(): Promise<void> {
  if (classes) await Deno.remove(classes, { recursive: true }).catch(() => {});
  classes = undefined;
}
