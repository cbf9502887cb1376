/**
 * Checks a feature repository once, when it is applied: names, types, ttl,
 * and every entity and feature reference. Errors name the object and field.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import {
  type DataSource,
  type Feature,
  type FeatureRepo,
  type FeatureView,
  type OnDemandFeatureView,
  parseRef,
  VALUE_TYPES,
} from "./definitions.ts";

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function fail(object: string, field: string, message: string, hint?: string): never {
  throw new MercuryError("input", `${object}: ${field} ${message}`, { where: `${object}.${field}`, hint });
}

function checkName(kind: string, name: unknown, seen: Set<string>): string {
  const obj = `${kind} "${String(name)}"`;
  if (typeof name !== "string" || !NAME_RE.test(name)) {
    fail(obj, "name", "is not an identifier", "use letters, digits and underscores, not starting with a digit");
  }
  if (seen.has(name)) fail(obj, "name", "is defined twice", "give each object of a kind its own name");
  seen.add(name);
  return obj;
}

function checkFeatures(obj: string, features: Feature[], taken: Set<string>): void {
  if (!Array.isArray(features) || features.length === 0) fail(obj, "features", "is empty");
  const seen = new Set<string>();
  for (const [i, f] of features.entries()) {
    if (typeof f?.name !== "string" || !NAME_RE.test(f.name)) fail(obj, `features[${i}].name`, "is not an identifier");
    if (seen.has(f.name)) fail(obj, `features[${i}].name`, `"${f.name}" is defined twice`);
    if (taken.has(f.name)) fail(obj, `features[${i}].name`, `"${f.name}" clashes with a join key or timestamp`);
    seen.add(f.name);
    if (!VALUE_TYPES.includes(f.type)) {
      fail(obj, `features.${f.name}.type`, `"${f.type}" is not a value type`, `use one of ${VALUE_TYPES.join(", ")}`);
    }
  }
}

function checkSource(obj: string, s: DataSource): void {
  if (!s || typeof s !== "object") fail(obj, "source", "is missing");
  if (typeof s.timestampField !== "string" || s.timestampField === "") {
    fail(obj, "source.timestampField", "is missing", "name the column holding the event time");
  }
  switch (s.kind) {
    case "file_source":
      if (s.format !== "parquet" && s.format !== "csv") {
        fail(obj, "source.format", `"${s.format}" is not parquet or csv`);
      }
      if (!s.path) fail(obj, "source.path", "is empty");
      break;
    case "postgres_source":
      if (!/^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)?$/.test(s.table ?? "")) {
        fail(obj, "source.table", `"${s.table}" is not a table name`);
      }
      break;
    case "kafka_source":
      if (!s.topic) fail(obj, "source.topic", "is empty");
      checkSource(`${obj} batch source`, s.batchSource);
      break;
    default:
      fail(obj, "source.kind", `"${(s as { kind: string }).kind}" is not a source kind`);
  }
}

/**
 * Expands a list of references (`view:feature`, `view:*`) against a repo,
 * throwing a MercuryError naming `owner` and the bad reference.
 *
 * @example
 * ```ts
 * import { expandRefs, featureView, fileSource } from "@mercury/features";
 * import assert from "node:assert/strict";
 * const v = featureView({ name: "v", entities: ["e"], ttlSeconds: 0,
 *   source: fileSource({ name: "s", format: "csv", path: "x.csv", timestampField: "ts" }),
 *   features: [{ name: "a", type: "int64" }, { name: "b", type: "float64" }] });
 * assert.deepEqual(expandRefs(["v:*"], [v], [], "service x"), ["v:a", "v:b"]);
 * assert.throws(() => expandRefs(["v:c"], [v], [], "service x"), /service x: features .*v:c/);
 * ```
 */
export function expandRefs(
  refs: string[],
  views: FeatureView[],
  odfvs: OnDemandFeatureView[],
  owner: string,
): string[] {
  const out: string[] = [];
  for (const ref of refs) {
    const { view, feature } = parseRef(ref);
    const v = views.find((x) => x.name === view) ?? odfvs.find((x) => x.name === view);
    if (!v) {
      fail(owner, "features", `references "${ref}": no feature view "${view}"`, "write view:feature or view:*");
    }
    if (feature === "*") {
      for (const f of v.features) out.push(`${view}:${f.name}`);
    } else if (v.features.some((f) => f.name === feature)) {
      out.push(ref);
    } else {
      fail(
        owner,
        "features",
        `references "${ref}": view "${view}" has no feature "${feature}"`,
        `it has ${v.features.map((f) => f.name).join(", ")}`,
      );
    }
  }
  return [...new Set(out)];
}

/** Expanded feature refs grouped by what serves them (see {@linkcode groupRefsByView}). */
export interface GroupedRefs {
  /** Each feature view with the features read from it (on-demand views' inputs included). */
  views: Map<FeatureView, string[]>;
  /** Each on-demand view with the features asked of it. */
  odfvs: Map<OnDemandFeatureView, string[]>;
}

/**
 * Groups expanded refs (`view:feature`, from {@linkcode expandRefs}) by the
 * view that serves them; an on-demand view's features also pull its inputs
 * into their views. The online and the historical path both plan from this.
 *
 * @example
 * ```ts
 * import { featureView, fileSource, groupRefsByView } from "@mercury/features";
 * import assert from "node:assert/strict";
 * const v = featureView({ name: "v", entities: ["e"], ttlSeconds: 0,
 *   source: fileSource({ name: "s", format: "csv", path: "x.csv", timestampField: "ts" }),
 *   features: [{ name: "a", type: "int64" }, { name: "b", type: "float64" }] });
 * const { views } = groupRefsByView(["v:b", "v:a", "v:b"], [v], []);
 * assert.deepEqual(views.get(v), ["b", "a"]);
 * ```
 */
export function groupRefsByView(
  expanded: string[],
  views: FeatureView[],
  onDemand: OnDemandFeatureView[],
): GroupedRefs {
  const out: GroupedRefs = { views: new Map(), odfvs: new Map() };
  const addView = (view: string, feature: string) => {
    const v = views.find((x) => x.name === view);
    if (!v) return false;
    const list = out.views.get(v) ?? [];
    if (!list.includes(feature)) list.push(feature);
    out.views.set(v, list);
    return true;
  };
  for (const ref of expanded) {
    const { view, feature } = parseRef(ref);
    if (addView(view, feature)) continue;
    const o = onDemand.find((x) => x.name === view)!;
    const asked = out.odfvs.get(o) ?? [];
    if (!asked.includes(feature)) asked.push(feature);
    out.odfvs.set(o, asked);
    for (const input of o.inputs) {
      const p = parseRef(input);
      addView(p.view, p.feature);
    }
  }
  return out;
}

/**
 * Validates a whole repository; throws the first problem as a MercuryError
 * (`input`) naming the object and field.
 *
 * @example
 * ```ts
 * import { entity, featureService, featureView, fileSource, validateRepo } from "@mercury/features";
 * import assert from "node:assert/strict";
 * const repo = {
 *   project: "demo",
 *   entities: [entity({ name: "card", joinKey: "card_id", valueType: "int64" })],
 *   views: [featureView({ name: "v", entities: ["user"], ttlSeconds: 0,
 *     source: fileSource({ name: "s", format: "csv", path: "x.csv", timestampField: "ts" }),
 *     features: [{ name: "a", type: "int64" }] })],
 * };
 * assert.throws(() => validateRepo(repo), /feature view "v": entities references unknown entity "user"/);
 * ```
 */
export function validateRepo(repo: FeatureRepo): void {
  if (!repo || typeof repo.project !== "string" || !NAME_RE.test(repo.project)) {
    fail("repo", "project", `"${repo?.project}" is not an identifier`);
  }
  const entities = new Map<string, string>();
  const seenE = new Set<string>();
  for (const e of repo.entities ?? []) {
    const obj = checkName("entity", e?.name, seenE);
    if (typeof e.joinKey !== "string" || !NAME_RE.test(e.joinKey)) fail(obj, "joinKey", "is not an identifier");
    if (e.valueType !== "int64" && e.valueType !== "string") {
      fail(obj, "valueType", `"${e.valueType}" is not int64 or string`);
    }
    entities.set(e.name, e.joinKey);
  }
  const seenV = new Set<string>();
  for (const v of repo.views ?? []) {
    const obj = checkName("feature view", v?.name, seenV);
    if (!Array.isArray(v.entities) || v.entities.length === 0) fail(obj, "entities", "is empty");
    const taken = new Set<string>(["event_timestamp", "created_timestamp"]);
    for (const e of v.entities) {
      const key = entities.get(e);
      if (!key) {
        fail(
          obj,
          "entities",
          `references unknown entity "${e}"`,
          `known: ${[...entities.keys()].join(", ") || "none"}`,
        );
      }
      taken.add(key);
    }
    checkSource(obj, v.source);
    checkFeatures(obj, v.features, taken);
    if (typeof v.ttlSeconds !== "number" || !Number.isFinite(v.ttlSeconds) || v.ttlSeconds < 0) {
      fail(obj, "ttlSeconds", `${v.ttlSeconds} is not a non-negative number of seconds`);
    }
    if (v.sql !== undefined && (typeof v.sql !== "string" || !v.sql.includes("{source}"))) {
      fail(obj, "sql", "does not read {source}", "write e.g. select … from {source}");
    }
    if (v.transform !== undefined && typeof v.transform !== "function") fail(obj, "transform", "is not a function");
    if (v.retentionDays !== undefined && !(v.retentionDays > 0)) fail(obj, "retentionDays", "is not a positive number");
  }
  const views = repo.views ?? [];
  const odfvs = repo.onDemandViews ?? [];
  for (const o of odfvs) {
    const obj = checkName("on-demand feature view", o?.name, seenV);
    checkFeatures(obj, o.features, new Set(o.request?.map((r) => r.name) ?? []));
    if (typeof o.transform !== "function") fail(obj, "transform", "is not a function");
    for (const ref of o.inputs ?? []) {
      const { view } = parseRef(ref);
      if (!views.some((v) => v.name === view)) {
        fail(
          obj,
          "inputs",
          `references "${ref}": no feature view "${view}"`,
          "on-demand inputs come from feature views",
        );
      }
    }
    expandRefs(o.inputs ?? [], views, [], obj);
    for (const [i, r] of (o.request ?? []).entries()) {
      if (!VALUE_TYPES.includes(r.type)) fail(obj, `request[${i}].type`, `"${r.type}" is not a value type`);
    }
  }
  const seenS = new Set<string>();
  for (const s of repo.services ?? []) {
    const obj = checkName("feature service", s?.name, seenS);
    if (!Array.isArray(s.features) || s.features.length === 0) fail(obj, "features", "is empty");
    expandRefs(s.features, views, odfvs, obj);
  }
  const seenM = new Set<string>();
  for (const m of repo.models ?? []) {
    const obj = checkName("model", m?.name, seenM);
    if (!seenS.has(m.featureService)) {
      fail(obj, "featureService", `references unknown feature service "${m.featureService}"`);
    }
  }
}
