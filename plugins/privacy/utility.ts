/**
 * The privacy–utility trade-off: a query's (or model's) error against ε as
 * a curve with a band from repeated runs, the ε needed for a target error,
 * and the vega-lite chart of the curve.
 *
 * A trial is any function of ε returning an error (absolute error of a DP
 * answer, 1 − accuracy of a DP model…); each ε is run `runs` times and the
 * curve keeps the median and the central `level` band of the errors.
 *
 * @example
 * ```ts
 * import { epsilonForError, utilityCurve } from "@mercury/privacy/utility";
 * import { laplaceMechanism } from "@mercury/privacy/mechanisms/float";
 * import assert from "node:assert/strict";
 *
 * const trial = (epsilon: number) => Math.abs(laplaceMechanism(100, { sensitivity: 1, epsilon }).value - 100);
 * const curve = await utilityCurve(trial, { epsilons: [0.1, 1, 10], runs: 200 });
 * assert.ok(curve[0]!.median > curve[2]!.median);
 * // Median |Laplace(1/ε)| is ln 2/ε: error 0.1 needs ε ≈ 6.9.
 * const eps = await epsilonForError(trial, 0.1, { runs: 400 });
 * assert.ok(eps > 4 && eps < 12, String(eps));
 * ```
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";

/** One point of a utility curve. */
export interface UtilityPoint {
  epsilon: number;
  runs: number;
  mean: number;
  median: number;
  /** The band's ends: the (1 − level)/2 and (1 + level)/2 quantiles of the errors. */
  lo: number;
  hi: number;
}

/** Options of {@link utilityCurve}. */
export interface CurveOptions {
  epsilons: readonly number[];
  /** Runs per ε (default 50). */
  runs?: number;
  /** Width of the band (default 0.9: the 5%–95% quantiles). */
  level?: number;
}

function quantileSorted(xs: Float64Array, q: number): number {
  const pos = (xs.length - 1) * q, i = Math.floor(pos), f = pos - i;
  return i + 1 < xs.length ? xs[i]! * (1 - f) + xs[i + 1]! * f : xs[i]!;
}

async function errorsAt(trial: (e: number) => number | Promise<number>, epsilon: number, runs: number) {
  const errs = new Float64Array(runs);
  for (let i = 0; i < runs; i++) {
    const e = await trial(epsilon);
    if (!Number.isFinite(e)) throw new RangeError(`the trial returned ${e} at ε = ${epsilon}`);
    errs[i] = e;
  }
  return errs.sort();
}

/** Error against ε: the median and a band over `runs` runs per ε. */
export async function utilityCurve(
  trial: (epsilon: number) => number | Promise<number>,
  o: CurveOptions,
): Promise<UtilityPoint[]> {
  const runs = o.runs ?? 50, level = o.level ?? 0.9;
  if (!(Number.isInteger(runs) && runs >= 2)) throw new RangeError(`runs must be a whole number ≥ 2, got ${runs}`);
  if (!(level > 0 && level < 1)) throw new RangeError(`level must lie in (0, 1), got ${level}`);
  const out: UtilityPoint[] = [];
  for (const epsilon of o.epsilons) {
    if (!(epsilon > 0 && Number.isFinite(epsilon))) throw new RangeError(`every ε must be > 0, got ${epsilon}`);
    const errs = await errorsAt(trial, epsilon, runs);
    out.push({
      epsilon,
      runs,
      mean: errs.reduce((a, b) => a + b, 0) / runs,
      median: quantileSorted(errs, 0.5),
      lo: quantileSorted(errs, (1 - level) / 2),
      hi: quantileSorted(errs, (1 + level) / 2),
    });
  }
  return out;
}

/**
 * The smallest ε (to 2% relative) whose median error over `runs` runs is at
 * most `target`: bisection on log ε between `lo` and `hi` (defaults 1e-3 and
 * 1e3). Throws if even `hi` does not reach the target.
 */
export async function epsilonForError(
  trial: (epsilon: number) => number | Promise<number>,
  target: number,
  o: { runs?: number; lo?: number; hi?: number; statistic?: "median" | "mean" } = {},
): Promise<number> {
  const runs = o.runs ?? 100;
  let lo = Math.log(o.lo ?? 1e-3), hi = Math.log(o.hi ?? 1e3);
  const stat = async (logEps: number) => {
    const errs = await errorsAt(trial, Math.exp(logEps), runs);
    return o.statistic === "mean" ? errs.reduce((a, b) => a + b, 0) / runs : quantileSorted(errs, 0.5);
  };
  if (await stat(hi) > target) {
    throw new RangeError(`no ε up to ${Math.exp(hi)} reaches an error of ${target}`);
  }
  while (hi - lo > 0.02) {
    const mid = (lo + hi) / 2;
    if (await stat(mid) > target) lo = mid;
    else hi = mid;
  }
  return Math.exp(hi);
}

/** A vega-lite chart of one or more utility curves (log ε axis, median line, band). */
export function utilityChart(
  series: Record<string, readonly UtilityPoint[]>,
  o: { title?: string; error?: string; target?: { error: number; epsilon?: number } } = {},
): TopLevelSpec {
  const values = Object.entries(series).flatMap(([name, pts]) => pts.map((p) => ({ ...p, series: name })));
  const x = { field: "epsilon", type: "quantitative" as const, scale: { type: "log" as const }, title: "ε" };
  const color = { field: "series", type: "nominal" as const, title: null };
  // deno-lint-ignore no-explicit-any
  const layers: any[] = [
    {
      mark: { type: "area", opacity: 0.2 },
      encoding: { x, y: { field: "lo", type: "quantitative" }, y2: { field: "hi" }, color },
    },
    {
      mark: { type: "line", point: true },
      encoding: {
        x,
        y: { field: "median", type: "quantitative", title: o.error ?? "error", scale: { type: "log" } },
        color,
      },
    },
  ];
  if (o.target) {
    layers.push({
      data: { values: [{ y: o.target.error }] },
      mark: { type: "rule", strokeDash: [4, 4], color: "#c0392b" },
      encoding: { y: { field: "y", type: "quantitative" } },
    });
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: o.title ?? "Error against ε (median, 90% band)",
    width: 420,
    height: 260,
    data: { values },
    layer: layers,
  } as TopLevelSpec;
}
