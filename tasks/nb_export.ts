/**
 * `deno task nb:export <name>…`: writes each notebook as a TypeScript module
 * runnable with `deno run -A` (`tasks/notebooks/export.ts`): Markdown as
 * comments, parameters as command-line flags. Written atomically to
 * `reports/scripts/<name>.ts` unless `--out` says where.
 *
 * @module
 */
import { commandHelp, main, MercuryError, parseCommandArgs, projectRoot } from "@mercury/core";
import type { CommandSpec } from "@mercury/core";
import { exportNotebook } from "./notebooks/export.ts";
import { selectNotebooks } from "./nb.ts";
import { writeAtomic } from "./services/_process.ts";

const spec: CommandSpec = {
  summary: "write notebooks as TypeScript modules runnable with `deno run -A` (parameters as flags)",
  usage: "<name>…",
  options: {
    out: { type: "string", value: "PATH", description: "output file (one notebook) or folder", default: "" },
    "notebooks-dir": { type: "string", value: "DIR", description: "where notebooks are", default: "notebooks" },
  },
  run() {},
};

if (import.meta.main) {
  await main(async (argv) => {
    const args = argv.filter((a) => a !== "--verbose");
    if (args.includes("-h") || args.includes("--help")) {
      console.log(commandHelp(spec, "deno task nb:export"));
      return 0;
    }
    const parsed = parseCommandArgs(spec, args, "deno task nb:export");
    const root = projectRoot();
    const dirOpt = String(parsed.values["notebooks-dir"]);
    const nbDir = dirOpt.startsWith("/") ? dirOpt : `${root}/${dirOpt}`;
    const all = [...Deno.readDirSync(nbDir)].filter((e) => e.name.endsWith(".ipynb")).map((e) => e.name).sort();
    if (parsed.positionals.length === 0) {
      throw new MercuryError("usage", "name the notebooks to export", {
        hint: `notebooks: ${all.map((f) => f.replace(/\.ipynb$/, "")).join(", ")}`,
      });
    }
    const chosen = selectNotebooks(all, parsed.positionals);
    const out = String(parsed.values.out);
    for (const file of chosen) {
      const name = file.replace(/\.ipynb$/, "");
      let nb;
      try {
        nb = JSON.parse(await Deno.readTextFile(`${nbDir}/${file}`));
      } catch (err) {
        throw new MercuryError("input", `${dirOpt}/${file} is not a notebook: ${(err as Error).message}`, {
          where: `${dirOpt}/${file}`,
          hint: "open it in Jupyter and save it again",
        });
      }
      const target = out.endsWith(".ts") && chosen.length === 1
        ? out
        : `${out || `${root}/reports/scripts`}/${name}.ts`;
      await Deno.mkdir(target.replace(/\/[^/]*$/, "") || ".", { recursive: true });
      await writeAtomic(target, exportNotebook(nb, name));
      // Deno finds the import map (`@mercury/*`) from the script's folder: outside the project, name it.
      const inside = target.startsWith(`${root}/`) || !target.startsWith("/");
      console.log(
        `${dirOpt}/${file} → ${target}  (run: deno run -A ${
          inside ? "" : `--config ${root}/deno.json `
        }${target} --help)`,
      );
    }
    return 0;
  });
}
