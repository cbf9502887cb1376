/**
 * Differences between two profiles (columns added or removed, type changes,
 * shifts of row count, null share, distinct count, mean, min and max) and
 * between two suites (expectations added, removed or with changed arguments,
 * keyed by type and column).
 *
 * @module
 */
import type { ExpectationConfig, ExpectationSuite } from "./types.ts";
import type { Profile } from "./profile/profile.ts";

/** One difference; `before`/`after` are absent for added/removed things. */
export interface Change {
  kind: "added" | "removed" | "changed";
  /** What changed: `rows`, `column email`, `email.nullShare`, an expectation key, … */
  what: string;
  before?: unknown;
  after?: unknown;
}

function relChange(a: number, b: number): number {
  if (a === b) return 0;
  return Math.abs(b - a) / Math.max(Math.abs(a), Math.abs(b), 1e-12);
}

/**
 * Compares two profiles; numeric statistics count as changed when they move
 * by more than `tolerance` (relative, default 1 %) — null and empty shares by
 * more than `tolerance` absolute.
 *
 * @example
 * ```ts
 * import { diffProfiles } from "./diff.ts";
 * import type { Profile } from "./profile/profile.ts";
 * import assert from "node:assert/strict";
 *
 * const p = (rows: number) => ({ rows, columns: [] }) as unknown as Profile;
 * assert.deepEqual(diffProfiles(p(100), p(150)), [{ kind: "changed", what: "rows", before: 100, after: 150 }]);
 * ```
 */
export function diffProfiles(a: Profile, b: Profile, tolerance = 0.01): Change[] {
  const out: Change[] = [];
  if (a.rows !== b.rows) out.push({ kind: "changed", what: "rows", before: a.rows, after: b.rows });
  const bm = new Map(b.columns.map((c) => [c.name, c]));
  const am = new Map(a.columns.map((c) => [c.name, c]));
  for (const c of a.columns) {
    if (!bm.has(c.name)) out.push({ kind: "removed", what: `column ${c.name}`, before: c.duckdbType });
  }
  for (const c of b.columns) {
    if (!am.has(c.name)) out.push({ kind: "added", what: `column ${c.name}`, after: c.duckdbType });
  }
  for (const ca of a.columns) {
    const cb = bm.get(ca.name);
    if (!cb) continue;
    for (const k of ["duckdbType", "inferredType", "semanticType"] as const) {
      if (ca[k] !== cb[k]) out.push({ kind: "changed", what: `${ca.name}.${k}`, before: ca[k], after: cb[k] });
    }
    for (const k of ["nullShare", "emptyShare"] as const) {
      if (Math.abs(ca[k] - cb[k]) > tolerance) {
        out.push({ kind: "changed", what: `${ca.name}.${k}`, before: ca[k], after: cb[k] });
      }
    }
    for (const k of ["distinct", "mean", "stdev", "min", "max"] as const) {
      const x = ca[k];
      const y = cb[k];
      if (typeof x === "number" && typeof y === "number") {
        if (relChange(x, y) > tolerance) out.push({ kind: "changed", what: `${ca.name}.${k}`, before: x, after: y });
      } else if (x !== y) out.push({ kind: "changed", what: `${ca.name}.${k}`, before: x, after: y });
    }
  }
  return out;
}

/** The key an expectation is matched by across versions: its type and its column(s). */
export function expectationKey(e: ExpectationConfig): string {
  const k = e.kwargs;
  const cols = [k.column, k.column_A, k.column_B, k.column_list].filter((x) => x !== undefined);
  return cols.length
    ? `${e.type}(${cols.map((c) => (Array.isArray(c) ? c.join(",") : String(c))).join(", ")})`
    : e.type;
}

/**
 * Compares two suites expectation by expectation.
 *
 * @example
 * ```ts
 * import { diffSuites } from "./diff.ts";
 * import assert from "node:assert/strict";
 *
 * const e = (mostly: number) => ({ type: "expect_column_values_to_not_be_null", kwargs: { column: "id", mostly } });
 * const d = diffSuites({ name: "s", expectations: [e(0.9)] }, { name: "s", expectations: [e(0.95)] });
 * assert.equal(d[0]!.what, "expect_column_values_to_not_be_null(id)");
 * ```
 */
export function diffSuites(a: ExpectationSuite, b: ExpectationSuite): Change[] {
  const out: Change[] = [];
  const index = (s: ExpectationSuite) => {
    const m = new Map<string, ExpectationConfig>();
    for (const e of s.expectations) {
      let key = expectationKey(e);
      for (let i = 2; m.has(key); i++) key = `${expectationKey(e)}#${i}`;
      m.set(key, e);
    }
    return m;
  };
  const am = index(a);
  const bm = index(b);
  for (const [k, e] of am) if (!bm.has(k)) out.push({ kind: "removed", what: k, before: e.kwargs });
  for (const [k, e] of bm) {
    const old = am.get(k);
    if (!old) out.push({ kind: "added", what: k, after: e.kwargs });
    else if (stable(old.kwargs) !== stable(e.kwargs) || stable(old.meta ?? {}) !== stable(e.meta ?? {})) {
      out.push({ kind: "changed", what: k, before: old.kwargs, after: e.kwargs });
    }
  }
  if (stable(a.weights ?? {}) !== stable(b.weights ?? {})) {
    out.push({ kind: "changed", what: "weights", before: a.weights, after: b.weights });
  }
  return out;
}

/** JSON with object keys sorted, for comparisons and hashes. */
export function stable(v: unknown): string {
  return JSON.stringify(
    v,
    (_k, x) =>
      x && typeof x === "object" && !Array.isArray(x)
        ? Object.fromEntries(
          Object.entries(x as Record<string, unknown>).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0)),
        )
        : x,
  );
}

/** Changes as lines: `+ added`, `- removed`, `~ what: before → after`. */
export function changeLines(changes: Change[]): string[] {
  const show = (v: unknown) => (typeof v === "number" ? String(Number(v.toPrecision(6))) : JSON.stringify(v));
  return changes.map((c) =>
    c.kind === "added"
      ? `+ ${c.what}${c.after === undefined ? "" : ` ${show(c.after)}`}`
      : c.kind === "removed"
      ? `- ${c.what}${c.before === undefined ? "" : ` ${show(c.before)}`}`
      : `~ ${c.what}: ${show(c.before)} → ${show(c.after)}`
  );
}
