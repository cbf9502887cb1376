/**
 * What the features commands share: reading `--repo` or `--project` (with `--env`, `--release`, `--schema`,
 * `--offline-root`) into an open feature store, and reading a `--start`/`--end` style time option.
 *
 * Commands that use definitions (`serve`, `materialize`, `get`, `training-set`) take them from the registry of the
 * environment (`--project`, its current release or `--release N`); `--repo` is development mode and says so on
 * standard error.
 *
 * @module
 */
import { type CommandArgs, MercuryError } from "@mercury/core";
import { connectPostgres } from "@mercury/core/services/postgres";
import type { FeatureRepo } from "../definitions.ts";
import { type FeatureStore, openFeatureStore } from "../feature_store.ts";
import { parseInstant } from "../instant.ts";
import { FeatureRegistry, parseEnvironment } from "../registry.ts";
import { repoFromRegistry } from "../registry_repo.ts";
import { loadRepo } from "../repo_loader.ts";

/** Where the definitions came from. */
export interface Source {
  /** `repo` (development mode: the module on disk) or `registry`. */
  kind: "repo" | "registry";
  /** The registry release served (registry mode). */
  release?: number;
  /** One line for humans. */
  describe: string;
}

/**
 * Opens the feature store the common options name. `needRepo`: the command is about the module on disk (plan,
 * apply). `served`: the command uses the definitions (serve, materialize, get, training-set) — with `--repo` it
 * prints a development-mode note to standard error.
 */
export async function open(
  args: CommandArgs,
  mode: { needRepo?: boolean; served?: boolean } = {},
): Promise<FeatureStore & { source: Source }> {
  const path = args.values.repo as string | undefined;
  const project = args.values.project as string | undefined;
  const env = parseEnvironment((args.values.env as string | undefined) ?? "dev");
  const schema = (args.values.schema as string | undefined) ?? "mercury_features";
  const releaseArg = args.values.release as number | undefined;
  let repo: FeatureRepo;
  let source: Source;
  if (path && project) {
    throw new MercuryError("usage", "pass --repo (the module on disk) or --project (the registry), not both", {
      hint: "--project NAME --env ENV serves what the registry holds; --repo FILE is development mode",
    });
  }
  if (path) {
    if (releaseArg !== undefined) {
      throw new MercuryError("usage", "--release needs --project (a registry release), not --repo", {
        hint: "features serve --project fraud --env prod --release 3",
      });
    }
    repo = await loadRepo(path);
    source = { kind: "repo", describe: `development mode: definitions from ${path} on disk, not the registry` };
    if (mode.served) console.error(`${source.describe} (pass --project ${repo.project} --env ${env} to use it)`);
  } else if (project && !mode.needRepo) {
    const pg = await connectPostgres({ max: 1 });
    try {
      const reg = new FeatureRegistry(pg.sql, { project, env, schema });
      await reg.init();
      const r = await repoFromRegistry(reg, releaseArg);
      repo = r.repo;
      source = {
        kind: "registry",
        release: r.release,
        describe: `registry ${project}/${env}${r.release !== undefined ? ` release ${r.release}` : ""}`,
      };
    } finally {
      await pg.close();
    }
  } else {
    throw new MercuryError("usage", mode.needRepo ? "--repo is required" : "--repo or --project is required", {
      hint: mode.needRepo
        ? "pass --repo path/to/features_repo.ts"
        : "pass --project NAME (definitions from the registry of --env) or --repo FILE (development mode)",
    });
  }
  const fs = await openFeatureStore({
    repo,
    env,
    schema,
    offlineRoot: (args.values["offline-root"] as string | undefined) || undefined,
  });
  return Object.assign(fs, { source });
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
