/**
 * `deno task test` (after `services up`) — the whole suite in two phases:
 *
 * 1. every test file and JSDoc example except those in {@linkcode SOLO}, several
 *    files at a time (`deno test --parallel`; `MERCURY_TEST_JOBS` files at once,
 *    default 3: most suites wait on services, not on the CPU);
 * 2. then the {@linkcode SOLO} files one at a time: they stop, kill or restart a
 *    shared service, or time a fault with bounds that another suite's load
 *    would blur.
 *
 * Both phases always run (the second is not skipped when the first fails) and
 * each prints Deno's own summary; the exit code is non-zero when either failed.
 * Arguments are passed to both `deno test` runs (e.g. `--filter exactly-once`).
 *
 * @example
 * ```sh
 * deno task test                      # services up, then both phases
 * MERCURY_TEST_JOBS=2 deno task test  # fewer files at once on a busy machine
 * ```
 *
 * @module
 */
import { projectRoot } from "@mercury/core";

/** Test files that must run alone, each with the reason. Paths from the project root. */
export const SOLO: Record<string, string> = {
  "tests/tasks/services_test.ts": "stops and starts the shared services (down, then up)",
  "tests/stream/exactly_once_test.ts": "crashes the shared PostgreSQL mid-stream",
  "tests/stream/exactly_once_kafka_test.ts": "kills the shared Kafka broker mid-stream",
  "tests/observe/services_test.ts": "stops and restarts the shared MLflow and Prometheus",
  "tests/stream/cluster_fault_test.ts": "runs a three-broker cluster and kills its leaders; 300,000 events",
  "tests/spark/oom_test.ts": "runs the shared Spark cluster's executors out of memory (they may die and restart)",
};

/** What deno.json's `test.exclude` leaves out (an `--ignore` on the command line replaces it). */
const EXCLUDED = ["reports/", ".mercury/", "node_modules/"];

/** Runs `deno test` with `args`; true when it passed. */
async function denoTest(args: string[], env: Record<string, string> = {}): Promise<boolean> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", ...args],
    cwd: projectRoot(),
    env,
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  return (await child.status).success;
}

if (import.meta.main) {
  const root = projectRoot();
  const solo = Object.keys(SOLO);
  for (const file of solo) {
    try {
      Deno.statSync(`${root}/${file}`);
    } catch {
      console.error(`error: tasks/test.ts lists ${file} in SOLO, but there is no such file (hint: update SOLO)`);
      Deno.exit(2);
    }
  }
  const jobs = Deno.env.get("MERCURY_TEST_JOBS") ?? "3";
  if (!/^[1-9][0-9]*$/.test(jobs)) {
    console.error(`error: MERCURY_TEST_JOBS must be a positive integer, got "${jobs}"`);
    Deno.exit(2);
  }
  const extra = Deno.args;
  console.log(`phase 1: every test file but ${solo.length}, ${jobs} at a time`);
  const shared = await denoTest(
    // The config's test.exclude repeated: --ignore replaces it.
    ["--doc", "--permit-no-files", "--parallel", `--ignore=${[...EXCLUDED, ...solo].join(",")}`, ...extra],
    { DENO_JOBS: jobs },
  );
  console.log(`phase 2: ${solo.length} files that stop, kill or restart shared services, one at a time`);
  const alone = await denoTest(["--permit-no-files", ...extra, ...solo]);
  Deno.exit(shared && alone ? 0 : 1);
}
