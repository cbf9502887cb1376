/**
 * Autoscaling on backlog: a pure policy (thresholds, cooldown, hysteresis)
 * and a controller that reads the lag, asks the policy, and starts or stops
 * worker processes through a {@linkcode WorkerPool}. Every decision is logged
 * with the lag that caused it.
 *
 * @module
 */
import { removeTargets, writeTargets } from "@mercury/core/services/prometheus";

/** Policy settings. */
export interface ScalePolicy {
  min: number;
  /** At most this many workers (also capped at the partition count). */
  max: number;
  /** Scale up while the lag per worker is above this many records. */
  scaleUpLagPerWorker: number;
  /** Scale down only while the lag per worker is below this (must be lower: hysteresis). */
  scaleDownLagPerWorker: number;
  /** No decision within this long after the last change. */
  cooldownMs: number;
}

/** One decision. */
export interface ScaleDecision {
  from: number;
  to: number;
  lag: number;
  reason: string;
}

/**
 * Decides the worker count for `lag` records of backlog.
 *
 * @example
 * ```ts
 * import { decideScale } from "@mercury/stream";
 * import assert from "node:assert/strict";
 *
 * const policy = { min: 1, max: 4, scaleUpLagPerWorker: 10_000, scaleDownLagPerWorker: 1_000, cooldownMs: 10_000 };
 * assert.equal(decideScale(policy, { workers: 1, partitions: 12, lag: 35_000, sinceChangeMs: 60_000 }).to, 4);
 * assert.equal(decideScale(policy, { workers: 4, partitions: 12, lag: 5_000, sinceChangeMs: 60_000 }).to, 4); // between thresholds: hold
 * assert.equal(decideScale(policy, { workers: 4, partitions: 12, lag: 100, sinceChangeMs: 60_000 }).to, 3);
 * assert.equal(decideScale(policy, { workers: 1, partitions: 12, lag: 99_999, sinceChangeMs: 1_000 }).to, 1); // cooldown
 * ```
 */
export function decideScale(
  policy: ScalePolicy,
  now: { workers: number; partitions: number; lag: number; sinceChangeMs: number },
): ScaleDecision {
  const cap = Math.max(policy.min, Math.min(policy.max, now.partitions));
  const hold = (reason: string): ScaleDecision => ({ from: now.workers, to: now.workers, lag: now.lag, reason });
  if (now.workers < policy.min) return { from: now.workers, to: policy.min, lag: now.lag, reason: "below the minimum" };
  if (now.workers > cap) return { from: now.workers, to: cap, lag: now.lag, reason: "above the maximum" };
  if (now.sinceChangeMs < policy.cooldownMs) return hold("cooldown");
  const perWorker = now.lag / Math.max(1, now.workers);
  if (perWorker > policy.scaleUpLagPerWorker && now.workers < cap) {
    const wanted = Math.min(cap, Math.ceil(now.lag / policy.scaleUpLagPerWorker));
    return {
      from: now.workers,
      to: wanted,
      lag: now.lag,
      reason: `lag ${perWorker.toFixed(0)}/worker > ${policy.scaleUpLagPerWorker}`,
    };
  }
  if (perWorker < policy.scaleDownLagPerWorker && now.workers > policy.min) {
    // One step at a time going down: a burst that returns should not find the pool gone.
    return {
      from: now.workers,
      to: now.workers - 1,
      lag: now.lag,
      reason: `lag ${perWorker.toFixed(0)}/worker < ${policy.scaleDownLagPerWorker}`,
    };
  }
  return hold("within thresholds");
}

/** Starts and stops workers. */
export interface WorkerPool {
  size(): number;
  start(): Promise<void>;
  /** Stops the newest worker gracefully. */
  stop(): Promise<void>;
}

/** Reads the current backlog. */
export type LagSource = () => Promise<{ lag: number; partitions: number }>;

/** Options of {@linkcode Autoscaler}. */
export interface AutoscalerOptions {
  policy: ScalePolicy;
  pool: WorkerPool;
  lag: LagSource;
  /** How often to look (default 1000 ms). */
  intervalMs?: number;
  log?: (line: string) => void;
  now?: () => number;
}

/** The control loop. */
export class Autoscaler {
  readonly decisions: (ScaleDecision & { at: number })[] = [];
  #lastChange = -Infinity;
  #timer?: ReturnType<typeof setInterval>;
  #busy = false;

  constructor(readonly options: AutoscalerOptions) {
    if (options.policy.scaleDownLagPerWorker >= options.policy.scaleUpLagPerWorker) {
      throw new RangeError("scaleDownLagPerWorker must be below scaleUpLagPerWorker, or the pool would flap");
    }
  }

  /** One look at the lag, and a change when the policy says so. */
  async step(): Promise<ScaleDecision> {
    const now = (this.options.now ?? Date.now)();
    const { lag, partitions } = await this.options.lag();
    const pool = this.options.pool;
    const d = decideScale(this.options.policy, {
      workers: pool.size(),
      partitions,
      lag,
      sinceChangeMs: now - this.#lastChange,
    });
    if (d.to !== d.from) {
      this.options.log?.(`scale ${d.from} → ${d.to} workers: ${d.reason} (lag ${d.lag})`);
      while (pool.size() < d.to) await pool.start();
      while (pool.size() > d.to) await pool.stop();
      this.#lastChange = now;
      this.decisions.push({ ...d, at: now });
    }
    return d;
  }

  /** Runs `step()` every interval until `stop()`. */
  start(): void {
    this.#timer = setInterval(async () => {
      if (this.#busy) return;
      this.#busy = true;
      try {
        await this.step();
      } catch (err) {
        this.options.log?.(`autoscaler: ${(err as Error).message}`);
      } finally {
        this.#busy = false;
      }
    }, this.options.intervalMs ?? 1000);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** Where a {@linkcode ProcessPool} lists its workers' `/metrics` for Prometheus (a file_sd list). */
export interface PoolTargets {
  /** The project root (the list goes under `.mercury/prometheus/targets/`). */
  root: string;
  /** The list's name and job label, e.g. `stream-<pipeline>`. */
  name: string;
}

/**
 * Worker processes running `deno task mercury stream process …` with the given arguments. With `targets`, each
 * worker's metrics address (its `metrics on http://…/metrics` line, so start workers with `--metrics-port 0`) goes
 * into a Prometheus file_sd list that is rewritten whenever a worker starts, stops or dies and removed by
 * `stopAll()`: the native Prometheus scrapes autoscaled workers without a restart.
 */
export class ProcessPool implements WorkerPool {
  #children: { child: Deno.ChildProcess; id: string; target?: string }[] = [];
  #n = 0;
  #writes: Promise<void> = Promise.resolve();
  constructor(
    readonly args: string[],
    readonly log?: (line: string) => void,
    readonly targets?: PoolTargets,
  ) {}

  /** The metrics addresses (host:port) of the running workers that announced one. */
  metricsTargets(): string[] {
    return this.#children.flatMap((c) => (c.target ? [c.target] : []));
  }

  /** Rewrites the file_sd list (in order: a later write never loses to an earlier one). */
  #publish(): Promise<void> {
    const t = this.targets;
    if (!t) return Promise.resolve();
    const targets = this.metricsTargets();
    this.#writes = this.#writes.then(() =>
      writeTargets(t.root, t.name, targets, { pool: t.name }).then(
        () => {},
        (err) => this.log?.(`targets: ${(err as Error).message}`),
      )
    );
    return this.#writes;
  }

  size(): number {
    return this.#children.length;
  }

  start(): Promise<void> {
    const id = `worker-${++this.#n}`;
    const mercury = new URL("../../tasks/mercury.ts", import.meta.url).pathname;
    const child = new Deno.Command(Deno.execPath(), {
      // Dynamic membership: a worker that stops leaves the group at once and its partitions move.
      args: ["run", "-A", mercury, "stream", "process", ...this.args],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const entry: { child: Deno.ChildProcess; id: string; target?: string } = { child, id };
    void child.stderr.pipeTo(
      new WritableStream({
        write: (b) => {
          for (const line of new TextDecoder().decode(b).trimEnd().split("\n")) {
            const m = /metrics on http:\/\/([^/\s]+)\/metrics/.exec(line);
            if (m && !entry.target) {
              entry.target = m[1]!;
              if (this.#children.includes(entry)) void this.#publish();
            }
            this.log?.(`${id}: ${line}`);
          }
        },
      }),
    );
    this.#children.push(entry);
    // A worker that dies leaves the pool; the autoscaler starts another when the policy asks.
    void child.status.then((st) => {
      const i = this.#children.indexOf(entry);
      if (i >= 0) {
        this.#children.splice(i, 1);
        this.log?.(`${id}: exited with code ${st.code}`);
        void this.#publish();
      }
    });
    this.log?.(`${id}: started (pid ${child.pid})`);
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    const last = this.#children.pop();
    if (!last) return;
    try {
      last.child.kill("SIGTERM");
    } catch { /* already gone */ }
    await last.child.status;
    this.log?.(`${last.id}: stopped`);
    await this.#publish();
  }

  /** Kills the newest worker with `signal` (SIGKILL simulates a crash); returns its pid. */
  kill(signal: Deno.Signal = "SIGKILL"): number | undefined {
    const last = this.#children.at(-1);
    if (!last) return undefined;
    try {
      last.child.kill(signal);
    } catch { /* already gone */ }
    return last.child.pid;
  }

  async stopAll(): Promise<void> {
    while (this.#children.length) await this.stop();
    await this.#writes;
    if (this.targets) await removeTargets(this.targets.root, this.targets.name);
  }
}
