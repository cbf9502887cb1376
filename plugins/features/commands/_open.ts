/**
 * What the features commands share: reading `--repo`/`--env`/`--schema`/`--offline-root` into an open
 * feature store, and reading a `--start`/`--end` style time option.
 *
 * @module
 */
import { type CommandArgs, MercuryError } from "@mercury/core";
import { type FeatureStore, openFeatureStore } from "../feature_store.ts";
import { parseInstant } from "../instant.ts";
import { parseEnvironment } from "../registry.ts";
import { loadRepo } from "../repo_loader.ts";

/** Opens the feature store the common options name (`--repo` is required). */
export async function open(args: CommandArgs): Promise<FeatureStore> {
  const path = args.values.repo as string | undefined;
  if (!path) throw new MercuryError("usage", "--repo is required", { hint: "pass --repo path/to/features_repo.ts" });
  const repo = await loadRepo(path);
  return await openFeatureStore({
    repo,
    env: parseEnvironment((args.values.env as string | undefined) ?? "dev"),
    schema: (args.values.schema as string | undefined) ?? "mercury_features",
    offlineRoot: (args.values["offline-root"] as string | undefined) || undefined,
  });
}

/** A time option as a Date (ISO 8601; no offset means UTC), undefined when absent. */
export function date(v: unknown, name: string): Date | undefined {
  if (v === undefined || v === "") return undefined;
  const d = new Date(parseInstant(String(v)));
  if (Number.isNaN(d.getTime())) {
    throw new MercuryError("usage", `--${name} "${v}" is not a date`, {
      hint: "use ISO 8601, e.g. 2024-05-01T00:00:00Z (an offset is honoured, none means UTC)",
    });
  }
  return d;
}
