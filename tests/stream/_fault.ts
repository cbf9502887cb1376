/**
 * Shared pieces of the stream fault tests: a `stream process` worker as a
 * child process (stderr collected), and crashing / restarting the services
 * that `deno task services up` started (their pids are in `.mercury/state.json`).
 */
import assert from "node:assert/strict";
import { ROOT } from "../_helpers.ts";
import { seededRandom } from "@mercury/core/random";

/** Window and checkpoint options both fault tests' workers use: 1-minute windows, 5 s disorder, 200 ms checkpoints. */
// At 50,000 events/s a kill or a broker crash meant for the middle of the stream lands there: unthrottled, a quiet
// machine's worker read the last 480,000 events in under a second, before the kill meant for it (CI: "only 4 kills").
export const FAULT_WORKER = [
  "--window",
  "tumbling:1m",
  "--max-out-of-orderness",
  "5s",
  "--checkpoint",
  "200ms",
  "--max-rate",
  "50000",
];

/** Starts `deno task mercury stream process --topic <topic> --until-done …extra`, its stderr appended to `log`. */
export function startWorker(topic: string, log: string[], extra: string[]): Deno.ChildProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/tasks/mercury.ts`, "stream", "process", "--topic", topic, ...extra, "--until-done"],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  void child.stderr.pipeTo(new WritableStream({ write: (b) => void log.push(new TextDecoder().decode(b)) }));
  return child;
}

/** `deno task services up <name>`; fails the test when it does not come up. */
export async function servicesUp(name: string): Promise<void> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}/tasks/services.ts`, "up", name],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
}

function servicePid(name: "postgres" | "kafka"): number {
  return JSON.parse(Deno.readTextFileSync(`${ROOT}/.mercury/state.json`))[name].pid;
}

/** Crashes PostgreSQL (an immediate shutdown is a crash as far as clients are concerned) and waits until it is gone. */
export async function killPostgres(): Promise<void> {
  const pid = servicePid("postgres");
  Deno.kill(pid, "SIGQUIT");
  for (let i = 0; i < 100; i++) {
    try {
      Deno.kill(pid, "SIGCONT");
      await new Promise((r) => setTimeout(r, 100));
    } catch {
      return;
    }
  }
}

/** SIGKILLs the Kafka broker. */
export function killBroker(): void {
  Deno.kill(servicePid("kafka"), "SIGKILL");
}

/**
 * The random source of a fault test's kill timing, seeded so a failure can be replayed:
 * `MERCURY_FAULT_SEED=<n>` replays a run; otherwise a fresh seed is drawn. The seed is
 * printed either way.
 */
export function faultRandom(test: string): () => number {
  const given = Deno.env.get("MERCURY_FAULT_SEED");
  const seed = given !== undefined && /^\d+$/.test(given) ? Number(given) >>> 0 : Math.floor(Math.random() * 2 ** 32);
  console.log(`${test}: kill timing seed ${seed} (replay with MERCURY_FAULT_SEED=${seed})`);
  return seededRandom(seed);
}
