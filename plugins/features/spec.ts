/**
 * Definitions as stored in the registry: plain JSON (functions kept as their
 * source text, so a changed transform is a changed object), with a stable hash.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Definition, FeatureRepo } from "./definitions.ts";

/** The registry's kinds, in lineage order. */
export type ObjectKind = Definition["kind"];

/** One definition as JSON plus its hash. */
export interface StoredObject {
  kind: ObjectKind;
  name: string;
  spec: Record<string, unknown>;
  hash: string;
}

function canonical(value: unknown): unknown {
  if (typeof value === "function") return { $function: value.toString() };
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = canonical(v);
    }
    return out;
  }
  return value;
}

/**
 * Serialises one definition: JSON with sorted keys, functions as source text.
 *
 * @example
 * ```ts
 * import { entity, toStored } from "@mercury/features";
 * import assert from "node:assert/strict";
 * const a = toStored(entity({ name: "card", joinKey: "card_id", valueType: "int64" }));
 * const b = toStored(entity({ valueType: "int64", joinKey: "card_id", name: "card" }));
 * assert.equal(a.hash, b.hash);
 * assert.equal(a.spec.joinKey, "card_id");
 * ```
 */
export function toStored(def: Definition): StoredObject {
  const spec = canonical(def) as Record<string, unknown>;
  const hash = createHash("sha256").update(JSON.stringify(spec)).digest("hex").slice(0, 16);
  return { kind: def.kind, name: def.name, spec, hash };
}

/**
 * Every definition of a repo, serialised.
 *
 * @example
 * ```ts
 * import { entity, repoObjects } from "@mercury/features";
 * import assert from "node:assert/strict";
 * const objs = repoObjects({ project: "p", entities: [entity({ name: "c", joinKey: "c_id", valueType: "int64" })], views: [] });
 * assert.equal(objs.length, 1);
 * ```
 */
export function repoObjects(repo: FeatureRepo): StoredObject[] {
  const defs: Definition[] = [
    ...repo.entities,
    ...repo.views,
    ...(repo.onDemandViews ?? []),
    ...(repo.services ?? []),
    ...(repo.models ?? []),
  ];
  return defs.map(toStored);
}
