/**
 * The checks of `forecast` option values that the manifest's typed option
 * specs cannot say: horizons under `--max-horizon`, interval levels,
 * `--params` JSON and algorithm names. A bad value is a usage error (exit 64)
 * in core's one format, e.g. `--levels must be percentages between 0 and
 * 100, got '120'`.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { ALGORITHMS } from "../algorithms.ts";
import { createForecaster } from "../ensemble.ts";

/**
 * Horizon `h` of option `--name` (`--horizon`, `--future-periods`), refused
 * when longer than `max` (`--max-horizon`) with a hint to raise the limit.
 *
 * @example
 * ```ts
 * import { horizonOf } from "./_args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(horizonOf(48, "horizon", 10_000), 48);
 * assert.throws(() => horizonOf(48, "horizon", 24), /--horizon 48 is more than the limit of 24 steps/);
 * ```
 */
export function horizonOf(h: number, name: string, max: number): number {
  if (h > max) {
    throw new MercuryError("usage", `--${name} ${h} is more than the limit of ${max} steps`, {
      where: `--${name}`,
      hint: `forecast fewer steps, or pass --max-horizon ${h} to allow it`,
    });
  }
  return h;
}

/**
 * `--levels`: comma-separated percentages strictly between 0 and 100 (default 80,95).
 *
 * @example
 * ```ts
 * import { levelsOf } from "./_args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(levelsOf("50, 99"), [50, 99]);
 * assert.deepEqual(levelsOf(undefined), [80, 95]);
 * assert.throws(() => levelsOf("100"), /--levels must be percentages between 0 and 100/);
 * ```
 */
export function levelsOf(v: string | undefined): number[] {
  const out = String(v ?? "80,95").split(",").map((s) => Number(s.trim()));
  for (const l of out) {
    if (!(l > 0 && l < 100)) {
      throw new MercuryError("usage", `--levels must be percentages between 0 and 100, got '${v}'`, {
        where: "--levels",
        hint: "e.g. 80,95",
      });
    }
  }
  return out;
}

/**
 * `--params`: a JSON object (absent → {}).
 *
 * @example
 * ```ts
 * import { paramsOf } from "./_args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(paramsOf('{"model":"AAdA"}'), { model: "AAdA" });
 * assert.throws(() => paramsOf("[1]"), /--params must be a JSON object/);
 * ```
 */
export function paramsOf(v: string | undefined): Record<string, unknown> {
  if (v === undefined) return {};
  try {
    const p = JSON.parse(v);
    if (p && typeof p === "object" && !Array.isArray(p)) return p;
  } catch { /* fall through */ }
  throw new MercuryError("usage", `--params must be a JSON object, got '${v}'`, {
    where: "--params",
    hint: `e.g. --params '{"model":"AAdA"}'`,
  });
}

/** A registered algorithm's name (aliases resolved) or `ensemble`; an unknown name throws listing the known ones. */
export function checkAlgorithm(name: string): string {
  if (name === "ensemble") return name;
  return ALGORITHMS.get(name) ? name : createForecaster(name).algorithm; // throws with the list on unknown names
}
