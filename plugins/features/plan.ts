/**
 * `plan` and `apply`: the diff between a repo and the registry, breaking
 * changes (a removed or retyped feature a registered feature service uses),
 * declared feature types checked against what each added or changed view's
 * source yields (`schema_check.ts`), and one-transaction writes; `promote`
 * copies one environment to the next.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import type { FeatureRepo } from "./definitions.ts";
import { type Environment, ENVIRONMENTS, type FeatureRegistry, type RegistryObject } from "./registry.ts";
import { type ObjectKind, repoObjects, type StoredObject } from "./spec.ts";
import { checkViewSchemas, type SchemaProblem, type SchemaUnchecked, type ViewSchemaSource } from "./schema_check.ts";
import { validateRepo } from "./validate.ts";

export { checkViewSchemas, type SchemaProblem, type SchemaUnchecked, type ViewSchemaSource };

/** One line of a plan. */
export interface Change {
  action: "add" | "update" | "remove";
  kind: ObjectKind;
  name: string;
  /** Top-level fields that differ (update only). */
  fields: string[];
  /** Why this change breaks a registered feature service, if it does. */
  breaking?: string;
  fromVersion?: number;
}

/** A plan: the changes, and whether any is breaking. */
export interface Plan {
  env: Environment;
  changes: Change[];
  breaking: Change[];
  /** Added or changed views whose declared types do not match their source (only when an offline store was given). */
  problems?: SchemaProblem[];
  /** Added or changed views whose source could not be read, so their types were not checked. */
  unchecked?: SchemaUnchecked[];
}

/** Options of {@linkcode plan}. */
export interface PlanOptions {
  /** Checks added and changed views' declared types against their sources (`FeatureStore` passes its offline store). */
  offline?: ViewSchemaSource;
}

type FeatureTypes = Map<string, string>;

/** JSON with sorted keys (jsonb does not keep key order). */
function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${
      Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`).join(",")
    }}`;
  }
  return JSON.stringify(v) ?? "null";
}

function featureTypes(objs: { kind: string; name: string; spec: Record<string, unknown> }[]): FeatureTypes {
  const out: FeatureTypes = new Map();
  for (const o of objs) {
    if (o.kind !== "feature_view" && o.kind !== "on_demand_feature_view") continue;
    for (const f of (o.spec.features as { name: string; type: string }[]) ?? []) out.set(`${o.name}:${f.name}`, f.type);
  }
  return out;
}

function serviceRefs(spec: Record<string, unknown>, types: FeatureTypes): string[] {
  const out: string[] = [];
  for (const ref of (spec.features as string[]) ?? []) {
    if (ref.endsWith(":*")) {
      const view = ref.slice(0, -2);
      for (const k of types.keys()) if (k.startsWith(`${view}:`)) out.push(k);
    } else out.push(ref);
  }
  return out;
}

/**
 * Diffs desired objects against the current registry objects.
 *
 * @example
 * ```ts
 * import { diffObjects, entity, toStored } from "@mercury/features";
 * import assert from "node:assert/strict";
 * const a = toStored(entity({ name: "card", joinKey: "card_id", valueType: "int64" }));
 * const b = toStored(entity({ name: "card", joinKey: "card_no", valueType: "int64" }));
 * const plan = diffObjects("dev", [b], [{ ...a, version: 1, createdBy: "x", createdAt: new Date(), reason: "", deleted: false }]);
 * assert.deepEqual(plan.changes.map((c) => [c.action, c.name, c.fields]), [["update", "card", ["joinKey"]]]);
 * ```
 */
export function diffObjects(env: Environment, desired: StoredObject[], current: RegistryObject[]): Plan {
  const key = (o: { kind: string; name: string }) => `${o.kind}/${o.name}`;
  const cur = new Map(current.map((o) => [key(o), o]));
  const want = new Map(desired.map((o) => [key(o), o]));
  const changes: Change[] = [];
  for (const o of desired) {
    const c = cur.get(key(o));
    if (!c) changes.push({ action: "add", kind: o.kind, name: o.name, fields: [] });
    else if (c.hash !== o.hash) {
      const fields = [...new Set([...Object.keys(o.spec), ...Object.keys(c.spec)])].filter((f) =>
        stable(o.spec[f]) !== stable(c.spec[f])
      ).sort();
      changes.push({ action: "update", kind: o.kind, name: o.name, fields, fromVersion: c.version });
    }
  }
  for (const c of current) {
    if (!want.has(key(c))) {
      changes.push({ action: "remove", kind: c.kind, name: c.name, fields: [], fromVersion: c.version });
    }
  }
  // Breaking: a feature some registered service uses is gone or has another type.
  const oldTypes = featureTypes(current);
  const newTypes = featureTypes(desired);
  const used = new Map<string, string[]>();
  for (const s of current.filter((o) => o.kind === "feature_service")) {
    for (const ref of serviceRefs(s.spec, oldTypes)) used.set(ref, [...(used.get(ref) ?? []), s.name]);
  }
  for (const ch of changes) {
    if (ch.kind !== "feature_view" && ch.kind !== "on_demand_feature_view") continue;
    const problems: string[] = [];
    for (const [ref, services] of used) {
      if (!ref.startsWith(`${ch.name}:`)) continue;
      const before = oldTypes.get(ref);
      const after = newTypes.get(ref);
      if (after === undefined) problems.push(`removes ${ref} used by ${services.join(", ")}`);
      else if (before !== after) problems.push(`retypes ${ref} ${before} → ${after} used by ${services.join(", ")}`);
    }
    if (problems.length) ch.breaking = problems.join("; ");
  }
  const order = ["entity", "feature_view", "on_demand_feature_view", "feature_service", "model"];
  changes.sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind) || a.name.localeCompare(b.name));
  return { env, changes, breaking: changes.filter((c) => c.breaking) };
}

/** The feature views a plan adds or updates. */
function changedViews(p: Plan): string[] {
  return p.changes.filter((c) => c.kind === "feature_view" && c.action !== "remove").map((c) => c.name);
}

/**
 * Validates a repo and diffs it against the registry; with an offline store, the added and changed views' declared
 * types are checked against their sources (`problems`, `unchecked`).
 *
 * @example
 * ```ts ignore
 * const p = await plan(repo, registry, { offline });
 * console.log(formatPlan(p));
 * ```
 */
export async function plan(repo: FeatureRepo, registry: FeatureRegistry, options: PlanOptions = {}): Promise<Plan> {
  validateRepo(repo);
  const p = diffObjects(registry.env, repoObjects(repo), await registry.current());
  if (options.offline) Object.assign(p, await checkViewSchemas(repo, changedViews(p), options.offline));
  return p;
}

/** Options of {@linkcode apply}. */
export interface ApplyOptions extends PlanOptions {
  who?: string;
  why?: string;
  /** Apply breaking changes too. */
  force?: boolean;
}

function who(options: ApplyOptions): string {
  return options.who ?? Deno.env.get("USER") ?? Deno.env.get("LOGNAME") ?? "unknown";
}

async function writePlan(
  desired: StoredObject[],
  registry: FeatureRegistry,
  options: ApplyOptions,
  defaultWhy: string,
  checked?: { views: Set<string>; schema: Pick<Plan, "problems" | "unchecked"> },
): Promise<Plan> {
  const byKey = new Map(desired.map((o) => [`${o.kind}/${o.name}`, o]));
  let result: Plan | undefined;
  // The diff is computed inside the transaction, under the lock, so two applies cannot interleave.
  await registry.write({ who: who(options), why: options.why ?? defaultWhy }, (current) => {
    const p = diffObjects(registry.env, desired, current);
    if (checked) {
      const late = changedViews(p).find((v) => !checked.views.has(v));
      if (late) {
        throw new MercuryError("conflict", `feature view "${late}" changed in the registry while apply checked types`, {
          where: `registry ${registry.project}/${registry.env}`,
          hint: "run apply again",
        });
      }
      Object.assign(p, checked.schema);
    }
    if (p.breaking.length && !options.force) {
      const b = p.breaking[0]!;
      throw new MercuryError("conflict", `breaking change to ${b.kind.replace(/_/g, " ")} "${b.name}": ${b.breaking}`, {
        where: `registry ${registry.project}/${registry.env}`,
        hint: "keep the feature, update the feature service first, or pass --force",
      });
    }
    result = p;
    return {
      changed: p.changes.filter((c) => c.action !== "remove").map((c) => byKey.get(`${c.kind}/${c.name}`)!),
      removed: p.changes.filter((c) => c.action === "remove"),
    };
  });
  return result!;
}

/**
 * Applies a repo: a new version of each changed object, tombstones for
 * removed ones, all in one transaction; breaking changes need `force`. With
 * an offline store, a view whose declared types do not match its source is
 * refused (a MercuryError `input` naming the view, the feature, declared and
 * actual type) before anything is written.
 *
 * @example
 * ```ts ignore
 * await apply(repo, registry, { why: "add amount_7d", offline });
 * ```
 */
export async function apply(repo: FeatureRepo, registry: FeatureRegistry, options: ApplyOptions = {}): Promise<Plan> {
  validateRepo(repo);
  const desired = repoObjects(repo);
  if (!options.offline) return await writePlan(desired, registry, options, "apply");
  // Checked before the transaction (DuckDB work does not hold the registry lock); the transaction then makes sure it
  // writes no view that was not checked.
  const views = changedViews(diffObjects(registry.env, desired, await registry.current()));
  const schema = await checkViewSchemas(repo, views, options.offline);
  const first = schema.problems[0];
  if (first) {
    const more = schema.problems.length > 1 ? ` (and ${schema.problems.length - 1} more; see plan)` : "";
    throw new MercuryError("input", `apply refused: ${first.message}${more}`, {
      where: first.where,
      hint: "fix the declared type or cast in the view's sql; nothing was written to the registry",
    });
  }
  return await writePlan(desired, registry, options, "apply", { views: new Set(views), schema });
}

/**
 * Promotes the current objects of one environment to the next
 * (dev → staging → prod), as new versions there.
 *
 * @example
 * ```ts ignore
 * await promote(registry.forEnv("dev"), "staging");
 * ```
 */
export async function promote(
  from: FeatureRegistry,
  to: Environment,
  options: ApplyOptions = {},
): Promise<Plan> {
  const i = ENVIRONMENTS.indexOf(from.env);
  if (ENVIRONMENTS.indexOf(to) !== i + 1) {
    throw new MercuryError("usage", `cannot promote ${from.env} to ${to}`, {
      hint: `promotion goes ${ENVIRONMENTS.join(" → ")}, one step at a time`,
    });
  }
  const source = await from.current();
  if (source.length === 0) {
    throw new MercuryError("not_found", `nothing to promote: ${from.project}/${from.env} is empty`, {
      hint: "apply the repo to it first",
    });
  }
  const desired = source.map(({ kind, name, spec, hash }) => ({ kind, name, spec, hash }));
  const versions = source.map((o) => `${o.name}@v${o.version}`).join(",");
  return await writePlan(desired, from.forEnv(to), options, `promote from ${from.env} (${versions})`);
}

/**
 * Rolls an environment back to one of its releases (default: the one before
 * the current): the objects of that release are written as new versions (the
 * history only grows) and become a new release. Breaking changes are allowed:
 * going back is the point.
 */
export async function rollback(
  registry: FeatureRegistry,
  options: ApplyOptions & { release?: number } = {},
): Promise<Plan & { release: number }> {
  const releases = await registry.releases(2);
  const target = options.release ?? releases[1]?.release;
  if (target === undefined) {
    throw new MercuryError("not_found", `${registry.project}/${registry.env} has no earlier release to roll back to`, {
      where: `registry ${registry.schema}.releases`,
      hint: releases.length ? `the only release is ${releases[0]!.release}` : "apply or promote into it first",
    });
  }
  const objs = await registry.atRelease(target);
  const desired = objs.map(({ kind, name, spec, hash }) => ({ kind, name, spec, hash }));
  const p = await writePlan(desired, registry, { ...options, force: true }, `rollback to release ${target}`);
  return { ...p, release: target };
}

/**
 * Formats a plan like `terraform plan`: `+` add, `~` update, `-` remove.
 *
 * @example
 * ```ts
 * import { formatPlan } from "@mercury/features";
 * import assert from "node:assert/strict";
 * const text = formatPlan({ env: "dev", changes: [{ action: "add", kind: "entity", name: "card", fields: [] }], breaking: [] });
 * assert.match(text, /\+ entity card/);
 * ```
 */
export function formatPlan(p: Plan): string {
  if (p.changes.length === 0) return `${p.env}: no changes; the registry matches the repo`;
  const sign = { add: "+", update: "~", remove: "-" } as const;
  const lines = p.changes.map((c) =>
    `  ${sign[c.action]} ${c.kind.replace(/_/g, " ")} ${c.name}` +
    (c.fields.length ? ` (${c.fields.join(", ")})` : "") +
    (c.fromVersion ? ` [from v${c.fromVersion}]` : "") +
    (c.breaking ? `  BREAKING: ${c.breaking}` : "")
  );
  const counts = ["add", "update", "remove"].map((a) => p.changes.filter((c) => c.action === a).length);
  const problems = p.problems ?? [];
  return [
    `${p.env}: ${counts[0]} to add, ${counts[1]} to update, ${counts[2]} to remove` +
    (p.breaking.length ? `, ${p.breaking.length} breaking` : "") +
    (problems.length ? `, ${problems.length} type mismatch(es): apply will refuse` : ""),
    ...lines,
    ...problems.map((x) => `  ! ${x.message}`),
    ...(p.unchecked ?? []).map((x) =>
      `  ? feature view ${x.view}: types not checked, the source cannot be read (${x.reason})`
    ),
  ].join("\n");
}
