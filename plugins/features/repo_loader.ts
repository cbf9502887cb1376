/**
 * Loads a feature repo from a TypeScript module (`--repo FILE`), like Feast's
 * feature repository: the module's default export, or its `repo` export.
 *
 * @module
 */
import { MercuryError } from "@mercury/core";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { FeatureRepo } from "./definitions.ts";
import { validateRepo } from "./validate.ts";

/**
 * Imports and validates a repo module.
 *
 * @example
 * ```ts ignore
 * const repo = await loadRepo("notebooks/features_repo.ts");
 * ```
 */
export async function loadRepo(path: string): Promise<FeatureRepo> {
  const abs = resolve(path);
  try {
    await Deno.stat(abs);
  } catch {
    throw new MercuryError("not_found", `feature repo ${path} does not exist`, {
      where: path,
      hint: "pass --repo path/to/features_repo.ts (a module exporting the repo as default)",
    });
  }
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(abs).href);
  } catch (err) {
    throw new MercuryError("input", `cannot load feature repo ${path}: ${(err as Error).message}`, {
      where: path,
      hint: "run deno check on it",
      cause: err,
    });
  }
  const repo = (mod.default ?? mod.repo) as FeatureRepo | undefined;
  if (!repo || typeof repo !== "object") {
    throw new MercuryError("input", `feature repo ${path} exports no repo`, {
      where: path,
      hint: "export default { project, entities, views, services }",
    });
  }
  validateRepo(repo);
  return repo;
}
