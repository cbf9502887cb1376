/**
 * Drift on a stream: a fixed reference window against a sliding current
 * window of the last `windowSize` rows. The reference is prepared once
 * (sorted or counted); categorical counts of the current window are kept
 * incrementally as rows enter and leave; numerical current values sit in a
 * ring buffer and are sorted when a report is asked for (O(w log w)).
 *
 * @example
 * ```ts
 * import { DriftWindow } from "@mercury/observe/stats";
 * import assert from "node:assert/strict";
 *
 * const reference = { x: Float64Array.from({ length: 100 }, (_, i) => i % 10), c: Array.from({ length: 100 }, (_, i) => (i % 2 ? "a" : "b")) };
 * const w = new DriftWindow(reference, { windowSize: 50, minRows: 20 });
 * for (let i = 0; i < 60; i++) w.push({ x: 5 + (i % 10), c: "a" });
 * const r = w.report()!;
 * assert.equal(r.datasetDrift, true);
 * assert.equal(w.size, 50);
 * ```
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import type { Category } from "./drift_tests.ts";
import {
  type ColumnKind,
  type ColumnValues,
  dataDrift,
  type DataDriftOptions,
  type DataDriftReport,
  prepareColumn,
  type PreparedColumn,
} from "./drift.ts";

/** Options of a {@linkcode DriftWindow}. */
export interface DriftWindowOptions extends DataDriftOptions {
  /** Rows in the sliding current window. */
  windowSize: number;
  /** Fewest rows (reference and current) a report needs; 30 by default. */
  minRows?: number;
}

/** One row of features: numbers for numerical columns, strings or numbers for categorical ones. */
export type FeatureRow = Record<string, number | string | boolean | null | undefined>;

/** Reference window vs sliding current window; see the module doc. */
export class DriftWindow {
  readonly #reference: Record<string, PreparedColumn>;
  readonly #names: string[];
  readonly #kinds: Record<string, ColumnKind>;
  readonly #numeric: Record<string, Float64Array> = {};
  readonly #cats: Record<string, (Category | null)[]> = {};
  readonly #counts: Record<string, Map<Category, number>> = {};
  readonly #options: DriftWindowOptions;
  #next = 0;
  #size = 0;
  #seen = 0;

  constructor(reference: Record<string, ColumnValues>, options: DriftWindowOptions) {
    if (!(options.windowSize >= 1)) {
      throw new MercuryError("input", `windowSize must be at least 1, got ${options.windowSize}`, {
        where: "DriftWindow options",
        hint: "pass the number of recent rows to compare",
      });
    }
    this.#options = options;
    const minRows = options.minRows ?? 30;
    this.#names = options.columns ?? Object.keys(reference);
    this.#reference = {};
    this.#kinds = {};
    for (const name of this.#names) {
      const values = reference[name];
      if (!values) {
        throw new MercuryError("input", `column "${name}" is missing from the reference`, {
          where: `reference column "${name}"`,
          hint: "list only columns the reference holds",
        });
      }
      const p = prepareColumn(values, options.kinds?.[name], `reference column "${name}"`);
      if (p.n < minRows) {
        throw new MercuryError("input", `reference column "${name}" has ${p.n} usable rows, fewer than ${minRows}`, {
          where: `reference column "${name}"`,
          hint: "widen the reference window or lower minRows",
        });
      }
      this.#reference[name] = p;
      this.#kinds[name] = p.kind;
      if (p.kind === "numerical") this.#numeric[name] = new Float64Array(options.windowSize).fill(NaN);
      else {
        this.#cats[name] = new Array(options.windowSize).fill(null);
        this.#counts[name] = new Map();
      }
    }
  }

  /** Rows currently in the window. */
  get size(): number {
    return this.#size;
  }

  /** Rows pushed since creation. */
  get seen(): number {
    return this.#seen;
  }

  /** Adds one row, evicting the oldest when the window is full. Missing values count as missing. */
  push(row: FeatureRow): void {
    const at = this.#next;
    for (const name of this.#names) {
      const v = row[name];
      const nums = this.#numeric[name];
      if (nums) {
        nums[at] = typeof v === "number" ? v : NaN;
        continue;
      }
      const buf = this.#cats[name]!, counts = this.#counts[name]!;
      const old = buf[at];
      if (old !== null && old !== undefined) {
        const c = counts.get(old)! - 1;
        if (c === 0) counts.delete(old);
        else counts.set(old, c);
      }
      const nv = v === null || v === undefined || (typeof v === "number" && !Number.isFinite(v)) ? null : v;
      buf[at] = nv;
      if (nv !== null) counts.set(nv, (counts.get(nv) ?? 0) + 1);
    }
    this.#next = (at + 1) % this.#options.windowSize;
    this.#size = Math.min(this.#size + 1, this.#options.windowSize);
    this.#seen++;
  }

  /** The drift report of the current window, or `undefined` while it holds fewer than `minRows` rows. */
  report(): DataDriftReport | undefined {
    if (this.#size < (this.#options.minRows ?? 30)) return undefined;
    const current: Record<string, PreparedColumn> = {};
    for (const name of this.#names) {
      const nums = this.#numeric[name];
      if (nums) {
        const p = prepareColumn(this.#size < nums.length ? nums.subarray(0, this.#size) : nums, "numerical");
        current[name] = p;
      } else {
        const counts = new Map(this.#counts[name]!);
        let n = 0;
        for (const v of counts.values()) n += v;
        current[name] = { kind: "categorical", categories: counts, n };
      }
    }
    return dataDrift(this.#reference, current, { ...this.#options, columns: this.#names });
  }
}
