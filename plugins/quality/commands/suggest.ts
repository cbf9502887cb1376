/**
 * `dq-validate suggest --source URI` (or `--profile profile.json`): proposes
 * a suite from a profile (Deequ-style rules) as YAML the `check` command reads.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { MercuryError } from "@mercury/core/plugin";
import { stringify } from "yaml";
import { type Profile, profileSource } from "../profile/mod.ts";
import { suggestSuite } from "../suggest.ts";
import { writeFileAtomic } from "@mercury/core/files";

/** Reads a profile JSON written by `profile --output`. */
export async function readProfile(path: string): Promise<Profile> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    throw new MercuryError("not_found", `cannot read profile ${path}: ${(err as Error).message}`, {
      where: path,
      hint: "write one with dq-validate profile --source URI --output profile.json",
    });
  }
  let p: Profile;
  try {
    p = JSON.parse(text);
  } catch (err) {
    throw new MercuryError("input", `${path} is not JSON: ${(err as Error).message}`, { where: path });
  }
  if (!p || typeof p.rows !== "number" || !Array.isArray(p.columns)) {
    throw new MercuryError("input", `${path} is not a profile (no rows and columns)`, {
      where: path,
      hint: "write one with dq-validate profile --source URI --output profile.json",
    });
  }
  return p;
}

/** Runs `suggest`. */
export async function suggest(args: CommandArgs, ctx: CommandContext): Promise<number> {
  const v = args.values;
  let profile: Profile;
  if (v.profile) profile = await readProfile(String(v.profile));
  else if (v.source) profile = await profileSource(String(v.source));
  else {throw new MercuryError("usage", "suggest needs --source URI or --profile FILE", {
      hint: "dq-validate suggest --source data.parquet",
    });}
  const suite = suggestSuite(profile, { name: v.name ? String(v.name) : undefined });
  const yaml = `# suggested by dq-validate from ${profile.source} (${profile.rows} rows); review before use\n` +
    stringify(suite, { lineWidth: 0 });
  if (v.output) {
    await writeFileAtomic(String(v.output), yaml);
    ctx.print(`wrote ${v.output}: ${suite.expectations.length} expectations`);
  } else for (const line of yaml.trimEnd().split("\n")) ctx.print(line);
  return 0;
}
