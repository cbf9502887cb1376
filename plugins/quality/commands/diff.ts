/**
 * `dq-validate diff A B`: two profile JSON files, or two suite files (YAML or
 * GX JSON); `diff --suite NAME --from V --to W` compares two stored versions.
 *
 * @module
 */
import type { CommandArgs, CommandContext } from "@mercury/core/plugin";
import { MercuryError } from "@mercury/core/plugin";
import { changeLines, diffProfiles, diffSuites } from "../diff.ts";
import { loadSuite } from "../suite/load_suite.ts";
import { readProfile } from "./suggest.ts";

async function isProfile(path: string): Promise<boolean> {
  if (!path.endsWith(".json")) return false;
  try {
    const j = JSON.parse(await Deno.readTextFile(path));
    return typeof j?.rows === "number" && Array.isArray(j?.columns);
  } catch {
    return false;
  }
}

/** Runs `diff`. */
export async function diff(args: CommandArgs, ctx: CommandContext): Promise<number> {
  const v = args.values;
  let lines: string[];
  if (v.suite) {
    const { withStore } = await import("../store/store.ts");
    const name = String(v.suite);
    lines = await withStore(ctx, async (store) => {
      const versions = await store.suiteVersions(name);
      const to = v.to === undefined ? versions.at(-1)?.version : Number(v.to);
      const from = v.from === undefined ? (to ?? 1) - 1 : Number(v.from);
      const a = versions.find((x) => x.version === from);
      const b = versions.find((x) => x.version === to);
      if (!a || !b) {
        throw new MercuryError("not_found", `suite ${name} has no version ${!a ? from : to}`, {
          where: "--from/--to",
          hint: `versions: ${versions.map((x) => x.version).join(", ") || "none"} (dq-validate rules list)`,
        });
      }
      return [`${name} v${from} → v${to}`, ...changeLines(diffSuites(a.suite, b.suite))];
    });
  } else {
    const [a, b] = args.positionals;
    if (!a || !b) {
      throw new MercuryError("usage", "diff needs two files (profiles or suites) or --suite NAME", {
        hint: "dq-validate diff old_profile.json new_profile.json",
      });
    }
    const [pa, pb] = [await isProfile(a), await isProfile(b)];
    if (pa !== pb) {
      throw new MercuryError("usage", `cannot compare a profile with a suite: ${pa ? b : a}`, { where: pa ? b : a });
    }
    lines = pa
      ? changeLines(diffProfiles(await readProfile(a), await readProfile(b), Number(v.tolerance ?? 0.01)))
      : changeLines(diffSuites(await loadSuite(a), await loadSuite(b)));
  }
  for (const l of lines) ctx.print(l);
  if (lines.length === 0 || (v.suite && lines.length === 1)) ctx.print("no differences");
  return 0;
}
