/**
 * An A/B test with a primary metric and guardrails, each a
 * {@linkcode SequentialTest}: the test stops early when a guardrail shows
 * harm — its always-valid interval lies entirely beyond the tolerated
 * change in the bad direction — and otherwise decides when the primary
 * metric is significant. Watching it after every observation is safe.
 *
 * @example
 * ```ts
 * import { AbTest } from "@mercury/observe/stats";
 * import assert from "node:assert/strict";
 *
 * const test = new AbTest({
 *   primary: { name: "conversion", tau: 0.05, higherIsBetter: true },
 *   guardrails: [{ name: "latency_ms", tau: 5, higherIsBetter: false, tolerance: 2 }],
 *   minSamples: 50,
 * });
 * for (let i = 0; i < 3000 && test.status().state === "running"; i++) {
 *   test.observe("A", { conversion: i % 10 < 2 ? 1 : 0, latency_ms: 20 + (i % 7) });
 *   test.observe("B", { conversion: i % 10 < 2 ? 1 : 0, latency_ms: 40 + (i % 7) });
 * }
 * assert.equal(test.status().state, "stopped_by_guardrail");
 * assert.equal(test.status().reason, "latency_ms");
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { type SequentialResult, SequentialTest } from "./sequential_test.ts";

/** A metric of the test. */
export interface AbMetric {
  name: string;
  /** Effect size worth detecting, in the metric's units (mixing sd of the mSPRT). */
  tau: number;
  /** Whether larger values are better (conversion) or worse (latency, errors). */
  higherIsBetter: boolean;
  /** Guardrails: the harm tolerated before stopping (0). */
  tolerance?: number;
}

/** Options of an {@linkcode AbTest}. */
export interface AbTestOptions {
  primary: AbMetric;
  guardrails?: AbMetric[];
  alpha?: number;
  minSamples?: number;
}

/** Where a test stands. */
export interface AbStatus {
  state: "running" | "winner" | "stopped_by_guardrail";
  /** The winning arm ("A" or "B") or the guardrail that stopped the test. */
  reason?: string;
  primary: SequentialResult;
  guardrails: Record<string, SequentialResult>;
}

/** A/B test with guardrails; see the module doc. */
export class AbTest {
  readonly #primary: AbMetric;
  readonly #guardrails: AbMetric[];
  readonly #tests = new Map<string, SequentialTest>();
  #stopped: AbStatus | undefined;

  constructor(options: AbTestOptions) {
    this.#primary = options.primary;
    this.#guardrails = options.guardrails ?? [];
    for (const m of [options.primary, ...this.#guardrails]) {
      this.#tests.set(m.name, new SequentialTest({ tau: m.tau, alpha: options.alpha, minSamples: options.minSamples }));
    }
  }

  /** Records one unit's metrics for its arm (every metric of the test must be present). */
  observe(arm: "A" | "B", metrics: Record<string, number>): void {
    if (this.#stopped) return;
    for (const [name, test] of this.#tests) {
      const v = metrics[name];
      if (v === undefined) {
        throw new MercuryError("input", `observation for arm ${arm} lacks metric "${name}"`, {
          where: `arm ${arm}`,
          hint: `send ${[...this.#tests.keys()].join(", ")}`,
        });
      }
      test.add(arm, v);
    }
    const s = this.#evaluate();
    if (s.state !== "running") this.#stopped = s;
  }

  #evaluate(): AbStatus {
    const guardrails: Record<string, SequentialResult> = {};
    let harmed: string | undefined;
    for (const g of this.#guardrails) {
      const r = this.#tests.get(g.name)!.result();
      guardrails[g.name] = r;
      const tol = g.tolerance ?? 0;
      // harm to B: the whole interval beyond the tolerance in the bad direction
      const harm = g.higherIsBetter ? r.ci[1] < -tol : r.ci[0] > tol;
      if (harm && r.pValue <= this.#tests.get(g.name)!.alpha) harmed ??= g.name;
    }
    const primary = this.#tests.get(this.#primary.name)!.result();
    if (harmed) return { state: "stopped_by_guardrail", reason: harmed, primary, guardrails };
    if (primary.decision !== "continue") {
      const bBetter = (primary.difference > 0) === this.#primary.higherIsBetter;
      return { state: "winner", reason: bBetter ? "B" : "A", primary, guardrails };
    }
    return { state: "running", primary, guardrails };
  }

  /** The test's state; frozen once it stopped. */
  status(): AbStatus {
    return this.#stopped ?? this.#evaluate();
  }
}
