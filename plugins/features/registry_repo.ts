/**
 * The registry as the source of truth: a `FeatureRepo` rebuilt from the
 * objects applied to (or promoted into) an environment — its current
 * release, or an earlier one by number — so `serve`, `materialize` and
 * training sets use what the environment holds, not the module on disk.
 *
 * Functions (a view's `transform`, an on-demand view's `transform`) are stored
 * as their source text and revived here: they must be self-contained (use
 * only their arguments and globals); one that used a variable of its module
 * fails when called, naming the view.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import type { Entity, FeatureRepo, FeatureService, FeatureView, Model, OnDemandFeatureView } from "./definitions.ts";
import type { FeatureRegistry, RegistryObject } from "./registry.ts";

function reviveFunction(src: string, where: string): (...a: unknown[]) => unknown {
  let fn: unknown;
  try {
    fn = new Function(`"use strict"; return (${src});`)();
  } catch {
    try {
      // Method shorthand (`transform(r) { … }`) is not an expression on its own.
      fn = Object.values(new Function(`"use strict"; return ({ ${src} });`)() as object)[0];
    } catch (err) {
      throw new MercuryError("input", `cannot revive the function stored for ${where}`, {
        where,
        hint: "define transforms as self-contained arrow functions",
        cause: err,
      });
    }
  }
  const f = fn as (...a: unknown[]) => unknown;
  const wrapped = (...args: unknown[]) => {
    try {
      return f(...args);
    } catch (err) {
      if (err instanceof ReferenceError) {
        throw new MercuryError("input", `the function stored for ${where} is not self-contained: ${err.message}`, {
          where,
          hint: "a transform served from the registry may use only its arguments and globals",
          cause: err,
        });
      }
      throw err;
    }
  };
  // Its source stays the stored text, so the revived definition hashes as the stored one.
  Object.defineProperty(wrapped, "toString", { value: () => src });
  return wrapped;
}

function revive(value: unknown, where: string): unknown {
  if (Array.isArray(value)) return value.map((v) => revive(v, where));
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (Object.keys(o).length === 1 && typeof o.$function === "string") return reviveFunction(o.$function, where);
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, revive(v, `${where}.${k}`)]));
  }
  return value;
}

/** A repo from registry objects (as `current()` or `atRelease()` return them). */
export function repoFromObjects(project: string, objects: RegistryObject[]): FeatureRepo {
  const of = <T>(kind: string) =>
    objects.filter((o) => o.kind === kind).map((o) => revive(o.spec, `${kind.replace(/_/g, " ")} "${o.name}"`) as T);
  return {
    project,
    entities: of<Entity>("entity"),
    views: of<FeatureView>("feature_view"),
    onDemandViews: of<OnDemandFeatureView>("on_demand_feature_view"),
    services: of<FeatureService>("feature_service"),
    models: of<Model>("model"),
  };
}

/** Where a served repo came from. */
export interface RegistryRepo {
  repo: FeatureRepo;
  /** The release served (undefined for a registry written before releases were recorded). */
  release?: number;
}

/**
 * The repo of an environment from its registry: the given release, or the
 * current objects (and the latest release number).
 */
export async function repoFromRegistry(registry: FeatureRegistry, release?: number): Promise<RegistryRepo> {
  if (release !== undefined) {
    return { repo: repoFromObjects(registry.project, await registry.atRelease(release)), release };
  }
  const objs = await registry.current();
  if (objs.length === 0) {
    throw new MercuryError("not_found", `nothing is applied to ${registry.project}/${registry.env}`, {
      where: `registry ${registry.schema}`,
      hint: `apply the repo (features apply --repo … --env ${registry.env}) or promote into ${registry.env}`,
    });
  }
  const [latest] = await registry.releases(1);
  return { repo: repoFromObjects(registry.project, objs), release: latest?.release };
}
