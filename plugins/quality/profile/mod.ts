/**
 * Profiling a source: {@linkcode profileSource} opens it in DuckDB and runs
 * {@linkcode profileRelation}; {@linkcode profileText} prints a profile for a
 * terminal.
 *
 * @module
 */
import { openDuckDB } from "@mercury/core/services/duckdb";
import { type Profile, type ProfileOptions, profileRelation } from "./profile.ts";
import { checkRelation, fileRelation } from "./_source.ts";

export {
  type ColumnProfile,
  type HistogramBin,
  type InferredType,
  type Profile,
  type ProfileOptions,
  profileRelation,
  SEMANTIC_PATTERNS,
  type SemanticType,
} from "./profile.ts";

/**
 * Profiles the data at a source URI.
 *
 * @example
 * ```ts
 * import { profileSource } from "./mod.ts";
 * import assert from "node:assert/strict";
 *
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "id,email\n1,a@b.io\n2,c@d.io\n3,\n");
 * const p = await profileSource(path);
 * assert.equal(p.rows, 3);
 * assert.equal(p.columns[1]!.semanticType, "email");
 * await Deno.remove(path);
 * ```
 */
export async function profileSource(uri: string, options: ProfileOptions = {}): Promise<Profile> {
  await using db = await openDuckDB();
  const relation = fileRelation(uri);
  await checkRelation(db.connection, relation, uri);
  return await profileRelation(db.connection, relation, { source: uri, ...options });
}

function fmt(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") {
    if (Number.isInteger(v)) return String(v);
    return Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toFixed(3);
  }
  const s = String(v);
  return s.length > 24 ? s.slice(0, 23) + "…" : s;
}

/** A profile as plain-text lines: one line per column, then the strongest correlations. */
export function profileText(p: Profile): string[] {
  const lines = [
    `${p.source}: ${p.rows} rows, ${p.columns.length} columns, profiled in ${
      (p.elapsedMs / 1000).toFixed(2)
    } s (${p.passes} passes, sample ${p.sampleRows} rows)`,
  ];
  const head = ["column", "type", "semantic", "null%", "empty%", "distinct", "min", "max", "mean", "top pattern"];
  const body = p.columns.map((c) => [
    c.name,
    c.inferredType,
    c.semanticType ?? "",
    (c.nullShare * 100).toFixed(2),
    (c.emptyShare * 100).toFixed(2),
    `${c.distinctExact ? "" : "~"}${c.distinct}`,
    fmt(c.min),
    fmt(c.max),
    fmt(c.mean),
    c.patterns[0]?.pattern ?? "",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  for (const r of [head, ...body]) lines.push(r.map((x, i) => x.padEnd(widths[i]!)).join("  ").trimEnd());
  const strong = p.correlations.filter((c) => c.r !== null && Math.abs(c.r) >= 0.5)
    .sort((a, b) => Math.abs(b.r!) - Math.abs(a.r!));
  for (const c of strong.slice(0, 10)) lines.push(`correlation ${c.a} ~ ${c.b}: r = ${c.r!.toFixed(3)}`);
  return lines;
}
